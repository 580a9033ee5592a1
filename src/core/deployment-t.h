/*
 * deployment-t.h - the deployment, its states and the intents people
 * record, as types shared by core (the state machine), adapters (the store),
 * the controller and the command front ends.  The functions are in
 * deployment.h.
 */
#ifndef SLIPWAY_CORE_DEPLOYMENT_T_H
#define SLIPWAY_CORE_DEPLOYMENT_T_H

#include "base/limits.h"
#include <stdint.h>

#include "core/judge.h"

/* Stored as these exact strings (deployment_state_name()). */
enum deploy_state {
	DS_PENDING = 0,		/* "pending": waiting for window, approvals, preflight */
	DS_PROGRESSING,		/* "progressing": warm-up (step 0) or step k at weight w */
	DS_PAUSED,		/* "paused": by a person or by a consider criterion */
	DS_PROMOTING,		/* "promoting": traffic moving to 100% */
	DS_MONITORING,		/* "monitoring": at 100% for the type's monitoring period */
	DS_SUCCEEDED,		/* "succeeded": final */
	DS_ROLLING_BACK,	/* "rolling_back": traffic moving back to the stable revision */
	DS_ROLLED_BACK,		/* "rolled_back": final */
	DS_FAILED,		/* "failed": final; never moved traffic, or could not */
};
#define DS_COUNT 9

struct deployment {
	int64_t id;		/* store row id; 0 before it is stored */
	char service[SW_NAME_MAX + 1];
	char env[SW_NAME_MAX + 1];
	char version[SW_NAME_MAX + 1];	/* the new revision's version */
	int revision;		/* revision number of the service (1, 2, ...) */
	char from_version[SW_NAME_MAX + 1];	/* the stable revision's version ("" for a first deploy) */
	char type[SW_NAME_MAX + 1];		/* deployment type: standard, hotfix, ... */
	char change_class[SW_NAME_MAX + 1];	/* change class: normal, security, critical-security (policy gate) */
	char requested_by[SW_USER_MAX + 1];

	enum deploy_state state;
	int step;		/* 0 = warm-up and baseline capture; k >= 1 = strategy step k */
	double weight;		/* canary percent 0-100 of the current group's traffic */
	int group;		/* current region group (region-by-region), else 0 */
	int failed_checks;	/* failed checks of this run (Flagger: total, not consecutive) */
	int64_t check_counted_ms;	/* when the last failed check was counted (one an interval) */
	char reason[400];	/* why it is in its state: names the rule and the numbers */

	/*
	 * Two clocks (docs/engine.md "Time scale"): every instant here is wall
	 * time, ms since the epoch, UTC (what windows, approvals, records and the
	 * audit chain use); every duration the strategy and the type's rules
	 * give (intervals, holds, deadlines, monitoring) is engine time, which
	 * runs time_scale times faster than the wall clock.
	 */
	double time_scale;	/* 1 (or 0) = real time; N = N engine seconds per wall second */
	int64_t created_ms, started_ms, finished_ms;	/* 0 = not yet */
	int64_t state_since_ms;
	int64_t step_since_ms;		/* when the current step began (an analysis boundary) */
	int64_t next_analysis_ms;	/* end of the interval now being observed; 0 = none */
	int64_t analysis_from_ms;	/* its start (the sequential judge looks more often than the
					   interval: judge.look); 0 = next_analysis_ms - the interval */
	int64_t inconclusive_since_ms;	/* start of the current run of inconclusive intervals */
	int64_t monitoring_since_ms;
	enum deploy_state resume_state;	/* paused: where resume returns */
	int paused_by_rule;		/* paused by a consider criterion (1), for lack of evidence (2:
					   "insufficient-traffic", resumes itself once answered), an Argo
					   analysis Inconclusive (3), a fleet host that did not come back
					   within fleet.host_hold_max (4), or a person (0) */
	int64_t host_away_since_ms;	/* wall instant a fleet host stopped answering (tick_input.host_away)
					   while this deployment watched its revisions; 0 = every host answers */
	struct judge_sample baseline;	/* stable revision before the first step; requests 0 = none */
	struct judge_evidence ev;	/* sequential judge: the evidence of this deployment (judge.h) */
	int64_t store_seq;		/* the store's row version (optimistic concurrency); store-owned */
};

enum intent_kind {
	INTENT_PROMOTE = 0,	/* next step; full: straight to 100% */
	INTENT_PAUSE,
	INTENT_RESUME,
	INTENT_ABORT,		/* roll back */
	INTENT_RETRY,		/* after a rollback: the same revision again (a new deployment) */
	INTENT_UNDO,		/* back to the previous (or a given) revision */
};

struct intent {
	int64_t id;
	enum intent_kind kind;
	int full;		/* promote --full */
	int to_revision;	/* undo --to-revision N; 0 = the previous one */
	char requested_by[SW_USER_MAX + 1];
	int64_t created_ms;
};

#endif
