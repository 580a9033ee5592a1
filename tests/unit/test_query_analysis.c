/*
 * test_query_analysis.c - a rollout file's own queries (Flagger
 * MetricTemplate checks, Argo analysis runs) on the simulated clock:
 * core/query_analysis.h driven by the .case files of tests/data/query-analysis,
 * the rollout files and templates in tests/data/query-analysis/files/.
 *
 * A case (one directive a line, '#' a comment):
 *   rollout FILE            the rollout file (Canary or Rollout) in files/
 *   scale N                 the deployment's time scale (default 1)
 *   look MS                 a judge look ends every MS of wall time (default 10000)
 *   until MS                the last tick (ticks every 1000 ms from 0)
 *   at MS STATE [STEP]      from MS the deployment is STATE (progressing,
 *                           paused, promoting) at STEP (default: unchanged)
 *   answer METRIC A...      the next answers of METRIC's query, in order: a
 *                           number, v:N,N (a vector), empty, nan, scalar:N,
 *                           error:TEXT_WITH_UNDERSCORES; the last repeats
 *   expect MS ACTION [TEXT] the verdict at MS is ACTION (none, hold,
 *                           failed-check, pause, rollback), its reason holding TEXT
 *   never ACTION            no tick's verdict is ACTION
 *   measured METRIC N       METRIC was measured N times in all
 *   query METRIC TEXT       METRIC's query for this deployment holds TEXT
 *   row METRIC FIELD TEXT   METRIC's table row's FIELD (value, outcome, phase, query, condition) holds TEXT
 * The harness applies the verdicts as the controller's state machine would:
 * rollback -> rolling_back, pause -> paused (at the next tick).
 */
#include "tap.h"
#include "casefile.h"

#include "adapters/deployment_store.h"
#include "adapters/sim_infra.h"
#include "adapters/sql.h"
#include "adapters/store.h"
#include "base/alloc.h"
#include "base/strbuf.h"
#include "controller/analysis_plan.h"
#include "controller/controller.h"
#include "core/rollout_config.h"
#include "core/deployment.h"
#include "core/query_analysis.h"

#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ANS 32
#define MAX_EV 32

struct answers {
	char metric[64];
	int n, next;
	char text[MAX_ANS][128];
};

struct event {
	int64_t at;
	enum deploy_state state;
	int step;
};

static const char *action_name(enum query_action a)
{
	static const char *const n[] = { "none", "hold", "failed-check", "pause", "rollback" };
	return n[a];
}

static void parse_answer(const char *t, struct query_answer *a)
{
	double v[QUERY_MAX_VALUES] = { 0 };
	size_t n = 0;
	if (!strcmp(t, "empty")) {
		query_answer_values(a, 1, v, 0);
	} else if (!strcmp(t, "nan")) {
		v[0] = NAN;
		query_answer_values(a, 1, v, 1);
	} else if (!strncmp(t, "error:", 6)) {
		char buf[200];
		snprintf(buf, sizeof(buf), "%s", t + 6);
		for (char *p = buf; *p; p++)
			if (*p == '_')
				*p = ' ';
		query_answer_error(a, buf);
	} else if (!strncmp(t, "scalar:", 7)) {
		v[0] = strtod(t + 7, NULL);
		query_answer_values(a, 0, v, 1);
	} else if (!strncmp(t, "v:", 2)) {
		const char *p = t + 2;
		char *e;
		while (*p && n < QUERY_MAX_VALUES) {
			v[n++] = strtod(p, &e);
			p = *e == ',' ? e + 1 : e;
			if (e == p && *p)
				break;
		}
		query_answer_values(a, 1, v, n);
	} else {
		v[0] = strtod(t, NULL);
		query_answer_values(a, 1, v, 1);
	}
}

static enum deploy_state state_of(const char *w)
{
	if (!strcmp(w, "paused"))
		return DS_PAUSED;
	if (!strcmp(w, "promoting"))
		return DS_PROMOTING;
	if (!strcmp(w, "monitoring"))
		return DS_MONITORING;
	return DS_PROGRESSING;
}

