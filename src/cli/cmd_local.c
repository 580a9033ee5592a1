/*
 * cmd_local.c - the commands that run a service on this machine by hand:
 * start, stop, weight, down, instances (plumbing, as git has plumbing: the
 * deploy pipeline does the same steps under the engine's control), traffic
 * (the runbook's traffic-control.sh and maintenance-mode.sh), metrics
 * (the builtin provider, live) and cleanup (cleanup-old-versions.sh).
 */
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/vocab.h"
#include "server/documents.h"
#include "adapters/metrics_builtin.h"
#include "adapters/proc.h"
#include "base/alloc.h"
#include "base/err.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "controller/localstack.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char usage_start[] =
	"usage: slipway start SERVICE VERSION [--env ENV] [--weight PCT] [-o json]\n"
	"\n"
	"Start (or adopt) the instances of release VERSION of SERVICE in ENV (default\n"
	"production), wait until they are ready, start HAProxy if needed and add them\n"
	"as servers.  With --weight, give the revision PCT percent of traffic (100\n"
	"takes all; the other revisions share the rest in their proportions);\n"
	"without it a revision alone in the router gets 100.  Plumbing:\n"
	"'slipway deploy' does this under the rollout engine.\n";
const char usage_stop[] =
	"usage: slipway stop SERVICE VERSION [--env ENV]\n"
	"\n"
	"Drain VERSION's servers in HAProxy, remove them, then stop its instances\n"
	"(SIGTERM, SIGKILL after the service's stop grace).  The release is kept.\n";
const char usage_weight[] =
	"usage: slipway weight SERVICE VERSION=PCT [VERSION=PCT...] [--round] [--env ENV]\n"
	"\n"
	"Set the share of traffic of each listed revision, percent 0-100, through\n"
	"HAProxy's runtime API (no reload); revisions not listed get 0, and the\n"
	"listed shares add up to 100.  HAProxy weights are whole numbers up to 256\n"
	"per server, so not every share exists: one that cannot be met within 0.05\n"
	"percentage points is refused with the nearest achievable shares, or with\n"
	"--round set to those (docs/haproxy.md \"Shares\").  'slipway instances'\n"
	"shows the shares achieved.\n";
const char usage_down[] =
	"usage: slipway down SERVICE [--env ENV]\n"
	"\n"
	"Stop every instance of SERVICE in ENV and its HAProxy.\n";
const char usage_instances[] =
	"usage: slipway instances SERVICE [--env ENV] [-o json]\n"
	"\n"
	"List the instances slipway runs for SERVICE in ENV: revision, instance,\n"
	"port, pid, state, whether the process is alive, and each revision's share\n"
	"of traffic.\n";
const char usage_traffic[] =
	"usage: slipway traffic SERVICE --mode normal|read-only|maintenance [--message TEXT]\n"
	"                       [--env ENV] [-o json]\n"
	"       slipway traffic SERVICE [--env ENV] [-o json]\n"
	"\n"
	"Set the traffic mode at runtime (runbook: traffic-control.sh,\n"
	"maintenance-mode.sh): maintenance answers every request with 503 and TEXT;\n"
	"read-only refuses methods other than GET and HEAD with 405; normal serves\n"
	"all.  Without --mode, print the current mode.\n";
const char usage_metrics[] =
	"usage: slipway metrics SERVICE [--env ENV] [--window DURATION] [--watch] [-o json]\n"
	"       slipway metrics --receive [--for DURATION]\n"
	"\n"
	"Show, per revision, requests, throughput, error rate (5xx) and latency\n"
	"p50/p90/p99/max over the last DURATION (default 1m), measured from\n"
	"HAProxy's per-request log, and the log accounting: lines received,\n"
	"unparseable, lost.  --watch refreshes every second.\n"
	"--receive runs the log receiver in the foreground (the controller runs it\n"
	"while it deploys; use this when no controller runs).\n";
const char usage_cleanup[] =
	"usage: slipway cleanup SERVICE [--keep N] [-o json]\n"
	"\n"
	"Remove release directories of SERVICE beyond the newest N (default 2, as\n"
	"the runbook's cleanup-old-versions.sh --keep 2); a release with running\n"
	"instances is never removed.\n";

