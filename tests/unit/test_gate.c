/* test_gate.c - the controller's policy gate over the runbook's calendar. */
#include "store_fresh.h"
#include "tap.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "controller/gate.h"
#include "core/deployment.h"
#include "core/policy.h"
#include "core/tz.h"
#include "core/strategy.h"
#include "adapters/approvals.h"
#include "adapters/audit.h"
#include "base/err.h"
#include "adapters/deployment_store.h"
#include "adapters/incidents.h"
#include "adapters/store.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* A fake "rollback possible" proof: the previous release is gone while *gone is set. */
static int fake_rollback(void *ctx, const char *service, const char *from_version, struct strbuf *ev)
{
	if (*(int *)ctx) {
		strbuf_addf(ev, "the release directory of %s %s is gone", service, from_version);
		return SW_EDENIED;
	}
	strbuf_addf(ev, "release %s present", from_version);
	return 0;
}

/* A fake stable revision for "production health": *mode 0 no traffic, 1 7% errors, 2 p99 4x the earlier, 3 healthy. */
static int fake_health(void *ctx, const char *service, const char *version, struct metrics_sample *recent,
		       struct metrics_sample *earlier, struct strbuf *err)
{
	int mode = *(int *)ctx;
	(void)service;
	(void)version;
	(void)err;
	if (!mode)
		return 0;
	recent->requests = 1000;
	recent->errors = mode == 1 ? 70 : 2;
	recent->p99_ms = mode == 2 ? 400 : 110;
	earlier->requests = 15000;
	earlier->errors = 20;
	earlier->p99_ms = 100;
	return 0;
}

