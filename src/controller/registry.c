/*
 * registry.c - the constructors of slipway's plugins; see registry.h.
 *
 * Each plugin below adapts an implementation to its core interface:
 *   target   local     processes on this machine (adapters/target_local.h),
 *                      registered with the environment's router once ready
 *   router   haproxy   HAProxy server weights through the runtime API
 *                      (adapters/router_haproxy.h)
 *   provider builtin   HAProxy's per-request log, received and aggregated
 *                      (adapters/metrics_builtin.h); opening it starts the
 *                      log receiver, closing it stops it
 *            prometheus PromQL over a Prometheus server's HTTP API
 *                      (adapters/metrics_prometheus.h)
 *   judge    sequential, threshold, observed   core/judge.h (docs/judge.md);
 *                      sequential yields to the policy's `judge: name`
 *   sink     stdout, file, slack, cloudevents   delivered by the
 *                      notification queue (adapters/notify.h)
 *   target, router, provider   sim   simulated infrastructure, in memory:
 *                      no process, no HAProxy, traffic drawn from a model
 *                      (adapters/sim_infra.h, adapters/metrics_sim.h), for
 *                      running the controller at scale (bench/api.sh)
 */
#include "controller/registry.h"
#include "controller/localstack.h"
#include "controller/fleet.h"
#include "adapters/deployment_store.h"
#include "adapters/metrics_builtin.h"
#include "adapters/metrics_prometheus.h"
#include "adapters/proc.h"
#include "adapters/router_haproxy.h"
#include "adapters/metrics_sim.h"
#include "adapters/sim_infra.h"
#include "adapters/target_local.h"
#include "adapters/target_ssh.h"
#include "base/alloc.h"
#include "base/err.h"
#include "base/strbuf.h"
#include "core/judge.h"
#include "core/policy-t.h"
#include "core/metrics-t.h"
#include "core/router-t.h"
#include "core/target-t.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

__attribute__((format(printf, 2, 3)))
static void host_say(const struct plugin_host *h, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;
	if (!h->say)
		return;
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	h->say(h->say_ctx, sb.buf);
	strbuf_release(&sb);
}

/* The local target and the haproxy router drive one service environment only. */
static int mine(const struct localstack *ls, const char *service, struct strbuf *err)
{
	if (!strcmp(service, ls->svc.name))
		return 1;
	strbuf_errf(err, "'%s' is deployed by another controller (this one drives '%s' in '%s')", service,
		    ls->svc.name, ls->env);
	return 0;
}

/* ---- target "local": core/target-t.h over target_local and the environment's router ---- */

struct local_target {
	struct target t;
	struct plugin_host h;
	char announced[8][SERVICE_NAME_MAX + 1];	/* versions whose adoption was reported */
};

/* report an adopted revision once, not at every re-application of the desired state */
static int first_time(struct local_target *lt, const char *version)
{
	for (int i = 0; i < 8; i++) {
		if (!strcmp(lt->announced[i], version))
			return 0;
		if (!lt->announced[i][0]) {
			snprintf(lt->announced[i], sizeof(lt->announced[i]), "%s", version);
			return 1;
		}
	}
	return 0;
}

static int running(struct localstack *ls, const char *version)
{
	struct instance_list l = { 0 };
	int n = 0;
	if (target_local_list(&ls->target, ls->svc.name, ls->env, version, &l, NULL) == 0)
		for (size_t i = 0; i < l.n; i++)
			n += l.v[i].alive;
	instance_list_release(&l);
	return n;
}

/*
 * Nothing of version runs (its instances died): no router server may stay
 * behind pointing at their old ports (docs/haproxy.md "Failure paths"), and
 * their rows are closed.  Idempotent and cheap when there is nothing left.
 */
static int forget_dead_revision(struct localstack *ls, const char *version, struct strbuf *err)
{
	int rc;
	if (router_haproxy_pid(&ls->router) > 0 && (rc = router_haproxy_remove(&ls->router, version, err)) < 0)
		return rc;
	rc = target_local_stop(&ls->target, &ls->svc, ls->env, version, err);
	return rc < 0 ? rc : 0;
}

