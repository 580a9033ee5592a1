/*
 * context.c - what the dispatcher resolves for every command, written once:
 * the option parser with the global options, the store, the clock, the
 * caller's identity, the error -> exit code mapping and log lines; see
 * cli.h.  Each used to be written by hand in the commands, with drift (a
 * different set of migrations per store opening, a $USER fallback in one
 * identity rule, three exit codes for one error).
 */
/* fopencookie() needs _GNU_SOURCE, which the build defines */
#include "cli/cli.h"
#include "adapters/approvals.h"
#include "adapters/deployment_store.h"
#include "adapters/emergency.h"
#include "adapters/incidents.h"
#include "adapters/local_store.h"
#include "adapters/metrics_builtin.h"
#include "adapters/notify.h"
#include "adapters/store.h"
#include "controller/localstack.h"
#include "base/alloc.h"
#include "base/err.h"
#include "base/limits.h"
#include "base/strbuf.h"
#include "base/timeutil.h"

#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- options ---- */

enum { GOPT_STATE_DIR, GOPT_POLICY, GOPT_OUTPUT, GOPT_VERBOSE, GOPT_QUIET, GOPT_LOG_FORMAT, GOPT_N };

static const struct { const char *name; int short_name, has_arg; } globals[GOPT_N] = {
	[GOPT_STATE_DIR] = { "state-dir", 0, 1 },
	[GOPT_POLICY] = { "policy", 'p', 1 },
	[GOPT_OUTPUT] = { "output", 'o', 1 },
	[GOPT_VERBOSE] = { "verbose", 'v', 0 },
	[GOPT_QUIET] = { "quiet", 'q', 0 },
	[GOPT_LOG_FORMAT] = { "log-format", 0, 1 },
};

#define OPT_BASE 256 /* getopt's val for option i: OPT_BASE + i (globals first) */

static int set_global(struct cli_ctx *ctx, int g, const char *v)
{
	switch (g) {
	case GOPT_STATE_DIR: ctx->state_dir = v; break;
	case GOPT_POLICY: ctx->policy_path = v; break;
	case GOPT_OUTPUT:
		if (cli_parse_output(ctx, v))
			return -1;
		break;
	case GOPT_VERBOSE: ctx->log_level = LOG_DEBUG; break;
	case GOPT_QUIET: ctx->log_level = LOG_WARN; break;
	case GOPT_LOG_FORMAT:
		if (!strcmp(v, "text"))
			ctx->log_format = LOG_FORMAT_TEXT;
		else if (!strcmp(v, "json"))
			ctx->log_format = LOG_FORMAT_JSON;
		else {
			cli_error("unknown log format '%s'; valid: text, json", v);
			return -1;
		}
		break;
	}
	return 0;
}

