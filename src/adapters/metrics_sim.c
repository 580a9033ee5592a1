/*
 * metrics_sim.c - the generative metrics provider behind `slipway
 * simulate`; the model and its sampling methods are in metrics_sim.h.
 *
 * Every draw comes from a stream seeded by (run seed, revision, what is
 * drawn, the range), never from a shared running stream, so the answer to
 * a query does not depend on which queries came before it: the engine can
 * ask in any order, any number of times.
 */
#include "adapters/metrics_sim.h"
#include "base/alloc.h"
#include "base/err.h"
#include "base/rng.h"
#include "base/strbuf.h"

#include <math.h>
#include <string.h>

/* what a stream is for: the last word of its key */
enum { DRAW_COUNTS = 1, DRAW_OVER = 2, DRAW_PERCENTILES = 3 };

void metrics_sim_init(struct metrics_sim *m, const struct metrics_sim_params *p, uint64_t seed)
{
	memset(m, 0, sizeof(*m));
	m->p = *p;
	m->seed = seed;
	/* ln(latency) ~ N(mu, sigma): median = e^mu, p99 = e^(mu + z99 sigma) */
	m->sigma = log(p->latency_p99_ms / p->latency_median_ms) / normal_quantile(0.99);
	m->mu[ROLE_STABLE] = log(p->latency_median_ms);
	m->mu[ROLE_CANARY] = log(p->latency_median_ms) + log(p->latency_ratio);
}

void metrics_sim_release(struct metrics_sim *m)
{
	free(m->shares);
	m->shares = NULL;
	m->n_shares = m->alloc = 0;
}

void metrics_sim_set_share(struct metrics_sim *m, int64_t at_ms, double share)
{
	if (share < 0)
		share = 0;
	if (share > 1)
		share = 1;
	if (m->n_shares) {
		struct metrics_sim_share *last = &m->shares[m->n_shares - 1];
		if (last->share == share)
			return;
		if (at_ms <= last->at_ms) {
			last->share = share;
			return;
		}
	}
	ALLOC_GROW(m->shares, m->n_shares + 1, m->alloc);
	m->shares[m->n_shares].at_ms = at_ms;
	m->shares[m->n_shares].share = share;
	m->n_shares++;
}

double metrics_sim_mean_share(const struct metrics_sim *m, int64_t from_ms, int64_t to_ms)
{
	double sum = 0;

	if (to_ms <= from_ms)
		return 0;
	for (size_t i = 0; i < m->n_shares; i++) {
		int64_t a = m->shares[i].at_ms, b = i + 1 < m->n_shares ? m->shares[i + 1].at_ms : INT64_MAX;
		if (a < from_ms)
			a = from_ms;
		if (b > to_ms)
			b = to_ms;
		if (b > a)
			sum += m->shares[i].share * (double)(b - a);
	}
	return sum / (double)(to_ms - from_ms);
}

double metrics_sim_exceedance(const struct metrics_sim *m, enum revision_role role, double t_ms)
{
	if (!(t_ms > 0))
		return 1;
	return normal_upper((log(t_ms) - m->mu[role]) / m->sigma);
}

static void stream(struct rng *r, const struct metrics_sim *m, enum revision_role role, int what, int64_t from_ms,
		   int64_t to_ms, uint64_t extra)
{
	uint64_t key[6] = { m->seed, (uint64_t)role, (uint64_t)what, (uint64_t)from_ms, (uint64_t)to_ms, extra };
	rng_seed(r, key, 6);
}

/* requests and errors of one piece [a, b) that lies within one cell */
static void piece_counts(const struct metrics_sim *m, enum revision_role role, int64_t a, int64_t b, uint64_t *n,
			 uint64_t *e)
{
	struct rng r;
	double share = metrics_sim_mean_share(m, a, b);
	double frac = role == ROLE_CANARY ? share : 1.0 - share;
	double mean = m->p.rpm / 60000.0 * (double)(b - a) * frac;

	stream(&r, m, role, DRAW_COUNTS, a, b, 0);
	*n = rng_poisson(&r, mean);
	*e = rng_binomial(&r, *n, role == ROLE_CANARY ? m->p.canary_error_rate : m->p.stable_error_rate);
}

/* the end of the piece of [a, to) that lies within a's cell */
static int64_t piece_end(const struct metrics_sim *m, int64_t a, int64_t to)
{
	int64_t c = m->p.cell_ms, cell = a >= 0 ? a / c : -((-a + c - 1) / c), b = (cell + 1) * c;
	return b < to ? b : to;
}

static double latency_at_tail(const struct metrics_sim *m, enum revision_role role, double tail)
{
	/* the latency whose upper-tail probability is `tail` */
	return exp(m->mu[role] - m->sigma * normal_quantile(tail));
}

static uint64_t rank_of(double q, uint64_t n)
{
	double k = ceil(q * (double)n - 1e-9);
	if (k < 1)
		k = 1;
	if (k > (double)n)
		k = (double)n;
	return (uint64_t)k;
}

