/*
 * store_fresh.h - for unit tests that also run on PostgreSQL
 * (tests/cli/pgstore.sh sets $SLIPWAY_STORE): a case that expects a fresh
 * store (a new temporary state directory on SQLite) calls store_fresh()
 * before store_open(), which on PostgreSQL empties the one database every
 * case shares (DROP SCHEMA public CASCADE).  Nothing on SQLite.
 */
#ifndef SLIPWAY_TESTS_STORE_FRESH_H
#define SLIPWAY_TESTS_STORE_FRESH_H

#include "adapters/store.h"
#include "base/strbuf.h"

static inline int store_fresh(const char *dir)
{
	struct store st;
	struct strbuf err = STRBUF_INIT;
	int r = 0;
	if (!store_in_env())
		return 0;
	if (store_open(&st, dir, &err) == 0) {
		r = store_exec(&st, "DROP SCHEMA public CASCADE; CREATE SCHEMA public", &err);
		store_close(&st);
	}
	strbuf_release(&err);
	return r;
}

#endif
