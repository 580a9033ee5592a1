/*
 * metric_template.c - Flagger MetricTemplate files and their rendering;
 * see metric_template.h and docs/argo.md ("Flagger MetricTemplate").
 *
 * The variables are checked when the template loads (a misspelt
 * {{ namspace }} is an error at the query's position) and filled when a
 * Canary metric points at the template.
 */
#include "core/metric_template.h"
#include "core/yaml_walk.h"
#include "base/alloc.h"
#include "base/err.h"
#include "base/strbuf.h"
#include "base/timeutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct mdoc {
	struct metric_template t;
	char api[64], kind[64], type[32];
	struct yaml_pos kind_at, spec_at, type_at, query_at, provider_at;
};

static const struct yaml_map provider_map = {
	.where = "spec.provider",
	.keys = (const struct yaml_key[]){
		{ "type", yaml_parse_buf, offsetof(struct mdoc, type), .size = 32, .at = YAML_AT(struct mdoc, type_at),
		  .flags = YAML_REQUIRED, .what = "provider.type", .hint = "(prometheus)" },
		{ "address", yaml_parse_buf, offsetof(struct mdoc, t.address), .size = 256, .what = "provider.address" },
		{ "secretRef", yaml_parse_ignore, 0 },
		{ "insecureSkipVerify", yaml_parse_ignore, 0 },
		{ "region", yaml_parse_ignore, 0 },
		{ NULL },
	},
};

static const struct yaml_map spec_map = {
	.where = "spec",
	.keys = (const struct yaml_key[]){
		{ "provider", yaml_parse_map, 0, .map = &provider_map, .at = YAML_AT(struct mdoc, provider_at),
		  .flags = YAML_REQUIRED, .hint = "({type: prometheus, address: http://127.0.0.1:9090})" },
		{ "query", yaml_parse_str, offsetof(struct mdoc, t.query), .size = METRIC_TEMPLATE_QUERY_MAX,
		  .at = YAML_AT(struct mdoc, query_at), .flags = YAML_REQUIRED, .what = "spec.query",
		  .hint = "(a PromQL expression)" },
		{ NULL },
	},
};

static const struct yaml_map meta_map = {
	.where = "metadata",
	.keys = (const struct yaml_key[]){
		{ "name", yaml_parse_buf, offsetof(struct mdoc, t.name), .size = 64, .what = "metadata.name" },
		{ "namespace", yaml_parse_buf, offsetof(struct mdoc, t.namespace_), .size = 64, .what = "metadata.namespace" },
		{ "labels", yaml_parse_ignore, 0 },
		{ "annotations", yaml_parse_ignore, 0 },
		{ NULL },
	},
};

static int keep_spec(struct yaml_walk *w, const struct yaml_key *k, struct fy_node *v, struct yaml_pos at, void *dst)
{
	struct mdoc *d = dst;
	(void)k;
	d->spec_at = at;
	return yaml_walk_map(w, v, at, &spec_map, NULL, d);
}

static const struct yaml_map top_map = {
	.where = "the document",
	.keys = (const struct yaml_key[]){
		{ "apiVersion", yaml_parse_buf, offsetof(struct mdoc, api), .size = 64 },
		{ "kind", yaml_parse_buf, offsetof(struct mdoc, kind), .size = 64, .at = YAML_AT(struct mdoc, kind_at) },
		{ "metadata", yaml_parse_map, 0, .map = &meta_map },
		{ "spec", keep_spec, 0 },
		{ NULL },
	},
};

/* The name inside "{{ NAME }}" starting at p (after "{{"): *name, *len; e
 * points at the closing "}}" or NULL. */
static const char *var_at(const char *p, const char **name, size_t *len)
{
	const char *e = strstr(p, "}}");
	if (!e)
		return NULL;
	while (*p == ' ')
		p++;
	*name = p;
	for (*len = 0; p + *len < e && p[*len] != ' '; (*len)++)
		;
	return e;
}

static int word_is(const char *s, size_t len, const char *w)
{
	return strlen(w) == len && !memcmp(s, w, len);
}

static int known_var(const char *n, size_t len)
{
	return word_is(n, len, "namespace") || word_is(n, len, "target") || word_is(n, len, "service") ||
	       word_is(n, len, "interval") || (len > 10 && !memcmp(n, "variables.", 10));
}

int metric_template_parse(const char *buf, size_t len, const char *file, struct metric_template *out,
			  struct strbuf *err)
{
	struct yaml_walk w;
	struct fy_node *root;
	struct mdoc *d;
	int r;

