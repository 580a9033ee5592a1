/*
 * cmd_deploy.c - `slipway deploy` on this machine (docs/services.md) and
 * `slipway deployments`, a plain listing of the deployment records.
 */
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/cli_policy.h"
#include "cli/records_util.h"
#include "adapters/dora_store.h"
#include "adapters/emergency.h"
#include "adapters/notify_config.h"
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
	"usage: slipway deploy SERVICE VERSION [--type TYPE] [--class CLASS] [--env ENV] [--wait]\n"
	"                      [--time-scale N] [--reason TEXT] [--commit SHA [--repo DIR]]\n"
	"                      [--commit-time TIME] [-o json]\n"
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
	"policy keeps its durations.\n"
	"\n"
	"Before any traffic moves, the policy gate (slipway.yaml or the runbook's\n"
	"default) must pass: a window the type may use is open, no freeze blocks\n"
	"its --class (normal, security, critical-security), every required role has\n"
	"approved ('slipway approve ID --role ROLE', by someone other than the\n"
	"requester), and no incident is open in ENV (emergencies excepted).  While it\n"
	"waits, deploy exits 4 and the deployment stays pending; run the same command\n"
	"again to go on.  --type emergency needs --reason (the emergency record).\n"
	"--commit SHA (its time read from the git repository --repo, default the\n"
	"project directory) or --commit-time TIME records the change for DORA's\n"
	"lead time.  Messages go to the channels of the notifications: section.\n"
	"Exit 0 succeeded, 1 rolled back or failed, 4 waiting for a person (pending\n"
	"at the gate, or paused: run deploy again after approve, resume or promote).\n";

const char usage_deployments[] =
	"usage: slipway deployments SERVICE [--env ENV] [-o json]\n"
	"\n"
	"List the deployment records of SERVICE, newest first: id, revision,\n"
	"version, type, state, reason.  (`slipway history` is the full record.)\n";

enum { OPT_TYPE = 1100, OPT_ENV, OPT_WAIT, OPT_SCALE, OPT_CLASS, OPT_REASON, OPT_COMMIT, OPT_COMMIT_TIME, OPT_REPO };

