/*
 * rollout_config.c - Flagger Canary, Kubernetes Deployment and slipway
 * Strategy files into a struct strategy; see rollout_config.h.
 *
 * The walker checks every mapping against the list of keys it knows, so a
 * typo ("stepWieght") is an error at its line and column naming the valid
 * keys, never a silently ignored setting.  Flagger fields that slipway reads
 * but has no use for (service, autoscalerRef, provider, ...) are accepted
 * and listed in docs/engine.md.
 */
#include "core/rollout_config.h"
#include "core/yaml_text.h"
#include "base/alloc.h"
#include "base/err.h"
#include "base/strbuf.h"
#include "base/timeutil.h"

#include <errno.h>
#include <libfyaml.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ycx {
	const char *file;
	struct strbuf *err;
	int failed;
};

static void node_pos(struct fy_node *n, int *line, int *col)
{
	*line = 0;
	*col = 0;
	if (!n)
		return;
	if (fy_node_get_type(n) == FYNT_SCALAR) {
		struct fy_token *t = fy_node_get_scalar_token(n);
		const struct fy_mark *m = t ? fy_token_start_mark(t) : NULL;
		if (m) {
			*line = m->line + 1;
			*col = m->column + 1;
		}
		return;
	}
	void *it = NULL;
	if (fy_node_get_type(n) == FYNT_MAPPING) {
		struct fy_node_pair *p = fy_node_mapping_iterate(n, &it);
		if (p)
			node_pos(fy_node_pair_key(p), line, col);
	} else {
		node_pos(fy_node_sequence_iterate(n, &it), line, col);
	}
}

__attribute__((format(printf, 3, 4)))
static int yerr(struct ycx *c, struct fy_node *n, const char *fmt, ...)
{
	va_list ap;
	int line, col;

	if (c->failed)
		return SW_EPARSE;
	c->failed = 1;
	node_pos(n, &line, &col);
	if (line)
		strbuf_errf(c->err, "%s:%d:%d: ", c->file, line, col);
	else
		strbuf_errf(c->err, "%s: ", c->file);
	if (c->err) {
		va_start(ap, fmt);
		strbuf_vaddf(c->err, fmt, ap);
		va_end(ap);
	}
	return SW_EPARSE;
}

static const char *scalar(struct fy_node *n)
{
	return n && fy_node_get_type(n) == FYNT_SCALAR ? fy_node_get_scalar0(n) : NULL;
}

static struct fy_node *get(struct fy_node *map, const char *key)
{
	if (!map || fy_node_get_type(map) != FYNT_MAPPING)
		return NULL;
	return fy_node_mapping_lookup_by_string(map, key, strlen(key));
}

static void list_valid(struct strbuf *sb, const char *const *valid)
{
	for (int i = 0; valid[i]; i++)
		strbuf_addf(sb, "%s%s", i ? ", " : "", valid[i]);
}

/* n must be a mapping whose keys are all in valid[] (NULL-terminated). */
static int check_map(struct ycx *c, struct fy_node *n, const char *where, const char *const *valid)
{
	void *it = NULL;
	struct fy_node_pair *p;

	if (!n || fy_node_get_type(n) != FYNT_MAPPING)
		return yerr(c, n, "%s must be a mapping", where);
	while ((p = fy_node_mapping_iterate(n, &it))) {
		struct fy_node *k = fy_node_pair_key(p);
		const char *ks = scalar(k);
		int found = 0;
		for (int i = 0; ks && valid[i]; i++)
			if (!strcmp(valid[i], ks))
				found = 1;
		if (!found) {
			struct strbuf v = STRBUF_INIT;
			list_valid(&v, valid);
			yerr(c, k, "unknown field '%s' in %s; valid: %s", ks ? ks : "(complex key)", where, v.buf);
			strbuf_release(&v);
			return SW_EPARSE;
		}
	}
	return 0;
}

static int get_str(struct ycx *c, struct fy_node *n, const char *what, char *buf, size_t size)
{
	const char *s = scalar(n);
	if (!s)
		return yerr(c, n, "%s must be a string", what);
	if (strlen(s) >= size)
		return yerr(c, n, "%s is longer than %zu characters", what, size - 1);
	snprintf(buf, size, "%s", s);
	return 0;
}

static int get_num(struct ycx *c, struct fy_node *n, const char *what, double min, double max, double *out)
{
	const char *s = scalar(n);
	char *end;
	double v;

	if (!s || !*s)
		return yerr(c, n, "%s must be a number between %g and %g", what, min, max);
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || !isfinite(v) || v < min || v > max)
		return yerr(c, n, "%s must be a number between %g and %g, not '%s'", what, min, max, s);
	*out = v;
	return 0;
}

