/*
 * followup.h - post-deployment follow-up as pure decisions (runbook v1.0:
 * Post-Deployment Activities, Immediate 0-2 hours, Short-term 2-24 hours,
 * Long-term 1-7 days; Emergency Deployments and their post-mortem;
 * docs/checklists.md "Post-deployment follow-up").
 *
 * Once a deployment succeeds, the controller (controller/followup.h) asks
 * followup_due() on every look what is due at now_ms: an automatic item's
 * check over its horizon, a reminder of the manual items that are open, an
 * emergency's post-mortem overdue, a look of an emergency's continuous
 * monitoring, its end, and the end of the follow-up.  followup_judge()
 * decides whether a horizon's metrics show a regression against the
 * baseline, with the sequential judge's evidence rule (docs/judge.md): a
 * regression must be established at the policy's alpha, never a point
 * estimate.
 *
 * Pure: no I/O, no clock (now_ms is a parameter), no allocation.
 */
#ifndef SLIPWAY_CORE_FOLLOWUP_H
#define SLIPWAY_CORE_FOLLOWUP_H

#include <stddef.h>
#include <stdint.h>

#include "core/checklist-t.h"
#include "core/judge.h"

#define FOLLOWUP_HOUR_MS (3600LL * 1000)
/* The runbook's horizons, engine time after success (ms). */
#define FOLLOWUP_IMMEDIATE_END_MS (2 * FOLLOWUP_HOUR_MS)
#define FOLLOWUP_SHORT_END_MS (24 * FOLLOWUP_HOUR_MS)
#define FOLLOWUP_LONG_END_MS (7 * 24 * FOLLOWUP_HOUR_MS)
/* Defaults of the policy's `followup:` settings (docs/checklists.md). */
#define FOLLOWUP_REMIND_EVERY_DEFAULT_MS (4 * FOLLOWUP_HOUR_MS)
#define FOLLOWUP_POSTMORTEM_WITHIN_DEFAULT_MS (48 * FOLLOWUP_HOUR_MS)
#define FOLLOWUP_MONITOR_EVERY_DEFAULT_MS (FOLLOWUP_HOUR_MS)

/* The policy's `followup:` map; durations in engine ms (> 0). */
struct followup_settings {
	int64_t remind_every_ms;	/* open manual items are reminded this often (4h) */
	int64_t postmortem_within_ms;	/* an emergency's post-mortem is due this long after success (48h) */
	int64_t monitor_every_ms;	/* an emergency's continuous monitoring looks this often (1h) */
};
void followup_settings_default(struct followup_settings *s);

/* One post-deployment item of a deployment, as the caller found it. */
struct followup_item {
	const char *id;			/* borrowed */
	enum checklist_list list;	/* CHECKLIST_POST_* */
	int automatic;			/* slipway checks it (check: health): 1, else a person ticks it */
	int done;			/* ticked (a pass attestation) or checked (a stored finding) */
};

/* What the store keeps of one deployment's follow-up (wall ms; 0 = not yet). */
struct followup_state {
	int64_t succeeded_ms;		/* when the deployment succeeded */
	double time_scale;		/* the deployment's (<= 0: 1): horizons are engine time */
	int emergency;			/* its type is "emergency" */
	int64_t last_reminder_ms;
	int64_t overdue_ms;		/* the post-mortem's overdue notice went out */
	int64_t last_monitor_ms;	/* the continuous monitoring's last look */
	int64_t monitoring_ended_ms;
	int64_t closed_ms;
};

enum followup_act {
	FU_CHECK = 0,		/* check automatic item `item` over [from_ms, to_ms) */
	FU_REMIND,		/* remind the open manual items (followup_item_open()) */
	FU_OVERDUE,		/* the emergency's post-mortem is overdue: notify once */
	FU_MONITOR,		/* an emergency's continuous monitoring: check [from_ms, to_ms) */
	FU_END_MONITORING,	/* the post-mortem is ticked: the emergency's monitoring stops */
	FU_CLOSE,		/* every horizon is over: the follow-up ends */
};
const char *followup_act_name(enum followup_act a);	/* "check", "remind", ... (static) */

