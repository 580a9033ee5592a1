/*
 * metrics-t.h - what a metrics provider answers, and the provider interface
 * (docs/engine.md).  Types only: shared by core (analysis, judges), adapters
 * (providers: HAProxy's per-request log, Prometheus, trace replay) and the
 * controller.
 *
 * A provider answers for one service and one revision over a half-open time
 * range [from_ms, to_ms): how many requests, how many failed (HTTP 5xx, as
 * Flagger's request-success-rate counts them), and the latency distribution
 * summarised as percentiles in milliseconds.  Throughput is derived:
 * requests / ((to_ms - from_ms) / 1000) requests per second.
 */
#ifndef SLIPWAY_CORE_METRICS_T_H
#define SLIPWAY_CORE_METRICS_T_H

#include <stdint.h>

struct strbuf;

/* Which side of a rollout a sample describes (DESIGN.md glossary). */
enum revision_role {
	ROLE_STABLE = 0,	/* the revision serving now (Flagger: primary) */
	ROLE_CANARY = 1,	/* the new revision under test */
};

struct metrics_sample {
	int64_t from_ms, to_ms;	/* the range actually covered, half-open */
	uint64_t requests;	/* completed requests in the range */
	uint64_t errors;	/* of which failed: status >= 500 or no response */
	double p50_ms, p90_ms, p99_ms, max_ms;	/* latency; NAN when requests == 0 */
};

/*
 * A provider is a context plus one function.  query() fills *out for
 * `service`, the revision `version` playing `role`, over [from_ms, to_ms).
 * Returns 0; SW_ENOTFOUND when it knows nothing of that service/revision;
 * another negative code with a message in err when the source failed (the
 * caller reports it as an inconclusive check, never as a pass).
 */
struct metrics_provider {
	void *ctx;
	int (*query)(void *ctx, const char *service, enum revision_role role, const char *version,
		     int64_t from_ms, int64_t to_ms, struct metrics_sample *out, struct strbuf *err);
	/*
	 * Latency exceedances, for judges that test latency as counts
	 * (docs/judge.md): over[i] = requests of that revision in [from_ms,
	 * to_ms) slower than thresholds_ms[i] (strictly greater), for
	 * i < n (n <= METRICS_MAX_THRESHOLDS).  Same returns as query().  NULL
	 * when the provider cannot count per request (a provider with only
	 * histograms counts at the nearest bucket edge at or above the
	 * threshold and says so in its documentation).
	 */
	int (*query_over)(void *ctx, const char *service, enum revision_role role, const char *version,
			  int64_t from_ms, int64_t to_ms, const double *thresholds_ms, int n,
			  uint64_t *over, struct strbuf *err);
};

#define METRICS_MAX_THRESHOLDS 4

#endif
