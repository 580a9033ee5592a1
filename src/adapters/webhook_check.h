/*
 * webhook_check.h - preflight reachability of a webhook (issue 3 item 3:
 * "a webhook whose host cannot be resolved or reached fails preflight,
 * before any traffic moves").  Resolves the URL's host and opens (then
 * closes) a TCP connection to it; sends nothing.
 */
#ifndef SLIPWAY_ADAPTERS_WEBHOOK_CHECK_H
#define SLIPWAY_ADAPTERS_WEBHOOK_CHECK_H

#include <stdint.h>

struct strbuf;

/*
 * 0 when a TCP connection to url's host and port (http: 80, https: 443 by
 * default) opens within timeout_ms; SW_EEXTERNAL with the reason in err
 * ("host 'x' cannot be resolved", "cannot connect to x:80: Connection
 * refused", "timed out"); SW_EPARSE for a URL that is not http(s)://HOST[:PORT][/...].
 */
int webhook_check_reachable(const char *url, int64_t timeout_ms, struct strbuf *err);

#endif
