/*
 * test_checklist.c - the runbook's checklists as policy data (core/checklist.c:
 * built-in items, merge from slipway.yaml, what blocks which type) and the
 * SARIF reader (core/sarif.c), each case a file: tests/data/checklists/NAME.case
 * and tests/data/sarif/NAME.case.
 */
#include "tap.h"
#include "casefile.h"

#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/strbuf.h"
#include "core/checklist.h"
#include "core/policy.h"
#include "core/github.h"
#include "core/release_manifest.h"
#include "core/sarif.h"

static char *slurp(const char *dir, const char *name, size_t *len)
{
	char path[1024];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (!(f = fopen(path, "rb")))
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	*len = fread(buf, 1, (size_t)n, f);
	buf[*len] = 0;
	fclose(f);
	return buf;
}

static void checklist_case(const char *dir, const char *name)
{
	char path[1024], line[1024], *w[32];
	struct policy p = { 0 };
	struct strbuf err = STRBUF_INIT, got = STRBUF_INIT, want = STRBUF_INIT;
	int loaded = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	ok(f != NULL, "%s: opens", name);
	while (f && fgets(line, sizeof(line), f)) {
		int n = casefile_words(line, w, 32);
		if (!n)
			continue;
		if (!strcmp(w[0], "policy")) {
			if (!strcmp(w[1], "-")) {
				policy_init_default(&p);
			} else {
				size_t len;
				char *buf = slurp(dir, w[1], &len);
				is_int(buf ? policy_load(&p, buf, len, w[1], NULL, &err) : -1, 0, "%s: %s loads %s", name,
				       w[1], err.buf);
				free(buf);
			}
			loaded = 1;
		} else if (!strcmp(w[0], "blocking") && loaded) {
			strbuf_reset(&got);
			strbuf_reset(&want);
			for (size_t i = 0; i < p.checklists.nr; i++)
				if (checklist_blocks(&p.checklists.v[i], w[1]))
					strbuf_addf(&got, " %s", p.checklists.v[i].id);
			for (int i = 2; i < n; i++)
				strbuf_addf(&want, " %s", w[i]);
			is_str(got.buf, want.buf, "%s: items blocking %s", name, w[1]);
		} else if (!strcmp(w[0], "absent") && loaded) {
			ok(!checklist_find(&p.checklists, w[1]), "%s: %s removed", name, w[1]);
		} else if (!strcmp(w[0], "who") && loaded) {
			const struct checklist_item *it = checklist_find(&p.checklists, w[1]);
			is_str(it ? it->who : "(none)", w[2], "%s: who ticks %s", name, w[1]);
		} else if (!strcmp(w[0], "fail_at") && loaded) {
			const struct checklist_item *it = checklist_find(&p.checklists, w[1]);
			is_str(it ? sarif_severity_name(it->fail_at) : "(none)", w[2], "%s: %s fails at", name, w[1]);
		} else {
			ok(0, "%s: unknown directive '%s'", name, w[0]);
		}
	}
	if (f)
		fclose(f);
	policy_release(&p);
	strbuf_release(&err);
	strbuf_release(&got);
	strbuf_release(&want);
}

