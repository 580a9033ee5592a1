/*
 * fuzz_pack_file.c - libFuzzer target for agent-pack files (core/pack_file.c,
 * packs/NAME.yaml, docs/flags.md "Agent packs"): any bytes must give a
 * definition or an error with a position, never a crash, a leak or undefined
 * behaviour.  Built and run by tests/cli/fuzz.sh (fuzz_pack_file.sources
 * lists what it links).
 */
#include "base/strbuf.h"
#include "core/pack_file.h"

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
	struct pack_def d;
	struct strbuf err = STRBUF_INIT;

	if (pack_file_parse("fuzz.yaml", "fuzz", (const char *)data, size, &d, &err) == 0) {
		char steps[256];
		pack_steps_format(&d, steps, sizeof(steps));
		pack_def_release(&d);
	}
	strbuf_release(&err);
	return 0;
}
