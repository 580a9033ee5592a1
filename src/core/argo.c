/*
 * argo.c - Argo Rollouts' AnalysisTemplate / ClusterAnalysisTemplate and a
 * Rollout's canary steps; see argo.h and docs/argo.md.
 *
 * One key table per mapping on the shared walker (core/yaml_walk.h), as
 * the other rollout files.  Conditions are compiled when the file loads
 * (core/argo_expr.h), so an expression slipway cannot evaluate is a load
 * error at its position, never an Error measurement during a rollout.
 * Kubernetes fields of a Rollout that slipway has no use for (selector,
 * template, trafficRouting, ...) are accepted and ignored, as the Canary
 * loader does for Flagger's; strategies and step kinds it cannot honour
 * (blueGreen, experiment, setCanaryScale, header and mirror routes) are
 * refused naming what is supported.
 */
#include "core/argo.h"
#include "core/strategy.h"
#include "base/alloc.h"
#include "base/err.h"
#include "base/strbuf.h"
#include "base/timeutil.h"

#include <ctype.h>
#include <libfyaml.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_HOLD_MS (30 * MS_PER_DAY)

/* ---- templates ---- */

struct metric_doc {
	struct argo_metric m;
	struct yaml_pos name_at, success_at, failure_at, provider_at, query_at, count_at;
	int has_prometheus;
	struct fy_node *other_provider;
	char other_name[32];
	struct yaml_pos other_at;
	struct argo_template *t;
};

struct tdoc {
	struct argo_template t;
	char api[64];
	struct yaml_pos kind_at, spec_at;
	struct fy_node *spec;
};

/* "{{ args.NAME }}" occurrences: each NAME must be declared. */
static int check_arg_refs(struct yaml_walk *w, const struct argo_template *t, const char *q, struct yaml_pos at)
{
	const char *p = q;
	while ((p = strstr(p, "{{"))) {
		const char *e = strstr(p, "}}"), *n = p + 2;
		size_t len;
		int i;
		if (!e)
			return yaml_walk_fail(w, at, "query: '{{' at offset %zu is not closed with '}}'", (size_t)(p - q));
		while (*n == ' ')
			n++;
		if (strncmp(n, "args.", 5))
			return yaml_walk_fail(w, at, "query: '%.*s' is not an argument; valid: {{args.NAME}}",
					      (int)(e + 2 - p > 60 ? 60 : e + 2 - p), p);
		n += 5;
		for (len = 0; n + len < e && n[len] != ' '; len++)
			;
		for (i = 0; i < t->n_args; i++)
			if (strlen(t->args[i].name) == len && !memcmp(t->args[i].name, n, len))
				break;
		if (i == t->n_args)
			return yaml_walk_fail(w, at, "query: argument '%.*s' is not declared in spec.args", (int)len, n);
		p = e + 2;
	}
	return 0;
}

static int compile(struct yaml_walk *w, const char *what, const char *text, struct yaml_pos at, struct argo_expr **out)
{
	struct strbuf e = STRBUF_INIT;
	int col = 0, r;
	if (argo_expr_parse(text, out, &col, &e) < 0) {
		r = yaml_walk_fail(w, at, "%s '%.80s': %s", what, text, e.buf);
		strbuf_release(&e);
		return r;
	}
	return 0;
}

static const struct yaml_map prometheus_map = {
	.where = "provider.prometheus",
	.keys = (const struct yaml_key[]){
		{ "address", yaml_parse_buf, offsetof(struct metric_doc, m.address), .size = 256,
		  .what = "provider.prometheus.address" },
		{ "query", yaml_parse_str, offsetof(struct metric_doc, m.query), .size = ARGO_QUERY_MAX,
		  .at = YAML_AT(struct metric_doc, query_at), .flags = YAML_REQUIRED, .what = "provider.prometheus.query",
		  .hint = "(a PromQL expression)" },
		{ "timeout", yaml_parse_int, offsetof(struct metric_doc, m.timeout_ms), 1, 3600,
		  .what = "provider.prometheus.timeout (seconds)" },
		{ "insecure", yaml_parse_ignore, 0 },
		{ "headers", yaml_parse_ignore, 0 },
		{ "authentication", yaml_parse_ignore, 0 },
		{ "rangeQuery", yaml_parse_ignore, 0 },
		{ NULL },
	},
};

