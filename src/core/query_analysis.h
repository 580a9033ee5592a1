/*
 * query_analysis.h - running a rollout file's own queries during a
 * deployment: Flagger MetricTemplate checks (templateRef metrics of a
 * Canary) and Argo Rollouts analysis runs (a Rollout's analysis steps and
 * background analysis over AnalysisTemplates); docs/argo.md, "How a
 * deployment runs them".
 *
 * The split: a `struct query_plan` is what the rollout file asks for, with
 * every query rendered (controller/analysis_plan.h builds it from the
 * files); a `struct query_state` is one deployment's progress through it.
 * Core decides, from the deployment and the time, which queries are due
 * (query_state_due()), records what the provider answered
 * (query_state_record()) and says what the rollout must do
 * (query_state_verdict()); the controller runs the queries and passes the
 * verdict to deployment_advance().  Pure: no I/O, no clock (every time is
 * a parameter, wall ms since the epoch; durations in the plan are engine
 * time and are shortened by the deployment's time scale).
 *
 * Semantics:
 *   Flagger  every analysis interval at a step (not the warm-up), each
 *            templateRef metric's query once; its first value outside
 *            thresholdRange, no value, NaN, or a provider error is a failed
 *            check (Flagger counts a failed query as a failed check); the
 *            step holds while the latest check of a metric failed.
 *   Argo     a run starts when the deployment enters its step (background:
 *            the first step) and stops when the step ends (background: at
 *            promotion); each metric is measured after initialDelay, then
 *            every interval, `count` times (argo_expr.h: limits and phases).
 *            An analysis step holds while its run is Running; Successful
 *            lets it end; Failed and Error roll back; Inconclusive pauses
 *            for a person (resume re-runs the analysis, promote skips it).
 *   Outages  an empty answer is an Error measurement "no data", NaN an
 *            Inconclusive one, a provider fault (HTTP error, timeout, bad
 *            JSON) an Error "provider error: ..." (Argo); for Flagger each
 *            is a failed check.  None is ever a pass.
 */
#ifndef SLIPWAY_CORE_QUERY_ANALYSIS_H
#define SLIPWAY_CORE_QUERY_ANALYSIS_H

#include <stddef.h>
#include <stdint.h>

#include "core/argo.h"
#include "core/argo_expr.h"
#include "core/metric_template.h"

struct deployment;
struct strbuf;

#define QUERY_MAX_RUNS (ARGO_MAX_ANALYSES + 1)
#define QUERY_MAX_METRICS 32
#define QUERY_MAX_VALUES 16		/* values of one answer kept (series beyond are refused) */
#define QUERY_RUN_FLAGGER (-2)		/* a run's step: the Canary's templateRef metrics, every interval */
#define QUERY_RUN_BACKGROUND (-1)	/* a run's step: Argo's background analysis */

enum query_kind { QUERY_FLAGGER = 0, QUERY_ARGO };

/* One query of the plan. */
struct query_metric {
	enum query_kind kind;
	int run;			/* index in query_plan.runs */
	char name[64];			/* the metric's name */
	char address[256];		/* Prometheus address; "" = the service file's */
	char *query;			/* rendered (owned); Argo valueFrom arguments filled per deployment */
	int64_t timeout_ms;		/* 0: the provider's */
	/* Argo (engine ms; count already Argo's default: 1 without an interval) */
	int64_t interval_ms, initial_delay_ms;
	struct argo_limits limits;
	const struct argo_expr *success, *failure;	/* borrowed from the plan's templates */
	char condition[160];		/* for the table: "success: ...; failure: ..." */
	/* Flagger */
	struct flagger_template_ref ref;
	/* Argo valueFrom arguments left in query as {{args.NAME}}: ARGO_FROM_LATEST or _STABLE */
	int n_from;
	char from_name[ARGO_MAX_ARGS][ARGO_NAME_MAX];
	int from_kind[ARGO_MAX_ARGS];
};

/*
 * m's query for deployment d into out: the valueFrom arguments filled
 * (podTemplateHashValue Latest: d->version, Stable: d->from_version), as
 * Argo fills them with the ReplicaSets' pod-template hashes; slipway's
 * revisions are named by their versions.
 */
void query_metric_render(const struct query_metric *m, const struct deployment *d, struct strbuf *out);

/* One analysis run: an Argo analysis (its templates' metrics) or the Flagger checks. */
struct query_run_def {
	char name[128];			/* "success-rate" (Argo: the templates, joined by '+'), "flagger" */
	int step;			/* the strategy step index (0-based) it runs in, or QUERY_RUN_* */
	int first, n;			/* its metrics: metrics[first .. first + n) */
};

struct query_plan {
	int n_runs;
	struct query_run_def runs[QUERY_MAX_RUNS];
	int n_metrics;
	struct query_metric metrics[QUERY_MAX_METRICS];
	int n_templates;
	struct argo_template *templates;	/* owned: the conditions the metrics borrow */
	int64_t flagger_interval_ms;	/* the Canary's analysis interval (engine ms) */
};

/* Free what plan owns; accepts a zeroed plan. */
void query_plan_release(struct query_plan *plan);

