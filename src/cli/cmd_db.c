/*
 * cmd_db.c - `slipway db`: a project's databases (docs/databases.md): check
 * a databases/NAME.yaml, back up, list backups, rehearse on staging, list
 * rehearsals, migrate production as a deployment of type database-migration.
 */
#include "cli/cli.h"
#include "cli/cli_policy.h"
#include "cli/commands.h"
#include "cli/records_util.h"
#include "cli/vocab.h"
#include "adapters/db_store.h"
#include "adapters/notify_config.h"
#include "adapters/store.h"
#include "base/err.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "controller/db_ops.h"
#include "controller/localstack.h"
#include "controller/policy_file.h"
#include "core/deployment.h"
#include "core/policy.h"
#include "core/service.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const char usage_db[] =
	"usage: slipway db check NAME\n"
	"       slipway db backup NAME [--env ENV]\n"
	"       slipway db backups [NAME] [--env ENV]\n"
	"       slipway db rehearse NAME --to CHANGE\n"
	"       slipway db rehearsals [NAME]\n"
	"       slipway db migrate NAME --to CHANGE [--env ENV] [--class CLASS]\n"
	"                          [--with-release SERVICE=VERSION] [--time-scale N]\n"
	"\n"
	"A project's databases, declared in databases/NAME.yaml (docs/databases.md);\n"
	"sqitch runs the changes, slipway runs the runbook's procedure around them.\n"
	"\n"
	"  check       validate databases/NAME.yaml (FILE:LINE:COL errors)\n"
	"  backup      pg_dump -Fc of the target (default production), verified with\n"
	"              pg_restore --list, recorded with its SHA-256 and size; backups\n"
	"              beyond backup.keep are deleted\n"
	"  backups     the recorded backups, newest first\n"
	"  rehearse    on the rehearsal environment (staging): restore the latest\n"
	"              production backup into a scratch database (or use the staging\n"
	"              target: rehearsal.using), sqitch deploy --to CHANGE (timed),\n"
	"              verify, revert back, verify again; the timings are migrate's\n"
	"              estimate\n"
	"  rehearsals  the recorded rehearsals, newest first\n"
	"  migrate     a deployment of type database-migration: the policy gate\n"
	"              (windows, freezes, approvals: engineering-manager and dba by\n"
	"              default), refused without a fresh backup and a passing\n"
	"              rehearsal of the same plan; then read-only or maintenance\n"
	"              through the router when the file says so, sqitch deploy (log\n"
	"              kept), verify, traffic normal, the release switched\n"
	"              (--with-release), then the type's monitoring period (an hour)\n"
	"              of the services: any HTTP 5xx rolls it back; on failure sqitch\n"
	"              revert and verify (the backup restored if that fails), the\n"
	"              release back to the version it replaced, traffic normal\n"
	"\n"
	"Options:\n"
	"  --env ENV       target environment (default production)\n"
	"  --to CHANGE     the sqitch change to deploy up to (in sqitch.plan)\n"
	"  --class CLASS   change class for the gate: normal, security, critical-security\n"
	"  --with-release SERVICE=VERSION\n"
	"                  the application version that goes with the change: SERVICE\n"
	"                  switched to VERSION after the verify, back on a rollback\n"
	"  --time-scale N  a new migration's monitoring period N times shorter (1-3600)\n"
	"\n"
	"Exit codes: 0 done; 1 refused, failed or rolled back; 2 bad input; 3 a\n"
	"program or the store failed; 4 waiting for approvals or a window (run the\n"
	"same command again).\n";

static int db_error(struct strbuf *err, int r)
{
	cli_error("%s", err->len ? err->buf : slipway_strerror(r));
	strbuf_release(err);
	return cli_exit(r);
}

static json_t *backup_json(const struct db_backup *b)
{
	json_t *j = json_object();
	json_object_set_new(j, "id", json_integer(b->id));
	json_object_set_new(j, "database", json_string(b->database));
	json_object_set_new(j, "env", json_string(b->env));
	json_object_set_new(j, "path", json_string(b->path));
	json_object_set_new(j, "sha256", json_string(b->sha256));
	json_object_set_new(j, "size_bytes", json_integer(b->size_bytes));
	json_object_set_new(j, "change", json_string(b->change));
	cli_json_time(j, "created_at", b->created_ms);
	return j;
}

