/*
 * rollout_config.c - Flagger Canary, Kubernetes Deployment and slipway
 * Strategy files into a struct strategy; see rollout_config.h.
 *
 * Read on the shared YAML walker (core/yaml_walk.h): one table of keys per
 * mapping, so a typo ("stepWieght") is an error at its line and column
 * naming the nearest and the valid keys, never a silently ignored setting.
 * The tables fill raw values (struct rdoc); each format then combines them
 * into steps.  Flagger fields that slipway reads but has no use for
 * (service, autoscalerRef, provider, ...) are accepted and listed in
 * docs/engine.md.
 */
#include "core/rollout_config.h"
#include "core/yaml_walk.h"
#include "base/alloc.h"
#include "base/err.h"
#include "base/strbuf.h"
#include "base/timeutil.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_HOLD_MS (30 * MS_PER_DAY)	/* durations in a rollout file: at most 30d */

/* What the walk fills: the result, and the raw values the formats combine. */
struct rdoc {
	struct rollout_config cfg;
	char api[64], kind[64];
	struct fy_node *spec, *spec_webhooks, *steps, *groups;
	struct yaml_pos spec_at, spec_webhooks_at, steps_at, groups_at;
	struct yaml_pos analysis_at, kind_at;
	int deadline_s;			/* progressDeadlineSeconds; 0: not given */
	/* Flagger analysis */
	int threshold;
	double max_weight, step_weight;
	struct yaml_pos step_weight_at, max_weight_at, iterations_at, match_at;
	struct yaml_pos interval_at;	/* a Canary's analysis.interval, for the warning when raised */
	int iterations;
	double weights[STRATEGY_MAX_STEPS];
	int n_weights;
	int skip_analysis;
	struct yaml_pos skip_at;
	/* rolling (Deployment and native) */
	int replicas;
	char surge[64], unavail[64];
	struct yaml_pos surge_at, unavail_at, rolling_at, type_at;
	char update_type[64];
	/* native */
	int kind_ix;
	int64_t hold_ms, group_hold_ms;
	struct yaml_pos hold_at;
	int min_requests;
};

/* ---- analysis pieces shared by Flagger and native files ---- */

struct range_doc {
	double min, max;
	struct yaml_pos min_at, max_at;
};

struct metric_doc {
	char name[sizeof(((struct analysis_check *)0)->name)];
	struct yaml_pos name_at, threshold_at, range_at, template_at, query_at;
	double threshold;
	struct range_doc range;
	int64_t interval_ms;
	struct flagger_template_ref ref;	/* templateRef metrics (core/metric_template.h) */
};

static const struct yaml_map range_map = {
	.where = "thresholdRange",
	.keys = (const struct yaml_key[]){
		{ "min", yaml_parse_number, offsetof(struct range_doc, min), 0, 1e9, .at = YAML_AT(struct range_doc, min_at),
		  .what = "thresholdRange.min" },
		{ "max", yaml_parse_number, offsetof(struct range_doc, max), 0, 1e9, .at = YAML_AT(struct range_doc, max_at),
		  .what = "thresholdRange.max" },
		{ NULL },
	},
};

/* A metric with templateRef: its thresholds are in the query's own unit. */
static int add_template_ref(struct yaml_walk *w, struct metric_doc *m, struct yaml_pos at)
{
	struct rollout_config *cfg = &((struct rdoc *)w->user)->cfg;
	struct flagger_template_ref *ref = &m->ref;

	if (!ref->name[0])
		return yaml_walk_fail(w, m->template_at, "metric '%s': templateRef needs name", m->name);
	if (m->threshold_at.line)
		return yaml_walk_fail(w, m->threshold_at, "metric '%s': a templateRef metric takes thresholdRange "
				      "{min, max}, not threshold", m->name);
	if (m->range.min_at.line)
		ref->has_min = 1, ref->min = m->range.min;
	if (m->range.max_at.line)
		ref->has_max = 1, ref->max = m->range.max;
	if (ref->has_min && ref->has_max && ref->min > ref->max)
		return yaml_walk_fail(w, m->range_at, "thresholdRange.min %g is above max %g", ref->min, ref->max);
	if (!ref->has_min && !ref->has_max)
		return yaml_walk_fail(w, at, "metric '%s' needs thresholdRange {min, max}", m->name);
	if (cfg->n_template_refs >= STRATEGY_MAX_CHECKS)
		return yaml_walk_fail(w, at, "more than %d templateRef metrics", STRATEGY_MAX_CHECKS);
	for (int i = 0; i < cfg->n_template_refs; i++)
		if (!strcmp(cfg->template_refs[i].metric, m->name))
			return yaml_walk_fail(w, m->name_at, "metric '%s' is given twice", m->name);
	memcpy(ref->metric, m->name, sizeof(ref->metric));
	ref->interval_ms = m->interval_ms;
	cfg->template_refs[cfg->n_template_refs++] = *ref;
	return 0;
}