static int get_int(struct ycx *c, struct fy_node *n, const char *what, long min, long max, long *out)
{
	const char *s = scalar(n);
	char *end;
	long v;

	if (!s || !*s)
		return yerr(c, n, "%s must be a whole number between %ld and %ld", what, min, max);
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return yerr(c, n, "%s must be a whole number between %ld and %ld, not '%s'", what, min, max, s);
	*out = v;
	return 0;
}

static int get_dur(struct ycx *c, struct fy_node *n, const char *what, int64_t *out)
{
	const char *s = scalar(n);
	int64_t v;

	if (!s || duration_parse(s, &v, NULL) < 0 || v > 30 * MS_PER_DAY)
		return yerr(c, n, "%s must be a duration such as 30s, 1m, 1h30m (at most 30d), not '%s'", what,
			    s ? s : "(not a scalar)");
	*out = v;
	return 0;
}

static int get_seq(struct ycx *c, struct fy_node *n, const char *what)
{
	if (!n || fy_node_get_type(n) != FYNT_SEQUENCE)
		return yerr(c, n, "%s must be a list", what);
	return 0;
}

/* ---- analysis pieces shared by Flagger and native files ---- */

static const char *const metric_keys[] = { "name", "threshold", "thresholdRange", "interval", "templateRef",
					   "templateVariables", "query", NULL };
static const char *const range_keys[] = { "min", "max", NULL };
static const char *const webhook_keys[] = { "name", "type", "url", "timeout", "metadata", "retries",
					    "disableTLS", "muteAlert", NULL };

static int parse_metrics(struct ycx *c, struct fy_node *seq, struct strategy *s)
{
	void *it = NULL;
	struct fy_node *m;

	if (get_seq(c, seq, "metrics"))
		return SW_EPARSE;
	while ((m = fy_node_sequence_iterate(seq, &it))) {
		struct analysis_check *ck;
		struct fy_node *v;
		char name[64];

		if (check_map(c, m, "a metric", metric_keys))
			return SW_EPARSE;
		if (!get(m, "name"))
			return yerr(c, m, "metric has no name; valid: request-success-rate, request-duration");
		if (get_str(c, get(m, "name"), "metric name", name, sizeof(name)))
			return SW_EPARSE;
		if (get(m, "templateRef") || get(m, "query"))
			return yerr(c, get(m, "templateRef") ? get(m, "templateRef") : get(m, "query"),
				    "metric '%s': MetricTemplate and query metrics are not supported; "
				    "built-in metrics: request-success-rate, request-duration", name);
		if (s->n_checks >= STRATEGY_MAX_CHECKS)
			return yerr(c, m, "more than %d metrics", STRATEGY_MAX_CHECKS);
		ck = &s->checks[s->n_checks];
		memset(ck, 0, sizeof(*ck));
		snprintf(ck->name, sizeof(ck->name), "%s", name);
		ck->interval_ms = STRATEGY_DEFAULT_INTERVAL_MS;
		if (!strcmp(name, "request-success-rate"))
			ck->metric = CHECK_SUCCESS_RATE;
		else if (!strcmp(name, "request-duration"))
			ck->metric = CHECK_DURATION;
		else
			return yerr(c, get(m, "name"), "unknown metric '%s'; valid: request-success-rate, "
				    "request-duration", name);
		if ((v = get(m, "threshold"))) {
			/* deprecated Flagger form: a minimum for success rate, a maximum for duration */
			double t;
			if (get_num(c, v, "threshold", 0, ck->metric == CHECK_SUCCESS_RATE ? 100 : 1e9, &t))
				return SW_EPARSE;
			if (ck->metric == CHECK_SUCCESS_RATE) {
				ck->has_min = 1;
				ck->min = t;
			} else {
				ck->has_max = 1;
				ck->max = t;
			}
		}
		if ((v = get(m, "thresholdRange"))) {
			double hi = ck->metric == CHECK_SUCCESS_RATE ? 100 : 1e9;
			if (check_map(c, v, "thresholdRange", range_keys))
				return SW_EPARSE;
			if (get(v, "min")) {
				if (get_num(c, get(v, "min"), "thresholdRange.min", 0, hi, &ck->min))
					return SW_EPARSE;
				ck->has_min = 1;
			}
			if (get(v, "max")) {
				if (get_num(c, get(v, "max"), "thresholdRange.max", 0, hi, &ck->max))
					return SW_EPARSE;
				ck->has_max = 1;
			}
			if (ck->has_min && ck->has_max && ck->min > ck->max)
				return yerr(c, v, "thresholdRange.min %g is above max %g", ck->min, ck->max);
		}
		if (!ck->has_min && !ck->has_max)
			return yerr(c, m, "metric '%s' needs threshold or thresholdRange {min, max}", name);
		if ((v = get(m, "interval")) && get_dur(c, v, "metric interval", &ck->interval_ms))
			return SW_EPARSE;
		s->n_checks++;
	}
	return 0;
}

