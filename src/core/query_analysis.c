/*
 * query_analysis.c - a rollout file's own queries during a deployment
 * (Flagger MetricTemplate checks, Argo analysis runs); see
 * query_analysis.h and docs/argo.md ("How a deployment runs them").
 *
 * The state is a handful of counters per metric (Argo's MetricResult) and
 * a phase per run (Argo's AnalysisRun); the measurement and phase rules
 * are core/argo_expr.h's and core/metric_template.h's, so `slipway
 * inspect --measure` and a deployment judge a value the same way.
 */
#include "core/query_analysis.h"
#include "base/fmt.h"
#include "base/strbuf.h"
#include "core/deployment.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void query_plan_release(struct query_plan *plan)
{
	if (!plan)
		return;
	for (int i = 0; i < plan->n_metrics; i++)
		free(plan->metrics[i].query);
	for (int i = 0; i < plan->n_templates; i++)
		argo_template_release(&plan->templates[i]);
	free(plan->templates);
	memset(plan, 0, sizeof(*plan));
}

void query_metric_render(const struct query_metric *m, const struct deployment *d, struct strbuf *out)
{
	const char *p = m->query ? m->query : "";
	strbuf_reset(out);
	while (*p) {
		const char *q = strstr(p, "{{"), *e, *n;
		int hit = -1;
		if (!q) {
			strbuf_addstr(out, p);
			break;
		}
		strbuf_add(out, p, (size_t)(q - p));
		e = strstr(q + 2, "}}");
		n = q + 2;
		while (*n == ' ')
			n++;
		if (e && !strncmp(n, "args.", 5)) {
			size_t len = 0;
			n += 5;
			while (n + len < e && n[len] != ' ')
				len++;
			for (int k = 0; k < m->n_from && hit < 0; k++)
				if (strlen(m->from_name[k]) == len && !memcmp(m->from_name[k], n, len))
					hit = k;
		}
		if (hit < 0) {
			strbuf_add(out, q, 2);
			p = q + 2;
			continue;
		}
		strbuf_addstr(out, m->from_kind[hit] == ARGO_FROM_STABLE ? d->from_version : d->version);
		p = e + 2;
	}
}

void query_state_init(struct query_state *s, const struct query_plan *plan)
{
	(void)plan;
	memset(s, 0, sizeof(*s));
}

void query_answer_values(struct query_answer *a, int is_vector, const double *values, size_t n)
{
	memset(a, 0, sizeof(*a));
	if (n > QUERY_MAX_VALUES) {
		query_answer_error(a, "provider error: the answer has more series than slipway keeps (16); "
				   "aggregate the query (sum, max, ...)");
		return;
	}
	a->kind = QUERY_ANSWER_VALUES;
	a->is_vector = is_vector;
	a->n = n;
	for (size_t i = 0; i < n; i++)
		a->values[i] = values[i];
}

void query_answer_error(struct query_answer *a, const char *reason)
{
	memset(a, 0, sizeof(*a));
	a->kind = QUERY_ANSWER_ERROR;
	bprintf(a->error, sizeof(a->error), "%s", reason && *reason ? reason : "provider error");
}

/* Whether d is where run def runs: its step (or any step, background) */
static int run_wanted(const struct query_run_def *def, const struct deployment *d)
{
	int live = d->state == DS_PROGRESSING || d->state == DS_PAUSED;
	if (def->step == QUERY_RUN_FLAGGER)
		return d->state == DS_PROGRESSING && d->step >= 1;
	if (def->step == QUERY_RUN_BACKGROUND)
		return live && d->step >= 1;
	return live && d->step == def->step + 1;
}

static void run_start(const struct query_plan *plan, struct query_state *s, int r, const struct deployment *d,
		      int64_t now_ms)
{
	const struct query_run_def *def = &plan->runs[r];
	struct query_run_state *rs = &s->runs[r];
	memset(rs, 0, sizeof(*rs));
	rs->active = 1;
	rs->started_ms = now_ms;
	rs->phase = ARGO_RUNNING;
	rs->step_at_start = d->step;
	for (int i = def->first; i < def->first + def->n; i++) {
		const struct query_metric *m = &plan->metrics[i];
		struct query_metric_state *ms = &s->m[i];
		memset(ms, 0, sizeof(*ms));
		ms->phase = ARGO_RUNNING;
		ms->last = ARGO_RUNNING;
		bprintf(ms->value, sizeof(ms->value), "-");
		ms->scheduled = m->kind == QUERY_ARGO;
		ms->next_ms = now_ms + deployment_wall_span(d, m->initial_delay_ms);
	}
}

