/*
 * test_followup.c - post-deployment follow-up (core/followup.h) on a
 * simulated clock, over the cases in tests/data/followup/NAME.case.
 *
 * The test plays the controller: it steps the clock from the deployment's
 * success, asks followup_due() at each step, and applies what is due as
 * controller/followup.c does (a check judges the case's metrics with
 * followup_judge() and a regression opens an incident; a reminder lists the
 * open manual items; ...).  Every action is written as a line "OFFSET act
 * [args]" (OFFSET: wall time since success, as duration_format() writes
 * it), and the lines must be exactly the case's `expect` lines, in order:
 * a reminder too many fails as surely as one too few.
 *
 * Then the controller's side (controller/followup.h) against a real store
 * with a scripted metrics provider: the regression opens an incident that
 * DORA counts, the reminder is queued, and an emergency's monitoring ends
 * only once its post-mortem is ticked.
 *
 * Directives:
 *   type standard|emergency | scale N | step DURATION | until DURATION
 *   remind_every D | postmortem_within D | monitor_every D
 *   item ID post-immediate|post-short-term|post-long-term|post-emergency manual|auto
 *   tick ID AT                      a person ticks ID at offset AT
 *   baseline REQUESTS ERRORS P99    the baseline captured before the deployment
 *   metrics ID|monitor REQUESTS ERRORS P99 OVER   what the check of ID (or a look of
 *                                   the monitoring) finds; OVER "-": not countable
 *   expect AT ACT [ARGS...]
 */
#include "tap.h"
#include "casefile.h"
#include "adapters/checklist_store.h"
#include "adapters/dora_store.h"
#include "adapters/followup_store.h"
#include "adapters/notify_config.h"
#include "adapters/sql.h"
#include "adapters/store.h"
#include "adapters/store_all.h"
#include "base/err.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "controller/followup.h"
#include "core/dora.h"
#include "core/metrics-t.h"
#include "core/followup.h"
#include "core/policy.h"

#include <math.h>
#include <stdlib.h>
#include <unistd.h>

#define MAXI 16

struct metrics_line {
	char id[64];
	struct judge_sample s;
	uint64_t over;
};

static int64_t dur(const char *s)
{
	int64_t ms = 0;
	if (duration_parse(s, &ms, NULL) < 0)
		printf("# bad duration %s\n", s);
	return ms;
}

static enum checklist_list list_of(const char *s)
{
	if (!strcmp(s, "post-short-term"))
		return CHECKLIST_POST_SHORT;
	if (!strcmp(s, "post-long-term"))
		return CHECKLIST_POST_LONG;
	if (!strcmp(s, "post-emergency"))
		return CHECKLIST_POST_EMERGENCY;
	return CHECKLIST_POST_IMMEDIATE;
}

static const struct metrics_line *metrics_for(const struct metrics_line *m, size_t n, const char *id)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(m[i].id, id))
			return &m[i];
	return NULL;
}

/* One line "OFFSET WORD [ARG]" of the timeline. */
static void line(struct strbuf *got, int64_t off, const char *word, const char *arg)
{
	char d[DURATION_BUFSZ];
	strbuf_addf(got, "%s %s%s%s\n", off ? duration_format(off, d) : "0s", word, arg ? " " : "", arg ? arg : "");
}

