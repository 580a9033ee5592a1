/*
 * test_controller_store.c - the controller when the store refuses writes
 * (a full disk; docs/engine.md "Failure paths"): it backs off, reports
 * once with what to do, decides and changes nothing meanwhile (the traffic
 * stays as it is), recovers when writes work again, and gives up after a
 * bounded time with an error.  The failure is injected with a temporary
 * trigger on this connection, which makes every write of a deployment row
 * fail as SQLITE_FULL would.
 */
#include "tap.h"
#include "adapters/deployment_store.h"
#include "adapters/sim_infra.h"
#include "adapters/store.h"
#include "controller/controller.h"
#include "base/err.h"
#include "base/strbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

static int logs;
static char last_log[600];
static void on_log(void *ctx, const struct deployment *d, const char *msg)
{
	logs++;
	snprintf(last_log, sizeof(last_log), "%s", msg);
}

static void disk_full(struct store *st, int on)
{
	sqlite3_exec(st->db, on ? "CREATE TEMP TRIGGER full BEFORE UPDATE ON deployments "
			 "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END;" : "DROP TRIGGER temp.full",
		     NULL, NULL, NULL);
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
	char dir[] = "/tmp/slipway-test-ctlstore.XXXXXX";
	struct store st = { 0 };
	struct strbuf err = STRBUF_INIT;
	struct strategy *s = calloc(1, sizeof(*s));
	struct sim_infra infra;
	struct router router;
	struct target target;
	struct metrics_provider prov = { NULL, healthy };
	struct controller c;
	struct deployment d;
	int64_t t;
	uint64_t errors0;
	int r = 0, logs0;

	ok(mkdtemp(dir) != NULL, "temporary state directory");
	is_int(store_open(&st, dir, &err), 0, "store opens");
	is_int(deployment_store_migrate(&st, &err), 0, "deployments module migrates");
	strategy_default(s, STRATEGY_CANARY);
	s->n_steps = 0;
	for (int w = 10; w <= 50; w += 20)
		strategy_add_step(s, 0, w, 60000, NULL);
	deployment_init(&d, "api", "production", "v2", "v1", "standard", -1000);
	is_int(deployment_store_create(&st, &d, s, &err), 0, "create a deployment");

	sim_infra_init(&infra);
	sim_infra_router(&infra, &router);
	sim_infra_target(&infra, &target);
	controller_init(&c, &st);
	c.router = &router;
	c.target = &target;
	c.metrics = &prov;
	c.hooks.log = on_log;
	for (t = 0; t <= 61000; t += 1000)
		controller_tick(&c, t, &err);
	ok(sim_infra_weight(&infra, "api", "") == 10, "61 s: step 1, the router sends 10%% to the canary");

	/* the disk fills up during step 1 */
	disk_full(&st, 1);
	logs0 = logs;
	errors0 = c.stats.errors;
	for (t = 62000; t <= 150000; t += 1000) {
		strbuf_reset(&err);
		r = controller_tick(&c, t, &err);
		if (r < 0)
			break;
	}
	ok(r >= 1, "90 s of refused writes: the tick still answers (%d active)", r);
	is_int(logs - logs0, 1, "reported once, not at every tick");
	ok(strstr(last_log, "database or disk is full") && strstr(last_log, "free space on the state directory"),
	   "with the store's message and what to do: %s", last_log);
	ok(c.stats.errors - errors0 <= 8, "backed off: %llu attempts in 90 s, not 90",
	   (unsigned long long)(c.stats.errors - errors0));
	ok(sim_infra_weight(&infra, "api", "") == 10, "the traffic stays as it is (10%%; the 60 s hold has passed)");
	is_int(load(&st, d.id).step, 1, "the record stays at step 1");

	/* space is freed: it goes on */
	disk_full(&st, 0);
	for (; t <= 185000; t += 1000)
		controller_tick(&c, t, &err);
	ok(strstr(last_log, "accepts writes again") != NULL, "the recovery is reported: %s", last_log);
	ok(load(&st, d.id).step >= 2, "the deployment went on (step %d)", load(&st, d.id).step);
	ok(sim_infra_weight(&infra, "api", "") == load(&st, d.id).weight, "and the router followed (%g%%)",
	   load(&st, d.id).weight);

	/* full again, for good: a bounded time, then an error */
	disk_full(&st, 1);
	r = 0;
	for (t = 186000; t <= 186000 + CONTROLLER_STORE_GIVE_UP_MS + 60000; t += 1000) {
		strbuf_reset(&err);
		if ((r = controller_tick(&c, t, &err)) < 0)
			break;
	}
	is_int(r, SW_ESTORE, "the controller gives up with a store error");
	ok(c.store_gave_up, "and says it gave up (the caller stops)");
	ok(c.store_failing_since > 0 && t - c.store_failing_since <= CONTROLLER_STORE_GIVE_UP_MS + 30000,
	   "within the bound after the first refused write (%llds)", (long long)((t - c.store_failing_since) / 1000));
	ok(strstr(err.buf, "has refused every write") != NULL, "the error says why: %s", err.buf);
	ok(sim_infra_weight(&infra, "api", "") == load(&st, d.id).weight, "the traffic is left as the record says");

	controller_release(&c);
	sim_infra_release(&infra);
	store_close(&st);
	{
		char cmd[256];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		r = system(cmd);
		(void)r;
	}
	free(s);
	strbuf_release(&err);
	return tap_done();
}
