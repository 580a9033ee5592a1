/*
 * flag.c - feature flag definitions and their evaluation; see flag.h and
 * docs/flags.md.  Definitions stay JSON (what the store keeps, the API
 * returns and the audit log records); flag_validate() checks one once, so
 * flag_evaluate() walks it without re-checking.
 */
#include "core/flag.h"
#include "base/err.h"
#include "base/strbuf.h"
#include "base/suggest.h"

#include <murmurhash.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

uint32_t flag_bucket(const char *group, const char *value, uint32_t seed, uint32_t modulus)
{
	/* on the stack when it fits: this runs for every flag of an OFREP bulk evaluation */
	char small[512];
	size_t g = strlen(group), v = strlen(value);
	uint32_t h[1] = { 0 };

	if (g + 1 + v <= sizeof(small)) {
		memcpy(small, group, g);
		small[g] = ':';
		memcpy(small + g + 1, value, v);
		lmmh_x86_32(small, (unsigned)(g + 1 + v), seed, h);
	} else {
		struct strbuf s = STRBUF_INIT;
		strbuf_addf(&s, "%s:%s", group, value);
		lmmh_x86_32(s.buf, (unsigned)s.len, seed, h);
		strbuf_release(&s);
	}
	return modulus ? h[0] % modulus + 1 : 0;
}

int flag_name_ok(const char *name)
{
	size_t n = name ? strlen(name) : 0;
	if (n == 0 || n > FLAG_KEY_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("._-:/", c)))
			return 0;
	}
	return 1;
}

/* ---- validation ---- */

struct vctx {
	struct strbuf *err;
	char *path;
	size_t pathsz;
};

