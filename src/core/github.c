/*
 * github.c - GitHub's commit status, check run and review answers judged
 * for the checklist; see github.h and docs/checklists.md.
 *
 * Design: what is not read is never a pass.  A pending status, a running
 * check, a second page of check runs not read, a pull request nobody
 * approved: each keeps the item unsatisfied with the reason, so a team
 * that makes it block waits for GitHub's answer rather than guessing.
 */
#include "core/github.h"

#include <jansson.h>
#include <string.h>

#include "base/alloc.h"
#include "base/err.h"
#include "base/strbuf.h"

static int load(const char *what, const char *buf, size_t len, json_t **out, struct strbuf *err)
{
	json_error_t je;

	if (len > GITHUB_BODY_MAX) {
		strbuf_errf(err, "%s: answer of %zu bytes is larger than %d", what, len, GITHUB_BODY_MAX);
		return SW_EPARSE;
	}
	if (!(*out = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je))) {
		strbuf_errf(err, "%s: not JSON: %s at line %d column %d", what, je.text, je.line, je.column);
		return SW_EPARSE;
	}
	return 0;
}

static const char *str(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

static const char *short_sha(const char *sha, char buf[13])
{
	snprintf(buf, 13, "%.12s", sha ? sha : "?");
	return buf;
}

/* Append "name" to a ", "-joined list, at most 5 names then "...". */
static void name_add(struct strbuf *sb, size_t *n, const char *name)
{
	if (*n < 5)
		strbuf_addf(sb, "%s'%.100s'", *n ? ", " : "", name ? name : "?");
	else if (*n == 5)
		strbuf_addstr(sb, ", ...");
	(*n)++;
}

int github_judge_ci(const char *status_json, size_t status_len, const char *checks_json, size_t checks_len,
		    const char *sha, struct strbuf *ev, struct strbuf *err)
{
	json_t *st = NULL, *ck = NULL, *v;
	struct strbuf failed = STRBUF_INIT, pending = STRBUF_INIT;
	size_t nfailed = 0, npending = 0, nstatus = 0, nchecks = 0, total = 0;
	char sb[13];
	int r = 0;

	if (status_json && (r = load("commit status", status_json, status_len, &st, err)) < 0)
		goto out;
	if (checks_json && (r = load("check runs", checks_json, checks_len, &ck, err)) < 0)
		goto out;
	if (st) {
		json_t *list = json_object_get(st, "statuses");
		size_t i;
		if (!json_is_object(st) || !json_is_array(list)) {
			strbuf_errf(err, "commit status: expected an object with \"statuses\": [...] (GitHub REST API, "
				    "\"Get the combined status for a specific reference\")");
			r = SW_EPARSE;
			goto out;
		}
		json_array_foreach(list, i, v) {
			const char *s = str(v, "state"), *c = str(v, "context");
			if (!s) {
				strbuf_errf(err, "commit status: statuses[%zu] has no \"state\"", i);
				r = SW_EPARSE;
				goto out;
			}
			nstatus++;
			if (!strcmp(s, "failure") || !strcmp(s, "error"))
				name_add(&failed, &nfailed, c);
			else if (strcmp(s, "success"))
				name_add(&pending, &npending, c);
		}
	}
	if (ck) {
		json_t *list = json_object_get(ck, "check_runs"), *tc = json_object_get(ck, "total_count");
		size_t i;
		if (!json_is_object(ck) || !json_is_array(list)) {
			strbuf_errf(err, "check runs: expected an object with \"check_runs\": [...] (GitHub REST API, "
				    "\"List check runs for a Git reference\")");
			r = SW_EPARSE;
			goto out;
		}
		total = json_is_integer(tc) && json_integer_value(tc) > 0 ? (size_t)json_integer_value(tc) : 0;
		json_array_foreach(list, i, v) {
			const char *s = str(v, "status"), *c = str(v, "conclusion"), *name = str(v, "name");
			if (!s) {
				strbuf_errf(err, "check runs: check_runs[%zu] has no \"status\"", i);
				r = SW_EPARSE;
				goto out;
			}
			nchecks++;
			if (strcmp(s, "completed"))
				name_add(&pending, &npending, name);
			else if (!c || !strcmp(c, "failure") || !strcmp(c, "timed_out") || !strcmp(c, "cancelled") ||
				 !strcmp(c, "action_required") || !strcmp(c, "stale"))
				name_add(&failed, &nfailed, name);
		}
	}
	short_sha(sha, sb);
	if (nfailed) {
		strbuf_addf(ev, "GitHub: %zu failing on %s: %s", nfailed, sb, failed.buf);
		r = CL_FAILED;
	} else if (total > nchecks) {
		strbuf_addf(ev, "GitHub: %zu check runs on %s, only %zu read (one page): not judged", total, sb, nchecks);
		r = CL_UNCHECKED;
	} else if (npending) {
		strbuf_addf(ev, "GitHub: %zu pending on %s: %s", npending, sb, pending.buf);
		r = CL_MISSING;
	} else if (!nstatus && !nchecks) {
		strbuf_addf(ev, "GitHub: no commit status or check run on %s yet", sb);
		r = CL_MISSING;
	} else {
		strbuf_addf(ev, "GitHub: %zu statuses and %zu check runs passed on %s", nstatus, nchecks, sb);
		r = CL_SATISFIED;
	}
out:
	json_decref(st);
	json_decref(ck);
	strbuf_release(&failed);
	strbuf_release(&pending);
	return r;
}

int github_pull_numbers(const char *pulls_json, size_t len, int64_t *nums, size_t max, struct strbuf *err)
{
	json_t *a = NULL, *v;
	size_t i, n = 0;
	int r;

	if ((r = load("pull requests", pulls_json, len, &a, err)) < 0)
		return r;
	if (!json_is_array(a)) {
		strbuf_errf(err, "pull requests: expected a list (GitHub REST API, \"List pull requests associated with a "
			    "commit\")");
		json_decref(a);
		return SW_EPARSE;
	}
	json_array_foreach(a, i, v) {
		json_t *num = json_object_get(v, "number");
		if (!json_is_integer(num) || json_integer_value(num) <= 0) {
			strbuf_errf(err, "pull requests: [%zu] has no positive \"number\"", i);
			json_decref(a);
			return SW_EPARSE;
		}
		if (n < max)
			nums[n++] = json_integer_value(num);
	}
	json_decref(a);
	return (int)n;
}

/* One pull request's reviews: who approved and who asks for changes, by each reviewer's latest word. */
static int pull_verdict(int64_t num, const char *buf, size_t len, struct strbuf *approvers, size_t *napp,
			struct strbuf *changes, size_t *nchg, struct strbuf *err)
{
	json_t *a = NULL, *v, *word;
	const char *key;
	size_t i;
	int r;

	*napp = *nchg = 0;
	if ((r = load("reviews", buf, len, &a, err)) < 0)
		return r;
	if (!json_is_array(a)) {
		strbuf_errf(err, "reviews of #%lld: expected a list (GitHub REST API, \"List reviews for a pull request\")",
			    (long long)num);
		json_decref(a);
		return SW_EPARSE;
	}
	word = json_object();	/* login -> latest decisive state; reviews come oldest first */
	json_array_foreach(a, i, v) {
		const char *s = str(v, "state"), *login = str(json_object_get(v, "user"), "login");
		if (!s || !login) {
			strbuf_errf(err, "reviews of #%lld: [%zu] needs \"state\" and \"user\": {\"login\"}", (long long)num, i);
			json_decref(word);
			json_decref(a);
			return SW_EPARSE;
		}
		if (!strcmp(s, "APPROVED") || !strcmp(s, "CHANGES_REQUESTED") || !strcmp(s, "DISMISSED"))
			json_object_set_new(word, login, json_string(s));
	}
	json_object_foreach(word, key, v) {
		if (!strcmp(json_string_value(v), "APPROVED"))
			name_add(approvers, napp, key);
		else if (!strcmp(json_string_value(v), "CHANGES_REQUESTED"))
			name_add(changes, nchg, key);
	}
	json_decref(word);
	json_decref(a);
	return 0;
}

int github_judge_review(const int64_t *nums, const char *const *reviews, const size_t *len, size_t n, const char *sha,
			struct strbuf *ev, struct strbuf *err)
{
	struct strbuf app = STRBUF_INIT, chg = STRBUF_INIT, asked = STRBUF_INIT;
	size_t napp, nchg, asked_n = 0;
	char sb[13];
	int r = CL_MISSING;

	short_sha(sha, sb);
	if (!n) {
		strbuf_addf(ev, "GitHub: no pull request contains %s", sb);
		return CL_MISSING;
	}
	for (size_t i = 0; i < n; i++) {
		strbuf_reset(&app);
		strbuf_reset(&chg);
		if ((r = pull_verdict(nums[i], reviews[i], len[i], &app, &napp, &chg, &nchg, err)) < 0)
			break;
		if (napp && !nchg) {
			strbuf_addf(ev, "GitHub: pull request #%lld (with %s) approved by %s", (long long)nums[i], sb, app.buf);
			r = CL_SATISFIED;
			break;
		}
		if (nchg) {
			if (!asked_n++)
				strbuf_addf(&asked, "changes requested on #%lld by %s", (long long)nums[i], chg.buf);
		}
		r = CL_MISSING;
	}
	if (r == CL_MISSING) {
		if (asked_n) {
			strbuf_addf(ev, "GitHub: %s", asked.buf);
			r = CL_FAILED;
		} else {
			strbuf_addf(ev, "GitHub: no approving review on #%lld", (long long)nums[0]);
			for (size_t i = 1; i < n; i++)
				strbuf_addf(ev, ", #%lld", (long long)nums[i]);
			strbuf_addf(ev, " (with %s)", sb);
		}
	}
	strbuf_release(&app);
	strbuf_release(&chg);
	strbuf_release(&asked);
	return r;
}
