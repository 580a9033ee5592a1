/*
 * fuzz_trace.c - libFuzzer target for the metric trace parser
 * (src/adapters/metrics_trace.c): any bytes must give rows or a FILE:LINE
 * error, never a crash or a leak; a parsed trace must answer queries.
 */
#include "adapters/metrics_trace.h"
#include "base/strbuf.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct metrics_trace t = METRICS_TRACE_INIT;
	struct strbuf err = STRBUF_INIT;
	struct metrics_provider p;
	struct metrics_sample s;

	if (metrics_trace_parse(&t, (const char *)data, size, "fuzz.csv", &err) == 0) {
		metrics_trace_provider(&t, &p);
		p.query(p.ctx, "svc", ROLE_CANARY, "v2", 0, metrics_trace_end_ms(&t), &s, &err);
		p.query(p.ctx, "svc", ROLE_STABLE, "v1", -1000, 60000, &s, &err);
	}
	metrics_trace_release(&t);
	strbuf_release(&err);
	return 0;
}
