/*
 * fuzz_inventory.c - libFuzzer target for the fleet inventory parser
 * (core/inventory.c, hosts.yaml): any bytes must give an inventory or a
 * clear error, never a crash, leak or undefined behaviour.  Built and run by
 * tests/cli/fuzz.sh (fuzz_inventory.sources).
 */
#include "base/strbuf.h"
#include "core/inventory.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct inventory inv = { 0 };
	struct strbuf err = STRBUF_INIT;
	if (inventory_parse(&inv, "hosts.yaml", (const char *)data, size, &err) == 0) {
		(void)inventory_find(&inv, "h1");
		inventory_release(&inv);
	}
	strbuf_release(&err);
	return 0;
}