/* report err (released here: callers may return at once) and map rc to an exit code */
static int runtime_error(struct strbuf *err, int rc)
{
	cli_error("%s", err->len ? err->buf : slipway_strerror(rc));
	strbuf_release(err);
	return cli_exit(rc);
}

static int parse_pct(const char *s, double *out)
{
	char *end;
	double v;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || (*end && strcmp(end, "%")) || !(v >= 0 && v <= 100))
		return -1;
	*out = v;
	return 0;
}

static json_t *instance_json(const struct instance *in)
{
	return json_pack("{s:s, s:i, s:i, s:i, s:s, s:b, s:s}", "version", in->version, "instance", in->idx, "port",
			 in->port, "pid", (int)in->pid, "state", in->state, "alive", in->alive, "log", in->log_path);
}

int cmd_start(int argc, char **argv, struct cli_ctx *ctx)
{
	const char *env = "production", *weight_s = NULL;
	const struct cli_option opts[] = {
		CLI_STRING("env", 0, &env),
		CLI_STRING("weight", 0, &weight_s),
		CLI_OPTIONS_END,
	};
	struct strbuf err = STRBUF_INIT;
	struct localstack ls;
	struct instance_list l = { 0 };
	double weight = -1;
	char **args;
	int nargs, rc;

	if ((rc = cli_parse(ctx, argc, argv, opts, &args, &nargs)) != EXIT_OK)
		return rc;
	if (weight_s && parse_pct(weight_s, &weight) < 0)
		return cli_usage_error(ctx, "start", "--weight must be a percent 0-100, not '%s'", weight_s);
	if (!service_name_valid(args[1]))
		return cli_usage_error(ctx, "start", "'%s' is not a version name (1 to %d of A-Z a-z 0-9 . _ -)", args[1],
				       SERVICE_NAME_MAX);
	if ((rc = localstack_open(&ls, ctx->state_dir, NULL, args[0], env, 0, &err)) < 0)
		return runtime_error(&err, rc);
	rc = localstack_start_revision(&ls, args[1], weight, &l, &err);
	if (rc < 0) {
		rc = runtime_error(&err, rc);
		goto out;
	}
	if (ctx->output == OUTPUT_JSON) {
		json_t *a = json_array();
		for (size_t i = 0; i < l.n; i++) {
			l.v[i].alive = 1;
			json_array_append_new(a, instance_json(&l.v[i]));
		}
		json_t *j = cli_doc("RevisionStart");
		json_object_update_new(j, json_pack("{s:s, s:s, s:s, s:o, s:i}", "service", ls.svc.name, "env", ls.env,
						    "version", args[1], "instances", a, "haproxy_pid",
						    (int)router_haproxy_pid(&ls.router)));
		cli_print_json(j);
	} else {
		for (size_t i = 0; i < l.n; i++)
			printf("%s %s-%d port %d pid %d%s\n", ls.svc.name, l.v[i].version, l.v[i].idx, l.v[i].port,
			       (int)l.v[i].pid, l.v[i].adopted ? " (adopted)" : "");
	}
	rc = EXIT_OK;
out:
	instance_list_release(&l);
	localstack_close(&ls);
	strbuf_release(&err);
	return rc;
}

/* The options of stop, down, weight and instances: --env; the argument counts are the table's. */
static int simple_env_cmd(int argc, char **argv, struct cli_ctx *ctx, const char **env, char ***args, int *nargs)
{
	const struct cli_option opts[] = {
		CLI_STRING("env", 0, env),
		CLI_OPTIONS_END,
	};
	int rc;
	*env = "production";
	rc = cli_parse(ctx, argc, argv, opts, args, nargs);
	return rc == EXIT_OK ? -1 : rc;
}

static int stop_revision(struct localstack *ls, char **args, struct strbuf *err)
{
	return localstack_stop_revision(ls, args[1], err);
}

static int down_all(struct localstack *ls, char **args, struct strbuf *err)
{
	struct strbuf found = STRBUF_INIT;
	int rc = localstack_down(ls, &found, err);
	/* what the store had no record of, found in the state directory (docs/engine.md) */
	if (found.len)
		printf("%s in %s: stopped %s, which the store had no record of (found in the state directory '%s')\n",
			  ls->svc.name, ls->env, found.buf, ls->state_dir);
	strbuf_release(&found);
	return rc;
}

