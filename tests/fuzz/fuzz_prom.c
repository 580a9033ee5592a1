/*
 * fuzz_prom.c - libFuzzer target for the reader of Prometheus's HTTP API
 * answers (prom_parse, src/adapters/metrics_prometheus.c): any bytes must
 * give a result or a "bad JSON" / Prometheus error, never a crash or a
 * leak; a result must survive the exceedance count from its buckets.
 */
#include "adapters/metrics_prometheus.h"
#include "base/strbuf.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct prom_result r = { 0 };
	struct strbuf err = STRBUF_INIT;
	static const double th[3] = { 1, 50, 1e12 };
	uint64_t over[3];

	if (prom_parse((const char *)data, size, &r, &err) == 0)
		prom_over_from_buckets(&r, th, 3, over, &err);
	prom_result_release(&r);
	strbuf_release(&err);
	return 0;
}