int query_state_due(const struct query_plan *plan, struct query_state *s, const struct deployment *d,
		    int64_t now_ms, int analysis_due, int *due, int max)
{
	int n = 0;
	for (int r = 0; r < plan->n_runs; r++) {
		const struct query_run_def *def = &plan->runs[r];
		struct query_run_state *rs = &s->runs[r];
		int want = run_wanted(def, d);
		if (rs->active && !want) {
			/* the step ended (a promote skips a paused run too), or the deployment
			 * left its steps: the run stops where it is */
			rs->active = 0;
			rs->done = 1;
			continue;
		}
		if (rs->active && rs->phase == ARGO_INCONCLUSIVE && d->state == DS_PAUSED)
			rs->paused = 1;	/* the pause it asked for is committed */
		if (rs->active && rs->paused && d->state == DS_PROGRESSING) {
			/* resumed by a person after an Inconclusive pause: the analysis runs again */
			run_start(plan, s, r, d, now_ms);
		}
		if (!rs->active && want && (!rs->done || (def->step == QUERY_RUN_FLAGGER)))
			run_start(plan, s, r, d, now_ms);
		if (!rs->active)
			continue;
		if (def->step == QUERY_RUN_FLAGGER) {
			int64_t every = deployment_wall_span(d, plan->flagger_interval_ms);
			/* one check an interval, on a look; a little slack for the looks' alignment */
			if (!analysis_due || (s->flagger_checked && now_ms - s->flagger_last_ms < every - every / 12))
				continue;
			s->flagger_last_ms = now_ms;
			s->flagger_checked = 1;
			for (int i = def->first; i < def->first + def->n && n < max; i++)
				due[n++] = i;
			continue;
		}
		if (rs->phase != ARGO_RUNNING)
			continue;
		for (int i = def->first; i < def->first + def->n && n < max; i++) {
			const struct query_metric_state *ms = &s->m[i];
			if (ms->phase == ARGO_RUNNING && ms->scheduled && now_ms >= ms->next_ms)
				due[n++] = i;
		}
	}
	return n;
}

static void value_text(const struct query_answer *a, char *buf, size_t size)
{
	size_t used = 0;
	if (a->kind == QUERY_ANSWER_ERROR) {
		bprintf(buf, size, "-");
		return;
	}
	if (a->n == 0) {
		bprintf(buf, size, "no data");
		return;
	}
	if (!a->is_vector || a->n == 1) {
		bprintf(buf, size, isnan(a->values[0]) ? "NaN" : "%.6g", a->values[0]);
		return;
	}
	buf[0] = '\0';
	for (size_t i = 0; i < a->n && used + 2 < size; i++) {
		int w = snprintf(buf + used, size - used, "%s%.4g%s", i ? " " : "[", a->values[i],
				 i + 1 == a->n ? "]" : "");
		if (w < 0 || (size_t)w >= size - used) {
			bprintf(buf + (size > 4 ? size - 4 : 0), 4, "...");
			break;
		}
		used += (size_t)w;
	}
}