/* stop and down: open SERVICE's stack in --env, run op, close */
static int with_stack(int argc, char **argv, struct cli_ctx *ctx,
		      int (*op)(struct localstack *ls, char **args, struct strbuf *err))
{
	struct strbuf err = STRBUF_INIT;
	struct localstack ls;
	const char *env;
	char **args;
	int nargs, rc = simple_env_cmd(argc, argv, ctx, &env, &args, &nargs);
	if (rc >= 0)
		return rc;
	if ((rc = localstack_open(&ls, ctx->state_dir, NULL, args[0], env, 0, &err)) < 0)
		return runtime_error(&err, rc);
	rc = op(&ls, args, &err);
	rc = rc < 0 ? runtime_error(&err, rc) : EXIT_OK;
	localstack_close(&ls);
	strbuf_release(&err);
	return rc;
}

int cmd_stop(int argc, char **argv, struct cli_ctx *ctx)
{
	return with_stack(argc, argv, ctx, stop_revision);
}

int cmd_down(int argc, char **argv, struct cli_ctx *ctx)
{
	return with_stack(argc, argv, ctx, down_all);
}

int cmd_weight(int argc, char **argv, struct cli_ctx *ctx)
{
	struct strbuf err = STRBUF_INIT;
	struct localstack ls;
	struct revision_weight *w;
	size_t n = 0;
	const char *env = "production";
	char **args;
	int nargs, round = 0, rc;
	const struct cli_option opts[] = {
		CLI_STRING("env", 0, &env),
		CLI_FLAG("round", 0, &round),
		CLI_OPTIONS_END,
	};
	if ((rc = cli_parse(ctx, argc, argv, opts, &args, &nargs)) != EXIT_OK)
		return rc;
	w = xcalloc((size_t)nargs, sizeof(*w));
	for (int i = 1; i < nargs; i++) {
		char *eq = strchr(args[i], '=');
		if (!eq || eq == args[i] || (size_t)(eq - args[i]) > SERVICE_NAME_MAX || parse_pct(eq + 1, &w[n].weight) < 0) {
			free(w);
			return cli_usage_error(ctx, "weight", "expected VERSION=PCT (percent 0-100), not '%s'", args[i]);
		}
		memcpy(w[n].version, args[i], (size_t)(eq - args[i]));
		n++;
	}
	if ((rc = localstack_open(&ls, ctx->state_dir, NULL, args[0], env, 0, &err)) < 0) {
		free(w);
		return runtime_error(&err, rc);
	}
	rc = router_haproxy_set_shares(&ls.router, w, n, round, &err);
	if (rc == SW_EUSAGE && strstr(err.buf, "nearest achievable"))
		strbuf_addstr(&err, ": ask for those, or pass --round to use them");
	if (rc >= 0 && round) {
		/* say what was set: the shares achieved, which may differ from the ones asked */
		struct revision_weight *got = NULL;
		size_t ng = 0;
		if (router_haproxy_get_weights(&ls.router, &got, &ng, &err) == 0) {
			printf("shares set (rounded):");
			for (size_t i = 0; i < ng; i++)
				printf("%s %s %.2f%%", i ? "," : "", got[i].version, got[i].weight);
			printf("\n");
		}
		free(got);
	}
	rc = rc < 0 ? runtime_error(&err, rc) : EXIT_OK;
	free(w);
	localstack_close(&ls);
	strbuf_release(&err);
	return rc;
}

