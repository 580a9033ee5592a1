/*
 * test_registry.c - plugins by name (controller/registry.h): the catalogue
 * of names in core (core/plugin_names.h) and the registry's constructors
 * agree for every kind; an unknown name is refused with the valid ones;
 * a service file's `judge:` chooses the judge the controller calls (the
 * controller runs over a real store with the simulated router and target,
 * once with the judge opened by the service file's name and once with a
 * test judge that answers "fail" to every question); the sim target, router
 * and provider share one simulation per service environment.
 */
#include "store_fresh.h"
#include "tap.h"
#include "adapters/deployment_store.h"
#include "adapters/notify.h"
#include "adapters/sim_infra.h"
#include "adapters/sql.h"
#include "adapters/store.h"
#include "base/err.h"
#include "base/strbuf.h"
#include "controller/controller.h"
#include "controller/localstack.h"
#include "controller/registry.h"
#include "core/judge.h"
#include "core/plugin_names.h"
#include "core/service.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int healthy(void *ctx, const char *service, enum revision_role role, const char *version, int64_t from_ms,
		   int64_t to_ms, struct metrics_sample *out, struct strbuf *err)
{
	(void)ctx, (void)service, (void)version, (void)err;
	memset(out, 0, sizeof(*out));
	out->from_ms = from_ms;
	out->to_ms = to_ms;
	out->requests = role == ROLE_CANARY ? 500 : 5000;
	out->errors = 0;
	out->p50_ms = 45;
	out->p90_ms = 120;
	out->p99_ms = 200;
	out->max_ms = 300;
	return 0;
}

/* the test judge: every criterion is met, and it counts the questions */
static int spy_calls;
static int spy_decide(const struct judge *j, const struct judge_question *q, struct judge_verdict *out)
{
	(void)j;
	spy_calls++;
	memset(out, 0, sizeof(*out));
	out->outcome = JUDGE_FAIL;
	out->canary_value = 99;
	out->limit_value = q->limit;
	out->canary_requests = q->canary->requests;
	snprintf(out->why, sizeof(out->why), "the test judge says fail");
	return 0;
}

static void check_catalogue(void)
{
	const struct plugin *p;
	for (int k = 0; k < PLUGIN_KIND_COUNT; k++) {
		const char *const *names = plugin_names((enum plugin_kind)k);
		const char *def = plugin_default((enum plugin_kind)k);
		int n_cat = 0, n_reg = 0, all = 1;
		for (size_t i = 0; names[i]; i++, n_cat++) {
			p = registry_find((enum plugin_kind)k, names[i]);
			if (!p || (k != PLUGIN_SINK && (!p->open || !p->close))) {
				all = 0;
				printf("#   %s '%s' has no constructor in the registry\n", plugin_kind_name((enum plugin_kind)k),
				       names[i]);
			}
		}
		for (size_t i = 0; (p = registry_at(i)); i++) {
			if (p->kind != (enum plugin_kind)k)
				continue;
			n_reg++;
			if (!plugin_name_known((enum plugin_kind)k, p->name)) {
				all = 0;
				printf("#   the registry's %s '%s' is not in core/plugin_names.c\n",
				       plugin_kind_name((enum plugin_kind)k), p->name);
			}
		}
		ok(all && n_cat == n_reg && n_cat > 0, "%s: the catalogue and the registry name the same %d plugins",
		   plugin_kind_name((enum plugin_kind)k), n_cat);
		if (k != PLUGIN_SINK)
			ok(def && registry_find((enum plugin_kind)k, def), "%s: the default '%s' exists",
			   plugin_kind_name((enum plugin_kind)k), def ? def : "(none)");
	}
	{
		int all = 1;
		for (const char *const *n = plugin_names(PLUGIN_SINK); *n; n++) {
			const struct notify_sink_impl *si = notify_sink_impl_find(*n);
			if (!si || !(si->deliver || (si->body && si->content_type))) {
				all = 0;
				printf("#   sink '%s' has no implementation in adapters/notify.c\n", *n);
			}
		}
		ok(all, "every sink named has a delivery in adapters/notify.c");
	}
	is_str(plugin_default(PLUGIN_TARGET), "local", "default target: local");
	is_str(plugin_default(PLUGIN_ROUTER), "haproxy", "default router: haproxy");
	is_str(plugin_default(PLUGIN_PROVIDER), "builtin", "default provider: builtin");
	is_str(plugin_default(PLUGIN_JUDGE), "sequential", "default judge: sequential");
}