int cli_parse(struct cli_ctx *ctx, int argc, char **argv, const struct cli_option *opts, char ***args,
	      int *nargs)
{
	const struct command *cmd = ctx->cmd;
	const char *name = cmd ? cmd->name : NULL; /* NULL: "run 'slipway --help'" */
	size_t n = 0, total, k = 0;
	struct option *lo;
	struct strbuf shorts = STRBUF_INIT;
	int c, rc = EXIT_OK, stop_at_command = !cmd;

	while (opts && (opts[n].name || opts[n].short_name))
		n++;
	total = GOPT_N + n;
	lo = xcalloc(total + 1, sizeof(*lo));
	/* "+": the dispatcher's own pass stops at the command name; ":": report a missing value */
	strbuf_addstr(&shorts, stop_at_command ? "+:" : ":");
	for (size_t i = 0; i < total; i++) {
		const char *nm = i < GOPT_N ? globals[i].name : opts[i - GOPT_N].name;
		int sh = i < GOPT_N ? globals[i].short_name : opts[i - GOPT_N].short_name;
		int has_arg = i < GOPT_N ? globals[i].has_arg : opts[i - GOPT_N].value != NULL;
		if (nm) {
			lo[k].name = nm;
			lo[k].has_arg = has_arg ? required_argument : no_argument;
			lo[k].val = OPT_BASE + (int)i;
			k++;
		}
		if (sh) {
			strbuf_addch(&shorts, sh);
			if (has_arg)
				strbuf_addch(&shorts, ':');
		}
	}
	opterr = 0;
	optind = 0; /* a full reset: the dispatcher may have parsed before */
	for (;;) {
		int idx = -1;
		char what[80];
		c = getopt_long(argc, argv, shorts.buf, lo, NULL);
		if (c == -1)
			break;
		if (c == '?' || c == ':') {
			int oo = optopt;
			if (oo >= OPT_BASE)
				snprintf(what, sizeof(what), "--%s", oo - OPT_BASE < GOPT_N ? globals[oo - OPT_BASE].name
									     : opts[oo - OPT_BASE - GOPT_N].name);
			else if (oo)
				snprintf(what, sizeof(what), "-%c", oo);
			else /* an unknown long option: as typed, without its value */
				snprintf(what, sizeof(what), "%.*s", (int)strcspn(argv[optind - 1], "="), argv[optind - 1]);
			if (c == ':')
				rc = cli_usage_error(ctx, name, "option '%s' needs a value", what);
			else
				rc = cli_usage_error(ctx, name, "unknown option '%s'", what);
			goto out;
		}
		if (c >= OPT_BASE) {
			idx = c - OPT_BASE;
		} else {
			for (size_t i = 0; i < total && idx < 0; i++) {
				int sh = i < GOPT_N ? globals[i].short_name : opts[i - GOPT_N].short_name;
				if (sh == c)
					idx = (int)i;
			}
		}
		if (idx < GOPT_N) {
			if (set_global(ctx, idx, optarg)) {
				rc = EXIT_USAGE;
				goto out;
			}
		} else if (opts[idx - GOPT_N].count) {
			const struct cli_option *o = &opts[idx - GOPT_N];
			if (*o->count >= o->max) {
				rc = cli_usage_error(ctx, name, "at most %d --%s options", o->max, o->name);
				goto out;
			}
			o->value[(*o->count)++] = optarg;
		} else if (opts[idx - GOPT_N].value) {
			*opts[idx - GOPT_N].value = optarg;
		} else {
			*opts[idx - GOPT_N].flag = 1;
		}
	}
	if (args)
		*args = argv + optind;
	if (nargs)
		*nargs = argc - optind;
	if (!cmd)
		goto out;
	if (ctx->output == OUTPUT_JSON && !(cmd->needs & HAS_JSON)) {
		rc = cli_usage_error(ctx, name, "'%s' has no JSON output; drop -o json", name);
		goto out;
	}
	if (argc - optind < cmd->min_args || (cmd->max_args >= 0 && argc - optind > cmd->max_args)) {
		const char *u = cmd->usage + (strncmp(cmd->usage, "usage: ", 7) ? 0 : 7);
		if (argc - optind > cmd->max_args && cmd->max_args >= 0)
			rc = cli_usage_error(ctx, name, "unexpected argument '%s'", argv[optind + cmd->max_args]);
		else
			rc = cli_usage_error(ctx, name, "missing arguments; expected: %.*s", (int)strcspn(u, "\n"), u);
		goto out;
	}
	/* the defaults, after every place a global option may have been given */
	if (!ctx->state_dir || !*ctx->state_dir)
		ctx->state_dir = ".slipway";
	if ((!ctx->policy_path || !*ctx->policy_path) && access("slipway.yaml", F_OK) == 0)
		ctx->policy_path = "slipway.yaml";
	if (ctx->policy_path && !*ctx->policy_path)
		ctx->policy_path = NULL;
	if (!ctx->project_dir)
		ctx->project_dir = localstack_project_dir(NULL);
out:
	free(lo);
	strbuf_release(&shorts);
	return rc;
}

/* ---- the store ---- */

static struct store the_store;

