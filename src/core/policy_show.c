/*
 * policy_show.c - the effective policy as YAML (`slipway policy show`),
 * commented where the runbook is silent and slipway decided; see
 * policy_format_yaml() in policy.h.  It starts with `base: none`, so it
 * loads back through policy_load() to the same policy (tested in
 * tests/unit/test_policy.c and by tests/fuzz/fuzz_policy.c).
 */
#include "core/policy.h"
#include "core/policy_internal.h"
#include "core/checklist.h"

#include <string.h>

#include "base/strbuf.h"
#include "core/yaml_text.h"
#include "base/timeutil.h"

/* ---------------------------------------------------------------- YAML out */

static void yaml_list(struct strbuf *out, const struct policy_names *l, int quote)
{
	strbuf_addch(out, '[');
	for (size_t i = 0; i < l->nr; i++) {
		if (i)
			strbuf_addstr(out, ", ");
		if (quote)
			yaml_text_add_quoted(out, l->v[i]);
		else
			strbuf_addstr(out, l->v[i]);
	}
	strbuf_addch(out, ']');
}

static void yaml_days(struct strbuf *out, unsigned days)
{
	int first = 1;
	strbuf_addch(out, '[');
	/* Monday first, as people read a week */
	for (int k = 1; k <= 7; k++) {
		int d = k % 7;
		if (!(days & (1u << d)))
			continue;
		strbuf_addf(out, "%s%s", first ? "" : ", ", policy__day_names[d]);
		first = 0;
	}
	strbuf_addch(out, ']');
}

static void yaml_duration(struct strbuf *out, double ms)
{
	char buf[DURATION_BUFSZ];
	strbuf_addstr(out, duration_format((int64_t)ms, buf));
}

