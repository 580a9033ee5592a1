/*
 * db_store.h - the "databases" module of the store (its own schema version,
 * store.h): the backups `slipway db backup` verified, the rehearsals `slipway
 * db rehearse` ran, and what each `slipway db migrate` deployment did
 * (docs/databases.md).  No connection URL is ever written here.
 *
 * Tables (migration 1):
 *   db_backups(id, database, env, path, sha256, size_bytes, change,
 *     created_ms, deleted_ms)          a row exists only once pg_restore
 *                                      --list read the file back; change is
 *                                      the last sqitch change deployed then
 *   db_rehearsals(id, database, env, to_change, from_change, plan_sha256,
 *     ok, deploy_ms, verify_ms, revert_ms, backup_id, failed_step, reason,
 *     log_path, created_ms)
 *   db_migrations(deployment_id, database, env, to_change, from_change,
 *     plan_sha256, backup_id, rehearsal_id, step, failed_step, log_path,
 *     updated_ms)                      one per deployment of type
 *                                      database-migration; step is where it
 *                                      is, written before the step runs
 * Times are ms since the epoch, UTC; durations ms; sizes bytes.
 */
#ifndef SLIPWAY_ADAPTERS_DB_STORE_H
#define SLIPWAY_ADAPTERS_DB_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "base/limits.h"

struct store;
struct strbuf;

int db_store_migrate(struct store *st, struct strbuf *err);

struct db_backup {
	int64_t id;
	char database[SW_NAME_MAX + 1], env[SW_NAME_MAX + 1];
	char path[1024];
	char sha256[65];
	int64_t size_bytes;
	char change[256];	/* the last change deployed when it was taken ("" none) */
	int64_t created_ms;
};

/* Record a verified backup; sets b->id.  0 or SW_ESTORE. */
int db_store_add_backup(struct store *st, struct db_backup *b, struct strbuf *err);
/* The backups of database (and env, NULL: all) not deleted, newest first; *out malloc'ed.  0 or SW_ESTORE. */
int db_store_backups(struct store *st, const char *database, const char *env, struct db_backup **out, size_t *n,
		     struct strbuf *err);
/* Mark backup id deleted at now_ms (the file is the caller's to remove).  0 or SW_ESTORE. */
int db_store_delete_backup(struct store *st, int64_t id, int64_t now_ms, struct strbuf *err);

struct db_rehearsal {
	int64_t id;
	char database[SW_NAME_MAX + 1], env[SW_NAME_MAX + 1];
	char to_change[256], from_change[256];
	char plan_sha256[65];
	int ok;
	int64_t deploy_ms, verify_ms, revert_ms;	/* durations, ms */
	int64_t backup_id;				/* the restored backup, 0 = none */
	char failed_step[32];
	char reason[400];
	char log_path[1024];
	int64_t created_ms;
};

int db_store_add_rehearsal(struct store *st, struct db_rehearsal *r, struct strbuf *err);
/*
 * The newest passing rehearsal of database to to_change with plan
 * plan_sha256 (NULL: any plan) created at or after since_ms.  1 found
 * (*out filled), 0 none, or SW_ESTORE.
 */
int db_store_rehearsal_ok(struct store *st, const char *database, const char *to_change, const char *plan_sha256,
			  int64_t since_ms, struct db_rehearsal *out, struct strbuf *err);
/* All rehearsals of database, newest first. */
int db_store_rehearsals(struct store *st, const char *database, struct db_rehearsal **out, size_t *n,
			struct strbuf *err);

struct db_migration {
	int64_t deployment_id;
	char database[SW_NAME_MAX + 1], env[SW_NAME_MAX + 1];
	char to_change[256], from_change[256];
	char plan_sha256[65];
	int64_t backup_id, rehearsal_id;
	char step[32];		/* gate, traffic, deploy, verify, traffic-back, release, monitor, done,
				   revert, restore, release-back, rolled-back, failed */
	char failed_step[32];
	char log_path[1024];
	int64_t updated_ms;
	/* the application release deployed with it (db migrate --with-release): "" when none;
	   app_previous is the version it replaced, what a rollback goes back to */
	char app_service[SW_NAME_MAX + 1], app_version[SW_NAME_MAX + 1], app_previous[SW_NAME_MAX + 1];
};

/* Insert or replace the row of m->deployment_id.  0 or SW_ESTORE. */
int db_store_put_migration(struct store *st, const struct db_migration *m, struct strbuf *err);
/* 1 found, 0 none, SW_ESTORE. */
int db_store_get_migration(struct store *st, int64_t deployment_id, struct db_migration *m, struct strbuf *err);

#endif
