/*
 * args.c - the one option parser, cli_parse() (see cli.h): a command's
 * option table plus the global options, getopt_long underneath, the
 * argument counts of the command table.  It replaced a hand-written getopt
 * loop per command.  Apart from cli_ctx_defaults() it touches nothing but
 * ctx and its arguments, so tests/fuzz/fuzz_args.c can drive it alone.
 */
#include "cli/cli.h"
#include "base/alloc.h"
#include "base/strbuf.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* a bad global option's value: the one-line error and where the usage is (as
   for an unknown option), never the whole usage */
static int set_global(struct cli_ctx *ctx, const char *cmd, int g, const char *v)
{
	switch (g) {
	case GOPT_STATE_DIR: ctx->state_dir = v; break;
	case GOPT_POLICY: ctx->policy_path = v; break;
	case GOPT_OUTPUT:
		if (!strcmp(v, "json"))
			ctx->output = OUTPUT_JSON;
		else if (!strcmp(v, "text"))
			ctx->output = OUTPUT_TEXT;
		else if (v[0] == '=') /* -o=json: the short option takes its value as typed */
			return cli_usage_error(ctx, cmd, "unknown output format '%s'; valid: text, json "
					       "(write -o json or --output=json)", v);
		else
			return cli_usage_error(ctx, cmd, "unknown output format '%s'; valid: text, json", v);
		break;
	case GOPT_VERBOSE: ctx->log_level = LOG_DEBUG; break;
	case GOPT_QUIET: ctx->log_level = LOG_WARN; break;
	case GOPT_LOG_FORMAT:
		if (!strcmp(v, "text"))
			ctx->log_format = LOG_FORMAT_TEXT;
		else if (!strcmp(v, "json"))
			ctx->log_format = LOG_FORMAT_JSON;
		else {
			return cli_usage_error(ctx, cmd, "unknown log format '%s'; valid: text, json", v);
		}
		break;
	}
	return 0;
}

/* The first control byte (C0 or DEL) of s, or 0 (tabs included: one line of text is expected). */
static int has_control(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return *p;
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
		if (optarg && idx >= GOPT_N && has_control(optarg)) {
			/* free text (--reason, --by, --message...) is printed and recorded: an escape
			   sequence would reach every terminal that shows it */
			rc = cli_usage_error(ctx, name, "--%s: control characters (byte 0x%02x) are not allowed; "
					     "give printable text", opts[idx - GOPT_N].name ? opts[idx - GOPT_N].name : "?",
					     has_control(optarg));
			goto out;
		}
		if (idx < GOPT_N) {
			if (set_global(ctx, name, idx, optarg)) {
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
	cli_ctx_defaults(ctx);
out:
	free(lo);
	strbuf_release(&shorts);
	return rc;
}

