/*
 * cmd_pack.c - `slipway pack deploy PACK VERSION --env staging|production`
 * and `slipway pack status PACK [VERSION]`: the runbook's agent-pack
 * procedure (docs/flags.md "Agent packs").  Each stage is one of slipway's
 * own commands, run as a child process of this binary exactly as a person
 * would type it (so each keeps its own records, audit entries, gate and
 * exit codes), or the pack's tests command; its end is recorded in the
 * store (adapters/pack_store.h) before the next one starts:
 *
 *   staging:     disable  the flag off in staging
 *                deploy   slipway deploy SERVICE VERSION --env staging
 *                enable   the flag on for everyone in staging
 *                tests    the pack's tests command (/bin/sh -c, in the project)
 * (Deployed dark in both: a release's canary judges the service's code, the
 * pack is judged by its tests, then by its own guarded rollout.)
 *   production:  (refused unless VERSION's tests passed in staging)
 *                disable  the flag kill-switched at 0% in production
 *                deploy   slipway deploy SERVICE VERSION --env production
 *                enable   the flag on for the segment, kill switch off
 *                rollout  slipway rollout flag FLAG --segment SEGMENT ...
 *
 * A stage that passed is not run again for the same pack, version and
 * environment; one that failed, or waits on a person (exit 4: approvals, a
 * window), runs again when the command does.  A stage runs only when the
 * one before it passed, in this run or an earlier one.
 */
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/vocab.h"
#include "adapters/pack_store.h"
#include "adapters/proc.h"
#include "adapters/store.h"
#include "base/err.h"
#include "base/strbuf.h"
#include "core/pack_file.h"
#include "core/service.h"

#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

const char usage_pack[] =
	"usage: slipway pack deploy PACK VERSION --env staging|production [--file FILE]\n"
	"                           [--time-scale N] [-o json]\n"
	"       slipway pack status PACK [VERSION] [-o json]\n"
	"\n"
	"Ship agent pack PACK at VERSION the way the runbook does.  The pack is\n"
	"defined in packs/PACK.yaml (or --file): the service that ships it, its tests\n"
	"command, its flag (agent:PACK:enabled), the segment (canary-users) and the\n"
	"rollout's steps and interval (docs/flags.md \"Agent packs\").\n"
	"--env staging: turn the flag off there, deploy VERSION of the service to\n"
	"staging, turn the flag on, run the pack's tests.  --env production, once those tests passed:\n"
	"turn the flag off, deploy VERSION to production, enable the flag for the\n"
	"segment, then the guarded rollout (slipway rollout flag), which turns the\n"
	"flag back to the segment by itself on a regression.  Every stage is\n"
	"recorded and audited; a stage that passed is skipped when the command runs\n"
	"again, and none runs before the one it follows has passed.  --time-scale\n"
	"is passed to deploy and rollout.  'pack status' lists the recorded stages.\n"
	"Exit 0 every stage passed, 1 a stage failed or is refused (production\n"
	"before staging's tests), 2 bad usage or pack file, 3 the store, 4 a stage\n"
	"waits on a person (approvals, a window): run the same command again; 130\n"
	"SIGINT or SIGTERM, passed on to the stage's command (recorded as\n"
	"interrupted).\n";

struct run {
	struct cli_ctx *ctx;
	struct store *st;
	struct pack_def *d;
	const char *version, *env, *scale;
	json_t *stages;		/* the JSON document's stages */
	char self[4096];	/* this binary */
};

/* SIGINT or SIGTERM received while a stage's command ran: passed on to the command's process
 * group (its own, so a terminal's ^C does not reach it), which ends as it would alone (`deploy`
 * after its tick, exit 130); the stage is then recorded as interrupted and pack exits 130. */
static volatile sig_atomic_t stop_sig;

static void on_stop(int sig)
{
	stop_sig = sig;
}