static int parse_webhooks(struct ycx *c, struct fy_node *seq, struct strategy *s)
{
	void *it = NULL;
	struct fy_node *w;

	if (get_seq(c, seq, "webhooks"))
		return SW_EPARSE;
	while ((w = fy_node_sequence_iterate(seq, &it))) {
		struct webhook *wh;
		struct fy_node *v;

		if (check_map(c, w, "a webhook", webhook_keys))
			return SW_EPARSE;
		if (s->n_webhooks >= STRATEGY_MAX_WEBHOOKS)
			return yerr(c, w, "more than %d webhooks", STRATEGY_MAX_WEBHOOKS);
		wh = &s->webhooks[s->n_webhooks];
		memset(wh, 0, sizeof(*wh));
		wh->type = WEBHOOK_ROLLOUT;	/* Flagger: none given means rollout */
		wh->timeout_ms = 10 * MS_PER_SEC;
		if (!get(w, "name"))
			return yerr(c, w, "webhook has no name");
		if (get_str(c, get(w, "name"), "webhook name", wh->name, sizeof(wh->name)))
			return SW_EPARSE;
		if (!get(w, "url"))
			return yerr(c, w, "webhook '%s' has no url", wh->name);
		if (get_str(c, get(w, "url"), "webhook url", wh->url, sizeof(wh->url)))
			return SW_EPARSE;
		if (strncmp(wh->url, "http://", 7) && strncmp(wh->url, "https://", 8))
			return yerr(c, get(w, "url"), "webhook url '%s' must start with http:// or https://", wh->url);
		if ((v = get(w, "type"))) {
			const char *t = scalar(v);
			if (!t || (*t && webhook_type_parse(t, &wh->type) < 0))
				return yerr(c, v, "unknown webhook type '%s'; valid: pre-rollout, rollout, "
					    "confirm-rollout, confirm-promotion, post-rollout, rollback, event",
					    t ? t : "(not a scalar)");
		}
		if ((v = get(w, "timeout")) && get_dur(c, v, "webhook timeout", &wh->timeout_ms))
			return SW_EPARSE;
		s->n_webhooks++;
	}
	return 0;
}

/* ---- Flagger Canary (docs.flagger.app, "Canary analysis"; docs/engine.md "Files") ---- */

static const char *const top_keys[] = { "apiVersion", "kind", "metadata", "spec", NULL };
static const char *const meta_keys[] = { "name", "namespace", "labels", "annotations", NULL };
static const char *const canary_spec_keys[] = {
	"targetRef", "progressDeadlineSeconds", "analysis", "webhooks", "service", "autoscalerRef",
	"ingressRef", "upstreamRef", "routeRef", "skipAnalysis", "provider", "metricsServer", "suspend",
	"revertOnDeletion", NULL };
static const char *const canary_analysis_keys[] = {
	"interval", "threshold", "maxWeight", "stepWeight", "stepWeights", "stepWeightPromotion",
	"iterations", "metrics", "webhooks", "alerts", "match", "mirror", "mirrorWeight",
	"primaryReadyThreshold", "canaryReadyThreshold", "sessionAffinity", NULL };
static const char *const target_ref_keys[] = { "apiVersion", "kind", "name", NULL };

static int parse_meta(struct ycx *c, struct fy_node *root, struct rollout_config *cfg)
{
	struct fy_node *m = get(root, "metadata");
	if (!m)
		return 0;
	if (check_map(c, m, "metadata", meta_keys))
		return SW_EPARSE;
	if (get(m, "name") && get_str(c, get(m, "name"), "metadata.name", cfg->name, sizeof(cfg->name)))
		return SW_EPARSE;
	if (get(m, "namespace") &&
	    get_str(c, get(m, "namespace"), "metadata.namespace", cfg->namespace_, sizeof(cfg->namespace_)))
		return SW_EPARSE;
	return 0;
}

