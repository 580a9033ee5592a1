/*
 * test_flag.c - core/flag: Unleash's client-specification vectors for
 * gradual rollout, stickiness and variants (tests/data/unleash/, each
 * Unleash feature translated into a slipway flag as docs/flags.md says),
 * monotonic percentages, the missing targeting key, validation messages.
 */
#include "base/strbuf.h"
#include "core/flag.h"
#include "tap.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#ifndef SLIPWAY_SRC_DIR
#define SLIPWAY_SRC_DIR "."
#endif

#define ON "enabled-no-variant"

static json_t *str_list(const char *csv)
{
	json_t *a = json_array();
	char *dup = strdup(csv), *save = NULL;
	for (char *t = strtok_r(dup, ", ", &save); t; t = strtok_r(NULL, ", ", &save))
		json_array_append_new(a, json_string(t));
	free(dup);
	return a;
}

static json_int_t num_param(json_t *params, const char *k)
{
	json_t *x = json_object_get(params, k);
	return json_is_string(x) ? strtoll(json_string_value(x), NULL, 10) : json_integer_value(x);
}

/* The rule's conditions and rollout for Unleash strategy s; 0 when the
 * strategy is one these files do not use. */
static int strategy_rule(json_t *f, json_t *s, json_t *rule)
{
	const char *name = json_string_value(json_object_get(s, "name"));
	json_t *params = json_object_get(s, "parameters"), *conds = json_array(), *c;
	const char *group = json_string_value(json_object_get(params, "groupId"));
	size_t i;

	if (!group)
		group = json_string_value(json_object_get(f, "name"));
	json_array_foreach(json_object_get(s, "constraints"), i, c) {
		const char *op = json_string_value(json_object_get(c, "operator"));
		json_array_append_new(conds, json_pack("{s:O, s:s, s:O}", "attribute", json_object_get(c, "contextName"),
						       "op", !strcmp(op, "NOT_IN") ? "not_in" : "in", "values",
						       json_object_get(c, "values")));
	}
	if (!strcmp(name, "userWithId"))
		json_array_append_new(conds, json_pack("{s:s, s:s, s:o}", "attribute", "userId", "op", "in", "values",
						       str_list(json_string_value(json_object_get(params, "userIds")))));
	else if (!strcmp(name, "gradualRolloutUserId") || !strcmp(name, "gradualRolloutSessionId") ||
		 !strcmp(name, "gradualRolloutRandom"))
		json_object_set_new(rule, "rollout", json_pack("{s:I, s:s, s:s}", "percentage", num_param(params, "percentage"),
							      "stickiness", !strcmp(name, "gradualRolloutUserId") ? "userId"
								      : !strcmp(name, "gradualRolloutSessionId") ? "sessionId" : "random",
							      "group", group));
	else if (!strcmp(name, "flexibleRollout")) {
		const char *st = json_string_value(json_object_get(params, "stickiness"));
		json_object_set_new(rule, "rollout", json_pack("{s:I, s:s, s:s}", "percentage", num_param(params, "rollout"),
							      "stickiness", st ? st : "default", "group", group));
	} else if (strcmp(name, "default")) {
		json_decref(conds);
		return 0;
	}
	json_object_set_new(rule, "conditions", conds);
	return 1;
}

static json_t *split_of(json_t *vs, const char *stickiness, const char *group)
{
	json_t *a = json_array(), *v;
	size_t i;
	json_array_foreach(vs, i, v)
		json_array_append_new(a, json_pack("{s:O, s:O}", "variant", json_object_get(v, "name"), "weight",
						   json_object_get(v, "weight")));
	return json_pack("{s:o, s:s, s:s}", "variants", a, "stickiness", stickiness ? stickiness : "default", "group",
			 group);
}

