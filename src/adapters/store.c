/*
 * store.c - SQLite store: opening, pragmas, per-module migrations; see
 * store.h for the design.
 */
#include "adapters/store.h"
#include "adapters/sql.h"
#include "base/alloc.h"
#include "base/err.h"
#include "base/strbuf.h"

#include <errno.h>
#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

static int mkdir_p(const char *dir, struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT;
	int r = 0;

	strbuf_addstr(&path, dir);
	for (size_t i = 1; i <= path.len; i++) {
		if (path.buf[i] == '/' || path.buf[i] == '\0') {
			char c = path.buf[i];
			path.buf[i] = '\0';
			if (mkdir(path.buf, 0700) && errno != EEXIST) {
				r = -errno;
				strbuf_errf(err, "cannot create directory '%s': %s", path.buf, strerror(errno));
				break;
			}
			path.buf[i] = c;
		}
	}
	strbuf_release(&path);
	return r;
}

/*
 * "store 'PATH': SQLite's message", and what to do when the store is
 * read-only for this user (the file, or its directory: SQLite's WAL mode
 * writes PATH-wal and PATH-shm beside it even to read).
 */
static void store_errf(struct store *st, const char *msg, struct strbuf *err)
{
	int code = st->db ? sqlite3_errcode(st->db) : SQLITE_OK;

	strbuf_errf(err, "store '%s': %s", st->path, msg);
	if (code == SQLITE_READONLY || (code == SQLITE_CANTOPEN && st->path && access(st->path, W_OK) < 0 &&
					errno == EACCES))
		strbuf_errf(err, "; the store or its directory is read-only for this user (SQLite writes '%s-wal' "
			    "and '%s-shm' beside it even to read): run slipway as a user who may write there, or "
			    "give this one write access", st->path, st->path);
}

/* ---- PostgreSQL (docs/records.md "PostgreSQL") ---- */

/*
 * The key of the transaction-scoped advisory lock every write transaction
 * takes first on PostgreSQL ("slipway" in ASCII as a number): one writer at
 * a time, as SQLite's BEGIN IMMEDIATE.
 */
#define PG_WRITE_LOCK "32488822435963257"

static int is_pg_url(const char *v)
{
	return !strncmp(v, "postgresql://", 13) || !strncmp(v, "postgres://", 11);
}

int store_in_env(void)
{
	const char *url = getenv("SLIPWAY_STORE");
	return url && *url;
}

/* The URL without the password of its user info ("postgresql://u:pw@h/db" -> "postgresql://u@h/db"). */
static char *redact_url(const char *url)
{
	struct strbuf out = STRBUF_INIT;
	const char *auth = strstr(url, "://") + 3;
	const char *end = auth + strcspn(auth, "/?");
	const char *at = memchr(auth, '@', (size_t)(end - auth));
	const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;

	if (colon) {
		strbuf_add(&out, url, (size_t)(colon - url));
		strbuf_addstr(&out, at);
	} else {
		strbuf_addstr(&out, url);
	}
	return strbuf_detach(&out, NULL);
}

static void pg_msgf(struct store *st, const char *what, const char *msg, struct strbuf *err)
{
	size_t n = msg ? strlen(msg) : 0;
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		n--;
	strbuf_errf(err, "%s '%s': %.*s", what, st->path, (int)n, msg ? msg : "");
}

static int pg_exec(struct store *st, const char *sql, struct strbuf *err)
{
	PGresult *res = PQexec(st->pg, sql);
	ExecStatusType s = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	int r = 0;

	if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
		/* the primary message: its CONTEXT and LINE lines would break the one-line error */
		pg_msgf(st, "store", res && PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) ?
			PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : PQerrorMessage(st->pg), err);
		r = SW_ESTORE;
	} else if (!strcmp(sql, "COMMIT") && !strcmp(PQcmdStatus(res), "ROLLBACK")) {
		/* COMMIT of a transaction a failed statement aborted answers ROLLBACK, not an error */
		strbuf_errf(err, "store '%s': the transaction was rolled back (a statement in it failed)", st->path);
		r = SW_ESTORE;
	}
	PQclear(res);
	return r;
}

static int pg_in_tx(struct store *st)
{
	return PQtransactionStatus(st->pg) != PQTRANS_IDLE;
}

static int sqlite_only(struct store *st, const char *module, struct strbuf *err)
{
	strbuf_errf(err, "store '%s': store module %s%s%s is SQLite-only yet: it does not run on PostgreSQL in this "
		    "slipway (docs/records.md \"PostgreSQL\" lists the ported modules); unset SLIPWAY_STORE to use "
		    "the SQLite store", st->path, module ? "'" : "", module ? module : "of this command",
		    module ? "'" : "");
	return SW_ESTORE;
}

