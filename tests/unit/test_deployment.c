/*
 * test_deployment.c - the state machine's edges that a trace replay does not
 * reach: the gate, readiness and the progress deadline, retry and undo
 * (which create new deployments), rejected intents, monitoring, and the
 * desired state the controller reconciles to.  Simulated clock throughout.
 */
#include "tap.h"
#include "core/deployment.h"
#include "core/rules.h"
#include "core/strategy.h"
#include "base/err.h"
#include "base/timeutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static struct decision dec;

static int advance(struct deployment *d, const struct type_rules *r, const struct strategy *s,
		   const struct tick_input *in, const struct intent *it, int n, int64_t now)
{
	int rc = deployment_advance(d, r, s, in, it, n, now, &dec);
	if (rc == 0)
		*d = dec.next;
	return rc;
}

static struct analysis_input healthy(const struct deployment *d, const struct strategy *s, int64_t now)
{
	struct analysis_input a;
	int64_t from, to;
	double w;
	int idle;
	memset(&a, 0, sizeof(a));
	if (!deployment_analysis_due(d, s, now, &from, &to, &w, &idle))
		return a;
	a.from_ms = from;
	a.to_ms = to;
	a.weight = w;
	a.idle = idle;
	a.have_samples = 1;
	a.canary = (struct judge_sample){ 500, 0, 40, 200, to - from };
	a.stable = (struct judge_sample){ 1000, 1, 40, 200, to - from };
	return a;
}

static struct intent mk(enum intent_kind k, int64_t id, int64_t at)
{
	struct intent it;
	memset(&it, 0, sizeof(it));
	it.id = id;
	it.kind = k;
	it.created_ms = at;
	snprintf(it.requested_by, sizeof(it.requested_by), "alice");
	return it;
}