static void check_unknown(void)
{
	struct strbuf err = STRBUF_INIT;
	struct plugin_host h = { 0 };
	void *obj = NULL;
	is_int(registry_open(PLUGIN_PROVIDER, "nosuch", &h, &obj, &err), SW_ENOTFOUND, "an unknown provider: not found");
	is_str(err.buf, "no provider 'nosuch' (valid: builtin, prometheus, sim)", "the error lists the providers");
	ok(obj == NULL, "nothing is returned");
	strbuf_reset(&err);
	is_int(registry_open(PLUGIN_TARGET, NULL, &h, &obj, &err), SW_EUSAGE,
	       "the local target refuses a host without a service environment");
	strbuf_release(&err);
}

/* Run one canary deployment through its warm-up interval with judge j; return its state. */
static enum deploy_state run(const char *dir, const struct judge *j, char *reason, size_t rn)
{
	struct store st = { 0 };
	struct strbuf err = STRBUF_INIT;
	struct strategy *s = calloc(1, sizeof(*s));
	struct sim_infra infra;
	struct router router;
	struct target target;
	struct metrics_provider prov = { NULL, healthy, NULL };
	struct controller c;
	struct deployment d;
	enum deploy_state state;
	int64_t id;

	store_fresh(dir);
	store_open(&st, dir, &err);
	deployment_store_migrate(&st, &err);
	strategy_default(s, STRATEGY_CANARY);
	s->min_requests = 1000;	/* the canary's 500 requests: too few for the observed judge */
	deployment_init(&d, "api", "production", "v2", "v1", "standard", -1000);
	deployment_store_create(&st, &d, s, &err);
	sim_infra_init(&infra);
	sim_infra_router(&infra, &router);
	sim_infra_target(&infra, &target);
	controller_init(&c, &st);
	c.router = &router;
	c.target = &target;
	c.metrics = &prov;
	c.judge = j;
	c.hooks.webhook_check = NULL;
	c.hooks.webhook_call = NULL;
	for (int64_t t = 0; t <= 3 * s->interval_ms; t += 1000)
		controller_tick(&c, t, &err);
	id = d.id;
	memset(&d, 0, sizeof(d));
	deployment_store_load(&st, id, &d, NULL, NULL);
	state = d.state;
	snprintf(reason, rn, "%s", d.reason);
	{
		/* and what the analysis intervals said */
		struct sql_stmt *q = NULL;
		if (sql_prepare(&st, &q, st.backend == STORE_BACKEND_PG ?
				"SELECT string_agg(reason, ' | ' ORDER BY id) FROM analysis_results WHERE deployment_id = ?1" :
				"SELECT group_concat(reason, ' | ') FROM analysis_results WHERE deployment_id = ?1", NULL) == 0) {
			sql_bind_int64(q, 1, id);
			if (sql_step(q, NULL) == SQL_ROW && sql_column_text(q, 0))
				snprintf(reason + strlen(reason), rn - strlen(reason), " | %s",
					 sql_column_text(q, 0));
		}
		sql_finalize(q);
	}
	controller_release(&c);
	sim_infra_release(&infra);
	store_close(&st);
	strbuf_release(&err);
	free(s);
	return state;
}

static void check_judge_choice(void)
{
	static const char file[] = "command: [server]\n"
				   "judge: observed\n"
				   "environments:\n"
				   "  production: {listen: 127.0.0.1:9000}\n";
	struct service svc = { 0 };
	struct strbuf err = STRBUF_INIT;
	struct plugin_host h = { 0 };
	/* kind observed: asked every interval, whatever the evidence */
	struct judge spy = { .name = "test-spy", .kind = JUDGE_KIND_OBSERVED, .decide = spy_decide };
	void *obj = NULL;
	char d1[] = "/tmp/slipway-test-registry.XXXXXX", d2[] = "/tmp/slipway-test-registry.XXXXXX";
	char reason[400];
	enum deploy_state st;

	is_int(service_parse(&svc, "services/api.yaml", file, strlen(file), "api", &err), 0, "a service file with judge: observed");
	is_str(svc.judge, "observed", "it names the observed judge");
	h.min_requests = 1000;	/* the strategy's, as deploy passes it (run() uses the same) */
	is_int(registry_open(PLUGIN_JUDGE, svc.judge, &h, &obj, &err), 0, "the registry opens it");
	ok(obj && ((struct judge *)obj)->decide == judge_observed_decide && !strcmp(((struct judge *)obj)->name, "observed"),
	   "it is the observed judge");

	ok(mkdtemp(d1) && mkdtemp(d2), "two state directories");
	st = run(d1, obj, reason, sizeof(reason));
	ok(st == DS_PROGRESSING || st == DS_PAUSED, "observed judge: the deployment is not rolled back (%s)",
	   deployment_state_name(st));
	ok(strstr(reason, "500 requests < 1000 minimum") != NULL,
	   "the observed judge applied the strategy's minimum (%s)", reason);
	ok(spy_calls == 0, "the test judge was not asked");

	st = run(d2, &spy, reason, sizeof(reason));
	ok(spy_calls > 0, "test judge: the controller asked it (%d questions)", spy_calls);
	ok(st == DS_ROLLING_BACK || st == DS_ROLLED_BACK, "and followed its verdict: %s (%s)", deployment_state_name(st),
	   reason);

	registry_close(PLUGIN_JUDGE, svc.judge, obj);
	service_release(&svc);
	strbuf_reset(&err);
	strbuf_addf(&err, "rm -rf %s %s", d1, d2);
	ok(system(err.buf) == 0, "cleaned up");
	strbuf_release(&err);
}

