/*
 * cmd_deploy.c - `slipway deploy` on this machine (docs/services.md) and
 * `slipway deployments`, a plain listing of the deployment records.
 */
#include "cli/cli.h"
#include "cli/api_client.h"
#include "cli/watch.h"
#include "cli/commands.h"
#include "cli/cli_policy.h"
#include "cli/records_util.h"
#include "cli/vocab.h"
#include "adapters/records.h"
#include "adapters/dora_store.h"
#include "adapters/emergency.h"
#include "adapters/notify_config.h"
#include "adapters/deployment_store.h"
#include "adapters/lease.h"
#include "adapters/proc.h"
#include "adapters/store.h"
#include "base/err.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "controller/local_deploy.h"
#include "core/deployment.h"
#include "core/service.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
	"to resume it.  --wait shows progress on a terminal.  --time-scale N makes\n"
	"holds, analysis intervals, deadlines and monitoring N times shorter (60: a\n"
	"minute per second); windows, freezes, approvals, incidents and every\n"
	"recorded time stay on the wall clock, and the record says it was scaled.\n"
	"A resumed deployment keeps the scale it started with.\n"
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
	"at the gate, or paused: run deploy again after approve, resume or promote).\n"
	"\n"
	"With a 'slipway serve' running on the store (it holds the controller lease,\n"
	"docs/serve.md), deploy only records the deployment for it and exits 0 at once;\n"
	"with --wait it follows the deployment to its end with the exit codes above,\n"
	"and drives it in this process if that controller stops meanwhile.  It follows\n"
	"the controller's event stream on the local socket (<state dir>/serve.sock):\n"
	"each transition as it happens, with step, weight and time left (as 'slipway\n"
	"status --watch'; with -o json those lines are NDJSON on stderr).\n";

const char usage_deployments[] =
	"usage: slipway deployments SERVICE [--env ENV] [-o json]\n"
	"\n"
	"List the deployment records of SERVICE, newest first: id, revision,\n"
	"version, type, state, reason.  (`slipway history` is the full record.)\n";

/*
 * Does a `slipway serve` hold the store's controller lease now?  1 (*holder
 * filled), 0 (none: deploy runs in this process), or < 0 after printing
 * the store's error.
 */
static int controller_running(struct cli_ctx *ctx, struct lease *holder)
{
	struct store *st;
	struct strbuf err = STRBUF_INIT, path = STRBUF_INIT;
	int r;

	/* no store yet: no controller either, and a deploy refused later leaves nothing behind */
	strbuf_addf(&path, "%s/slipway.db", ctx->state_dir);
	r = access(path.buf, F_OK);
	strbuf_release(&path);
	if (r < 0 && !store_in_env())
		return 0;
	if (cli_store(ctx, &st) != EXIT_OK)
		return -1;
	if ((r = lease_read(st, holder, &err)) < 0) {
		cli_error("%s", err.buf);
		strbuf_release(&err);
		return -1;
	}
	strbuf_release(&err);
	return r == 1 && lease_live(holder, proc_now_ms());
}

static volatile sig_atomic_t follow_stop;
#define FOLLOW_SAY_MS 30000	/* deploy --wait: "still ..." when nothing changed for this long */

static void on_follow_stop(int sig)
{
	(void)sig;
	follow_stop = 1;
}

/*
 * deploy --wait beside a controller: follow the deployment in the store
 * (every 250 ms), say each change of state or step, and end as the
 * in-process deploy does (final, paused, or pending at the gate for a
 * person).  If the controller stops holding the lease meanwhile (it was
 * stopped, or died and no other took over), drive the deployment here.
 * Ctrl-C stops following; the controller goes on.  0, or < 0 with err.
 */
static int follow(struct cli_ctx *ctx, struct local_deploy_opts *o, struct local_deploy_result *res,
		  struct strbuf *err)
{
	struct store *st;
	struct deployment d;
	struct sigaction sa, old_int, old_term;
	enum deploy_state last_state = DS_COUNT;
	int last_step = -1, rc = 0;
	int64_t lease_checked = 0, last_said = 0, changed = 0;

