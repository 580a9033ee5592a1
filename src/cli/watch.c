/*
 * watch.c - following deployments for `status --watch` and `deploy
 * --wait` (watch.h).  The events come from the controller's stream or from
 * the store; either way the deployment's row in the store says when it is
 * done (final, or waiting for a person), looked at about once a second and
 * after each event, and whatever transitions the stream has not delivered
 * by then are read from the store, so the last lines are never missing.
 */
#include "cli/watch.h"
#include "cli/api_client.h"
#include "cli/cli.h"
#include "cli/cli_policy.h"
#include "server/vocab.h"
#include "adapters/deployment_store.h"
#include "adapters/records.h"
#include "adapters/proc.h"
#include "base/err.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "core/deployment.h"
#include "core/policy.h"
#include "core/strategy.h"

#include <jansson.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#define WATCH_POLL_MS 250
#define WATCH_CHECK_MS 1000

static volatile sig_atomic_t watch_stop;

static void on_stop(int sig)
{
	(void)sig;
	watch_stop = 1;
}

struct watch {
	struct cli_ctx *ctx;
	struct store *st;
	int64_t id;
	FILE *out;
	struct watch_result *res;
	struct policy_file pol;
	int have_pol;
	int64_t checked_ms;
	int done;		/* 1 final or waiting, 2 interrupted */
	struct strbuf err;
};

/* The current step's hold or the monitoring period still to run, wall ms; -1 when none applies. */
static int64_t time_left(struct watch *w, int64_t id)
{
	struct deployment d;
	struct strategy s;
	struct strbuf e = STRBUF_INIT;
	int64_t now = cli_now_ms(), l = -1;

	if (deployment_store_load(w->st, id, &d, &s, &e) < 0) {
		strbuf_release(&e);
		return -1;
	}
	strbuf_release(&e);
	if (d.state == DS_PROGRESSING && d.step >= 1 && d.step <= s.n_steps) {
		l = d.step_since_ms + deployment_wall_span(&d, s.steps[d.step - 1].hold_ms) - now;
	} else if (d.state == DS_MONITORING && w->have_pol) {
		struct type_rules rules;
		struct strbuf te = STRBUF_INIT;
		if (policy_type_rules(&w->pol.p, d.type, &rules, &te) == 0 && rules.monitoring_ms > 0)
			l = d.monitoring_since_ms + deployment_wall_span(&d, rules.monitoring_ms) - now;
		strbuf_release(&te);
	}
	return l < 0 && l != -1 ? 0 : l;
}

