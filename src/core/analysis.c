/*
 * analysis.c - the four rules of one analysis interval and the comparison
 * table; see analysis.h for the rules and their sources.  Every criterion is
 * put to the judge as a question; this file only decides the order and
 * writes the reason, so a better judge changes no rule here.
 */
#include "core/analysis.h"
#include "core/seqtest.h"
#include "core/rules.h"
#include "base/fmt.h"
#include "base/err.h"

#include <jansson.h>

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>


struct ctx {
	const struct judge *j;
	struct judge defjudge;
	uint64_t min_requests;
	const struct analysis_input *in;
	double alpha_stable;	/* sequential: level of the line tests' comparison with the stable */
	const struct judge_sample *canary, *base;
	struct analysis_result *out;
	int inconclusive;	/* some criterion lacked canary data */
	char inconclusive_why[160];
};

static void fmt_value(char *buf, size_t n, enum judge_metric m, double v)
{
	if (isnan(v))
		bprintf(buf, n, "no data");
	else if (m == JUDGE_ERROR_RATE)
		bprintf(buf, n, "%.2f%%", v);
	else
		bprintf(buf, n, "%.0fms", v);
}

/* Ask the judge; record the answer as a check result; return the outcome. */
static enum judge_outcome ask(struct ctx *c, const char *name, enum judge_metric m, enum judge_test t,
			      double limit, struct judge_verdict *v)
{
	struct judge_question q = { .metric = m, .test = t, .limit = limit, .canary = c->canary,
				    .baseline = c->base };
	struct analysis_result *out = c->out;

	memset(v, 0, sizeof(*v));
	if (c->j->decide(c->j, &q, v) < 0)
		v->outcome = JUDGE_INCONCLUSIVE;
	if (out->n_checks < ANALYSIS_MAX_RESULTS) {
		struct check_result *cr = &out->checks[out->n_checks++];
		bprintf(cr->name, sizeof(cr->name), "%s", name);
		cr->outcome = v->outcome;
		cr->value = v->canary_value;
		cr->limit = v->limit_value;
		cr->op = '>';
		cr->estimate = cr->lo = cr->hi = cr->log_e = cr->log_threshold = cr->baseline = NAN;
		cr->requests = v->canary_requests;
	}
	if (v->outcome == JUDGE_INCONCLUSIVE && !c->inconclusive) {
		c->inconclusive = 1;
		bprintf(c->inconclusive_why, sizeof(c->inconclusive_why), "%s", v->why);
	}
	return v->outcome;
}

static void decide(struct ctx *c, enum analysis_verdict verdict, const char *rule)
{
	c->out->verdict = verdict;
	bprintf(c->out->rule, sizeof(c->out->rule), "%s", rule);
}

/* Rule 2: the deployment type's own criterion (runbook Deployment Types). */
static int type_rule(struct ctx *c, const struct type_rules *r, struct judge_verdict *v,
		     enum judge_metric *m, char *what, size_t wn)
{
	int have_base = c->base && c->base->requests > 0;

	switch (r->criterion) {
	case TYPE_CRIT_ERROR_RATE:
		*m = JUDGE_ERROR_RATE;
		bprintf(what, wn, "%.4g%%", r->criterion_error_rate_pct);
		return ask(c, "type:error-rate", JUDGE_ERROR_RATE, JUDGE_ABOVE_LIMIT,
			   r->criterion_error_rate_pct, v) == JUDGE_FAIL;
	case TYPE_CRIT_ANY_REGRESSION:
		*m = JUDGE_ERROR_RATE;
		bprintf(what, wn, " + %.2g points", REGRESSION_ERROR_PP);
		if (ask(c, "type:any-regression:error-rate", JUDGE_ERROR_RATE,
			have_base ? JUDGE_DELTA_ABOVE : JUDGE_ABOVE_LIMIT, REGRESSION_ERROR_PP, v) == JUDGE_FAIL)
			return 1;
		*m = JUDGE_P99;
		bprintf(what, wn, "%.2gx baseline", REGRESSION_P99_RATIO);
		return ask(c, "type:any-regression:p99", JUDGE_P99, JUDGE_RATIO_ABOVE, REGRESSION_P99_RATIO,
			   v) == JUDGE_FAIL;
	case TYPE_CRIT_WORSE_THAN_BASELINE:
		*m = JUDGE_ERROR_RATE;
		bprintf(what, wn, " + %.2g points", REGRESSION_ERROR_PP);
		return ask(c, "type:worse-than-baseline", JUDGE_ERROR_RATE,
			   have_base ? JUDGE_DELTA_ABOVE : JUDGE_ABOVE_LIMIT, REGRESSION_ERROR_PP, v) == JUDGE_FAIL;
	case TYPE_CRIT_ANY_ERROR:
		*m = JUDGE_ERROR_RATE;
		bprintf(what, wn, "%s", "");
		return ask(c, "type:any-error", JUDGE_ERROR_RATE,
			   have_base ? JUDGE_DELTA_ABOVE : JUDGE_ABOVE_LIMIT, 0, v) == JUDGE_FAIL;
	case TYPE_CRIT_AVAILABILITY:
		*m = JUDGE_ERROR_RATE;
		bprintf(what, wn, " + %.2g points", AVAILABILITY_ERROR_PP);
		return ask(c, "type:availability", JUDGE_ERROR_RATE,
			   have_base ? JUDGE_DELTA_ABOVE : JUDGE_ABOVE_LIMIT, AVAILABILITY_ERROR_PP, v) == JUDGE_FAIL;
	}
	return 0;
}