int cmd_instances(int argc, char **argv, struct cli_ctx *ctx)
{
	struct strbuf err = STRBUF_INIT;
	struct localstack ls;
	struct instance_list l = { 0 };
	struct revision_weight *w = NULL;
	size_t nw = 0;
	const char *env;
	char **args;
	int nargs, rc = simple_env_cmd(argc, argv, ctx, &env, &args, &nargs);
	if (rc >= 0)
		return rc;
	if ((rc = localstack_open(&ls, ctx->state_dir, NULL, args[0], env, LOCALSTACK_READONLY, &err)) < 0)
		return runtime_error(&err, rc);
	if ((rc = target_local_list(&ls.target, ls.svc.name, env, NULL, &l, &err)) < 0 ||
	    (rc = router_haproxy_get_weights(&ls.router, &w, &nw, &err)) < 0) {
		rc = runtime_error(&err, rc);
		goto out;
	}
	if (ctx->output == OUTPUT_JSON) {
		json_t *a = json_array(), *ws = json_object();
		for (size_t i = 0; i < l.n; i++)
			json_array_append_new(a, instance_json(&l.v[i]));
		for (size_t i = 0; i < nw; i++)
			json_object_set_new(ws, w[i].version, json_real(w[i].weight));
		json_t *j = cli_doc("InstanceList");
		json_object_update_new(j, json_pack("{s:s, s:s, s:i, s:o, s:o}", "service", ls.svc.name, "env", env,
						    "haproxy_pid", (int)router_haproxy_pid(&ls.router), "weights", ws,
						    "instances", a));
		cli_print_json(j);
	} else {
		printf("%-16s %-4s %-6s %-8s %-9s %s\n", "REVISION", "N", "PORT", "PID", "STATE", "WEIGHT");
		for (size_t i = 0; i < l.n; i++) {
			double wt = 0;
			for (size_t k = 0; k < nw; k++)
				if (!strcmp(w[k].version, l.v[i].version))
					wt = w[k].weight;
			printf("%-16s %-4d %-6d %-8d %-9s %.2f%%\n", l.v[i].version, l.v[i].idx, l.v[i].port, (int)l.v[i].pid,
			       l.v[i].alive ? l.v[i].state : "dead", wt);
		}
		printf("haproxy pid %d\n", (int)router_haproxy_pid(&ls.router));
	}
	rc = EXIT_OK;
out:
	free(w);
	instance_list_release(&l);
	localstack_close(&ls);
	strbuf_release(&err);
	return rc;
}

int cmd_traffic(int argc, char **argv, struct cli_ctx *ctx)
{
	const char *env = "production", *mode = NULL, *message = NULL;
	const struct cli_option opts[] = {
		CLI_STRING("env", 0, &env),
		CLI_STRING("mode", 0, &mode),
		CLI_STRING("message", 0, &message),
		CLI_OPTIONS_END,
	};
	struct strbuf err = STRBUF_INIT, msg = STRBUF_INIT;
	struct localstack ls;
	enum traffic_mode m = TRAFFIC_NORMAL;
	char **args;
	int nargs, rc;

	if ((rc = cli_parse(ctx, argc, argv, opts, &args, &nargs)) != EXIT_OK)
		return rc;
	if (mode && traffic_mode_parse(mode, &m) < 0)
		return cli_usage_error(ctx, "traffic", "unknown mode '%s'; valid: normal, read-only, maintenance", mode);
	if (message && !mode)
		return cli_usage_error(ctx, "traffic", "--message goes with --mode");
	if ((rc = localstack_open(&ls, ctx->state_dir, NULL, args[0], env, mode ? 0 : LOCALSTACK_READONLY, &err)) < 0)
		return runtime_error(&err, rc);
	if (mode) {
		int started;
		if ((rc = router_haproxy_up(&ls.router, &started, &err)) < 0 ||
		    (rc = router_haproxy_set_mode(&ls.router, m, message, &err)) < 0) {
			rc = runtime_error(&err, rc);
			goto out;
		}
	}
	if ((rc = router_haproxy_get_mode(&ls.router, &m, &msg, &err)) < 0) {
		rc = runtime_error(&err, rc);
		goto out;
	}
	if (ctx->output == OUTPUT_JSON)
	{
		cli_print_json(doc_traffic_mode(ls.svc.name, env, traffic_mode_name(m), msg.buf));
	}
	else if (m == TRAFFIC_MAINTENANCE)
		printf("%s %s: maintenance (503 \"%s\")\n", ls.svc.name, env, msg.buf);
	else
		printf("%s %s: %s\n", ls.svc.name, env, traffic_mode_name(m));
	rc = EXIT_OK;
out:
	localstack_close(&ls);
	strbuf_release(&err);
	strbuf_release(&msg);
	return rc;
}

static volatile sig_atomic_t got_signal;
static void on_signal(int sig) { got_signal = sig; }