static int open_pg(struct store *st, const char *url, struct strbuf *err)
{
	int r;

	st->backend = STORE_BACKEND_PG;
	st->path = redact_url(url);
	st->pg = PQconnectdb(url);
	if (!st->pg || PQstatus(st->pg) != CONNECTION_OK) {
		pg_msgf(st, "cannot open store", st->pg ? PQerrorMessage(st->pg) : "out of memory", err);
		store_close(st);
		return SW_ESTORE;
	}
	if ((r = pg_exec(st, "SET client_min_messages = warning", err)) < 0 || (r = store_begin(st, err)) < 0 ||
	    (r = pg_exec(st, "CREATE TABLE IF NOT EXISTS schema_version (module TEXT PRIMARY KEY, version BIGINT NOT "
			 "NULL)", err)) < 0 || (r = store_commit(st, err)) < 0) {
		store_close(st);
		return r;
	}
	return 0;
}

/* ---- both ---- */

int store_exec(struct store *st, const char *sql, struct strbuf *err)
{
	char *msg = NULL;
	if (st->backend == STORE_BACKEND_PG)
		return pg_exec(st, sql, err);
	if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		store_errf(st, msg ? msg : sqlite3_errmsg(st->db), err);
		sqlite3_free(msg);
		return SW_ESTORE;
	}
	return 0;
}

int store_check_identity(struct store *st, struct strbuf *err)
{
	struct stat sb;
	if (!st->path || (!st->dev && !st->ino))
		return 0;	/* an in-memory or not yet identified store */
	if (stat(st->path, &sb) < 0) {
		strbuf_errf(err, "store '%s' was deleted while slipway was using it (%s); stopping so that nothing more "
			    "is decided on a store nobody can read: instances and HAProxy keep running as they are; "
			    "restore the file from a backup, or stop them with 'slipway down SERVICE'",
			    st->path, strerror(errno));
		return SW_ESTORE;
	}
	if ((uint64_t)sb.st_dev != st->dev || (uint64_t)sb.st_ino != st->ino) {
		strbuf_errf(err, "store '%s' was replaced by another file while slipway was using it; stopping: what this "
			    "process knew is not in the new file; instances and HAProxy keep running as they are",
			    st->path);
		return SW_ESTORE;
	}
	return 0;
}

int store_begin(struct store *st, struct strbuf *err)
{
	int r = store_check_identity(st, err);
	if (r < 0)
		return r;
	if (st->backend == STORE_BACKEND_PG) {
		if ((r = pg_exec(st, "BEGIN", err)) < 0)
			return r;
		if ((r = pg_exec(st, "SELECT pg_advisory_xact_lock(" PG_WRITE_LOCK ")", err)) < 0)
			store_rollback(st);
		return r;
	}
	return store_exec(st, "BEGIN IMMEDIATE", err);
}

int store_commit(struct store *st, struct strbuf *err)
{
	return store_exec(st, "COMMIT", err);
}

