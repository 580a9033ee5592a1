/*
 * main.c - the dispatcher and the one command table (docs/ARCHITECTURE.md,
 * after git's commands[] in git.c).
 *
 * `slipway [GLOBAL OPTIONS] COMMAND [ARGS]`.  The dispatcher parses the
 * global options given before COMMAND (cli_parse() parses those after it,
 * with the command's own), answers --help and --version, runs the command,
 * closes the store the command opened through cli_store(), and checks that
 * stdout was written without error (a full disk or a closed pipe is an
 * error, exit 3, not silent success).
 */
#include "config.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/vocab.h"
#include "controller/localstack.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char usage_version[] =
	"usage: slipway version\n"
	"\n"
	"Print slipway's version.\n";

/*
 * The command table: what each command needs (the dispatcher and cli_parse()
 * act on it) and its positional argument counts (subcommand words count).
 * Keep it sorted by name; a new command is one line here, its cmd_*.c file
 * and its schema under docs/schema/ (docs/ARCHITECTURE.md, "Adding a
 * command").
 */
static const struct command commands[] = {
	/* name, function, needs, min and max arguments, summary, usage */
	{ "abort", cmd_abort, NEEDS_STORE_WRITE | HAS_JSON, 1, 1,
	  "roll a deployment back now (records an intent)", usage_abort },
	{ "api", cmd_api, NEEDS_STORE_WRITE | NEEDS_POLICY | NEEDS_PROJECT | NEEDS_REAL_CLOCK, 0, 0,
	  "serve the HTTP API (no controller; docs/api.md)", usage_api },
	{ "analyze", cmd_analyze, NEEDS_POLICY | HAS_JSON, 0, 0,
	  "replay a metrics trace through the rollout engine", usage_analyze },
	{ "approvals", cmd_approvals, NEEDS_STORE_READ | NEEDS_POLICY | HAS_JSON, 1, 1,
	  "show a deployment's approval gate", usage_approvals },
	{ "approve", cmd_approve, NEEDS_STORE_WRITE | NEEDS_POLICY | HAS_JSON, 1, 1,
	  "approve a deployment for a role", usage_approve },
	{ "attest", cmd_attest, NEEDS_STORE_WRITE | NEEDS_POLICY | HAS_JSON, 2, 2,
	  "attest a checklist item for a deployment or a version", usage_attest },
	{ "audit", cmd_audit, NEEDS_STORE_READ | HAS_JSON, 0, 0,
	  "list and verify the audit log", usage_audit },
	{ "calendar", cmd_calendar, NEEDS_POLICY | HAS_JSON, 0, 0,
	  "when a deployment may start: windows, approvals, freezes", usage_calendar },
	{ "check", cmd_check, NEEDS_POLICY | HAS_JSON, 0, 0,
	  "may a deployment start now (or at --at)?", usage_check },
	{ "checklist", cmd_checklist, NEEDS_STORE_READ | NEEDS_POLICY | HAS_JSON, 1, 3,
	  "a deployment's checklists: each item, state, evidence, who, when", usage_checklist },
	{ "cleanup", cmd_cleanup, NEEDS_STORE_WRITE | NEEDS_PROJECT | HAS_JSON, 1, 1,
	  "remove old release directories (runbook: --keep 2)", usage_cleanup },
	{ "db", cmd_db, NEEDS_STORE_WRITE | NEEDS_POLICY | NEEDS_PROJECT | HAS_JSON | NEEDS_REAL_CLOCK, 1, 2,
	  "a project's databases: backup, rehearse on staging, migrate with sqitch", usage_db },
	{ "deploy", cmd_deploy, NEEDS_STORE_WRITE | NEEDS_POLICY | NEEDS_PROJECT | HAS_JSON | NEEDS_REAL_CLOCK, 2, 2,
	  "deploy a release on this machine: canary steps, analysis, promotion or rollback", usage_deploy },
	{ "deployments", cmd_deployments, NEEDS_STORE_READ | HAS_JSON, 1, 1,
	  "list a service's deployment records", usage_deployments },
	{ "dora", cmd_dora, NEEDS_STORE_READ | NEEDS_POLICY | HAS_JSON, 0, 0,
	  "deployment metrics against the runbook's targets", usage_dora },
	{ "down", cmd_down, NEEDS_STORE_WRITE | NEEDS_PROJECT | NEEDS_REAL_CLOCK, 1, 1,
	  "stop a service's instances and its HAProxy", usage_down },
	{ "engine-sim", cmd_engine_sim, NEEDS_STORE_WRITE, 1, 1,
	  "run the controller on a simulated clock (testing aid)", usage_engine_sim },
	{ "flag", cmd_flag, NEEDS_STORE_WRITE | HAS_JSON, 1, -1,
	  "feature flags and segments per environment: list, get, set, apply, history", usage_flag },
	{ "history", cmd_history, NEEDS_STORE_READ | HAS_JSON, 1, 1,
	  "a service's deployments, newest first", usage_history },
	{ "incident", cmd_incident, NEEDS_STORE_WRITE | HAS_JSON, 1, 2,
	  "open, resolve and list incidents", usage_incident },
	{ "inspect", cmd_inspect, HAS_JSON, 1, -1,
	  "load rollout and analysis files (Flagger, Argo) and show what they become", usage_inspect },
	{ "instances", cmd_instances, NEEDS_STORE_WRITE | NEEDS_PROJECT | HAS_JSON | NEEDS_REAL_CLOCK, 1, 1,
	  "list a service's instances and traffic shares", usage_instances },
	{ "log", cmd_log, NEEDS_STORE_READ | HAS_JSON, 0, 0,
	  "the deployment log of every service", usage_log },
	{ "metrics", cmd_metrics, NEEDS_STORE_WRITE | NEEDS_PROJECT | HAS_JSON | NEEDS_REAL_CLOCK, 0, 1,
	  "requests, errors and latency per revision, from HAProxy's log", usage_metrics },
	{ "notify", cmd_notify, NEEDS_STORE_WRITE | NEEDS_POLICY | HAS_JSON, 1, 1,
	  "test channels, deliver and list notifications", usage_notify },
	{ "pause", cmd_pause, NEEDS_STORE_WRITE | HAS_JSON, 1, 1,
	  "hold a rollout at its current weight (records an intent)", usage_pause },
	{ "pack", cmd_pack, NEEDS_STORE_WRITE | NEEDS_POLICY | NEEDS_PROJECT | HAS_JSON | NEEDS_REAL_CLOCK, 1, 3,
	  "ship an agent pack: staging and its tests, then production dark and a guarded rollout",
	  usage_pack },
	{ "policy", cmd_policy, NEEDS_POLICY | HAS_JSON, 1, 2,
	  "show or validate the deployment policy", usage_policy },
	{ "promote", cmd_promote, NEEDS_STORE_WRITE | HAS_JSON, 1, 1,
	  "move a rollout to its next step, or --full to 100%", usage_promote },
	{ "reject", cmd_reject, NEEDS_STORE_WRITE | NEEDS_POLICY | HAS_JSON, 1, 1,
	  "reject a deployment for a role", usage_reject },
	{ "resume", cmd_resume, NEEDS_STORE_WRITE | HAS_JSON, 1, 1,
	  "continue a paused rollout (records an intent)", usage_resume },
	{ "retry", cmd_retry, NEEDS_STORE_WRITE | HAS_JSON, 1, 1,
	  "deploy a rolled-back revision again (records an intent)", usage_retry },
	{ "rollout", cmd_rollout, NEEDS_STORE_WRITE | NEEDS_POLICY | NEEDS_PROJECT | HAS_JSON | NEEDS_REAL_CLOCK, 2, 2,
	  "a guarded flag rollout, step by step, set back on a regression", usage_rollout },
	{ "serve", cmd_serve, NEEDS_STORE_WRITE | NEEDS_POLICY | NEEDS_PROJECT | HAS_JSON | NEEDS_REAL_CLOCK, 0, 0,
	  "run the controller of this project and store: every deployment, every intent", usage_serve },
	{ "show", cmd_show, NEEDS_STORE_READ | NEEDS_POLICY | HAS_JSON, 1, 1,
	  "one deployment: timeline, comparison, approvals, messages", usage_show },
	{ "simulate", cmd_simulate, NEEDS_POLICY | HAS_JSON, 0, 0,
	  "how long a rollout takes and what it catches, on simulated traffic", usage_simulate },
	{ "start", cmd_start, NEEDS_STORE_WRITE | NEEDS_PROJECT | HAS_JSON | NEEDS_REAL_CLOCK, 2, 2,
	  "start a revision's instances behind HAProxy (plumbing)", usage_start },
	{ "status", cmd_status, NEEDS_STORE_READ | HAS_JSON, 0, 1,
	  "show deployments, transitions, intents and the last analysis", usage_status },
	{ "stop", cmd_stop, NEEDS_STORE_WRITE | NEEDS_PROJECT | NEEDS_REAL_CLOCK, 2, 2,
	  "drain and stop a revision's instances (plumbing)", usage_stop },
	{ "token", cmd_token, NEEDS_STORE_WRITE | NEEDS_POLICY | HAS_JSON, 1, 2,
	  "create, list and revoke the HTTP API's bearer tokens", usage_token },
	{ "traffic", cmd_traffic, NEEDS_STORE_WRITE | NEEDS_PROJECT | HAS_JSON | NEEDS_REAL_CLOCK, 1, 1,
	  "set the traffic mode: normal, read-only, maintenance", usage_traffic },
	{ "undo", cmd_undo, NEEDS_STORE_WRITE | HAS_JSON, 1, 1,
	  "go back to the previous revision or --to-revision N", usage_undo },
	{ "version", cmd_version, HAS_JSON, 0, 0,
	  "print the version", usage_version },
	{ "weight", cmd_weight, NEEDS_STORE_WRITE | NEEDS_PROJECT | NEEDS_REAL_CLOCK, 2, -1,
	  "set revisions' traffic shares through HAProxy's runtime API", usage_weight },
};