static int open_store(struct cli_ctx *ctx, int create, struct store **st)
{
	struct strbuf err = STRBUF_INIT, path = STRBUF_INIT;
	struct stat sb;
	int r;

	if (ctx->store) {
		*st = ctx->store;
		return EXIT_OK;
	}
	if (!create) {
		strbuf_addf(&path, "%s/slipway.db", ctx->state_dir);
		if (stat(path.buf, &sb) < 0) {
			cli_error("no store in '%s' (nothing recorded there yet); give --state-dir DIR or "
				  "$SLIPWAY_STATE_DIR to read another", ctx->state_dir);
			strbuf_release(&path);
			return EXIT_USAGE;
		}
		strbuf_release(&path);
	}
	r = store_open(&the_store, ctx->state_dir, &err);
	if (!r)
		r = deployment_store_migrate(&the_store, &err);
	if (!r)
		r = approvals_migrate(&the_store, &err); /* with audit */
	if (!r)
		r = emergency_migrate(&the_store, &err);
	if (!r)
		r = incidents_migrate(&the_store, &err);
	if (!r)
		r = notify_migrate(&the_store, &err);
	if (!r)
		r = local_store_migrate(&the_store, &err);
	if (!r)
		r = metrics_store_migrate(&the_store, &err);
	if (r) {
		cli_error("%s", err.len ? err.buf : slipway_strerror(r));
		strbuf_release(&err);
		store_close(&the_store);
		return cli_exit(r);
	}
	strbuf_release(&err);
	ctx->store = *st = &the_store;
	return EXIT_OK;
}

int cli_store(struct cli_ctx *ctx, struct store **st)
{
	return open_store(ctx, !ctx->cmd || (ctx->cmd->needs & NEEDS_STORE_WRITE), st);
}

int cli_store_read(struct cli_ctx *ctx, struct store **st)
{
	return open_store(ctx, 0, st);
}

void cli_store_close(struct cli_ctx *ctx)
{
	if (ctx->store)
		store_close(ctx->store);
	ctx->store = NULL;
}

/* ---- clock, identity, exit codes ---- */

static int64_t fixed_now_ms; /* 0: the real clock */

int cli_clock_init(const struct cli_ctx *ctx)
{
	const char *v = getenv("SLIPWAY_NOW");
	struct strbuf err = STRBUF_INIT;
	int64_t days;

	const char *user = getenv("SLIPWAY_USER");

	/* the identity rule's override must fit where identities are kept */
	if (user && strlen(user) > SW_USER_MAX) {
		cli_error("SLIPWAY_USER is longer than %d bytes", SW_USER_MAX);
		return EXIT_USAGE;
	}
	fixed_now_ms = 0;
	if (!v || !*v)
		return EXIT_OK;
	if (ctx->cmd && (ctx->cmd->needs & NEEDS_REAL_CLOCK)) {
		cli_error("SLIPWAY_NOW is set, but '%s' drives live processes on the real clock; unset it",
			  ctx->cmd->name);
		return EXIT_USAGE;
	}
	if (strlen(v) == 10 && !date_parse(v, &days, NULL)) {
		fixed_now_ms = days * MS_PER_DAY;
	} else if (time_parse_rfc3339(v, &fixed_now_ms, &err) < 0) {
		cli_error("SLIPWAY_NOW '%s': %s; give an RFC 3339 time such as 2026-12-03T15:00:00Z", v, err.buf);
		strbuf_release(&err);
		return EXIT_USAGE;
	}
	strbuf_release(&err);
	return EXIT_OK;
}

