/*
 * rng.c - xoshiro256** and the samplers built on it; see rng.h for the
 * sources.  Everything here is a pure function of the stream's state, so a
 * simulation seeded the same way draws the same numbers.
 *
 * The rejection samplers (PTRS, BTRS, Marsaglia-Tsang) run in constant
 * expected time whatever the mean, which is what lets `slipway simulate`
 * draw one interval of 100,000 requests/min as cheaply as one of 100.
 */
#include "base/rng.h"

#include <math.h>

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void rng_seed(struct rng *r, const uint64_t *key, int n)
{
	uint64_t x = 0x243f6a8885a308d3ULL;	/* any fixed start; pi's digits */

	for (int i = 0; i < n; i++) {
		x ^= key[i];
		x = splitmix64(&x);
	}
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
	if (!(r->s[0] | r->s[1] | r->s[2] | r->s[3]))
		r->s[0] = 1;
}

uint64_t rng_next(struct rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

double rng_uniform(struct rng *r)
{
	/* the top 53 bits, shifted by half a unit: (k + 0.5) / 2^53 is in (0, 1) */
	return ((double)(rng_next(r) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

double rng_normal(struct rng *r)
{
	double u, v, s;

	do {
		u = 2.0 * rng_uniform(r) - 1.0;
		v = 2.0 * rng_uniform(r) - 1.0;
		s = u * u + v * v;
	} while (s >= 1.0 || s == 0.0);
	/* the second variate (v * factor) is dropped: streams stay stateless */
	return u * sqrt(-2.0 * log(s) / s);
}

double rng_gamma(struct rng *r, double shape)
{
	double d, c, x, v, u;

	if (!(shape > 0))
		return 0;
	if (shape < 1) {
		/* Gamma(a) = Gamma(a + 1) * U^(1/a) (Marsaglia and Tsang, section 6) */
		return rng_gamma(r, shape + 1.0) * pow(rng_uniform(r), 1.0 / shape);
	}
	if (shape == 1)
		return -log(rng_uniform(r));
	d = shape - 1.0 / 3.0;
	c = 1.0 / sqrt(9.0 * d);
	for (;;) {
		do {
			x = rng_normal(r);
			v = 1.0 + c * x;
		} while (v <= 0);
		v = v * v * v;
		u = rng_uniform(r);
		if (u < 1.0 - 0.0331 * x * x * x * x)
			return d * v;
		if (log(u) < 0.5 * x * x + d * (1.0 - v + log(v)))
			return d * v;
	}
}

/* mean < 10: inversion by sequential search (expected mean + 1 steps) */
static uint64_t poisson_small(struct rng *r, double mean)
{
	double p = exp(-mean), s = p, u = rng_uniform(r);
	uint64_t k = 0;

	while (u > s && k < 1000) {
		k++;
		p *= mean / (double)k;
		s += p;
	}
	return k;
}

uint64_t rng_poisson(struct rng *r, double mean)
{
	double slam, loglam, a, b, invalpha, vr, u, v, us, k;

	if (!(mean > 0))
		return 0;
	if (mean < 10)
		return poisson_small(r, mean);
	/* PTRS: a transformed-rejection proposal with a cheap squeeze region */
	slam = sqrt(mean);
	loglam = log(mean);
	b = 0.931 + 2.53 * slam;
	a = -0.059 + 0.02483 * b;
	invalpha = 1.1239 + 1.1328 / (b - 3.4);
	vr = 0.9277 - 3.6224 / (b - 2);
	for (;;) {
		u = rng_uniform(r) - 0.5;
		v = rng_uniform(r);
		us = 0.5 - fabs(u);
		k = floor((2 * a / us + b) * u + mean + 0.43);
		if (us >= 0.07 && v <= vr)
			return (uint64_t)k;
		if (k < 0 || (us < 0.013 && v > us))
			continue;
		if (log(v) + log(invalpha) - log(a / (us * us) + b) <= -mean + k * loglam - lgamma(k + 1))
			return (uint64_t)k;
	}
}

/* n * p < 10 (p <= 0.5): inversion by sequential search from 0 */
static uint64_t binomial_small(struct rng *r, uint64_t n, double p)
{
	double q = 1.0 - p, ratio = p / q, f = pow(q, (double)n), s = f, u = rng_uniform(r);
	uint64_t k = 0;

	while (u > s && k < n) {
		f *= ratio * (double)(n - k) / (double)(k + 1);
		k++;
		s += f;
		if (f < 1e-300 && s < u)	/* rounding left u above the total: take the last */
			break;
	}
	return k;
}

/* BTRS for n * p >= 10 (p <= 0.5) */
static uint64_t binomial_btrs(struct rng *r, uint64_t n, double p)
{
	double nd = (double)n, q = 1.0 - p, spq = sqrt(nd * p * q);
	double b = 1.15 + 2.53 * spq, a = -0.0873 + 0.0248 * b + 0.01 * p, c = nd * p + 0.5;
	double vr = 0.92 - 4.2 / b, alpha = (2.83 + 5.1 / b) * spq, lpq = log(p / q);
	double m = floor((nd + 1) * p), h = lgamma(m + 1) + lgamma(nd - m + 1);
	double u, v, us, k;

	for (;;) {
		u = rng_uniform(r) - 0.5;
		v = rng_uniform(r);
		us = 0.5 - fabs(u);
		k = floor((2 * a / us + b) * u + c);
		if (k < 0 || k > nd)
			continue;
		if (us >= 0.07 && v <= vr)
			return (uint64_t)k;
		v = log(v * alpha / (a / (us * us) + b));
		if (v <= h - lgamma(k + 1) - lgamma(nd - k + 1) + (k - m) * lpq)
			return (uint64_t)k;
	}
}

uint64_t rng_binomial(struct rng *r, uint64_t n, double p)
{
	if (n == 0 || !(p > 0))
		return 0;
	if (p >= 1)
		return n;
	if (p > 0.5)
		return n - rng_binomial(r, n, 1.0 - p);
	if ((double)n * p < 10)
		return binomial_small(r, n, p);
	return binomial_btrs(r, n, p);
}

double normal_upper(double z)
{
	return 0.5 * erfc(z / M_SQRT2);
}

double normal_quantile(double p)
{
	/* Acklam's coefficients: central region and tails */
	static const double a[] = { -3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
				    1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00 };
	static const double b[] = { -5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
				    6.680131188771972e+01, -1.328068155288572e+01 };
	static const double c[] = { -7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
				    -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00 };
	static const double d[] = { 7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
				    3.754408661907416e+00 };
	const double plow = 0.02425;
	double q, x, rr, e;

	if (!(p > 0))
		return -INFINITY;
	if (!(p < 1))
		return INFINITY;
	if (p < plow) {
		q = sqrt(-2 * log(p));
		x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
		    ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
	} else if (p <= 1 - plow) {
		q = p - 0.5;
		rr = q * q;
		x = (((((a[0] * rr + a[1]) * rr + a[2]) * rr + a[3]) * rr + a[4]) * rr + a[5]) * q /
		    (((((b[0] * rr + b[1]) * rr + b[2]) * rr + b[3]) * rr + b[4]) * rr + 1);
	} else {
		q = sqrt(-2 * log1p(-p));
		x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
		    ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
	}
	/* one Halley step on Phi(x) - p, computed from the nearer tail for accuracy */
	if (x < 0)
		e = 0.5 * erfc(-x / M_SQRT2) - p;
	else
		e = (1 - p) - 0.5 * erfc(x / M_SQRT2);
	{
		double u = e * sqrt(2 * M_PI) * exp(x * x / 2);
		x = x - u / (1 + x * u / 2);
	}
	return x;
}
