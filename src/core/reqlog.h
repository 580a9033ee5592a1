/*
 * reqlog.h - HAProxy per-request log lines and the latency histogram the
 * builtin metrics provider aggregates them into (docs/haproxy.md).  Pure: the
 * receiver (adapters/metrics_builtin.c) feeds datagrams in, the provider asks
 * for counts and percentiles out.
 *
 * The line is the frontend's custom log-format that router_haproxy writes
 * (docs/haproxy.md; HAProxy configuration.txt section 8.2.6):
 *
 *     slipway2 %Ts.%ms %Tt %b %s %ST %Tr %Ta %HM %hs
 *     slipway2 1795950611.123 5 api-server.production v2-0 200 3 4 GET {agent:billing:enabled=on}
 *
 * %Ts.%ms the accept date (s.ms since the epoch) and %Tt the session time
 * up to the end of the response: their sum is when the request completed,
 * which places a line in its time bucket even when it is delivered late
 * (HAProxy keeps lines in its ring while no receiver listens).  %b backend, %s server ("VERSION-INSTANCE", or "<NOSRV>" when HAProxy
 * answered itself: maintenance, read-only), %ST status (-1 or 0 when no
 * response), %Tr server response time (-1 when none), %Ta total active time
 * in ms.  A syslog header before the marker ("<134>Nov 29 ... haproxy[1]: ")
 * is skipped, so `format raw` and the default `format local` both parse.
 *
 * %hs is the captured X-Flag-Variant response header in braces (docs/flags.md
 * "Metrics per variant"): "{}" when the service sent none, else
 * "{FLAG=VARIANT[,FLAG=VARIANT]...}" (spaces after commas allowed; HAProxy
 * does not escape spaces, so the field runs to the end of the line).  It is
 * optional: lines of a configuration written before it parse with no
 * variants.  A malformed header never rejects the line (the request still
 * counts for its revision): its pairs are dropped and variants_bad is set.
 */
#ifndef SLIPWAY_CORE_REQLOG_H
#define SLIPWAY_CORE_REQLOG_H

#include <stddef.h>
#include <stdint.h>

#define REQLOG_LINE_MAX 1024
#define REQLOG_MARKER "slipway2 "	/* the format's name and version */	/* bytes; longer datagrams are counted unparseable */

#define REQLOG_MAX_VARIANTS 4	/* pairs kept per request; more are counted as bad */
#define REQLOG_NAME_MAX 200	/* a flag's or a variant's name, as core/flag.h allows */

/* One FLAG=VARIANT pair of the X-Flag-Variant header. */
struct reqlog_variant {
	char flag[REQLOG_NAME_MAX + 1];
	char variant[REQLOG_NAME_MAX + 1];
};

struct reqlog_line {
	char backend[160];	/* "SERVICE.ENV" */
	char version[72];	/* from server "VERSION-N"; "" when no server answered */
	int instance;		/* N; -1 with no server */
	int status;		/* HTTP status, or 0 when none was sent */
	int latency_ms;		/* %Ta, >= 0 */
	int error;		/* 1 when status >= 500 or no response (Flagger request-success-rate) */
	int64_t end_ms;		/* completion: accept date + %Tt, ms since the epoch */
	int n_variants;		/* pairs in variants[] (0: no header, or a bad one) */
	int variants_bad;	/* 1: the header was present but not FLAG=VARIANT pairs */
	struct reqlog_variant variants[REQLOG_MAX_VARIANTS];
};

/*
 * Parse an X-Flag-Variant header value s[0..len) ("FLAG=VARIANT", pairs
 * separated by commas and optional spaces; names of 1-200 letters, digits
 * and . _ - : /) into v[0..max).  Returns the number of pairs, or SW_EPARSE
 * (v untouched beyond what it returned) for anything else, an empty value
 * included, or more than max pairs.  Used by the log parser and by services'
 * tests; never reads past len.
 */
int reqlog_parse_variants(const char *s, size_t len, struct reqlog_variant *v, int max);

/*
 * Parse one datagram buf[0..len).  Returns 0 and fills *out, or SW_EPARSE
 * (not a slipway2 line, a field missing or out of range).  Never reads past
 * len; buf need not be NUL-terminated.
 */
int reqlog_parse(const char *buf, size_t len, struct reqlog_line *out);

/*
 * A latency histogram: log-linear buckets (exact below 32 ms, then 16
 * buckets per power of two, so a percentile is within 1/16 = 6.25% of the
 * true value), up to 2^21 ms (35 minutes); longer values land in the last
 * bucket.  max_ms is exact.  Buckets add, so histograms of sub-windows merge
 * into one for any window.
 */
#define HIST_BUCKETS 304
struct hist {
	uint32_t n[HIST_BUCKETS];
	uint64_t count;
	uint32_t max_ms;
};

void hist_add(struct hist *h, uint32_t ms);
void hist_merge(struct hist *into, const struct hist *from);
/* The q-quantile (0 < q <= 1) in ms: the upper bound of the bucket holding
 * it, capped at max_ms.  NAN-free: returns 0 for an empty histogram. */
double hist_quantile(const struct hist *h, double q);
/* Bucket index of ms and the largest ms a bucket holds (for tests). */
int hist_bucket(uint32_t ms);
uint32_t hist_bucket_upper(int b);

/*
 * Compact text form for the store: "idx:count,idx:count;max" (only non-zero
 * buckets).  hist_decode() returns 0 or SW_EPARSE and leaves *h untouched on
 * failure.
 */
struct strbuf;
void hist_encode(const struct hist *h, struct strbuf *out);
int hist_decode(struct hist *h, const char *s);

#endif
