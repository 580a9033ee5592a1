/*
 * strategy_json.h - a strategy as JSON, so that the store keeps the exact
 * strategy a deployment was started with (deployments.spec_json) and a
 * restarted controller walks the same steps.
 */
#ifndef SLIPWAY_CORE_STRATEGY_JSON_H
#define SLIPWAY_CORE_STRATEGY_JSON_H

#include <jansson.h>

#include "core/strategy.h"

struct strbuf;

/* A new JSON object (caller owns the reference).  Never NULL. */
json_t *strategy_to_json(const struct strategy *s);
/*
 * Read what strategy_to_json() wrote.  Returns 0, or SW_EPARSE naming the
 * bad field in err (out untouched); the result is validated.
 */
int strategy_from_json(json_t *j, struct strategy *out, struct strbuf *err);

#endif
