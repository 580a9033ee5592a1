/*
 * judge.h - the pluggable piece that decides a rollback criterion such as
 * "error rate > 1%" or "p99 > 2x baseline" (docs/judge.md).
 *
 * The analysis (analysis.h) puts each criterion to the judge as a question;
 * the judge answers with a verdict and its numbers.  Three judges ship:
 *
 *   sequential  (default) anytime-valid sequential tests on the evidence the
 *               deployment accumulated over all its intervals and steps
 *               (seqtest.h); a criterion fires only when it is established
 *               at the deployment's false-halt bound alpha, and steps wait
 *               until they have ruled out what they must (judge_step_question)
 *   threshold   Flagger's failed-check counting: each interval's criterion
 *               fails or passes on the observed value, no data counts as a
 *               failed check, and failed checks add up to the threshold
 *   observed    slipway's first judge: each interval's observed value against
 *               the limit, too few canary requests is inconclusive
 *
 * A judge never sees the deployment, the clock or the store: only the
 * interval's samples, the accumulated evidence and the question.
 */
#ifndef SLIPWAY_CORE_JUDGE_H
#define SLIPWAY_CORE_JUDGE_H

#include <stddef.h>
#include <stdint.h>

#include "core/seqtest.h"

struct json_t;

/* What one side (canary or baseline) did in the judged range. */
struct judge_sample {
	uint64_t requests;
	uint64_t errors;
	double p50_ms, p99_ms;	/* NAN when unknown */
	int64_t span_ms;	/* length of the range, for throughput */
};

/* The latency lines whose exceedances are counted per request (query_over()). */
enum judge_line {
	JUDGE_LINE_REGRESSION = 0,	/* REGRESSION_P99_RATIO (1.2) x baseline p99 */
	JUDGE_LINE_CONSIDER,		/* consider p99 ratio (2) x baseline p99 */
	JUDGE_LINE_IMMEDIATE,		/* immediate p99 ratio (3) x baseline p99 */
	JUDGE_LINE_CHECK,		/* a Canary file's request-duration maximum, ms */
	JUDGE_NLINES,
};

/*
 * The evidence of one deployment, accumulated over every judged interval of
 * every step and persisted with the deployment (deployment_store.c), so a
 * restarted controller continues the same test.  All zero = none yet.
 */
struct judge_evidence {
	int batches;			/* intervals added */
	int64_t last_to_ms;		/* end of the last interval added */
	double line_ms[JUDGE_NLINES];	/* the latency lines (refined every interval); 0 = none */
	int have_lines;			/* the lines are set (baseline p99 known) */
	double line_ratio[JUDGE_NLINES];	/* line = ratio x the baseline p99 estimate; 0 = fixed line */
	double base_p99_sum, base_n;	/* request-weighted sum of the stable's p99s, and its requests */
	uint64_t lat_batches;		/* intervals whose exceedances were counted */
	int64_t refined_to_ms;		/* end of the last whole interval of the stable that refined
					   the lines (the analysis looks more often than it refines) */
	int64_t pool_from_ms;		/* start of the stable's pooled sample (the warm-up's); 0 = none */
	struct seq_stream err;		/* errors, canary vs stable */
	struct seq_stream over[JUDGE_NLINES];	/* requests slower than line_ms[i] */
	/* the current step (reset when a step begins) */
	int64_t held_ms;		/* judged time at this step */
	uint64_t step_requests;		/* canary requests judged at this step */
};

/* One interval's counts, as measured (analysis_input carries it). */
struct judge_batch {
	uint64_t nc, xc, ns, xs;	/* requests and errors, canary and stable */
	int have_over;			/* the provider counted exceedances of the lines */
	uint64_t over_c[JUDGE_NLINES], over_s[JUDGE_NLINES];
};

/* The shortest maximum hold of a step by default: one hour (docs/judge.md). */
#define JUDGE_MAX_HOLD_MIN_MS (60.0 * 60000)

