/* test_gate.c - the controller's policy gate over the runbook's calendar. */
#include "tap.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "controller/gate.h"
#include "core/deployment.h"
#include "core/policy.h"
#include "core/tz.h"

static int64_t at(const char *s)
{
	int64_t ms = 0;
	time_parse_rfc3339(s, &ms, NULL);
	return ms;
}

static enum gate_result ask(struct policy_gate *g, const char *type, const char *cls, enum gate_phase ph,
			    const char *when, struct strbuf *reason)
{
	struct deployment d;
	deployment_init(&d, "api-server", "production", "v2", "v1", type, at(when));
	snprintf(d.change_class, sizeof(d.change_class), "%s", cls);
	strbuf_reset(reason);
	return policy_gate_check(g, &d, ph, at(when), reason);
}

int main(void)
{
	struct policy p, q;
	struct tz_zone utc;
	struct policy_gate g = { 0 };
	struct strbuf reason = STRBUF_INIT, err = STRBUF_INIT;
	static const char rollback_policy[] = "on_window_close: rollback\n";
	static const char continue_policy[] = "on_window_close: continue\n";

	policy_init_default(&p);
	tz_zone_fixed(&utc, 0);
	g.policy = &p;
	g.zone = &utc;

	is_int(ask(&g, "standard", "normal", GATE_PHASE_START, "2026-12-03T15:00:00Z", &reason), GATE_ALLOW,
	       "standard starts Thursday 15:00 (standard window)");
	is_int(ask(&g, "standard", "normal", GATE_PHASE_START, "2026-12-16T15:00:00Z", &reason), GATE_WAIT,
	       "standard waits in the holiday freeze");
	ok(strstr(reason.buf, "freeze 'holiday' until 2027-01-03T00:00:00Z") != NULL, "reason names the freeze and its end: %s",
	   reason.buf);
	ok(strstr(reason.buf, "next allowed at 2027-01-04T10:00:00Z") != NULL, "reason gives the next allowed time");
	is_int(ask(&g, "standard", "critical-security", GATE_PHASE_START, "2026-12-16T15:00:00Z", &reason), GATE_ALLOW,
	       "critical-security passes the holiday freeze");
	is_int(ask(&g, "standard", "normal", GATE_PHASE_START, "2026-12-05T15:00:00Z", &reason), GATE_WAIT,
	       "Saturday: no window");
	ok(strstr(reason.buf, "blocked by window") != NULL, "reason names the window: %s", reason.buf);
	is_int(ask(&g, "emergency", "normal", GATE_PHASE_START, "2026-12-05T03:00:00Z", &reason), GATE_ALLOW,
	       "emergency starts any time outside freezes");
	is_int(ask(&g, "nightly", "normal", GATE_PHASE_START, "2026-12-03T15:00:00Z", &reason), GATE_DENY,
	       "a type the policy does not know never starts");

	/* a rollout in progress when the window closes: hold (default), continue, rollback */
	is_int(ask(&g, "standard", "normal", GATE_PHASE_ADVANCE, "2026-12-04T20:00:00Z", &reason), GATE_WAIT,
	       "Friday 20:00: the extended window closed, hold");
	ok(strstr(reason.buf, "on_window_close: hold") != NULL, "hold says why");
	is_int(ask(&g, "standard", "normal", GATE_PHASE_ADVANCE, "2026-12-04T19:59:59Z", &reason), GATE_ALLOW,
	       "Friday 19:59:59: still inside the extended window");

	ok(policy_load(&q, rollback_policy, sizeof(rollback_policy) - 1, "r.yaml", NULL, &err) == 0, "load rollback policy");
	g.policy = &q;
	is_int(ask(&g, "standard", "normal", GATE_PHASE_ADVANCE, "2026-12-04T20:00:00Z", &reason), GATE_DENY,
	       "on_window_close: rollback denies going on");
	policy_release(&q);
	ok(policy_load(&q, continue_policy, sizeof(continue_policy) - 1, "c.yaml", NULL, &err) == 0, "load continue policy");
	is_int(ask(&g, "standard", "normal", GATE_PHASE_ADVANCE, "2026-12-04T20:00:00Z", &reason), GATE_ALLOW,
	       "on_window_close: continue goes on");
	is_int(ask(&g, "standard", "normal", GATE_PHASE_START, "2026-12-04T20:00:00Z", &reason), GATE_WAIT,
	       "but a new deployment still waits for a window");
	policy_release(&q);

	policy_release(&p);
	strbuf_release(&reason);
	strbuf_release(&err);
	return tap_done();
}
