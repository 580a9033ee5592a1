/*
 * test_argo.c - Argo Rollouts and Flagger template files (core/argo.h,
 * core/argo_expr.h, core/metric_template.h), from data files:
 *
 *   tests/data/argo-expr/NAME.case     a condition (or two) and a recorded
 *                                      Prometheus answer; the measurement
 *                                      phase expected, or the parse error
 *   tests/data/argo-phases/NAME.case   a metric's limits and a sequence of
 *                                      measurement phases; the metric phase
 *   tests/data/argo-files/NAME.yaml    a file as a team writes it; its first
 *                                      line "# expect: ok" or "# expect: TEXT"
 *                                      (the error must contain TEXT), and for
 *                                      rollouts "# steps: W/HOLD ..." (HOLD in
 *                                      ms, or "manual"; "+a" marks an
 *                                      analysis step)
 *
 * Lines of a .case file are "key: value"; '#' starts a comment only at the
 * start of a line (conditions use '#').
 */
#include "tap.h"
#include "casefile.h"

#include "adapters/analysis_files.h"
#include "core/argo.h"
#include "core/argo_expr.h"
#include "core/metric_template.h"
#include "core/rollout_config.h"
#include "base/strbuf.h"

#include <jansson.h>
#include <math.h>

struct kv {
	char key[32];
	char *val;
};

/* "key: value" lines of path into kv (values are new strings). */
static int read_kv(const char *path, struct kv *kv, int max)
{
	FILE *f = fopen(path, "r");
	char line[8192];
	int n = 0;
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f) && n < max) {
		char *c = strstr(line, ": "), *e;
		if (line[0] == '#' || !c)
			continue;
		*c = '\0';
		e = c + 2 + strlen(c + 2);
		while (e > c + 2 && (e[-1] == '\n' || e[-1] == '\r'))
			*--e = '\0';
		snprintf(kv[n].key, sizeof(kv[n].key), "%.31s", line);
		kv[n++].val = strdup(c + 2);
	}
	fclose(f);
	return n;
}

static const char *get(struct kv *kv, int n, const char *key)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(kv[i].key, key))
			return kv[i].val;
	return NULL;
}

static void expr_case(const char *dir, const char *name)
{
	char path[1024];
	struct kv kv[16];
	int n;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	n = read_kv(path, kv, 16);
	if (n < 0) {
		ok(0, "%s: cannot read", name);
		return;
	}
	const char *parse = get(kv, n, "parse"), *error = get(kv, n, "error");
	if (parse) {
		struct argo_expr *e = NULL;
		struct strbuf err = STRBUF_INIT;
		int col = 0, r = argo_expr_parse(parse, &e, &col, &err);
		if (error) {
			ok(r < 0 && strstr(err.buf, error), "%s: refused with '%s' (got '%s')", name, error, err.buf);
		} else {
			ok(r == 0, "%s: parses (%s)", name, err.buf);
		}
		argo_expr_free(e);
		strbuf_release(&err);
	} else {
		const char *succ = get(kv, n, "success"), *fail = get(kv, n, "failure"), *answer = get(kv, n, "answer");
		const char *expect = get(kv, n, "expect"), *reason = get(kv, n, "reason");
		struct argo_expr *se = NULL, *fe = NULL;
		struct strbuf err = STRBUF_INIT, why = STRBUF_INIT;
		json_t *j = answer ? json_loads(answer, 0, NULL) : NULL;
		double buf[64];
		struct argo_result res;
		int r = 0;
		if (succ)
			r |= argo_expr_parse(succ, &se, NULL, &err);
		if (fail)
			r |= argo_expr_parse(fail, &fe, NULL, &err);
		if (r < 0 || !j || !expect) {
			ok(0, "%s: bad case (%s)", name, err.buf);
		} else {
			json_t *data = json_object_get(j, "data");
			if (argo_result_from_prometheus(data ? data : j, &res, buf, 64, &err) < 0) {
				ok(!strcmp(expect, "BadAnswer") && (!reason || strstr(err.buf, reason)),
				   "%s: answer refused: %s", name, err.buf);
			} else {
				enum argo_phase p = argo_measure(se, fe, &res, &why);
				ok(!strcmp(argo_phase_name(p), expect) && (!reason || strstr(why.buf, reason)),
				   "%s: %s (%s), want %s%s%s", name, argo_phase_name(p), why.buf, expect, reason ? " / " : "",
				   reason ? reason : "");
			}
		}
		json_decref(j);
		argo_expr_free(se);
		argo_expr_free(fe);
		strbuf_release(&err);
		strbuf_release(&why);
	}
	for (int i = 0; i < n; i++)
		free(kv[i].val);
}

