/*
 * gate.h - the gate a deployment passes before it starts and before each
 * weight increase (DESIGN.md pipeline: "policy gate"; runbook: Deployment
 * Windows, Freeze Calendar, Deployment Types' approvals, Pre-Deployment
 * Checklist "No active incidents in production").
 *
 * It plugs into controller_hooks.gate.  Before a deployment starts:
 *   1. the calendar (calendar_check()): a window its type may use is open and
 *      no freeze blocks its change class; else it waits, and its reason says
 *      which rule blocks it, until when, and when it would next be allowed;
 *   2. approvals: every role the type and the window require has a valid
 *      approval (docs/records.md; approvals_gate());
 *   3. incidents: no open incident in its environment, except for an
 *      emergency (docs/records.md; incidents_gate());
 *   4. the checklists: every item that blocks its type is satisfied
 *      (docs/checklists.md; checklist_gate_check()); an emergency goes
 *      through with what it misses recorded.
 * While it progresses, a window that closes (or a freeze that begins) makes
 * it hold its weight (policy on_window_close: hold, the default), go on
 * (continue) or roll back (rollback).
 * Every "no" is GATE_WAIT with a reason: a pending deployment stays pending
 * until a person approves, a window opens, or someone aborts it.
 */
#ifndef SLIPWAY_CONTROLLER_GATE_H
#define SLIPWAY_CONTROLLER_GATE_H

#include <stdint.h>
#include "controller/controller.h"
#include "core/approval.h"
#include "controller/checklist_gate.h"

struct policy;
struct tz_zone;
struct store;

struct policy_gate {
	const struct policy *policy;	/* borrowed; outlives the gate */
	const struct tz_zone *zone;	/* the policy's time zone, opened; borrowed */
	struct store *st;		/* for approvals and incidents; NULL skips both */
	struct roles_map roles;		/* the policy's roles: map (policy_gate_init()) */
	/* proof of "rollback possible" (controller/checklist_gate.h), set by
	 * whoever knows the release directories; NULL: reported unchecked */
	checklist_rollback_fn *rollback_fn;
	void *rollback_ctx;
	/* the stable revision's metrics for "production health"; NULL: unchecked */
	checklist_health_fn *health_fn;
	void *health_ctx;
	/* the release's manifest, the service's databases, dashboards and github: section; NULL: unchecked */
	checklist_release_fn *release_fn;
	void *release_ctx;
};

/*
 * Set g up over policy, zone and st (all borrowed; st may be NULL) and
 * migrate the store modules the gate reads (approvals, incidents, audit).
 * 0, or SW_ESTORE with err.  Release with policy_gate_release().
 */
int policy_gate_init(struct policy_gate *g, const struct policy *policy, const struct tz_zone *zone,
		     struct store *st, struct strbuf *err);
void policy_gate_release(struct policy_gate *g);

/* controller_hooks.gate with ctx = struct policy_gate *. */
enum gate_result policy_gate_check(void *ctx, const struct deployment *d, enum gate_phase phase, int64_t now_ms,
				   struct strbuf *reason);

#endif