static double pct_change(double base, double cur)
{
	if (isnan(base) || isnan(cur) || base == 0)
		return NAN;
	return 100.0 * (cur - base) / base;
}

static void fill_table(const struct type_rules *r, const struct analysis_input *in,
		       const struct judge_sample *base, struct analysis_result *out)
{
	const struct judge_sample *cn = &in->canary;
	double be = judge_error_rate(base), ce = judge_error_rate(cn);
	double bp50 = base && base->requests ? base->p50_ms : NAN, cp50 = cn->requests ? cn->p50_ms : NAN;
	double bp99 = base && base->requests ? base->p99_ms : NAN, cp99 = cn->requests ? cn->p99_ms : NAN;
	double span = (double)(in->to_ms - in->from_ms) / 1000.0;
	/* throughput compares the whole service (stable + canary) with the baseline
	   captured before the first step, when the stable revision took all traffic */
	const struct judge_sample *cap = &in->baseline;
	double bspan = cap->span_ms > 0 ? (double)cap->span_ms / 1000.0 : span;
	double brps = cap->requests && bspan > 0 ? (double)cap->requests / bspan : NAN;
	/* each side's requests over the time they were counted in: its sample's
	   span (a trace row longer than the look covers the row), else the look */
	uint64_t total = in->canary.requests + in->stable.requests;
	double cspan = in->canary.span_ms > 0 ? (double)in->canary.span_ms / 1000.0 : span;
	double sspan = in->stable.span_ms > 0 ? (double)in->stable.span_ms / 1000.0 : span;
	double crps = total && cspan > 0 && sspan > 0 ?
			      (double)in->canary.requests / cspan + (double)in->stable.requests / sspan : NAN;
	struct comparison_row *t = out->table;

	t[0] = (struct comparison_row){ "Error Rate", be, ce, isnan(be) || isnan(ce) ? NAN : ce - be, "OK" };
	if (isnan(ce))
		t[0].status = "N/A";
	else if (ce > r->immediate_error_rate_pct)
		t[0].status = "FAIL";
	else if (ce > r->consider_error_rate_pct)
		t[0].status = "WARN";
	t[1] = (struct comparison_row){ "P50 Latency", bp50, cp50, pct_change(bp50, cp50), "OK" };
	if (isnan(cp50))
		t[1].status = "N/A";
	else if (!isnan(bp50) && bp50 > 0 && cp50 > r->consider_p99_ratio * bp50)
		t[1].status = "WARN";
	t[2] = (struct comparison_row){ "P99 Latency", bp99, cp99, pct_change(bp99, cp99), "OK" };
	if (isnan(cp99))
		t[2].status = "N/A";
	else if (!isnan(bp99) && bp99 > 0 && cp99 > r->immediate_p99_ratio * bp99)
		t[2].status = "FAIL";
	else if (!isnan(bp99) && bp99 > 0 && cp99 > r->consider_p99_ratio * bp99)
		t[2].status = "WARN";
	/* throughput of the whole service (stable + canary) against the baseline */
	t[3] = (struct comparison_row){ "Throughput", brps, crps, pct_change(brps, crps), "OK" };
	if (isnan(crps))
		t[3].status = "N/A";
	else if (!isnan(t[3].delta) && t[3].delta < -10)
		t[3].status = "WARN";
}

/*
 * Under the sequential judge the comparison table's statuses follow the
 * verdict: one look's observed value above a line that the accumulated
 * evidence has not established reads HIGH, not FAIL or WARN (a passing
 * deployment's table said "P99 Latency ... FAIL"); FAIL and WARN stay on
 * the row of the metric whose criterion fired (rollback, pause): FAIL for a
 * rollback, WARN at least for a pause, the error row too when its observed
 * value is under every line (a canary worse than the stable, "any regression").
 */
static void table_as_judged(struct analysis_result *out)
{
	int fired = out->verdict == AV_ROLLBACK_IMMEDIATE || out->verdict == AV_ROLLBACK_TYPE ||
		    out->verdict == AV_CONSIDER || out->verdict == AV_CHECK_FAILED;
	int latency = fired && (strstr(out->reason, "latency") || strstr(out->reason, "slower"));
	int rollback = out->verdict == AV_ROLLBACK_IMMEDIATE || out->verdict == AV_ROLLBACK_TYPE;
	if (fired && !latency && out->table[0].status && !strcmp(out->table[0].status, "OK"))
		out->table[0].status = rollback ? "FAIL" : "WARN";
	for (int i = 0; i < 3; i++) {
		struct comparison_row *t = &out->table[i];
		int is_latency = i > 0;
		if (!t->status || (strcmp(t->status, "FAIL") && strcmp(t->status, "WARN")))
			continue;
		if (fired && is_latency == latency) {
			/* the row of the criterion that fired reads as the verdict: FAIL for a
			   rollback, whatever line its observed value crossed (a type criterion's
			   rollback at 1.6% read WARN, the 5% line's colour) */
			if (rollback)
				t->status = "FAIL";
			continue;
		}
		t->status = "HIGH";
	}
}

const struct judge *analysis_judge(const struct type_rules *r, const struct strategy *s, const struct judge *j,
				   struct judge *buf)
{
	const struct judge_impl *impl;
	if (j)
		return j;
	impl = r ? judge_impl_find(r->judge.name) : NULL;
	if (!impl)
		impl = &judge_sequential_impl;
	impl->init(buf, r && r->judge.alpha > 0 ? &r->judge : NULL, s && s->min_requests ? s->min_requests : 1);
	return buf;
}