static enum argo_phase phase_of(const char *w)
{
	return !strcmp(w, "S") ? ARGO_SUCCESSFUL : !strcmp(w, "F") ? ARGO_FAILED : !strcmp(w, "I") ? ARGO_INCONCLUSIVE
		: !strcmp(w, "E") ? ARGO_ERROR : ARGO_RUNNING;
}

static void phases_case(const char *dir, const char *name)
{
	char path[1024];
	struct kv kv[16];
	int n;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	n = read_kv(path, kv, 16);
	const char *limits = n > 0 ? get(kv, n, "limits") : NULL, *measure = n > 0 ? get(kv, n, "measure") : NULL;
	const char *expect = n > 0 ? get(kv, n, "expect") : NULL, *run = n > 0 ? get(kv, n, "run") : NULL;
	if (run && expect) {
		enum argo_phase ph[16];
		size_t k = 0;
		char *copy = strdup(run), *save = NULL;
		for (char *t = strtok_r(copy, " ", &save); t && k < 16; t = strtok_r(NULL, " ", &save))
			ph[k++] = !strcmp(t, "R") ? ARGO_RUNNING : phase_of(t);
		ok(!strcmp(argo_phase_name(argo_run_phase(ph, k)), expect), "%s: run %s is %s, want %s", name, run,
		   argo_phase_name(argo_run_phase(ph, k)), expect);
		free(copy);
	} else if (limits && measure && expect) {
		struct argo_limits l = { 0, 0, 0, 4 };
		struct argo_metric_state st = { 0 };
		char *copy = strdup(measure), *save = NULL;
		sscanf(limits, "count=%d failureLimit=%d inconclusiveLimit=%d consecutiveErrorLimit=%d", &l.count,
		       &l.failure_limit, &l.inconclusive_limit, &l.consecutive_error_limit);
		for (char *t = strtok_r(copy, " ", &save); t; t = strtok_r(NULL, " ", &save))
			argo_metric_record(&st, phase_of(t));
		ok(!strcmp(argo_phase_name(argo_metric_phase(&st, &l)), expect), "%s: %s after %s, want %s", name,
		   argo_phase_name(argo_metric_phase(&st, &l)), measure, expect);
		free(copy);
	} else {
		ok(0, "%s: bad case", name);
	}
	for (int i = 0; i < n; i++)
		free(kv[i].val);
}

/* A rollout's steps as "W/HOLD" words, "manual" for an indefinite pause, "+a" after an analysis step. */
static void steps_string(const struct rollout_config *c, struct strbuf *sb)
{
	for (int i = 0; i < c->strategy.n_steps; i++) {
		int manual = 0, an = 0;
		for (int k = 0; k < c->argo.n_manual; k++)
			manual |= c->argo.manual[k] == i;
		for (int k = 0; k < c->argo.n_analyses; k++)
			an |= c->argo.analyses[k].step == i;
		if (sb->len)
			strbuf_addch(sb, ' ');
		if (manual)
			strbuf_addf(sb, "%g/manual", c->strategy.steps[i].weight);
		else
			strbuf_addf(sb, "%g/%lld", c->strategy.steps[i].weight, (long long)c->strategy.steps[i].hold_ms);
		if (an)
			strbuf_addstr(sb, "+a");
	}
}