/* Policy `judge:` settings (docs/judge.md), with their defaults. */
struct judge_settings {
	char name[16];		/* "sequential" (default), "threshold", "observed" */
	double alpha;		/* false-halt bound of a whole deployment (0.05) */
	double power;		/* power of what a step must rule out (0.8) */
	double effect;		/* smallest error-rate ratio worth catching (2) */
	double max_hold_factor;	/* a step waits for evidence up to this x its hold (3), at least max_hold_min_ms */
	int64_t max_hold_min_ms; /* the shortest maximum hold, ms; 0 = JUDGE_MAX_HOLD_MIN_MS */
	double floor_pct;	/* error rate (percent) below which a step need not rule out the
				   effect, only that the canary reaches it (0.5) */
	int64_t look_ms;	/* how often the sequential judge looks at the evidence, ms; 0 = a
				   sixth of the analysis interval, at least 5 s (at most the interval).
				   The longest look: at high traffic looks shorten (below) */
};

/*
 * Looks that follow the canary's traffic (docs/judge.md, "Looks"): when a
 * look of look_ms would hold more than JUDGE_LOOK_REQUESTS canary requests,
 * the sequential judge looks every JUDGE_LOOK_REQUESTS canary requests
 * instead (the last look's request rate times the current weight), in whole
 * multiples of JUDGE_LOOK_MIN_MS and never more often than that, so a test
 * overshoots its boundary by about that many requests.  The step's
 * question (whether the step may end) is still asked once every look_ms.
 */
#define JUDGE_LOOK_REQUESTS 20
#define JUDGE_LOOK_MIN_MS 250

/*
 * The stable requests, counted against the consider line, from which the
 * step question trusts the stable's own share above that line (a share of
 * 1% then rests on about ten slow requests): judge_step_question().
 */
#define JUDGE_STEP_STABLE_MIN 1000

/*
 * The level at which the first step's question is answered: an e-value of
 * 2 (even odds) instead of 1/(1 - power), which only the last step before
 * 100% needs (judge_step_question(); docs/judge.md, "The level of a step's
 * question").  The first step rules out a catastrophe while its traffic is
 * smallest; a canary wrongly let past it meets the immediate criteria at the
 * next step, on ten times the traffic.
 */
#define JUDGE_FIRST_STEP_BETA 0.5

/*
 * The upper end of the one-sided Wilson score interval (Wilson 1927) of x
 * events in n trials at the normal quantile z (1.6449: 95%), a fraction;
 * n == 0: 1.  A fixed-sample bound, for a sample that no longer grows (the
 * baseline before a switch, the stable once the canary is alone).
 */
double judge_wilson_upper(uint64_t n, uint64_t x, double z);

/* Fill *s with the defaults above. */
void judge_settings_default(struct judge_settings *s);

/* Add one batch (interval) to the evidence; lines must be fixed first for the exceedances to count. */
void judge_evidence_add(struct judge_evidence *ev, const struct judge_batch *b, int64_t to_ms, int64_t span_ms);

/*
 * Fix the latency lines from the baseline p99 (ms): ratio x max(p99, 1 ms),
 * the 1 ms floor being the measurement resolution, so a 0 ms p99 cannot
 * make every request pass or fail.  A NAN p99 (no baseline) leaves them
 * unset: latency criteria are then "no data".  check_max_ms <= 0: no check line.
 */
void judge_evidence_set_lines(struct judge_evidence *ev, double base_p99_ms, double regression_ratio,
			      double consider_ratio, double immediate_ratio, double check_max_ms);

/*
 * Refine the latency lines with the stable revision measured beside the
 * canary: the baseline p99 becomes the request-weighted mean of the p99s the
 * stable showed (the warm-up's first, then every interval's), and each line
 * moves to its ratio x that estimate for the intervals that follow.  One
 * warm-up interval of about a thousand requests puts a p99 within +-15% of
 * the truth, so a 2x line set once could sit anywhere from 1.7x to 2.3x;
 * after a few steps the estimate rests on tens of thousands of requests.
 * The lines depend on the stable's requests only, so each interval's
 * canary exceedances stay a binomial count of that interval's line and the
 * tests of docs/judge.md stay valid.  stable_requests 0 or a NAN p99: no change.
 */
