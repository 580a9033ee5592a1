/*
 * db_tools.h - the programs a database migration runs, and what slipway
 * reads of their results: sqitch (the migration engine: deploy, verify,
 * revert, status; sqitch.org docs "sqitch-deploy", "sqitch-revert"),
 * pg_dump -Fc and pg_restore (PostgreSQL 15 documentation, "pg_dump",
 * "pg_restore"), createdb/dropdb for a rehearsal's scratch database.
 *
 * The connection URL is read from a target's environment variable or file
 * (core/database.h) and handed to the programs through their environment
 * (SQITCH_TARGET for sqitch) or their -d/--maintenance-db argument; it is
 * never written to a log, a message or the store.  A password belongs in
 * ~/.pgpass or PGPASSFILE (libpq), not in the URL.
 */
#ifndef SLIPWAY_ADAPTERS_DB_TOOLS_H
#define SLIPWAY_ADAPTERS_DB_TOOLS_H

#include <stddef.h>
#include <stdint.h>

struct database;
struct strbuf;

/*
 * The libpq URL of db's target env into url: the variable's value, or the
 * first line of the file (relative paths from project_dir).  0, SW_ENOTFOUND
 * (no target for env), or SW_ECONFIG (variable unset or empty, file missing
 * or empty, not a postgresql:// URL) naming the variable or file, never the
 * value.
 */
int db_url(const struct database *db, const char *env, const char *project_dir, struct strbuf *url,
	   struct strbuf *err);

/*
 * Run argv (PATH searched) with env_add ("NAME=VALUE", NULL-terminated, may
 * be NULL) added to the environment, in cwd, stdout and stderr appended to
 * log_path, and wait for it.  The program runs in its own session: a
 * slipway killed meanwhile leaves it to finish (sqitch commits or rolls
 * back its change by itself).  While it runs, LOG_PATH.pid holds its pid
 * and start time (removed once it has been waited for), so a slipway that
 * restarts after a kill -9 finds a program still running (db_run_wait_orphan).
 * Returns 0 with *status the exit code (128 + signal when killed), or
 * -errno with the failing step in err (the program could not be started).
 */
int db_run(char *const argv[], char *const env_add[], const char *cwd, const char *log_path, int *status,
	   struct strbuf *err);

/*
 * Wait (up to max_ms) for a program db_run() started with log_path that
 * outlived the slipway which started it (LOG_PATH.pid names it, with its
 * start time, so a reused pid is not waited for).  1 when it had to wait,
 * 0 when none ran, SW_ETIMEOUT when it still runs.
 */
int db_run_wait_orphan(const char *log_path, int64_t max_ms);

/* SHA-256 of a file as 64 hex digits, and its size in bytes.  0 or -errno/SW_EEXTERNAL with err. */
int db_sha256_file(const char *path, char hex[65], int64_t *size, struct strbuf *err);

/*
 * The plan's identity: SHA-256 over sqitch.plan and, for every change it
 * names in order, its deploy/, revert/ and verify/ scripts (NAME.sql; a
 * missing one counts as empty).  A rehearsal counts for a migration only
 * with the same value.  0 or an error with err.
 */
int db_plan_sha256(const char *sqitch_dir, char hex[65], struct strbuf *err);

/*
 * Whether change is in sqitch_dir's plan (1), and the change before it
 * (prev, "" for the first); 0 when it is not, with the plan's changes
 * listed in err; or an error reading the plan.
 */
int db_plan_find(const char *sqitch_dir, const char *change, char *prev, size_t prev_size, struct strbuf *err);

/*
 * The last change deployed on url, from sqitch's registry (`sqitch status`):
 * into change ("" when none is deployed).  The command's output is appended
 * to log_path.  0 or SW_EEXTERNAL with the end of the output in err.
 */
int db_sqitch_current(const char *sqitch_dir, const char *url, const char *log_path, char *change, size_t size,
		      struct strbuf *err);

/*
 * `sqitch VERB ...` on url from sqitch_dir: verb "deploy" (args: --to
 * CHANGE), "verify", "revert" (-y is added; --to CHANGE, or every change
 * when to is ""), output appended to log_path.  Returns 0 with *status
 * (sqitch's exit code), or an error starting it.
 */
int db_sqitch(const char *sqitch_dir, const char *url, const char *verb, const char *to, const char *log_path,
	      int *status, struct strbuf *err);

/*
 * Check what ran in env (url's sqitch registry) against the plan in
 * sqitch_dir: the changes deployed must be the plan's first changes in
 * order (a change added before one that already ran is "out of order"),
 * and each deploy script must still be the bytes sqitch hashed when it ran
 * (its script_hash, the SHA-1 of the file; differences of line endings
 * (CRLF/LF) and a UTF-8 byte-order mark alone are not an edit).  Problems
 * are appended to problems, naming the file and both checksums; 0, or an
 * error running psql (err).
 */
int db_plan_audit(const char *sqitch_dir, const char *url, const char *env, const char *log_path,
		  struct strbuf *problems, struct strbuf *err);

/* The last n bytes of the file at path, whole lines, appended to out (for messages). */
void db_log_tail(const char *path, size_t n, struct strbuf *out);

#endif
