/*
 * cmd_pack.c - `slipway pack deploy PACK VERSION --env staging|production`,
 * `pack status PACK [VERSION]`, `pack list` and `pack abort PACK [--env
 * ENV]`: the runbook's agent-pack
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
#include "adapters/flag_store.h"
#include "adapters/pack_store.h"
#include "adapters/proc.h"
#include "adapters/records.h"
#include "adapters/store.h"
#include "controller/localstack.h"
#include "base/alloc.h"
#include "base/err.h"
#include "base/strbuf.h"
#include "core/flag_rollout.h"
#include "core/pack_file.h"
#include "core/service.h"

#include <dirent.h>
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
	"       slipway pack list [-o json]\n"
	"       slipway pack abort PACK [--env ENV] [-o json]\n"
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
	"is passed to deploy and rollout; a service that does not exist (or has no\n"
	"such environment) is refused before anything changes.  'pack status' lists\n"
	"the recorded stages (exit 2 for a pack with neither a file nor a stage);\n"
	"'pack list' every pack (packs/*.yaml and those with recorded stages), its\n"
	"versions per environment, its flag and its guarded rollout.  'pack abort'\n"
	"aborts the pack's running guarded rollout in ENV (production by default) as\n"
	"'slipway abort ID' does (recorded, notified), sets the flag's percentage back\n"
	"to 0 (the segment keeps it) and records the rollout stage as failed, so\n"
	"'pack deploy' runs it again; exit 1 when no rollout of the pack runs.\n"
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


/* d's steps as a JSON array of percents (whole ones as integers: [5, 25, 50, 100]). */
static json_t *steps_json(const struct pack_def *d)
{
	json_t *a = json_array();
	for (int i = 0; i < d->nsteps; i++) {
		double v = d->steps[i];
		json_array_append_new(a, v == (double)(int64_t)v ? json_integer((json_int_t)v) : json_real(v));
	}
	return a;
}

static void pack_names(struct cli_ctx *ctx, const struct pack_stage *v, size_t n, char ***out, size_t *nout);
static json_t *flag_state_json(struct store *st, const char *env, const struct pack_def *d, struct strbuf *err);
static void print_flag_state(const json_t *f, int word);

/*
 * There is no PROJECT/packs/PACK.yaml: say so, as a person would want it,
 * with the packs there are (those `pack list` lists) or that there are
 * none, rather than the file's open() error.  A pack with recorded stages
 * but no file is named as such: its service, flag and steps are in the
 * file.  Returns the exit code: 2, as for any name that does not exist
 * (docs/exit-codes.md), or 3 when the store cannot be read.
 */
/* The store and every pack's recorded stages (pack_store_list), for the commands that name packs. */
static int pack_stages_open(struct cli_ctx *ctx, struct store **st, struct pack_stage **v, size_t *n)
{
	struct strbuf err = STRBUF_INIT;
	int code;

	if ((code = cli_store(ctx, st)) != EXIT_OK)
		return code;
	if (pack_store_migrate(*st, &err) < 0 || pack_store_list(*st, NULL, NULL, v, n, &err) < 0) {
		cli_error("%s", err.buf);
		strbuf_release(&err);
		return EXIT_RUNTIME;
	}
	return EXIT_OK;
}

