/*
 * deployment.h - the deployment state machine as a pure function
 * (docs/engine.md).  The states, invariants and transitions are documented at the
 * top of deployment.c.
 *
 * Use (the controller, `slipway analyze`, tests):
 *   1. deployment_analysis_due(): is an analysis interval complete?  If so,
 *      measure [from, to) with a metrics provider into a struct
 *      analysis_input (analysis.h).
 *   2. deployment_advance(): given the deployment, its type's rules, its
 *      strategy, the tick's inputs (gate, readiness, the measured interval)
 *      and the pending intents, compute the next deployment, the transitions
 *      (each with its reason), the intents' results, the actions and the
 *      analysis result to store.
 *   3. Commit all of that in one store transaction, THEN act: make the
 *      router and the target match deployment_desired(next).
 */
#ifndef SLIPWAY_CORE_DEPLOYMENT_H
#define SLIPWAY_CORE_DEPLOYMENT_H

#include <stdint.h>

#include "core/analysis.h"
#include "core/deployment-t.h"
#include "core/rules-t.h"
#include "core/strategy.h"

struct strbuf;
struct query_row;

/* "pending", "progressing", ... "rolled_back", "failed": the stored strings. */
const char *deployment_state_name(enum deploy_state s);
/* Parse a stored state string.  0 or SW_EPARSE. */
int deployment_state_parse(const char *name, enum deploy_state *out);
/* succeeded, rolled_back, failed */
int deployment_state_is_final(enum deploy_state s);

const char *intent_kind_name(enum intent_kind k);
int intent_kind_parse(const char *name, enum intent_kind *out);

/*
 * A new deployment in state pending at now_ms.  service, version, type are
 * copied (truncated to their fields).  Never fails.
 */
void deployment_init(struct deployment *d, const char *service, const char *env, const char *version,
		     const char *from_version, const char *type, int64_t now_ms);

/*
 * The deployment's two clocks (docs/engine.md "Time scale"): instants are
 * wall time; the strategy's and the rules' durations are engine time,
 * time_scale (>= 1; 0 reads as 1) times faster.
 *   deployment_wall_span(): the wall ms an engine duration takes, rounded
 *     up and at least 1 for a positive duration, so that
 *     deployment_engine_span(deployment_wall_span(x)) >= x;
 *   deployment_engine_span(): the engine ms a wall duration is worth.
 * Both are the identity at scale 1 (the simulator, analyze, engine-sim).
 */
int64_t deployment_wall_span(const struct deployment *d, int64_t engine_ms);
int64_t deployment_engine_span(const struct deployment *d, int64_t wall_ms);
/* Is d time-scaled (time_scale > 1)? */
int deployment_is_scaled(const struct deployment *d);

/* The gate's answer (policy window/freeze, approvals, incidents, preflight). */
enum gate_result {
	GATE_ALLOW = 0,
	GATE_WAIT,	/* not yet (outside a window, approvals pending): stay / hold */
	GATE_DENY,	/* never (frozen, denied, preflight failed): fail */
};

struct tick_input {
	enum gate_result gate;		/* pending: may it start; progressing: may it advance */
	char gate_reason[200];
	int canary_ready;		/* the target says the new revision's instances are ready */
	const struct analysis_input *analysis;	/* the due interval, measured; NULL = none due */
	const struct judge *judge;	/* NULL = the rules' judge (sequential by default) */
	/* The controller has been observing since this time (its start, or the end of
	 * an application of the state that took longer than an interval: controller.h
	 * hooks.now); an analysis interval that ended before it and is a whole
	 * interval overdue was missed while no controller ran or while the router and
	 * target did not show the state yet: it is not judged (nor replayed on later
	 * data), the schedule restarts at now (or at observed_since_ms when that is
	 * later) and the hold counts only observed time.
	 * observing 0 = always observed (replay). */
	int observing;
	int64_t observed_since_ms;
	/* Flagger webhooks (docs.flagger.app, "Webhooks"), called by the controller: */
	int hold_promotion;		/* a confirm-promotion webhook said no: stay at the last step */
	int rollback_requested;		/* a rollback webhook answered 2xx: roll back now */
	char hook_reason[200];		/* which webhook, what it answered */
	/* the target (controller-filled; docs/engine.md "Failure paths"): */
	char ready_reason[200];		/* why the new revision is not ready (a start error, its log's end) */
	int target_failed;		/* the new revision cannot be kept running (its instances died
					   repeatedly): roll back now, from any state with traffic on it */
	char target_reason[200];	/* which instance, how often, its log's end */
	/* the rollout file's own analyses (core/query_analysis.h; docs/argo.md), controller-filled: */
	int analysis_rollback;		/* an Argo analysis run Failed or Errored: roll back now */
	int analysis_pause;		/* an Argo analysis run was Inconclusive: pause for a person */
	char analysis_reason[400];	/* the analysis, the metric, its value and the limits */
	/* a fleet host that does not answer (controller-filled; docs/fleet.md "Host failures"):
	 *  1: the target cannot tell whether a revision's instances are ready because their host
	 *     does not answer (neither ready nor dead): the step holds (as under the gate's WAIT;
	 *     the rollback rules still apply), for at most the rules' fleet.host_hold_max of
	 *     engine time counted from host_away_since_ms in progressing, then
	 *     fleet.on_host_lost: rollback, or pause for a person;
	 *  0: the target answered (or there is no fleet): a hold ends, and a step it spanned
	 *     restarts its clock (step_since_ms, the evidence's held time and step requests, the
	 *     look schedule), so its hold and maximum hold count time on every host again;
	 * -1: not asked this tick (the desired state could not be applied): a hold goes on. */
	int host_away;
	char host_reason[300];		/* which revision, which host, what ssh said */
};

