/*
 * judge.h - the one pluggable piece that decides a rollback criterion such
 * as "error rate > 1%" or "p99 > 2x baseline" (docs/engine.md).
 *
 * The interface is deliberately narrow so that a statistical judge
 * (sequential tests on counts, e.g. Wald's SPRT; quantile tests on
 * latency) can replace the first one without touching the state
 * machine: counts and latency summaries in, a verdict with its numbers out.
 * A judge never sees the deployment, the clock or the store.
 */
#ifndef SLIPWAY_CORE_JUDGE_H
#define SLIPWAY_CORE_JUDGE_H

#include <stdint.h>

/* What one side (canary or baseline) did in the judged range. */
struct judge_sample {
	uint64_t requests;
	uint64_t errors;
	double p50_ms, p99_ms;	/* NAN when unknown */
	int64_t span_ms;	/* length of the range, for throughput */
};

enum judge_metric {
	JUDGE_ERROR_RATE = 0,	/* errors/requests, percent 0-100 */
	JUDGE_P99,		/* p99 latency, ms */
};

enum judge_test {
	JUDGE_ABOVE_LIMIT = 0,	/* canary value > limit (percent or ms) */
	JUDGE_RATIO_ABOVE,	/* canary value > limit x baseline value */
	JUDGE_DELTA_ABOVE,	/* canary value - baseline value > limit (percentage points or ms) */
};

struct judge_question {
	enum judge_metric metric;
	enum judge_test test;
	double limit;
	const struct judge_sample *canary;
	const struct judge_sample *baseline;	/* may be NULL for JUDGE_ABOVE_LIMIT */
};

enum judge_outcome {
	JUDGE_PASS = 0,		/* the criterion is not met */
	JUDGE_FAIL,		/* the criterion is met: the canary is worse */
	JUDGE_INCONCLUSIVE,	/* not enough evidence either way */
	JUDGE_NOT_APPLICABLE,	/* no baseline to compare with (e.g. a new service) */
};

struct judge_verdict {
	enum judge_outcome outcome;
	double canary_value;	/* what was compared, in the metric's unit */
	double baseline_value;	/* NAN when not used */
	double limit_value;	/* the effective limit in the metric's unit */
	uint64_t canary_requests;
	char why[160];		/* e.g. "canary 12 requests < 50 minimum" */
};

/*
 * A judge: a context and one function.  decide() answers q into *out and
 * returns 0; it fails (< 0) only on a malformed question.
 */
struct judge {
	const char *name;
	void *ctx;
	int (*decide)(void *ctx, const struct judge_question *q, struct judge_verdict *out);
};

/*
 * The first judge: compares the observed values of the interval as they are
 * (no statistics).  An interval with fewer than *min_requests canary
 * requests (ctx points at a uint64_t) is inconclusive; ratio and delta tests
 * are not applicable when the baseline has no requests or no latency.
 */
int judge_observed_decide(void *ctx, const struct judge_question *q, struct judge_verdict *out);

/* "pass", "fail", "inconclusive", "n/a" */
const char *judge_outcome_name(enum judge_outcome o);

/* Error rate in percent 0-100 of s, or NAN when it has no requests. */
double judge_error_rate(const struct judge_sample *s);

#endif
