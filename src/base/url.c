/*
 * url.c - http(s) URL checks and password redaction; see url.h.
 */
#include "base/url.h"

#include <string.h>

#include "base/err.h"
#include "base/strbuf.h"

/* The scheme's length including "://" for http and https, else 0. */
static size_t scheme_len(const char *url)
{
	if (!strncmp(url, "http://", 7))
		return 7;
	if (!strncmp(url, "https://", 8))
		return 8;
	return 0;
}

/* The authority's length: up to the path, query or fragment (RFC 3986 3.2). */
static size_t authority_len(const char *a)
{
	return strcspn(a, "/?#");
}

/* The userinfo's length including '@' within the authority a[0..n), or 0. */
static size_t userinfo_len(const char *a, size_t n)
{
	size_t at = 0;
	for (size_t i = 0; i < n; i++)
		if (a[i] == '@')
			at = i + 1;
	return at;
}

void url_redact(const char *url, struct strbuf *out)
{
	size_t s = scheme_len(url), n, u;
	const char *a, *colon;

	if (!s) {
		strbuf_addstr(out, url);
		return;
	}
	a = url + s;
	n = authority_len(a);
	u = userinfo_len(a, n);
	colon = u ? memchr(a, ':', u - 1) : NULL;
	if (!colon) {
		strbuf_addstr(out, url);
		return;
	}
	strbuf_add(out, url, (size_t)(colon + 1 - url));
	strbuf_addstr(out, "***");
	strbuf_addstr(out, a + u - 1);
}

int url_check(const char *url, struct strbuf *err)
{
	size_t s = scheme_len(url), n, u, h;
	const char *a, *host, *port = NULL;
	long pv = 0;

	if (!s) {
		strbuf_errf(err, "must start with http:// or https://");
		return SW_EPARSE;
	}
	for (const char *p = url; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f) {
			/* no byte offset: the URL is shown redacted, where offsets differ */
			strbuf_errf(err, "has a space or control character; write a space as %%20");
			return SW_EPARSE;
		}
	a = url + s;
	n = authority_len(a);
	u = userinfo_len(a, n);
	host = a + u;
	h = n - u;
	if (h && host[0] == '[') {
		const char *close = memchr(host, ']', h);
		if (!close) {
			strbuf_errf(err, "has an IPv6 address without its closing ']' (e.g. http://[::1]:3000/)");
			return SW_EPARSE;
		}
		if ((size_t)(close + 1 - host) < h) {
			if (close[1] != ':') {
				strbuf_errf(err, "has text after the IPv6 address's ']' that is not ':PORT'");
				return SW_EPARSE;
			}
			port = close + 2;
		}
		h = (size_t)(close + 1 - host);
	} else {
		const char *colon = memchr(host, ':', h);
		if (colon) {
			port = colon + 1;
			h = (size_t)(colon - host);
		}
	}
	if (!h) {
		strbuf_errf(err, "has no host (e.g. http://grafana.example.com/d/api)");
		return SW_EPARSE;
	}
	for (size_t i = 0; host[0] != '[' && i < h; i++)
		if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-_~%", host[i])) {
			strbuf_errf(err, "has '%c' in its host; a host is letters, digits, . - _ or an IP address", host[i]);
			return SW_EPARSE;
		}
	if (port) {
		size_t pl = (size_t)(a + n - port), i;
		for (i = 0; i < pl; i++) {
			if (port[i] < '0' || port[i] > '9' || pv > 65535) {
				pv = -1;
				break;
			}
			pv = pv * 10 + (port[i] - '0');
		}
		if (!pl || pv < 1 || pv > 65535) {
			strbuf_errf(err, "has port '%.*s'; a port is a number 1 to 65535", (int)(pl > 12 ? 12 : pl), port);
			return SW_EPARSE;
		}
	}
	return 0;
}
