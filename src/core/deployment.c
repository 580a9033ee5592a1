/*
 * deployment.c - the deployment state machine (runbook: Rollout Strategy,
 * Rollback Procedures, Verification Steps; docs/engine.md).
 *
 * A pure function of (deployment, type rules, strategy, tick inputs, pending
 * intents, now_ms) -> (next deployment, transitions with reasons, intent
 * results, actions, analysis result).  It never reads a clock, a store or a
 * socket; the controller (src/controller/controller.c) commits what it
 * returns and only then acts on it, and `slipway analyze` replays it over a
 * recorded trace.
 *
 * STATES
 *
 *                      gate DENY / abort
 *          +---------+ ----------------------------------------------+
 *          | pending |                                               |
 *          +---------+                                               v
 *               | gate ALLOW: start new instances             +--------+
 *               v                                             | failed |
 *       +---------------+  step 0: warm-up, baseline capture  +--------+
 *  +--->|  progressing  |--+ step k -> k+1: hold elapsed and analysis passed
 *  |    +---------------+<-+ (or promote)
 *  |      |   |  ^    |
 *  |      |   |  |    | consider criterion / pause
 *  |      |   |  |    v
 *  |      |   |  +----------+  resume / promote
 *  |      |   |  |  paused  |<-----------------------------+
 *  |      |   |  +----------+                              |
 *  |      |   | last step passed / promote --full          | consider / pause
 *  |      |   v                                            |
 *  |      | +-----------+ next tick  +------------+  period over   +-----------+
 *  |      | | promoting |----------->| monitoring |--------------->| succeeded |
 *  |      | +-----------+            +------------+  (or promote)  +-----------+
 *  |      |       immediate / type criterion, threshold,  |
 *  |      |       deadline, abort, undo                   |
 *  |      v                                               v
 *  |    +--------------+  next tick  +-------------+
 *  |    | rolling_back |------------>| rolled_back |  retry / undo create a
 *  |    +--------------+             +-------------+  NEW deployment (ACT_RETRY,
 *  +-- (paused, promoting: the same rollback arrows)   ACT_UNDO)
 *
 * INVARIANTS
 *
 *   1. state is one of the nine stored strings; succeeded, rolled_back and
 *      failed are final: nothing but retry/undo intents is accepted there,
 *      and those create a new deployment instead of reviving this one.
 *   2. Every change of state, step or weight is one struct transition with
 *      a reason naming the rule and the numbers; the controller commits it,
 *      together with the deployment row and the intents it consumed, in
 *      ONE store transaction BEFORE the router or target is touched.
 *   3. The router and target are driven to deployment_desired(d) of the
 *      committed row, idempotently; so a crash between commit and action
 *      loses nothing (the next tick re-applies the level) and an action is
 *      never the only record of a decision.
 *   4. Analysis intervals are aligned to the deployment's schedule
 *      (next_analysis_ms advances by exactly one interval per judged
 *      interval), never to the tick that happened to run; step_since_ms and
 *      the other cursor times are schedule boundaries or tick times at
 *      which a committed transition happened.  Replaying the same inputs
 *      therefore yields the same transitions, whatever the tick jitter or
 *      however often the controller was restarted.  An interval that ended
 *      before the controller started observing (tick_input.observed_since_ms)
 *      and is a whole interval overdue was missed: it is not judged at all
 *      (nor are the ones after it), the schedule restarts at the tick, and
 *      holds count observed time only.
 *   5. failed_checks only grows within a run (Flagger: threshold counts all
 *      failed checks of the run); reaching strategy.threshold rolls back.
 *   6. weight never rises while the gate says WAIT (a window closed) or the
 *      deployment is paused; it only rises after an analysis interval that
 *      passed, or by a person's promote.
 *   7. The immediate and type criteria apply in every state that has traffic
 *      on the canary (progressing, paused, monitoring); consider only pauses
 *      from progressing and monitoring.
 *   8. promoting and rolling_back last one tick: they move on at the first
 *      tick strictly after the one that entered them, by which time the
 *      controller has applied their desired state.
 *
 * TRANSITIONS (function; what is committed first, by the controller)
 *
 *   pending -> progressing   tick_pending(): gate ALLOW.  Row: state, step 0,
 *                            started_ms, next_analysis_ms.  Then the target
 *                            starts the new revision (desired canary_up).
 *   pending -> failed        tick_pending(): gate DENY; intent abort.
 *   progressing(0) -> (1)    tick_warmup(): first interval done, canary ready:
 *                            baseline captured (row: baseline), weight of
 *                            step 1.  Then the router shifts the weight.
 *   progressing(k) -> (k+1)  tick_analysis(): hold elapsed, analysis passed;
 *                            or intent promote.  Row: step, weight, step_since.
 *   progressing -> promoting tick_analysis() after the last step; intent
 *                            promote --full.  Then the router goes to 100%.
 *   progressing|monitoring -> paused
 *                            tick_analysis(): consider criterion (row:
 *                            paused_by_rule, resume_state); intent pause.
 *   paused -> progressing|monitoring
 *                            intent resume or promote.
 *   promoting -> monitoring  tick(): the tick after promoting.
 *   monitoring -> succeeded  tick_analysis(): monitoring period over with no
 *                            rollback; intent promote.  Then the previous
 *                            revision is stopped.
 *   any non-final -> rolling_back
 *                            tick_analysis(): immediate or type criterion,
 *                            failed_checks >= threshold; tick_warmup():
 *                            not ready within the progress deadline;
 *                            deployment_advance(): the target says the new
 *                            revision's instances keep dying (target_failed);
 *                            intents abort, undo.  Then the router sends
 *                            everything to the stable revision.
 *   progressing -> rolling_back | paused
 *                            host_hold(): a fleet host did not answer for
 *                            fleet.host_hold_max (on_host_lost).  Row:
 *                            host_away_since_ms, paused_by_rule 4.  A host
 *                            that answers again restarts the step's clock
 *                            (a same-state row saying so).
 *   rolling_back -> rolled_back
 *                            tick(): the tick after rolling_back.  Then the
 *                            new revision's instances are stopped.
 */
#include "core/deployment.h"
#include "base/fmt.h"
#include "base/err.h"
#include "base/timeutil.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>


static const char *const state_names[DS_COUNT] = {
	[DS_PENDING] = "pending",
	[DS_PROGRESSING] = "progressing",
	[DS_PAUSED] = "paused",
	[DS_PROMOTING] = "promoting",
	[DS_MONITORING] = "monitoring",
	[DS_SUCCEEDED] = "succeeded",
	[DS_ROLLING_BACK] = "rolling_back",
	[DS_ROLLED_BACK] = "rolled_back",
	[DS_FAILED] = "failed",
};

const char *deployment_state_name(enum deploy_state s)
{
	return (unsigned)s < DS_COUNT ? state_names[s] : "unknown";
}

int deployment_state_parse(const char *name, enum deploy_state *out)
{
	for (int i = 0; i < DS_COUNT; i++) {
		if (!strcmp(state_names[i], name)) {
			*out = (enum deploy_state)i;
			return 0;
		}
	}
	return SW_EPARSE;
}

int deployment_state_is_final(enum deploy_state s)
{
	return s == DS_SUCCEEDED || s == DS_ROLLED_BACK || s == DS_FAILED;
}

static const char *const intent_names[] = {
	[INTENT_PROMOTE] = "promote",
	[INTENT_PAUSE] = "pause",
	[INTENT_RESUME] = "resume",
	[INTENT_ABORT] = "abort",
	[INTENT_RETRY] = "retry",
	[INTENT_UNDO] = "undo",
};

const char *intent_kind_name(enum intent_kind k)
{
	return (unsigned)k < sizeof(intent_names) / sizeof(intent_names[0]) ? intent_names[k] : "unknown";
}

