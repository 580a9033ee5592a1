/*
 * controller.c - the reconcile loop; see controller.h.
 *
 * WHAT RUNS EACH TICK (controller_tick(), like Redis's serverCron: called
 * once per tick, everything here must be bounded and never block on a
 * person):
 *
 *   1. List the active deployments: every non-final one, and every one with
 *      an intent not yet applied (retry/undo act on final deployments),
 *      created before this tick: one created during a tick (by a retry,
 *      or by `slipway deploy` meanwhile) waits for the next, so the work of
 *      a tick is the same whether or not the controller restarted in it.
 *   2. For each, oldest first (visit()):
 *      a. load the row and its strategy (cached: a strategy never changes
 *         after the deployment is created);
 *      b. reconcile: if the router/target are not known to show the
 *         committed row's desired state (first tick after a start, or a
 *         failed actuation), apply it now; on failure skip the deployment
 *         this tick, so no decision is taken on a state that is not real;
 *      c. read its pending intents, ask the gate hook (pending: may it
 *         start; progressing: may it raise the weight), for a pending one
 *         allowed to start check that every webhook is reachable
 *         (preflight; bounded by 2 s per webhook) and ask the
 *         confirm-rollout webhooks, ask the target
 *         whether the new revision is ready, and if an analysis interval is
 *         complete measure it with the metrics provider and call the
 *         pre-rollout/rollout, rollback and confirm-promotion webhooks
 *         (controller.h: webhook_call);
 *      d. deployment_advance() (core, pure) decides;
 *      e. after all deployments are decided: one transaction for the tick,
 *         one savepoint per deployment, deployment_store_apply() writes its
 *         row, transitions, consumed intents, analysis result and any
 *         deployment a retry/undo creates, guarded by the row version (a
 *         conflict rolls back that deployment's savepoint only); COMMIT
 *         (one fsync per tick, not one per deployment);
 *      f. only then act, for each committed decision: apply the new desired
 *         state (start before shifting traffic, stop after), then pass the
 *         notifications to the hook.
 *   3. Return how many deployments are still active.
 *
 * A crash anywhere leaves either the old row (the decision is taken again
 * on the same inputs) or the new row (its desired state is applied by step
 * 2b after the restart): nothing is lost and nothing happens twice, which
 * tests/cli/engine-crash.sh checks by SIGKILLing the simulator.
 */
#include "controller/controller.h"
#include "controller/measure.h"
#include "adapters/deployment_store.h"
#include "adapters/store.h"
#include "adapters/webhook.h"
#include "core/rules.h"
#include "base/fmt.h"
#include "base/alloc.h"
#include "base/err.h"
#include "base/strbuf.h"
#include "base/timeutil.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


struct controller_applied {
	int64_t id;
	int have_desired;
	struct desired_state desired;	/* what the router/target were last told */
	struct strategy strategy;	/* cached */
	int deaths;			/* times the new revision was found dead after it was ready */
	int was_ready;			/* the new revision was ready at the last watch */
	int stable_deaths;		/* the same for the stable revision */
	int stable_was_ready;
	int holding;			/* bit 1: the new, 2: the stable revision's readiness could not be told
					   at its last watch (a host is away) */
	struct fleet_settings fleet;	/* the type's rules' bound on such a hold, for the note that says so */
	unsigned long last_log;		/* hash of the last "cannot apply" message: logged once */
	int64_t failing_since;		/* controller time the desired state first failed to apply, or 0 */
	int64_t settled_ms;		/* hooks.now() when a slow application of the desired state ended, or 0 */
	struct controller_queries *q;	/* the rollout file's queries (controller.h `queries`), or NULL */
};

/* One deployment's progress through the rollout file's queries. */
struct controller_queries {
	struct query_state st;
	struct query_row rows[QUERY_MAX_METRICS];	/* the last measurements, for the analysis result */
	int have_last;
	struct analysis_result last;	/* the last analysis result: the table an analysis verdict carries */
};

/* after this many deaths of the new revision's instances the deployment rolls back */
#define CONTROLLER_MAX_DEATHS 3

void controller_init(struct controller *c, struct store *st)
{
	memset(c, 0, sizeof(*c));
	c->st = st;
	c->hooks.webhook_check = webhook_check_reachable;
	c->hooks.webhook_call = webhook_call;
}

void controller_release(struct controller *c)
{
	for (size_t i = 0; i < c->n_applied; i++)
		free(c->applied[i].q);
	free(c->applied);
	c->applied = NULL;
	c->n_applied = c->alloc_applied = 0;
}

void controller_forget(struct controller *c)
{
	for (size_t i = 0; i < c->n_applied; i++)
		c->applied[i].have_desired = 0;
}