static json_t *rehearsal_json(const struct db_rehearsal *x)
{
	json_t *j = json_object();
	json_object_set_new(j, "id", json_integer(x->id));
	json_object_set_new(j, "database", json_string(x->database));
	json_object_set_new(j, "env", json_string(x->env));
	json_object_set_new(j, "to_change", json_string(x->to_change));
	json_object_set_new(j, "from_change", json_string(x->from_change));
	json_object_set_new(j, "plan_sha256", json_string(x->plan_sha256));
	json_object_set_new(j, "ok", json_boolean(x->ok));
	json_object_set_new(j, "deploy_ms", json_integer(x->deploy_ms));
	json_object_set_new(j, "verify_ms", json_integer(x->verify_ms));
	json_object_set_new(j, "revert_ms", json_integer(x->revert_ms));
	json_object_set_new(j, "estimate_ms", json_integer(x->deploy_ms + x->verify_ms));
	if (x->backup_id)
		json_object_set_new(j, "backup_id", json_integer(x->backup_id));
	else
		json_object_set_new(j, "backup_id", json_null());
	cli_json_str(j, "failed_step", x->failed_step[0] ? x->failed_step : NULL);
	json_object_set_new(j, "reason", json_string(x->reason));
	json_object_set_new(j, "log", json_string(x->log_path));
	cli_json_time(j, "created_at", x->created_ms);
	return j;
}

static json_t *database_json(const struct database *db)
{
	json_t *j = cli_doc("Database"), *svcs = json_array(), *t = json_array(), *b = json_object(), *r = json_object();
	json_object_set_new(j, "name", json_string(db->name));
	json_object_set_new(j, "engine", json_string("pg"));
	json_object_set_new(j, "project", json_string(db->project));
	for (size_t i = 0; i < db->nservices; i++)
		json_array_append_new(svcs, json_string(db->services[i]));
	json_object_set_new(j, "services", svcs);
	json_object_set_new(j, "traffic", json_string(database_traffic_name(db->traffic)));
	json_object_set_new(b, "dir", json_string(db->backup_dir));
	json_object_set_new(b, "keep", json_integer(db->backup_keep));
	json_object_set_new(b, "max_age_s", json_integer(db->backup_max_age_ms / 1000));
	json_object_set_new(j, "backup", b);
	json_object_set_new(r, "env", json_string(db->rehearsal_env));
	json_object_set_new(r, "using", json_string(db->rehearsal == DB_REHEARSE_RESTORE ? "restore" : "target"));
	json_object_set_new(r, "max_age_s", json_integer(db->rehearsal_max_age_ms / 1000));
	json_object_set_new(j, "rehearsal", r);
	for (size_t i = 0; i < db->ntargets; i++) {
		json_t *x = json_object();
		json_object_set_new(x, "env", json_string(db->targets[i].env));
		/* where the connection comes from, never the connection */
		cli_json_str(x, "url_env", db->targets[i].url_env);
		cli_json_str(x, "url_file", db->targets[i].url_file);
		json_array_append_new(t, x);
	}
	json_object_set_new(j, "targets", t);
	return j;
}

/* reading (backups, rehearsals): never creates a store, as other reading commands */
static int db_store_open(struct cli_ctx *ctx, struct store **st, int reading)
{
	struct strbuf err = STRBUF_INIT;
	int rc = reading ? cli_store_read(ctx, st) : cli_store(ctx, st);
	if (rc != EXIT_OK)
		return rc;
	if (db_store_migrate(*st, &err) < 0) {
		cli_error("%s", err.buf);
		strbuf_release(&err);
		return EXIT_RUNTIME;
	}
	return EXIT_OK;
}

static int do_backup(struct cli_ctx *ctx, struct db_ops *ops, const struct database *db, const char *env)
{
	struct strbuf err = STRBUF_INIT;
	struct db_backup b;
	char size[32];
	int r = db_backup(ops, db, env, cli_now_ms(), &b, &err);
	if (r < 0)
		return db_error(&err, r);
	strbuf_release(&err);
	if (ctx->output == OUTPUT_JSON) {
		json_t *j = cli_doc("DatabaseBackup");
		json_object_update_new(j, backup_json(&b));
		cli_print_json(j);
	} else {
		db_format_size(b.size_bytes, size, sizeof(size));
		printf("backup #%" PRId64 " of %s %s at change '%s': %s, %s, sha256 %s (verified with pg_restore --list)\n",
		       b.id, b.database, b.env, b.change[0] ? b.change : "(none)", b.path, size, b.sha256);
	}
	return EXIT_OK;
}

