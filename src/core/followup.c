/*
 * followup.c - post-deployment follow-up decisions; see followup.h and
 * docs/checklists.md "Post-deployment follow-up".
 *
 * Design: the state is a handful of instants the controller stores; every
 * decision is a function of them, the items and now_ms, so the same
 * timeline replays on a simulated clock (tests/data/followup/).  Horizons
 * are engine time (the deployment's time scale, docs/engine.md "Time
 * scale"), instants wall time.
 */
#include "core/followup.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/seqtest.h"

static const char *const act_names[] = { "check", "remind", "overdue", "monitor", "end-monitoring", "close" };
static const char *const outcome_names[] = { "ok", "regression", "unchecked" };

const char *followup_act_name(enum followup_act a)
{
	return (unsigned)a <= FU_CLOSE ? act_names[a] : "?";
}

const char *followup_outcome_name(enum followup_outcome o)
{
	return (unsigned)o <= FU_UNCHECKED ? outcome_names[o] : "?";
}

void followup_settings_default(struct followup_settings *s)
{
	s->remind_every_ms = FOLLOWUP_REMIND_EVERY_DEFAULT_MS;
	s->postmortem_within_ms = FOLLOWUP_POSTMORTEM_WITHIN_DEFAULT_MS;
	s->monitor_every_ms = FOLLOWUP_MONITOR_EVERY_DEFAULT_MS;
}

static double scale_of(const struct followup_state *s)
{
	return s->time_scale > 0 ? s->time_scale : 1;
}

/* An engine duration on the wall clock, at least 1 ms. */
static int64_t wall(const struct followup_state *s, int64_t engine_ms)
{
	int64_t w = (int64_t)llround((double)engine_ms / scale_of(s));
	return w > 0 ? w : 1;
}

int64_t followup_at(const struct followup_state *s, int64_t engine_ms)
{
	return s->succeeded_ms + (engine_ms > 0 ? wall(s, engine_ms) : 0);
}

void followup_item_window(const struct followup_settings *set, const struct followup_state *s,
			  const struct followup_item *it, int64_t *open_ms, int64_t *due_ms)
{
	int64_t from = 0, to = FOLLOWUP_IMMEDIATE_END_MS;

	switch (it->list) {
	case CHECKLIST_POST_SHORT:
		from = FOLLOWUP_IMMEDIATE_END_MS, to = FOLLOWUP_SHORT_END_MS;
		break;
	case CHECKLIST_POST_LONG:
		from = FOLLOWUP_SHORT_END_MS, to = FOLLOWUP_LONG_END_MS;
		break;
	case CHECKLIST_POST_EMERGENCY:
		to = set->postmortem_within_ms;
		break;
	default:
		break;
	}
	*open_ms = followup_at(s, from);
	*due_ms = followup_at(s, to);
}

int followup_item_open(const struct followup_settings *set, const struct followup_state *s,
		       const struct followup_item *it, int64_t now_ms)
{
	int64_t open, due;

	if (it->done)
		return 0;
	followup_item_window(set, s, it, &open, &due);
	if (now_ms < open)
		return 0;
	return now_ms >= due ? 2 : 1;
}

static void push(struct followup_action *out, size_t max, size_t *k, enum followup_act act, size_t item,
		 int64_t from, int64_t to)
{
	if (*k < max) {
		out[*k].act = act;
		out[*k].item = item;
		out[*k].from_ms = from;
		out[*k].to_ms = to;
	}
	(*k)++;
}

