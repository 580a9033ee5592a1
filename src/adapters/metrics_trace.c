/*
 * metrics_trace.c - parse and replay metric traces; see metrics_trace.h.
 * The parser takes outside input, so it is strict (exact header, every field
 * checked, counts bounded) and has a fuzz target (tests/fuzz/fuzz_trace.c).
 */
#include "adapters/metrics_trace.h"
#include "base/alloc.h"
#include "base/err.h"
#include "base/strbuf.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

static const char header[] = "t_s,revision,requests,errors,p50_ms,p99_ms";

#define TRACE_MAX_T_S (100ULL * 365 * 86400)	/* a trace longer than 100 years is a typo */

static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;
	if (!*s || *s == '-' || *s == '+' || *s == ' ')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		return -1;
	*out = v;
	return 0;
}

static int parse_ms(const char *s, double *out)
{
	char *end;
	double v;
	if (!*s) {
		*out = NAN;
		return 0;
	}
	if (*s == ' ' || *s == '+')
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || !isfinite(v) || v < 0 || v > 1e9)
		return -1;
	*out = v;
	return 0;
}

int metrics_trace_parse(struct metrics_trace *t, const char *buf, size_t len, const char *file,
			struct strbuf *err)
{
	size_t start_nr = t->nr, pos = 0;
	int lineno = 0, seen_header = 0, header_line = 0;
	int64_t last_t = t->nr ? t->rows[t->nr - 1].t_ms : 0;
	struct strbuf line = STRBUF_INIT;

	if (!file)
		file = "(trace)";
	if (len > METRICS_TRACE_MAX_BYTES) {
		strbuf_errf(err, "%s: larger than %d bytes", file, METRICS_TRACE_MAX_BYTES);
		return SW_ETOOBIG;
	}
	/* a UTF-8 byte order mark (spreadsheets write one before a CSV) is not part of the header */
	if (len >= 3 && !memcmp(buf, "\xef\xbb\xbf", 3))
		pos = 3;
	while (pos < len) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (buf + pos)) : len - pos;
		char *f[7];
		int nf = 0;

		lineno++;
		strbuf_reset(&line);
		strbuf_add(&line, buf + pos, n);
		pos += n + (nl ? 1 : 0);
		if (line.len && line.buf[line.len - 1] == '\r')
			strbuf_setlen(&line, line.len - 1);
		if (memchr(line.buf, '\0', line.len)) {
			strbuf_errf(err, "%s:%d: NUL byte in the line", file, lineno);
			goto fail;
		}
		if (!line.len || line.buf[0] == '#')
			continue;
		if (!seen_header) {
			if (strcmp(line.buf, header)) {
				strbuf_errf(err, "%s:%d: expected the header '%s'", file, lineno, header);
				goto fail;
			}
			seen_header = 1;
			header_line = lineno;
			continue;
		}
		f[nf++] = line.buf;
		for (char *p = line.buf; *p; p++) {
			if (*p == ',') {
				*p = '\0';
				if (nf == 7)
					break;
				f[nf++] = p + 1;
			}
		}
		if (nf != 6) {
			strbuf_errf(err, "%s:%d: expected 6 fields (%s), found %d", file, lineno, header, nf);
			goto fail;
		}
		struct trace_row r;
		uint64_t ts;
		if (parse_u64(f[0], TRACE_MAX_T_S, &ts)) {
			strbuf_errf(err, "%s:%d: t_s '%s' is not a whole number of seconds from 0 to %llu (100 years)",
				    file, lineno, f[0], (unsigned long long)TRACE_MAX_T_S);
			goto fail;
		}
		r.t_ms = (int64_t)ts * 1000;
		if (!strcmp(f[1], "stable"))
			r.role = ROLE_STABLE;
		else if (!strcmp(f[1], "canary"))
			r.role = ROLE_CANARY;
		else {
			strbuf_errf(err, "%s:%d: revision '%s' is not valid; valid: stable, canary", file, lineno, f[1]);
			goto fail;
		}
		if (parse_u64(f[2], 1000000000000ULL, &r.requests)) {
			strbuf_errf(err, "%s:%d: requests '%s' is not a whole number 0-10^12", file, lineno, f[2]);
			goto fail;
		}
		if (parse_u64(f[3], 1000000000000ULL, &r.errors) || r.errors > r.requests) {
			strbuf_errf(err, "%s:%d: errors '%s' must be a whole number no larger than requests (%llu)",
				    file, lineno, f[3], (unsigned long long)r.requests);
			goto fail;
		}
		if (parse_ms(f[4], &r.p50_ms) || parse_ms(f[5], &r.p99_ms)) {
			strbuf_errf(err, "%s:%d: p50_ms '%s' and p99_ms '%s' must be milliseconds from 0 to "
				    "1000000000 (or empty when requests is 0)", file, lineno, f[4], f[5]);
			goto fail;
		}
		if (r.requests && (isnan(r.p50_ms) || isnan(r.p99_ms))) {
			strbuf_errf(err, "%s:%d: p50_ms and p99_ms are required when requests > 0", file, lineno);
			goto fail;
		}
		if (!isnan(r.p50_ms) && !isnan(r.p99_ms) && r.p50_ms > r.p99_ms) {
			strbuf_errf(err, "%s:%d: p50_ms %g is above p99_ms %g", file, lineno, r.p50_ms, r.p99_ms);
			goto fail;
		}
		if (r.t_ms < last_t) {
			strbuf_errf(err, "%s:%d: t_s %llu goes back in time (previous row %lld); rows must come in "
				    "non-decreasing t_s", file, lineno, (unsigned long long)ts, (long long)(last_t / 1000));
			goto fail;
		}
		last_t = r.t_ms;
		ALLOC_GROW(t->rows, t->nr + 1, t->alloc);
		t->rows[t->nr++] = r;
	}
	if (!seen_header) {
		strbuf_errf(err, "%s: empty trace; expected the header '%s'", file, header);
		goto fail;
	}
	if (t->nr == start_nr) {	/* nothing to replay: not an hour of "no data" */
		strbuf_errf(err, "%s:%d: no rows after the header; a trace needs at least one row, e.g. "
			    "'60,stable,1000,1,45,200'", file, header_line);
		goto fail;
	}
	strbuf_release(&line);
	return 0;
