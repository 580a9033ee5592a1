/*
 * test_simulate.c - the samplers (base/rng), the generative metrics provider
 * (adapters/metrics_sim) and the reference numbers (controller/simulate):
 * distributions checked by their moments and by chi-square against exact
 * probabilities at fixed seeds (deterministic: a seed either passes or not),
 * the provider's consistency rules, and the worked numbers of
 * docs/simulate.md ("Reference numbers": 1% -> 2% at a 50% split).
 */
#include "tap.h"
#include "adapters/metrics_sim.h"
#include "base/rng.h"
#include "base/strbuf.h"
#include "controller/simulate.h"
#include "core/deployment.h"
#include "core/rules.h"

#include <math.h>
#include <stdlib.h>

#define N_DRAWS 40000

static struct rng seeded(uint64_t s)
{
	struct rng r;
	rng_seed(&r, &s, 1);
	return r;
}

/* mean and variance of N_DRAWS draws of kind (0 Poisson, 1 binomial) */
static void moments(int kind, double a, uint64_t n, double *mean, double *var)
{
	struct rng r = seeded(7);
	double s = 0, s2 = 0;
	for (int i = 0; i < N_DRAWS; i++) {
		double x = kind == 0 ? (double)rng_poisson(&r, a) : (double)rng_binomial(&r, n, a);
		s += x;
		s2 += x * x;
	}
	*mean = s / N_DRAWS;
	*var = s2 / N_DRAWS - *mean * *mean;
}

static double log_pmf(int kind, double a, uint64_t n, double k)
{
	if (kind == 0)
		return -a + k * log(a) - lgamma(k + 1);
	return lgamma((double)n + 1) - lgamma(k + 1) - lgamma((double)n - k + 1) + k * log(a) +
	       ((double)n - k) * log1p(-a);
}

/* chi-square of the counts within mean +- 3 sd against the exact pmf; returns statistic, *df cells */
static double chi_square(int kind, double a, uint64_t n, int *df)
{
	double mean = kind == 0 ? a : (double)n * a, sd = sqrt(kind == 0 ? a : (double)n * a * (1 - a));
	int lo = (int)floor(mean - 3 * sd), hi = (int)ceil(mean + 3 * sd), cells;
	long *cnt;
	struct rng r = seeded(11);
	double chi = 0;

	if (lo < 0)
		lo = 0;
	cells = hi - lo + 1;
	cnt = calloc((size_t)cells, sizeof(*cnt));
	for (int i = 0; i < N_DRAWS; i++) {
		long x = (long)(kind == 0 ? rng_poisson(&r, a) : rng_binomial(&r, n, a));
		if (x >= lo && x <= hi)
			cnt[x - lo]++;
	}
	*df = 0;
	for (int k = lo; k <= hi; k++) {
		double e = N_DRAWS * exp(log_pmf(kind, a, n, k));
		if (e < 5)
			continue;
		chi += (cnt[k - lo] - e) * (cnt[k - lo] - e) / e;
		(*df)++;
	}
	free(cnt);
	return chi;
}

