/*
 * cli.h - what every command front end shares: the command table entry, the
 * context the dispatcher hands a command, output helpers and exit codes.
 *
 * A command is `int cmd_NAME(int argc, char **argv, struct cli_ctx *ctx)`;
 * argv[0] is the command name; it declares its options as a table and
 * parses them with cli_parse(), and gets the store from cli_store().  It returns an exit code
 * (enum exit_code), never calls exit() itself.  Results go to stdout,
 * progress and errors to stderr (docs/ARCHITECTURE.md, "Conventions in force").
 */
#ifndef SLIPWAY_CLI_CLI_H
#define SLIPWAY_CLI_CLI_H

#include <stdint.h>
#include <stdio.h>
#include <jansson.h>

/* Exit codes; documented in docs/exit-codes.md.  Keep both in step. */
enum exit_code {
	EXIT_OK = 0,		/* success: allowed, promoted, done */
	EXIT_NO = 1,		/* the answer is no: blocked, rolled back, failed, check failed */
	EXIT_USAGE = 2,		/* bad usage or invalid input (policy, config, trace) */
	EXIT_RUNTIME = 3,	/* could not do it: store, router, target or network error */
	EXIT_WAITING = 4,	/* stopped waiting on a person: paused, approvals pending */
	EXIT_INTERRUPTED = 130,	/* deploy stopped by SIGINT/SIGTERM after a tick (128 + SIGINT, as shells say) */
};

enum output_format {
	OUTPUT_TEXT = 0,
	OUTPUT_JSON,
};

/* Log lines of the controller and of long-running commands (cli_log()). */
enum log_level {
	LOG_ERROR = 0,
	LOG_WARN,
	LOG_INFO,	/* the default */
	LOG_DEBUG,	/* -v */
};
enum log_format {
	LOG_FORMAT_TEXT = 0,	/* "2026-12-03T15:00:00.123Z info  message" */
	LOG_FORMAT_JSON,	/* {"time":"...","level":"info","msg":"..."}, one object a line */
};

/*
 * What a command needs (struct command.needs); the dispatcher and the
 * helpers below act on it, so a command never opens or resolves these on
 * its own.
 */
enum command_needs {
	NEEDS_STORE_READ = 1 << 0,	/* reads the store: never creates one (cli_store()) */
	NEEDS_STORE_WRITE = 1 << 1,	/* writes the store: created when missing */
	NEEDS_POLICY = 1 << 2,		/* applies the policy: --policy, $SLIPWAY_POLICY, ./slipway.yaml */
	NEEDS_PROJECT = 1 << 3,		/* reads the project directory: $SLIPWAY_PROJECT or "." */
	HAS_JSON = 1 << 4,		/* reports something: -o json is accepted */
	NEEDS_REAL_CLOCK = 1 << 5,	/* drives live processes on elapsed real time: refused while
					   $SLIPWAY_NOW is set (see cli_now_ms()) */
};

struct store;
struct strbuf;
struct command;

struct cli_ctx {
	const char *progname;	/* "slipway" */
	const char *state_dir;	/* --state-dir, $SLIPWAY_STATE_DIR or ".slipway" */
	const char *policy_path;/* --policy, $SLIPWAY_POLICY, "slipway.yaml" if present, else NULL (built-in) */
	const char *project_dir;/* $SLIPWAY_PROJECT or "." (NEEDS_PROJECT commands) */
	enum output_format output;
	enum log_level log_level;	/* -q: warnings and errors only; -v: debug too */
	enum log_format log_format;	/* --log-format text|json */
	const struct command *cmd;	/* the running command's table entry */
	struct store *store;	/* opened by cli_store() on first use, closed by the dispatcher */
};

/*
 * One entry of the command table (cli/main.c, after git's commands[] in
 * git.c): what the command needs and how many positional arguments (after
 * the options; subcommand words count) it takes.  The shared option parser
 * cli_parse() checks the counts.
 */
struct command {
	const char *name;
	int (*fn)(int argc, char **argv, struct cli_ctx *ctx);
	unsigned needs;		/* enum command_needs */
	int min_args, max_args;	/* max_args -1: no limit */
	const char *summary;	/* one line for `slipway --help` */
	const char *usage;	/* full text for `slipway NAME --help` */
};

/*
 * A command's option, for cli_parse(): a long name ("env" for --env; NULL:
 * short only), a short letter (0: none), and where it goes: a string option
 * stores its value in *value (the last one given wins); a flag sets *flag
 * to 1; a repeatable option appends its values to value[0 .. max) and
 * counts them in *count (more than max is a usage error).  Values are
 * converted and checked by the command after parsing.
 */
struct cli_option {
	const char *name;
	int short_name;
	const char **value;
	int *flag;
	int *count;	/* repeatable: value is an array of max */
	int max;
};
#define CLI_STRING(name, short_name, dest) { (name), (short_name), (dest), NULL, NULL, 0 }
#define CLI_FLAG(name, short_name, dest) { (name), (short_name), NULL, (dest), NULL, 0 }
#define CLI_LIST(name, short_name, array, count, max) { (name), (short_name), (array), NULL, (count), (max) }
#define CLI_OPTIONS_END { NULL, 0, NULL, NULL, NULL, 0 }

/*
 * The one option parser (getopt_long underneath): the command's options
 * plus the global ones (--state-dir, -p/--policy, -o/--output, -v/--verbose,
 * -q/--quiet, --log-format), anywhere on the line and in either form
 * (`--output=json`, `--output json`, `-o json`, `-ojson`); `--` ends the
 * options.  argv[0] is the command name.  On success *args points at the
 * positional arguments and *nargs is their count, checked against the
 * command's min_args/max_args, and the global defaults are resolved.
 * Returns EXIT_OK, or EXIT_USAGE after printing what is wrong (an unknown
 * option, a missing value, -o json for a command without JSON output, a
 * wrong argument count).
 */