static void run_case(const char *dir, const char *name)
{
	char path[4096], line[1024], *w[16];
	FILE *f;
	struct answers ans[8];
	struct event ev[MAX_EV];
	int n_ans = 0, n_ev = 0, nw;
	int64_t until = 60000, look = 10000;
	double scale = 1;
	char rollout[256] = "";
	struct query_plan plan;
	struct query_state *st = calloc(1, sizeof(*st));
	struct deployment d;
	struct service svc;
	struct strbuf err = STRBUF_INIT;
	/* the verdict of every tick */
	enum query_action acts[1000];
	char reasons[1000][400];
	int measured[QUERY_MAX_METRICS] = { 0 };
	int last_ev = -1;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (!(f = fopen(path, "r"))) {
		ok(0, "%s: cannot open", name);
		free(st);
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		if (!(nw = casefile_words(line, w, 16)))
			continue;
		if (!strcmp(w[0], "rollout") && nw > 1)
			snprintf(rollout, sizeof(rollout), "%s", w[1]);
		else if (!strcmp(w[0], "scale") && nw > 1)
			scale = strtod(w[1], NULL);
		else if (!strcmp(w[0], "look") && nw > 1)
			look = strtoll(w[1], NULL, 10);
		else if (!strcmp(w[0], "until") && nw > 1)
			until = strtoll(w[1], NULL, 10);
		else if (!strcmp(w[0], "at") && nw > 2 && n_ev < MAX_EV) {
			ev[n_ev].at = strtoll(w[1], NULL, 10);
			ev[n_ev].state = state_of(w[2]);
			ev[n_ev].step = nw > 3 ? (int)strtol(w[3], NULL, 10) : -1;
			n_ev++;
		} else if (!strcmp(w[0], "answer") && nw > 2 && n_ans < 8) {
			struct answers *a = &ans[n_ans++];
			memset(a, 0, sizeof(*a));
			snprintf(a->metric, sizeof(a->metric), "%s", w[1]);
			for (int i = 2; i < nw && a->n < MAX_ANS; i++)
				snprintf(a->text[a->n++], sizeof(a->text[0]), "%s", w[i]);
		}
	}
	memset(&svc, 0, sizeof(svc));
	snprintf(svc.name, sizeof(svc.name), "api");
	svc.prom.address = "http://127.0.0.1:9";
	{
		char rp[4096];
		snprintf(rp, sizeof(rp), "%s/files/%s", dir, rollout);
		if (analysis_plan_load_file(&plan, rp, &svc, &err) < 0) {
			ok(0, "%s: the plan loads: %s", name, err.buf);
			fclose(f);
			free(st);
			strbuf_release(&err);
			return;
		}
	}
	memset(&d, 0, sizeof(d));
	snprintf(d.service, sizeof(d.service), "api");
	snprintf(d.version, sizeof(d.version), "v2");
	snprintf(d.from_version, sizeof(d.from_version), "v1");
	d.time_scale = scale;
	d.state = DS_PROGRESSING;
	d.step = 1;
	query_state_init(st, &plan);

	/* the simulated clock: a tick a second */
	for (int64_t t = 0, k = 0; t <= until && k < 1000; t += 1000, k++) {
		int due[QUERY_MAX_METRICS], n;
		struct query_verdict v;
		for (int e = last_ev + 1; e < n_ev && ev[e].at <= t; e++) {
			d.state = ev[e].state;
			if (ev[e].step >= 0)
				d.step = ev[e].step;
			last_ev = e;
		}
		n = query_state_due(&plan, st, &d, t, t % look == 0, due, QUERY_MAX_METRICS);
		for (int i = 0; i < n; i++) {
			struct answers *a = NULL;
			struct query_answer qa;
			for (int j = 0; j < n_ans; j++)
				if (!strcmp(ans[j].metric, plan.metrics[due[i]].name))
					a = &ans[j];
			if (!a || !a->n) {
				query_answer_values(&qa, 1, NULL, 0);
			} else {
				parse_answer(a->text[a->next < a->n ? a->next : a->n - 1], &qa);
				if (a->next < a->n)
					a->next++;
			}
			query_state_record(&plan, st, due[i], &d, t, &qa);
			measured[due[i]]++;
		}
		query_state_verdict(&plan, st, &d, t, &v);
		acts[k] = v.action;
		snprintf(reasons[k], sizeof(reasons[k]), "%s", v.reason);
		printf("# %6lld %-12s %s\n", (long long)t, action_name(v.action), v.reason);
		/* what the state machine would do with it (committed for the next tick) */
		if (v.action == QUERY_ROLLBACK)
			d.state = DS_ROLLING_BACK;
		else if (v.action == QUERY_PAUSE)
			d.state = DS_PAUSED;
	}
	/* the expectations */
	rewind(f);
	while (fgets(line, sizeof(line), f)) {
		if (!(nw = casefile_words(line, w, 16)))
			continue;
		if (!strcmp(w[0], "expect") && nw > 2) {
			int64_t t = strtoll(w[1], NULL, 10);
			int k = (int)(t / 1000);
			char text[256] = "";
			for (int i = 3; i < nw; i++) {
				strncat(text, i > 3 ? " " : "", sizeof(text) - strlen(text) - 1);
				strncat(text, w[i], sizeof(text) - strlen(text) - 1);
			}
			ok(k >= 0 && k < 1000 && !strcmp(action_name(acts[k]), w[2]) && strstr(reasons[k], text),
			   "%s: at %s %s '%s' (got %s: %s)", name, w[1], w[2], text, action_name(acts[k]), reasons[k]);
		} else if (!strcmp(w[0], "never") && nw > 1) {
			int seen = -1;
			for (int k = 0; k <= until / 1000 && k < 1000 && seen < 0; k++)
				if (!strcmp(action_name(acts[k]), w[1]))
					seen = k;
			ok(seen < 0, "%s: never %s (seen at %d s)", name, w[1], seen);
		} else if (!strcmp(w[0], "measured") && nw > 2) {
			int got = -1;
			for (int i = 0; i < plan.n_metrics; i++)
				if (!strcmp(plan.metrics[i].name, w[1]))
					got = measured[i];
			is_int(got, (int)strtol(w[2], NULL, 10), "%s: %s measured %s times", name, w[1], w[2]);
		} else if (!strcmp(w[0], "query") && nw > 2) {
			struct strbuf q = STRBUF_INIT;
			int hit = 0;
			for (int i = 0; i < plan.n_metrics; i++)
				if (!strcmp(plan.metrics[i].name, w[1])) {
					query_metric_render(&plan.metrics[i], &d, &q);
					hit = strstr(q.buf, w[2]) != NULL;
				}
			ok(hit, "%s: %s's query holds %s (%s)", name, w[1], w[2], q.buf);
			strbuf_release(&q);
		} else if (!strcmp(w[0], "row") && nw > 3) {
			struct query_row rows[QUERY_MAX_METRICS];
			int n = query_state_rows(&plan, st, &d, rows, QUERY_MAX_METRICS), hit = 0;
			const char *got = "(no row)";
			for (int i = 0; i < n; i++) {
				if (strcmp(rows[i].metric, w[1]))
					continue;
				got = !strcmp(w[2], "value") ? rows[i].value : !strcmp(w[2], "outcome") ? rows[i].outcome :
				      !strcmp(w[2], "phase") ? rows[i].phase : !strcmp(w[2], "query") ? rows[i].query : rows[i].condition;
				hit = strstr(got, w[3]) != NULL;
			}
			ok(hit, "%s: row %s %s holds %s (got %s)", name, w[1], w[2], w[3], got);
		}
	}
	fclose(f);
	query_plan_release(&plan);
	free(st);
	strbuf_release(&err);
}