static int check_metric(struct yaml_walk *w, void *obj, struct yaml_pos at)
{
	struct metric_doc *m = obj;
	struct strategy *s = &((struct rdoc *)w->user)->cfg.strategy;
	struct analysis_check *ck;
	double hi;

	if (m->query_at.line)
		return yaml_walk_fail(w, m->query_at, "metric '%s': an inline query is not supported (Flagger deprecated "
				      "it); put the query in a MetricTemplate and refer to it with templateRef", m->name);
	if (m->template_at.line)
		return add_template_ref(w, m, at);
	if (s->n_checks >= STRATEGY_MAX_CHECKS)
		return yaml_walk_fail(w, at, "more than %d metrics", STRATEGY_MAX_CHECKS);
	ck = &s->checks[s->n_checks];
	memset(ck, 0, sizeof(*ck));
	memcpy(ck->name, m->name, sizeof(ck->name));
	ck->interval_ms = m->interval_ms;
	if (!strcmp(m->name, "request-success-rate"))
		ck->metric = CHECK_SUCCESS_RATE;
	else if (!strcmp(m->name, "request-duration"))
		ck->metric = CHECK_DURATION;
	else
		return yaml_walk_fail(w, m->name_at, "unknown metric '%s'; valid: request-success-rate, request-duration",
				      m->name);
	hi = ck->metric == CHECK_SUCCESS_RATE ? 100 : 1e9;
	if (m->threshold_at.line) {
		/* deprecated Flagger form: a minimum for success rate, a maximum for duration */
		if (m->threshold > hi)
			return yaml_walk_fail(w, m->threshold_at, "threshold '%g' is not valid; expected a number from 0 to %g",
					      m->threshold, hi);
		if (ck->metric == CHECK_SUCCESS_RATE)
			ck->has_min = 1, ck->min = m->threshold;
		else
			ck->has_max = 1, ck->max = m->threshold;
	}
	if (m->range.min_at.line) {
		if (m->range.min > hi)
			return yaml_walk_fail(w, m->range.min_at,
					      "thresholdRange.min '%g' is not valid; expected a number from 0 to %g", m->range.min, hi);
		ck->has_min = 1, ck->min = m->range.min;
	}
	if (m->range.max_at.line) {
		if (m->range.max > hi)
			return yaml_walk_fail(w, m->range.max_at,
					      "thresholdRange.max '%g' is not valid; expected a number from 0 to %g", m->range.max, hi);
		ck->has_max = 1, ck->max = m->range.max;
	}
	if (m->range.min_at.line && m->range.max_at.line && ck->min > ck->max)
		return yaml_walk_fail(w, m->range_at, "thresholdRange.min %g is above max %g", ck->min, ck->max);
	if (!ck->has_min && !ck->has_max)
		return yaml_walk_fail(w, at, "metric '%s' needs threshold or thresholdRange {min, max}", m->name);
	s->n_checks++;
	return 0;
}

static const struct yaml_map template_ref_map = {
	.where = "templateRef",
	.keys = (const struct yaml_key[]){
		{ "name", yaml_parse_buf, offsetof(struct flagger_template_ref, name), .size = 64,
		  .what = "templateRef.name", .flags = YAML_REQUIRED, .hint = "(the MetricTemplate's metadata.name)" },
		{ "namespace", yaml_parse_buf, offsetof(struct flagger_template_ref, namespace_), .size = 64,
		  .what = "templateRef.namespace" },
		{ NULL },
	},
};

static int add_template_var(struct yaml_walk *w, const char *name, struct yaml_pos at, struct fy_node *v, void *dst)
{
	static const struct yaml_key k = { "a template variable", yaml_parse_buf, 0, .size = 192 };
	struct flagger_template_ref *ref = dst;
	if (ref->n_vars >= FLAGGER_MAX_VARS)
		return yaml_walk_fail(w, at, "more than %d templateVariables", FLAGGER_MAX_VARS);
	if (strlen(name) >= sizeof(ref->var_names[0]))
		return yaml_walk_fail(w, at, "template variable name '%.40s...' is longer than %zu bytes", name,
				      sizeof(ref->var_names[0]) - 1);
	snprintf(ref->var_names[ref->n_vars], sizeof(ref->var_names[0]), "%s", name);
	if (yaml_parse_buf(w, &k, v, yaml_walk_pos(v, at), ref->var_values[ref->n_vars]) < 0)
		return YAML_WALK_ERR;
	ref->n_vars++;
	return 0;
}

static const struct yaml_map metric_map = {
	.where = "a metric",
	.keys = (const struct yaml_key[]){
		{ "name", yaml_parse_buf, offsetof(struct metric_doc, name), .size = sizeof(((struct metric_doc *)0)->name),
		  .at = YAML_AT(struct metric_doc, name_at), .flags = YAML_REQUIRED, .what = "metric name",
		  .hint = "(valid: request-success-rate, request-duration)" },
		{ "threshold", yaml_parse_number, offsetof(struct metric_doc, threshold), 0, 1e9,
		  .at = YAML_AT(struct metric_doc, threshold_at) },
		{ "thresholdRange", yaml_parse_map, offsetof(struct metric_doc, range), .map = &range_map,
		  .at = YAML_AT(struct metric_doc, range_at) },
		{ "interval", yaml_parse_duration, offsetof(struct metric_doc, interval_ms), 0, MAX_HOLD_MS,
		  .what = "metric interval" },
		{ "templateRef", yaml_parse_map, offsetof(struct metric_doc, ref), .map = &template_ref_map,
		  .at = YAML_AT(struct metric_doc, template_at) },
		{ "templateVariables", yaml_parse_entries, offsetof(struct metric_doc, ref), .max = FLAGGER_MAX_VARS + 1,
		  .entry = add_template_var },
		{ "query", yaml_parse_ignore, 0, .at = YAML_AT(struct metric_doc, query_at) },
		{ NULL },
	},
	.check = check_metric,
};

static int add_metric(struct yaml_walk *w, struct fy_node *item, struct yaml_pos at, void *ctx)
{
	struct metric_doc m;
	memset(&m, 0, sizeof(m));
	m.interval_ms = STRATEGY_DEFAULT_INTERVAL_MS;
	return yaml_walk_map(w, item, at, &metric_map, NULL, &m);
}

/* Flagger's order of webhook types, for messages */
static const char *const webhook_types[] = { "pre-rollout", "rollout", "confirm-rollout", "confirm-promotion",
					     "post-rollout", "rollback", "event", NULL };

struct webhook_doc {
	struct webhook wh;
	struct yaml_pos url_at;
};

