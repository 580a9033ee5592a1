/*
 * context.c - what the dispatcher resolves for every command, written once:
 * the global options' defaults, the store, the clock, the caller's
 * identity, the error -> exit code mapping and log lines; see cli.h (the
 * option parser is args.c).  Each used to be written by hand in the commands, with drift (a
 * different set of migrations per store opening, a $USER fallback in one
 * identity rule, three exit codes for one error).
 */
/* fopencookie() needs _GNU_SOURCE, which the build defines */
#include "cli/cli.h"
#include "adapters/store.h"
#include "adapters/store_all.h"
#include "controller/localstack.h"
#include "base/alloc.h"
#include "base/err.h"
#include "base/limits.h"
#include "base/strbuf.h"
#include "base/timeutil.h"

#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- the defaults of the global options ---- */

void cli_ctx_defaults(struct cli_ctx *ctx)
{
	if (!ctx->state_dir || !*ctx->state_dir)
		ctx->state_dir = ".slipway";
	if ((!ctx->policy_path || !*ctx->policy_path) && access("slipway.yaml", F_OK) == 0)
		ctx->policy_path = "slipway.yaml";
	if (ctx->policy_path && !*ctx->policy_path)
		ctx->policy_path = NULL;
	if (!ctx->project_dir)
		ctx->project_dir = localstack_project_dir(NULL);
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
	if (!create && !store_in_env()) {
		strbuf_addf(&path, "%s/slipway.db", ctx->state_dir);
		if (stat(path.buf, &sb) < 0) {
			cli_error("no store in '%s' (nothing recorded there yet); give --state-dir DIR or "
				  "$SLIPWAY_STATE_DIR to read another", ctx->state_dir);
			strbuf_release(&path);
			return EXIT_USAGE;
		}
		strbuf_release(&path);
	}
	r = store_open_all(&the_store, ctx->state_dir, &err);
	if (r) {
		cli_error("%s", err.len ? err.buf : slipway_strerror(r));
		strbuf_release(&err);
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
	for (const unsigned char *p = (const unsigned char *)(user ? user : ""); *p; p++)
		if (*p < 0x20 || *p == 0x7f) {
			cli_error("SLIPWAY_USER has a control character (byte 0x%02x); give a printable name", *p);
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
 * errors ("controller: ..."; in `slipway serve`, after a "SERVICE/ENV: "), a message that could not be queued and a
 * rollback or failure are warnings, the rest is information. */
static enum log_level level_of(const char *s)
{
	static const char *const warn[] = { "notify:", "rolled_back ", "rolling_back ", "failed ", "paused ",
					    "[rollback-initiated]", "[rolled-back]", "[failed]", "[paused]" };
	const char *colon = strstr(s, ": ");
	/* `slipway serve` puts "SERVICE/ENV: " before a service environment's lines */
	if (colon && colon > s && memchr(s, '/', (size_t)(colon - s)) && !memchr(s, ' ', (size_t)(colon - s)))
		s = colon + 2;
	while (*s == ' ')
		s++;
	if (!strncmp(s, "controller:", 11))
		return LOG_ERROR;
	for (size_t i = 0; i < sizeof(warn) / sizeof(warn[0]); i++)
		if (!strncmp(s, warn[i], strlen(warn[i])))
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
