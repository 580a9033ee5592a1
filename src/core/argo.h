/*
 * argo.h - Argo Rollouts files as they are (argoproj.io/v1alpha1;
 * argoproj.github.io/argo-rollouts, "Analysis" and "Canary"; docs/argo.md):
 *
 *   AnalysisTemplate,         args and metrics with a Prometheus provider,
 *   ClusterAnalysisTemplate   conditions in core/argo_expr.h's language
 *   Rollout                   spec.strategy.canary.steps imported as a
 *                             slipway strategy (through rollout_config.h)
 *
 * Parsing is from a buffer (core does no I/O); errors name FILE:LINE:COL
 * (a condition's fault: the string's position and the column within it).
 */
#ifndef SLIPWAY_CORE_ARGO_H
#define SLIPWAY_CORE_ARGO_H

#include <stddef.h>
#include <stdint.h>

#include "core/argo_expr.h"
#include "core/yaml_walk.h"

struct strbuf;
struct strategy;

#define ARGO_MAX_ARGS 8
#define ARGO_MAX_METRICS 16
#define ARGO_MAX_TEMPLATES 4
#define ARGO_MAX_ANALYSES 8
#define ARGO_NAME_MAX 64
#define ARGO_VALUE_MAX 192
#define ARGO_QUERY_MAX 8192
#define ARGO_FILE_MAX_BYTES (1024 * 1024)

/* An argument: a template's declaration (value optional: the Rollout must
 * give it) or a Rollout's value for it. */
struct argo_arg {
	char name[ARGO_NAME_MAX];
	char value[ARGO_VALUE_MAX];
	int has_value;
	int from_ref;		/* Rollout: valueFrom, resolved by slipway: 0 none, ARGO_FROM_* */
};
#define ARGO_FROM_LATEST 1	/* podTemplateHashValue: Latest -> the new revision's version */
#define ARGO_FROM_STABLE 2	/* podTemplateHashValue: Stable -> the stable revision's version */
#define ARGO_FROM_OTHER 3	/* fieldRef, secretKeyRef: nothing to read them from; refused when run */

struct argo_metric {
	char name[ARGO_NAME_MAX];
	int64_t interval_ms;		/* between measurements; 0: one measurement */
	int64_t initial_delay_ms;	/* before the first */
	struct argo_limits limits;	/* count 0 = Argo's default, see argo_expr.h */
	char *success, *failure;	/* condition text, or NULL */
	struct argo_expr *success_e, *failure_e;
	char address[256];		/* provider.prometheus.address */
	char *query;			/* with {{args.NAME}} still in it */
	int64_t timeout_ms;		/* provider.prometheus.timeout (seconds in Argo), 0: none */
};

struct argo_template {
	char kind[32];			/* "AnalysisTemplate" or "ClusterAnalysisTemplate" */
	char name[ARGO_NAME_MAX];
	char namespace_[ARGO_NAME_MAX];
	int n_args;
	struct argo_arg args[ARGO_MAX_ARGS];
	int n_metrics;
	struct argo_metric metrics[ARGO_MAX_METRICS];
};

/*
 * Parse an AnalysisTemplate or ClusterAnalysisTemplate from buf[0..len)
 * named `file` into *out (release with argo_template_release()).  Refused
 * with "FILE:LINE:COL: message" in err and SW_ECONFIG: anything
 * yaml_walk.h refuses, a provider other than prometheus, a metric without
 * a query, a condition outside core/argo_expr.h's language, a
 * {{args.NAME}} naming no declared argument, an unknown key.  *out is
 * untouched on failure.
 */
int argo_template_parse(const char *buf, size_t len, const char *file, struct argo_template *out,
			struct strbuf *err);
void argo_template_release(struct argo_template *t);

/*
 * Render `query` with args (Argo's {{args.NAME}}, spaces inside the braces
 * allowed) into *out (new string, caller frees).  Template defaults first,
 * then `given` (a Rollout's values) override; a given argument with
 * valueFrom stays "{{args.NAME}}" (filled when the analysis runs, from the
 * revision; docs/argo.md).  SW_ECONFIG when an argument
 * has no value ("argument 'service-name' has no value; give it in the
 * Rollout's analysis args") or the result exceeds ARGO_QUERY_MAX.
 */
int argo_render(const char *query, const struct argo_template *t, const struct argo_arg *given, int n_given,
		char **out, struct strbuf *err);

/* An analysis step of a Rollout (or its background analysis: step -1). */
struct argo_analysis_ref {
	int step;			/* index of the slipway step it runs in, -1: background */
	int n_templates;
	char templates[ARGO_MAX_TEMPLATES][ARGO_NAME_MAX];
	int cluster[ARGO_MAX_TEMPLATES];	/* clusterScope: true */
	int n_args;
	struct argo_arg args[ARGO_MAX_ARGS];
};

struct argo_rollout {
	int n_analyses;
	struct argo_analysis_ref analyses[ARGO_MAX_ANALYSES];
	int n_manual;			/* steps that wait for a person (pause: {}) */
	int manual[ARGO_MAX_ANALYSES * 2];	/* their slipway step indexes */
};

/*
 * Import a Rollout's spec (node `spec` at `at`, inside a walk of
 * rollout_config.c) into s (kind canary, steps) and *ro.  Internal to
 * rollout_config.c (the `argo__` prefix); errors as yaml_walk.h.
 */
int argo__rollout_spec(struct yaml_walk *w, struct fy_node *spec, struct yaml_pos at, struct strategy *s,
		       struct argo_rollout *ro);

#endif