/*
 * What a person calls the revision being started: "stable", "canary", or
 * "first release" when nothing else of the service runs or ever succeeded
 * in this environment (it takes all the traffic at once: docs/engine.md
 * "Failure paths", what a failed first release does).
 */
static const char *role_label(struct local_target *lt, const char *version, enum revision_role role)
{
	struct localstack *ls = lt->h.ls;
	struct instance_list l = { 0 };
	char current[SERVICE_NAME_MAX + 1] = "";
	int other = 0;
	if (role != ROLE_CANARY)
		return "stable";
	if (target_local_list(&ls->target, ls->svc.name, ls->env, NULL, &l, NULL) == 0)
		for (size_t i = 0; i < l.n; i++)
			other |= l.v[i].alive && strcmp(l.v[i].version, version) != 0;
	instance_list_release(&l);
	if (!other && deployment_store_current_version(lt->h.st, ls->svc.name, ls->env, current, sizeof(current),
							 NULL) == 0)
		other = current[0] && strcmp(current, version) != 0;
	return other ? "canary" : "first release";
}

static int local_ensure(void *ctx, const char *service, const char *version, enum revision_role role, int up,
			int count, struct strbuf *err)
{
	struct local_target *lt = ctx;
	struct localstack *ls = lt->h.ls;
	struct instance_list l = { 0 };
	const char *what = up ? role_label(lt, version, role) : "";
	int rc;
	(void)count;	/* the service file's instances per environment */
	if (!mine(ls, service, err))
		return SW_ESTATE;
	if (up) {
		const struct service_env *e = service_find_env(&ls->svc, ls->env);
		/* only instances that passed the readiness probe are adopted as ready */
		int already = target_local_ready_count(&ls->target, ls->svc.name, ls->env, version, NULL, NULL);
		/* start or adopt, wait until ready, add to HAProxy at weight 0 (weights are the router's) */
		if (already >= e->instances && router_haproxy_pid(&ls->router) > 0) {
			if (first_time(lt, version))
				host_say(&lt->h, "  %s %s (%s): %d instances ready (adopted)", service, version, what,
					 already);
			return 0;
		}
		rc = localstack_start_revision(ls, version, -1, &l, err);
		if (rc >= 0) {
			first_time(lt, version);
			host_say(&lt->h, "  %s %s (%s): %zu instances ready%s", service, version, what, l.n,
				 l.n && l.v[0].adopted ? " (adopted)" : "");
		}
		instance_list_release(&l);
		return rc;
	}
	if (!running(ls, version))
		return forget_dead_revision(ls, version, err);
	/* drained first (in-flight requests finish), then SIGTERM, SIGKILL after the grace */
	if ((rc = localstack_stop_revision(ls, version, err)) < 0)
		return rc;
	host_say(&lt->h, "  %s %s: drained and stopped (release kept)", service, version);
	return 0;
}

static int local_ready(void *ctx, const char *service, const char *version, struct strbuf *err)
{
	struct local_target *lt = ctx;
	struct localstack *ls = lt->h.ls;
	int rc;
	if (!mine(ls, service, err))
		return SW_ESTATE;
	/* ready = passed the probe and still alive; a dead one is described in err */
	rc = target_local_ready_count(&ls->target, ls->svc.name, ls->env, version, err, NULL);
	return rc < 0 ? rc : rc >= service_find_env(&ls->svc, ls->env)->instances;
}

static int local_smoke(void *ctx, const char *service, const char *version, struct strbuf *why)
{
	struct local_target *lt = ctx;
	struct localstack *ls = lt->h.ls;
	struct strbuf err = STRBUF_INIT;
	int rc;
	if (!mine(ls, service, why))
		return SW_ESTATE;
	rc = target_local_smoke(&ls->target, &ls->svc, ls->env, version, why, &err);
	if (rc < 0)
		strbuf_addstr(why, err.buf);
	strbuf_release(&err);
	return rc;
}

