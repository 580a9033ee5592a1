/*
 * gate.c - the policy gate of the controller; see gate.h for the order of
 * the rules and what each answer means.
 */
#include "controller/gate.h"

#include <stdio.h>
#include <string.h>

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
	if (!r.allowed) {
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