static int vfail(struct vctx *v, const char *path, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int vfail(struct vctx *v, const char *path, const char *fmt, ...)
{
	va_list ap;
	if (v->err) {
		strbuf_addf(v->err, "%s: ", path[0] ? path : "the definition");
		va_start(ap, fmt);
		strbuf_vaddf(v->err, fmt, ap);
		va_end(ap);
	}
	if (v->path && v->pathsz)
		snprintf(v->path, v->pathsz, "%s", path);
	return SW_ECONFIG;
}

/* Refuse keys of object o not in valid (NULL-terminated). */
static int only_keys(struct vctx *v, const char *path, json_t *o, const char *const *valid)
{
	const char *k;
	json_t *x;
	json_object_foreach(o, k, x) {
		size_t i;
		for (i = 0; valid[i] && strcmp(valid[i], k); i++)
			;
		if (!valid[i]) {
			struct strbuf list = STRBUF_INIT;
			const char *near = suggest_nearest0(k, valid);
			char sub[300];
			int r;
			for (i = 0; valid[i]; i++)
				strbuf_addf(&list, "%s%s", i ? ", " : "", valid[i]);
			snprintf(sub, sizeof(sub), "%s%s%.100s", path, path[0] ? "." : "", k);
			r = vfail(v, sub, "unknown key '%s'%s%s%s; valid: %s", k, near ? " (did you mean '" : "",
				  near ? near : "", near ? "'?)" : "", list.buf);
			strbuf_release(&list);
			return r;
		}
	}
	return 0;
}

const char *const flag_types[] = { "boolean", "string", "number", "object", NULL };

int flag_value_fits(const char *type, const json_t *v)
{
	if (!strcmp(type, "boolean"))
		return json_is_boolean(v);
	if (!strcmp(type, "string"))
		return json_is_string(v);
	if (!strcmp(type, "number"))
		return json_is_number(v);
	return json_is_object(v) || json_is_array(v);
}

static int check_name(struct vctx *v, const char *path, json_t *s, const char *what)
{
	if (!json_is_string(s) || !flag_name_ok(json_string_value(s)))
		return vfail(v, path, "%s must be a name of 1 to %d letters, digits and . _ - : /", what, FLAG_KEY_MAX);
	return 0;
}

static int check_string(struct vctx *v, const char *path, json_t *s, size_t max)
{
	if (!json_is_string(s) || json_string_length(s) == 0 || json_string_length(s) > max)
		return vfail(v, path, "must be a text of 1 to %zu bytes", max);
	return 0;
}

static int check_conditions(struct vctx *v, const char *path, json_t *a)
{
	static const char *const keys[] = { "attribute", "op", "values", NULL };
	char p[300], q[340];
	size_t i, j;
	json_t *c, *x;

	if (!json_is_array(a))
		return vfail(v, path, "must be a list of {attribute, op, values}");
	json_array_foreach(a, i, c) {
		snprintf(p, sizeof(p), "%s[%zu]", path, i);
		if (!json_is_object(c))
			return vfail(v, p, "must be a mapping {attribute, op, values}");
		if (only_keys(v, p, c, keys))
			return SW_ECONFIG;
		snprintf(q, sizeof(q), "%s.attribute", p);
		if (check_string(v, q, json_object_get(c, "attribute"), FLAG_KEY_MAX))
			return SW_ECONFIG;
		snprintf(q, sizeof(q), "%s.op", p);
		if ((x = json_object_get(c, "op"))) {
			if (!json_is_string(x) || (strcmp(json_string_value(x), "in") && strcmp(json_string_value(x), "not_in")))
				return vfail(v, q, "must be 'in' or 'not_in'");
		} else {
			json_object_set_new(c, "op", json_string("in"));
		}
		snprintf(q, sizeof(q), "%s.values", p);
		x = json_object_get(c, "values");
		if (!json_is_array(x) || json_array_size(x) == 0)
			return vfail(v, q, "must be a non-empty list of values");
		for (j = 0; j < json_array_size(x); j++) {
			json_t *e = json_array_get(x, j);
			if (!json_is_string(e) && !json_is_number(e) && !json_is_boolean(e))
				return vfail(v, q, "item %zu must be a text, a number or true/false", j);
		}
	}
	return 0;
}

static int check_stickiness_group(struct vctx *v, const char *path, json_t *o)
{
	char q[340];
	json_t *x;
	snprintf(q, sizeof(q), "%s.stickiness", path);
	if ((x = json_object_get(o, "stickiness")) && check_string(v, q, x, FLAG_KEY_MAX))
		return SW_ECONFIG;
	snprintf(q, sizeof(q), "%s.group", path);
	if ((x = json_object_get(o, "group")) && check_string(v, q, x, FLAG_KEY_MAX))
		return SW_ECONFIG;
	return 0;
}

static int check_rule(struct vctx *v, const char *path, json_t *rule, json_t *variants)
{
	static const char *const keys[] = { "name", "segments", "conditions", "rollout", "serve", "split", NULL };
	static const char *const rkeys[] = { "percentage", "stickiness", "group", NULL };
	static const char *const skeys[] = { "variants", "stickiness", "group", NULL };
	static const char *const ikeys[] = { "variant", "weight", NULL };
	char p[340], q[400];
	json_t *x, *serve, *split;
	size_t i;

	if (!json_is_object(rule))
		return vfail(v, path, "must be a mapping (a rule: segments, conditions, rollout, serve or split)");
	if (only_keys(v, path, rule, keys))
		return SW_ECONFIG;
	snprintf(p, sizeof(p), "%s.name", path);
	if ((x = json_object_get(rule, "name")) && check_string(v, p, x, FLAG_KEY_MAX))
		return SW_ECONFIG;
	snprintf(p, sizeof(p), "%s.segments", path);
	if ((x = json_object_get(rule, "segments"))) {
		if (!json_is_array(x))
			return vfail(v, p, "must be a list of segment names");
		json_array_foreach(x, i, serve) {
			snprintf(q, sizeof(q), "%s[%zu]", p, i);
			if (check_name(v, q, serve, "a segment"))
				return SW_ECONFIG;
		}
	}
	snprintf(p, sizeof(p), "%s.conditions", path);
	if ((x = json_object_get(rule, "conditions")) && check_conditions(v, p, x))
		return SW_ECONFIG;
	snprintf(p, sizeof(p), "%s.rollout", path);
	if ((x = json_object_get(rule, "rollout"))) {
		json_t *pc;
		double d;
		if (!json_is_object(x))
			return vfail(v, p, "must be a mapping {percentage, stickiness, group}");
		if (only_keys(v, p, x, rkeys) || check_stickiness_group(v, p, x))
			return SW_ECONFIG;
		snprintf(q, sizeof(q), "%s.percentage", p);
		pc = json_object_get(x, "percentage");
		d = json_is_number(pc) ? json_number_value(pc) : -1;
		if (!json_is_number(pc) || d < 0 || d > 100 || d != floor(d))
			return vfail(v, q, "must be a whole number of percent from 0 to 100");
	}
	serve = json_object_get(rule, "serve");
	split = json_object_get(rule, "split");
	if (!serve == !split)
		return vfail(v, path, "needs exactly one of 'serve' (a variant) or 'split' (variants with weights)");
	if (serve) {
		snprintf(p, sizeof(p), "%s.serve", path);
		if (!json_is_string(serve) || !json_object_get(variants, json_string_value(serve)))
			return vfail(v, p, "must name one of the flag's variants");
		return 0;
	}
	snprintf(p, sizeof(p), "%s.split", path);
	if (!json_is_object(split))
		return vfail(v, p, "must be a mapping {variants, stickiness, group}");
	if (only_keys(v, p, split, skeys) || check_stickiness_group(v, p, split))
		return SW_ECONFIG;
	snprintf(q, sizeof(q), "%s.variants", p);
	x = json_object_get(split, "variants");
	if (!json_is_array(x) || json_array_size(x) == 0)
		return vfail(v, q, "must be a non-empty list of {variant, weight}");
	{
		json_int_t total = 0;
		json_t *it;
		json_array_foreach(x, i, it) {
			char r[440];
			json_t *w;
			snprintf(r, sizeof(r), "%s[%zu]", q, i);
			if (!json_is_object(it) || only_keys(v, r, it, ikeys))
				return json_is_object(it) ? SW_ECONFIG : vfail(v, r, "must be a mapping {variant, weight}");
			w = json_object_get(it, "weight");
			if (!json_is_string(json_object_get(it, "variant")) ||
			    !json_object_get(variants, json_string_value(json_object_get(it, "variant"))))
				return vfail(v, r, "'variant' must name one of the flag's variants");
			if (!json_is_integer(w) || json_integer_value(w) < 0 || json_integer_value(w) > 100000)
				return vfail(v, r, "'weight' must be a whole number from 0 to 100000");
			total += json_integer_value(w);
		}
		if (total == 0)
			return vfail(v, q, "the weights add up to 0; give at least one variant a weight");
	}
	return 0;
}

int flag_validate(json_t *def, struct strbuf *err, char *path, size_t pathsz)
{
	static const char *const keys[] = { "type", "description", "enabled", "variants", "default", "rules", NULL };
	struct vctx v = { err, path, pathsz };
	json_t *x, *variants, *val;
	const char *type, *k;
	size_t i;

	if (!json_is_object(def))
		return vfail(&v, "", "must be a mapping (type, variants, default, rules)");
	if (only_keys(&v, "", def, keys))
		return SW_ECONFIG;
	x = json_object_get(def, "type");
	if (!x)
		json_object_set_new(def, "type", json_string("boolean")), x = json_object_get(def, "type");
	for (i = 0; flag_types[i] && (!json_is_string(x) || strcmp(flag_types[i], json_string_value(x))); i++)
		;
	if (!flag_types[i])
		return vfail(&v, "type", "must be one of boolean, string, number, object");
	type = flag_types[i];
	if ((x = json_object_get(def, "description")) && check_string(&v, "description", x, 1000))
		return SW_ECONFIG;
	if ((x = json_object_get(def, "enabled"))) {
		if (!json_is_boolean(x))
			return vfail(&v, "enabled", "must be true or false");
	} else {
		json_object_set_new(def, "enabled", json_true());
	}
	variants = json_object_get(def, "variants");
	if (!variants && !strcmp(type, "boolean")) {
		json_object_set_new(def, "variants", json_pack("{s:b, s:b}", "on", 1, "off", 0));
		variants = json_object_get(def, "variants");
	}
	if (!json_is_object(variants) || json_object_size(variants) == 0)
		return vfail(&v, "variants", "must be a mapping of variant names to %s values", type);
	json_object_foreach(variants, k, val) {
		char p[300];
		snprintf(p, sizeof(p), "variants.%.200s", k);
		if (!flag_name_ok(k))
			return vfail(&v, p, "a variant name must be 1 to %d letters, digits and . _ - : /", FLAG_KEY_MAX);
		if (!flag_value_fits(type, val))
			return vfail(&v, p, "must be a %s value (the flag's type)", type);
	}
	x = json_object_get(def, "default");
	if (!x) {
		const char *first = json_object_get(variants, "off") ? "off" : json_object_iter_key(json_object_iter(variants));
		json_object_set_new(def, "default", json_string(first));
	} else if (!json_is_string(x) || !json_object_get(variants, json_string_value(x))) {
		return vfail(&v, "default", "must name one of the flag's variants");
	}
	x = json_object_get(def, "rules");
	if (!x) {
		json_object_set_new(def, "rules", json_array());
	} else if (!json_is_array(x)) {
		return vfail(&v, "rules", "must be a list of rules");
	} else {
		json_t *rule;
		json_array_foreach(x, i, rule) {
			char p[40];
			snprintf(p, sizeof(p), "rules[%zu]", i);
			if (check_rule(&v, p, rule, variants))
				return SW_ECONFIG;
		}
	}
	return 0;
}

int segment_validate(json_t *def, struct strbuf *err, char *path, size_t pathsz)
{
	static const char *const keys[] = { "description", "user_ids", "conditions", NULL };
	struct vctx v = { err, path, pathsz };
	json_t *x, *e;
	size_t i;

	if (!json_is_object(def))
		return vfail(&v, "", "a segment must be a mapping (user_ids, conditions)");
	if (only_keys(&v, "", def, keys))
		return SW_ECONFIG;
	if ((x = json_object_get(def, "description")) && check_string(&v, "description", x, 1000))
		return SW_ECONFIG;
	if ((x = json_object_get(def, "user_ids"))) {
		if (!json_is_array(x))
			return vfail(&v, "user_ids", "must be a list of user ids");
		json_array_foreach(x, i, e) {
			char p[40];
			snprintf(p, sizeof(p), "user_ids[%zu]", i);
			if (check_string(&v, p, e, 1000))
				return SW_ECONFIG;
		}
	}
	if ((x = json_object_get(def, "conditions")) && check_conditions(&v, "conditions", x))
		return SW_ECONFIG;
	return 0;
}

/* ---- evaluation ---- */

const char *flag_reason_name(enum flag_reason r)
{
	static const char *const n[] = { "STATIC", "TARGETING_MATCH", "SPLIT", "DEFAULT", "DISABLED", "ERROR" };
	return (unsigned)r < sizeof(n) / sizeof(n[0]) ? n[r] : "UNKNOWN";
}

const char *flag_error_name(enum flag_error e)
{
	static const char *const n[] = { "", "TARGETING_KEY_MISSING", "INVALID_CONTEXT", "PARSE_ERROR",
					 "FLAG_NOT_FOUND", "GENERAL" };
	return (unsigned)e < sizeof(n) / sizeof(n[0]) ? n[e] : "GENERAL";
}

/* A context value as text into buf; NULL when absent or not a scalar
 * (an empty string counts as absent: it is never hashed). */
static const char *scalar_text(const json_t *x, char *buf, size_t n)
{
	if (json_is_string(x))
		return json_string_length(x) ? json_string_value(x) : NULL;
	if (json_is_integer(x)) {
		snprintf(buf, n, "%lld", (long long)json_integer_value(x));
		return buf;
	}
	if (json_is_real(x)) {
		snprintf(buf, n, "%.17g", json_real_value(x));
		return buf;
	}
	if (json_is_boolean(x))
		return json_is_true(x) ? "true" : "false";
	return NULL;
}

static const char *attr(const json_t *ctx, const char *name, char *buf, size_t n)
{
	const char *s = scalar_text(json_object_get(ctx, name), buf, n);
	if (!s && !strcmp(name, "userId"))
		s = scalar_text(json_object_get(ctx, "targetingKey"), buf, n);
	return s;
}

/* The stickiness value, or NULL.  chain: the "default" chain (variants add remoteAddress). */
static const char *sticky(const json_t *ctx, const char *stickiness, int variants, char *buf, size_t n)
{
	const char *s;
	if (!strcmp(stickiness, "default")) {
		if ((s = attr(ctx, "userId", buf, n)) || (s = attr(ctx, "sessionId", buf, n)))
			return s;
		return variants ? attr(ctx, "remoteAddress", buf, n) : NULL;
	}
	if (!strcmp(stickiness, "random"))
		return NULL;
	return attr(ctx, stickiness, buf, n);
}

static int cond_holds(const json_t *c, const json_t *ctx)
{
	char buf[64], vb[64];
	const char *have = attr(ctx, json_string_value(json_object_get(c, "attribute")), buf, sizeof(buf));
	int negate = !strcmp(json_string_value(json_object_get(c, "op")), "not_in");
	const json_t *vals = json_object_get(c, "values");
	int in = 0;

	for (size_t i = 0; have && !in && i < json_array_size(vals); i++) {
		const char *v = scalar_text(json_array_get(vals, i), vb, sizeof(vb));
		in = v && !strcmp(v, have);
	}
	return negate ? !in : in;
}

static int conds_hold(const json_t *a, const json_t *ctx)
{
	for (size_t i = 0; i < json_array_size(a); i++)
		if (!cond_holds(json_array_get(a, i), ctx))
			return 0;
	return 1;
}

static int segment_matches(const json_t *seg, const json_t *ctx)
{
	char buf[64];
	const char *user = attr(ctx, "userId", buf, sizeof(buf));
	const json_t *ids = json_object_get(seg, "user_ids"), *conds = json_object_get(seg, "conditions");

	for (size_t i = 0; user && i < json_array_size(ids); i++)
		if (!strcmp(json_string_value(json_array_get(ids, i)), user))
			return 1;
	for (size_t i = 0; i < json_array_size(conds); i++)
		if (cond_holds(json_array_get(conds, i), ctx))
			return 1;
	return 0;
}

static const char *str_or(const json_t *o, const char *k, const char *dflt)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : dflt;
}