/* the release must exist before a deployment of it is recorded */
static int local_check(void *ctx, const char *service, const char *version, struct strbuf *err)
{
	struct local_target *lt = ctx;
	struct localstack *ls = lt->h.ls;
	struct strbuf release = STRBUF_INIT;
	struct stat sb;
	int rc = 0;
	if (!mine(ls, service, err))
		return SW_ESTATE;
	target_local_release_dir(&ls->target, &ls->svc, version, &release);
	if (stat(release.buf, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
		strbuf_errf(err, "release directory '%s' does not exist; put release '%s' of '%s' there first",
			    release.buf, version, service);
		rc = SW_EUSAGE;
	}
	strbuf_release(&release);
	return rc;
}

static int local_open(const struct plugin_host *h, void **out, struct strbuf *err)
{
	struct local_target *lt;
	if (!h->ls) {
		strbuf_errf(err, "the local target needs this machine's service environment");
		return SW_EUSAGE;
	}
	lt = xcalloc(1, sizeof(*lt));
	lt->h = *h;
	lt->t.ctx = lt;
	lt->t.ensure = local_ensure;
	lt->t.ready = local_ready;
	lt->t.check = local_check;
	lt->t.smoke = local_smoke;
	*out = &lt->t;
	return 0;
}

static void local_close(void *obj)
{
	free(obj ? ((struct target *)obj)->ctx : NULL);
}

/* ---- router "haproxy": core/router-t.h over router_haproxy ---- */

struct haproxy_router {
	struct router r;
	struct localstack *ls;
	struct inventory inv;	/* the `ssh` target's hosts (their regions); n_hosts 0 otherwise */
};

/*
 * Region-by-region on the `ssh` target: only the servers on group's hosts
 * (inventory `region`) change (docs/fleet.md "Region by region").
 */
static int fleet_group_weight(struct haproxy_router *hr, const char *group, const char *stable,
			      const char *canary, double w, struct strbuf *err)
{
	const char **addrs = xcalloc(hr->inv.n_hosts ? hr->inv.n_hosts : 1, sizeof(*addrs));
	size_t n = 0;
	int rc;
	for (size_t i = 0; i < hr->inv.n_hosts; i++)
		if (!strcmp(hr->inv.hosts[i].region, group))
			addrs[n++] = hr->inv.hosts[i].address;
	if (!n) {
		strbuf_errf(err, "region group '%s' of the strategy has no host in hosts.yaml (host `region:`)", group);
		rc = SW_ECONFIG;
	} else {
		rc = router_haproxy_set_group_weight(&hr->ls->router, addrs, n, group, stable, canary, w, err);
	}
	free(addrs);
	return rc;
}

static int haproxy_set_weight(void *ctx, const char *service, const char *group, const char *stable,
			      const char *canary, double w, struct strbuf *err)
{
	struct haproxy_router *hr = ctx;
	struct revision_weight rw[2];
	size_t n = 0;
	if (!mine(hr->ls, service, err))
		return SW_ESTATE;
	/* one HAProxy per service environment: region groups matter only where the
	 * instances are on hosts with regions (the ssh target) */
	if (group && *group && hr->inv.n_hosts) {
		if ((!stable || !*stable) && w <= 0)
			return 0;
		return fleet_group_weight(hr, group, stable, canary, w, err);
	}
	if (!stable || !*stable) {
		/* a first deployment: the new revision is the only one; before it
		 * runs (pending) there is nothing to route */
		if (w <= 0)
			return 0;
		w = 100;
	}
	if (w > 0) {
		snprintf(rw[n].version, sizeof(rw[n].version), "%s", canary);
		rw[n++].weight = w;
	}
	/* a stable revision at 0 is left out (unlisted revisions get 0): a rolling update's
	 * last steps stop it before the weights are applied again (docs/fleet.md) */
	if (stable && *stable && w < 100) {
		snprintf(rw[n].version, sizeof(rw[n].version), "%s", stable);
		rw[n++].weight = 100 - w;
	}
	/* idempotent: the controller calls it only when the desired state changed
	 * (controller.c, steps 2b and 2f), so there is no fsync per tick */
	return router_haproxy_set_weights(&hr->ls->router, rw, n, err);
}

/* the revision HAProxy serves most, as slipway last set the weights */
static int haproxy_serving(void *ctx, const char *service, const char *except, char *out, size_t n,
			   struct strbuf *err)
{
	struct haproxy_router *hr = ctx;
	struct revision_weight *w = NULL;
	size_t nw = 0;
	double best = 0;
	int rc;
	out[0] = '\0';
	if (!mine(hr->ls, service, err))
		return SW_ESTATE;
	if ((rc = router_haproxy_get_weights(&hr->ls->router, &w, &nw, err)) < 0)
		return rc;
	for (size_t i = 0; i < nw; i++)
		if ((!except || strcmp(w[i].version, except)) && w[i].weight > best) {
			best = w[i].weight;
			snprintf(out, n, "%s", w[i].version);
		}
	free(w);
	return 0;
}

static int haproxy_open(const struct plugin_host *h, void **out, struct strbuf *err)
{
	struct haproxy_router *hr;
	if (!h->ls) {
		strbuf_errf(err, "the haproxy router needs this machine's service environment");
		return SW_EUSAGE;
	}
	hr = xcalloc(1, sizeof(*hr));
	hr->ls = h->ls;
	if (!strcmp(h->ls->svc.target, "ssh")) {
		int rc = target_ssh_load_inventory(h->project_dir, &hr->inv, err);
		if (rc < 0) {
			free(hr);
			return rc;
		}
	}
	hr->r.ctx = hr;
	hr->r.set_weight = haproxy_set_weight;
	hr->r.serving = haproxy_serving;
	*out = &hr->r;
	return 0;
}

static void haproxy_close(void *obj)
{
	struct haproxy_router *hr = obj ? ((struct router *)obj)->ctx : NULL;
	if (hr)
		inventory_release(&hr->inv);
	free(hr);
}

/* ---- provider "builtin": HAProxy's request log (metrics_builtin) ---- */

struct builtin_provider {
	struct metrics_provider p;
	struct metrics_builtin mb;
	struct metrics_receiver *rx;
	struct plugin_host h;
	char *state_dir;		/* owned */
	int64_t rx_retry_mono;		/* take_receiver(): next attempt (proc_mono_ms()) */
	int (*query)(void *ctx, const char *service, enum revision_role role, const char *version, int64_t from_ms,
		     int64_t to_ms, struct metrics_sample *out, struct strbuf *err);	/* metrics_builtin's */
};

/*
 * Every controller that needs the log receiver makes sure one runs (docs/
 * services.md "Builtin metrics"): when another slipway held it at open (rx
 * NULL), try to take it over, at most once a second, whenever this provider
 * is asked; so a deploy that ends and takes its receiver along does not
 * leave another without metrics.  Lines of the gap wait in HAProxy's ring.
 */
static void take_receiver(struct builtin_provider *bp)
{
	struct strbuf err = STRBUF_INIT;
	int64_t now = proc_mono_ms();
	if (bp->rx || now < bp->rx_retry_mono)
		return;
	bp->rx_retry_mono = now + 1000;
	if (metrics_receiver_start(&bp->rx, bp->state_dir, &err) < 0)
		host_say(&bp->h, "  metrics: cannot start the log receiver: %s", err.buf);
	else if (bp->rx)
		host_say(&bp->h, "  metrics: the log receiver of another slipway stopped; this one receives now");
	strbuf_release(&err);
}

static int builtin_query(void *ctx, const char *service, enum revision_role role, const char *version,
			 int64_t from_ms, int64_t to_ms, struct metrics_sample *out, struct strbuf *err)
{
	struct builtin_provider *bp = ctx;
	take_receiver(bp);
	return bp->query(&bp->mb, service, role, version, from_ms, to_ms, out, err);
}

/* the same for latency exceedances: metrics_builtin's function wants its own context */
static int builtin_query_over(void *ctx, const char *service, enum revision_role role, const char *version,
			      int64_t from_ms, int64_t to_ms, const double *thresholds_ms, int n, uint64_t *over,
			      struct strbuf *err)
{
	struct builtin_provider *bp = ctx;
	take_receiver(bp);
	return metrics_builtin_query_over(&bp->mb, service, role, version, from_ms, to_ms, thresholds_ms, n, over,
					  err);
}

static int builtin_open(const struct plugin_host *h, void **out, struct strbuf *err)
{
	struct builtin_provider *bp;
	int rc;
	if (!h->st || !h->env || !h->state_dir) {
		strbuf_errf(err, "the builtin provider needs a store, an environment and a state directory");
		return SW_EUSAGE;
	}
	if ((rc = metrics_store_migrate(h->st, err)) < 0)
		return rc;
	bp = xcalloc(1, sizeof(*bp));
	bp->mb.st = h->st;
	snprintf(bp->mb.env, sizeof(bp->mb.env), "%s", h->env);
	metrics_builtin_provider(&bp->mb, &bp->p);
	/* asked through builtin_query(), which first makes sure a receiver runs */
	bp->h = *h;
	bp->state_dir = xstrdup(h->state_dir);
	bp->query = bp->p.query;
	bp->p.query = builtin_query;
	/* every function of the provider gets bp as its context: wrap each of them */
	bp->p.query_over = builtin_query_over;
	bp->p.ctx = bp;
	/* the receiver: HAProxy's log lines into the store, until close */
	if ((rc = metrics_receiver_start(&bp->rx, h->state_dir, err)) < 0) {
		free(bp->state_dir);
		free(bp);
		return rc;
	}
	*out = &bp->p;
	return 0;
}

static void builtin_close(void *obj)
{
	struct builtin_provider *bp = obj;	/* p is the first member */
	if (!bp)
		return;
	metrics_receiver_stop(bp->rx);
	free(bp->state_dir);
	free(bp);
}

/* ---- provider "prometheus": PromQL over Prometheus's HTTP API (metrics_prometheus) ---- */

struct prom_provider {
	struct metrics_provider p;	/* first: what open returns */
	struct metrics_prometheus *mp;
};

static int prometheus_open(const struct plugin_host *h, void **out, struct strbuf *err)
{
	struct prom_provider *pp;
	int rc;
	if (!h->svc || !h->env) {
		strbuf_errf(err, "the prometheus provider needs a service file and an environment");
		return SW_EUSAGE;
	}
	pp = xcalloc(1, sizeof(*pp));
	if ((rc = metrics_prometheus_open(&pp->mp, h->svc, h->env, &pp->p, err)) < 0) {
		free(pp);
		return rc;
	}
	*out = &pp->p;
	return 0;
}

static void prometheus_close(void *obj)
{
	struct prom_provider *pp = obj;
	if (!pp)
		return;
	metrics_prometheus_free(pp->mp);
	free(pp);
}

/* ---- judges: sequential, threshold, observed (core/judge.h, docs/judge.md) ---- */

/*
 * Build the judge `impl` with the policy's judge settings (alpha, power,
 * effect, ...) and the strategy's minimum canary requests.  The catalogue's
 * default (sequential) yields to the policy's `judge: name` when the policy
 * names another: a service file that names a judge wins, else the policy.
 */
static int judge_open_impl(const struct judge_impl *impl, const struct plugin_host *h, void **out)
{
	struct judge *j = xcalloc(1, sizeof(*j));
	const struct judge_settings *set = h && h->policy ? &h->policy->judge : NULL;
	if (impl == &judge_sequential_impl && set && set->name[0] && judge_impl_find(set->name))
		impl = judge_impl_find(set->name);
	impl->init(j, set && set->alpha > 0 ? set : NULL, h && h->min_requests ? h->min_requests : 1);
	*out = j;
	return 0;
}

static int sequential_open(const struct plugin_host *h, void **out, struct strbuf *err)
{
	(void)err;
	return judge_open_impl(&judge_sequential_impl, h, out);
}

static int threshold_open(const struct plugin_host *h, void **out, struct strbuf *err)
{
	(void)err;
	return judge_open_impl(&judge_threshold_impl, h, out);
}

static int observed_open(const struct plugin_host *h, void **out, struct strbuf *err)
{
	(void)err;
	return judge_open_impl(&judge_observed_impl, h, out);
}

/* ---- the table ---- */

/* ---- target, router and provider "sim": a simulated service environment ----
 *
 * The three plugins of one service environment share one simulation (found
 * by service and environment, counted by reference): the router's weights
 * are the sim target's and router's memory (adapters/sim_infra.h), and the
 * provider draws each revision's requests from a model of a healthy service
 * (adapters/metrics_sim.h: 60,000 requests/min, Poisson; 0.1% errors; a
 * lognormal latency with median 45 ms and p99 200 ms, for the canary as for
 * the stable) split by the weight the router last set.  Nothing runs: every
 * instance is ready at once.  For the controller at scale (bench/api.sh:
 * `slipway serve` driving 1,000 deployments), not for a real service.
 */
struct sim_env {
	char service[SERVICE_NAME_MAX + 1], env[SERVICE_NAME_MAX + 1];
	struct sim_infra infra;
	struct metrics_sim m;
	int refs;
	struct sim_env *next;
};
static struct sim_env *sim_envs;
/* the API's threads open targets and routers too (a deployment recorded over the API) */
static pthread_mutex_t sim_mu = PTHREAD_MUTEX_INITIALIZER;

static struct sim_env *sim_env_get(const struct plugin_host *h)
{
	struct sim_env *e;
	const struct metrics_sim_params p = { .rpm = 60000, .stable_error_rate = 0.001, .canary_error_rate = 0.001,
					      .latency_median_ms = 45, .latency_p99_ms = 200, .latency_ratio = 1,
					      .cell_ms = 60000 };
	pthread_mutex_lock(&sim_mu);
	for (e = sim_envs; e; e = e->next)
		if (!strcmp(e->service, h->svc->name) && !strcmp(e->env, h->env)) {
			e->refs++;
			pthread_mutex_unlock(&sim_mu);
			return e;
		}
	e = xcalloc(1, sizeof(*e));
	snprintf(e->service, sizeof(e->service), "%s", h->svc->name);
	snprintf(e->env, sizeof(e->env), "%s", h->env);
	sim_infra_init(&e->infra);
	metrics_sim_init(&e->m, &p, 1);
	e->refs = 1;
	e->next = sim_envs;
	sim_envs = e;
	pthread_mutex_unlock(&sim_mu);
	return e;
}

static void sim_env_put(struct sim_env *e)
{
	struct sim_env **pp;
	if (!e)
		return;
	pthread_mutex_lock(&sim_mu);
	if (--e->refs > 0) {
		pthread_mutex_unlock(&sim_mu);
		return;
	}
	for (pp = &sim_envs; *pp; pp = &(*pp)->next)
		if (*pp == e) {
			*pp = e->next;
			break;
		}
	pthread_mutex_unlock(&sim_mu);
	sim_infra_release(&e->infra);
	metrics_sim_release(&e->m);
	free(e);
}

struct sim_plugin {
	union {
		struct target t;
		struct router r;
		struct metrics_provider p;
	} u;	/* first: what open() returns is the plugin */
	struct sim_env *e;
	struct metrics_provider inner;	/* provider: metrics_sim's */
};

static int sim_open(const struct plugin_host *h, enum plugin_kind k, void **out)
{
	struct sim_plugin *sp = xcalloc(1, sizeof(*sp));
	sp->e = sim_env_get(h);
	if (k == PLUGIN_TARGET)
		sim_infra_target(&sp->e->infra, &sp->u.t);
	else if (k == PLUGIN_ROUTER)
		sim_infra_router(&sp->e->infra, &sp->u.r);
	*out = sp;
	return 0;
}

static int sim_target_open(const struct plugin_host *h, void **out, struct strbuf *err)
{
	(void)err;
	return sim_open(h, PLUGIN_TARGET, out);
}

static int sim_router_open(const struct plugin_host *h, void **out, struct strbuf *err)
{
	(void)err;
	return sim_open(h, PLUGIN_ROUTER, out);
}

/* the canary's share of [from_ms, ...) is the weight the router set last (0 before any) */
static void sim_share(struct sim_plugin *sp, int64_t from_ms)
{
	double w = sim_infra_weight(&sp->e->infra, sp->e->service, "");
	metrics_sim_set_share(&sp->e->m, from_ms, w > 0 ? w / 100 : 0);
}

static int sim_query(void *ctx, const char *service, enum revision_role role, const char *version, int64_t from_ms,
		     int64_t to_ms, struct metrics_sample *out, struct strbuf *err)
{
	struct sim_plugin *sp = ctx;
	sim_share(sp, from_ms);
	return sp->inner.query(sp->inner.ctx, service, role, version, from_ms, to_ms, out, err);
}

static int sim_query_over(void *ctx, const char *service, enum revision_role role, const char *version,
			  int64_t from_ms, int64_t to_ms, const double *thresholds_ms, int n, uint64_t *over,
			  struct strbuf *err)
{
	struct sim_plugin *sp = ctx;
	sim_share(sp, from_ms);
	return sp->inner.query_over(sp->inner.ctx, service, role, version, from_ms, to_ms, thresholds_ms, n, over,
				    err);
}

static int sim_provider_open(const struct plugin_host *h, void **out, struct strbuf *err)
{
	struct sim_plugin *sp;
	(void)err;
	sim_open(h, PLUGIN_PROVIDER, out);
	sp = *out;
	metrics_sim_provider(&sp->e->m, &sp->inner);
	sp->u.p.ctx = sp;
	sp->u.p.query = sim_query;
	sp->u.p.query_over = sim_query_over;
	return 0;
}

static void sim_close(void *obj)
{
	struct sim_plugin *sp = obj;
	if (!sp)
		return;
	sim_env_put(sp->e);
	free(sp);
}

static const struct plugin plugins[] = {
	{ PLUGIN_TARGET, "local", "processes on this machine, one set per revision", local_open, local_close },
	{ PLUGIN_TARGET, "ssh", "processes on the hosts of hosts.yaml over OpenSSH (docs/fleet.md)", fleet_target_open,
	  fleet_target_close },
	{ PLUGIN_ROUTER, "haproxy", "HAProxy server weights through the runtime API", haproxy_open, haproxy_close },
	{ PLUGIN_PROVIDER, "builtin", "HAProxy's per-request log, aggregated in the store", builtin_open,
	  builtin_close },
	{ PLUGIN_PROVIDER, "prometheus", "PromQL over a Prometheus server's HTTP API (docs/prometheus.md)",
	  prometheus_open, prometheus_close },
	{ PLUGIN_JUDGE, "sequential", "anytime-valid sequential tests on the deployment's evidence", sequential_open,
	  free },
	{ PLUGIN_JUDGE, "threshold", "Flagger's failed-check counting on each interval's values", threshold_open, free },
	{ PLUGIN_JUDGE, "observed", "the interval's observed values against the limits", observed_open, free },
	{ PLUGIN_TARGET, "sim", "simulated: nothing runs, every instance ready at once (bench/api.sh)", sim_target_open,
	  sim_close },
	{ PLUGIN_ROUTER, "sim", "simulated: the weights kept in memory", sim_router_open, sim_close },
	{ PLUGIN_PROVIDER, "sim", "simulated traffic of a healthy service (adapters/metrics_sim.h)", sim_provider_open,
	  sim_close },
	/* sinks: delivered by adapters/notify.c (notify_sink_impls), per message */
	{ PLUGIN_SINK, "stdout", "the message on standard output", NULL, NULL },
	{ PLUGIN_SINK, "file", "the message appended to a file", NULL, NULL },
	{ PLUGIN_SINK, "slack", "a Slack-compatible incoming webhook", NULL, NULL },
	{ PLUGIN_SINK, "cloudevents", "a CloudEvents 1.0 structured-mode webhook", NULL, NULL },
};

const struct plugin *registry_at(size_t i)
{
	return i < sizeof(plugins) / sizeof(plugins[0]) ? &plugins[i] : NULL;
}

const struct plugin *registry_find(enum plugin_kind k, const char *name)
{
	const struct plugin *p;
	for (size_t i = 0; name && (p = registry_at(i)); i++)
		if (p->kind == k && !strcmp(p->name, name))
			return p;
	return NULL;
}

int registry_open(enum plugin_kind k, const char *name, const struct plugin_host *h, void **out,
		  struct strbuf *err)
{
	const struct plugin *p = registry_find(k, name ? name : plugin_default(k));
	if (!p || !p->open) {
		struct strbuf names = STRBUF_INIT;
		plugin_names_list(k, &names);
		strbuf_errf(err, "no %s '%s' (valid: %s)", plugin_kind_name(k), name ? name : "(default)", names.buf);
		strbuf_release(&names);
		return SW_ENOTFOUND;
	}
	return p->open(h, out, err);
}

void registry_close(enum plugin_kind k, const char *name, void *obj)
{
	const struct plugin *p = registry_find(k, name ? name : plugin_default(k));
	if (obj && p && p->close)
		p->close(obj);
}
