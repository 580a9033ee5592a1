/*
 * test_host_hold.c - a fleet host that does not answer during a rollout
 * (docs/fleet.md "Host failures"; deployment.c host_hold()): the hold's
 * bound (policy fleet.host_hold_max, fleet.on_host_lost) and the step's
 * clock restarted when the host answers again.  The state machine alone,
 * on a simulated clock of one tick a second, with the controller's inputs
 * (tick_input.host_away) scripted by the case.
 *
 * Cases: tests/data/host-hold/NAME.case, one directive a line:
 *   type T                     deployment type (type_rules_default), default standard
 *   strategy KIND              strategy_default(KIND), default canary
 *   host_hold_max DURATION     rules.fleet.host_hold_max_ms (default: the rules')
 *   on_host_lost rollback|pause
 *   rpm N                      the service's requests a minute; the canary gets its weight's share
 *   time_scale N               the deployment's --time-scale (docs/engine.md "Time scale"), default 1
 *   away FROM_S UNTIL_S        the host does not answer from FROM_S until UNTIL_S (seconds)
 *   canary_while_away F        the share of the canary's requests served meanwhile (default 1)
 *   intent AT_S KIND           a person's intent (resume, promote, abort, ...)
 *   until S                    run to S seconds, or until the deployment is final
 *   expect final STATE
 *   expect transition AT_S STATE REGEX...   a transition at AT_S to STATE whose reason matches
 *   expect no-transition REGEX...           no transition's reason matches
 *   expect step-left-not-before STEP S      step STEP ends no earlier than S seconds
 * A failure prints every transition.
 */
#include "tap.h"
#include "casefile.h"
#include "core/deployment.h"
#include "core/rules.h"
#include "core/strategy.h"
#include "base/err.h"
#include "base/timeutil.h"

#include <regex.h>
#include <stdlib.h>
#include <string.h>

#define MAX_EXPECT 16
#define MAX_INTENTS 8
#define MAX_TRANS 256

struct hh_case {
	char type[32];
	enum strategy_kind kind;
	int64_t hold_max_ms;
	int on_lost;		/* -1 = the rules' */
	double rpm;
	double time_scale;
	int64_t away_from_s, away_until_s;
	double canary_while_away;
	int n_intents;
	int64_t intent_at_s[MAX_INTENTS];
	enum intent_kind intent_kind[MAX_INTENTS];
	int64_t until_s;
	int n_expect;
	char expect[MAX_EXPECT][400];
};

struct hh_trans {
	int64_t at_s;
	enum deploy_state to;
	int step;
	char reason[400];
};

static struct hh_trans trans[MAX_TRANS];
static int n_trans;

static void join(char **w, int from, int n, char *out, size_t size)
{
	out[0] = '\0';
	for (int i = from; i < n; i++) {
		strncat(out, w[i], size - strlen(out) - 1);
		if (i + 1 < n)
			strncat(out, " ", size - strlen(out) - 1);
	}
}

static int load(const char *path, struct hh_case *c)
{
	FILE *f = fopen(path, "r");
	char line[600], *w[32];
	int n;

	if (!f)
		return -1;
	memset(c, 0, sizeof(*c));
	snprintf(c->type, sizeof(c->type), "standard");
	c->kind = STRATEGY_CANARY;
	c->on_lost = -1;
	c->rpm = 6000;
	c->canary_while_away = 1;
	c->until_s = 4 * 3600;
	while (fgets(line, sizeof(line), f)) {
		if (!(n = casefile_words(line, w, 32)))
			continue;
		if (!strcmp(w[0], "type") && n == 2) {
			snprintf(c->type, sizeof(c->type), "%s", w[1]);
		} else if (!strcmp(w[0], "strategy") && n == 2) {
			if (strategy_kind_parse(w[1], &c->kind, NULL) < 0)
				goto bad;
		} else if (!strcmp(w[0], "host_hold_max") && n == 2) {
			if (duration_parse(w[1], &c->hold_max_ms, NULL) < 0)
				goto bad;
		} else if (!strcmp(w[0], "on_host_lost") && n == 2) {
			c->on_lost = !strcmp(w[1], "pause") ? HOST_LOST_PAUSE : HOST_LOST_ROLLBACK;
		} else if (!strcmp(w[0], "time_scale") && n == 2) {
			c->time_scale = strtod(w[1], NULL);
		} else if (!strcmp(w[0], "rpm") && n == 2) {
			c->rpm = strtod(w[1], NULL);
		} else if (!strcmp(w[0], "away") && n == 3) {
			c->away_from_s = strtoll(w[1], NULL, 10);
			c->away_until_s = strtoll(w[2], NULL, 10);
		} else if (!strcmp(w[0], "canary_while_away") && n == 2) {
			c->canary_while_away = strtod(w[1], NULL);
		} else if (!strcmp(w[0], "intent") && n == 3 && c->n_intents < MAX_INTENTS) {
			if (intent_kind_parse(w[2], &c->intent_kind[c->n_intents]) < 0)
				goto bad;
			c->intent_at_s[c->n_intents++] = strtoll(w[1], NULL, 10);
		} else if (!strcmp(w[0], "until") && n == 2) {
			c->until_s = strtoll(w[1], NULL, 10);
		} else if (!strcmp(w[0], "expect") && n >= 3 && c->n_expect < MAX_EXPECT) {
			join(w, 1, n, c->expect[c->n_expect++], sizeof(c->expect[0]));
		} else {
			goto bad;
		}
	}
	fclose(f);
	return 0;
bad:
	fclose(f);
	printf("# %s: cannot read the directive '%s'\n", path, w[0]);
	return -1;
}

