/*
 * metric_template.h - Flagger's MetricTemplate (flagger.app/v1beta1;
 * docs.flagger.app, "Metrics Analysis", custom metrics) as it is, and the
 * Canary metrics that point at one with templateRef (docs/argo.md,
 * "Flagger MetricTemplate").
 *
 * A MetricTemplate names a provider (only prometheus is accepted) and a
 * query with Flagger's variables: {{ namespace }}, {{ target }},
 * {{ service }} (the target), {{ interval }} (the metric's interval, "1m"),
 * {{ variables.NAME }} (the Canary metric's templateVariables).
 * Pure: parsing from a buffer, rendering a string; errors name
 * FILE:LINE:COL.
 */
#ifndef SLIPWAY_CORE_METRIC_TEMPLATE_H
#define SLIPWAY_CORE_METRIC_TEMPLATE_H

#include <stddef.h>
#include <stdint.h>

struct strbuf;

#define FLAGGER_MAX_VARS 8
#define METRIC_TEMPLATE_QUERY_MAX 8192
#define METRIC_TEMPLATE_MAX_BYTES (1024 * 1024)

/* A Canary metric with templateRef (read by rollout_config.c). */
struct flagger_template_ref {
	char metric[64];		/* the Canary metric's name */
	char name[64];			/* templateRef.name */
	char namespace_[64];		/* templateRef.namespace; "" = the Canary's */
	int has_min, has_max;
	double min, max;		/* thresholdRange, in the query's own unit */
	int64_t interval_ms;		/* the metric's interval (default 1m) */
	int n_vars;
	char var_names[FLAGGER_MAX_VARS][64];
	char var_values[FLAGGER_MAX_VARS][192];
};

struct metric_template {
	char name[64];
	char namespace_[64];
	char provider[32];		/* "prometheus" */
	char address[256];		/* provider.address; "" = the service file's */
	char *query;
};

/*
 * Parse a MetricTemplate from buf[0..len) named `file` into *out (release
 * with metric_template_release()).  SW_ECONFIG with "FILE:LINE:COL:
 * message" in err: what yaml_walk.h refuses, another apiVersion/kind, a
 * provider type other than prometheus, no query, a {{ ... }} that is not
 * one of Flagger's variables.  *out untouched on failure.
 */
int metric_template_parse(const char *buf, size_t len, const char *file, struct metric_template *out,
			  struct strbuf *err);
void metric_template_release(struct metric_template *t);

/* Whether template t is the one ref names, for a Canary in `canary_ns`
 * (Flagger: templateRef.namespace defaults to the Canary's namespace;
 * a template without a namespace matches any). */
int metric_template_matches(const struct metric_template *t, const struct flagger_template_ref *ref,
			    const char *canary_ns);

/*
 * Render t's query for ref in a Canary of namespace `ns` targeting
 * `target` into *out (new string, caller frees).  {{ interval }} is the
 * metric's interval written as Prometheus does ("1m", "30s", "1h30m").
 * SW_ECONFIG when a {{ variables.NAME }} is not in the metric's
 * templateVariables ("template 'x' needs variable 'direction'; give it in
 * the metric's templateVariables").
 */
int metric_template_render(const struct metric_template *t, const struct flagger_template_ref *ref, const char *ns,
			   const char *target, char **out, struct strbuf *err);

/*
 * Flagger's check of a query result: the first value against
 * thresholdRange.  Returns 1 (within), 0 (a failed check) with the reason
 * in `reason`: outside the range, no data (no values: Flagger's "no values
 * found" is a failed check), NaN (a failed check too).  *value is the
 * value read (NaN when none).
 */
int flagger_threshold_check(const struct flagger_template_ref *ref, const double *values, size_t n, double *value,
			    struct strbuf *reason);

#endif
