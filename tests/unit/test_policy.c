/*
 * test_policy.c - the built-in runbook v1.0 policy, the loader's merge
 * semantics, the accessors (type rules, approvals, roles, TTL), the YAML
 * round trip, and the time zone arithmetic with a fixed and a real zone.
 */
#include "tap.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/tz.h"
#include "base/err.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "core/calendar.h"
#include "core/policy.h"

static int load(struct policy *p, const char *yaml, struct strbuf *err)
{
	strbuf_reset(err);
	return policy_load(p, yaml, strlen(yaml), "t.yaml", &tz_system_db, err);
}

static void test_type_rules(void)
{
	struct policy p;
	struct type_rules r;
	struct strbuf err = STRBUF_INIT;
	static const struct {
		const char *type, *strategy;
		int64_t monitoring;
		enum type_criterion crit;
	} want[] = {
		{ "standard", "canary", 30 * MS_PER_MIN, TYPE_CRIT_ERROR_RATE },
		{ "hotfix", "fast-progressive", 15 * MS_PER_MIN, TYPE_CRIT_ANY_REGRESSION },
		{ "emergency", "full", MONITORING_CONTINUOUS, TYPE_CRIT_WORSE_THAN_BASELINE },
		{ "database-migration", "blue-green", MS_PER_HOUR, TYPE_CRIT_ANY_ERROR },
		{ "infrastructure-change", "region-by-region", MS_PER_HOUR, TYPE_CRIT_AVAILABILITY },
	};

	policy_init_default(&p);
	is_int(p.types_nr, 5, "five deployment types");
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		memset(&r, 0, sizeof(r));
		is_int(policy_type_rules(&p, want[i].type, &r, &err), 0, "%s: rules", want[i].type);
		is_str(r.type, want[i].type, "%s: name", want[i].type);
		is_str(r.strategy, want[i].strategy, "%s: strategy", want[i].type);
		is_int(r.monitoring_ms, want[i].monitoring, "%s: monitoring", want[i].type);
		is_int(r.criterion, want[i].crit, "%s: criterion", want[i].type);
		ok(r.immediate_error_rate_pct == 5 && r.immediate_p99_ratio == 3, "%s: immediate 5%% / 3x",
		   want[i].type);
		ok(r.consider_error_rate_pct == 1 && r.consider_p99_ratio == 2, "%s: consider 1%% / 2x", want[i].type);
	}
	policy_type_rules(&p, "standard", &r, &err);
	ok(r.criterion_error_rate_pct == 1.0, "standard: error rate > 1%%");
	memset(&r, 0x5a, sizeof(r));
	is_int(policy_type_rules(&p, "canary", &r, &err), SW_ENOTFOUND, "unknown type is an error");
	ok(strstr(err.buf, "valid: standard, hotfix") != NULL, "error lists the valid types");
	ok(r.type[0] == 0x5a, "output untouched on failure");
	policy_release(&p);
	strbuf_release(&err);
}

