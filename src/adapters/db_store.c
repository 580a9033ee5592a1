/*
 * db_store.c - the store's "databases" module: backups, rehearsals and
 * migrations (db_store.h).  Plain rows; the deployment of a migration (its
 * state, transitions, approvals) lives in the deployments module.
 */
#include "adapters/db_store.h"
#include "adapters/sql.h"
#include "adapters/store.h"
#include "base/alloc.h"
#include "base/err.h"
#include "base/strbuf.h"

#include <stdio.h>
#include <string.h>

static const char *const migrations[] = {
	/* 1 */
	"CREATE TABLE db_backups ("
	"  id INTEGER PRIMARY KEY,"
	"  database TEXT NOT NULL,"
	"  env TEXT NOT NULL,"
	"  path TEXT NOT NULL,"
	"  sha256 TEXT NOT NULL,"
	"  size_bytes INTEGER NOT NULL,"
	"  change TEXT NOT NULL,"
	"  created_ms INTEGER NOT NULL,"
	"  deleted_ms INTEGER);"
	"CREATE INDEX db_backups_db ON db_backups(database, env, created_ms);"
	"CREATE TABLE db_rehearsals ("
	"  id INTEGER PRIMARY KEY,"
	"  database TEXT NOT NULL,"
	"  env TEXT NOT NULL,"
	"  to_change TEXT NOT NULL,"
	"  from_change TEXT NOT NULL,"
	"  plan_sha256 TEXT NOT NULL,"
	"  ok INTEGER NOT NULL,"
	"  deploy_ms INTEGER NOT NULL,"
	"  verify_ms INTEGER NOT NULL,"
	"  revert_ms INTEGER NOT NULL,"
	"  backup_id INTEGER,"
	"  failed_step TEXT NOT NULL,"
	"  reason TEXT NOT NULL,"
	"  log_path TEXT NOT NULL,"
	"  created_ms INTEGER NOT NULL);"
	"CREATE INDEX db_rehearsals_db ON db_rehearsals(database, to_change, created_ms);"
	"CREATE TABLE db_migrations ("
	"  deployment_id INTEGER PRIMARY KEY,"
	"  database TEXT NOT NULL,"
	"  env TEXT NOT NULL,"
	"  to_change TEXT NOT NULL,"
	"  from_change TEXT NOT NULL,"
	"  plan_sha256 TEXT NOT NULL,"
	"  backup_id INTEGER,"
	"  rehearsal_id INTEGER,"
	"  step TEXT NOT NULL,"
	"  failed_step TEXT NOT NULL,"
	"  log_path TEXT NOT NULL,"
	"  updated_ms INTEGER NOT NULL);",
	/* 2: the application release deployed with a migration (db migrate --with-release) */
	"ALTER TABLE db_migrations ADD COLUMN app_service TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE db_migrations ADD COLUMN app_version TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE db_migrations ADD COLUMN app_previous TEXT NOT NULL DEFAULT '';",
};

int db_store_migrate(struct store *st, struct strbuf *err)
{
	return store_migrate_ported(st, "databases", migrations, NULL, (int)ARRAY_SIZE(migrations), err);
}

static int done(struct store *st, struct sql_stmt *s, struct strbuf *err)
{
	if (sql_step(s, NULL) != SQL_DONE) {
		strbuf_errf(err, "store: %s", sql_errmsg(st));
		return SW_ESTORE;
	}
	return 0;
}

static void col_text(struct sql_stmt *s, int i, char *buf, size_t n)
{
	const char *t = sql_column_text(s, i);
	snprintf(buf, n, "%s", t ? (const char *)t : "");
}