static int metrics_receive(struct cli_ctx *ctx, int64_t for_ms)
{
	struct strbuf err = STRBUF_INIT;
	struct metrics_receiver *mr;
	struct sigaction sa = { 0 };
	int64_t until = for_ms > 0 ? proc_mono_ms() + for_ms : INT64_MAX;
	int rc = metrics_receiver_start(&mr, ctx->state_dir, &err);
	if (rc < 0)
		return runtime_error(&err, rc);
	if (rc == 0) {
		cli_error("another slipway (pid %d) already receives HAProxy's log in '%s'",
			  (int)metrics_receiver_pid(ctx->state_dir), ctx->state_dir);
		strbuf_release(&err);
		return EXIT_RUNTIME;
	}
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	cli_log(ctx, LOG_INFO, "receiving HAProxy's request log in '%s/log.stream'", ctx->state_dir);
	while (!got_signal && proc_mono_ms() < until)
		proc_sleep_ms(100);
	metrics_receiver_stop(mr);
	strbuf_release(&err);
	return EXIT_OK;
}

static void fmt_ms(char *buf, size_t n, double v)
{
	if (isnan(v))
		snprintf(buf, n, "-");
	else
		snprintf(buf, n, "%.0fms", v);
}

static int metrics_show(struct cli_ctx *ctx, const char *service, const char *env, int64_t window_ms, int watch)
{
	struct strbuf err = STRBUF_INIT;
	struct localstack ls;
	int rc;

	if ((rc = localstack_open(&ls, ctx->state_dir, NULL, service, env, LOCALSTACK_READONLY, &err)) < 0)
		return runtime_error(&err, rc);
	do {
		struct metrics_revision *revs = NULL;
		struct metrics_accounting acc;
		struct revision_weight *w = NULL;
		size_t nrevs = 0, nw = 0;
		int64_t now = proc_now_ms();
		pid_t rpid = metrics_receiver_pid(ctx->state_dir);
		/* the bucket being filled is not stored yet: end the window at the last full one */
		int64_t to = now / METRICS_BUCKET_MS * METRICS_BUCKET_MS, from = to - window_ms;
		double secs = (double)window_ms / 1000.0;

		if ((rc = metrics_builtin_report(&ls.st, service, env, from, to, &revs, &nrevs, &acc, &err)) < 0 ||
		    (rc = router_haproxy_get_weights(&ls.router, &w, &nw, &err)) < 0) {
			free(revs);
			rc = runtime_error(&err, rc);
			goto out;
		}
		if (ctx->output == OUTPUT_JSON) {
			cli_print_json(doc_metrics_report(service, env, window_ms, to, (int)rpid, revs, nrevs, w, nw, &acc));
		} else {
			char dur[DURATION_BUFSZ];
			if (watch && cli_stdout_is_tty())
				printf("\033[H\033[2J");
			printf("%s %s, last %s; receiver %s\n", service, env, duration_format(window_ms, dur),
			       rpid > 0 ? "running" : "NOT running (no new data: start a controller or 'slipway metrics --receive')");
			printf("%-16s %7s %9s %8s %8s %7s %7s %7s %7s %7s\n", "REVISION", "WEIGHT", "REQUESTS", "RPS", "ERRORS",
			       "ERR%", "P50", "P90", "P99", "MAX");
			for (size_t i = 0; i < nrevs; i++) {
				const struct metrics_sample *s = &revs[i].s;
				char p50[24], p90[24], p99[24], mx[24], wt[16] = "-";
				fmt_ms(p50, sizeof(p50), s->p50_ms);
				fmt_ms(p90, sizeof(p90), s->p90_ms);
				fmt_ms(p99, sizeof(p99), s->p99_ms);
				fmt_ms(mx, sizeof(mx), s->max_ms);
				for (size_t k = 0; k < nw; k++)
					if (!strcmp(w[k].version, revs[i].version))
						snprintf(wt, sizeof(wt), "%.1f%%", w[k].weight);
				printf("%-16s %7s %9llu %8.1f %8llu %6.2f%% %7s %7s %7s %7s\n",
				       !strcmp(revs[i].version, "-") ? "(haproxy)" : revs[i].version, wt,
				       (unsigned long long)s->requests, (double)s->requests / secs, (unsigned long long)s->errors,
				       s->requests ? 100.0 * (double)s->errors / (double)s->requests : 0.0, p50, p90, p99, mx);
			}
			printf("log lines: %llu received, %llu unparseable, %llu HAProxy notices; ",
			       (unsigned long long)acc.received, (unsigned long long)acc.unparseable,
			       (unsigned long long)acc.events);
			if (acc.updated_ms)
				printf("HAProxy counted %llu requests: %lld lost (DroppedLogs %llu)\n",
				       (unsigned long long)acc.haproxy_requests, (long long)acc.lost,
				       (unsigned long long)acc.haproxy_dropped);
			else
				printf("HAProxy's counters not read yet\n");
		}
		free(revs);
		free(w);
		fflush(stdout);
		if (watch)
			proc_sleep_ms(1000);
	} while (watch && !got_signal);
	rc = EXIT_OK;
out:
	localstack_close(&ls);
	strbuf_release(&err);
	return rc;
}

