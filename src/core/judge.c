/*
 * judge.c - the three judges of judge.h and the deployment's evidence.
 *
 * observed   takes the interval's numbers at face value; too few canary
 *            requests is "inconclusive" (no data is not a silent failed check).
 * threshold  Flagger's semantics: the observed value decides each interval's
 *            check, and no data counts as a failed check
 *            (fluxcd/flagger pkg/controller/scheduler_metrics.go).
 * sequential tests the accumulated evidence with the e-processes of
 *            seqtest.h; formulas and sources in docs/judge.md.
 */
#include "core/judge.h"
#include "base/err.h"
#include "base/fmt.h"
#include "base/rng.h"

#include <jansson.h>

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>


double judge_error_rate(const struct judge_sample *s)
{
	if (!s || !s->requests)
		return NAN;
	return 100.0 * (double)s->errors / (double)s->requests;
}

void judge_settings_default(struct judge_settings *s)
{
	memset(s, 0, sizeof(*s));
	bprintf(s->name, sizeof(s->name), "sequential");
	s->alpha = 0.05;
	s->power = 0.8;
	s->effect = 2;
	s->max_hold_factor = 3;
	s->max_hold_min_ms = (int64_t)JUDGE_MAX_HOLD_MIN_MS;
	s->floor_pct = 0.5;
}

/* ---- evidence ---- */

void judge_evidence_set_lines(struct judge_evidence *ev, double base_p99_ms, double regression_ratio,
			      double consider_ratio, double immediate_ratio, double check_max_ms)
{
	double b;
	if (ev->have_lines)
		return;
	ev->line_ms[JUDGE_LINE_CHECK] = check_max_ms > 0 ? check_max_ms : 0;
	if (isnan(base_p99_ms))
		return;
	b = base_p99_ms < 1 ? 1 : base_p99_ms;
	ev->line_ratio[JUDGE_LINE_REGRESSION] = regression_ratio;
	ev->line_ratio[JUDGE_LINE_CONSIDER] = consider_ratio;
	ev->line_ratio[JUDGE_LINE_IMMEDIATE] = immediate_ratio;
	for (int i = 0; i < JUDGE_NLINES; i++)
		if (ev->line_ratio[i] > 0)
			ev->line_ms[i] = ev->line_ratio[i] * b;
	ev->base_p99_sum = 0;
	ev->base_n = 0;
	ev->have_lines = 1;
}

void judge_evidence_refine_lines(struct judge_evidence *ev, uint64_t stable_requests, double stable_p99_ms)
{
	double est;

	if (!ev->have_lines || !stable_requests || !isfinite(stable_p99_ms) || stable_p99_ms < 0)
		return;
	if (ev->base_n <= 0) {
		/* the first refinement starts from the line set at the warm-up, weighted as one interval */
		double r = ev->line_ratio[JUDGE_LINE_CONSIDER];
		if (!(r > 0))
			return;
		ev->base_p99_sum = ev->line_ms[JUDGE_LINE_CONSIDER] / r * (double)stable_requests;
		ev->base_n = (double)stable_requests;
	}
	ev->base_p99_sum += (double)stable_requests * (stable_p99_ms < 1 ? 1 : stable_p99_ms);
	ev->base_n += (double)stable_requests;
	est = ev->base_p99_sum / ev->base_n;
	for (int i = 0; i < JUDGE_NLINES; i++)
		if (ev->line_ratio[i] > 0)
			ev->line_ms[i] = ev->line_ratio[i] * est;
}

void judge_evidence_pool_lines(struct judge_evidence *ev, uint64_t stable_requests, double stable_p99_ms)
{
	double est;

	if (!ev->have_lines || !stable_requests || !isfinite(stable_p99_ms) || stable_p99_ms < 0)
		return;
	est = stable_p99_ms < 1 ? 1 : stable_p99_ms;
	ev->base_p99_sum = est * (double)stable_requests;
	ev->base_n = (double)stable_requests;
	for (int i = 0; i < JUDGE_NLINES; i++)
		if (ev->line_ratio[i] > 0)
			ev->line_ms[i] = ev->line_ratio[i] * est;
}

void judge_evidence_add(struct judge_evidence *ev, const struct judge_batch *b, int64_t to_ms, int64_t span_ms)
{
	seq_stream_add(&ev->err, b->nc, b->xc, b->ns, b->xs);
	if (b->have_over && (ev->have_lines || ev->line_ms[JUDGE_LINE_CHECK] > 0)) {
		for (int i = 0; i < JUDGE_NLINES; i++)
			if (ev->line_ms[i] > 0)
				seq_stream_add(&ev->over[i], b->nc, b->over_c[i], b->ns, b->over_s[i]);
		ev->lat_batches++;
	}
	ev->batches++;
	ev->last_to_ms = to_ms;
	ev->held_ms += span_ms;
	ev->step_requests += b->nc;
}