#define DECISION_MAX_TRANSITIONS 16
#define DECISION_MAX_ACTIONS 16
#define DECISION_MAX_INTENTS 8

struct transition {
	enum deploy_state from, to;
	int step;
	double weight;
	int group;
	int64_t at_ms;
	char reason[400];
};

enum action_kind {
	ACT_NOTIFY = 0,		/* event + text for the notifiers */
	ACT_RETRY,		/* create a new deployment of the same revision */
	ACT_UNDO,		/* create a deployment of an earlier revision (to_revision, 0 = previous) */
};

struct rollout_action {
	enum action_kind kind;
	char event[32];		/* notify: started, step, paused, resumed, promoted, succeeded,
				   rollback-initiated, rolled-back, failed */
	char text[400];
	int to_revision;
	int64_t intent_id;	/* the intent that asked for it, or 0 */
};

struct intent_result {
	int64_t intent_id;
	int applied;		/* 1 applied, 0 rejected (result says why) */
	char result[200];
};

struct decision {
	struct deployment next;
	int changed;		/* next differs from the input: write the row */
	int n_transitions;
	struct transition transitions[DECISION_MAX_TRANSITIONS];
	int n_actions;
	struct rollout_action actions[DECISION_MAX_ACTIONS];
	int n_intents;		/* intents consumed, in order; the rest wait for the next tick */
	struct intent_result intents[DECISION_MAX_INTENTS];
	int has_analysis;
	int analysis_quiet;	/* a look between judge.look marks with nothing to act on: the
				   evidence is kept with the deployment, the result not stored */
	struct analysis_result analysis;
	/* the rollout file's queries as last measured (core/query_analysis.h), stored with the
	   analysis result as its "queries"; set by the controller after deployment_advance(),
	   borrowed until the commit; NULL when the file has none */
	const struct query_row *queries;
	int n_queries;
};

/*
 * How often the analysis of a deployment under rules r and strategy s looks
 * at its metrics, ms: the strategy's interval, or for the sequential judge
 * (j, or the default judge r and s select when j is NULL) its look: the
 * policy's judge.look, by default a sixth of the interval and at least 5 s,
 * never more than the interval (docs/judge.md, "looks").  The warm-up is
 * always one whole interval.  A simulator draws its traffic on this grid.
 */
int64_t deployment_look_ms(const struct type_rules *r, const struct strategy *s, const struct judge *j);

/*
 * The sequential judge's look when the canary gets canary_rpm requests a
 * minute, ms: deployment_look_ms() when that look holds at most
 * JUDGE_LOOK_REQUESTS canary requests (core/judge.h), else the time of that
 * many in whole JUDGE_LOOK_MIN_MS, at least JUDGE_LOOK_MIN_MS.  Other
 * judges: deployment_look_ms().  0 when r or s is NULL.
 */
int64_t deployment_look_at_ms(const struct type_rules *r, const struct strategy *s, const struct judge *j,
			      double canary_rpm);

/*
 * Is an analysis interval of d complete at now_ms?  Returns 1 and sets
 * [*from_ms, *to_ms) (the interval, aligned to the deployment's own
 * schedule, never to now) plus *weight and *idle; 0 when none is due.
 */
int deployment_analysis_due(const struct deployment *d, const struct strategy *s, int64_t now_ms,
			    int64_t *from_ms, int64_t *to_ms, double *weight, int *idle);

/*
 * The state machine.  Pure: reads only its arguments.  Applies the intents
 * in order (at most DECISION_MAX_INTENTS), then the tick (gate, warm-up,
 * analysis, promotion, monitoring, rollback).  Fills *out (out->next starts
 * as a copy of *d).  Returns 0, or SW_EUSAGE/SW_ECONFIG when an argument is
 * malformed (d untouched either way: the caller commits out->next).
 */
int deployment_advance(const struct deployment *d, const struct type_rules *r, const struct strategy *s,
		       const struct tick_input *in, const struct intent *intents, int n_intents,
		       int64_t now_ms, struct decision *out);

/*
 * What the router and the target must show for d: the level the controller
 * reconciles to every tick (so an action lost in a crash is redone).
 */
struct desired_state {
	int canary_up;		/* the new revision's instances run */
	int stable_up;		/* the previous revision's instances run */
	int canary_instances;	/* rolling: exact counts; 0 = the target's default */
	int stable_instances;
	int n_groups;		/* 1 unless region-by-region */
	double group_weight[STRATEGY_MAX_GROUPS];	/* canary percent per group */
};
void deployment_desired(const struct deployment *d, const struct strategy *s, struct desired_state *out);

#endif