static int pack_missing(struct cli_ctx *ctx, const char *pack)
{
	struct strbuf err = STRBUF_INIT, known = STRBUF_INIT;
	struct pack_stage *v = NULL;
	struct store *st;
	char **names = NULL;
	size_t n = 0, nn = 0;
	int code, recorded = 0;

	if ((code = pack_stages_open(ctx, &st, &v, &n)) != EXIT_OK)
		return code;
	for (size_t i = 0; i < n && !recorded; i++)
		recorded = !strcmp(v[i].pack, pack);
	if (recorded) {
		cli_error("pack '%s' has recorded stages but no packs/%s.yaml in '%s': its service, flag and steps are "
			  "read from that file; put it back ('slipway pack status %s' shows what was recorded)", pack, pack,
			  ctx->project_dir, pack);
	} else {
		pack_names(ctx, v, n, &names, &nn);
		for (size_t i = 0; i < nn; i++)
			strbuf_addf(&known, "%s%s", i ? ", " : "", names[i]);
		if (nn)
			cli_error("no pack named '%s' (no packs/%s.yaml in '%s', no recorded stage); known packs: %s "
				  "('slipway pack list' shows their state)", pack, pack, ctx->project_dir, known.buf);
		else
			cli_error("no pack named '%s' (no packs/%s.yaml in '%s', no recorded stage); there are no packs: "
				  "a pack is a file packs/NAME.yaml (docs/flags.md \"Agent packs\")", pack, pack,
				  ctx->project_dir);
	}
	for (size_t i = 0; i < nn; i++)
		free(names[i]);
	free(names);
	pack_stages_free(v, n);
	strbuf_release(&known);
	strbuf_release(&err);
	return EXIT_USAGE;
}

/*
 * Read and parse pack's definition: file, else PROJECT/packs/PACK.yaml.
 * 0; 1 when there is no such file and missing_ok (nothing in *d); else
 * the exit code, the error printed (pack_missing()'s when there is no
 * PROJECT/packs/PACK.yaml).
 */
static int pack_load(struct cli_ctx *ctx, const char *pack, const char *file, int missing_ok, struct pack_def *d)
{
	struct strbuf path = STRBUF_INIT, buf = STRBUF_INIT, err = STRBUF_INIT;
	int r, code = EXIT_OK;
	if (file)
		strbuf_addstr(&path, file);
	else
		strbuf_addf(&path, "%s/packs/%s.yaml", ctx->project_dir, pack);
	if (access(path.buf, F_OK) < 0 && errno == ENOENT) {
		if (missing_ok) {
			code = 1;
			goto out;
		}
		if (!file) {
			code = pack_missing(ctx, pack);
			goto out;
		}
	}
	if ((r = strbuf_read_file_max(&buf, path.buf, PACK_FILE_MAX, &err)) < 0 ||
	    (r = pack_file_parse(path.buf, pack, buf.buf, buf.len, d, &err)) < 0) {
		cli_error("%s", err.buf);
		code = r == SW_ESTORE ? EXIT_RUNTIME : EXIT_USAGE;
	}
out:
	strbuf_release(&path);
	strbuf_release(&buf);
	strbuf_release(&err);
	return code;
}

/* The pack's service must exist with environment env: checked before any stage changes anything. */
static int service_check(struct cli_ctx *ctx, const struct pack_def *d, const char *env)
{
	struct service svc;
	struct strbuf err = STRBUF_INIT;
	int r = service_load(&svc, ctx->project_dir, d->service, &err), code = EXIT_OK;
	if (r < 0) {
		cli_error("pack '%s' ships in service '%s', which cannot be used: %s; nothing was changed (fix the "
			  "pack's 'service:' or add the service)", d->name, d->service, err.buf);
		code = cli_exit(r);
	} else {
		if (!service_find_env(&svc, env)) {
			cli_error("pack '%s' ships in service '%s', which has no environment '%s' (services/%s.yaml); "
				  "nothing was changed", d->name, d->service, env, d->service);
			code = EXIT_USAGE;
		}
		service_release(&svc);
	}
	strbuf_release(&err);
	return code;
}

static int pack_deploy(struct cli_ctx *ctx, const char *pack, const char *version, const char *env, const char *file,
		       const char *scale)
{
	struct strbuf err = STRBUF_INIT;
	struct pack_def d = { 0 };
	struct run u = { .ctx = ctx, .d = &d, .version = version, .env = env, .scale = scale };
	ssize_t n;
	int code;

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
	if ((code = pack_load(ctx, pack, file, 0, &d)) != EXIT_OK || (code = service_check(ctx, &d, env)) != EXIT_OK)
		goto out;
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
		json_object_set_new(j, "pack", json_string(d.name));
		json_object_set_new(j, "version", json_string(version));
		json_object_set_new(j, "env", json_string(env));
		json_object_set_new(j, "service", json_string(d.service));
		json_object_set_new(j, "flag", json_string(d.flag));
		json_object_set_new(j, "segment", json_string(d.segment));
		json_object_set_new(j, "steps", steps_json(&d));
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
	strbuf_release(&err);
	return code;
}

