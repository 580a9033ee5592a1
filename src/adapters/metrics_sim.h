/*
 * metrics_sim.h - a generative metrics provider: traffic drawn from a model
 * instead of measured (`slipway simulate`, docs/simulate.md).
 *
 * The model, per revision (stable, canary):
 *   - arrivals: the service gets rpm requests per minute, Poisson; the
 *     canary gets the share of them the router gives it at each instant (set
 *     by the caller with metrics_sim_set_share() as the engine moves the
 *     weight), the stable the rest.  By Poisson thinning the two counts of
 *     a range are independent Poisson variables with means
 *     rpm/60000 * integral of share (or 1 - share) over the range in ms.
 *   - errors: each request fails independently with the revision's error
 *     rate: Binomial(requests, rate).
 *   - latency: each request's latency is lognormal, independent of the
 *     rest: median latency_median_ms and 99th percentile latency_p99_ms for
 *     the stable, both times latency_ratio for the canary.
 *
 * Time is cut into cells of cell_ms (the analysis interval) from t = 0.
 * Each cell's counts for a revision are drawn from a stream seeded with
 * (seed, revision, cell), so a query is deterministic, a repeated query
 * answers the same, and a query over several whole cells answers the sum
 * of theirs.  A query covering part of a cell draws that part on its own
 * (not consistent with the whole cell; callers on the analysis schedule
 * never do it).
 *
 * Percentiles are not computed from n latencies (too slow at 100,000
 * requests/min) but drawn as the sample's order statistics: with n
 * requests, the nearest-rank q-quantile is the k-th smallest latency, k =
 * ceil(q n), and the k-th smallest of n uniforms U(k) is the ratio of sums
 * of exponential spacings (Gamma(k) over Gamma(n + 1)).  p50, p90, p99 and
 * max are drawn jointly from one set of spacings, so they are ordered and
 * exactly distributed as a real sample's (a p99 of 50 requests is the
 * maximum, and noisy like one); latency = exp(mu + sigma Phi^-1(U)).
 *
 * query_over() counts requests above thresholds as Binomial(requests,
 * 1 - F(threshold)) with F the revision's lognormal CDF, nested for
 * several thresholds (the count above a larger threshold is drawn from the
 * count above the smaller one), so counts are ordered.  They are not
 * conditioned on the percentiles query() reported for the same range.
 */
#ifndef SLIPWAY_ADAPTERS_METRICS_SIM_H
#define SLIPWAY_ADAPTERS_METRICS_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "core/metrics-t.h"

struct metrics_sim_params {
	double rpm;			/* requests per minute to the service, > 0 */
	double stable_error_rate;	/* fraction 0-1 (0.01 = 1%) */
	double canary_error_rate;	/* fraction 0-1 */
	double latency_median_ms;	/* stable's median, ms (45) */
	double latency_p99_ms;		/* stable's p99, ms (200); > median */
	double latency_ratio;		/* canary latency = stable latency x ratio (1) */
	int64_t cell_ms;		/* drawing grid, ms; the analysis interval (60000) */
};

struct metrics_sim_share {
	int64_t at_ms;
	double share;			/* canary fraction 0-1 of the service's requests from at_ms on */
};

struct metrics_sim {
	struct metrics_sim_params p;
	uint64_t seed;
	double mu[2], sigma;		/* lognormal of ln(latency ms), by enum revision_role */
	struct metrics_sim_share *shares;	/* sorted by at_ms; share 0 before the first */
	size_t n_shares, alloc;
};

/*
 * Set up *m for one simulated run with `seed`.  p is copied; the caller
 * checks it (rpm > 0, rates within 0-1, median > 0, p99 > median, ratio >
 * 0, cell_ms > 0).  Never fails.  Release with metrics_sim_release().
 */
void metrics_sim_init(struct metrics_sim *m, const struct metrics_sim_params *p, uint64_t seed);
void metrics_sim_release(struct metrics_sim *m);

/*
 * From at_ms on, the canary gets `share` (0-1) of the requests.  Calls come
 * in time order (an earlier at_ms than the last is treated as the last;
 * the same at_ms replaces it).
 */
void metrics_sim_set_share(struct metrics_sim *m, int64_t at_ms, double share);

/* The canary's mean share over [from_ms, to_ms), 0-1. */
double metrics_sim_mean_share(const struct metrics_sim *m, int64_t from_ms, int64_t to_ms);

/*
 * The provider (query and query_over, metrics-t.h): ctx is m, which must
 * outlive it.  Any service and version; the role picks the revision.
 */
void metrics_sim_provider(struct metrics_sim *m, struct metrics_provider *out);

/* The revision's probability that a request is slower than t_ms (lognormal upper tail). */
double metrics_sim_exceedance(const struct metrics_sim *m, enum revision_role role, double t_ms);

#endif
