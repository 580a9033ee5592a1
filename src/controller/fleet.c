/*
 * fleet.c - the `ssh` target; see fleet.h.
 */
#include "controller/fleet.h"
#include "controller/localstack.h"
#include "adapters/proc.h"
#include "adapters/router_haproxy.h"
#include "adapters/target_local.h"
#include "adapters/target_ssh.h"
#include "base/alloc.h"
#include "base/err.h"
#include "base/strbuf.h"
#include "core/target-t.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define FLEET_WANT_SLOTS 8
#define FLEET_REGION_SLOTS 4

struct fleet_target {
	struct target t;
	struct plugin_host h;
	struct target_ssh ssh;
	struct {
		char version[SERVICE_NAME_MAX + 1];
		int count;
	} want[FLEET_WANT_SLOTS];	/* the count last ensured per revision (a rolling step's) */
	/* the last listing of every host, for ready(): the controller asks every tick for
	 * the new and the stable revision, one listing answers both for FLEET_CACHE_MS */
	struct ssh_instance_list cache;
	struct strbuf cache_why;
	int64_t cache_mono;	/* proc_mono_ms() of the listing; 0 = none */
	struct {
		char version[SERVICE_NAME_MAX + 1];
		int ready;
		char why[600];
		int64_t mono;
	} answer[2];		/* ready()'s last answers (the new and the stable revision) */
	/* region-by-region: the hosts a revision may run on (regions()); a revision
	 * not here runs on every host */
	struct {
		char version[SERVICE_NAME_MAX + 1];
		unsigned char ok[INVENTORY_MAX_HOSTS];
	} region[FLEET_REGION_SLOTS];
};

/*
 * The controller asks ready() every tick, up to 16 times a 100 ms tick when
 * its analysis catches up (controller/local_deploy.c): the pid files are
 * listed (one SSH round trip per host) at most every FLEET_LIST_MS, the
 * probes (HTTP from here) answer for FLEET_PROBE_MS.  A dead instance fails
 * its probe at once; the listing says why.
 */
#define FLEET_CACHE_MS 5000
#define FLEET_PROBE_MS 500

static void say(struct fleet_target *ft, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct fleet_target *ft, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;
	if (!ft->h.say)
		return;
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	ft->h.say(ft->h.say_ctx, sb.buf);
	strbuf_release(&sb);
}

static int instances_of_env(struct fleet_target *ft)
{
	const struct service_env *e = service_find_env(&ft->h.ls->svc, ft->h.ls->env);
	return e ? e->instances : 1;
}

static void set_want(struct fleet_target *ft, const char *version, int count)
{
	int free_slot = -1;
	for (int i = 0; i < FLEET_WANT_SLOTS; i++) {
		if (!strcmp(ft->want[i].version, version)) {
			ft->want[i].count = count;
			return;
		}
		if (free_slot < 0 && !ft->want[i].version[0])
			free_slot = i;
	}
	if (free_slot < 0) {
		memmove(&ft->want[0], &ft->want[1], sizeof(ft->want[0]) * (FLEET_WANT_SLOTS - 1));
		free_slot = FLEET_WANT_SLOTS - 1;
	}
	snprintf(ft->want[free_slot].version, sizeof(ft->want[free_slot].version), "%s", version);
	ft->want[free_slot].count = count;
}

static int have_want(struct fleet_target *ft, const char *version)
{
	for (int i = 0; i < FLEET_WANT_SLOTS; i++)
		if (!strcmp(ft->want[i].version, version))
			return 1;
	return 0;
}

static void forget_want(struct fleet_target *ft, const char *version)
{
	for (int i = 0; i < FLEET_WANT_SLOTS; i++)
		if (!strcmp(ft->want[i].version, version))
			memset(&ft->want[i], 0, sizeof(ft->want[i]));
}

static int get_want(struct fleet_target *ft, const char *version)
{
	for (int i = 0; i < FLEET_WANT_SLOTS; i++)
		if (!strcmp(ft->want[i].version, version))
			return ft->want[i].count;
	return instances_of_env(ft);
}