static void run_case(const char *dir, const char *name)
{
	char path[8200], buf[1024];
	struct followup_settings set;
	struct followup_state s = { 0 };
	struct followup_item items[MAXI];
	char ids[MAXI][64];
	int64_t tick_at[MAXI];
	struct metrics_line m[MAXI];
	struct judge_sample base = { 0 };
	struct judge_settings js;
	struct strbuf got = STRBUF_INIT, want = STRBUF_INIT;
	size_t ni = 0, nm = 0;
	int64_t step = 10 * 60000, until = FOLLOWUP_LONG_END_MS, t0 = 1764590400000LL;	/* 2025-12-01T12:00Z */
	FILE *f;

	followup_settings_default(&set);
	judge_settings_default(&js);
	base.p99_ms = NAN;
	s.succeeded_ms = t0;
	s.time_scale = 1;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (!(f = fopen(path, "r"))) {
		ok(0, "%s: cannot open", name);
		return;
	}
	while (fgets(buf, sizeof(buf), f)) {
		char *w[12];
		int n = casefile_words(buf, w, 12);
		if (n == 0)
			continue;
		if (!strcmp(w[0], "type") && n >= 2)
			s.emergency = !strcmp(w[1], "emergency");
		else if (!strcmp(w[0], "scale") && n >= 2)
			s.time_scale = strtod(w[1], NULL);
		else if (!strcmp(w[0], "step") && n >= 2)
			step = dur(w[1]);
		else if (!strcmp(w[0], "until") && n >= 2)
			until = dur(w[1]);
		else if (!strcmp(w[0], "remind_every") && n >= 2)
			set.remind_every_ms = dur(w[1]);
		else if (!strcmp(w[0], "postmortem_within") && n >= 2)
			set.postmortem_within_ms = dur(w[1]);
		else if (!strcmp(w[0], "monitor_every") && n >= 2)
			set.monitor_every_ms = dur(w[1]);
		else if (!strcmp(w[0], "item") && n >= 4 && ni < MAXI) {
			snprintf(ids[ni], sizeof(ids[ni]), "%s", w[1]);
			items[ni].id = ids[ni];
			items[ni].list = list_of(w[2]);
			items[ni].automatic = !strcmp(w[3], "auto");
			items[ni].done = 0;
			tick_at[ni] = -1;
			ni++;
		} else if (!strcmp(w[0], "tick") && n >= 3) {
			for (size_t i = 0; i < ni; i++)
				if (!strcmp(ids[i], w[1]))
					tick_at[i] = dur(w[2]);
		} else if (!strcmp(w[0], "baseline") && n >= 4) {
			base.requests = strtoull(w[1], NULL, 10);
			base.errors = strtoull(w[2], NULL, 10);
			base.p99_ms = strtod(w[3], NULL);
		} else if (!strcmp(w[0], "metrics") && n >= 6 && nm < MAXI) {
			snprintf(m[nm].id, sizeof(m[nm].id), "%s", w[1]);
			m[nm].s.requests = strtoull(w[2], NULL, 10);
			m[nm].s.errors = strtoull(w[3], NULL, 10);
			m[nm].s.p99_ms = strtod(w[4], NULL);
			m[nm].over = !strcmp(w[5], "-") ? UINT64_MAX : strtoull(w[5], NULL, 10);
			nm++;
		} else if (!strcmp(w[0], "expect") && n >= 3) {
			for (int k = 1; k < n; k++)
				strbuf_addf(&want, "%s%s", w[k], k + 1 < n ? " " : "\n");
		}
	}
	fclose(f);

	for (int64_t off = 0; off <= until; off += step) {
		int64_t now = t0 + off;
		struct followup_action a[MAXI + 6];
		size_t na;
		for (size_t i = 0; i < ni; i++)
			if (tick_at[i] >= 0 && tick_at[i] <= off && !items[i].done) {
				items[i].done = 1;
				line(&got, off, "tick", ids[i]);
			}
		na = followup_due(&set, &s, items, ni, now, a, MAXI + 6);
		for (size_t k = 0; k < na; k++) {
			struct followup_verdict v;
			const struct metrics_line *ml;
			struct strbuf open = STRBUF_INIT;
			switch (a[k].act) {
			case FU_CHECK:
			case FU_MONITOR: {
				const char *id = a[k].act == FU_CHECK ? ids[a[k].item] : "monitor";
				ml = metrics_for(m, nm, id);
				followup_judge(&base, ml ? &ml->s : NULL, ml ? ml->over : UINT64_MAX, followup_line_ms(base.p99_ms, 2), &js, &v);
				line(&got, off, id, followup_outcome_name(v.outcome));
				printf("# %s: %s\n", id, v.reason);
				if (v.outcome == FU_REGRESSION)
					line(&got, off, "incident", id);
				if (a[k].act == FU_CHECK)
					items[a[k].item].done = 1;
				else
					s.last_monitor_ms = now;
				break;
			}
			case FU_REMIND:
				for (size_t i = 0; i < ni; i++) {
					int o = followup_item_open(&set, &s, &items[i], now);
					if (o && !items[i].automatic && (items[i].list != CHECKLIST_POST_EMERGENCY || s.emergency))
						strbuf_addf(&open, "%s%s%s", open.len ? "," : "", ids[i], o == 2 ? "(overdue)" : "");
				}
				line(&got, off, "remind", open.buf);
				s.last_reminder_ms = now;
				break;
			case FU_OVERDUE:
				line(&got, off, "overdue", NULL);
				s.overdue_ms = now;
				break;
			case FU_END_MONITORING:
				line(&got, off, "end-monitoring", NULL);
				s.monitoring_ended_ms = now;
				break;
			case FU_CLOSE:
				line(&got, off, "close", NULL);
				s.closed_ms = now;
				break;
			}
			strbuf_release(&open);
		}
	}
	is_str(got.buf, want.buf, "%s: the timeline", name);
	if (strcmp(got.buf, want.buf))
		printf("# got:\n%s# want:\n%s", got.buf, want.buf);
	strbuf_release(&got);
	strbuf_release(&want);
}