static int parse_prometheus(struct yaml_walk *w, const struct yaml_key *k, struct fy_node *v, struct yaml_pos at,
			    void *dst)
{
	struct metric_doc *d = dst;
	int r;
	(void)k;
	d->has_prometheus = 1;
	if ((r = yaml_walk_map(w, v, at, &prometheus_map, NULL, d)) < 0)
		return r;
	d->m.timeout_ms *= MS_PER_SEC;	/* Argo: seconds */
	return 0;
}

/* Argo's other providers: named in the refusal. */
static int other_provider(struct yaml_walk *w, const struct yaml_key *k, struct fy_node *v, struct yaml_pos at,
			  void *dst)
{
	(void)v;
	(void)dst;
	return yaml_walk_fail(w, at, "provider '%s' is not supported; valid: prometheus", k->name);
}

static const struct yaml_map provider_map = {
	.where = "provider",
	.keys = (const struct yaml_key[]){
		{ "prometheus", parse_prometheus, 0 },
		{ "web", other_provider, 0 }, { "datadog", other_provider, 0 }, { "newRelic", other_provider, 0 },
		{ "wavefront", other_provider, 0 }, { "kayenta", other_provider, 0 }, { "job", other_provider, 0 },
		{ "cloudWatch", other_provider, 0 }, { "graphite", other_provider, 0 },
		{ "influxdb", other_provider, 0 }, { "skywalking", other_provider, 0 },
		{ "plugin", other_provider, 0 },
		{ NULL },
	},
};

static int check_metric(struct yaml_walk *w, void *obj, struct yaml_pos at)
{
	struct metric_doc *d = obj;
	struct argo_metric *m = &d->m;
	int r;

	if (!d->has_prometheus)
		return yaml_walk_fail(w, d->provider_at.line ? d->provider_at : at,
				      "metric '%s' needs provider.prometheus {address, query}", m->name);
	if ((r = check_arg_refs(w, d->t, m->query, d->query_at)) < 0)
		return r;
	if (m->success && (r = compile(w, "successCondition", m->success, d->success_at, &m->success_e)) < 0)
		return r;
	if (m->failure && (r = compile(w, "failureCondition", m->failure, d->failure_at, &m->failure_e)) < 0)
		return r;
	for (int i = 0; i < d->t->n_metrics; i++)
		if (!strcmp(d->t->metrics[i].name, m->name))
			return yaml_walk_fail(w, d->name_at, "metric '%s' is given twice", m->name);
	/* Argo: with no count and no interval, one measurement */
	if (m->limits.count == 0 && m->interval_ms == 0)
		m->limits.count = 1;
	return 0;
}

static const struct yaml_map metric_map = {
	.where = "a metric",
	.keys = (const struct yaml_key[]){
		{ "name", yaml_parse_buf, offsetof(struct metric_doc, m.name), .size = ARGO_NAME_MAX,
		  .at = YAML_AT(struct metric_doc, name_at), .flags = YAML_REQUIRED, .what = "metric name",
		  .hint = "(for example success-rate)" },
		{ "interval", yaml_parse_duration, offsetof(struct metric_doc, m.interval_ms), 1000, MAX_HOLD_MS,
		  .what = "metric interval" },
		{ "initialDelay", yaml_parse_duration, offsetof(struct metric_doc, m.initial_delay_ms), 0, MAX_HOLD_MS,
		  .what = "initialDelay" },
		{ "count", yaml_parse_int, offsetof(struct metric_doc, m.limits.count), 0, 100000,
		  .at = YAML_AT(struct metric_doc, count_at) },
		{ "failureLimit", yaml_parse_int, offsetof(struct metric_doc, m.limits.failure_limit), -1, 100000 },
		{ "inconclusiveLimit", yaml_parse_int, offsetof(struct metric_doc, m.limits.inconclusive_limit), 0, 100000 },
		{ "consecutiveErrorLimit", yaml_parse_int, offsetof(struct metric_doc, m.limits.consecutive_error_limit), 0,
		  100000 },
		{ "successCondition", yaml_parse_str, offsetof(struct metric_doc, m.success), .size = ARGO_EXPR_MAX_LEN,
		  .at = YAML_AT(struct metric_doc, success_at) },
		{ "failureCondition", yaml_parse_str, offsetof(struct metric_doc, m.failure), .size = ARGO_EXPR_MAX_LEN,
		  .at = YAML_AT(struct metric_doc, failure_at) },
		{ "provider", yaml_parse_map, 0, .map = &provider_map, .at = YAML_AT(struct metric_doc, provider_at) },
		{ NULL },
	},
	.check = check_metric,
};