/* enum webhook_type; "" (Flagger: none given) is rollout */
static int parse_webhook_type(struct yaml_walk *w, const struct yaml_key *k, struct fy_node *v, struct yaml_pos at,
			      void *dst)
{
	int i, r;
	if (yaml_walk_is_scalar(v)) {
		char *s = NULL;
		if ((r = yaml_walk_scalar(w, v, at, k->name, 64, &s)) < 0)
			return r;
		i = !*s;
		free(s);
		if (i) {
			*(enum webhook_type *)dst = WEBHOOK_ROLLOUT;
			return 0;
		}
	}
	if ((r = yaml_parse_enum(w, k, v, at, &i)) < 0)
		return r;
	return webhook_type_parse(webhook_types[i], dst) < 0 ? yaml_walk_fail(w, at, "unknown webhook type") : 0;
}

static int check_webhook(struct yaml_walk *w, void *obj, struct yaml_pos at)
{
	struct webhook_doc *d = obj;
	struct strategy *s = &((struct rdoc *)w->user)->cfg.strategy;

	if (strncmp(d->wh.url, "http://", 7) && strncmp(d->wh.url, "https://", 8))
		return yaml_walk_fail(w, d->url_at, "webhook url '%s' must start with http:// or https://", d->wh.url);
	if (s->n_webhooks >= STRATEGY_MAX_WEBHOOKS)
		return yaml_walk_fail(w, at, "more than %d webhooks", STRATEGY_MAX_WEBHOOKS);
	s->webhooks[s->n_webhooks++] = d->wh;
	return 0;
}

static const struct yaml_map webhook_map = {
	.where = "a webhook",
	.keys = (const struct yaml_key[]){
		{ "name", yaml_parse_buf, offsetof(struct webhook_doc, wh.name), .size = sizeof(((struct webhook *)0)->name),
		  .flags = YAML_REQUIRED, .what = "webhook name" },
		{ "type", parse_webhook_type, offsetof(struct webhook_doc, wh.type), .names = webhook_types,
		  .what = "webhook type" },
		{ "url", yaml_parse_buf, offsetof(struct webhook_doc, wh.url), .size = sizeof(((struct webhook *)0)->url),
		  .at = YAML_AT(struct webhook_doc, url_at), .flags = YAML_REQUIRED, .what = "webhook url" },
		{ "timeout", yaml_parse_duration, offsetof(struct webhook_doc, wh.timeout_ms), 0, MAX_HOLD_MS,
		  .what = "webhook timeout" },
		{ "metadata", yaml_parse_ignore, 0 },
		{ "retries", yaml_parse_ignore, 0 },
		{ "disableTLS", yaml_parse_ignore, 0 },
		{ "muteAlert", yaml_parse_ignore, 0 },
		{ NULL },
	},
	.check = check_webhook,
};

static int add_webhook(struct yaml_walk *w, struct fy_node *item, struct yaml_pos at, void *ctx)
{
	struct webhook_doc d;
	memset(&d, 0, sizeof(d));
	d.wh.type = WEBHOOK_ROLLOUT;	/* Flagger: none given means rollout */
	d.wh.timeout_ms = 10 * MS_PER_SEC;
	return yaml_walk_map(w, item, at, &webhook_map, NULL, &d);
}

/* Keep a node to read once the rest of its mapping is known. */
#define KEEP(field)                                                                                      \
	static int keep_##field(struct yaml_walk *w, const struct yaml_key *k, struct fy_node *v,          \
				struct yaml_pos at, void *dst)                                           \
	{                                                                                                \
		struct rdoc *d = dst;                                                                    \
		d->field = v;                                                                            \
		d->field##_at = at;                                                                      \
		return 0;                                                                                \
	}
KEEP(spec)
KEEP(spec_webhooks)
KEEP(steps)
KEEP(groups)

/* ---- the document ---- */

static const struct yaml_map meta_map = {
	.where = "metadata",
	.keys = (const struct yaml_key[]){
		{ "name", yaml_parse_buf, offsetof(struct rdoc, cfg.name), .size = sizeof(((struct rollout_config *)0)->name),
		  .what = "metadata.name" },
		{ "namespace", yaml_parse_buf, offsetof(struct rdoc, cfg.namespace_),
		  .size = sizeof(((struct rollout_config *)0)->namespace_), .what = "metadata.namespace" },
		{ "labels", yaml_parse_ignore, 0 },
		{ "annotations", yaml_parse_ignore, 0 },
		{ NULL },
	},
};

static const struct yaml_map top_map = {
	.where = "the document",
	.keys = (const struct yaml_key[]){
		{ "apiVersion", yaml_parse_buf, offsetof(struct rdoc, api), .size = 64 },
		{ "kind", yaml_parse_buf, offsetof(struct rdoc, kind), .size = 64, .at = YAML_AT(struct rdoc, kind_at) },
		{ "metadata", yaml_parse_map, 0, .map = &meta_map },
		{ "spec", keep_spec, 0 },
		{ NULL },
	},
};

/* ---- Flagger Canary (docs.flagger.app, "Canary analysis"; docs/engine.md "Files") ---- */

static int parse_step_weight(struct yaml_walk *w, struct fy_node *item, struct yaml_pos at, void *ctx)
{
	static const struct yaml_key k = { "a step weight", yaml_parse_number, 0, 0, 100 };
	struct rdoc *d = ctx;
	double v;
	int r = yaml_parse_number(w, &k, item, at, &v);
	if (r < 0)
		return r;
	if (d->n_weights && v < d->weights[d->n_weights - 1])
		return yaml_walk_fail(w, at, "stepWeights must not decrease (%g after %g)", v, d->weights[d->n_weights - 1]);
	d->weights[d->n_weights++] = v;
	return 0;
}

/*
 * A Canary's analysis.interval: 0s to 30d loads (one under 10s is raised to
 * 10s by parse_flagger(), with a warning), but a fault names the range that
 * runs, k->min to k->max (10s to 30d), as the warning does (docs/yaml.md).
 */