static int do_backups(struct cli_ctx *ctx, struct store *st, const char *name, const char *env)
{
	struct strbuf err = STRBUF_INIT;
	struct db_backup *v = NULL;
	size_t n = 0;
	int r = db_store_backups(st, name, env, &v, &n, &err);
	if (r < 0)
		return db_error(&err, r);
	strbuf_release(&err);
	if (ctx->output == OUTPUT_JSON) {
		json_t *a = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(a, backup_json(&v[i]));
		cli_print_json(cli_list_doc("DatabaseBackupList", a));
	} else {
		printf("%-4s %-12s %-11s %-24s %-10s %-16s %s\n", "ID", "DATABASE", "ENV", "CREATED", "SIZE", "CHANGE", "SHA256");
		for (size_t i = 0; i < n; i++) {
			char when[RFC3339_BUFSZ], size[32];
			db_format_size(v[i].size_bytes, size, sizeof(size));
			printf("%-4" PRId64 " %-12s %-11s %-24s %-10s %-16s %.16s\n", v[i].id, v[i].database, v[i].env,
			       time_format_rfc3339(v[i].created_ms, when), size, v[i].change[0] ? v[i].change : "-",
			       v[i].sha256);
		}
	}
	free(v);
	return EXIT_OK;
}

static int do_rehearse(struct cli_ctx *ctx, struct db_ops *ops, const struct database *db, const char *to)
{
	struct strbuf err = STRBUF_INIT;
	struct db_rehearsal x;
	char d[32];
	int r = db_rehearse(ops, db, to, cli_now_ms(), &x, &err);
	if (r < 0)
		return db_error(&err, r);
	strbuf_release(&err);
	if (ctx->output == OUTPUT_JSON) {
		json_t *j = cli_doc("DatabaseRehearsal");
		json_object_update_new(j, rehearsal_json(&x));
		cli_print_json(j);
	} else if (x.ok) {
		db_format_duration(x.deploy_ms + x.verify_ms, d, sizeof(d));
		printf("rehearsal #%" PRId64 " of %s to '%s' on %s passed: deploy %.1fs, verify %.1fs, revert %.1fs; "
		       "estimate %s (log: %s)\n", x.id, x.database, x.to_change, x.env, (double)x.deploy_ms / 1000,
		       (double)x.verify_ms / 1000, (double)x.revert_ms / 1000, d, x.log_path);
	} else {
		printf("rehearsal #%" PRId64 " of %s to '%s' on %s failed at %s: %s (log: %s)\n", x.id, x.database,
		       x.to_change, x.env, x.failed_step, x.reason, x.log_path);
	}
	return x.ok ? EXIT_OK : EXIT_NO;
}

static int do_rehearsals(struct cli_ctx *ctx, struct store *st, const char *name)
{
	struct strbuf err = STRBUF_INIT;
	struct db_rehearsal *v = NULL;
	size_t n = 0;
	int r = db_store_rehearsals(st, name, &v, &n, &err);
	if (r < 0)
		return db_error(&err, r);
	strbuf_release(&err);
	if (ctx->output == OUTPUT_JSON) {
		json_t *a = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(a, rehearsal_json(&v[i]));
		cli_print_json(cli_list_doc("DatabaseRehearsalList", a));
	} else {
		printf("%-4s %-12s %-16s %-6s %-9s %-24s %s\n", "ID", "DATABASE", "TO", "RESULT", "ESTIMATE", "CREATED", "REASON");
		for (size_t i = 0; i < n; i++) {
			char when[RFC3339_BUFSZ], d[32];
			db_format_duration(v[i].deploy_ms + v[i].verify_ms, d, sizeof(d));
			printf("%-4" PRId64 " %-12s %-16s %-6s %-9s %-24s %s\n", v[i].id, v[i].database, v[i].to_change,
			       v[i].ok ? "passed" : "failed", v[i].ok ? d : "-", time_format_rfc3339(v[i].created_ms, when),
			       v[i].reason);
		}
	}
	free(v);
	return EXIT_OK;
}