/* An Unleash feature as a slipway flag definition (docs/flags.md). */
static json_t *translate(json_t *f)
{
	json_t *variants = json_pack("{s:{}, s:{}}", ON, "disabled"), *rules = json_array(), *v, *s;
	json_t *fvars = json_object_get(f, "variants"), *strategies = json_object_get(f, "strategies");
	json_t *def_strategy = json_pack("[{s:s}]", "name", "default");
	const char *fname = json_string_value(json_object_get(f, "name"));
	size_t i, j;

	json_array_foreach(fvars, i, v)
		json_object_set(variants, json_string_value(json_object_get(v, "name")),
				json_object_get(v, "payload") ? json_object_get(v, "payload") : json_object());
	if (!json_array_size(strategies))
		strategies = def_strategy;
	json_array_foreach(strategies, i, s) {
		json_t *svars = json_object_get(s, "variants"), *params = json_object_get(s, "parameters"), *rule = json_object();
		if (!strategy_rule(f, s, rule)) {
			json_decref(rule);
			continue;
		}
		json_array_foreach(svars, j, v)
			json_object_set(variants, json_string_value(json_object_get(v, "name")), json_object_get(v, "payload"));
		if (json_array_size(svars)) {
			const char *g = json_string_value(json_object_get(params, "groupId"));
			json_object_set_new(rule, "split", split_of(svars, json_string_value(json_object_get(params, "stickiness")),
								  g ? g : fname));
		} else if (json_array_size(fvars)) {
			/* overrides first: the same strategy, plus the override's condition */
			json_array_foreach(fvars, j, v) {
				json_t *o;
				size_t k;
				json_array_foreach(json_object_get(v, "overrides"), k, o) {
					json_t *r = json_deep_copy(rule);
					json_array_append_new(json_object_get(r, "conditions"),
							      json_pack("{s:O, s:s, s:O}", "attribute", json_object_get(o, "contextName"),
									"op", "in", "values", json_object_get(o, "values")));
					json_object_set(r, "serve", json_object_get(v, "name"));
					json_array_append_new(rules, r);
				}
			}
			json_object_set_new(rule, "split",
					    split_of(fvars, json_string_value(json_object_get(json_array_get(fvars, 0), "stickiness")),
						     fname));
		} else {
			json_object_set_new(rule, "serve", json_string(ON));
		}
		json_array_append_new(rules, rule);
	}
	json_decref(def_strategy);
	return json_pack("{s:s, s:O, s:o, s:s, s:o}", "type", "object", "enabled", json_object_get(f, "enabled"),
			 "variants", variants, "default", "disabled", "rules", rules);
}

/* Unleash's context with properties flattened into attributes. */
static json_t *context_of(json_t *c)
{
	json_t *out = json_object(), *x;
	const char *k;
	json_object_foreach(c, k, x) {
		if (!strcmp(k, "properties"))
			json_object_update(out, x);
		else
			json_object_set(out, k, x);
	}
	return out;
}

static int passed, total;

static void run_file(const char *name)
{
	char path[512];
	json_error_t je;
	json_t *spec, *defs = json_object(), *f, *t;
	size_t i;

	snprintf(path, sizeof(path), "%s/tests/data/unleash/%s", SLIPWAY_SRC_DIR, name);
	spec = json_load_file(path, 0, &je);
	ok(spec != NULL, "%s loads (%s)", name, spec ? "" : je.text);
	if (!spec)
		return;
	json_array_foreach(json_object_get(json_object_get(spec, "state"), "features"), i, f) {
		json_t *def = translate(f);
		struct strbuf err = STRBUF_INIT;
		int r = flag_validate(def, &err, NULL, 0);
		ok(r == 0, "%s: %s translates to a valid flag %s", name, json_string_value(json_object_get(f, "name")), err.buf);
		strbuf_release(&err);
		json_object_set_new(defs, json_string_value(json_object_get(f, "name")), def);
	}
	json_array_foreach(json_object_get(spec, "tests"), i, t) {
		json_t *ctx = context_of(json_object_get(t, "context"));
		const char *key = json_string_value(json_object_get(t, "toggleName"));
		json_t *def = json_object_get(defs, key);
		struct flag_result res = { 0 };
		int on = 0, want = json_is_true(json_object_get(t, "expectedResult"));
		if (def) {
			flag_evaluate(def, key, NULL, ctx, &res);
			on = res.reason == FLAG_TARGETING_MATCH || res.reason == FLAG_SPLIT;
		}
		total++;
		passed += on == want;
		ok(on == want, "%s: %s", name, json_string_value(json_object_get(t, "description")));
		json_decref(ctx);
	}
	json_array_foreach(json_object_get(spec, "variantTests"), i, t) {
		json_t *ctx = context_of(json_object_get(t, "context")), *exp = json_object_get(t, "expectedResult");
		const char *key = json_string_value(json_object_get(t, "toggleName"));
		const char *want = json_string_value(json_object_get(exp, "name"));
		json_t *def = json_object_get(defs, key), *payload = json_object_get(exp, "payload");
		struct flag_result res = { 0 };
		const char *got = "disabled";
		int good;
		if (def) {
			flag_evaluate(def, key, NULL, ctx, &res);
			got = res.variant && strcmp(res.variant, ON) ? res.variant : "disabled";
		}
		good = got && !strcmp(got, want) && (!payload || (res.value && json_equal(payload, res.value)));
		total++;
		passed += good;
		ok(good, "%s: %s (got %s)", name, json_string_value(json_object_get(t, "description")), got ? got : "none");
		json_decref(ctx);
	}
	json_decref(defs);
	json_decref(spec);
}

