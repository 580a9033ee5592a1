/*
 * strategy.h - rollout strategies as data (runbook: Rollout Strategy;
 * docs/engine.md, "Strategies").
 *
 * Every strategy is reduced to one ordered list of steps.  A step says which
 * region group it applies to, the canary weight (percent 0-100 of that
 * group's traffic) it sets, the minimum hold at that weight, and for rolling
 * updates the desired instance counts of the new and the old revision.  The
 * state machine (deployment.h) walks the list: it enters a step, holds it
 * while analysis passes every interval, and moves on when the hold has
 * elapsed and the latest analysis passed.  After the last step comes
 * promotion (100% everywhere) and the type's monitoring period.
 *
 *   canary            runbook default 1% 5m, 10% 15m, 50% 15m, then 100%;
 *                     Flagger files give stepWeight/stepWeights/maxWeight
 *   fast-progressive  hotfix default: 10% 2m, 50% 3m, then 100% (slipway's
 *                     choice; the runbook names it without steps)
 *   full              emergency: no steps; straight to 100% after warm-up
 *   blue-green        one idle step at weight 0 (smoke checks against the new
 *                     revision), then all traffic at once; the old revision
 *                     stays ready until monitoring ends
 *   rolling           Kubernetes RollingUpdate arithmetic over N instances
 *   region-by-region  groups in order, each with its own sub-strategy, a hold
 *                     between groups; the first failing group stops it all
 *
 * The analysis settings (interval, threshold, checks, webhooks) travel with
 * the strategy because Flagger's Canary file holds both.
 */
#ifndef SLIPWAY_CORE_STRATEGY_H
#define SLIPWAY_CORE_STRATEGY_H

#include <stdint.h>

struct strbuf;

#define STRATEGY_MAX_STEPS 128
#define STRATEGY_MAX_GROUPS 16
#define STRATEGY_MAX_CHECKS 16
#define STRATEGY_MAX_WEBHOOKS 16

enum strategy_kind {
	STRATEGY_CANARY = 0,
	STRATEGY_FAST_PROGRESSIVE,
	STRATEGY_FULL,
	STRATEGY_BLUE_GREEN,
	STRATEGY_ROLLING,
	STRATEGY_REGION_BY_REGION,
};

struct rollout_step {
	int group;		/* index into strategy.groups; 0 when there are no groups */
	double weight;		/* canary percent 0-100 of the group's traffic */
	int64_t hold_ms;	/* minimum time at this step (ms), with passing analysis */
	int new_instances;	/* rolling: desired instances of the new revision, else 0 */
	int old_instances;	/* rolling: desired instances of the old revision, else 0 */
	int idle;		/* blue-green: new revision up but idle; smoke checks run */
};

/* Flagger built-in metrics (docs.flagger.app, "Metrics Analysis"). */
enum check_metric {
	CHECK_SUCCESS_RATE = 0,	/* request-success-rate: percent of non-5xx, a minimum */
	CHECK_DURATION,		/* request-duration: p99 in ms, a maximum */
};

struct analysis_check {
	char name[64];
	enum check_metric metric;
	int has_min, has_max;
	double min, max;	/* percent for success rate, ms for duration */
	int64_t interval_ms;	/* Flagger's query window; read, see docs/engine.md */
};

/* Flagger webhook types (docs.flagger.app, "Webhooks"); none given = rollout. */
enum webhook_type {
	WEBHOOK_ROLLOUT = 0,
	WEBHOOK_PRE_ROLLOUT,
	WEBHOOK_CONFIRM_ROLLOUT,
	WEBHOOK_CONFIRM_PROMOTION,
	WEBHOOK_POST_ROLLOUT,
	WEBHOOK_ROLLBACK,
	WEBHOOK_EVENT,
};

struct webhook {
	char name[64];
	enum webhook_type type;
	char url[256];
	int64_t timeout_ms;	/* default 10s (Flagger) */
};