int cli_parse(struct cli_ctx *ctx, int argc, char **argv, const struct cli_option *opts, char ***args,
	      int *nargs);

/* Resolve what the global options left unset: state_dir ($SLIPWAY_STATE_DIR
 * was read by the dispatcher, else ".slipway"), policy_path ("slipway.yaml"
 * when it exists, else NULL: the built-in policy), project_dir
 * ($SLIPWAY_PROJECT or ".").  cli_parse() calls it. */
void cli_ctx_defaults(struct cli_ctx *ctx);

/*
 * The store in ctx->state_dir, opened on first use with every module's
 * migrations (deployments, approvals with audit and emergency, incidents,
 * notifications, local target), closed by the dispatcher.  A
 * NEEDS_STORE_READ command never creates one: when there is none it says so
 * and returns EXIT_USAGE (a wrong --state-dir, or nothing recorded yet).
 * Returns EXIT_OK with *st set, or an exit code after printing the error.
 */
int cli_store(struct cli_ctx *ctx, struct store **st);
/* cli_store() for a reading subcommand of a writing command (incident
 * list, notify list): never creates a store. */
int cli_store_read(struct cli_ctx *ctx, struct store **st);
/* Close the store if cli_store() opened it (the dispatcher does this). */
void cli_store_close(struct cli_ctx *ctx);

/*
 * Now, ms since the epoch UTC: the one clock every command reads for "now"
 * (records' times, policy decisions, approval expiry, DORA ranges).
 * $SLIPWAY_NOW (RFC 3339 or YYYY-MM-DD) fixes it for every command, for
 * tests and demos; the commands that drive live processes on elapsed real
 * time (NEEDS_REAL_CLOCK: deploy, start, stop, metrics, ...) refuse to run
 * while it is set rather than half-honour it.  cli_clock_init() reads it
 * once (the dispatcher calls it).
 */
int64_t cli_now_ms(void);
/* Read $SLIPWAY_NOW for ctx->cmd, and check $SLIPWAY_USER fits SW_USER_MAX:
 * EXIT_OK, or EXIT_USAGE after saying why (not a time; set for a
 * NEEDS_REAL_CLOCK command; a user name too long). */
int cli_clock_init(const struct cli_ctx *ctx);

/*
 * Who is calling (the one identity rule: approvals, rejections, intents,
 * incidents, deploy's requester, notifications' owner): $SLIPWAY_USER when
 * set (a test and automation override; *identity then says so and names
 * the OS user, and the audit entry records it), else the OS user of the
 * effective uid (getpwuid(geteuid())), never $USER.  *identity (may be
 * NULL) gets "os" or "env:SLIPWAY_USER (os user NAME)".  Static storage.
 */
const char *cli_caller(const char **identity);

/* The exit code for a negative slipway error or -errno (the error table's
 * exit column, base/err.h; docs/exit-codes.md). */
int cli_exit(int r);

/*
 * A log line at level (dropped below ctx->log_level), on stderr, with an
 * RFC 3339 UTC timestamp and the level, as text or JSON (--log-format).
 */
void cli_log(const struct cli_ctx *ctx, enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/*
 * A stdio stream for code that logs to a FILE * (the controller's
 * local_deploy_opts.log): every line written to it becomes a cli_log()
 * line (level info; "error" for the controller's error reports, "warn"
 * for a rollback, a failure, a pause for a person or a notification that
 * could not be queued).  A progress redraw ("\r...")
 * passes through untouched.  Close with fclose().  NULL if the stream
 * cannot be made (pass stderr then).
 */
FILE *cli_log_stream(const struct cli_ctx *ctx);

/*
 * Print the runbook's comparison table (Metric | Baseline | Current | Delta
 * | Status) from its JSON rows (analysis_result_to_json()'s "table") with
 * units, as `analyze` prints it: error rate in percent, latencies in ms,
 * throughput in requests/s, delta in percent.  Each line starts with indent;
 * each column is as wide as its widest cell.
 */
void cli_print_comparison(json_t *rows, const char *indent);
/* The rollout file's queries of an analysis result ("queries": core/query_analysis.h
 * query_rows_to_json()): query, value, condition, outcome; nothing when absent. */
void cli_print_queries(json_t *rows, const char *indent);

/* Print j to stdout as indented JSON with a newline, and drop the reference. */
void cli_print_json(json_t *j);

/* Errors and warnings on stderr, prefixed "slipway: error: " (lowercase text,
 * no trailing period, names in quotes, after systemd's log messages). */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cli_warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print the error and where the usage of cmd is (cmd NULL: of slipway
 * itself) and return EXIT_USAGE. */
int cli_usage_error(const struct cli_ctx *ctx, const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Whether stdout / stderr is a terminal (for progress and colour). */
int cli_stdout_is_tty(void);
int cli_stderr_is_tty(void);

/* The command table (cli/main.c) for help and tests. */
const struct command *cli_find_command(const char *name);

/*
 * Check a --segment option of `flag set` or `rollout flag` (docs/flags.md):
 * a segment name, and (when st is not NULL) a segment defined in env.
 * 0; SW_EUSAGE (not a name) or SW_ENOTFOUND, with a message naming the
 * option and how to define the segment in err; or SW_ESTORE.
 */
int cli_segment_option(struct store *st, const char *env, const char *segment, struct strbuf *err);

#endif
