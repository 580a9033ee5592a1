/*
 * judge.c - the observed-rate judge (see judge.h).  It takes the interval's
 * numbers at face value; its only defence against noise is the minimum
 * number of canary requests, below which it says "inconclusive" rather than
 * guessing (slipway differs from Flagger here on purpose: no data is not a
 * silent failed check).
 */
#include "core/judge.h"
#include "base/err.h"

#include <math.h>
#include <stdio.h>

double judge_error_rate(const struct judge_sample *s)
{
	if (!s || !s->requests)
		return NAN;
	return 100.0 * (double)s->errors / (double)s->requests;
}

static double metric_value(const struct judge_sample *s, enum judge_metric m)
{
	if (!s)
		return NAN;
	return m == JUDGE_ERROR_RATE ? judge_error_rate(s) : (s->requests ? s->p99_ms : NAN);
}

int judge_observed_decide(void *ctx, const struct judge_question *q, struct judge_verdict *out)
{
	uint64_t min = ctx ? *(const uint64_t *)ctx : 1;
	double cv, bv = NAN, limit;

	if (!q || !q->canary || !out)
		return SW_EUSAGE;
	if (min < 1)
		min = 1;
	out->canary_requests = q->canary->requests;
	out->why[0] = '\0';
	cv = metric_value(q->canary, q->metric);
	out->canary_value = cv;
	out->baseline_value = NAN;
	out->limit_value = q->limit;
	if (q->canary->requests < min || isnan(cv)) {
		out->outcome = JUDGE_INCONCLUSIVE;
		snprintf(out->why, sizeof(out->why), "canary %llu requests < %llu minimum",
			 (unsigned long long)q->canary->requests, (unsigned long long)min);
		return 0;
	}
	if (q->test == JUDGE_ABOVE_LIMIT) {
		limit = q->limit;
	} else {
		bv = metric_value(q->baseline, q->metric);
		out->baseline_value = bv;
		if (isnan(bv) || (q->test == JUDGE_RATIO_ABOVE && bv <= 0)) {
			out->outcome = JUDGE_NOT_APPLICABLE;
			snprintf(out->why, sizeof(out->why), "no baseline %s",
				 q->metric == JUDGE_ERROR_RATE ? "error rate" : "p99 latency");
			return 0;
		}
		limit = q->test == JUDGE_RATIO_ABOVE ? q->limit * bv : bv + q->limit;
	}
	out->limit_value = limit;
	out->outcome = cv > limit ? JUDGE_FAIL : JUDGE_PASS;
	return 0;
}

const char *judge_outcome_name(enum judge_outcome o)
{
	switch (o) {
	case JUDGE_PASS: return "pass";
	case JUDGE_FAIL: return "fail";
	case JUDGE_INCONCLUSIVE: return "inconclusive";
	case JUDGE_NOT_APPLICABLE: return "n/a";
	}
	return "unknown";
}