static void missing_key(struct flag_result *out, const char *key, int i)
{
	out->reason = FLAG_ERROR;
	out->error = FLAG_TARGETING_KEY_MISSING;
	out->variant = NULL;
	out->value = NULL;
	out->rule = i;
	snprintf(out->detail, sizeof(out->detail),
		 "flag '%.100s' rule %d hashes the targeting key and the context has no targetingKey", key, i + 1);
}

/* 1 rule matches, 0 not, -1 error set in out. */
static int rollout_in(const json_t *ro, const char *key, const json_t *ctx, int i, struct flag_result *out)
{
	char buf[64];
	const char *st = str_or(ro, "stickiness", "targetingKey"), *group = str_or(ro, "group", key), *val;
	json_int_t p = (json_int_t)json_number_value(json_object_get(ro, "percentage"));

	if (p <= 0)
		return 0;
	if ((val = sticky(ctx, st, 0, buf, sizeof(buf))))
		return flag_bucket(group, val, FLAG_ROLLOUT_SEED, 100) <= (uint32_t)p;
	if (p >= 100 && (!strcmp(st, "default") || !strcmp(st, "random") || !strcmp(st, "targetingKey")))
		return 1;
	if (!strcmp(st, "targetingKey")) {
		missing_key(out, key, i);
		return -1;
	}
	return 0;
}

