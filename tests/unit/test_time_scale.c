/*
 * test_time_scale.c - the deployment's two clocks (docs/engine.md "Time
 * scale"): a deployment at time_scale N records wall instants (the ticks'
 * times) while its strategy's and type's durations (intervals, holds,
 * monitoring, deadlines) take 1/N of their wall time; people are told which
 * kind each duration is.  Simulated wall clock throughout.
 */
#include "tap.h"
#include "core/deployment.h"
#include "core/rules.h"
#include "core/strategy.h"
#include "base/timeutil.h"

#include <stdlib.h>
#include <string.h>

static struct decision dec;

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
	a.canary = (struct judge_sample){ 5000, 0, 40, 200, to - from };
	a.stable = (struct judge_sample){ 10000, 1, 40, 200, to - from };
	return a;
}

/* Run d from pending to a final state (or paused) with ticks every tick_ms from t0; returns the last tick. */
static int64_t run(struct deployment *d, const struct type_rules *r, const struct strategy *s, int64_t t0,
		   int64_t tick_ms, int64_t limit_ms, int *transitions_at_ticks, char *step1_reason, size_t n1,
		   char *passed_reason, size_t n2)
{
	struct tick_input in = { .gate = GATE_ALLOW, .canary_ready = 1 };
	struct analysis_input a;
	int64_t t;
	*transitions_at_ticks = 1;
	step1_reason[0] = passed_reason[0] = '\0';
	for (t = t0; t < t0 + limit_ms && !deployment_state_is_final(d->state) && d->state != DS_PAUSED; t += tick_ms) {
		a = healthy(d, s, t);
		in.analysis = a.to_ms ? &a : NULL;
		if (deployment_advance(d, r, s, &in, NULL, 0, t, &dec) < 0)
			break;
		for (int i = 0; i < dec.n_transitions; i++) {
			if (dec.transitions[i].at_ms != t)
				*transitions_at_ticks = 0;
			if (dec.next.step == 1 && !step1_reason[0] && strstr(dec.transitions[i].reason, "step 1/"))
				snprintf(step1_reason, n1, "%s", dec.transitions[i].reason);
			if (!passed_reason[0] && strstr(dec.transitions[i].reason, "analysis passed at"))
				snprintf(passed_reason, n2, "%s", dec.transitions[i].reason);
		}
		*d = dec.next;
	}
	return t;
}

int main(void)
{
	struct type_rules r;
	struct strategy *s = calloc(1, sizeof(*s));
	struct deployment d;
	char step1[400], passed[400];
	int at_ticks;
	const int64_t t0 = 1796000000000;	/* a wall instant (2026-11-29) */
	int64_t engine_total, end;

	type_rules_default("standard", &r, NULL);
	strategy_default(s, STRATEGY_CANARY);
	engine_total = s->interval_ms + r.monitoring_ms;
	for (int i = 0; i < s->n_steps; i++)
		engine_total += s->steps[i].hold_ms;

	/* the conversions */
	deployment_init(&d, "api", "production", "v2", "v1", "standard", t0);
	ok(!deployment_is_scaled(&d), "a new deployment runs in real time");
	is_int(deployment_wall_span(&d, 60000), 60000, "scale 0 (unset): an engine minute is a wall minute");
	d.time_scale = 1;
	is_int(deployment_engine_span(&d, 1234), 1234, "scale 1: the identity");
	d.time_scale = 600;
	is_int(deployment_wall_span(&d, 60000), 100, "600x: an engine minute takes 100 ms of wall time");
	is_int(deployment_engine_span(&d, 100), 60000, "600x: 100 ms of wall time is an engine minute");
	d.time_scale = 3600;
	ok(deployment_engine_span(&d, deployment_wall_span(&d, 60000)) >= 60000,
	   "3600x: rounding never makes an interval shorter than asked (%lld ms wall)",
	   (long long)deployment_wall_span(&d, 60000));
	d.time_scale = 7;
	ok(deployment_engine_span(&d, deployment_wall_span(&d, 1000)) >= 1000, "7x: rounded up, not down");
	is_int(deployment_wall_span(&d, 1), 1, "a positive duration never becomes 0");

	/* a whole canary at 600x: wall instants recorded, durations shortened 600 times */
	deployment_init(&d, "api", "production", "v2", "v1", "standard", t0);
	d.time_scale = 600;
	end = run(&d, &r, s, t0 + 1, 10, 10 * 60000, &at_ticks, step1, sizeof(step1), passed, sizeof(passed));
	is_str(deployment_state_name(d.state), "succeeded", "600x: the canary runs to success");
	ok(at_ticks, "600x: every transition is dated at the (wall) tick that made it");
	ok(d.started_ms == t0 + 1 && d.finished_ms == end - 10, "600x: started and finished are wall instants");
	ok(d.finished_ms - d.started_ms >= engine_total / 600 && d.finished_ms - d.started_ms <= engine_total / 600 + 5000,
	   "600x: %s of engine time took %lld ms of wall time", "warm-up + holds + monitoring",
	   (long long)(d.finished_ms - d.started_ms));
	ok(strstr(step1, "hold 5m [scaled 600x: 500ms wall]") != NULL, "the step says its hold is scaled: %s", step1);
	/* the held time is the wall time judged times the scale: whole wall ms round a look up a little */
	ok(strstr(passed, "analysis passed at 1% for 5m") != NULL && strstr(passed, "[scaled 600x: 5") != NULL,
	   "the held time is engine time, said so: %s", passed);
	ok(strstr(d.reason, "monitoring period 30m [scaled 600x: 3s wall]") != NULL, "monitoring too: %s", d.reason);

	/* the same canary in real time: the same decisions, on the policy's durations */
	deployment_init(&d, "api", "production", "v2", "v1", "standard", t0);
	end = run(&d, &r, s, t0 + 1, 1000, 24 * 3600000, &at_ticks, step1, sizeof(step1), passed, sizeof(passed));
	is_str(deployment_state_name(d.state), "succeeded", "1x: the canary runs to success");
	ok(d.finished_ms - d.started_ms >= engine_total, "1x: it took at least the policy's durations (%llds)",
	   (long long)((d.finished_ms - d.started_ms) / 1000));
	ok(strstr(step1, "(hold 5m)") != NULL && !strstr(step1, "scaled"), "1x: nothing is said about a scale: %s",
	   step1);
	(void)end;
	free(s);
	return tap_done();
}