/* The definition's fields a reader wants, into j (pack status, pack list). */
static void def_json(json_t *j, const struct pack_def *d)
{
	json_object_set_new(j, "service", json_string(d->service));
	json_object_set_new(j, "flag", json_string(d->flag));
	json_object_set_new(j, "segment", json_string(d->segment));
	json_object_set_new(j, "steps", steps_json(d));
	json_object_set_new(j, "interval_ms", json_integer(d->interval_ms));
}

static int pack_status(struct cli_ctx *ctx, const char *pack, const char *version)
{
	struct strbuf err = STRBUF_INIT;
	struct pack_stage *v = NULL;
	struct pack_def d = { 0 };
	struct store *st;
	json_t *flags = NULL;
	size_t n = 0;
	int code, have_def;

	if (!service_name_valid(pack))
		return cli_usage_error(ctx, "pack", "'%s' is not a pack name ([A-Za-z0-9._-], 1 to %d characters)", pack,
				       SW_NAME_MAX);
	if ((code = pack_load(ctx, pack, NULL, 1, &d)) > 1)
		return code;
	have_def = code == EXIT_OK;
	if ((code = cli_store(ctx, &st)) != EXIT_OK)
		goto out;
	if (pack_store_migrate(st, &err) < 0 || pack_store_list(st, pack, version, &v, &n, &err) < 0) {
		cli_error("%s", err.buf);
		code = EXIT_RUNTIME;
		goto out;
	}
	/* an unknown pack (or version) is not found, as an unknown deployment is (docs/exit-codes.md) */
	if (!n && (!have_def || version)) {
		if (!have_def && !version)
			pack_missing(ctx, pack);
		else
			cli_error("pack '%s' has no recorded stage of version '%s'; 'slipway pack status %s' lists its "
				  "versions", pack, version, pack);
		code = EXIT_USAGE;
		goto out;
	}
	/* the flag's state per environment, as pack list shows it: where the pack stands now */
	if (have_def) {
		flags = json_object();
		json_object_set_new(flags, "staging", flag_state_json(st, "staging", &d, &err));
		json_object_set_new(flags, "production", flag_state_json(st, "production", &d, &err));
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
		if (have_def) {
			def_json(j, &d);
			json_object_set(j, "flags", flags);
		}
		json_object_set_new(j, "stages", a);
		cli_print_json(j);	/* takes j */
	} else {
		if (!n)
			printf("no stages recorded for pack '%s'\n", pack);
		for (size_t i = 0; i < n; i++)
			printf("%-12s %-11s %-8s %-8s %s\n", v[i].version, v[i].env, v[i].stage, v[i].status, v[i].detail);
		if (have_def) {
			static const char *const envs[] = { "staging", "production" };
			for (size_t e = 0; e < 2; e++) {
				json_t *f = json_object_get(flags, envs[e]);
				printf("flag '%s' in %s: ", d.flag, envs[e]);
				print_flag_state(f, 0);
				if (json_is_object(f))
					printf(" (version %lld)", (long long)json_integer_value(json_object_get(f, "version")));
				printf("\n");
			}
		}
	}
out:
	json_decref(flags);
	pack_stages_free(v, n);
	pack_def_release(&d);
	strbuf_release(&err);
	return code;
}

/* Whether deployment r is a guarded rollout of flag (its version "flag:FLAG=VARIANT"). */
static int is_rollout_of(const struct deployment_record *r, const char *flag)
{
	char f[FLAG_KEY_MAX + 1], var[FLAG_KEY_MAX + 1];
	return r->version && flag_cohort_parse(r->version, f, sizeof(f), var, sizeof(var)) == 1 && !strcmp(f, flag);
}