static void monotonic(void)
{
	int grew = 1, prev_count = -1, count50 = 0;
	for (int p = 0; p <= 100; p += 5) {
		int count = 0;
		for (int u = 0; u < 2000; u++) {
			char id[16];
			snprintf(id, sizeof(id), "user-%d", u);
			uint32_t b = flag_bucket("agent:billing:enabled", id, FLAG_ROLLOUT_SEED, 100);
			int in_now = p > 0 && b <= (uint32_t)p, in_before = p > 5 && b <= (uint32_t)(p - 5);
			if (in_before && !in_now)
				grew = 0;	/* raising p dropped someone */
			count += in_now;
		}
		if (count < prev_count)
			grew = 0;
		prev_count = count;
		if (p == 50)
			count50 = count;
	}
	ok(grew, "raising a percentage in steps of 5 keeps everyone already enabled (2000 users)");
	ok(count50 > 900 && count50 < 1100, "50%% of 2000 users is about 1000 (%d)", count50);

	/* the same through flag_evaluate: 25% then 50%, then back to 10% */
	json_t *def = json_pack("{s:s, s:[{s:{s:i}, s:s}]}", "type", "boolean", "rules", "rollout", "percentage", 25,
				"serve", "on");
	json_t *d50, *d10;
	int kept = 1, cut = 1;
	flag_validate(def, NULL, NULL, 0);
	d50 = json_deep_copy(def);
	json_object_set_new(json_object_get(json_array_get(json_object_get(d50, "rules"), 0), "rollout"), "percentage",
			    json_integer(50));
	d10 = json_deep_copy(def);
	json_object_set_new(json_object_get(json_array_get(json_object_get(d10, "rules"), 0), "rollout"), "percentage",
			    json_integer(10));
	for (int u = 0; u < 1000; u++) {
		char id[16];
		struct flag_result a, b, c;
		json_t *ctx;
		snprintf(id, sizeof(id), "u%d", u);
		ctx = json_pack("{s:s}", "targetingKey", id);
		flag_evaluate(def, "f", NULL, ctx, &a);
		flag_evaluate(d50, "f", NULL, ctx, &b);
		flag_evaluate(d10, "f", NULL, ctx, &c);
		if (!strcmp(a.variant, "on") && strcmp(b.variant, "on"))
			kept = 0;
		if (!strcmp(c.variant, "on") && strcmp(a.variant, "on"))
			cut = 0;
		json_decref(ctx);
	}
	ok(kept, "25%% -> 50%%: everyone on at 25%% stays on");
	ok(cut, "25%% -> 10%%: nobody off at 25%% comes on");
	json_decref(def);
	json_decref(d50);
	json_decref(d10);
}

