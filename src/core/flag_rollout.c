/*
 * flag_rollout.c - a flag rollout's steps, cohorts and percentage edits;
 * see flag_rollout.h.  The rollout edits only the rule it owns and the
 * segment rule it was asked to keep, so a person's other rules stay as
 * they were, and the bucketing of core/flag.c keeps every user where the
 * hash puts it as the percentage moves.
 */
#include "core/flag_rollout.h"
#include "base/err.h"
#include "base/strbuf.h"
#include "core/strategy.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int flag_cohort_format(char *out, size_t n, const char *flag, const char *variant)
{
	int w = snprintf(out, n, FLAG_COHORT_PREFIX "%s=%s", flag, variant);
	if (w < 0 || (size_t)w >= n) {
		if (n)
			out[0] = '\0';
		return SW_ETOOBIG;
	}
	return 0;
}

int flag_cohort_parse(const char *version, char *flag, size_t fn, char *variant, size_t vn)
{
	const char *eq;
	size_t fl, vl;
	if (strncmp(version, FLAG_COHORT_PREFIX, sizeof(FLAG_COHORT_PREFIX) - 1))
		return 0;
	version += sizeof(FLAG_COHORT_PREFIX) - 1;
	eq = strrchr(version, '=');
	if (!eq)
		return SW_EUSAGE;
	fl = (size_t)(eq - version);
	vl = strlen(eq + 1);
	if (!fl || !vl || fl >= fn || vl >= vn)
		return SW_EUSAGE;
	memcpy(flag, version, fl);
	flag[fl] = '\0';
	memcpy(variant, eq + 1, vl + 1);
	return 1;
}

int flag_rollout_strategy(const char *steps, int64_t interval_ms, struct strategy *out, struct strbuf *err)
{
	const char *p = steps;
	double last = 0;
	int n = 0;

	if (interval_ms < STRATEGY_MIN_INTERVAL_MS) {
		strbuf_errf(err, "--interval must be at least 10s (each step's hold), not %lld ms", (long long)interval_ms);
		return SW_EUSAGE;
	}
	strategy_default(out, STRATEGY_CANARY);
	out->n_steps = 0;
	if (!*p) {
		strbuf_errf(err, "--steps is empty; write percentages such as 5%%,25%%,50%%,100%%");
		return SW_EUSAGE;
	}
	for (;;) {
		char *end;
		double v;
		errno = 0;
		v = strtod(p, &end);
		if (end == p || errno || !isfinite(v)) {
			strbuf_errf(err, "--steps: '%s' is not a percentage at step %d; write percentages such as "
				    "5%%,25%%,50%%,100%%", p, n + 1);
			return SW_EUSAGE;
		}
		if (*end == '%')
			end++;
		if (!(v > 0 && v <= 100)) {
			strbuf_errf(err, "--steps: step %d is %g%%; each step must be above 0%% and at most 100%%", n + 1, v);
			return SW_EUSAGE;
		}
		if (v <= last) {
			strbuf_errf(err, "--steps: step %d (%g%%) does not raise the percentage above step %d (%g%%); steps "
				    "must increase", n + 1, v, n, last);
			return SW_EUSAGE;
		}
		if (strategy_add_step(out, 0, v, interval_ms, err) < 0)
			return SW_EUSAGE;
		last = v;
		n++;
		if (!*end)
			break;
		if (*end != ',') {
			strbuf_errf(err, "--steps: unexpected '%c' after step %d; separate the percentages with commas", *end,
				    n);
			return SW_EUSAGE;
		}
		p = end + 1;
	}
	if (out->interval_ms > interval_ms)
		out->interval_ms = interval_ms;
	return 0;
}

int flag_rollout_variants(const json_t *def, const char **on, const char **off, struct strbuf *err)
{
	const char *type = json_string_value(json_object_get(def, "type"));
	json_t *vars = json_object_get(def, "variants"), *v;
	const char *k;
	*on = *off = NULL;
	if (type && strcmp(type, "boolean")) {
		strbuf_errf(err, "a guarded rollout compares a boolean flag's enabled and disabled users; this flag is "
			    "of type %s", type);
		return SW_EUSAGE;
	}
	json_object_foreach(vars, k, v) {
		if (json_is_true(v) && !*on)
			*on = k;
		else if (json_is_false(v) && !*off)
			*off = k;
	}
	if (!*on || !*off) {
		strbuf_errf(err, "the flag needs a variant for true and one for false (its 'variants')");
		return SW_EUSAGE;
	}
	return 0;
}

static int rule_named(const json_t *rules, const char *name)
{
	json_t *r;
	size_t i;
	json_array_foreach(rules, i, r) {
		const char *n = json_string_value(json_object_get(r, "name"));
		if (n && !strcmp(n, name))
			return (int)i;
	}
	return -1;
}