static int parse_flagger(struct ycx *c, struct fy_node *root, struct rollout_config *cfg)
{
	struct strategy *s = &cfg->strategy;
	struct fy_node *spec = get(root, "spec"), *an, *v;
	double max_weight = 100, step_weight = 0;
	long iterations = 0, threshold = 0, l;
	double weights[STRATEGY_MAX_STEPS];
	int n_weights = 0;

	snprintf(cfg->format, sizeof(cfg->format), "flagger-canary");
	memset(s, 0, sizeof(*s));
	s->kind = STRATEGY_CANARY;
	strategy_analysis_defaults(s);
	if (!spec)
		return yerr(c, root, "a Canary needs spec");
	if (check_map(c, spec, "spec", canary_spec_keys))
		return SW_EPARSE;
	if ((v = get(spec, "targetRef"))) {
		if (check_map(c, v, "spec.targetRef", target_ref_keys))
			return SW_EPARSE;
		if (get(v, "name") && get_str(c, get(v, "name"), "targetRef.name", cfg->target, sizeof(cfg->target)))
			return SW_EPARSE;
	}
	if ((v = get(spec, "progressDeadlineSeconds"))) {
		if (get_int(c, v, "progressDeadlineSeconds", 1, 30L * 86400, &l))
			return SW_EPARSE;
		s->progress_deadline_ms = l * MS_PER_SEC;
	}
	an = get(spec, "analysis");
	if (!an)
		return yerr(c, spec, "spec.analysis is missing; slipway runs no rollout without analysis "
			    "(Flagger's skipAnalysis is not supported)");
	if (check_map(c, an, "spec.analysis", canary_analysis_keys))
		return SW_EPARSE;
	if ((v = get(spec, "skipAnalysis")) && scalar(v) && !strcmp(scalar(v), "true"))
		return yerr(c, v, "skipAnalysis: true is not supported; valid: false");
	if ((v = get(an, "match")))
		return yerr(c, v, "analysis.match (A/B testing) is not supported; use stepWeight, stepWeights "
			    "or iterations");
	if ((v = get(an, "interval"))) {
		if (get_dur(c, v, "analysis.interval", &s->interval_ms))
			return SW_EPARSE;
		if (s->interval_ms < STRATEGY_MIN_INTERVAL_MS)
			s->interval_ms = STRATEGY_MIN_INTERVAL_MS;	/* Flagger raises it to 10s */
	}
	if ((v = get(an, "threshold")) && get_int(c, v, "analysis.threshold", -1000000, 1000000, &threshold))
		return SW_EPARSE;
	s->threshold = threshold > 0 ? (int)threshold : 1;	/* Flagger: default 1 if unset or <= 0 */
	if ((v = get(an, "maxWeight")) && get_num(c, v, "analysis.maxWeight", 0, 100, &max_weight))
		return SW_EPARSE;
	if ((v = get(an, "stepWeight")) && get_num(c, v, "analysis.stepWeight", 0, 100, &step_weight))
		return SW_EPARSE;
	if ((v = get(an, "iterations")) && get_int(c, v, "analysis.iterations", 0, 100000, &iterations))
		return SW_EPARSE;
	if ((v = get(an, "stepWeights"))) {
		void *it = NULL;
		struct fy_node *w;
		if (get_seq(c, v, "analysis.stepWeights"))
			return SW_EPARSE;
		while ((w = fy_node_sequence_iterate(v, &it))) {
			if (n_weights >= STRATEGY_MAX_STEPS)
				return yerr(c, w, "more than %d stepWeights", STRATEGY_MAX_STEPS);
			if (get_num(c, w, "a step weight", 0, 100, &weights[n_weights]))
				return SW_EPARSE;
			if (n_weights && weights[n_weights] < weights[n_weights - 1])
				return yerr(c, w, "stepWeights must not decrease (%g after %g)", weights[n_weights],
					    weights[n_weights - 1]);
			n_weights++;
		}
	}
	if ((v = get(an, "metrics")) && parse_metrics(c, v, s))
		return SW_EPARSE;
	/* Flagger puts webhooks under analysis; the runbook's file has them under spec: accept both */
	if ((v = get(an, "webhooks")) && parse_webhooks(c, v, s))
		return SW_EPARSE;
	if ((v = get(spec, "webhooks")) && parse_webhooks(c, v, s))
		return SW_EPARSE;

	if (step_weight > 0) {
		/* canary: +stepWeight each passing interval while weight < maxWeight
		   (not capped at maxWeight: 20, 40, 60 for 20/50) */
		for (double w = step_weight;; w += step_weight) {
			if (w > 100)
				w = 100;
			if (strategy_add_step(s, 0, w, s->interval_ms, NULL) < 0)
				return yerr(c, get(an, "stepWeight"), "stepWeight %g gives more than %d steps",
					    step_weight, STRATEGY_MAX_STEPS);
			if (w >= max_weight || w >= 100)
				break;
		}
	} else if (n_weights > 0) {
		/* stepWeights: used only when stepWeight is 0; maxWeight = min(100, last) */
		for (int i = 0; i < n_weights; i++)
			strategy_add_step(s, 0, weights[i], s->interval_ms, NULL);
	} else if (iterations > 0) {
		/* iterations without match: Flagger's blue/green */
		s->kind = STRATEGY_BLUE_GREEN;
		strategy_add_step(s, 0, 0, iterations * s->interval_ms, NULL);
		s->steps[0].idle = 1;
	} else {
		return yerr(c, an, "spec.analysis needs stepWeight, stepWeights or iterations");
	}
	return 0;
}