void analysis_check_evidence(const struct check_result *c, char *buf, size_t n)
{
	char e[32];
	if (isnan(c->log_e)) {
		bprintf(buf, n, "%s", "");
		return;
	}
	if (isinf(c->log_e))
		bprintf(e, sizeof(e), "inf");
	else
		bprintf(e, sizeof(e), "%.3g", exp(c->log_e));
	if (isnan(c->estimate))
		bprintf(buf, n, "e-value %s of %.3g, %llu canary requests", e, exp(c->log_threshold),
			(unsigned long long)c->requests);
	else
		bprintf(buf, n, "%.3g%% [%.3g-%.3g%%], e-value %s of %.3g, %llu canary requests", c->estimate, c->lo,
			c->hi, e, exp(c->log_threshold), (unsigned long long)c->requests);
}

/* Ask the sequential judge at level alpha; record the evidence in the check result. */
static enum judge_outcome sask(struct ctx *c, const char *name, enum judge_metric m, enum judge_test t, double limit,
			       int line, double alpha, struct judge_verdict *v)
{
	struct judge_question q = { .metric = m, .test = t, .limit = limit, .canary = &c->in->canary,
				    .baseline = &c->in->stable, .ev = c->in->ev, .alpha = alpha,
				    .effect = c->j->set.effect, .line = line, .alpha_stable = c->alpha_stable,
				    /* the immediate lines hold whatever the stable does: no discussion */
				    .absolute = !strncmp(name, "immediate:", 10),
				    /* 100% after a stable was measured beside the canary (monitoring, a
				       blue-green switch): comparisons with the stable cannot grow any more */
				    .alone = c->in->ev && c->in->weight >= 100 && !c->in->stable.requests &&
					     c->in->ev->err.ns > 0 };
	struct analysis_result *out = c->out;

	memset(v, 0, sizeof(*v));
	if (c->j->decide(c->j, &q, v) < 0) {
		v->outcome = JUDGE_INCONCLUSIVE;
		bprintf(v->why, sizeof(v->why), "the judge refused the question");
	}
	if (out->n_checks < ANALYSIS_MAX_RESULTS) {
		struct check_result *cr = &out->checks[out->n_checks++];
		bprintf(cr->name, sizeof(cr->name), "%s", name);
		cr->outcome = v->outcome;
		cr->value = v->canary_value;
		cr->limit = v->limit_value;
		cr->op = '>';
		cr->estimate = v->estimate;
		cr->lo = v->lo;
		cr->hi = v->hi;
		cr->log_e = v->log_e;
		cr->log_threshold = v->log_threshold;
		cr->requests = v->canary_requests;
		cr->baseline = v->baseline_value;
	}
	if (v->outcome == JUDGE_INCONCLUSIVE && !c->inconclusive) {
		c->inconclusive = 1;
		bprintf(c->inconclusive_why, sizeof(c->inconclusive_why), "%s: %s", name, v->why);
	}
	return v->outcome;
}

/* "error rate 6.20% [3.1-11.0%] ... e-value 412 >= 100" for reasons */
static void seq_reason(struct analysis_result *out, const char *what, const char *rule_words,
		       const struct judge_verdict *v, const char *tail)
{
	char e[32], est[96];
	if (isinf(v->log_e))
		bprintf(e, sizeof(e), "inf");
	else
		bprintf(e, sizeof(e), "%.3g", exp(v->log_e));
	if (isnan(v->estimate))
		bprintf(est, sizeof(est), "%s", "no data");
	else
		bprintf(est, sizeof(est), "%.2f%% (%.3g%% anytime-valid interval %.2f-%.2f%%)", v->estimate,
			100 * (1 - out->alpha), v->lo, v->hi);
	bprintf(out->reason, sizeof(out->reason), "%s %s: %s; e-value %s >= %.3g (%s), canary %llu requests%s", what,
		est, v->why, e, exp(v->log_threshold), rule_words, (unsigned long long)v->canary_requests, tail);
}

/*
 * The line a regression criterion tests when no stable served beside the
 * canary (a full or blue-green switch, monitoring at 100%): the current
 * state is the baseline captured before the first step, measured once, so
 * the line is the upper end of its one-sided 95% Wilson score interval
 * (Wilson 1927; a fixed sample needs no anytime-valid width) for the error
 * rate (percent), and at least `floor`.  A baseline of 16 errors in 1,009
 * requests gives 2.4%: a healthy release at the same 1.6% stays below it; 1
 * error in 1,000 gives 0.45%, so the floor (0.5%) decides.  No baseline:
 * `floor` alone.
 */
static double baseline_line(const struct analysis_input *in, double floor)
{
	double hi;

	if (!in->baseline.requests)
		return floor;
	hi = judge_wilson_upper(in->baseline.requests, in->baseline.errors, 1.6449);	/* one-sided 95% */
	return 100.0 * hi > floor ? 100.0 * hi : floor;
}

/*
 * The sequential judge's analysis (see analysis.h): the same four rules in
 * the same order, each criterion a test on the accumulated evidence.
 */