/* 1 when version may run on host h (region-by-region, fleet_regions()) */
static int host_ok(struct fleet_target *ft, const char *version, int h)
{
	for (int i = 0; i < FLEET_REGION_SLOTS; i++)
		if (!strcmp(ft->region[i].version, version))
			return h >= 0 && h < INVENTORY_MAX_HOSTS && ft->region[i].ok[h];
	return 1;
}

static int restricted(struct fleet_target *ft, const char *version)
{
	for (int i = 0; i < FLEET_REGION_SLOTS; i++)
		if (!strcmp(ft->region[i].version, version))
			return 1;
	return 0;
}

/* instance i's home host: i mod hosts (inventory order) */
static int home_of(struct fleet_target *ft, int i)
{
	return (int)((size_t)i % ft->ssh.inv.n_hosts);
}

/* 1 when instance i of version runs at all: its home host is in a region version runs in */
static int slot_wanted(struct fleet_target *ft, const char *version, int i)
{
	return host_ok(ft, version, home_of(ft, i));
}

static int wanted_count(struct fleet_target *ft, const char *version, int count)
{
	int n = 0;
	for (int i = 0; i < count; i++)
		n += slot_wanted(ft, version, i);
	return n;
}

/*
 * Every instance of the service environment on every host (version NULL:
 * all revisions).  A host that does not answer is appended to why (may be
 * NULL) and counted in the return value; its instances are not listed.
 */
static int list_all(struct fleet_target *ft, const char *version, struct ssh_instance_list *l, struct strbuf *why)
{
	/* every host at once: the controller's tick waits one round trip, not one per host */
	return target_ssh_list_hosts(&ft->ssh, ft->h.ls->svc.name, ft->h.ls->env, version, l, why);
}

static void to_instance(struct fleet_target *ft, const struct ssh_instance *s, struct instance *in)
{
	memset(in, 0, sizeof(*in));
	snprintf(in->version, sizeof(in->version), "%s", s->version);
	in->idx = s->idx;
	in->port = s->port;
	snprintf(in->addr, sizeof(in->addr), "%s", ft->ssh.inv.hosts[s->host].address);
	snprintf(in->state, sizeof(in->state), "running");
	in->alive = 1;
}

/* the first port from ports.base no live instance of the service uses on host h */
static int free_port_on(struct fleet_target *ft, int h, const struct ssh_instance_list *all)
{
	for (int port = ft->ssh.inv.port_base; port < 65536; port++) {
		int used = 0;
		for (size_t i = 0; i < all->n && !used; i++)
			used = all->v[i].host == h && all->v[i].alive && all->v[i].port == port;
		if (!used)
			return port;
	}
	return -1;
}

/* stop the named instances (space-separated per host) after retiring their servers */
static int retire_and_stop(struct fleet_target *ft, const struct ssh_instance *v, size_t n, struct strbuf *err)
{
	struct localstack *ls = ft->h.ls;
	int rc = 0;
	for (size_t h = 0; h < ft->ssh.inv.n_hosts && rc >= 0; h++) {
		struct strbuf names = STRBUF_INIT;
		for (size_t i = 0; i < n && rc >= 0; i++) {
			char name[80];
			if (v[i].host != (int)h)
				continue;
			snprintf(name, sizeof(name), "%s-%d", v[i].version, v[i].idx);
			if (router_haproxy_pid(&ls->router) > 0)
				rc = router_haproxy_retire(&ls->router, name, err);
			strbuf_addf(&names, "%s%s", names.len ? " " : "", name);
		}
		if (rc >= 0 && names.len)
			rc = target_ssh_stop(&ft->ssh, (int)h, &ls->svc, ls->env, names.buf, err);
		strbuf_release(&names);
	}
	return rc;
}