/* ---- Kubernetes Deployment (runbook rolling-config.yaml) ---- */

static const char *const dep_spec_keys[] = { "replicas", "strategy", "selector", "template", "minReadySeconds",
					     "revisionHistoryLimit", "progressDeadlineSeconds", "paused", NULL };
static const char *const dep_strategy_keys[] = { "type", "rollingUpdate", NULL };
static const char *const rolling_keys[] = { "maxSurge", "maxUnavailable", NULL };

static int parse_deployment(struct ycx *c, struct fy_node *root, struct rollout_config *cfg)
{
	struct strategy *s = &cfg->strategy;
	struct fy_node *spec = get(root, "spec"), *st, *ru, *v;
	long replicas = 1;
	const char *surge = "25%", *unavail = "25%";
	int ns, nu;
	struct strbuf e = STRBUF_INIT;

	snprintf(cfg->format, sizeof(cfg->format), "deployment");
	memset(s, 0, sizeof(*s));
	strategy_analysis_defaults(s);
	if (!spec)
		return yerr(c, root, "a Deployment needs spec");
	if (check_map(c, spec, "spec", dep_spec_keys))
		return SW_EPARSE;
	if ((v = get(spec, "replicas")) && get_int(c, v, "spec.replicas", 1, 10000, &replicas))
		return SW_EPARSE;
	if ((v = get(spec, "progressDeadlineSeconds"))) {
		long l;
		if (get_int(c, v, "progressDeadlineSeconds", 1, 30L * 86400, &l))
			return SW_EPARSE;
		s->progress_deadline_ms = l * MS_PER_SEC;
	}
	st = get(spec, "strategy");
	ru = NULL;
	if (st) {
		if (check_map(c, st, "spec.strategy", dep_strategy_keys))
			return SW_EPARSE;
		if ((v = get(st, "type"))) {
			const char *t = scalar(v);
			if (!t || strcmp(t, "RollingUpdate"))
				return yerr(c, v, "strategy type '%s' is not supported; valid: RollingUpdate "
					    "(for Recreate use slipway's 'full' strategy)", t ? t : "(not a scalar)");
		}
		ru = get(st, "rollingUpdate");
		if (ru && check_map(c, ru, "spec.strategy.rollingUpdate", rolling_keys))
			return SW_EPARSE;
	}
	if (ru && (v = get(ru, "maxSurge")) && !(surge = scalar(v)))
		return yerr(c, v, "maxSurge must be a count or a percent");
	if (ru && (v = get(ru, "maxUnavailable")) && !(unavail = scalar(v)))
		return yerr(c, v, "maxUnavailable must be a count or a percent");
	if (rolling_resolve(surge, (int)replicas, 1, &ns, &e) < 0) {
		yerr(c, get(ru, "maxSurge"), "maxSurge: %s", e.buf);
		strbuf_release(&e);
		return SW_EPARSE;
	}
	if (rolling_resolve(unavail, (int)replicas, 0, &nu, &e) < 0) {
		yerr(c, get(ru, "maxUnavailable"), "maxUnavailable: %s", e.buf);
		strbuf_release(&e);
		return SW_EPARSE;
	}
	/* both literally 0 is invalid (Kubernetes validation); both rounding to
	   0 from percents means maxUnavailable 1 (ResolveFenceposts) */
	if (ns == 0 && nu == 0) {
		if (!strchr(surge, '%') && !strchr(unavail, '%'))
			return yerr(c, ru ? ru : st, "maxSurge and maxUnavailable cannot both be 0");
		nu = 1;
	}
	if (strategy_rolling(s, (int)replicas, ns, nu, s->interval_ms, &e) < 0) {
		yerr(c, spec, "%s", e.buf);
		strbuf_release(&e);
		return SW_ECONFIG;
	}
	return 0;
}

/* ---- slipway/v1 Strategy (docs/engine.md) ---- */

static const char *const native_spec_keys[] = {
	"strategy", "steps", "hold", "replicas", "maxSurge", "maxUnavailable", "groups", "groupHold",
	"analysis", NULL };
static const char *const native_analysis_keys[] = {
	"interval", "threshold", "progressDeadline", "minRequests", "metrics", "webhooks", NULL };