int intent_kind_parse(const char *name, enum intent_kind *out)
{
	for (size_t i = 0; i < sizeof(intent_names) / sizeof(intent_names[0]); i++) {
		if (!strcmp(intent_names[i], name)) {
			*out = (enum intent_kind)i;
			return 0;
		}
	}
	return SW_EPARSE;
}

void deployment_init(struct deployment *d, const char *service, const char *env, const char *version,
		     const char *from_version, const char *type, int64_t now_ms)
{
	memset(d, 0, sizeof(*d));
	xsnprintf(d->service, sizeof(d->service), "%s", service ? service : "");
	xsnprintf(d->env, sizeof(d->env), "%s", env ? env : "production");
	xsnprintf(d->version, sizeof(d->version), "%s", version ? version : "");
	xsnprintf(d->from_version, sizeof(d->from_version), "%s", from_version ? from_version : "");
	xsnprintf(d->type, sizeof(d->type), "%s", type ? type : "standard");
	bprintf(d->change_class, sizeof(d->change_class), "normal");
	d->state = DS_PENDING;
	d->created_ms = now_ms;
	d->state_since_ms = now_ms;
	d->resume_state = DS_PROGRESSING;
	d->baseline.p50_ms = NAN;
	d->baseline.p99_ms = NAN;
	bprintf(d->reason, sizeof(d->reason), "created");
}

/* ---- the two clocks (deployment.h; docs/engine.md "Time scale") ---- */

int deployment_is_scaled(const struct deployment *d)
{
	return d->time_scale > 1;
}

int64_t deployment_wall_span(const struct deployment *d, int64_t engine_ms)
{
	double w;
	if (!deployment_is_scaled(d) || engine_ms <= 0)
		return engine_ms;
	w = ceil((double)engine_ms / d->time_scale);
	return w < 1 ? 1 : (int64_t)w;
}

int64_t deployment_engine_span(const struct deployment *d, int64_t wall_ms)
{
	if (!deployment_is_scaled(d))
		return wall_ms;
	/* the tolerance keeps engine_span(wall_span(x)) >= x through the rounding of the product */
	return (int64_t)floor((double)wall_ms * d->time_scale + 1e-6);
}

/*
 * An engine duration for people: "5m" (or "300s" with secs), and when d is
 * scaled "5m [scaled 600x: 500ms wall]": which kind each number is.
 */
#define SPAN_BUFSZ 96
static const char *span_text_as(const struct deployment *d, int64_t engine_ms, int secs, char buf[SPAN_BUFSZ])
{
	char e[DURATION_BUFSZ], w[DURATION_BUFSZ];
	if (secs)
		bprintf(e, sizeof(e), "%llds", (long long)(engine_ms / 1000));
	else
		duration_format(engine_ms, e);
	if (!deployment_is_scaled(d))
		bprintf(buf, SPAN_BUFSZ, "%s", e);
	else
		bprintf(buf, SPAN_BUFSZ, "%s [scaled %gx: %s wall]", e, d->time_scale,
			duration_format(deployment_wall_span(d, engine_ms), w));
	return buf;
}

static const char *span_text(const struct deployment *d, int64_t engine_ms, char buf[SPAN_BUFSZ])
{
	return span_text_as(d, engine_ms, 0, buf);
}

static const char *secs_text(const struct deployment *d, int64_t engine_ms, char buf[SPAN_BUFSZ])
{
	return span_text_as(d, engine_ms, 1, buf);
}

/* ---- building the decision ---- */

struct run {
	int person;		/* the current change is a person's intent (overrides webhook holds) */
	const struct type_rules *r;
	const struct strategy *s;
	const struct tick_input *in;
	int64_t now;
	struct decision *out;
	struct deployment *d;	/* == &out->next */
	const struct judge *judge;	/* in->judge, or the rules' (analysis_judge()) */
	struct judge judge_buf;
	int ask_step;		/* this look may end the step (once every longest look) */
};

/*
 * How often the analysis looks: every interval, except for the sequential
 * judge, whose tests are valid at any look (docs/judge.md, "looks"): it
 * looks every judge.look (default: a sixth of the interval, at least 5 s),
 * so a decision waits for a look, not for a whole interval.  The warm-up
 * (the baseline) is always one whole interval.
 */
static int64_t look_of(const struct strategy *s, const struct judge *j)
{
	int64_t iv = s->interval_ms, look;

	if (!j || j->kind != JUDGE_KIND_SEQUENTIAL)
		return iv;
	look = j->set.look_ms;
	if (look <= 0) {
		look = iv / 6;
		if (look < 5000)
			look = 5000;
	}
	return look < iv ? look : iv;
}

static int64_t period_ms(const struct run *x)
{
	return look_of(x->s, x->judge);
}

/*
 * The look that follows the canary's traffic (judge.h, JUDGE_LOOK_REQUESTS):
 * canary_per_ms the canary requests per engine ms expected at the current
 * weight; the longest look `base` when it holds no more than
 * JUDGE_LOOK_REQUESTS, else the time of that many, in whole
 * JUDGE_LOOK_MIN_MS, at least JUDGE_LOOK_MIN_MS.
 */
static int64_t look_for_rate(int64_t base, double canary_per_ms)
{
	double want;
	int64_t look;

	if (!(canary_per_ms > 0) || canary_per_ms * (double)base <= JUDGE_LOOK_REQUESTS || base <= JUDGE_LOOK_MIN_MS)
		return base;
	want = JUDGE_LOOK_REQUESTS / canary_per_ms;
	look = (int64_t)(want / JUDGE_LOOK_MIN_MS) * JUDGE_LOOK_MIN_MS;
	if (look < JUDGE_LOOK_MIN_MS)
		look = JUDGE_LOOK_MIN_MS;
	return look < base ? look : base;
}

/* The next look after the range a: the service's request rate in a, times the weight now. */
static int64_t next_look_ms(const struct run *x, const struct analysis_input *a)
{
	int64_t base = period_ms(x), span;
	double total, share;

	if (x->judge->kind != JUDGE_KIND_SEQUENTIAL || !a->have_samples)
		return base;
	span = deployment_engine_span(x->d, a->to_ms - a->from_ms);
	total = (double)a->canary.requests + (double)a->stable.requests;
	share = x->d->state == DS_MONITORING ? 1.0 : x->d->weight / 100.0;
	if (span <= 0 || !(total > 0) || !(share > 0))
		return base;
	/* a time-scaled deployment (deploy --time-scale) keeps its looks: a shorter one would be
	   less than JUDGE_LOOK_MIN_MS of wall time, faster than a controller ticks */
	if (deployment_engine_span(x->d, JUDGE_LOOK_MIN_MS) > JUDGE_LOOK_MIN_MS)
		return base;
	return look_for_rate(base, total / (double)span * (share < 1 ? share : 1.0));
}

int64_t deployment_look_at_ms(const struct type_rules *r, const struct strategy *s, const struct judge *j,
			      double canary_rpm)
{
	struct judge buf;
	const struct judge *jj;
	if (!r || !s)
		return 0;
	jj = analysis_judge(r, s, j, &buf);
	if (!jj || jj->kind != JUDGE_KIND_SEQUENTIAL)
		return look_of(s, jj);
	return look_for_rate(look_of(s, jj), canary_rpm / 60000.0);
}

int64_t deployment_look_ms(const struct type_rules *r, const struct strategy *s, const struct judge *j)
{
	struct judge buf;
	if (!r || !s)
		return 0;
	return look_of(s, analysis_judge(r, s, j, &buf));
}

/*
 * The next range the analysis observes: [from_ms, from_ms + len_ms), from_ms
 * a wall instant and len_ms an engine duration (an interval, a look), which
 * the deployment's time scale shortens (deployment_wall_span()).
 */
static void schedule(struct deployment *d, int64_t from_ms, int64_t len_ms)
{
	d->analysis_from_ms = from_ms;
	d->next_analysis_ms = from_ms + deployment_wall_span(d, len_ms);
}