/* A measurement as the provider gave it. */
enum query_answer_kind {
	QUERY_ANSWER_VALUES = 0,	/* a vector (n values, maybe 0) or a scalar */
	QUERY_ANSWER_ERROR,		/* provider error: HTTP, timeout, bad JSON, ... (reason given) */
};
struct query_answer {
	enum query_answer_kind kind;
	int is_vector;
	size_t n;
	double values[QUERY_MAX_VALUES];	/* a scalar: values[0], n 1 */
	char error[200];
};

/* One metric's progress in one deployment. */
struct query_metric_state {
	struct argo_metric_state st;
	enum argo_phase phase;		/* Argo: the metric's phase; Flagger: Successful / Failed of the last check */
	enum argo_phase last;		/* the last measurement's phase */
	int64_t next_ms;		/* wall ms of the next measurement, when scheduled */
	int scheduled;
	int measured;			/* measurements taken (this run) */
	char value[64];			/* the last answer, as shown: "0.97", "[0.97 0.5]", "no data", "NaN", "-" */
	char reason[200];
	int64_t at_ms;			/* when it was taken */
};

struct query_run_state {
	int active;			/* started and not stopped */
	int64_t started_ms;
	enum argo_phase phase;
	int paused;			/* it paused the deployment (Inconclusive): resume re-runs it */
	int done;			/* terminal and acted on, or skipped by a promote */
	int step_at_start;		/* d->step when it started */
};

struct query_state {
	struct query_run_state runs[QUERY_MAX_RUNS];
	struct query_metric_state m[QUERY_MAX_METRICS];
	int64_t flagger_last_ms;	/* wall ms of the last Flagger checks (one an interval), when checked */
	int flagger_checked;
	int changed;			/* a measurement since the caller last cleared it */
};

/* A fresh state for plan (nothing started). */
void query_state_init(struct query_state *s, const struct query_plan *plan);

/*
 * Bring the runs in line with d at now_ms (start a step's run when d
 * entered its step, stop runs of steps it left, restart a run a person
 * resumed after an Inconclusive pause), then put the metrics due at now_ms
 * into due[0..max) and return how many.  analysis_due: a judge look ends now
 * (the Flagger checks run on one, at most once an interval).
 */
int query_state_due(const struct query_plan *plan, struct query_state *s, const struct deployment *d,
		    int64_t now_ms, int analysis_due, int *due, int max);

/*
 * Record the answer a to metric i's query taken at now_ms: the
 * measurement's phase (argo_measure() or flagger_threshold_check(), the
 * outages as above), the metric's counts and phase, its next measurement.
 */
void query_state_record(const struct query_plan *plan, struct query_state *s, int i, const struct deployment *d,
			int64_t now_ms, const struct query_answer *a);

enum query_action {
	QUERY_NONE = 0,			/* nothing to do (or nothing yet) */
	QUERY_HOLD,			/* the step may not end yet */
	QUERY_FAILED_CHECK,		/* Flagger: a check failed in this interval (counted towards threshold) */
	QUERY_PAUSE,			/* Argo Inconclusive: pause for a person */
	QUERY_ROLLBACK,			/* Argo Failed or Error: roll back now */
};

struct query_verdict {
	enum query_action action;
	char reason[400];		/* names the analysis, the metric, the value and the rule */
	int fresh_check;		/* QUERY_FAILED_CHECK: measured at this call's now (count it once) */
};

/*
 * What the rollout must do now: the strongest action of every active run
 * (rollback > pause > failed check > hold).  A Failed run asks for the
 * rollback until the deployment leaves its steps, an Inconclusive one for
 * the pause until the deployment is paused (a decision the store did not
 * commit is asked again).  Flagger failed checks are
 * reported when the checks ran at now_ms (fresh_check); between checks a
 * failed latest check only holds.
 */
void query_state_verdict(const struct query_plan *plan, struct query_state *s, const struct deployment *d,
			 int64_t now_ms, struct query_verdict *out);

/* A row of the comparison table's query part (what `slipway show` prints). */
struct query_row {
	char analysis[128];
	char metric[64];
	char query[240];		/* rendered PromQL (cut with "...") */
	char value[64];
	char condition[160];
	char outcome[16];		/* the last measurement: Successful, Failed, Inconclusive, Error, Running (none yet) */
	char phase[16];			/* the metric's phase */
	int count;			/* measurements taken */
	char reason[200];
};

/* The rows of every metric measured at least once (at most max), each query as run for
 * deployment d (query_metric_render()); returns how many. */
int query_state_rows(const struct query_plan *plan, const struct query_state *s, const struct deployment *d,
		     struct query_row *rows, int max);

/* rows as a JSON array [{analysis, metric, query, value, condition, outcome, phase, count, reason}] */
struct json_t;
struct json_t *query_rows_to_json(const struct query_row *rows, int n);

/*
 * Read a query answer from a Prometheus `data` object's values: vector
 * values (n of them) or a scalar into *a.  A helper for the controller and
 * the tests; more than QUERY_MAX_VALUES series is an error answer.
 */
void query_answer_values(struct query_answer *a, int is_vector, const double *values, size_t n);
void query_answer_error(struct query_answer *a, const char *reason);

#endif