	if ((r = yaml_walk_open(&w, file ? file : "(template)", "a metric template", buf ? buf : "", buf ? len : 0,
				METRIC_TEMPLATE_MAX_BYTES, err, &root)) < 0)
		return r;
	d = xcalloc(1, sizeof(*d));
	if (!yaml_walk_is_mapping(root)) {
		r = yaml_walk_fail(&w, YAML_ROOT_POS, "expected a mapping with apiVersion and kind");
		goto out;
	}
	if ((r = yaml_walk_map(&w, root, YAML_ROOT_POS, &top_map, NULL, d)) < 0)
		goto out;
	if (strncmp(d->api, "flagger.app/", 12) || strcmp(d->kind, "MetricTemplate")) {
		r = yaml_walk_fail(&w, d->kind_at.line ? d->kind_at : YAML_ROOT_POS,
				   "unknown apiVersion/kind '%s' '%s'; valid: flagger.app/v1beta1 MetricTemplate", d->api,
				   d->kind);
		goto out;
	}
	if (!d->spec_at.line) {
		r = yaml_walk_fail(&w, YAML_ROOT_POS, "a MetricTemplate needs spec {provider, query}");
		goto out;
	}
	if (strcmp(d->type, "prometheus")) {
		r = yaml_walk_fail(&w, d->type_at, "provider.type '%s' is not supported; valid: prometheus", d->type);
		goto out;
	}
	for (const char *p = d->t.query; (p = strstr(p, "{{"));) {
		const char *n, *e;
		size_t l;
		if (!(e = var_at(p + 2, &n, &l))) {
			r = yaml_walk_fail(&w, d->query_at, "spec.query: '{{' is not closed with '}}'");
			goto out;
		}
		if (!known_var(n, l)) {
			r = yaml_walk_fail(&w, d->query_at, "spec.query: unknown variable '%.*s'; valid: namespace, target, "
					   "service, interval, variables.NAME", (int)(l > 60 ? 60 : l), n);
			goto out;
		}
		p = e + 2;
	}
	snprintf(d->t.provider, sizeof(d->t.provider), "prometheus");
	*out = d->t;
	d->t.query = NULL;
out:
	free(d->t.query);
	free(d);
	yaml_walk_close(&w);
	return r < 0 ? r : 0;
}

void metric_template_release(struct metric_template *t)
{
	if (!t)
		return;
	free(t->query);
	t->query = NULL;
}

int metric_template_matches(const struct metric_template *t, const struct flagger_template_ref *ref,
			    const char *canary_ns)
{
	const char *ns = ref->namespace_[0] ? ref->namespace_ : canary_ns ? canary_ns : "";
	if (strcmp(t->name, ref->name))
		return 0;
	return !t->namespace_[0] || !ns[0] || !strcmp(t->namespace_, ns);
}

int metric_template_render(const struct metric_template *t, const struct flagger_template_ref *ref, const char *ns,
			   const char *target, char **out, struct strbuf *err)
{
	struct strbuf sb = STRBUF_INIT;
	const char *p = t->query, *q;
	char dur[DURATION_BUFSZ];

	while ((q = strstr(p, "{{"))) {
		const char *n, *e;
		size_t l;
		strbuf_add(&sb, p, (size_t)(q - p));
		if (!(e = var_at(q + 2, &n, &l)) || !known_var(n, l)) {
			strbuf_errf(err, "template '%s': bad variable in the query", t->name);
			goto bad;
		}
		if (word_is(n, l, "namespace")) {
			strbuf_addstr(&sb, ns ? ns : "");
		} else if (word_is(n, l, "target") || word_is(n, l, "service")) {
			strbuf_addstr(&sb, target ? target : "");
		} else if (word_is(n, l, "interval")) {
			strbuf_addstr(&sb, duration_format(ref->interval_ms, dur));
		} else {
			int i;
			for (i = 0; i < ref->n_vars; i++)
				if (word_is(n + 10, l - 10, ref->var_names[i]))
					break;
			if (i == ref->n_vars) {
				strbuf_errf(err, "template '%s' needs variable '%.*s'; give it in metric '%s''s templateVariables",
					    t->name, (int)(l - 10), n + 10, ref->metric);
				goto bad;
			}
			strbuf_addstr(&sb, ref->var_values[i]);
		}
		p = e + 2;
	}
	strbuf_addstr(&sb, p);
	*out = strbuf_detach(&sb, NULL);
	return 0;
bad:
	strbuf_release(&sb);
	return SW_ECONFIG;
}

int flagger_threshold_check(const struct flagger_template_ref *ref, const double *values, size_t n, double *value,
			    struct strbuf *reason)
{
	double v = n ? values[0] : NAN;
	*value = v;
	if (!n) {
		strbuf_errf(reason, "no data: the query returned no values (a failed check, as Flagger)");
		return 0;
	}
	if (isnan(v)) {
		strbuf_errf(reason, "undefined: the query returned NaN (0/0); a failed check");
		return 0;
	}
	if (ref->has_min && v < ref->min) {
		strbuf_errf(reason, "%g is below thresholdRange.min %g", v, ref->min);
		return 0;
	}
	if (ref->has_max && v > ref->max) {
		strbuf_errf(reason, "%g is above thresholdRange.max %g", v, ref->max);
		return 0;
	}
	strbuf_errf(reason, "%g is within thresholdRange", v);
	return 1;
}