int cmd_deploy(int argc, char **argv, struct cli_ctx *ctx)
{
	static const struct option opts[] = {
		{ "type", required_argument, NULL, OPT_TYPE },
		{ "env", required_argument, NULL, OPT_ENV },
		{ "wait", no_argument, NULL, OPT_WAIT },
		{ "time-scale", required_argument, NULL, OPT_SCALE },
		{ "class", required_argument, NULL, OPT_CLASS },
		{ "reason", required_argument, NULL, OPT_REASON },
		{ "commit", required_argument, NULL, OPT_COMMIT },
		{ "commit-time", required_argument, NULL, OPT_COMMIT_TIME },
		{ "repo", required_argument, NULL, OPT_REPO },
		{ "output", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	struct local_deploy_opts o = { 0 };
	struct cli_policy pol;
	struct notify_config ncfg;
	const char *repo = NULL, *commit_time = NULL;
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
		case OPT_CLASS: o.change_class = optarg; break;
		case OPT_REASON: o.emergency_reason = optarg; break;
		case OPT_COMMIT: o.commit_sha = optarg; break;
		case OPT_COMMIT_TIME: commit_time = optarg; break;
		case OPT_REPO: repo = optarg; break;
		case OPT_SCALE:
			errno = 0;
			o.time_scale = strtod(optarg, &end);
			if (errno || *end || end == optarg || !(o.time_scale >= 1 && o.time_scale <= 3600))
				return cli_usage_error(ctx, "deploy", "--time-scale must be a number from 1 to 3600, not '%s'", optarg);
			break;
		case 'o': if (cli_parse_output(ctx, optarg) < 0) return EXIT_USAGE; break;
		default: return cli_usage_error(ctx, "deploy", "bad option or missing value (see above)");
		}
	}
	if (argc - optind != 2)
		return cli_usage_error(ctx, "deploy", "expected SERVICE VERSION");
	if (!service_name_valid(argv[optind + 1]))
		return cli_usage_error(ctx, "deploy", "'%s' is not a version name (1 to 64 of A-Z a-z 0-9 . _ -)",
				       argv[optind + 1]);
	if (emergency_check_reason(o.type, o.emergency_reason, &err) < 0) {
		cli_usage_error(ctx, "deploy", "%s", err.buf);
		strbuf_release(&err);
		return EXIT_USAGE;
	}
	if (commit_time && time_parse_rfc3339(commit_time, &o.commit_time_ms, &err) < 0) {
		cli_usage_error(ctx, "deploy", "--commit-time: %s", err.buf);
		strbuf_release(&err);
		return EXIT_USAGE;
	}
	if (o.commit_sha && !commit_time) {
		const char *r = repo ? repo : getenv("SLIPWAY_PROJECT") ? getenv("SLIPWAY_PROJECT") : ".";
		if (commit_time_resolve(r, o.commit_sha, &o.commit_time_ms, &err) < 0) {
			cli_error("--commit %s: %s; give --repo DIR or --commit-time TIME", o.commit_sha, err.buf);
			strbuf_release(&err);
			return EXIT_USAGE;
		}
	}
	/* the gate's rules, the type's rules and the messages' channels */
	if ((rc = cli_policy_load(ctx->policy_path, &pol)) != EXIT_OK)
		return rc;
	if (!policy_find_type(&pol.p, o.type)) {
		struct type_rules unused;
		policy_type_rules(&pol.p, o.type, &unused, &err);
		cli_usage_error(ctx, "deploy", "%s", err.buf);
		strbuf_release(&err);
		cli_policy_release(&pol);
		return EXIT_USAGE;
	}
	if (o.change_class && !policy_find_class(&pol.p, o.change_class)) {
		cli_usage_error(ctx, "deploy", "unknown change class '%s'; see 'slipway policy show'", o.change_class);
		cli_policy_release(&pol);
		return EXIT_USAGE;
	}
	if (records_notify_config(ctx, &ncfg) < 0) {
		cli_policy_release(&pol);
		return EXIT_USAGE;
	}
	o.policy = &pol.p;
	o.zone = &pol.tz.zone;
	o.notify = &ncfg;
	o.state_dir = ctx->state_dir;
	o.service = argv[optind];
	o.version = argv[optind + 1];
	{
		/* the requester is the same identity approvals are checked against
		 * (OS user, or $SLIPWAY_USER), so no one approves their own request */
		const char *identity = NULL;
		o.requested_by = records_caller(&identity);
	}
	o.log = stderr;
	o.progress_tty = wait && cli_stderr_is_tty();
	rc = local_deploy_run(&o, &res, &err);
	notify_config_release(&ncfg);
	cli_policy_release(&pol);
	if (rc < 0) {
		cli_error("%s", err.len ? err.buf : slipway_strerror(rc));
		strbuf_release(&err);
		return rc == SW_EUSAGE || rc == SW_ECONFIG || rc == SW_EPARSE || rc == SW_ENOTFOUND ? EXIT_USAGE
												       : EXIT_RUNTIME;
	}
	strbuf_release(&err);
	if (ctx->output == OUTPUT_JSON)
		cli_print_json(json_pack("{s:I, s:s, s:s, s:s, s:b}", "id", (json_int_t)res.id, "version", o.version,
					 "status", deployment_state_name(res.state), "reason", res.reason, "resumed", res.resumed));
	else
		printf("deployment #%lld of %s %s: %s: %s\n", (long long)res.id, o.service, o.version,
		       deployment_state_name(res.state), res.reason);
	if (res.state == DS_PAUSED || res.state == DS_PENDING)
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
		default: json_decref(a); return cli_usage_error(ctx, "deployments", "bad option or missing value (see above)");
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
