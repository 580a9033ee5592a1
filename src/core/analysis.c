/*
 * analysis.c - the four rules of one analysis interval and the comparison
 * table; see analysis.h for the rules and their sources.  Every criterion is
 * put to the judge as a question; this file only decides the order and
 * writes the reason, so a better judge changes no rule here.
 */
#include "core/analysis.h"
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
	if (c->j->decide(c->j->ctx, &q, v) < 0)
		v->outcome = JUDGE_INCONCLUSIVE;
	if (out->n_checks < ANALYSIS_MAX_RESULTS) {
		struct check_result *cr = &out->checks[out->n_checks++];
		bprintf(cr->name, sizeof(cr->name), "%s", name);
		cr->outcome = v->outcome;
		cr->value = v->canary_value;
		cr->limit = v->limit_value;
		cr->op = '>';
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
	uint64_t total = in->canary.requests + in->stable.requests;
	double crps = span > 0 && total ? (double)total / span : NAN;
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

int analysis_run(const struct type_rules *r, const struct strategy *s, const struct judge *j,
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
	c.defjudge = (struct judge){ "observed", &c.min_requests, judge_observed_decide };
	c.j = j ? j : &c.defjudge;
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
						bprintf(out->reason, sizeof(out->reason),
							 "check %s: success rate %.2f%% < %.4g%% minimum, canary %llu requests",
							 ck->name, cr->value, ck->min, (unsigned long long)v.canary_requests);
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
		json_array_append_new(checks, o);
	}
	json_object_set_new(j, "checks", checks);
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