/* The local plugins opened on a real (temporary) project and state directory; no process is started. */
static void check_local_plugins(void)
{
	char proj[] = "/tmp/slipway-test-registry-proj.XXXXXX", state[] = "/tmp/slipway-test-registry-state.XXXXXX";
	struct strbuf path = STRBUF_INIT, err = STRBUF_INIT;
	struct localstack ls;
	struct plugin_host h = { 0 };
	struct target *t = NULL;
	struct router *r = NULL;
	struct metrics_provider *p = NULL;
	struct metrics_sample ms;
	char serving[SERVICE_NAME_MAX + 1] = "x";
	FILE *f;

	ok(mkdtemp(proj) && mkdtemp(state), "a project and a state directory");
	strbuf_addf(&path, "mkdir -p %s/services %s/releases/web/v1", proj, proj);
	ok(system(path.buf) == 0, "services/ and releases/web/v1");
	strbuf_reset(&path);
	strbuf_addf(&path, "%s/services/web.yaml", proj);
	f = fopen(path.buf, "w");
	fputs("command: [server]\nenvironments:\n  production: {listen: 127.0.0.1:1}\n", f);
	fclose(f);
	if (localstack_open(&ls, state, proj, "web", "production", 0, &err) < 0) {
		ok(0, "localstack opens: %s", err.buf);
		return;
	}
	h.st = &ls.st;
	h.svc = &ls.svc;
	h.env = ls.env;
	h.state_dir = state;
	h.project_dir = proj;
	h.ls = &ls;
	is_int(registry_open(PLUGIN_TARGET, ls.svc.target, &h, (void **)&t, &err), 0, "target '%s' opens", ls.svc.target);
	is_int(registry_open(PLUGIN_ROUTER, ls.svc.router, &h, (void **)&r, &err), 0, "router '%s' opens", ls.svc.router);
	is_int(registry_open(PLUGIN_PROVIDER, ls.svc.provider, &h, (void **)&p, &err), 0, "provider '%s' opens",
	       ls.svc.provider);
	if (t && r && p) {
		strbuf_reset(&err);
		is_int(t->check(t->ctx, "web", "v1", &err), 0, "local target: release v1 exists");
		is_int(t->check(t->ctx, "web", "v9", &err), SW_EUSAGE, "local target: release v9 does not");
		ok(strstr(err.buf, "releases/web/v9' does not exist") != NULL, "and says which directory (%s)", err.buf);
		strbuf_reset(&err);
		is_int(t->ensure(t->ctx, "api", "v1", ROLE_CANARY, 1, 0, &err), SW_ESTATE,
		       "local target: another service is refused");
		is_int(r->serving(r->ctx, "web", "v2", serving, sizeof(serving), &err), 0, "haproxy router: asked what it serves");
		is_str(serving, "", "nothing yet");
		strbuf_reset(&err);
		is_int(r->set_weight(r->ctx, "api", "", "v1", "v2", 10, &err), SW_ESTATE,
		       "haproxy router: another service is refused");
		ok(p->query(p->ctx, "web", ROLE_CANARY, "v1", 0, 60000, &ms, &err) >= 0 && ms.requests == 0,
		   "builtin provider: no requests of a revision never served");
		{
			/* every function of a provider takes the provider's own context (a
			 * query_over given another context read the wrong struct as a store) */
			double th[2] = { 100, 200 };
			strbuf_reset(&err);
			uint64_t over[2] = { 7, 7 };
			ok(p->query_over != NULL, "builtin provider: counts latency exceedances");
			if (p->query_over)
				ok(p->query_over(p->ctx, "web", ROLE_CANARY, "v1", 0, 60000, th, 2, over, &err) == 0 &&
				   over[0] == 0 && over[1] == 0, "builtin provider: no slow requests of a revision never served (%s)",
				   err.buf);
		}
	}
	registry_close(PLUGIN_PROVIDER, ls.svc.provider, p);
	registry_close(PLUGIN_ROUTER, ls.svc.router, r);
	registry_close(PLUGIN_TARGET, ls.svc.target, t);
	localstack_close(&ls);
	strbuf_reset(&path);
	strbuf_addf(&path, "rm -rf %s %s", proj, state);
	ok(system(path.buf) == 0, "cleaned up");
	strbuf_release(&path);
	strbuf_release(&err);
}