	if (cli_store(ctx, &st) != EXIT_OK)
		return SW_ESTORE;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_follow_stop;
	sigemptyset(&sa.sa_mask);
	follow_stop = 0;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	for (;;) {
		int64_t mono = proc_mono_ms();
		if ((rc = deployment_store_load(st, res->id, &d, NULL, err)) < 0)
			break;
		if (d.state != last_state || d.step != last_step) {
			fprintf(o->log, "%s (step %d, weight %.0f%%): %s\n", deployment_state_name(d.state), d.step, d.weight,
				d.reason);
			fflush(o->log);
			last_state = d.state;
			last_step = d.step;
			last_said = changed = mono;
		} else if (mono - last_said >= FOLLOW_SAY_MS) {
			/* a long step or monitoring period: say it is still going */
			fprintf(o->log, "still %s (step %d, weight %.0f%%) after %llds; the controller drives it\n",
				deployment_state_name(d.state), d.step, d.weight, (long long)((mono - changed) / 1000));
			fflush(o->log);
			last_said = mono;
		}
		res->state = d.state;
		snprintf(res->reason, sizeof(res->reason), "%s", d.reason);
		if (deployment_state_is_final(d.state))
			break;
		if (d.state == DS_PAUSED || (d.state == DS_PENDING && !strncmp(d.reason, "waiting: ", 9))) {
			/* waiting for a person, as the in-process deploy says; the controller keeps it */
			fprintf(o->log, "%s: the controller keeps it; run 'slipway %s %lld' (or approve) and it goes on; "
				"'slipway abort %lld' to stop it\n", deployment_state_name(d.state),
				d.state == DS_PAUSED ? "resume" : "status", (long long)d.id, (long long)d.id);
			fflush(o->log);
			res->waiting = 1;
			break;
		}
		if (follow_stop) {
			fprintf(o->log, "stopped following deployment %lld; the controller drives it on\n", (long long)d.id);
			fflush(o->log);
			res->interrupted = 1;
			break;
		}
		if (mono - lease_checked >= 1000) {
			struct lease l;
			struct strbuf e = STRBUF_INIT;
			lease_checked = mono;
			if (lease_read(st, &l, &e) >= 0 && !lease_live(&l, proc_now_ms())) {
				/* nobody drives it any more: this process does, as without a controller */
				fprintf(o->log, "no controller holds the store's lease any more; driving deployment %lld "
					"in this process\n", (long long)d.id);
				fflush(o->log);
				strbuf_release(&e);
				sigaction(SIGINT, &old_int, NULL);
				sigaction(SIGTERM, &old_term, NULL);
				o->record_only = 0;
				return local_deploy_run(o, res, err);
			}
			strbuf_release(&e);
		}
		proc_sleep_ms(250);
	}
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	return rc;
}

/*
 * deploy's record made by the controller over the local socket (POST
 * /api/v1/deployments): res as local_deploy_run() with record_only sets
 * it.  0; < 0 with err when no answer came; 1 when the
 * controller refused it (the error is printed, res->state is the exit code).
 */
static int record_over_socket(struct cli_api *api, const struct local_deploy_opts *o, struct local_deploy_result *res,
			      struct strbuf *err)
{
	json_t *body = json_pack("{s:s, s:s, s:s, s:s, s:f}", "service", o->service, "version", o->version, "type",
				 o->type, "env", o->env, "time_scale", o->time_scale);
	json_t *doc = NULL;
	long status = 0;
	int r;