static void test_samplers(void)
{
	static const struct { int kind; double a; uint64_t n; } cases[] = {
		{ 0, 0.3, 0 }, { 0, 4.5, 0 }, { 0, 12, 0 }, { 0, 250, 0 }, { 0, 50000, 0 },
		{ 1, 0.01, 50 }, { 1, 0.02, 400 }, { 1, 0.05, 1000 }, { 1, 0.3, 90 }, { 1, 0.7, 200 },
		{ 1, 0.01, 100000 },
	};
	struct rng r1 = seeded(3), r2 = seeded(3), r3 = seeded(4);
	int same = 1, differ = 0;

	for (int i = 0; i < 100; i++) {
		uint64_t a = rng_next(&r1), b = rng_next(&r2), c = rng_next(&r3);
		same &= a == b;
		differ += a != c;
	}
	ok(same && differ == 100, "rng: the same seed gives the same stream, another seed another");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		double m, v, want_m, want_v, chi;
		int df;
		moments(cases[i].kind, cases[i].a, cases[i].n, &m, &v);
		want_m = cases[i].kind == 0 ? cases[i].a : (double)cases[i].n * cases[i].a;
		want_v = cases[i].kind == 0 ? cases[i].a : want_m * (1 - cases[i].a);
		ok(fabs(m - want_m) < 5 * sqrt(want_v / N_DRAWS) && fabs(v / want_v - 1) < 0.05,
		   "%s(%g, n %llu): mean %.4f (want %.4f), variance %.4f (want %.4f)",
		   cases[i].kind ? "binomial" : "poisson", cases[i].a, (unsigned long long)cases[i].n, m, want_m, v,
		   want_v);
		chi = chi_square(cases[i].kind, cases[i].a, cases[i].n, &df);
		if (df >= 2)
			ok(chi < df + 5 * sqrt(2.0 * df), "%s(%g): chi-square %.1f on %d cells",
			   cases[i].kind ? "binomial" : "poisson", cases[i].a, chi, df);
	}
	{
		struct rng r = seeded(5);
		double s = 0, s2 = 0;
		for (int i = 0; i < N_DRAWS; i++) {
			double x = rng_gamma(&r, 3.5);
			s += x;
			s2 += x * x;
		}
		s /= N_DRAWS;
		s2 = s2 / N_DRAWS - s * s;
		ok(fabs(s - 3.5) < 5 * sqrt(3.5 / N_DRAWS) && fabs(s2 / 3.5 - 1) < 0.05,
		   "gamma(3.5): mean %.4f, variance %.4f", s, s2);
	}
	ok(fabs(normal_quantile(0.975) - 1.959963984540054) < 1e-12 &&
	   fabs(normal_quantile(0.99) - 2.326347874040841) < 1e-12 &&
	   fabs(normal_quantile(1e-10) + 6.361340902404056) < 1e-9 && normal_quantile(0.5) == 0,
	   "normal quantile at 0.975, 0.99, 1e-10, 0.5");
}

static struct metrics_sim_params params(void)
{
	return (struct metrics_sim_params){ .rpm = 60000, .stable_error_rate = 0.01, .canary_error_rate = 0.02,
					    .latency_median_ms = 45, .latency_p99_ms = 200, .latency_ratio = 2,
					    .cell_ms = 60000 };
}