static int ensure_up(struct fleet_target *ft, const char *version, int count, int first, struct strbuf *err)
{
	struct localstack *ls = ft->h.ls;
	struct ssh_instance_list all = { 0 }, gone = { 0 }, started = { 0 };
	struct ssh_instance **slot = xcalloc((size_t)count, sizeof(*slot));
	struct instance *add = NULL;
	size_t nadd = 0, nhosts = ft->ssh.inv.n_hosts;
	char *pushed = xcalloc(nhosts, 1);
	struct strbuf why = STRBUF_INIT;
	int rc, hap_started, adopted = 0;

	if ((rc = router_haproxy_up(&ls->router, &hap_started, err)) < 0)
		goto out;
	list_all(ft, NULL, &all, &why);
	for (size_t i = 0; i < all.n; i++) {
		struct ssh_instance *in = &all.v[i];
		if (strcmp(in->version, version))
			continue;
		if (in->alive && in->idx < count && !slot[in->idx] && slot_wanted(ft, version, in->idx) &&
		    host_ok(ft, version, in->host)) {
			slot[in->idx] = in;
			continue;
		}
		/* gone, or beyond the count (a rolling step scaling down), or a duplicate */
		ALLOC_GROW(gone.v, gone.n + 1, gone.alloc);
		gone.v[gone.n++] = *in;
	}
	if (gone.n && (rc = retire_and_stop(ft, gone.v, gone.n, err)) < 0)
		goto out;
	for (int i = 0; i < count; i++) {
		struct ssh_instance *s;
		int h = -1, port;
		if (slot[i]) {
			adopted++;
			continue;
		}
		if (!slot_wanted(ft, version, i))
			continue;	/* its home host's region is not reached (region-by-region) */
		/* host i mod n, or the next one that answers (in the same region when
		 * the revision runs in some regions only: each region keeps its count) */
		for (size_t k = 0; k < nhosts && h < 0; k++) {
			int c = (int)(((size_t)i + k) % nhosts);
			if (ft->ssh.down[c][0] || !host_ok(ft, version, c))
				continue;
			if (restricted(ft, version) &&
			    strcmp(ft->ssh.inv.hosts[c].region, ft->ssh.inv.hosts[home_of(ft, i)].region))
				continue;
			h = c;
		}
		if (h < 0) {
			strbuf_errf(err, "no host answers: %s", why.len ? why.buf : "every ssh command failed");
			rc = SW_EEXTERNAL;
			goto fail;
		}
		if (!pushed[h]) {
			if ((rc = target_ssh_push(&ft->ssh, h, &ls->svc, version, err)) < 0)
				goto fail;
			pushed[h] = 1;
		}
		if ((port = free_port_on(ft, h, &all)) < 0) {
			strbuf_errf(err, "host '%s' has no free port from %d", ft->ssh.inv.hosts[h].name,
				    ft->ssh.inv.port_base);
			rc = SW_EEXTERNAL;
			goto fail;
		}
		ALLOC_GROW(started.v, started.n + 1, started.alloc);
		s = &started.v[started.n];
		if ((rc = target_ssh_start(&ft->ssh, h, &ls->svc, ls->env, version, i, port, s, err)) < 0)
			goto fail;
		started.n++;
		/* its port is taken from now on */
		ALLOC_GROW(all.v, all.n + 1, all.alloc);
		all.v[all.n++] = *s;
	}
	/* readiness, probed from here (where HAProxy runs) */
	{
		int64_t deadline = proc_mono_ms() + ls->svc.ready_deadline_ms;
		for (size_t i = 0; i < started.n; i++) {
			int64_t pause = 10;
			while (!target_ssh_probe(&ft->ssh, &started.v[i], ls->svc.ready_path, ls->svc.ready_timeout_ms)) {
				if (proc_mono_ms() >= deadline) {
					strbuf_errf(err, "instance %s-%d of '%s' on host '%s' was not ready (GET %s on %s:%d) "
						    "within %lld ms", version, started.v[i].idx, ls->svc.name,
						    ft->ssh.inv.hosts[started.v[i].host].name, ls->svc.ready_path,
						    ft->ssh.inv.hosts[started.v[i].host].address, started.v[i].port,
						    (long long)ls->svc.ready_deadline_ms);
					rc = SW_ETIMEOUT;
					goto fail;
				}
				proc_sleep_ms(pause);
				if (pause < 100)
					pause *= 2;
			}
		}
	}
	/* every instance of version up to count into HAProxy (present ones are left as they are) */
	add = xcalloc((size_t)count, sizeof(*add));
	for (int i = 0; i < count; i++) {
		const struct ssh_instance *s = slot[i];
		for (size_t k = 0; !s && k < started.n; k++)
			if (started.v[k].idx == i)
				s = &started.v[k];
		if (s)
			to_instance(ft, s, &add[nadd++]);
	}
	if ((rc = router_haproxy_add(&ls->router, add, nadd, err)) < 0)
		goto out;
	{
		/* a revision alone in the router gets all the traffic (as localstack_start_revision) */
		struct revision_weight *w = NULL;
		size_t nw = 0;
		double others = 0;
		if ((rc = router_haproxy_get_weights(&ls->router, &w, &nw, err)) < 0)
			goto out;
		for (size_t i = 0; i < nw; i++)
			if (strcmp(w[i].version, version))
				others += w[i].weight;
		if (others <= 0) {
			struct revision_weight one;
			snprintf(one.version, sizeof(one.version), "%s", version);
			one.weight = 100;
			rc = router_haproxy_set_weights(&ls->router, &one, 1, err);
		}
		free(w);
		if (rc < 0)
			goto out;
	}
	if ((started.n || gone.n || first) && !restricted(ft, version)) {
		say(ft, "  %s %s: %d instances ready on %zu hosts (%d adopted, %zu started, %zu stopped)", ls->svc.name,
		    version, count, nhosts, adopted, started.n, gone.n);
	} else if (started.n || gone.n || first) {
		struct strbuf regions = STRBUF_INIT;
		size_t nh = 0;
		for (size_t h = 0; h < nhosts; h++) {
			const char *r = ft->ssh.inv.hosts[h].region;
			if (!host_ok(ft, version, (int)h))
				continue;
			nh++;
			/* each region once, in inventory order */
			int seen = 0;
			for (size_t k = 0; k < h && !seen; k++)
				seen = host_ok(ft, version, (int)k) && !strcmp(ft->ssh.inv.hosts[k].region, r);
			if (!seen)
				strbuf_addf(&regions, "%s%s", regions.len ? ", " : "", r);
		}
		say(ft, "  %s %s: %d instances ready on %zu hosts in region %s (%d adopted, %zu started, %zu stopped)",
		    ls->svc.name, version, wanted_count(ft, version, count), nh, regions.buf, adopted, started.n,
		    gone.n);
		strbuf_release(&regions);
	}
	rc = 0;
	goto out;
fail:
	/* what this call started is stopped again: nothing half-started stays behind */
	if (started.n) {
		struct strbuf e2 = STRBUF_INIT;
		retire_and_stop(ft, started.v, started.n, &e2);
		strbuf_release(&e2);
	}
out:
	ssh_instance_list_release(&all);
	ssh_instance_list_release(&gone);
	ssh_instance_list_release(&started);
	free(slot);
	free(add);
	free(pushed);
	strbuf_release(&why);
	return rc;
}