const struct command *cli_find_command(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

int cmd_version(int argc, char **argv, struct cli_ctx *ctx)
{
	int rc = cli_parse(ctx, argc, argv, NULL, NULL, NULL);
	if (rc != EXIT_OK)
		return rc;
	if (ctx->output == OUTPUT_JSON) {
		json_t *j = cli_doc("Version");
		json_object_set_new(j, "version", json_string(SLIPWAY_VERSION));
		cli_print_json(j);
	} else {
		printf("slipway %s\n", SLIPWAY_VERSION);
	}
	return EXIT_OK;
}

static void print_main_help(FILE *out)
{
	fprintf(out,
		"usage: slipway [GLOBAL OPTIONS] COMMAND [ARGS]\n"
		"\n"
		"slipway enforces a deployment policy and runs progressive rollouts.\n"
		"\n"
		"Commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "   %-12s %s\n", commands[i].name, commands[i].summary);
	fprintf(out,
		"\n"
		"Global options (anywhere on the line, before or after COMMAND):\n"
		"   --state-dir DIR       where the store and logs live ($SLIPWAY_STATE_DIR, default .slipway)\n"
		"   -p, --policy FILE     the policy file ($SLIPWAY_POLICY, default slipway.yaml if it exists,\n"
		"                         else the built-in runbook v1.0 policy)\n"
		"   -o, --output FORMAT   text (default) or json (docs/schema/)\n"
		"   -v, --verbose         debug log lines too\n"
		"   -q, --quiet           log warnings and errors only\n"
		"   --log-format FORMAT   log lines as text (default) or json\n"
		"   --help, --version\n"
		"\n"
		"Run 'slipway COMMAND --help' for a command's options.  Exit codes: docs/exit-codes.md.\n");
}

static int wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			return 0;
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return 1;
	}
	return 0;
}

