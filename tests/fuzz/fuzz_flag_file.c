/*
 * fuzz_flag_file.c - libFuzzer target for flag files (core/flag_file.c, the
 * YAML of flags/NAME.yaml, docs/flags.md) and for evaluating whatever they
 * define (core/flag.c): any bytes must give flags or an error with a
 * position, never a crash, a leak or undefined behaviour.  Built and run by
 * tests/cli/fuzz.sh (fuzz_flag_file.sources lists what it links).
 */
#include "base/strbuf.h"
#include "core/flag.h"
#include "core/flag_file.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__asan_default_options(void);

/* Full malloc stacks, so that tests/lsan.supp's entry for libfyaml's own
 * leak can match. */
const char *__asan_default_options(void)
{
	return "fast_unwind_on_malloc=0";
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct flag_file f;
	struct strbuf err = STRBUF_INIT;

	if (flag_file_parse("fuzz.yaml", (const char *)data, size, &f, &err) == 0) {
		json_t *ctxs[3] = { json_object(), json_pack("{s:s, s:s}", "targetingKey", "u1", "group", "canary"),
				    json_pack("{s:i, s:b}", "userId", 7, "sessionId", 1) };
		const char *name;
		json_t *def;
		json_object_foreach(f.flags, name, def) {
			for (int i = 0; i < 3; i++) {
				struct flag_result r;
				flag_evaluate(def, name, f.segments, ctxs[i], &r);
			}
		}
		for (int i = 0; i < 3; i++)
			json_decref(ctxs[i]);
		flag_file_release(&f);
	}
	strbuf_release(&err);
	return 0;
}
