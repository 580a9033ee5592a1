/*
 * seqtest.h - anytime-valid sequential tests on counts (docs/judge.md).
 *
 * Everything here is an e-process: a non-negative number E_n, 1 before any
 * data, whose expectation stays <= 1 under the null hypothesis however many
 * times it is looked at.  By Ville's inequality P(exists n: E_n >= 1/alpha)
 * <= alpha, so a judge may look after every interval and halt as soon as
 * E >= 1/alpha without inflating its false-halt rate (Wald 1945; Robbins
 * 1970; Johari et al. 2017, "always valid inference"; Lindon & Malek 2022,
 * "anytime-valid inference for multinomial count data").  Values are
 * returned as natural logarithms.
 *
 * Two kinds of data:
 *   - a two-sample stream: per batch (one analysis interval), canary n_c
 *     requests with x_c events (errors, or requests slower than a line)
 *     and stable n_s requests with x_s events.  Conditioned on the events,
 *     each event is the canary's with probability rho = n_c/(n_c+n_s) when
 *     both revisions have the same rate (Lindon & Malek's inhomogeneous
 *     Bernoulli process: the unknown, time-varying base rate cancels, and
 *     rho is known exactly per batch, so weights that change between steps
 *     are handled).  With binomial errors the attribution is hypergeometric,
 *     which is smaller in the convex order than the binomial (Hoeffding
 *     1963, theorem 4), so the likelihood ratios below stay supermartingales.
 *   - a one-sample count: n requests with x events against a fixed rate p0.
 *
 * Pure functions, no allocation, no I/O.
 */
#ifndef SLIPWAY_CORE_SEQTEST_H
#define SLIPWAY_CORE_SEQTEST_H

#include <stdint.h>

/* Rate ratios of the "canary worse" alternatives (the forward test and its mixture). */
#define SEQ_NFWD 6
extern const double seq_fwd_ratio[SEQ_NFWD];	/* 1.5, 2, 3, 5, 10, 30 */
/* Rate ratios a step may rule out (the reverse tests). */
#define SEQ_NREV 8
extern const double seq_rev_ratio[SEQ_NREV];	/* 1.25, 1.5, 2, 3, 5, 10, 20, 50 */

/* The cumulative state of one two-sample stream; all zero before any data. */
struct seq_stream {
	uint64_t nc, xc;	/* canary requests and events, all batches */
	uint64_t ns, xs;	/* stable requests and events, all batches */
	uint64_t pc, px;	/* canary requests and events in batches that had both revisions */
	double fwd[SEQ_NFWD];	/* log LR of "canary rate = r x stable rate" against "equal" */
	double rev[SEQ_NREV];	/* log LR of "equal" against "canary rate = R x stable rate" */
};

/*
 * Add one batch.  A batch where one revision had no requests carries no
 * comparative evidence (rho is 0 or 1): only the counts grow.  Events must
 * not exceed requests (clamped).
 */
void seq_stream_add(struct seq_stream *s, uint64_t nc, uint64_t xc, uint64_t ns, uint64_t xs);

/*
 * log E of the forward test of the error regression: the likelihood ratio
 * of "canary rate = r x stable rate" against "equal" at the grid ratio r
 * nearest `effect` (in log ratio; effect <= 1: 2), the policy's smallest
 * effect worth catching.  This is Wald's SPRT statistic for that effect
 * without its lower (accepting) boundary: among the e-processes of this
 * stream it grows fastest when the canary is `effect` times worse (Kelly's
 * criterion; Grunwald, de Heide & Koolen 2024, "safe testing"), so at the
 * effect it needs log(1/alpha) and no more, where a mixture pays the log of
 * its prior weight too (docs/judge.md).  Valid (E[E] <= 1) whenever the
 * canary's rate is at most the stable's in every batch.  A larger
 * regression still makes it grow (faster); a smaller one only when its
 * ratio is above about (effect - 1) / ln(effect) (1.44 for a doubling at a
 * small canary share, sqrt(effect) at a 50/50 split).
 */
double seq_fwd_log_e(const struct seq_stream *s, double effect);

/*
 * log E of the forward mixture sum_i w_i LR_i(r_i) over the grid: four
 * fifths of the prior weight on the grid ratio nearest `effect` and the rest
 * spread evenly, so it is within log(1/0.8) of the LR at the effect and
 * still fast for large ratios.  For streams whose ratio under a regression
 * is not the policy's error effect (requests slower than a latency line).
 * Valid as seq_fwd_log_e().
 */
