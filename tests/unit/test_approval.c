/*
 * test_approval.c - the approval gate (core/approval.h) over the cases in
 * tests/data/approvals/NAME.case, and the roles-map text parser.
 *
 * Case directives: deployment ID | requester NAME | roles TEXT ("role=a,b;r2=c") |
 * required ROLE... | ttl DURATION | now TIME |
 * approval DEPLOYMENT ROLE WHO approved|rejected TIME |
 * expect open|closed|rejected | expect missing ROLE WHY | expect granted N
 * WHY: no-approval expired rejected not-in-role self-approval.
 */
#include "tap.h"
#include "casefile.h"
#include "base/err.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "core/approval.h"

#include <stdlib.h>

static const char *why_word(enum approval_why w)
{
	switch (w) {
	case APPROVAL_WHY_NONE: return "no-approval";
	case APPROVAL_WHY_EXPIRED: return "expired";
	case APPROVAL_WHY_REJECTED: return "rejected";
	case APPROVAL_WHY_NOT_IN_ROLE: return "not-in-role";
	case APPROVAL_WHY_SELF: return "self-approval";
	}
	return "?";
}

static int64_t t(const char *s)
{
	int64_t ms = 0;
	if (time_parse_rfc3339(s, &ms, NULL))
		printf("# bad time %s\n", s);
	return ms;
}

static void run_case(const char *dir, const char *name)
{
	char path[8200], line[1024];
	char *lines[64], *orig[64];
	int nlines = 0;
	FILE *f;
	int64_t dep = 1, ttl = APPROVAL_DEFAULT_TTL_MS, now = 0;
	const char *requester = NULL, *required[8];
	size_t n_required = 0, n_appr = 0;
	struct approval appr[16];
	struct roles_map roles = { 0 };
	struct approval_gate g = { 0 };

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	if (!f) {
		ok(0, "%s: cannot open", name);
		return;
	}
	while (nlines < 64 && fgets(line, sizeof(line), f)) {
		orig[nlines] = strdup(line);
		lines[nlines++] = strdup(line);
	}
	fclose(f);
	/* first pass: inputs */
	for (int i = 0; i < nlines; i++) {
		char *w[12];
		int n = casefile_words(lines[i], w, 12);
		if (n == 0)
			continue;
		if (!strcmp(w[0], "deployment"))
			dep = strtoll(w[1], NULL, 10);
		else if (!strcmp(w[0], "requester"))
			requester = w[1];
		else if (!strcmp(w[0], "roles"))
			ok(roles_map_parse(w[1], &roles, NULL) == 0, "%s: roles parse", name);
		else if (!strcmp(w[0], "required"))
			for (int k = 1; k < n && n_required < 8; k++)
				required[n_required++] = w[k];
		else if (!strcmp(w[0], "ttl"))
			duration_parse(w[1], &ttl, NULL);
		else if (!strcmp(w[0], "now"))
			now = t(w[1]);
		else if (!strcmp(w[0], "approval") && n >= 6 && n_appr < 16) {
			struct approval *a = &appr[n_appr];
			a->id = (int64_t)n_appr + 1;
			a->deployment_id = strtoll(w[1], NULL, 10);
			a->role = w[2];
			a->approver = w[3];
			a->decision = !strcmp(w[4], "rejected") ? APPROVAL_REJECTED : APPROVAL_APPROVED;
			a->at_ms = t(w[5]);
			n_appr++;
		}
	}
	is_int(approval_gate_eval(dep, required, n_required, roles.roles, roles.n, requester, ttl, now, appr, n_appr,
				  &g, NULL), 0, "%s: evaluates", name);
	for (int i = 0; i < nlines; i++) {
		char *w[12];
		int n = casefile_words(orig[i], w, 12);
		if (n < 2 || strcmp(w[0], "expect"))
			continue;
		if (!strcmp(w[1], "open"))
			is_int(g.n_missing, 0, "%s: gate open", name);
		else if (!strcmp(w[1], "closed"))
			ok(g.n_missing > 0, "%s: gate closed", name);
		else if (!strcmp(w[1], "rejected"))
			is_int(g.rejected, 1, "%s: marked rejected", name);
		else if (!strcmp(w[1], "granted") && n >= 3)
			is_int(g.n_granted, strtol(w[2], NULL, 10), "%s: %s granted", name, w[2]);
		else if (!strcmp(w[1], "missing") && n >= 4) {
			const char *got = NULL;
			for (size_t k = 0; k < g.n_missing; k++)
				if (!strcmp(g.missing[k].role, w[2]))
					got = why_word(g.missing[k].why);
			is_str(got, w[3], "%s: %s missing because %s", name, w[2], w[3]);
		}
	}
	approval_gate_release(&g);
	roles_map_release(&roles);
	for (int i = 0; i < nlines; i++) {
		free(lines[i]);
		free(orig[i]);
	}
}

int main(void)
{
	char dir[4096];
	char **names;
	int n = casefile_list("approvals", dir, sizeof(dir), &names);
	struct roles_map m = { 0 };
	struct strbuf err = STRBUF_INIT;
	struct approval_gate g;

	ok(n >= 10, "found the approval cases in %s (%d)", dir, n);
	for (int i = 0; i < n; i++) {
		run_case(dir, names[i]);
		free(names[i]);
	}
	free(names);

	is_int(roles_map_parse(" team-lead = alice , bob ; dba=carol;", &m, &err), 0, "roles map with spaces");
	is_int(m.n, 2, "two roles");
	ok(roles_map_has(m.roles, m.n, "team-lead", "bob"), "bob is a team-lead");
	ok(!roles_map_has(m.roles, m.n, "dba", "bob"), "bob is not a dba");
	roles_map_release(&m);
	is_int(roles_map_parse("team-lead", &m, &err), SW_EPARSE, "a role without '=' is an error");
	ok(strstr(err.buf, "role=person") != NULL, "the error shows the valid form");
	is_int(approval_gate_eval(1, NULL, 0, NULL, 0, "a", 0, 0, NULL, 0, &g, NULL), SW_EUSAGE, "ttl 0 refused");
	strbuf_release(&err);
	return tap_done();
}