static int finish_stdout(void)
{
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "slipway: error: cannot write the output: %s\n", strerror(errno ? errno : EIO));
		return EXIT_RUNTIME;
	}
	return EXIT_OK;
}

/* a second slipway on one service says at once whom it waits for */
static void say_waiting(const char *msg)
{
	cli_warning("%s", msg);
}

int main(int argc, char **argv)
{
	struct cli_ctx ctx = { .progname = "slipway", .output = OUTPUT_TEXT, .log_level = LOG_INFO };
	const struct command *cmd;
	int i, rc;

	ctx.state_dir = getenv("SLIPWAY_STATE_DIR");
	ctx.policy_path = getenv("SLIPWAY_POLICY");
	localstack_on_wait = say_waiting;

	/* the options before COMMAND: --help and --version here, the global
	 * ones through the same parser the command uses after it */
	for (i = 1; i < argc && argv[i][0] == '-' && strcmp(argv[i], "--"); i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			print_main_help(stdout);
			return finish_stdout();
		}
		if (!strcmp(argv[i], "--version")) {
			printf("slipway %s\n", SLIPWAY_VERSION);
			return finish_stdout();
		}
	}
	/* a bad option before COMMAND: its one-line error and a pointer to --help
	   (as git does), not the whole usage */
	if ((rc = cli_parse(&ctx, argc, argv, NULL, NULL, &i)) != EXIT_OK)
		return rc;
	i = argc - i; /* the index of COMMAND */
	if (i >= argc) {
		print_main_help(stderr);
		return EXIT_USAGE;
	}
	cmd = cli_find_command(argv[i]);
	if (!cmd) {
		fprintf(stderr, "slipway: error: '%s' is not a slipway command; see 'slipway --help'\n", argv[i]);
		return EXIT_USAGE;
	}
	argc -= i;
	argv += i;
	if (wants_help(argc, argv)) {
		fputs(cmd->usage, stdout);
		return finish_stdout();
	}
	ctx.cmd = cmd;
	if ((rc = cli_clock_init(&ctx)) != EXIT_OK)
		return rc;
	rc = cmd->fn(argc, argv, &ctx);
	cli_store_close(&ctx);
	/* an answer that could not be written is no answer, whatever it was */
	if (finish_stdout() != EXIT_OK)
		rc = EXIT_RUNTIME;
	return rc;
}
