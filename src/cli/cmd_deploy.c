/*
 * cmd_deploy.c - `slipway deploy` on the local target (issue 4 item 5) and
 * `slipway deployments`, a plain listing of the deployment records.
 */
#include "cli/cli.h"
#include "cli/commands.h"
#include "adapters/deployment_store.h"
#include "adapters/store.h"
#include "base/err.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "controller/local_deploy.h"
#include "core/deployment.h"
#include "core/service.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

const char usage_deploy[] =
	"usage: slipway deploy SERVICE VERSION [--type TYPE] [--env ENV] [--wait] [--time-scale N]\n"
	"\n"
	"Deploy release VERSION of SERVICE (services/SERVICE.yaml) on this machine:\n"
	"start its instances, shift traffic through HAProxy step by step while\n"
	"analysis judges the canary against the stable revision with metrics from\n"
	"HAProxy's log, then promote (old instances drained and stopped, release\n"
	"kept) or roll back (all new requests on stable at once, canary stopped).\n"
	"TYPE is standard (default), hotfix, emergency, database-migration or\n"
	"infrastructure-change (runbook: Deployment Types).  The deployment runs\n"
	"in this process until it ends; run the same command again after a crash\n"
	"to resume it.  --wait shows progress on a terminal.  --time-scale N runs\n"
	"the engine's clock N times faster (60: a minute per second) while the\n"
	"policy keeps its durations.  Exit 0 succeeded, 1 rolled back or failed,\n"
	"4 paused for a person (run deploy again after resume or promote).\n";

const char usage_deployments[] =
	"usage: slipway deployments SERVICE [--env ENV] [-o json]\n"
	"\n"
	"List the deployment records of SERVICE, newest first: id, revision,\n"
	"version, type, state, reason.  (`slipway history` is the full record.)\n";

enum { OPT_TYPE = 1100, OPT_ENV, OPT_WAIT, OPT_SCALE };