static json_t *stream_json(const struct seq_stream *s)
{
	json_t *o = json_object(), *f = json_array(), *r = json_array();
	json_object_set_new(o, "nc", json_integer((json_int_t)s->nc));
	json_object_set_new(o, "xc", json_integer((json_int_t)s->xc));
	json_object_set_new(o, "ns", json_integer((json_int_t)s->ns));
	json_object_set_new(o, "xs", json_integer((json_int_t)s->xs));
	json_object_set_new(o, "pc", json_integer((json_int_t)s->pc));
	json_object_set_new(o, "px", json_integer((json_int_t)s->px));
	for (int i = 0; i < SEQ_NFWD; i++)
		json_array_append_new(f, json_real(s->fwd[i]));
	for (int i = 0; i < SEQ_NREV; i++)
		json_array_append_new(r, json_real(s->rev[i]));
	json_object_set_new(o, "fwd", f);
	json_object_set_new(o, "rev", r);
	return o;
}

static int stream_from(const json_t *o, struct seq_stream *s)
{
	const json_t *f = json_object_get(o, "fwd"), *r = json_object_get(o, "rev");
	if (!json_is_object(o) || !json_is_array(f) || !json_is_array(r) || json_array_size(f) != SEQ_NFWD ||
	    json_array_size(r) != SEQ_NREV)
		return SW_EPARSE;
	s->nc = (uint64_t)json_integer_value(json_object_get(o, "nc"));
	s->xc = (uint64_t)json_integer_value(json_object_get(o, "xc"));
	s->ns = (uint64_t)json_integer_value(json_object_get(o, "ns"));
	s->xs = (uint64_t)json_integer_value(json_object_get(o, "xs"));
	/* evidence stored before pc/px were kept: every canary request so far counts as
	   measured beside the stable (a canary alone at 100% is judged on what comes next) */
	s->pc = json_is_integer(json_object_get(o, "pc")) ? (uint64_t)json_integer_value(json_object_get(o, "pc")) : s->nc;
	s->px = json_is_integer(json_object_get(o, "px")) ? (uint64_t)json_integer_value(json_object_get(o, "px")) : s->xc;
	if (s->pc > s->nc)
		s->pc = s->nc;
	if (s->px > s->xc)
		s->px = s->xc;
	for (int i = 0; i < SEQ_NFWD; i++)
		s->fwd[i] = json_number_value(json_array_get(f, (size_t)i));
	for (int i = 0; i < SEQ_NREV; i++)
		s->rev[i] = json_number_value(json_array_get(r, (size_t)i));
	return 0;
}

json_t *judge_evidence_to_json(const struct judge_evidence *ev)
{
	json_t *j = json_object(), *lines = json_array(), *over = json_array();
	json_object_set_new(j, "batches", json_integer(ev->batches));
	json_object_set_new(j, "last_to_ms", json_integer(ev->last_to_ms));
	json_object_set_new(j, "refined_to_ms", json_integer(ev->refined_to_ms));
	json_object_set_new(j, "pool_from_ms", json_integer(ev->pool_from_ms));
	json_object_set_new(j, "have_lines", json_integer(ev->have_lines));
	json_object_set_new(j, "lat_batches", json_integer((json_int_t)ev->lat_batches));
	json_object_set_new(j, "held_ms", json_integer(ev->held_ms));
	json_object_set_new(j, "step_requests", json_integer((json_int_t)ev->step_requests));
	for (int i = 0; i < JUDGE_NLINES; i++) {
		json_array_append_new(lines, json_real(ev->line_ms[i]));
		json_array_append_new(over, stream_json(&ev->over[i]));
	}
	json_object_set_new(j, "line_ms", lines);
	{
		json_t *ratios = json_array();
		for (int i = 0; i < JUDGE_NLINES; i++)
			json_array_append_new(ratios, json_real(ev->line_ratio[i]));
		json_object_set_new(j, "line_ratio", ratios);
	}
	json_object_set_new(j, "base_p99_sum", json_real(ev->base_p99_sum));
	json_object_set_new(j, "base_n", json_real(ev->base_n));
	json_object_set_new(j, "errors", stream_json(&ev->err));
	json_object_set_new(j, "over", over);
	return j;
}