static int run_sequential(struct ctx *c, const struct type_rules *r, const struct strategy *s,
			  const struct analysis_input *in, struct analysis_result *out)
{
	struct judge_verdict v, best;
	double alpha = c->j->set.alpha > 0 && c->j->set.alpha < 1 ? c->j->set.alpha : 0.05;
	double a_reg = alpha * 0.9, a_o;
	int mask = in->rules_mask ? in->rules_mask : ANALYSIS_RULES_ALL;
	int have_stable = in->ev->err.ns > 0, n_other = 3, best_set = 0;
	const struct judge_sample *base = NULL;

	out->alpha = alpha;
	out->canary_requests = in->ev->err.nc;
	if (in->stable.requests > 0) {
		base = &in->stable;
		out->baseline_source = 1;
	} else if (in->baseline.requests > 0) {
		base = &in->baseline;
		out->baseline_source = 2;
	}
	fill_table(r, in, base, out);
	if (!in->have_samples) {
		out->verdict = AV_INCONCLUSIVE;
		bprintf(out->rule, sizeof(out->rule), "inconclusive");
		bprintf(out->reason, sizeof(out->reason), "no metrics: %s (interval not judged)",
			in->provider_error[0] ? in->provider_error : "the provider did not answer");
		goto hooks;
	}
	if (in->idle && in->canary.requests < c->min_requests) {
		out->verdict = AV_PASS;
		bprintf(out->reason, sizeof(out->reason), "idle revision (%llu requests): smoke checks only",
			(unsigned long long)in->canary.requests);
		goto hooks;
	}
	/* the alpha split: immediate line and latency, consider latency, then type and checks */
	if (r->criterion == TYPE_CRIT_ERROR_RATE)
		n_other++;
	if (r->criterion == TYPE_CRIT_ANY_REGRESSION)
		n_other++;
	if (!(r->criterion == TYPE_CRIT_ERROR_RATE && r->consider_error_rate_pct == r->criterion_error_rate_pct))
		n_other++;
	for (int i = 0; i < s->n_checks; i++) {
		const struct analysis_check *ck = &s->checks[i];
		/* a success-rate check on the type's (or the consider) error line is the same test
		   at the same level, the same event: counted once */
		if (ck->metric == CHECK_SUCCESS_RATE && ck->has_min &&
		    ((r->criterion == TYPE_CRIT_ERROR_RATE && 100.0 - ck->min == r->criterion_error_rate_pct) ||
		     100.0 - ck->min == r->consider_error_rate_pct))
			continue;
		n_other++;
	}
	a_o = alpha * 0.1 / n_other;
	c->alpha_stable = a_reg;	/* a line's "against the stable" is the regression test's event */
	memset(&best, 0, sizeof(best));

#define KEEP_BEST() do { if (v.outcome == JUDGE_PASS && !isnan(v.log_e) && \
	(!best_set || v.log_e - v.log_threshold > best.log_e - best.log_threshold)) { best = v; best_set = 1; } } while (0)

	if (mask & ANALYSIS_RULE_IMMEDIATE) {
		if (sask(c, "immediate:error-rate", JUDGE_ERROR_RATE, JUDGE_ABOVE_LIMIT, r->immediate_error_rate_pct, 0,
			 a_o, &v) == JUDGE_FAIL) {
			decide(c, AV_ROLLBACK_IMMEDIATE, "immediate");
			seq_reason(out, "error rate", "immediate rollback criterion", &v, "");
			return 0;
		}
		KEEP_BEST();
		if (have_stable && sask(c, "immediate:worse-than-stable", JUDGE_ERROR_RATE, JUDGE_DELTA_ABOVE, 0, 0,
					a_reg / 100, &v) == JUDGE_FAIL) {
			decide(c, AV_ROLLBACK_IMMEDIATE, "immediate");
			seq_reason(out, "error rate", "immediate rollback criterion: worse than the stable with "
				   "overwhelming evidence", &v, "");
			return 0;
		}
		if (sask(c, "immediate:p99", JUDGE_P99, JUDGE_RATIO_ABOVE, r->immediate_p99_ratio, JUDGE_LINE_IMMEDIATE,
			 a_o, &v) == JUDGE_FAIL) {
			decide(c, AV_ROLLBACK_IMMEDIATE, "immediate");
			seq_reason(out, "p99 latency above the line: share slower", "immediate rollback criterion", &v, "");
			return 0;
		}
		KEEP_BEST();
	}
	if (mask & ANALYSIS_RULE_TYPE) {
		char rule[48], words[96];
		enum judge_outcome o = JUDGE_PASS;
		const char *what = "error rate";
		bprintf(rule, sizeof(rule), "type:%s", type_criterion_name(r->criterion));
		bprintf(words, sizeof(words), "%s deployment rollback criterion '%s'", r->type,
			type_criterion_name(r->criterion));
		switch (r->criterion) {
		case TYPE_CRIT_ERROR_RATE:
			o = sask(c, "type:error-rate", JUDGE_ERROR_RATE, JUDGE_ABOVE_LIMIT, r->criterion_error_rate_pct, 0,
				 a_o, &v);
			break;
		case TYPE_CRIT_ANY_REGRESSION:
			if (have_stable)
				o = sask(c, "type:any-regression:error-rate", JUDGE_ERROR_RATE, JUDGE_DELTA_ABOVE, 0, 0,
					 a_reg, &v);
			else
				o = sask(c, "type:any-regression:error-rate", JUDGE_ERROR_RATE, JUDGE_ABOVE_LIMIT,
					 baseline_line(in, REGRESSION_ERROR_PP), 0, a_reg, &v);
			if (o != JUDGE_FAIL) {
				KEEP_BEST();
				o = sask(c, "type:any-regression:p99", JUDGE_P99, JUDGE_RATIO_ABOVE, REGRESSION_P99_RATIO,
					 JUDGE_LINE_REGRESSION, a_o, &v);
				what = "requests slower than 1.2x the baseline p99";
			}
			break;
		case TYPE_CRIT_WORSE_THAN_BASELINE:
		case TYPE_CRIT_ANY_ERROR:
		case TYPE_CRIT_AVAILABILITY:
			if (have_stable)
				o = sask(c, rule, JUDGE_ERROR_RATE, JUDGE_DELTA_ABOVE, 0, 0, a_reg, &v);
			else
				o = sask(c, rule, JUDGE_ERROR_RATE, JUDGE_ABOVE_LIMIT,
					 r->criterion == TYPE_CRIT_ANY_ERROR ? 0 :
					 baseline_line(in, r->criterion == TYPE_CRIT_AVAILABILITY ? AVAILABILITY_ERROR_PP :
						       REGRESSION_ERROR_PP),
					 0, a_reg, &v);
			break;
		}
		if (o == JUDGE_FAIL) {
			decide(c, AV_ROLLBACK_TYPE, rule);
			seq_reason(out, what, words, &v, "");
			return 0;
		}
		KEEP_BEST();
	}
	if (mask & ANALYSIS_RULE_CONSIDER) {
		static const char tail[] = ": paused for a person to promote or abort";
		if (!(r->criterion == TYPE_CRIT_ERROR_RATE && r->consider_error_rate_pct == r->criterion_error_rate_pct) &&
		    sask(c, "consider:error-rate", JUDGE_ERROR_RATE, JUDGE_ABOVE_LIMIT, r->consider_error_rate_pct, 0, a_o,
			 &v) == JUDGE_FAIL) {
			decide(c, AV_CONSIDER, "consider");
			seq_reason(out, "error rate", "consider rollback criterion", &v, tail);
			return 0;
		}
		KEEP_BEST();
		if (have_stable && r->criterion == TYPE_CRIT_ERROR_RATE &&
		    sask(c, "consider:worse-than-stable", JUDGE_ERROR_RATE, JUDGE_DELTA_ABOVE, 0, 0, a_reg, &v) ==
		    JUDGE_FAIL) {
			decide(c, AV_CONSIDER, "consider");
			seq_reason(out, "error rate", "consider rollback criterion: a regression against the stable", &v,
				   tail);
			return 0;
		}
		KEEP_BEST();
		if (sask(c, "consider:p99", JUDGE_P99, JUDGE_RATIO_ABOVE, r->consider_p99_ratio, JUDGE_LINE_CONSIDER, a_o,
			 &v) == JUDGE_FAIL) {
			decide(c, AV_CONSIDER, "consider");
			seq_reason(out, "p99 latency above the line: share slower", "consider rollback criterion", &v, tail);
			return 0;
		}
		KEEP_BEST();
	}
	if (mask & ANALYSIS_RULE_CHECKS) {
		for (int i = 0; i < s->n_checks; i++) {
			const struct analysis_check *ck = &s->checks[i];
			char name[80], words[96];
			enum judge_outcome o = JUDGE_PASS;
			bprintf(name, sizeof(name), "check:%s", ck->name);
			bprintf(words, sizeof(words), "check %s", ck->name);
			if (ck->metric == CHECK_SUCCESS_RATE && ck->has_min) {
				/* success rate >= min  <=>  error rate <= 100 - min */
				o = sask(c, name, JUDGE_ERROR_RATE, JUDGE_ABOVE_LIMIT, 100.0 - ck->min, 0, a_o, &v);
				if (out->n_checks) {
					struct check_result *cr = &out->checks[out->n_checks - 1];
					cr->value = isnan(v.canary_value) ? NAN : 100.0 - v.canary_value;
					cr->limit = ck->min;
					cr->op = '<';
				}
			} else if (ck->metric != CHECK_SUCCESS_RATE && ck->has_max) {
				o = sask(c, name, JUDGE_P99, JUDGE_ABOVE_LIMIT, ck->max, JUDGE_LINE_CHECK, a_o, &v);
			} else {
				continue;	/* the other bounds are the observed judge's (docs/judge.md) */
			}
			if (o == JUDGE_FAIL && out->verdict != AV_CHECK_FAILED) {
				out->verdict = AV_CHECK_FAILED;
				bprintf(out->rule, sizeof(out->rule), "%s", name);
				seq_reason(out, ck->metric == CHECK_SUCCESS_RATE ? "error rate" :
					   "share of requests slower than the maximum", words, &v, "");
			}
			KEEP_BEST();
		}
		if (out->verdict == AV_CHECK_FAILED)
			goto hooks;
	}
