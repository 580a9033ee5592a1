/*
 * database.h - a database as a project declares it in `databases/NAME.yaml`
 * (docs/databases.md): the engine (pg), the sqitch project that holds its
 * changes, one target per environment whose connection comes from an
 * environment variable or a file (the value itself is never in the file,
 * never printed and never stored), the services that use it, what traffic
 * a change needs (none, read-only, maintenance: the runbook's "Database
 * Migration Procedure", step 5), where backups go and how many are kept,
 * and how fresh a backup and a rehearsal must be for `slipway db migrate`.
 *
 * Read by the one YAML walker (core/yaml_walk.h, docs/yaml.md): every fault
 * is SW_ECONFIG with "FILE:LINE:COL: message" naming what would be valid.
 * Pure: the caller reads the file (bounded by DATABASE_FILE_MAX).
 */
#ifndef SLIPWAY_CORE_DATABASE_H
#define SLIPWAY_CORE_DATABASE_H

#include <stddef.h>
#include <stdint.h>

#include "base/limits.h"

struct strbuf;

#define DATABASE_FILE_MAX (256 * 1024)	/* bytes of a databases/NAME.yaml */
#define DATABASE_TEXT_MAX 1024		/* bytes of a path, variable name or message */
#define DATABASE_MAX_SERVICES 32
#define DATABASE_MAX_TARGETS 16

enum database_engine { DB_ENGINE_PG = 0 };

/* What traffic a change of this database needs while it runs (the router's modes, docs/haproxy.md). */
enum database_traffic {
	DB_TRAFFIC_NONE = 0,		/* the change is online: traffic stays normal */
	DB_TRAFFIC_READ_ONLY,		/* GET and HEAD served, writes refused (405) */
	DB_TRAFFIC_MAINTENANCE,		/* every request answered 503 with `message` */
};

/* Where rehearsals run (`slipway db rehearse`). */
enum database_rehearsal {
	DB_REHEARSE_RESTORE = 0,	/* restore the latest production backup into a scratch database
					   on the rehearsal environment's server, then drop it */
	DB_REHEARSE_TARGET,		/* run on the rehearsal environment's own database */
};

struct database_target {
	char env[SW_NAME_MAX + 1];
	char *url_env;		/* the environment variable that holds the libpq URL; or NULL */
	char *url_file;		/* a file whose first line is the libpq URL (relative: to the project); or NULL */
};

struct database {
	char name[SW_NAME_MAX + 1];
	enum database_engine engine;
	char *project;			/* the sqitch project directory (relative: to the project); default "db/NAME" */
	char services[DATABASE_MAX_SERVICES][SW_NAME_MAX + 1];
	size_t nservices;
	enum database_traffic traffic;
	char *message;			/* maintenance: the 503 answer's text (default one when NULL) */
	char *backup_dir;		/* relative: to the state directory; default "backups/NAME" */
	int backup_keep;		/* verified backups kept per environment (older ones deleted), >= 1 */
	int64_t backup_max_age_ms;	/* migrate needs a backup at most this old (default 24h) */
	char rehearsal_env[SW_NAME_MAX + 1];	/* default "staging" */
	enum database_rehearsal rehearsal;
	int64_t rehearsal_max_age_ms;	/* migrate needs a passing rehearsal at most this old (default 7d) */
	struct database_target targets[DATABASE_MAX_TARGETS];
	size_t ntargets;
};

/*
 * Parse buf[0..len) named file into *out.  expect_name is the NAME of
 * databases/NAME.yaml: a `name:` key must match it; NULL makes `name:`
 * required.  0, or SW_ECONFIG with "FILE:LINE:COL: message" in err (out
 * untouched).  Release with database_release().
 */
int database_parse(struct database *out, const char *file, const char *buf, size_t len, const char *expect_name,
		   struct strbuf *err);
void database_release(struct database *db);

/* The target of env, or NULL. */
const struct database_target *database_target(const struct database *db, const char *env);

/* "none", "read-only", "maintenance". */
const char *database_traffic_name(enum database_traffic t);

/*
 * The libpq URL u with its database name replaced by dbname (for the
 * rehearsal's scratch database on the same server): postgresql://H/OLD?Q
 * becomes postgresql://H/DBNAME?Q.  Appends to out; 0, or SW_ECONFIG when u
 * is not a postgresql:// or postgres:// URL.
 */
int database_url_with_dbname(const char *u, const char *dbname, struct strbuf *out);

/*
 * sqitch's target for libpq URL u: "db:pg://..." (sqitch's URI::db form of
 * the same URL).  Appends to out; 0 or SW_ECONFIG as above.
 */
int database_sqitch_target(const char *u, struct strbuf *out);

#endif