/* The plan refuses what it cannot run, naming it. */
static void refusals(const char *dir)
{
	struct query_plan plan;
	struct service svc;
	struct strbuf err = STRBUF_INIT;
	char p[4096];
	int r;

	memset(&svc, 0, sizeof(svc));
	snprintf(svc.name, sizeof(svc.name), "api");
	snprintf(p, sizeof(p), "%s/refused/rollout-missing-template.yaml", dir);
	r = analysis_plan_load_file(&plan, p, &svc, &err);
	ok(r < 0 && strstr(err.buf, "no-such-template"), "a missing AnalysisTemplate is named: %s", err.buf);
	strbuf_reset(&err);
	snprintf(p, sizeof(p), "%s/refused/rollout-fieldref.yaml", dir);
	r = analysis_plan_load_file(&plan, p, &svc, &err);
	ok(r < 0 && strstr(err.buf, "fieldRef"), "a fieldRef argument is refused: %s", err.buf);
	strbuf_reset(&err);
	snprintf(p, sizeof(p), "%s/refused/canary-no-address.yaml", dir);
	r = analysis_plan_load_file(&plan, p, &svc, &err);
	ok(r < 0 && strstr(err.buf, "no Prometheus to ask"), "a metric with no address is refused: %s", err.buf);
	strbuf_release(&err);
}