#undef KEEP_BEST
	if (c->inconclusive) {
		out->verdict = AV_INCONCLUSIVE;
		bprintf(out->rule, sizeof(out->rule), "inconclusive");
		bprintf(out->reason, sizeof(out->reason), "not judged (never a pass): %s", c->inconclusive_why);
	} else {
		out->verdict = AV_PASS;
		if (best_set) {
			bprintf(out->reason, sizeof(out->reason), "no criterion established, canary %llu requests; closest: "
				"%s", (unsigned long long)in->ev->err.nc, best.why);
		} else {
			bprintf(out->reason, sizeof(out->reason), "no criterion established, canary %llu requests",
				(unsigned long long)in->ev->err.nc);
		}
	}
hooks:
	if (in->hooks_failed && (mask & ANALYSIS_RULE_CHECKS) && out->verdict != AV_CHECK_FAILED) {
		out->verdict = AV_CHECK_FAILED;
		bprintf(out->rule, sizeof(out->rule), "check:webhook");
		bprintf(out->reason, sizeof(out->reason), "check failed: %s", in->hooks_reason);
	}
	return 0;
}

static int run_rules(const struct type_rules *r, const struct strategy *s, const struct judge *j,
		     const struct analysis_input *in, struct analysis_result *out)
{
	struct ctx c;
	struct judge_verdict v;
	enum judge_metric m;
	char what[64];
	int mask;

	if (!r || !s || !in || !out)
		return SW_EUSAGE;
	memset(out, 0, sizeof(*out));
	memset(&c, 0, sizeof(c));
	c.min_requests = s->min_requests ? s->min_requests : 1;
	c.j = analysis_judge(r, s, j, &c.defjudge);
	c.in = in;
	c.out = out;
	bprintf(out->judge, sizeof(out->judge), "%s", c.j->name);
	out->step_answered = -1;
	if (c.j->kind == JUDGE_KIND_SEQUENTIAL && in->ev) {
		int rc = run_sequential(&c, r, s, in, out);
		table_as_judged(out);
		return rc;
	}
	c.canary = &in->canary;
	c.out = out;
	mask = in->rules_mask ? in->rules_mask : ANALYSIS_RULES_ALL;
	out->canary_requests = in->canary.requests;

	if (in->stable.requests >= c.min_requests) {
		c.base = &in->stable;
		out->baseline_source = 1;
	} else if (in->baseline.requests > 0) {
		c.base = &in->baseline;
		out->baseline_source = 2;
	}
	fill_table(r, in, c.base, out);

	if (!in->have_samples) {
		out->verdict = AV_INCONCLUSIVE;
		bprintf(out->reason, sizeof(out->reason), "no metrics: %s",
			 in->provider_error[0] ? in->provider_error : "the provider did not answer");
		goto hooks;
	}
	if (in->idle && in->canary.requests < c.min_requests) {
		/* blue-green idle: no production traffic by design; smoke checks decide */
		out->verdict = AV_PASS;
		bprintf(out->reason, sizeof(out->reason), "idle revision (%llu requests): smoke checks only",
			 (unsigned long long)in->canary.requests);
		goto hooks;
	}

	/* 1. immediate criteria (runbook Rollback Procedures) */
	if (mask & ANALYSIS_RULE_IMMEDIATE) {
		if (ask(&c, "immediate:error-rate", JUDGE_ERROR_RATE, JUDGE_ABOVE_LIMIT,
			r->immediate_error_rate_pct, &v) == JUDGE_FAIL) {
			decide(&c, AV_ROLLBACK_IMMEDIATE, "immediate");
			bprintf(out->reason, sizeof(out->reason),
				 "error rate %.2f%% > %.4g%% (immediate rollback criterion), canary %llu requests",
				 v.canary_value, r->immediate_error_rate_pct, (unsigned long long)v.canary_requests);
			return 0;
		}
		if (ask(&c, "immediate:p99", JUDGE_P99, JUDGE_RATIO_ABOVE, r->immediate_p99_ratio, &v) == JUDGE_FAIL) {
			out->verdict = AV_ROLLBACK_IMMEDIATE;
			bprintf(out->rule, sizeof(out->rule), "immediate");
			bprintf(out->reason, sizeof(out->reason),
				 "p99 latency %.0fms > %.4gx baseline %.0fms = %.0fms (immediate rollback criterion), "
				 "canary %llu requests", v.canary_value, r->immediate_p99_ratio, v.baseline_value,
				 v.limit_value, (unsigned long long)v.canary_requests);
			return 0;
		}
	}
	/* 2. the type's own criterion (runbook Deployment Types) */
	if ((mask & ANALYSIS_RULE_TYPE) && type_rule(&c, r, &v, &m, what, sizeof(what))) {
		char rule[48];
		bprintf(rule, sizeof(rule), "type:%s", type_criterion_name(r->criterion));
		decide(&c, AV_ROLLBACK_TYPE, rule);
		{
			char cv[32], bv[32], lv[32], how[96];
			fmt_value(cv, sizeof(cv), m, v.canary_value);
			fmt_value(bv, sizeof(bv), m, v.baseline_value);
			fmt_value(lv, sizeof(lv), m, v.limit_value);
			if (isnan(v.baseline_value))
				bprintf(how, sizeof(how), "%s", "");
			else if (m == JUDGE_P99)
				bprintf(how, sizeof(how), " (%s %s)", what, bv);
			else
				bprintf(how, sizeof(how), " (baseline %s%s)", bv, what);
			bprintf(out->reason, sizeof(out->reason),
				"%s %s > %s%s (%s deployment rollback criterion '%s'), canary %llu requests",
				m == JUDGE_ERROR_RATE ? "error rate" : "p99 latency", cv, lv, how, r->type,
				type_criterion_name(r->criterion), (unsigned long long)v.canary_requests);
		}
		return 0;
	}
	/* 3. consider criteria (runbook "Consider Rollback"): pause for a person */
	if (mask & ANALYSIS_RULE_CONSIDER) {
		if (ask(&c, "consider:error-rate", JUDGE_ERROR_RATE, JUDGE_ABOVE_LIMIT,
			r->consider_error_rate_pct, &v) == JUDGE_FAIL) {
			out->verdict = AV_CONSIDER;
			bprintf(out->rule, sizeof(out->rule), "consider");
			bprintf(out->reason, sizeof(out->reason),
				 "error rate %.2f%% > %.4g%% (consider rollback criterion): paused for a person "
				 "to promote or abort, canary %llu requests",
				 v.canary_value, r->consider_error_rate_pct, (unsigned long long)v.canary_requests);
			return 0;
		}
		if (ask(&c, "consider:p99", JUDGE_P99, JUDGE_RATIO_ABOVE, r->consider_p99_ratio, &v) == JUDGE_FAIL) {
			out->verdict = AV_CONSIDER;
			bprintf(out->rule, sizeof(out->rule), "consider");
			bprintf(out->reason, sizeof(out->reason),
				 "p99 latency %.0fms > %.4gx baseline %.0fms = %.0fms (consider rollback criterion): "
				 "paused for a person to promote or abort, canary %llu requests",
				 v.canary_value, r->consider_p99_ratio, v.baseline_value, v.limit_value,
				 (unsigned long long)v.canary_requests);
			return 0;
		}
	}
	/* 4. the analysis checks (Flagger metrics) */
	if (mask & ANALYSIS_RULE_CHECKS) {
		for (int i = 0; i < s->n_checks; i++) {
			const struct analysis_check *ck = &s->checks[i];
			char name[80];
			bprintf(name, sizeof(name), "check:%s", ck->name);
			if (ck->metric == CHECK_SUCCESS_RATE) {
				/* success rate >= min  <=>  error rate <= 100 - min */
				if (ck->has_min) {
					enum judge_outcome o = ask(&c, name, JUDGE_ERROR_RATE, JUDGE_ABOVE_LIMIT,
								   100.0 - ck->min, &v);
					struct check_result *cr = &out->checks[out->n_checks - 1];
					cr->value = isnan(v.canary_value) ? NAN : 100.0 - v.canary_value;
					cr->limit = ck->min;
					cr->op = '<';
					if (o == JUDGE_FAIL && out->verdict != AV_CHECK_FAILED) {
						out->verdict = AV_CHECK_FAILED;
						bprintf(out->rule, sizeof(out->rule), "%s", name);
						if (cr->value < ck->min)
							bprintf(out->reason, sizeof(out->reason),
								 "check %s: success rate %.2f%% < %.4g%% minimum, canary %llu "
								 "requests", ck->name, cr->value, ck->min,
								 (unsigned long long)v.canary_requests);
						else	/* the threshold judge: too few requests is a failed check */
							bprintf(out->reason, sizeof(out->reason), "check %s: %s", ck->name,
								 v.why);
					}
				}
				if (ck->has_max) {
					enum judge_outcome o = ask(&c, name, JUDGE_ERROR_RATE, JUDGE_ABOVE_LIMIT, 0, &v);
					struct check_result *cr = &out->checks[out->n_checks - 1];
					cr->value = isnan(v.canary_value) ? NAN : 100.0 - v.canary_value;
					cr->limit = ck->max;
					cr->op = '>';
					cr->outcome = o == JUDGE_INCONCLUSIVE ? o :
						(cr->value > ck->max ? JUDGE_FAIL : JUDGE_PASS);
					if (cr->outcome == JUDGE_FAIL && out->verdict != AV_CHECK_FAILED) {
						out->verdict = AV_CHECK_FAILED;
						bprintf(out->rule, sizeof(out->rule), "%s", name);
						bprintf(out->reason, sizeof(out->reason),
							 "check %s: success rate %.2f%% > %.4g%% maximum", ck->name,
							 cr->value, ck->max);
					}
				}
			} else {
				if (ck->has_max) {
					enum judge_outcome o = ask(&c, name, JUDGE_P99, JUDGE_ABOVE_LIMIT, ck->max, &v);
					if (o == JUDGE_FAIL && out->verdict != AV_CHECK_FAILED) {
						out->verdict = AV_CHECK_FAILED;
						bprintf(out->rule, sizeof(out->rule), "%s", name);
						bprintf(out->reason, sizeof(out->reason),
							 "check %s: p99 latency %.0fms > %.4gms maximum, canary %llu requests",
							 ck->name, v.canary_value, ck->max,
							 (unsigned long long)v.canary_requests);
					}
				}
				if (ck->has_min) {
					enum judge_outcome o = ask(&c, name, JUDGE_P99, JUDGE_ABOVE_LIMIT, 0, &v);
					struct check_result *cr = &out->checks[out->n_checks - 1];
					cr->limit = ck->min;
					cr->op = '<';
					cr->outcome = o == JUDGE_INCONCLUSIVE ? o :
						(cr->value < ck->min ? JUDGE_FAIL : JUDGE_PASS);
					if (cr->outcome == JUDGE_FAIL && out->verdict != AV_CHECK_FAILED) {
						out->verdict = AV_CHECK_FAILED;
						bprintf(out->rule, sizeof(out->rule), "%s", name);
						bprintf(out->reason, sizeof(out->reason),
							 "check %s: p99 latency %.0fms < %.4gms minimum", ck->name,
							 cr->value, ck->min);
					}
				}
			}
		}
		if (out->verdict == AV_CHECK_FAILED)
			goto hooks;
	}
	if (c.inconclusive) {
		out->verdict = AV_INCONCLUSIVE;
		bprintf(out->rule, sizeof(out->rule), "inconclusive");
		bprintf(out->reason, sizeof(out->reason), "inconclusive: %s", c.inconclusive_why);
	} else {
		out->verdict = AV_PASS;
		bprintf(out->reason, sizeof(out->reason), "all criteria and checks passed, canary %llu requests",
			 (unsigned long long)in->canary.requests);
	}
hooks:
	if (in->hooks_failed && (mask & ANALYSIS_RULE_CHECKS) && out->verdict != AV_CHECK_FAILED) {
		out->verdict = AV_CHECK_FAILED;
		bprintf(out->rule, sizeof(out->rule), "check:webhook");
		bprintf(out->reason, sizeof(out->reason), "check failed: %s", in->hooks_reason);
	}
	return 0;
}

