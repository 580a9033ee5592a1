/*
 * share.h - the traffic shares HAProxy can actually deliver (docs/haproxy.md
 * "Shares").  A revision's share is carried by its servers' weights, whole
 * numbers 0-256 per server (HAProxy 2.6 configuration manual, 5.2 "weight";
 * management guide 9.3 "set server ... weight"), and `balance roundrobin`
 * sends each server weight / (sum of weights) of the requests.  So only
 * some shares exist: 0.1% next to 99.9% on one server each is not one of
 * them (the nearest is 1/257 = 0.39%).  This module maps requested shares
 * to server weights and says which share is achieved.  Pure: no I/O.
 */
#ifndef SLIPWAY_CORE_SHARE_H
#define SLIPWAY_CORE_SHARE_H

#include <stddef.h>

struct strbuf;

/* An achieved share may differ from the requested one by this much, in
 * percentage points; more is refused (or rounded when asked). */
#define SHARE_TOLERANCE_PP 0.05
/* HAProxy's largest server weight. */
#define SHARE_MAX_WEIGHT 256

struct share_want {
	const char *name;	/* the revision, for messages (borrowed) */
	double pct;		/* requested percent, 0-100 */
	int servers;		/* its servers (>= 1 when pct > 0) */
};

struct share_got {
	int server_weight;	/* HAProxy weight of each of its servers, 0-256 */
	double pct;		/* the share that weight delivers, percent */
};

/*
 * The server weights for w[0..n): the conventional ones first (each of k
 * servers of a revision with p percent gets round(2 p / k), at least 1 when
 * p > 0: 200 in all is 100%), and when they miss a share by more than
 * SHARE_TOLERANCE_PP, the weights (the largest per-server share scaled to
 * 1..256) that come nearest; a share above 0 never becomes 0.  out[i] for
 * w[i].  Returns the largest |achieved - requested| in percentage points.
 * Shares are taken as given (see share_fit for the checks).
 */
double share_plan(const struct share_want *w, size_t n, struct share_got *out);

/*
 * share_plan with the checks a request needs: every share 0-100, and the
 * shares add up to 100 (within 0.001; or all are 0: nothing is served).
 * A plan that misses a share by more than SHARE_TOLERANCE_PP is refused
 * unless round is set.  Returns 0 (out filled), SW_EUSAGE with a message
 * in err naming the sum or the nearest achievable shares
 * ("v1 99.61%, v2 0.39%").
 */
int share_fit(const struct share_want *w, size_t n, int round, struct share_got *out, struct strbuf *err);

/* Append "NAME P%, NAME P%" of the achieved shares (P to 2 decimals, trailing zeros cut). */
void share_format(const struct share_want *w, const struct share_got *got, size_t n, struct strbuf *out);

#endif