int db_store_add_backup(struct store *st, struct db_backup *b, struct strbuf *err)
{
	_cleanup_sql_ struct sql_stmt *s = NULL;
	int r = sql_prepare(st, &s, "INSERT INTO db_backups(database, env, path, sha256, size_bytes, change, created_ms) "
			      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", err);
	if (r < 0)
		return r;
	sql_bind_text(s, 1, b->database);
	sql_bind_text(s, 2, b->env);
	sql_bind_text(s, 3, b->path);
	sql_bind_text(s, 4, b->sha256);
	sql_bind_int64(s, 5, b->size_bytes);
	sql_bind_text(s, 6, b->change);
	sql_bind_int64(s, 7, b->created_ms);
	if ((r = done(st, s, err)) < 0)
		return r;
	b->id = sql_last_insert_id(st);
	return 0;
}

int db_store_backups(struct store *st, const char *database, const char *env, struct db_backup **out, size_t *n,
		     struct strbuf *err)
{
	_cleanup_sql_ struct sql_stmt *s = NULL;
	struct db_backup *v = NULL;
	size_t cnt = 0, alloc = 0;
	int r = sql_prepare(st, &s, "SELECT id, database, env, path, sha256, size_bytes, change, created_ms FROM db_backups "
			      "WHERE deleted_ms IS NULL AND (?1 IS NULL OR database = ?1) AND (?2 IS NULL OR env = ?2) "
			      "ORDER BY created_ms DESC, id DESC", err);
	if (r < 0)
		return r;
	if (database)
		sql_bind_text(s, 1, database);
	if (env)
		sql_bind_text(s, 2, env);
	while ((r = sql_step(s, NULL)) == SQL_ROW) {
		struct db_backup *b;
		ALLOC_GROW(v, cnt + 1, alloc);
		b = &v[cnt++];
		memset(b, 0, sizeof(*b));
		b->id = sql_column_int64(s, 0);
		col_text(s, 1, b->database, sizeof(b->database));
		col_text(s, 2, b->env, sizeof(b->env));
		col_text(s, 3, b->path, sizeof(b->path));
		col_text(s, 4, b->sha256, sizeof(b->sha256));
		b->size_bytes = sql_column_int64(s, 5);
		col_text(s, 6, b->change, sizeof(b->change));
		b->created_ms = sql_column_int64(s, 7);
	}
	if (r != SQL_DONE) {
		free(v);
		strbuf_errf(err, "store: %s", sql_errmsg(st));
		return SW_ESTORE;
	}
	*out = v;
	*n = cnt;
	return 0;
}

int db_store_delete_backup(struct store *st, int64_t id, int64_t now_ms, struct strbuf *err)
{
	_cleanup_sql_ struct sql_stmt *s = NULL;
	int r = sql_prepare(st, &s, "UPDATE db_backups SET deleted_ms = ?2 WHERE id = ?1", err);
	if (r < 0)
		return r;
	sql_bind_int64(s, 1, id);
	sql_bind_int64(s, 2, now_ms);
	return done(st, s, err);
}

int db_store_add_rehearsal(struct store *st, struct db_rehearsal *x, struct strbuf *err)
{
	_cleanup_sql_ struct sql_stmt *s = NULL;
	int r = sql_prepare(st, &s, "INSERT INTO db_rehearsals(database, env, to_change, from_change, plan_sha256, ok, "
			      "deploy_ms, verify_ms, revert_ms, backup_id, failed_step, reason, log_path, created_ms) "
			      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)", err);
	if (r < 0)
		return r;
	sql_bind_text(s, 1, x->database);
	sql_bind_text(s, 2, x->env);
	sql_bind_text(s, 3, x->to_change);
	sql_bind_text(s, 4, x->from_change);
	sql_bind_text(s, 5, x->plan_sha256);
	sql_bind_int64(s, 6, x->ok);
	sql_bind_int64(s, 7, x->deploy_ms);
	sql_bind_int64(s, 8, x->verify_ms);
	sql_bind_int64(s, 9, x->revert_ms);
	if (x->backup_id)
		sql_bind_int64(s, 10, x->backup_id);
	sql_bind_text(s, 11, x->failed_step);
	sql_bind_text(s, 12, x->reason);
	sql_bind_text(s, 13, x->log_path);
	sql_bind_int64(s, 14, x->created_ms);
	if ((r = done(st, s, err)) < 0)
		return r;
	x->id = sql_last_insert_id(st);
	return 0;
}

#define REHEARSAL_COLS "id, database, env, to_change, from_change, plan_sha256, ok, deploy_ms, verify_ms, revert_ms, " \
	"COALESCE(backup_id, 0), failed_step, reason, log_path, created_ms"

static void read_rehearsal(struct sql_stmt *s, struct db_rehearsal *x)
{
	memset(x, 0, sizeof(*x));
	x->id = sql_column_int64(s, 0);
	col_text(s, 1, x->database, sizeof(x->database));
	col_text(s, 2, x->env, sizeof(x->env));
	col_text(s, 3, x->to_change, sizeof(x->to_change));
	col_text(s, 4, x->from_change, sizeof(x->from_change));
	col_text(s, 5, x->plan_sha256, sizeof(x->plan_sha256));
	x->ok = (int)sql_column_int64(s, 6);
	x->deploy_ms = sql_column_int64(s, 7);
	x->verify_ms = sql_column_int64(s, 8);
	x->revert_ms = sql_column_int64(s, 9);
	x->backup_id = sql_column_int64(s, 10);
	col_text(s, 11, x->failed_step, sizeof(x->failed_step));
	col_text(s, 12, x->reason, sizeof(x->reason));
	col_text(s, 13, x->log_path, sizeof(x->log_path));
	x->created_ms = sql_column_int64(s, 14);
}

int db_store_rehearsal_ok(struct store *st, const char *database, const char *to_change, const char *plan_sha256,
			  int64_t since_ms, struct db_rehearsal *out, struct strbuf *err)
{
	_cleanup_sql_ struct sql_stmt *s = NULL;
	int r = sql_prepare(st, &s, "SELECT " REHEARSAL_COLS " FROM db_rehearsals WHERE database = ?1 AND to_change = ?2 "
			      "AND ok = 1 AND (?3 IS NULL OR plan_sha256 = ?3) AND created_ms >= ?4 "
			      "ORDER BY created_ms DESC, id DESC LIMIT 1", err);
	if (r < 0)
		return r;
	sql_bind_text(s, 1, database);
	sql_bind_text(s, 2, to_change);
	if (plan_sha256)
		sql_bind_text(s, 3, plan_sha256);
	sql_bind_int64(s, 4, since_ms);
	r = sql_step(s, NULL);
	if (r == SQL_ROW) {
		read_rehearsal(s, out);
		return 1;
	}
	if (r == SQL_DONE)
		return 0;
	strbuf_errf(err, "store: %s", sql_errmsg(st));
	return SW_ESTORE;
}

int db_store_rehearsals(struct store *st, const char *database, struct db_rehearsal **out, size_t *n,
			struct strbuf *err)
{
	_cleanup_sql_ struct sql_stmt *s = NULL;
	struct db_rehearsal *v = NULL;
	size_t cnt = 0, alloc = 0;
	int r = sql_prepare(st, &s, "SELECT " REHEARSAL_COLS " FROM db_rehearsals WHERE (?1 IS NULL OR database = ?1) "
			      "ORDER BY created_ms DESC, id DESC", err);
	if (r < 0)
		return r;
	if (database)
		sql_bind_text(s, 1, database);
	while ((r = sql_step(s, NULL)) == SQL_ROW) {
		ALLOC_GROW(v, cnt + 1, alloc);
		read_rehearsal(s, &v[cnt++]);
	}
	if (r != SQL_DONE) {
		free(v);
		strbuf_errf(err, "store: %s", sql_errmsg(st));
		return SW_ESTORE;
	}
	*out = v;
	*n = cnt;
	return 0;
}

int db_store_put_migration(struct store *st, const struct db_migration *m, struct strbuf *err)
{
	_cleanup_sql_ struct sql_stmt *s = NULL;
	/* the row of the deployment, replaced whole: an upsert (the primary key is the only constraint) */
	int r = sql_prepare(st, &s, "INSERT INTO db_migrations(deployment_id, database, env, to_change, "
			      "from_change, plan_sha256, backup_id, rehearsal_id, step, failed_step, log_path, updated_ms, "
			      "app_service, app_version, app_previous) "
			      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15) "
			      "ON CONFLICT (deployment_id) DO UPDATE SET database = excluded.database, env = excluded.env, "
			      "to_change = excluded.to_change, from_change = excluded.from_change, "
			      "plan_sha256 = excluded.plan_sha256, backup_id = excluded.backup_id, "
			      "rehearsal_id = excluded.rehearsal_id, step = excluded.step, failed_step = excluded.failed_step, "
			      "log_path = excluded.log_path, updated_ms = excluded.updated_ms, "
			      "app_service = excluded.app_service, app_version = excluded.app_version, "
			      "app_previous = excluded.app_previous", err);
	if (r < 0)
		return r;
	sql_bind_int64(s, 1, m->deployment_id);
	sql_bind_text(s, 2, m->database);
	sql_bind_text(s, 3, m->env);
	sql_bind_text(s, 4, m->to_change);
	sql_bind_text(s, 5, m->from_change);
	sql_bind_text(s, 6, m->plan_sha256);
	if (m->backup_id)
		sql_bind_int64(s, 7, m->backup_id);
	if (m->rehearsal_id)
		sql_bind_int64(s, 8, m->rehearsal_id);
	sql_bind_text(s, 9, m->step);
	sql_bind_text(s, 10, m->failed_step);
	sql_bind_text(s, 11, m->log_path);
	sql_bind_int64(s, 12, m->updated_ms);
	sql_bind_text(s, 13, m->app_service);
	sql_bind_text(s, 14, m->app_version);
	sql_bind_text(s, 15, m->app_previous);
	return done(st, s, err);
}