static int ensure_down(struct fleet_target *ft, const char *version, struct strbuf *err)
{
	ft->cache_mono = 0;
	forget_want(ft, version);	/* what still runs of it somewhere is stale (sweep_stale()) */
	struct localstack *ls = ft->h.ls;
	struct ssh_instance_list l = { 0 };
	int rc = 0;
	if (router_haproxy_pid(&ls->router) > 0) {
		/* drained first (in-flight requests finish), then removed */
		if ((rc = router_haproxy_drain(&ls->router, version, err)) < 0 ||
		    (rc = router_haproxy_remove(&ls->router, version, err)) < 0)
			return rc;
	}
	list_all(ft, version, &l, NULL);
	if (l.n) {
		rc = retire_and_stop(ft, l.v, l.n, err);
		if (rc >= 0)
			say(ft, "  %s %s: drained and stopped on the fleet (releases kept)", ls->svc.name, version);
	}
	ssh_instance_list_release(&l);
	return rc;
}

static int mine(struct fleet_target *ft, const char *service, struct strbuf *err)
{
	if (!strcmp(service, ft->h.ls->svc.name))
		return 1;
	strbuf_errf(err, "'%s' is deployed by another controller (this one drives '%s')", service,
		    ft->h.ls->svc.name);
	return 0;
}

