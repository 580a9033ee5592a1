/*
 * seqtest.c - the e-processes of seqtest.h.  Each is a likelihood ratio
 * (or a fixed mixture of them) accumulated as a sum of logarithms; the
 * mixtures are combined with log-sum-exp so that long runs neither
 * overflow nor underflow.  Formulas and sources: docs/judge.md.
 */
#include "core/seqtest.h"

#include <math.h>

const double seq_fwd_ratio[SEQ_NFWD] = { 1.5, 2, 3, 5, 10, 30 };
const double seq_rev_ratio[SEQ_NREV] = { 1.25, 1.5, 2, 3, 5, 10, 20, 50 };
/* the prior weight on the grid point nearest the policy's effect (docs/judge.md, "the statistics") */
#define SEQ_W 0.8
static const double above_mult[SEQ_NFWD] = { 1.25, 1.5, 2, 3, 5, 10 };

double seq_theta(double rho, double r)
{
	return rho * r / (rho * r + 1.0 - rho);
}

void seq_stream_add(struct seq_stream *s, uint64_t nc, uint64_t xc, uint64_t ns, uint64_t xs)
{
	double rho;

	if (xc > nc)
		xc = nc;
	if (xs > ns)
		xs = ns;
	s->nc += nc;
	s->xc += xc;
	s->ns += ns;
	s->xs += xs;
	if (nc && ns) {
		s->pc += nc;
		s->px += xc;
	}
	if (!nc || !ns || !(xc + xs))
		return;
	rho = (double)nc / ((double)nc + (double)ns);
	for (int i = 0; i < SEQ_NFWD; i++) {
		double th = seq_theta(rho, seq_fwd_ratio[i]);
		s->fwd[i] += (double)xc * log(th / rho) + (double)xs * log((1.0 - th) / (1.0 - rho));
	}
	for (int i = 0; i < SEQ_NREV; i++) {
		double th = seq_theta(rho, seq_rev_ratio[i]);
		s->rev[i] += (double)xc * log(rho / th) + (double)xs * log((1.0 - rho) / (1.0 - th));
	}
}

/* The grid point nearest `effect` (in log ratio); effect <= 1 means 2. */
static int nearest(const double *grid, int n, double effect)
{
	int best = 0;
	double bd = INFINITY;

	if (!(effect > 1))
		effect = 2;
	for (int i = 0; i < n; i++) {
		double dd = fabs(log(grid[i] / effect));
		if (dd < bd) {
			bd = dd;
			best = i;
		}
	}
	return best;
}

/* Prior weights: SEQ_W on the grid point nearest `effect`, the rest even. */
static void weights(const double *grid, int n, double effect, double *w)
{
	int best = nearest(grid, n, effect);

	for (int i = 0; i < n; i++)
		w[i] = i == best ? SEQ_W : (1 - SEQ_W) / (n - 1);
}

static double log_mix(const double *logv, const double *w, int n)
{
	double m = -INFINITY, sum = 0;
	for (int i = 0; i < n; i++)
		if (logv[i] > m)
			m = logv[i];
	if (m == INFINITY)
		return INFINITY;
	if (m == -INFINITY)
		return -INFINITY;
	for (int i = 0; i < n; i++)
		sum += w[i] * exp(logv[i] - m);
	return m + log(sum);
}

double seq_fwd_log_e(const struct seq_stream *s, double effect)
{
	return s->fwd[nearest(seq_fwd_ratio, SEQ_NFWD, effect)];
}

double seq_fwd_mix_log_e(const struct seq_stream *s, double effect)
{
	double w[SEQ_NFWD];
	weights(seq_fwd_ratio, SEQ_NFWD, effect, w);
	return log_mix(s->fwd, w, SEQ_NFWD);
}

double seq_rev_log_e(const struct seq_stream *s, double R, double *used)
{
	int i = 0;
	while (i < SEQ_NREV - 1 && seq_rev_ratio[i] < R - 1e-9)
		i++;
	if (used)
		*used = seq_rev_ratio[i];
	return s->rev[i];
}

double seq_above_log_e(uint64_t n, uint64_t x, double p0, double effect)
{
	double w[SEQ_NFWD], lv[SEQ_NFWD];

	if (x > n)
		x = n;
	if (p0 <= 0)
		return x ? INFINITY : 0;
	if (p0 >= 1)
		return 0;
	weights(above_mult, SEQ_NFWD, effect, w);
	for (int i = 0; i < SEQ_NFWD; i++) {
		double p1 = above_mult[i] * p0, cap = 1.0 - (1.0 - p0) / 2.0;
		if (p1 > cap)
			p1 = cap;
		lv[i] = (double)x * log(p1 / p0) + (double)(n - x) * log((1.0 - p1) / (1.0 - p0));
	}
	return log_mix(lv, w, SEQ_NFWD);
}