/* Wait for pid, killing its process group after timeout_ms (0: never); the exit code, 128+N for a signal. */
static int wait_child(pid_t pid, int64_t timeout_ms, int *timed_out)
{
	int64_t until = timeout_ms > 0 ? proc_mono_ms() + timeout_ms : 0;
	int status = 0, passed_on = 0;
	*timed_out = 0;
	for (;;) {
		pid_t r = waitpid(pid, &status, until ? WNOHANG : 0);
		if (r == pid)
			break;
		if (stop_sig && !passed_on) {
			kill(-pid, SIGTERM);
			passed_on = 1;
		}
		if (r < 0 && errno != EINTR)
			return 127;
		if (until && r == 0) {
			if (proc_mono_ms() >= until) {
				*timed_out = 1;
				kill(-pid, SIGKILL);
				until = 0;
				continue;
			}
			proc_sleep_ms(100);
		}
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

/* Run argv (argv[0] a path) with stdout onto our stderr, in its own process group; its exit code, or -1. */
static int run_child(char *const argv[], const char *cwd, int64_t timeout_ms, int *timed_out, struct strbuf *err)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	pid_t pid;
	int r;
	char old[4096];

	*timed_out = 0;
	if (cwd && !getcwd(old, sizeof(old))) {
		strbuf_errf(err, "cannot read the working directory: %s", strerror(errno));
		return -1;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, STDERR_FILENO, STDOUT_FILENO);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
	posix_spawnattr_setpgroup(&attr, 0);
	if (cwd && chdir(cwd) < 0) {
		strbuf_errf(err, "cannot enter '%s': %s", cwd, strerror(errno));
		r = -1;
		goto out;
	}
	r = posix_spawn(&pid, argv[0], &fa, &attr, argv, environ);
	if (cwd && chdir(old) < 0)
		r = r ? r : errno;
	if (r) {
		strbuf_errf(err, "cannot run '%s': %s", argv[0], strerror(r));
		r = -1;
		goto out;
	}
	{
		struct sigaction sa, old_int, old_term;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_stop;	/* no SA_RESTART: waitpid returns EINTR */
		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, &old_int);
		sigaction(SIGTERM, &sa, &old_term);
		r = wait_child(pid, timeout_ms, timed_out);
		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGTERM, &old_term, NULL);
	}
out:
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	return r;
}

/* Record stage's end and add it to the document; returns the exit code the command ends with (EXIT_OK to go on). */
static int stage_end(struct run *u, const char *stage, int code, const char *detail)
{
	struct strbuf err = STRBUF_INIT, why = STRBUF_INIT;
	const char *status;
	if (stop_sig) {	/* the command was stopped by the signal passed on: not a verdict on the pack */
		strbuf_addf(&why, "%s%sinterrupted by %s (passed on to the stage's command); run the same command "
			    "again to go on", detail, *detail ? "; " : "", stop_sig == SIGINT ? "SIGINT" : "SIGTERM");
		detail = why.buf;
		code = EXIT_INTERRUPTED;
	}
	status = code == EXIT_OK ? PACK_PASSED : code == EXIT_WAITING ? PACK_WAITING : PACK_FAILED;
	int r = pack_store_record(u->st, u->d->name, u->version, u->env, stage, status, code, detail, cli_caller(NULL),
				  proc_now_ms(), &err);
	json_array_append_new(u->stages, json_pack("{s:s, s:s, s:i, s:s}", "stage", stage, "status", status, "exit", code,
						   "detail", detail));
	fprintf(stderr, "pack %s %s %s: %s %s%s%s\n", u->d->name, u->version, u->env, stage, status,
		*detail ? ": " : "", detail);
	strbuf_release(&why);
	if (r < 0) {
		cli_error("%s", err.buf);
		strbuf_release(&err);
		return EXIT_RUNTIME;
	}
	strbuf_release(&err);
	if (code == EXIT_INTERRUPTED)
		return EXIT_INTERRUPTED;
	return code == EXIT_OK ? EXIT_OK : code == EXIT_WAITING ? EXIT_WAITING : EXIT_NO;
}

