/*
 * test_dora.c - the deployment metrics (core/dora.h) over the cases in
 * tests/data/dora/NAME.case, and the monthly chart.
 *
 * Case directives: range FROM TO |
 * deploy succeeded|rolled_back|failed FINISHED [commit TIME] [detected TIME] [incident] |
 * every-weekday succeeded FIRST LAST [lead DURATION] |
 * incident OPENED RESOLVED |
 * expect METRIC_KEY VALUE|- meets|within|outside|no-data | expect finished N
 * (a rolled-back deployment's recovery ends at FINISHED).
 */
#include "tap.h"
#include "casefile.h"
#include "base/alloc.h"
#include "base/err.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "core/dora.h"

#include <math.h>
#include <stdlib.h>

static int64_t t(const char *s)
{
	int64_t ms = 0;
	if (time_parse_rfc3339(s, &ms, NULL))
		printf("# bad time %s\n", s);
	return ms;
}

static const char *status_word(enum dora_status s)
{
	switch (s) {
	case DORA_MEETS: return "meets";
	case DORA_WITHIN: return "within";
	case DORA_OUTSIDE: return "outside";
	case DORA_NO_DATA: break;
	}
	return "no-data";
}

static void run_case(const char *dir, const char *name)
{
	char path[8200], line[1024];
	FILE *f;
	struct dora_deploy *d = NULL;
	struct dora_incident inc[32];
	size_t n = 0, alloc = 0, ni = 0;
	int64_t from = 0, to = 0;
	char *expects[32];
	int ne = 0;
	struct dora_report r;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (!(f = fopen(path, "r"))) {
		ok(0, "%s: cannot open", name);
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		char *w[12], keep[1024];
		int k;
		snprintf(keep, sizeof(keep), "%s", line);
		k = casefile_words(line, w, 12);
		if (k == 0)
			continue;
		if (!strcmp(w[0], "range") && k >= 3) {
			from = t(w[1]);
			to = t(w[2]);
		} else if (!strcmp(w[0], "deploy") && k >= 3) {
			struct dora_deploy *x;
			ALLOC_GROW(d, n + 1, alloc);
			x = &d[n++];
			x->id = (int64_t)n;
			x->outcome = !strcmp(w[1], "succeeded") ? DORA_SUCCEEDED
				     : !strcmp(w[1], "rolled_back") ? DORA_ROLLED_BACK : DORA_FAILED;
			x->finished_ms = t(w[2]);
			x->commit_time_ms = x->detected_ms = x->recovered_ms = DORA_NONE;
			x->incident_linked = 0;
			for (int i = 3; i < k; i++) {
				if (!strcmp(w[i], "commit") && i + 1 < k)
					x->commit_time_ms = t(w[++i]);
				else if (!strcmp(w[i], "detected") && i + 1 < k) {
					x->detected_ms = t(w[++i]);
					x->recovered_ms = x->finished_ms;
				} else if (!strcmp(w[i], "incident"))
					x->incident_linked = 1;
			}
		} else if (!strcmp(w[0], "every-weekday") && k >= 4) {
			int64_t lead = -1;
			if (k >= 6 && !strcmp(w[4], "lead"))
				duration_parse(w[5], &lead, NULL);
			for (int64_t ms = t(w[2]); ms <= t(w[3]); ms += MS_PER_DAY) {
				struct civil c;
				struct dora_deploy *x;
				civil_from_ms(ms, &c);
				if (c.wday == 0 || c.wday == 6)
					continue;
				ALLOC_GROW(d, n + 1, alloc);
				x = &d[n++];
				x->id = (int64_t)n;
				x->outcome = DORA_SUCCEEDED;
				x->finished_ms = ms;
				x->commit_time_ms = lead >= 0 ? ms - lead : DORA_NONE;
				x->detected_ms = x->recovered_ms = DORA_NONE;
				x->incident_linked = 0;
			}
		} else if (!strcmp(w[0], "incident") && k >= 3 && ni < 32) {
			inc[ni].opened_ms = t(w[1]);
			inc[ni].resolved_ms = t(w[2]);
			ni++;
		} else if (!strcmp(w[0], "expect") && ne < 32) {
			expects[ne++] = strdup(keep);
		}
	}
	fclose(f);
	is_int(dora_compute(d, n, inc, ni, from, to, NULL, &r, NULL), 0, "%s: computes", name);
	for (int e = 0; e < ne; e++) {
		char *w[8];
		int k = casefile_words(expects[e], w, 8);
		if (k >= 3 && !strcmp(w[1], "finished")) {
			is_int(r.finished, strtoll(w[2], NULL, 10), "%s: %s finished", name, w[2]);
		} else if (k >= 4) {
			const struct dora_metric *m = NULL;
			for (int i = 0; i < DORA_M_COUNT; i++)
				if (!strcmp(r.m[i].key, w[1]))
					m = &r.m[i];
			ok(m != NULL, "%s: metric %s exists", name, w[1]);
			if (!m)
				continue;
			if (strcmp(w[2], "-")) {
				double want = strtod(w[2], NULL);
				ok(fabs(m->value - want) < 1e-6 * (fabs(want) + 1), "%s: %s = %s (got %g)", name, w[1], w[2],
				   m->value);
			}
			is_str(status_word(m->status), w[3], "%s: %s status", name, w[1]);
		}
		free(expects[e]);
	}
	dora_report_release(&r);
	free(d);
}

