/*
 * fuzz_release_manifest.c - libFuzzer target for a release's
 * slipway-release.yaml (core/release_manifest.c, docs/checklists.md "What a
 * release declares"): any bytes must give a manifest or an error with a
 * position, never a crash, a leak or undefined behaviour.  Built and run by
 * tests/cli/fuzz.sh (fuzz_release_manifest.sources lists what it links).
 */
#include "base/strbuf.h"
#include "core/release_manifest.h"

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
	struct release_manifest m;
	struct strbuf err = STRBUF_INIT;

	if (release_manifest_parse(&m, "fuzz.yaml", (const char *)data, size, &err) == 0)
		release_manifest_release(&m);
	strbuf_release(&err);
	return 0;
}