/* What the looks so far left over of a request (a look counts whole requests). */
static double carry_c, carry_s;

/* One look's counts: the service's rpm split by weight, 0.1% errors on both sides. */
static void measure(const struct hh_case *c, int64_t from, int64_t to, double weight, int away,
		    struct analysis_input *a)
{
	double mins = (double)(to - from) / 60000.0;
	double nc = c->rpm * mins * weight / 100.0 * (away ? c->canary_while_away : 1) + carry_c;
	double ns = c->rpm * mins * (100.0 - weight) / 100.0 + carry_s;

	carry_c = nc - (double)(uint64_t)nc;
	carry_s = ns - (double)(uint64_t)ns;

	memset(a, 0, sizeof(*a));
	a->from_ms = from;
	a->to_ms = to;
	a->weight = weight;
	a->have_samples = 1;
	a->canary = (struct judge_sample){ (uint64_t)nc, (uint64_t)(nc / 1000), 40, 200, to - from };
	a->stable = (struct judge_sample){ (uint64_t)ns, (uint64_t)(ns / 1000), 40, 200, to - from };
}

static void record(const struct decision *dec)
{
	for (int i = 0; i < dec->n_transitions && n_trans < MAX_TRANS; i++) {
		struct hh_trans *t = &trans[n_trans++];
		t->at_s = dec->transitions[i].at_ms / 1000;
		t->to = dec->transitions[i].to;
		t->step = dec->transitions[i].step;
		snprintf(t->reason, sizeof(t->reason), "%s", dec->transitions[i].reason);
	}
}

static int matches(const char *re, const char *text)
{
	regex_t rx;
	int m;
	if (regcomp(&rx, re, REG_EXTENDED | REG_NOSUB))
		return -1;
	m = regexec(&rx, text, 0, NULL, 0) == 0;
	regfree(&rx);
	return m;
}

static int check(const char *name, const char *e, const struct deployment *d)
{
	char buf[400], *w[8], *rest;
	int n, good = 0;

	snprintf(buf, sizeof(buf), "%s", e);
	n = casefile_words(buf, w, 3);
	rest = n == 3 ? (char *)e + (w[2] - buf) : NULL;
	if (n >= 2 && !strcmp(w[0], "final")) {
		good = !strcmp(deployment_state_name(d->state), w[1]);
		ok(good, "%s: final state %s", name, w[1]);
		if (!good)
			printf("#   got %s: %s\n", deployment_state_name(d->state), d->reason);
	} else if (n == 3 && !strcmp(w[0], "transition")) {
		int64_t at = strtoll(w[1], NULL, 10);
		char st[64], *re;
		snprintf(st, sizeof(st), "%s", rest);
		*strchr(st, ' ') = '\0';
		re = strchr(rest, ' ') + 1;
		for (int i = 0; i < n_trans && !good; i++)
			good = trans[i].at_s == at && !strcmp(deployment_state_name(trans[i].to), st) &&
			       matches(re, trans[i].reason) > 0;
		ok(good, "%s: at %llds to %s: %s", name, (long long)at, st, re);
	} else if (n >= 2 && !strcmp(w[0], "no-transition")) {
		const char *re = strchr(e, ' ') + 1;
		good = 1;
		for (int i = 0; i < n_trans; i++)
			if (matches(re, trans[i].reason) != 0)
				good = 0;
		ok(good, "%s: no transition says %s", name, re);
	} else if (n == 3 && !strcmp(w[0], "step-left-not-before")) {
		int step = (int)strtol(w[1], NULL, 10);
		int64_t not_before = strtoll(rest, NULL, 10), left = -1;
		for (int i = 1; i < n_trans && left < 0; i++)
			if (trans[i - 1].step == step && (trans[i].step != step || trans[i].to != DS_PROGRESSING) &&
			    trans[i].to != DS_PAUSED)
				left = trans[i].at_s;
		good = left >= not_before;
		ok(good, "%s: step %d ends at or after %llds (at %llds)", name, step, (long long)not_before,
		   (long long)left);
	} else {
		ok(0, "%s: unknown expectation '%s'", name, e);
	}
	return good;
}

