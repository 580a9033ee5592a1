/*
 * dora.c - the deployment metrics' arithmetic; see dora.h for the
 * definitions and their sources.  One pass over the deployments collects
 * counts and samples; medians sort the samples (n log n, 100,000
 * deployments in a few milliseconds).
 */
#include "core/dora.h"
#include "core/policy.h"
#include "base/alloc.h"
#include "base/err.h"
#include "base/strbuf.h"
#include "base/timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WEEK_MS (7 * MS_PER_DAY)
#define MAX_MONTHS 1200	/* a century; longer ranges are refused */

const char *dora_status_str(enum dora_status s)
{
	switch (s) {
	case DORA_MEETS: return "meets target";
	case DORA_WITHIN: return "within threshold";
	case DORA_OUTSIDE: return "outside";
	case DORA_NO_DATA: break;
	}
	return "no data";
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

/* median of a sorted array (mean of the two middles for even n), n > 0 */
static int64_t median_sorted(const int64_t *v, size_t n)
{
	return n % 2 ? v[n / 2] : v[n / 2 - 1] + (v[n / 2] - v[n / 2 - 1]) / 2;
}

static int month_index(int64_t ms, int base_year, int base_month)
{
	struct civil c;
	civil_from_ms(ms, &c);
	return (c.year - base_year) * 12 + (c.month - base_month);
}

struct lead_sample {
	int month;
	int64_t ms;
};

static int cmp_lead(const void *a, const void *b)
{
	const struct lead_sample *x = a, *y = b;
	if (x->month != y->month)
		return x->month < y->month ? -1 : 1;
	return x->ms < y->ms ? -1 : x->ms > y->ms;
}

void dora_targets_from_policy(const struct policy *p, struct dora_targets *t)
{
	const struct policy_metric *m = p->metrics;
	t->frequency_target_ms = (int64_t)m[METRIC_DEPLOYMENT_FREQUENCY].target;
	t->frequency_threshold_ms = (int64_t)m[METRIC_DEPLOYMENT_FREQUENCY].threshold;
	t->lead_target_ms = (int64_t)m[METRIC_LEAD_TIME].target;
	t->lead_threshold_ms = (int64_t)m[METRIC_LEAD_TIME].threshold;
	t->failure_target_pct = m[METRIC_DEPLOYMENT_FAILURE_RATE].target;
	t->failure_threshold_pct = m[METRIC_DEPLOYMENT_FAILURE_RATE].threshold;
	t->mttr_target_ms = (int64_t)m[METRIC_MTTR].target;
	t->mttr_threshold_ms = (int64_t)m[METRIC_MTTR].threshold;
	t->cfr_target_pct = m[METRIC_CHANGE_FAILURE_RATE].target;
	t->cfr_threshold_pct = m[METRIC_CHANGE_FAILURE_RATE].threshold;
}

void dora_targets_runbook(struct dora_targets *t)
{
	/* the runbook's table lives once, in the policy's built-in default */
	struct policy p;
	policy_init_default(&p);
	dora_targets_from_policy(&p, t);
	policy_release(&p);
}

/* "1 day", "4 hours", "1 week", else the Go-style duration */
static void human(int64_t ms, char *buf, size_t size)
{
	static const struct { int64_t ms; const char *one, *many; } units[] = {
		{ 7 * MS_PER_DAY, "week", "weeks" }, { MS_PER_DAY, "day", "days" },
		{ MS_PER_HOUR, "hour", "hours" }, { MS_PER_MIN, "minute", "minutes" },
	};
	char d[DURATION_BUFSZ];
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (ms > 0 && ms % units[i].ms == 0) {
			int64_t k = ms / units[i].ms;
			snprintf(buf, size, "%lld %s", (long long)k, k == 1 ? units[i].one : units[i].many);
			return;
		}
	snprintf(buf, size, "%s", duration_format(ms, d));
}

static void bound_text(char *buf, size_t size, int64_t ms)
{
	char h[40];
	human(ms, h, sizeof(h));
	snprintf(buf, size, "< %s", h);
}

/* the runbook's words for a frequency period: "Daily", "Weekly minimum" */
static void period_text(char *buf, size_t size, int64_t ms, const char *suffix)
{
	char h[40];
	if (ms == MS_PER_DAY)
		snprintf(buf, size, "Daily%s", suffix);
	else if (ms == 7 * MS_PER_DAY)
		snprintf(buf, size, "Weekly%s", suffix);
	else {
		human(ms, h, sizeof(h));
		snprintf(buf, size, "every %s%s", h, suffix);
	}
}

static void set_metric(struct dora_metric *m, const char *key, const char *name)
{
	m->key = key;
	m->name = name;
	m->status = DORA_NO_DATA;
	snprintf(m->display, sizeof(m->display), "no data");
}

/* Median number of successful deployments per period-long span, spans counted back from to_ms. */
static double median_per_period(const int64_t *finish, size_t n, int64_t from_ms, int64_t to_ms, int64_t period)
{
	int64_t spans = (to_ms - from_ms) / period, *cnt;
	double med;

	if (spans < 1)
		spans = 1;
	cnt = xcalloc((size_t)spans, sizeof(*cnt));
	for (size_t i = 0; i < n; i++) {
		int64_t b = (to_ms - 1 - finish[i]) / period;
		if (b >= 0 && b < spans)
			cnt[b]++;
	}
	qsort(cnt, (size_t)spans, sizeof(*cnt), cmp_i64);
	med = spans % 2 ? (double)cnt[spans / 2] : (cnt[spans / 2 - 1] + cnt[spans / 2]) / 2.0;
	free(cnt);
	return med;
}

static enum dora_status grade_below(double v, double target, double threshold)
{
	return v < target ? DORA_MEETS : v < threshold ? DORA_WITHIN : DORA_OUTSIDE;
}

static void rate_metric(struct dora_metric *m, int64_t num, int64_t den, double target, double threshold)
{
	snprintf(m->target, sizeof(m->target), "< %g%%", target);
	snprintf(m->threshold, sizeof(m->threshold), "< %g%%", threshold);
	m->samples = den;
	if (den <= 0)
		return;
	m->value = 100.0 * (double)num / (double)den;
	m->status = grade_below(m->value, target, threshold);
	snprintf(m->display, sizeof(m->display), "%.1f%% (%lld of %lld)", m->value, (long long)num, (long long)den);
}

static void time_metric(struct dora_metric *m, double ms, int64_t samples, int64_t target_ms, int64_t threshold_ms,
			const char *what)
{
	char d[DURATION_BUFSZ];
	bound_text(m->target, sizeof(m->target), target_ms);
	bound_text(m->threshold, sizeof(m->threshold), threshold_ms);
	m->samples = samples;
	if (samples <= 0)
		return;
	m->value = ms;
	m->status = grade_below(ms, (double)target_ms, (double)threshold_ms);
	snprintf(m->display, sizeof(m->display), "%s (%s of %lld)", duration_format((int64_t)(ms + 0.5), d), what,
		 (long long)samples);
}

int dora_compute(const struct dora_deploy *d, size_t n, const struct dora_incident *inc, size_t n_inc,
		 int64_t from_ms, int64_t to_ms, const struct dora_targets *targets, struct dora_report *out,
		 struct strbuf *err)
{
	struct dora_report r = { .from_ms = from_ms, .to_ms = to_ms };
	struct dora_targets t;
	int64_t *succ = NULL;
	size_t n_succ = 0, succ_alloc = 0;
	struct lead_sample *leads = NULL;
	int64_t *lead_all = NULL, *week_days = NULL;
	unsigned char *day_seen = NULL;
	size_t n_leads = 0, lead_alloc = 0;
	int64_t days, rec_sum = 0, rec_n = 0, inc_sum = 0, inc_n = 0;
	struct civil c0;
	int months;

	if (to_ms <= from_ms) {
		strbuf_errf(err, "the range ends before it starts");
		return SW_EUSAGE;
	}
	if (targets)
		t = *targets;
	else
		dora_targets_runbook(&t);
	if (t.frequency_target_ms <= 0 || t.frequency_threshold_ms <= 0 ||
	    (to_ms - from_ms) / t.frequency_target_ms > 1000000 ||
	    (to_ms - from_ms) / t.frequency_threshold_ms > 1000000) {
		strbuf_errf(err, "deployment frequency periods must be positive and split the range into at most "
			    "1,000,000 spans");
		return SW_EUSAGE;
	}
	civil_from_ms(from_ms, &c0);
	months = month_index(to_ms - 1, c0.year, c0.month) + 1;
	if (months > MAX_MONTHS) {
		strbuf_errf(err, "the range spans more than %d months; give a later --since", MAX_MONTHS);
		return SW_EUSAGE;
	}
	r.n_months = (size_t)months;
	r.months = xcalloc(r.n_months, sizeof(*r.months));
	for (int i = 0; i < months; i++) {
		int mi = c0.month - 1 + i;
		r.months[i].year = c0.year + mi / 12;
		r.months[i].month = mi % 12 + 1;
		r.months[i].lead_median_ms = DORA_NONE;
	}
	days = (to_ms - from_ms + MS_PER_DAY - 1) / MS_PER_DAY;
	r.weeks = (to_ms - from_ms) / WEEK_MS;
	if (r.weeks < 1)
		r.weeks = 1;
	day_seen = xcalloc((size_t)days + 1, 1);

	for (size_t i = 0; i < n; i++) {
		const struct dora_deploy *x = &d[i];
		struct dora_month *mo;
		int changed_failed;

		if (x->finished_ms == DORA_NONE || x->finished_ms < from_ms || x->finished_ms >= to_ms)
			continue;
		mo = &r.months[month_index(x->finished_ms, c0.year, c0.month)];
		r.finished++;
		changed_failed = x->outcome == DORA_ROLLED_BACK || x->incident_linked;
		if (changed_failed) {
			r.change_failures++;
			mo->change_failures++;
		}
		switch (x->outcome) {
		case DORA_SUCCEEDED:
			r.succeeded++;
			mo->succeeded++;
			day_seen[(to_ms - 1 - x->finished_ms) / MS_PER_DAY] = 1;	/* days counted back from to_ms */
			ALLOC_GROW(succ, n_succ + 1, succ_alloc);
			succ[n_succ++] = x->finished_ms;
			if (x->commit_time_ms != DORA_NONE && x->finished_ms - x->commit_time_ms > 0) {
				ALLOC_GROW(leads, n_leads + 1, lead_alloc);
				leads[n_leads].month = (int)(mo - r.months);
				leads[n_leads].ms = x->finished_ms - x->commit_time_ms;
				n_leads++;
			}
			break;
		case DORA_ROLLED_BACK:
			r.rolled_back++;
			mo->rolled_back++;
			if (x->detected_ms != DORA_NONE && x->recovered_ms != DORA_NONE &&
			    x->recovered_ms >= x->detected_ms) {
				rec_sum += x->recovered_ms - x->detected_ms;
				rec_n++;
			}
			break;
		case DORA_FAILED:
			r.failed++;
			mo->failed++;
			break;
		}
	}
	for (size_t i = 0; i < n_inc; i++) {
		const struct dora_incident *x = &inc[i];
		if (x->resolved_ms == DORA_NONE || x->resolved_ms < from_ms || x->resolved_ms >= to_ms ||
		    x->resolved_ms < x->opened_ms)
			continue;
		inc_sum += x->resolved_ms - x->opened_ms;
		inc_n++;
	}

	/* deployment frequency: graded by the median period; shown as median deploy-days per week */
	set_metric(&r.m[DORA_M_FREQUENCY], "deployment_frequency", "Deployment frequency");
	period_text(r.m[DORA_M_FREQUENCY].target, sizeof(r.m[0].target), t.frequency_target_ms, "");
	period_text(r.m[DORA_M_FREQUENCY].threshold, sizeof(r.m[0].threshold), t.frequency_threshold_ms, " minimum");
	week_days = xcalloc((size_t)r.weeks, sizeof(*week_days));
	for (int64_t k = 0; k < r.weeks * 7 && k <= days; k++)	/* day k (back from to_ms) is in week k / 7 */
		if (day_seen[k])
			week_days[k / 7]++;
	qsort(week_days, (size_t)r.weeks, sizeof(*week_days), cmp_i64);
	{
		struct dora_metric *m = &r.m[DORA_M_FREQUENCY];
		double med = r.weeks % 2 ? (double)week_days[r.weeks / 2]
					 : (week_days[r.weeks / 2 - 1] + week_days[r.weeks / 2]) / 2.0;
		double per_target = median_per_period(succ, n_succ, from_ms, to_ms, t.frequency_target_ms);
		double per_threshold = median_per_period(succ, n_succ, from_ms, to_ms, t.frequency_threshold_ms);
		r.deploys_per_day = (double)r.succeeded * MS_PER_DAY / (double)(to_ms - from_ms);
		m->value = med;
		m->samples = r.succeeded;
		m->status = per_target >= 1 ? DORA_MEETS : per_threshold >= 1 ? DORA_WITHIN : DORA_OUTSIDE;
		snprintf(m->display, sizeof(m->display), "%.1f deploy-days/week (%.2f/day)", med, r.deploys_per_day);
	}

	set_metric(&r.m[DORA_M_LEAD_TIME], "lead_time", "Lead time for changes");
	bound_text(r.m[DORA_M_LEAD_TIME].target, sizeof(r.m[0].target), t.lead_target_ms);
	bound_text(r.m[DORA_M_LEAD_TIME].threshold, sizeof(r.m[0].threshold), t.lead_threshold_ms);
	if (n_leads) {
		size_t start = 0;
		lead_all = xmalloc(n_leads * sizeof(*lead_all));
		qsort(leads, n_leads, sizeof(*leads), cmp_lead);
		for (size_t i = 0; i < n_leads; i++)
			lead_all[i] = leads[i].ms;
		for (size_t i = 1; i <= n_leads; i++) {
			if (i == n_leads || leads[i].month != leads[start].month) {
				/* leads[start..i) are one month's, sorted */
				r.months[leads[start].month].lead_median_ms = median_sorted(lead_all + start, i - start);
				start = i;
			}
		}
		qsort(lead_all, n_leads, sizeof(*lead_all), cmp_i64);
		time_metric(&r.m[DORA_M_LEAD_TIME], (double)median_sorted(lead_all, n_leads), (int64_t)n_leads,
			    t.lead_target_ms, t.lead_threshold_ms, "median");
	}

	set_metric(&r.m[DORA_M_DEPLOY_FAILURE_RATE], "deployment_failure_rate", "Deployment failure rate");
	rate_metric(&r.m[DORA_M_DEPLOY_FAILURE_RATE], r.rolled_back + r.failed, r.finished, t.failure_target_pct,
		    t.failure_threshold_pct);

	set_metric(&r.m[DORA_M_MTTR_DEPLOY], "mttr_deployments", "Mean time to recovery (rollbacks)");
	time_metric(&r.m[DORA_M_MTTR_DEPLOY], rec_n ? (double)rec_sum / (double)rec_n : 0, rec_n, t.mttr_target_ms,
		    t.mttr_threshold_ms, "mean");
	set_metric(&r.m[DORA_M_MTTR_INCIDENT], "mttr_incidents", "Mean time to recovery (incidents)");
	time_metric(&r.m[DORA_M_MTTR_INCIDENT], inc_n ? (double)inc_sum / (double)inc_n : 0, inc_n, t.mttr_target_ms,
		    t.mttr_threshold_ms, "mean");

	set_metric(&r.m[DORA_M_CHANGE_FAILURE_RATE], "change_failure_rate", "Change failure rate");
	rate_metric(&r.m[DORA_M_CHANGE_FAILURE_RATE], r.change_failures, r.finished, t.cfr_target_pct,
		    t.cfr_threshold_pct);

	free(leads);
	free(lead_all);
	free(week_days);
	free(day_seen);
	free(succ);
	*out = r;
	return 0;
}

void dora_report_release(struct dora_report *r)
{
	if (!r)
		return;
	free(r->months);
	r->months = NULL;
	r->n_months = 0;
}

void dora_chart(const struct dora_report *r, int width, struct strbuf *out)
{
	static const char *const eighths[] = { "", "▏", "▎", "▍", "▌", "▋", "▊", "▉" };
	int64_t max = 0;

	if (width < 10)
		width = 10;
	for (size_t i = 0; i < r->n_months; i++)
		if (r->months[i].succeeded > max)
			max = r->months[i].succeeded;
	for (size_t i = 0; i < r->n_months; i++) {
		const struct dora_month *m = &r->months[i];
		int64_t fin = m->succeeded + m->rolled_back + m->failed;
		int64_t units = max ? m->succeeded * width * 8 / max : 0;
		int cols = 0;
		char lead[DURATION_BUFSZ];

		strbuf_addf(out, "%04d-%02d  ", m->year, m->month);
		if (m->succeeded == 0) {
			strbuf_addstr(out, "·");
			cols = 1;
		} else {
			if (units == 0)
				units = 1;	/* a month with deployments is never drawn empty */
			for (int64_t k = 0; k < units / 8; k++, cols++)
				strbuf_addstr(out, "█");
			if (units % 8) {
				strbuf_addstr(out, eighths[units % 8]);
				cols++;
			}
		}
		for (; cols < width; cols++)
			strbuf_addch(out, ' ');
		strbuf_addf(out, " %6lld", (long long)m->succeeded);
		if (fin)
			strbuf_addf(out, "  fail %5.1f%%  cfr %5.1f%%", 100.0 * (double)(m->rolled_back + m->failed) / (double)fin,
				    100.0 * (double)m->change_failures / (double)fin);
		else
			strbuf_addstr(out, "  fail     -   cfr     - ");
		if (m->lead_median_ms != DORA_NONE)
			strbuf_addf(out, "  lead %s", duration_format(m->lead_median_ms, lead));
		strbuf_addch(out, '\n');
	}
}