int cmd_metrics(int argc, char **argv, struct cli_ctx *ctx)
{
	const char *env = "production", *window_s = NULL, *for_s = NULL;
	int watch = 0, receive = 0;
	const struct cli_option opts[] = {
		CLI_STRING("env", 0, &env),
		CLI_STRING("window", 0, &window_s),
		CLI_FLAG("watch", 0, &watch),
		CLI_FLAG("receive", 0, &receive),
		CLI_STRING("for", 0, &for_s),
		CLI_OPTIONS_END,
	};
	struct strbuf e = STRBUF_INIT;
	int64_t window = 60000, for_ms = 0;
	char **args;
	int nargs, rc;

	if ((rc = cli_parse(ctx, argc, argv, opts, &args, &nargs)) != EXIT_OK)
		return rc;
	if ((window_s && (duration_parse(window_s, &window, &e) < 0 || window < METRICS_BUCKET_MS)) ||
	    (for_s && duration_parse(for_s, &for_ms, &e) < 0)) {
		strbuf_release(&e);
		return cli_usage_error(ctx, "metrics", "'%s' is not a duration such as 30s, 1m or 5m",
				       window_s ? window_s : for_s);
	}
	if (receive) {
		if (nargs != 0)
			return cli_usage_error(ctx, "metrics", "--receive takes no SERVICE");
		return metrics_receive(ctx, for_ms);
	}
	if (nargs != 1)
		return cli_usage_error(ctx, "metrics", "expected SERVICE");
	return metrics_show(ctx, args[0], env, window, watch);
}

int cmd_cleanup(int argc, char **argv, struct cli_ctx *ctx)
{
	const char *keep_s = NULL;
	const struct cli_option opts[] = {
		CLI_STRING("keep", 0, &keep_s),
		CLI_OPTIONS_END,
	};
	struct strbuf err = STRBUF_INIT, removed = STRBUF_INIT;
	struct service svc = { 0 };
	struct store *st;
	struct target_local t = { 0 };
	long keep = 2;
	char **args;
	int nargs, rc;
	char *end;

	if ((rc = cli_parse(ctx, argc, argv, opts, &args, &nargs)) != EXIT_OK)
		return rc;
	if (keep_s) {
		errno = 0;
		keep = strtol(keep_s, &end, 10);
		if (errno || *end || end == keep_s || keep < 1 || keep > 1000)
			return cli_usage_error(ctx, "cleanup", "--keep must be a number from 1 to 1000, not '%s'", keep_s);
	}
	if ((rc = service_load(&svc, ctx->project_dir, args[0], &err)) < 0)
		return runtime_error(&err, rc);
	if ((rc = cli_store(ctx, &st)) != EXIT_OK) {
		service_release(&svc);
		strbuf_release(&err);
		return rc;
	}
	if ((rc = target_local_init(&t, st, ctx->state_dir, ctx->project_dir, &err)) < 0 ||
	    (rc = target_local_cleanup(&t, &svc, (int)keep, &removed, &err)) < 0) {
		rc = runtime_error(&err, rc);
		goto out;
	}
	if (ctx->output == OUTPUT_JSON) {
		json_t *a = json_array();
		char *save = NULL;
		for (char *l = strtok_r(removed.buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
			json_array_append_new(a, json_string(l));
		json_t *j = cli_doc("Cleanup");
		json_object_update_new(j, json_pack("{s:s, s:i, s:o}", "service", svc.name, "keep", (int)keep, "removed", a));
		cli_print_json(j);
	} else if (!removed.len) {
		printf("%s: nothing to remove (keeping the newest %ld releases)\n", svc.name, keep);
	} else {
		char *save = NULL;
		for (char *l = strtok_r(removed.buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
			printf("removed release %s of %s\n", l, svc.name);
	}
	rc = EXIT_OK;
out:
	target_local_release(&t);
	service_release(&svc);
	strbuf_release(&err);
	strbuf_release(&removed);
	return rc;
}