static void sarif_case(const char *dir, const char *name)
{
	char path[1024], line[1024], *w[32];
	struct sarif_report rep = { 0 };
	struct strbuf err = STRBUF_INIT;
	int sev = SARIF_SEV_HIGH, rc = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	ok(f != NULL, "%s: opens", name);
	while (f && fgets(line, sizeof(line), f)) {
		char copy[1024];
		int n;
		snprintf(copy, sizeof(copy), "%s", line);
		n = casefile_words(line, w, 32);
		if (!n)
			continue;
		if (!strcmp(w[0], "file")) {
			size_t len = 0;
			char *buf = slurp(dir, w[1], &len);
			ok(buf != NULL, "%s: reads %s", name, w[1]);
			/* fail_at comes on the next line: read it first */
			if (fgets(line, sizeof(line), f) && casefile_words(line, w, 32) == 2 && !strcmp(w[0], "fail_at"))
				sev = sarif_severity_parse(w[1]);
			rc = buf ? sarif_read(buf, len, "t.sarif", (enum sarif_severity)sev, &rep, &err) : -1;
			free(buf);
		} else if (!strcmp(w[0], "rc")) {
			is_int(rc, (int)strtol(w[1], NULL, 10), "%s: returns %s %s", name, w[1], err.buf);
		} else if (!strcmp(w[0], "failing")) {
			is_int((int)rep.failing, (int)strtol(w[1], NULL, 10), "%s: findings at or above %s", name, sarif_severity_name(sev));
		} else if (!strcmp(w[0], "worst") && n >= 4) {
			is_str(sarif_severity_name(rep.worst.severity), w[1], "%s: worst severity", name);
			is_str(rep.worst.rule, w[2], "%s: worst rule", name);
			is_str(rep.worst.location[0] ? rep.worst.location : "-", w[3], "%s: worst location", name);
		} else if (!strcmp(w[0], "error")) {
			const char *msg = strchr(copy, ' ') + 1;
			copy[strcspn(copy, "\n")] = 0;
			ok(strstr(err.buf, msg) != NULL, "%s: error names the fault: %s", name, err.buf);
		} else {
			ok(0, "%s: unknown directive '%s'", name, w[0]);
		}
	}
	if (f)
		fclose(f);
	strbuf_release(&err);
}

/* A release's slipway-release.yaml (core/release_manifest.c): tests/data/release-manifest/NAME.case. */
static void manifest_case(const char *dir, const char *name)
{
	char path[1024], line[1024], copy[1024], *w[32];
	struct release_manifest m = { 0 };
	struct strbuf err = STRBUF_INIT, got = STRBUF_INIT, want = STRBUF_INIT;
	int rc = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	ok(f != NULL, "%s: opens", name);
	while (f && fgets(line, sizeof(line), f)) {
		int n;
		snprintf(copy, sizeof(copy), "%s", line);
		copy[strcspn(copy, "\n")] = 0;
		if (!(n = casefile_words(line, w, 32)))
			continue;
		strbuf_reset(&got);
		strbuf_reset(&want);
		for (int i = 1; i < n; i++)
			strbuf_addf(&want, " %s", w[i]);
		if (!strcmp(w[0], "file")) {
			size_t len = 0;
			char *buf = slurp(dir, w[1], &len);
			ok(buf != NULL, "%s: reads %s", name, w[1]);
			release_manifest_release(&m);
			strbuf_reset(&err);
			rc = buf ? release_manifest_parse(&m, w[1], buf, len, &err) : -1;
			free(buf);
		} else if (!strcmp(w[0], "rc")) {
			is_int(rc, (int)strtol(w[1], NULL, 10), "%s: returns %s %s", name, w[1], err.buf);
		} else if (!strcmp(w[0], "flags")) {
			for (size_t i = 0; i < m.nflags; i++)
				strbuf_addf(&got, " %s", m.flags[i]);
			is_str(got.buf, want.buf, "%s: the flags", name);
		} else if (!strcmp(w[0], "migrations")) {
			for (size_t i = 0; i < m.nmigrations; i++)
				strbuf_addf(&got, " %s=%s", m.migrations[i].database, m.migrations[i].change);
			is_str(got.buf, want.buf, "%s: the migrations", name);
		} else if (!strcmp(w[0], "given")) {
			if (m.flags_at.line)
				strbuf_addstr(&got, " flags");
			if (m.migrations_at.line)
				strbuf_addstr(&got, " migrations");
			is_str(got.buf, want.buf, "%s: the keys written", name);
		} else if (!strcmp(w[0], "error")) {
			const char *msg = copy + 6;
			ok(strstr(err.buf, msg) != NULL, "%s: error '%s' in: %s", name, msg, err.buf);
		} else {
			ok(0, "%s: unknown directive '%s'", name, w[0]);
		}
	}
	if (f)
		fclose(f);
	release_manifest_release(&m);
	strbuf_release(&err);
	strbuf_release(&got);
	strbuf_release(&want);
}

static int state_named(const char *s)
{
	if (!strcmp(s, "error"))
		return SW_EPARSE;
	for (int i = CL_MISSING; i <= CL_UNCHECKED; i++)
		if (!strcmp(s, checklist_state_name((enum checklist_state)i)))
			return i;
	return -999;
}

