/*
 * fuzz_service.c - libFuzzer target for the service definition parser
 * (core/service.c): any bytes must give a service or a clear error, never a
 * crash, leak or undefined behaviour.  Built and run by tests/cli/fuzz.sh (fuzz_service.sources).
 */
#include "base/strbuf.h"
#include "core/service.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct service s = { 0 };
	struct strbuf err = STRBUF_INIT;
	if (service_parse(&s, "fuzz.yaml", (const char *)data, size, (size & 1) ? "fuzz" : NULL, &err) == 0) {
		struct strbuf out = STRBUF_INIT;
		struct service_vars v = { .port = 1, .version = "v", .release = "/r", .service = "s", .env = "e" };
		for (size_t i = 0; i < s.argc; i++)
			service_expand(&out, s.argv[i], &v, &err);
		strbuf_release(&out);
		service_release(&s);
	}
	strbuf_release(&err);
	return 0;
}
