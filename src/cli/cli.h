/*
 * cli.h - what every command front end shares: the command table entry, the
 * context the dispatcher hands a command, output helpers and exit codes.
 *
 * A command is `int cmd_NAME(int argc, char **argv, struct cli_ctx *ctx)`;
 * argv[0] is the command name, options are parsed by the command with
 * getopt_long (optind is reset by the dispatcher).  It returns an exit code
 * (enum exit_code), never calls exit() itself.  Results go to stdout,
 * progress and errors to stderr (docs/ARCHITECTURE.md, "Conventions in force").
 */
#ifndef SLIPWAY_CLI_CLI_H
#define SLIPWAY_CLI_CLI_H

#include <stdio.h>
#include <jansson.h>

/* Exit codes; documented in docs/exit-codes.md.  Keep both in step. */
enum exit_code {
	EXIT_OK = 0,		/* success: allowed, promoted, done */
	EXIT_NO = 1,		/* the answer is no: blocked, rolled back, failed, check failed */
	EXIT_USAGE = 2,		/* bad usage or invalid input (policy, config, trace) */
	EXIT_RUNTIME = 3,	/* could not do it: store, router, target or network error */
	EXIT_WAITING = 4,	/* stopped waiting on a person: paused, approvals pending */
};

enum output_format {
	OUTPUT_TEXT = 0,
	OUTPUT_JSON,
};

struct cli_ctx {
	const char *progname;	/* "slipway" */
	const char *state_dir;	/* --state-dir, $SLIPWAY_STATE_DIR or ".slipway" */
	const char *policy_path;/* --policy, $SLIPWAY_POLICY, "slipway.yaml" if present, else NULL (built-in) */
	enum output_format output;
};

struct command {
	const char *name;
	int (*fn)(int argc, char **argv, struct cli_ctx *ctx);
	const char *summary;	/* one line for `slipway --help` */
	const char *usage;	/* full text for `slipway NAME --help` */
};

/* Parse the value of -o/--output ("text" or "json") into ctx.  Returns 0, or
 * prints an error naming the valid values and returns -1. */
int cli_parse_output(struct cli_ctx *ctx, const char *value);

/* Print j to stdout as indented JSON with a newline, and drop the reference. */
void cli_print_json(json_t *j);

/* Errors and warnings on stderr, prefixed "slipway: error: " (lowercase text,
 * no trailing period, names in quotes, after systemd's log messages). */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cli_warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print "usage: ..." of the running command and return EXIT_USAGE. */
int cli_usage_error(const struct cli_ctx *ctx, const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Whether stdout / stderr is a terminal (for progress and colour). */
int cli_stdout_is_tty(void);
int cli_stderr_is_tty(void);

/* The command table (cli/main.c) for help and tests. */
const struct command *cli_find_command(const char *name);

#endif