static void test_defaults(void)
{
	struct policy p;
	const char *roles[8];
	struct strbuf err = STRBUF_INIT;
	const struct policy_window *w;
	const struct policy_freeze *f;

	policy_init_default(&p);
	is_str(p.timezone, "UTC", "default timezone UTC");
	is_int(policy_approval_ttl_ms(&p), 24 * MS_PER_HOUR, "approval ttl 24h");
	is_int(p.roles_nr, 5, "five roles");
	ok(policy_role_people(&p, "team-lead") && policy_role_people(&p, "team-lead")->nr == 0,
	   "roles map empty by default");
	ok(policy_role_people(&p, "cto") == NULL, "unknown role has no people");
	is_int(policy_required_approvals(&p, "standard", "extended", roles, 8, &err), 2, "standard+extended: 2 roles");
	is_str(roles[0], "team-lead", "type's role first");
	is_str(roles[1], "engineering-manager", "window's role after");
	is_int(policy_required_approvals(&p, "hotfix", "extended", roles, 8, &err), 1,
	       "hotfix+extended: engineering-manager once");
	is_int(policy_required_approvals(&p, "emergency", "emergency", roles, 8, &err), 1, "emergency: vp once");
	is_int(policy_required_approvals(&p, "standard", NULL, roles, 8, &err), 1, "no window: the type's roles");
	is_int(policy_required_approvals(&p, "standard", "nope", roles, 8, &err), SW_ENOTFOUND, "unknown window");
	w = policy_find_window(&p, "standard");
	ok(w && w->days == 0x1e && w->from_min == 840 && w->to_min == 1080, "standard: Mon-Thu 14:00-18:00");
	w = policy_find_window(&p, "extended");
	ok(w && w->days == 0x3e && w->from_min == 600 && w->to_min == 1200, "extended: Mon-Fri 10:00-20:00");
	w = policy_find_window(&p, "emergency");
	ok(w && w->days == 0x7f && w->from_min == 0 && w->to_min == 1440, "emergency: any time");
	f = policy_find_freeze(&p, "holiday");
	ok(f && f->from_month == 12 && f->from_day == 15 && f->until_month == 1 && f->until_day == 2,
	   "holiday: Dec 15 - Jan 2");
	ok(f && policy_freeze_admits(f, "critical-security") && !policy_freeze_admits(f, "security"),
	   "holiday admits critical-security only");
	f = policy_find_freeze(&p, "quarter-end");
	ok(f && f->last_days == 3 && policy_freeze_admits(f, "security") && !policy_freeze_admits(f, "normal"),
	   "quarter-end: last 3 days, admits security");
	ok(p.metrics[METRIC_DEPLOYMENT_FAILURE_RATE].target == 5 &&
	   p.metrics[METRIC_DEPLOYMENT_FAILURE_RATE].threshold == 15, "deployment failure rate 5%% / 15%%");
	ok(p.metrics[METRIC_MTTR].target == (double)MS_PER_HOUR && p.metrics[METRIC_MTTR].threshold == 4.0 * MS_PER_HOUR,
	   "mttr 1h / 4h");
	ok(p.metrics[METRIC_CHANGE_FAILURE_RATE].target == 10 && p.metrics[METRIC_CHANGE_FAILURE_RATE].threshold == 25,
	   "change failure rate 10%% / 25%%");
	ok(p.metrics[METRIC_DEPLOYMENT_FREQUENCY].threshold == 7.0 * MS_PER_DAY, "weekly minimum");
	policy_release(&p);
	strbuf_release(&err);
}