static int parse_canary_interval(struct yaml_walk *w, const struct yaml_key *k, struct fy_node *v,
				 struct yaml_pos at, void *dst)
{
	char *s = NULL;
	int64_t ms;
	int r = yaml_walk_scalar(w, v, at, k->what, 64, &s);

	if (r < 0)
		return r;
	if (duration_parse(s, &ms, NULL) >= 0 && ms >= 0 && ms <= k->max)
		*(int64_t *)dst = ms;
	else
		r = yaml_parse_duration(w, k, v, at, dst);
	free(s);
	return r;
}

static const struct yaml_map canary_analysis_map = {
	.where = "spec.analysis",
	.keys = (const struct yaml_key[]){
		{ "interval", parse_canary_interval, offsetof(struct rdoc, cfg.strategy.interval_ms),
		  STRATEGY_MIN_INTERVAL_MS, MAX_HOLD_MS, .at = YAML_AT(struct rdoc, interval_at),
		  .what = "analysis.interval" },
		{ "threshold", yaml_parse_int, offsetof(struct rdoc, threshold), 1, 1000000,
		  .what = "analysis.threshold" },
		{ "maxWeight", yaml_parse_number, offsetof(struct rdoc, max_weight), 0, 100,
		  .at = YAML_AT(struct rdoc, max_weight_at), .what = "analysis.maxWeight" },
		{ "stepWeight", yaml_parse_number, offsetof(struct rdoc, step_weight), 0, 100,
		  .at = YAML_AT(struct rdoc, step_weight_at), .what = "analysis.stepWeight" },
		{ "stepWeights", yaml_parse_list, 0, .max = STRATEGY_MAX_STEPS, .item = parse_step_weight,
		  .what = "analysis.stepWeights" },
		{ "stepWeightPromotion", yaml_parse_ignore, 0 },
		{ "iterations", yaml_parse_int, offsetof(struct rdoc, iterations), 0, 100000,
		  .at = YAML_AT(struct rdoc, iterations_at), .what = "analysis.iterations" },
		{ "metrics", yaml_parse_list, 0, .max = STRATEGY_MAX_CHECKS + 1, .item = add_metric },
		{ "webhooks", yaml_parse_list, 0, .max = STRATEGY_MAX_WEBHOOKS + 1, .item = add_webhook },
		{ "alerts", yaml_parse_ignore, 0 },
		{ "match", yaml_parse_ignore, 0, .at = YAML_AT(struct rdoc, match_at) },
		{ "mirror", yaml_parse_ignore, 0 },
		{ "mirrorWeight", yaml_parse_ignore, 0 },
		{ "primaryReadyThreshold", yaml_parse_ignore, 0 },
		{ "canaryReadyThreshold", yaml_parse_ignore, 0 },
		{ "sessionAffinity", yaml_parse_ignore, 0 },
		{ NULL },
	},
};

static const struct yaml_map target_ref_map = {
	.where = "spec.targetRef",
	.keys = (const struct yaml_key[]){
		{ "apiVersion", yaml_parse_ignore, 0 },
		{ "kind", yaml_parse_ignore, 0 },
		{ "name", yaml_parse_buf, offsetof(struct rdoc, cfg.target), .size = sizeof(((struct rollout_config *)0)->target),
		  .what = "targetRef.name" },
		{ NULL },
	},
};

static const struct yaml_map canary_spec_map = {
	.where = "spec",
	.keys = (const struct yaml_key[]){
		{ "targetRef", yaml_parse_map, 0, .map = &target_ref_map },
		{ "progressDeadlineSeconds", yaml_parse_int, offsetof(struct rdoc, deadline_s), 1, 30 * 86400 },
		{ "analysis", yaml_parse_map, 0, .map = &canary_analysis_map, .at = YAML_AT(struct rdoc, analysis_at) },
		/* Flagger puts webhooks under analysis; the runbook's file has them under spec: accept both */
		{ "webhooks", keep_spec_webhooks, 0 },
		{ "skipAnalysis", yaml_parse_bool, offsetof(struct rdoc, skip_analysis), .at = YAML_AT(struct rdoc, skip_at) },
		{ "service", yaml_parse_ignore, 0 },
		{ "autoscalerRef", yaml_parse_ignore, 0 },
		{ "ingressRef", yaml_parse_ignore, 0 },
		{ "upstreamRef", yaml_parse_ignore, 0 },
		{ "routeRef", yaml_parse_ignore, 0 },
		{ "provider", yaml_parse_ignore, 0 },
		{ "metricsServer", yaml_parse_ignore, 0 },
		{ "suspend", yaml_parse_ignore, 0 },
		{ "revertOnDeletion", yaml_parse_ignore, 0 },
		{ NULL },
	},
};

static int flagger_steps(struct yaml_walk *w, struct rdoc *d)
{
	struct strategy *s = &d->cfg.strategy;

	if (d->max_weight_at.line && d->max_weight <= 0)
		return yaml_walk_fail(w, d->max_weight_at, "analysis.maxWeight '%g' is not valid; expected a number "
				      "above 0 and at most 100", d->max_weight);
	if (d->step_weight > 0) {
		/* canary: +stepWeight each passing interval while weight < maxWeight
		   (not capped at maxWeight: 20, 40, 60 for 20/50) */
		for (double x = d->step_weight;; x += d->step_weight) {
			if (x > 100)
				x = 100;
			if (strategy_add_step(s, 0, x, s->interval_ms, NULL) < 0)
				return yaml_walk_fail(w, d->step_weight_at, "stepWeight %g gives more than %d steps",
						      d->step_weight, STRATEGY_MAX_STEPS);
			if (x >= d->max_weight || x >= 100)
				break;
		}
	} else if (d->n_weights > 0) {
		/* stepWeights: used only when stepWeight is 0; maxWeight = min(100, last) */
		for (int i = 0; i < d->n_weights; i++)
			strategy_add_step(s, 0, d->weights[i], s->interval_ms, NULL);
	} else if (d->iterations > 0) {
		/* iterations without match: Flagger's blue/green */
		s->kind = STRATEGY_BLUE_GREEN;
		strategy_add_step(s, 0, 0, (int64_t)d->iterations * s->interval_ms, NULL);
		s->steps[0].idle = 1;
	} else if (d->step_weight_at.line) {
		return yaml_walk_fail(w, d->step_weight_at, "analysis.stepWeight '%g' is not valid; expected a number "
				      "above 0 and at most 100", d->step_weight);
	} else if (d->iterations_at.line) {
		return yaml_walk_fail(w, d->iterations_at, "analysis.iterations '%d' is not valid; expected a whole "
				      "number from 1 to 100000", d->iterations);
	} else {
		return yaml_walk_fail(w, d->analysis_at, "spec.analysis needs stepWeight, stepWeights or iterations");
	}
	return 0;
}