int main(void)
{
	char dir[4096];
	char **names;
	int n = casefile_list("dora", dir, sizeof(dir), &names);
	struct dora_report r;
	struct strbuf sb = STRBUF_INIT;
	struct dora_deploy d[3] = {
		{ 1, DORA_SUCCEEDED, 0, DORA_NONE, DORA_NONE, DORA_NONE, 0 },
		{ 2, DORA_SUCCEEDED, 0, DORA_NONE, DORA_NONE, DORA_NONE, 0 },
		{ 3, DORA_ROLLED_BACK, 0, DORA_NONE, DORA_NONE, DORA_NONE, 0 },
	};

	ok(n >= 5, "found the dora cases in %s (%d)", dir, n);
	for (int i = 0; i < n; i++) {
		run_case(dir, names[i]);
		free(names[i]);
	}
	free(names);

	/* the chart: one line per month of the range, the busiest month full width */
	d[0].finished_ms = t("2026-01-10T00:00:00Z");
	d[1].finished_ms = t("2026-03-10T00:00:00Z");
	d[2].finished_ms = t("2026-03-11T00:00:00Z");
	is_int(dora_compute(d, 3, NULL, 0, t("2026-01-01T00:00:00Z"), t("2026-04-01T00:00:00Z"), NULL, &r, NULL), 0,
	       "three months");
	is_int(r.n_months, 3, "three months in the trend");
	dora_chart(&r, 10, &sb);
	ok(strstr(sb.buf, "2026-01  ██████████") != NULL, "January full width (1 of max 1)");
	ok(strstr(sb.buf, "2026-02  ·") != NULL, "February empty");
	ok(strstr(sb.buf, "fail  50.0%") != NULL, "March fail rate 50%%");
	dora_report_release(&r);
	strbuf_release(&sb);
	is_int(dora_compute(d, 3, NULL, 0, 10, 10, NULL, &r, NULL), SW_EUSAGE, "empty range refused");

	/* targets from the policy instead of the runbook's */
	{
		struct dora_targets tg;
		dora_targets_runbook(&tg);
		tg.failure_target_pct = 60;
		tg.failure_threshold_pct = 80;
		tg.frequency_target_ms = 30 * MS_PER_DAY;
		tg.frequency_threshold_ms = 60 * MS_PER_DAY;
		is_int(dora_compute(d, 3, NULL, 0, t("2026-01-01T00:00:00Z"), t("2026-04-01T00:00:00Z"), &tg, &r, NULL), 0,
		       "custom targets");
		is_str(dora_status_str(r.m[DORA_M_DEPLOY_FAILURE_RATE].status), "meets target", "33%% < 60%%: meets");
		is_str(r.m[DORA_M_DEPLOY_FAILURE_RATE].target, "< 60%", "target text from the number");
		is_str(r.m[DORA_M_FREQUENCY].target, "every 30 days", "frequency target text");
		is_str(r.m[DORA_M_FREQUENCY].threshold, "every 60 days minimum", "frequency threshold text");
		is_str(dora_status_str(r.m[DORA_M_FREQUENCY].status), "meets target",
		       "2 of the 3 30-day spans have a deployment: the median span does");
		dora_report_release(&r);
		dora_targets_runbook(&tg);
		is_int(dora_compute(d, 3, NULL, 0, t("2026-01-01T00:00:00Z"), t("2026-04-01T00:00:00Z"), &tg, &r, NULL), 0,
		       "runbook targets");
		is_str(r.m[DORA_M_LEAD_TIME].target, "< 1 day", "lead target text");
		is_str(r.m[DORA_M_MTTR_DEPLOY].threshold, "< 4 hours", "mttr threshold text");
		is_str(r.m[DORA_M_FREQUENCY].threshold, "Weekly minimum", "the runbook's words");
		dora_report_release(&r);
		tg.frequency_target_ms = 0;
		is_int(dora_compute(d, 3, NULL, 0, 0, MS_PER_DAY, &tg, &r, NULL), SW_EUSAGE, "a zero period refused");
	}
	return tap_done();
}