int judge_evidence_from_json(const json_t *j, struct judge_evidence *out)
{
	struct judge_evidence ev;
	const json_t *lines = json_object_get(j, "line_ms"), *over = json_object_get(j, "over");

	memset(&ev, 0, sizeof(ev));
	if (!json_is_object(j) || !json_is_array(lines) || !json_is_array(over) ||
	    json_array_size(lines) != JUDGE_NLINES || json_array_size(over) != JUDGE_NLINES)
		return SW_EPARSE;
	ev.batches = (int)json_integer_value(json_object_get(j, "batches"));
	ev.last_to_ms = json_integer_value(json_object_get(j, "last_to_ms"));
	ev.refined_to_ms = json_integer_value(json_object_get(j, "refined_to_ms"));
	ev.pool_from_ms = json_integer_value(json_object_get(j, "pool_from_ms"));
	ev.have_lines = (int)json_integer_value(json_object_get(j, "have_lines"));
	ev.lat_batches = (uint64_t)json_integer_value(json_object_get(j, "lat_batches"));
	ev.held_ms = json_integer_value(json_object_get(j, "held_ms"));
	ev.step_requests = (uint64_t)json_integer_value(json_object_get(j, "step_requests"));
	ev.base_p99_sum = json_number_value(json_object_get(j, "base_p99_sum"));
	ev.base_n = json_number_value(json_object_get(j, "base_n"));
	for (int i = 0; i < JUDGE_NLINES; i++) {
		/* evidence stored before the lines were refined has no ratios: its lines stay fixed */
		ev.line_ratio[i] = json_number_value(json_array_get(json_object_get(j, "line_ratio"), (size_t)i));
		ev.line_ms[i] = json_number_value(json_array_get(lines, (size_t)i));
		if (stream_from(json_array_get(over, (size_t)i), &ev.over[i]) < 0)
			return SW_EPARSE;
	}
	if (stream_from(json_object_get(j, "errors"), &ev.err) < 0)
		return SW_EPARSE;
	*out = ev;
	return 0;
}

/* ---- observed and threshold ---- */

static double metric_value(const struct judge_sample *s, enum judge_metric m)
{
	if (!s)
		return NAN;
	return m == JUDGE_ERROR_RATE ? judge_error_rate(s) : (s->requests ? s->p99_ms : NAN);
}

static void verdict_init(struct judge_verdict *out)
{
	memset(out, 0, sizeof(*out));
	out->canary_value = out->baseline_value = out->limit_value = NAN;
	out->estimate = out->lo = out->hi = out->log_e = out->log_threshold = NAN;
}

int judge_observed_decide(const struct judge *j, const struct judge_question *q, struct judge_verdict *out)
{
	uint64_t min = j && j->min_requests ? j->min_requests : 1;
	double cv, bv = NAN, limit;

	if (!q || !q->canary || !out)
		return SW_EUSAGE;
	verdict_init(out);
	out->canary_requests = q->canary->requests;
	cv = metric_value(q->canary, q->metric);
	out->canary_value = cv;
	out->limit_value = q->limit;
	if (q->canary->requests < min || isnan(cv)) {
		out->outcome = JUDGE_INCONCLUSIVE;
		bprintf(out->why, sizeof(out->why), "canary %llu requests < %llu minimum",
			(unsigned long long)q->canary->requests, (unsigned long long)min);
		return 0;
	}
	if (q->test == JUDGE_ABOVE_LIMIT) {
		limit = q->limit;
	} else {
		bv = metric_value(q->baseline, q->metric);
		out->baseline_value = bv;
		if (isnan(bv) || (q->test == JUDGE_RATIO_ABOVE && bv <= 0)) {
			out->outcome = JUDGE_NOT_APPLICABLE;
			bprintf(out->why, sizeof(out->why), "no baseline %s",
				q->metric == JUDGE_ERROR_RATE ? "error rate" : "p99 latency");
			return 0;
		}
		limit = q->test == JUDGE_RATIO_ABOVE ? q->limit * bv : bv + q->limit;
	}
	out->limit_value = limit;
	out->outcome = cv > limit ? JUDGE_FAIL : JUDGE_PASS;
	return 0;
}

int judge_threshold_decide(const struct judge *j, const struct judge_question *q, struct judge_verdict *out)
{
	int r = judge_observed_decide(j, q, out);
	if (r >= 0 && out->outcome == JUDGE_INCONCLUSIVE) {
		char why[200];
		bprintf(why, sizeof(why), "no data (%s): a failed check, as in Flagger", out->why);
		bprintf(out->why, sizeof(out->why), "%s", why);
		out->outcome = JUDGE_FAIL;
	}
	return r;
}

/* ---- sequential ---- */

static void fmt_e(char *buf, size_t n, double log_e)
{
	if (isinf(log_e) && log_e > 0)
		bprintf(buf, n, "inf");
	else
		bprintf(buf, n, "%.3g", exp(log_e));
}