int analysis_run(const struct type_rules *r, const struct strategy *s, const struct judge *j,
		 const struct analysis_input *in, struct analysis_result *out)
{
	struct judge buf;
	const struct judge *jj;
	int rc = run_rules(r, s, j, in, out);

	if (rc < 0)
		return rc;
	jj = analysis_judge(r, s, j, &buf);
	if (jj->kind == JUDGE_KIND_THRESHOLD &&
	    (out->verdict == AV_ROLLBACK_IMMEDIATE || out->verdict == AV_ROLLBACK_TYPE || out->verdict == AV_CONSIDER ||
	     out->verdict == AV_INCONCLUSIVE)) {
		/* Flagger: every failing criterion, and no data, is one failed check towards the threshold */
		char reason[480];
		if (strncmp(out->rule, "check:", 6) != 0) {
			char rule[48];
			bprintf(rule, sizeof(rule), "check:%s", out->rule[0] ? out->rule : "no-data");
			bprintf(out->rule, sizeof(out->rule), "%s", rule);
		}
		bprintf(reason, sizeof(reason), "failed check (threshold judge): %s", out->reason);
		bprintf(out->reason, sizeof(out->reason), "%s", reason);
		out->verdict = AV_CHECK_FAILED;
	}
	return 0;
}

const char *analysis_verdict_name(enum analysis_verdict v)
{
	switch (v) {
	case AV_PASS: return "pass";
	case AV_INCONCLUSIVE: return "inconclusive";
	case AV_CHECK_FAILED: return "check-failed";
	case AV_CONSIDER: return "consider";
	case AV_ROLLBACK_TYPE: return "rollback";
	case AV_ROLLBACK_IMMEDIATE: return "rollback";
	}
	return "unknown";
}

