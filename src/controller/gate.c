/*
 * gate.c - the policy gate of the controller; see gate.h for the order of
 * the rules and what each answer means.
 */
#include "controller/gate.h"
#include "adapters/db_store.h"
#include "adapters/flag_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/approvals.h"
#include "adapters/audit.h"
#include "adapters/checklist_store.h"
#include "adapters/incidents.h"
#include "base/err.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "core/calendar.h"
#include "core/policy.h"

/* "blocked by freeze 'holiday' until ...; next allowed at ... (window ...)" */
static void describe_block(const struct calendar_result *r, struct strbuf *reason)
{
	char when[RFC3339_BUFSZ];

	for (size_t i = 0; i < r->blocked_nr; i++) {
		const struct check_blocker *b = &r->blocked_by[i];
		strbuf_addf(reason, "%sblocked by %s '%s'", i ? "; " : "",
			    b->kind == BLOCKER_FREEZE ? "freeze" : "window", b->name);
		if (b->until_ms != CALENDAR_NO_TIME)
			strbuf_addf(reason, " until %s", time_format_rfc3339(b->until_ms, when));
	}
	if (!r->blocked_nr)
		strbuf_addstr(reason, "no window of this type is open");
	if (r->has_next)
		strbuf_addf(reason, "; next allowed at %s (window %s)", time_format_rfc3339(r->next_ms, when),
			    r->next_window ? r->next_window : "none");
	else
		strbuf_addstr(reason, "; not allowed within the calendar's search range");
}

int policy_gate_init(struct policy_gate *g, const struct policy *policy, const struct tz_zone *zone,
		     struct store *st, struct strbuf *err)
{
	int r;

	memset(g, 0, sizeof(*g));
	g->policy = policy;
	g->zone = zone;
	g->st = st;
	if (st && ((r = audit_migrate(st, err)) < 0 || (r = approvals_migrate(st, err)) < 0 ||
		   (r = incidents_migrate(st, err)) < 0 || (r = checklist_store_migrate(st, err)) < 0 || (r = flag_store_migrate(st, err)) < 0 ||
		   (r = db_store_migrate(st, err)) < 0))
		return r;
	if (policy)
		roles_map_from_policy(policy, &g->roles);
	return 0;
}

void policy_gate_release(struct policy_gate *g)
{
	if (!g)
		return;
	roles_map_release(&g->roles);
	memset(&g->roles, 0, sizeof(g->roles));
}

/* Approvals (docs/records.md): every required role approved by someone else who holds it, within the TTL. */
static enum gate_result approvals_wait(const struct policy_gate *g, const struct deployment *d,
				       const struct calendar_result *r, int64_t now_ms, struct strbuf *reason)
{
	struct approval_set set = { 0 };
	struct approval_gate ag = { 0 };
	struct strbuf err = STRBUF_INIT;
	enum gate_result out = GATE_ALLOW;

	if (!r->approvals_nr)
		return GATE_ALLOW;
	if (approvals_gate(g->st, d->id, r->approvals, r->approvals_nr, g->roles.roles, g->roles.n,
			   policy_approval_ttl_ms(g->policy), now_ms, &set, &ag, &err) < 0) {
		strbuf_addf(reason, "cannot read approvals: %s", err.buf);
		out = GATE_WAIT;
	} else if (ag.n_missing) {
		strbuf_addstr(reason, ag.rejected ? "rejected; approval needed: " : "approval needed: ");
		for (size_t i = 0; i < ag.n_missing; i++)
			strbuf_addf(reason, "%s%s (%s)", i ? ", " : "", ag.missing[i].role,
				    approval_why_str(ag.missing[i].why));
		strbuf_addf(reason, " in window %s: 'slipway approve %lld --role %s' by someone else who holds it",
			    r->window ? r->window : "none", (long long)d->id, ag.missing[0].role);
		out = GATE_WAIT;
	}
	approval_gate_release(&ag);
	approval_set_release(&set);
	strbuf_release(&err);
	return out;
}

/* The checklists (docs/checklists.md), once the calendar, incidents and approvals allow a start. */
static enum gate_result checklist_wait(const struct policy_gate *g, const struct deployment *d,
				       const struct calendar_result *r, int64_t now_ms, struct strbuf *reason)
{
	struct checklist_gate_args a = {
		.id = d->id, .service = d->service, .env = d->env, .version = d->version,
		.from_version = d->from_version, .type = d->type, .window = r->window,
		.rollback_fn = g->rollback_fn, .rollback_ctx = g->rollback_ctx,
		.health_fn = g->health_fn, .health_ctx = g->health_ctx, .release_fn = g->release_fn,
		.release_ctx = g->release_ctx, .now_ms = now_ms,
	};
	struct strbuf err = STRBUF_INIT;
	int x = checklist_gate_check(g->st, g->policy, &a, reason, &err);

	if (x < 0)
		strbuf_addf(reason, "cannot read the checklist: %s", err.buf);
	strbuf_release(&err);
	return x ? GATE_WAIT : GATE_ALLOW;
}

enum gate_result policy_gate_check(void *ctx, const struct deployment *d, enum gate_phase phase, int64_t now_ms,
				   struct strbuf *reason)
{
	const struct policy_gate *g = ctx;
	struct calendar_result r;
	struct strbuf err = STRBUF_INIT;
	enum gate_result out = GATE_ALLOW;

	if (!g || !g->policy)
		return GATE_ALLOW;
	if (calendar_check(g->policy, g->zone, d->type, d->change_class[0] ? d->change_class : "normal", now_ms,
			   &r, &err) < 0) {
		/* a type or class the policy does not know: it can never start */
		strbuf_addf(reason, "policy: %s", err.buf);
		strbuf_release(&err);
		return phase == GATE_PHASE_START ? GATE_DENY : GATE_WAIT;
	}
	strbuf_release(&err);
	if (r.allowed && phase == GATE_PHASE_START && g->st) {
		/* runbook Pre-Deployment Checklist: "No active incidents in production" */
		int64_t *ids = NULL;
		size_t n = 0;
		int x = incidents_gate(g->st, d->env, d->type, &ids, &n, &err);
		free(ids);
		if (x < 0) {
			strbuf_addstr(reason, err.buf);
			out = GATE_WAIT;
		} else {
			out = approvals_wait(g, d, &r, now_ms, reason);
		}
		if (out == GATE_ALLOW)
			out = checklist_wait(g, d, &r, now_ms, reason);
		strbuf_release(&err);
	} else if (!r.allowed) {
		if (phase == GATE_PHASE_START) {
			describe_block(&r, reason);
			out = GATE_WAIT;
		} else {
			switch (g->policy->on_window_close) {
			case WINDOW_CLOSE_HOLD:
				strbuf_addstr(reason, "holding the weight (on_window_close: hold): ");
				describe_block(&r, reason);
				out = GATE_WAIT;
				break;
			case WINDOW_CLOSE_CONTINUE:
				break;
			case WINDOW_CLOSE_ROLLBACK:
				strbuf_addstr(reason, "rolling back (on_window_close: rollback): ");
				describe_block(&r, reason);
				out = GATE_DENY;
				break;
			}
		}
	}
	calendar_result_release(&r);
	return out;
}
