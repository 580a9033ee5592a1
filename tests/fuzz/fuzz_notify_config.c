/*
 * fuzz_notify_config.c - libFuzzer target for the `notifications:` YAML
 * parser (adapters/notify_config.c): any bytes must give a configuration or
 * an error with a position, never a crash, a leak or undefined behaviour.
 * Built and run for a bounded time by tests/cli/fuzz.sh (the general runner:
 * fuzz_notify_config.sources lists what it links) or, where that runner is
 * absent, tests/cli/fuzz_notify.sh.
 */
#include "adapters/notify_config.h"
#include "base/strbuf.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__asan_default_options(void);

/* Full malloc stacks, so that tests/lsan.supp's entry for libfyaml's own
 * leak (fy_atom_iter_chunk_next) can match whichever runner starts us. */
const char *__asan_default_options(void)
{
	return "fast_unwind_on_malloc=0";
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct notify_config cfg;
	struct strbuf err = STRBUF_INIT;

	if (notify_config_parse((const char *)data, size, "fuzz.yaml", &cfg, &err) == 0)
		notify_config_release(&cfg);
	strbuf_release(&err);
	return 0;
}
