/*
 * metrics_prometheus.h - the `prometheus` metrics provider: the counts and
 * percentiles a judge needs (core/metrics-t.h), asked of a Prometheus
 * server over its HTTP API (docs/prometheus.md is the user's manual).
 *
 * Prometheus HTTP API (https://prometheus.io/docs/prometheus/latest/querying/api/):
 *   GET /api/v1/query?query=Q&time=T          instant query, T in seconds
 *   GET /api/v1/query_range?query=Q&start=S&end=E&step=D
 *   answer {"status":"success","data":{"resultType":"vector"|"scalar"|
 *   "matrix","result":...}} with sample values as strings ("1.5", "NaN",
 *   "+Inf"), or {"status":"error","errorType":...,"error":...}.
 *
 * Counts over [from, to) are `increase()` of counters evaluated at `to`
 * with a range of (to - from): Prometheus extrapolates to the window's
 * edges, so a count is rounded to the nearest whole request.  Latency
 * exceedances come from histogram buckets: the requests slower than a
 * threshold are those above the bucket whose upper bound `le` is the first
 * at or above the threshold (an undercount by what falls between the
 * threshold and that bound; docs/prometheus.md).
 *
 * A flag's cohort (version "flag:FLAG=VARIANT", core/flag_rollout.h) is
 * asked with the cohort templates, over the series the service exports per
 * flag and variant: flag_requests_total{flag,variant,code} and the
 * histogram flag_request_duration_seconds{flag,variant} (the labels
 * `flag` and `variant`; docs/prometheus.md "Per flag variant"), so a
 * guarded flag rollout compares the enabled and the disabled cohorts.
 *
 * What is never a pass: an empty answer ("no data: ..."), NaN where a
 * count was asked ("undefined: 0/0 ..."), and an HTTP error, timeout or
 * bad JSON ("provider error: ...") come back as SW_EEXTERNAL with that
 * reason in err; the analysis reports the interval as not judged.
 */
#ifndef SLIPWAY_ADAPTERS_METRICS_PROMETHEUS_H
#define SLIPWAY_ADAPTERS_METRICS_PROMETHEUS_H

#include <stddef.h>
#include <stdint.h>

#include "core/metrics-t.h"
#include "core/service.h"

struct strbuf;

/* ---- the JSON reader (pure; fuzzed by tests/fuzz/fuzz_prom.c) ---- */

enum prom_type { PROM_VECTOR = 0, PROM_SCALAR, PROM_MATRIX };

/* One sample: of series `series` (index in the answer), at t seconds. */
struct prom_point {
	size_t series;
	double t, v;		/* v may be NAN or +-INFINITY as Prometheus sent it */
	double le;		/* the series' `le` label (a histogram bucket's upper bound); NAN when none */
};

struct prom_result {
	enum prom_type type;
	struct prom_point *v;	/* owned; n points in answer order */
	size_t n;
	size_t nseries;
};

#define PROM_BODY_MAX (8u << 20)	/* bytes of an answer read at most */
#define PROM_MAX_POINTS 100000		/* points of an answer accepted at most */

/*
 * Read a Prometheus API answer from buf[0..len).  0 and *out (release with
 * prom_result_release()); SW_EPARSE with "bad JSON: ..." in err when it is
 * not JSON of that shape; SW_EEXTERNAL with Prometheus's own errorType and
 * error in err for {"status":"error"}.  *out untouched on failure.
 */
int prom_parse(const char *buf, size_t len, struct prom_result *out, struct strbuf *err);
void prom_result_release(struct prom_result *r);

/* ---- the client and the provider ---- */

struct metrics_prometheus;	/* opaque: settings, token, templates */

/*
 * Build the provider of service svc in environment env from svc->prom
 * (core/service.h).  Reads the bearer token from token_file or token_env
 * now (an unreadable file or an unset variable is SW_ECONFIG naming the
 * file or variable, never the token).  0 and *out, filled p (valid while
 * *out lives); SW_ECONFIG with a message in err.
 */
int metrics_prometheus_open(struct metrics_prometheus **out, const struct service *svc, const char *env,
			    struct metrics_provider *p, struct strbuf *err);
void metrics_prometheus_free(struct metrics_prometheus *mp);

/*
 * One instant query of `promql` at time at_ms (epoch ms), with the retries
 * and backoff of the settings: 0 and *out; SW_EEXTERNAL with "provider
 * error: ..." in err (HTTP status, timeout, connection, Prometheus's error),
 * SW_EPARSE with "provider error: bad JSON: ...".
 */
int metrics_prometheus_instant(struct metrics_prometheus *mp, const char *promql, int64_t at_ms,
			       struct prom_result *out, struct strbuf *err);
/* A range query over [start_ms, end_ms] every step_ms (> 0); as above, a matrix. */
int metrics_prometheus_range(struct metrics_prometheus *mp, const char *promql, int64_t start_ms, int64_t end_ms,
			     int64_t step_ms, struct prom_result *out, struct strbuf *err);

/*
 * Expand a query template: {service} {env} {version} {window} (the range,
 * "NNNms"), {window_s} (seconds), {q} (a quantile 0-1), {flag} and
 * {variant} (a flag cohort's, "" for a revision).  "{{" is "{".  An
 * unknown placeholder is SW_ECONFIG naming it and the valid ones.
 */
struct prom_vars {
	const char *service, *env, *version;
	int64_t window_ms;
	double q;
	const char *flag, *variant;	/* NULL: "" */
};
int prom_expand(struct strbuf *out, const char *tmpl, const struct prom_vars *v, struct strbuf *err);

/* The built-in template of a set (enum service_prom_set) for one of
 * "requests", "errors", "buckets", "quantile", or for a flag's cohort
 * "flag_requests", "flag_errors", "flag_buckets", "flag_quantile"; NULL
 * when unknown. */
const char *prom_template(int set, const char *which);

/* Requests above each threshold from a bucket vector (sum by (le)): for
 * thresholds_ms[i] the bucket with the smallest le >= threshold; a
 * threshold above every finite bucket counts nothing (over[i] = 0).
 * Returns 0, or SW_EEXTERNAL with "no data: ..." when r has no +Inf bucket. */
int prom_over_from_buckets(const struct prom_result *r, const double *thresholds_ms, int n, uint64_t *over,
			   struct strbuf *err);

#endif
