/*
 * rules.h - the runbook's built-in rules per deployment type, for callers
 * with no policy in hand; they come from the policy module's built-in
 * default (policy_init_default()), the runbook v1.0 tables.
 */
#ifndef SLIPWAY_CORE_RULES_H
#define SLIPWAY_CORE_RULES_H

#include "core/rules-t.h"

struct strbuf;

/*
 * Fill *out with the runbook's rules for `type` (Deployment Types table and
 * Rollback Decision Criteria):
 *   standard               canary            30m         error rate > 1%
 *   hotfix                 fast-progressive  15m         any regression
 *   emergency              full              continuous  worse than baseline
 *   database-migration     blue-green        1h          any error
 *   infrastructure-change  region-by-region  1h          any availability impact
 * and for every type immediate rollback at error rate > 5% or p99 > 3x
 * baseline, consider rollback at error rate > 1% or p99 > 2x baseline.
 * Returns 0, or SW_EUSAGE naming the valid types in err (out untouched).
 */
int type_rules_default(const char *type, struct type_rules *out, struct strbuf *err);

/* "error-rate", "any-regression", ... for reasons and JSON. */
const char *type_criterion_name(enum type_criterion c);

#endif
