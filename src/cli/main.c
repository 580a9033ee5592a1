/*
 * main.c - the dispatcher and the one command table (docs/ARCHITECTURE.md,
 * after git's commands[] in git.c).
 *
 * `slipway [--state-dir DIR] [--policy FILE] COMMAND [ARGS]`.  The dispatcher
 * resolves the global options, answers --help and --version, runs the
 * command, and checks that stdout was written without error (a full disk or a
 * closed pipe is an error, exit 3, not silent success).
 */
#include "config.h"
#include "cli/cli.h"
#include "cli/commands.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char usage_version[] =
	"usage: slipway version\n"
	"\n"
	"Print slipway's version.\n";

static const struct command commands[] = {
	/* name, function, summary, usage: keep sorted by name */
	{ "abort", cmd_abort, "roll a deployment back now (records an intent)", usage_abort },
	{ "analyze", cmd_analyze, "replay a metrics trace through the rollout engine", usage_analyze },
	{ "approvals", cmd_approvals, "show a deployment's approval gate", usage_approvals },
	{ "approve", cmd_approve, "approve a deployment for a role", usage_approve },
	{ "audit", cmd_audit, "list and verify the audit log", usage_audit },
	{ "calendar", cmd_calendar, "when a deployment may start: windows, approvals, freezes", usage_calendar },
	{ "check", cmd_check, "may a deployment start now (or at --at)?", usage_check },
	{ "cleanup", cmd_cleanup, "remove old release directories (runbook: --keep 2)", usage_cleanup },
	{ "deploy", cmd_deploy, "deploy a release on this machine: canary steps, analysis, promotion or rollback", usage_deploy },
	{ "deployments", cmd_deployments, "list a service's deployment records", usage_deployments },
	{ "dora", cmd_dora, "deployment metrics against the runbook's targets", usage_dora },
	{ "down", cmd_down, "stop a service's instances and its HAProxy", usage_down },
	{ "engine-sim", cmd_engine_sim, "run the controller on a simulated clock (testing aid)", usage_engine_sim },
	{ "history", cmd_history, "a service's deployments, newest first", usage_history },
	{ "incident", cmd_incident, "open, resolve and list incidents", usage_incident },
	{ "instances", cmd_instances, "list a service's instances and traffic shares", usage_instances },
	{ "log", cmd_log, "the deployment log of every service", usage_log },
	{ "metrics", cmd_metrics, "requests, errors and latency per revision, from HAProxy's log", usage_metrics },
	{ "notify", cmd_notify, "test channels, deliver and list notifications", usage_notify },
	{ "pause", cmd_pause, "hold a rollout at its current weight (records an intent)", usage_pause },
	{ "policy", cmd_policy, "show or validate the deployment policy", usage_policy },
	{ "promote", cmd_promote, "move a rollout to its next step, or --full to 100%", usage_promote },
	{ "reject", cmd_reject, "reject a deployment for a role", usage_reject },
	{ "resume", cmd_resume, "continue a paused rollout (records an intent)", usage_resume },
	{ "retry", cmd_retry, "deploy a rolled-back revision again (records an intent)", usage_retry },
	{ "show", cmd_show, "one deployment: timeline, comparison, approvals, messages", usage_show },
	{ "simulate", cmd_simulate, "how long a rollout takes and what it catches, on simulated traffic", usage_simulate },
	{ "start", cmd_start, "start a revision's instances behind HAProxy (plumbing)", usage_start },
	{ "status", cmd_status, "show deployments, transitions, intents and the last analysis", usage_status },
	{ "stop", cmd_stop, "drain and stop a revision's instances (plumbing)", usage_stop },
	{ "traffic", cmd_traffic, "set the traffic mode: normal, read-only, maintenance", usage_traffic },
	{ "undo", cmd_undo, "go back to the previous revision or --to-revision N", usage_undo },
	{ "version", cmd_version, "print the version", usage_version },
	{ "weight", cmd_weight, "set revisions' traffic shares through HAProxy's runtime API", usage_weight },
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
	printf("slipway %s\n", SLIPWAY_VERSION);
	return EXIT_OK;
}

static void print_main_help(FILE *out)
{
	fprintf(out,
		"usage: slipway [--state-dir DIR] [--policy FILE] COMMAND [ARGS]\n"
		"\n"
		"slipway enforces a deployment policy and runs progressive rollouts.\n"
		"\n"
		"Commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "   %-12s %s\n", commands[i].name, commands[i].summary);
	fprintf(out,
		"\n"
		"Global options:\n"
		"   --state-dir DIR   where the store and logs live ($SLIPWAY_STATE_DIR, default .slipway)\n"
		"   --policy FILE     the policy file ($SLIPWAY_POLICY, default slipway.yaml if it exists,\n"
		"                     else the built-in runbook v1.0 policy)\n"
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

int main(int argc, char **argv)
{
	struct cli_ctx ctx = { .progname = "slipway", .output = OUTPUT_TEXT };
	const struct command *cmd;
	int i = 1, rc;

	ctx.state_dir = getenv("SLIPWAY_STATE_DIR");
	ctx.policy_path = getenv("SLIPWAY_POLICY");

	while (i < argc && argv[i][0] == '-') {
		const char *a = argv[i];
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			print_main_help(stdout);
			return finish_stdout();
		} else if (!strcmp(a, "--version")) {
			return cmd_version(1, argv, &ctx) | finish_stdout();
		} else if (!strcmp(a, "--state-dir") && i + 1 < argc) {
			ctx.state_dir = argv[++i];
		} else if (!strncmp(a, "--state-dir=", 12)) {
			ctx.state_dir = a + 12;
		} else if (!strcmp(a, "--policy") && i + 1 < argc) {
			ctx.policy_path = argv[++i];
		} else if (!strncmp(a, "--policy=", 9)) {
			ctx.policy_path = a + 9;
		} else if (!strcmp(a, "--state-dir") || !strcmp(a, "--policy")) {
			fprintf(stderr, "slipway: error: option '%s' needs a value\n", a);
			return EXIT_USAGE;
		} else {
			fprintf(stderr, "slipway: error: unknown option '%s'\n", a);
			print_main_help(stderr);
			return EXIT_USAGE;
		}
		i++;
	}
	if (i >= argc) {
		print_main_help(stderr);
		return EXIT_USAGE;
	}
	if (!ctx.state_dir || !*ctx.state_dir)
		ctx.state_dir = ".slipway";
	if ((!ctx.policy_path || !*ctx.policy_path) && access("slipway.yaml", F_OK) == 0)
		ctx.policy_path = "slipway.yaml";
	if (ctx.policy_path && !*ctx.policy_path)
		ctx.policy_path = NULL;

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
	optind = 0; /* full getopt reset for the command */
	rc = cmd->fn(argc, argv, &ctx);
	/* an answer that could not be written is no answer, whatever it was */
	if (finish_stdout() != EXIT_OK)
		rc = EXIT_RUNTIME;
	return rc;
}