static void metric_release(struct argo_metric *m)
{
	free(m->success);
	free(m->failure);
	free(m->query);
	argo_expr_free(m->success_e);
	argo_expr_free(m->failure_e);
	memset(m, 0, sizeof(*m));
}

static int add_metric(struct yaml_walk *w, struct fy_node *item, struct yaml_pos at, void *ctx)
{
	struct argo_template *t = ctx;
	struct metric_doc d;
	int r;

	if (t->n_metrics >= ARGO_MAX_METRICS)
		return yaml_walk_fail(w, at, "more than %d metrics", ARGO_MAX_METRICS);
	memset(&d, 0, sizeof(d));
	d.t = t;
	d.m.limits.consecutive_error_limit = 4;	/* Argo's default */
	if ((r = yaml_walk_map(w, item, at, &metric_map, NULL, &d)) < 0) {
		metric_release(&d.m);
		return r;
	}
	t->metrics[t->n_metrics++] = d.m;
	return 0;
}

static int check_arg(struct yaml_walk *w, void *obj, struct yaml_pos at)
{
	struct argo_arg *a = obj;
	(void)w;
	(void)at;
	if (a->from_ref)
		a->has_value = 0;	/* resolved by slipway when the analysis runs (docs/argo.md) */
	return 0;
}

static int parse_value(struct yaml_walk *w, const struct yaml_key *k, struct fy_node *v, struct yaml_pos at, void *dst)
{
	struct argo_arg *a = dst;
	int r = yaml_parse_buf(w, k, v, at, a->value);
	if (r >= 0)
		a->has_value = 1;
	return r;
}

static int parse_value_from(struct yaml_walk *w, const struct yaml_key *k, struct fy_node *v, struct yaml_pos at,
			    void *dst)
{
	struct fy_node *h = v && fy_node_is_mapping(v) ? fy_node_mapping_lookup_by_string(v, "podTemplateHashValue", -1) :
			    NULL;
	const char *t;
	size_t len = 0;
	(void)k;
	(void)w;
	(void)at;
	/* podTemplateHashValue names a revision: Latest the new one, Stable the one serving;
	   fieldRef and secretKeyRef have no Kubernetes to read from (docs/argo.md) */
	((struct argo_arg *)dst)->from_ref = ARGO_FROM_OTHER;
	if (h && (t = fy_node_get_scalar(h, &len)) != NULL)
		((struct argo_arg *)dst)->from_ref = len == 6 && !memcmp(t, "Stable", 6) ? ARGO_FROM_STABLE :
						      ARGO_FROM_LATEST;
	return 0;
}

static const struct yaml_map arg_map = {
	.where = "an argument",
	.keys = (const struct yaml_key[]){
		{ "name", yaml_parse_buf, offsetof(struct argo_arg, name), .size = ARGO_NAME_MAX, .flags = YAML_REQUIRED,
		  .what = "argument name", .hint = "(for example service-name)" },
		{ "value", parse_value, 0, .size = ARGO_VALUE_MAX, .what = "argument value" },
		{ "valueFrom", parse_value_from, 0 },
		{ NULL },
	},
	.check = check_arg,
};

struct args_ctx {
	struct argo_arg *args;
	int *n;
};

static int add_arg(struct yaml_walk *w, struct fy_node *item, struct yaml_pos at, void *ctx)
{
	struct args_ctx *c = ctx;
	struct argo_arg a;
	int r;
	if (*c->n >= ARGO_MAX_ARGS)
		return yaml_walk_fail(w, at, "more than %d arguments", ARGO_MAX_ARGS);
	memset(&a, 0, sizeof(a));
	if ((r = yaml_walk_map(w, item, at, &arg_map, NULL, &a)) < 0)
		return r;
	for (int i = 0; i < *c->n; i++)
		if (!strcmp(c->args[i].name, a.name))
			return yaml_walk_fail(w, at, "argument '%s' is given twice", a.name);
	c->args[(*c->n)++] = a;
	return 0;
}

static int parse_metrics(struct yaml_walk *w, const struct yaml_key *k, struct fy_node *v, struct yaml_pos at,
			 void *dst)
{
	(void)k;
	return yaml_walk_items(w, v, at, "spec.metrics", ARGO_MAX_METRICS + 1, add_metric, dst);
}

