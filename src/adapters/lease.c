/*
 * lease.c - the controller lease; see lease.h.
 */
#include "adapters/lease.h"
#include "adapters/sql.h"
#include "adapters/store.h"
#include "base/err.h"
#include "base/fmt.h"
#include "base/strbuf.h"
#include "base/timeutil.h"

#include <stdio.h>
#include <string.h>

static const char *const migrations[] = {
	"CREATE TABLE controller_lease ("
	" name TEXT PRIMARY KEY CHECK (name = 'controller'),"
	" holder TEXT NOT NULL, pid INTEGER NOT NULL, host TEXT NOT NULL,"
	" since_ms INTEGER NOT NULL, renewed_ms INTEGER NOT NULL, expires_ms INTEGER NOT NULL)",
};

int lease_migrate(struct store *st, struct strbuf *err)
{
	return store_migrate_ported(st, "lease", migrations, NULL, (int)(sizeof(migrations) / sizeof(migrations[0])),
				    err);
}

/* sql_step()'s result, with what was being done before the database's message. */
static int step(struct sql_stmt *q, const char *what, struct strbuf *err)
{
	struct strbuf e = STRBUF_INIT;
	int r = sql_step(q, &e);

	if (r < 0)
		strbuf_errf(err, "store: %s: %s", what, e.buf);
	strbuf_release(&e);
	return r;
}

static void copy_col(struct sql_stmt *q, int col, char *buf, size_t size)
{
	const char *t = sql_column_text(q, col);
	snprintf(buf, size, "%s", t ? t : "");
}

int lease_read(struct store *st, struct lease *out, struct strbuf *err)
{
	_cleanup_sql_ struct sql_stmt *q = NULL;
	int r;

	if ((r = sql_prepare(st, &q, "SELECT holder, pid, host, since_ms, renewed_ms, expires_ms FROM "
			     "controller_lease WHERE name = 'controller'", err)) < 0)
		return r;
	r = step(q, "read the controller lease", err);
	if (r != SQL_ROW)
		return r;
	memset(out, 0, sizeof(*out));
	copy_col(q, 0, out->holder, sizeof(out->holder));
	out->pid = (long)sql_column_int64(q, 1);
	copy_col(q, 2, out->host, sizeof(out->host));
	out->since_ms = sql_column_int64(q, 3);
	out->renewed_ms = sql_column_int64(q, 4);
	out->expires_ms = sql_column_int64(q, 5);
	return 1;
}

int lease_live(const struct lease *l, int64_t now_ms)
{
	return l->holder[0] && l->expires_ms > now_ms;
}

int lease_acquire(struct store *st, struct lease *me, int64_t now_ms, int64_t ttl_ms, struct lease *other,
		  struct strbuf *err)
{
	_cleanup_sql_ struct sql_stmt *q = NULL;
	struct lease cur;
	int r, have, won = 0;

	if ((r = store_begin(st, err)) < 0)
		return r;
	if ((have = lease_read(st, &cur, err)) < 0) {
		store_rollback(st);
		return have;
	}
	if (have && lease_live(&cur, now_ms) && strcmp(cur.holder, me->holder)) {
		store_rollback(st);
		if (other)
			*other = cur;
		return 0;
	}
	me->since_ms = have && !strcmp(cur.holder, me->holder) ? cur.since_ms : now_ms;
	me->renewed_ms = now_ms;
	me->expires_ms = now_ms + ttl_ms;
	if ((r = sql_prepare(st, &q, "INSERT INTO controller_lease (name, holder, pid, host, since_ms, renewed_ms, "
			       "expires_ms) VALUES ('controller', ?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (name) DO UPDATE "
			       "SET holder = ?1, pid = ?2, host = ?3, since_ms = ?4, renewed_ms = ?5, expires_ms = ?6",
			       err)) < 0) {
		store_rollback(st);
		return r;
	}
	sql_bind_text(q, 1, me->holder);
	sql_bind_int64(q, 2, me->pid);
	sql_bind_text(q, 3, me->host);
	sql_bind_int64(q, 4, me->since_ms);
	sql_bind_int64(q, 5, me->renewed_ms);
	sql_bind_int64(q, 6, me->expires_ms);
	if ((r = step(q, "take the controller lease", err)) < 0) {
		store_rollback(st);
		return r;
	}
	won = 1;
	if ((r = store_commit(st, err)) < 0) {
		store_rollback(st);
		return r;
	}
	return won;
}

int lease_release(struct store *st, const char *holder, struct strbuf *err)
{
	_cleanup_sql_ struct sql_stmt *q = NULL;
	int r;

	if ((r = sql_prepare(st, &q, "DELETE FROM controller_lease WHERE name = 'controller' AND holder = ?1", err)) < 0)
		return r;
	sql_bind_text(q, 1, holder);
	r = step(q, "release the controller lease", err);
	return r < 0 ? r : 0;
}

int lease_check(struct store *st, const char *holder, int64_t now_ms, struct strbuf *err)
{
	struct lease cur;
	char who[400];
	int have = lease_read(st, &cur, err);

	if (have < 0)
		return have;
	if (have && !strcmp(cur.holder, holder) && lease_live(&cur, now_ms))
		return 0;
	if (!have) {
		strbuf_errf(err, "this controller no longer holds the store's controller lease (nobody does)");
	} else {
		lease_describe(&cur, who, sizeof(who));
		strbuf_errf(err, "this controller no longer holds the store's controller lease (%s %s)",
			    strcmp(cur.holder, holder) ? "it is held by" : "its own lease expired:", who);
	}
	return SW_ESTATE;
}

void lease_describe(const struct lease *l, char *buf, size_t size)
{
	char since[RFC3339_BUFSZ], until[RFC3339_BUFSZ];

	time_format_rfc3339(l->since_ms, since);
	time_format_rfc3339(l->expires_ms, until);
	bprintf(buf, size, "'%s' (pid %ld on %s) since %s, lease until %s", l->holder, l->pid, l->host, since, until);
}