static int parse_flagger(struct yaml_walk *w, struct rdoc *d)
{
	struct strategy *s = &d->cfg.strategy;
	int r;

	snprintf(d->cfg.format, sizeof(d->cfg.format), "flagger-canary");
	s->kind = STRATEGY_CANARY;
	strategy_analysis_defaults(s);
	d->max_weight = 100;
	if ((r = yaml_walk_map(w, d->spec, d->spec_at, &canary_spec_map, NULL, d)) < 0)
		return r;
	if (d->deadline_s)
		s->progress_deadline_ms = (int64_t)d->deadline_s * MS_PER_SEC;
	if (!d->analysis_at.line)
		return yaml_walk_fail(w, d->spec_at, "spec.analysis is missing; slipway runs no rollout without analysis "
				      "(Flagger's skipAnalysis is not supported)");
	if (d->skip_analysis)
		return yaml_walk_fail(w, d->skip_at, "skipAnalysis: true is not supported; valid: false");
	if (d->match_at.line)
		return yaml_walk_fail(w, d->match_at, "analysis.match (A/B testing) is not supported; use stepWeight, "
				      "stepWeights or iterations");
	if (s->interval_ms < STRATEGY_MIN_INTERVAL_MS) {
		/* Flagger raises it to 10s (GetAnalysisInterval()): a Canary file loads
		   as Flagger loads it, and the caller warns (docs/yaml.md) */
		char b[DURATION_BUFSZ];
		if (d->interval_at.line)
			snprintf(d->cfg.warning, sizeof(d->cfg.warning),
				 "%s:%d:%d: analysis.interval %s is below 10s, the shortest analysis interval: "
				 "raised to 10s (as Flagger does); write a duration from 10s to 30d to say what runs",
				 w->file, d->interval_at.line, d->interval_at.col, duration_format(s->interval_ms, b));
		s->interval_ms = STRATEGY_MIN_INTERVAL_MS;
	}
	s->threshold = d->threshold > 0 ? d->threshold : 1;	/* Flagger's default when unset; 0 or less is refused */
	if (d->spec_webhooks_at.line &&
	    (r = yaml_walk_items(w, d->spec_webhooks, d->spec_webhooks_at, "webhooks", STRATEGY_MAX_WEBHOOKS + 1,
				 add_webhook, NULL)) < 0)
		return r;
	return flagger_steps(w, d);
}

/* ---- rolling updates: Kubernetes Deployment and slipway's rolling ---- */

static int rolling_steps(struct yaml_walk *w, struct rdoc *d, int64_t hold_ms)
{
	struct strategy *s = &d->cfg.strategy;
	struct strbuf e = STRBUF_INIT;
	int ns, nu, r = 0;

	if (rolling_resolve(d->surge, d->replicas, 1, &ns, &e) < 0)
		r = yaml_walk_fail(w, d->surge_at, "maxSurge: %s", e.buf);
	else if (rolling_resolve(d->unavail, d->replicas, 0, &nu, &e) < 0)
		r = yaml_walk_fail(w, d->unavail_at, "maxUnavailable: %s", e.buf);
	strbuf_release(&e);
	if (r < 0)
		return r;
	/* both literally 0 is invalid (Kubernetes validation); both rounding to
	   0 from percents means maxUnavailable 1 (ResolveFenceposts) */
	if (ns == 0 && nu == 0) {
		if (!strchr(d->surge, '%') && !strchr(d->unavail, '%'))
			return yaml_walk_fail(w, d->rolling_at, "maxSurge and maxUnavailable cannot both be 0");
		nu = 1;
	}
	if (strategy_rolling(s, d->replicas, ns, nu, hold_ms, &e) < 0) {
		r = yaml_walk_fail(w, d->spec_at, "%s", e.buf);
		strbuf_release(&e);
		return r;
	}
	return 0;
}

static int parse_update_type(struct yaml_walk *w, const struct yaml_key *k, struct fy_node *v, struct yaml_pos at,
			     void *dst)
{
	int r = yaml_parse_buf(w, k, v, at, dst);
	if (r < 0)
		return r;
	if (strcmp(dst, "RollingUpdate"))
		return yaml_walk_fail(w, at, "strategy type '%s' is not supported; valid: RollingUpdate "
				      "(for Recreate use slipway's 'full' strategy)", (const char *)dst);
	return 0;
}

static const struct yaml_map rolling_update_map = {
	.where = "spec.strategy.rollingUpdate",
	.keys = (const struct yaml_key[]){
		{ "maxSurge", yaml_parse_buf, offsetof(struct rdoc, surge), .size = 64, .at = YAML_AT(struct rdoc, surge_at) },
		{ "maxUnavailable", yaml_parse_buf, offsetof(struct rdoc, unavail), .size = 64,
		  .at = YAML_AT(struct rdoc, unavail_at) },
		{ NULL },
	},
};

