/*
 * analysis.h - one analysis interval: judge the canary against the rollback
 * criteria, the type's own criterion and the analysis checks, and build the
 * runbook's comparison table (docs/engine.md).
 *
 * Rules, in this order; the first that decides wins:
 *   1. immediate  runbook Rollback Procedures, "Immediate Rollback (No
 *                 Discussion)": error rate > 5%, p99 > 3x baseline -> roll back
 *   2. type       runbook Deployment Types, "Rollback Criteria" of the
 *                 deployment's type (standard: error rate > 1%; hotfix: any
 *                 regression; emergency: worse than the baseline;
 *                 database-migration: any error; infrastructure-change: any
 *                 availability impact) -> roll back
 *   3. consider   runbook "Consider Rollback": error rate > 1%, p99 > 2x
 *                 baseline -> pause for a person (DESIGN.md defaults)
 *   4. checks     Flagger analysis metrics (request-success-rate minimum,
 *                 request-duration p99 maximum) and rollout webhooks: a failed
 *                 check counts towards threshold (Flagger: total per run)
 * If the canary had too few requests for the judge, the interval is
 * inconclusive: nothing advances and nothing is counted, and the caller
 * turns a long run of these into a failed check (deployment.h; observed and
 * threshold judges only).
 *
 * With the sequential judge (the default, docs/judge.md) every criterion is
 * a test on the evidence accumulated over the whole deployment
 * (in->ev): it fires only when established at its share of the policy's
 * alpha.  Four fifths of alpha go to "the canary's error rate is higher
 * than the stable's" (which the regression criteria use, and which the
 * immediate rule also uses at 1/100 of that: "worse than stable with
 * overwhelming evidence"), the last fifth is split evenly over the other
 * tests.  Latency criteria
 * test the share of canary requests slower than a line set from the
 * baseline p99 (refined by the stable measured beside the canary) ("p99 > 2x baseline" = more than 1% of canary requests
 * slower than 2x the baseline p99).  The threshold judge turns every
 * criterion that fires into a failed check (Flagger).
 *
 * Baseline: the stable revision measured in the same interval when it had at
 * least min_requests requests (it saw the same load as the canary);
 * otherwise the baseline captured before the first step.
 */
#ifndef SLIPWAY_CORE_ANALYSIS_H
#define SLIPWAY_CORE_ANALYSIS_H

#include <stdint.h>

#include "core/judge.h"
#include "core/rules-t.h"
#include "core/strategy.h"

/* The type criteria's noise tolerances (slipway's reading of the runbook words). */
#define REGRESSION_ERROR_PP 0.5		/* hotfix/emergency: error rate above baseline by > 0.5 points */
#define REGRESSION_P99_RATIO 1.2	/* hotfix: p99 above 1.2x baseline */
#define AVAILABILITY_ERROR_PP 0.1	/* infrastructure-change: availability down > 0.1 points */

struct analysis_input {
	int64_t from_ms, to_ms;		/* the interval judged, half-open */
	double weight;			/* canary weight during the interval, percent */
	int idle;			/* blue-green idle step: no production traffic expected */
	int have_samples;		/* 0 when the provider failed; see provider_error */
	char provider_error[160];
	struct judge_sample canary;	/* measured in the interval */
	struct judge_sample stable;	/* measured in the interval */
	struct judge_sample baseline;	/* captured before the first step (requests 0: none) */
	int hooks_failed;		/* a rollout webhook / smoke check failed this interval */
	char hooks_reason[160];
	int rules_mask;			/* which rules apply: ANALYSIS_RULE_* bits */
	struct judge_batch batch;	/* exceedance counts of the latency lines (measure.c) */
	struct judge_sample refine;	/* the stable since the warm-up began (refine_pooled), or over
					   the interval ending at to_ms, when the sequential judge's lines
					   are due a refinement (requests 0: not due) */
	int refine_pooled;
	const struct judge_evidence *ev;	/* sequential: accumulated, this interval included */
};

