/*
 * test_judge.c - the statistics of seqtest.h on known values, the
 * evidence's persistence, the three judges, and property tests on many
 * seeds with a small deterministic PRNG: an A/A canary is halted at most
 * alpha of the time (within sampling error), a 1% -> 6% regression almost
 * always.  Formulas: docs/judge.md.
 */
#include "base/strbuf.h"
#include "controller/simulate.h"
#include "core/deployment.h"
#include "core/judge.h"
#include "core/rules.h"
#include "core/seqtest.h"
#include "tap.h"

#include <jansson.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#define near(got, want, tol, ...) ok(fabs((got) - (want)) <= (tol), __VA_ARGS__)

/* xorshift64*: small, deterministic, good enough for Bernoulli draws */
static uint64_t rng_state;
static double rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (double)((rng_state * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

static uint64_t binomial(uint64_t n, double p)
{
	uint64_t x = 0;
	for (uint64_t i = 0; i < n; i++)
		x += rnd() < p;
	return x;
}

/*
 * One simulated canary: 1000 requests a minute, weights 1% for 5 minutes,
 * 10% for 15 and 50% for 15, errors Binomial(n, p) per revision.  Returns 1
 * when the forward test (canary worse than stable) reaches 1/alpha.
 */
static int run_once(double ps, double pc, double alpha, uint64_t *canary_used)
{
	static const double w[3] = { 0.01, 0.10, 0.50 };
	static const int minutes[3] = { 5, 15, 15 };
	struct seq_stream s;
	memset(&s, 0, sizeof(s));
	for (int k = 0; k < 3; k++)
		for (int m = 0; m < minutes[k]; m++) {
			uint64_t nc = (uint64_t)(1000 * w[k]), ns = 1000 - nc;
			seq_stream_add(&s, nc, binomial(nc, pc), ns, binomial(ns, ps));
			if (seq_fwd_log_e(&s, 2) >= log(1 / alpha)) {
				*canary_used = s.nc;
				return 1;
			}
		}
	*canary_used = s.nc;
	return 0;
}

static void test_known_values(void)
{
	struct seq_stream s;
	double lo, hi, used;

	near(seq_theta(0.5, 2), 2.0 / 3.0, 1e-12, "theta: rho 0.5, ratio 2 -> 2/3");
	near(seq_theta(0.1, 1), 0.1, 1e-12, "theta: ratio 1 is rho");
	/* Wald's expected events (research note 4.3): 33.7 at rho 0.5, 110.7 at rho 0.05 */
	near(seq_wald_events(0.5, 2, 0.05, 0.2), 33.7, 0.1, "Wald: 1%%->2%% at a 50/50 split needs 33.7 errors");
	near(seq_wald_events(0.05, 2, 0.05, 0.2), 110.7, 0.2, "Wald: at a 5%% split 110.7 errors");
	ok(isinf(seq_wald_events(0, 2, 0.05, 0.2)), "Wald: no canary share, no test");

	/* one batch, 50/50, 3 canary errors and 1 stable error: LR(2) = (4/3)^3 (2/3)^1 */
	memset(&s, 0, sizeof(s));
	seq_stream_add(&s, 100, 3, 100, 1);
	near(s.fwd[1], 3 * log(4.0 / 3.0) + log(2.0 / 3.0), 1e-12, "forward LR at ratio 2, by hand");
	near(seq_rev_log_e(&s, 2, &used), -(3 * log(4.0 / 3.0) + log(2.0 / 3.0)), 1e-12, "reverse LR at 2, by hand");
	ok(used == 2, "reverse ratio 2 is on the grid");
	seq_rev_log_e(&s, 4, &used);
	ok(used == 5, "reverse ratio 4 rounds up to 5 (conservative)");
	/* a batch where one side had no requests carries no comparative evidence */
	seq_stream_add(&s, 0, 0, 100, 5);
	near(s.fwd[1], 3 * log(4.0 / 3.0) + log(2.0 / 3.0), 1e-12, "a batch without canary requests adds nothing");
	is_int((int)s.xs, 6, "... but its counts are kept");
	/* the regression test is the likelihood ratio at the grid ratio nearest the effect */
	near(seq_fwd_log_e(&s, 2), s.fwd[1], 1e-12, "forward test at effect 2: the LR at ratio 2");
	near(seq_fwd_log_e(&s, 2.4), s.fwd[1], 1e-12, "effect 2.4: the nearest grid ratio (log scale) is 2");
	near(seq_fwd_log_e(&s, 4), s.fwd[3], 1e-12, "effect 4: the nearest grid ratio is 5");
	near(seq_fwd_log_e(&s, 1), s.fwd[1], 1e-12, "effect <= 1: a doubling");
	/* the mixture (latency): between the smallest and largest component, weights sum to 1 */
	{
		double m = seq_fwd_mix_log_e(&s, 2), mx = -INFINITY, mn = INFINITY;
		for (int i = 0; i < SEQ_NFWD; i++) {
			mx = fmax(mx, s.fwd[i]);
			mn = fmin(mn, s.fwd[i]);
		}
		ok(m <= mx && m >= mn, "the mixture lies between its components");
	}
	memset(&s, 0, sizeof(s));
	near(seq_fwd_log_e(&s, 2), 0, 1e-12, "no data: e-value 1");
	near(seq_fwd_mix_log_e(&s, 2), 0, 1e-12, "no data: the mixture's e-value 1");

	/* one sample against a line */
	near(seq_above_log_e(0, 0, 0.05, 2), 0, 1e-12, "no requests: e-value 1");
	ok(seq_above_log_e(100, 0, 0.05, 2) < 0, "no errors in 100 against 5%%: evidence for the null");
	ok(isinf(seq_above_log_e(10, 1, 0, 2)), "line 0 (any error): one error is proof");
	near(seq_above_log_e(10, 0, 0, 2), 0, 1e-12, "line 0, no error: no evidence");
	/* the immediate rollback of "4 errors in 77 requests" is not established at 5% */
	ok(seq_above_log_e(77, 4, 0.05, 2) < log(1 / 0.01), "4/77 (5.19%%) is not established above 5%%");
	ok(seq_above_log_e(200, 30, 0.05, 2) > log(1 / 0.01), "30/200 (15%%) is established above 5%%");
	/* below: no errors add about 0.75 q per request */
	near(seq_below_log_e(1000, 0, 0.01),
	     log(0.9 * pow((1 - 0.0025) / 0.99, 1000) + 0.05 * pow((1 - 0.005) / 0.99, 1000) +
		 0.05 * pow((1 - 0.008) / 0.99, 1000)),
	     1e-9, "below: zero errors, by hand (the mixture of q/4, q/2 and 0.8 q)");
	/* a rate at 0.6 q: the q/4 alternative alone loses evidence; the mixture gains it
	   (a healthy canary alone at 100% paused for lack of traffic after 60,000 requests) */
	ok(6000 * log(0.25) + 994000 * log((1 - 0.0025) / 0.99) < 0, "below, 0.6 q: q/4 alone stalls");
	ok(seq_below_log_e(1000000, 6000, 0.01) > log(1 / 0.2), "below, 0.6 q: the mixture rules q out");
	ok(seq_below_half_log_e(1000000, 8500, 0.01) > log(1 / 0.2), "below (half), 0.85 q: ruled out in time");
	ok(seq_below_log_e(1000000, 10000, 0.01) < 0, "below: a rate at q is never ruled out");
	near(seq_below_log_e(1000, 0, 0), 0, 1e-12, "below: q 0 is no test");

	/* anytime-valid interval: wider than the fixed-n 95%% interval 2.0-12.6%% of 4/77 */
	seq_rate_interval(77, 4, 0.05, &lo, &hi);
	ok(lo < 0.020 && hi > 0.126 && lo > 0 && hi < 0.3, "4/77: anytime-valid interval %.3f-%.3f contains 2.0-12.6%%", lo,
	   hi);
	ok(lo < 0.05, "... and includes 5%%: 'above 5%%' is not established");
	seq_rate_interval(0, 0, 0.05, &lo, &hi);
	ok(lo == 0 && hi == 1, "no data: [0, 1]");
	seq_rate_interval(1000, 0, 0.05, &lo, &hi);
	ok(lo == 0 && hi > 0 && hi < 0.01, "0/1000: [0, %.4f]", hi);
}

static void test_properties(void)
{
	int halts, runs = 300;
	uint64_t used, med[300];

	/* A/A at 1%: the forward test at alpha 0.05 halts at most 5% (+ 3 sd) of runs */
	rng_state = 0x9E3779B97F4A7C15ULL;
	halts = 0;
	for (int i = 0; i < runs; i++)
		halts += run_once(0.01, 0.01, 0.05, &used);
	ok(halts <= runs * 0.05 + 3 * sqrt(runs * 0.05 * 0.95), "A/A at 1%%: %d of %d halted (alpha 5%%)", halts, runs);
	/* A/A at 0.1% */
	halts = 0;
	for (int i = 0; i < runs; i++)
		halts += run_once(0.001, 0.001, 0.05, &used);
	ok(halts <= runs * 0.05 + 3 * sqrt(runs * 0.05 * 0.95), "A/A at 0.1%%: %d of %d halted", halts, runs);
	/* 1% -> 6%: detected nearly always, with few canary requests */
	halts = 0;
	for (int i = 0; i < runs; i++) {
		halts += run_once(0.01, 0.06, 0.05, &used);
		med[i] = used;
	}
	ok(halts >= runs * 0.95, "1%% -> 6%%: %d of %d detected", halts, runs);
	{
		/* median canary requests */
		for (int i = 1; i < runs; i++)
			for (int k = i; k > 0 && med[k - 1] > med[k]; k--) {
				uint64_t t = med[k];
				med[k] = med[k - 1];
				med[k - 1] = t;
			}
		ok(med[runs / 2] <= 400, "1%% -> 6%%: median %llu canary requests", (unsigned long long)med[runs / 2]);
	}
	/* one-sample at the line: the composite null p <= p0 holds at p = p0 */
	halts = 0;
	for (int i = 0; i < runs; i++) {
		uint64_t n = 0, x = 0;
		for (int m = 0; m < 35; m++) {
			n += 500;
			x += binomial(500, 0.01);
			if (seq_above_log_e(n, x, 0.01, 2) >= log(20)) {
				halts++;
				break;
			}
		}
	}
	ok(halts <= runs * 0.05 + 3 * sqrt(runs * 0.05 * 0.95), "one-sample at the line: %d of %d halted", halts, runs);
}

static void test_evidence_and_judges(void)
{
	struct judge_evidence ev, back;
	struct judge_batch b;
	struct judge_settings set;
	struct judge j;
	struct judge_sample cs = { 100, 0, 5000, 5000, 60000 }, ss = { 1000, 0, 0, 0, 60000 };
	struct judge_question q;
	struct judge_verdict v;
	char what[300];
	json_t *js;

	judge_settings_default(&set);
	is_str(set.name, "sequential", "the default judge is sequential");
	ok(set.alpha == 0.05 && set.power == 0.8 && set.effect == 2 && set.max_hold_factor == 3, "documented defaults");
	ok(judge_impl_find("threshold") == &judge_threshold_impl && judge_impl_find("observed") == &judge_observed_impl &&
	   judge_impl_find("sequential") == &judge_sequential_impl && !judge_impl_find("bayes"), "the registry finds the three");

	/* a stable p99 of 0 ms: the lines are floored at 1 ms, a 5 s canary is not a pass */
	memset(&ev, 0, sizeof(ev));
	judge_evidence_set_lines(&ev, 0, 1.2, 2, 3, 0);
	ok(ev.have_lines && ev.line_ms[JUDGE_LINE_CONSIDER] == 2, "0 ms baseline: the 2x line is 2 ms (1 ms floor)");
	memset(&b, 0, sizeof(b));
	b.nc = 100;
	b.ns = 1000;
	b.have_over = 1;
	for (int i = 0; i < JUDGE_NLINES; i++)
		b.over_c[i] = 100;
	judge_evidence_add(&ev, &b, 60000, 60000);
	judge_sequential_impl.init(&j, NULL, 50);
	memset(&q, 0, sizeof(q));
	q.metric = JUDGE_P99;
	q.test = JUDGE_RATIO_ABOVE;
	q.limit = 3;
	q.canary = &cs;
	q.baseline = &ss;
	q.ev = &ev;
	q.alpha = 0.01;
	q.effect = 2;
	q.line = JUDGE_LINE_IMMEDIATE;
	is_int(j.decide(&j, &q, &v), 0, "sequential: latency question answered");
	is_int(v.outcome, JUDGE_FAIL, "0 ms baseline, 5000 ms canary: p99 > 3x baseline is established");

	/* no baseline at all (NAN p99): latency is n/a, not a pass */
	memset(&back, 0, sizeof(back));
	judge_evidence_set_lines(&back, NAN, 1.2, 2, 3, 0);
	q.ev = &back;
	j.decide(&j, &q, &v);
	is_int(v.outcome, JUDGE_NOT_APPLICABLE, "no baseline p99: n/a");
	/* lines known but nothing counted yet and no interval p99: no data (never a pass) */
	judge_evidence_set_lines(&back, 200, 1.2, 2, 3, 0);
	cs.requests = 0;
	cs.p99_ms = NAN;
	j.decide(&j, &q, &v);
	is_int(v.outcome, JUDGE_INCONCLUSIVE, "lines but no counts: inconclusive, never a pass");
	cs.requests = 100;
	cs.p99_ms = 5000;

	/* the consider line (2x a 200 ms baseline) when both revisions slowed down after the
	   baseline was taken (a loaded host): 3% of canary and of stable requests above it */
	{
		struct judge_evidence slow;
		struct judge_batch sb;
		memset(&slow, 0, sizeof(slow));
		judge_evidence_set_lines(&slow, 200, 1.2, 2, 3, 0);
		memset(&sb, 0, sizeof(sb));
		sb.nc = 1000;
		sb.ns = 1000;
		sb.have_over = 1;
		sb.over_c[JUDGE_LINE_CONSIDER] = 30;
		sb.over_s[JUDGE_LINE_CONSIDER] = 30;
		judge_evidence_add(&slow, &sb, 60000, 60000);
		q.ev = &slow;
		q.line = JUDGE_LINE_CONSIDER;
		q.alpha = 0.05;
		j.decide(&j, &q, &v);
		is_int(v.outcome, JUDGE_PASS, "consider line: the stable as slow as the canary: judged against it, a pass");
		/* the canary alone slow: 3% against the stable's 0.2% */
		memset(&slow, 0, sizeof(slow));
		judge_evidence_set_lines(&slow, 200, 1.2, 2, 3, 0);
		sb.over_s[JUDGE_LINE_CONSIDER] = 2;
		judge_evidence_add(&slow, &sb, 60000, 60000);
		j.decide(&j, &q, &v);
		is_int(v.outcome, JUDGE_FAIL, "consider line: the canary alone above it: fails");
		/* the immediate line: the canary must be slower than the stable beside it too (a
		   host that slowed down after the line was drawn moves both) */
		memset(&slow, 0, sizeof(slow));
		judge_evidence_set_lines(&slow, 200, 1.2, 2, 3, 0);
		sb.over_c[JUDGE_LINE_IMMEDIATE] = 30;
		sb.over_s[JUDGE_LINE_IMMEDIATE] = 30;
		judge_evidence_add(&slow, &sb, 60000, 60000);
		q.line = JUDGE_LINE_IMMEDIATE;
		j.decide(&j, &q, &v);
		is_int(v.outcome, JUDGE_PASS, "immediate line: the stable as slow: not the canary's, a pass");
		ok(strstr(v.why, "slower than the stable") != NULL, "... and says it compared with the stable: %s", v.why);
		memset(&slow, 0, sizeof(slow));
		judge_evidence_set_lines(&slow, 200, 1.2, 2, 3, 0);
		sb.over_s[JUDGE_LINE_IMMEDIATE] = 2;
		judge_evidence_add(&slow, &sb, 60000, 60000);
		j.decide(&j, &q, &v);
		is_int(v.outcome, JUDGE_FAIL, "immediate line: the canary alone above it (3%% vs 0.2%%): fails");
		/* no stable beside the canary (monitoring at 100%): the line alone decides */
		memset(&slow, 0, sizeof(slow));
		judge_evidence_set_lines(&slow, 200, 1.2, 2, 3, 0);
		sb.ns = 0;
		sb.over_s[JUDGE_LINE_IMMEDIATE] = 0;
		sb.over_s[JUDGE_LINE_CONSIDER] = 0;
		judge_evidence_add(&slow, &sb, 60000, 60000);
		j.decide(&j, &q, &v);
		is_int(v.outcome, JUDGE_FAIL, "immediate line, no stable beside: the line decides");
		sb.ns = 1000;
		q.alpha = 0.01;
		q.ev = &ev;
	}

	/* the evidence survives a round trip through JSON (the store keeps it) */
	js = judge_evidence_to_json(&ev);
	memset(&back, 0, sizeof(back));
	is_int(judge_evidence_from_json(js, &back), 0, "evidence JSON parses back");
	ok(!memcmp(&back.err, &ev.err, sizeof(ev.err)) && back.over[2].xc == ev.over[2].xc && back.batches == 1 &&
	   back.line_ms[1] == ev.line_ms[1], "... identical");
	json_decref(js);
	js = json_loads("{\"line_ms\": [1]}", 0, NULL);
	ok(judge_evidence_from_json(js, &back) < 0, "malformed evidence is refused");
	json_decref(js);
	/* evidence stored before the canary's requests beside the stable (pc, px) were kept:
	   every canary request so far counts as beside the stable */
	js = judge_evidence_to_json(&ev);
	json_object_del(json_object_get(js, "err"), "pc");
	json_object_del(json_object_get(js, "err"), "px");
	memset(&back, 0, sizeof(back));
	is_int(judge_evidence_from_json(js, &back), 0, "evidence without pc/px parses");
	ok(back.err.pc == back.err.nc && back.err.px == back.err.xc, "... every canary request counted as beside the stable");
	json_decref(js);

	/* alone at 100%: the comparison with the stable becomes the canary's requests since
	   against the stable's measured rate (docs/judge.md, "Alone at 100%") */
	{
		struct judge_evidence al;
		struct judge_batch ab;
		struct judge_sample acs = { .requests = 1000, .errors = 40 };
		struct judge_question aq = { .metric = JUDGE_ERROR_RATE, .test = JUDGE_DELTA_ABOVE, .canary = &acs,
					     .ev = &al, .alpha = 0.045, .effect = 2, .alone = 1 };
		memset(&al, 0, sizeof(al));
		memset(&ab, 0, sizeof(ab));
		ab.nc = 500, ab.xc = 5, ab.ns = 5000, ab.xs = 50;	/* beside: both at 1% */
		judge_evidence_add(&al, &ab, 60000, 60000);
		ok(al.err.pc == 500 && al.err.px == 5, "beside the stable: pc/px count the canary");
		j.decide(&j, &aq, &v);
		is_int(v.outcome, JUDGE_PASS, "alone, no request since: nothing new, a pass");
		memset(&ab, 0, sizeof(ab));
		ab.nc = 1000, ab.xc = 40;	/* alone: 4% */
		judge_evidence_add(&al, &ab, 120000, 60000);
		ok(al.err.pc == 500 && al.err.nc == 1500, "alone: pc unchanged");
		j.decide(&j, &aq, &v);
		is_int(v.outcome, JUDGE_FAIL, "alone at 4%% against a stable measured at 1%%: fails");
		ok(v.canary_requests == 1000 && strstr(v.why, "alone at 100%") != NULL, "... on the requests since: %s", v.why);
		memset(&ab, 0, sizeof(ab));
		ab.nc = 100000, ab.xc = 1000;	/* a lot more at 1% (the cumulative alone rate 1.04%) */
		judge_evidence_add(&al, &ab, 180000, 60000);
		aq.alone = 0;
		j.decide(&j, &aq, &v);
		is_int(v.outcome, JUDGE_PASS, "not alone: the forward test, which batches without a stable do not move, passes");
	}

	/* error lines: the stable above the line is judged against the stable */
	memset(&ev, 0, sizeof(ev));
	for (int m = 0; m < 30; m++) {
		memset(&b, 0, sizeof(b));
		b.nc = 500, b.xc = 10, b.ns = 500, b.xs = 10;	/* both at 2% */
		judge_evidence_add(&ev, &b, 60000 * (m + 1), 60000);
	}
	memset(&q, 0, sizeof(q));
	q.metric = JUDGE_ERROR_RATE;
	q.test = JUDGE_ABOVE_LIMIT;
	q.limit = 1;
	q.canary = &cs;
	q.ev = &ev;
	q.alpha = 0.01;
	q.effect = 2;
	j.decide(&j, &q, &v);
	is_int(v.outcome, JUDGE_PASS, "stable and canary both at 2%% > 1%% line: not a rollback");
	ok(strstr(v.why, "judged against the stable") != NULL, "... and it says why: %s", v.why);

	/* the threshold judge: no data is a failed check (Flagger) */
	judge_threshold_impl.init(&j, NULL, 50);
	cs.requests = 10;
	q.ev = NULL;
	j.decide(&j, &q, &v);
	is_int(v.outcome, JUDGE_FAIL, "threshold: too few requests counts as a failed check");
	judge_observed_impl.init(&j, NULL, 50);
	j.decide(&j, &q, &v);
	is_int(v.outcome, JUDGE_INCONCLUSIVE, "observed: too few requests is inconclusive");

	/* steps: zero errors on both sides are answered in absolute terms */
	memset(&ev, 0, sizeof(ev));
	is_int(judge_step_question(&ev, &set, 10, 1, 50, 5, what, sizeof(what)), 0, "no data: the question is open");
	ok(strstr(what, "no canary requests at 10%") != NULL, "... and says so: %s", what);
	memset(&b, 0, sizeof(b));
	b.nc = 20, b.ns = 180;
	judge_evidence_add(&ev, &b, 60000, 60000);
	is_int(judge_step_question(&ev, &set, 10, 1, 50, 5, what, sizeof(what)), 0, "20 clean requests at 10%%: still open");
	ok(strstr(what, "more needed") != NULL, "... and says how much more: %s", what);
	memset(&ev, 0, sizeof(ev));
	memset(&b, 0, sizeof(b));
	b.nc = 2000, b.ns = 2000;
	judge_evidence_add(&ev, &b, 60000, 60000);
	is_int(judge_step_question(&ev, &set, 50, 1, 50, 5, what, sizeof(what)), 1,
	       "no errors in 2000 canary requests: a canary error rate of 0.5%% is ruled out");
	ok(strstr(what, "ruled out a canary error rate of 0.5%") != NULL, "%s", what);
	/* the first step only rules out a catastrophe: 5% with no errors in 50 requests */
	memset(&ev, 0, sizeof(ev));
	b.nc = 50, b.ns = 4950;
	judge_evidence_add(&ev, &b, 60000, 60000);
	is_int(judge_step_question(&ev, &set, 1, 1, 50, 5, what, sizeof(what)), 1, "1%% step: 50 clean requests rule out 5%%");
}

/* the latency lines: set at the warm-up, refined as a mean, pooled as one sample */
static void test_lines(void)
{
	struct judge_evidence ev;

	memset(&ev, 0, sizeof(ev));
	judge_evidence_set_lines(&ev, 200, 1.2, 2, 3, 500);
	ok(ev.have_lines && ev.line_ms[JUDGE_LINE_CONSIDER] == 400 && ev.line_ms[JUDGE_LINE_CHECK] == 500,
	   "lines from the baseline p99: 2x 200ms = %.0fms, the check's 500ms", ev.line_ms[JUDGE_LINE_CONSIDER]);
	judge_evidence_refine_lines(&ev, 1000, 220);
	ok(fabs(ev.line_ms[JUDGE_LINE_CONSIDER] - 420) < 1e-9, "refined: the mean of 200 and 220 (weighted alike): %.1fms",
	   ev.line_ms[JUDGE_LINE_CONSIDER]);
	judge_evidence_pool_lines(&ev, 30000, 205);
	ok(fabs(ev.line_ms[JUDGE_LINE_CONSIDER] - 410) < 1e-9 && fabs(ev.line_ms[JUDGE_LINE_IMMEDIATE] - 615) < 1e-9 &&
	   fabs(ev.line_ms[JUDGE_LINE_REGRESSION] - 246) < 1e-9, "pooled: every ratio line x the pooled p99 (205ms)");
	ok(ev.line_ms[JUDGE_LINE_CHECK] == 500, "pooled: a fixed line (the check's maximum) does not move");
	judge_evidence_pool_lines(&ev, 0, 999);
	judge_evidence_pool_lines(&ev, 100, NAN);
	ok(fabs(ev.line_ms[JUDGE_LINE_CONSIDER] - 410) < 1e-9, "pooled: no requests or no p99 change nothing");
	judge_evidence_pool_lines(&ev, 100, 0);
	ok(ev.line_ms[JUDGE_LINE_CONSIDER] == 2, "pooled: a 0ms p99 is floored at 1ms (lines 2ms, not 0)");
}

/*
 * Looks that follow the canary's traffic (judge.h, JUDGE_LOOK_REQUESTS): the
 * look at a given canary rate, and in a closed loop at 100,000 requests/min
 * one-second looks at 1% whose step still ends on the 10 s schedule.
 */
static void test_looks(void)
{
	struct type_rules rules;
	struct strategy s;
	struct judge_settings set;
	struct judge thr;
	struct strbuf err = STRBUF_INIT;
	struct simulate_options o = { 0 };
	struct simulate_run a;
	int64_t step2_from = -1, first_from = -1, longest = 0;
	int short_looks = 1, n1 = 0, stored1 = 0;

	type_rules_default("standard", &rules, &err);
	strategy_default(&s, STRATEGY_CANARY);
	ok(deployment_look_ms(&rules, &s, NULL) == 10000, "the longest look: a sixth of the 1m interval");
	ok(deployment_look_at_ms(&rules, &s, NULL, 60) == 10000, "10 canary requests a look: 10s");
	ok(deployment_look_at_ms(&rules, &s, NULL, 120) == 10000, "exactly %d a look: still 10s", JUDGE_LOOK_REQUESTS);
	ok(deployment_look_at_ms(&rules, &s, NULL, 200) == 6000, "200 a minute: every 6s (20 requests)");
	ok(deployment_look_at_ms(&rules, &s, NULL, 1000) == 1000, "1000 a minute: every second (1.2s, in whole 250ms)");
	ok(deployment_look_at_ms(&rules, &s, NULL, 10000) == JUDGE_LOOK_MIN_MS, "10000 a minute: every 250ms (the floor)");
	ok(deployment_look_at_ms(&rules, &s, NULL, 1e7) == JUDGE_LOOK_MIN_MS, "never more often than the floor");
	ok(deployment_look_at_ms(&rules, &s, NULL, 0) == 10000, "no traffic: the longest look");
	judge_settings_default(&set);
	judge_threshold_impl.init(&thr, &set, 50);
	ok(deployment_look_at_ms(&rules, &s, &thr, 1e6) == 60000, "the threshold judge looks once an interval");

	/* closed loop: A/A at 100,000 requests/min, 1% for 5m gets about 17 canary requests a second */
	o.rules = &rules;
	o.strategy = &s;
	o.traffic = (struct metrics_sim_params){ .rpm = 100000, .stable_error_rate = 0.01, .canary_error_rate = 0.01,
						 .latency_median_ms = 45, .latency_p99_ms = 200, .latency_ratio = 1,
						 .cell_ms = 60000 };
	o.max_ms = 60000 + 6 * 60000;
	o.keep_intervals = 1;
	ok(simulate_run(&o, 3, &a, &err) == 0, "closed loop at 100,000 requests/min: %s", err.buf);
	for (size_t i = 0; i < a.n_intervals; i++) {
		const struct simulate_interval *iv = &a.intervals[i];
		if (iv->weight == 1) {
			n1++;
			stored1 += iv->stored;
			if (first_from < 0)
				first_from = iv->from_ms;
			/* about 17 a second: 1s, or 1.25s after a look that held fewer, cut at each
			   10s from the step's start */
			if (iv->to_ms - iv->from_ms < JUDGE_LOOK_MIN_MS || iv->to_ms - iv->from_ms > 1500)
				short_looks = 0;
			if (iv->to_ms - iv->from_ms > longest)
				longest = iv->to_ms - iv->from_ms;
		}
		if (iv->weight == 10 && step2_from < 0)
			step2_from = iv->from_ms;
	}
	ok(short_looks && n1 >= 200, "at 1%%: %d looks of 0.25-1.5s", n1);
	/* the record keeps a result every judge.look, not every look: 30 in 5m (the last one
	   ends the step) */
	ok(stored1 >= 29 && stored1 <= 31, "at 1%%: %d of %d looks stored as analysis results (one every 10s)",
	   stored1, n1);
	/* the step's question is asked at the looks that end on each 10s from the step's start */
	ok(first_from >= 0 && step2_from >= first_from + 300000 && (step2_from - first_from) % 10000 == 0 && longest <= 1500,
	   "the step ends on the 10s schedule after its 5m hold: at %.2fs", (double)(step2_from - first_from) / 1000);
	simulate_run_release(&a);
	/* 1,000 requests/min: 1% is 10 canary requests in 10s: the longest look */
	o.traffic.rpm = 1000;
	n1 = 0;
	short_looks = 1;
	ok(simulate_run(&o, 3, &a, &err) == 0, "closed loop at 1,000 requests/min");
	for (size_t i = 0; i < a.n_intervals; i++)
		if (a.intervals[i].weight == 1) {
			n1++;
			if (a.intervals[i].to_ms - a.intervals[i].from_ms != 10000)
				short_looks = 0;
		}
	ok(short_looks && n1 == 30, "at 1%% and 1,000 requests/min: %d looks of 10s", n1);
	simulate_run_release(&a);
	strbuf_release(&err);
}

int main(void)
{
	test_known_values();
	test_properties();
	test_evidence_and_judges();
	test_lines();
	test_looks();
	return tap_done();
}