/* Whether stage already passed (then it is listed as skipped); <0 on a store error. */
static int passed_before(struct run *u, const char *stage)
{
	struct strbuf err = STRBUF_INIT;
	const char *status;
	if (pack_store_last(u->st, u->d->name, u->version, u->env, stage, &status, &err) < 0) {
		cli_error("%s", err.buf);
		strbuf_release(&err);
		return -1;
	}
	if (status && !strcmp(status, PACK_PASSED)) {
		json_array_append_new(u->stages, json_pack("{s:s, s:s, s:i, s:s}", "stage", stage, "status", "skipped",
							   "exit", 0, "detail", "passed before"));
		fprintf(stderr, "pack %s %s %s: %s passed before, skipped\n", u->d->name, u->version, u->env, stage);
		return 1;
	}
	return 0;
}

/* Run slipway with args (NULL-terminated, without the program) as one stage step; its exit code. */
static int slipway(struct run *u, struct strbuf *cmdline, const char *const *args)
{
	char *argv[32];
	struct strbuf err = STRBUF_INIT;
	int n = 0, timed_out, code;
	argv[n++] = u->self;
	strbuf_addstr(cmdline, "slipway");
	for (const char *const *a = args; *a && n < 30; a++) {
		argv[n++] = (char *)*a;
		strbuf_addf(cmdline, " %s", *a);
	}
	argv[n] = NULL;
	fprintf(stderr, "+ %s\n", cmdline->buf);
	code = run_child(argv, NULL, 0, &timed_out, &err);
	if (code < 0) {
		cli_error("%s", err.buf);
		code = EXIT_RUNTIME;
	}
	strbuf_release(&err);
	return code;
}

/* One stage made of slipway commands run in turn (each NULL-terminated list; a NULL list ends). */
static int stage(struct run *u, const char *name, const char *const *const *cmds)
{
	struct strbuf line = STRBUF_INIT, detail = STRBUF_INIT;
	int code = EXIT_OK, p = passed_before(u, name);
	if (p)
		return p < 0 ? EXIT_RUNTIME : EXIT_OK;
	for (size_t i = 0; cmds[i] && code == EXIT_OK; i++) {
		strbuf_reset(&line);
		code = slipway(u, &line, cmds[i]);
		if (code != EXIT_OK)
			strbuf_addf(&detail, "'%s' exited %d", line.buf, code);
	}
	code = stage_end(u, name, code, detail.buf);
	strbuf_release(&line);
	strbuf_release(&detail);
	return code;
}

static int flag_exists(struct run *u, const char *env)
{
	const char *args[] = { "flag", "get", u->d->flag, "--env", env, NULL };
	struct strbuf line = STRBUF_INIT;
	int code = slipway(u, &line, args);
	strbuf_release(&line);
	return code == EXIT_OK;
}

static int tests_stage(struct run *u)
{
	struct strbuf detail = STRBUF_INIT, err = STRBUF_INIT;
	char *argv[] = { (char *)"/bin/sh", (char *)"-c", u->d->tests, NULL };
	int timed_out = 0, code, p = passed_before(u, "tests");
	if (p)
		return p < 0 ? EXIT_RUNTIME : EXIT_OK;
	setenv("PACK", u->d->name, 1);
	setenv("PACK_VERSION", u->version, 1);
	setenv("PACK_FLAG", u->d->flag, 1);
	setenv("SLIPWAY_ENV", u->env, 1);
	fprintf(stderr, "+ %s\n", u->d->tests);
	code = run_child(argv, u->ctx->project_dir, u->d->tests_timeout_ms, &timed_out, &err);
	if (code < 0)
		strbuf_addstr(&detail, err.buf);
	else if (timed_out)
		strbuf_addf(&detail, "the tests ran longer than tests_timeout and were stopped");
	else if (code)
		strbuf_addf(&detail, "the tests exited %d", code);
	code = stage_end(u, "tests", code == 0 && !timed_out ? EXIT_OK : EXIT_NO, detail.buf);
	strbuf_release(&detail);
	strbuf_release(&err);
	return code;
}

