/*
 * test_controller.c - the reconcile loop over a real store (SQLite in a
 * temporary directory) with the simulated router and target: actuation
 * after the commit, re-application after a failed actuation or a restart,
 * the gate and rules hooks, notifications, and the store's guards (a stale
 * row version or an intent applied twice commits nothing).
 */
#include "tap.h"
#include "adapters/deployment_store.h"
#include "adapters/sim_infra.h"
#include "adapters/store.h"
#include "adapters/webhook.h"
#include "controller/controller.h"
#include "core/rules.h"
#include "base/err.h"
#include "base/strbuf.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <microhttpd.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

static int healthy(void *ctx, const char *service, enum revision_role role, const char *version, int64_t from_ms,
		   int64_t to_ms, struct metrics_sample *out, struct strbuf *err)
{
	memset(out, 0, sizeof(*out));
	out->requests = role == ROLE_CANARY ? 500 : 1000;
	out->errors = 1;
	out->p50_ms = 45;
	out->p99_ms = 200;
	return 0;
}

static char events[4096];
static int logs;

static void on_notify(void *ctx, const struct deployment *d, const char *event, const char *text)
{
	size_t l = strlen(events);
	snprintf(events + l, sizeof(events) - l, "%s%s", l ? " " : "", event);
}

static void on_log(void *ctx, const struct deployment *d, const char *msg)
{
	logs++;
}

static enum gate_result gate_answer = GATE_ALLOW;

static enum gate_result gate(void *ctx, const struct deployment *d, enum gate_phase phase, int64_t now_ms,
			     struct strbuf *reason)
{
	if (strcmp(d->service, "gated"))
		return GATE_ALLOW;
	strbuf_addstr(reason, gate_answer == GATE_DENY ? "holiday freeze (Dec 15 - Jan 2)" : "outside the standard window");
	return gate_answer;
}

/* A webhook receiver: /ok answers 200, /no 403; counts calls per path. */
static int calls_ok, calls_no, calls_post, calls_event;

static enum MHD_Result answer(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
			      const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	struct MHD_Response *resp;
	enum MHD_Result r;
	unsigned code = 200;

	if (!*con_cls) {
		*con_cls = (void *)1;
		return MHD_YES;
	}
	if (*upload_size) {
		*upload_size = 0;
		return MHD_YES;
	}
	if (strstr(url, "/no"))
		code = 403, __atomic_add_fetch(&calls_no, 1, __ATOMIC_SEQ_CST);
	else
		__atomic_add_fetch(&calls_ok, 1, __ATOMIC_SEQ_CST);
	if (strstr(url, "/ok/post"))
		__atomic_add_fetch(&calls_post, 1, __ATOMIC_SEQ_CST);
	if (strstr(url, "/ok/event"))
		__atomic_add_fetch(&calls_event, 1, __ATOMIC_SEQ_CST);
	resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	r = MHD_queue_response(conn, code, resp);
	MHD_destroy_response(resp);
	return r;
}

static void add_hook(struct strategy *s, const char *name, enum webhook_type t, int port, const char *path)
{
	struct webhook *w = &s->webhooks[s->n_webhooks++];
	memset(w, 0, sizeof(*w));
	snprintf(w->name, sizeof(w->name), "%s", name);
	w->type = t;
	snprintf(w->url, sizeof(w->url), "http://127.0.0.1:%d%s", port, path);
	w->timeout_ms = 2000;
}

/* A target whose every start of the new revision takes five minutes of a fake clock
 * (the ssh target starting and probing instances on remote hosts), and that clock. */
static int64_t fake_now;
static struct target slow_inner;

static int slow_ensure(void *ctx, const char *service, const char *version, enum revision_role role, int up,
		       int count, struct strbuf *err)
{
	if (up && role == ROLE_CANARY)
		fake_now += 5 * 60000;
	return slow_inner.ensure(slow_inner.ctx, service, version, role, up, count, err);
}

static int64_t fake_clock(void *ctx)
{
	return fake_now;
}

/* A target whose new revision's host stops answering while host_cut is set (the ssh
 * target's ready(): SW_EEXTERNAL naming the host, docs/fleet.md "Host failures"). */
static int host_cut;
static struct target cut_inner;