/* The variant a split serves; NULL with out set on error, or when it serves nothing. */
static const char *split_pick(const json_t *sp, const char *key, const json_t *ctx, int i, struct flag_result *out,
			      int *err)
{
	char buf[64];
	const json_t *vs = json_object_get(sp, "variants");
	const char *st = str_or(sp, "stickiness", "targetingKey"), *group = str_or(sp, "group", key), *val, *sole = NULL;
	json_int_t total = 0, acc = 0;
	size_t positive = 0;
	uint32_t target;

	*err = 0;
	for (size_t j = 0; j < json_array_size(vs); j++) {
		json_int_t w = json_integer_value(json_object_get(json_array_get(vs, j), "weight"));
		total += w;
		if (w > 0) {
			positive++;
			sole = json_string_value(json_object_get(json_array_get(vs, j), "variant"));
		}
	}
	if (positive == 1)
		return sole;
	if (!(val = sticky(ctx, st, 1, buf, sizeof(buf)))) {
		if (!strcmp(st, "targetingKey")) {
			missing_key(out, key, i);
			*err = 1;
		}
		return NULL;
	}
	target = flag_bucket(group, val, FLAG_VARIANT_SEED, (uint32_t)total);
	for (size_t j = 0; j < json_array_size(vs); j++) {
		const json_t *it = json_array_get(vs, j);
		json_int_t w = json_integer_value(json_object_get(it, "weight"));
		if (w == 0)
			continue;
		acc += w;
		if (acc >= (json_int_t)target)
			return json_string_value(json_object_get(it, "variant"));
	}
	return NULL;
}