static const struct yaml_map tspec_map = {
	.where = "spec",
	.keys = (const struct yaml_key[]){
		/* read before this table (argo_template_parse): the queries name them */
		{ "args", yaml_parse_ignore, 0 },
		{ "metrics", parse_metrics, offsetof(struct tdoc, t), .flags = YAML_REQUIRED,
		  .hint = "(a list of metrics with provider.prometheus)" },
		{ "dryRun", yaml_parse_ignore, 0 },
		{ "measurementRetention", yaml_parse_ignore, 0 },
		{ NULL },
	},
};

static const struct yaml_map tmeta_map = {
	.where = "metadata",
	.keys = (const struct yaml_key[]){
		{ "name", yaml_parse_buf, offsetof(struct tdoc, t.name), .size = ARGO_NAME_MAX, .what = "metadata.name" },
		{ "namespace", yaml_parse_buf, offsetof(struct tdoc, t.namespace_), .size = ARGO_NAME_MAX,
		  .what = "metadata.namespace" },
		{ "labels", yaml_parse_ignore, 0 },
		{ "annotations", yaml_parse_ignore, 0 },
		{ NULL },
	},
};

static int keep_tspec(struct yaml_walk *w, const struct yaml_key *k, struct fy_node *v, struct yaml_pos at, void *dst)
{
	struct tdoc *d = dst;
	(void)w;
	(void)k;
	d->spec = v;
	d->spec_at = at;
	return 0;
}

static const struct yaml_map ttop_map = {
	.where = "the document",
	.keys = (const struct yaml_key[]){
		{ "apiVersion", yaml_parse_buf, offsetof(struct tdoc, api), .size = 64 },
		{ "kind", yaml_parse_buf, offsetof(struct tdoc, t.kind), .size = 32, .at = YAML_AT(struct tdoc, kind_at) },
		{ "metadata", yaml_parse_map, 0, .map = &tmeta_map },
		{ "spec", keep_tspec, 0 },
		{ NULL },
	},
};

void argo_template_release(struct argo_template *t)
{
	if (!t)
		return;
	for (int i = 0; i < t->n_metrics; i++)
		metric_release(&t->metrics[i]);
	t->n_metrics = 0;
}

int argo_template_parse(const char *buf, size_t len, const char *file, struct argo_template *out,
			struct strbuf *err)
{
	struct yaml_walk w;
	struct fy_node *root, *args;
	struct yaml_pos args_at;
	struct tdoc *d;
	int r;

	if ((r = yaml_walk_open(&w, file ? file : "(template)", "an analysis template", buf ? buf : "", buf ? len : 0,
				ARGO_FILE_MAX_BYTES, err, &root)) < 0)
		return r;
	d = xcalloc(1, sizeof(*d));
	if (!yaml_walk_is_mapping(root)) {
		r = yaml_walk_fail(&w, YAML_ROOT_POS, "expected a mapping with apiVersion and kind");
		goto out;
	}
	if ((r = yaml_walk_map(&w, root, YAML_ROOT_POS, &ttop_map, NULL, d)) < 0)
		goto out;
	if (strncmp(d->api, "argoproj.io/", 12) ||
	    (strcmp(d->t.kind, "AnalysisTemplate") && strcmp(d->t.kind, "ClusterAnalysisTemplate"))) {
		r = yaml_walk_fail(&w, d->kind_at.line ? d->kind_at : YAML_ROOT_POS,
				   "unknown apiVersion/kind '%s' '%s'; valid: argoproj.io/v1alpha1 AnalysisTemplate, "
				   "argoproj.io/v1alpha1 ClusterAnalysisTemplate", d->api, d->t.kind);
		goto out;
	}
	if (!d->spec_at.line) {
		r = yaml_walk_fail(&w, YAML_ROOT_POS, "an %s needs spec", d->t.kind);
		goto out;
	}
	/* args before metrics, whatever their order in the file: the queries name them */
	if (!yaml_walk_is_mapping(d->spec)) {
		r = yaml_walk_fail(&w, d->spec_at, "spec must be a mapping of keys to values, found %s",
				   yaml_walk_kind(d->spec));
		goto out;
	}
	if ((args = yaml_walk_lookup(d->spec, "args", &args_at))) {
		struct args_ctx c = { d->t.args, &d->t.n_args };
		if ((r = yaml_walk_items(&w, args, args_at, "spec.args", ARGO_MAX_ARGS + 1, add_arg, &c)) < 0)
			goto out;
	}
	r = yaml_walk_map(&w, d->spec, d->spec_at, &tspec_map, NULL, d);
	if (r >= 0 && d->t.n_metrics == 0)
		r = yaml_walk_fail(&w, d->spec_at, "spec.metrics is empty; an analysis needs at least one metric");
	if (r >= 0) {
		*out = d->t;
		memset(&d->t, 0, sizeof(d->t));
	}
out:
	argo_template_release(&d->t);
	free(d);
	yaml_walk_close(&w);
	return r < 0 ? r : 0;
}