static int deploy_staging(struct run *u)
{
	const char *dep[] = { "deploy", u->d->service, u->version, "--env", "staging", "--wait",
			      u->scale ? "--time-scale" : NULL, u->scale, NULL };
	const char *create[] = { "flag", "create", u->d->flag, "--env", "staging", "--reason", "agent pack, staging",
				 NULL };
	const char *off[] = { "flag", "set", u->d->flag, "--value", "false", "--env", "staging", "--reason",
			      "agent pack: deployed disabled", NULL };
	const char *on[] = { "flag", "set", u->d->flag, "--value", "true", "--enabled", "true", "--env", "staging",
			     "--reason", "agent pack: on in staging for its tests", NULL };
	const char *const *off_cmds[] = { create, off, NULL }, *const *dep_cmds[] = { dep, NULL },
			  *const *on_cmds[] = { on, NULL };
	int code;
	if (flag_exists(u, "staging"))
		off_cmds[0] = off, off_cmds[1] = NULL;
	if ((code = stage(u, "disable", off_cmds)) != EXIT_OK || (code = stage(u, "deploy", dep_cmds)) != EXIT_OK ||
	    (code = stage(u, "enable", on_cmds)) != EXIT_OK)
		return code;
	return tests_stage(u);
}

static int deploy_production(struct run *u)
{
	struct strbuf err = STRBUF_INIT;
	char steps[256], interval[32];
	const char *status;
	const char *create[] = { "flag", "create", u->d->flag, "--env", "production", "--reason", "agent pack, shipped dark",
				 NULL };
	const char *off[] = { "flag", "set", u->d->flag, "--percentage", "0", "--enabled", "false", "--env", "production",
			      "--reason", "agent pack: deployed disabled", NULL };
	const char *dep[] = { "deploy", u->d->service, u->version, "--env", "production", "--wait",
			      u->scale ? "--time-scale" : NULL, u->scale, NULL };
	const char *seg[] = { "flag", "set", u->d->flag, "--segment", u->d->segment, "--value", "true", "--env",
			      "production", "--reason", "agent pack: on for its segment", NULL };
	const char *en[] = { "flag", "set", u->d->flag, "--enabled", "true", "--env", "production", "--reason",
			     "agent pack: the segment first", NULL };
	const char *roll[] = { "rollout", "flag", u->d->flag, "--service", u->d->service, "--steps", steps, "--interval",
			       interval, "--segment", u->d->segment, "--env", "production", "--wait",
			       u->scale ? "--time-scale" : NULL, u->scale, NULL };
	const char *const *off_cmds[] = { create, off, NULL }, *const *dep_cmds[] = { dep, NULL },
			  *const *en_cmds[] = { seg, en, NULL }, *const *roll_cmds[] = { roll, NULL };
	int code;

	if (pack_store_last(u->st, u->d->name, u->version, "staging", "tests", &status, &err) < 0) {
		cli_error("%s", err.buf);
		strbuf_release(&err);
		return EXIT_RUNTIME;
	}
	if (!status || strcmp(status, PACK_PASSED)) {
		cli_error("pack '%s' version '%s' has %s in staging; production comes after them: run 'slipway pack "
			  "deploy %s %s --env staging' first", u->d->name, u->version,
			  status ? "not passed its tests (they failed last time)" : "not passed its tests",
			  u->d->name, u->version);
		return EXIT_NO;
	}
	pack_steps_format(u->d, steps, sizeof(steps));
	snprintf(interval, sizeof(interval), "%llds", (long long)(u->d->interval_ms / 1000));
	if (flag_exists(u, "production"))
		off_cmds[0] = off, off_cmds[1] = NULL;
	if ((code = stage(u, "disable", off_cmds)) != EXIT_OK || (code = stage(u, "deploy", dep_cmds)) != EXIT_OK ||
	    (code = stage(u, "enable", en_cmds)) != EXIT_OK)
		return code;
	return stage(u, "rollout", roll_cmds);
}