static void notify(struct run *x, const char *event, const char *text)
{
	struct decision *o = x->out;
	if (o->n_actions >= DECISION_MAX_ACTIONS)
		return;
	struct rollout_action *a = &o->actions[o->n_actions++];
	memset(a, 0, sizeof(*a));
	a->kind = ACT_NOTIFY;
	bprintf(a->event, sizeof(a->event), "%s", event);
	bprintf(a->text, sizeof(a->text), "%s", text);
}

/* Record a change of state/step/weight (invariant 2). */
static void go(struct run *x, enum deploy_state to, const char *reason)
{
	struct deployment *d = x->d;
	struct decision *o = x->out;

	if (o->n_transitions < DECISION_MAX_TRANSITIONS) {
		struct transition *t = &o->transitions[o->n_transitions++];
		t->from = d->state;
		t->to = to;
		t->at_ms = x->now;
		bprintf(t->reason, sizeof(t->reason), "%s", reason);
		/* step/weight filled after the change by fix_last() */
	}
	if (d->state != to)
		d->state_since_ms = x->now;
	d->state = to;
	bprintf(d->reason, sizeof(d->reason), "%s", reason);
	if (deployment_state_is_final(to))
		d->finished_ms = x->now;
	o->changed = 1;
}

static void fix_last(struct run *x)
{
	struct decision *o = x->out;
	if (o->n_transitions) {
		struct transition *t = &o->transitions[o->n_transitions - 1];
		t->step = x->d->step;
		t->weight = x->d->weight;
		t->group = x->d->group;
	}
}

static const char *group_name(const struct strategy *s, int g)
{
	return s->n_groups > 0 && g < s->n_groups ? s->groups[g] : "";
}

static void start_rollback(struct run *x, const char *reason)
{
	char text[480];
	go(x, DS_ROLLING_BACK, reason);
	x->d->next_analysis_ms = x->d->analysis_from_ms = 0;
	fix_last(x);
	/* a first release has no revision to return to: say so, never name one that does not exist */
	if (x->d->from_version[0])
		bprintf(text, sizeof(text), "ROLLBACK INITIATED %s %s -> %s: %s", x->d->service, x->d->version,
			 x->d->from_version, reason);
	else
		bprintf(text, sizeof(text), "ROLLBACK INITIATED %s %s (the first release: nothing ran before it, so "
			 "nothing serves after it): %s", x->d->service, x->d->version, reason);
	notify(x, "rollback-initiated", text);
}

static void start_promotion(struct run *x, const char *reason)
{
	go(x, DS_PROMOTING, reason);
	x->d->weight = 100;
	x->d->group = x->s->n_groups > 0 ? x->s->n_groups - 1 : 0;
	x->d->next_analysis_ms = x->d->analysis_from_ms = 0;
	x->d->inconclusive_since_ms = 0;
	fix_last(x);
	notify(x, "promoted", reason);
}

/* Enter strategy step k (1-based) at time at_ms (a schedule boundary). */
static void enter_step(struct run *x, int k, int64_t at_ms, const char *why)
{
	const struct rollout_step *st = &x->s->steps[k - 1];
	char reason[400], hold[SPAN_BUFSZ];
	const char *g = group_name(x->s, st->group);

	x->d->step = k;
	x->d->weight = st->weight;
	x->d->group = st->group;
	x->d->step_since_ms = at_ms;
	x->d->inconclusive_since_ms = 0;
	x->d->ev.held_ms = 0;
	x->d->ev.step_requests = 0;
	if (st->new_instances || st->old_instances)
		bprintf(reason, sizeof(reason), "%s: step %d/%d: %d new + %d old instances, weight %.4g%% (hold %s)",
			 why, k, x->s->n_steps, st->new_instances, st->old_instances, st->weight,
			 span_text(x->d, st->hold_ms, hold));
	else
		bprintf(reason, sizeof(reason), "%s: step %d/%d: weight %.4g%%%s%s%s (hold %s)", why, k,
			 x->s->n_steps, st->weight, *g ? " in region '" : "", g, *g ? "'" : "",
			 span_text(x->d, st->hold_ms, hold));
	go(x, DS_PROGRESSING, reason);
	fix_last(x);
	notify(x, "step", reason);
}

static void next_step_or_promote(struct run *x, int64_t at_ms, const char *why)
{
	if (x->d->step < x->s->n_steps) {
		enter_step(x, x->d->step + 1, at_ms, why);
	} else if (x->in->hold_promotion && !x->person) {
		/* Flagger WaitingPromotion: analysis goes on, promotion waits for the webhook */
		char reason[400];
		bprintf(reason, sizeof(reason), "%s: all %d steps done; waiting for promotion: %s", why, x->s->n_steps,
			 x->in->hook_reason[0] ? x->in->hook_reason : "confirm-promotion webhook");
		if (strcmp(reason, x->d->reason)) {
			bprintf(x->d->reason, sizeof(x->d->reason), "%s", reason);
			x->out->changed = 1;
		}
	} else {
		char reason[400];
		bprintf(reason, sizeof(reason), "%s: all %d steps done, promoting to 100%%", why, x->s->n_steps);
		start_promotion(x, reason);
	}
}

static void count_failed_check(struct run *x, const char *what)
{
	char reason[400];
	x->d->failed_checks++;
	bprintf(x->d->reason, sizeof(x->d->reason), "failed check %d of threshold %d: %s",
		 x->d->failed_checks, x->s->threshold, what);
	x->out->changed = 1;
	if (x->d->failed_checks >= x->s->threshold) {
		bprintf(reason, sizeof(reason), "failed checks %d >= threshold %d (Flagger threshold); last: %s",
			 x->d->failed_checks, x->s->threshold, what);
		start_rollback(x, reason);
	}
}

/* ---- intents (docs/engine.md) ---- */

__attribute__((format(printf, 4, 5)))
static void intent_done(struct run *x, const struct intent *it, int applied, const char *fmt, ...)
{
	struct decision *o = x->out;
	struct intent_result *ir = &o->intents[o->n_intents++];
	va_list ap;

	ir->intent_id = it->id;
	ir->applied = applied;
	va_start(ap, fmt);
	vsnprintf(ir->result, sizeof(ir->result), fmt, ap);
	va_end(ap);
	o->changed = 1;
}