static struct controller_applied *entry(struct controller *c, int64_t id, int create)
{
	/* ids arrive sorted each tick; entries are kept sorted: binary search */
	size_t lo = 0, hi = c->n_applied;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (c->applied[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < c->n_applied && c->applied[lo].id == id)
		return &c->applied[lo];
	if (!create)
		return NULL;
	ALLOC_GROW(c->applied, c->n_applied + 1, c->alloc_applied);
	memmove(&c->applied[lo + 1], &c->applied[lo], (c->n_applied - lo) * sizeof(c->applied[0]));
	c->n_applied++;
	memset(&c->applied[lo], 0, sizeof(c->applied[lo]));
	c->applied[lo].id = id;
	c->applied[lo].strategy.interval_ms = 0;	/* not loaded */
	return &c->applied[lo];
}

static void drop(struct controller *c, int64_t id)
{
	struct controller_applied *e = entry(c, id, 0);
	if (!e)
		return;
	size_t i = (size_t)(e - c->applied);
	free(e->q);
	memmove(&c->applied[i], &c->applied[i + 1], (c->n_applied - i - 1) * sizeof(c->applied[0]));
	c->n_applied--;
}

__attribute__((format(printf, 3, 4)))
static void logf_(struct controller *c, const struct deployment *d, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	c->stats.errors++;
	if (!c->hooks.log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c->hooks.log(c->hooks.ctx, d, msg);
}

static int same_desired(const struct desired_state *a, const struct desired_state *b)
{
	if (a->canary_up != b->canary_up || a->stable_up != b->stable_up ||
	    a->canary_instances != b->canary_instances || a->stable_instances != b->stable_instances ||
	    a->n_groups != b->n_groups)
		return 0;
	for (int g = 0; g < a->n_groups; g++)
		if (a->group_weight[g] != b->group_weight[g])
			return 0;
	return 1;
}

/* Make the router and target show ds: start what must run, shift traffic, stop the rest. */
static int actuate(struct controller *c, const struct deployment *d, const struct strategy *s,
		   const struct desired_state *ds, struct strbuf *err)
{
	const struct target *t = c->target;
	const struct router *rt = c->router;
	int r;

	c->stats.actuations++;
	if (t && t->regions && s->n_groups > 0 && ds->canary_up) {
		/* region-by-region: the new revision runs in the groups reached so far
		 * (d->group and those before it); promoted, everywhere */
		const char *names[STRATEGY_MAX_GROUPS];
		int n = 0, all = d->state == DS_PROMOTING || d->state == DS_MONITORING || d->state == DS_SUCCEEDED;
		for (int g = 0; g < s->n_groups && g <= d->group; g++)
			names[n++] = s->groups[g];
		if ((r = t->regions(t->ctx, d->service, d->version, names, all ? -1 : n, err)) < 0)
			return r;
	}
	if (t && t->ensure) {
		if (ds->canary_up &&
		    (r = t->ensure(t->ctx, d->service, d->version, ROLE_CANARY, 1, ds->canary_instances, err)) < 0)
			return r;
		if (ds->stable_up && d->from_version[0] &&
		    (r = t->ensure(t->ctx, d->service, d->from_version, ROLE_STABLE, 1, ds->stable_instances, err)) < 0)
			return r;
	}
	if (rt && rt->set_weight) {
		for (int g = 0; g < ds->n_groups; g++) {
			const char *group = s->n_groups > 0 ? s->groups[g] : "";
			if ((r = rt->set_weight(rt->ctx, d->service, group, d->from_version, d->version,
						ds->group_weight[g], err)) < 0)
				return r;
		}
	}
	if (t && t->ensure) {
		if (!ds->canary_up && (r = t->ensure(t->ctx, d->service, d->version, ROLE_CANARY, 0, 0, err)) < 0)
			return r;
		if (!ds->stable_up && d->from_version[0] &&
		    (r = t->ensure(t->ctx, d->service, d->from_version, ROLE_STABLE, 0, 0, err)) < 0)
			return r;
	}
	return 0;
}


/*
 * actuate(), timed by hooks.now: when applying ds took longer than one
 * analysis interval, e->settled_ms is when it ended (controller.h, hooks.now).
 */
static int actuate_timed(struct controller *c, struct controller_applied *e, const struct deployment *d,
			 const struct strategy *s, const struct desired_state *ds, struct strbuf *err)
{
	int64_t t0 = c->hooks.now ? c->hooks.now(c->hooks.ctx) : 0, t1;
	int r = actuate(c, d, s, ds, err);
	if (r < 0 || !c->hooks.now)
		return r;
	t1 = c->hooks.now(c->hooks.ctx);
	if (s->interval_ms > 0 && t1 - t0 >= deployment_wall_span(d, s->interval_ms))
		e->settled_ms = t1;
	return r;
}

static const char *flagger_phase(const struct deployment *d)
{
	switch (d->state) {
	case DS_PENDING: return "Waiting";
	case DS_PROGRESSING: return "Progressing";
	case DS_PAUSED: return "Progressing";
	case DS_PROMOTING: return "Promoting";
	case DS_MONITORING: return "Finalising";
	case DS_SUCCEEDED: return "Succeeded";
	case DS_ROLLING_BACK: return "Failed";
	case DS_ROLLED_BACK: return "Failed";
	case DS_FAILED: return "Failed";
	}
	return "Progressing";
}

/*
 * Call every webhook of `type`; returns how many answered 2xx and sets
 * *failed to how many did not (or failed), with the first such in reason.
 */
static int call_hooks(struct controller *c, const struct strategy *s, const struct deployment *d,
		      enum webhook_type type, const char *event, int *failed, char *reason, size_t rsize)
{
	int yes = 0;
	char *payload = NULL;

	*failed = 0;
	if (!c->hooks.webhook_call)
		return 0;
	for (int i = 0; i < s->n_webhooks; i++) {
		const struct webhook *w = &s->webhooks[i];
		struct strbuf err = STRBUF_INIT;
		long status = 0;
		if (w->type != type)
			continue;
		if (!payload) {
			char id[32], weight[32];
			json_t *j;
			snprintf(id, sizeof(id), "%lld", (long long)d->id);
			snprintf(weight, sizeof(weight), "%g", d->weight);
			j = json_pack("{s:s,s:s,s:s,s:{s:s,s:s,s:s,s:s,s:s,s:s}}", "name", d->service, "namespace", d->env,
				      "phase", flagger_phase(d), "metadata", "deployment", id, "version", d->version,
				      "type", d->type, "state", deployment_state_name(d->state), "weight", weight,
				      "event", event ? event : "");
			payload = json_dumps(j, JSON_COMPACT);
			json_decref(j);
		}
		if (c->hooks.webhook_call(w, payload, &status, &err) == 0 && status >= 200 && status < 300) {
			yes++;
		} else {
			if (!*failed) {
				if (err.len)
					bprintf(reason, rsize, "%s webhook '%s': %s", webhook_type_name(type), w->name, err.buf);
				else
					bprintf(reason, rsize, "%s webhook '%s' answered %ld", webhook_type_name(type), w->name,
						status);
			}
			(*failed)++;
		}
		strbuf_release(&err);
	}
	free(payload);
	return yes;
}

static unsigned long hash_str(const char *p)
{
	unsigned long h = 5381;
	while (*p)
		h = h * 33 + (unsigned char)*p++;
	return h ? h : 1;
}

/*
 * One revision's instances, watched while they should run: an instance
 * found dead after the revision was ready makes the next tick re-apply the
 * desired state (the target restarts it, with its backoff, and the router's
 * server follows its new port), and is a row in the deployment's
 * transitions; the CONTROLLER_MAX_DEATHS-th death of the revision fails the
 * deployment with that reason (a rollback) rather than with the empty
 * intervals it causes ("canary 0 requests").
 */
static void watch_revision(struct controller *c, struct controller_applied *e, const struct deployment *d,
			   const char *what, const char *version, int *was_ready, int *deaths, int64_t now_ms,
			   struct tick_input *in)
{
	struct strbuf why = STRBUF_INIT;
	int r = c->target->ready(c->target->ctx, d->service, version, &why);
	int bit = strcmp(version, d->version) ? 2 : 1;
	if (r >= 0 && (e->holding & bit)) {
		char note[300];
		e->holding &= ~bit;
		bprintf(note, sizeof(note), "%s %s can be told again (%s): the rollout resumes", what, version,
			r > 0 ? "ready" : "not ready yet");
		if (c->hooks.log)
			c->hooks.log(c->hooks.ctx, d, note);
		deployment_store_note(c->st, d->id, now_ms, note, NULL);
	}
	if (r > 0) {
		*was_ready = 1;
	} else if (r == 0) {
		/* a rolling step with no new instance yet is not a death (why is empty); an
		   instance gone after the revision was ready, or gone again after a death
		   (restarted, and killed before a tick saw it ready), is one */
		if ((*was_ready || *deaths > 0) && why.len) {
			char note[600];
			(*deaths)++;
			bprintf(note, sizeof(note), "%s %s died (%d of %d allowed): %s; restarting it", what, version,
				*deaths, CONTROLLER_MAX_DEATHS - 1, why.buf);
			logf_(c, d, "%s", note);
			/* the record says so, whatever follows (best effort: the tick's own commit is apart) */
			deployment_store_note(c->st, d->id, now_ms, note, NULL);
			if (*deaths >= CONTROLLER_MAX_DEATHS && !in->target_failed) {
				in->target_failed = 1;
				bprintf(in->target_reason, sizeof(in->target_reason), "%s %s died %d times: %s", what,
					version, *deaths, why.buf);
			}
		}
		*was_ready = 0;
		e->have_desired = 0;	/* re-applied next tick: the target restarts what is gone */
	} else if (why.len) {
		/* the target cannot tell (a fleet host does not answer, docs/fleet.md "Host
		   failures"): not ready and not dead; the rollout holds (no step forward, the
		   rollback rules still apply) and resumes when the target answers again; the core
		   bounds the hold (fleet.host_hold_max) and restarts the step's clock after it */
		if (in->host_away <= 0) {
			in->host_away = 1;
			bprintf(in->host_reason, sizeof(in->host_reason), "%s %s: %s", what, version, why.buf);
		}
		if (in->gate == GATE_ALLOW) {
			in->gate = GATE_WAIT;
			bprintf(in->gate_reason, sizeof(in->gate_reason), "holding, %s %s is not ready: %s", what, version,
				why.buf);
		}
		if (!(e->holding & bit)) {
			char note[700], lim[DURATION_BUFSZ];
			e->holding |= bit;
			bprintf(note, sizeof(note), "holding: %s %s is not ready and not dead: %s; at most "
				"fleet.host_hold_max %s, then on_host_lost: %s", what, version, why.buf,
				duration_format(e->fleet.host_hold_max_ms > 0 ? e->fleet.host_hold_max_ms :
						HOST_HOLD_MAX_DEFAULT_MS, lim),
				e->fleet.on_host_lost == HOST_LOST_PAUSE ? "pause" : "rollback");
			if (c->hooks.log)
				c->hooks.log(c->hooks.ctx, d, note);
			deployment_store_note(c->st, d->id, now_ms, note, NULL);
		}
	}
	strbuf_release(&why);
}

/*
 * Watch the revisions that should run while traffic may reach them: after
 * the warm-up, every tick to the end of monitoring, the new revision and
 * the stable one (which serves beside the canary and stays up through
 * monitoring for an instant switch back).
 */
static void watch(struct controller *c, struct controller_applied *e, const struct deployment *d,
		  const struct desired_state *ds, int64_t now_ms, struct tick_input *in)
{
	if (!c->target || !c->target->ready || deployment_state_is_final(d->state) || d->state == DS_PENDING ||
	    d->state == DS_ROLLING_BACK)
		return;
	if (ds->canary_up)
		watch_revision(c, e, d, "the new revision", d->version, &e->was_ready, &e->deaths, now_ms, in);
	if (ds->stable_up && d->from_version[0])
		watch_revision(c, e, d, "the stable revision", d->from_version, &e->stable_was_ready,
			       &e->stable_deaths, now_ms, in);
}

/* One deployment's decision of this tick, waiting for the tick's commit. */
struct work {
	int64_t id;
	struct deployment before;
	struct decision dec;
	int committed;
};

/* Heap scratch for one visit: analysis inputs and intents are a few KB. */
struct scratch {
	struct analysis_input ai;
	struct intent intents[DECISION_MAX_INTENTS];
};

/*
 * The rollout file's queries due now for d (controller.h `queries`): run,
 * recorded, and their verdict put into the tick's input: a hold is the
 * gate's WAIT (the weight does not rise), a Flagger failed check is one of
 * the interval's failed checks, an Argo Failed/Error run a rollback and an
 * Inconclusive one a pause (deployment.h tick_input).
 */
static void run_queries(struct controller *c, struct controller_applied *e, const struct deployment *d,
			int64_t now_ms, struct analysis_input *ai, struct tick_input *in)
{
	int due[QUERY_MAX_METRICS], n;
	struct query_verdict v;

	if (!e->q) {
		e->q = xcalloc(1, sizeof(*e->q));
		query_state_init(&e->q->st, c->queries);
	}
	n = query_state_due(c->queries, &e->q->st, d, now_ms, ai != NULL, due, QUERY_MAX_METRICS);
	for (int i = 0; i < n; i++) {
		struct query_answer a;
		c->measure(c->measure_ctx, c->queries, due[i], d, now_ms, &a);
		query_state_record(c->queries, &e->q->st, due[i], d, now_ms, &a);
	}
	query_state_verdict(c->queries, &e->q->st, d, now_ms, &v);
	switch (v.action) {
	case QUERY_ROLLBACK:
		in->analysis_rollback = 1;
		bprintf(in->analysis_reason, sizeof(in->analysis_reason), "%s", v.reason);
		break;
	case QUERY_PAUSE:
		in->analysis_pause = 1;
		bprintf(in->analysis_reason, sizeof(in->analysis_reason), "%s", v.reason);
		break;
	case QUERY_FAILED_CHECK:
		if (ai && v.fresh_check && !ai->hooks_failed) {
			ai->hooks_failed = 1;
			bprintf(ai->hooks_reason, sizeof(ai->hooks_reason), "%s", v.reason);
		}
		/* the step holds too */
		__attribute__((fallthrough));
	case QUERY_HOLD:
		if (in->gate == GATE_ALLOW) {
			in->gate = GATE_WAIT;
			bprintf(in->gate_reason, sizeof(in->gate_reason), "%s", v.reason);
		}
		break;
	case QUERY_NONE:
		break;
	}
}

/*
 * The last measurements go with the decision's analysis result; an
 * analysis verdict that changed the deployment in a tick without a look
 * gets a result of its own (the last look's table, the verdict's reason),
 * so the record shows the values it acted on.
 */
static void attach_queries(struct controller_applied *e, const struct tick_input *in, struct decision *dec,
			   const struct query_plan *plan)
{
	struct controller_queries *q = e->q;
	int n = query_state_rows(plan, &q->st, &dec->next, q->rows, QUERY_MAX_METRICS);

	if (dec->has_analysis) {
		q->last = dec->analysis;
		q->have_last = 1;
	} else if ((in->analysis_rollback || in->analysis_pause) && dec->n_transitions > 0) {
		struct analysis_result *a = &dec->analysis;
		if (q->have_last) {
			*a = q->last;
		} else {
			memset(a, 0, sizeof(*a));
			a->step_answered = -1;
		}
		a->verdict = in->analysis_rollback ? AV_ROLLBACK_TYPE : AV_CONSIDER;
		bprintf(a->rule, sizeof(a->rule), "analysis");
		bprintf(a->reason, sizeof(a->reason), "%s", in->analysis_reason);
		dec->has_analysis = 1;
	}
	if (dec->has_analysis && n > 0) {
		dec->queries = q->rows;
		dec->n_queries = n;
	}
}

/* Steps 2a-2d for one deployment.  Returns 1 when *w holds a decision to commit. */
static int decide(struct controller *c, int64_t id, int64_t now_ms, struct scratch *x, struct work *w)
{
	struct controller_applied *e = entry(c, id, 1);
	struct deployment d;
	struct type_rules rules;
	struct tick_input in;
	struct desired_state ds;
	struct strbuf err = STRBUF_INIT, why = STRBUF_INIT;
	int n_intents = 0, r, ret = 0, actuated = 1;
	char ready_reason[200] = "";
	int64_t from, to;
	double wt;
	int idle;

	c->stats.visits++;
	if (deployment_store_load(c->st, id, &d, e->strategy.interval_ms ? NULL : &e->strategy, &err) < 0) {
		logf_(c, NULL, "cannot load a deployment: %s", err.buf);
		e->strategy.interval_ms = 0;
		goto out;
	}
	r = c->hooks.rules ? c->hooks.rules(c->hooks.ctx, d.type, &rules, &err) : type_rules_default(d.type, &rules, &err);
	if (r < 0) {
		logf_(c, &d, "no rules for the deployment's type: %s", err.buf);
		goto out;
	}
	/* 2b: reconcile to the committed row */
	deployment_desired(&d, &e->strategy, &ds);
	if (!e->have_desired || !same_desired(&ds, &e->desired)) {
		if (actuate_timed(c, e, &d, &e->strategy, &ds, &err) < 0) {
			unsigned long h = hash_str(err.buf);
			e->have_desired = 0;
			if (h != e->last_log) {
				logf_(c, &d, "cannot apply the desired state (retrying with backoff): %s", err.buf);
				e->last_log = h;
			} else {
				c->stats.errors++;
			}
			/* not real: no weight rises and no interval is judged, but intents
			 * apply and the progress deadline runs (docs/engine.md "Failure paths") */
			actuated = 0;
			bprintf(ready_reason, sizeof(ready_reason), "%s", err.buf);
			if (!e->failing_since)
				e->failing_since = now_ms;
		} else {
			e->desired = ds;
			e->have_desired = 1;
			e->last_log = 0;
			e->failing_since = 0;
		}
	}
	/* 2c: inputs */
	if (deployment_store_intents(c->st, id, x->intents, DECISION_MAX_INTENTS, &n_intents, &err) < 0) {
		logf_(c, &d, "cannot read intents: %s", err.buf);
		goto out;
	}
	memset(&in, 0, sizeof(in));
	in.gate = GATE_ALLOW;
	in.canary_ready = 1;
	in.judge = c->judge;
	in.observing = c->observing;
	in.host_away = actuated ? 0 : -1;	/* the watch below says 1; not asked: a hold goes on */
	e->fleet = rules.fleet;
	/* observed since this controller's first tick, or since a slow application of the state ended */
	in.observed_since_ms = e->settled_ms > c->observing_since_ms ? e->settled_ms : c->observing_since_ms;
	if (!actuated) {
		bprintf(in.ready_reason, sizeof(in.ready_reason), "%s", ready_reason);
		/* after the warm-up (whose own deadline rule applies), a new revision that cannot be
		 * (re)started for the progress deadline fails the deployment with the reason */
		if (ds.canary_up && !(d.state == DS_PROGRESSING && d.step == 0) && d.state != DS_PENDING &&
		    deployment_engine_span(&d, now_ms - e->failing_since) >= e->strategy.progress_deadline_ms) {
			char span[DURATION_BUFSZ];
			in.target_failed = 1;
			bprintf(in.target_reason, sizeof(in.target_reason), "the new revision %s could not be (re)started "
				"for %s%s (progressDeadlineSeconds): %s", d.version,
				duration_format(deployment_engine_span(&d, now_ms - e->failing_since), span),
				deployment_is_scaled(&d) ? " of scaled time" : "", ready_reason);
		}
	}
	if (c->hooks.gate && (d.state == DS_PENDING || d.state == DS_PROGRESSING)) {
		strbuf_reset(&why);
		in.gate = c->hooks.gate(c->hooks.ctx, &d, d.state == DS_PENDING ? GATE_PHASE_START : GATE_PHASE_ADVANCE,
					now_ms, &why);
		bprintf(in.gate_reason, sizeof(in.gate_reason), "%s", why.buf);
	}
	/* preflight: every webhook reachable before any traffic moves */
	if (d.state == DS_PENDING && in.gate == GATE_ALLOW && c->hooks.webhook_check) {
		for (int i = 0; i < e->strategy.n_webhooks; i++) {
			const struct webhook *wh = &e->strategy.webhooks[i];
			int64_t limit = wh->timeout_ms > 0 && wh->timeout_ms < 2000 ? wh->timeout_ms : 2000;
			strbuf_reset(&why);
			if (c->hooks.webhook_check(wh->url, limit, &why) < 0) {
				in.gate = GATE_DENY;
				bprintf(in.gate_reason, sizeof(in.gate_reason), "preflight: %s webhook '%s' (%s): %s",
					 webhook_type_name(wh->type), wh->name, wh->url, why.buf);
				break;
			}
		}
	}
	/* confirm-rollout: an approval gate (not 2xx: wait, retried every tick) */
	if (d.state == DS_PENDING && in.gate == GATE_ALLOW) {
		int failed;
		char reason[200];
		call_hooks(c, &e->strategy, &d, WEBHOOK_CONFIRM_ROLLOUT, NULL, &failed, reason, sizeof(reason));
		if (failed) {
			in.gate = GATE_WAIT;
			bprintf(in.gate_reason, sizeof(in.gate_reason), "waiting for approval: %s", reason);
		}
	}
	/* readiness matters while the new revision warms up (a rolling update starts none in step 0) */
	if (d.state == DS_PROGRESSING && d.step == 0 && ds.canary_up && c->target && c->target->ready) {
		strbuf_reset(&err);
		r = actuated ? c->target->ready(c->target->ctx, d.service, d.version, &err) : 0;
		in.canary_ready = r > 0;
		if (r > 0)
			e->was_ready = 1;	/* ready at the warm-up: gone at the first step is a death */
		if (actuated && r <= 0 && err.len)
			bprintf(in.ready_reason, sizeof(in.ready_reason), "%s", err.buf);
		/* the stable revision serves everything meanwhile: watched from the first tick */
		if (actuated && ds.stable_up && d.from_version[0])
			watch_revision(c, e, &d, "the stable revision", d.from_version, &e->stable_was_ready,
				       &e->stable_deaths, now_ms, &in);
	} else if (actuated) {
		watch(c, e, &d, &ds, now_ms, &in);
	}
	if (!actuated && in.gate == GATE_ALLOW && d.state != DS_PENDING)
		in.gate = GATE_WAIT;	/* hold: the weight never rises on a state that is not real */
	if ((actuated || (d.state == DS_PROGRESSING && d.step == 0)) &&
	    deployment_analysis_due(&d, &e->strategy, now_ms, &from, &to, &wt, &idle)) {
		int failed;
		char reason[200];
		measure_interval(c->metrics, &d, from, to, deployment_wall_span(&d, e->strategy.interval_ms), wt, idle,
				 &x->ai);
		in.analysis = &x->ai;
		/* pre-rollout at the end of the warm-up, rollout every interval after: failed checks */
		call_hooks(c, &e->strategy, &d, d.state == DS_PROGRESSING && d.step == 0 ? WEBHOOK_PRE_ROLLOUT :
			   WEBHOOK_ROLLOUT, NULL, &failed, reason, sizeof(reason));
		if (failed) {
			x->ai.hooks_failed = 1;
			bprintf(x->ai.hooks_reason, sizeof(x->ai.hooks_reason), "%s", reason);
		}
		/* the service's smoke checks against the new revision, once it is ready and before
		   any traffic reaches it (the end of the warm-up: before a canary's first step, before
		   a blue-green switch); a failure rolls back with the check and its answer */
		if (d.state == DS_PROGRESSING && d.step == 0 && in.canary_ready && c->target && c->target->smoke) {
			strbuf_reset(&why);
			if (c->target->smoke(c->target->ctx, d.service, d.version, &why) == 0) {
				in.rollback_requested = 1;
				bprintf(in.hook_reason, sizeof(in.hook_reason), "%s", why.buf);
			}
		}
		if (d.state == DS_PROGRESSING || d.state == DS_PAUSED) {
			if (call_hooks(c, &e->strategy, &d, WEBHOOK_ROLLBACK, NULL, &failed, reason, sizeof(reason)) > 0) {
				in.rollback_requested = 1;
				bprintf(in.hook_reason, sizeof(in.hook_reason), "a rollback webhook answered 2xx");
			}
		}
		if (d.state == DS_PROGRESSING && d.step >= 1 && d.step == e->strategy.n_steps) {
			call_hooks(c, &e->strategy, &d, WEBHOOK_CONFIRM_PROMOTION, NULL, &failed, reason, sizeof(reason));
			if (failed) {
				in.hold_promotion = 1;
				bprintf(in.hook_reason, sizeof(in.hook_reason), "%s", reason);
			}
		}
	}
	if (c->queries && c->measure && actuated)
		run_queries(c, e, &d, now_ms, in.analysis ? &x->ai : NULL, &in);
	/* 2d: decide */
	if (deployment_advance(&d, &rules, &e->strategy, &in, x->intents, n_intents, now_ms, &w->dec) < 0) {
		logf_(c, &d, "the state machine refused the deployment's strategy");
		goto out;
	}
	if (e->q)
		attach_queries(e, &in, &w->dec, c->queries);
	/* after a rollback the stable revision must pass the smoke checks too: said and recorded */
	if (w->dec.next.state == DS_ROLLED_BACK && d.state != DS_ROLLED_BACK && d.from_version[0] && c->target &&
	    c->target->smoke) {
		strbuf_reset(&why);
		if (c->target->smoke(c->target->ctx, d.service, d.from_version, &why) == 0) {
			char note[600];
			bprintf(note, sizeof(note), "after the rollback the stable revision %s fails its smoke check: %s",
				d.from_version, why.buf);
			logf_(c, &d, "%s", note);
			deployment_store_note(c->st, d.id, now_ms, note, NULL);
		}
	}
	if (in.analysis && x->ai.to_ms - x->ai.from_ms < CONTROLLER_SHORT_RANGE_MS &&
	    w->dec.next.next_analysis_ms && w->dec.next.next_analysis_ms <= now_ms &&
	    (w->dec.next.state == DS_PROGRESSING || w->dec.next.state == DS_PAUSED ||
	     w->dec.next.state == DS_MONITORING))
		c->analysis_behind = 1;
	if (!w->dec.changed && !w->dec.n_transitions && !w->dec.n_intents && !w->dec.has_analysis)
		goto out;
	w->id = id;
	w->before = d;
	w->committed = 0;
	ret = 1;
out:
	strbuf_release(&err);
	strbuf_release(&why);
	return ret;
}

/*
 * The store refused a write (begin, a deployment's savepoint, or the
 * commit): back off, and say so once, with what to do.  See controller.h.
 */
static void store_failed(struct controller *c, const char *what, const char *msg, int64_t now_ms)
{
	int64_t wait = 1000;
	c->store_failures++;
	for (int i = 1; i < c->store_failures && wait < 30000; i++)
		wait *= 2;
	if (wait > 30000)
		wait = 30000;
	c->store_retry_ms = now_ms + wait;
	if (c->store_failures == 1) {
		c->store_failing_since = now_ms;
		logf_(c, NULL, "%s: %s; nothing is decided or changed (traffic stays as it is) until the store can be "
		      "written again: free space on the state directory's filesystem or fix its permissions; retrying "
		      "with backoff, giving up after %llds", what, msg, (long long)(CONTROLLER_STORE_GIVE_UP_MS / 1000));
	} else {
		c->stats.errors++;
	}
}

/* Step 2e: all decisions of the tick in one transaction, one savepoint each. */
static void commit_all(struct controller *c, struct work *w, size_t n, int64_t now_ms)
{
	struct strbuf err = STRBUF_INIT;
	size_t ok_count = 0;
	int store_err = 0, r;

	if (store_begin(c->st, &err) < 0) {
		store_failed(c, "cannot begin the tick's transaction", err.buf, now_ms);
		goto out;
	}
	if (c->hooks.fence && c->hooks.fence(c->hooks.ctx, c->st, &err) < 0) {
		/* no longer entitled to decide (another controller holds the lease): nothing of this tick */
		store_rollback(c->st);
		logf_(c, NULL, "nothing committed this tick: %s", err.buf);
		for (size_t i = 0; i < n; i++) {
			struct controller_applied *e = entry(c, w[i].id, 1);
			e->strategy.interval_ms = 0;
			w[i].committed = 0;
		}
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct controller_applied *e = entry(c, w[i].id, 1);
		strbuf_reset(&err);
		store_exec(c->st, "SAVEPOINT deployment", NULL);
		if ((r = deployment_store_apply(c->st, &w[i].before, &e->strategy, &w[i].dec, now_ms, NULL, 0, &err)) < 0) {
			store_exec(c->st, "ROLLBACK TO deployment", NULL);
			store_exec(c->st, "RELEASE deployment", NULL);
			if (r == SW_ESTORE) {
				/* the store cannot write (not a conflict): the whole tick backs off */
				if (!store_err)
					store_failed(c, "cannot commit the tick", err.buf, now_ms);
				store_err = 1;
			} else {
				logf_(c, &w[i].before, "cannot commit: %s", err.buf);
			}
			e->have_desired = 0;
			e->strategy.interval_ms = 0;
			continue;
		}
		store_exec(c->st, "RELEASE deployment", NULL);
		w[i].committed = 1;
		ok_count++;
	}
	strbuf_reset(&err);
	if (store_commit(c->st, &err) < 0) {
		store_rollback(c->st);
		if (!store_err)
			store_failed(c, "cannot commit the tick", err.buf, now_ms);
		for (size_t i = 0; i < n; i++)
			w[i].committed = 0;
		goto out;
	}
	c->stats.commits += ok_count;
	if (!store_err && c->store_failures) {
		logf_(c, NULL, "the store accepts writes again after %d failed attempts", c->store_failures);
		c->stats.errors--;	/* news, not a problem */
		c->store_failures = 0;
		c->store_failing_since = 0;
		c->store_retry_ms = 0;
	}
out:
	strbuf_release(&err);
}

/* Step 2f: act on one committed decision. */
static void act(struct controller *c, struct work *w)
{
	struct controller_applied *e = entry(c, w->id, 1);
	struct desired_state ds;
	struct strbuf err = STRBUF_INIT;

	c->stats.transitions += (uint64_t)w->dec.n_transitions;
	/* the messages first: "ROLLBACK INITIATED" before "drained and stopped" */
	for (int i = 0; i < w->dec.n_actions; i++) {
		int failed;
		char reason[200];
		if (w->dec.actions[i].kind != ACT_NOTIFY)
			continue;
		if (c->hooks.notify)
			c->hooks.notify(c->hooks.ctx, &w->dec.next, w->dec.actions[i].event, w->dec.actions[i].text);
		call_hooks(c, &e->strategy, &w->dec.next, WEBHOOK_EVENT, w->dec.actions[i].text, &failed, reason,
			   sizeof(reason));
		if (failed)
			logf_(c, &w->dec.next, "%s", reason);
	}
	deployment_desired(&w->dec.next, &e->strategy, &ds);
	if (!e->have_desired || !same_desired(&ds, &e->desired)) {
		if (actuate_timed(c, e, &w->dec.next, &e->strategy, &ds, &err) < 0) {
			e->have_desired = 0;
			logf_(c, &w->dec.next, "cannot apply the desired state (retrying next tick): %s", err.buf);
		} else {
			e->desired = ds;
			e->have_desired = 1;
		}
	}
	if (deployment_state_is_final(w->dec.next.state) && !deployment_state_is_final(w->before.state)) {
		int failed;
		char reason[200];
		call_hooks(c, &e->strategy, &w->dec.next, WEBHOOK_POST_ROLLOUT, NULL, &failed, reason, sizeof(reason));
		if (failed)
			logf_(c, &w->dec.next, "%s", reason);
	}
	if (deployment_state_is_final(w->dec.next.state) && e->have_desired)
		drop(c, w->id);
	strbuf_release(&err);
}

int controller_tick(struct controller *c, int64_t now_ms, struct strbuf *err)
{
	int64_t *ids = NULL;
	size_t n = 0, nw = 0, aw = 0;
	struct work *w = NULL;
	struct scratch *x;
	int r;

	c->stats.ticks++;
	c->analysis_behind = 0;
	if (!c->observing) {
		c->observing = 1;
		c->observing_since_ms = now_ms;
	}
	/* a store deleted or replaced under us: stop deciding (store.h, docs/engine.md "Failure paths") */
	if ((r = store_check_identity(c->st, err)) < 0)
		return r;
	/* a store that refuses writes: back off; give up after a bounded time */
	if (c->store_failures) {
		if (now_ms - c->store_failing_since >= CONTROLLER_STORE_GIVE_UP_MS) {
			c->store_gave_up = 1;
			strbuf_errf(err, "the store '%s' has refused every write for %llds; giving up with the traffic as "
				    "it is (run deploy again once the store can be written: the deployment resumes)",
				    c->st->path, (long long)((now_ms - c->store_failing_since) / 1000));
			return SW_ESTORE;
		}
		if (now_ms < c->store_retry_ms)
			goto count;	/* nothing decided, nothing changed */
	}
	if ((r = deployment_store_active_of(c->st, c->service, c->env, now_ms, &ids, &n, err)) < 0)
		return r;
	x = xmalloc(sizeof(*x));
	for (size_t i = 0; i < n; i++) {
		ALLOC_GROW(w, nw + 1, aw);
		if (decide(c, ids[i], now_ms, x, &w[nw]))
			nw++;
	}
	free(x);
	free(ids);
	if (nw) {
		commit_all(c, w, nw, now_ms);
		for (size_t i = 0; i < nw; i++)
			if (w[i].committed)
				act(c, &w[i]);
	}
	free(w);
count:
	/* how many remain active after this tick (including any created in it) */
	if ((r = deployment_store_active_of(c->st, c->service, c->env, INT64_MAX, &ids, &n, err)) < 0)
		return r;
	free(ids);
	return (int)n;
}
