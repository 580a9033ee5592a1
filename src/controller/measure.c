/*
 * measure.c - one interval's canary and stable samples from a provider; see
 * measure.h.  Kept apart from the controller so that the replay in
 * `slipway analyze` measures exactly as the live loop does.
 */
#include "controller/measure.h"
#include "base/err.h"
#include "base/strbuf.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* span: the queried range, unless the provider says its counts cover another
   (a trace's row longer than the look: metrics-t.h, metrics_trace.h) */
static void to_judge(const struct metrics_sample *m, int64_t span, struct judge_sample *j)
{
	j->requests = m->requests;
	j->errors = m->errors;
	j->p50_ms = m->requests ? m->p50_ms : NAN;
	j->p99_ms = m->requests ? m->p99_ms : NAN;
	j->span_ms = m->to_ms > m->from_ms ? m->to_ms - m->from_ms : span;
}

int measure_interval(const struct metrics_provider *p, const struct deployment *d, int64_t from_ms,
		     int64_t to_ms, int64_t interval_ms, double weight, int idle, struct analysis_input *out)
{
	struct metrics_sample cs, ss;
	struct strbuf err = STRBUF_INIT;
	int r1, r2;

	memset(out, 0, sizeof(*out));
	out->from_ms = from_ms;
	out->to_ms = to_ms;
	out->weight = weight;
	out->idle = idle;
	out->canary.p50_ms = out->canary.p99_ms = NAN;
	out->stable.p50_ms = out->stable.p99_ms = NAN;
	out->baseline = d->baseline;
	memset(&cs, 0, sizeof(cs));
	memset(&ss, 0, sizeof(ss));
	if (!p || !p->query) {
		snprintf(out->provider_error, sizeof(out->provider_error), "no metrics provider");
		return 0;
	}
	r1 = p->query(p->ctx, d->service, ROLE_CANARY, d->version, from_ms, to_ms, &cs, &err);
	r2 = p->query(p->ctx, d->service, ROLE_STABLE, d->from_version, from_ms, to_ms, &ss, &err);
	if (r1 < 0 && r1 != SW_ENOTFOUND) {
		snprintf(out->provider_error, sizeof(out->provider_error), "%s", err.buf[0] ? err.buf : "query failed");
		strbuf_release(&err);
		return 0;
	}
	out->have_samples = 1;
	if (r1 >= 0)
		to_judge(&cs, to_ms - from_ms, &out->canary);
	if (r2 >= 0)
		to_judge(&ss, to_ms - from_ms, &out->stable);
	/* the stable over a whole interval, for the lines' refinement (judge.h) */
	out->refine.p50_ms = out->refine.p99_ms = NAN;
	if (r2 >= 0 && d->ev.have_lines && interval_ms > 0 && d->ev.refined_to_ms > 0 &&
	    to_ms - d->ev.refined_to_ms >= interval_ms) {
		/* pooled: the stable since the warm-up began, one sample (judge_evidence_pool_lines) */
		struct metrics_sample rs;
		int64_t pf = d->ev.pool_from_ms > 0 && d->ev.pool_from_ms < to_ms ? d->ev.pool_from_ms :
			     to_ms - interval_ms;
		memset(&rs, 0, sizeof(rs));
		if (p->query(p->ctx, d->service, ROLE_STABLE, d->from_version, pf, to_ms, &rs, &err) >= 0) {
			to_judge(&rs, to_ms - pf, &out->refine);
			out->refine_pooled = d->ev.pool_from_ms > 0;
		}
	}
	/* per-request exceedances of the evidence's fixed latency lines (sequential judge) */
	if (p->query_over) {
		double th[JUDGE_NLINES];
		int n = JUDGE_NLINES, ok = 1;
		for (int i = 0; i < n; i++)
			th[i] = d->ev.line_ms[i] > 0 ? d->ev.line_ms[i] : 1e12;
		if (d->ev.have_lines || d->ev.line_ms[JUDGE_LINE_CHECK] > 0) {
			if (r1 >= 0 && cs.requests &&
			    p->query_over(p->ctx, d->service, ROLE_CANARY, d->version, from_ms, to_ms, th, n,
					  out->batch.over_c, &err) < 0)
				ok = 0;
			if (ok && r2 >= 0 && ss.requests &&
			    p->query_over(p->ctx, d->service, ROLE_STABLE, d->from_version, from_ms, to_ms, th, n,
					  out->batch.over_s, &err) < 0)
				ok = 0;
			out->batch.have_over = ok;
		}
	}
	strbuf_release(&err);
	return 0;
}
