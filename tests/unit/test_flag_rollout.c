/*
 * test_flag_rollout.c - a flag rollout's steps and percentage edits
 * (core/flag_rollout.c), from the cases in tests/data/flag-rollout/NAME.json
 * (README there), and the cohort names.
 */
#include "tap.h"
#include "base/err.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "core/flag_rollout.h"
#include "core/strategy.h"

#include <dirent.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static void run_case(const char *path, const char *name)
{
	json_error_t je;
	json_t *c = json_load_file(path, 0, &je);
	const char *want_error;
	struct strbuf err = STRBUF_INIT;
	int rc;

	if (!c) {
		ok(0, "%s: %s", name, je.text);
		return;
	}
	want_error = json_string_value(json_object_get(c, "want_error"));
	if (json_object_get(c, "steps")) {
		struct strategy *s = calloc(1, sizeof(*s));
		int64_t interval = 0;
		ok(duration_parse(json_string_value(json_object_get(c, "interval")), &interval, NULL) == 0, "%s: interval",
		   name);
		rc = flag_rollout_strategy(json_string_value(json_object_get(c, "steps")), interval, s, &err);
		if (want_error) {
			ok(rc == SW_EUSAGE && strstr(err.buf, want_error), "%s: refused: %s", name, err.buf);
		} else {
			json_t *ws = json_object_get(c, "want_steps"), *w;
			size_t i;
			int same = rc == 0 && s->n_steps == (int)json_array_size(ws);
			json_array_foreach(ws, i, w)
				same = same && s->steps[i].weight == json_number_value(w) &&
				       s->steps[i].hold_ms == json_integer_value(json_object_get(c, "want_hold_ms"));
			ok(same, "%s: steps and holds (%s)", name, err.buf);
			is_int(s->interval_ms, json_integer_value(json_object_get(c, "want_interval_ms")), "%s: analysis interval",
			       name);
			ok(strategy_validate(s, &err) == 0, "%s: a valid strategy (%s)", name, err.buf);
		}
		free(s);
	} else if (!json_object_get(c, "percentage")) {
		/* what a reader (pack list) finds: the rollout rule's percentage and the segment's rule */
		const json_t *def = json_object_get(c, "def");
		int pct, seg;
		flag_rollout_state(def, json_string_value(json_object_get(c, "segment")), &pct, &seg);
		is_int(pct, json_is_integer(json_object_get(c, "want_percentage"))
				    ? (int)json_integer_value(json_object_get(c, "want_percentage")) : -1,
		       "%s: the percentage read (-1: none)", name);
		is_int(seg, json_is_true(json_object_get(c, "want_segment")), "%s: the segment's rule found", name);
	} else {
		json_t *def = json_deep_copy(json_object_get(c, "def"));
		const char *seg = json_string_value(json_object_get(c, "segment"));
		rc = flag_rollout_set(def, json_number_value(json_object_get(c, "percentage")), seg, &err);
		if (want_error) {
			int want_rc = json_is_string(json_object_get(c, "want_code")) &&
					      !strcmp(json_string_value(json_object_get(c, "want_code")), "state") ? SW_ESTATE
													     : SW_EUSAGE;
			ok(rc == want_rc && strstr(err.buf, want_error), "%s: refused: %s", name, err.buf);
		} else {
			char *got = json_dumps(json_object_get(def, "rules"), JSON_SORT_KEYS | JSON_COMPACT);
			char *want = json_dumps(json_object_get(c, "want_rules"), JSON_SORT_KEYS | JSON_COMPACT);
			ok(rc == 0 && !strcmp(got, want), "%s: rules after the edit", name);
			if (strcmp(got, want))
				printf("#   got  %s\n#   want %s\n", got, want);
			is_int(flag_rollout_percentage(def), (int)json_number_value(json_object_get(c, "percentage")),
			       "%s: the percentage reads back", name);
			free(got);
			free(want);
		}
		json_decref(def);
	}
	strbuf_release(&err);
	json_decref(c);
}

int main(void)
{
	char dir[512], path[1024], flag[64], variant[64];
	struct dirent **names;
	int n;

	snprintf(dir, sizeof(dir), "%s/tests/data/flag-rollout", SLIPWAY_SRC_DIR);
	n = scandir(dir, &names, NULL, alphasort);
	ok(n > 0, "tests/data/flag-rollout has cases");
	for (int i = 0; i < n; i++) {
		size_t l = strlen(names[i]->d_name);
		if (l > 5 && !strcmp(names[i]->d_name + l - 5, ".json")) {
			snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
			run_case(path, names[i]->d_name);
		}
		free(names[i]);
	}
	free(names);

	ok(flag_cohort_format(path, sizeof(path), "agent:billing:enabled", "on") == 0 &&
	   !strcmp(path, "flag:agent:billing:enabled=on"), "cohort name");
	ok(flag_cohort_format(flag, 10, "agent:billing:enabled", "on") == SW_ETOOBIG && !flag[0], "too long: refused");
	ok(flag_cohort_parse("flag:agent:billing:enabled=on", flag, sizeof(flag), variant, sizeof(variant)) == 1 &&
	   !strcmp(flag, "agent:billing:enabled") && !strcmp(variant, "on"), "cohort parsed");
	ok(flag_cohort_parse("v1.2-rc", flag, sizeof(flag), variant, sizeof(variant)) == 0, "a revision is no cohort");
	ok(flag_cohort_parse("flag:x", flag, sizeof(flag), variant, sizeof(variant)) == SW_EUSAGE &&
	   flag_cohort_parse("flag:=on", flag, sizeof(flag), variant, sizeof(variant)) == SW_EUSAGE &&
	   flag_cohort_parse("flag:x=", flag, sizeof(flag), variant, sizeof(variant)) == SW_EUSAGE,
	   "a malformed cohort is refused");
	return tap_done();
}