/* The canary's cumulative rate of a stream, with its anytime-valid interval. */
static void rate_of(const struct seq_stream *s, double alpha, struct judge_verdict *out)
{
	double lo, hi;
	if (!s->nc)
		return;
	seq_rate_interval(s->nc, s->xc, alpha, &lo, &hi);
	out->estimate = 100.0 * (double)s->xc / (double)s->nc;
	out->lo = 100.0 * lo;
	out->hi = 100.0 * hi;
}

double judge_wilson_upper(uint64_t n, uint64_t x, double z)
{
	double nn = (double)n, p;
	if (!n)
		return 1;
	p = (double)x / nn;
	return (p + z * z / (2 * nn) + z * sqrt(p * (1 - p) / nn + z * z / (4 * nn * nn))) / (1 + z * z / nn);
}

/*
 * A canary alone at 100% against the stable measured beside it before: its
 * requests since it is alone (batches with no stable: nc - pc, xc - px)
 * against the line max(floor, the upper end of the stable's one-sided
 * Wilson interval at alpha/2), one-sample at alpha/2, so the criterion's
 * share of alpha covers both the stable's bound and the test.  floor and
 * the stable's rate are fractions; unit names what is counted.
 */
static void alone_vs_stable(const struct seq_stream *s, double floor_, double alpha, double effect, double show,
			    const char *unit, struct judge_verdict *out)
{
	struct seq_stream a;
	double hi, line, le, thr = log(2.0 / alpha);
	char es[32];

	memset(&a, 0, sizeof(a));
	a.nc = s->nc - s->pc;
	a.xc = s->xc - s->px;
	hi = judge_wilson_upper(s->ns, s->xs, normal_quantile(1.0 - alpha / 2));
	line = hi > floor_ ? hi : floor_;
	out->limit_value = 100.0 * line;
	out->baseline_value = 100.0 * (double)s->xs / (double)s->ns;
	out->log_threshold = thr;
	out->canary_requests = a.nc;
	out->estimate = out->lo = out->hi = NAN;
	if (!a.nc) {
		/* nothing new to judge: the evidence so far stands (the other criteria still see
		   the canary's requests beside the stable), as before it was alone */
		out->outcome = JUDGE_PASS;
		out->log_e = 0;
		bprintf(out->why, sizeof(out->why), "no stable beside the canary now, and no canary request since: "
			"nothing to compare with the stable's %.2f%% %s", out->baseline_value, unit);
		return;
	}
	rate_of(&a, show, out);
	out->canary_value = out->estimate;
	le = seq_above_log_e(a.nc, a.xc, line, effect);
	out->log_e = le;
	out->outcome = le >= thr ? JUDGE_FAIL : JUDGE_PASS;
	fmt_e(es, sizeof(es), le);
	bprintf(out->why, sizeof(out->why), "alone at 100%%: %.2f%% %s of %llu canary requests since, against %.3g%% "
		"(the stable as measured before: %.2f%% of %llu requests, at most %.3g%%): e-value %s (fires at %.3g)",
		out->estimate, unit, (unsigned long long)a.nc, out->limit_value, out->baseline_value,
		(unsigned long long)s->ns, 100.0 * hi, es, exp(thr));
}

