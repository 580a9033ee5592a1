/*
 * webhook.h - Flagger-style webhooks (docs.flagger.app, "Webhooks"): the
 * preflight reachability check (docs/engine.md, "Where slipway differs from
 * Flagger": a webhook whose host cannot be resolved or reached fails the
 * deployment's preflight before any traffic moves) and the call itself (HTTP POST of a JSON payload, the answer's
 * status decides).
 */
#ifndef SLIPWAY_ADAPTERS_WEBHOOK_H
#define SLIPWAY_ADAPTERS_WEBHOOK_H

#include <stdint.h>

#include "core/strategy.h"

struct strbuf;

/*
 * 0 when a TCP connection to url's host and port (http: 80, https: 443 by
 * default) opens within timeout_ms; SW_EEXTERNAL with the reason in err
 * ("host 'x' cannot be resolved", "cannot connect to x:80: Connection
 * refused", "timed out"); SW_EPARSE for a URL that is not http(s)://HOST[:PORT][/...].
 */
int webhook_check_reachable(const char *url, int64_t timeout_ms, struct strbuf *err);

/*
 * POST payload (JSON text) to w->url with Content-Type application/json,
 * within w->timeout_ms (Flagger default 10 s).  Returns 0 and the HTTP
 * status in *status (the caller decides: 2xx is yes), or SW_EEXTERNAL
 * with the transport error in err.  The answer's body is ignored.
 */
int webhook_call(const struct webhook *w, const char *payload, long *status, struct strbuf *err);

#endif