static int do_migrate(struct cli_ctx *ctx, struct db_ops *ops, const struct database *db, struct db_migrate_opts *o)
{
	struct strbuf err = STRBUF_INIT;
	struct policy_file pol;
	struct notify_config ncfg;
	struct db_migrate_result res;
	int r, rc;

	if ((rc = cli_policy_load(ctx->policy_path, &pol)) != EXIT_OK)
		return rc;
	if (o->change_class && !policy_find_class(&pol.p, o->change_class)) {
		cli_policy_release(&pol);
		return cli_usage_error(ctx, "db", "unknown change class '%s'; see 'slipway policy show'", o->change_class);
	}
	if (records_notify_config(ctx, &ncfg) < 0) {
		cli_policy_release(&pol);
		return EXIT_USAGE;
	}
	o->policy = &pol.p;
	o->zone = &pol.tz.zone;
	o->notify = &ncfg;
	o->requested_by = cli_caller(NULL);
	r = db_migrate(ops, db, o, cli_now_ms(), &res, &err);
	notify_config_release(&ncfg);
	cli_policy_release(&pol);
	if (r < 0)
		return db_error(&err, r);
	strbuf_release(&err);
	if (ctx->output == OUTPUT_JSON) {
		json_t *j = cli_doc("DatabaseMigration");
		if (res.id)
			json_object_set_new(j, "deployment_id", json_integer(res.id));
		else
			json_object_set_new(j, "deployment_id", json_null());
		json_object_set_new(j, "database", json_string(db->name));
		json_object_set_new(j, "env", json_string(o->env));
		json_object_set_new(j, "to_change", json_string(o->to));
		cli_json_str(j, "state", res.refused ? NULL : deployment_state_name(res.state));
		json_object_set_new(j, "refused", json_boolean(res.refused));
		json_object_set_new(j, "recovered", json_boolean(res.recovered));
		cli_json_str(j, "failed_step", res.failed_step[0] ? res.failed_step : NULL);
		json_object_set_new(j, "reason", json_string(res.reason));
		cli_print_json(j);
	} else if (res.refused) {
		printf("migration of %s %s to '%s': %s\n", db->name, o->env, o->to, res.reason);
	} else {
		printf("migration #%" PRId64 " of %s %s to '%s': %s: %s\n", res.id, db->name, o->env, o->to,
		       deployment_state_name(res.state), res.reason);
	}
	if (res.refused)
		return EXIT_NO;
	if (res.state == DS_PENDING)
		return EXIT_WAITING;
	return res.state == DS_SUCCEEDED ? EXIT_OK : EXIT_NO;
}