#define ANALYSIS_RULE_IMMEDIATE 1
#define ANALYSIS_RULE_TYPE 2
#define ANALYSIS_RULE_CONSIDER 4
#define ANALYSIS_RULE_CHECKS 8
#define ANALYSIS_RULES_ALL 15

enum analysis_verdict {
	AV_PASS = 0,
	AV_INCONCLUSIVE,
	AV_CHECK_FAILED,	/* rule 4: one failed check to count */
	AV_CONSIDER,		/* rule 3: pause */
	AV_ROLLBACK_TYPE,	/* rule 2 */
	AV_ROLLBACK_IMMEDIATE,	/* rule 1 */
};

struct check_result {
	char name[64];
	enum judge_outcome outcome;
	double value;		/* percent (success rate) or ms (p99) */
	double limit;
	char op;		/* '<' (minimum) or '>' (maximum): fails when value op limit */
	/* sequential judge: the evidence (NAN when not used) */
	double estimate, lo, hi;	/* percent: canary rate (or share slower than the line) and interval */
	double log_e, log_threshold;	/* natural logs of the e-value and of where it fires */
	uint64_t requests;		/* canary requests the test used */
	double baseline;		/* the stable's rate, percent; NAN = none */
};

/* One row of the runbook's Performance Verification table. */
struct comparison_row {
	const char *metric;	/* "Error Rate", "P50 Latency", "P99 Latency", "Throughput" */
	double baseline, current;	/* percent, ms, ms, requests/s; NAN = no data */
	double delta;		/* error rate: points; others: percent change; NAN = n/a */
	const char *status;	/* "OK", "WARN", "FAIL", "N/A"; "HIGH" (sequential judge: observed above a line the evidence has not established) */
};

#define ANALYSIS_MAX_RESULTS (STRATEGY_MAX_CHECKS + 8)

struct analysis_result {
	enum analysis_verdict verdict;
	char rule[48];		/* "immediate", "type:error-rate", "consider", "check:NAME", "" */
	char reason[480];	/* names the rule and the numbers */
	char judge[16];		/* which judge decided: "sequential", "threshold", "observed" */
	double alpha;		/* sequential: the deployment's false-halt bound */
	int step_answered;	/* sequential: -1 not asked, 0 not yet, 1 the step's question is answered */
	char step_question[300];	/* what the step must rule out, with the numbers */
	uint64_t canary_requests;
	int baseline_source;	/* 0 none, 1 stable in the interval, 2 captured */
	int n_checks;
	struct check_result checks[ANALYSIS_MAX_RESULTS];	/* every criterion and check judged */
	struct comparison_row table[4];
};

/*
 * Judge one interval.  r: the type's rules; s: the strategy (checks,
 * min_requests); j: the judge (NULL = the observed judge with
 * s->min_requests).  Fills *out and returns 0; SW_EUSAGE on NULL input.
 */
int analysis_run(const struct type_rules *r, const struct strategy *s, const struct judge *j,
		 const struct analysis_input *in, struct analysis_result *out);

/*
 * The result as JSON (caller owns the reference): verdict, rule, reason,
 * canary_requests, baseline ("interval" or "captured" or null), judge,
 * checks [{name, result, value, limit, fails_when, and for the sequential
 * judge: estimate_pct, interval_pct [lo, hi], e_value, fires_at, requests}],
 * step_question {answered, text} when asked, table [{metric, baseline,
 * current, delta, status}] with units as in struct comparison_row.
 */
struct json_t;
struct json_t *analysis_result_to_json(const struct analysis_result *a);

/* "pass", "inconclusive", "check-failed", "consider", "rollback", "rollback" */
const char *analysis_verdict_name(enum analysis_verdict v);

/*
 * The judge a deployment uses: j when not NULL, else the one named by
 * r->judge.name ("" or unknown: sequential) built into *buf with the
 * strategy's min_requests.  Never NULL.
 */
const struct judge *analysis_judge(const struct type_rules *r, const struct strategy *s, const struct judge *j,
				   struct judge *buf);

/* The one-line summary of a check's evidence ("6.20% [3.1-11.0%], e 412 / 100, 320 requests"). */
void analysis_check_evidence(const struct check_result *c, char *buf, size_t n);

#endif
