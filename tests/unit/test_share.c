/*
 * test_share.c - core/share.h over the cases in tests/data/shares/, one .case file each:
 * requested shares in, the HAProxy server weights and achieved shares out,
 * or the refusal and its message.  A case file:
 *   want NAME PCT SERVERS     a revision's requested share and server count
 *   round                     round to the nearest achievable shares
 *   expect ok|refused         share_fit()'s answer
 *   weights W...              each revision's server weight (ok, or the nearest when refused)
 *   achieved P...             each revision's achieved share, percent to 2 decimals
 *   message TEXT...           a substring of the refusal
 */
#include "core/share.h"
#include "base/err.h"
#include "base/strbuf.h"
#include "casefile.h"
#include "tap.h"

#include <math.h>

#define MAXW 16

static void run_case(const char *dir, const char *name)
{
	char path[2048], line[1024], names[MAXW][64], message[512] = "";
	struct share_want w[MAXW];
	struct share_got got[MAXW];
	int n = 0, round = 0, want_ok = -1, nweights = -1, nach = -1, weights[MAXW];
	double ach[MAXW];
	struct strbuf err = STRBUF_INIT;
	FILE *f;
	int rc;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (!(f = fopen(path, "r"))) {
		ok(0, "%s: cannot open", name);
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		char copy[1024], *a[MAXW + 2];
		int nw;
		snprintf(copy, sizeof(copy), "%s", line);
		nw = casefile_words(line, a, MAXW + 2);
		if (!nw)
			continue;
		if (!strcmp(a[0], "want") && nw == 4 && n < MAXW) {
			snprintf(names[n], sizeof(names[n]), "%s", a[1]);
			w[n].name = names[n];
			w[n].pct = strtod(a[2], NULL);
			w[n].servers = (int)strtol(a[3], NULL, 10);
			n++;
		} else if (!strcmp(a[0], "round")) {
			round = 1;
		} else if (!strcmp(a[0], "expect") && nw == 2) {
			want_ok = !strcmp(a[1], "ok");
		} else if (!strcmp(a[0], "weights")) {
			nweights = nw - 1;
			for (int i = 1; i < nw; i++)
				weights[i - 1] = (int)strtol(a[i], NULL, 10);
		} else if (!strcmp(a[0], "achieved")) {
			nach = nw - 1;
			for (int i = 1; i < nw; i++)
				ach[i - 1] = strtod(a[i], NULL);
		} else if (!strcmp(a[0], "message")) {
			char *p = strstr(copy, "message") + 7;
			while (*p == ' ')
				p++;
			p[strcspn(p, "\r\n")] = '\0';
			snprintf(message, sizeof(message), "%s", p);
		} else {
			ok(0, "%s: unknown line '%s'", name, a[0]);
		}
	}
	fclose(f);
	rc = share_fit(w, (size_t)n, round, got, &err);
	if (want_ok >= 0)
		ok((rc == 0) == want_ok, "%s: %s%s%s", name, want_ok ? "accepted" : "refused", err.len ? ": " : "",
		   err.buf);
	if (rc < 0 && !strstr(err.buf, "add up"))
		share_plan(w, (size_t)n, got);	/* the nearest plan, which the message names */
	if (nweights >= 0) {
		int same = nweights == n;
		for (int i = 0; same && i < n; i++)
			same = got[i].server_weight == weights[i];
		ok(same, "%s: server weights", name);
		if (!same)
			for (int i = 0; i < n; i++)
				printf("#   %s: got weight %d\n", w[i].name, got[i].server_weight);
	}
	if (nach >= 0) {
		int same = nach == n;
		for (int i = 0; same && i < n; i++)
			same = fabs(got[i].pct - ach[i]) < 0.005 + 1e-9;
		ok(same, "%s: achieved shares", name);
		if (!same)
			for (int i = 0; i < n; i++)
				printf("#   %s: achieved %.4f%%\n", w[i].name, got[i].pct);
	}
	if (message[0]) {
		ok(strstr(err.buf, message) != NULL, "%s: the message says '%s'", name, message);
		if (!strstr(err.buf, message))
			printf("#   got: %s\n", err.buf);
	}
	strbuf_release(&err);
}

int main(void)
{
	char dir[1024], **names;
	int n = casefile_list("shares", dir, sizeof(dir), &names);
	ok(n > 0, "cases in %s", dir);
	for (int i = 0; i < n; i++) {
		run_case(dir, names[i]);
		free(names[i]);
	}
	free(names);
	return tap_done();
}