/* ---------------------------------------------------------------- the controller's side */

static int64_t T0 = 1764590400000LL;

static int fake_query(void *ctx, const char *service, enum revision_role role, const char *version, int64_t from_ms,
		      int64_t to_ms, struct metrics_sample *out, struct strbuf *err)
{
	memset(out, 0, sizeof(*out));
	out->from_ms = from_ms, out->to_ms = to_ms;
	if (strcmp(version, "v2") && strcmp(version, "hotfix1"))
		return SW_ENOTFOUND;
	out->requests = 5000;
	out->errors = !strcmp(version, "v2") ? 150 : 5;	/* v2 regressed: 3% against 0.1% */
	out->p50_ms = 20, out->p90_ms = 40, out->p99_ms = 60, out->max_ms = 90;
	return 0;
}

static int fake_over(void *ctx, const char *service, enum revision_role role, const char *version, int64_t from_ms,
		     int64_t to_ms, const double *thresholds_ms, int n, uint64_t *over, struct strbuf *err)
{
	for (int i = 0; i < n; i++)
		over[i] = 30;
	return 0;
}

static int64_t count(struct store *st, const char *sql)
{
	struct sql_stmt *q = NULL;
	int64_t n = -1;
	if (sql_prepare(st, &q, sql, NULL) == 0 && sql_step(q, NULL) == SQL_ROW)
		n = sql_column_int64(q, 0);
	sql_finalize(q);
	return n;
}

static void said(void *ctx, const char *line)
{
	printf("# serve: %s\n", line);
}

static void test_controller(void)
{
	char dir[] = "/tmp/slipway-followup-XXXXXX";
	struct store st;
	struct strbuf err = STRBUF_INIT, cmd = STRBUF_INIT;
	struct policy p;
	struct notify_config nc;
	struct metrics_provider prov = { .ctx = NULL, .query = fake_query, .query_over = fake_over };
	struct followup_run run = { .policy = &p, .notify = &nc, .metrics = &prov, .say = said };
	struct attestation a = { .deployment_id = 2, .item = "post-mortem", .status = "pass", .actor = "alice",
				 .identity = "os" };
	struct dora_deploy *deps = NULL;
	struct dora_incident *inc = NULL;
	size_t nd = 0, ni = 0;
	char *state = NULL, *ev = NULL;
	int64_t at = 0;
	const char *base = "'{\"baseline\":{\"requests\":10000,\"errors\":10,\"p50_ms\":20,\"p99_ms\":50,\"span_ms\":60000}}'";

	ok(mkdtemp(dir) != NULL, "temporary state directory");
	is_int(store_open_all(&st, dir, &err), 0, "store opened %s", err.buf);
	policy_init_default(&p);
	notify_config_default(&nc, dir);
	strbuf_addf(&cmd,
		    "INSERT INTO deployments(id, service, env, version, revision, from_version, type, strategy, state,"
		    " requested_by, created_ms, state_since_ms, finished_ms, engine_json) VALUES"
		    " (1, 'api', 'production', 'v2', 2, 'v1', 'standard', 'canary', 'succeeded', 'alice', %lld, %lld, %lld, %s),"
		    " (2, 'web', 'production', 'hotfix1', 2, 'w1', 'emergency', 'canary', 'succeeded', 'bob', %lld, %lld, %lld, %s)",
		    (long long)T0, (long long)T0, (long long)T0, base, (long long)T0, (long long)T0, (long long)T0, base);
	ok(store_exec(&st, cmd.buf, NULL) == 0, "two succeeded deployments");

	run.now_ms = T0 + 1000;
	is_int(followup_tick(&st, &run, &err), 0, "first look %s", err.buf);
	is_int(count(&st, "SELECT count(*) FROM followups"), 2, "both followed up");
	ok(count(&st, "SELECT count(*) FROM notify_messages WHERE kind = 'followup' AND deployment_id = 1 AND text LIKE '%customer-complaints%'") >= 1,
	   "the open manual items are reminded");
	is_int(count(&st, "SELECT count(*) FROM incidents"), 0, "no incident before the horizon is over");

	run.now_ms = T0 + 2 * FOLLOWUP_HOUR_MS;
	is_int(followup_tick(&st, &run, &err), 0, "look at 2h %s", err.buf);
	is_int(count(&st, "SELECT count(*) FROM incidents WHERE deployment_id = 1 AND resolved_ms IS NULL OR "
			  "deployment_id = 1 AND resolved_ms = 0"), 1, "the regression opened an incident linked to #1");
	is_int(count(&st, "SELECT count(*) FROM incidents WHERE deployment_id = 2"), 0, "the emergency's fix did not regress");
	is_int(checklist_proof_get(&st, 1, "monitor-errors-latency", &state, &ev, &at, &err), 0, "the finding is stored");
	is_str(state, "failed", "as failed, with its evidence: %s", ev ? ev : "(none)");
	free(state);
	free(ev);
	is_int(dora_load(&st, "api", "production", T0 - 1000, T0 + 3 * FOLLOWUP_HOUR_MS, &deps, &nd, &inc, &ni, &err), 0,
	       "dora loads");
	ok(nd == 1 && deps[0].incident_linked, "DORA's change failure rate counts #1 (an incident names it)");
	free(deps);
	free(inc);

	run.now_ms = T0 + 3 * FOLLOWUP_HOUR_MS;
	is_int(followup_tick(&st, &run, &err), 0, "look at 3h");
	is_int(count(&st, "SELECT count(*) FROM incidents"), 1, "no second incident for the same deployment");
	is_int(count(&st, "SELECT monitoring_ended_ms FROM followups WHERE deployment_id = 2"), 0,
	       "the emergency's monitoring goes on without its post-mortem");
	ok(count(&st, "SELECT last_monitor_ms FROM followups WHERE deployment_id = 2") == run.now_ms,
	   "and looked at the emergency again");

	a.at_ms = T0 + 3 * FOLLOWUP_HOUR_MS + 1000;
	ok(checklist_attest_store(&st, &a, &err) > 0, "post-mortem ticked");
	run.now_ms = T0 + 3 * FOLLOWUP_HOUR_MS + 2000;
	is_int(followup_tick(&st, &run, &err), 0, "look after the tick");
	ok(count(&st, "SELECT monitoring_ended_ms FROM followups WHERE deployment_id = 2") == run.now_ms,
	   "the emergency's monitoring ended once its post-mortem was ticked");
	is_int(count(&st, "SELECT count(*) FROM audit WHERE action = 'followup.monitoring_ended'"), 1, "audited");

	run.now_ms = T0 + 8 * 24 * FOLLOWUP_HOUR_MS;
	is_int(followup_tick(&st, &run, &err), 0, "look after 8 days (the short and long-term checks)");
	run.now_ms += 1000;
	is_int(followup_tick(&st, &run, &err), 0, "the next look");
	is_int(count(&st, "SELECT count(*) FROM followups WHERE closed_ms > 0"), 2, "both follow-ups closed");
	ok(count(&st, "SELECT count(*) FROM checklist_proofs WHERE deployment_id = 1 AND item = 'overnight-metrics' AND "
		      "state = 'unchecked' AND evidence LIKE '%week before%'") == 1,
	   "the overnight review without last week's data is unchecked, with the reason");

	store_close(&st);
	policy_release(&p);
	notify_config_release(&nc);
	strbuf_release(&err);
	strbuf_release(&cmd);
	strbuf_reset(&cmd);
	strbuf_addf(&cmd, "rm -rf %s", dir);
	if (system(cmd.buf) != 0)
		printf("# could not remove %s\n", dir);
	strbuf_release(&cmd);
}