static void test_merge(void)
{
	struct policy p;
	struct strbuf err = STRBUF_INIT;
	const struct policy_type *t;
	const char *roles[8];

	is_int(load(&p, "", &err), 0, "an empty file is the default");
	is_int(p.types_nr, 5, "empty file: five types");
	is_str(p.source, "t.yaml", "source is the file");
	policy_release(&p);

	is_int(load(&p,
		    "approval_ttl: 4h\n"
		    "roles:\n  team-lead: [alice, \"bob@example.com\"]\n  qa-lead: [carol]\n"
		    "types:\n  standard:\n    monitoring: 45m\n    approvals: [team-lead, qa-lead]\n"
		    "  hotfix: ~\n"
		    "freezes:\n  quarter-end: ~\n",
		    &err),
	       0, "merge file loads: %s", err.buf);
	is_int(policy_approval_ttl_ms(&p), 4 * MS_PER_HOUR, "approval_ttl overridden");
	ok(policy_person_has_role(&p, "team-lead", "alice"), "alice is a team-lead");
	ok(policy_person_has_role(&p, "team-lead", "bob@example.com"), "people may be e-mail addresses");
	ok(!policy_person_has_role(&p, "team-lead", "carol"), "carol is not a team-lead");
	ok(policy_person_has_role(&p, "qa-lead", "carol"), "a new role");
	t = policy_find_type(&p, "standard");
	ok(t && t->monitoring_ms == 45 * MS_PER_MIN, "one key of a type replaced");
	ok(t && !strcmp(t->strategy, "canary") && t->windows.nr == 2, "the other keys kept");
	is_int(policy_required_approvals(&p, "standard", "standard", roles, 8, &err), 2, "approvals list replaced");
	ok(policy_find_type(&p, "hotfix") == NULL, "'hotfix: ~' removes the type");
	ok(policy_find_freeze(&p, "quarter-end") == NULL, "'quarter-end: ~' removes the freeze");
	ok(policy_find_freeze(&p, "holiday") != NULL, "other freezes kept");
	policy_release(&p);

	is_int(load(&p,
		    "base: none\n"
		    "roles: {ops: []}\n"
		    "change_classes: {normal: \"all\"}\n"
		    "windows:\n  always: {days: any, from: \"00:00\", to: \"24:00\"}\n"
		    "types:\n  deploy: {approvals: [ops], strategy: rolling, windows: [always]}\n",
		    &err),
	       0, "base: none loads: %s", err.buf);
	is_int(p.types_nr, 1, "base none: only the file's type");
	is_int(p.freezes_nr, 0, "base none: no freezes");
	is_int(p.windows_nr, 1, "base none: one window");
	policy_release(&p);

	is_int(load(&p, "base: none\n", &err), SW_ECONFIG, "base none without types is invalid");
	ok(strstr(err.buf, "defines no deployment types") != NULL, "says what is missing: %s", err.buf);

	is_int(load(&p, "types:\n  standard:\n    approvals: [team-leed]\n", &err), SW_ECONFIG, "unknown role");
	ok(strstr(err.buf, "t.yaml:3:17:") && strstr(err.buf, "did you mean 'team-lead'"), "role typo located and suggested: %s",
	   err.buf);
	is_int(load(&p, "roles:\n  team-lead: ~\nwindows:\n  extended: ~\n", &err), SW_ECONFIG,
	       "removing a window still in use");
	ok(strstr(err.buf, "t.yaml:4:3:") && strstr(err.buf, "window 'extended'"), "points at the removal: %s", err.buf);
	strbuf_release(&err);
}

static void test_round_trip(void)
{
	struct policy p, q;
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT, err = STRBUF_INIT;

	policy_init_default(&p);
	policy_format_yaml(&p, &a);
	is_int(policy_load(&q, a.buf, a.len, "shown.yaml", &tz_system_db, &err), 0, "shown policy reloads: %s",
	       err.buf);
	free(q.source);
	q.source = strdup(POLICY_BUILTIN_SOURCE);
	policy_format_yaml(&q, &b);
	is_str(b.buf, a.buf, "and shows the same");
	policy_release(&p);
	policy_release(&q);
	strbuf_release(&a);
	strbuf_release(&b);
	strbuf_release(&err);
}