int judge_sequential_decide(const struct judge *j, const struct judge_question *q, struct judge_verdict *out)
{
	const struct judge_evidence *ev;
	const struct seq_stream *s;
	double alpha, show, thr, effect, le, stable_rate = NAN;
	char es[32], ts[32];

	if (!q || !q->canary || !out)
		return SW_EUSAGE;
	if (!q->ev)
		return judge_observed_decide(j, q, out);
	verdict_init(out);
	ev = q->ev;
	alpha = q->alpha > 0 && q->alpha < 1 ? q->alpha : 0.05;
	/* the interval shown is at the deployment's level, whatever this test's share */
	show = j && j->set.alpha > 0 && j->set.alpha < 1 ? j->set.alpha : 0.05;
	effect = q->effect > 1 ? q->effect : 2;
	thr = log(1.0 / alpha);
	out->log_threshold = thr;
	bprintf(ts, sizeof(ts), "%.3g", 1.0 / alpha);

	if (q->metric == JUDGE_ERROR_RATE) {
		s = &ev->err;
		out->canary_requests = s->nc;
		rate_of(s, show, out);
		out->canary_value = out->estimate;
		if (s->ns)
			stable_rate = 100.0 * (double)s->xs / (double)s->ns;
		out->baseline_value = stable_rate;
		if (q->alone && s->ns &&
		    (q->test != JUDGE_ABOVE_LIMIT || (!q->absolute && stable_rate >= q->limit))) {
			/* alone at 100%: the comparison with the stable can no longer grow */
			/* a line the stable itself is above is judged against the stable, at the
			   comparison's level (alpha_stable), as when the stable is beside the canary */
			double a1 = q->test == JUDGE_ABOVE_LIMIT && q->alpha_stable > 0 &&
				    q->alpha_stable < 1 ? q->alpha_stable : alpha;
			alone_vs_stable(s, q->test == JUDGE_ABOVE_LIMIT ? q->limit / 100.0 : 0, a1, effect, show,
					"errors", out);
			return 0;
		}
		if (q->test == JUDGE_ABOVE_LIMIT) {
			/*
			 * Above the line: established against the line (one-sample), or the canary is
			 * shown worse than the stable (the regression test's event, at alpha_stable)
			 * while its observed rate is above the line.  When the stable itself is at or
			 * above the line, the line alone decides nothing: the canary is judged against
			 * the stable.  Each part is an event of a test counted in the alpha split.
			 */
			double as = q->alpha_stable > 0 && q->alpha_stable < 1 ? q->alpha_stable : alpha;
			double fe = s->ns ? seq_fwd_log_e(s, effect) : -INFINITY, tas = log(1.0 / as);
			int stable_above = !q->absolute && !isnan(stable_rate) && stable_rate >= q->limit;
			int fire_line = !stable_above && (le = seq_above_log_e(s->nc, s->xc, q->limit / 100.0, effect)) >= thr;
			int fire_reg = fe >= tas && !isnan(out->estimate) && out->estimate > q->limit;
			char ls[32], ss[32];

			if (stable_above)
				le = seq_above_log_e(s->nc, s->xc, q->limit / 100.0, effect);
			out->limit_value = q->limit;
			out->outcome = fire_line || fire_reg ? JUDGE_FAIL : JUDGE_PASS;
			fmt_e(ls, sizeof(ls), le);
			fmt_e(ss, sizeof(ss), fe);
			/* report the part that decided, or the one closer to deciding */
			/* the comparison with the stable can decide only while the canary is observed
			 * above the line (or the stable is above it): otherwise the line's own test is shown */
			if (!fire_line && (fire_reg || stable_above ||
					   (s->ns && out->estimate > q->limit && fe - tas > le - thr))) {
				out->log_e = fe;
				out->log_threshold = tas;
			} else {
				out->log_e = le;
			}
			if (stable_above)
				bprintf(out->why, sizeof(out->why), "the stable itself is at %.2f%% >= the %.4g%% line: judged "
					"against the stable: e-value %s (fires at %.3g)", stable_rate, q->limit, ss, 1.0 / as);
			else if (fire_reg && !fire_line)
				bprintf(out->why, sizeof(out->why), "above %.4g%% as observed and worse than the stable (%.3g%%): "
					"e-value %s vs the stable (fires at %.3g); %s vs the line (fires at %s)", q->limit,
					stable_rate, ss, 1.0 / as, ls, ts);
			else if (s->ns && !fire_line)
				bprintf(out->why, sizeof(out->why), "above %.4g%%: e-value %s (fires at %s); worse than the "
					"stable (%.3g%%) while observed above the line: e-value %s (fires at %.3g)", q->limit, ls,
					ts, stable_rate, ss, 1.0 / as);
			else
				bprintf(out->why, sizeof(out->why), "above %.4g%%: e-value %s (fires at %s)", q->limit, ls, ts);
			return 0;
		}
		/* worse than the stable (DELTA_ABOVE, RATIO_ABOVE on errors) */
		if (!s->ns) {
			out->outcome = JUDGE_NOT_APPLICABLE;
			bprintf(out->why, sizeof(out->why), "no stable requests to compare with");
			return 0;
		}
		le = seq_fwd_log_e(s, effect);
		out->log_e = le;
		out->limit_value = stable_rate;
		fmt_e(es, sizeof(es), le);
		out->outcome = le >= thr ? JUDGE_FAIL : JUDGE_PASS;
		bprintf(out->why, sizeof(out->why), "worse than the stable (%.3g%%): e-value %s (fires at %s)",
			stable_rate, es, ts);
		return 0;
	}

	/* latency, from per-request exceedance counts of a fixed line */
	if (q->line < 0 || q->line >= JUDGE_NLINES)
		return SW_EUSAGE;
	out->limit_value = ev->line_ms[q->line];
	if (q->line != JUDGE_LINE_CHECK && !ev->have_lines) {
		out->outcome = JUDGE_NOT_APPLICABLE;
		bprintf(out->why, sizeof(out->why), "no baseline p99 latency");
		return 0;
	}
	s = &ev->over[q->line];
	out->canary_requests = s->nc;
	if (!ev->lat_batches && q->canary->requests && !isnan(q->canary->p99_ms) && out->limit_value > 0) {
		/* a provider without per-request counts: the interval's p99 against the line, as observed */
		out->canary_value = q->canary->p99_ms;
		out->canary_requests = q->canary->requests;
		out->outcome = q->canary->p99_ms > out->limit_value ? JUDGE_FAIL : JUDGE_PASS;
		bprintf(out->why, sizeof(out->why), "p99 %.0fms against %.0fms (observed: the provider has no "
			"per-request counts)", q->canary->p99_ms, out->limit_value);
		return 0;
	}
	if (!ev->lat_batches || !s->nc) {
		out->outcome = JUDGE_INCONCLUSIVE;
		bprintf(out->why, sizeof(out->why), "no latency data: canary %llu requests counted against %.0fms",
			(unsigned long long)s->nc, out->limit_value);
		return 0;
	}
	rate_of(s, show, out);
	out->canary_value = out->estimate;	/* percent of canary requests slower than the line */
	if (s->ns)
		out->baseline_value = 100.0 * (double)s->xs / (double)s->ns;
	if (q->line == JUDGE_LINE_REGRESSION) {
		/* any regression: more canary than stable requests slower than the line */
		if (!s->ns) {
			out->outcome = JUDGE_NOT_APPLICABLE;
			bprintf(out->why, sizeof(out->why), "no stable requests to compare with");
			return 0;
		}
		/* the share ratio of a latency regression is not the error effect: the mixture */
		le = seq_fwd_mix_log_e(s, effect);
		out->log_e = le;
		fmt_e(es, sizeof(es), le);
		out->outcome = le >= thr ? JUDGE_FAIL : JUDGE_PASS;
		bprintf(out->why, sizeof(out->why), "%.2f%% of canary vs %.2f%% of stable requests slower than %.0fms: "
			"e-value %s (fires at %s)", out->estimate, out->baseline_value, out->limit_value, es, ts);
		return 0;
	}
	/* p99 above the line <=> more than 1% of requests slower than it; a latency a little
	   above the line moves that share only a little (2.2x the baseline: about 1.5%), so
	   the mixture is centred on a share ratio of 1.5 */
	le = seq_above_log_e(s->nc, s->xc, 0.01, 1.5);
	if (q->line == JUDGE_LINE_CONSIDER && s->ns && out->baseline_value >= 1.0) {
		/* the consider line drawn from the baseline, and the stable, measured beside the canary, is
		   itself above it now (a slow host, a busy database): the line decides nothing; the
		   canary is judged against the stable, as error lines are (the mixture: the share
		   ratio of a latency regression is not the error effect) */
		le = seq_fwd_mix_log_e(s, effect);
		out->log_e = le;
		fmt_e(es, sizeof(es), le);
		out->outcome = le >= thr ? JUDGE_FAIL : JUDGE_PASS;
		bprintf(out->why, sizeof(out->why), "%.2f%% of %llu canary requests slower than %.0fms, and the stable "
			"itself at %.2f%% (p99 above the line too): judged against the stable: e-value %s (fires at %s)",
			out->estimate, (unsigned long long)s->nc, out->limit_value, out->baseline_value, es, ts);
		return 0;
	}
	out->log_e = le;
	fmt_e(es, sizeof(es), le);
	/* alone at 100% after a stable was beside the canary, the latency lines stay judged
	   against the stable (which no longer grows): a line alone cannot tell a host that slowed
	   down from the release (measured: a monitoring period at 100% on a busy machine paused
	   on 1.45% of requests above a 22 ms line); errors are judged alone (alone_vs_stable) */
	if ((q->line == JUDGE_LINE_IMMEDIATE || q->line == JUDGE_LINE_CONSIDER) && s->ns && le >= thr) {
		/* "p99 > k x baseline": the baseline is the stable serving now.  The line is drawn
		   from the stable's p99 as measured before and during the rollout; when the whole
		   host slows down (a busy machine, a restarted router), the stable's requests cross
		   it too and the canary's share above it says nothing of the canary; and the
		   cumulative shares of the two revisions are not comparable either, since the
		   canary's requests come later in the rollout (at higher weights) than most of the
		   stable's.  So the line fires only when the canary is also shown slower than the
		   stable beside it, look by look, at the same level (the forward mixture, which
		   compares the two within each look): both tests must fire, so the false-alarm bound
		   of either holds.  A canary 2.2x slower has about 1.5% of its requests above the 2x
		   line against the stable's few hundredths of a percent, and is shown slower than the
		   stable long before the line's own test fires. */
		double fe = seq_fwd_mix_log_e(s, effect);
		char fs[32];
		fmt_e(fs, sizeof(fs), fe);
		out->outcome = fe >= thr ? JUDGE_FAIL : JUDGE_PASS;
		if (out->outcome == JUDGE_PASS)
			out->log_e = fe;
		bprintf(out->why, sizeof(out->why), "%.2f%% of %llu canary requests slower than %.0fms (p99 above it: "
			"> 1%%): e-value %s (fires at %s); slower than the stable (%.2f%% above the line): e-value %s "
			"(fires at %s)", out->estimate, (unsigned long long)s->nc, out->limit_value, es, ts,
			out->baseline_value, fs, ts);
		return 0;
	}
	/* no stable beside the canary: the line alone decides (and a Canary file's maximum is
	   absolute, as in Flagger) */
	out->outcome = le >= thr ? JUDGE_FAIL : JUDGE_PASS;
	bprintf(out->why, sizeof(out->why), "%.2f%% of %llu canary requests slower than %.0fms (p99 above it: > 1%%): "
		"e-value %s (fires at %s)", out->estimate, (unsigned long long)s->nc, out->limit_value, es, ts);
	return 0;
}