static const struct argo_arg *find_arg(const struct argo_arg *args, int n, const char *name, size_t len)
{
	for (int i = 0; i < n; i++)
		if (strlen(args[i].name) == len && !memcmp(args[i].name, name, len))
			return &args[i];
	return NULL;
}

int argo_render(const char *query, const struct argo_template *t, const struct argo_arg *given, int n_given,
		char **out, struct strbuf *err)
{
	struct strbuf sb = STRBUF_INIT;
	const char *p = query, *q;

	while ((q = strstr(p, "{{"))) {
		const char *e = strstr(q, "}}"), *n = q + 2;
		const struct argo_arg *a, *g;
		size_t len;
		strbuf_add(&sb, p, (size_t)(q - p));
		if (!e)
			goto bad_ref;
		while (*n == ' ')
			n++;
		if (strncmp(n, "args.", 5))
			goto bad_ref;
		n += 5;
		for (len = 0; n + len < e && n[len] != ' '; len++)
			;
		a = find_arg(t->args, t->n_args, n, len);
		g = find_arg(given, n_given, n, len);
		if (g && g->from_ref) {
			/* valueFrom: filled when the analysis runs (docs/argo.md) */
			strbuf_add(&sb, q, (size_t)(e + 2 - q));
			p = e + 2;
			continue;
		}
		if (g && g->has_value)
			a = g;
		if (!a || !a->has_value) {
			strbuf_errf(err, "argument '%.*s' has no value; give it in the Rollout's analysis args", (int)len, n);
			strbuf_release(&sb);
			return SW_ECONFIG;
		}
		strbuf_addstr(&sb, a->value);
		p = e + 2;
	}
	strbuf_addstr(&sb, p);
	if (sb.len > ARGO_QUERY_MAX) {
		strbuf_errf(err, "the rendered query is longer than %d bytes", ARGO_QUERY_MAX);
		strbuf_release(&sb);
		return SW_ECONFIG;
	}
	*out = strbuf_detach(&sb, NULL);
	return 0;
bad_ref:
	strbuf_errf(err, "query: '{{' without a valid {{args.NAME}}");
	strbuf_release(&sb);
	return SW_ECONFIG;
}

/* ---- Rollout ---- */

struct rodoc {
	struct strategy *s;
	struct argo_rollout *ro;
	double weight;		/* current canary weight */
	int pending;		/* a setWeight not yet held by a step */
	int steps_given;
	struct yaml_pos steps_at, bg_at;
};

struct step_doc {
	int set_weight;
	struct yaml_pos weight_at, pause_at, analysis_at, other_at;
	const char *other;
	int64_t duration_ms;
	struct yaml_pos duration_at;
	struct argo_analysis_ref an;
};

/* Argo's pause duration: a Go duration ("30s", "1h") or a number of seconds. */
static int parse_pause_duration(struct yaml_walk *w, const struct yaml_key *k, struct fy_node *v, struct yaml_pos at,
				void *dst)
{
	static const struct yaml_key dk = { "pause.duration", yaml_parse_duration, 0, 0, MAX_HOLD_MS };
	char *s = NULL;
	int r = yaml_walk_scalar(w, v, at, "pause.duration", 32, &s);
	(void)k;
	if (r < 0)
		return r;
	if (*s && strspn(s, "0123456789") == strlen(s)) {
		static const struct yaml_key ik = { "pause.duration (seconds)", yaml_parse_int, 0, 0, 30 * 86400 };
		int sec = 0;
		if ((r = yaml_parse_int(w, &ik, v, at, &sec)) >= 0)
			*(int64_t *)dst = sec * MS_PER_SEC;
	} else {
		r = yaml_parse_duration(w, &dk, v, at, dst);
	}
	free(s);
	return r;
}

