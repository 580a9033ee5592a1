/*
 * fuzz_database.c - libFuzzer target for databases/NAME.yaml (core/database.c,
 * docs/databases.md): any bytes give a database or a clear error, never a
 * crash, leak or undefined behaviour.  Built and run by tests/cli/fuzz.sh.
 */
#include "base/strbuf.h"
#include "core/database.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct database db;
	struct strbuf err = STRBUF_INIT, u = STRBUF_INIT;
	if (database_parse(&db, "fuzz.yaml", (const char *)data, size, (size & 1) ? "fuzz" : NULL, &err) == 0) {
		database_url_with_dbname("postgresql://h/x?host=/s", db.name, &u);
		database_release(&db);
	}
	strbuf_release(&u);
	strbuf_release(&err);
	return 0;
}
