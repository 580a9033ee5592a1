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

/* one cell with the metric's unit; "-" for no data */
static void comparison_cell(char *buf, size_t n, const char *metric, json_t *v)
{
	double x = json_number_value(v);
	if (json_is_string(v)) /* a table stored already formatted */
		snprintf(buf, n, "%s", json_string_value(v));
	else if (!json_is_number(v))
		snprintf(buf, n, "-");
	else if (metric && strstr(metric, "Error"))
		snprintf(buf, n, "%.2f%%", x);
	else if (metric && strstr(metric, "Throughput"))
		snprintf(buf, n, "%.1f rps", x);
	else
		snprintf(buf, n, "%.0fms", x);
}

void cli_print_comparison(json_t *rows, const char *indent)
{
	size_t i;
	json_t *row;
	printf("%sMetric          | Baseline | Current  | Delta   | Status\n", indent);
	printf("%s--------------- | -------- | -------- | ------- | ------\n", indent);
	json_array_foreach(rows, i, row) {
		const char *metric = json_string_value(json_object_get(row, "metric"));
		const char *status = json_string_value(json_object_get(row, "status"));
		json_t *dv = json_object_get(row, "delta");
		char b[32], c[32], d[32];
		comparison_cell(b, sizeof(b), metric, json_object_get(row, "baseline"));
		comparison_cell(c, sizeof(c), metric, json_object_get(row, "current"));
		if (json_is_string(dv))
			snprintf(d, sizeof(d), "%s", json_string_value(dv));
		else if (json_is_number(dv))
			snprintf(d, sizeof(d), "%+.2f%%", json_number_value(dv));
		else
			snprintf(d, sizeof(d), "-");
		printf("%s%-15s | %-8s | %-8s | %-7s | %s\n", indent, metric ? metric : "-", b, c, d,
		       status ? status : "N/A");
	}
}

void cli_print_queries(json_t *rows, const char *indent)
{
	size_t i;
	json_t *row;
	if (!json_is_array(rows) || !json_array_size(rows))
		return;
	printf("%sQuery (analysis/metric)        | Value      | Condition                          | Outcome      | Phase (n)\n",
	       indent);
	printf("%s------------------------------ | ---------- | ---------------------------------- | ------------ | ---------\n",
	       indent);
	json_array_foreach(rows, i, row) {
		char name[160];
		snprintf(name, sizeof(name), "%s/%s", json_string_value(json_object_get(row, "analysis")),
			 json_string_value(json_object_get(row, "metric")));
		printf("%s%-30s | %-10s | %-34s | %-12s | %s (%lld)\n", indent, name,
		       json_string_value(json_object_get(row, "value")),
		       json_string_value(json_object_get(row, "condition")),
		       json_string_value(json_object_get(row, "outcome")), json_string_value(json_object_get(row, "phase")),
		       (long long)json_integer_value(json_object_get(row, "count")));
		printf("%s    %s\n", indent, json_string_value(json_object_get(row, "query")));
		printf("%s    %s\n", indent, json_string_value(json_object_get(row, "reason")));
	}
}

void cli_print_json(json_t *j)
{
	json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
	fputc('\n', stdout);
	json_decref(j);
}

/*
 * One report line on stderr.  Control characters other than tab and
 * newline (an ESC from a name typed or read from a file, say) are written
 * as '?', as git's vreportf() does, so an error message cannot drive the
 * terminal; a message longer than the buffer is cut with "...".
 */
static void vreport(const char *prefix, const char *fmt, va_list ap)
{
	char msg[4096];

	if (vsnprintf(msg, sizeof(msg), fmt, ap) >= (int)sizeof(msg))
		memcpy(msg + sizeof(msg) - 4, "...", 4);
	for (unsigned char *p = (unsigned char *)msg; *p; p++)
		if ((*p < 0x20 && *p != '\t' && *p != '\n') || *p == 0x7f)
			*p = '?';
	fprintf(stderr, "slipway: %s%s\n", prefix, msg);
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
	if (cmd && strcmp(cmd, ctx->progname))
		fprintf(stderr, "run '%s %s --help' for usage\n", ctx->progname, cmd);
	else
		fprintf(stderr, "run '%s --help' for usage\n", ctx->progname);
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