static void run_case(const char *dir, const char *file)
{
	char path[1024], name[256];
	struct hh_case c;
	struct type_rules r;
	struct strategy *s = calloc(1, sizeof(*s));
	struct deployment d;
	struct decision *dec = calloc(1, sizeof(*dec));
	int all = 1;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	snprintf(name, sizeof(name), "%s", file);
	name[strlen(name) - 5] = '\0';
	if (load(path, &c) < 0) {
		ok(0, "%s: the case loads", name);
		goto out;
	}
	if (type_rules_default(c.type, &r, NULL) < 0) {
		ok(0, "%s: type %s", name, c.type);
		goto out;
	}
	if (c.hold_max_ms)
		r.fleet.host_hold_max_ms = c.hold_max_ms;
	if (c.on_lost >= 0)
		r.fleet.on_host_lost = (enum host_lost_action)c.on_lost;
	strategy_default(s, c.kind);
	deployment_init(&d, "api", "production", "v2", "v1", c.type, 0);
	d.time_scale = c.time_scale > 1 ? c.time_scale : 1;
	n_trans = 0;
	carry_c = carry_s = 0;
	for (int64_t t = 1; t <= c.until_s && !deployment_state_is_final(d.state); t++) {
		int64_t now = t * 1000, from, to;
		struct tick_input in = { .gate = GATE_ALLOW, .canary_ready = 1 };
		struct analysis_input a;
		struct intent its[MAX_INTENTS];
		int n_its = 0, idle, away = t >= c.away_from_s && t < c.away_until_s;
		double w;

		for (int i = 0; i < c.n_intents; i++)
			if (c.intent_at_s[i] == t) {
				memset(&its[n_its], 0, sizeof(its[0]));
				its[n_its].id = i + 1;
				its[n_its].kind = c.intent_kind[i];
				its[n_its].created_ms = now;
				snprintf(its[n_its].requested_by, sizeof(its[n_its].requested_by), "alice");
				n_its++;
			}
		if (away) {
			in.host_away = 1;
			snprintf(in.host_reason, sizeof(in.host_reason), "the new revision v2: 1 of 3 instances of v2 "
				 "are on hosts that do not answer: host 'h1' (10.0.0.11): ssh: connect to host "
				 "10.0.0.11 port 22: Connection timed out");
		}
		if (deployment_analysis_due(&d, s, now, &from, &to, &w, &idle)) {
			measure(&c, from, to, w, away, &a);
			in.analysis = &a;
		}
		if (deployment_advance(&d, &r, s, &in, its, n_its, now, dec) < 0) {
			ok(0, "%s: deployment_advance at %llds", name, (long long)t);
			goto out;
		}
		record(dec);
		d = dec->next;
	}
	for (int i = 0; i < c.n_expect; i++)
		all &= check(name, c.expect[i], &d);
	if (!all)
		for (int i = 0; i < n_trans; i++)
			printf("#   %6llds %-12s step %d: %s\n", (long long)trans[i].at_s,
			       deployment_state_name(trans[i].to), trans[i].step, trans[i].reason);
out:
	free(s);
	free(dec);
}

int main(void)
{
	char dir[512], **names;
	int n = casefile_list("host-hold", dir, sizeof(dir), &names);

	ok(n > 0, "cases in %s", dir);
	for (int i = 0; i < n; i++) {
		run_case(dir, names[i]);
		free(names[i]);
	}
	free(names);
	return tap_done();
}
