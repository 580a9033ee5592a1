/*
 * share.c - requested traffic shares to HAProxy server weights; see share.h.
 */
#include "core/share.h"
#include "base/err.h"
#include "base/strbuf.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* achieved shares of weights ws[] and the largest miss */
static double achieved(const struct share_want *w, size_t n, const int *ws, struct share_got *out)
{
	double total = 0, worst = 0;
	for (size_t i = 0; i < n; i++)
		total += (double)w[i].servers * ws[i];
	for (size_t i = 0; i < n; i++) {
		double a = total > 0 ? 100.0 * w[i].servers * ws[i] / total : 0;
		double miss = fabs(a - w[i].pct);
		out[i].server_weight = ws[i];
		out[i].pct = a;
		if (miss > worst)
			worst = miss;
	}
	return worst;
}

static int clamp_weight(double x, double pct)
{
	long v = lround(x);
	if (pct > 0 && v < 1)
		v = 1;
	if (!(pct > 0))
		v = 0;
	return v > SHARE_MAX_WEIGHT ? SHARE_MAX_WEIGHT : (int)v;
}

double share_plan(const struct share_want *w, size_t n, struct share_got *out)
{
	int *ws = calloc(n ? n : 1, sizeof(*ws)), *best = calloc(n ? n : 1, sizeof(*best));
	struct share_got *tmp = calloc(n ? n : 1, sizeof(*tmp));
	double qmax = 0, err, best_err;
	int found = 0;

	for (size_t i = 0; i < n; i++) {
		ws[i] = w[i].servers > 0 ? clamp_weight(2.0 * w[i].pct / w[i].servers, w[i].pct) : 0;
		if (w[i].servers > 0 && w[i].pct / w[i].servers > qmax)
			qmax = w[i].pct / w[i].servers;
	}
	best_err = achieved(w, n, ws, out);
	if (best_err > SHARE_TOLERANCE_PP && qmax > 0) {
		/* the per-server share qmax gets weight s: every other in proportion */
		for (int s = 1; s <= SHARE_MAX_WEIGHT; s++) {
			for (size_t i = 0; i < n; i++)
				ws[i] = w[i].servers > 0 ? clamp_weight(s * (w[i].pct / w[i].servers) / qmax, w[i].pct) : 0;
			err = achieved(w, n, ws, tmp);
			if (err < best_err - 1e-12) {
				best_err = err;
				found = 1;
				for (size_t i = 0; i < n; i++)
					best[i] = ws[i];
			}
		}
		if (found)
			achieved(w, n, best, out);
	}
	free(ws);
	free(best);
	free(tmp);
	return best_err;
}

static void add_pct(struct strbuf *out, double p)
{
	char buf[32];
	int len = snprintf(buf, sizeof(buf), "%.2f", p);
	while (len > 0 && buf[len - 1] == '0')
		buf[--len] = '\0';
	if (len > 0 && buf[len - 1] == '.')
		buf[--len] = '\0';
	strbuf_addf(out, "%s%%", buf);
}

void share_format(const struct share_want *w, const struct share_got *got, size_t n, struct strbuf *out)
{
	for (size_t i = 0; i < n; i++) {
		strbuf_addf(out, "%s%s ", i ? ", " : "", w[i].name ? w[i].name : "?");
		add_pct(out, got[i].pct);
	}
}

int share_fit(const struct share_want *w, size_t n, int round, struct share_got *out, struct strbuf *err)
{
	double sum = 0, miss;
	for (size_t i = 0; i < n; i++) {
		if (!(w[i].pct >= 0 && w[i].pct <= 100)) {
			strbuf_errf(err, "the share of '%s' must be 0 to 100 percent", w[i].name ? w[i].name : "?");
			return SW_EUSAGE;
		}
		sum += w[i].pct;
	}
	if (sum != 0 && fabs(sum - 100) > 0.001) {
		struct strbuf s = STRBUF_INIT;
		add_pct(&s, sum);
		strbuf_errf(err, "the shares add up to %s, not 100%%: give every revision's share so that they add up to "
			    "100 (revisions not named get 0)", s.buf);
		strbuf_release(&s);
		return SW_EUSAGE;
	}
	miss = share_plan(w, n, out);
	if (miss > SHARE_TOLERANCE_PP && !round) {
		struct strbuf want = STRBUF_INIT, got = STRBUF_INIT;
		for (size_t i = 0; i < n; i++) {
			strbuf_addf(&want, "%s%s ", i ? ", " : "", w[i].name ? w[i].name : "?");
			add_pct(&want, w[i].pct);
		}
		share_format(w, out, n, &got);
		strbuf_errf(err, "HAProxy cannot split traffic as %s within %.2f percentage points (server weights are "
			    "whole numbers up to %d); the nearest achievable shares are %s", want.buf, SHARE_TOLERANCE_PP, SHARE_MAX_WEIGHT, got.buf);
		strbuf_release(&want);
		strbuf_release(&got);
		return SW_EUSAGE;
	}
	return 0;
}