void judge_evidence_refine_lines(struct judge_evidence *ev, uint64_t stable_requests, double stable_p99_ms);

/*
 * Set the latency lines from the stable's p99 over everything measured
 * since the warm-up began (one pooled sample of stable_requests requests):
 * each line becomes its ratio x that p99 for the looks that follow.  A
 * p99 of tens of thousands of requests is within a few percent of the
 * truth, where the mean of per-interval p99s of a few hundred requests is
 * biased upwards (a sample p99 is right-skewed), and a 2x line set 3% too
 * high hides a third of a 2.2x canary's excess.  The lines still depend on
 * the stable's requests only, so each look's canary exceedances stay a
 * binomial count of that look's line.  stable_requests 0 or a NAN p99:
 * no change.
 */
void judge_evidence_pool_lines(struct judge_evidence *ev, uint64_t stable_requests, double stable_p99_ms);

/* The evidence as JSON (caller owns it) and back; from_json returns 0 or SW_EPARSE. */
struct json_t *judge_evidence_to_json(const struct judge_evidence *ev);
int judge_evidence_from_json(const struct json_t *j, struct judge_evidence *ev);

enum judge_metric {
	JUDGE_ERROR_RATE = 0,	/* errors/requests, percent 0-100 */
	JUDGE_P99,		/* p99 latency, ms */
};

enum judge_test {
	JUDGE_ABOVE_LIMIT = 0,	/* canary value > limit (percent or ms) */
	JUDGE_RATIO_ABOVE,	/* canary value > limit x baseline value */
	JUDGE_DELTA_ABOVE,	/* canary value - baseline value > limit (percentage points or ms) */
};

/* How strong the evidence must be: a share of alpha, and an extra factor. */
struct judge_question {
	enum judge_metric metric;
	enum judge_test test;
	double limit;
	const struct judge_sample *canary;	/* this interval */
	const struct judge_sample *baseline;	/* may be NULL for JUDGE_ABOVE_LIMIT */
	/* sequential judges only: */
	const struct judge_evidence *ev;	/* accumulated, this interval included */
	double alpha;		/* this question's share of the deployment's alpha */
	double effect;		/* the smallest ratio worth catching */
	int line;		/* JUDGE_P99: which enum judge_line the limit means */
	double alpha_stable;	/* error lines: level of the comparison with the stable when the stable is
				   at or above the line (0 = alpha); both must fire, so it costs no alpha */
	int absolute;		/* error lines: the line holds whatever the stable does (the runbook's
				   immediate "error rate > 5%, no discussion"); 0: a stable at or above
				   the line turns the question into "worse than the stable" */
	int alone;		/* no stable serves beside the canary now (100%: monitoring, a blue-green
				   switch) although one was measured beside it before: an error-rate
				   comparison with the stable, which can no longer grow, becomes the canary's own requests
				   since it is alone (seq_stream nc - pc) against the upper end of the
				   stable's measured rate (judge_sequential_decide; docs/judge.md, "Alone
				   at 100%") */
};

enum judge_outcome {
	JUDGE_PASS = 0,		/* the criterion is not met (sequential: not established) */
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
	/* sequential judges: the evidence behind the verdict */
	double estimate;	/* percent: the canary's cumulative rate of what was tested; NAN = none */
	double lo, hi;		/* its anytime-valid interval at 1 - alpha, percent */
	double log_e;		/* natural log of the e-value; NAN = not a sequential verdict */
	double log_threshold;	/* log(1/alpha): where it fires */
	char why[200];		/* e.g. "e-value 3.1 of 200 needed"; "canary 12 requests < 50 minimum" */
};

