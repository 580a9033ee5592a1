/*
 * rng.h - a small deterministic random number generator and the samplers a
 * traffic simulation needs (`slipway simulate`, docs/simulate.md).  No
 * global state: every stream is a struct rng the caller owns, so a seed
 * reproduces a run exactly on every platform with IEEE doubles.
 *
 * Sources of the algorithms (all standard; implemented from the papers'
 * descriptions):
 *   - xoshiro256** 1.0 and splitmix64: Blackman and Vigna, "Scrambled
 *     linear pseudorandom number generators" (2018), prng.di.unimi.it
 *   - normal: Marsaglia's polar method (Marsaglia and Bray 1964)
 *   - gamma: Marsaglia and Tsang, "A simple method for generating gamma
 *     variables", ACM TOMS 26(3), 2000
 *   - Poisson: inversion by sequential search for small means; PTRS
 *     (transformed rejection with squeeze), Hoermann, "The transformed
 *     rejection method for generating Poisson random variables", Insurance:
 *     Mathematics and Economics 12, 1993
 *   - binomial: inversion for small n*p; BTRS, Hoermann, "The generation of
 *     binomial random variates", J. Stat. Comput. Simul. 46, 1993
 *   - inverse normal CDF: Acklam's rational approximation (relative error
 *     1.15e-9) refined by one Halley step on erfc() from libm
 */
#ifndef SLIPWAY_BASE_RNG_H
#define SLIPWAY_BASE_RNG_H

#include <stdint.h>

struct rng {
	uint64_t s[4];		/* xoshiro256** state; never all zero */
};

/*
 * Seed *r from the words key[0..n): the words are mixed with splitmix64,
 * so nearby keys (seed 1, 2, ...; interval 5, 6, ...) give unrelated
 * streams.  Never fails.
 */
void rng_seed(struct rng *r, const uint64_t *key, int n);

uint64_t rng_next(struct rng *r);
/* Uniform on the open interval (0, 1): never exactly 0 or 1 (53 bits). */
double rng_uniform(struct rng *r);
/* Standard normal N(0, 1). */
double rng_normal(struct rng *r);
/* Gamma(shape, 1), shape > 0 (shape 0 returns 0).  Mean = variance = shape. */
double rng_gamma(struct rng *r, double shape);
/* Poisson(mean), mean >= 0 (<= 1e12). */
uint64_t rng_poisson(struct rng *r, double mean);
/* Binomial(n, p), 0 <= p <= 1. */
uint64_t rng_binomial(struct rng *r, uint64_t n, double p);

/*
 * The standard normal quantile: z with Phi(z) = p, for 0 < p < 1 (returns
 * -INFINITY / INFINITY at 0 / 1).  Accurate to about 1e-15 relative.
 */
double normal_quantile(double p);
/* Upper tail of the standard normal: 1 - Phi(z), accurate in the far tail. */
double normal_upper(double z);

#endif