int cmd_deploy(int argc, char **argv, struct cli_ctx *ctx)
{
	static const struct option opts[] = {
		{ "type", required_argument, NULL, OPT_TYPE },
		{ "env", required_argument, NULL, OPT_ENV },
		{ "wait", no_argument, NULL, OPT_WAIT },
		{ "time-scale", required_argument, NULL, OPT_SCALE },
		{ "output", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	struct local_deploy_opts o = { 0 };
	struct local_deploy_result res;
	struct strbuf err = STRBUF_INIT;
	int c, rc, wait = 0;
	char *end;

	o.type = "standard";
	o.env = "production";
	o.time_scale = 1;
	while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		switch (c) {
		case OPT_TYPE: o.type = optarg; break;
		case OPT_ENV: o.env = optarg; break;
		case OPT_WAIT: wait = 1; break;
		case OPT_SCALE:
			errno = 0;
			o.time_scale = strtod(optarg, &end);
			if (errno || *end || end == optarg || !(o.time_scale >= 1 && o.time_scale <= 3600))
				return cli_usage_error(ctx, "deploy", "--time-scale must be a number from 1 to 3600, not '%s'", optarg);
			break;
		case 'o': if (cli_parse_output(ctx, optarg) < 0) return EXIT_USAGE; break;
		default: return cli_usage_error(ctx, "deploy", "unknown option");
		}
	}
	if (argc - optind != 2)
		return cli_usage_error(ctx, "deploy", "expected SERVICE VERSION");
	if (!service_name_valid(argv[optind + 1]))
		return cli_usage_error(ctx, "deploy", "'%s' is not a version name (1 to 64 of A-Z a-z 0-9 . _ -)",
				       argv[optind + 1]);
	o.state_dir = ctx->state_dir;
	o.service = argv[optind];
	o.version = argv[optind + 1];
	o.requested_by = getenv("USER") ? getenv("USER") : "unknown";
	o.log = stderr;
	o.progress_tty = wait && cli_stderr_is_tty();
	rc = local_deploy_run(&o, &res, &err);
	if (rc < 0) {
		cli_error("%s", err.len ? err.buf : slipway_strerror(rc));
		strbuf_release(&err);
		return rc == SW_EUSAGE || rc == SW_ECONFIG || rc == SW_EPARSE ? EXIT_USAGE : EXIT_RUNTIME;
	}
	strbuf_release(&err);
	if (ctx->output == OUTPUT_JSON)
		cli_print_json(json_pack("{s:I, s:s, s:s, s:s, s:b}", "id", (json_int_t)res.id, "version", o.version,
					 "status", deployment_state_name(res.state), "reason", res.reason, "resumed", res.resumed));
	else
		printf("deployment #%lld of %s %s: %s: %s\n", (long long)res.id, o.service, o.version,
		       deployment_state_name(res.state), res.reason);
	if (res.state == DS_PAUSED)
		return EXIT_WAITING;
	return res.state == DS_SUCCEEDED ? EXIT_OK : EXIT_NO;
}

int cmd_deployments(int argc, char **argv, struct cli_ctx *ctx)
{
	static const struct option opts[] = {
		{ "env", required_argument, NULL, OPT_ENV },
		{ "output", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	struct strbuf err = STRBUF_INIT;
	struct store st = { 0 };
	_cleanup_stmt_ sqlite3_stmt *s = NULL;
	const char *env = "production";
	json_t *a = json_array();
	int c, rc;

	while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		switch (c) {
		case OPT_ENV: env = optarg; break;
		case 'o': if (cli_parse_output(ctx, optarg) < 0) { json_decref(a); return EXIT_USAGE; } break;
		default: json_decref(a); return cli_usage_error(ctx, "deployments", "unknown option");
		}
	}
	if (argc - optind != 1) {
		json_decref(a);
		return cli_usage_error(ctx, "deployments", "expected SERVICE");
	}
	if ((rc = store_open(&st, ctx->state_dir, &err)) < 0 || (rc = deployment_store_migrate(&st, &err)) < 0 ||
	    (rc = store_prepare(&st, &s,
				"SELECT id, revision, version, coalesce(from_version, ''), type, strategy, state, coalesce(reason, ''),"
				" created_ms, coalesce(finished_ms, 0) FROM deployments WHERE service = ?1 AND env = ?2"
				" ORDER BY id DESC", &err)) < 0) {
		cli_error("%s", err.buf);
		strbuf_release(&err);
		store_close(&st);
		json_decref(a);
		return EXIT_RUNTIME;
	}
	sqlite3_bind_text(s, 1, argv[optind], -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, env, -1, SQLITE_STATIC);
	if (ctx->output != OUTPUT_JSON)
		printf("%-4s %-4s %-10s %-10s %-10s %-12s %s\n", "ID", "REV", "VERSION", "FROM", "TYPE", "STATUS", "REASON");
	while (sqlite3_step(s) == SQLITE_ROW) {
		const char *ver = (const char *)sqlite3_column_text(s, 2), *from = (const char *)sqlite3_column_text(s, 3);
		const char *type = (const char *)sqlite3_column_text(s, 4), *state = (const char *)sqlite3_column_text(s, 6);
		const char *reason = (const char *)sqlite3_column_text(s, 7);
		if (ctx->output == OUTPUT_JSON)
			json_array_append_new(a, json_pack("{s:I, s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I}",
				"id", (json_int_t)sqlite3_column_int64(s, 0), "revision", sqlite3_column_int(s, 1),
				"version", ver, "from_version", from, "type", type,
				"strategy", (const char *)sqlite3_column_text(s, 5), "status", state, "reason", reason,
				"created_ms", (json_int_t)sqlite3_column_int64(s, 8),
				"finished_ms", (json_int_t)sqlite3_column_int64(s, 9)));
		else
			printf("%-4lld %-4d %-10s %-10s %-10s %-12s %s\n", (long long)sqlite3_column_int64(s, 0),
			       sqlite3_column_int(s, 1), ver, *from ? from : "-", type, state, reason);
	}
	if (ctx->output == OUTPUT_JSON)
		cli_print_json(a);
	else
		json_decref(a);
	sqlite3_finalize(s);
	s = NULL;
	store_close(&st);
	strbuf_release(&err);
	return EXIT_OK;
}
