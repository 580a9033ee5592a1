/*
 * db_ops.h - the runbook's "Database Migration Procedure" over sqitch and
 * PostgreSQL (docs/databases.md, docs/runbook.md "Database Migration"):
 *
 *   1. Create backup            db_backup(): pg_dump -Fc, verified with
 *                               pg_restore --list before it is recorded with
 *                               its SHA-256 and size; older ones beyond
 *                               backup.keep deleted
 *   2. Migrate staging          db_rehearse(): restore the latest production
 *   3. Test rollback on staging   backup into a scratch database (or use the
 *   4. Estimate the time          staging target), sqitch deploy --to (timed),
 *                               verify, revert back, verify; recorded, and
 *                               the timings are migrate's estimate
 *   5. Maintenance / read-only  db_migrate(): a deployment of type
 *   6. Migrate with a log         database-migration through the policy gate
 *   7. Verify                     (window, freeze, approvals: engineering-
 *   8. Resume traffic             manager and dba by default), refused
 *                                 before anything runs without a fresh backup
 *                                 and a passing rehearsal of the same plan;
 *                                 then the router's mode, sqitch deploy with
 *                                 its log kept, verify, traffic normal
 *   9. Monitoring                 the type's monitoring period (an hour by
 *                                 default, scaled by the deployment's time
 *                                 scale) over the services that use the
 *                                 database: any HTTP 5xx rolls it back
 * Rollback (any failing step, or an abort): sqitch revert to the change
 * production had before, verify; when that fails, restore the backup; the
 * application release deployed with it (--with-release) back to the version
 * it replaced; traffic normal; the deployment rolled back (or failed), with
 * the failing step, notified.
 *
 * Every step is written to the store (db_migrations.step, the deployment's
 * transitions) before it runs, so a slipway killed in the middle leaves a
 * record that says where it was; on the next run db_migrate() reads sqitch's
 * registry and finishes the record from what the database shows (it never
 * deploys a change again blindly).
 */
#ifndef SLIPWAY_CONTROLLER_DB_OPS_H
#define SLIPWAY_CONTROLLER_DB_OPS_H

#include <stdint.h>
#include <stdio.h>

#include "adapters/db_store.h"
#include "core/database.h"
#include "core/deployment-t.h"

struct store;
struct strbuf;
struct policy;
struct tz_zone;
struct notify_config;

struct db_ops {
	const char *state_dir;
	const char *project_dir;	/* NULL: $SLIPWAY_PROJECT or "." */
	struct store *st;		/* every module migrated (store_all.h) and db_store_migrate() */
	FILE *log;			/* progress lines; NULL: silent */
};

/*
 * Read databases/NAME.yaml of the project into *db.  0, SW_ENOTFOUND (no
 * such file, naming the path), SW_ECONFIG (FILE:LINE:COL) or -errno.
 */
int db_load(struct database *db, const char *project_dir, const char *name, struct strbuf *err);

/* The sqitch project directory of db (relative to the project) into out. */
void db_sqitch_dir(const struct database *db, const char *project_dir, struct strbuf *out);

/*
 * Back up db's target env (step 1).  *out is the recorded backup.  0, or
 * SW_EEXTERNAL (pg_dump or pg_restore --list failed: nothing recorded, the
 * partial file removed), SW_ECONFIG (the connection), SW_ESTORE.
 */
int db_backup(const struct db_ops *o, const struct database *db, const char *env, int64_t now_ms,
	      struct db_backup *out, struct strbuf *err);

/*
 * Rehearse the migration to change `to` on db's rehearsal environment
 * (steps 2-4).  Returns 0 with *out recorded whether it passed or not
 * (out->ok, out->failed_step, out->reason); or an error before anything
 * ran (SW_ENOTFOUND: no such change in the plan, or no production backup
 * to restore; SW_ECONFIG; SW_EEXTERNAL).
 */
int db_rehearse(const struct db_ops *o, const struct database *db, const char *to, int64_t now_ms,
		struct db_rehearsal *out, struct strbuf *err);

struct db_migrate_opts {
	const char *env;		/* "production" */
	const char *to;			/* the sqitch change to deploy to */
	const char *requested_by;
	const char *change_class;	/* NULL: normal */
	const struct policy *policy;	/* the gate; NULL: no gate */
	const struct tz_zone *zone;
	const struct notify_config *notify;	/* NULL: no messages */
	/* --with-release SERVICE VERSION: the application version that goes with the change,
	   switched blue-green after the verify and back on a rollback; NULL: none */
	const char *app_service, *app_version;
	double time_scale;		/* a NEW migration's scale (1-3600; 0 = 1): shortens its monitoring
					   period only (docs/engine.md "Time scale"); a resumed one keeps its own */
};

struct db_migrate_result {
	int64_t id;			/* the deployment; 0 when refused before one was recorded */
	enum deploy_state state;	/* pending (the gate waits), succeeded, rolled_back, failed */
	char reason[600];
	char failed_step[32];
	int refused;			/* 1: a precondition is missing (reason names it); nothing ran */
	int recovered;			/* 1: an interrupted migration was finished from the registry */
};

/*
 * Run (or resume) the migration of db to o->to (steps 5-8 and the
 * rollback).  0 with *res filled whatever the outcome; negative for what
 * the record cannot express (store, configuration), with err.
 */
int db_migrate(const struct db_ops *ops, const struct database *db, const struct db_migrate_opts *o, int64_t now_ms,
	       struct db_migrate_result *res, struct strbuf *err);

/*
 * The intents of migration `id` while it waits at the gate (pending), for
 * the processes that do not run the migration: `slipway serve` each tick,
 * and `slipway abort` in-process.  An abort ends it `failed` ("aborted by
 * WHO while waiting at the gate: nothing ran"), notified through notify
 * (may be NULL); pause, resume, promote, retry and undo are rejected with
 * why; a final migration's intents are all rejected.  A migration that is
 * running (progressing, monitoring, rolling back: the `db migrate` that
 * runs it applies them), or not a migration (service not "db.NAME"), is
 * left alone.  Returns 1 when it ended (reason, when not
 * NULL, gets the deployment's reason), 0 when nothing changed (also when
 * another process moved it first), or SW_ESTORE / SW_ENOTFOUND.
 */
int db_pending_intents(struct store *st, int64_t id, const struct notify_config *notify, FILE *log,
		       struct strbuf *reason, struct strbuf *err);

/* 1 when service names a database's migrations ("db.NAME"), with NAME copied into name. */
int db_service_database(const char *service, char *name, size_t n);

/* "4m10s" / "7.2s" for an estimate of ms. */
void db_format_duration(int64_t ms, char *buf, size_t n);
/* "2.3 GB" for bytes. */
void db_format_size(int64_t bytes, char *buf, size_t n);

#endif