size_t followup_due(const struct followup_settings *set, const struct followup_state *s,
		    const struct followup_item *items, size_t n, int64_t now_ms, struct followup_action *out,
		    size_t max)
{
	size_t k = 0;
	int manual_open = 0, auto_pending = 0, pm_done = 1, pm_overdue = 0;

	if (s->closed_ms || !s->succeeded_ms)
		return 0;
	for (size_t i = 0; i < n; i++) {
		const struct followup_item *it = &items[i];
		int64_t open, due;
		followup_item_window(set, s, it, &open, &due);
		if (it->list == CHECKLIST_POST_EMERGENCY) {
			if (!s->emergency)
				continue;
			if (!it->done) {
				pm_done = 0;
				pm_overdue |= now_ms >= due;
			}
		}
		if (it->automatic) {
			if (it->done)
				continue;
			auto_pending = 1;
			if (now_ms >= due)
				push(out, max, &k, FU_CHECK, i, open, due);
		} else if (followup_item_open(set, s, it, now_ms)) {
			manual_open = 1;
		}
	}
	if (manual_open && (!s->last_reminder_ms || now_ms - s->last_reminder_ms >= wall(s, set->remind_every_ms)))
		push(out, max, &k, FU_REMIND, 0, 0, 0);
	if (s->emergency && pm_overdue && !s->overdue_ms)
		push(out, max, &k, FU_OVERDUE, 0, 0, 0);
	if (s->emergency && !s->monitoring_ended_ms) {
		int64_t last = s->last_monitor_ms ? s->last_monitor_ms : s->succeeded_ms;
		if (pm_done)
			push(out, max, &k, FU_END_MONITORING, 0, 0, 0);
		else if (now_ms - last >= wall(s, set->monitor_every_ms))
			push(out, max, &k, FU_MONITOR, 0, last, now_ms);
	}
	if (now_ms >= followup_at(s, FOLLOWUP_LONG_END_MS) && !auto_pending &&
	    (!s->emergency || s->monitoring_ended_ms || pm_done))
		push(out, max, &k, FU_CLOSE, 0, 0, 0);
	return k < max ? k : max;
}

/* ---------------------------------------------------------------- judging */

static double pct(uint64_t x, uint64_t n)
{
	return n ? 100.0 * (double)x / (double)n : 0;
}

double followup_line_ms(double base_p99_ms, double ratio)
{
	if (isnan(base_p99_ms))
		return NAN;
	if (!(ratio > 1))
		ratio = 2;
	return ratio * (base_p99_ms > 1 ? base_p99_ms : 1);
}

void followup_judge(const struct judge_sample *base, const struct judge_sample *now, uint64_t over, double line_ms,
		    const struct judge_settings *js, struct followup_verdict *out)
{
	double alpha = js && js->alpha > 0 ? js->alpha : 0.05;
	double effect = js && js->effect > 1 ? js->effect : 2;
	double bar = log(2 / alpha);	/* each test at alpha/2 */
	struct seq_stream ss;
	int n = 0, reg_err, reg_lat = 0;
	char lat[160];

	memset(out, 0, sizeof(*out));
	if (!base || base->requests == 0) {
		out->outcome = FU_UNCHECKED;
		snprintf(out->reason, sizeof(out->reason), "no baseline to compare with (no requests recorded for it)");
		return;
	}
	if (!now || now->requests == 0) {
		out->outcome = FU_UNCHECKED;
		snprintf(out->reason, sizeof(out->reason), "no requests recorded over the horizon");
		return;
	}
	memset(&ss, 0, sizeof(ss));
	seq_stream_add(&ss, now->requests, now->errors, base->requests, base->errors);
	out->log_e_errors = seq_fwd_log_e(&ss, effect);
	reg_err = out->log_e_errors >= bar;

	if (over == UINT64_MAX || isnan(base->p99_ms) || isnan(line_ms)) {
		snprintf(lat, sizeof(lat), "latency not judged (%s)",
			 isnan(base->p99_ms) || isnan(line_ms) ? "no baseline p99" : "the provider cannot count slow requests");
	} else {
		out->log_e_latency = seq_above_log_e(now->requests, over, 0.01, effect);
		reg_lat = out->log_e_latency >= bar;
		snprintf(lat, sizeof(lat), "%.2f%% of requests slower than %.0f ms (%.3gx the baseline p99 %.0f ms)%s",
			 pct(over, now->requests), line_ms, line_ms / (base->p99_ms > 1 ? base->p99_ms : 1), base->p99_ms,
			 reg_lat ? " (more than 1%, established)" : "");
	}
	out->outcome = reg_err || reg_lat ? FU_REGRESSION : FU_OK;
	n = snprintf(out->reason, sizeof(out->reason), "%s: error rate %.2f%% (%llu/%llu) against %.2f%% (%llu/%llu)%s; %s",
		     out->outcome == FU_REGRESSION ? "regression" : "no regression established",
		     pct(now->errors, now->requests), (unsigned long long)now->errors,
		     (unsigned long long)now->requests, pct(base->errors, base->requests),
		     (unsigned long long)base->errors, (unsigned long long)base->requests,
		     reg_err ? " (established)" : "", lat);
	(void)n;
}