/*
 * The likelihood ratios of p = m q against p = q, mixed with weights w: each
 * is a nonnegative supermartingale while p >= q (mq < q), so their weighted
 * mean is an e-process for p >= q.  The first alternative carries most of the
 * weight; the others keep the mixture growing when the true rate is close
 * below q, where the first one stalls (its drift is negative for a rate above
 * about 0.54 q with m = 1/4, 0.72 q with m = 1/2).
 */
static double below_mix(uint64_t n, uint64_t x, double q, const double *m, const double *w, int k)
{
	double lv[4];
	if (x > n)
		x = n;
	if (q <= 0 || q >= 1)
		return 0;
	for (int i = 0; i < k; i++) {
		double pa = m[i] * q;
		lv[i] = (double)x * log(m[i]) + (double)(n - x) * log((1.0 - pa) / (1.0 - q));
	}
	return log_mix(lv, w, k);
}

/* the alternatives of the "below q" mixtures, as multiples of q; the half variant starts at q/2 */
static const double below_m[3] = { 0.25, 0.5, 0.8 };

double seq_below_log_e(uint64_t n, uint64_t x, double q)
{
	static const double w[3] = { 0.9, 0.05, 0.05 };
	return below_mix(n, x, q, below_m, w, 3);
}

double seq_below_half_log_e(uint64_t n, uint64_t x, double q)
{
	static const double w[2] = { 0.9, 0.1 };
	return below_mix(n, x, q, below_m + 1, w, 2);
}

double seq_below_drift(double p, double q, int half)
{
	double best = 0;
	if (!(q > 0 && q < 1))
		return 0;
	for (int i = half ? 1 : 0; i < 3; i++) {
		double d = (1 - p) * log((1 - below_m[i] * q) / (1 - q)) + p * log(below_m[i]);
		if (d > best)
			best = d;
	}
	return best;
}

/* log of (n+1) C(n,x) p^x (1-p)^(n-x) */
/* log of (n+1) C(n,x) p^x (1-p)^(n-x), with c = log((n+1) C(n,x)) computed once by the caller */
static double beta_mix_log(double c, uint64_t n, uint64_t x, double p)
{
	double dn = (double)n, dx = (double)x, l = c;
	if (x)
		l += dx * log(p);
	if (n - x)
		l += (dn - dx) * log1p(-p);
	return l;
}

/*
 * The last interval computed, per thread: one look asks for the same stream's
 * interval once per criterion, and the bisection is most of a look's cost in
 * a simulation at high traffic (docs/judge.md, "Looks").  Pure: a cache of a
 * function of its arguments.
 */
static _Thread_local struct {
	int have;
	uint64_t n, x;
	double alpha, lo, hi;
} last_interval;

void seq_rate_interval(uint64_t n, uint64_t x, double alpha, double *lo, double *hi)
{
	double la = log(alpha), ph, c;

	if (x > n)
		x = n;
	*lo = 0;
	*hi = 1;
	if (!n)
		return;
	if (last_interval.have && last_interval.n == n && last_interval.x == x && last_interval.alpha == alpha) {
		*lo = last_interval.lo;
		*hi = last_interval.hi;
		return;
	}
	/* the binomial coefficient does not depend on p: once, not at every bisection step */
	c = lgamma((double)n + 2) - lgamma((double)x + 1) - lgamma((double)(n - x) + 1);
	ph = (double)x / (double)n;
	if (x) {
		double a = 0, b = ph;
		for (int i = 0; i < 60; i++) {
			double m = (a + b) / 2;
			if (beta_mix_log(c, n, x, m) >= la)
				b = m;
			else
				a = m;
		}
		*lo = a;
	}
	if (x < n) {
		double a = ph, b = 1;
		for (int i = 0; i < 60; i++) {
			double m = (a + b) / 2;
			if (beta_mix_log(c, n, x, m) >= la)
				a = m;
			else
				b = m;
		}
		*hi = b;
	}
	last_interval.have = 1;
	last_interval.n = n;
	last_interval.x = x;
	last_interval.alpha = alpha;
	last_interval.lo = *lo;
	last_interval.hi = *hi;
}

static double kl(double a, double b)
{
	double v = 0;
	if (a > 0)
		v += a * log(a / b);
	if (a < 1)
		v += (1 - a) * log((1 - a) / (1 - b));
	return v;
}

double seq_wald_events(double rho, double r, double alpha, double beta)
{
	double th;
	if (!(rho > 0 && rho < 1))
		return INFINITY;
	th = seq_theta(rho, r);
	return ((1 - beta) * log((1 - beta) / alpha) + beta * log(beta / (1 - alpha))) / kl(th, rho);
}

double seq_rev_events_needed(const struct seq_stream *s, double R, double rho, double beta)
{
	double used, have = seq_rev_log_e(s, R, &used), need = log(1.0 / beta) - have;
	if (need <= 0)
		return 0;
	if (!(rho > 0 && rho < 1))
		return INFINITY;
	return need / kl(rho, seq_theta(rho, used));
}
