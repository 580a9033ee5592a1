/* output.c - stdout/stderr helpers shared by all commands; see cli.h. */
#include "cli/cli.h"

#include <stdarg.h>
#include <string.h>
#include <unistd.h>

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

/* one row's five cells as text (buffers of 64 bytes) */
static void comparison_cells(json_t *row, char cell[5][64])
{
	const char *metric = json_string_value(json_object_get(row, "metric"));
	const char *status = json_string_value(json_object_get(row, "status"));
	json_t *dv = json_object_get(row, "delta");

	snprintf(cell[0], 64, "%s", metric ? metric : "-");
	comparison_cell(cell[1], 64, metric, json_object_get(row, "baseline"));
	comparison_cell(cell[2], 64, metric, json_object_get(row, "current"));
	if (json_is_string(dv))
		snprintf(cell[3], 64, "%s", json_string_value(dv));
	else if (json_is_number(dv))
		snprintf(cell[3], 64, "%+.2f%%", json_number_value(dv));
	else
		snprintf(cell[3], 64, "-");
	snprintf(cell[4], 64, "%s", status ? status : "N/A");
}

/* Columns as wide as their widest cell ("100.0 rps", a stored "1234.5 rps"),
 * so the bars line up whatever the values; the last column is not padded. */
void cli_print_comparison(json_t *rows, const char *indent)
{
	static const char *const head[5] = { "Metric", "Baseline", "Current", "Delta", "Status" };
	int w[5];
	char cell[5][64];
	size_t i;
	json_t *row;

	for (int k = 0; k < 5; k++)
		w[k] = (int)strlen(head[k]);
	json_array_foreach(rows, i, row) {
		comparison_cells(row, cell);
		for (int k = 0; k < 5; k++)
			if ((int)strlen(cell[k]) > w[k])
				w[k] = (int)strlen(cell[k]);
	}
	printf("%s%-*s | %-*s | %-*s | %-*s | %s\n", indent, w[0], head[0], w[1], head[1], w[2], head[2], w[3],
	       head[3], head[4]);
	printf("%s", indent);
	for (int k = 0; k < 5; k++) {
		for (int c = 0; c < w[k]; c++)
			putchar('-');
		printf("%s", k < 4 ? " | " : "\n");
	}
	json_array_foreach(rows, i, row) {
		comparison_cells(row, cell);
		printf("%s%-*s | %-*s | %-*s | %-*s | %s\n", indent, w[0], cell[0], w[1], cell[1], w[2], cell[2], w[3],
		       cell[3], cell[4]);
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