static void draw_percentiles(const struct metrics_sim *m, enum revision_role role, int64_t from_ms, int64_t to_ms,
			     uint64_t n, struct metrics_sample *out)
{
	struct rng r;
	uint64_t k50 = rank_of(0.50, n), k90 = rank_of(0.90, n), k99 = rank_of(0.99, n);
	double g_top, g_a, g_b, g_c, g_d, s;

	stream(&r, m, role, DRAW_PERCENTILES, from_ms, to_ms, n);
	/*
	 * Uniform order statistics from exponential spacings: with S_j the sum
	 * of the first j of n + 1 Exp(1) spacings, U(k) = S_k / S_(n+1).  Only
	 * the sums between the ranks we need are drawn, each a Gamma.
	 */
	g_top = rng_gamma(&r, 1.0);		/* above the maximum */
	g_a = rng_gamma(&r, (double)(n - k99));	/* between U(k99) and U(n) */
	g_b = rng_gamma(&r, (double)(k99 - k90));
	g_c = rng_gamma(&r, (double)(k90 - k50));
	g_d = rng_gamma(&r, (double)k50);	/* below U(k50) */
	s = g_top + g_a + g_b + g_c + g_d;
	out->max_ms = latency_at_tail(m, role, g_top / s);
	out->p99_ms = latency_at_tail(m, role, (g_top + g_a) / s);
	out->p90_ms = latency_at_tail(m, role, (g_top + g_a + g_b) / s);
	out->p50_ms = latency_at_tail(m, role, (g_top + g_a + g_b + g_c) / s);
}

static int sim_query(void *ctx, const char *service, enum revision_role role, const char *version, int64_t from_ms,
		     int64_t to_ms, struct metrics_sample *out, struct strbuf *err)
{
	const struct metrics_sim *m = ctx;
	uint64_t n = 0, e = 0;

	(void)service;
	(void)version;
	if (role != ROLE_STABLE && role != ROLE_CANARY) {
		strbuf_errf(err, "simulated metrics: unknown revision role %d", (int)role);
		return SW_EUSAGE;
	}
	memset(out, 0, sizeof(*out));
	out->from_ms = from_ms;
	out->to_ms = to_ms;
	for (int64_t a = from_ms, b; a < to_ms; a = b) {
		uint64_t pn, pe;
		b = piece_end(m, a, to_ms);
		piece_counts(m, role, a, b, &pn, &pe);
		n += pn;
		e += pe;
	}
	out->requests = n;
	out->errors = e;
	if (!n) {
		out->p50_ms = out->p90_ms = out->p99_ms = out->max_ms = NAN;
		return 0;
	}
	draw_percentiles(m, role, from_ms, to_ms, n, out);
	return 0;
}

static int sim_query_over(void *ctx, const char *service, enum revision_role role, const char *version,
			  int64_t from_ms, int64_t to_ms, const double *thresholds_ms, int n, uint64_t *over,
			  struct strbuf *err)
{
	const struct metrics_sim *m = ctx;
	int order[METRICS_MAX_THRESHOLDS];

	(void)service;
	(void)version;
	if (role != ROLE_STABLE && role != ROLE_CANARY) {
		strbuf_errf(err, "simulated metrics: unknown revision role %d", (int)role);
		return SW_EUSAGE;
	}
	if (n < 0 || n > METRICS_MAX_THRESHOLDS) {
		strbuf_errf(err, "simulated metrics: %d thresholds; at most %d", n, METRICS_MAX_THRESHOLDS);
		return SW_EUSAGE;
	}
	/* ascending thresholds, so each count is drawn from the one before */
	for (int i = 0; i < n; i++) {
		int j = i;
		order[i] = i;
		while (j > 0 && thresholds_ms[order[j - 1]] > thresholds_ms[order[j]]) {
			int t = order[j];
			order[j] = order[j - 1];
			order[j - 1] = t;
			j--;
		}
		over[i] = 0;
	}
	for (int64_t a = from_ms, b; a < to_ms; a = b) {
		uint64_t pn, pe, left;
		double prev_q = 1;
		b = piece_end(m, a, to_ms);
		piece_counts(m, role, a, b, &pn, &pe);
		left = pn;
		for (int i = 0; i < n; i++) {
			double t = thresholds_ms[order[i]], q = metrics_sim_exceedance(m, role, t);
			uint64_t bits;
			struct rng r;
			memcpy(&bits, &t, sizeof(bits));
			stream(&r, m, role, DRAW_OVER, a, b, bits);
			left = prev_q > 0 ? rng_binomial(&r, left, q / prev_q > 1 ? 1 : q / prev_q) : 0;
			prev_q = q;
			over[order[i]] += left;
		}
	}
	return 0;
}

void metrics_sim_provider(struct metrics_sim *m, struct metrics_provider *out)
{
	memset(out, 0, sizeof(*out));
	out->ctx = m;
	out->query = sim_query;
	out->query_over = sim_query_over;
}