static void apply_intent(struct run *x, const struct intent *it)
{
	struct deployment *d = x->d;
	const char *who = it->requested_by[0] ? it->requested_by : "someone";
	char reason[400];

	switch (it->kind) {
	case INTENT_PAUSE:
		if (d->state != DS_PROGRESSING && d->state != DS_MONITORING) {
			intent_done(x, it, 0, "rejected: cannot pause a deployment that is %s",
				    deployment_state_name(d->state));
			return;
		}
		d->resume_state = d->state;
		d->paused_by_rule = 0;
		bprintf(reason, sizeof(reason), "paused by %s", who);
		go(x, DS_PAUSED, reason);
		fix_last(x);
		notify(x, "paused", reason);
		intent_done(x, it, 1, "%s", reason);
		return;
	case INTENT_RESUME:
		if (d->state != DS_PAUSED) {
			intent_done(x, it, 0, "rejected: cannot resume a deployment that is %s",
				    deployment_state_name(d->state));
			return;
		}
		bprintf(reason, sizeof(reason), "resumed by %s", who);
		if (d->paused_by_rule == 2)
			d->ev.held_ms = 0;	/* "wait": the step waits for evidence for another maximum hold */
		go(x, d->resume_state == DS_MONITORING ? DS_MONITORING : DS_PROGRESSING, reason);
		fix_last(x);
		notify(x, "resumed", reason);
		intent_done(x, it, 1, "%s", reason);
		return;
	case INTENT_PROMOTE:
		if (d->state == DS_MONITORING || (d->state == DS_PAUSED && d->resume_state == DS_MONITORING)) {
			bprintf(reason, sizeof(reason), "monitoring ended early by %s (promote)", who);
			go(x, DS_SUCCEEDED, reason);
			fix_last(x);
			notify(x, "succeeded", reason);
			intent_done(x, it, 1, "%s", reason);
			return;
		}
		if (d->state != DS_PROGRESSING && d->state != DS_PAUSED) {
			intent_done(x, it, 0, "rejected: cannot promote a deployment that is %s",
				    deployment_state_name(d->state));
			return;
		}
		if (it->full) {
			bprintf(reason, sizeof(reason), "promoted to 100%% by %s (promote --full)", who);
			start_promotion(x, reason);
		} else {
			bprintf(reason, sizeof(reason), "promoted by %s", who);
			/* from paused too: promote lifts the pause (Argo promote semantics) */
			next_step_or_promote(x, x->now, reason);
		}
		/* the next interval starts now: the new weight has had no traffic yet */
		if (x->d->state == DS_PROGRESSING)
			schedule(x->d, x->now, period_ms(x));
		intent_done(x, it, 1, "%s", reason);
		return;
	case INTENT_ABORT:
		if (deployment_state_is_final(d->state) || d->state == DS_ROLLING_BACK) {
			intent_done(x, it, 0, "rejected: the deployment is already %s", deployment_state_name(d->state));
			return;
		}
		bprintf(reason, sizeof(reason), "aborted by %s", who);
		if (d->state == DS_PENDING) {
			go(x, DS_FAILED, reason);
			fix_last(x);
			notify(x, "failed", reason);
		} else {
			start_rollback(x, reason);
		}
		intent_done(x, it, 1, "%s", reason);
		return;
	case INTENT_RETRY:
		if (d->state != DS_ROLLED_BACK && d->state != DS_FAILED) {
			intent_done(x, it, 0, "rejected: retry follows a rollback; the deployment is %s",
				    deployment_state_name(d->state));
			return;
		}
		if (x->out->n_actions < DECISION_MAX_ACTIONS) {
			struct rollout_action *a = &x->out->actions[x->out->n_actions++];
			memset(a, 0, sizeof(*a));
			a->kind = ACT_RETRY;
			a->intent_id = it->id;
			bprintf(a->text, sizeof(a->text), "retry of %s by %s", d->version, who);
		}
		intent_done(x, it, 1, "retry of %s: a new deployment", d->version);
		return;
	case INTENT_UNDO:
		if (!deployment_state_is_final(d->state)) {
			if (it->to_revision) {
				intent_done(x, it, 0, "rejected: the deployment is %s; abort it first, then undo "
					    "--to-revision", deployment_state_name(d->state));
				return;
			}
			if (d->state == DS_ROLLING_BACK) {
				intent_done(x, it, 0, "rejected: already %s", "rolling back");
				return;
			}
			bprintf(reason, sizeof(reason), "undone by %s", who);
			if (d->state == DS_PENDING) {
				go(x, DS_FAILED, reason);
				fix_last(x);
			} else {
				start_rollback(x, reason);
			}
			intent_done(x, it, 1, "%s", reason);
			return;
		}
		if (d->state != DS_SUCCEEDED && !it->to_revision) {
			intent_done(x, it, 0, "rejected: the deployment is %s, nothing to undo; use --to-revision N",
				    deployment_state_name(d->state));
			return;
		}
		if (x->out->n_actions < DECISION_MAX_ACTIONS) {
			struct rollout_action *a = &x->out->actions[x->out->n_actions++];
			memset(a, 0, sizeof(*a));
			a->kind = ACT_UNDO;
			a->intent_id = it->id;
			a->to_revision = it->to_revision;
			bprintf(a->text, sizeof(a->text), "undo of %s by %s", d->version, who);
		}
		intent_done(x, it, 1, "undo of %s: a new deployment of the earlier revision", d->version);
		return;
	}
	intent_done(x, it, 0, "rejected: unknown intent");
}

/* ---- the tick ---- */

static void tick_pending(struct run *x)
{
	struct deployment *d = x->d;
	const struct tick_input *in = x->in;
	char reason[400], span[SPAN_BUFSZ];

	if (in->gate == GATE_DENY) {
		bprintf(reason, sizeof(reason), "did not start: %s", in->gate_reason[0] ? in->gate_reason : "denied");
		go(x, DS_FAILED, reason);
		fix_last(x);
		notify(x, "failed", reason);
		return;
	}
	if (in->gate == GATE_WAIT) {
		bprintf(reason, sizeof(reason), "waiting: %s", in->gate_reason[0] ? in->gate_reason : "gate");
		if (strcmp(reason, d->reason)) {
			bprintf(d->reason, sizeof(d->reason), "%s", reason);
			x->out->changed = 1;
		}
		return;
	}
	d->step = 0;
	d->weight = 0;
	d->group = 0;
	d->started_ms = x->now;
	d->step_since_ms = x->now;
	schedule(d, x->now, x->s->interval_ms);	/* the warm-up: one whole interval */
	d->failed_checks = 0;
	d->check_counted_ms = 0;
	if (d->from_version[0])
		bprintf(reason, sizeof(reason), "started %s %s (%s, strategy %s): starting the new revision; "
			 "measuring the baseline for %s", d->service, d->version, d->type,
			 strategy_kind_name(x->s->kind), secs_text(d, x->s->interval_ms, span));
	else	/* nothing runs before it: no baseline, no canary (docs/engine.md "Failure paths") */
		bprintf(reason, sizeof(reason), "started %s %s (%s, strategy %s): the first release (no earlier "
			 "revision to compare it with); starting it, traffic after %s", d->service, d->version,
			 d->type, strategy_kind_name(x->s->kind), secs_text(d, x->s->interval_ms, span));
	go(x, DS_PROGRESSING, reason);
	fix_last(x);
	notify(x, "started", reason);
}

/* The largest canary weight of the steps (the last step before 100%). */
static double last_weight(const struct strategy *s)
{
	double w = 0;
	for (int i = 0; i < s->n_steps; i++)
		if (s->steps[i].weight > w && s->steps[i].weight < 100)
			w = s->steps[i].weight;
	return w > 0 ? w : 100;
}

/* The smallest non-zero canary weight of the steps (the first step). */
static double first_weight(const struct strategy *s)
{
	double w = 0;
	for (int i = 0; i < s->n_steps; i++)
		if (s->steps[i].weight > 0 && (w == 0 || s->steps[i].weight < w))
			w = s->steps[i].weight;
	return w > 0 ? w : 100;
}

/*
 * Fix the latency lines of the evidence from the baseline p99 (judge.h);
 * they do not move afterwards, so every interval counts against the same lines.
 */
static void set_lines(struct run *x)
{
	double check_max = 0;
	for (int i = 0; i < x->s->n_checks; i++)
		if (x->s->checks[i].metric != CHECK_SUCCESS_RATE && x->s->checks[i].has_max) {
			check_max = x->s->checks[i].max;
			break;
		}
	judge_evidence_set_lines(&x->d->ev, x->d->baseline.requests ? x->d->baseline.p99_ms : NAN,
				 REGRESSION_P99_RATIO, x->r->consider_p99_ratio, x->r->immediate_p99_ratio, check_max);
}