void store_rollback(struct store *st)
{
	if (st->backend == STORE_BACKEND_PG) {
		if (st->pg && pg_in_tx(st))
			PQclear(PQexec(st->pg, "ROLLBACK"));
		return;
	}
	if (!sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

int store_in_tx(struct store *st)
{
	if (st->backend == STORE_BACKEND_PG)
		return st->pg && pg_in_tx(st);
	return st->db && !sqlite3_get_autocommit(st->db);
}

int store_tx_begin(struct store *st, struct strbuf *err)
{
	int r;
	if (store_in_tx(st))
		return 0;
	r = store_begin(st, err);
	return r < 0 ? r : 1;
}

int store_tx_end(struct store *st, int own, int r, struct strbuf *err)
{
	int c;
	if (own != 1)
		return r;
	if (r < 0) {
		store_rollback(st);
		return r;
	}
	c = store_commit(st, err);
	if (c < 0) {
		store_rollback(st);
		return c;
	}
	return r;
}

int store_prepare(struct store *st, sqlite3_stmt **stmt, const char *sql, struct strbuf *err)
{
	if (st->backend == STORE_BACKEND_PG) {
		*stmt = NULL;
		return sqlite_only(st, NULL, err);
	}
	if (sqlite3_prepare_v2(st->db, sql, -1, stmt, NULL) != SQLITE_OK) {
		store_errf(st, sqlite3_errmsg(st->db), err);
		*stmt = NULL;
		return SW_ESTORE;
	}
	return 0;
}

static int open_store(struct store *st, const char *dir, int create, struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT;
	struct stat sb;
	const char *url = getenv("SLIPWAY_STORE");
	int r;

	st->db = NULL;
	st->pg = NULL;
	st->last_error = NULL;
	st->backend = STORE_BACKEND_SQLITE;
	st->path = NULL;
	st->dev = st->ino = 0;
	memset(st->cached, 0, sizeof(st->cached));
	if (url && *url) {
		/* the state directory still holds slipway's files (notifications.log, instance logs, HAProxy's
		 * configuration): created as on SQLite, the database left out of it */
		if (is_pg_url(url))
			return create && dir && (r = mkdir_p(dir, err)) ? r : open_pg(st, url, err);
		strbuf_errf(err, "SLIPWAY_STORE is neither empty nor a PostgreSQL URL (postgresql://USER@HOST/DB or "
			    "postgres://...): unset it to keep the store in the state directory");
		return SW_ECONFIG;
	}
	if (create && (r = mkdir_p(dir, err)))
		return r;
	strbuf_addf(&path, "%s/slipway.db", dir);
	st->path = strbuf_detach(&path, NULL);
	if (!create && stat(st->path, &sb) < 0) {
		strbuf_errf(err, "no store at '%s': nothing was recorded in this state directory yet (set "
			    "$SLIPWAY_STATE_DIR or --state-dir to the one slipway deploy used)", st->path);
		free(st->path);
		st->path = NULL;
		return SW_ENOTFOUND;
	}
	if (sqlite3_open_v2(st->path, &st->db, SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) |
			    SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK) {
		strbuf_errf(err, "cannot open store '%s': %s", st->path,
			    st->db ? sqlite3_errmsg(st->db) : "out of memory");
		store_close(st);
		return SW_ESTORE;
	}
	sqlite3_busy_timeout(st->db, 5000);
	r = store_exec(st,
		       "PRAGMA journal_mode=WAL;"
		       "PRAGMA synchronous=FULL;"
		       "PRAGMA foreign_keys=ON;"
		       "CREATE TABLE IF NOT EXISTS schema_version ("
		       "  module TEXT PRIMARY KEY, version INTEGER NOT NULL);",
		       err);
	if (r) {
		store_close(st);
		return r;
	}
	if (stat(st->path, &sb) == 0) {
		st->dev = (uint64_t)sb.st_dev;
		st->ino = (uint64_t)sb.st_ino;
	}
	return 0;
}

int store_open(struct store *st, const char *dir, struct strbuf *err)
{
	return open_store(st, dir, 1, err);
}

int store_open_existing(struct store *st, const char *dir, struct strbuf *err)
{
	return open_store(st, dir, 0, err);
}

int store_open_reader(struct store *st, const char *dir, struct strbuf *err)
{
	int r = open_store(st, dir, 0, NULL);
	if (r != SW_ENOTFOUND)
		return r < 0 ? open_store(st, dir, 0, err) : r;
	st->path = xstrdup(":memory:");
	if (sqlite3_open_v2(st->path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK ||
	    store_exec(st, "CREATE TABLE IF NOT EXISTS schema_version (module TEXT PRIMARY KEY, version INTEGER NOT NULL);",
		       err) < 0) {
		strbuf_errf(err, "cannot open an empty in-memory store");
		store_close(st);
		return SW_ESTORE;
	}
	return 0;
}

void store_close(struct store *st)
{
	if (!st)
		return;
	for (size_t i = 0; i < STORE_CACHED_STMTS && st->cached[i].sql; i++)
		sql_finalize(st->cached[i].stmt);
	memset(st->cached, 0, sizeof(st->cached));
	if (st->db)
		sqlite3_close_v2(st->db);
	st->db = NULL;
	if (st->pg)
		PQfinish(st->pg);
	st->pg = NULL;
	free(st->last_error);
	st->last_error = NULL;
	st->backend = STORE_BACKEND_SQLITE;
	free(st->path);
	st->path = NULL;
}

int store_migrate(struct store *st, const char *module, const char *const *migrations, int n,
		  struct strbuf *err)
{
	_cleanup_stmt_ sqlite3_stmt *get = NULL;
	int version = 0, r;

	if (st->backend == STORE_BACKEND_PG)
		return sqlite_only(st, module, err);
	r = store_prepare(st, &get, "SELECT version FROM schema_version WHERE module = ?1", err);
	if (r)
		return r;
	sqlite3_bind_text(get, 1, module, -1, SQLITE_STATIC);
	if (sqlite3_step(get) == SQLITE_ROW)
		version = sqlite3_column_int(get, 0);
	sqlite3_reset(get);
	if (version > n) {
		strbuf_errf(err, "store '%s': module '%s' is at schema version %d, newer than this slipway knows (%d); "
			    "upgrade slipway", st->path, module, version, n);
		return SW_ESTORE;
	}
	if (version == n)
		return 0;

	r = store_begin(st, err);
	if (r)
		return r;
	/* re-read under the write lock: another process may have migrated */
	sqlite3_bind_text(get, 1, module, -1, SQLITE_STATIC);
	version = sqlite3_step(get) == SQLITE_ROW ? sqlite3_column_int(get, 0) : 0;
	sqlite3_reset(get);
	for (int i = version; i < n; i++) {
		r = store_exec(st, migrations[i], err);
		if (r) {
			strbuf_errf(err, " (module '%s', migration %d)", module, i + 1);
			store_rollback(st);
			return r;
		}
	}
	{
		_cleanup_stmt_ sqlite3_stmt *set = NULL;
		r = store_prepare(st, &set,
				  "INSERT INTO schema_version(module, version) VALUES (?1, ?2) "
				  "ON CONFLICT(module) DO UPDATE SET version = excluded.version", err);
		if (!r) {
			sqlite3_bind_text(set, 1, module, -1, SQLITE_STATIC);
			sqlite3_bind_int(set, 2, n);
			if (sqlite3_step(set) != SQLITE_DONE) {
				strbuf_errf(err, "store '%s': %s", st->path, sqlite3_errmsg(st->db));
				r = SW_ESTORE;
			}
		}
	}
	if (r) {
		store_rollback(st);
		return r;
	}
	return store_commit(st, err);
}

/* sql_step() with "store 'PATH': " before the database's message. */
static int step(struct store *st, struct sql_stmt *q, struct strbuf *err)
{
	struct strbuf e = STRBUF_INIT;
	int r = sql_step(q, &e);

	if (r < 0)
		strbuf_errf(err, "store '%s': %s", st->path, e.buf);
	strbuf_release(&e);
	return r;
}

/* The module's schema version on PostgreSQL: 0 when none, or SW_ESTORE. */
static int pg_version(struct store *st, const char *module, struct strbuf *err)
{
	_cleanup_sql_ struct sql_stmt *get = NULL;
	int r = sql_prepare(st, &get, "SELECT version FROM schema_version WHERE module = ?1", err);

	if (r < 0)
		return r;
	sql_bind_text(get, 1, module);
	r = step(st, get, err);
	return r == SQL_ROW ? (int)sql_column_int64(get, 0) : r;
}

int store_migrate_ported(struct store *st, const char *module, const char *const *migrations,
			 const char *const *pg_migrations, int n, struct strbuf *err)
{
	_cleanup_sql_ struct sql_stmt *set = NULL;
	int version, r;

	if (st->backend != STORE_BACKEND_PG)
		return store_migrate(st, module, migrations, n, err);
	if ((version = pg_version(st, module, err)) < 0)
		return version;
	if (version > n) {
		strbuf_errf(err, "store '%s': module '%s' is at schema version %d, newer than this slipway knows (%d); "
			    "upgrade slipway", st->path, module, version, n);
		return SW_ESTORE;
	}
	if (version == n)
		return 0;
	if ((r = store_begin(st, err)) < 0)
		return r;
	/* re-read under the write lock: another process may have migrated */
	if ((version = pg_version(st, module, err)) < 0) {
		store_rollback(st);
		return version;
	}
	for (int i = version; i < n; i++) {
		struct strbuf t = STRBUF_INIT;
		r = pg_migrations && pg_migrations[i] ? 0 : sql_pg_translate(migrations[i], &t, err);
		if (r >= 0)
			r = pg_exec(st, pg_migrations && pg_migrations[i] ? pg_migrations[i] : t.buf, err);
		strbuf_release(&t);
		if (r < 0) {
			strbuf_errf(err, " (module '%s', migration %d)", module, i + 1);
			store_rollback(st);
			return r;
		}
	}
	r = sql_prepare(st, &set, "INSERT INTO schema_version(module, version) VALUES (?1, ?2) "
			"ON CONFLICT(module) DO UPDATE SET version = excluded.version", err);
	if (!r) {
		sql_bind_text(set, 1, module);
		sql_bind_int64(set, 2, n);
		r = step(st, set, err);
	}
	if (r < 0) {
		store_rollback(st);
		return r;
	}
	return store_commit(st, err);
}