static void targeting_key(void)
{
	json_t *def = json_pack("{s:s, s:[{s:[s], s:s}, {s:{s:i}, s:s}]}", "type", "boolean", "rules", "segments",
				"canary-users", "serve", "on", "rollout", "percentage", 30, "serve", "on");
	json_t *segs = json_pack("{s:{s:[s], s:[{s:s, s:s, s:[s]}]}}", "canary-users", "user_ids", "alice",
				 "conditions", "attribute", "group", "op", "in", "values", "canary");
	json_t *none = json_object(), *canary = json_pack("{s:s}", "group", "canary"),
	       *alice = json_pack("{s:s}", "userId", "alice");
	struct flag_result r;

	ok(flag_validate(def, NULL, NULL, 0) == 0, "a segment rule then a 30%% rollout is valid");
	ok(segment_validate(json_object_get(segs, "canary-users"), NULL, NULL, 0) == 0, "the segment is valid");
	flag_evaluate(def, "f", segs, none, &r);
	ok(r.reason == FLAG_ERROR && r.error == FLAG_TARGETING_KEY_MISSING, "no targeting key at a 30%% rollout: "
	   "TARGETING_KEY_MISSING, not a hash of the empty string");
	flag_evaluate(def, "f", segs, canary, &r);
	ok(r.reason == FLAG_TARGETING_MATCH && !strcmp(r.variant, "on") && r.rule == 0,
	   "group in [canary] is in the segment: served before the rollout needs a key");
	flag_evaluate(def, "f", segs, alice, &r);
	ok(r.reason == FLAG_TARGETING_MATCH && r.rule == 0, "a listed user id is in the segment");
	json_object_set_new(def, "enabled", json_false());
	flag_evaluate(def, "f", segs, alice, &r);
	ok(r.reason == FLAG_DISABLED && !strcmp(r.variant, "off"), "a disabled flag serves its default");
	json_decref(def);
	json_decref(segs);
	json_decref(none);
	json_decref(canary);
	json_decref(alice);
}

static void validation(void)
{
	static const struct { const char *json, *path, *msg; } cases[] = {
		{ "{\"type\": \"bool\"}", "type", "must be one of" },
		{ "{\"variants\": {\"on\": 1}}", "variants.on", "must be a boolean value" },
		{ "{\"rules\": [{\"serve\": \"maybe\"}]}", "rules[0].serve", "one of the flag's variants" },
		{ "{\"rules\": [{\"rollout\": {\"percentage\": 101}, \"serve\": \"on\"}]}", "rules[0].rollout.percentage",
		  "0 to 100" },
		{ "{\"rules\": [{\"segment\": [\"x\"], \"serve\": \"on\"}]}", "rules[0].segment", "did you mean 'segments'" },
		{ "{\"rules\": [{}]}", "rules[0]", "exactly one of 'serve'" },
		{ "{\"type\": \"string\", \"variants\": {\"a\": \"x\"}, \"default\": \"b\"}", "default", "one of the flag's" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct strbuf err = STRBUF_INIT;
		char path[200] = "";
		json_t *d = json_loads(cases[i].json, 0, NULL);
		int r = flag_validate(d, &err, path, sizeof(path));
		ok(r < 0 && !strcmp(path, cases[i].path) && strstr(err.buf, cases[i].msg), "refused %s: %s", cases[i].json,
		   err.buf);
		strbuf_release(&err);
		json_decref(d);
	}
}

int main(void)
{
	static const char *const files[] = {
		"03-gradual-rollout-user-id-strategy.json", "04-gradual-rollout-session-id-strategy.json",
		"05-gradual-rollout-random-strategy.json", "08-variants.json", "10-flexible-rollout-strategy.json",
		"12-custom-stickiness.json", "16-strategy-variants.json",
	};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		run_file(files[i]);
	printf("# Unleash client-specification vectors: %d of %d pass\n", passed, total);
	ok(total > 0 && passed == total, "every Unleash vector passes (%d of %d)", passed, total);
	monotonic();
	targeting_key();
	validation();
	return tap_done();
}