	if (o->change_class)
		json_object_set_new(body, "class", json_string(o->change_class));
	if (o->emergency_reason)
		json_object_set_new(body, "reason", json_string(o->emergency_reason));
	if (o->commit_sha) {
		char at[RFC3339_BUFSZ];
		json_object_set_new(body, "commit_sha", json_string(o->commit_sha));
		json_object_set_new(body, "commit_time", json_string(time_format_rfc3339(o->commit_time_ms, at)));
	}
	memset(res, 0, sizeof(*res));
	r = cli_api_call(api, "POST", "deployments", body, &status, &doc, err);
	cli_api_close(api);
	json_decref(body);
	if (r < 0)
		return r;
	if (status != 200 && status != 201) {
		res->state = cli_api_problem(status, doc);
		json_decref(doc);
		return 1;
	}
	res->id = json_integer_value(json_object_get(doc, "id"));
	if (deployment_state_parse(json_string_value(json_object_get(doc, "state")) ?
				   json_string_value(json_object_get(doc, "state")) : "", &res->state) < 0)
		res->state = DS_PENDING;
	snprintf(res->reason, sizeof(res->reason), "%s", json_string_value(json_object_get(doc, "reason")) ?
		 json_string_value(json_object_get(doc, "reason")) : "");
	res->resumed = json_is_true(json_object_get(doc, "resumed"));
	res->recorded = 1;
	json_decref(doc);
	return 0;
}

/*
 * deploy --wait beside a controller that answers on the local socket:
 * follow its event stream (watch.h), printing each transition with step,
 * weight and time left.  When the stream ends before the deployment (the
 * controller stopped), follow() takes over: the store, and driving the
 * deployment here if no controller holds the lease any more.
 */
static int follow_live(struct cli_ctx *ctx, struct local_deploy_opts *o, struct local_deploy_result *res,
		       struct strbuf *err)
{
	struct watch_result wr;
	struct cli_api probe;
	int rc;

	if (cli_api_open(ctx, &probe) != 1)
		return follow(ctx, o, res, err);
	cli_api_close(&probe);
	memset(&wr, 0, sizeof(wr));
	if ((rc = watch_follow(ctx, res->id, 1, o->log, &wr, err)) < 0)
		return rc;
	if (wr.lost)
		return follow(ctx, o, res, err);
	res->state = wr.state;
	snprintf(res->reason, sizeof(res->reason), "%s", wr.reason);
	res->interrupted = wr.interrupted;
	res->waiting = wr.waiting;
	if (wr.interrupted)
		fprintf(o->log, "stopped following deployment %lld; the controller drives it on\n", (long long)res->id);
	else if (wr.waiting)
		fprintf(o->log, "%s: the controller keeps it; run 'slipway %s %lld' (or approve) and it goes on; "
			"'slipway abort %lld' to stop it\n", deployment_state_name(wr.state),
			wr.state == DS_PAUSED ? "resume" : "status", (long long)res->id, (long long)res->id);
	fflush(o->log);
	return 0;
}

int cmd_deploy(int argc, char **argv, struct cli_ctx *ctx)
{
	struct local_deploy_opts o = { 0 };
	const char *repo = NULL, *commit_time = NULL, *scale = NULL;
	int wait = 0;
	const struct cli_option opts[] = {
		CLI_STRING("type", 0, &o.type),
		CLI_STRING("env", 0, &o.env),
		CLI_FLAG("wait", 0, &wait),
		CLI_STRING("time-scale", 0, &scale),
		CLI_STRING("class", 0, &o.change_class),
		CLI_STRING("reason", 0, &o.emergency_reason),
		CLI_STRING("commit", 0, &o.commit_sha),
		CLI_STRING("commit-time", 0, &commit_time),
		CLI_STRING("repo", 0, &repo),
		CLI_OPTIONS_END,
	};
	struct strbuf err = STRBUF_INIT;
	char **args;
	int nargs, rc;
	char *end;

	o.type = "standard";
	o.env = "production";
	o.time_scale = 1;
	if ((rc = cli_parse(ctx, argc, argv, opts, &args, &nargs)) != EXIT_OK)
		return rc;
	if (scale) {
		errno = 0;
		o.time_scale = strtod(scale, &end);
		if (errno || *end || end == scale || !(o.time_scale >= 1 && o.time_scale <= 3600))
			return cli_usage_error(ctx, "deploy", "--time-scale must be a number from 1 to 3600, not '%s'", scale);
	}
	if (!service_name_valid(args[0]))
		return cli_usage_error(ctx, "deploy", "'%s' is not a service name (1 to %d of A-Z a-z 0-9 . _ -)",
				       args[0], SERVICE_NAME_MAX);
	if (!service_name_valid(args[1]))
		return cli_usage_error(ctx, "deploy", "'%s' is not a version name (1 to %d of A-Z a-z 0-9 . _ -)",
				       args[1], SERVICE_NAME_MAX);
	if (!service_name_valid(o.env))
		return cli_usage_error(ctx, "deploy", "--env '%s' is not an environment name (1 to %d of A-Z a-z 0-9 . _ -)",
				       o.env, SERVICE_NAME_MAX);
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
		const char *r = repo ? repo : ctx->project_dir;
		if (commit_time_resolve(r, o.commit_sha, &o.commit_time_ms, &err) < 0) {
			cli_error("--commit %s: %s; give --repo DIR or --commit-time TIME", o.commit_sha, err.buf);
			strbuf_release(&err);
			return EXIT_USAGE;
		}
	}
	o.service = args[0];
	o.version = args[1];
	return cli_deploy_with(ctx, &o, wait, "deploy");
}

