/*
 * test_lease.c - the controller lease (adapters/lease.h, docs/serve.md):
 * one holder at a time on two connections to one store; renewal keeps the
 * holder's since; another takes it only after it expired; release frees it
 * at once; the fence (lease_check()) refuses a holder whose lease expired
 * or was taken, which makes the controller commit nothing that tick.
 */
#include "tap.h"
#include "adapters/deployment_store.h"
#include "adapters/lease.h"
#include "adapters/sim_infra.h"
#include "adapters/store.h"
#include "controller/controller.h"
#include "base/err.h"
#include "base/strbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void holder(struct lease *l, const char *id, long pid)
{
	memset(l, 0, sizeof(*l));
	snprintf(l->holder, sizeof(l->holder), "%s", id);
	l->pid = pid;
	snprintf(l->host, sizeof(l->host), "testhost");
}

/* the fence of the controller below: is "a" still the holder at fence_now? */
static int64_t fence_now;
static int fence(void *ctx, struct store *st, struct strbuf *err)
{
	(void)ctx;
	return lease_check(st, "a", fence_now, err);
}

int main(void)
{
	char dir[] = "/tmp/slipway-lease-XXXXXX";
	struct store s1, s2;
	struct strbuf err = STRBUF_INIT;
	struct lease a, b, other, cur;
	int64_t t0 = 1764320400000;

	ok(mkdtemp(dir) != NULL, "temporary state directory");
	is_int(store_open(&s1, dir, &err), 0, "store opens");
	is_int(store_open(&s2, dir, &err), 0, "a second connection opens");
	is_int(lease_migrate(&s1, &err), 0, "lease module migrates");
	is_int(lease_migrate(&s2, &err), 0, "and again on the second connection (nothing to do)");
	is_int(lease_read(&s1, &cur, &err), 0, "no lease at first");

	holder(&a, "a", 100);
	holder(&b, "b", 200);
	is_int(lease_acquire(&s1, &a, t0, 3000, &other, &err), 1, "a takes the free lease");
	is_int(a.since_ms, t0, "since: when a took it");
	is_int(a.expires_ms, t0 + 3000, "until: now + the lease");
	is_int(lease_acquire(&s2, &b, t0 + 1000, 3000, &other, &err), 0, "b cannot take a live lease");
	is_str(other.holder, "a", "and learns that a holds it");
	is_int(other.pid, 100, "with a's pid");
	is_int(lease_acquire(&s1, &a, t0 + 2000, 3000, NULL, &err), 1, "a renews");
	is_int(a.since_ms, t0, "a renewal keeps since");
	is_int(a.expires_ms, t0 + 5000, "and moves the expiry");
	is_int(lease_acquire(&s2, &b, t0 + 4999, 3000, &other, &err), 0, "b still waits just before the expiry");
	is_int(lease_check(&s1, "a", t0 + 4999, &err), 0, "the fence lets a commit while it holds the lease");

	/* a stops renewing (killed): b takes over once the lease expired */
	is_int(lease_acquire(&s2, &b, t0 + 5000, 3000, &other, &err), 1, "b takes the expired lease");
	is_int(b.since_ms, t0 + 5000, "since: when b took it");
	strbuf_reset(&err);
	is_int(lease_check(&s1, "a", t0 + 5001, &err), SW_ESTATE, "the fence refuses a");
	ok(strstr(err.buf, "'b' (pid 200 on testhost)") != NULL, "naming the holder: %s", err.buf);
	is_int(lease_acquire(&s1, &a, t0 + 5001, 3000, &other, &err), 0, "a, resumed, cannot renew: b holds it");

	/* the fence in a controller tick: nothing is committed */
	{
		struct controller c;
		struct deployment d;
		struct strategy s;
		int64_t *ids = NULL;
		size_t n = 0;
		int logs_before;
		is_int(deployment_store_migrate(&s1, &err), 0, "deployments module migrates");
		strategy_default(&s, STRATEGY_FULL);
		deployment_init(&d, "api", "production", "v2", "v1", "standard", t0);
		is_int(deployment_store_create(&s1, &d, &s, &err), 0, "a pending deployment");
		controller_init(&c, &s1);
		c.hooks.webhook_check = NULL;
		c.hooks.webhook_call = NULL;
		c.hooks.fence = fence;
		fence_now = t0 + 5001;
		logs_before = (int)c.stats.errors;
		controller_tick(&c, t0 + 10, &err);
		is_int(deployment_store_load(&s1, d.id, &d, NULL, &err), 0, "reload it");
		is_str(deployment_state_name(d.state), "pending", "a controller that lost the lease commits nothing");
		ok(c.stats.errors > (uint64_t)logs_before, "and says so through its log hook");
		/* give the lease back to a: the same tick commits */
		is_int(lease_release(&s2, "b", &err), 0, "b releases");
		is_int(lease_read(&s1, &cur, &err), 0, "nobody holds it after a release");
		is_int(lease_acquire(&s1, &a, t0 + 5002, 3000, NULL, &err), 1, "a takes it again");
		fence_now = t0 + 5003;
		controller_tick(&c, t0 + 20, &err);
		is_int(deployment_store_load(&s1, d.id, &d, NULL, &err), 0, "reload it");
		is_str(deployment_state_name(d.state), "progressing", "with the lease, the tick commits: progressing");
		/* service filter: a controller of another service leaves it alone */
		c.service = "web";
		c.env = "production";
		is_int(deployment_store_active_of(&s1, "web", "production", INT64_MAX, &ids, &n, &err), 0, "list web's");
		is_int(n, 0, "web has no active deployment");
		free(ids);
		is_int(deployment_store_active_of(&s1, "api", NULL, INT64_MAX, &ids, &n, &err), 0, "list api's");
		is_int(n, 1, "api has one");
		free(ids);
		controller_release(&c);
	}
	{
		struct deployment_work *w = NULL;
		size_t n = 0;
		is_int(deployment_store_work(&s1, &w, &n, &err), 0, "the work of the store");
		is_int(n, 1, "one service environment with work");
		if (n == 1) {
			is_str(w[0].service, "api", "api");
			is_str(w[0].env, "production", "in production");
		}
		free(w);
	}
	store_close(&s1);
	store_close(&s2);
	strbuf_release(&err);
	{
		char cmd[128];
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			printf("# could not remove %s\n", dir);
	}
	return tap_done();
}