static const struct yaml_map dep_strategy_map = {
	.where = "spec.strategy",
	.keys = (const struct yaml_key[]){
		{ "type", parse_update_type, offsetof(struct rdoc, update_type), .size = 64 },
		{ "rollingUpdate", yaml_parse_map, 0, .map = &rolling_update_map, .at = YAML_AT(struct rdoc, rolling_at) },
		{ NULL },
	},
};

static const struct yaml_map dep_spec_map = {
	.where = "spec",
	.keys = (const struct yaml_key[]){
		{ "replicas", yaml_parse_int, offsetof(struct rdoc, replicas), 1, 10000, .what = "spec.replicas" },
		{ "strategy", yaml_parse_map, 0, .map = &dep_strategy_map },
		{ "selector", yaml_parse_ignore, 0 },
		{ "template", yaml_parse_ignore, 0 },
		{ "minReadySeconds", yaml_parse_ignore, 0 },
		{ "revisionHistoryLimit", yaml_parse_ignore, 0 },
		{ "progressDeadlineSeconds", yaml_parse_int, offsetof(struct rdoc, deadline_s), 1, 30 * 86400 },
		{ "paused", yaml_parse_ignore, 0 },
		{ NULL },
	},
};

static int parse_deployment(struct yaml_walk *w, struct rdoc *d)
{
	struct strategy *s = &d->cfg.strategy;
	int r;

	snprintf(d->cfg.format, sizeof(d->cfg.format), "deployment");
	strategy_analysis_defaults(s);
	d->replicas = 1;
	if ((r = yaml_walk_map(w, d->spec, d->spec_at, &dep_spec_map, NULL, d)) < 0)
		return r;
	if (d->deadline_s)
		s->progress_deadline_ms = (int64_t)d->deadline_s * MS_PER_SEC;
	if (!d->rolling_at.line)
		d->rolling_at = d->spec_at;
	return rolling_steps(w, d, s->interval_ms);
}

/* ---- slipway/v1 Strategy (docs/engine.md) ---- */

static const struct yaml_map native_analysis_map = {
	.where = "spec.analysis",
	.keys = (const struct yaml_key[]){
		{ "interval", yaml_parse_duration, offsetof(struct rdoc, cfg.strategy.interval_ms), STRATEGY_MIN_INTERVAL_MS,
		  MAX_HOLD_MS, .what = "analysis.interval" },
		{ "threshold", yaml_parse_int, offsetof(struct rdoc, cfg.strategy.threshold), 1, 1000000,
		  .what = "analysis.threshold" },
		{ "progressDeadline", yaml_parse_duration, offsetof(struct rdoc, cfg.strategy.progress_deadline_ms), 0,
		  MAX_HOLD_MS, .what = "analysis.progressDeadline" },
		{ "minRequests", yaml_parse_int, offsetof(struct rdoc, min_requests), 1, 1000000000,
		  .what = "analysis.minRequests" },
		{ "metrics", yaml_parse_list, 0, .max = STRATEGY_MAX_CHECKS + 1, .item = add_metric },
		{ "webhooks", yaml_parse_list, 0, .max = STRATEGY_MAX_WEBHOOKS + 1, .item = add_webhook },
		{ NULL },
	},
};

static const struct yaml_map native_spec_map = {
	.where = "spec",
	.keys = (const struct yaml_key[]){
		{ "strategy", yaml_parse_enum, offsetof(struct rdoc, kind_ix), .names = strategy_kind_names,
		  .flags = YAML_REQUIRED, .hint = "(valid: canary, fast-progressive, full, blue-green, rolling, region-by-region)" },
		{ "steps", keep_steps, 0 },
		{ "hold", yaml_parse_duration, offsetof(struct rdoc, hold_ms), 0, MAX_HOLD_MS, .at = YAML_AT(struct rdoc, hold_at),
		  .what = "spec.hold" },
		{ "replicas", yaml_parse_int, offsetof(struct rdoc, replicas), 1, 10000, .what = "spec.replicas" },
		{ "maxSurge", yaml_parse_buf, offsetof(struct rdoc, surge), .size = 64, .at = YAML_AT(struct rdoc, surge_at) },
		{ "maxUnavailable", yaml_parse_buf, offsetof(struct rdoc, unavail), .size = 64,
		  .at = YAML_AT(struct rdoc, unavail_at) },
		{ "groups", keep_groups, 0 },
		{ "groupHold", yaml_parse_duration, offsetof(struct rdoc, group_hold_ms), 0, MAX_HOLD_MS,
		  .what = "spec.groupHold" },
		{ "analysis", yaml_parse_map, 0, .map = &native_analysis_map },
		{ NULL },
	},
};

struct step_doc {
	double weight;
	int64_t hold_ms;
	struct yaml_pos weight_at;
};

static const struct yaml_map step_map = {
	.where = "a step",
	.keys = (const struct yaml_key[]){
		{ "weight", yaml_parse_number, offsetof(struct step_doc, weight), 0, 100, .flags = YAML_REQUIRED,
		  .at = YAML_AT(struct step_doc, weight_at), .what = "step weight", .hint = "(percent 0-100)" },
		{ "hold", yaml_parse_duration, offsetof(struct step_doc, hold_ms), 0, MAX_HOLD_MS, .what = "step hold" },
		{ NULL },
	},
};

struct steps_ctx {
	struct strategy *s;
	int group;
	int64_t hold_ms;
};

static int add_step(struct yaml_walk *w, struct fy_node *item, struct yaml_pos at, void *ctx)
{
	struct steps_ctx *c = ctx;
	struct step_doc st = { 0, c->hold_ms, { 0, 0 } };
	const struct rollout_step *pr = c->s->n_steps ? &c->s->steps[c->s->n_steps - 1] : NULL;
	int r = yaml_walk_map(w, item, at, &step_map, NULL, &st);
	if (r < 0)
		return r;
	/* strategy_validate() says the same without a position */
	if (pr && pr->group == c->group && st.weight < pr->weight)
		return yaml_walk_fail(w, st.weight_at, "step %d: weight %g is below the previous step's %g",
				      c->s->n_steps + 1, st.weight, pr->weight);
	if (strategy_add_step(c->s, c->group, st.weight, st.hold_ms, NULL) < 0)
		return yaml_walk_fail(w, at, "more than %d steps", STRATEGY_MAX_STEPS);
	return 0;
}

