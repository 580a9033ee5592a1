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
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "core/followup.h"

#include <math.h>
#include <stdlib.h>

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
				followup_judge(&base, ml ? &ml->s : NULL, ml ? ml->over : UINT64_MAX, &js, &v);
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
	followup_judge(&base, &same, 100, &js, &v);
	is_str(followup_outcome_name(v.outcome), "ok", "12 errors in 10000 against 10 is not established");
	same.errors = 15, same.requests = 100;
	followup_judge(&base, &same, 1, &js, &v);
	is_str(followup_outcome_name(v.outcome), "regression", "15%% against 0.1%% is established: %s", v.reason);
	same.requests = 0;
	followup_judge(&base, &same, 0, &js, &v);
	is_str(followup_outcome_name(v.outcome), "unchecked", "no requests: unchecked (%s)", v.reason);
	base.requests = 0;
	same.requests = 100;
	followup_judge(&base, &same, 0, &js, &v);
	is_str(followup_outcome_name(v.outcome), "unchecked", "no baseline: unchecked (%s)", v.reason);
	return tap_done();
}
