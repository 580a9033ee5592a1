/*
 * argo_expr.h - the condition language of Argo Rollouts' AnalysisTemplate
 * metrics (`successCondition`, `failureCondition`; argoproj.github.io/
 * argo-rollouts, "Analysis": conditions are expr-lang expressions over
 * `result`), as far as Prometheus results need it, and the measurement and
 * run phases of an analysis (docs/argo.md).
 *
 * The language (anything else is refused when the file loads):
 *   numbers (1, 0.95, 1e-3), true, false
 *   result            the query's value: a number (a scalar result) or a
 *                     vector of numbers (one per series, in order)
 *   result[N]         element N of a vector (N a whole number >= 0)
 *   #                 the element, inside all()/any()'s {...} only
 *   + - * /  unary -  arithmetic on numbers
 *   < <= > >= == !=   comparisons of numbers
 *   && || !  ( )      logic on booleans (also `and`, `or`, `not`)
 *   isNaN(x)  len(v)  all(v, {pred})  any(v, {pred})
 *
 * Pure: no I/O, no clock.
 */
#ifndef SLIPWAY_CORE_ARGO_EXPR_H
#define SLIPWAY_CORE_ARGO_EXPR_H

#include <stddef.h>

struct strbuf;
struct argo_expr;

#define ARGO_EXPR_MAX_LEN 4096		/* bytes of one condition */
#define ARGO_EXPR_MAX_NODES 512		/* nodes of one parsed condition */

/*
 * Parse `text` into a new expression (*out, free with argo_expr_free()).
 * Returns 0, or SW_EPARSE with "column N: message" in err (N 1-based,
 * the byte column of the offending token within text) and *col = N.
 * The result must be a boolean expression ("result[0] < 0.05", not
 * "result[0]").  *out untouched on failure.
 */
int argo_expr_parse(const char *text, struct argo_expr **out, int *col, struct strbuf *err);
void argo_expr_free(struct argo_expr *e);

/* A query result: a scalar, or a vector of n values (n may be 0: no data). */
struct argo_result {
	int is_vector;
	double scalar;
	const double *values;
	size_t n;
};

/*
 * Read the `data` object of a Prometheus HTTP API query answer
 * ({"resultType": "vector"|"scalar", "result": ...}; prometheus.io/docs,
 * "HTTP API", expression query result formats) into *out: a vector's
 * sample values in order (at most max, into buf), a scalar's value.  Values
 * are Prometheus's strings ("0.97", "NaN", "+Inf").  Argo's Prometheus
 * provider hands conditions the same: a vector as a list of numbers, a
 * scalar as a number.  0, or SW_EPARSE naming what is wrong (a matrix: use
 * an instant query; a value that is not a number; more than max series).
 */
struct json_t;
int argo_result_from_prometheus(const struct json_t *data, struct argo_result *out, double *buf, size_t max,
				struct strbuf *err);

/*
 * Evaluate e over r: 1 true, 0 false, or SW_EPARSE when the expression
 * cannot be evaluated on this result (an index past the end, a vector
 * compared as a number, ...), with the reason in err; in Argo's terms an
 * Error measurement.
 */
int argo_expr_eval(const struct argo_expr *e, const struct argo_result *r, struct strbuf *err);

/* Measurement phases and analysis phases (Argo's AnalysisPhase). */
enum argo_phase {
	ARGO_RUNNING = 0,
	ARGO_SUCCESSFUL,
	ARGO_INCONCLUSIVE,
	ARGO_ERROR,
	ARGO_FAILED,
};
const char *argo_phase_name(enum argo_phase p);

/*
 * One measurement, as Argo's EvaluateResult: a true failureCondition is
 * Failed; with only a successCondition, not true is Failed; with only a
 * failureCondition, not true is Successful; with both, neither true is
 * Inconclusive; with none, Successful.  Either may be NULL.  An evaluation
 * error is Error.  slipway's difference (docs/argo.md): a result holding
 * NaN, or an empty vector, is never Successful (Inconclusive "undefined:
 * NaN", Error "no data" respectively).  Reason in `reason` (may be NULL).
 */
enum argo_phase argo_measure(const struct argo_expr *success, const struct argo_expr *failure,
			     const struct argo_result *r, struct strbuf *reason);

/* Counts of one metric's measurements (Argo's MetricResult). */
struct argo_metric_state {
	int count;			/* measurements taken without Error (Argo's MetricResult.Count) */
	int successful, failed, inconclusive, error;
	int consecutive_error;
};

/* The limits of a metric (Argo defaults: failureLimit 0, inconclusiveLimit
 * 0, consecutiveErrorLimit 4; count 0 with an interval = until stopped,
 * 0 without = 1).  A limit of -1 means unlimited (Argo's failureLimit -1). */
struct argo_limits {
	int count;
	int failure_limit, inconclusive_limit, consecutive_error_limit;
};

/* Record one measurement phase into st. */
void argo_metric_record(struct argo_metric_state *st, enum argo_phase p);

/*
 * The metric's phase after its measurements (Argo's assessMetricStatus):
 * Failed when failed > failureLimit, else Inconclusive when inconclusive >
 * inconclusiveLimit, else Error when consecutive errors >
 * consecutiveErrorLimit; else Successful once `count` measurements without
 * Error are taken (errors never complete a metric), Running before.
 */
enum argo_phase argo_metric_phase(const struct argo_metric_state *st, const struct argo_limits *l);

/*
 * A run's phase over its metrics' phases (Argo's analysis run): the worst
 * Failed > Error > Inconclusive as soon as a metric Failed or Errored (the
 * run stops), otherwise Running while any metric runs, then the worst of
 * Inconclusive and Successful.  n 0 is Successful.
 */
enum argo_phase argo_run_phase(const enum argo_phase *metrics, size_t n);

#endif