void query_state_record(const struct query_plan *plan, struct query_state *s, int i, const struct deployment *d,
			int64_t now_ms, const struct query_answer *a)
{
	const struct query_metric *m = &plan->metrics[i];
	struct query_metric_state *ms = &s->m[i];
	struct strbuf why = STRBUF_INIT;
	enum argo_phase ph;

	value_text(a, ms->value, sizeof(ms->value));
	ms->at_ms = now_ms;
	ms->measured++;
	s->changed = 1;
	if (m->kind == QUERY_FLAGGER) {
		double v;
		int pass = 0;
		if (a->kind == QUERY_ANSWER_ERROR)
			strbuf_errf(&why, "%s (a failed check, as Flagger)", a->error);
		else
			pass = flagger_threshold_check(&m->ref, a->values, a->n, &v, &why);
		ph = pass ? ARGO_SUCCESSFUL : ARGO_FAILED;
		argo_metric_record(&ms->st, ph);
		ms->last = ms->phase = ph;
		ms->scheduled = 0;
	} else {
		struct argo_limits l = m->limits;
		if (a->kind == QUERY_ANSWER_ERROR) {
			ph = ARGO_ERROR;	/* Argo: a provider fault is an Error measurement */
			strbuf_errf(&why, "%s", a->error);
		} else {
			struct argo_result r = { 0 };
			r.is_vector = a->is_vector;
			r.scalar = a->n ? a->values[0] : NAN;
			r.values = a->values;
			r.n = a->n;
			if (!a->is_vector && a->n == 0) {
				r.is_vector = 1;	/* an empty scalar is no data too */
			}
			ph = argo_measure(m->success, m->failure, &r, &why);
		}
		if (l.count == 0 && m->interval_ms == 0)
			l.count = 1;	/* Argo: no count and no interval is one measurement */
		argo_metric_record(&ms->st, ph);
		ms->last = ph;
		ms->phase = argo_metric_phase(&ms->st, &l);
		/* count > 1 without an interval: measured again at the next tick */
		ms->scheduled = ms->phase == ARGO_RUNNING;
		ms->next_ms = now_ms + (m->interval_ms > 0 ? deployment_wall_span(d, m->interval_ms) : 1);
		{
			const struct query_run_def *def = &plan->runs[m->run];
			enum argo_phase phases[QUERY_MAX_METRICS];
			size_t n = 0;
			for (int k = def->first; k < def->first + def->n; k++)
				phases[n++] = s->m[k].phase;
			s->runs[m->run].phase = argo_run_phase(phases, n);
		}
	}
	bprintf(ms->reason, sizeof(ms->reason), "%s", why.buf);
	strbuf_release(&why);
}

/* The metric that decided run r's phase p (the first in that phase), or -1. */
static int deciding_metric(const struct query_plan *plan, const struct query_state *s, int r, enum argo_phase p)
{
	const struct query_run_def *def = &plan->runs[r];
	for (int i = def->first; i < def->first + def->n; i++)
		if (s->m[i].phase == p)
			return i;
	return -1;
}

static void metric_text(const struct query_plan *plan, const struct query_state *s, int i, char *buf, size_t n)
{
	const struct query_metric *m = &plan->metrics[i];
	const struct query_metric_state *ms = &s->m[i];
	if (m->kind == QUERY_FLAGGER) {
		bprintf(buf, n, "metric '%s' (MetricTemplate '%s'): %s", m->name, m->ref.name, ms->reason);
		return;
	}
	bprintf(buf, n, "metric '%s': %s (value %s; %d measurements: %d failed, %d inconclusive, %d errors; "
		"failureLimit %d, inconclusiveLimit %d, consecutiveErrorLimit %d)", m->name, ms->reason, ms->value,
		ms->st.count, ms->st.failed, ms->st.inconclusive, ms->st.error, m->limits.failure_limit,
		m->limits.inconclusive_limit, m->limits.consecutive_error_limit);
}

static void raise_to(struct query_verdict *out, enum query_action a, const char *reason)
{
	if (a <= out->action)
		return;
	out->action = a;
	bprintf(out->reason, sizeof(out->reason), "%s", reason);
}