static int parse_steps(struct yaml_walk *w, struct fy_node *seq, struct yaml_pos at, struct strategy *s, int group)
{
	struct steps_ctx c = { s, group, s->interval_ms };
	return yaml_walk_items(w, seq, at, "steps", STRATEGY_MAX_STEPS + 1, add_step, &c);
}

/* Steps of one sub-strategy (canary, fast-progressive, full) for a group. */
static int sub_strategy(struct yaml_walk *w, struct yaml_pos at, enum strategy_kind k, struct strategy *s, int group)
{
	struct strategy tmp;
	if (k != STRATEGY_CANARY && k != STRATEGY_FAST_PROGRESSIVE && k != STRATEGY_FULL)
		return yaml_walk_fail(w, at, "a region group's strategy must be canary, fast-progressive or full");
	strategy_default(&tmp, k);
	for (int i = 0; i < tmp.n_steps; i++)
		if (strategy_add_step(s, group, tmp.steps[i].weight, tmp.steps[i].hold_ms, NULL) < 0)
			return yaml_walk_fail(w, at, "more than %d steps", STRATEGY_MAX_STEPS);
	return 0;
}

struct group_doc {
	char name[sizeof(((struct strategy *)0)->groups[0])];
	struct yaml_pos name_at, strategy_at, steps_at, hold_at;
	int kind;
	struct fy_node *steps;
	int64_t hold_ms;
};

static int keep_group_steps(struct yaml_walk *w, const struct yaml_key *k, struct fy_node *v, struct yaml_pos at,
			    void *dst)
{
	struct group_doc *g = dst;
	g->steps = v;
	return 0;
}

static const struct yaml_map group_map = {
	.where = "a region group",
	.keys = (const struct yaml_key[]){
		{ "name", yaml_parse_buf, offsetof(struct group_doc, name), .size = sizeof(((struct group_doc *)0)->name),
		  .at = YAML_AT(struct group_doc, name_at), .flags = YAML_REQUIRED, .what = "group name" },
		{ "strategy", yaml_parse_enum, offsetof(struct group_doc, kind), .names = strategy_kind_names,
		  .at = YAML_AT(struct group_doc, strategy_at), .what = "strategy" },
		{ "steps", keep_group_steps, 0, .at = YAML_AT(struct group_doc, steps_at) },
		{ "hold", yaml_parse_duration, offsetof(struct group_doc, hold_ms), 0, MAX_HOLD_MS,
		  .at = YAML_AT(struct group_doc, hold_at), .what = "group hold" },
		{ NULL },
	},
};

struct groups_ctx {
	struct rdoc *d;
	int ng;
};

static int add_group(struct yaml_walk *w, struct fy_node *item, struct yaml_pos at, void *ctx)
{
	struct groups_ctx *c = ctx;
	struct strategy *s = &c->d->cfg.strategy;
	struct group_doc gd;
	int g = s->n_groups, r;

	memset(&gd, 0, sizeof(gd));
	gd.kind = STRATEGY_CANARY;
	gd.hold_ms = c->d->group_hold_ms;
	if ((r = yaml_walk_map(w, item, at, &group_map, NULL, &gd)) < 0)
		return r;
	for (int i = 0; i < g; i++)
		if (!strcmp(s->groups[i], gd.name))
			return yaml_walk_fail(w, gd.name_at, "region group '%s' appears twice", gd.name);
	memcpy(s->groups[g], gd.name, sizeof(s->groups[g]));
	s->n_groups++;
	if (gd.strategy_at.line && gd.kind != STRATEGY_CANARY && gd.kind != STRATEGY_FAST_PROGRESSIVE &&
	    gd.kind != STRATEGY_FULL)
		return yaml_walk_fail(w, gd.strategy_at, "unknown strategy '%s'; valid for a group: canary, "
				      "fast-progressive, full", strategy_kind_names[gd.kind]);
	if (gd.steps_at.line) {
		if (gd.kind == STRATEGY_FULL)
			return yaml_walk_fail(w, gd.steps_at, "strategy full has no steps");
		if ((r = parse_steps(w, gd.steps, gd.steps_at, s, g)) < 0)
			return r;
	} else if ((r = sub_strategy(w, at, (enum strategy_kind)gd.kind, s, g)) < 0) {
		return r;
	}
	/* each group but the last ends at 100% and holds before the next group */
	if (g < c->ng - 1 && strategy_add_step(s, g, 100, gd.hold_ms, NULL) < 0)
		return yaml_walk_fail(w, at, "more than %d steps", STRATEGY_MAX_STEPS);
	return 0;
}