int64_t cli_now_ms(void)
{
	struct timespec ts;
	if (fixed_now_ms)
		return fixed_now_ms;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *cli_caller(const char **identity)
{
	static char os_user[256], note[400];
	const char *env = getenv("SLIPWAY_USER");
	struct passwd *pw = getpwuid(geteuid());

	snprintf(os_user, sizeof(os_user), "%s", pw && pw->pw_name ? pw->pw_name : "unknown");
	if (env && *env) {
		snprintf(note, sizeof(note), "env:SLIPWAY_USER (os user %s)", os_user);
		if (identity)
			*identity = note;
		return env;
	}
	if (identity)
		*identity = "os";
	return os_user;
}

int cli_exit(int r)
{
	return r >= 0 ? EXIT_OK : slipway_error_exit(r);
}

/* ---- log lines ---- */

static const char *const level_names[] = { "error", "warn", "info", "debug" };

static void log_line(const struct cli_ctx *ctx, enum log_level level, const char *msg, size_t len)
{
	char at[RFC3339_BUFSZ];
	if (level > ctx->log_level)
		return;
	time_format_rfc3339(cli_now_ms(), at);
	if (ctx->log_format == LOG_FORMAT_JSON) {
		json_t *j = json_pack("{s:s, s:s, s:s%}", "time", at, "level", level_names[level], "msg", msg, len);
		char *s = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
		if (s)
			fprintf(stderr, "%s\n", s);
		free(s);
		json_decref(j);
	} else {
		fprintf(stderr, "%s %-5s %.*s\n", at, level_names[level], (int)len, msg);
	}
	fflush(stderr);
}

void cli_log(const struct cli_ctx *ctx, enum log_level level, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	log_line(ctx, level, sb.buf, sb.len);
	strbuf_release(&sb);
}

struct log_cookie {
	const struct cli_ctx *ctx;
	struct strbuf line;
};

/* The level of a line the controller wrote as text: its log hook reports
 * errors ("controller: ..."), a message that could not be queued and a
 * rollback or failure are warnings, the rest is information. */
static enum log_level level_of(const char *s)
{
	while (*s == ' ')
		s++;
	if (!strncmp(s, "controller:", 11))
		return LOG_ERROR;
	if (!strncmp(s, "notify:", 7) || !strncmp(s, "rolled_back", 11) || !strncmp(s, "failed", 6) ||
	    strstr(s, "error"))
		return LOG_WARN;
	return LOG_INFO;
}

static ssize_t log_write(void *cookie, const char *buf, size_t size)
{
	struct log_cookie *lc = cookie;
	size_t i = 0;
	while (i < size) {
		/* a progress redraw: "\r\033[K" clears the line; it passes through */
		if (buf[i] == '\r') {
			size_t j = i + 1;
			if (j + 1 < size && buf[j] == '\033' && buf[j + 1] == '[') {
				j += 2;
				while (j < size && buf[j] != 'K')
					j++;
				j++;
			}
			if (lc->line.len == 0) {
				const char *nl = memchr(buf + j, '\n', size - j);
				if (!nl) { /* a progress line, no newline: straight to the terminal */
					fwrite(buf + i, 1, size - i, stderr);
					fflush(stderr);
					return (ssize_t)size;
				}
				fwrite(buf + i, 1, j - i, stderr);
			}
			i = j > size ? size : j;
			continue;
		}
		if (buf[i] == '\n') {
			log_line(lc->ctx, level_of(lc->line.buf), lc->line.buf, lc->line.len);
			strbuf_reset(&lc->line);
		} else {
			strbuf_addch(&lc->line, buf[i]);
		}
		i++;
	}
	return (ssize_t)size;
}

static int log_close(void *cookie)
{
	struct log_cookie *lc = cookie;
	if (lc->line.len)
		log_line(lc->ctx, level_of(lc->line.buf), lc->line.buf, lc->line.len);
	strbuf_release(&lc->line);
	free(lc);
	return 0;
}

FILE *cli_log_stream(const struct cli_ctx *ctx)
{
	cookie_io_functions_t io = { .write = log_write, .close = log_close };
	struct log_cookie *lc;
	FILE *f;
	lc = xcalloc(1, sizeof(*lc));
	lc->ctx = ctx;
	strbuf_init(&lc->line, 0);
	f = fopencookie(lc, "w", io);
	if (!f) {
		free(lc);
		return NULL;
	}
	setvbuf(f, NULL, _IOLBF, 0);
	return f;
}