struct followup_action {
	enum followup_act act;
	size_t item;			/* FU_CHECK: index into the items */
	int64_t from_ms, to_ms;		/* FU_CHECK, FU_MONITOR: the wall-clock range to judge */
};

/* The wall-clock instant `engine_ms` after success (the time scale applied). */
int64_t followup_at(const struct followup_state *s, int64_t engine_ms);

/* An item's horizon on the wall clock: [*open_ms, *due_ms).  A post-mortem
 * opens at success and is due postmortem_within_ms later. */
void followup_item_window(const struct followup_settings *set, const struct followup_state *s,
			  const struct followup_item *it, int64_t *open_ms, int64_t *due_ms);

/* 0: not open yet, or done; 1: open (its horizon has begun); 2: overdue (its horizon is over). */
int followup_item_open(const struct followup_settings *set, const struct followup_state *s,
		       const struct followup_item *it, int64_t now_ms);

/*
 * What is due at now_ms, in this order: each automatic item whose horizon
 * is over and that is not done (FU_CHECK over its horizon); FU_REMIND when a
 * manual item is open and no reminder went out within remind_every_ms
 * (engine time; the first one as soon as one opens); FU_OVERDUE once for an
 * emergency's post-mortem past its due time; for an emergency not yet
 * ended, FU_END_MONITORING once the post-mortem is done, else FU_MONITOR
 * every monitor_every_ms; FU_CLOSE once the long-term horizon is over, every
 * automatic item is done and an emergency's monitoring has ended.  Nothing
 * once closed.  Up to max actions into out; returns how many.
 */
size_t followup_due(const struct followup_settings *set, const struct followup_state *s,
		    const struct followup_item *items, size_t n, int64_t now_ms, struct followup_action *out,
		    size_t max);

enum followup_outcome {
	FU_OK = 0,		/* no regression established (numbers in the reason) */
	FU_REGRESSION,		/* a regression is established */
	FU_UNCHECKED,		/* no data to judge: the reason says what is missing */
};
const char *followup_outcome_name(enum followup_outcome o);	/* "ok", "regression", "unchecked" */

/*
 * The latency line of a follow-up check, ms: ratio (the controller passes
 * the type's immediate p99 ratio, the runbook's "p99 latency > 3x
 * baseline"; <= 1 or NAN: 2) x the baseline p99, at least 1 ms (the
 * measurement's resolution, as the judge's lines).  NAN when the baseline
 * p99 is unknown.  A line at the baseline p99 itself, as first built,
 * established "a regression" for any slowdown of the whole host (a busy
 * machine after a quiet one) and opened incidents; at 2x a machine at load
 * 17 still put 3% of a 26 ms service's requests above it.
 */
double followup_line_ms(double base_p99_ms, double ratio);

struct followup_verdict {
	enum followup_outcome outcome;
	double log_e_errors, log_e_latency;	/* the e-values' logs (0 when not tested) */
	char reason[320];
};

/*
 * Judge the new revision over a horizon (now: requests, errors, p99) against
 * base (the baseline captured before the deployment, or the same hours a
 * week before).  over = requests of now slower than line_ms, or UINT64_MAX
 * when the provider cannot count them (latency not judged, said in the
 * reason); line_ms is followup_line_ms() of the baseline (the runbook's
 * "p99 latency > 3x baseline").  Errors: the two-sample forward test of
 * seqtest.h (seq_fwd_log_e() at the judge's effect); latency: the
 * one-sample test of "more than 1% of requests are slower than the line",
 * that is the p99 above it (seq_above_log_e()).  Each at alpha/2 of js
 * (docs/judge.md: established, not a point estimate).  FU_UNCHECKED when
 * base or now has no requests.
 */
void followup_judge(const struct judge_sample *base, const struct judge_sample *now, uint64_t over, double line_ms,
		    const struct judge_settings *js, struct followup_verdict *out);

#endif
