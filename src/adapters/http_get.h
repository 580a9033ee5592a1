/*
 * http_get.h - bounded HTTP GETs with libcurl, for the checklist's proofs
 * at the gate (docs/checklists.md): "Dashboards accessible" (does the URL
 * answer) and the live checks against GitHub's REST API.
 */
#ifndef SLIPWAY_ADAPTERS_HTTP_GET_H
#define SLIPWAY_ADAPTERS_HTTP_GET_H

#include <stddef.h>
#include <stdint.h>

struct strbuf;

/* A connection is given at most this long (ms), whatever the request's timeout (CURLOPT_CONNECTTIMEOUT_MS). */
#define HTTP_GET_CONNECT_MAX_MS 2000

/*
 * GET url (http or https only; redirects are not followed, so a 3xx is an
 * answer) within timeout_ms (connecting within HTTP_GET_CONNECT_MAX_MS),
 * with the extra header lines in headers (NULL-terminated, may be NULL;
 * e.g. "Authorization: Bearer ...", which is never written to err).  The
 * body goes to body (may be NULL: discarded), at most max_body bytes: a
 * longer one fails.  Returns 0 and the HTTP status in *status; SW_ETIMEOUT
 * when no answer came within timeout_ms (err says so); or SW_EEXTERNAL with
 * the transport error in err (naming the URL, never a header).
 */
int http_get(const char *url, const char *const *headers, int64_t timeout_ms, size_t max_body, long *status,
	     struct strbuf *body, struct strbuf *err);

/*
 * GET each of urls[0..n) at once (libcurl's multi interface), each as
 * http_get() without headers and discarding the body (at most max_body
 * bytes), all of them done within timeout_ms together.  For each i, rc[i]
 * is what http_get() would return (0, SW_ETIMEOUT or SW_EEXTERNAL), with
 * status[i] the HTTP status when 0, and errs[i] (initialised strbufs of the
 * caller) the error otherwise.  Returns 0, or SW_EEXTERNAL when the HTTP
 * client cannot be set up at all (every rc[i] says so).
 */
int http_get_each(const char *const *urls, size_t n, int64_t timeout_ms, size_t max_body, int *rc, long *status,
		  struct strbuf *errs);

#endif