static const char *const native_step_keys[] = { "weight", "hold", NULL };
static const char *const native_group_keys[] = { "name", "strategy", "steps", "hold", NULL };

static int parse_steps(struct ycx *c, struct fy_node *seq, struct strategy *s, int group)
{
	void *it = NULL;
	struct fy_node *n;

	if (get_seq(c, seq, "steps"))
		return SW_EPARSE;
	while ((n = fy_node_sequence_iterate(seq, &it))) {
		double w;
		int64_t hold = s->interval_ms;
		if (check_map(c, n, "a step", native_step_keys))
			return SW_EPARSE;
		if (!get(n, "weight"))
			return yerr(c, n, "a step needs weight (percent 0-100)");
		if (get_num(c, get(n, "weight"), "step weight", 0, 100, &w))
			return SW_EPARSE;
		if (get(n, "hold") && get_dur(c, get(n, "hold"), "step hold", &hold))
			return SW_EPARSE;
		if (strategy_add_step(s, group, w, hold, NULL) < 0)
			return yerr(c, n, "more than %d steps", STRATEGY_MAX_STEPS);
	}
	return 0;
}

/* Steps of one sub-strategy (canary, fast-progressive, full) for a group. */
static int sub_strategy(struct ycx *c, struct fy_node *node, enum strategy_kind k, struct strategy *s, int group)
{
	struct strategy tmp;
	if (k != STRATEGY_CANARY && k != STRATEGY_FAST_PROGRESSIVE && k != STRATEGY_FULL)
		return yerr(c, node, "a region group's strategy must be canary, fast-progressive or full");
	strategy_default(&tmp, k);
	for (int i = 0; i < tmp.n_steps; i++)
		if (strategy_add_step(s, group, tmp.steps[i].weight, tmp.steps[i].hold_ms, NULL) < 0)
			return yerr(c, node, "more than %d steps", STRATEGY_MAX_STEPS);
	return 0;
}

