/*
 * test_reqlog.c - HAProxy request lines and the latency histogram
 * (core/reqlog.c).
 */
#include "tap.h"
#include "base/strbuf.h"
#include "core/reqlog.h"

#include <string.h>

static int parse(const char *s, struct reqlog_line *l)
{
	return reqlog_parse(s, strlen(s), l);
}

int main(void)
{
	struct reqlog_line l;
	struct hist h, h2;
	struct strbuf sb = STRBUF_INIT;

	ok(parse("slipway2 1795950611.123 5 api.production v2-1 200 3 4 GET\n", &l) == 0, "raw line parses");
	is_str(l.backend, "api.production", "backend");
	is_str(l.version, "v2", "version from the server name");
	is_int(l.instance, 1, "instance from the server name");
	is_int(l.status, 200, "status");
	is_int(l.latency_ms, 4, "latency is %%Ta");
	is_int(l.error, 0, "200 is no error");
	is_int(l.end_ms, 1795950611128LL, "completion = accept date + %%Tt");
	ok(parse("slipway2 1795950611.12 5 a.b v1-0 200 1 2 GET", &l) < 0, "accept date needs three ms digits");
	ok(parse("slipway2 x.123 5 a.b v1-0 200 1 2 GET", &l) < 0, "bad accept date refused");
	ok(parse("<134>Nov 29 09:59:25 haproxy[12678]: slipway2 1795950611.123 5 a.b v1.2.3-rc-0 503 -1 7 POST", &l) == 0,
	   "syslog header skipped");
	is_str(l.version, "v1.2.3-rc", "version with dashes: split at the last one");
	is_int(l.error, 1, "503 is an error");
	ok(parse("slipway2 1795950611.123 5 api.production <NOSRV> 503 -1 0 GET", &l) == 0 && l.instance == -1 && !l.version[0],
	   "HAProxy's own answer: no server");
	ok(parse("slipway2 1795950611.123 5 a.b v1-0 -1 -1 5003 GET", &l) == 0 && l.status == 0 && l.error == 1,
	   "no response at all counts as an error");
	ok(parse("slipway2 1795950611.123 5 a.b v1-0 200 1 2", &l) < 0, "missing method refused");
	ok(parse("slipway2 1795950611.123 5 a.b v1-x 200 1 2 GET", &l) < 0, "bad instance refused");
	ok(parse("slipway2 1795950611.123 5 a.b v1-0 2OO 1 2 GET", &l) < 0, "bad status refused");
	ok(parse("slipway2 1795950611.123 5 a.b -0 200 1 2 GET", &l) < 0, "empty version refused");
	ok(parse("Server api/v1-0 is going DOWN for maintenance", &l) < 0, "HAProxy notice is not a request");
	ok(reqlog_parse("slipway2 1795950611.123 5 a.b v1-0 200 1 2 GET", 40, &l) < 0, "length is honoured (no NUL needed)");

	/* %hs: the X-Flag-Variant response header (docs/flags.md "Metrics per variant") */
	ok(parse("slipway2 1795950611.123 5 a.b v1-0 200 1 2 GET {}", &l) == 0 && l.n_variants == 0 && !l.variants_bad,
	   "no header: {} and no variants");
	ok(parse("slipway2 1795950611.123 5 a.b v1-0 200 1 2 GET {agent:billing:enabled=on}\n", &l) == 0 &&
	   l.n_variants == 1, "one FLAG=VARIANT pair");
	is_str(l.variants[0].flag, "agent:billing:enabled", "flag name with colons");
	is_str(l.variants[0].variant, "on", "its variant");
	ok(parse("slipway2 1795950611.123 5 a.b v1-0 503 1 2 GET {a=on, b/c=green}", &l) == 0 && l.n_variants == 2 &&
	   !strcmp(l.variants[1].flag, "b/c") && !strcmp(l.variants[1].variant, "green") && l.error == 1,
	   "two pairs, a space after the comma (HAProxy does not escape it)");
	ok(parse("slipway2 1795950611.123 5 a.b v1-0 200 1 2 GET {on}", &l) == 0 && l.n_variants == 0 && l.variants_bad,
	   "a header that is not FLAG=VARIANT: the request counts, its pairs are dropped");
	ok(parse("slipway2 1795950611.123 5 a.b v1-0 200 1 2 GET {a=1,b=2,c=3,d=4,e=5}", &l) == 0 && l.variants_bad,
	   "more than REQLOG_MAX_VARIANTS pairs: bad");
	ok(parse("slipway2 1795950611.123 5 a.b v1-0 200 1 2 GET {a=#22x#22}", &l) == 0 && l.variants_bad,
	   "HAProxy's #XX escapes are not names");
	ok(parse("slipway2 1795950611.123 5 a.b v1-0 200 1 2 GET a=on", &l) < 0, "a trailing field without braces is refused");
	ok(parse("slipway2 1795950611.123 5 a.b v1-0 200 1 2 GET {a=on", &l) < 0, "an unclosed brace is refused");
	{
		struct reqlog_variant v[2];
		ok(reqlog_parse_variants("x=y", 3, v, 2) == 1, "parse_variants: one");
		ok(reqlog_parse_variants("x=y,", 4, v, 2) < 0, "trailing comma refused");
		ok(reqlog_parse_variants("=y", 2, v, 2) < 0 && reqlog_parse_variants("x=", 2, v, 2) < 0 &&
		   reqlog_parse_variants("", 0, v, 2) < 0, "empty names refused");
		ok(reqlog_parse_variants("x=y,z=w", 3, v, 2) == 1, "length honoured");
	}

	memset(&h, 0, sizeof(h));
	for (uint32_t i = 1; i <= 100; i++)
		hist_add(&h, i);
	is_int(h.count, 100, "100 values");
	ok(hist_quantile(&h, 0.5) >= 50 && hist_quantile(&h, 0.5) <= 50 * 1.0625 + 1, "p50 of 1..100 ~ 50 (%g)",
	   hist_quantile(&h, 0.5));
	ok(hist_quantile(&h, 0.99) >= 99 && hist_quantile(&h, 0.99) <= 100, "p99 of 1..100 ~ 99 (%g)",
	   hist_quantile(&h, 0.99));
	is_int((long long)hist_quantile(&h, 1.0), 100, "max is exact");
	for (uint32_t v = 0; v < 5000000; v = v * 3 / 2 + 1) {
		int b = hist_bucket(v);
		if (!(hist_bucket_upper(b) >= v && (b == 0 || hist_bucket_upper(b - 1) < v || b == HIST_BUCKETS - 1))) {
			ok(0, "bucket of %u holds it", v);
			break;
		}
	}
	ok(1, "every value lands in the bucket whose range holds it");
	hist_encode(&h, &sb);
	ok(hist_decode(&h2, sb.buf) == 0 && h2.count == 100 && h2.max_ms == 100 && !memcmp(h.n, h2.n, sizeof(h.n)),
	   "encode/decode round trip");
	ok(hist_decode(&h2, "1:2,x;3") < 0 && hist_decode(&h2, "999:1;3") < 0 && hist_decode(&h2, "1:1") < 0,
	   "bad encodings refused");
	memset(&h2, 0, sizeof(h2));
	ok(hist_quantile(&h2, 0.99) == 0, "empty histogram: 0");
	hist_merge(&h2, &h);
	hist_merge(&h2, &h);
	is_int(h2.count, 200, "merge adds");
	strbuf_release(&sb);
	return tap_done();
}