static void test_tz(void)
{
	struct tz_zone fixed;
	struct tz_system ber;
	struct strbuf err = STRBUF_INIT;
	int64_t t, inst[2];

	tz_zone_fixed(&fixed, 2 * MS_PER_HOUR);
	time_parse_rfc3339("2026-07-01T12:00:00Z", &t, NULL);
	is_int(tz_to_local(&fixed, t) - t, 2 * MS_PER_HOUR, "fixed zone offset");
	is_int(tz_from_local(&fixed, t), t - 2 * MS_PER_HOUR, "fixed zone inverse");
	is_int(tz_transitions(&fixed, t, t + MS_PER_DAY, inst, 2), 0, "fixed zone has no transitions");

	ok(!tz_system_exists("Mars/Olympus_Mons"), "no such zone");
	ok(!tz_system_exists("../etc/passwd"), "path tricks are not zones");
	ok(tz_system_exists("Europe/Berlin"), "Europe/Berlin exists (tzdata)");
	is_int(tz_system_open(&ber, "Nowhere/Town", &err), SW_ENOTFOUND, "open unknown zone fails");
	is_int(tz_system_open(&ber, "Europe/Berlin", &err), 0, "open Europe/Berlin");
	time_parse_rfc3339("2026-01-15T12:00:00Z", &t, NULL);
	is_int(tz_offset(&ber.zone, t), MS_PER_HOUR, "CET is UTC+1");
	time_parse_rfc3339("2026-07-15T12:00:00Z", &t, NULL);
	is_int(tz_offset(&ber.zone, t), 2 * MS_PER_HOUR, "CEST is UTC+2");
	/* 2026-03-29 02:30 local does not exist; 2026-10-25 02:30 exists twice */
	time_parse_rfc3339("2026-03-29T02:30:00Z", &t, NULL);
	is_int(tz_local_instants(&ber.zone, t, inst), 0, "02:30 on 29 Mar is in the gap");
	time_parse_rfc3339("2026-03-29T01:00:00Z", &t, NULL);
	is_int(tz_from_local(&ber.zone, t + 90 * MS_PER_MIN), t, "a time in the gap maps to the gap's end");
	time_parse_rfc3339("2026-10-25T02:30:00Z", &t, NULL);
	is_int(tz_local_instants(&ber.zone, t, inst), 2, "02:30 on 25 Oct happens twice");
	is_int(inst[1] - inst[0], MS_PER_HOUR, "one hour apart");
	time_parse_rfc3339("2026-10-25T00:00:00Z", &t, NULL);
	is_int(tz_transitions(&ber.zone, t, t + MS_PER_DAY, inst, 2), 1, "one transition on 25 Oct");
	time_parse_rfc3339("2026-10-25T01:00:00Z", &t, NULL);
	is_int(inst[0], t, "at 01:00Z");
	tz_system_close(&ber);
	strbuf_release(&err);
}

