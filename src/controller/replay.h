/*
 * replay.h - run the real state machine over a metrics provider on a
 * simulated clock, recording every decision (`slipway analyze`;
 * docs/trace-format.md).  The clock jumps from one scheduled event to the next (the end
 * of an analysis interval, the tick after promoting/rolling_back), so a
 * day-long rollout replays in microseconds.
 */
#ifndef SLIPWAY_CONTROLLER_REPLAY_H
#define SLIPWAY_CONTROLLER_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "core/deployment.h"
#include "core/metrics-t.h"

struct replay_event {
	int64_t at_ms;		/* simulated ms since the start */
	int is_analysis;	/* 1: analysis (a), 0: transition (t), 2: intent result (ir) */
	struct transition t;
	struct analysis_result a;
	struct intent_result ir;
	char intent[48];	/* intent kind (and "full" / revision) for is_analysis == 2 */
	double weight;		/* analysis: the weight judged */
};

enum replay_outcome {
	REPLAY_PROMOTED = 0,	/* reached promotion ("promoted") */
	REPLAY_ROLLED_BACK,	/* "rolled_back" */
	REPLAY_PAUSED,		/* "paused": waiting for a person */
	REPLAY_FAILED,		/* "failed": never started */
	REPLAY_SUCCEEDED,	/* "succeeded": through monitoring (replay_options.through_monitoring) */
	REPLAY_INCOMPLETE,	/* "incomplete": the trace ended first */
};

struct replay_options {
	int64_t end_ms;		/* stop judging intervals that end after this (the trace's end) */
	int through_monitoring;	/* continue after promotion through the monitoring period */
	const struct judge *judge;	/* NULL = observed judge */
	const struct intent *intents;	/* people's controls at their created_ms (sorted) */
	int n_intents;
};

struct replay_result {
	enum replay_outcome outcome;
	int64_t at_ms;
	char reason[400];
	char rule[48];		/* rule of the deciding analysis, or "" */
	struct deployment final;
	struct replay_event *events;	/* owned; replay_result_release() */
	size_t n_events, alloc;
};

/*
 * Start deployment d (pending) at t = 0 and advance it until an outcome:
 * promotion (or, with through_monitoring, the end of monitoring), the end
 * of a rollback, a failure, a pause with no later intent, or the end of
 * the trace.  The outcome's time is the decision's (entering promoting,
 * rolling_back or paused).
 * Returns 0 (outcome in *res) or a negative error with detail in err.
 */
int replay_run(const struct deployment *d, const struct type_rules *r, const struct strategy *s,
	       const struct metrics_provider *p, const struct replay_options *opt, struct replay_result *res,
	       struct strbuf *err);
void replay_result_release(struct replay_result *res);
const char *replay_outcome_name(enum replay_outcome o);

#endif
