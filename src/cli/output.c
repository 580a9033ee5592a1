/* output.c - stdout/stderr helpers shared by all commands; see cli.h. */
#include "cli/cli.h"

#include <stdarg.h>
#include <string.h>
#include <unistd.h>

int cli_parse_output(struct cli_ctx *ctx, const char *value)
{
	if (!strcmp(value, "json")) {
		ctx->output = OUTPUT_JSON;
		return 0;
	}
	if (!strcmp(value, "text")) {
		ctx->output = OUTPUT_TEXT;
		return 0;
	}
	cli_error("unknown output format '%s'; valid: text, json", value);
	return -1;
}

void cli_print_json(json_t *j)
{
	json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
	fputc('\n', stdout);
	json_decref(j);
}

static void vreport(const char *prefix, const char *fmt, va_list ap)
{
	fprintf(stderr, "slipway: %s", prefix);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void cli_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport("error: ", fmt, ap);
	va_end(ap);
}

void cli_warning(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport("warning: ", fmt, ap);
	va_end(ap);
}

int cli_usage_error(const struct cli_ctx *ctx, const char *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport("error: ", fmt, ap);
	va_end(ap);
	fprintf(stderr, "run '%s %s --help' for usage\n", ctx->progname, cmd);
	return EXIT_USAGE;
}

int cli_stdout_is_tty(void)
{
	return isatty(STDOUT_FILENO);
}

int cli_stderr_is_tty(void)
{
	return isatty(STDERR_FILENO);
}