/*
 * The newest guarded rollout of flag by service in env into *out (id 0:
 * none); with running, the unfinished one only.  0 or SW_ESTORE.
 */
static int find_rollout(struct store *st, const char *service, const char *env, const char *flag, int running,
			struct deployment_record *out, struct strbuf *err)
{
	struct deployment_record *v = NULL;
	size_t n = 0;
	int r = records_list(st, service, env, 0, &v, &n, err);
	memset(out, 0, sizeof(*out));
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		if (!is_rollout_of(&v[i], flag) || (running && v[i].state && record_state_is_final(v[i].state)))
			continue;
		*out = v[i];	/* moved: the array's copy is cleared */
		memset(&v[i], 0, sizeof(v[i]));
		break;
	}
	deployment_records_free(v, n);
	return 0;
}

/*
 * The flag's state in env for readers: null when absent, else {version, enabled, percentage, segment},
 * the rules found as `flag set --percentage` and `--segment` find them (core/flag_rollout.h
 * flag_rollout_state(): a flag file's unnamed rules too); percentage null when there is no rollout rule.
 */
static json_t *flag_state_json(struct store *st, const char *env, const struct pack_def *d, struct strbuf *err)
{
	struct flag_record fr = { 0 };
	json_t *j;
	int pct, seg, r = flag_store_get(st, env, FLAG_KIND_FLAG, d->flag, &fr, err);
	if (r < 0) {
		strbuf_reset(err);
		return json_null();
	}
	flag_rollout_state(fr.def, d->segment, &pct, &seg);
	j = json_pack("{s:I, s:b, s:o, s:b}", "version", (json_int_t)fr.version, "enabled",
		      !json_is_false(json_object_get(fr.def, "enabled")), "percentage",
		      pct >= 0 ? json_integer(pct) : json_null(), "segment", seg);
	flag_record_release(&fr);
	return j;
}