static void file_case(const char *dir, const char *name)
{
	char path[1024], line[512], steps[512] = "";
	struct strbuf text = STRBUF_INIT, err = STRBUF_INIT;
	FILE *f;
	int r;
	const char *expect;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (strbuf_read_file_max(&text, path, 1 << 20, &err) < 0 || !(f = fopen(path, "r"))) {
		ok(0, "%s: cannot read", name);
		return;
	}
	if (!fgets(line, sizeof(line), f) || strncmp(line, "# expect: ", 10)) {
		ok(0, "%s: first line must be '# expect: ...'", name);
		fclose(f);
		strbuf_release(&text);
		return;
	}
	line[strcspn(line, "\n")] = '\0';
	expect = line + 10;
	{
		char l2[512];
		if (fgets(l2, sizeof(l2), f) && !strncmp(l2, "# steps: ", 9)) {
			l2[strcspn(l2, "\n")] = '\0';
			snprintf(steps, sizeof(steps), "%s", l2 + 9);
		}
	}
	fclose(f);
	if (analysis_files_has_kind(text.buf, "AnalysisTemplate") ||
	    analysis_files_has_kind(text.buf, "ClusterAnalysisTemplate")) {
		struct argo_template *t = calloc(1, sizeof(*t));
		r = argo_template_parse(text.buf, text.len, name, t, &err);
		if (r == 0)
			argo_template_release(t);
		free(t);
	} else if (analysis_files_has_kind(text.buf, "MetricTemplate")) {
		struct metric_template mt;
		r = metric_template_parse(text.buf, text.len, name, &mt, &err);
		if (r == 0)
			metric_template_release(&mt);
	} else {
		struct rollout_config *c = calloc(1, sizeof(*c));
		r = rollout_config_parse(text.buf, text.len, name, c, &err);
		if (r == 0 && steps[0]) {
			struct strbuf got = STRBUF_INIT;
			steps_string(c, &got);
			ok(!strcmp(got.buf, steps), "%s: steps '%s', want '%s'", name, got.buf, steps);
			strbuf_release(&got);
		}
		free(c);
	}
	if (!strcmp(expect, "ok"))
		ok(r == 0, "%s: loads (%s)", name, err.buf);
	else
		ok(r < 0 && strstr(err.buf, expect), "%s: refused with '%s' (got '%s')", name, expect, err.buf);
	strbuf_release(&text);
	strbuf_release(&err);
}

static void each(const char *area, const char *suffix, void (*fn)(const char *, const char *))
{
	const char *src = getenv("SLIPWAY_SRC");
	char dir[1024];
	struct dirent *e;
	DIR *d;
	char *names[512];
	int n = 0;
	snprintf(dir, sizeof(dir), "%s/tests/data/%s", src ? src : SLIPWAY_SRC_DIR, area);
	if (!(d = opendir(dir))) {
		ok(0, "cannot open %s", dir);
		return;
	}
	while ((e = readdir(d)) && n < 512) {
		size_t l = strlen(e->d_name), sl = strlen(suffix);
		if (l > sl && !strcmp(e->d_name + l - sl, suffix))
			names[n++] = strdup(e->d_name);
	}
	closedir(d);
	for (int i = 0; i < n; i++)
		for (int j = i + 1; j < n; j++)
			if (strcmp(names[i], names[j]) > 0) {
				char *t = names[i];
				names[i] = names[j];
				names[j] = t;
			}
	ok(n > 0, "%s: %d cases", area, n);
	for (int i = 0; i < n; i++) {
		fn(dir, names[i]);
		free(names[i]);
	}
}

