/*
 * rules.c - the runbook v1.0 rules for callers that have no policy file in
 * hand (unit tests, the simulator, a controller without a rules hook).  They
 * are read from the policy module's built-in default, so the runbook's
 * tables live in one place (policy_default.c) and cannot drift apart.
 */
#include "core/rules.h"
#include "core/policy.h"
#include "base/err.h"
#include "base/strbuf.h"

int type_rules_default(const char *type, struct type_rules *out, struct strbuf *err)
{
	struct policy p;
	int r;

	policy_init_default(&p);
	r = policy_type_rules(&p, type, out, err);
	policy_release(&p);
	return r < 0 ? SW_EUSAGE : r;
}

const char *type_criterion_name(enum type_criterion c)
{
	return policy_criterion_name(c);
}
