/*
 * simulate.h - the closed loop behind `slipway simulate` (docs/simulate.md):
 * the real state machine and judge (deployment_advance(), analysis) driven
 * on a simulated clock against the generative traffic model of
 * adapters/metrics_sim.h, the canary's share of the traffic following the
 * weights the engine sets.  One call is one run (one seed); the command
 * runs many and summarises them.
 *
 * Also the reference numbers a run is measured against (the statistical
 * limit; docs/simulate.md): Wald's expected sample size (Wald 1945,
 * "Sequential Tests of Statistical Hypotheses") for the same question on
 * the strategy's schedule, and the fixed sample size of a two-sample test.
 */
#ifndef SLIPWAY_CONTROLLER_SIMULATE_H
#define SLIPWAY_CONTROLLER_SIMULATE_H

#include <stddef.h>
#include <stdint.h>

#include "adapters/metrics_sim.h"
#include "core/deployment.h"

struct strbuf;

enum simulate_outcome {
	SIM_PROMOTED = 0,	/* "promoted": reached promotion (100%) */
	SIM_ROLLED_BACK,	/* "rolled_back" */
	SIM_PAUSED,		/* "paused": by a criterion, waiting for a person */
	SIM_INSUFFICIENT,	/* "insufficient_traffic": paused for lack of traffic */
	SIM_FAILED,		/* "failed": never started */
	SIM_UNFINISHED,		/* "unfinished": still running at max_ms */
	SIM_SUCCEEDED,		/* "succeeded": through the monitoring period (through_monitoring) */
};
#define SIM_OUTCOMES 7

/* "promoted", "rolled_back", "paused", "insufficient_traffic", "failed", "unfinished", "succeeded" */
const char *simulate_outcome_name(enum simulate_outcome o);

/* The analysis rule name the judge gives a pause for lack of traffic. */
#define SIM_RULE_INSUFFICIENT "insufficient-traffic"

struct simulate_options {
	const struct type_rules *rules;		/* the type's rules (policy_type_rules()) */
	const struct strategy *strategy;
	struct metrics_sim_params traffic;	/* cell_ms: set to the strategy's interval by simulate_run() */
	int rules_mask;				/* ANALYSIS_RULE_* bits to judge by; 0 = all */
	const struct judge *judge;		/* NULL = the engine's default */
	int64_t max_ms;				/* stop (outcome unfinished) after this simulated time */
	int keep_intervals;			/* record every analysed interval in the run */
	int through_monitoring;			/* go on after promotion through the type's monitoring period */
};

/* One analysed interval, as the judge saw it (keep_intervals). */
struct simulate_interval {
	int64_t from_ms, to_ms;
	double weight;		/* the engine's canary weight, percent of its group */
	int group;		/* the region group the weight applies to (0 without groups) */
	double share;		/* the canary's share of the service's traffic, 0-1, in the model */
	uint64_t canary_requests, canary_errors, stable_requests, stable_errors;
	double canary_p99_ms, stable_p99_ms;	/* NAN without requests */
	char verdict[16];	/* analysis_verdict_name(), or "warm-up" */
	int stored;		/* the controller would store this look as an analysis result
				   (decision.analysis_quiet unset, or a transition) */
};

struct simulate_run {
	uint64_t seed;
	enum simulate_outcome outcome;
	int64_t at_ms;		/* from the start of the first step (traffic on the canary) to the decision */
	int64_t first_step_ms;	/* when the first step began, from the start; -1 = never */
	int64_t promoted_ms;	/* through_monitoring: when promotion began, from the first step; -1 = never */
	uint64_t canary_requests;	/* canary requests in the analysed intervals up to the decision */
	int step;		/* the step at the decision */
	double weight;		/* the canary weight at the decision, percent */
	char rule[48];		/* the deciding analysis rule, "" when none */
	char reason[400];
	struct simulate_interval *intervals;	/* keep_intervals: owned; simulate_run_release() */
	size_t n_intervals, alloc;
};

/*
 * Start a deployment of the canary against the stable at t = 0 (the gate
 * allows it, the canary is ready at once, webhooks pass) and advance it on
 * the simulated clock until the first of: promotion (with
 * through_monitoring: the end of the monitoring period instead), rollback,
 * failure, a pause (nobody resumes it), or o->max_ms.  The clock jumps from one
 * scheduled event to the next as in `slipway analyze`.  Deterministic in
 * (o, seed).  Returns 0 with *out filled, or a negative error with detail
 * in err (the state machine refused the strategy).
 */
int simulate_run(const struct simulate_options *o, uint64_t seed, struct simulate_run *out, struct strbuf *err);
void simulate_run_release(struct simulate_run *r);

/* ---- reference numbers (docs/simulate.md, "Reference numbers") ---- */

#define SIM_REF_MAX_STEPS 32

struct simulate_reference {
	double alpha, beta;		/* 0.05, 0.2 */
	double p0, p1;			/* event probability per request: stable, canary (alternative) */
	double relative_risk;		/* p1 / p0 (INFINITY when p0 = 0) */
	int valid;			/* 0 when p1 <= p0 or the schedule has no split (no reference) */
	/* Wald's lower bound on the schedule: expected canary requests and time from the first step */
	double wald_canary_requests;
	double wald_at_s;
	double wald_share;		/* the canary share of the step in which the bound is reached */
	/* the same at each step's split held constant (steps with stable and canary traffic) */
	int n_steps;
	double step_weight[SIM_REF_MAX_STEPS];	/* the step's weight, percent */
	double step_share[SIM_REF_MAX_STEPS];	/* canary share of the service, 0-1 */
	double step_wald[SIM_REF_MAX_STEPS];	/* expected canary requests at that split */
	/* fixed-sample two-sample z-test of proportions, per arm (R power.prop.test) */
	double fixed_one_sided, fixed_two_sided;
};

/*
 * Wald's bound for telling p1 from p0 (alpha, beta) with events attributed
 * to the revision that served them and the baseline unknown: per event,
 * KL(rho) = th log(th/rho) + (1-th) log((1-th)/(1-rho)), th = rho p1 /
 * (rho p1 + (1-rho) p0), rho the canary's share; events needed = A / KL
 * with A = (1-beta) log((1-beta)/alpha) + beta log(beta/(1-alpha)).
 * Across steps the expected log-likelihood ratio grows by KL(rho_k) per
 * event at step k's rate, and the bound is the first canary request count
 * at which the expected sum reaches A, on the schedule: each step lasts its
 * hold at rpm, the last step is held as long as needed.  Fills *out;
 * out->valid is 0 when there is no reference (p1 <= p0, no split).
 */
void simulate_reference(const struct strategy *s, double rpm, double p0, double p1, double alpha, double beta,
			struct simulate_reference *out);

#endif