/* Step 0: the new revision warms up while the stable revision's baseline is measured. */
static void tick_warmup(struct run *x, const struct analysis_input *a)
{
	struct deployment *d = x->d;
	char reason[400];

	schedule(d, a->to_ms, x->s->interval_ms);	/* a warm-up that goes on: another whole interval */
	x->out->changed = 1;
	if (a->have_samples && a->stable.requests > 0) {
		d->baseline = a->stable;
		if (d->baseline.span_ms <= 0)	/* the time the sample was counted in, else the range */
			d->baseline.span_ms = a->to_ms - a->from_ms;
	}
	set_lines(x);
	x->d->ev.refined_to_ms = a->to_ms;
	if (!x->d->ev.pool_from_ms)
		x->d->ev.pool_from_ms = a->from_ms > 0 ? a->from_ms : 1;
	if (!x->in->canary_ready) {
		if (deployment_engine_span(d, a->to_ms - d->step_since_ms) >= x->s->progress_deadline_ms) {
			char span[SPAN_BUFSZ];
			bprintf(reason, sizeof(reason), "the new revision was not ready after %s "
				 "(progressDeadlineSeconds)%s%s", secs_text(d, x->s->progress_deadline_ms, span),
				 x->in->ready_reason[0] ? ": " : "", x->in->ready_reason);
			start_rollback(x, reason);
		}
		return;
	}
	if (a->hooks_failed) {
		count_failed_check(x, a->hooks_reason);
		return;
	}
	if (x->in->gate == GATE_WAIT)
		return;
	if (d->baseline.requests > 0) {
		double er = judge_error_rate(&d->baseline);
		bprintf(reason, sizeof(reason), "baseline captured (error rate %.2f%%, p50 %.0fms, p99 %.0fms, "
			 "%.1f req/s)", er, d->baseline.p50_ms, d->baseline.p99_ms,
			 (double)d->baseline.requests * 1000.0 / (double)(d->baseline.span_ms ? d->baseline.span_ms : 1));
	} else {
		bprintf(reason, sizeof(reason), d->from_version[0] ? "no baseline (the stable revision had no requests)" :
			 "no baseline (the first release: no earlier revision)");
	}
	next_step_or_promote(x, a->to_ms, reason);
	if (d->step >= 1 && d->state == DS_PROGRESSING)
		schedule(d, a->to_ms, next_look_ms(x, a));	/* the steps: every look */
}

/*
 * The sequential judge's step rule (docs/judge.md, "steps wait for
 * evidence"): the hold is a minimum; the step ends when its question is
 * answered, and when it is not answered by hold x max_hold_factor the
 * deployment pauses for a person ("insufficient-traffic").  Returns 1 when
 * the step may end now.
 */
/*
 * How long a step may wait for evidence: max_hold_factor x its hold, and at
 * least judge.max_hold_min (60 minutes), so that a strategy of one-minute
 * steps (a Flagger Canary file) is not paused for lack of traffic that a few
 * more minutes would bring, nor for a canary just above a line (docs/judge.md,
 * "Steps wait for evidence").
 */
static double max_hold_ms(const struct run *x, const struct rollout_step *st)
{
	double f = x->judge->set.max_hold_factor >= 1 ? x->judge->set.max_hold_factor : 3;
	double m = f * (double)st->hold_ms;
	double least = x->judge->set.max_hold_min_ms > 0 ? (double)x->judge->set.max_hold_min_ms : JUDGE_MAX_HOLD_MIN_MS;
	return m > least ? m : least;
}

/*
 * How long a step with no evidence at all (no interval judged: the provider
 * fails, the log never arrives; or no canary request at the step) waits
 * before a person is told:
 * max_hold_factor x its hold, at least 30 minutes, at most the maximum hold.
 * Waiting longer for a broken provider helps nobody.
 */
static double no_evidence_wait_ms(const struct run *x, const struct rollout_step *st)
{
	double f = x->judge->set.max_hold_factor >= 1 ? x->judge->set.max_hold_factor : 3;
	double m = f * (double)st->hold_ms, most = max_hold_ms(x, st);
	m = m > 30.0 * 60000 ? m : 30.0 * 60000;
	return m < most ? m : most;
}

/*
 * How long this step may wait for its question: the maximum hold, or with no
 * canary request at all at the step (a routing fault, or no traffic), which is
 * no evidence, as long as for a provider that does not answer.
 */
static double step_wait_ms(const struct run *x, const struct rollout_step *st)
{
	return x->d->ev.step_requests ? max_hold_ms(x, st) : no_evidence_wait_ms(x, st);
}

static int step_ready(struct run *x, const struct rollout_step *st, struct analysis_result *res, int *pause)
{
	const struct judge_settings *set = &x->judge->set;
	int answered = judge_step_question(&x->d->ev, set, st->weight, first_weight(x->s), last_weight(x->s),
					   x->r->immediate_error_rate_pct, res->step_question, sizeof(res->step_question));
	res->step_answered = answered;
	*pause = 0;
	if (x->d->ev.held_ms < st->hold_ms || !x->ask_step)
		return 0;
	if (answered)
		return 1;
	if ((double)x->d->ev.held_ms >= step_wait_ms(x, st))
		*pause = 1;
	return 0;
}

static void tick_analysis_look(struct run *x, const struct analysis_input *a0);

/*
 * One look.  Looks may be shorter than judge.look at high traffic (judge.h,
 * JUDGE_LOOK_REQUESTS); the step's question is asked at the first look that
 * ends at or past each judge.look since the step began, so a step ends on the
 * same schedule as with looks of judge.look (the reverse tests that end it are
 * bounded at 1 - power over any looks, and asked as often as before).  The
 * next look follows the weight the look left (a new step's traffic).
 */
static void tick_analysis(struct run *x, const struct analysis_input *a)
{
	struct deployment *d = x->d;
	int64_t base = period_ms(x);
	int64_t t0 = deployment_engine_span(d, a->from_ms - d->step_since_ms);
	int64_t t1 = deployment_engine_span(d, a->to_ms - d->step_since_ms);

	x->ask_step = base <= 0 || t0 < 0 || t1 / base > t0 / base;
	tick_analysis_look(x, a);
	if (d->analysis_from_ms == a->to_ms && d->next_analysis_ms > a->to_ms &&
	    (d->state == DS_PROGRESSING || d->state == DS_PAUSED || d->state == DS_MONITORING)) {
		int64_t look = next_look_ms(x, a), behind = deployment_engine_span(d, x->now - a->to_ms);
		/* a controller that fell behind (a store that refused writes, a slow provider, a
		   controller that ticks less often than the looks) catches up in looks of up to
		   judge.look, as it did before looks shortened.  The next look ends after now, never
		   at or before it: a look already due when scheduled would be taken by whichever
		   tick comes next (the same instant after a restart, a later one otherwise), and the
		   looks, and so the decisions, would depend on when the controller was restarted */
		if (look < base && behind >= 2 * look)
			look = (behind / look + 1) * look < base ? (behind / look + 1) * look : base;
		/* shorter looks subdivide judge.look from the step's start: the look that asks
		   the step's question ends where a look of judge.look would have (and a look of
		   judge.look after a shorter one ends there too) */
		if (x->judge->kind == JUDGE_KIND_SEQUENTIAL && look <= base) {
			int64_t origin = d->state == DS_MONITORING ? d->monitoring_since_ms : d->step_since_ms;
			int64_t rel = deployment_engine_span(d, a->to_ms - origin);
			int64_t edge = (rel / base + 1) * base;
			if (rel >= 0 && rel + look > edge)
				look = edge - rel;
		}
		schedule(d, a->to_ms, look);
	}
}