static void num_or_null(json_t *o, const char *k, double v)
{
	json_object_set_new(o, k, isnan(v) ? json_null() : json_real(v));
}

json_t *analysis_result_to_json(const struct analysis_result *a)
{
	json_t *j = json_object(), *checks = json_array(), *table = json_array();

	json_object_set_new(j, "verdict", json_string(analysis_verdict_name(a->verdict)));
	json_object_set_new(j, "rule", json_string(a->rule));
	json_object_set_new(j, "reason", json_string(a->reason));
	json_object_set_new(j, "canary_requests", json_integer((json_int_t)a->canary_requests));
	json_object_set_new(j, "baseline", a->baseline_source == 1 ? json_string("interval") :
			    a->baseline_source == 2 ? json_string("captured") : json_null());
	for (int i = 0; i < a->n_checks; i++) {
		const struct check_result *c = &a->checks[i];
		json_t *o = json_object();
		json_object_set_new(o, "name", json_string(c->name));
		json_object_set_new(o, "result", json_string(judge_outcome_name(c->outcome)));
		num_or_null(o, "value", c->value);
		num_or_null(o, "limit", c->limit);
		json_object_set_new(o, "fails_when", json_string(c->op == '<' ? "below" : "above"));
		if (!isnan(c->log_e)) {
			json_t *iv = json_array();
			num_or_null(o, "estimate_pct", c->estimate);
			json_array_append_new(iv, isnan(c->lo) ? json_null() : json_real(c->lo));
			json_array_append_new(iv, isnan(c->hi) ? json_null() : json_real(c->hi));
			json_object_set_new(o, "interval_pct", iv);
			num_or_null(o, "stable_pct", c->baseline);
			json_object_set_new(o, "e_value", isinf(c->log_e) ? json_string("inf") : json_real(exp(c->log_e)));
			json_object_set_new(o, "fires_at", json_real(exp(c->log_threshold)));
			json_object_set_new(o, "requests", json_integer((json_int_t)c->requests));
		}
		json_array_append_new(checks, o);
	}
	json_object_set_new(j, "checks", checks);
	json_object_set_new(j, "judge", json_string(a->judge));
	if (a->alpha > 0)
		json_object_set_new(j, "alpha", json_real(a->alpha));
	if (a->step_answered >= 0) {
		json_t *sq = json_object();
		json_object_set_new(sq, "answered", json_boolean(a->step_answered > 0));
		json_object_set_new(sq, "text", json_string(a->step_question));
		json_object_set_new(j, "step_question", sq);
	}
	for (int i = 0; i < 4; i++) {
		const struct comparison_row *row = &a->table[i];
		json_t *o = json_object();
		json_object_set_new(o, "metric", json_string(row->metric ? row->metric : ""));
		num_or_null(o, "baseline", row->baseline);
		num_or_null(o, "current", row->current);
		num_or_null(o, "delta", row->delta);
		json_object_set_new(o, "status", json_string(row->status ? row->status : "N/A"));
		json_array_append_new(table, o);
	}
	json_object_set_new(j, "table", table);
	return j;
}