double seq_fwd_mix_log_e(const struct seq_stream *s, double effect);

/*
 * log E of the reverse test for ratio R: evidence that the canary's rate is
 * NOT R times the stable's or more (a one-sided upper confidence bound on
 * the rate ratio).  Uses the smallest grid ratio >= R (R above the grid:
 * the largest).  Valid when the true ratio is >= that grid ratio.
 * *used, when not NULL, receives the grid ratio used.
 */
double seq_rev_log_e(const struct seq_stream *s, double R, double *used);

/*
 * One-sample test of "the canary's rate is above p0" (a fraction 0-1): the
 * mixture over p1 = m p0 for m in {1.25, 1.5, 2, 3, 5, 10} (capped below 1)
 * of the Bernoulli likelihood ratio p1 vs p0, with the weights of
 * seq_fwd_mix_log_e() around `effect`.  Valid for the composite null p <= p0
 * (the ratio is decreasing in p for p1 > p0).  p0 <= 0: any event is proof
 * (returns +INFINITY), none is no evidence (0).  p0 >= 1: returns 0.
 */
double seq_above_log_e(uint64_t n, uint64_t x, double p0, double effect);

/*
 * One-sample reverse test of "the canary's rate is q or more" (fraction):
 * the mixture, weights 0.9, 0.05 and 0.05, of the likelihood ratios of
 * p = q/4, q/2 and 0.8 q against p = q (log e-value).  Valid for p >= q.
 * With no events it grows by about 0.75 q per request (less log(1/0.9)); the
 * two small weights let it grow, more slowly, when the true rate is close
 * below q (up to about 0.9 q), where the q/4 alternative alone stalls: a
 * healthy canary alone at 100% (a rolling update) with a rate at 0.6 q paused
 * for lack of traffic after 60,000 requests.  q <= 0 or >= 1: 0.
 */
double seq_below_log_e(uint64_t n, uint64_t x, double q);

/*
 * The same with the alternatives p = q/2 and 0.8 q (weights 0.9 and 0.1;
 * valid for p >= q): slower with no events (about 0.5 q per request) but
 * growing faster when the true rate is close below q (the q/2 alternative up
 * to about q/1.45, the 0.8 q one up to about 0.9 q).
 */
double seq_below_half_log_e(uint64_t n, uint64_t x, double q);

/*
 * About how fast (log e per request) the "below q" mixture grows at the
 * true rate p (fractions): the best drift of its alternatives
 * (seq_below_log_e; half: seq_below_half_log_e's), 0 when none grows.  For
 * an estimate of the requests still needed, never for a decision.
 */
double seq_below_drift(double p, double q, int half);

/*
 * Anytime-valid confidence interval for a binomial rate from n trials with
 * x events at level 1-alpha: the set of p where the Beta(1,1) mixture
 * (Robbins 1970; Ding, Gandy & Hahn's confidence sequence method) does not
 * reject p, i.e. (n+1) C(n,x) p^x (1-p)^(n-x) >= alpha.  Fractions 0-1;
 * n == 0 gives [0, 1].
 */
void seq_rate_interval(uint64_t n, uint64_t x, double alpha, double *lo, double *hi);

/*
 * Wald's expected number of events (errors) a sequential test at level
 * alpha and power 1-beta needs, per event attributed with canary share rho,
 * to detect a rate ratio r: ((1-beta) log((1-beta)/alpha) + beta
 * log(beta/(1-alpha))) / KL(theta_r || rho) (Wald 1947, "Sequential
 * Analysis"; docs/judge.md).  Returns +INFINITY when rho is 0 or 1.
 */
double seq_wald_events(double rho, double r, double alpha, double beta);

/*
 * About how many more events the reverse test for ratio R needs to reach
 * log(1/beta) from where it is, if the two revisions are equal and the
 * canary keeps share rho: the remaining log distance over the expected
 * increment per event.  +INFINITY when it cannot get there (rho 0 or 1).
 */
double seq_rev_events_needed(const struct seq_stream *s, double R, double rho, double beta);

/* theta_r = rho r / (rho r + 1 - rho): the canary's share of events at rate ratio r. */
double seq_theta(double rho, double r);

#endif