/* The checklists at the gate (docs/checklists.md): blocking items hold a standard deployment. */
static void test_checklists(const struct tz_zone *utc)
{
	static const char pol[] = "roles:\n  team-lead: [bob]\ntypes:\n  standard: { approvals: [] }\n"
				  "checklists:\n  ci-passing: { blocks: [standard] }\n"
				  "  rollback-possible: { blocks: [standard] }\n"
				  "  production-health: { blocks: [standard] }\n"
				  "  load-test: { list: pre-deployment, text: \"Load test passed\", check: attest, who: automation }\n";
	char dir[] = "/tmp/slipway-gate-cl.XXXXXX";
	struct store st = { 0 };
	struct strategy *strat = calloc(1, sizeof(*strat));
	struct strbuf reason = STRBUF_INIT, err = STRBUF_INIT;
	struct policy q;
	struct policy_gate g;
	struct deployment d;
	int64_t thu = at("2026-12-03T15:00:00Z");
	int gone = 1, health = 0;

	ok(mkdtemp(dir) != NULL, "checklists: temporary store directory");
	is_int(policy_load(&q, pol, sizeof(pol) - 1, "cl.yaml", NULL, &err), 0, "checklists policy: %s", err.buf);
	store_fresh(dir);
	ok(store_open(&st, dir, &err) == 0 && deployment_store_migrate(&st, &err) == 0, "store: %s", err.buf);
	is_int(policy_gate_init(&g, &q, utc, &st, &err), 0, "gate init migrates the checklist module");
	g.rollback_fn = fake_rollback;
	g.rollback_ctx = &gone;
	g.health_fn = fake_health;
	g.health_ctx = &health;
	strategy_default(strat, STRATEGY_CANARY);
	deployment_init(&d, "api-server", "production", "v2", "v1", "standard", thu);
	snprintf(d.requested_by, sizeof(d.requested_by), "alice");
	is_int(deployment_store_create(&st, &d, strat, &err), 0, "create a standard deployment");
	is_int(policy_gate_check(&g, &d, GATE_PHASE_START, thu, &reason), GATE_WAIT, "waits for its checklist");
	ok(strstr(reason.buf, "ci-passing (missing)") != NULL, "names the missing attestation: %s", reason.buf);
	ok(strstr(reason.buf, "rollback-possible (failed: the release directory of api-server v1 is gone)") != NULL,
	   "rollback possible fails when the previous release directory is gone");
	ok(strstr(reason.buf, "production-health (unchecked)") != NULL,
	   "no traffic on the stable: production health unchecked, never a pass: %s", reason.buf);
	health = 1;
	strbuf_reset(&reason);
	is_int(policy_gate_check(&g, &d, GATE_PHASE_START, thu + 500, &reason), GATE_WAIT, "an unhealthy stable holds it");
	ok(strstr(reason.buf, "production-health (failed: v1 over the last 60s: 1000 requests, 7.00% errors (limit 5%)") !=
		   NULL,
	   "the stable's error rate above the immediate limit fails production health: %s", reason.buf);
	health = 2;
	strbuf_reset(&reason);
	is_int(policy_gate_check(&g, &d, GATE_PHASE_START, thu + 600, &reason), GATE_WAIT, "a slow stable holds it");
	ok(strstr(reason.buf, "p99 400ms (limit 3x the earlier 100ms = 300ms)") != NULL,
	   "the stable's p99 above 3x its earlier p99 fails production health: %s", reason.buf);
	health = 3;
	gone = 0;
	strbuf_reset(&reason);
	is_int(policy_gate_check(&g, &d, GATE_PHASE_START, thu + 1000, &reason), GATE_WAIT, "still waiting for CI");
	ok(strstr(reason.buf, "rollback-possible") == NULL, "the release is back: rollback is possible: %s", reason.buf);
	{
		struct attest_request rq = { .deployment_id = d.id, .item = "ci-passing", .evidence = "https://ci/1",
					     .actor = "ci-bot", .identity = "token:1", .now_ms = thu + 2000 };
		ok(checklist_attest(&st, &q, &rq, NULL, NULL, &err) > 0, "CI attests: %s", err.buf);
		rq.item = "load-test";
		rq.identity = "os";
		rq.actor = "alice";
		strbuf_reset(&err);
		is_int((int)checklist_attest(&st, &q, &rq, NULL, NULL, &err), SW_EDENIED,
		       "a person cannot tick an item whose who: is automation");
		ok(strstr(err.buf, "item 'load-test' is ticked by automation only (who: automation), not by a person ('alice')") !=
			   NULL,
		   "and is told why: %s", err.buf);
		rq.identity = "token:1";
		rq.actor = "ci-bot";
		ok(checklist_attest(&st, &q, &rq, NULL, NULL, &err) > 0, "an API token ticks it: %s", err.buf);
	}
	strbuf_reset(&reason);
	is_int(policy_gate_check(&g, &d, GATE_PHASE_START, thu + 3000, &reason), GATE_ALLOW,
	       "every blocking item satisfied: starts: %s", reason.buf);
	policy_gate_release(&g);
	store_close(&st);
	policy_release(&q);
	free(strat);
	strbuf_release(&reason);
	strbuf_release(&err);
	{
		char cmd[128];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			printf("# could not remove %s\n", dir);
	}
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

	/* with a store: approvals by role from the policy's roles map, and incidents */
	{
		static const char roles_policy[] = "roles:\n  team-lead: [alice, bob]\n  vp-engineering: [victor]\n";
		char dir[] = "/tmp/slipway-gate.XXXXXX";
		struct store st = { 0 };
		struct strategy *strat = calloc(1, sizeof(*strat));
		struct deployment d, e;
		struct policy_gate sg;
		int64_t thu = at("2026-12-03T15:00:00Z"), inc;

		ok(mkdtemp(dir) != NULL, "temporary store directory");
		ok(policy_load(&q, roles_policy, sizeof(roles_policy) - 1, "roles.yaml", NULL, &err) == 0, "roles policy");
		store_fresh(dir);
		ok(store_open(&st, dir, &err) == 0 && deployment_store_migrate(&st, &err) == 0, "store: %s", err.buf);
		is_int(policy_gate_init(&sg, &q, &utc, &st, &err), 0, "gate init migrates approvals, incidents, audit");
		strategy_default(strat, STRATEGY_CANARY);
		deployment_init(&d, "api-server", "production", "v2", "v1", "standard", thu);
		snprintf(d.requested_by, sizeof(d.requested_by), "alice");
		is_int(deployment_store_create(&st, &d, strat, &err), 0, "create a standard deployment");
		strbuf_reset(&reason);
		is_int(policy_gate_check(&sg, &d, GATE_PHASE_START, thu, &reason), GATE_WAIT, "no approval: waits");
		ok(strstr(reason.buf, "approval needed: team-lead (no approval)") != NULL, "says which role: %s",
		   reason.buf);
		ok(approval_record(&st, d.id, "team-lead", "alice", APPROVAL_APPROVED, NULL, "alice", sg.roles.roles,
				   sg.roles.n, thu, &err) < 0, "the requester cannot approve her own deployment");
		ok(approval_record(&st, d.id, "team-lead", "mallory", APPROVAL_APPROVED, NULL, "mallory", sg.roles.roles,
				   sg.roles.n, thu, &err) < 0, "someone without the role cannot approve");
		strbuf_reset(&reason);
		is_int(policy_gate_check(&sg, &d, GATE_PHASE_START, thu, &reason), GATE_WAIT, "still waiting");
		ok(approval_record(&st, d.id, "team-lead", "bob", APPROVAL_APPROVED, NULL, "bob", sg.roles.roles,
				   sg.roles.n, thu, &err) > 0, "bob (team-lead) approves");
		strbuf_reset(&reason);
		is_int(policy_gate_check(&sg, &d, GATE_PHASE_START, thu + MS_PER_HOUR, &reason), GATE_ALLOW,
		       "approved by a team-lead other than the requester: starts");
		strbuf_reset(&reason);
		is_int(policy_gate_check(&sg, &d, GATE_PHASE_START, thu + 7 * MS_PER_DAY, &reason), GATE_WAIT,
		       "a week later the approval has expired (TTL 24h)");
		ok(strstr(reason.buf, "expired") != NULL, "says it expired: %s", reason.buf);

		inc = incident_open(&st, "api-server", "production", "elevated 5xx", "carol", 0, thu, &err);
		ok(inc > 0, "open an incident in production");
		strbuf_reset(&reason);
		is_int(policy_gate_check(&sg, &d, GATE_PHASE_START, thu + MS_PER_HOUR, &reason), GATE_WAIT,
		       "an open incident holds deployments to production");
		ok(strstr(reason.buf, "incident") != NULL, "says which incident: %s", reason.buf);
		/* one unfinished deployment per service and environment (deployment_store.c migration 3):
		 * the standard one steps aside (as if aborted) while the emergency is recorded */
		ok(store_exec(&st, "UPDATE deployments SET state = 'failed'", NULL) == 0,
		   "the standard deployment steps aside");
		deployment_init(&e, "api-server", "production", "v3", "v1", "emergency", thu);
		snprintf(e.requested_by, sizeof(e.requested_by), "alice");
		is_int(deployment_store_create(&st, &e, strat, &err), 0, "record the emergency deployment");
		approval_record(&st, e.id, "vp-engineering", "victor", APPROVAL_APPROVED, NULL, "victor", sg.roles.roles,
				sg.roles.n, thu, &err);
		strbuf_reset(&reason);
		is_int(policy_gate_check(&sg, &e, GATE_PHASE_START, thu + MS_PER_HOUR, &reason), GATE_ALLOW,
		       "an emergency with vp-engineering approval passes the incident: %s", reason.buf);
		strbuf_reset(&reason);
		policy_gate_check(&sg, &e, GATE_PHASE_START, thu + MS_PER_HOUR + 100, &reason);
		{
			struct audit_entry *ae = NULL;
			size_t n = 0, bypassed = 0;
			ok(audit_list(&st, INT64_MIN, &ae, &n, &err) == 0, "read the audit log");
			for (size_t i = 0; i < n; i++)
				if (!strcmp(ae[i].action, "checklist.bypassed")) {
					bypassed++;
					ok(strstr(ae[i].detail, "no-incidents (failed: incident") != NULL,
					   "the emergency's checklist says the incident is open: %s", ae[i].detail);
				}
			is_int((int)bypassed, 1, "what the emergency missed is audited once, not at every look");
			audit_entries_free(ae, n);
		}
		{
			char *missing = NULL;
			is_int(checklist_bypassed(&st, e.id, &missing, &err), 0, "what the emergency missed, for its message");
			ok(missing && strstr(missing, "no-incidents") != NULL, "names the item: %s", missing ? missing : "(none)");
			free(missing);
		}
		is_int(incident_resolve(&st, inc, "carol", thu + MS_PER_HOUR, &err), 0, "resolve the incident");
		strbuf_reset(&reason);
		is_int(policy_gate_check(&sg, &d, GATE_PHASE_START, thu + 2 * MS_PER_HOUR, &reason), GATE_ALLOW,
		       "resolved: the standard deployment starts");

		policy_gate_release(&sg);
		store_close(&st);
		policy_release(&q);
		free(strat);
		{
			char cmd[128];
			snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
			if (system(cmd) != 0)
				printf("# could not remove %s\n", dir);
		}
	}

	test_checklists(&utc);
	policy_release(&p);
	strbuf_release(&reason);
	strbuf_release(&err);
	return tap_done();
}