fail:
	t->nr = start_nr;
	strbuf_release(&line);
	return SW_EPARSE;
}

int metrics_trace_load(struct metrics_trace *t, const char *path, struct strbuf *err)
{
	struct strbuf sb = STRBUF_INIT;
	int r = strbuf_read_file_max(&sb, path, METRICS_TRACE_MAX_BYTES, err);
	if (r >= 0)
		r = metrics_trace_parse(t, sb.buf, sb.len, path, err);
	strbuf_release(&sb);
	return r;
}

void metrics_trace_release(struct metrics_trace *t)
{
	free(t->rows);
	t->rows = NULL;
	t->nr = t->alloc = 0;
}

int64_t metrics_trace_end_ms(const struct metrics_trace *t)
{
	return t->nr ? t->rows[t->nr - 1].t_ms : 0;
}

static int trace_query(void *ctx, const char *service, enum revision_role role, const char *version,
		       int64_t from_ms, int64_t to_ms, struct metrics_sample *out, struct strbuf *err)
{
	const struct metrics_trace *t = ctx;
	double w50 = 0, w99 = 0;
	uint64_t wreq = 0;
	size_t lo = 0, hi = t->nr;

	memset(out, 0, sizeof(*out));
	out->from_ms = from_ms;
	out->to_ms = to_ms;
	/* rows are sorted by t: binary search the first row with abs t > from */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (t->origin_ms + t->rows[mid].t_ms > from_ms)
			hi = mid;
		else
			lo = mid + 1;
	}
	/* a row covers (previous row's t, its t]: the range these rows were
	   counted in, so that a look shorter than a row does not turn the
	   row's requests into a rate over the look (docs/trace-format.md) */
	if (lo < t->nr && t->origin_ms + t->rows[lo].t_ms <= to_ms) {
		size_t last = lo;
		while (last + 1 < t->nr && t->origin_ms + t->rows[last + 1].t_ms <= to_ms)
			last++;
		/* rows[lo - 1] is the last row at or before from_ms: where rows[lo]'s interval begins */
		out->from_ms = t->origin_ms + (lo > 0 ? t->rows[lo - 1].t_ms : 0);
		out->to_ms = t->origin_ms + t->rows[last].t_ms;
		if (out->to_ms <= out->from_ms) {	/* rows at t_s = 0: no length; the query's range */
			out->from_ms = from_ms;
			out->to_ms = to_ms;
		}
	}
	for (size_t i = lo; i < t->nr; i++) {
		const struct trace_row *r = &t->rows[i];
		int64_t at = t->origin_ms + r->t_ms;
		if (at > to_ms)
			break;
		if (r->role != role)
			continue;
		out->requests += r->requests;
		out->errors += r->errors;
		if (r->requests && !isnan(r->p50_ms)) {
			w50 += r->p50_ms * (double)r->requests;
			w99 += r->p99_ms * (double)r->requests;
			wreq += r->requests;
			if (r->p99_ms > out->max_ms)
				out->max_ms = r->p99_ms;
		}
	}
	out->p50_ms = wreq ? w50 / (double)wreq : NAN;
	out->p99_ms = wreq ? w99 / (double)wreq : NAN;
	out->p90_ms = NAN;
	if (!wreq)
		out->max_ms = NAN;
	return 0;
}

