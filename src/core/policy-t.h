/*
 * policy-t.h - the deployment policy as data (runbook v1.0: Deployment
 * Windows, Deployment Freeze Calendar, Deployment Types, Rollback Decision
 * Criteria, Deployment Metrics to Track; DESIGN.md "Defaults that the
 * runbook leaves open").  Types only: shared by core (calendar, rollout
 * rules), the approvals code, cli and controller.  Functions: policy.h.
 *
 * Every string is owned by the struct policy that holds it (freed by
 * policy_release()).  Times of day are minutes after local midnight in the
 * policy's `timezone`; dates are days since 1970-01-01 (days_from_civil()).
 * Percentages are 0-100, durations are ms.
 */
#ifndef SLIPWAY_CORE_POLICY_T_H
#define SLIPWAY_CORE_POLICY_T_H

#include <stddef.h>
#include <stdint.h>

#include "core/checklist-t.h"
#include "core/followup.h"
#include "core/rules-t.h"

/* Where a value came from in the policy file: 1-based line and column;
 * line 0 means the built-in default. */
struct pmark {
	int line, col;
};

/* A list of names (roles, windows, change classes), each with its mark. */
struct policy_names {
	char **v;
	struct pmark *marks;
	size_t nr, alloc;
};

/* A role that approves (runbook: "Approval Required"), and who holds it. */
struct policy_role {
	char *name;			/* "team-lead", "engineering-manager", ... */
	struct policy_names people;	/* empty by default */
	struct pmark mark;
};

/* A change class (DESIGN.md): what a freeze may admit. */
struct policy_class {
	char *name;			/* "normal", "security", "critical-security" */
	char *description;
	struct pmark mark;
};

/*
 * A deployment window (runbook: Deployment Windows), a half-open interval
 * [from, to) of local wall-clock time on the listed weekdays.  from > to
 * crosses midnight: it opens on a listed day and closes the next morning.
 * from = 0, to = 1440 on all seven days is "any time".
 */
struct policy_window {
	char *name;			/* "standard", "extended", "emergency" */
	char *description;
	unsigned days;			/* bit d set = weekday d open, 0 = Sunday .. 6 = Saturday */
	int from_min, to_min;		/* 0..1439 and 1..1440 minutes after local midnight */
	struct policy_names approvals;	/* roles the window adds to the type's */
	struct pmark mark;
};

enum freeze_kind {
	FREEZE_ANNUAL = 0,		/* every year, from MM-DD until MM-DD (may cross the new year) */
	FREEZE_QUARTER_END,		/* the last `last_days` days of Mar, Jun, Sep and Dec */
	FREEZE_PRODUCT_LAUNCH,		/* one-off, from/until dates; admits nothing by default */
	FREEZE_ONE_OFF,			/* one-off, from/until dates, admits what it lists */
};

/* A freeze (runbook: Deployment Freeze Calendar): whole local days, inclusive. */
struct policy_freeze {
	char *name;			/* "holiday", "quarter-end", "launch-2027-03" */
	char *reason;			/* "Holiday freeze", "Financial close", ... */
	enum freeze_kind kind;
	int from_month, from_day;	/* FREEZE_ANNUAL */
	int until_month, until_day;
	int last_days;			/* FREEZE_QUARTER_END: 3 */
	int64_t from_date, until_date;	/* one-off kinds: days since the epoch, inclusive */
	struct policy_names admits;	/* change classes admitted during the freeze */
	struct pmark mark;
};

/* A deployment type (runbook: Deployment Types), one table each. */
struct policy_type {
	char *name;			/* "standard", "hotfix", "emergency", ... */
	char *description;		/* the runbook's "Definition" */
	struct policy_names approvals;	/* "Approval Required": roles */
	char *testing;			/* "Testing Required", text for people and preflight */
	char *strategy;			/* "canary", "fast-progressive", "full", "blue-green",
					   "rolling", "region-by-region" */
	int64_t monitoring_ms;		/* "Monitoring Period"; MONITORING_CONTINUOUS */
	enum type_criterion criterion;	/* "Rollback Criteria" */
	double criterion_error_rate_pct;/* for TYPE_CRIT_ERROR_RATE: 1 (percent) */
	struct policy_names windows;	/* windows the type may use, in order of preference */
	struct pmark mark;
};

/* One level of the runbook's Rollback Decision Criteria. */
struct policy_criteria {
	double error_rate_pct;		/* error rate > this percent */
	double p99_ratio;		/* p99 latency > this x baseline */
};

/* One row of "Deployment Metrics to Track": the target and the threshold
 * beyond which the team must act.  `unit` says how to read the numbers:
 * POLICY_METRIC_PERIOD: at least one deployment per this many ms
 * (frequency); POLICY_METRIC_DURATION: below this many ms; POLICY_METRIC_PCT:
 * below this percent. */
enum policy_metric_unit {
	POLICY_METRIC_PERIOD = 0,
	POLICY_METRIC_DURATION,
	POLICY_METRIC_PCT,
};

struct policy_metric {
	const char *name;		/* static: "deployment_frequency", ... */
	enum policy_metric_unit unit;
	double target, threshold;	/* ms or percent, by unit */
};

enum policy_metric_id {
	METRIC_DEPLOYMENT_FREQUENCY = 0,
	METRIC_LEAD_TIME,
	METRIC_DEPLOYMENT_FAILURE_RATE,
	METRIC_MTTR,
	METRIC_CHANGE_FAILURE_RATE,
	METRIC__COUNT,
};

/* What a rollout does when its window closes (DESIGN.md). */
enum window_close_action {
	WINDOW_CLOSE_HOLD = 0,		/* hold the current weight until a window opens */
	WINDOW_CLOSE_CONTINUE,
	WINDOW_CLOSE_ROLLBACK,
};

struct policy {
	char *source;			/* the file it came from, or "built-in (runbook v1.0)" */
	char *timezone;			/* IANA name; "UTC" by default */
	int64_t approval_ttl_ms;	/* an approval expires this long after it is given (24h) */
	enum window_close_action on_window_close;
	struct policy_role *roles;
	size_t roles_nr, roles_alloc;
	struct policy_class *classes;
	size_t classes_nr, classes_alloc;
	struct policy_window *windows;
	size_t windows_nr, windows_alloc;
	struct policy_freeze *freezes;
	size_t freezes_nr, freezes_alloc;
	struct policy_type *types;
	size_t types_nr, types_alloc;
	struct policy_criteria immediate;	/* 5%, 3x */
	struct policy_criteria consider;	/* 1%, 2x */
	struct policy_metric metrics[METRIC__COUNT];
	struct judge_settings judge;		/* `judge:` (docs/judge.md); defaults: judge_settings_default() */
	struct pmark judge_mark;
	struct fleet_settings fleet;		/* `fleet:` (docs/policy.md, docs/fleet.md "Host failures"): 10m, rollback */
	/* `checklists:` (docs/checklists.md); default: checklist_init_default() */
	struct checklist_set checklists;
	/* `followup:` (docs/checklists.md "Post-deployment follow-up"); default: followup_settings_default() */
	struct followup_settings followup;
};

#endif