int main(void)
{
	char dir[4096];
	char **names;
	int n = casefile_list("followup", dir, sizeof(dir), &names);
	struct followup_verdict v;
	struct judge_settings js;
	struct judge_sample base = { 10000, 10, 50, 50, 0 }, same = { 10000, 12, 50, 50, 0 };

	ok(n >= 4, "found the follow-up cases in %s (%d)", dir, n);
	for (int i = 0; i < n; i++) {
		run_case(dir, names[i]);
		free(names[i]);
	}
	free(names);

	/* the evidence rule: a point estimate above the baseline is not a regression */
	judge_settings_default(&js);
	followup_judge(&base, &same, 100, followup_line_ms(base.p99_ms, 2), &js, &v);
	is_str(followup_outcome_name(v.outcome), "ok", "12 errors in 10000 against 10 is not established");
	same.errors = 15, same.requests = 100;
	followup_judge(&base, &same, 1, followup_line_ms(base.p99_ms, 2), &js, &v);
	is_str(followup_outcome_name(v.outcome), "regression", "15%% against 0.1%% is established: %s", v.reason);
	same.requests = 0;
	followup_judge(&base, &same, 0, followup_line_ms(base.p99_ms, 2), &js, &v);
	is_str(followup_outcome_name(v.outcome), "unchecked", "no requests: unchecked (%s)", v.reason);
	base.requests = 0;
	same.requests = 100;
	followup_judge(&base, &same, 0, followup_line_ms(base.p99_ms, 2), &js, &v);
	is_str(followup_outcome_name(v.outcome), "unchecked", "no baseline: unchecked (%s)", v.reason);
	test_controller();
	return tap_done();
}