static void tick_analysis_look(struct run *x, const struct analysis_input *a0)
{
	struct deployment *d = x->d;
	struct analysis_input a = *a0;
	struct analysis_result *res = &x->out->analysis;
	enum deploy_state was = d->state;
	char reason[480];
	const char *g = group_name(x->s, d->group);
	int seq = x->judge->kind == JUDGE_KIND_SEQUENTIAL;

	a.baseline = d->baseline;
	if (was == DS_PAUSED)
		a.rules_mask = ANALYSIS_RULE_IMMEDIATE | ANALYSIS_RULE_TYPE | ANALYSIS_RULE_CHECKS;
	if (was == DS_PROGRESSING && d->step >= 1 && d->step <= x->s->n_steps)
		a.idle = x->s->steps[d->step - 1].idle;
	if (seq) {
		/* the evidence grows by what was measured; an interval without metrics adds nothing */
		set_lines(x);
		if (a.have_samples) {
			struct judge_batch b = a.batch;
			b.nc = a.canary.requests;
			b.xc = a.canary.errors;
			b.ns = a.stable.requests;
			b.xs = a.stable.errors;
			/* held time is engine time: it is compared with the step's hold */
			judge_evidence_add(&d->ev, &b, a.to_ms, deployment_engine_span(d, a.to_ms - a.from_ms));
			/* the next looks count against lines refined by the stable measured beside,
			   over whole intervals (measure.c) */
			if (a.refine.requests > 0) {
				if (a.refine_pooled)
					judge_evidence_pool_lines(&d->ev, a.refine.requests, a.refine.p99_ms);
				else
					judge_evidence_refine_lines(&d->ev, a.refine.requests, a.refine.p99_ms);
				d->ev.refined_to_ms = a.to_ms;
			}
		}
		a.ev = &d->ev;
	}
	analysis_run(x->r, x->s, x->judge, &a, res);
	x->out->has_analysis = 1;
	/* a look between judge.look marks that passed (or had no data) is kept in the
	   evidence, not as a result of its own: the record keeps a result every judge.look */
	x->out->analysis_quiet = seq && !x->ask_step && (res->verdict == AV_PASS || res->verdict == AV_INCONCLUSIVE);
	schedule(d, a.to_ms, period_ms(x));
	x->out->changed = 1;

	switch (res->verdict) {
	case AV_ROLLBACK_IMMEDIATE:
	case AV_ROLLBACK_TYPE:
		if (*g)
			bprintf(reason, sizeof(reason), "region '%s': %s", g, res->reason);
		else
			bprintf(reason, sizeof(reason), "%s", res->reason);
		start_rollback(x, reason);
		return;
	case AV_CONSIDER:
		if (was == DS_PAUSED)
			return;
		d->resume_state = was;
		d->paused_by_rule = 1;
		go(x, DS_PAUSED, res->reason);
		fix_last(x);
		notify(x, "paused", res->reason);
		return;
	case AV_CHECK_FAILED:
		/* Flagger counts a failed check per analysis interval: a judge that looks more
		   often counts at most one an interval (docs/judge.md, "looks") */
		if (seq && d->check_counted_ms &&
		    deployment_engine_span(d, a.to_ms - d->check_counted_ms) < x->s->interval_ms)
			return;
		d->check_counted_ms = a.to_ms;
		count_failed_check(x, res->reason);
		return;
	case AV_INCONCLUSIVE:
		if (seq)
			break;	/* never a pass and never a failed check: the step waits (step_ready) */
		if (!d->inconclusive_since_ms)
			d->inconclusive_since_ms = a.from_ms;
		if (deployment_engine_span(d, a.to_ms - d->inconclusive_since_ms) >= x->s->progress_deadline_ms) {
			char what[400], span[SPAN_BUFSZ];
			bprintf(what, sizeof(what), "inconclusive for %s (progress deadline): %s",
				 secs_text(d, deployment_engine_span(d, a.to_ms - d->inconclusive_since_ms), span),
				 res->reason);
			d->inconclusive_since_ms = a.to_ms;
			count_failed_check(x, what);
		}
		return;
	case AV_PASS:
		d->inconclusive_since_ms = 0;
		break;
	}
	if (was == DS_MONITORING) {
		if (res->verdict != AV_PASS)
			return;
		if (x->r->monitoring_ms != MONITORING_CONTINUOUS &&
		    deployment_engine_span(d, a.to_ms - d->monitoring_since_ms) >= x->r->monitoring_ms) {
			char per[SPAN_BUFSZ];
			char text[480];
			bprintf(reason, sizeof(reason), "monitoring period %s at 100%% passed (%s): %s",
				 span_text(d, x->r->monitoring_ms, per), x->r->type, res->reason);
			go(x, DS_SUCCEEDED, reason);
			fix_last(x);
			bprintf(text, sizeof(text), "DEPLOYMENT COMPLETE %s %s: %s", d->service, d->version, reason);
			notify(x, "succeeded", text);
		}
		return;
	}
	if (was == DS_PROGRESSING && x->in->gate == GATE_DENY) {
		/* the gate forbids going on (a window closed under on_window_close: rollback) */
		bprintf(reason, sizeof(reason), "%s", x->in->gate_reason[0] ? x->in->gate_reason : "the gate closed");
		start_rollback(x, reason);
		return;
	}
	if (seq && was == DS_PAUSED && d->paused_by_rule == 2 && d->step >= 1 && d->step <= x->s->n_steps &&
	    x->in->gate != GATE_WAIT) {
		/* paused for lack of evidence, and the evidence came while waiting: go on */
		int pause;
		if (step_ready(x, &x->s->steps[d->step - 1], res, &pause) && res->verdict == AV_PASS) {
			bprintf(reason, sizeof(reason), "evidence arrived while paused at %.4g%%: %s", d->weight,
				res->step_question);
			d->paused_by_rule = 0;
			go(x, DS_PROGRESSING, reason);
			fix_last(x);
			notify(x, "resumed", reason);
			next_step_or_promote(x, a.to_ms, reason);
		}
		return;
	}
	if (was != DS_PROGRESSING || x->in->gate == GATE_WAIT)
		return;
	if (d->step >= 1 && d->step <= x->s->n_steps) {
		const struct rollout_step *st = &x->s->steps[d->step - 1];
		char hold[SPAN_BUFSZ];
		if (seq && !st->idle) {
			int pause, ready = step_ready(x, st, res, &pause);
			/* no interval judged at this step (no metrics: the provider failed, or the
			 * log never arrived) while the maximum hold went by: a person is told,
			 * the step never waits in silence for ever */
			int64_t waiting_since = d->step_since_ms > d->state_since_ms ? d->step_since_ms : d->state_since_ms;
			if (!ready && !pause && d->ev.held_ms == 0 && !a.have_samples &&
			    (double)deployment_engine_span(d, a.to_ms - waiting_since) >= no_evidence_wait_ms(x, st)) {
				char hold2[SPAN_BUFSZ];
				bprintf(reason, sizeof(reason), "no evidence: no interval could be judged for %s at %.4g%% (%s); "
					"traffic stays as it is; promote, wait or abort",
					span_text(d, deployment_engine_span(d, a.to_ms - waiting_since), hold2), d->weight,
					res->reason);
				bprintf(res->rule, sizeof(res->rule), "insufficient-traffic");
				d->resume_state = was;
				d->paused_by_rule = 2;
				go(x, DS_PAUSED, reason);
				fix_last(x);
				notify(x, "paused", reason);
				return;
			}
			if (res->verdict != AV_PASS) {
				char q[300];
				ready = 0;
				pause = (double)d->ev.held_ms >= step_wait_ms(x, st);
				bprintf(q, sizeof(q), "%s", res->step_question);
				if (pause && res->step_answered > 0)
					bprintf(res->step_question, sizeof(res->step_question), "%s", res->reason);
				else if (pause)
					bprintf(res->step_question, sizeof(res->step_question), "%s; %s", q, res->reason);
			}
			if (ready) {
				bprintf(reason, sizeof(reason), "analysis passed at %.4g%% for %s; %s", d->weight,
					span_text(d, d->ev.held_ms, hold), res->step_question);
				next_step_or_promote(x, a.to_ms, reason);
			} else if (pause) {
				bprintf(reason, sizeof(reason), "insufficient traffic: %s after %s at %.4g%%; promote, "
					"wait or abort", res->step_question, span_text(d, d->ev.held_ms, hold), d->weight);
				bprintf(res->rule, sizeof(res->rule), "insufficient-traffic");
				d->resume_state = was;
				d->paused_by_rule = 2;
				go(x, DS_PAUSED, reason);
				fix_last(x);
				notify(x, "paused", reason);
			}
			return;
		}
		if (deployment_engine_span(d, a.to_ms - d->step_since_ms) >= st->hold_ms) {
			bprintf(reason, sizeof(reason), "analysis passed at %.4g%% for %s", d->weight,
				 span_text(d, deployment_engine_span(d, a.to_ms - d->step_since_ms), hold));
			next_step_or_promote(x, a.to_ms, reason);
		}
	}
}

