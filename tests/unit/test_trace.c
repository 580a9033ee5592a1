/*
 * test_trace.c - the trace-replay provider (adapters/metrics_trace.h,
 * docs/trace-format.md): the range a query's rows were counted in (so a
 * look shorter than a row does not multiply its rate), the byte order
 * mark, and the refusals (no rows, values out of range) with their ranges.
 */
#include "tap.h"
#include "adapters/metrics_trace.h"
#include "base/strbuf.h"

#include <string.h>

static int parse(struct metrics_trace *t, const char *text, struct strbuf *err)
{
	strbuf_reset(err);
	return metrics_trace_parse(t, text, strlen(text), "t.csv", err);
}

static void test_covered_range(void)
{
	struct metrics_trace t = METRICS_TRACE_INIT;
	struct metrics_provider p;
	struct metrics_sample s;
	struct strbuf err = STRBUF_INIT;
	const char *text = "t_s,revision,requests,errors,p50_ms,p99_ms\n"
			   "60,stable,1000,1,45,200\n60,canary,0,0,,\n"
			   "120,stable,900,1,45,200\n120,canary,100,0,47,210\n";

	ok(parse(&t, text, &err) == 0, "a two-minute trace parses");
	metrics_trace_provider(&t, &p);
	/* a 10 s look [110 s, 120 s) reads the row ending at 120 s: it covers (60 s, 120 s] */
	ok(p.query(p.ctx, "svc", ROLE_STABLE, "v1", 110000, 120000, &s, &err) == 0, "a 10 s look answers");
	is_int((long long)s.requests, 900, "the row's requests");
	is_int((long long)s.from_ms, 60000, "counted from the previous row's t_s");
	is_int((long long)s.to_ms, 120000, "to the row's own t_s");
	/* a look with no row in it: the queried range, no requests */
	ok(p.query(p.ctx, "svc", ROLE_CANARY, "v2", 60000, 70000, &s, &err) == 0, "a look without rows answers");
	is_int((long long)s.requests, 0, "no requests");
	is_int((long long)(s.to_ms - s.from_ms), 10000, "over the look itself");
	/* the first row covers from t_s = 0 */
	ok(p.query(p.ctx, "svc", ROLE_STABLE, "v1", 0, 60000, &s, &err) == 0, "the warm-up answers");
	is_int((long long)s.from_ms, 0, "the first row covers from 0");
	is_int((long long)s.to_ms, 60000, "to 60 s");
	metrics_trace_release(&t);
	strbuf_release(&err);
}

static void test_refusals(void)
{
	struct metrics_trace t = METRICS_TRACE_INIT;
	struct strbuf err = STRBUF_INIT;

	ok(parse(&t, "\xef\xbb\xbft_s,revision,requests,errors,p50_ms,p99_ms\n60,stable,1,0,1,2\n", &err) == 0,
	   "a UTF-8 byte order mark before the header is skipped");
	metrics_trace_release(&t);
	ok(parse(&t, "# only a header\nt_s,revision,requests,errors,p50_ms,p99_ms\n", &err) < 0 &&
		   strstr(err.buf, "t.csv:2: no rows after the header"),
	   "a header alone is refused at its line: %s", err.buf);
	ok(parse(&t, "t_s,revision,requests,errors,p50_ms,p99_ms\n99999999999999,stable,1,0,1,2\n", &err) < 0 &&
		   strstr(err.buf, "from 0 to 3153600000"),
	   "a t_s past 100 years names the range: %s", err.buf);
	ok(parse(&t, "t_s,revision,requests,errors,p50_ms,p99_ms\n60,stable,1,0,1,2e9\n", &err) < 0 &&
		   strstr(err.buf, "from 0 to 1000000000"),
	   "a p99 past 10^9 ms names the range: %s", err.buf);
	is_int((long long)t.nr, 0, "a refused trace adds no rows");
	metrics_trace_release(&t);
	strbuf_release(&err);
}

int main(void)
{
	test_covered_range();
	test_refusals();
	return tap_done();
}