static void test_provider(void)
{
	struct metrics_sim_params p = params();
	struct metrics_sim m, m2;
	struct metrics_provider prov;
	struct metrics_sample a, b, c, whole;
	struct strbuf err = STRBUF_INIT;
	double th[2] = { 400, 200 };
	uint64_t over[2];
	double p99s[201];
	int ordered = 1;

	metrics_sim_init(&m, &p, 42);
	metrics_sim_set_share(&m, 0, 0);
	metrics_sim_set_share(&m, 60000, 0.1);
	metrics_sim_set_share(&m, 120000, 0.5);
	metrics_sim_provider(&m, &prov);
	ok(fabs(metrics_sim_mean_share(&m, 30000, 150000) - (0 * 30 + 0.1 * 60 + 0.5 * 30) / 120.0) < 1e-12,
	   "mean share integrates the share timeline");
	prov.query(prov.ctx, "svc", ROLE_CANARY, "v2", 60000, 120000, &a, &err);
	prov.query(prov.ctx, "svc", ROLE_CANARY, "v2", 60000, 120000, &b, &err);
	ok(a.requests == b.requests && a.errors == b.errors && a.p99_ms == b.p99_ms, "a repeated query answers the same");
	ok(a.requests > 5700 && a.requests < 6300, "canary at 10%% of 1000/s for 60s: %llu requests (6000 expected)",
	   (unsigned long long)a.requests);
	prov.query(prov.ctx, "svc", ROLE_CANARY, "v2", 120000, 180000, &c, &err);
	prov.query(prov.ctx, "svc", ROLE_CANARY, "v2", 60000, 180000, &whole, &err);
	ok(whole.requests == a.requests + c.requests && whole.errors == a.errors + c.errors,
	   "a query over two cells is the sum of the cells");
	ok(a.p50_ms <= a.p90_ms && a.p90_ms <= a.p99_ms && a.p99_ms <= a.max_ms, "percentiles are ordered");
	prov.query(prov.ctx, "svc", ROLE_CANARY, "v2", 0, 60000, &c, &err);
	ok(c.requests == 0 && isnan(c.p99_ms), "no share, no canary requests, no percentiles");
	prov.query_over(prov.ctx, "svc", ROLE_CANARY, "v2", 60000, 180000, th, 2, over, &err);
	ok(over[0] <= over[1] && over[1] <= whole.requests, "exceedance counts are nested: %llu over 400ms, %llu over 200ms",
	   (unsigned long long)over[0], (unsigned long long)over[1]);
	{
		/* canary latency x2: P(> 200ms) = P(stable > 100ms) */
		double q = metrics_sim_exceedance(&m, ROLE_CANARY, 200), want = normal_upper(log(100 / 45.0) /
											(log(200 / 45.0) / normal_quantile(0.99)));
		ok(fabs(q - want) < 1e-12 && fabs(metrics_sim_exceedance(&m, ROLE_STABLE, 200) - 0.01) < 1e-12,
		   "exceedance: stable 1%% above its p99, canary (x2) %.4f above 200ms", q);
		ok(fabs((double)over[1] / (double)whole.requests - want) < 5 * sqrt(want / (double)whole.requests),
		   "exceedance count %.4f matches the probability %.4f", (double)over[1] / (double)whole.requests, want);
	}
	metrics_sim_init(&m2, &p, 43);
	metrics_sim_set_share(&m2, 0, 0.1);
	prov.ctx = &m2;
	prov.query(prov.ctx, "svc", ROLE_CANARY, "v2", 60000, 120000, &b, &err);
	ok(b.requests != a.requests || b.errors != a.errors, "another seed draws other traffic");
	/* the stable's p99 over many one-minute samples of 60000*0.9 requests centres on 200ms */
	for (int i = 0; i < 201; i++) {
		prov.query(prov.ctx, "svc", ROLE_STABLE, "v1", (int64_t)i * 60000, (int64_t)(i + 1) * 60000, &b, &err);
		p99s[i] = b.p99_ms;
		ordered &= b.p50_ms <= b.p90_ms && b.p90_ms <= b.p99_ms && b.p99_ms <= b.max_ms;
	}
	for (int i = 1; i < 201; i++)
		for (int j = i; j > 0 && p99s[j - 1] > p99s[j]; j--) {
			double t = p99s[j];
			p99s[j] = p99s[j - 1];
			p99s[j - 1] = t;
		}
	ok(fabs(p99s[100] - 200) < 3 && ordered, "stable p99 of 54000 requests: median of 201 samples %.1fms", p99s[100]);
	{
		/* 50 requests: the nearest-rank p99 is the maximum */
		struct metrics_sim_params q = params();
		struct metrics_sim ms;
		q.rpm = 50;
		metrics_sim_init(&ms, &q, 1);
		metrics_sim_set_share(&ms, 0, 0);
		prov.ctx = &ms;
		int same = 0, n = 0;
		for (int i = 0; i < 50; i++) {
			prov.query(prov.ctx, "svc", ROLE_STABLE, "v1", (int64_t)i * 60000, (int64_t)(i + 1) * 60000, &b, &err);
			if (b.requests > 0 && b.requests <= 100) {
				n++;
				same += b.p99_ms == b.max_ms;
			}
		}
		ok(n > 40 && same == n, "with <= 100 requests the p99 is the sample maximum (%d of %d)", same, n);
		metrics_sim_release(&ms);
	}
	metrics_sim_release(&m);
	metrics_sim_release(&m2);
	strbuf_release(&err);
}

