/*
 * rollout_config.h - read a rollout configuration into a struct strategy
 * (docs/engine.md, "Files").  Three formats, recognised by apiVersion/kind:
 *
 *   flagger.app/v1beta1 Canary   Flagger's Canary, accepted as it is
 *                                (runbook's canary-config.yaml; webhooks
 *                                under spec.analysis or, as the runbook has
 *                                them, under spec)
 *   apps/v1 Deployment           a Kubernetes Deployment's RollingUpdate
 *                                strategy (runbook's rolling-config.yaml)
 *   slipway/v1 Strategy          slipway's own format for every strategy,
 *                                incl. blue-green and region-by-region
 *                                (docs/engine.md)
 *   argoproj.io/v1alpha1 Rollout an Argo Rollout's canary steps
 *                                (core/argo.h, docs/argo.md)
 *
 * Parsing is from a buffer (core does no I/O).  Every error names
 * FILE:LINE:COL and what would be valid.
 */
#ifndef SLIPWAY_CORE_ROLLOUT_CONFIG_H
#define SLIPWAY_CORE_ROLLOUT_CONFIG_H

#include <stddef.h>

#include "core/argo.h"
#include "core/metric_template.h"
#include "core/strategy.h"

struct strbuf;

struct rollout_config {
	char format[32];	/* "flagger-canary", "deployment", "slipway-strategy", "argo-rollout" */
	char name[64];		/* metadata.name */
	char namespace_[64];	/* metadata.namespace */
	char target[64];	/* Flagger spec.targetRef.name */
	struct strategy strategy;
	/* argo-rollout: analysis steps and indefinite pauses (core/argo.h) */
	struct argo_rollout argo;
	/* flagger-canary: metrics with templateRef (core/metric_template.h);
	 * their MetricTemplate files are found and rendered by the caller */
	int n_template_refs;
	struct flagger_template_ref template_refs[STRATEGY_MAX_CHECKS];
	/* "FILE:LINE:COL: ..." when the file loads but not as written (a Canary's
	   analysis.interval below 10s, raised to 10s as Flagger does), else "";
	   the command that read the file prints it as a warning (docs/yaml.md) */
	char warning[320];
};

/*
 * Parse buf[0..len) (YAML; at most 1 MiB) named `file` in messages into
 * *out.  Returns 0, or SW_ECONFIG (too large, YAML syntax, an alias, an
 * unknown key, a bad value: core/yaml_walk.h; or a valid file describing an
 * impossible rollout), with "FILE:LINE:COL: message" in err; *out is
 * untouched on failure.
 */
int rollout_config_parse(const char *buf, size_t len, const char *file, struct rollout_config *out,
			 struct strbuf *err);

#define ROLLOUT_CONFIG_MAX_BYTES (1024 * 1024)

#endif
