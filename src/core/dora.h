/*
 * dora.h - deployment metrics as pure arithmetic (runbook: Post-Deployment
 * Activities, "Deployment Metrics to Track"; DORA's definitions in
 * docs/dora.md; DORA's definitions: dora.dev, "DORA's software delivery metrics").
 *
 * Input: the finished deployments of one environment (and service, when
 * asked) and its incidents, as plain arrays; a range [from_ms, to_ms).
 * Output: five metrics, each beside the runbook's target and threshold with
 * a status, and a per-month trend.
 *
 *   metric                  value                                   target   threshold
 *   deployment frequency    a successful deployment per period (*)  Daily    Weekly minimum
 *   lead time for changes   median commit -> production success     < 1 day  < 1 week
 *   deployment failure rate (rolled_back + failed) / finished       < 5%     < 15%
 *   mean time to recovery   mean failure detection -> previous      < 1 hour < 4 hours
 *                           revision serving (rolled-back deploys);
 *                           and mean incident open -> resolve
 *   change failure rate     (rolled back or linked to an incident)  < 10%    < 25%
 *                           / finished
 * (*) "at least one successful deployment per PERIOD" holds when the median
 * PERIOD-long span of the range has one: Daily (target, 1 day) when most
 * days have a deployment, Weekly minimum (threshold, 7 days) when most weeks
 * do.  Spans are whole periods counted back from to_ms (at least one).  The
 * value shown is the median number of deploy-days per week, the measure of
 * DORA's Four Keys dashboard (dora-team/fourkeys), which calls 3 deploy-days
 * a week "daily"; slipway's "Daily" is stricter (docs/dora.md).
 * Lead times <= 0 are left out, as Four Keys does (clock skew, automated
 * pushes).  Targets and thresholds are parameters (struct dora_targets: the
 * policy's metric table), the runbook's by default.  Time is only ever a
 * parameter.
 */
#ifndef SLIPWAY_CORE_DORA_H
#define SLIPWAY_CORE_DORA_H

#include <stddef.h>
#include <stdint.h>

struct strbuf;

#define DORA_NONE INT64_MIN	/* a time that is not known */

enum dora_outcome {
	DORA_SUCCEEDED = 0,
	DORA_ROLLED_BACK,
	DORA_FAILED,
};

struct dora_deploy {
	int64_t id;
	enum dora_outcome outcome;
	int64_t finished_ms;		/* when it reached its final state */
	int64_t commit_time_ms;		/* DORA_NONE when not given */
	int64_t detected_ms;		/* rolled back: entered rolling_back; else DORA_NONE */
	int64_t recovered_ms;		/* rolled back: entered rolled_back (previous revision serving) */
	int incident_linked;		/* an incident names this deployment */
};

struct dora_incident {
	int64_t opened_ms, resolved_ms;	/* resolved_ms DORA_NONE while open */
};

enum dora_status {
	DORA_NO_DATA = 0,
	DORA_MEETS,		/* meets target */
	DORA_WITHIN,		/* within threshold */
	DORA_OUTSIDE,		/* outside */
};
/* "no data", "meets target", "within threshold", "outside" */
const char *dora_status_str(enum dora_status s);

/* Targets and thresholds: "better than" bounds (strict), ms or percent. */
struct dora_targets {
	int64_t frequency_target_ms, frequency_threshold_ms;	/* a deployment per period: 1 day, 7 days */
	int64_t lead_target_ms, lead_threshold_ms;		/* 1 day, 1 week */
	double failure_target_pct, failure_threshold_pct;	/* deployment failure rate: 5, 15 */
	int64_t mttr_target_ms, mttr_threshold_ms;		/* 1 hour, 4 hours */
	double cfr_target_pct, cfr_threshold_pct;		/* change failure rate: 10, 25 */
};
/* The runbook's table ("Deployment Metrics to Track"), from the policy's built-in default. */
void dora_targets_runbook(struct dora_targets *t);
struct policy;
/* The effective policy's `metrics:` table (docs/policy.md). */
void dora_targets_from_policy(const struct policy *p, struct dora_targets *t);

struct dora_metric {
	const char *key;	/* "deployment_frequency", "lead_time", ... */
	const char *name;	/* "Deployment frequency", ... */
	char target[64];	/* as the runbook writes it: "Daily", "< 1 day", "< 5%" */
	char threshold[64];	/* "Weekly minimum", "< 1 week", "< 15%" */
	enum dora_status status;
	double value;		/* frequency: deploy-days/week; times: ms; rates: percent 0-100 */
	char display[64];	/* value for people: "4.0 deploy-days/week", "5h30m", "3.2%" */
	int64_t samples;	/* how many deployments/incidents it rests on */
};

enum {
	DORA_M_FREQUENCY = 0,
	DORA_M_LEAD_TIME,
	DORA_M_DEPLOY_FAILURE_RATE,
	DORA_M_MTTR_DEPLOY,
	DORA_M_MTTR_INCIDENT,
	DORA_M_CHANGE_FAILURE_RATE,
	DORA_M_COUNT
};

struct dora_month {
	int year, month;			/* 1-12 */
	int64_t succeeded, rolled_back, failed, change_failures;
	int64_t lead_median_ms;			/* DORA_NONE without samples */
};

struct dora_report {
	int64_t from_ms, to_ms;
	int64_t finished, succeeded, rolled_back, failed, change_failures;
	double deploys_per_day;			/* successful deployments per day */
	int64_t weeks;				/* whole weeks used for frequency */
	struct dora_metric m[DORA_M_COUNT];
	struct dora_month *months;		/* owned, oldest first, every month of the range */
	size_t n_months;
};

/*
 * Compute the report over deployments finished in [from_ms, to_ms) and
 * incidents resolved in it (others are ignored), graded against t (NULL =
 * the runbook's).  0, or SW_EUSAGE when to_ms <= from_ms, the range spans
 * more than a century, or a frequency period is not positive or splits the
 * range into more than 1,000,000 spans.  Release with dora_report_release().
 */
int dora_compute(const struct dora_deploy *d, size_t n, const struct dora_incident *inc, size_t n_inc,
		 int64_t from_ms, int64_t to_ms, const struct dora_targets *t, struct dora_report *out,
		 struct strbuf *err);
void dora_report_release(struct dora_report *r);

/*
 * The monthly trend as a terminal chart, width columns for the bars (>= 10):
 *   2026-09  ████████████▌            25  fail  4.0%  lead 5h
 * one line per month, bars scaled to the busiest month, "·" for none.
 */
void dora_chart(const struct dora_report *r, int width, struct strbuf *out);

#endif