/* ---- steps wait for evidence ---- */

int judge_step_question(const struct judge_evidence *ev, const struct judge_settings *set, double weight,
			double w_first, double w_last, double immediate_pct, char *what, size_t n)
{
	const struct seq_stream *s = &ev->err;
	double effect = set->effect > 1 ? set->effect : 2, beta = 1.0 - set->power, R, used, re, be, q, t;
	double floor_ = set->floor_pct / 100.0, top = immediate_pct / 100.0, pref, thr, rho, pooled, need_ev, need_req;
	double r_first = effect > 10 ? effect : 10;

	if (!(beta > 0 && beta < 1))
		beta = 0.2;
	thr = log(1.0 / beta);
	if (!(weight > 0))
		weight = 1;
	if (!(w_first > 0) || w_first > weight)
		w_first = weight;
	if (!(w_last >= weight))
		w_last = weight;
	if (!(floor_ > 0))
		floor_ = 0.005;
	if (!(top > floor_))
		top = floor_;
	/* the step's position between the first and the last step, on a log scale of weight */
	t = w_last > w_first ? log(weight / w_first) / log(w_last / w_first) : 1;
	/* the level tightens with the step too: even odds at the first step, 1 - power at the
	   last (JUDGE_FIRST_STEP_BETA) */
	if (beta < JUDGE_FIRST_STEP_BETA)
		beta = exp((1 - t) * log(JUDGE_FIRST_STEP_BETA) + t * log(beta));
	thr = log(1.0 / beta);
	R = exp((1 - t) * log(r_first) + t * log(effect));
	floor_ = exp((1 - t) * log(top) + t * log(floor_));
	if (!s->nc) {
		bprintf(what, n, "no canary requests at %.4g%% yet: nothing is ruled out", weight);
		return 0;
	}
	if (ev->have_lines && ev->lat_batches) {
		/* latency: rule out that the share of canary requests slower than the consider
		   line reaches ql: 10% at the first step down to 2% (twice the line's share) at the
		   step before the last, and at the last step 1% (its p99 above the line).  An
		   intermediate step asking for nearly the line itself could never end for a
		   canary a little above it, which only the forward test (and more traffic) can
		   settle: the rollout moves on to the last step, where the question is the line. */
		const struct seq_stream *o = &ev->over[JUDGE_LINE_CONSIDER];
		double ql = t >= 1 ? 0.01 : exp((1 - t) * log(0.10) + t * log(0.02)), le;
		/* a share the stable itself shows is not the canary's: when the stable, measured
		   beside the canary on JUDGE_STEP_STABLE_MIN requests or more, crosses the line too
		   (the host slowed down after the line was drawn), the question becomes twice the
		   stable's share, as the error question asks for `effect` x the stable's rate; the
		   forward test against the stable still judges the canary being slower than it */
		if (o->ns >= JUDGE_STEP_STABLE_MIN && 2.0 * (double)o->xs / (double)o->ns > ql)
			ql = 2.0 * (double)o->xs / (double)o->ns;
		if (ql > 0.5)
			ql = 0.5;
		le = seq_below_half_log_e(o->nc, o->xc, ql);
		if (le < thr) {
			double po = o->nc ? (double)o->xc / (double)o->nc : 0;
			double drift = seq_below_drift(po, ql, 1);
			if (drift > 0)
				bprintf(what, n, "%llu canary requests at %.4g%%, about %.0f more needed to rule out that "
					"%.3g%% of them are slower than %.0fms (now %.2f%%)",
					(unsigned long long)ev->step_requests, weight, ceil((thr - le) / drift), 100 * ql,
					ev->line_ms[JUDGE_LINE_CONSIDER], 100 * po);
			else
				bprintf(what, n, "%llu canary requests at %.4g%%: %.2f%% of them are slower than %.0fms; "
					"a share of %.3g%% is not ruled out", (unsigned long long)ev->step_requests, weight,
					100 * po, ev->line_ms[JUDGE_LINE_CONSIDER], 100 * ql);
			return 0;
		}
	}
	re = seq_rev_log_e(s, R, &used);
	pref = s->ns ? (double)s->xs / (double)s->ns : 0;
	q = used * pref;
	if (q < floor_)
		q = floor_;
	be = seq_below_log_e(s->nc, s->xc, q);
	if (re >= thr) {
		bprintf(what, n, "ruled out %.3gx the stable's %.2f%% error rate at %.4g%% (e-value %.3g >= %.3g)", used,
			100 * pref, weight, exp(re), 1.0 / beta);
		return 1;
	}
	if (be >= thr) {
		bprintf(what, n, "ruled out a canary error rate of %.3g%% or more (%.3gx the stable's %.2f%%, floor "
			"%.3g%%) at %.4g%% (e-value %.3g >= %.3g)", 100 * q, used, 100 * pref, 100 * floor_, weight,
			exp(be), 1.0 / beta);
		return 1;
	}
	/* how many more canary requests, about, to answer it at this weight if nothing changes */
	rho = weight / 100.0;
	pooled = rho * pref + (1 - rho) * pref;
	need_ev = seq_rev_events_needed(s, R, rho, beta);
	need_req = pooled > 0 && isfinite(need_ev) ? need_ev / pooled * rho : INFINITY;
	{
		double pc = s->nc ? (double)s->xc / (double)s->nc : 0, drift;
		if (pc < pref)
			pc = pref;
		drift = seq_below_drift(pc, q, 0);
		if (drift > 0 && (thr - be) / drift < need_req)
			need_req = (thr - be) / drift;
	}
	if (isfinite(need_req))
		bprintf(what, n, "%llu canary requests at %.4g%%, about %.0f more needed to rule out %.3gx the stable's "
			"%.2f%% error rate (or a canary error rate of %.3g%%)", (unsigned long long)ev->step_requests,
			weight, need_req > 0 ? ceil(need_req) : 0, used, 100 * pref, 100 * q);
	else
		bprintf(what, n, "%llu canary requests at %.4g%%: %.3gx the stable's %.2f%% error rate (or a canary "
			"error rate of %.3g%%) is not ruled out, and at the canary's observed rate it will not be",
			(unsigned long long)ev->step_requests, weight, used, 100 * pref, 100 * q);
	return 0;
}