struct strategy {
	enum strategy_kind kind;
	int n_steps;
	struct rollout_step steps[STRATEGY_MAX_STEPS];
	int n_groups;			/* region-by-region; else 0 */
	char groups[STRATEGY_MAX_GROUPS][32];
	int64_t group_hold_ms;		/* hold between groups (region-by-region) */
	int replicas;			/* rolling: N; else 0 */
	int max_surge, max_unavailable;	/* rolling: resolved counts */

	int64_t interval_ms;		/* analysis interval, default 1m (Flagger 60s, min 10s) */
	int threshold;			/* failed checks of the run that roll back; default 1 */
	int64_t progress_deadline_ms;	/* progressDeadlineSeconds, default 600s */
	uint64_t min_requests;		/* canary requests below which a judge is inconclusive */
	int n_checks;
	struct analysis_check checks[STRATEGY_MAX_CHECKS];
	int n_webhooks;
	struct webhook webhooks[STRATEGY_MAX_WEBHOOKS];
};

#define STRATEGY_DEFAULT_INTERVAL_MS 60000
#define STRATEGY_MIN_INTERVAL_MS 10000
#define STRATEGY_DEFAULT_DEADLINE_MS 600000
#define STRATEGY_DEFAULT_MIN_REQUESTS 50

/* "canary", "fast-progressive", ... */
const char *strategy_kind_name(enum strategy_kind k);
/* Parse a strategy name.  0, or SW_EPARSE naming the valid values in err. */
int strategy_kind_parse(const char *name, enum strategy_kind *out, struct strbuf *err);
const char *webhook_type_name(enum webhook_type t);
int webhook_type_parse(const char *name, enum webhook_type *out);

/*
 * Fill *s with the built-in strategy `kind` and the default analysis
 * settings (interval 1m, threshold 1, deadline 600s, min requests 50, no
 * checks).  Rolling uses 10 instances with 25%/25% (runbook's
 * rolling-config.yaml); region-by-region one group "all" with the canary
 * default.  Never fails.
 */
void strategy_default(struct strategy *s, enum strategy_kind kind);

/* Reset the analysis settings of *s to the defaults above. */
void strategy_analysis_defaults(struct strategy *s);

/*
 * Append a step.  Returns 0, or SW_ETOOBIG past STRATEGY_MAX_STEPS.
 */
int strategy_add_step(struct strategy *s, int group, double weight, int64_t hold_ms,
		      struct strbuf *err);

/*
 * Resolve a Kubernetes IntOrString (a count "3" / 3, or a percent "25%") over
 * `replicas`: percents round up for maxSurge (round_up=1) and down for
 * maxUnavailable (round_up=0), as the Deployment controller does
 * (ResolveFenceposts).  Returns 0, or SW_EPARSE for anything else.
 */
int rolling_resolve(const char *value, int replicas, int round_up, int *out, struct strbuf *err);

/*
 * Fill the steps of a rolling update of `replicas` instances with at most
 * `max_surge` extra and at most `max_unavailable` missing instances, one step
 * per scale-up or scale-down of the Kubernetes rolling update (new instances
 * start first, old ones stop once the new are ready).  Each step holds
 * hold_ms; its weight is new/(new+old) (traffic follows instances).  Returns
 * 0, SW_ECONFIG when both are 0 or replicas < 1, SW_ETOOBIG when it needs
 * more than STRATEGY_MAX_STEPS steps.
 */
int strategy_rolling(struct strategy *s, int replicas, int max_surge, int max_unavailable,
		     int64_t hold_ms, struct strbuf *err);

/*
 * Check a strategy: weights within 0-100 and not decreasing within a group,
 * groups in order, interval >= 10s, threshold >= 1.  0 or SW_ECONFIG.
 */
int strategy_validate(const struct strategy *s, struct strbuf *err);

/* Weight of the last step of group g (0 if the group has none). */
int strategy_group_last_step(const struct strategy *s, int group);

#endif