/* ---- the controller: the plan's verdicts drive real deployments (sim infra, a fake Prometheus) ---- */

static double fake_value;	/* what the fake Prometheus answers; NAN: NaN */
static int fake_calls;

static void fake_measure(void *ctx, const struct query_plan *plan, int i, const struct deployment *d, int64_t at_ms,
			 struct query_answer *a)
{
	double v = fake_value;
	(void)ctx;
	(void)plan;
	(void)i;
	(void)d;
	(void)at_ms;
	fake_calls++;
	query_answer_values(a, 1, &v, 1);
}

static int no_errors(void *ctx, const char *service, enum revision_role role, const char *version, int64_t from_ms,
		     int64_t to_ms, struct metrics_sample *out, struct strbuf *err)
{
	memset(out, 0, sizeof(*out));
	out->requests = 1000;
	out->p50_ms = 10;
	out->p99_ms = 20;
	return 0;
}

static struct deployment load_d(struct store *st, int64_t id)
{
	struct deployment d;
	memset(&d, 0, sizeof(d));
	deployment_store_load(st, id, &d, NULL, NULL);
	return d;
}

/* The Rollout of rollout-step.yaml driven to its end with the fake answering value; returns the id. */
static int64_t drive(const char *dir, struct store *st, const char *service, double value, int64_t *end)
{
	char path[4096];
	struct strbuf text = STRBUF_INIT, err = STRBUF_INIT;
	struct rollout_config *cfg = xcalloc(1, sizeof(*cfg));
	struct query_plan plan;
	struct service svc;
	struct sim_infra infra;
	struct router router;
	struct target target;
	struct metrics_provider prov = { NULL, no_errors, NULL };
	struct judge observed;
	struct controller c;
	struct deployment d;
	int64_t t = 0;

	snprintf(path, sizeof(path), "%s/files/rollout-step.yaml", dir);
	strbuf_read_file_max(&text, path, ROLLOUT_CONFIG_MAX_BYTES, &err);
	rollout_config_parse(text.buf, text.len, path, cfg, &err);
	memset(&svc, 0, sizeof(svc));
	snprintf(svc.name, sizeof(svc.name), "%s", service);
	snprintf(path, sizeof(path), "%s/files", dir);
	analysis_plan_load(&plan, cfg, path, &svc, &err);
	deployment_init(&d, service, "production", "v2", "v1", "standard", -1000);
	deployment_store_create(st, &d, &cfg->strategy, &err);
	sim_infra_init(&infra);
	sim_infra_router(&infra, &router);
	sim_infra_target(&infra, &target);
	controller_init(&c, st);
	c.router = &router;
	c.target = &target;
	c.metrics = &prov;
	judge_observed_impl.init(&observed, NULL, 0);
	c.judge = &observed;
	c.queries = &plan;
	c.measure = fake_measure;
	c.service = service;
	fake_value = value;
	for (t = 0; t < 3600000 && controller_tick(&c, t, &err) > 0; t += 1000)
		if (load_d(st, d.id).state == DS_PAUSED)
			break;
	*end = t;
	controller_release(&c);
	sim_infra_release(&infra);
	query_plan_release(&plan);
	free(cfg);
	strbuf_release(&text);
	strbuf_release(&err);
	return d.id;
}