static const struct yaml_map pause_map = {
	.where = "pause",
	.keys = (const struct yaml_key[]){
		{ "duration", parse_pause_duration, offsetof(struct step_doc, duration_ms),
		  .at = YAML_AT(struct step_doc, duration_at) },
		{ NULL },
	},
};

static int add_template_ref(struct yaml_walk *w, struct fy_node *item, struct yaml_pos at, void *ctx);
static int add_rollout_arg(struct yaml_walk *w, struct fy_node *item, struct yaml_pos at, void *ctx)
{
	struct argo_analysis_ref *an = ctx;
	struct args_ctx c = { an->args, &an->n_args };
	return add_arg(w, item, at, &c);
}

static int parse_an_templates(struct yaml_walk *w, const struct yaml_key *k, struct fy_node *v, struct yaml_pos at,
			      void *dst)
{
	(void)k;
	return yaml_walk_items(w, v, at, "analysis.templates", ARGO_MAX_TEMPLATES + 1, add_template_ref, dst);
}

static int parse_an_args(struct yaml_walk *w, const struct yaml_key *k, struct fy_node *v, struct yaml_pos at,
			 void *dst)
{
	(void)k;
	return yaml_walk_items(w, v, at, "analysis.args", ARGO_MAX_ARGS + 1, add_rollout_arg, dst);
}

struct tref_doc {
	char name[ARGO_NAME_MAX];
	int cluster;
};

static const struct yaml_map tref_map = {
	.where = "a template reference",
	.keys = (const struct yaml_key[]){
		{ "templateName", yaml_parse_buf, offsetof(struct tref_doc, name), .size = ARGO_NAME_MAX,
		  .flags = YAML_REQUIRED, .hint = "(the AnalysisTemplate's metadata.name)" },
		{ "clusterScope", yaml_parse_bool, offsetof(struct tref_doc, cluster) },
		{ NULL },
	},
};

static int add_template_ref(struct yaml_walk *w, struct fy_node *item, struct yaml_pos at, void *ctx)
{
	struct argo_analysis_ref *an = ctx;
	struct tref_doc t;
	int r;
	if (an->n_templates >= ARGO_MAX_TEMPLATES)
		return yaml_walk_fail(w, at, "more than %d templates in one analysis", ARGO_MAX_TEMPLATES);
	memset(&t, 0, sizeof(t));
	if ((r = yaml_walk_map(w, item, at, &tref_map, NULL, &t)) < 0)
		return r;
	memcpy(an->templates[an->n_templates], t.name, sizeof(t.name));
	an->cluster[an->n_templates++] = t.cluster;
	return 0;
}

static int check_analysis(struct yaml_walk *w, void *obj, struct yaml_pos at)
{
	struct argo_analysis_ref *an = obj;
	if (an->n_templates == 0)
		return yaml_walk_fail(w, at, "analysis needs templates: [{templateName: NAME}]");
	return 0;
}

static const struct yaml_map analysis_map = {
	.where = "analysis",
	.keys = (const struct yaml_key[]){
		{ "templates", parse_an_templates, 0, .flags = YAML_REQUIRED, .hint = "([{templateName: NAME}])" },
		{ "args", parse_an_args, 0 },
		{ "dryRun", yaml_parse_ignore, 0 },
		{ "measurementRetention", yaml_parse_ignore, 0 },
		{ "startingStep", yaml_parse_ignore, 0 },
		{ "analysisRunMetadata", yaml_parse_ignore, 0 },
		{ NULL },
	},
	.check = check_analysis,
};

static int parse_step_analysis(struct yaml_walk *w, const struct yaml_key *k, struct fy_node *v, struct yaml_pos at,
			       void *dst)
{
	(void)k;
	return yaml_walk_map(w, v, at, &analysis_map, NULL, &((struct step_doc *)dst)->an);
}

static int unsupported_step(struct yaml_walk *w, const struct yaml_key *k, struct fy_node *v, struct yaml_pos at,
			    void *dst)
{
	(void)v;
	(void)dst;
	return yaml_walk_fail(w, at, "step '%s' is not supported; slipway imports setWeight, pause and analysis steps",
			      k->name);
}