static int fleet_ensure(void *ctx, const char *service, const char *version, enum revision_role role, int up,
			int count, struct strbuf *err)
{
	struct fleet_target *ft = ctx;
	int first, rc;
	(void)role;
	ft->cache_mono = 0;	/* what runs changes */
	if (!mine(ft, service, err))
		return SW_ESTATE;
	if (!up)
		return ensure_down(ft, version, err);
	if (count <= 0)
		count = instances_of_env(ft);
	first = !have_want(ft, version);
	set_want(ft, version, count);
	rc = ensure_up(ft, version, count, first, err);
	if (rc < 0 && first)
		forget_want(ft, version);	/* reported again when it works */
	return rc;
}

/*
 * A host that did not answer while a revision was stopped may still run it
 * when it comes back (a partition): after an actuation, every instance of a
 * revision this target is not told to run (not ensured up since it was
 * ensured down, or never in this controller's life) is stale.  Its server
 * (if any is left) is retired and its process stopped; each is one line of
 * progress naming the host.  Only called once an actuation ensured the
 * revisions that should run (fleet_ready(), asked after the actuation).
 */
static void sweep_stale(struct fleet_target *ft, const struct ssh_instance_list *l)
{
	struct ssh_instance_list stale = { 0 };
	int any_up = 0;
	for (int i = 0; i < FLEET_WANT_SLOTS; i++)
		any_up |= ft->want[i].version[0] != 0;
	if (!any_up)
		return;
	for (size_t i = 0; i < l->n; i++) {
		if (!l->v[i].alive || have_want(ft, l->v[i].version))
			continue;
		ALLOC_GROW(stale.v, stale.n + 1, stale.alloc);
		stale.v[stale.n++] = l->v[i];
	}
	if (stale.n) {
		struct strbuf err = STRBUF_INIT;
		int rc = retire_and_stop(ft, stale.v, stale.n, &err);
		for (size_t i = 0; i < stale.n; i++)
			say(ft, "  %s %s-%d on host '%s': %s", ft->h.ls->svc.name, stale.v[i].version, stale.v[i].idx,
			    ft->ssh.inv.hosts[stale.v[i].host].name,
			    rc < 0 ? err.buf : "stopped, a revision that should no longer run (its host came back)");
		strbuf_release(&err);
		ft->cache_mono = 0;
	}
	ssh_instance_list_release(&stale);
}

/* 1 when host h does not answer now (one round trip on its shared connection) */
static int host_gone(struct fleet_target *ft, int h, char *checked)
{
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	if (!checked[h]) {
		checked[h] = 1;
		if (!ft->ssh.down[h][0])
			target_ssh_run(&ft->ssh, h, "true", &out, &err);
	}
	strbuf_release(&out);
	strbuf_release(&err);
	return ft->ssh.down[h][0] != 0;
}

/*
 * Ready: at least the count last ensured of version's instances (those of
 * the regions it runs in) run (their host's pid file names a live process)
 * and answer the readiness probe from here.  1, or 0 with the reason in
 * err (an instance gone or not answering); SW_EEXTERNAL when every missing
 * instance is on a host that does not answer (named in err): neither ready
 * nor dead, the controller holds.
 */