/* Rendering: arguments, defaults, Rollout values, Flagger variables. */
static void test_render(void)
{
	struct argo_template t;
	struct argo_arg given[2];
	struct strbuf err = STRBUF_INIT;
	char *q = NULL;

	memset(&t, 0, sizeof(t));
	memset(given, 0, sizeof(given));
	t.n_args = 2;
	snprintf(t.args[0].name, sizeof(t.args[0].name), "svc");
	snprintf(t.args[1].name, sizeof(t.args[1].name), "window");
	snprintf(t.args[1].value, sizeof(t.args[1].value), "5m");
	t.args[1].has_value = 1;
	ok(argo_render("x{svc=\"{{args.svc}}\"}[{{ args.window }}]", &t, given, 0, &q, &err) < 0 &&
	   strstr(err.buf, "argument 'svc' has no value"), "render: a missing argument is refused (%s)", err.buf);
	snprintf(given[0].name, sizeof(given[0].name), "svc");
	snprintf(given[0].value, sizeof(given[0].value), "demo");
	given[0].has_value = 1;
	snprintf(given[1].name, sizeof(given[1].name), "window");
	snprintf(given[1].value, sizeof(given[1].value), "1m");
	given[1].has_value = 1;
	ok(argo_render("x{svc=\"{{args.svc}}\"}[{{ args.window }}]", &t, given, 1, &q, &err) == 0 &&
	   !strcmp(q, "x{svc=\"demo\"}[5m]"), "render: given value and template default (%s)", q ? q : err.buf);
	free(q);
	q = NULL;
	ok(argo_render("[{{args.window}}]", &t, given, 2, &q, &err) == 0 && !strcmp(q, "[1m]"),
	   "render: the Rollout's value overrides the default");
	free(q);

	struct metric_template mt = { .name = "m" };
	struct flagger_template_ref ref = { .metric = "x", .interval_ms = 90000, .n_vars = 1 };
	snprintf(ref.var_names[0], sizeof(ref.var_names[0]), "direction");
	snprintf(ref.var_values[0], sizeof(ref.var_values[0]), "inbound");
	mt.query = "a{ns=\"{{ namespace }}\",t=\"{{target}}\",d=\"{{ variables.direction }}\"}[{{ interval }}]";
	q = NULL;
	ok(metric_template_render(&mt, &ref, "prod", "podinfo", &q, &err) == 0 &&
	   !strcmp(q, "a{ns=\"prod\",t=\"podinfo\",d=\"inbound\"}[1m30s]"), "flagger render: %s", q ? q : err.buf);
	free(q);
	q = NULL;
	mt.query = "{{ variables.missing }}";
	strbuf_reset(&err);
	ok(metric_template_render(&mt, &ref, "prod", "podinfo", &q, &err) < 0 && strstr(err.buf, "needs variable 'missing'"),
	   "flagger render: an unknown variable is refused (%s)", err.buf);

	/* Flagger's threshold check: outside the range, no data and NaN are failed checks */
	struct flagger_template_ref r2 = { .has_max = 1, .max = 5 };
	double v, vals[1] = { 7 }, nan1[1] = { NAN }, in[1] = { 2 };
	strbuf_reset(&err);
	ok(flagger_threshold_check(&r2, vals, 1, &v, &err) == 0 && strstr(err.buf, "above"), "flagger: above max fails");
	strbuf_reset(&err);
	ok(flagger_threshold_check(&r2, vals, 0, &v, &err) == 0 && strstr(err.buf, "no data"), "flagger: no data fails");
	strbuf_reset(&err);
	ok(flagger_threshold_check(&r2, nan1, 1, &v, &err) == 0 && strstr(err.buf, "NaN"), "flagger: NaN fails");
	strbuf_reset(&err);
	ok(flagger_threshold_check(&r2, in, 1, &v, &err) == 1, "flagger: within passes");
	strbuf_release(&err);
}

int main(void)
{
	each("argo-expr", ".case", expr_case);
	each("argo-phases", ".case", phases_case);
	each("argo-files", ".yaml", file_case);
	test_render();
	return tap_done();
}
