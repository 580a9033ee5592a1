/*
 * fuzz_sarif.c - libFuzzer target for SARIF logs (core/sarif.c, the
 * "No unresolved security vulnerabilities" checklist item, docs/checklists.md):
 * any bytes must give a report or an error naming the file and JSON path,
 * never a crash, a leak or undefined behaviour.  Built and run by
 * tests/cli/fuzz.sh (fuzz_sarif.sources lists what it links).
 */
#include "base/strbuf.h"
#include "core/sarif.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sarif_report r;
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT;

	if (sarif_read((const char *)data, size, "fuzz.sarif", SARIF_SEV_HIGH, &r, &err) == 0)
		sarif_describe(&r, SARIF_SEV_HIGH, &out);
	strbuf_release(&err);
	strbuf_release(&out);
	return 0;
}