static const struct yaml_map step_map = {
	.where = "a step",
	.keys = (const struct yaml_key[]){
		{ "setWeight", yaml_parse_int, offsetof(struct step_doc, set_weight), 0, 100,
		  .at = YAML_AT(struct step_doc, weight_at) },
		{ "pause", yaml_parse_map, 0, .map = &pause_map, .at = YAML_AT(struct step_doc, pause_at) },
		{ "analysis", parse_step_analysis, 0, .at = YAML_AT(struct step_doc, analysis_at) },
		{ "experiment", unsupported_step, 0 },
		{ "setCanaryScale", unsupported_step, 0 },
		{ "setHeaderRoute", unsupported_step, 0 },
		{ "setMirrorRoute", unsupported_step, 0 },
		{ "plugin", unsupported_step, 0 },
		{ NULL },
	},
};

static int emit(struct yaml_walk *w, struct rodoc *d, int64_t hold_ms, struct yaml_pos at)
{
	if (strategy_add_step(d->s, 0, d->weight, hold_ms, NULL) < 0)
		return yaml_walk_fail(w, at, "more than %d steps", STRATEGY_MAX_STEPS);
	d->pending = 0;
	return 0;
}

static int add_rollout_step(struct yaml_walk *w, struct fy_node *item, struct yaml_pos at, void *ctx)
{
	struct rodoc *d = ctx;
	struct step_doc sd;
	int r, kinds;

	memset(&sd, 0, sizeof(sd));
	if ((r = yaml_walk_map(w, item, at, &step_map, NULL, &sd)) < 0)
		return r;
	kinds = !!sd.weight_at.line + !!sd.pause_at.line + !!sd.analysis_at.line;
	if (kinds != 1)
		return yaml_walk_fail(w, at, "a step holds exactly one of setWeight, pause, analysis (found %d)", kinds);
	d->steps_given++;
	if (sd.weight_at.line) {
		if (sd.set_weight < d->weight)
			return yaml_walk_fail(w, sd.weight_at, "setWeight %d is below the weight before it (%g); slipway's "
					      "canary weights never decrease", sd.set_weight, d->weight);
		if (d->pending && (r = emit(w, d, 0, at)) < 0)	/* two setWeights in a row */
			return r;
		d->weight = sd.set_weight;
		d->pending = 1;
		return 0;
	}
	if (sd.pause_at.line) {
		if (sd.duration_at.line)
			return emit(w, d, sd.duration_ms, at);
		if (d->ro->n_manual >= (int)(sizeof(d->ro->manual) / sizeof(d->ro->manual[0])))
			return yaml_walk_fail(w, at, "more than %zu indefinite pauses",
					      sizeof(d->ro->manual) / sizeof(d->ro->manual[0]));
		/* indefinite: held until a person promotes (the longest hold a file may give) */
		d->ro->manual[d->ro->n_manual++] = d->s->n_steps;
		return emit(w, d, MAX_HOLD_MS, at);
	}
	if (d->ro->n_analyses >= ARGO_MAX_ANALYSES)
		return yaml_walk_fail(w, at, "more than %d analysis steps", ARGO_MAX_ANALYSES);
	sd.an.step = d->s->n_steps;
	d->ro->analyses[d->ro->n_analyses++] = sd.an;
	return emit(w, d, 0, at);
}

static int parse_steps(struct yaml_walk *w, const struct yaml_key *k, struct fy_node *v, struct yaml_pos at, void *dst)
{
	struct rodoc *d = dst;
	(void)k;
	d->steps_at = at;
	return yaml_walk_items(w, v, at, "canary.steps", STRATEGY_MAX_STEPS + 1, add_rollout_step, d);
}

static int parse_background(struct yaml_walk *w, const struct yaml_key *k, struct fy_node *v, struct yaml_pos at,
			    void *dst)
{
	struct rodoc *d = dst;
	struct argo_analysis_ref an;
	int r;
	(void)k;
	memset(&an, 0, sizeof(an));
	an.step = -1;
	if ((r = yaml_walk_map(w, v, at, &analysis_map, "canary.analysis", &an)) < 0)
		return r;
	if (d->ro->n_analyses >= ARGO_MAX_ANALYSES)
		return yaml_walk_fail(w, at, "more than %d analyses", ARGO_MAX_ANALYSES);
	d->ro->analyses[d->ro->n_analyses++] = an;
	return 0;
}

