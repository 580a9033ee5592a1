/*
 * replay.c - the simulated-clock driver behind `slipway analyze`; see
 * replay.h.  It is the controller's loop without a store or a router: same
 * measure_interval(), same deployment_advance(), the clock moved by hand.
 */
#include "controller/replay.h"
#include "controller/measure.h"
#include "base/fmt.h"
#include "base/alloc.h"
#include "base/err.h"
#include "base/strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>


static void push(struct replay_result *res, const struct replay_event *ev)
{
	ALLOC_GROW(res->events, res->n_events + 1, res->alloc);
	res->events[res->n_events++] = *ev;
}

const char *replay_outcome_name(enum replay_outcome o)
{
	switch (o) {
	case REPLAY_PROMOTED: return "promoted";
	case REPLAY_ROLLED_BACK: return "rolled_back";
	case REPLAY_PAUSED: return "paused";
	case REPLAY_FAILED: return "failed";
	case REPLAY_SUCCEEDED: return "succeeded";
	case REPLAY_INCOMPLETE: return "incomplete";
	}
	return "unknown";
}

int replay_run(const struct deployment *d0, const struct type_rules *r, const struct strategy *s,
	       const struct metrics_provider *p, const struct replay_options *opt, struct replay_result *res,
	       struct strbuf *err)
{
	struct deployment d = *d0;
	struct decision *dec = xcalloc(1, sizeof(*dec));
	struct analysis_input *ai = xcalloc(1, sizeof(*ai));
	struct replay_event *ev = xcalloc(1, sizeof(*ev));
	int64_t now = 0;
	int guard = 0, rc = 0, next_intent = 0, decided = 0;

	memset(res, 0, sizeof(*res));
	res->outcome = REPLAY_INCOMPLETE;
	for (;;) {
		struct tick_input in = { .gate = GATE_ALLOW, .canary_ready = 1, .judge = opt->judge };
		int64_t from, to, next;
		double w;
		int idle, n_due = 0, stop = 0;

		if (++guard > 1000000) {
			strbuf_errf(err, "replay did not finish after %d ticks", guard);
			rc = SW_ESTATE;
			goto out;
		}
		if (deployment_analysis_due(&d, s, now, &from, &to, &w, &idle)) {
			measure_interval(p, &d, from, to, s->interval_ms, w, idle, ai);
			in.analysis = ai;
		}
		while (next_intent + n_due < opt->n_intents && opt->intents[next_intent + n_due].created_ms <= now)
			n_due++;
		rc = deployment_advance(&d, r, s, &in, opt->intents + next_intent, n_due, now, dec);
		if (rc < 0) {
			strbuf_errf(err, "the state machine refused the strategy");
			goto out;
		}
		for (int i = 0; i < dec->n_intents; i++) {
			const struct intent *it = &opt->intents[next_intent + i];
			memset(ev, 0, sizeof(*ev));
			ev->at_ms = now;
			ev->is_analysis = 2;
			ev->ir = dec->intents[i];
			if (it->kind == INTENT_UNDO && it->to_revision)
				bprintf(ev->intent, sizeof(ev->intent), "undo --to-revision %d", it->to_revision);
			else
				bprintf(ev->intent, sizeof(ev->intent), "%s%s", intent_kind_name(it->kind),
					it->full ? " --full" : "");
			push(res, ev);
		}
		next_intent += dec->n_intents;
		if (dec->has_analysis) {
			memset(ev, 0, sizeof(*ev));
			ev->at_ms = now;
			ev->is_analysis = 1;
			ev->a = dec->analysis;
			ev->weight = ai->weight;
			push(res, ev);
		}
		for (int i = 0; i < dec->n_transitions; i++) {
			memset(ev, 0, sizeof(*ev));
			ev->at_ms = now;
			ev->t = dec->transitions[i];
			push(res, ev);
		}
		d = dec->next;
		for (int i = 0; i < dec->n_transitions; i++) {
			const struct transition *t = &dec->transitions[i];
			enum replay_outcome o = REPLAY_INCOMPLETE;
			if (t->to == DS_PROMOTING)
				o = REPLAY_PROMOTED;
			else if (t->to == DS_ROLLING_BACK)
				o = REPLAY_ROLLED_BACK;
			else if (t->to == DS_PAUSED)
				o = REPLAY_PAUSED;
			else if (t->to == DS_FAILED)
				o = REPLAY_FAILED;
			else if (t->to == DS_SUCCEEDED)
				o = REPLAY_SUCCEEDED;
			else if (t->to == DS_ROLLED_BACK)
				stop = 1;
			if (o == REPLAY_INCOMPLETE)
				continue;
			res->outcome = o;
			res->at_ms = now;
			decided = 1;
			bprintf(res->reason, sizeof(res->reason), "%s", t->reason);
			res->rule[0] = '\0';
			if (dec->has_analysis && t->to != DS_SUCCEEDED)
				bprintf(res->rule, sizeof(res->rule), "%s", dec->analysis.rule);
			else if (dec->n_intents)
				bprintf(res->rule, sizeof(res->rule), "intent");
			if (o == REPLAY_PROMOTED && !opt->through_monitoring)
				stop = 1;
			if (o == REPLAY_FAILED || o == REPLAY_SUCCEEDED)
				stop = 1;
		}
		if (stop || deployment_state_is_final(d.state))
			goto out;
		if (d.state == DS_PAUSED && next_intent >= opt->n_intents) {
			/* nobody will come: report the pause (analysis would only repeat) */
			if (!decided || res->outcome != REPLAY_PAUSED) {
				res->outcome = REPLAY_PAUSED;
				res->at_ms = d.state_since_ms;
				bprintf(res->reason, sizeof(res->reason), "%s", d.reason);
			}
			goto out;
		}
		/* the next event: an analysis boundary, a person's intent, or the tick after a one-tick state */
		next = INT64_MAX;
		if (d.state == DS_PROMOTING || d.state == DS_ROLLING_BACK)
			next = d.state_since_ms + 1000;
		else if (d.state == DS_PENDING)
			next = now + 1000;
		else if (d.next_analysis_ms > now)
			next = d.next_analysis_ms;
		if (next_intent < opt->n_intents && opt->intents[next_intent].created_ms < next)
			next = opt->intents[next_intent].created_ms > now ? opt->intents[next_intent].created_ms : now + 1000;
		if (next == INT64_MAX)
			goto out;
		if (opt->end_ms && next > opt->end_ms && d.state != DS_PROMOTING && d.state != DS_ROLLING_BACK) {
			res->outcome = REPLAY_INCOMPLETE;
			res->at_ms = opt->end_ms;
			res->rule[0] = '\0';
			bprintf(res->reason, sizeof(res->reason), "the trace ended at %llds while %s: %s",
				(long long)(opt->end_ms / 1000), deployment_state_name(d.state), d.reason);
			goto out;
		}
		now = next;
	}
out:
	res->final = d;
	free(dec);
	free(ai);
	free(ev);
	return rc;
}

void replay_result_release(struct replay_result *res)
{
	free(res->events);
	res->events = NULL;
	res->n_events = res->alloc = 0;
}