static int parse_native(struct yaml_walk *w, struct rdoc *d)
{
	struct strategy *s = &d->cfg.strategy;
	enum strategy_kind kind;
	struct yaml_pos at;
	struct fy_node *k;
	int r;

	snprintf(d->cfg.format, sizeof(d->cfg.format), "slipway-strategy");
	if (!yaml_walk_is_mapping(d->spec))
		return yaml_walk_map(w, d->spec, d->spec_at, &native_spec_map, NULL, d);
	/* the strategy's defaults come first: the rest of spec adjusts them */
	k = yaml_walk_lookup(d->spec, "strategy", &at);
	if (at.line) {
		static const struct yaml_key key = { "strategy", yaml_parse_enum, 0, .names = strategy_kind_names };
		if ((r = yaml_parse_enum(w, &key, k, yaml_walk_pos(k, at), &d->kind_ix)) < 0)
			return r;
		strategy_default(s, (enum strategy_kind)d->kind_ix);
	}
	d->replicas = 10;
	if ((r = yaml_walk_map(w, d->spec, d->spec_at, &native_spec_map, NULL, d)) < 0)
		return r;
	kind = (enum strategy_kind)d->kind_ix;
	if (d->min_requests)
		s->min_requests = (uint64_t)d->min_requests;
	if (!d->hold_at.line)
		d->hold_ms = s->interval_ms;
	if (d->steps_at.line && kind != STRATEGY_CANARY && kind != STRATEGY_FAST_PROGRESSIVE)
		return yaml_walk_fail(w, d->steps_at, "%s", kind == STRATEGY_FULL ? "strategy full has no steps (straight to 100%)"
					  : "steps apply to canary, fast-progressive and region groups");

	switch (kind) {
	case STRATEGY_CANARY:
	case STRATEGY_FAST_PROGRESSIVE:
		if (d->steps_at.line) {
			s->n_steps = 0;
			return parse_steps(w, d->steps, d->steps_at, s, 0);
		}
		return 0;
	case STRATEGY_FULL:
		return 0;
	case STRATEGY_BLUE_GREEN:
		s->n_steps = 0;
		strategy_add_step(s, 0, 0, d->hold_ms, NULL);
		s->steps[0].idle = 1;
		return 0;
	case STRATEGY_ROLLING:
		if (!d->surge[0])
			memcpy(d->surge, "25%", 4);
		if (!d->unavail[0])
			memcpy(d->unavail, "25%", 4);
		d->rolling_at = d->spec_at;
		return rolling_steps(w, d, d->hold_ms);
	case STRATEGY_REGION_BY_REGION: {
		struct groups_ctx c = { d, yaml_walk_len(d->groups) };
		if (!d->groups_at.line)
			return yaml_walk_fail(w, d->spec_at, "region-by-region needs groups: [{name, strategy, steps}]");
		if (!yaml_walk_is_list(d->groups))
			return yaml_walk_fail(w, d->groups_at, "groups must be a list such as [a, b], found %s",
					      yaml_walk_kind(d->groups));
		if (c.ng < 1 || c.ng > STRATEGY_MAX_GROUPS)
			return yaml_walk_fail(w, d->groups_at, "between 1 and %d groups", STRATEGY_MAX_GROUPS);
		s->n_steps = 0;
		s->n_groups = 0;
		s->group_hold_ms = d->group_hold_ms;
		return yaml_walk_items(w, d->groups, d->groups_at, "groups", STRATEGY_MAX_GROUPS, add_group, &c);
	}
	}
	return 0;
}

int rollout_config_parse(const char *buf, size_t len, const char *file, struct rollout_config *out,
			 struct strbuf *err)
{
	struct yaml_walk w;
	struct fy_node *root;
	struct rdoc *d;
	struct strbuf e = STRBUF_INIT;
	int r;

	if ((r = yaml_walk_open(&w, file ? file : "(config)", "a rollout file", buf ? buf : "", buf ? len : 0,
				ROLLOUT_CONFIG_MAX_BYTES, err, &root)) < 0)
		return r;
	d = xcalloc(1, sizeof(*d));
	w.user = d;
	if (!yaml_walk_is_mapping(root)) {
		r = yaml_walk_fail(&w, YAML_ROOT_POS, "expected a mapping with apiVersion and kind");
		goto out;
	}
	if ((r = yaml_walk_map(&w, root, YAML_ROOT_POS, &top_map, NULL, d)) < 0)
		goto out;
	if (!strncmp(d->api, "flagger.app/", 12) && !strcmp(d->kind, "Canary"))
		r = d->spec_at.line ? parse_flagger(&w, d) : yaml_walk_fail(&w, YAML_ROOT_POS, "a Canary needs spec");
	else if (!strcmp(d->api, "apps/v1") && !strcmp(d->kind, "Deployment"))
		r = d->spec_at.line ? parse_deployment(&w, d) : yaml_walk_fail(&w, YAML_ROOT_POS, "a Deployment needs spec");
	else if (!strcmp(d->api, "slipway/v1") && !strcmp(d->kind, "Strategy"))
		r = d->spec_at.line ? parse_native(&w, d) : yaml_walk_fail(&w, YAML_ROOT_POS, "a Strategy needs spec");
	else if (!strncmp(d->api, "argoproj.io/", 12) && !strcmp(d->kind, "Rollout")) {
		snprintf(d->cfg.format, sizeof(d->cfg.format), "argo-rollout");
		r = d->spec_at.line ? argo__rollout_spec(&w, d->spec, d->spec_at, &d->cfg.strategy, &d->cfg.argo)
				    : yaml_walk_fail(&w, YAML_ROOT_POS, "a Rollout needs spec");
	} else if (!strcmp(d->kind, "AnalysisTemplate") || !strcmp(d->kind, "ClusterAnalysisTemplate") ||
		   !strcmp(d->kind, "MetricTemplate"))
		r = yaml_walk_fail(&w, d->kind_at.line ? d->kind_at : YAML_ROOT_POS,
				   "%s is a template, not a rollout file; give the Rollout or Canary that refers to it "
				   "(docs/argo.md)", d->kind);
	else
		r = yaml_walk_fail(&w, d->kind_at.line ? d->kind_at : YAML_ROOT_POS,
				   "unknown apiVersion/kind '%s' '%s'; valid: flagger.app/v1beta1 Canary, apps/v1 Deployment, "
				   "slipway/v1 Strategy, argoproj.io/v1alpha1 Rollout", d->api, d->kind);
	if (r >= 0 && strategy_validate(&d->cfg.strategy, &e) < 0)
		r = yaml_walk_fail(&w, (struct yaml_pos){ 0, 0 }, "%s", e.buf);
	strbuf_release(&e);
	if (r >= 0)
		*out = d->cfg;
out:
	free(d);
	yaml_walk_close(&w);
	return r < 0 ? r : 0;
}