/* GitHub's answers judged (core/github.c): tests/data/github/NAME.case over the recorded JSON beside it. */
static void github_case(const char *dir, const char *name)
{
	char path[1024], line[1024], copy[1024], sha[80] = "", *w[32];
	struct strbuf ev = STRBUF_INIT, err = STRBUF_INIT;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	ok(f != NULL, "%s: opens", name);
	while (f && fgets(line, sizeof(line), f)) {
		int n;
		snprintf(copy, sizeof(copy), "%s", line);
		copy[strcspn(copy, "\n")] = 0;
		if (!(n = casefile_words(line, w, 32)))
			continue;
		if (!strcmp(w[0], "sha") && n == 2) {
			snprintf(sha, sizeof(sha), "%s", w[1]);
		} else if (!strcmp(w[0], "ci") && n == 4) {
			size_t sl = 0, cl = 0;
			char *st = strcmp(w[1], "-") ? slurp(dir, w[1], &sl) : NULL;
			char *ck = strcmp(w[2], "-") ? slurp(dir, w[2], &cl) : NULL;
			strbuf_reset(&ev);
			strbuf_reset(&err);
			is_int(github_judge_ci(st, sl, ck, cl, sha, &ev, &err), state_named(w[3]), "%s: ci over %s and %s is %s: %s%s",
			       name, w[1], w[2], w[3], ev.buf, err.buf);
			free(st);
			free(ck);
		} else if (!strcmp(w[0], "review") && n >= 3) {
			size_t pl = 0, len[GITHUB_PULLS_MAX] = { 0 };
			char *pulls = slurp(dir, w[1], &pl), *rv[GITHUB_PULLS_MAX] = { 0 };
			int64_t nums[GITHUB_PULLS_MAX];
			int np;
			strbuf_reset(&ev);
			strbuf_reset(&err);
			np = pulls ? github_pull_numbers(pulls, pl, nums, GITHUB_PULLS_MAX, &err) : -1;
			ok(np >= 0 && np == n - 3, "%s: %d pull requests in %s, a reviews file each %s", name, np, w[1], err.buf);
			for (int i = 0; i < np && i < n - 3; i++)
				rv[i] = slurp(dir, w[2 + i], &len[i]);
			if (np >= 0)
				is_int(github_judge_review(nums, (const char *const *)rv, len, (size_t)np, sha, &ev, &err),
				       state_named(w[n - 1]), "%s: review is %s: %s%s", name, w[n - 1], ev.buf, err.buf);
			for (int i = 0; i < GITHUB_PULLS_MAX; i++)
				free(rv[i]);
			free(pulls);
		} else if (!strcmp(w[0], "evidence")) {
			const char *want = copy + 9;
			ok(strstr(ev.buf, want) != NULL, "%s: evidence has '%s': %s", name, want, ev.buf);
		} else {
			ok(0, "%s: unknown directive '%s'", name, w[0]);
		}
	}
	if (f)
		fclose(f);
	strbuf_release(&ev);
	strbuf_release(&err);
}

static void run_area(const char *area, void (*fn)(const char *, const char *))
{
	char dir[1024], **names;
	int n = casefile_list(area, dir, sizeof(dir), &names);
	ok(n > 0, "tests/data/%s has cases", area);
	for (int i = 0; i < n; i++) {
		fn(dir, names[i]);
		free(names[i]);
	}
	free(names);
}

/* The built-in policy shows and reloads with its checklists intact. */
static void test_round_trip(void)
{
	struct policy p, q;
	struct strbuf a = STRBUF_INIT, err = STRBUF_INIT;

	policy_init_default(&p);
	policy_format_yaml(&p, &a);
	is_int(policy_load(&q, a.buf, a.len, "shown.yaml", NULL, &err), 0, "shown policy reloads: %s", err.buf);
	is_int((int)q.checklists.nr, (int)p.checklists.nr, "with every checklist item");
	ok(q.checklists.nr >= 40, "the runbook's four lists are all there (%zu items)", q.checklists.nr);
	policy_release(&p);
	policy_release(&q);
	strbuf_release(&a);
	strbuf_release(&err);
}

int main(void)
{
	run_area("checklists", checklist_case);
	run_area("sarif", sarif_case);
	run_area("release-manifest", manifest_case);
	run_area("github", github_case);
	test_round_trip();
	return tap_done();
}