static void test_reference(void)
{
	struct strategy s;
	struct simulate_reference r;

	/* one step at 50% (docs/simulate.md: 1122 canary requests, 1826 / 2319 per arm) */
	strategy_default(&s, STRATEGY_CANARY);
	s.n_steps = 0;
	strategy_add_step(&s, 0, 50, 60000, NULL);
	simulate_reference(&s, 1000, 0.01, 0.02, 0.05, 0.2, &r);
	ok(r.valid && fabs(r.wald_canary_requests - 1122) < 1.5, "Wald 1%%->2%% at 50%%: %.1f canary requests",
	   r.wald_canary_requests);
	ok(r.fixed_one_sided == 1826 && r.fixed_two_sided == 2319, "fixed sample 1%%->2%%: %.0f one-sided, %.0f two-sided",
	   r.fixed_one_sided, r.fixed_two_sided);
	ok(fabs(r.wald_at_s - r.wald_canary_requests / (1000 * 0.5 / 60)) < 1e-6,
	   "the last step is held until the evidence is in: %.0fs", r.wald_at_s);
	s.steps[0].weight = 5;
	simulate_reference(&s, 1000, 0.01, 0.02, 0.05, 0.2, &r);
	ok(fabs(r.wald_canary_requests - 527) < 1.5, "Wald 1%%->2%% at 5%%: %.1f canary requests", r.wald_canary_requests);
	s.steps[0].weight = 50;
	simulate_reference(&s, 1000, 0.001, 0.002, 0.05, 0.2, &r);
	ok(fabs(r.wald_canary_requests - 11221) < 15, "Wald 0.1%%->0.2%% at 50%%: %.0f", r.wald_canary_requests);
	simulate_reference(&s, 1000, 0.01, 0.01, 0.05, 0.2, &r);
	ok(!r.valid && isnan(r.wald_canary_requests), "no reference without a regression");
	/* the runbook default: evidence at 1% for 5m, then 10% */
	strategy_default(&s, STRATEGY_CANARY);
	simulate_reference(&s, 1000, 0.01, 0.02, 0.05, 0.2, &r);
	ok(r.valid && r.n_steps == 3 && r.wald_canary_requests > 500 && r.wald_canary_requests < 564 && r.wald_at_s > 300,
	   "default strategy at 1000/min: %.0f canary requests after %.0fs", r.wald_canary_requests, r.wald_at_s);
}

static void test_closed_loop(void)
{
	struct type_rules rules;
	struct strategy s;
	struct simulate_options o = { 0 };
	struct simulate_run a, b;
	struct strbuf err = STRBUF_INIT;

	type_rules_default("standard", &rules, &err);
	strategy_default(&s, STRATEGY_CANARY);
	o.rules = &rules;
	o.strategy = &s;
	o.traffic = params();
	o.traffic.canary_error_rate = 1;
	o.traffic.latency_ratio = 1;
	o.max_ms = 86400000;
	o.keep_intervals = 1;
	/* 60,000 requests/min at 1%: 10 canary requests a second, a look every 20 of them (judge.h) */
	ok(simulate_run(&o, 1, &a, &err) == 0 && a.outcome == SIM_ROLLED_BACK && a.n_intervals == 2 &&
	   a.at_ms > 0 && a.at_ms <= 2000 && a.at_ms < deployment_look_ms(&rules, &s, NULL) && a.first_step_ms == 60000,
	   "an all-errors canary is rolled back after the first look of step 1 (about 2s): %s at %lldms: %s",
	   simulate_outcome_name(a.outcome), (long long)a.at_ms, a.reason);
	simulate_run(&o, 1, &b, &err);
	ok(a.n_intervals == b.n_intervals && a.canary_requests == b.canary_requests && !strcmp(a.reason, b.reason),
	   "a run is deterministic per seed");
	simulate_run_release(&a);
	simulate_run_release(&b);
	o.max_ms = 120000;
	o.traffic.canary_error_rate = 0.01;
	o.traffic.stable_error_rate = 0;
	o.traffic.canary_error_rate = 0;
	ok(simulate_run(&o, 1, &a, &err) == 0 && a.outcome == SIM_UNFINISHED, "stopped at max_ms: %s",
	   simulate_outcome_name(a.outcome));
	simulate_run_release(&a);
	strbuf_release(&err);
}

int main(void)
{
	test_samplers();
	test_provider();
	test_reference();
	test_closed_loop();
	return tap_done();
}