static int fleet_ready(void *ctx, const char *service, const char *version, struct strbuf *err)
{
	struct fleet_target *ft = ctx;
	struct localstack *ls = ft->h.ls;
	struct strbuf why = STRBUF_INIT;
	int want, ready = 0, slot = -1;
	if (!mine(ft, service, err))
		return SW_ESTATE;
	for (int i = 0; i < 2; i++)
		if (!strcmp(ft->answer[i].version, version))
			slot = i;
	if (slot >= 0 && ft->cache_mono && proc_mono_ms() - ft->answer[slot].mono < FLEET_PROBE_MS) {
		if (!ft->answer[slot].ready && err)
			strbuf_addstr(err, ft->answer[slot].why);
		return ft->answer[slot].ready;
	}
	want = get_want(ft, version);
	int count = want;
	want = wanted_count(ft, version, count);
	if (!ft->cache_mono || proc_mono_ms() - ft->cache_mono >= FLEET_CACHE_MS) {
		ssh_instance_list_release(&ft->cache);
		strbuf_reset(&ft->cache_why);
		list_all(ft, NULL, &ft->cache, &ft->cache_why);
		ft->cache_mono = proc_mono_ms();
		sweep_stale(ft, &ft->cache);
	}
	char *checked = xcalloc(ft->ssh.inv.n_hosts, 1);
	int unreachable = 0;
	for (size_t i = 0; i < ft->cache.n; i++) {
		const struct ssh_instance *in = &ft->cache.v[i];
		const struct inventory_host *host = &ft->ssh.inv.hosts[in->host];
		if (in->idx >= count || strcmp(in->version, version) || !slot_wanted(ft, version, in->idx) ||
		    !host_ok(ft, version, in->host))
			continue;
		if (ft->ssh.down[in->host][0]) {
			unreachable++;	/* listed before its host stopped answering: not ready */
			continue;
		}
		if (!in->alive) {
			strbuf_addf(&why, "%sinstance %s-%d (pid %ld) on host '%s' is gone", why.len ? "; " : "",
				    in->version, in->idx, in->pid, host->name);
			continue;
		}
		if (target_ssh_probe(&ft->ssh, in, ls->svc.ready_path, ls->svc.ready_timeout_ms))
			ready++;
		else if (host_gone(ft, in->host, checked))
			unreachable++;	/* no probe answer because the host does not answer at all */
		else
			strbuf_addf(&why, "%sinstance %s-%d on host '%s' (%s:%d) does not answer its readiness probe",
				    why.len ? "; " : "", in->version, in->idx, host->name, host->address, in->port);
	}
	/* the wanted instances on hosts that do not answer (not listed at all) */
	for (int i = 0; i < count; i++) {
		int listed = 0, h = home_of(ft, i);
		if (!slot_wanted(ft, version, i) || !ft->ssh.down[h][0])
			continue;
		for (size_t k = 0; k < ft->cache.n && !listed; k++)
			listed = ft->cache.v[k].idx == i && !strcmp(ft->cache.v[k].version, version);
		unreachable += !listed;
	}
	free(checked);
	/* a host that does not answer is named, not its instances as dead: the
	 * controller holds (docs/fleet.md "Host failures") */
	for (size_t h = 0; unreachable && h < ft->ssh.inv.n_hosts; h++)
		if (ft->ssh.down[h][0])
			strbuf_addf(&why, "%s%s", why.len ? "; " : "", ft->ssh.down[h]);
	if (ready < want && unreachable && ready + unreachable >= want) {
		if (err)
			strbuf_addf(err, "%d of %d instances of %s are on hosts that do not answer: %s", unreachable, want,
				    version, why.buf);
		strbuf_release(&why);
		return SW_EEXTERNAL;	/* listed again within FLEET_CACHE_MS: resumes once the host answers */
	}
	if (ready < want && why.len && err)
		strbuf_addstr(err, why.buf);
	if (slot < 0) {
		slot = ft->answer[0].mono <= ft->answer[1].mono ? 0 : 1;
		snprintf(ft->answer[slot].version, sizeof(ft->answer[slot].version), "%s", version);
	}
	ft->answer[slot].ready = ready >= want;
	snprintf(ft->answer[slot].why, sizeof(ft->answer[slot].why), "%s", ready < want ? why.buf : "");
	ft->answer[slot].mono = proc_mono_ms();
	strbuf_release(&why);
	return ready >= want;
}

/*
 * Region-by-region: version runs on the hosts whose `region` is one of
 * groups[0..n) (n < 0: every host).  A group that names no host is an
 * error (the strategy and hosts.yaml disagree).
 */