static int parse_native(struct ycx *c, struct fy_node *root, struct rollout_config *cfg)
{
	struct strategy *s = &cfg->strategy;
	struct fy_node *spec = get(root, "spec"), *v, *an;
	enum strategy_kind kind;
	char name[32];
	int64_t hold;

	snprintf(cfg->format, sizeof(cfg->format), "slipway-strategy");
	if (!spec)
		return yerr(c, root, "a Strategy needs spec");
	if (check_map(c, spec, "spec", native_spec_keys))
		return SW_EPARSE;
	if (!get(spec, "strategy"))
		return yerr(c, spec, "spec.strategy is missing; valid: canary, fast-progressive, full, blue-green, "
			    "rolling, region-by-region");
	if (get_str(c, get(spec, "strategy"), "spec.strategy", name, sizeof(name)))
		return SW_EPARSE;
	if (strategy_kind_parse(name, &kind, NULL) < 0)
		return yerr(c, get(spec, "strategy"), "unknown strategy '%s'; valid: canary, fast-progressive, full, "
			    "blue-green, rolling, region-by-region", name);
	strategy_default(s, kind);
	if ((an = get(spec, "analysis"))) {
		if (check_map(c, an, "spec.analysis", native_analysis_keys))
			return SW_EPARSE;
		if ((v = get(an, "interval")) && get_dur(c, v, "analysis.interval", &s->interval_ms))
			return SW_EPARSE;
		if (s->interval_ms < STRATEGY_MIN_INTERVAL_MS)
			return yerr(c, get(an, "interval"), "analysis.interval must be at least 10s");
		if ((v = get(an, "threshold"))) {
			long l;
			if (get_int(c, v, "analysis.threshold", 1, 1000000, &l))
				return SW_EPARSE;
			s->threshold = (int)l;
		}
		if ((v = get(an, "progressDeadline")) && get_dur(c, v, "analysis.progressDeadline",
								 &s->progress_deadline_ms))
			return SW_EPARSE;
		if ((v = get(an, "minRequests"))) {
			long l;
			if (get_int(c, v, "analysis.minRequests", 1, 1000000000L, &l))
				return SW_EPARSE;
			s->min_requests = (uint64_t)l;
		}
		if ((v = get(an, "metrics")) && parse_metrics(c, v, s))
			return SW_EPARSE;
		if ((v = get(an, "webhooks")) && parse_webhooks(c, v, s))
			return SW_EPARSE;
	}
	hold = s->interval_ms;
	if ((v = get(spec, "hold")) && get_dur(c, v, "spec.hold", &hold))
		return SW_EPARSE;

	switch (kind) {
	case STRATEGY_CANARY:
	case STRATEGY_FAST_PROGRESSIVE:
		if ((v = get(spec, "steps"))) {
			s->n_steps = 0;
			if (parse_steps(c, v, s, 0))
				return SW_EPARSE;
		}
		break;
	case STRATEGY_FULL:
		if ((v = get(spec, "steps")))
			return yerr(c, v, "strategy full has no steps (straight to 100%%)");
		break;
	case STRATEGY_BLUE_GREEN:
		s->n_steps = 0;
		strategy_add_step(s, 0, 0, hold, NULL);
		s->steps[0].idle = 1;
		break;
	case STRATEGY_ROLLING: {
		long replicas = 10;
		const char *surge = "25%", *unavail = "25%";
		int ns, nu;
		struct strbuf e = STRBUF_INIT;
		if ((v = get(spec, "replicas")) && get_int(c, v, "spec.replicas", 1, 10000, &replicas))
			return SW_EPARSE;
		if ((v = get(spec, "maxSurge")) && !(surge = scalar(v)))
			return yerr(c, v, "maxSurge must be a count or a percent");
		if ((v = get(spec, "maxUnavailable")) && !(unavail = scalar(v)))
			return yerr(c, v, "maxUnavailable must be a count or a percent");
		if (rolling_resolve(surge, (int)replicas, 1, &ns, &e) < 0 ||
		    rolling_resolve(unavail, (int)replicas, 0, &nu, &e) < 0) {
			yerr(c, spec, "%s", e.buf);
			strbuf_release(&e);
			return SW_EPARSE;
		}
		if (ns == 0 && nu == 0) {
			if (!strchr(surge, '%') && !strchr(unavail, '%'))
				return yerr(c, spec, "maxSurge and maxUnavailable cannot both be 0");
			nu = 1;
		}
		if (strategy_rolling(s, (int)replicas, ns, nu, hold, &e) < 0) {
			yerr(c, spec, "%s", e.buf);
			strbuf_release(&e);
			return SW_ECONFIG;
		}
		break;
	}
	case STRATEGY_REGION_BY_REGION: {
		struct fy_node *groups = get(spec, "groups"), *gn;
		void *it = NULL;
		int64_t ghold = 0;
		int ng;
		if (!groups)
			return yerr(c, spec, "region-by-region needs groups: [{name, strategy, steps}]");
		if (get_seq(c, groups, "groups"))
			return SW_EPARSE;
		if ((v = get(spec, "groupHold")) && get_dur(c, v, "spec.groupHold", &ghold))
			return SW_EPARSE;
		s->n_steps = 0;
		s->n_groups = 0;
		s->group_hold_ms = ghold;
		ng = fy_node_sequence_item_count(groups);
		if (ng < 1 || ng > STRATEGY_MAX_GROUPS)
			return yerr(c, groups, "between 1 and %d groups", STRATEGY_MAX_GROUPS);
		while ((gn = fy_node_sequence_iterate(groups, &it))) {
			int g = s->n_groups;
			enum strategy_kind sk = STRATEGY_CANARY;
			if (check_map(c, gn, "a region group", native_group_keys))
				return SW_EPARSE;
			if (!get(gn, "name"))
				return yerr(c, gn, "a region group needs a name");
			if (get_str(c, get(gn, "name"), "group name", s->groups[g], sizeof(s->groups[g])))
				return SW_EPARSE;
			for (int i = 0; i < g; i++)
				if (!strcmp(s->groups[i], s->groups[g]))
					return yerr(c, get(gn, "name"), "region group '%s' appears twice", s->groups[g]);
			s->n_groups++;
			if ((v = get(gn, "strategy"))) {
				char sn[32];
				if (get_str(c, v, "group strategy", sn, sizeof(sn)))
					return SW_EPARSE;
				if (strategy_kind_parse(sn, &sk, NULL) < 0)
					return yerr(c, v, "unknown strategy '%s'; valid for a group: canary, "
						    "fast-progressive, full", sn);
			}
			if ((v = get(gn, "steps"))) {
				if (sk == STRATEGY_FULL)
					return yerr(c, v, "strategy full has no steps");
				if (parse_steps(c, v, s, g))
					return SW_EPARSE;
			} else if (sub_strategy(c, gn, sk, s, g)) {
				return SW_EPARSE;
			}
			/* each group but the last ends at 100% and holds before the next group */
			if (g < ng - 1) {
				int64_t gh = ghold;
				if ((v = get(gn, "hold")) && get_dur(c, v, "group hold", &gh))
					return SW_EPARSE;
				if (strategy_add_step(s, g, 100, gh, NULL) < 0)
					return yerr(c, gn, "more than %d steps", STRATEGY_MAX_STEPS);
			}
		}
		break;
	}
	}
	if (kind != STRATEGY_CANARY && kind != STRATEGY_FAST_PROGRESSIVE && kind != STRATEGY_REGION_BY_REGION &&
	    get(spec, "steps") && kind != STRATEGY_FULL)
		return yerr(c, get(spec, "steps"), "steps apply to canary, fast-progressive and region groups");
	return 0;
}

