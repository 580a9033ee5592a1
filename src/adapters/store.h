/*
 * store.h - the store: one SQLite database in the state directory, in WAL
 * mode, shared by every part of slipway (DESIGN.md: "state lives in the
 * store, never only in memory").
 *
 * Schema versioning is per module: each module (deployments, audit,
 * notifications, ...) owns its tables and an ordered list of migrations, and
 * store_migrate() applies those it has not applied yet, recording the
 * module's version in the table `schema_version(module, version)`.  Modules
 * therefore never edit one shared list, and a newer binary upgrades an older
 * store in place.  A store written by a newer slipway (module version above
 * what this binary knows) is refused rather than misread.
 */
#ifndef SLIPWAY_ADAPTERS_STORE_H
#define SLIPWAY_ADAPTERS_STORE_H

#include <sqlite3.h>
#include <stdint.h>

struct strbuf;

#define STORE_CACHED_STMTS 8

struct pg_conn;	/* libpq's PGconn */
struct sql_stmt;

enum store_backend { STORE_BACKEND_SQLITE = 0, STORE_BACKEND_PG };

struct store {
	sqlite3 *db;	/* SQLite; NULL on PostgreSQL */
	struct pg_conn *pg;	/* PostgreSQL; NULL on SQLite */
	enum store_backend backend;
	char *path;	/* the database file, or the PostgreSQL URL without its password; owned */
	char *last_error;	/* PostgreSQL: the last failed statement's message (sql_errmsg()); owned */
	uint64_t dev, ino;	/* the file's identity when opened (st_dev, st_ino) */
	struct store_cached_stmt {	/* sql_prepare_cached() (sql.h): kept until store_close() */
		const char *sql;
		struct sql_stmt *stmt;
	} cached[STORE_CACHED_STMTS];
};

/*
 * The backend comes from $SLIPWAY_STORE: unset or empty, the SQLite file
 * DIR/slipway.db as described here; a libpq URL (`postgresql://...` or
 * `postgres://...`), that PostgreSQL database instead (the database must
 * exist; DIR is still created by store_open() for the files slipway keeps
 * there, but holds no store; docs/records.md "PostgreSQL").  On
 * PostgreSQL a write transaction (store_begin()) first takes a
 * transaction-scoped advisory lock, so that write transactions follow one
 * another as SQLite's do; store_check_identity() has nothing to check; and
 * the store modules run through the statement layer (sql.h): store_migrate()
 * and store_prepare(), for SQLite alone, refuse with "store module X is
 * SQLite-only yet".  Any other value of $SLIPWAY_STORE is refused
 * (SW_ECONFIG).
 *
 * Open (creating the directory and file if needed) `DIR/slipway.db`, set WAL
 * mode, foreign keys, a 5000 ms busy timeout and synchronous=FULL (a
 * committed transition survives power loss; DESIGN.md principle 1).  Returns
 * 0, or SW_ESTORE / -errno with a message in err.  On success the caller
 * releases with store_close().
 */
int store_open(struct store *st, const char *dir, struct strbuf *err);
/*
 * 1 when $SLIPWAY_STORE is set and not empty: store_open() then ignores the
 * state directory (and checks the value), so a command must not look for
 * DIR/slipway.db to know whether a store exists.  Else 0.
 */
int store_in_env(void);

/*
 * Like store_open(), but never creates anything: a command that only reads
 * must not leave an empty store behind (and must not make a store deleted
 * under a running slipway look fresh).  SW_ENOTFOUND when DIR/slipway.db
 * does not exist, with a message saying so.
 */
int store_open_existing(struct store *st, const char *dir, struct strbuf *err);

/*
 * Is the database file still the one opened?  SQLite keeps writing to a
 * deleted (or renamed-over) file through its open descriptor, so a store
 * removed or replaced under a running slipway would otherwise go on
 * "succeeding" into a file nobody can read.  Compares st_dev/st_ino of the
 * path with those recorded at open.  0, or SW_ESTORE with what happened
 * and what to do in err.  store_begin() checks it before every write
 * transaction.
 */
int store_check_identity(struct store *st, struct strbuf *err);

/*
 * For commands that only read (status, history, log, show, audit, dora,
 * instances): the store when DIR/slipway.db exists (opened without
 * creating anything), else an empty in-memory one with the same schema
 * once the caller migrates it, so "nothing recorded yet" reads as empty
 * and no empty store is left behind.  0 or SW_ESTORE.
 */
int store_open_reader(struct store *st, const char *dir, struct strbuf *err);

/* Close; accepts a store that was never opened or already closed. */
void store_close(struct store *st);

/*
 * Apply module's migrations[version .. n-1] (each one SQL script, run in one
 * transaction with its version bump).  Returns 0, or SW_ESTORE with the
 * module, migration number and SQLite's message in err.
 */
int store_migrate(struct store *st, const char *module, const char *const *migrations, int n,
		  struct strbuf *err);

/*
 * store_migrate() for a module ported onto the statement layer (sql.h): on
 * SQLite exactly store_migrate(); on PostgreSQL each migration is
 * pg_migrations[i] when that is not NULL (written for PostgreSQL: triggers,
 * functions), else migrations[i] translated by sql_pg_translate().
 * pg_migrations may be NULL.  Returns 0 or SW_ESTORE.
 */
int store_migrate_ported(struct store *st, const char *module, const char *const *migrations,
			 const char *const *pg_migrations, int n, struct strbuf *err);

/* Run SQL with no result rows (BEGIN, COMMIT, DDL).  0 or SW_ESTORE. */
int store_exec(struct store *st, const char *sql, struct strbuf *err);
/* BEGIN IMMEDIATE / COMMIT / ROLLBACK.  0 or SW_ESTORE. */
int store_begin(struct store *st, struct strbuf *err);
int store_commit(struct store *st, struct strbuf *err);
void store_rollback(struct store *st);

/*
 * Join the caller's transaction or begin one: a module's write (an approval,
 * an emergency record, an audit entry, a queued message) is atomic on its
 * own, and part of the caller's transaction when there is one (an audit
 * entry commits with the change it records).  Returns 1 when it began a
 * transaction (end it with store_tx_end()), 0 when it joined one, or
 * SW_ESTORE.
 */
int store_tx_begin(struct store *st, struct strbuf *err);
/* 1 when a transaction is open on st's connection (SQLite: not in autocommit), else 0. */
int store_in_tx(struct store *st);
/*
 * End what store_tx_begin() returned in own: with own == 1, commit when
 * r >= 0 (returning the commit's error, else r) and roll back when r < 0;
 * with own == 0, nothing (the caller's transaction decides).  Returns r or
 * the commit's error.
 */
int store_tx_end(struct store *st, int own, int r, struct strbuf *err);

/*
 * Prepare sql; on failure returns SW_ESTORE with SQLite's message in err.
 * SQLite only: on PostgreSQL it refuses (SW_ESTORE, "... SQLite-only yet"):
 * ported modules use sql_prepare().
 */
int store_prepare(struct store *st, sqlite3_stmt **stmt, const char *sql, struct strbuf *err);

/* Cleanup attribute for statements: `_cleanup_stmt_ sqlite3_stmt *s = NULL;` */
static inline void stmt_finalizep(sqlite3_stmt **s) { if (*s) sqlite3_finalize(*s); }
#define _cleanup_stmt_ __attribute__((cleanup(stmt_finalizep)))

#endif