/* ---- the registry's entries ---- */

static int init_common(struct judge *j, const struct judge_settings *set, uint64_t min_requests, const char *name,
		       enum judge_kind kind,
		       int (*decide)(const struct judge *, const struct judge_question *, struct judge_verdict *))
{
	memset(j, 0, sizeof(*j));
	if (set)
		j->set = *set;
	else
		judge_settings_default(&j->set);
	bprintf(j->set.name, sizeof(j->set.name), "%s", name);
	j->name = name;
	j->kind = kind;
	j->min_requests = min_requests ? min_requests : 1;
	j->decide = decide;
	return 0;
}

static int seq_init(struct judge *j, const struct judge_settings *set, uint64_t min_requests)
{
	return init_common(j, set, min_requests, "sequential", JUDGE_KIND_SEQUENTIAL, judge_sequential_decide);
}

static int thr_init(struct judge *j, const struct judge_settings *set, uint64_t min_requests)
{
	return init_common(j, set, min_requests, "threshold", JUDGE_KIND_THRESHOLD, judge_threshold_decide);
}

static int obs_init(struct judge *j, const struct judge_settings *set, uint64_t min_requests)
{
	return init_common(j, set, min_requests, "observed", JUDGE_KIND_OBSERVED, judge_observed_decide);
}

const struct judge_impl judge_sequential_impl = {
	"sequential", "anytime-valid sequential tests on the accumulated evidence (default)", seq_init,
};
const struct judge_impl judge_threshold_impl = {
	"threshold", "Flagger: observed value per interval, failed checks counted to the threshold", thr_init,
};
const struct judge_impl judge_observed_impl = {
	"observed", "observed value per interval against the limit; too few requests is inconclusive", obs_init,
};

const struct judge_impl *judge_impl_find(const char *name)
{
	static const struct judge_impl *const all[] = { &judge_sequential_impl, &judge_threshold_impl,
							 &judge_observed_impl };
	for (size_t i = 0; name && i < sizeof(all) / sizeof(all[0]); i++)
		if (!strcmp(all[i]->name, name))
			return all[i];
	return NULL;
}

const char *judge_outcome_name(enum judge_outcome o)
{
	switch (o) {
	case JUDGE_PASS: return "pass";
	case JUDGE_FAIL: return "fail";
	case JUDGE_INCONCLUSIVE: return "inconclusive";
	case JUDGE_NOT_APPLICABLE: return "n/a";
	}
	return "unknown";
}
