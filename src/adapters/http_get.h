/*
 * http_get.h - one bounded HTTP GET with libcurl, for the checklist's proofs
 * at the gate (docs/checklists.md): "Dashboards accessible" (does the URL
 * answer) and the live checks against GitHub's REST API.
 */
#ifndef SLIPWAY_ADAPTERS_HTTP_GET_H
#define SLIPWAY_ADAPTERS_HTTP_GET_H

#include <stddef.h>
#include <stdint.h>

struct strbuf;

/*
 * GET url (http or https only; redirects are not followed, so a 3xx is an
 * answer) within timeout_ms, with the extra header lines in headers
 * (NULL-terminated, may be NULL; e.g. "Authorization: Bearer ...", which
 * is never written to err).  The body goes to body (may be NULL: discarded),
 * at most max_body bytes: a longer one fails.  Returns 0 and the HTTP status
 * in *status, or SW_EEXTERNAL with the transport error in err (naming the
 * URL, never a header).
 */
int http_get(const char *url, const char *const *headers, int64_t timeout_ms, size_t max_body, long *status,
	     struct strbuf *body, struct strbuf *err);

#endif