static const struct yaml_map canary_map = {
	.where = "spec.strategy.canary",
	.keys = (const struct yaml_key[]){
		{ "steps", parse_steps, 0 },
		{ "analysis", parse_background, 0 },
		{ "canaryService", yaml_parse_ignore, 0 },
		{ "stableService", yaml_parse_ignore, 0 },
		{ "trafficRouting", yaml_parse_ignore, 0 },
		{ "maxSurge", yaml_parse_ignore, 0 },
		{ "maxUnavailable", yaml_parse_ignore, 0 },
		{ "canaryMetadata", yaml_parse_ignore, 0 },
		{ "stableMetadata", yaml_parse_ignore, 0 },
		{ "scaleDownDelaySeconds", yaml_parse_ignore, 0 },
		{ "scaleDownDelayRevisionLimit", yaml_parse_ignore, 0 },
		{ "abortScaleDownDelaySeconds", yaml_parse_ignore, 0 },
		{ "dynamicStableScale", yaml_parse_ignore, 0 },
		{ "antiAffinity", yaml_parse_ignore, 0 },
		{ "pingPong", yaml_parse_ignore, 0 },
		{ "minPodsPerReplicaSet", yaml_parse_ignore, 0 },
		{ "replicaProgressThreshold", yaml_parse_ignore, 0 },
		{ NULL },
	},
};

static int parse_canary(struct yaml_walk *w, const struct yaml_key *k, struct fy_node *v, struct yaml_pos at, void *dst)
{
	(void)k;
	return yaml_walk_map(w, v, at, &canary_map, NULL, dst);
}

static int blue_green(struct yaml_walk *w, const struct yaml_key *k, struct fy_node *v, struct yaml_pos at, void *dst)
{
	(void)k;
	(void)v;
	(void)dst;
	return yaml_walk_fail(w, at, "strategy blueGreen of a Rollout is not imported; valid: canary (for blue-green use "
			      "a slipway/v1 Strategy with strategy: blue-green)");
}

static const struct yaml_map rstrategy_map = {
	.where = "spec.strategy",
	.keys = (const struct yaml_key[]){
		{ "canary", parse_canary, 0, .flags = YAML_REQUIRED, .hint = "(with steps)" },
		{ "blueGreen", blue_green, 0 },
		{ NULL },
	},
};

static int parse_deadline(struct yaml_walk *w, const struct yaml_key *k, struct fy_node *v, struct yaml_pos at,
			  void *dst)
{
	struct rodoc *d = dst;
	int sec = 0, r = yaml_parse_int(w, k, v, at, &sec);
	if (r >= 0)
		d->s->progress_deadline_ms = sec * MS_PER_SEC;
	return r;
}

static const struct yaml_map rspec_map = {
	.where = "spec",
	.keys = (const struct yaml_key[]){
		{ "strategy", yaml_parse_map, 0, .map = &rstrategy_map, .flags = YAML_REQUIRED,
		  .hint = "(canary: {steps: [...]})" },
		{ "progressDeadlineSeconds", parse_deadline, 0, 1, 30 * 86400 },
		{ "replicas", yaml_parse_ignore, 0 },
		{ "selector", yaml_parse_ignore, 0 },
		{ "template", yaml_parse_ignore, 0 },
		{ "workloadRef", yaml_parse_ignore, 0 },
		{ "minReadySeconds", yaml_parse_ignore, 0 },
		{ "revisionHistoryLimit", yaml_parse_ignore, 0 },
		{ "paused", yaml_parse_ignore, 0 },
		{ "progressDeadlineAbort", yaml_parse_ignore, 0 },
		{ "restartAt", yaml_parse_ignore, 0 },
		{ "rollbackWindow", yaml_parse_ignore, 0 },
		{ NULL },
	},
};

int argo__rollout_spec(struct yaml_walk *w, struct fy_node *spec, struct yaml_pos at, struct strategy *s,
		       struct argo_rollout *ro)
{
	struct rodoc d;
	int r;

	memset(&d, 0, sizeof(d));
	d.s = s;
	d.ro = ro;
	memset(ro, 0, sizeof(*ro));
	s->kind = STRATEGY_CANARY;
	s->n_steps = 0;
	strategy_analysis_defaults(s);
	if ((r = yaml_walk_map(w, spec, at, &rspec_map, NULL, &d)) < 0)
		return r;
	if (d.pending && (r = emit(w, &d, 0, d.steps_at)) < 0)
		return r;
	if (s->n_steps == 0)
		s->kind = STRATEGY_FULL;	/* Argo: a canary without steps goes to 100% at once */
	return 0;
}