/* The "queries" of deployment id's last analysis result, as JSON text ("" when none). */
static void last_queries(struct store *st, int64_t id, char *buf, size_t n)
{
	struct sql_stmt *s = NULL;
	buf[0] = '\0';
	if (sql_prepare(st, &s, "SELECT table_json FROM analysis_results WHERE deployment_id = ? ORDER BY id DESC "
			       "LIMIT 1", NULL) != 0)
		return;
	sql_bind_int64(s, 1, id);
	if (sql_step(s, NULL) == SQL_ROW) {
		const char *t = sql_column_text(s, 0);
		const char *q = t ? strstr(t, "\"queries\"") : NULL;
		snprintf(buf, n, "%s", q ? q : "");
	}
	sql_finalize(s);
}

static void controller_runs(const char *dir)
{
	char tmp[] = "/tmp/slipway-test-query-analysis.XXXXXX", q[8192];
	struct store st = { 0 };
	struct strbuf err = STRBUF_INIT;
	struct deployment d;
	int64_t id, end;

	ok(mkdtemp(tmp) != NULL, "a state directory");
	store_open(&st, tmp, &err);
	deployment_store_migrate(&st, &err);

	fake_calls = 0;
	id = drive(dir, &st, "good", 0.99, &end);
	d = load_d(&st, id);
	is_str(deployment_state_name(d.state), "succeeded", "controller: the analysis Successful, the Rollout succeeds");
	is_int(fake_calls, 3, "its three measurements were taken (count 3)");
	last_queries(&st, id, q, sizeof(q));
	ok(strstr(q, "\"metric\":\"success-rate\"") && strstr(q, "\"outcome\":\"Successful\""),
	   "the analysis results carry the queries: %.200s", q);

	id = drive(dir, &st, "bad", 0.5, &end);
	d = load_d(&st, id);
	is_str(deployment_state_name(d.state), "rolled_back", "controller: the analysis Failed, rolled back");
	ok(strstr(d.reason, "analysis 'success-rate' Failed: metric 'success-rate'") != NULL, "the reason: %s", d.reason);
	last_queries(&st, id, q, sizeof(q));
	ok(strstr(q, "\"value\":\"0.5\"") && strstr(q, "\"phase\":\"Failed\""),
	   "the verdict's own analysis result holds the value it acted on: %.200s", q);

	id = drive(dir, &st, "undefined", NAN, &end);
	d = load_d(&st, id);
	is_str(deployment_state_name(d.state), "rolled_back", "controller: NaN never passes (Failed against a success condition)");
	ok(strstr(d.reason, "value NaN") != NULL, "the reason names NaN: %s", d.reason);
	store_close(&st);
	strbuf_release(&err);
}

int main(void)
{
	char dir[4096], **names;
	int n;
	setenv("SLIPWAY_SRC", SLIPWAY_SRC_DIR, 0);
	n = casefile_list("query-analysis", dir, sizeof(dir), &names);
	ok(n > 0, "cases in %s", dir);
	for (int i = 0; i < n; i++) {
		run_case(dir, names[i]);
		free(names[i]);
	}
	free(names);
	refusals(dir);
	controller_runs(dir);
	return tap_done();
}