/*
 * Share of a row's requests slower than thr_ms: a trace has only p50 and
 * p99, so the row's latencies are taken as lognormal through them
 * (sigma = ln(p99/p50) / z_0.99); p50 is floored at 0.5 ms (the resolution).
 */
static double row_share_over(const struct trace_row *r, double thr_ms)
{
	double p50 = r->p50_ms < 0.5 ? 0.5 : r->p50_ms, p99 = r->p99_ms < p50 ? p50 : r->p99_ms, sigma;
	if (p99 <= p50)
		return p50 > thr_ms ? 1.0 : 0.0;
	sigma = log(p99 / p50) / 2.3263478740;
	return 0.5 * erfc((log(thr_ms) - log(p50)) / (sigma * sqrt(2.0)));
}

static int trace_query_over(void *ctx, const char *service, enum revision_role role, const char *version,
			    int64_t from_ms, int64_t to_ms, const double *thresholds_ms, int n, uint64_t *over,
			    struct strbuf *err)
{
	const struct metrics_trace *t = ctx;
	double acc[METRICS_MAX_THRESHOLDS] = { 0 };

	if (n < 0 || n > METRICS_MAX_THRESHOLDS)
		return SW_EUSAGE;
	for (size_t i = 0; i < t->nr; i++) {
		const struct trace_row *r = &t->rows[i];
		int64_t at = t->origin_ms + r->t_ms;
		if (at <= from_ms || r->role != role || !r->requests || isnan(r->p50_ms))
			continue;
		if (at > to_ms)
			break;
		for (int k = 0; k < n; k++)
			acc[k] += (double)r->requests * row_share_over(r, thresholds_ms[k]);
	}
	for (int k = 0; k < n; k++)
		over[k] = (uint64_t)llround(acc[k]);
	return 0;
}

void metrics_trace_provider(struct metrics_trace *t, struct metrics_provider *out)
{
	out->ctx = t;
	out->query = trace_query;
	out->query_over = trace_query_over;
}

void metrics_trace_set_add(struct metrics_trace_set *set, const char *service, struct metrics_trace *t)
{
	ALLOC_GROW(set->v, set->n + 1, set->alloc);
	snprintf(set->v[set->n].service, sizeof(set->v[set->n].service), "%s", service);
	set->v[set->n].trace = t;
	set->n++;
}

void metrics_trace_set_release(struct metrics_trace_set *set)
{
	free(set->v);
	set->v = NULL;
	set->n = set->alloc = 0;
}

static int set_query(void *ctx, const char *service, enum revision_role role, const char *version,
		     int64_t from_ms, int64_t to_ms, struct metrics_sample *out, struct strbuf *err)
{
	const struct metrics_trace_set *set = ctx;
	for (size_t i = 0; i < set->n; i++)
		if (!strcmp(set->v[i].service, service))
			return trace_query(set->v[i].trace, service, role, version, from_ms, to_ms, out, err);
	strbuf_errf(err, "no trace for service '%s'", service);
	return SW_ENOTFOUND;
}

static int set_query_over(void *ctx, const char *service, enum revision_role role, const char *version,
			  int64_t from_ms, int64_t to_ms, const double *thresholds_ms, int n, uint64_t *over,
			  struct strbuf *err)
{
	const struct metrics_trace_set *set = ctx;
	for (size_t i = 0; i < set->n; i++)
		if (!strcmp(set->v[i].service, service))
			return trace_query_over(set->v[i].trace, service, role, version, from_ms, to_ms, thresholds_ms,
						n, over, err);
	strbuf_errf(err, "no trace for service '%s'", service);
	return SW_ENOTFOUND;
}

void metrics_trace_set_provider(struct metrics_trace_set *set, struct metrics_provider *out)
{
	out->ctx = set;
	out->query = set_query;
	out->query_over = set_query_over;
}
