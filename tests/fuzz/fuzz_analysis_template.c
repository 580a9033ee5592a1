/*
 * fuzz_analysis_template.c - libFuzzer target for the template loaders
 * (src/core/argo.c: AnalysisTemplate / ClusterAnalysisTemplate;
 * src/core/metric_template.c: Flagger MetricTemplate): any bytes must load
 * or give a FILE:LINE:COL error; a loaded template's queries must render
 * (with every argument given) and its conditions evaluate.
 */
#include "core/argo.h"
#include "core/metric_template.h"
#include "base/strbuf.h"

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct argo_template *t = calloc(1, sizeof(*t));
	struct metric_template mt;
	struct strbuf err = STRBUF_INIT;

	if (argo_template_parse((const char *)data, size, "fuzz.yaml", t, &err) == 0) {
		struct argo_arg given[ARGO_MAX_ARGS];
		double v[1] = { 0.5 };
		struct argo_result res = { 1, 0, v, 1 };
		memset(given, 0, sizeof(given));
		for (int i = 0; i < t->n_args; i++) {
			memcpy(given[i].name, t->args[i].name, sizeof(given[i].name));
			snprintf(given[i].value, sizeof(given[i].value), "x");
			given[i].has_value = 1;
		}
		for (int i = 0; i < t->n_metrics; i++) {
			char *q = NULL;
			strbuf_reset(&err);
			if (argo_render(t->metrics[i].query, t, given, t->n_args, &q, &err) < 0)
				abort();	/* every declared argument is given */
			free(q);
			strbuf_reset(&err);
			argo_measure(t->metrics[i].success_e, t->metrics[i].failure_e, &res, &err);
		}
		argo_template_release(t);
	} else if (!err.len) {
		abort();
	}
	strbuf_reset(&err);
	if (metric_template_parse((const char *)data, size, "fuzz.yaml", &mt, &err) == 0) {
		struct flagger_template_ref ref = { .interval_ms = 60000 };
		char *q = NULL;
		strbuf_reset(&err);
		if (metric_template_render(&mt, &ref, "ns", "target", &q, &err) < 0 && !err.len)
			abort();
		free(q);
		metric_template_release(&mt);
	} else if (!err.len) {
		abort();
	}
	strbuf_release(&err);
	free(t);
	return 0;
}
