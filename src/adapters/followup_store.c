/*
 * followup_store.c - the follow-ups' rows; see followup_store.h.  A
 * deployment enters by a query over the deployments table (state
 * 'succeeded'), so a controller that restarts, or that was not running when
 * the deployment succeeded, picks it up on its next look.
 */
#include "adapters/followup_store.h"
#include "adapters/sql.h"
#include "adapters/store.h"
#include "base/alloc.h"
#include "base/err.h"
#include "base/strbuf.h"

#include <stdlib.h>
#include <string.h>

static const char *const migrations[] = {
	/* 1 */
	"CREATE TABLE followups ("
	"  deployment_id INTEGER PRIMARY KEY,"
	"  succeeded_ms INTEGER NOT NULL,"
	"  time_scale REAL NOT NULL DEFAULT 1,"
	"  emergency INTEGER NOT NULL DEFAULT 0,"
	"  last_reminder_ms INTEGER NOT NULL DEFAULT 0,"
	"  overdue_ms INTEGER NOT NULL DEFAULT 0,"
	"  last_monitor_ms INTEGER NOT NULL DEFAULT 0,"
	"  monitoring_ended_ms INTEGER NOT NULL DEFAULT 0,"
	"  closed_ms INTEGER NOT NULL DEFAULT 0,"
	"  detail TEXT);"
	"CREATE INDEX followups_open ON followups(closed_ms, deployment_id);",
};

int followup_store_migrate(struct store *st, struct strbuf *err)
{
	return store_migrate_ported(st, "followup", migrations, NULL, (int)ARRAY_SIZE(migrations), err);
}

void followup_rows_free(struct followup_row *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i].detail);
	free(v);
}

static int fail(struct store *st, struct strbuf *err)
{
	strbuf_errf(err, "store '%s': %s", st->path, sql_errmsg(st));
	return SW_ESTORE;
}

int followup_store_enroll(struct store *st, int64_t since_ms, struct strbuf *err)
{
	_cleanup_sql_ struct sql_stmt *s = NULL;
	int r = sql_prepare(st, &s,
			      "INSERT INTO followups(deployment_id, succeeded_ms, time_scale, emergency)"
			      " SELECT id, finished_ms, CASE WHEN time_scale > 0 THEN time_scale ELSE 1 END,"
			      " CASE WHEN type = 'emergency' THEN 1 ELSE 0 END FROM deployments"
			      " WHERE state = 'succeeded' AND finished_ms >= ?1"
			      " AND id NOT IN (SELECT deployment_id FROM followups)", err);
	if (r < 0)
		return r;
	sql_bind_int64(s, 1, since_ms);
	if (sql_step(s, NULL) != SQL_DONE)
		return fail(st, err);
	return (int)sql_changes(s);
}

#define COLS "deployment_id, succeeded_ms, time_scale, emergency, last_reminder_ms, overdue_ms, last_monitor_ms," \
	     " monitoring_ended_ms, closed_ms, detail"

static void read_row(struct sql_stmt *q, struct followup_row *r)
{
	const char *d = sql_column_text(q, 9);
	memset(r, 0, sizeof(*r));
	r->deployment_id = sql_column_int64(q, 0);
	r->s.succeeded_ms = sql_column_int64(q, 1);
	r->s.time_scale = sql_column_double(q, 2);
	r->s.emergency = (int)sql_column_int64(q, 3);
	r->s.last_reminder_ms = sql_column_int64(q, 4);
	r->s.overdue_ms = sql_column_int64(q, 5);
	r->s.last_monitor_ms = sql_column_int64(q, 6);
	r->s.monitoring_ended_ms = sql_column_int64(q, 7);
	r->s.closed_ms = sql_column_int64(q, 8);
	r->detail = d ? xstrdup((const char *)d) : NULL;
}

int followup_store_list(struct store *st, int open_only, struct followup_row **out, size_t *n, struct strbuf *err)
{
	_cleanup_sql_ struct sql_stmt *q = NULL;
	struct followup_row *v = NULL;
	size_t nr = 0, alloc = 0;
	int r = sql_prepare(st, &q,
			      open_only ? "SELECT " COLS " FROM followups WHERE closed_ms = 0 ORDER BY deployment_id"
					: "SELECT " COLS " FROM followups ORDER BY deployment_id", err);
	if (r < 0)
		return r;
	while ((r = sql_step(q, NULL)) == SQL_ROW) {
		ALLOC_GROW(v, nr + 1, alloc);
		read_row(q, &v[nr++]);
	}
	if (r != SQL_DONE) {
		followup_rows_free(v, nr);
		return fail(st, err);
	}
	*out = v;
	*n = nr;
	return 0;
}

int followup_store_get(struct store *st, int64_t deployment_id, struct followup_row *out, struct strbuf *err)
{
	_cleanup_sql_ struct sql_stmt *q = NULL;
	int r = sql_prepare(st, &q, "SELECT " COLS " FROM followups WHERE deployment_id = ?1", err);
	if (r < 0)
		return r;
	sql_bind_int64(q, 1, deployment_id);
	r = sql_step(q, NULL);
	if (r == SQL_DONE)
		return 1;
	if (r != SQL_ROW)
		return fail(st, err);
	read_row(q, out);
	return 0;
}

int followup_store_put(struct store *st, const struct followup_row *r, struct strbuf *err)
{
	_cleanup_sql_ struct sql_stmt *s = NULL;
	int rc = sql_prepare(st, &s,
			       "UPDATE followups SET last_reminder_ms = ?2, overdue_ms = ?3, last_monitor_ms = ?4,"
			       " monitoring_ended_ms = ?5, closed_ms = ?6, detail = COALESCE(?7, detail)"
			       " WHERE deployment_id = ?1", err);
	if (rc < 0)
		return rc;
	sql_bind_int64(s, 1, r->deployment_id);
	sql_bind_int64(s, 2, r->s.last_reminder_ms);
	sql_bind_int64(s, 3, r->s.overdue_ms);
	sql_bind_int64(s, 4, r->s.last_monitor_ms);
	sql_bind_int64(s, 5, r->s.monitoring_ended_ms);
	sql_bind_int64(s, 6, r->s.closed_ms);
	if (r->detail)
		sql_bind_text(s, 7, r->detail);
	else
		sql_bind_null(s, 7);
	if (sql_step(s, NULL) != SQL_DONE)
		return fail(st, err);
	return 0;
}