/* A rollout deployment as {id, state, step, weight, reason} (NULL record id: null). */
static json_t *rollout_json(const struct deployment_record *r)
{
	if (!r->id)
		return json_null();
	return json_pack("{s:I, s:s, s:I, s:f, s:s}", "id", (json_int_t)r->id, "state", r->state ? r->state : "",
			 "step", (json_int_t)r->step, "weight", r->weight, "reason", r->reason ? r->reason : "");
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names of the packs: packs/NAME.yaml files of the project and those with recorded stages, sorted, unique. */
static void pack_names(struct cli_ctx *ctx, const struct pack_stage *v, size_t n, char ***out, size_t *nout)
{
	struct strbuf dir = STRBUF_INIT;
	char **names = NULL;
	size_t nr = 0, alloc = 0, k = 0;
	DIR *dp;
	strbuf_addf(&dir, "%s/packs", ctx->project_dir);
	if ((dp = opendir(dir.buf))) {
		struct dirent *e;
		while ((e = readdir(dp))) {
			size_t len = strlen(e->d_name);
			if (len > 5 && !strcmp(e->d_name + len - 5, ".yaml")) {
				char *name = xstrndup(e->d_name, len - 5);
				if (!service_name_valid(name)) {
					free(name);
					continue;
				}
				ALLOC_GROW(names, nr + 1, alloc);
				names[nr++] = name;
			}
		}
		closedir(dp);
	}
	for (size_t i = 0; i < n; i++) {
		ALLOC_GROW(names, nr + 1, alloc);
		names[nr++] = xstrdup(v[i].pack);
	}
	if (nr)
		qsort(names, nr, sizeof(*names), name_cmp);
	for (size_t i = 0; i < nr; i++) {
		if (k && !strcmp(names[k - 1], names[i]))
			free(names[i]);
		else
			names[k++] = names[i];
	}
	*out = names;
	*nout = k;
	strbuf_release(&dir);
}

/*
 * One pack for `pack list`: its definition (when its file parses), and
 * per environment where it has stages or a flag: each version's last
 * stage, the flag's state and the newest guarded rollout.
 */
static json_t *pack_entry(struct cli_ctx *ctx, struct store *st, const char *name, const struct pack_stage *v,
			  size_t n, struct strbuf *err)
{
	static const char *const envs[] = { "staging", "production" };
	struct pack_def d = { 0 };
	json_t *j = json_pack("{s:s}", "pack", name), *by_env = json_object();
	struct strbuf path = STRBUF_INIT, buf = STRBUF_INIT, perr = STRBUF_INIT;
	int have_def;
	strbuf_addf(&path, "%s/packs/%s.yaml", ctx->project_dir, name);
	have_def = strbuf_read_file_max(&buf, path.buf, PACK_FILE_MAX, &perr) >= 0 &&
		   pack_file_parse(path.buf, name, buf.buf, buf.len, &d, &perr) >= 0;
	if (have_def)
		def_json(j, &d);
	else
		json_object_set_new(j, "error", json_string(access(path.buf, F_OK) < 0 ? "no packs file" : perr.buf));
	for (size_t e = 0; e < 2; e++) {
		json_t *versions = json_array(), *env = json_object();
		for (size_t i = 0; i < n; i++) {
			json_t *last = NULL, *it;
			size_t k;
			if (strcmp(v[i].pack, name) || strcmp(v[i].env, envs[e]))
				continue;
			json_array_foreach(versions, k, it)
				if (!strcmp(json_string_value(json_object_get(it, "version")), v[i].version))
					last = it;
			if (!last) {
				last = json_pack("{s:s}", "version", v[i].version);
				json_array_append_new(versions, last);
			}
			json_object_set_new(last, "stage", json_string(v[i].stage));
			json_object_set_new(last, "status", json_string(v[i].status));
			cli_json_time(last, "at", v[i].at_ms);
		}
		json_object_set_new(env, "versions", versions);
		if (have_def) {
			struct deployment_record r;
			json_object_set_new(env, "flag", flag_state_json(st, envs[e], &d, err));
			if (find_rollout(st, d.service, envs[e], d.flag, 0, &r, err) < 0) {
				strbuf_reset(err);
				memset(&r, 0, sizeof(r));
			}
			json_object_set_new(env, "rollout", rollout_json(&r));
			deployment_record_release(&r);
		} else {
			json_object_set_new(env, "flag", json_null());
			json_object_set_new(env, "rollout", json_null());
		}
		json_object_set_new(by_env, envs[e], env);
	}
	json_object_set_new(j, "environments", by_env);
	pack_def_release(&d);
	strbuf_release(&path);
	strbuf_release(&buf);
	strbuf_release(&perr);
	return j;
}

/* A flag state of flag_state_json() as "[flag ]enabled at 5% + segment", or "no flag" / "none". */
static void print_flag_state(const json_t *f, int word)
{
	if (json_is_object(f)) {
		json_t *pct = json_object_get(f, "percentage");
		printf("%s%s", word ? "flag " : "", json_is_true(json_object_get(f, "enabled")) ? "enabled" : "disabled");
		if (json_is_number(pct))
			printf(" at %g%%", json_number_value(pct));
		if (json_is_true(json_object_get(f, "segment")))
			printf(" + segment");
	} else {
		printf("%s", word ? "no flag" : "none");
	}
}

static void print_entry(json_t *p)
{
	const char *envs[] = { "staging", "production" };
	const char *error = json_string_value(json_object_get(p, "error"));
	printf("%s", json_string_value(json_object_get(p, "pack")));
	if (error)
		printf(" (%s)\n", error);
	else
		printf(" (service %s, flag %s)\n", json_string_value(json_object_get(p, "service")),
		       json_string_value(json_object_get(p, "flag")));
	for (size_t e = 0; e < 2; e++) {
		json_t *env = json_object_get(json_object_get(p, "environments"), envs[e]);
		json_t *vs = json_object_get(env, "versions"), *f = json_object_get(env, "flag"),
		       *ro = json_object_get(env, "rollout"), *it;
		size_t i;
		printf("  %-11s", envs[e]);
		if (!json_array_size(vs))
			printf(" no version");
		json_array_foreach(vs, i, it)
			printf(" %s (%s %s)", json_string_value(json_object_get(it, "version")),
			       json_string_value(json_object_get(it, "stage")), json_string_value(json_object_get(it, "status")));
		printf("; ");
		print_flag_state(f, 1);
		if (json_is_object(ro))
			printf("; rollout #%lld %s", (long long)json_integer_value(json_object_get(ro, "id")),
			       json_string_value(json_object_get(ro, "state")));
		printf("\n");
	}
}

static int pack_list(struct cli_ctx *ctx)
{
	struct strbuf err = STRBUF_INIT;
	struct pack_stage *v = NULL;
	struct store *st;
	char **names = NULL;
	size_t n = 0, nn = 0;
	json_t *packs;
	int code;

	if ((code = pack_stages_open(ctx, &st, &v, &n)) != EXIT_OK)
		return code;
	pack_names(ctx, v, n, &names, &nn);
	packs = json_array();
	for (size_t i = 0; i < nn; i++)
		json_array_append_new(packs, pack_entry(ctx, st, names[i], v, n, &err));
	if (ctx->output == OUTPUT_JSON) {
		json_t *j = cli_doc("PackList");
		json_object_set_new(j, "packs", json_incref(packs));
		cli_print_json(j);	/* takes j */
	} else if (!nn) {
		printf("no packs (none in %s/packs, none recorded)\n", ctx->project_dir);
	} else {
		json_t *p;
		size_t i;
		json_array_foreach(packs, i, p)
			print_entry(p);
	}
	json_decref(packs);
	for (size_t i = 0; i < nn; i++)
		free(names[i]);
	free(names);
	pack_stages_free(v, n);
	strbuf_release(&err);
	return EXIT_OK;
}

/*
 * `pack abort PACK [--env ENV]`: the pack's unfinished guarded rollout in
 * ENV is aborted by `slipway abort ID` run as a child (the same intent,
 * audit entry and notification as a person's abort; the process driving
 * the rollout applies it on its next tick, which sets the flag back); the
 * rollout rule is set to 0% at once as well (`flag set --percentage 0`,
 * audited), so the flag is back to the segment even before that tick; the
 * pack's rollout stage is recorded failed, so `pack deploy` runs it again.
 */
static int pack_abort(struct cli_ctx *ctx, const char *pack, const char *env)
{
	struct strbuf err = STRBUF_INIT, line = STRBUF_INIT, detail = STRBUF_INIT;
	struct pack_def d = { 0 };
	struct deployment_record r = { 0 };
	struct run u = { .ctx = ctx, .d = &d, .env = env };
	char id[32];
	ssize_t len;
	int code;

	if (!service_name_valid(pack))
		return cli_usage_error(ctx, "pack", "'%s' is not a pack name ([A-Za-z0-9._-], 1 to %d characters)", pack,
				       SW_NAME_MAX);
	if (!service_name_valid(env))
		return cli_usage_error(ctx, "pack", "--env '%s' is not an environment name", env);
	if ((code = pack_load(ctx, pack, NULL, 0, &d)) != EXIT_OK)
		goto out;
	if ((code = cli_store(ctx, &u.st)) != EXIT_OK)
		goto out;
	if (pack_store_migrate(u.st, &err) < 0 || find_rollout(u.st, d.service, env, d.flag, 1, &r, &err) < 0) {
		cli_error("%s", err.buf);
		code = EXIT_RUNTIME;
		goto out;
	}
	if (!r.id) {
		cli_error("pack '%s' has no running guarded rollout in %s (of flag '%s' on service '%s'); 'slipway pack "
			  "list' shows its state", pack, env, d.flag, d.service);
		code = EXIT_NO;
		goto out;
	}
	if ((len = readlink("/proc/self/exe", u.self, sizeof(u.self) - 1)) <= 0) {
		cli_error("cannot find this slipway binary (/proc/self/exe): %s", strerror(errno));
		code = EXIT_RUNTIME;
		goto out;
	}
	u.self[len] = '\0';
	u.version = r.version;	/* replaced below by the pack version the stage is recorded under */
	setenv("SLIPWAY_STATE_DIR", ctx->state_dir, 1);
	setenv("SLIPWAY_PROJECT", ctx->project_dir, 1);
	if (ctx->policy_path)
		setenv("SLIPWAY_POLICY", ctx->policy_path, 1);
	snprintf(id, sizeof(id), "%lld", (long long)r.id);
	{
		char reason[160];
		const char *abort_args[] = { "abort", id, NULL };
		const char *zero[] = { "flag", "set", d.flag, "--percentage", "0", "--env", env, "--reason", reason, NULL };
		snprintf(reason, sizeof(reason), "agent pack aborted: deployment #%s", id);
		if ((code = slipway(&u, &line, abort_args)) != EXIT_OK) {
			cli_error("'%s' exited %d; the rollout was not aborted", line.buf, code);
			goto out;
		}
		strbuf_reset(&line);
		if ((code = slipway(&u, &line, zero)) != EXIT_OK) {
			cli_error("'%s' exited %d; the abort is recorded, the process driving deployment #%s sets the "
				  "flag back on its next tick", line.buf, code, id);
			goto out;
		}
	}
	/* the stage is recorded under the pack version whose production rollout ran last */
	{
		struct pack_stage *v = NULL;
		size_t n = 0;
		const char *version = NULL;
		if (pack_store_list(u.st, pack, NULL, &v, &n, &err) < 0) {
			cli_error("%s", err.buf);
			code = EXIT_RUNTIME;
			goto out;
		}
		for (size_t i = n; i-- > 0 && !version;)
			if (!strcmp(v[i].env, env) && !strcmp(v[i].stage, "enable"))
				version = v[i].version;
		strbuf_addf(&detail, "aborted by %s (pack abort): deployment #%s", cli_caller(NULL), id);
		if (version) {
			char *ver = xstrdup(version);
			u.version = ver;
			u.stages = json_array();
			code = stage_end(&u, "rollout", EXIT_NO, detail.buf) == EXIT_RUNTIME ? EXIT_RUNTIME : EXIT_OK;
			json_decref(u.stages);
			free(ver);
		}
		pack_stages_free(v, n);
	}
	if (code == EXIT_OK) {
		if (ctx->output == OUTPUT_JSON) {
			json_t *j = cli_doc("PackAbort");
			json_object_set_new(j, "pack", json_string(pack));
			json_object_set_new(j, "env", json_string(env));
			json_object_set_new(j, "flag", json_string(d.flag));
			json_object_set_new(j, "deployment", json_integer(r.id));
			cli_print_json(j);	/* takes j */
		} else {
			printf("pack %s %s: deployment #%s aborted (recorded; the flag is back to its segment)\n", pack, env,
			       id);
		}
	}
out:
	deployment_record_release(&r);
	pack_def_release(&d);
	strbuf_release(&err);
	strbuf_release(&line);
	strbuf_release(&detail);
	return code;
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
		if (env || file || scale || nargs < 2)
			return cli_usage_error(ctx, "pack", "pack status takes PACK [VERSION] only");
		return pack_status(ctx, args[1], nargs > 2 ? args[2] : NULL);
	}
	if (!strcmp(args[0], "list")) {
		if (env || file || scale || nargs != 1)
			return cli_usage_error(ctx, "pack", "pack list takes no argument");
		return pack_list(ctx);
	}
	if (!strcmp(args[0], "abort")) {
		if (file || scale || nargs != 2)
			return cli_usage_error(ctx, "pack", "pack abort takes PACK [--env ENV]");
		return pack_abort(ctx, args[1], env ? env : "production");
	}
	return cli_usage_error(ctx, "pack", "unknown pack command '%s'; deploy, status, list or abort", args[0]);
}
