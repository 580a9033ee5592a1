/*
 * test_calendar.c - the policy gate's cases as data: every file
 * tests/data/check/NAME.case is one `slipway check` question with its expected
 * answer, evaluated by core (calendar_check) with the real time zone adapter.
 *
 * Case format, one `key=value` per line, '#' starts a comment line:
 *   policy=berlin.yaml          optional; a file in tests/data/check/policies/
 *   type=standard
 *   class=normal                optional (normal)
 *   at=2026-12-03T14:00:00Z
 *   expect_allowed=yes|no
 *   expect_window=standard|none                       optional
 *   expect_approvals=team-lead,engineering-manager|none optional
 *   expect_blocked_by=KIND:NAME@UNTIL ...|none        optional, in order
 *                     (UNTIL is RFC 3339 or null)
 *   expect_next=TIME WINDOW ROLES|none                optional
 *                     (ROLES comma-separated, or none)
 */
#include "tap.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/tz.h"
#include "base/alloc.h"
#include "base/err.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "core/calendar.h"
#include "core/policy.h"

static const char *src_dir(void)
{
	const char *s = getenv("SLIPWAY_SRC");
	return s && *s ? s : ".";
}

struct kv {
	char key[64];
	char *val;
};

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static const char *get(struct kv *kv, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(kv[i].key, key))
			return kv[i].val;
	return NULL;
}

static void join(struct strbuf *sb, const char *const *v, size_t n, const char *sep)
{
	if (!n)
		strbuf_addstr(sb, "none");
	for (size_t i = 0; i < n; i++)
		strbuf_addf(sb, "%s%s", i ? sep : "", v[i]);
}

static void run_case(const char *dir, const char *name)
{
	struct strbuf path = STRBUF_INIT, text = STRBUF_INIT, err = STRBUF_INIT, got = STRBUF_INIT;
	struct kv kv[32];
	size_t n = 0;
	char *line, *save = NULL;
	const char *pol, *type, *cls, *at_s, *exp;
	struct policy p;
	struct tz_system tz;
	struct calendar_result r;
	int64_t at;
	char buf[RFC3339_BUFSZ];

	strbuf_addf(&path, "%s/%s", dir, name);
	if (strbuf_read_file_max(&text, path.buf, 65536, &err) < 0) {
		ok(0, "%s: %s", name, err.buf);
		goto out;
	}
	for (line = strtok_r(text.buf, "\n", &save); line && n < 32; line = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(line, '=');
		if (line[0] == '#' || !eq)
			continue;
		*eq = '\0';
		snprintf(kv[n].key, sizeof(kv[n].key), "%s", line);
		kv[n].val = eq + 1;
		n++;
	}
	pol = get(kv, n, "policy");
	type = get(kv, n, "type");
	cls = get(kv, n, "class");
	at_s = get(kv, n, "at");
	if (!type || !at_s || !get(kv, n, "expect_allowed") || time_parse_rfc3339(at_s, &at, &err) < 0) {
		ok(0, "%s: needs type, at (RFC 3339) and expect_allowed %s", name, err.buf);
		goto out;
	}
	if (pol) {
		struct strbuf pb = STRBUF_INIT, pp = STRBUF_INIT;
		strbuf_addf(&pp, "%s/policies/%s", dir, pol);
		if (strbuf_read_file_max(&pb, pp.buf, POLICY_FILE_MAX, &err) < 0 ||
		    policy_load(&p, pb.buf, pb.len, pp.buf, &tz_system_db, &err) < 0) {
			ok(0, "%s: policy %s: %s", name, pol, err.buf);
			strbuf_release(&pb);
			strbuf_release(&pp);
			goto out;
		}
		strbuf_release(&pb);
		strbuf_release(&pp);
	} else {
		policy_init_default(&p);
	}
	if (tz_system_open(&tz, p.timezone, &err) < 0) {
		ok(0, "%s: %s", name, err.buf);
		policy_release(&p);
		goto out;
	}
	if (calendar_check(&p, &tz.zone, type, cls, at, &r, &err) < 0) {
		ok(0, "%s: %s", name, err.buf);
		goto done;
	}
	is_str(r.allowed ? "yes" : "no", get(kv, n, "expect_allowed"), "%s: allowed", name);
	if ((exp = get(kv, n, "expect_window")))
		is_str(r.window ? r.window : "none", exp, "%s: window", name);
	if ((exp = get(kv, n, "expect_approvals"))) {
		strbuf_reset(&got);
		join(&got, r.approvals, r.approvals_nr, ",");
		is_str(got.buf, exp, "%s: approvals", name);
	}
	if ((exp = get(kv, n, "expect_blocked_by"))) {
		strbuf_reset(&got);
		for (size_t i = 0; i < r.blocked_nr; i++)
			strbuf_addf(&got, "%s%s:%s@%s", i ? " " : "",
				    r.blocked_by[i].kind == BLOCKER_WINDOW ? "window" : "freeze", r.blocked_by[i].name,
				    r.blocked_by[i].until_ms == CALENDAR_NO_TIME ? "null"
										  : time_format_rfc3339(r.blocked_by[i].until_ms, buf));
		if (!r.blocked_nr)
			strbuf_addstr(&got, "none");
		is_str(got.buf, exp, "%s: blocked_by", name);
	}
	if ((exp = get(kv, n, "expect_next"))) {
		strbuf_reset(&got);
		if (!r.has_next) {
			strbuf_addstr(&got, "none");
		} else {
			strbuf_addf(&got, "%s %s ", time_format_rfc3339(r.next_ms, buf), r.next_window);
			join(&got, r.next_approvals, r.next_approvals_nr, ",");
		}
		is_str(got.buf, exp, "%s: next_allowed", name);
	}
	calendar_result_release(&r);
done:
	tz_system_close(&tz);
	policy_release(&p);
out:
	strbuf_release(&path);
	strbuf_release(&text);
	strbuf_release(&err);
	strbuf_release(&got);
}

int main(void)
{
	struct strbuf dir = STRBUF_INIT;
	char **names = NULL;
	size_t nr = 0, alloc = 0;
	struct dirent *de;
	DIR *d;

	strbuf_addf(&dir, "%s/tests/data/check", src_dir());
	d = opendir(dir.buf);
	ok(d != NULL, "open %s", dir.buf);
	while (d && (de = readdir(d))) {
		size_t len = strlen(de->d_name);
		if (len > 5 && !strcmp(de->d_name + len - 5, ".case")) {
			ALLOC_GROW(names, nr + 1, alloc);
			names[nr++] = xstrdup(de->d_name);
		}
	}
	if (d)
		closedir(d);
	ok(nr >= 40, "found %zu cases", nr);
	qsort(names, nr, sizeof(*names), cmp_names);
	for (size_t i = 0; i < nr; i++) {
		run_case(dir.buf, names[i]);
		free(names[i]);
	}
	free(names);
	strbuf_release(&dir);
	return tap_done();
}