static int fleet_regions(void *ctx, const char *service, const char *version, const char *const *groups, int n,
			 struct strbuf *err)
{
	struct fleet_target *ft = ctx;
	int slot = -1;
	if (!mine(ft, service, err))
		return SW_ESTATE;
	for (int i = 0; i < FLEET_REGION_SLOTS && slot < 0; i++)
		if (!strcmp(ft->region[i].version, version))
			slot = i;
	if (n < 0) {
		if (slot >= 0)
			memset(&ft->region[slot], 0, sizeof(ft->region[slot]));
		return 0;
	}
	for (int g = 0; g < n; g++) {
		int any = 0;
		for (size_t h = 0; h < ft->ssh.inv.n_hosts && !any; h++)
			any = !strcmp(ft->ssh.inv.hosts[h].region, groups[g]);
		if (!any) {
			strbuf_errf(err, "region group '%s' of the strategy has no host in hosts.yaml (host `region:`)",
				    groups[g]);
			return SW_ECONFIG;
		}
	}
	for (int i = 0; i < FLEET_REGION_SLOTS && slot < 0; i++)
		if (!ft->region[i].version[0])
			slot = i;
	if (slot < 0) {
		memmove(&ft->region[0], &ft->region[1], sizeof(ft->region[0]) * (FLEET_REGION_SLOTS - 1));
		slot = FLEET_REGION_SLOTS - 1;
	}
	memset(&ft->region[slot], 0, sizeof(ft->region[slot]));
	snprintf(ft->region[slot].version, sizeof(ft->region[slot].version), "%s", version);
	for (size_t h = 0; h < ft->ssh.inv.n_hosts && h < INVENTORY_MAX_HOSTS; h++)
		for (int g = 0; g < n; g++)
			if (!strcmp(ft->ssh.inv.hosts[h].region, groups[g]))
				ft->region[slot].ok[h] = 1;
	return 0;
}

static int fleet_check(void *ctx, const char *service, const char *version, struct strbuf *err)
{
	struct fleet_target *ft = ctx;
	struct localstack *ls = ft->h.ls;
	struct strbuf dir = STRBUF_INIT;
	struct stat sb;
	int rc = 0;
	if (!mine(ft, service, err))
		return SW_ESTATE;
	target_local_release_dir(&ls->target, &ls->svc, version, &dir);
	if (stat(dir.buf, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
		strbuf_errf(err, "release directory '%s' does not exist; put release '%s' of '%s' there first", dir.buf,
			    version, service);
		rc = SW_EUSAGE;
	}
	strbuf_release(&dir);
	return rc;
}

int fleet_target_open(const struct plugin_host *h, void **out, struct strbuf *err)
{
	struct fleet_target *ft;
	int rc;
	if (!h->ls) {
		strbuf_errf(err, "the ssh target needs this machine's HAProxy (a service environment opened here)");
		return SW_EUSAGE;
	}
	ft = xcalloc(1, sizeof(*ft));
	if ((rc = target_ssh_init(&ft->ssh, h->state_dir, h->project_dir, err)) < 0) {
		free(ft);
		return rc;
	}
	ft->h = *h;
	strbuf_init(&ft->cache_why, 0);
	ft->t.ctx = ft;
	ft->t.ensure = fleet_ensure;
	ft->t.ready = fleet_ready;
	ft->t.check = fleet_check;
	ft->t.regions = fleet_regions;
	*out = &ft->t;
	return 0;
}

void fleet_target_close(void *obj)
{
	struct fleet_target *ft = obj ? ((struct target *)obj)->ctx : NULL;
	if (!ft)
		return;
	target_ssh_release(&ft->ssh);
	ssh_instance_list_release(&ft->cache);
	strbuf_release(&ft->cache_why);
	free(ft);
}

unsigned long fleet_target_round_trips(void *obj)
{
	struct fleet_target *ft = obj ? ((struct target *)obj)->ctx : NULL;
	return ft ? ft->ssh.round_trips : 0;
}