enum judge_kind {
	JUDGE_KIND_SEQUENTIAL = 0,
	JUDGE_KIND_THRESHOLD,
	JUDGE_KIND_OBSERVED,
};

/*
 * A judge: a kind (how the analysis and the state machine use it), its
 * settings and one function.  decide() answers q into *out and returns 0;
 * it fails (< 0) only on a malformed question.
 */
struct judge {
	const char *name;
	enum judge_kind kind;
	struct judge_settings set;
	uint64_t min_requests;	/* observed/threshold: canary requests below which an interval has no data */
	int (*decide)(const struct judge *j, const struct judge_question *q, struct judge_verdict *out);
};

/*
 * The registry's view of a judge: a name and a constructor.  init() fills
 * *j for the settings (NULL = defaults) and the strategy's min_requests
 * (used by observed and threshold) and returns 0; it never fails.
 */
struct judge_impl {
	const char *name;
	const char *description;
	int (*init)(struct judge *j, const struct judge_settings *set, uint64_t min_requests);
};
extern const struct judge_impl judge_sequential_impl;	/* "sequential" */
extern const struct judge_impl judge_threshold_impl;	/* "threshold" */
extern const struct judge_impl judge_observed_impl;	/* "observed" */

/* The built-in judge named `name`, or NULL. */
const struct judge_impl *judge_impl_find(const char *name);

/* The decide functions, for a registry that builds struct judge itself. */
int judge_sequential_decide(const struct judge *j, const struct judge_question *q, struct judge_verdict *out);
int judge_threshold_decide(const struct judge *j, const struct judge_question *q, struct judge_verdict *out);
int judge_observed_decide(const struct judge *j, const struct judge_question *q, struct judge_verdict *out);

/*
 * What a step must rule out before it may end (docs/judge.md, "steps wait
 * for evidence").  The step's position t in [0, 1] between the first step
 * (weight w_first) and the last before 100% (w_last), on a log scale of
 * weight, sets two targets that tighten from a catastrophe at the first
 * step to the policy's smallest effect at the last:
 *   a rate ratio R = 10^(1-t) x effect^t (10x at the first step, 2x at the last),
 *   a floor f = immediate^(1-t) x floor_pct^t (5% at the first, 0.5% at the last).
 * The step's question is answered at level beta_t = JUDGE_FIRST_STEP_BETA^(1-t)
 * x (1 - power)^t (0.5 at the first step, 1 - power at the last: an e-value
 * of 1/beta_t) when either the
 * reverse two-sample test rules out a ratio of R or more (seq_rev_log_e, R
 * rounded up to its grid), or the one-sample reverse test shows the
 * canary's error rate below q = max(R x the stable's rate, f)
 * (seq_below_log_e).  Returns 1 answered, 0 not yet; *what gets the
 * question and the numbers ("ruled out 2x the stable's 1.00% error rate at
 * 50% (e-value 5.3 >= 5)" or "212 canary requests at 10%, about 600 more
 * needed to rule out 5x the 1.00% error rate (or a canary error rate of
 * 5%)").  With latency lines, the step also rules out (seq_below_half_log_e)
 * that a share ql of its canary requests is slower than the consider line:
 * 10% at the first step down to 2% before the last, 1% at the last, or twice
 * the stable's own share above that line when the stable, counted on
 * JUDGE_STEP_STABLE_MIN requests or more, shows more than ql/2 (the host
 * slowed down after the line was drawn).  Weights are percent, immediate_pct
 * the immediate error-rate line.
 */
int judge_step_question(const struct judge_evidence *ev, const struct judge_settings *set, double weight,
			double w_first, double w_last, double immediate_pct, char *what, size_t n);

/* "pass", "fail", "inconclusive", "n/a" */
const char *judge_outcome_name(enum judge_outcome o);

/* Error rate in percent 0-100 of s, or NAN when it has no requests. */
double judge_error_rate(const struct judge_sample *s);

#endif
