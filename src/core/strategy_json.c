/*
 * strategy_json.c - struct strategy <-> JSON; see strategy_json.h.  Steps
 * are arrays [group, weight, hold_ms, new, old, idle] to keep long rolling
 * updates small in the store.
 */
#include "core/strategy_json.h"
#include "base/alloc.h"
#include "base/err.h"
#include "base/strbuf.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

json_t *strategy_to_json(const struct strategy *s)
{
	json_t *j = json_object(), *steps = json_array(), *groups = json_array(), *checks = json_array(),
	       *hooks = json_array();

	json_object_set_new(j, "kind", json_string(strategy_kind_name(s->kind)));
	json_object_set_new(j, "interval_ms", json_integer(s->interval_ms));
	json_object_set_new(j, "threshold", json_integer(s->threshold));
	json_object_set_new(j, "progress_deadline_ms", json_integer(s->progress_deadline_ms));
	json_object_set_new(j, "min_requests", json_integer((json_int_t)s->min_requests));
	json_object_set_new(j, "replicas", json_integer(s->replicas));
	json_object_set_new(j, "max_surge", json_integer(s->max_surge));
	json_object_set_new(j, "max_unavailable", json_integer(s->max_unavailable));
	json_object_set_new(j, "group_hold_ms", json_integer(s->group_hold_ms));
	for (int i = 0; i < s->n_groups; i++)
		json_array_append_new(groups, json_string(s->groups[i]));
	json_object_set_new(j, "groups", groups);
	for (int i = 0; i < s->n_steps; i++) {
		const struct rollout_step *st = &s->steps[i];
		json_array_append_new(steps, json_pack("[i,f,I,i,i,i]", st->group, st->weight, (json_int_t)st->hold_ms,
						       st->new_instances, st->old_instances, st->idle));
	}
	json_object_set_new(j, "steps", steps);
	for (int i = 0; i < s->n_checks; i++) {
		const struct analysis_check *c = &s->checks[i];
		json_t *o = json_pack("{s:s,s:i,s:I}", "name", c->name, "metric", (int)c->metric, "interval_ms",
				      (json_int_t)c->interval_ms);
		if (c->has_min)
			json_object_set_new(o, "min", json_real(c->min));
		if (c->has_max)
			json_object_set_new(o, "max", json_real(c->max));
		json_array_append_new(checks, o);
	}
	json_object_set_new(j, "checks", checks);
	for (int i = 0; i < s->n_webhooks; i++) {
		const struct webhook *w = &s->webhooks[i];
		json_array_append_new(hooks, json_pack("{s:s,s:s,s:s,s:I}", "name", w->name, "type",
						       webhook_type_name(w->type), "url", w->url, "timeout_ms",
						       (json_int_t)w->timeout_ms));
	}
	json_object_set_new(j, "webhooks", hooks);
	return j;
}

static int bad(struct strbuf *err, const char *what)
{
	strbuf_errf(err, "stored strategy: bad or missing '%s'", what);
	return SW_EPARSE;
}

static void copy_str(char *dst, size_t n, const char *src)
{
	size_t l = strlen(src);
	if (l >= n)
		l = n - 1;
	memcpy(dst, src, l);
	dst[l] = '\0';
}

int strategy_from_json(json_t *j, struct strategy *out, struct strbuf *err)
{
	struct strategy *s = xcalloc(1, sizeof(*s));
	json_t *v, *e;
	size_t i;
	const char *kind;
	json_int_t mr = 0;
	int r = SW_EPARSE;

	if (!json_is_object(j) || !(kind = json_string_value(json_object_get(j, "kind"))) ||
	    strategy_kind_parse(kind, &s->kind, NULL) < 0) {
		r = bad(err, "kind");
		goto out;
	}
	if (json_unpack(j, "{s:I,s:i,s:I,s:I,s:i,s:i,s:i,s:I}", "interval_ms", &s->interval_ms, "threshold",
			&s->threshold, "progress_deadline_ms", &s->progress_deadline_ms, "min_requests", &mr,
			"replicas", &s->replicas, "max_surge", &s->max_surge, "max_unavailable",
			&s->max_unavailable, "group_hold_ms", &s->group_hold_ms) < 0 || mr < 0) {
		r = bad(err, "analysis settings");
		goto out;
	}
	s->min_requests = (uint64_t)mr;
	v = json_object_get(j, "groups");
	if (!json_is_array(v) || json_array_size(v) > STRATEGY_MAX_GROUPS) {
		r = bad(err, "groups");
		goto out;
	}
	json_array_foreach(v, i, e) {
		if (!json_is_string(e)) {
			r = bad(err, "groups");
			goto out;
		}
		copy_str(s->groups[s->n_groups++], sizeof(s->groups[0]), json_string_value(e));
	}
	v = json_object_get(j, "steps");
	if (!json_is_array(v) || json_array_size(v) > STRATEGY_MAX_STEPS) {
		r = bad(err, "steps");
		goto out;
	}
	json_array_foreach(v, i, e) {
		struct rollout_step *st = &s->steps[s->n_steps];
		json_int_t hold;
		if (json_unpack(e, "[i,F,I,i,i,i]", &st->group, &st->weight, &hold, &st->new_instances,
				&st->old_instances, &st->idle) < 0) {
			r = bad(err, "steps");
			goto out;
		}
		st->hold_ms = hold;
		s->n_steps++;
	}
	v = json_object_get(j, "checks");
	if (!json_is_array(v) || json_array_size(v) > STRATEGY_MAX_CHECKS) {
		r = bad(err, "checks");
		goto out;
	}
	json_array_foreach(v, i, e) {
		struct analysis_check *c = &s->checks[s->n_checks];
		const char *name;
		int metric;
		json_int_t iv;
		if (json_unpack(e, "{s:s,s:i,s:I}", "name", &name, "metric", &metric, "interval_ms", &iv) < 0 ||
		    (metric != CHECK_SUCCESS_RATE && metric != CHECK_DURATION)) {
			r = bad(err, "checks");
			goto out;
		}
		copy_str(c->name, sizeof(c->name), name);
		c->metric = (enum check_metric)metric;
		c->interval_ms = iv;
		if (json_is_number(json_object_get(e, "min"))) {
			c->has_min = 1;
			c->min = json_number_value(json_object_get(e, "min"));
		}
		if (json_is_number(json_object_get(e, "max"))) {
			c->has_max = 1;
			c->max = json_number_value(json_object_get(e, "max"));
		}
		s->n_checks++;
	}
	v = json_object_get(j, "webhooks");
	if (!json_is_array(v) || json_array_size(v) > STRATEGY_MAX_WEBHOOKS) {
		r = bad(err, "webhooks");
		goto out;
	}
	json_array_foreach(v, i, e) {
		struct webhook *w = &s->webhooks[s->n_webhooks];
		const char *name, *type, *url;
		json_int_t to;
		if (json_unpack(e, "{s:s,s:s,s:s,s:I}", "name", &name, "type", &type, "url", &url, "timeout_ms",
				&to) < 0 || webhook_type_parse(type, &w->type) < 0) {
			r = bad(err, "webhooks");
			goto out;
		}
		copy_str(w->name, sizeof(w->name), name);
		copy_str(w->url, sizeof(w->url), url);
		w->timeout_ms = to;
		s->n_webhooks++;
	}
	if ((r = strategy_validate(s, err)) < 0)
		goto out;
	*out = *s;
	r = 0;
out:
	free(s);
	return r;
}