void flag_evaluate(const json_t *def, const char *key, const json_t *segments, const json_t *ctx,
		   struct flag_result *out)
{
	const json_t *variants = json_object_get(def, "variants"), *rules = json_object_get(def, "rules");
	const char *dflt = json_string_value(json_object_get(def, "default"));

	memset(out, 0, sizeof(*out));
	out->rule = -1;
	out->variant = dflt;
	out->value = json_object_get(variants, dflt);
	if (!json_is_true(json_object_get(def, "enabled"))) {
		out->reason = FLAG_DISABLED;
		return;
	}
	out->reason = json_array_size(rules) ? FLAG_DEFAULT : FLAG_STATIC;
	for (size_t i = 0; i < json_array_size(rules); i++) {
		const json_t *rule = json_array_get(rules, i), *segs = json_object_get(rule, "segments"), *ro, *sp;
		const char *serve = NULL;
		int ok = 1, split_err = 0;

		for (size_t j = 0; ok && j < json_array_size(segs); j++) {
			const json_t *seg = json_object_get(segments, json_string_value(json_array_get(segs, j)));
			ok = seg && segment_matches(seg, ctx);
		}
		if (!ok || !conds_hold(json_object_get(rule, "conditions"), ctx))
			continue;
		if ((ro = json_object_get(rule, "rollout"))) {
			int in = rollout_in(ro, key, ctx, (int)i, out);
			if (in < 0)
				return;
			if (!in)
				continue;
		}
		if ((sp = json_object_get(rule, "split"))) {
			serve = split_pick(sp, key, ctx, (int)i, out, &split_err);
			if (split_err)
				return;
			if (!serve)
				continue;
		} else {
			serve = json_string_value(json_object_get(rule, "serve"));
		}
		out->variant = serve;
		out->value = json_object_get(variants, serve);
		out->rule = (int)i;
		out->reason = (sp || (ro && json_number_value(json_object_get(ro, "percentage")) < 100)) ? FLAG_SPLIT
													    : FLAG_TARGETING_MATCH;
		return;
	}
}