int cmd_db(int argc, char **argv, struct cli_ctx *ctx)
{
	const char *env = NULL, *to = NULL, *cls = NULL, *with = NULL, *scale = NULL;
	const struct cli_option opts[] = {
		CLI_STRING("env", 0, &env),
		CLI_STRING("to", 0, &to),
		CLI_STRING("class", 0, &cls),
		CLI_STRING("with-release", 0, &with),
		CLI_STRING("time-scale", 0, &scale),
		CLI_OPTIONS_END,
	};
	struct strbuf err = STRBUF_INIT;
	struct database db;
	struct db_ops ops = { 0 };
	struct store *st;
	const char *sub, *name;
	char **args, app_service[SW_NAME_MAX + 1] = "", app_version[SW_NAME_MAX + 1] = "";
	double time_scale = 1;
	int nargs, rc, r;

	if ((rc = cli_parse(ctx, argc, argv, opts, &args, &nargs)) != EXIT_OK)
		return rc;
	sub = args[0];
	name = nargs > 1 ? args[1] : NULL;
	if (strcmp(sub, "check") && strcmp(sub, "backup") && strcmp(sub, "backups") && strcmp(sub, "rehearse") &&
	    strcmp(sub, "rehearsals") && strcmp(sub, "migrate"))
		return cli_usage_error(ctx, "db", "unknown subcommand '%s'; valid: check, backup, backups, rehearse, "
				       "rehearsals, migrate", sub);
	if (env && !service_name_valid(env))
		return cli_usage_error(ctx, "db", "--env '%s' is not an environment name (1 to 64 of A-Z a-z 0-9 . _ -)", env);
	if (!name && strcmp(sub, "backups") && strcmp(sub, "rehearsals"))
		return cli_usage_error(ctx, "db", "'db %s' needs the database's NAME (databases/NAME.yaml)", sub);
	if (!strcmp(sub, "rehearse") || !strcmp(sub, "migrate")) {
		if (!to)
			return cli_usage_error(ctx, "db", "'db %s' needs --to CHANGE (a change of the sqitch plan)", sub);
		if (strlen(to) > SW_NAME_MAX)
			return cli_usage_error(ctx, "db", "--to '%.80s...' is longer than %d bytes", to, SW_NAME_MAX);
	} else if (to) {
		return cli_usage_error(ctx, "db", "--to goes with 'db rehearse' and 'db migrate'");
	}
	if ((with || scale) && strcmp(sub, "migrate"))
		return cli_usage_error(ctx, "db", "--with-release and --time-scale go with 'db migrate'");
	if (with) {
		const char *eq = strchr(with, '=');
		if (!eq || eq == with || !eq[1] || eq - with > SW_NAME_MAX || strlen(eq + 1) > SW_NAME_MAX) {
			return cli_usage_error(ctx, "db", "--with-release takes SERVICE=VERSION (e.g. api=v2), not '%.80s'",
					       with);
		}
		snprintf(app_service, sizeof(app_service), "%.*s", (int)(eq - with), with);
		snprintf(app_version, sizeof(app_version), "%s", eq + 1);
		if (!service_name_valid(app_service) || !service_name_valid(app_version))
			return cli_usage_error(ctx, "db", "--with-release '%s': SERVICE and VERSION are 1 to 64 of A-Z a-z "
					       "0-9 . _ -", with);
	}
	if (scale) {
		char *end;
		errno = 0;
		time_scale = strtod(scale, &end);
		if (errno || *end || end == scale || !(time_scale >= 1 && time_scale <= 3600))
			return cli_usage_error(ctx, "db", "--time-scale must be a number from 1 to 3600, not '%s'", scale);
	}
	if (!strcmp(sub, "backups") || !strcmp(sub, "rehearsals")) {
		if ((rc = db_store_open(ctx, &st, 1)) != EXIT_OK)
			return rc;
		return !strcmp(sub, "backups") ? do_backups(ctx, st, name, env) : do_rehearsals(ctx, st, name);
	}
	if ((r = db_load(&db, ctx->project_dir, name, &err)) < 0)
		return db_error(&err, r);
	{
		/* the sqitch project it names must be there: said now, not as "cannot start sqitch" later */
		struct strbuf plan = STRBUF_INIT;
		struct stat sb;
		if (db.project[0] != '/')
			strbuf_addf(&plan, "%s/", ctx->project_dir && *ctx->project_dir ? ctx->project_dir : ".");
		strbuf_addf(&plan, "%s/sqitch.plan", db.project);
		if (stat(plan.buf, &sb) < 0 || !S_ISREG(sb.st_mode)) {
			cli_error("databases/%s.yaml: project: no sqitch project at '%s' (no file '%s'); give the "
				  "directory that holds sqitch.conf and sqitch.plan (docs/databases.md)", db.name, db.project,
				  plan.buf);
			strbuf_release(&plan);
			database_release(&db);
			return EXIT_USAGE;
		}
		strbuf_release(&plan);
	}
	if (!strcmp(sub, "check")) {
		if (ctx->output == OUTPUT_JSON)
			cli_print_json(database_json(&db));
		else
			printf("databases/%s.yaml: ok (engine pg, sqitch project '%s', traffic %s, %zu target%s, "
			       "rehearsals on %s)\n", db.name, db.project, database_traffic_name(db.traffic), db.ntargets,
			       db.ntargets == 1 ? "" : "s", db.rehearsal_env);
		database_release(&db);
		return EXIT_OK;
	}
	if ((rc = db_store_open(ctx, &st, 0)) != EXIT_OK) {
		database_release(&db);
		return rc;
	}
	ops.state_dir = ctx->state_dir;
	ops.project_dir = ctx->project_dir;
	ops.st = st;
	/* progress lines with a time and a level (--log-format, -q, -v), as deploy's */
	ops.log = cli_log_stream(ctx);
	if (!ops.log)
		ops.log = stderr;
	if (!strcmp(sub, "backup")) {
		rc = do_backup(ctx, &ops, &db, env ? env : "production");
	} else if (!strcmp(sub, "rehearse")) {
		if (env)
			rc = cli_usage_error(ctx, "db", "'db rehearse' runs on rehearsal.env of databases/%s.yaml; drop --env",
					     name);
		else
			rc = do_rehearse(ctx, &ops, &db, to);
	} else {
		struct db_migrate_opts o = { .env = env ? env : "production", .to = to, .change_class = cls,
					     .app_service = app_service[0] ? app_service : NULL,
					     .app_version = app_version[0] ? app_version : NULL, .time_scale = time_scale };
		struct service svc;
		memset(&svc, 0, sizeof(svc));
		if (o.app_service && (r = service_load(&svc, ctx->project_dir, o.app_service, &err)) < 0) {
			rc = db_error(&err, r);
		} else {
			if (o.app_service)
				service_release(&svc);
			rc = do_migrate(ctx, &ops, &db, &o);
		}
	}
	if (ops.log != stderr)
		fclose(ops.log);
	database_release(&db);
	return rc;
}