/*
 * The sim target, router and provider of one service environment share one
 * simulation: the instances are ready once started, and the provider splits
 * the modelled 60,000 requests/min by the weight the router set (Poisson:
 * within 5 standard deviations of the mean); another service environment
 * has a simulation of its own.
 */
static void check_sim_plugins(void)
{
	static const char file[] = "command: [server]\n"
				   "target: sim\nrouter: sim\nprovider: sim\n"
				   "environments:\n"
				   "  production: {listen: 127.0.0.1:9000}\n";
	struct service svc = { 0 }, other = { 0 };
	struct strbuf err = STRBUF_INIT;
	struct plugin_host h = { 0 }, h2 = { 0 };
	void *t = NULL, *r = NULL, *p = NULL, *p2 = NULL;
	struct metrics_sample c = { 0 }, st = { 0 }, c2 = { 0 };

	is_int(service_parse(&svc, "services/sim.yaml", file, strlen(file), "sim", &err), 0, "a service file naming the sim plugins");
	is_int(service_parse(&other, "services/other.yaml", file, strlen(file), "other", &err), 0, "and another");
	h.svc = &svc;
	h.env = "production";
	h2.svc = &other;
	h2.env = "production";
	is_int(registry_open(PLUGIN_TARGET, svc.target, &h, &t, &err), 0, "the sim target opens");
	is_int(registry_open(PLUGIN_ROUTER, svc.router, &h, &r, &err), 0, "the sim router opens");
	is_int(registry_open(PLUGIN_PROVIDER, svc.provider, &h, &p, &err), 0, "the sim provider opens");
	is_int(registry_open(PLUGIN_PROVIDER, other.provider, &h2, &p2, &err), 0, "another environment's provider opens");
	if (!t || !r || !p || !p2)
		return;
	struct target *tg = t;
	struct router *rt = r;
	struct metrics_provider *mp = p, *mp2 = p2;
	is_int(tg->ready(tg->ctx, "sim", "v2", &err), 0, "v2 is not ready before it is started");
	is_int(tg->ensure(tg->ctx, "sim", "v2", ROLE_CANARY, 1, 0, &err), 0, "v2 started");
	is_int(tg->ready(tg->ctx, "sim", "v2", &err), 1, "and ready at once");
	is_int(rt->set_weight(rt->ctx, "sim", "", "v1", "v2", 10, &err), 0, "the router sends 10%% to v2");
	is_int(mp->query(mp->ctx, "sim", ROLE_CANARY, "v2", 600000, 660000, &c, &err), 0, "the canary's minute");
	is_int(mp->query(mp->ctx, "sim", ROLE_STABLE, "v1", 600000, 660000, &st, &err), 0, "the stable's minute");
	ok(c.requests > 6000 - 5 * 78 && c.requests < 6000 + 5 * 78, "the canary got about 10%% of 60,000: %llu",
	   (unsigned long long)c.requests);
	ok(st.requests > 54000 - 5 * 233 && st.requests < 54000 + 5 * 233, "the stable about 90%%: %llu",
	   (unsigned long long)st.requests);
	is_int(mp2->query(mp2->ctx, "other", ROLE_CANARY, "v2", 600000, 660000, &c2, &err), 0, "the other's canary");
	is_int((int)c2.requests, 0, "the other environment's router set no weight: its canary has no traffic");
	registry_close(PLUGIN_PROVIDER, other.provider, p2);
	registry_close(PLUGIN_PROVIDER, svc.provider, p);
	registry_close(PLUGIN_ROUTER, svc.router, r);
	registry_close(PLUGIN_TARGET, svc.target, t);
	service_release(&svc);
	service_release(&other);
	strbuf_release(&err);
}

int main(void)
{
	check_catalogue();
	check_unknown();
	check_judge_choice();
	check_local_plugins();
	check_sim_plugins();
	return tap_done();
}