/*
 * A fleet host that does not answer (tick_input.host_away; docs/fleet.md
 * "Host failures").  The hold's start is kept with the deployment
 * (host_away_since_ms), so a restarted controller bounds the same hold.
 * While a host is away the step does not move (deployment_advance() reads
 * it as the gate's WAIT) and the rollback rules still apply to what serves.
 * Past fleet.host_hold_max of engine time in progressing (counted from when
 * the host went away, or from a person's resume if later: a resume is a
 * person deciding to wait another host_hold_max), fleet.on_host_lost rolls
 * back or pauses for a person, the reason naming the host and how long it
 * was away.  The bound is engine time, as the progress deadline is: a time
 * scale shortens it (docs/engine.md "Time scale").
 *
 * When the host answers again, a step the hold spanned restarts its clock,
 * as if it began then: its looks during the hold measured the step on fewer
 * hosts (and, with the canary's instances on the lost host, on none of its
 * traffic), and counting them toward the step's hold and the sequential
 * judge's maximum hold let a long hold end in "insufficient traffic" and a
 * short one pass the step on what fewer hosts showed.  The evidence itself
 * (the sequential tests over the whole deployment) is kept: it was real.
 * The look under way is dropped (it began during the hold) and the next one
 * starts now.  Monitoring and the warm-up keep their clocks.
 */
static void restart_step_clock(struct run *x, int64_t away_ms)
{
	struct deployment *d = x->d;
	const struct rollout_step *st = &x->s->steps[d->step - 1];
	char reason[400], a[SPAN_BUFSZ], h[SPAN_BUFSZ];

	d->step_since_ms = x->now;
	d->ev.held_ms = 0;
	d->ev.step_requests = 0;
	d->inconclusive_since_ms = 0;
	if (d->next_analysis_ms)
		schedule(d, x->now, period_ms(x));
	bprintf(reason, sizeof(reason), "every host answers again after %s away: step %d/%d at %.4g%% starts over "
		"(hold %s from now): its looks during the hold measured fewer hosts", span_text(d, away_ms, a),
		d->step, x->s->n_steps, d->weight, span_text(d, st->hold_ms, h));
	/* a row in the record, not a change of state: no notification; a paused deployment keeps
	   the reason it is paused for */
	if (d->state == DS_PAUSED) {
		char why[sizeof(d->reason)];
		bprintf(why, sizeof(why), "%s", d->reason);
		go(x, d->state, reason);
		bprintf(d->reason, sizeof(d->reason), "%s", why);
	} else {
		go(x, d->state, reason);
	}
	fix_last(x);
}

static void host_hold(struct run *x)
{
	struct deployment *d = x->d;
	const struct fleet_settings *f = &x->r->fleet;
	int64_t limit = f->host_hold_max_ms > 0 ? f->host_hold_max_ms : HOST_HOLD_MAX_DEFAULT_MS;
	int watched = d->state == DS_PROGRESSING || d->state == DS_PAUSED || d->state == DS_PROMOTING ||
		      d->state == DS_MONITORING;
	int in_step = (d->state == DS_PROGRESSING || (d->state == DS_PAUSED && d->resume_state == DS_PROGRESSING)) &&
		      d->step >= 1 && d->step <= x->s->n_steps;
	char reason[400], a[SPAN_BUFSZ], l[DURATION_BUFSZ];
	int64_t since, away;

	if (x->in->host_away < 0)
		return;
	if (!x->in->host_away || !watched) {
		if (d->host_away_since_ms) {
			away = deployment_engine_span(d, x->now - d->host_away_since_ms);
			d->host_away_since_ms = 0;
			x->out->changed = 1;
			if (in_step && watched)
				restart_step_clock(x, away);
		}
		return;
	}
	if (!d->host_away_since_ms) {
		d->host_away_since_ms = x->now;
		x->out->changed = 1;
	}
	if (d->state != DS_PROGRESSING)
		return;	/* paused: a person decides already; promoting and monitoring do not hold */
	since = d->host_away_since_ms > d->state_since_ms ? d->host_away_since_ms : d->state_since_ms;
	if (deployment_engine_span(d, x->now - since) < limit)
		return;
	away = deployment_engine_span(d, x->now - d->host_away_since_ms);
	bprintf(reason, sizeof(reason), "host lost: away %s, past fleet.host_hold_max %s (on_host_lost: %s): %s",
		span_text(d, away, a), duration_format(limit, l), f->on_host_lost == HOST_LOST_PAUSE ? "pause" :
		"rollback", x->in->host_reason[0] ? x->in->host_reason : "a host does not answer");
	if (f->on_host_lost == HOST_LOST_PAUSE) {
		char text[480];
		d->resume_state = DS_PROGRESSING;
		d->paused_by_rule = 4;
		go(x, DS_PAUSED, reason);
		fix_last(x);
		bprintf(text, sizeof(text), "%s; traffic stays as it is: resume (wait another %s), promote or abort",
			reason, l);
		notify(x, "paused", text);
		return;
	}
	start_rollback(x, reason);
}

/* The start of the range that ends at next_analysis_ms. */
static int64_t range_from(const struct deployment *d, const struct strategy *s)
{
	return d->analysis_from_ms > 0 && d->analysis_from_ms < d->next_analysis_ms ? d->analysis_from_ms :
	       d->next_analysis_ms - deployment_wall_span(d, s->interval_ms);
}

/*
 * How long past its end a look must be, when the controller starts
 * observing, to count as missed (rule 4 above): a whole look, and at least
 * a whole judge.look.  A look shortened by traffic (judge.h,
 * JUDGE_LOOK_REQUESTS) is a fraction of a second: a controller restarted a
 * few seconds later would otherwise find it "missed" and move the step's
 * schedule, so the same inputs would give different transitions depending on
 * when the controller was restarted.
 */
static int64_t missed_after_ms(const struct run *x)
{
	int64_t len = x->d->next_analysis_ms - range_from(x->d, x->s);
	int64_t whole = deployment_wall_span(x->d, period_ms(x));
	return len > whole ? len : whole;
}

int deployment_analysis_due(const struct deployment *d, const struct strategy *s, int64_t now_ms,
			    int64_t *from_ms, int64_t *to_ms, double *weight, int *idle)
{
	if (d->state != DS_PROGRESSING && d->state != DS_PAUSED && d->state != DS_MONITORING)
		return 0;
	if (!d->next_analysis_ms || now_ms < d->next_analysis_ms)
		return 0;
	*from_ms = range_from(d, s);
	*to_ms = d->next_analysis_ms;
	*weight = d->weight;
	*idle = d->state != DS_MONITORING && d->step >= 1 && d->step <= s->n_steps && s->steps[d->step - 1].idle;
	return 1;
}