/*
 * The part of `deploy` after its arguments, shared with `rollout flag`
 * (cmd_rollout_flag.c): the policy, the notifications, in-process or beside
 * a controller, the output and the exit code.  cmd names the command in
 * usage errors.
 */
int cli_deploy_with(struct cli_ctx *ctx, struct local_deploy_opts *o, int wait, const char *cmd)
{
	struct policy_file pol;
	struct notify_config ncfg;
	struct local_deploy_result res;
	struct lease holder;
	struct strbuf err = STRBUF_INIT;
	int rc;

	/* the gate's rules, the type's rules and the messages' channels */
	if ((rc = cli_policy_load(ctx->policy_path, &pol)) != EXIT_OK)
		return rc;
	if (!policy_find_type(&pol.p, o->type)) {
		struct type_rules unused;
		policy_type_rules(&pol.p, o->type, &unused, &err);
		cli_usage_error(ctx, cmd, "%s", err.buf);
		strbuf_release(&err);
		cli_policy_release(&pol);
		return EXIT_USAGE;
	}
	if (o->change_class && !policy_find_class(&pol.p, o->change_class)) {
		cli_usage_error(ctx, cmd, "unknown change class '%s'; see 'slipway policy show'", o->change_class);
		cli_policy_release(&pol);
		return EXIT_USAGE;
	}
	if (records_notify_config(ctx, &ncfg) < 0) {
		cli_policy_release(&pol);
		return EXIT_USAGE;
	}
	o->policy = &pol.p;
	o->zone = &pol.tz.zone;
	o->notify = &ncfg;
	o->state_dir = ctx->state_dir;
	o->project_dir = ctx->project_dir;
	/* the requester is the same identity approvals are checked against
	 * (cli_caller()), so no one approves their own request */
	o->requested_by = cli_caller(NULL);
	/* the controller's lines, each with a time and a level (--log-format, -q, -v) */
	o->log = cli_log_stream(ctx);
	if (!o->log)
		o->log = stderr;
	o->progress_tty = wait && cli_stderr_is_tty() && ctx->log_format == LOG_FORMAT_TEXT;
	/* a `slipway serve` holds the store's lease: it drives the deployment (docs/serve.md) */
	if ((rc = controller_running(ctx, &holder)) < 0) {
		if (o->log != stderr)
			fclose(o->log);
		notify_config_release(&ncfg);
		cli_policy_release(&pol);
		return EXIT_RUNTIME;
	}
	o->record_only = rc;
	{
		/* beside a controller answering on the local socket, it records the deployment, as the OS
		 * user it authenticated (docs/serve.md "The local socket"); else this process does */
		struct cli_api api;
		int beside = 0;
		if (o->record_only && !o->flag_strategy && cli_api_for_person(ctx, &api, &beside) == 1) {
			rc = record_over_socket(&api, o, &res, &err);
			if (rc == 1) {	/* a problem answer, printed */
				if (o->log != stderr)
					fclose(o->log);
				notify_config_release(&ncfg);
				cli_policy_release(&pol);
				return res.state;	/* the exit code */
			}
		} else {
			rc = local_deploy_run(o, &res, &err);
		}
	}
	if (rc >= 0 && res.recorded) {
		char who[400];
		lease_describe(&holder, who, sizeof(who));
		if (wait)
			fprintf(o->log, "deployment #%lld of %s %s recorded (%s): the controller %s drives it; following it\n",
				(long long)res.id, o->service, o->version, deployment_state_name(res.state), who);
		else
			fprintf(o->log, "deployment #%lld of %s %s recorded (%s): the controller %s drives it; follow it with "
				"'slipway status %lld' or 'slipway deploy %s %s --wait'\n", (long long)res.id, o->service,
				o->version, deployment_state_name(res.state), who, (long long)res.id, o->service, o->version);
		fflush(o->log);
		if (wait)
			rc = follow_live(ctx, o, &res, &err);
	}
	if (o->log != stderr)
		fclose(o->log);
	notify_config_release(&ncfg);
	cli_policy_release(&pol);
	if (rc < 0) {
		cli_error("%s", err.len ? err.buf : slipway_strerror(rc));
		strbuf_release(&err);
		return cli_exit(rc);
	}
	strbuf_release(&err);
	if (ctx->output == OUTPUT_JSON) {
		/* the Deployment document, as stored, and whether this run resumed it */
		struct deployment_record d = { 0 };
		struct store *st;
		json_t *j = cli_doc("Deployment"), *dj;
		if ((rc = cli_store(ctx, &st)) != EXIT_OK)
			return rc;
		if ((rc = records_get(st, res.id, &d, &err)) < 0) {
			cli_error("%s", err.buf);
			strbuf_release(&err);
			json_decref(j);
			return cli_exit(rc);
		}
		dj = cli_deployment_json(&d);
		json_object_update_new(j, dj);
		json_object_set_new(j, "resumed", json_boolean(res.resumed));
		json_object_set_new(j, "recorded_for_controller", json_boolean(res.recorded));
		deployment_record_release(&d);
		cli_print_json(j);
	} else
		printf("deployment #%lld of %s %s: %s: %s\n", (long long)res.id, o->service, o->version,
		       deployment_state_name(res.state), res.reason);
	if (res.interrupted)
		return EXIT_INTERRUPTED;
	if (res.recorded && !deployment_state_is_final(res.state) && !res.waiting)
		return EXIT_OK;	/* handed to the controller */
	if (res.state == DS_PAUSED || res.state == DS_PENDING)
		return EXIT_WAITING;
	return res.state == DS_SUCCEEDED ? EXIT_OK : EXIT_NO;
}


