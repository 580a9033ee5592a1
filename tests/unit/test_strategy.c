/*
 * test_strategy.c - strategies as data: the rolling-update arithmetic, and
 * every file in tests/data/strategies/ (one case per file; its "# expect-*"
 * comment lines say what loading it must give: format, kind, steps as
 * WEIGHT@HOLD[NEW/OLD|idle]/GROUP, threshold, interval, deadline, checks,
 * webhooks, groups, or an error substring).
 */
#include "tap.h"
#include "core/rollout_config.h"
#include "core/strategy.h"
#include "base/alloc.h"
#include "base/err.h"
#include "base/strbuf.h"
#include "base/timeutil.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>

static int atoi_checked_(const char *s)
{
	return (int)strtol(s, NULL, 10);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void describe_steps(const struct strategy *s, struct strbuf *sb)
{
	char d[DURATION_BUFSZ];
	for (int i = 0; i < s->n_steps; i++) {
		const struct rollout_step *st = &s->steps[i];
		char w[32];
		snprintf(w, sizeof(w), "%.2f", st->weight);
		/* trim trailing zeros: 23.08, 37.5, 100 */
		char *dot = strchr(w, '.');
		if (dot) {
			char *e = w + strlen(w) - 1;
			while (e > dot && *e == '0')
				*e-- = '\0';
			if (e == dot)
				*e = '\0';
		}
		strbuf_addf(sb, "%s%s@%s", i ? " " : "", w, duration_format(st->hold_ms, d));
		if (st->new_instances || st->old_instances)
			strbuf_addf(sb, "[%d/%d]", st->new_instances, st->old_instances);
		if (st->idle)
			strbuf_addstr(sb, "[idle]");
		if (s->n_groups > 1)
			strbuf_addf(sb, "/%s", s->groups[st->group]);
	}
}

static const char *expect(const char *text, const char *key, char *buf, size_t n)
{
	char pat[64];
	const char *p;
	snprintf(pat, sizeof(pat), "# expect-%s:", key);
	p = strstr(text, pat);
	if (!p)
		return NULL;
	p += strlen(pat);
	if (*p == ' ')
		p++;
	size_t len = strcspn(p, "\n");
	if (len >= n)
		len = n - 1;
	memcpy(buf, p, len);
	buf[len] = '\0';
	return buf;
}

static void run_case(const char *dir, const char *name)
{
	struct strbuf path = STRBUF_INIT, text = STRBUF_INIT, err = STRBUF_INIT, got = STRBUF_INIT;
	struct rollout_config *cfg = calloc(1, sizeof(*cfg));
	char want[512], d[DURATION_BUFSZ];
	int r;

	strbuf_addf(&path, "%s/%s", dir, name);
	if (strbuf_read_file_max(&text, path.buf, 1 << 20, &err) < 0) {
		ok(0, "%s: read: %s", name, err.buf);
		goto out;
	}
	r = rollout_config_parse(text.buf, text.len, name, cfg, &err);
	if (expect(text.buf, "error", want, sizeof(want))) {
		ok(r < 0, "%s: refused", name);
		ok(strstr(err.buf, want) != NULL, "%s: error says '%s'", name, want);
		if (!strstr(err.buf, want))
			printf("#   got: %s\n", err.buf);
		goto out;
	}
	is_int(r, 0, "%s: loads", name);
	if (r < 0) {
		printf("#   %s\n", err.buf);
		goto out;
	}
	if (expect(text.buf, "format", want, sizeof(want)))
		is_str(cfg->format, want, "%s: format", name);
	if (expect(text.buf, "kind", want, sizeof(want)))
		is_str(strategy_kind_name(cfg->strategy.kind), want, "%s: kind", name);
	if (expect(text.buf, "steps", want, sizeof(want))) {
		describe_steps(&cfg->strategy, &got);
		is_str(got.buf, want, "%s: steps", name);
	}
	if (expect(text.buf, "threshold", want, sizeof(want)))
		is_int(cfg->strategy.threshold, atoi_checked_(want), "%s: threshold", name);
	if (expect(text.buf, "interval", want, sizeof(want)))
		is_str(duration_format(cfg->strategy.interval_ms, d), want, "%s: interval", name);
	if (expect(text.buf, "deadline", want, sizeof(want)))
		is_str(duration_format(cfg->strategy.progress_deadline_ms, d), want, "%s: progress deadline", name);
	if (expect(text.buf, "checks", want, sizeof(want))) {
		strbuf_reset(&got);
		for (int i = 0; i < cfg->strategy.n_checks; i++) {
			const struct analysis_check *c = &cfg->strategy.checks[i];
			strbuf_addf(&got, "%s%s", i ? " " : "", c->name);
			if (c->has_min)
				strbuf_addf(&got, "<%g", c->min);
			if (c->has_max)
				strbuf_addf(&got, ">%g", c->max);
		}
		is_str(got.buf, want, "%s: checks (fail when below min / above max)", name);
	}
	if (expect(text.buf, "webhooks", want, sizeof(want))) {
		strbuf_reset(&got);
		for (int i = 0; i < cfg->strategy.n_webhooks; i++) {
			const struct webhook *w = &cfg->strategy.webhooks[i];
			strbuf_addf(&got, "%s%s:%s:%s", i ? " " : "", w->name, webhook_type_name(w->type),
				    duration_format(w->timeout_ms, d));
		}
		is_str(got.buf, want, "%s: webhooks", name);
	}
	if (expect(text.buf, "groups", want, sizeof(want))) {
		strbuf_reset(&got);
		for (int i = 0; i < cfg->strategy.n_groups; i++)
			strbuf_addf(&got, "%s%s", i ? " " : "", cfg->strategy.groups[i]);
		is_str(got.buf, want, "%s: groups", name);
	}
out:
	free(cfg);
	strbuf_release(&path);
	strbuf_release(&text);
	strbuf_release(&err);
	strbuf_release(&got);
}

int main(void)
{
	const char *src = getenv("SLIPWAY_SRC");
	struct strbuf dir = STRBUF_INIT, err = STRBUF_INIT;
	struct strategy *s = calloc(1, sizeof(*s));
	char **names = NULL;
	size_t n = 0, alloc = 0;
	int v = -1;
	DIR *dh;
	struct dirent *de;

	/* Kubernetes IntOrString over replicas: surge rounds up, unavailable down */
	is_int(rolling_resolve("25%", 10, 1, &v, NULL), 0, "25%% resolves");
	is_int(v, 3, "maxSurge 25%% of 10 = 3 (rounded up)");
	rolling_resolve("25%", 10, 0, &v, NULL);
	is_int(v, 2, "maxUnavailable 25%% of 10 = 2 (rounded down)");
	rolling_resolve("3", 10, 0, &v, NULL);
	is_int(v, 3, "a count is a count");
	rolling_resolve("100%", 7, 1, &v, NULL);
	is_int(v, 7, "100%% of 7 = 7");
	is_int(rolling_resolve("101%", 10, 1, &v, &err), SW_EPARSE, "101%% refused");
	ok(strstr(err.buf, "percent 0-100%") != NULL, "error names the valid forms");
	is_int(rolling_resolve("-1", 10, 1, &v, NULL), SW_EPARSE, "negative refused");
	is_int(rolling_resolve("2x", 10, 1, &v, NULL), SW_EPARSE, "junk refused");
	is_int(rolling_resolve("", 10, 1, &v, NULL), SW_EPARSE, "empty refused");
	is_int(strategy_rolling(s, 10, 0, 0, 1000, NULL), SW_ECONFIG, "both 0 is invalid");
	is_int(strategy_rolling(s, 0, 1, 1, 1000, NULL), SW_ECONFIG, "0 replicas is invalid");
	is_int(strategy_rolling(s, 1000, 1, 0, 1000, NULL), SW_ETOOBIG, "1000 one by one is too many steps");
	is_int(strategy_rolling(s, 10, 3, 2, 1000, NULL), 0, "10 replicas 3/2");
	is_int(s->n_steps, 5, "10 replicas 3/2: 5 steps");
	is_int(s->steps[s->n_steps - 1].new_instances, 10, "ends with 10 new");
	is_int(s->steps[s->n_steps - 1].old_instances, 0, "and 0 old");
	/* the invariants of every step: total <= N + surge, available >= N - unavailable */
	for (int N = 1; N <= 12; N++)
		for (int su = 0; su <= 3; su++)
			for (int un = 0; un <= 3; un++) {
				int good = 1;
				if (su == 0 && un == 0)
					continue;
				if (strategy_rolling(s, N, su, un, 1000, NULL) < 0) {
					good = 0;
				} else {
					int prev_new = 0;
					for (int i = 0; i < s->n_steps; i++) {
						const struct rollout_step *st = &s->steps[i];
						int avail_before = (i ? s->steps[i - 1].new_instances : 0) + st->old_instances;
						if (st->new_instances + st->old_instances > N + su)
							good = 0;
						/* old stop only once the new are ready: count new as available */
						if (st->new_instances + st->old_instances < N - (un < N ? un : N))
							good = 0;
						if (st->new_instances < prev_new)
							good = 0;
						(void)avail_before;
						prev_new = st->new_instances;
					}
					if (s->steps[s->n_steps - 1].new_instances != N ||
					    s->steps[s->n_steps - 1].old_instances != 0)
						good = 0;
				}
				if (!good)
					ok(0, "rolling N=%d surge=%d unavailable=%d keeps the bounds", N, su, un);
			}
	ok(1, "rolling updates keep total <= N + maxSurge and available >= N - maxUnavailable (N 1-12)");

	strategy_default(s, STRATEGY_CANARY);
	is_int(s->n_steps, 3, "runbook canary: 3 steps before 100%%");
	is_int(s->steps[0].hold_ms, 5 * MS_PER_MIN, "1%% holds 5m");
	is_int(strategy_validate(s, NULL), 0, "default canary is valid");
	strategy_default(s, STRATEGY_FULL);
	is_int(s->n_steps, 0, "full: no steps");

	if (!src) {
		ok(1, "data cases # SKIP SLIPWAY_SRC not set (run through tests/run)");
		goto out;
	}
	strbuf_addf(&dir, "%s/tests/data/strategies", src);
	dh = opendir(dir.buf);
	ok(dh != NULL, "open %s", dir.buf);
	if (!dh)
		goto out;
	while ((de = readdir(dh))) {
		size_t l = strlen(de->d_name);
		if (l < 6 || strcmp(de->d_name + l - 5, ".yaml"))
			continue;
		ALLOC_GROW(names, n + 1, alloc);
		names[n++] = xstrdup(de->d_name);
	}
	closedir(dh);
	qsort(names, n, sizeof(*names), cmp_names);
	ok(n >= 20, "%zu strategy cases", n);
	for (size_t i = 0; i < n; i++) {
		run_case(dir.buf, names[i]);
		free(names[i]);
	}
	free(names);
out:
	free(s);
	strbuf_release(&dir);
	strbuf_release(&err);
	return tap_done();
}