int db_store_get_migration(struct store *st, int64_t deployment_id, struct db_migration *m, struct strbuf *err)
{
	_cleanup_sql_ struct sql_stmt *s = NULL;
	int r = sql_prepare(st, &s, "SELECT database, env, to_change, from_change, plan_sha256, COALESCE(backup_id, 0), "
			      "COALESCE(rehearsal_id, 0), step, failed_step, log_path, updated_ms, app_service, app_version, "
			      "app_previous FROM db_migrations "
			      "WHERE deployment_id = ?1", err);
	if (r < 0)
		return r;
	sql_bind_int64(s, 1, deployment_id);
	r = sql_step(s, NULL);
	if (r == SQL_DONE)
		return 0;
	if (r != SQL_ROW) {
		strbuf_errf(err, "store: %s", sql_errmsg(st));
		return SW_ESTORE;
	}
	memset(m, 0, sizeof(*m));
	m->deployment_id = deployment_id;
	col_text(s, 0, m->database, sizeof(m->database));
	col_text(s, 1, m->env, sizeof(m->env));
	col_text(s, 2, m->to_change, sizeof(m->to_change));
	col_text(s, 3, m->from_change, sizeof(m->from_change));
	col_text(s, 4, m->plan_sha256, sizeof(m->plan_sha256));
	m->backup_id = sql_column_int64(s, 5);
	m->rehearsal_id = sql_column_int64(s, 6);
	col_text(s, 7, m->step, sizeof(m->step));
	col_text(s, 8, m->failed_step, sizeof(m->failed_step));
	col_text(s, 9, m->log_path, sizeof(m->log_path));
	m->updated_ms = sql_column_int64(s, 10);
	col_text(s, 11, m->app_service, sizeof(m->app_service));
	col_text(s, 12, m->app_version, sizeof(m->app_version));
	col_text(s, 13, m->app_previous, sizeof(m->app_previous));
	return 1;
}