int cmd_deployments(int argc, char **argv, struct cli_ctx *ctx)
{
	const char *env = "production";
	const struct cli_option opts[] = {
		CLI_STRING("env", 0, &env),
		CLI_OPTIONS_END,
	};
	struct strbuf err = STRBUF_INIT;
	struct store *st;
	struct deployment_record *v = NULL;
	size_t n = 0;
	char **args;
	int nargs, rc, r;

	if ((rc = cli_parse(ctx, argc, argv, opts, &args, &nargs)) != EXIT_OK)
		return rc;
	if ((rc = cli_store(ctx, &st)) != EXIT_OK)
		return rc;
	if ((r = records_list(st, args[0], env, 0, &v, &n, &err)) < 0) {
		cli_error("%s", err.buf);
		strbuf_release(&err);
		return cli_exit(r);
	}
	if (ctx->output == OUTPUT_JSON) {
		json_t *a = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(a, cli_deployment_json(&v[i]));
		cli_print_json(cli_list_doc("DeploymentList", a));
	} else {
		printf("%-4s %-4s %-10s %-10s %-10s %-12s %s\n", "ID", "REV", "VERSION", "FROM", "TYPE", "STATE", "REASON");
		for (size_t i = 0; i < n; i++)
			printf("%-4lld %-4lld %-10s %-10s %-10s %-12s %s\n", (long long)v[i].id, (long long)v[i].revision,
			       v[i].version, v[i].from_version && *v[i].from_version ? v[i].from_version : "-", v[i].type,
			       v[i].state, v[i].reason ? v[i].reason : "");
	}
	deployment_records_free(v, n);
	strbuf_release(&err);
	return EXIT_OK;
}
