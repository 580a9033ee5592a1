/*
 * pack_file.c - agent pack definitions through the YAML walker; see
 * pack_file.h.  A table of keys, each with its parser; the checks across
 * keys (names valid as slipway names, steps increasing) report at the value.
 */
#include "core/pack_file.h"
#include "base/err.h"
#include "base/strbuf.h"
#include "core/service.h"

#include <libfyaml.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_step(struct yaml_walk *w, struct fy_node *item, struct yaml_pos at, void *dst)
{
	struct pack_def *d = dst;
	struct yaml_key k = { .name = "steps", .min = 0, .max = 100 };
	double p = 0;
	int r;
	if (d->nsteps >= PACK_STEPS_MAX)
		return yaml_walk_fail(w, at, "steps: at most %d steps", PACK_STEPS_MAX);
	if ((r = yaml_parse_percent(w, &k, item, at, &p)) < 0)
		return r;
	if (p <= 0)
		return yaml_walk_fail(w, at, "steps: each step must be above 0%% (the flag starts disabled)");
	if (d->nsteps && p <= d->steps[d->nsteps - 1])
		return yaml_walk_fail(w, at, "steps: %g%% does not raise the previous step (%g%%); steps must increase, "
				      "e.g. [5, 25, 50, 100]", p, d->steps[d->nsteps - 1]);
	d->steps[d->nsteps++] = p;
	return 0;
}

static int check(struct yaml_walk *w, void *obj, struct yaml_pos at)
{
	struct pack_def *d = obj;
	if (d->at_service.line && !service_name_valid(d->service))
		return yaml_walk_fail(w, d->at_service, "service: '%s' is not a service name ([A-Za-z0-9._-], 1 to %d "
				      "characters)", d->service, SW_NAME_MAX);
	if (d->at_flag.line && !flag_name_ok(d->flag))
		return yaml_walk_fail(w, d->at_flag, "flag: '%s' is not a flag name (1 to %d letters, digits and "
				      ". _ - : /)", d->flag, FLAG_KEY_MAX);
	if (d->at_segment.line && !flag_name_ok(d->segment))
		return yaml_walk_fail(w, d->at_segment, "segment: '%s' is not a segment name (1 to %d letters, digits "
				      "and . _ - : /)", d->segment, FLAG_KEY_MAX);
	if (d->at_steps.line && d->nsteps == 0)
		return yaml_walk_fail(w, d->at_steps, "steps: give at least one step, e.g. [5, 25, 50, 100]");
	if (d->nsteps && d->steps[d->nsteps - 1] != 100)
		return yaml_walk_fail(w, d->at_steps, "steps: the last step must be 100 (a pack ships to everyone); "
				      "found %g", d->steps[d->nsteps - 1]);
	(void)at;
	return 0;
}

/* tests: a command; an empty one would pass every time (sh -c "" exits 0) */
static int parse_tests(struct yaml_walk *w, const struct yaml_key *k, struct fy_node *v, struct yaml_pos at, void *dst)
{
	char **p = dst;
	int r = yaml_parse_str(w, k, v, at, dst);
	if (r >= 0 && (!*p || !(*p)[strspn(*p, " \t\r\n")]))
		return yaml_walk_fail(w, at, "tests is empty: give the command that exits 0 when the pack works "
				      "(e.g. tests: ./packs/billing/test.sh); an empty command would always pass");
	return r;
}

static const struct yaml_key keys[] = {
	{ .name = "service", .parse = yaml_parse_buf, .offset = offsetof(struct pack_def, service),
	  .size = SW_NAME_MAX + 1, .at = YAML_AT(struct pack_def, at_service), .flags = YAML_REQUIRED,
	  .hint = "(the service that ships the pack, e.g. service: billing-api)" },
	{ .name = "tests", .parse = parse_tests, .offset = offsetof(struct pack_def, tests),
	  .size = PACK_TESTS_MAX, .flags = YAML_REQUIRED,
	  .hint = "(a command that exits 0 when the pack works, e.g. tests: ./packs/billing/test.sh)" },
	{ .name = "flag", .parse = yaml_parse_buf, .offset = offsetof(struct pack_def, flag), .size = FLAG_KEY_MAX + 1,
	  .at = YAML_AT(struct pack_def, at_flag) },
	{ .name = "segment", .parse = yaml_parse_buf, .offset = offsetof(struct pack_def, segment),
	  .size = FLAG_KEY_MAX + 1, .at = YAML_AT(struct pack_def, at_segment) },
	{ .name = "steps", .parse = yaml_parse_list, .offset = 0, .max = PACK_STEPS_MAX, .item = parse_step,
	  .at = YAML_AT(struct pack_def, at_steps) },
	{ .name = "interval", .parse = yaml_parse_duration, .offset = offsetof(struct pack_def, interval_ms),
	  .min = 10000 },
	{ .name = "tests_timeout", .parse = yaml_parse_duration,
	  .offset = offsetof(struct pack_def, tests_timeout_ms), .min = 1000, .max = 86400000 },
	{ 0 },
};

static const struct yaml_map pack_map = { "the pack", keys, check };

int pack_file_parse(const char *file, const char *name, const char *buf, size_t len, struct pack_def *out,
		    struct strbuf *err)
{
	struct yaml_walk w;
	struct fy_node *root = NULL;
	struct pack_def d;
	int r;

	memset(&d, 0, sizeof(d));
	snprintf(d.name, sizeof(d.name), "%s", name);
	d.interval_ms = 30 * 60 * 1000;
	d.tests_timeout_ms = 10 * 60 * 1000;
	if ((r = yaml_walk_open(&w, file, "a pack file", buf, len, PACK_FILE_MAX, err, &root)) < 0)
		return r;
	if (!root)
		r = yaml_walk_fail(&w, YAML_ROOT_POS, "the file is empty; a pack needs service: and tests:");
	else
		r = yaml_walk_map(&w, root, YAML_ROOT_POS, &pack_map, NULL, &d);
	yaml_walk_close(&w);
	if (r < 0) {
		free(d.tests);
		return r;
	}
	if (!d.flag[0])
		snprintf(d.flag, sizeof(d.flag), "agent:%s:enabled", name);
	if (!d.segment[0])
		snprintf(d.segment, sizeof(d.segment), "canary-users");
	if (!d.nsteps) {
		static const double def[] = { 5, 25, 50, 100 };
		memcpy(d.steps, def, sizeof(def));
		d.nsteps = 4;
	}
	*out = d;
	return 0;
}

void pack_def_release(struct pack_def *d)
{
	if (!d)
		return;
	free(d->tests);
	d->tests = NULL;
}

void pack_steps_format(const struct pack_def *d, char *out, size_t n)
{
	size_t used = 0;
	out[0] = '\0';
	for (int i = 0; i < d->nsteps && used < n; i++) {
		int w = snprintf(out + used, n - used, "%s%g%%", i ? "," : "", d->steps[i]);
		if (w < 0)
			break;
		used += (size_t)w;
	}
}