static int pack_deploy(struct cli_ctx *ctx, const char *pack, const char *version, const char *env, const char *file,
		       const char *scale)
{
	struct strbuf path = STRBUF_INIT, buf = STRBUF_INIT, err = STRBUF_INIT;
	struct pack_def d = { 0 };
	struct run u = { .ctx = ctx, .d = &d, .version = version, .env = env, .scale = scale };
	ssize_t n;
	int code, r;

	if (!service_name_valid(pack))
		return cli_usage_error(ctx, "pack", "'%s' is not a pack name ([A-Za-z0-9._-], 1 to %d characters)", pack,
				       SW_NAME_MAX);
	if (!service_name_valid(version))
		return cli_usage_error(ctx, "pack", "'%s' is not a version ([A-Za-z0-9._-], 1 to %d characters)", version,
				       SW_NAME_MAX);
	if (!env || (strcmp(env, "staging") && strcmp(env, "production")))
		return cli_usage_error(ctx, "pack", "pack deploy needs --env staging or --env production (the runbook's "
				       "two stages)%s%s", env ? ", not " : "", env ? env : "");
	if (scale) {
		char *end;
		double v;
		errno = 0;
		v = strtod(scale, &end);
		if (errno || *end || end == scale || !(v >= 1 && v <= 3600))
			return cli_usage_error(ctx, "pack", "--time-scale must be a number from 1 to 3600, not '%s'", scale);
	}
	if (file)
		strbuf_addstr(&path, file);
	else
		strbuf_addf(&path, "%s/packs/%s.yaml", ctx->project_dir, pack);
	if ((r = strbuf_read_file_max(&buf, path.buf, PACK_FILE_MAX, &err)) < 0 ||
	    (r = pack_file_parse(path.buf, pack, buf.buf, buf.len, &d, &err)) < 0) {
		cli_error("%s", err.buf);
		code = r == SW_ESTORE ? EXIT_RUNTIME : EXIT_USAGE;
		goto out;
	}
	if ((n = readlink("/proc/self/exe", u.self, sizeof(u.self) - 1)) <= 0) {
		cli_error("cannot find this slipway binary (/proc/self/exe): %s", strerror(errno));
		code = EXIT_RUNTIME;
		goto out;
	}
	u.self[n] = '\0';
	if ((code = cli_store(ctx, &u.st)) != EXIT_OK)
		goto out;
	if (pack_store_migrate(u.st, &err) < 0) {
		cli_error("%s", err.buf);
		code = EXIT_RUNTIME;
		goto out;
	}
	/* the children find the same store, project and policy */
	setenv("SLIPWAY_STATE_DIR", ctx->state_dir, 1);
	setenv("SLIPWAY_PROJECT", ctx->project_dir, 1);
	if (ctx->policy_path)
		setenv("SLIPWAY_POLICY", ctx->policy_path, 1);
	u.stages = json_array();
	code = !strcmp(env, "staging") ? deploy_staging(&u) : deploy_production(&u);
	if (ctx->output == OUTPUT_JSON) {
		json_t *j = cli_doc("PackDeployment");
		char steps[256];
		pack_steps_format(&d, steps, sizeof(steps));
		json_object_set_new(j, "pack", json_string(d.name));
		json_object_set_new(j, "version", json_string(version));
		json_object_set_new(j, "env", json_string(env));
		json_object_set_new(j, "service", json_string(d.service));
		json_object_set_new(j, "flag", json_string(d.flag));
		json_object_set_new(j, "segment", json_string(d.segment));
		json_object_set_new(j, "steps", json_string(steps));
		json_object_set_new(j, "interval_ms", json_integer(d.interval_ms));
		json_object_set_new(j, "result", json_string(code == EXIT_OK ? "passed" : code == EXIT_WAITING ? "waiting"
							    : "failed"));
		json_object_set(j, "stages", u.stages);
		cli_print_json(j);	/* takes j */
	} else {
		printf("pack %s %s %s: %s\n", d.name, version, env,
		       code == EXIT_OK ? (strcmp(env, "staging") ? "shipped: the flag is on for everyone"
							  : "passed staging: ready for --env production")
		       : code == EXIT_WAITING ? "waiting on a person; run the same command again after"
		       : json_array_size(u.stages) ? "stopped (see the stages above; 'slipway pack status' lists them)"
						   : "refused (see the error above)");
	}
	json_decref(u.stages);
out:
	pack_def_release(&d);
	strbuf_release(&path);
	strbuf_release(&buf);
	strbuf_release(&err);
	return code;
}