int main(void)
{
	struct type_rules r;
	struct strategy *s = calloc(1, sizeof(*s));
	struct deployment d;
	struct tick_input in = { .gate = GATE_ALLOW, .canary_ready = 1 };
	struct analysis_input a;
	struct intent it[3];
	struct desired_state ds;
	int64_t t;

	type_rules_default("standard", &r, NULL);
	strategy_default(s, STRATEGY_CANARY);

	/* the gate */
	deployment_init(&d, "api", "production", "v2", "v1", "standard", 0);
	is_str(deployment_state_name(d.state), "pending", "a new deployment is pending");
	in.gate = GATE_WAIT;
	snprintf(in.gate_reason, sizeof(in.gate_reason), "outside the standard window");
	advance(&d, &r, s, &in, NULL, 0, 1000);
	is_int(d.state, DS_PENDING, "gate WAIT: still pending");
	ok(strstr(d.reason, "outside the standard window") != NULL, "the reason says why it waits");
	is_int(dec.n_transitions, 0, "waiting is no transition");
	it[0] = mk(INTENT_PAUSE, 1, 500);
	advance(&d, &r, s, &in, it, 1, 2000);
	is_int(dec.n_intents, 1, "the pause intent is consumed");
	is_int(dec.intents[0].applied, 0, "pause of a pending deployment is rejected");
	ok(strstr(dec.intents[0].result, "cannot pause a deployment that is pending") != NULL, "rejection says why");
	in.gate = GATE_DENY;
	snprintf(in.gate_reason, sizeof(in.gate_reason), "holiday freeze");
	advance(&d, &r, s, &in, NULL, 0, 3000);
	is_str(deployment_state_name(d.state), "failed", "gate DENY: failed");
	ok(strstr(d.reason, "holiday freeze") != NULL, "failure names the gate's reason");
	ok(deployment_state_is_final(d.state), "failed is final");
	it[0] = mk(INTENT_RETRY, 2, 3000);
	advance(&d, &r, s, &in, it, 1, 4000);
	is_int(dec.intents[0].applied, 1, "retry after a failure is applied");
	is_int(dec.n_actions, 1, "retry asks for one action");
	is_int(dec.actions[0].kind, ACT_RETRY, "... a new deployment of the same revision");
	is_int(d.state, DS_FAILED, "the failed deployment stays failed");

	/* readiness and the progress deadline */
	deployment_init(&d, "api", "production", "v2", "v1", "standard", 0);
	in.gate = GATE_ALLOW;
	in.gate_reason[0] = 0;
	advance(&d, &r, s, &in, NULL, 0, 0);
	is_str(deployment_state_name(d.state), "progressing", "gate ALLOW: progressing");
	is_int(d.step, 0, "step 0: warm-up");
	deployment_desired(&d, s, &ds);
	ok(ds.canary_up && ds.stable_up && ds.group_weight[0] == 0, "warm-up: both up, weight 0");
	in.canary_ready = 0;
	for (t = 60000; t <= 600000; t += 60000) {
		a = healthy(&d, s, t);
		in.analysis = &a;
		advance(&d, &r, s, &in, NULL, 0, t);
		if (d.state != DS_PROGRESSING)
			break;
	}
	is_str(deployment_state_name(d.state), "rolling_back", "not ready within progressDeadlineSeconds: rolling back");
	is_int(t, 600000, "... at the deadline (600s)");
	ok(strstr(d.reason, "not ready after 600s") != NULL, "reason names the deadline");
	deployment_desired(&d, s, &ds);
	ok(!ds.canary_up && ds.stable_up && ds.group_weight[0] == 0, "rolling back: stable only");
	in.analysis = NULL;
	advance(&d, &r, s, &in, NULL, 0, t);
	is_int(d.state, DS_ROLLING_BACK, "rolling_back lasts until a later tick");
	advance(&d, &r, s, &in, NULL, 0, t + 1000);
	is_str(deployment_state_name(d.state), "rolled_back", "then rolled_back");
	it[0] = mk(INTENT_UNDO, 3, t);
	advance(&d, &r, s, &in, it, 1, t + 2000);
	is_int(dec.intents[0].applied, 0, "undo without --to-revision after a rollback: nothing to undo");
	it[0].to_revision = 3;
	advance(&d, &r, s, &in, it, 1, t + 3000);
	is_int(dec.intents[0].applied, 1, "undo --to-revision 3 after a rollback is applied");
	is_int(dec.actions[0].kind, ACT_UNDO, "... as an UNDO action");
	is_int(dec.actions[0].to_revision, 3, "... to revision 3");

	/* a window closing mid-rollout holds the weight (gate WAIT while progressing) */
	deployment_init(&d, "api", "production", "v2", "v1", "standard", 0);
	in.canary_ready = 1;
	advance(&d, &r, s, &in, NULL, 0, 0);
	a = healthy(&d, s, 60000);
	in.analysis = &a;
	advance(&d, &r, s, &in, NULL, 0, 60000);
	is_int(d.step, 1, "step 1 after warm-up");
	ok(d.weight == 1, "weight 1%%");
	ok(d.baseline.requests == 1000, "baseline captured from the stable revision");
	in.gate = GATE_WAIT;
	for (t = 120000; t <= 900000; t += 60000) {
		a = healthy(&d, s, t);
		advance(&d, &r, s, &in, NULL, 0, t);
	}
	is_int(d.step, 1, "window closed: the step does not advance");
	is_int(dec.has_analysis, 1, "analysis keeps running");
	in.gate = GATE_ALLOW;
	for (; d.state == DS_PROGRESSING && t <= 4 * 3600000; t += 60000) {
		a = healthy(&d, s, t);
		advance(&d, &r, s, &in, NULL, 0, t);
	}
	is_str(deployment_state_name(d.state), "promoting", "window open again: through every step to promoting");
	deployment_desired(&d, s, &ds);
	ok(ds.group_weight[0] == 100 && ds.stable_up, "promoting: 100%% with the stable kept ready");
	in.analysis = NULL;
	advance(&d, &r, s, &in, NULL, 0, t);
	is_str(deployment_state_name(d.state), "monitoring", "the tick after: monitoring");
	it[0] = mk(INTENT_PAUSE, 4, t);
	advance(&d, &r, s, &in, it, 1, t + 1000);
	is_str(deployment_state_name(d.state), "paused", "pause during monitoring");
	it[0] = mk(INTENT_PROMOTE, 5, t + 1000);
	advance(&d, &r, s, &in, it, 1, t + 2000);
	is_str(deployment_state_name(d.state), "succeeded", "promote ends monitoring early");
	ok(strstr(d.reason, "by alice") != NULL, "the reason names the person");
	deployment_desired(&d, s, &ds);
	ok(ds.canary_up && !ds.stable_up, "succeeded: the previous revision is stopped");
	it[0] = mk(INTENT_ABORT, 6, t);
	advance(&d, &r, s, &in, it, 1, t + 3000);
	is_int(dec.intents[0].applied, 0, "abort of a succeeded deployment is rejected");
	it[0] = mk(INTENT_UNDO, 7, t);
	advance(&d, &r, s, &in, it, 1, t + 4000);
	is_int(dec.intents[0].applied, 1, "undo of a succeeded deployment is applied");
	is_int(dec.actions[0].to_revision, 0, "... to the previous revision");
	it[0] = mk(INTENT_RETRY, 8, t);
	advance(&d, &r, s, &in, it, 1, t + 5000);
	is_int(dec.intents[0].applied, 0, "retry of a succeeded deployment is rejected");

	/* intents in the future wait; several apply in order */
	deployment_init(&d, "api", "production", "v2", "v1", "standard", 0);
	advance(&d, &r, s, &in, NULL, 0, 0);
	it[0] = mk(INTENT_PAUSE, 9, 1000);
	it[1] = mk(INTENT_RESUME, 10, 99000);
	advance(&d, &r, s, &in, it, 2, 2000);
	is_int(dec.n_intents, 1, "an intent created later waits");
	is_int(d.state, DS_PAUSED, "pause applied");
	it[2] = mk(INTENT_ABORT, 11, 100000);
	advance(&d, &r, s, &in, it + 1, 2, 100000);
	is_int(dec.n_intents, 2, "two intents in one tick");
	is_str(deployment_state_name(d.state), "rolling_back", "resume then abort: rolling back");
	is_int(dec.n_transitions, 2, "two transitions recorded");

	/* region groups in the desired state */
	{
		struct strategy *g = calloc(1, sizeof(*g));
		strategy_default(g, STRATEGY_CANARY);
		g->n_steps = 0;
		g->n_groups = 3;
		strategy_add_step(g, 0, 100, 60000, NULL);
		strategy_add_step(g, 1, 20, 60000, NULL);
		strategy_add_step(g, 1, 100, 60000, NULL);
		deployment_init(&d, "api", "production", "v2", "v1", "standard", 0);
		d.state = DS_PROGRESSING;
		d.step = 2;
		d.group = 1;
		d.weight = 20;
		deployment_desired(&d, g, &ds);
		ok(ds.n_groups == 3 && ds.group_weight[0] == 100 && ds.group_weight[1] == 20 && ds.group_weight[2] == 0,
		   "region groups: done 100%%, current 20%%, later 0%%");
		free(g);
	}
	/* rolling: instance counts */
	strategy_rolling(s, 10, 3, 2, 60000, NULL);
	deployment_init(&d, "api", "production", "v2", "v1", "standard", 0);
	d.state = DS_PROGRESSING;
	d.step = 2;
	d.weight = s->steps[1].weight;
	deployment_desired(&d, s, &ds);
	is_int(ds.canary_instances, 3, "rolling step 2: 3 new instances");
	is_int(ds.stable_instances, 5, "rolling step 2: 5 old instances");

	/* no metrics at all at a step (the provider fails, the log never arrives): after the
	   step's maximum hold a person is told; the step never waits in silence for ever */
	{
		struct tick_input live = { .gate = GATE_ALLOW, .canary_ready = 1 };
		strategy_default(s, STRATEGY_CANARY);
		deployment_init(&d, "api", "production", "v2", "v1", "standard", 0);
		advance(&d, &r, s, &live, NULL, 0, 0);
		a = healthy(&d, s, 60000);
		live.analysis = &a;
		advance(&d, &r, s, &live, NULL, 0, 60000);
		is_int(d.step, 1, "no metrics: step 1 at 1%%");
		for (t = d.next_analysis_ms; d.state == DS_PROGRESSING && t < 6 * 3600000; t = d.next_analysis_ms) {
			a = healthy(&d, s, t);
			a.have_samples = 0;
			snprintf(a.provider_error, sizeof(a.provider_error), "the log receiver is not running");
			advance(&d, &r, s, &live, NULL, 0, t);
		}
		is_str(deployment_state_name(d.state), "paused", "no metrics: paused for a person, not waiting for ever");
		ok(t - 60000 <= 40 * 60000, "... after the step's maximum hold (30m), not hours later (%llds)",
		   (long long)((t - 60000) / 1000));
		ok(strstr(d.reason, "no evidence") && strstr(d.reason, "the log receiver is not running"),
		   "the reason says no interval could be judged and why (%s)", d.reason);
		is_int(d.step, 1, "no metrics: still at step 1, traffic as it was");
	}

	/* a controller restart: intervals nobody observed are not judged, and the hold
	   counts observed time only (issue: "resume after a crash skips steps") */
	{
		struct tick_input live = { .gate = GATE_ALLOW, .canary_ready = 1, .observing = 1 };
		int64_t due;
		strategy_default(s, STRATEGY_CANARY);
		deployment_init(&d, "api", "production", "v2", "v1", "standard", 0);
		advance(&d, &r, s, &live, NULL, 0, 0);
		a = healthy(&d, s, 60000);
		live.analysis = &a;
		advance(&d, &r, s, &live, NULL, 0, 60000);
		is_int(d.step, 1, "restart: step 1 at 1%%");
		due = d.next_analysis_ms;
		/* the controller dies; a new one starts 20 minutes later, past the step's whole hold */
		live.observed_since_ms = due + 20 * 60000;
		a = healthy(&d, s, live.observed_since_ms);
		advance(&d, &r, s, &live, NULL, 0, live.observed_since_ms);
		is_int(dec.has_analysis, 0, "restart: the unobserved interval is not judged");
		is_int(d.step, 1, "restart: no step advanced on data nobody observed");
		ok(d.next_analysis_ms == live.observed_since_ms + deployment_look_ms(&r, s, NULL),
		   "restart: the schedule restarts at the tick (one look)");
		ok(d.ev.batches == 0 && d.ev.held_ms == 0, "restart: no evidence and no hold from the unobserved interval");
		/* from then on, observed intervals count: the step ends after its hold of observed time */
		for (t = d.next_analysis_ms; d.step == 1 && t < live.observed_since_ms + 3600000; t += s->interval_ms) {
			a = healthy(&d, s, t);
			advance(&d, &r, s, &live, NULL, 0, t);
		}
		is_int(d.step, 2, "restart: step 2 after the hold, on observed intervals");
		ok(t - live.observed_since_ms >= 4 * s->interval_ms, "restart: the hold counted observed time (%llds after)",
		   (long long)((t - live.observed_since_ms) / 1000));
	}

	/* a slow actuation: the state became real at observed_since_ms, later than the tick's
	   now (the controller's clock runs behind the log): the schedule restarts there */
	{
		struct tick_input live = { .gate = GATE_ALLOW, .canary_ready = 1, .observing = 1 };
		int64_t due, now;
		strategy_default(s, STRATEGY_CANARY);
		deployment_init(&d, "api", "production", "v2", "v1", "standard", 0);
		advance(&d, &r, s, &live, NULL, 0, 0);
		a = healthy(&d, s, 60000);
		live.analysis = &a;
		advance(&d, &r, s, &live, NULL, 0, 60000);
		due = d.next_analysis_ms;
		live.observed_since_ms = due + 5 * 60000;
		now = live.observed_since_ms - 600;
		a = healthy(&d, s, now);
		advance(&d, &r, s, &live, NULL, 0, now);
		is_int(dec.has_analysis, 0, "slow actuation: the interval it spanned is not judged");
		ok(d.next_analysis_ms == live.observed_since_ms + deployment_look_ms(&r, s, NULL),
		   "slow actuation: the schedule restarts when the state became real, not at the tick");
		ok(d.step_since_ms == live.observed_since_ms,
		   "slow actuation: the step's hold starts then too");
	}

	/* malformed input is refused, never a crash */
	is_int(deployment_advance(NULL, &r, s, &in, NULL, 0, 0, &dec), SW_EUSAGE, "NULL deployment refused");
	s->interval_ms = 0;
	is_int(deployment_advance(&d, &r, s, &in, NULL, 0, 0, &dec) < 0, 1, "zero interval refused");
	free(s);
	return tap_done();
}
