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

#include "base/strbuf.h"
#include "controller/analysis_plan.h"
#include "core/deployment.h"
#include "core/query_analysis.h"

#include <math.h>
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
	double v[QUERY_MAX_VALUES];
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
	return tap_done();
}