void query_state_verdict(const struct query_plan *plan, struct query_state *s, const struct deployment *d,
			 int64_t now_ms, struct query_verdict *out)
{
	char text[400], what[300];
	memset(out, 0, sizeof(*out));
	for (int r = 0; r < plan->n_runs; r++) {
		const struct query_run_def *def = &plan->runs[r];
		struct query_run_state *rs = &s->runs[r];
		if (!rs->active)
			continue;
		if (def->step == QUERY_RUN_FLAGGER) {
			for (int i = def->first; i < def->first + def->n; i++) {
				if (s->m[i].measured == 0 || s->m[i].last != ARGO_FAILED)
					continue;
				metric_text(plan, s, i, what, sizeof(what));
				if (s->m[i].at_ms == now_ms) {
					bprintf(text, sizeof(text), "%s", what);
					raise_to(out, QUERY_FAILED_CHECK, text);
					out->fresh_check = 1;
				} else {
					bprintf(text, sizeof(text), "the last check failed: %s", what);
					raise_to(out, QUERY_HOLD, text);
				}
			}
			continue;
		}
		switch (rs->phase) {
		case ARGO_FAILED:
		case ARGO_ERROR: {
			int i = deciding_metric(plan, s, r, rs->phase);
			/* asked again every call until the deployment leaves its steps (the run
			   stops then): a decision the store did not commit is taken again */
			metric_text(plan, s, i >= 0 ? i : def->first, what, sizeof(what));
			bprintf(text, sizeof(text), "analysis '%s' %s%s: %s", def->name, argo_phase_name(rs->phase),
				rs->phase == ARGO_ERROR ? " (the queries could not be measured, not the canary's metrics)" :
				"", what);
			raise_to(out, QUERY_ROLLBACK, text);
			break;
		}
		case ARGO_INCONCLUSIVE: {
			int i = deciding_metric(plan, s, r, ARGO_INCONCLUSIVE);
			if (rs->paused || d->state != DS_PROGRESSING)
				break;
			metric_text(plan, s, i >= 0 ? i : def->first, what, sizeof(what));
			bprintf(text, sizeof(text), "analysis '%s' Inconclusive: %s; resume re-runs it, promote skips it, "
				"abort rolls back", def->name, what);
			raise_to(out, QUERY_PAUSE, text);
			break;
		}
		case ARGO_RUNNING:
			if (def->step >= 0) {
				int taken = 0, want = 0;
				for (int i = def->first; i < def->first + def->n; i++) {
					taken += s->m[i].st.count;	/* without Error: what count counts */
					want += plan->metrics[i].limits.count > 0 ? plan->metrics[i].limits.count : 1;
				}
				bprintf(text, sizeof(text), "analysis '%s' Running (%d of %d measurements)", def->name, taken,
					want);
				raise_to(out, QUERY_HOLD, text);
			}
			break;
		case ARGO_SUCCESSFUL:
			break;
		}
	}
}

static void cut(char *dst, size_t n, const char *src)
{
	size_t len = strlen(src);
	if (len < n) {
		memcpy(dst, src, len + 1);
		return;
	}
	memcpy(dst, src, n - 4);
	memcpy(dst + n - 4, "...", 4);
}

int query_state_rows(const struct query_plan *plan, const struct query_state *s, const struct deployment *d,
		     struct query_row *rows, int max)
{
	struct strbuf q = STRBUF_INIT;
	int n = 0;
	for (int i = 0; i < plan->n_metrics && n < max; i++) {
		const struct query_metric *m = &plan->metrics[i];
		const struct query_metric_state *ms = &s->m[i];
		struct query_row *row = &rows[n];
		if (!ms->measured)
			continue;
		memset(row, 0, sizeof(*row));
		cut(row->analysis, sizeof(row->analysis), plan->runs[m->run].name);
		cut(row->metric, sizeof(row->metric), m->name);
		query_metric_render(m, d, &q);
		cut(row->query, sizeof(row->query), q.buf);
		cut(row->value, sizeof(row->value), ms->value);
		cut(row->condition, sizeof(row->condition), m->condition);
		if (m->kind == QUERY_FLAGGER) {
			cut(row->outcome, sizeof(row->outcome), ms->last == ARGO_SUCCESSFUL ? "pass" : "failed");
			cut(row->phase, sizeof(row->phase), ms->last == ARGO_SUCCESSFUL ? "pass" : "failed check");
		} else {
			cut(row->outcome, sizeof(row->outcome), argo_phase_name(ms->last));
			cut(row->phase, sizeof(row->phase), argo_phase_name(ms->phase));
		}
		row->count = ms->measured;
		cut(row->reason, sizeof(row->reason), ms->reason);
		n++;
	}
	strbuf_release(&q);
	return n;
}

json_t *query_rows_to_json(const struct query_row *rows, int n)
{
	json_t *a = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(a, json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:i,s:s}", "analysis", rows[i].analysis,
						   "metric", rows[i].metric, "query", rows[i].query, "value",
						   rows[i].value, "condition", rows[i].condition, "outcome",
						   rows[i].outcome, "phase", rows[i].phase, "count", rows[i].count,
						   "reason", rows[i].reason));
	return a;
}
