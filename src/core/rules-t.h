/*
 * rules-t.h - the rollout rules of one deployment type, as plain data.
 *
 * The policy (runbook: Deployment Types, Rollback Decision Criteria) fills
 * this; the rollout engine reads it.  Keeping it a plain struct lets the
 * engine be tested without a policy file and the policy without an engine.
 */
#ifndef SLIPWAY_CORE_RULES_T_H
#define SLIPWAY_CORE_RULES_T_H

#include <stdint.h>

#include "core/judge.h"

/* The type's own rollback criterion (runbook: each type's "Rollback Criteria"). */
enum type_criterion {
	TYPE_CRIT_ERROR_RATE = 0,	/* standard: error rate > criterion_error_rate_pct (1%) */
	TYPE_CRIT_ANY_REGRESSION,	/* hotfix: any regression against the baseline */
	TYPE_CRIT_WORSE_THAN_BASELINE,	/* emergency: worse than the current state */
	TYPE_CRIT_ANY_ERROR,		/* database-migration: any error (or data corruption) */
	TYPE_CRIT_AVAILABILITY,		/* infrastructure-change: any availability impact */
};

#define MONITORING_CONTINUOUS (-1)

/*
 * A fleet host that does not answer during a rollout (policy `fleet:`;
 * docs/fleet.md "Host failures"): the rollout holds (the step does not
 * move) for at most host_hold_max_ms, then does on_host_lost.
 */
enum host_lost_action {
	HOST_LOST_ROLLBACK = 0,		/* "rollback" (default): return to the stable revision */
	HOST_LOST_PAUSE,		/* "pause": keep the traffic as it is and wait for a person */
};

/* The default bound on a host hold: 10 minutes of engine time (docs/policy.md "fleet"). */
#define HOST_HOLD_MAX_DEFAULT_MS (10 * 60000LL)

struct fleet_settings {
	int64_t host_hold_max_ms;	/* ms of engine time (a time scale shortens it, as it does
					   the progress deadline); 0 = HOST_HOLD_MAX_DEFAULT_MS */
	enum host_lost_action on_host_lost;
};

struct type_rules {
	char type[32];			/* "standard", "hotfix", ... */
	char strategy[32];		/* "canary", "fast-progressive", "full", "blue-green",
					   "rolling", "region-by-region" */
	int64_t monitoring_ms;		/* at 100% before success; MONITORING_CONTINUOUS = until ended */
	enum type_criterion criterion;
	double criterion_error_rate_pct;/* TYPE_CRIT_ERROR_RATE threshold, percent 0-100 (1.0) */
	double immediate_error_rate_pct;/* runbook "Immediate Rollback": error rate > 5 (percent) */
	double immediate_p99_ratio;	/*   p99 latency > 3 x baseline */
	double consider_error_rate_pct;	/* runbook "Consider Rollback": error rate > 1 (percent) */
	double consider_p99_ratio;	/*   p99 latency > 2 x baseline */
	struct judge_settings judge;	/* policy `judge:` (docs/judge.md); name "" = sequential defaults */
	struct fleet_settings fleet;	/* policy `fleet:`; all zero = the defaults (10m, rollback) */
};

#endif