static int cut_ready(void *ctx, const char *service, const char *version, struct strbuf *err)
{
	if (host_cut && !strcmp(version, "v2")) {
		strbuf_addstr(err, "1 of 1 instances of v2 are on hosts that do not answer: host 'h1' (10.0.0.11): "
			      "ssh: connect to host 10.0.0.11 port 22: Connection timed out");
		return SW_EEXTERNAL;
	}
	return cut_inner.ready ? cut_inner.ready(cut_inner.ctx, service, version, err) : 1;
}

static struct deployment load(struct store *st, int64_t id)
{
	struct deployment d;
	memset(&d, 0, sizeof(d));
	deployment_store_load(st, id, &d, NULL, NULL);
	return d;
}

int main(void)
{
	char dir[] = "/tmp/slipway-test-controller.XXXXXX";
	struct store st = { 0 };
	struct strbuf err = STRBUF_INIT;
	struct strategy *s = calloc(1, sizeof(*s));
	struct sim_infra infra;
	struct router router;
	struct target target;
	struct metrics_provider prov = { NULL, healthy };
	struct controller c;
	struct judge observed;
	struct deployment d, g, e;
	int64_t t;
	int r;

	ok(mkdtemp(dir) != NULL, "temporary state directory");
	is_int(store_open(&st, dir, &err), 0, "store opens");
	is_int(deployment_store_migrate(&st, &err), 0, "deployments module migrates");
	is_int(deployment_store_migrate(&st, &err), 0, "migrating twice is a no-op");

	strategy_default(s, STRATEGY_CANARY);
	s->n_steps = 0;
	for (int w = 10; w <= 50; w += 10)
		strategy_add_step(s, 0, w, 60000, NULL);
	deployment_init(&d, "api", "production", "v2", "v1", "standard", -1000);
	snprintf(d.requested_by, sizeof(d.requested_by), "alice");
	is_int(deployment_store_create(&st, &d, s, &err), 0, "create a deployment");
	is_int(d.revision, 1, "first revision of the service is 1");
	deployment_init(&g, "gated", "production", "v2", "v1", "standard", -1000);
	deployment_store_create(&st, &g, s, &err);
	deployment_init(&e, "api", "production", "v3", "v2", "nightly", -1000);
	is_int(deployment_store_create(&st, &e, s, &err), SW_ESTATE,
	       "a second unfinished deployment of a service and environment is refused");
	ok(strstr(err.buf, "deployment 1 of api in production is unfinished (pending)") != NULL, "saying which: %s",
	   err.buf);
	strbuf_reset(&err);
	deployment_init(&e, "api", "staging", "v3", "v2", "nightly", -1000);
	deployment_store_create(&st, &e, s, &err);
	is_int(e.revision, 1, "another environment of the service has its own revisions");

	sim_infra_init(&infra);
	sim_infra_router(&infra, &router);
	sim_infra_target(&infra, &target);
	controller_init(&c, &st);
	c.router = &router;
	c.target = &target;
	c.metrics = &prov;
	/* this test is about the engine: its canary (1 error in 500 against 1 in 1000, every
	   interval) is a real doubling that the sequential judge rightly halts */
	judge_observed_impl.init(&observed, NULL, 0);
	c.judge = &observed;
	c.hooks.notify = on_notify;
	c.hooks.log = on_log;
	c.hooks.gate = gate;
	gate_answer = GATE_WAIT;

	r = controller_tick(&c, 0, &err);
	is_int(r, 3, "tick 0: three active deployments");
	is_str(deployment_state_name(load(&st, d.id).state), "progressing", "api started");
	ok(sim_infra_running(&infra, "api", "v2") > 0, "the target runs the new revision");
	ok(sim_infra_running(&infra, "api", "v1") > 0, "and the stable one");
	ok(sim_infra_weight(&infra, "api", "") == 0, "the router sends the canary nothing yet");
	is_str(deployment_state_name(load(&st, g.id).state), "pending", "gate WAIT: gated stays pending");
	ok(strstr(load(&st, g.id).reason, "outside the standard window") != NULL, "with the gate's reason");
	ok(logs >= 1, "an unknown type is logged, not fatal");
	is_str(deployment_state_name(load(&st, e.id).state), "pending", "the deployment with an unknown type waits");
	ok(strstr(events, "started") != NULL, "notified: started");

	r = controller_tick(&c, 60000, &err);
	ok(sim_infra_weight(&infra, "api", "") == 10, "60 s: the router sends 10%% to the canary");
	is_int(load(&st, d.id).step, 1, "step 1 committed");

	/* a failed actuation: committed, then re-applied on the next tick */
	infra.fail_calls = 1;
	controller_tick(&c, 120000, &err);
	is_int(load(&st, d.id).step, 2, "120 s: step 2 committed");
	ok(sim_infra_weight(&infra, "api", "") == 10, "the router call failed: still 10%%");
	controller_tick(&c, 121000, &err);
	ok(sim_infra_weight(&infra, "api", "") == 20, "the next tick re-applies 20%%");

	/* a restart forgets what was applied: the level is applied again */
	controller_release(&c);
	sim_infra_release(&infra);
	sim_infra_init(&infra);
	controller_init(&c, &st);
	c.router = &router;
	c.target = &target;
	c.metrics = &prov;
	c.judge = &observed;
	c.hooks.notify = on_notify;
	c.hooks.log = on_log;
	c.hooks.gate = gate;
	controller_tick(&c, 122000, &err);
	ok(sim_infra_weight(&infra, "api", "") == 20, "after a restart the router is set to the committed 20%%");
	ok(sim_infra_running(&infra, "api", "v2") > 0, "and the new revision runs again");

	gate_answer = GATE_DENY;
	controller_tick(&c, 123000, &err);
	is_str(deployment_state_name(load(&st, g.id).state), "failed", "gate DENY: failed");
	ok(strstr(load(&st, g.id).reason, "holiday freeze") != NULL, "naming the freeze");

	for (t = 124000; t <= 3 * 3600000 && load(&st, d.id).state != DS_SUCCEEDED; t += 1000)
		controller_tick(&c, t, &err);
	is_str(deployment_state_name(load(&st, d.id).state), "succeeded", "api runs through to succeeded");
	ok(sim_infra_running(&infra, "api", "v1") == 0, "the previous revision is stopped at the end");
	ok(sim_infra_weight(&infra, "api", "") == 100, "and all traffic is on v2");
	ok(strstr(events, "promoted") && strstr(events, "succeeded"), "notified: promoted, succeeded");

	/* preflight: webhooks must be reachable before any traffic moves */
	{
		int lfd = socket(AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		socklen_t al = sizeof(a);
		struct deployment w1, w2;
		char url[64];

		ok(lfd >= 0 && bind(lfd, (struct sockaddr *)&a, sizeof(a)) == 0 && listen(lfd, 4) == 0 &&
		   getsockname(lfd, (struct sockaddr *)&a, &al) == 0, "a listening webhook receiver on 127.0.0.1");
		snprintf(url, sizeof(url), "http://127.0.0.1:%d/hook", ntohs(a.sin_port));
		s->n_webhooks = 1;
		snprintf(s->webhooks[0].name, sizeof(s->webhooks[0].name), "load-test");
		snprintf(s->webhooks[0].url, sizeof(s->webhooks[0].url), "%s", url);
		s->webhooks[0].timeout_ms = 1000;
		deployment_init(&w1, "hooked", "production", "v2", "v1", "standard", t);
		deployment_store_create(&st, &w1, s, &err);
		snprintf(s->webhooks[0].url, sizeof(s->webhooks[0].url), "http://127.0.0.1:1/hook");
		deployment_init(&w2, "unhooked", "production", "v2", "v1", "standard", t);
		deployment_store_create(&st, &w2, s, &err);
		s->n_webhooks = 0;
		controller_tick(&c, t + 1000, &err);
		is_str(deployment_state_name(load(&st, w1.id).state), "progressing", "reachable webhook: started");
		is_str(deployment_state_name(load(&st, w2.id).state), "failed", "unreachable webhook: failed preflight");
		ok(strstr(load(&st, w2.id).reason, "preflight: rollout webhook 'load-test' (http://127.0.0.1:1/hook): "
			  "cannot connect to 127.0.0.1:1") != NULL, "the reason names the webhook and the error");
		ok(sim_infra_running(&infra, "unhooked", "v2") == 0, "no instance started, no traffic moved");
		close(lfd);
		strbuf_reset(&err);
		is_int(webhook_check_reachable("ftp://x/", 100, &err), SW_EPARSE, "only http(s) URLs");
		is_int(webhook_check_reachable("http://:80/", 100, &err), SW_EPARSE, "a URL needs a host");
		is_int(webhook_check_reachable("http://127.0.0.1:99999999/", 100, &err), SW_EPARSE, "a port is short");
	}

	/* Flagger webhooks by type, against a real HTTP receiver on 127.0.0.1 */
	{
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		struct MHD_Daemon *mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, answer, NULL,
							  MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&a, MHD_OPTION_END);
		const union MHD_DaemonInfo *info = mhd ? MHD_get_daemon_info(mhd, MHD_DAEMON_INFO_BIND_PORT) : NULL;
		int port = info ? info->port : 0;
		struct deployment h[5];
		const char *names[5] = { "pre-no", "confirm-no", "promotion-no", "rollback-yes", "all-ok" };
		int64_t t0 = t + 10000;

		ok(port > 0, "webhook receiver listens on 127.0.0.1:%d", port);
		for (int i = 0; i < 5; i++) {
			struct strategy *hs = calloc(1, sizeof(*hs));
			*hs = *s;
			hs->n_webhooks = 0;
			hs->threshold = 1;
			hs->n_steps = 2;
			switch (i) {
			case 0: add_hook(hs, "pre", WEBHOOK_PRE_ROLLOUT, port, "/no"); break;
			case 1: add_hook(hs, "gate", WEBHOOK_CONFIRM_ROLLOUT, port, "/no/gate"); break;
			case 2: add_hook(hs, "promotion", WEBHOOK_CONFIRM_PROMOTION, port, "/no/promote"); break;
			case 3: add_hook(hs, "rollback", WEBHOOK_ROLLBACK, port, "/ok/rollback"); break;
			default:
				add_hook(hs, "load", WEBHOOK_ROLLOUT, port, "/ok/load");
				add_hook(hs, "pre", WEBHOOK_PRE_ROLLOUT, port, "/ok/pre");
				add_hook(hs, "post", WEBHOOK_POST_ROLLOUT, port, "/ok/post");
				add_hook(hs, "event", WEBHOOK_EVENT, port, "/ok/event");
				add_hook(hs, "confirm", WEBHOOK_CONFIRM_PROMOTION, port, "/ok/confirm");
				add_hook(hs, "rollback", WEBHOOK_ROLLBACK, port, "/no/rollback");
			}
			deployment_init(&h[i], names[i], "production", "v2", "v1", "standard", t0 - 1000);
			deployment_store_create(&st, &h[i], hs, &err);
			free(hs);
		}
		for (int64_t tt = t0; tt <= t0 + 4 * 3600000 && controller_tick(&c, tt, &err) > 0; tt += 1000) {
			if (tt == t0 + 400000) {
				is_str(deployment_state_name(load(&st, h[2].id).state), "progressing",
				       "confirm-promotion says no: held at the last step");
				ok(strstr(load(&st, h[2].id).reason, "waiting for promotion: confirm-promotion webhook "
					  "'promotion' answered 403") != NULL, "the reason names the webhook");
				is_str(deployment_state_name(load(&st, h[1].id).state), "pending",
				       "confirm-rollout says no: still pending");
				ok(strstr(load(&st, h[1].id).reason, "waiting for approval: confirm-rollout webhook 'gate' "
					  "answered 403") != NULL, "waiting for approval");
				struct intent it;
				memset(&it, 0, sizeof(it));
				it.kind = INTENT_ABORT;
				it.created_ms = tt;
				deployment_store_add_intent(&st, h[1].id, &it, NULL, &err);
				deployment_store_add_intent(&st, h[2].id, &it, NULL, &err);
			}
		}
		is_str(deployment_state_name(load(&st, h[0].id).state), "rolled_back", "pre-rollout says no: rolled back");
		ok(strstr(load(&st, h[0].id).reason, "pre-rollout webhook 'pre' answered 403") != NULL,
		   "(a failed check, threshold 1)");
		is_str(deployment_state_name(load(&st, h[3].id).state), "rolled_back", "rollback webhook says yes: rolled back");
		ok(strstr(load(&st, h[3].id).reason, "rollback requested") != NULL, "the reason says so");
		is_str(deployment_state_name(load(&st, h[4].id).state), "succeeded", "every webhook says ok: succeeded");
		is_int(calls_post, 1, "post-rollout called once, after the end");
		ok(calls_event >= 5, "event webhooks called with the notifications (%d)", calls_event);
		MHD_stop_daemon(mhd);
	}

	/* an actuation slower than an analysis interval: the intervals it spanned measured a
	   weight the router did not show yet; the step's hold counts from its end */
	{
		struct controller c2;
		struct sim_infra si;
		struct router rt2;
		struct target slow;
		struct deployment x;
		int64_t step1_end = 0, step2_at = 0;
		deployment_init(&x, "slow", "production", "v2", "v1", "standard", 300000000 - 1000);
		is_int(deployment_store_create(&st, &x, s, &err), 0, "a deployment on a slow target");
		sim_infra_init(&si);
		sim_infra_router(&si, &rt2);
		sim_infra_target(&si, &slow_inner);
		slow = slow_inner;
		slow.ensure = slow_ensure;
		controller_init(&c2, &st);
		c2.router = &rt2;
		c2.target = &slow;
		c2.metrics = &prov;
		c2.judge = &observed;
		c2.service = "slow";
		c2.hooks.now = fake_clock;
		fake_now = 300000000;
		for (int i = 0; i < 5000 && !step2_at; i++) {
			int64_t tick = fake_now;
			int before = load(&st, x.id).step;
			controller_tick(&c2, tick, &err);
			if (before == 0 && load(&st, x.id).step == 1)
				step1_end = fake_now;	/* the step's actuation took five minutes of it */
			if (before == 1 && load(&st, x.id).step == 2)
				step2_at = tick;
			fake_now += 1000;
		}
		ok(step1_end > 0 && step2_at > 0, "the slow deployment reaches step 2");
		ok(step2_at - step1_end >= s->steps[0].hold_ms,
		   "its step 1 held %llds after the slow actuation ended, not counting the 300 s it took",
		   (long long)((step2_at - step1_end) / 1000));
		controller_release(&c2);
		sim_infra_release(&si);
	}

	/* a fleet host that stops answering: the controller holds, the hold's start is kept with
	   the deployment, the step starts over when the host is back, and a host that does not
	   come back within fleet.host_hold_max (10m by default) rolls the deployment back */
	{
		struct controller c3;
		struct sim_infra si;
		struct router rt3;
		struct target cut;
		struct deployment x, y;
		int64_t tick = 400000000, back;
		deployment_init(&x, "fleet", "production", "v2", "v1", "standard", tick - 1000);
		is_int(deployment_store_create(&st, &x, s, &err), 0, "a deployment on a fleet");
		sim_infra_init(&si);
		sim_infra_router(&si, &rt3);
		sim_infra_target(&si, &cut_inner);
		cut = cut_inner;
		cut.ready = cut_ready;
		controller_init(&c3, &st);
		c3.router = &rt3;
		c3.target = &cut;
		c3.metrics = &prov;
		c3.judge = &observed;
		c3.service = "fleet";
		host_cut = 0;
		for (; load(&st, x.id).step < 2 && tick < 400000000 + 600000; tick += 1000)
			controller_tick(&c3, tick, &err);
		is_int(load(&st, x.id).step, 2, "the fleet deployment reaches step 2");
		host_cut = 1;
		for (int i = 0; i < 240; i++, tick += 1000)
			controller_tick(&c3, tick, &err);
		y = load(&st, x.id);
		is_int(y.step, 2, "4 minutes with h1 away (the step's hold is 1 minute): still step 2");
		ok(y.host_away_since_ms > 0 && y.host_away_since_ms <= tick - 239000,
		   "the hold's start is kept with the deployment");
		host_cut = 0;
		back = tick;
		controller_tick(&c3, tick, &err);
		tick += 1000;
		y = load(&st, x.id);
		is_int(y.host_away_since_ms, 0, "h1 answers again: no hold");
		is_int(y.step_since_ms, back, "the step's clock restarts at the return");
		ok(strstr(y.reason, "every host answers again after 4m away: step 2/5") != NULL, "and says so: %s",
		   y.reason);
		for (; load(&st, x.id).step == 2 && tick < back + 600000; tick += 1000)
			controller_tick(&c3, tick, &err);
		ok(tick - back >= s->steps[1].hold_ms, "step 2 ends a whole hold after the return (%llds)",
		   (long long)((tick - back) / 1000));
		host_cut = 1;
		for (int i = 0; i < 11 * 60 && !deployment_state_is_final(load(&st, x.id).state); i++, tick += 1000) {
			if (i == 5 * 60) {
				/* a controller restarted during the hold bounds the same hold */
				controller_release(&c3);
				controller_init(&c3, &st);
				c3.router = &rt3;
				c3.target = &cut;
				c3.metrics = &prov;
				c3.judge = &observed;
				c3.service = "fleet";
			}
			controller_tick(&c3, tick, &err);
		}
		y = load(&st, x.id);
		is_str(deployment_state_name(y.state), "rolled_back",
		       "h1 away past fleet.host_hold_max (a controller restart in between): rolled back");
		ok(strstr(y.reason, "host lost: away 10m, past fleet.host_hold_max 10m (on_host_lost: rollback)") &&
		   strstr(y.reason, "host 'h1' (10.0.0.11)"), "naming the host and how long: %s", y.reason);
		host_cut = 0;
		controller_release(&c3);
		sim_infra_release(&si);
	}

	/* the store's guards */
	{
		struct deployment x = load(&st, e.id), before;
		struct decision *dec = calloc(1, sizeof(*dec));
		struct type_rules rules;
		struct intent it;
		int64_t iid;

		memset(&it, 0, sizeof(it));
		it.kind = INTENT_ABORT;
		snprintf(it.requested_by, sizeof(it.requested_by), "bob");
		is_int(deployment_store_add_intent(&st, x.id, &it, &iid, &err), 0, "record an intent");
		it.id = iid;
		type_rules_default("standard", &rules, NULL);
		before = x;
		deployment_advance(&x, &rules, s, NULL, &it, 1, 200000000, dec);
		is_int(dec->n_intents, 1, "the abort is consumed");
		before.store_seq = x.store_seq + 7;
		is_int(deployment_store_commit(&st, &before, s, dec, 200000000, NULL, 0, &err), SW_ESTATE,
		       "a stale row version commits nothing");
		is_str(deployment_state_name(load(&st, e.id).state), "pending", "the row is unchanged");
		is_int(deployment_store_commit(&st, &x, s, dec, 200000000, NULL, 0, &err), 0, "the current version commits");
		is_str(deployment_state_name(load(&st, e.id).state), "failed", "aborted while pending: failed");
		x = load(&st, e.id);
		is_int(deployment_store_commit(&st, &x, s, dec, 200000001, NULL, 0, &err), SW_ESTATE,
		       "the same intent cannot be applied twice");
		is_int(load(&st, e.id).store_seq, x.store_seq, "and the second attempt wrote nothing");
		free(dec);
	}
	{
		int64_t id;
		is_int(deployment_store_resolve(&st, "api", 0, &id, &err), 0, "resolve a service name");
		is_int(id, e.id, "to its latest deployment");
		strbuf_reset(&err);
		is_int(deployment_store_resolve(&st, "api", 1, &id, &err), SW_ENOTFOUND, "no active deployment of api");
		ok(strstr(err.buf, "no active deployment 'api'") != NULL, "says so");
		char v[64];
		deployment_store_current_version(&st, "api", "production", v, sizeof(v), &err);
		is_str(v, "v2", "the serving version is the last succeeded one");
		/* a later, quicker deployment under --time-scale finishes at an earlier time of its own clock */
		is_int(store_exec(&st, "INSERT INTO deployments (service, env, version, revision, type, strategy, state, "
				  "requested_by, created_ms, finished_ms, state_since_ms) VALUES "
				  "('shop', 'production', 'v1', 1, 'standard', 'canary', 'succeeded', 'bob', 1000, 90000, 90000), "
				  "('shop', 'production', 'v2', 2, 'standard', 'canary', 'succeeded', 'bob', 2000, 60000, 60000)",
				  &err), 0, "shop v1, then v2 that finished earlier on its own clock");
		deployment_store_current_version(&st, "shop", "production", v, sizeof(v), &err);
		is_str(v, "v2", "the serving version is the latest deployment's, not the one with the latest finish time");
	}
	controller_release(&c);
	sim_infra_release(&infra);
	store_close(&st);
	{
		char cmd[128];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		ok(system(cmd) == 0, "clean up");
	}
	free(s);
	strbuf_release(&err);
	return tap_done();
}