static void print_event(struct watch *w, json_t *ev)
{
	int64_t seq = json_integer_value(json_object_get(ev, "id_global"));
	int64_t dep = json_integer_value(json_object_get(ev, "deployment_id"));
	int64_t left;

	json_object_del(ev, "id_global");
	if (seq <= w->res->last)
		return;	/* printed already (the stream and the store overlap) */
	w->res->last = seq;
	left = time_left(w, dep);
	if (w->ctx->output == OUTPUT_JSON) {
		char *txt;
		json_object_set_new(ev, "event_id", json_integer(seq));
		if (left >= 0)
			json_object_set_new(ev, "left_ms", json_integer(left));
		txt = json_dumps(ev, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
		fprintf(w->out, "%s\n", txt ? txt : "{}");
		free(txt);
	} else {
		char lbuf[DURATION_BUFSZ], at[64];
		const char *a = json_string_value(json_object_get(ev, "at"));
		snprintf(at, sizeof(at), "%s", a ? a : "");
		fprintf(w->out, "%s #%lld %s %s (%s): %s (step %lld, weight %.0f%%)%s%s%s: %s\n", at, (long long)dep,
			json_string_value(json_object_get(ev, "service")), json_string_value(json_object_get(ev, "version")),
			json_string_value(json_object_get(ev, "env")), json_string_value(json_object_get(ev, "to")),
			(long long)json_integer_value(json_object_get(ev, "step")),
			json_number_value(json_object_get(ev, "weight")), left >= 0 ? " " : "",
			left >= 0 ? duration_format(left, lbuf) : "", left >= 0 ? " left" : "",
			json_string_value(json_object_get(ev, "reason")) ? json_string_value(json_object_get(ev, "reason")) : "");
	}
	fflush(w->out);
}

/* Print what the store has after res->last.  0 or < 0 (w->err). */
static int poll_store(struct watch *w)
{
	struct transition_event *v = NULL;
	size_t n = 0;
	int r;
	if (w->id == 0 && w->res->last == 0 && (r = records_transitions_last_id(w->st, &w->res->last, &w->err)) < 0)
		return r;	/* every deployment: from now on */
	do {
		if ((r = records_transitions_after(w->st, w->res->last, w->id, NULL, NULL, 200, &v, &n, &w->err)) < 0)
			return r;
		for (size_t i = 0; i < n; i++) {
			json_t *ev = vocab_transition_event_json(&v[i]);
			json_object_set_new(ev, "id_global", json_integer(v[i].t.id));
			print_event(w, ev);
			json_decref(ev);
		}
		transition_events_free(v, n);
	} while (n == 200);
	return 0;
}

/* Is the followed deployment done (final, or waiting for a person)?  Also Ctrl-C.  Sets w->done. */
static void check(struct watch *w)
{
	struct deployment d;
	struct strbuf e = STRBUF_INIT;
	int64_t now = cli_now_ms();

	if (watch_stop) {
		w->res->interrupted = 1;
		w->done = 2;
		return;
	}
	if (w->id == 0 || now - w->checked_ms < WATCH_CHECK_MS)
		return;
	w->checked_ms = now;
	if (deployment_store_load(w->st, w->id, &d, NULL, &e) < 0) {
		strbuf_release(&e);
		return;
	}
	strbuf_release(&e);
	w->res->state = d.state;
	snprintf(w->res->reason, sizeof(w->res->reason), "%s", d.reason);
	if (deployment_state_is_final(d.state)) {
		w->done = 1;
	} else if (d.state == DS_PAUSED || (d.state == DS_PENDING && !strncmp(d.reason, "waiting: ", 9))) {
		w->res->waiting = 1;
		w->done = 1;
	}
}

static int on_stream_event(void *ctx, long long id, json_t *data)
{
	struct watch *w = ctx;
	json_object_set_new(data, "id_global", json_integer(id));
	print_event(w, data);
	return 0;
}

static int on_stream_idle(void *ctx)
{
	struct watch *w = ctx;
	check(w);
	return w->done ? 1 : 0;
}

int watch_follow(struct cli_ctx *ctx, int64_t id, int use_stream, FILE *out, struct watch_result *res,
		 struct strbuf *err)
{
	struct watch w;
	struct sigaction sa, old_int, old_term;
	struct cli_api api;
	int r = 0;

	memset(&w, 0, sizeof(w));
	w.ctx = ctx;
	w.id = id;
	w.out = out;
	w.res = res;
	res->lost = 0;
	strbuf_init(&w.err, 0);
	if (cli_store(ctx, &w.st) != EXIT_OK)
		return SW_ESTORE;
	/* the monitoring period comes from the policy's type rules: without the policy, no time left there */
	w.have_pol = cli_policy_load(ctx->policy_path, &w.pol) == EXIT_OK;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	watch_stop = 0;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	if (use_stream && cli_api_open(ctx, &api) == 1) {
		struct strbuf path = STRBUF_INIT;
		if (id)
			strbuf_addf(&path, "stream?deployment=%lld&after=%lld", (long long)id, (long long)res->last);
		else
			strbuf_addstr(&path, "stream");
		res->streamed = 1;
		r = cli_api_stream(&api, path.buf, on_stream_event, on_stream_idle, &w, &w.err);
		strbuf_release(&path);
		cli_api_close(&api);
		if (r > 0) {
			r = 0;	/* done or interrupted */
		} else {
			/* the stream ended (the controller stopped) or failed: the caller may poll on */
			res->lost = 1;
			r = 0;
		}
		if (!res->interrupted && poll_store(&w) < 0)
			r = SW_ESTORE;
	} else {
		for (;;) {
			if ((r = poll_store(&w)) < 0)
				break;
			check(&w);
			if (w.done)
				break;
			proc_sleep_ms(WATCH_POLL_MS);
		}
		if (r >= 0 && w.done == 1)
			r = poll_store(&w);
	}
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	if (r < 0)
		strbuf_errf(err, "%s", w.err.buf);
	if (w.have_pol)
		cli_policy_release(&w.pol);
	strbuf_release(&w.err);
	return r;
}

int watch_exit(const struct watch_result *res)
{
	if (res->interrupted)
		return EXIT_INTERRUPTED;
	if (res->waiting)
		return EXIT_WAITING;
	return res->state == DS_SUCCEEDED ? EXIT_OK : EXIT_NO;
}