int flag_rollout_rule(const json_t *def, struct strbuf *err)
{
	json_t *rules = json_object_get(def, "rules"), *r;
	struct strbuf list = STRBUF_INIT;
	size_t i;
	int found = -1, n = 0;
	int named = rule_named(rules, FLAG_ROLLOUT_RULE);

	if (named >= 0)
		return named;
	json_array_foreach(rules, i, r) {
		if (json_object_get(r, "name") || !json_object_get(r, "rollout"))
			continue;
		strbuf_addf(&list, "%srules[%zu]", n ? ", " : "", i);
		if (!n++)
			found = (int)i;
	}
	if (n > 1) {
		strbuf_errf(err, "the flag has %d rollout rules without a name (%s) and none named '%s'; name the one a "
			    "percentage sets 'rollout' (in its flag file, `name: rollout`, then `slipway flag apply`; or "
			    "`slipway flag set FLAG --json DEF`)", n, list.buf, FLAG_ROLLOUT_RULE);
		strbuf_release(&list);
		return SW_ESTATE;
	}
	strbuf_release(&list);
	return found;
}

int flag_segment_rule(const json_t *def, const char *segment)
{
	json_t *rules = json_object_get(def, "rules"), *r, *segs;
	struct strbuf name = STRBUF_INIT;
	size_t i;
	int found;

	strbuf_addf(&name, "segment:%s", segment);
	found = rule_named(rules, name.buf);
	strbuf_release(&name);
	if (found >= 0)
		return found;
	json_array_foreach(rules, i, r) {
		segs = json_object_get(r, "segments");
		if (!json_object_get(r, "name") && json_array_size(segs) == 1 &&
		    json_string_value(json_array_get(segs, 0)) && !strcmp(json_string_value(json_array_get(segs, 0)), segment) &&
		    !json_object_get(r, "rollout") && !json_object_get(r, "split") && !json_array_size(json_object_get(r, "conditions")))
			return (int)i;
	}
	return -1;
}

void flag_rollout_state(const json_t *def, const char *segment, int *percentage, int *has_segment)
{
	struct strbuf ignored = STRBUF_INIT;
	int i = flag_rollout_rule(def, &ignored);
	json_t *p = i >= 0 ? json_object_get(json_object_get(json_array_get(json_object_get(def, "rules"), (size_t)i),
								  "rollout"), "percentage") : NULL;
	strbuf_release(&ignored);
	*percentage = json_is_integer(p) ? (int)json_integer_value(p) : -1;
	*has_segment = segment && flag_segment_rule(def, segment) >= 0;
}

int flag_rollout_set(json_t *def, double percentage, const char *segment, struct strbuf *err)
{
	const char *on, *off;
	json_t *rules, *rule;
	int rc, i, pct;

	if (!(percentage >= 0 && percentage <= 100)) {
		strbuf_errf(err, "a flag's percentage is within 0-100, not %g", percentage);
		return SW_EUSAGE;
	}
	if ((rc = flag_rollout_variants(def, &on, &off, err)) < 0)
		return rc;
	pct = (int)floor(percentage);
	rules = json_object_get(def, "rules");
	if (!json_is_array(rules)) {
		json_object_set_new(def, "rules", json_array());
		rules = json_object_get(def, "rules");
	}
	if ((i = flag_rollout_rule(def, err)) == SW_ESTATE)
		return i;
	if (segment) {
		int s = flag_segment_rule(def, segment);
		if (s < 0) {
			struct strbuf name = STRBUF_INIT;
			strbuf_addf(&name, "segment:%s", segment);
			json_array_insert_new(rules, 0, json_pack("{s:s, s:[s], s:s}", "name", name.buf, "segments", segment,
							     "serve", on));
			strbuf_release(&name);
			if (i >= 0)
				i++;
		} else {
			json_object_set_new(json_array_get(rules, (size_t)s), "serve", json_string(on));
		}
	}
	if (i < 0) {
		rule = json_pack("{s:s}", "name", FLAG_ROLLOUT_RULE);
		json_array_append_new(rules, rule);
	} else {
		rule = json_array_get(rules, (size_t)i);
	}
	{
		json_t *ro = json_object_get(rule, "rollout");
		const char *stick = json_string_value(json_object_get(ro, "stickiness"));
		json_t *nro = json_pack("{s:i, s:s}", "percentage", pct, "stickiness", stick ? stick : "targetingKey");
		if (json_string_value(json_object_get(ro, "group")))
			json_object_set(nro, "group", json_object_get(ro, "group"));
		json_object_set_new(rule, "rollout", nro);
	}
	json_object_set_new(rule, "serve", json_string(on));
	json_object_del(rule, "split");
	json_object_del(rule, "segments");
	json_object_del(rule, "conditions");
	return 0;
}

int flag_rollout_percentage(const json_t *def)
{
	int pct, seg;
	flag_rollout_state(def, NULL, &pct, &seg);
	return pct < 0 ? 0 : pct;
}
