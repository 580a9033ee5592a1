/*
 * fuzz_canary.c - libFuzzer target for rollout configuration files
 * (src/core/rollout_config.c: Flagger Canary, Kubernetes Deployment,
 * slipway Strategy): any bytes must load or give a FILE:LINE:COL error;
 * a loaded strategy must be valid and survive the JSON round trip the store
 * makes.
 */
#include "core/rollout_config.h"
#include "core/strategy_json.h"
#include "base/strbuf.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rollout_config *cfg = calloc(1, sizeof(*cfg));
	struct strategy *back = calloc(1, sizeof(*back));
	struct strbuf err = STRBUF_INIT;

	if (rollout_config_parse((const char *)data, size, "fuzz.yaml", cfg, &err) == 0) {
		json_t *j = strategy_to_json(&cfg->strategy);
		if (strategy_validate(&cfg->strategy, NULL) < 0)
			abort();
		if (strategy_from_json(j, back, &err) < 0 || back->n_steps != cfg->strategy.n_steps)
			abort();
		json_decref(j);
	} else if (!err.len) {
		abort();	/* a refusal always says why */
	}
	strbuf_release(&err);
	free(cfg);
	free(back);
	return 0;
}