int deployment_advance(const struct deployment *d, const struct type_rules *r, const struct strategy *s,
		       const struct tick_input *in, const struct intent *intents, int n_intents,
		       int64_t now_ms, struct decision *out)
{
	static const struct tick_input no_input = { .gate = GATE_ALLOW, .canary_ready = 1 };
	struct tick_input held;
	struct run x;

	if (!d || !r || !s || !out || n_intents < 0 || (n_intents && !intents))
		return SW_EUSAGE;
	if (s->interval_ms <= 0 || s->threshold < 1 || s->n_steps < 0 || s->n_steps > STRATEGY_MAX_STEPS)
		return SW_ECONFIG;
	memset(out, 0, sizeof(*out));
	out->next = *d;
	x = (struct run){ 0, r, s, in ? in : &no_input, now_ms, out, &out->next, NULL, { 0 } };
	if (x.in->host_away > 0 && x.in->gate == GATE_ALLOW) {
		/* a host that does not answer holds the step, as a closed gate does (host_hold()) */
		held = *x.in;
		held.gate = GATE_WAIT;
		bprintf(held.gate_reason, sizeof(held.gate_reason), "holding: %s",
			held.host_reason[0] ? held.host_reason : "a host does not answer");
		x.in = &held;
	}
	x.judge = analysis_judge(r, s, x.in->judge, &x.judge_buf);

	for (int i = 0; i < n_intents && out->n_intents < DECISION_MAX_INTENTS; i++) {
		if (intents[i].created_ms > now_ms)
			continue;
		apply_intent(&x, &intents[i]);
	}

	/* a rollback webhook answering 2xx rolls back (Flagger: Progressing/Waiting/WaitingPromotion) */
	if (x.in->rollback_requested && (x.d->state == DS_PROGRESSING || x.d->state == DS_PAUSED)) {
		char reason[400];
		bprintf(reason, sizeof(reason), "rollback requested: %s",
			 x.in->hook_reason[0] ? x.in->hook_reason : "rollback webhook");
		start_rollback(&x, reason);
	}

	/* the rollout file's analyses (core/query_analysis.h): Argo's Failed and Error abort, Inconclusive
	   pauses for a person (docs/argo.md, "How a deployment runs them") */
	if (x.in->analysis_rollback && (x.d->state == DS_PROGRESSING || x.d->state == DS_PAUSED))
		start_rollback(&x, x.in->analysis_reason[0] ? x.in->analysis_reason : "analysis failed");
	else if (x.in->analysis_pause && x.d->state == DS_PROGRESSING) {
		x.d->resume_state = DS_PROGRESSING;
		x.d->paused_by_rule = 3;
		go(&x, DS_PAUSED, x.in->analysis_reason[0] ? x.in->analysis_reason : "analysis inconclusive");
		fix_last(&x);
		notify(&x, "paused", x.in->analysis_reason);
	}

	/* the target cannot keep the new revision running (instances died again and again) */
	if (x.in->target_failed && (x.d->state == DS_PROGRESSING || x.d->state == DS_PAUSED ||
				    x.d->state == DS_PROMOTING || x.d->state == DS_MONITORING)) {
		char reason[400];
		bprintf(reason, sizeof(reason), "%s", x.in->target_reason[0] ? x.in->target_reason :
			 "the new revision's instances keep dying");
		start_rollback(&x, reason);
	}

	if (x.in->observing && x.d->next_analysis_ms &&
	    (x.d->state == DS_PROGRESSING || x.d->state == DS_PAUSED || x.d->state == DS_MONITORING) &&
	    x.d->next_analysis_ms < x.in->observed_since_ms &&
	    now_ms - x.d->next_analysis_ms >= missed_after_ms(&x)) {
		/* the interval began before anyone observed it (a controller restart), or before
		   the router and target showed the state (a slow actuation): not judged on data
		   nobody watched, nor on later data; the hold counts observed time only, from now
		   or from when the state became real if that is later */
		int64_t len = x.d->next_analysis_ms - range_from(x.d, s);
		int64_t at = x.in->observed_since_ms > now_ms ? x.in->observed_since_ms : now_ms;
		int64_t gap = at - range_from(x.d, s);
		x.d->analysis_from_ms = at;	/* len is wall time already */
		x.d->next_analysis_ms = at + len;
		if (gap > 0) {
			x.d->step_since_ms += gap;
			if (x.d->state == DS_MONITORING || x.d->resume_state == DS_MONITORING)
				x.d->monitoring_since_ms += gap;
		}
		out->changed = 1;
	}

	host_hold(&x);

	switch (x.d->state) {
	case DS_PENDING:
		tick_pending(&x);
		break;
	case DS_PROGRESSING:
	case DS_PAUSED:
	case DS_MONITORING:
		if (x.in->analysis && x.d->next_analysis_ms && x.in->analysis->to_ms == x.d->next_analysis_ms) {
			if (x.d->state == DS_PROGRESSING && x.d->step == 0)
				tick_warmup(&x, x.in->analysis);
			else
				tick_analysis(&x, x.in->analysis);
		}
		break;
	case DS_PROMOTING:
		if (now_ms > x.d->state_since_ms) {
			char per[SPAN_BUFSZ];
			char reason[200];
			if (r->monitoring_ms == MONITORING_CONTINUOUS)
				bprintf(reason, sizeof(reason), "at 100%%: monitoring continuously (%s) until a person "
					 "ends it with promote", r->type);
			else
				bprintf(reason, sizeof(reason), "at 100%%: monitoring for %s (%s)",
					 span_text(x.d, r->monitoring_ms, per), r->type);
			go(&x, DS_MONITORING, reason);
			x.d->monitoring_since_ms = now_ms;
			schedule(x.d, now_ms, period_ms(&x));
			x.d->inconclusive_since_ms = 0;
			fix_last(&x);
		}
		break;
	case DS_ROLLING_BACK:
		if (now_ms > x.d->state_since_ms) {
			char reason[480], text[520];
			if (x.d->from_version[0])
				bprintf(reason, sizeof(reason), "rolled back to %s: %s", x.d->from_version, d->reason);
			else
				bprintf(reason, sizeof(reason), "stopped (a first release: no earlier revision to "
					 "roll back to): %s", d->reason);
			x.d->weight = 0;
			go(&x, DS_ROLLED_BACK, reason);
			fix_last(&x);
			bprintf(text, sizeof(text), "ROLLBACK COMPLETE %s %s: %s", x.d->service, x.d->version, reason);
			notify(&x, "rolled-back", text);
		}
		break;
	default:
		break;
	}
	return 0;
}

void deployment_desired(const struct deployment *d, const struct strategy *s, struct desired_state *out)
{
	int ng = s->n_groups > 0 ? s->n_groups : 1;
	const struct rollout_step *st = NULL;

	memset(out, 0, sizeof(*out));
	out->n_groups = ng;
	if (d->step >= 1 && d->step <= s->n_steps)
		st = &s->steps[d->step - 1];
	switch (d->state) {
	case DS_PENDING:
	case DS_FAILED:
	case DS_ROLLING_BACK:
	case DS_ROLLED_BACK:
		out->stable_up = 1;
		if (s->kind == STRATEGY_ROLLING)
			out->stable_instances = s->replicas;
		return;
	case DS_PROGRESSING:
	case DS_PAUSED:
		out->canary_up = 1;
		out->stable_up = 1;
		for (int g = 0; g < ng; g++)
			out->group_weight[g] = g < d->group ? 100 : g == d->group ? d->weight : 0;
		if (s->kind == STRATEGY_ROLLING) {
			out->canary_instances = st ? st->new_instances : 0;
			out->stable_instances = st ? st->old_instances : s->replicas;
			out->canary_up = out->canary_instances > 0;
			out->stable_up = out->stable_instances > 0;
		}
		return;
	case DS_PROMOTING:
	case DS_MONITORING:
		out->canary_up = 1;
		out->stable_up = s->kind != STRATEGY_ROLLING;	/* kept ready for an instant switch back */
		for (int g = 0; g < ng; g++)
			out->group_weight[g] = 100;
		if (s->kind == STRATEGY_ROLLING)
			out->canary_instances = s->replicas;
		return;
	case DS_SUCCEEDED:
		out->canary_up = 1;
		for (int g = 0; g < ng; g++)
			out->group_weight[g] = 100;
		if (s->kind == STRATEGY_ROLLING)
			out->canary_instances = s->replicas;
		return;
	}
}