void policy_format_yaml(const struct policy *p, struct strbuf *out)
{
	strbuf_addf(out,
		    "# slipway policy, effective (source: %s)\n"
		    "# Format and defaults: docs/policy.md.  Comments marked \"runbook silent\" are\n"
		    "# slipway's decisions where the runbook v1.0 says nothing.\n"
		    "version: 1\n"
		    "# This listing is complete, so it does not build on the built-in default;\n"
		    "# a hand-written slipway.yaml normally omits base and lists only changes.\n"
		    "base: none\n"
		    "# runbook: \"Time (UTC)\".  Windows and freeze days are wall-clock times in this zone.\n"
		    "timezone: %s\n"
		    "# runbook silent: an approval expires this long after it is given.\n"
		    "approval_ttl: ",
		    p->source ? p->source : POLICY_BUILTIN_SOURCE, p->timezone);
	yaml_duration(out, (double)p->approval_ttl_ms);
	strbuf_addf(out,
		    "\n# runbook silent (slipway default; docs/DESIGN.md): when a window closes during a rollout,\n"
		    "# hold the current weight until a window opens (or continue, or rollback).\n"
		    "on_window_close: %s\n\n",
		    policy_window_close_name(p->on_window_close));

	strbuf_addstr(out, "# runbook: \"Approval Required\" names the roles; who holds each is yours to fill in.\n"
			   "roles:\n");
	for (size_t i = 0; i < p->roles_nr; i++) {
		strbuf_addf(out, "  %s: ", p->roles[i].name);
		yaml_list(out, &p->roles[i].people, 1);
		strbuf_addch(out, '\n');
	}
	if (!p->roles_nr)
		strbuf_addstr(out, "  {}\n");

	strbuf_addstr(out, "\n# docs/DESIGN.md: what a freeze may admit (runbook: \"Critical security only\", \"Security only\").\n"
			   "change_classes:\n");
	for (size_t i = 0; i < p->classes_nr; i++) {
		strbuf_addf(out, "  %s: ", p->classes[i].name);
		yaml_text_add_quoted(out, p->classes[i].description ? p->classes[i].description : "");
		strbuf_addch(out, '\n');
	}

	strbuf_addstr(out, "\n# runbook: Deployment Windows.  Each is a half-open interval [from, to) of local\n"
			   "# time; runbook silent: from is included, to is not.  from > to crosses midnight.\n"
			   "# A window's approvals are added to the deployment type's.\n"
			   "windows:\n");
	for (size_t i = 0; i < p->windows_nr; i++) {
		const struct policy_window *w = &p->windows[i];
		strbuf_addf(out, "  %s:\n", w->name);
		if (w->description) {
			strbuf_addstr(out, "    description: ");
			yaml_text_add_quoted(out, w->description);
			strbuf_addch(out, '\n');
		}
		strbuf_addstr(out, "    days: ");
		yaml_days(out, w->days);
		strbuf_addf(out, "\n    from: \"%02d:%02d\"\n    to: \"%02d:%02d\"\n    approvals: ", w->from_min / 60,
			    w->from_min % 60, w->to_min / 60, w->to_min % 60);
		yaml_list(out, &w->approvals, 0);
		if (!strcmp(w->name, "extended"))
			strbuf_addstr(out, "   # runbook: \"Manager approval\"; runbook silent on which manager");
		strbuf_addch(out, '\n');
	}

	strbuf_addstr(out, "\n# runbook: Deployment Freeze Calendar.  Freezes override windows; dates are\n"
			   "# inclusive whole days in the policy's timezone (runbook silent).  A change may\n"
			   "# deploy during a freeze only if its class is admitted by every freeze in force.\n"
			   "# Kinds: annual (MM-DD, may cross the new year), quarter-end (last_days of Mar, Jun,\n"
			   "# Sep, Dec), product-launch and one-off (YYYY-MM-DD dates; runbook: \"Major product\n"
			   "# launches\", exceptions: none).\n"
			   "freezes:\n");
	for (size_t i = 0; i < p->freezes_nr; i++) {
		const struct policy_freeze *f = &p->freezes[i];
		struct civil a, b;
		strbuf_addf(out, "  %s:\n    kind: %s\n", f->name, policy_freeze_kind_name(f->kind));
		if (f->reason) {
			strbuf_addstr(out, "    reason: ");
			yaml_text_add_quoted(out, f->reason);
			strbuf_addch(out, '\n');
		}
		switch (f->kind) {
		case FREEZE_ANNUAL:
			strbuf_addf(out, "    from: \"%02d-%02d\"\n    until: \"%02d-%02d\"\n", f->from_month,
				    f->from_day, f->until_month, f->until_day);
			break;
		case FREEZE_QUARTER_END:
			strbuf_addf(out, "    last_days: %d\n", f->last_days);
			break;
		default:
			civil_from_ms(f->from_date * MS_PER_DAY, &a);
			civil_from_ms(f->until_date * MS_PER_DAY, &b);
			strbuf_addf(out, "    from: %04d-%02d-%02d\n    until: %04d-%02d-%02d\n", a.year, a.month,
				    a.day, b.year, b.month, b.day);
			break;
		}
		strbuf_addstr(out, "    admits: ");
		yaml_list(out, &f->admits, 0);
		if (f->kind == FREEZE_QUARTER_END && !strcmp(f->name, "quarter-end"))
			strbuf_addstr(out, "   # runbook: \"Security only\", read as security and critical-security");
		strbuf_addch(out, '\n');
	}

	strbuf_addstr(out, "\n# runbook: Deployment Types.  windows: which windows a type may use, in order of\n"
			   "# preference (runbook silent; docs/DESIGN.md decides).  monitoring: at 100% before\n"
			   "# success, or continuous.  rollback: the type's own criterion (error-rate uses\n"
			   "# rollback_error_rate, percent).\n"
			   "types:\n");
	for (size_t i = 0; i < p->types_nr; i++) {
		const struct policy_type *t = &p->types[i];
		strbuf_addf(out, "  %s:\n", t->name);
		if (t->description) {
			strbuf_addstr(out, "    description: ");
			yaml_text_add_quoted(out, t->description);
			strbuf_addch(out, '\n');
		}
		strbuf_addstr(out, "    approvals: ");
		yaml_list(out, &t->approvals, 0);
		strbuf_addch(out, '\n');
		if (t->testing) {
			strbuf_addstr(out, "    testing: ");
			yaml_text_add_quoted(out, t->testing);
			strbuf_addch(out, '\n');
		}
		strbuf_addf(out, "    strategy: %s\n    monitoring: ", t->strategy ? t->strategy : "canary");
		if (t->monitoring_ms == MONITORING_CONTINUOUS)
			strbuf_addstr(out, "continuous");
		else
			yaml_duration(out, (double)t->monitoring_ms);
		strbuf_addf(out, "\n    rollback: %s\n", policy_criterion_name(t->criterion));
		if (t->criterion == TYPE_CRIT_ERROR_RATE)
			strbuf_addf(out, "    rollback_error_rate: %g\n", t->criterion_error_rate_pct);
		strbuf_addstr(out, "    windows: ");
		yaml_list(out, &t->windows, 0);
		strbuf_addch(out, '\n');
	}

	strbuf_addf(out,
		    "\n# runbook: Rollback Decision Criteria.  immediate: roll back automatically;\n"
		    "# consider: pause and ask a person (slipway default; docs/DESIGN.md).  The runbook's other items (data\n"
		    "# corruption, security vulnerability, critical feature broken, customer\n"
		    "# complaints, unexpected behaviour) need a person and are not numbers.\n"
		    "rollback:\n"
		    "  immediate:\n    error_rate: %g\n    p99_latency_ratio: %g\n"
		    "  consider:\n    error_rate: %g\n    p99_latency_ratio: %g\n",
		    p->immediate.error_rate_pct, p->immediate.p99_ratio, p->consider.error_rate_pct,
		    p->consider.p99_ratio);
	strbuf_addf(out,
		    "\n# who decides the criteria (docs/judge.md): sequential tests on the deployment's\n"
		    "# evidence; threshold (Flagger's failed-check counting) and observed are the others.\n"
		    "judge:\n  name: %s\n  alpha: %g\n  power: %g\n  effect: %g\n  max_hold_factor: %g\n  floor: %g\n",
		    p->judge.name[0] ? p->judge.name : "sequential", p->judge.alpha, p->judge.power, p->judge.effect,
		    p->judge.max_hold_factor, p->judge.floor_pct);
	{
		char mh[DURATION_BUFSZ];
		strbuf_addf(out, "  max_hold_min: %s\n",
			    duration_format(p->judge.max_hold_min_ms > 0 ? p->judge.max_hold_min_ms :
					    (int64_t)JUDGE_MAX_HOLD_MIN_MS, mh));
	}
	if (p->judge.look_ms > 0) {
		char lk[DURATION_BUFSZ];
		strbuf_addf(out, "  look: %s\n", duration_format(p->judge.look_ms, lk));
	} else {
		strbuf_addstr(out, "  # look: not set: a sixth of the analysis interval, at least 5s\n");
	}

	{
		char hh[DURATION_BUFSZ];
		strbuf_addf(out,
			    "\n# a fleet host that does not answer during a rollout (docs/fleet.md \"Host failures\"):\n"
			    "# the step holds for at most host_hold_max (engine time: --time-scale shortens it),\n"
			    "# then on_host_lost: rollback, or pause for a person (runbook silent; rollback after\n"
			    "# its \"any availability impact\" criterion: docs/policy.md \"fleet\").\n"
			    "fleet:\n  host_hold_max: %s\n  on_host_lost: %s\n",
			    duration_format(p->fleet.host_hold_max_ms > 0 ? p->fleet.host_hold_max_ms :
					    HOST_HOLD_MAX_DEFAULT_MS, hh),
			    policy_host_lost_name(p->fleet.on_host_lost));
	}

	strbuf_addstr(out, "\n# runbook: Deployment Metrics to Track.  Frequency: at least one deployment per\n"
			   "# period; lead time and mttr: below the duration; rates: below the percent.\n"
			   "metrics:\n");
	for (int i = 0; i < METRIC__COUNT; i++) {
		const struct policy_metric *m = &p->metrics[i];
		strbuf_addf(out, "  %s: { target: ", policy__metric_names[i]);
		if (m->unit == POLICY_METRIC_PCT)
			strbuf_addf(out, "%g, threshold: %g }\n", m->target, m->threshold);
		else {
			yaml_duration(out, m->target);
			strbuf_addstr(out, ", threshold: ");
			yaml_duration(out, m->threshold);
			strbuf_addstr(out, " }\n");
		}
	}
	checklist__format_yaml(&p->checklists, out);
	{
		char a[DURATION_BUFSZ], b[DURATION_BUFSZ], c[DURATION_BUFSZ];
		strbuf_addf(out,
			    "\n# after a deployment succeeds (docs/checklists.md \"Post-deployment follow-up\"): open\n"
			    "# manual items are reminded this often; an emergency's post-mortem is due within\n"
			    "# postmortem_within and its monitoring looks every monitor_every until it is ticked.\n"
			    "# Durations as everywhere in the policy: 30m, 4h, 2d; a bare number is seconds.\n"
			    "followup:\n  remind_every: %s\n  postmortem_within: %s\n  monitor_every: %s\n",
			    duration_format(p->followup.remind_every_ms, a),
			    duration_format(p->followup.postmortem_within_ms, b),
			    duration_format(p->followup.monitor_every_ms, c));
	}
}