static void test_spans_dst(void)
{
	static const char yaml[] =
		"timezone: Europe/Berlin\n"
		"windows:\n  night: {days: [sun], from: \"02:30\", to: \"04:00\"}\n"
		"types:\n  nightly: {approvals: [sre-lead], strategy: rolling, windows: [night]}\n";
	struct policy p;
	struct tz_system ber;
	struct calendar cal;
	struct strbuf err = STRBUF_INIT;
	char a[RFC3339_BUFSZ], b[RFC3339_BUFSZ];
	int64_t from, to;

	if (policy_load(&p, yaml, strlen(yaml), "dst.yaml", &tz_system_db, &err) < 0 ||
	    tz_system_open(&ber, p.timezone, &err) < 0) {
		ok(0, "dst policy: %s", err.buf);
		strbuf_release(&err);
		return;
	}
	/* Sunday 25 Oct 2026, clocks go back at 03:00 CEST -> 02:00 CET */
	from = calendar_date_start(&ber.zone, days_from_civil(2026, 10, 25));
	to = calendar_date_start(&ber.zone, days_from_civil(2026, 10, 26));
	is_int(to - from, 25 * MS_PER_HOUR, "25 Oct 2026 has 25 hours in Berlin");
	is_int(calendar_spans(&p, &ber.zone, "nightly", NULL, from, to, &cal, &err), 0, "spans");
	is_int(cal.spans_nr, 2, "the repeated hour opens the window twice");
	if (cal.spans_nr == 2) {
		is_str(time_format_rfc3339(cal.spans[0].from_ms, a), "2026-10-25T00:30:00Z", "02:30 CEST");
		is_str(time_format_rfc3339(cal.spans[0].to_ms, b), "2026-10-25T01:00:00Z", "until the clock goes back");
		is_str(time_format_rfc3339(cal.spans[1].from_ms, a), "2026-10-25T01:30:00Z", "02:30 CET");
		is_str(time_format_rfc3339(cal.spans[1].to_ms, b), "2026-10-25T03:00:00Z", "04:00 CET");
		is_int(cal.spans[1].approvals_nr, 1, "with its approval");
	}
	calendar_release(&cal);
	/* Sunday 29 Mar 2026: 02:30 does not exist; the window opens at 03:00 CEST */
	from = calendar_date_start(&ber.zone, days_from_civil(2026, 3, 29));
	to = calendar_date_start(&ber.zone, days_from_civil(2026, 3, 30));
	is_int(to - from, 23 * MS_PER_HOUR, "29 Mar 2026 has 23 hours in Berlin");
	is_int(calendar_spans(&p, &ber.zone, "nightly", "normal", from, to, &cal, &err), 0, "spans");
	ok(cal.spans_nr == 0 && cal.freezes_nr == 1 && cal.freezes[0].blocks, "quarter-end (Mar 29-31) blocks a normal change");
	calendar_release(&cal);
	is_int(calendar_spans(&p, &ber.zone, "nightly", "critical-security", from, to, &cal, &err), 0, "spans");
	ok(cal.spans_nr == 1 && cal.spans[0].from_ms == from + 2 * MS_PER_HOUR &&
	   cal.spans[0].to_ms == from + 3 * MS_PER_HOUR, "one span, 01:00Z-02:00Z (03:00-04:00 CEST)");
	ok(cal.freezes_nr == 1 && !strcmp(cal.freezes[0].freeze->name, "quarter-end") && cal.freezes[0].blocks == 0,
	   "quarter-end listed, admitting critical-security");
	calendar_release(&cal);
	is_int(calendar_spans(&p, &ber.zone, "nightly", NULL, to, from, &cal, &err), SW_EUSAGE, "empty range refused");
	tz_system_close(&ber);
	policy_release(&p);
	strbuf_release(&err);
}

/* `fleet:` (docs/policy.md): the bound on a hold for a fleet host, reaching the type's rules */
static void test_fleet(void)
{
	struct policy p;
	struct type_rules r;
	struct strbuf err = STRBUF_INIT, shown = STRBUF_INIT;

	policy_init_default(&p);
	policy_type_rules(&p, "infrastructure-change", &r, &err);
	is_int(r.fleet.host_hold_max_ms, 10 * MS_PER_MIN, "fleet.host_hold_max: 10m by default");
	is_int(r.fleet.on_host_lost, HOST_LOST_ROLLBACK, "fleet.on_host_lost: rollback by default");
	policy_release(&p);
	is_int(load(&p, "fleet:\n  host_hold_max: 45m\n  on_host_lost: pause\n", &err), 0, "a fleet: section loads");
	policy_type_rules(&p, "standard", &r, &err);
	is_int(r.fleet.host_hold_max_ms, 45 * MS_PER_MIN, "host_hold_max reaches the rules");
	is_int(r.fleet.on_host_lost, HOST_LOST_PAUSE, "on_host_lost reaches the rules");
	policy_format_yaml(&p, &shown);
	ok(strstr(shown.buf, "fleet:\n  host_hold_max: 45m\n  on_host_lost: pause\n") != NULL, "policy show says so");
	policy_release(&p);
	strbuf_reset(&err);
	is_int(load(&p, "fleet:\n  on_host_lost: wait\n", &err), SW_ECONFIG, "an unknown on_host_lost is refused");
	ok(strstr(err.buf, "t.yaml:2:17: unknown fleet.on_host_lost 'wait'; valid: rollback, pause") != NULL, "%s",
	   err.buf);
	strbuf_release(&err);
	strbuf_release(&shown);
}

int main(void)
{
	test_type_rules();
	test_fleet();
	test_defaults();
	test_merge();
	test_round_trip();
	test_tz();
	test_spans_dst();
	return tap_done();
}
