/*
 * url.h - checking and redacting the http(s) URLs people write into
 * service files (dashboards:, prometheus.address, github.api).
 *
 * Pure string work after RFC 3986 section 3 (scheme "://" authority path):
 * core may not link libcurl (docs/ARCHITECTURE.md: core does no I/O), yet
 * a service file must be refused at load, at FILE:LINE:COL, for a URL the
 * HTTP client would refuse later at the gate.  The rules here are the
 * subset libcurl's URL parser (curl_url_set) also enforces for http/https:
 * a host, a port 1 to 65535, no spaces or control characters.
 */
#ifndef SLIPWAY_BASE_URL_H
#define SLIPWAY_BASE_URL_H

struct strbuf;

/*
 * Whether url is an absolute http:// or https:// URL with a host and, if a
 * port is given, a decimal port 1 to 65535.  Returns 0, or SW_EPARSE with
 * why (what is wrong and what would be valid, never the password of the
 * URL) in err.
 */
int url_check(const char *url, struct strbuf *err);

/*
 * Append url to out with the password of its userinfo replaced by "***"
 * (RFC 3986 section 3.2.1: "user:password@host"; section 7.5 advises
 * against showing it).  "http://u:pw@h/d" -> "http://u:***@h/d"; a URL
 * without a password is appended as it is.  For every place a URL from a
 * configuration file reaches output, evidence or the store.
 */
void url_redact(const char *url, struct strbuf *out);

#endif