/* The bytes libfyaml may see (core/yaml_text.h); FILE:LINE:COL errors. */
static int check_bytes(const char *file, const unsigned char *p, size_t len, struct strbuf *err)
{
	struct yaml_text_error e;
	if (yaml_text_check((const char *)p, len, &e) < 0) {
		strbuf_errf(err, "%s:%d:%d: %s", file, e.line, e.col, e.msg);
		return SW_EPARSE;
	}
	return 0;
}

static void quiet_output(struct fy_diag *diag, void *user, const char *buf, size_t len)
{
}

int rollout_config_parse(const char *buf, size_t len, const char *file, struct rollout_config *out,
			 struct strbuf *err)
{
	struct ycx c = { file ? file : "(config)", err, 0 };
	struct fy_diag_cfg dcfg;
	struct fy_diag *diag;
	struct fy_parse_cfg pcfg;
	struct fy_document *doc;
	struct fy_node *root, *v;
	struct rollout_config *cfg;
	char api[64] = "", kind[64] = "";
	int r = 0;

	if (!buf || len > ROLLOUT_CONFIG_MAX_BYTES) {
		strbuf_errf(err, "%s: larger than %d bytes", c.file, ROLLOUT_CONFIG_MAX_BYTES);
		return SW_ETOOBIG;
	}
	if ((r = check_bytes(c.file, (const unsigned char *)buf, len, err)) < 0)
		return r;
	fy_diag_cfg_default(&dcfg);
	dcfg.fp = NULL;
	dcfg.output_fn = quiet_output;
	dcfg.colorize = false;
	diag = fy_diag_create(&dcfg);
	if (!diag) {
		strbuf_errf(err, "%s: cannot set up the YAML parser", c.file);
		return SW_EPARSE;
	}
	fy_diag_set_collect_errors(diag, true);
	memset(&pcfg, 0, sizeof(pcfg));
	pcfg.flags = FYPCF_QUIET | FYPCF_DEFAULT_VERSION_AUTO;
	pcfg.diag = diag;
	doc = fy_document_build_from_string(&pcfg, buf, len);
	if (!doc) {
		void *it = NULL;
		struct fy_diag_error *de = fy_diag_errors_iterate(diag, &it);
		if (de)
			strbuf_errf(err, "%s:%d:%d: invalid YAML: %s", c.file, de->line, de->column,
				    de->msg ? de->msg : "syntax error");
		else
			strbuf_errf(err, "%s: invalid YAML", c.file);
		fy_diag_destroy(diag);
		return SW_EPARSE;
	}
	cfg = xcalloc(1, sizeof(*cfg));
	root = fy_document_root(doc);
	if (!root || fy_node_get_type(root) != FYNT_MAPPING) {
		r = yerr(&c, root, "expected a mapping with apiVersion and kind");
		goto out;
	}
	if ((r = check_map(&c, root, "the document", top_keys)))
		goto out;
	if ((v = get(root, "apiVersion")) && (r = get_str(&c, v, "apiVersion", api, sizeof(api))))
		goto out;
	if ((v = get(root, "kind")) && (r = get_str(&c, v, "kind", kind, sizeof(kind))))
		goto out;
	if ((r = parse_meta(&c, root, cfg)))
		goto out;
	if (!strncmp(api, "flagger.app/", 12) && !strcmp(kind, "Canary"))
		r = parse_flagger(&c, root, cfg);
	else if (!strcmp(api, "apps/v1") && !strcmp(kind, "Deployment"))
		r = parse_deployment(&c, root, cfg);
	else if (!strcmp(api, "slipway/v1") && !strcmp(kind, "Strategy"))
		r = parse_native(&c, root, cfg);
	else
		r = yerr(&c, get(root, "kind") ? get(root, "kind") : root,
			 "unknown apiVersion/kind '%s' '%s'; valid: flagger.app/v1beta1 Canary, apps/v1 Deployment, "
			 "slipway/v1 Strategy", api, kind);
	if (!r) {
		struct strbuf e = STRBUF_INIT;
		if (strategy_validate(&cfg->strategy, &e) < 0) {
			strbuf_errf(err, "%s: %s", c.file, e.buf);
			r = SW_ECONFIG;
		}
		strbuf_release(&e);
	}
	if (!r)
		*out = *cfg;
out:
	free(cfg);
	fy_document_destroy(doc);
	fy_diag_destroy(diag);
	return r;
}