static int pack_status(struct cli_ctx *ctx, const char *pack, const char *version)
{
	struct strbuf err = STRBUF_INIT;
	struct pack_stage *v = NULL;
	struct store *st;
	size_t n = 0;
	int code;

	if ((code = cli_store(ctx, &st)) != EXIT_OK)
		return code;
	if (pack_store_migrate(st, &err) < 0 || pack_store_list(st, pack, version, &v, &n, &err) < 0) {
		cli_error("%s", err.buf);
		strbuf_release(&err);
		return EXIT_RUNTIME;
	}
	if (ctx->output == OUTPUT_JSON) {
		json_t *j = cli_doc("PackStages"), *a = json_array();
		for (size_t i = 0; i < n; i++) {
			json_t *s = json_pack("{s:I, s:s, s:s, s:s, s:s, s:i, s:s, s:s}", "seq", (json_int_t)v[i].seq,
					      "version", v[i].version, "env", v[i].env, "stage", v[i].stage, "status",
					      v[i].status, "exit", v[i].exit_code, "detail", v[i].detail, "actor",
					      v[i].actor);
			cli_json_time(s, "at", v[i].at_ms);
			json_array_append_new(a, s);
		}
		json_object_set_new(j, "pack", json_string(pack));
		json_object_set_new(j, "stages", a);
		cli_print_json(j);	/* takes j */
	} else if (!n) {
		printf("no stages recorded for pack '%s'%s%s\n", pack, version ? " version " : "", version ? version : "");
	} else {
		for (size_t i = 0; i < n; i++)
			printf("%-12s %-11s %-8s %-8s %s\n", v[i].version, v[i].env, v[i].stage, v[i].status, v[i].detail);
	}
	pack_stages_free(v, n);
	strbuf_release(&err);
	return EXIT_OK;
}

int cmd_pack(int argc, char **argv, struct cli_ctx *ctx)
{
	const char *env = NULL, *file = NULL, *scale = NULL;
	const struct cli_option opts[] = {
		CLI_STRING("env", 0, &env),
		CLI_STRING("file", 0, &file),
		CLI_STRING("time-scale", 0, &scale),
		CLI_OPTIONS_END,
	};
	char **args;
	int nargs, rc;

	if ((rc = cli_parse(ctx, argc, argv, opts, &args, &nargs)) != EXIT_OK)
		return rc;
	if (!strcmp(args[0], "deploy")) {
		if (nargs != 3)
			return cli_usage_error(ctx, "pack", "pack deploy takes PACK and VERSION");
		return pack_deploy(ctx, args[1], args[2], env, file, scale);
	}
	if (!strcmp(args[0], "status")) {
		if (env || file || scale)
			return cli_usage_error(ctx, "pack", "pack status takes PACK [VERSION] only");
		return pack_status(ctx, args[1], nargs > 2 ? args[2] : NULL);
	}
	return cli_usage_error(ctx, "pack", "unknown pack command '%s'; deploy or status", args[0]);
}
