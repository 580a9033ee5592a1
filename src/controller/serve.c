/*
 * serve.c - `slipway serve`; see serve.h and docs/serve.md.
 *
 * WHAT RUNS EACH TICK (serve_run(), every SERVE_TICK_MS):
 *
 *   1. The lease.  Not held: once a second, read it and take it when it is
 *      free, expired, or ours; while another controller holds it nothing
 *      else runs, and the wait is said at once and every 30 s (who, pid,
 *      host, since when, until when).
 *      Held: renewed once every SERVE_RENEW_MS; found taken by another (we
 *      were stopped longer than the lease): every driver is closed and we
 *      wait again.  Every tick's commit is fenced by the lease as well
 *      (controller.h hooks.fence, lease_check()), so a controller that lost
 *      the lease commits no decision even in the tick it was in.
 *   2. SIGHUP seen: reload the policy and the notifications through the
 *      caller's load() and re-read every open driver's service file; what
 *      does not load is reported and the version in force kept; a driver
 *      whose file or policy changed is closed and reopened in step 4.
 *   3. The work: deployment_store_work(), every service environment with a
 *      non-final deployment or an intent not yet applied (retry and undo
 *      act on final deployments), and the deployment each is about.
 *   4. For each (a database's migration, service "db.NAME", excepted: only
 *      an abort of one waiting at the gate is applied, db_work()): its
 *      driver, opened on first need without waiting for the
 *      service environment's lock (an in-process `deploy` or `traffic` that
 *      holds it is said once and its service environment skipped until it
 *      is done), then local_driver_tick(): the same tick as `deploy`'s.
 *   5. Once a second, the post-deployment follow-up (controller/followup.h):
 *      succeeded deployments' horizons checked, open manual items
 *      reminded, an emergency's monitoring and post-mortem followed,
 *      regressions opened as incidents (docs/checklists.md).
 *   6. The notifications queued so far, delivered (one short budget).
 *   7. Drivers without work for IDLE_MS closed (their locks released, so
 *      `slipway start/stop/traffic` need not wait for the controller).
 *
 * Every step is bounded: a tick never waits for a person, a lock (drivers
 * take theirs without waiting) or a slow channel (delivery has a 200 ms
 * budget per tick), so intents are applied within one tick.
 *
 * SIGTERM and SIGINT are seen between ticks only: the tick in progress,
 * its commit and its router and target changes finish first.  Then the
 * drivers close (HAProxy and the instances keep running as they are), the
 * lease is given up and serve_run() returns.
 */
#include "controller/serve.h"
#include "controller/db_ops.h"
#include "controller/followup.h"
#include "controller/local_deploy.h"
#include "controller/localstack.h"
#include "adapters/deployment_store.h"
#include "adapters/lease.h"
#include "adapters/metrics_builtin.h"
#include "adapters/notify.h"
#include "adapters/notify_config.h"
#include "adapters/proc.h"
#include "adapters/store.h"
#include "adapters/store_all.h"
#include "base/alloc.h"
#include "base/err.h"
#include "base/fmt.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "core/service.h"

#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define IDLE_MS 5000		/* a driver without work this long is closed */
#define RETRY_MS 1000		/* a driver that could not be opened is tried again after this */
#define WAIT_SAY_MS 30000	/* waiting for the lease: said again this often */
#define FOLLOWUP_LOOK_MS 1000	/* post-deployment follow-up: looked at this often (step 5) */

/* A loaded configuration, shared by the drivers opened while it was in force. */
struct cfg {
	struct serve_config c;
	int refs;
};

struct sdriver {
	char service[SERVICE_NAME_MAX + 1], env[SERVICE_NAME_MAX + 1];
	struct local_driver *ld;	/* NULL: not open (failed, or closed for a reload) */
	struct cfg *cfg;		/* what ld was opened with (a reference) */
	int64_t last_work_mono;		/* last tick with work for it */
	int64_t retry_mono;		/* not open: next attempt */
	unsigned long said;		/* hash of the last failure said: each said once */
	int keep;			/* reload: the service file did not load; keep ld as it is */
};

struct serve {
	const struct serve_opts *o;
	FILE *log;
	struct store st;
	struct lease me;
	int holding;
	int64_t renewed_mono;
	int64_t next_try_mono;		/* standing by: the next look at the lease */
	unsigned long lease_said;	/* hash of the last lease failure said */
	struct cfg *cfg;		/* in force */
	struct notify_config ncfg;	/* cfg's notifications with a short budget */
	struct sdriver *d;
	size_t n, alloc;
	struct metrics_receiver *rx;
	int64_t rx_retry_mono;
	int64_t followup_mono;		/* the last follow-up look */
	char waited_for[128];		/* the holder we last said we wait for */
	int64_t waited_said_mono;
};

static volatile sig_atomic_t stop_requested, reload_requested;

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void on_reload(int sig)
{
	(void)sig;
	reload_requested = 1;
}

__attribute__((format(printf, 2, 3)))
static void say(struct serve *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfprintf(s->log, fmt, ap);
	va_end(ap);
	fputc('\n', s->log);
	fflush(s->log);
}

static void manager(struct serve *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void manager(struct serve *s, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	if (!s->o->notify_manager)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	s->o->notify_manager(s->o->ctx, buf);
}

static unsigned long hash_str(const char *p)
{
	unsigned long h = 5381;
	while (*p)
		h = h * 33 + (unsigned char)*p++;
	return h ? h : 1;
}

/* ---- configurations ---- */

static void cfg_put(struct serve *s, struct cfg *c)
{
	if (!c || --c->refs > 0)
		return;
	if (s->o->unload)
		s->o->unload(s->o->ctx, &c->c);
	free(c);
}

static int cfg_load(struct serve *s, struct strbuf *err)
{
	struct cfg *c = xcalloc(1, sizeof(*c));
	int rc = s->o->load ? s->o->load(s->o->ctx, &c->c, err) : 0;
	if (rc < 0) {
		free(c);
		return rc;
	}
	c->refs = 1;
	cfg_put(s, s->cfg);
	s->cfg = c;
	memset(&s->ncfg, 0, sizeof(s->ncfg));
	if (c->c.notify) {
		s->ncfg = *c->c.notify;	/* borrowed strings; only the budget differs */
		if (s->ncfg.budget_ms > 200 || s->ncfg.budget_ms <= 0)
			s->ncfg.budget_ms = 200;
	}
	return 0;
}

/* ---- the lease ---- */

static int fence(void *ctx, struct store *st, struct strbuf *err)
{
	struct serve *s = ctx;
	return lease_check(st, s->me.holder, proc_now_ms(), err);
}

static void close_driver(struct serve *s, struct sdriver *d)
{
	local_driver_close(d->ld);
	d->ld = NULL;
	cfg_put(s, d->cfg);
	d->cfg = NULL;
}

static void close_all(struct serve *s)
{
	for (size_t i = 0; i < s->n; i++)
		close_driver(s, &s->d[i]);
	s->n = 0;
}

/* Step 1.  Returns 1 when this controller may act this tick. */
static int lease_step(struct serve *s)
{
	struct strbuf err = STRBUF_INIT;
	struct lease other;
	int64_t mono = proc_mono_ms(), now = proc_now_ms();
	int r;

	if (s->holding && mono - s->renewed_mono < SERVE_RENEW_MS)
		return 1;
	if (!s->holding) {
		/* standing by: look once a second, with a read; write only to take a lease that is free */
		if (mono < s->next_try_mono)
			return 0;
		s->next_try_mono = mono + SERVE_RENEW_MS;
		memset(&other, 0, sizeof(other));
		r = lease_read(&s->st, &other, &err);
		if (r == 1 && lease_live(&other, now) && strcmp(other.holder, s->me.holder)) {
			strbuf_release(&err);
			goto another;
		}
		strbuf_reset(&err);
	}
	memset(&other, 0, sizeof(other));
	r = lease_acquire(&s->st, &s->me, now, s->o->lease_ms, &other, &err);
	if (r < 0) {
		/* could not even ask (the store is busy or refuses writes): retried a second later;
		 * the fence guards the commits while the lease lasts; said once per distinct failure */
		unsigned long h = hash_str(err.buf);
		if (h != s->lease_said) {
			if (s->holding)
				say(s, "controller: cannot renew the controller lease: %s; retrying every second (this "
				    "controller acts until its lease expires, %lld s after the last renewal)", err.buf,
				    (long long)(s->o->lease_ms / 1000));
			else
				say(s, "controller: cannot take the controller lease: %s; retrying every second", err.buf);
		}
		s->lease_said = h;
		s->renewed_mono = mono;
		strbuf_release(&err);
		return s->holding && now < s->me.expires_ms;
	}
	strbuf_release(&err);
	s->lease_said = 0;
	if (r == 1) {
		if (!s->holding) {
			char who[400];
			lease_describe(&s->me, who, sizeof(who));
			say(s, "holding the controller lease of store '%s': %s; driving every deployment (tick %d ms, "
			    "lease %lld s)", s->st.path, who, SERVE_TICK_MS, (long long)(s->o->lease_ms / 1000));
			manager(s, "STATUS=holding the controller lease; driving every deployment");
			s->waited_for[0] = '\0';
		}
		s->holding = 1;
		s->renewed_mono = mono;
		return 1;
	}
	/* another holds it */
another:
	if (s->holding) {
		char who[400];
		lease_describe(&other, who, sizeof(who));
		say(s, "controller: lost the controller lease to %s (this controller was stopped longer than the lease); closing "
		    "every service environment and standing by", who);
		close_all(s);
		s->holding = 0;
	}
	if (strcmp(s->waited_for, other.holder) || mono - s->waited_said_mono >= WAIT_SAY_MS) {
		char who[400];
		lease_describe(&other, who, sizeof(who));
		say(s, "waiting: another slipway serve holds the controller lease of store '%s': %s, renewed %llds ago; "
		    "this one takes over if that lease expires", s->st.path, who,
		    (long long)((now - other.renewed_ms) / 1000));
		manager(s, "STATUS=standing by: the controller lease is held by %s (pid %ld on %s)", other.holder,
			other.pid, other.host);
		snprintf(s->waited_for, sizeof(s->waited_for), "%s", other.holder);
		s->waited_said_mono = mono;
	}
	return 0;
}

/* ---- drivers ---- */

static struct sdriver *find_driver(struct serve *s, const char *service, const char *env, int create)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->d[i].service, service) && !strcmp(s->d[i].env, env))
			return &s->d[i];
	if (!create)
		return NULL;
	ALLOC_GROW(s->d, s->n + 1, s->alloc);
	memset(&s->d[s->n], 0, sizeof(s->d[s->n]));
	snprintf(s->d[s->n].service, sizeof(s->d[s->n].service), "%s", service);
	snprintf(s->d[s->n].env, sizeof(s->d[s->n].env), "%s", env);
	return &s->d[s->n++];
}

static int open_driver(struct serve *s, struct sdriver *d)
{
	struct local_deploy_opts lo;
	struct strbuf err = STRBUF_INIT;
	int64_t mono = proc_mono_ms();
	int rc;

	if (mono < d->retry_mono)
		return -1;
	memset(&lo, 0, sizeof(lo));
	lo.state_dir = s->o->state_dir;
	lo.project_dir = s->o->project_dir;
	lo.service = d->service;
	lo.env = d->env;
	lo.time_scale = 1;
	lo.log = s->log;
	lo.policy = s->cfg->c.policy;
	lo.zone = s->cfg->c.zone;
	lo.notify = s->cfg->c.notify;
	lo.fence = fence;
	lo.fence_ctx = s;
	rc = local_driver_open(&lo, &d->ld, &err);
	if (rc < 0) {
		unsigned long h = hash_str(err.buf);
		d->ld = NULL;
		d->retry_mono = mono + RETRY_MS;
		if (h != d->said)
			say(s, "%s/%s: controller: cannot drive it now: %s; %s", d->service, d->env, err.buf,
			    rc == SW_ESTATE ? "its deployments wait until that slipway is done" :
			    "retrying every second (fix the file, or 'slipway serve' reloads it on SIGHUP)");
		d->said = h;
		strbuf_release(&err);
		return rc;
	}
	if (d->said)
		say(s, "%s/%s: driven by this controller now", d->service, d->env);
	d->said = 0;
	d->cfg = s->cfg;
	s->cfg->refs++;
	strbuf_release(&err);
	return 0;
}

/* Step 2. */
static void reload(struct serve *s)
{
	struct strbuf err = STRBUF_INIT;
	int policy_changed = 0, kept = 0;

	manager(s, "RELOADING=1");
	say(s, "SIGHUP: reloading the policy, the notifications and the service files");
	if (cfg_load(s, &err) < 0) {
		say(s, "controller: reload: the policy or the notifications did not load%s%s; keeping those in force",
		    err.len ? ": " : "", err.buf);
	} else {
		policy_changed = 1;
	}
	for (size_t i = 0; i < s->n; i++) {
		struct sdriver *d = &s->d[i];
		struct service svc;
		strbuf_reset(&err);
		memset(&svc, 0, sizeof(svc));
		if (service_load(&svc, s->o->project_dir, d->service, &err) < 0) {
			say(s, "controller: reload: %s; keeping the service file in force for %s/%s", err.buf, d->service, d->env);
			d->keep = 1;
			kept++;
			continue;
		}
		service_release(&svc);
		d->keep = 0;
		/* reopened at the next tick on the new files */
		close_driver(s, d);
		d->retry_mono = 0;
		d->said = 0;
	}
	say(s, "reload: done (%s%s)", policy_changed ? "new policy and notifications" : "policy kept",
	    kept ? "; some service files kept, see above" : "");
	manager(s, "READY=1");
	strbuf_release(&err);
}

/* The log receiver (builtin metrics) runs in the controller while it holds the lease. */
static void take_receiver(struct serve *s)
{
	struct strbuf err = STRBUF_INIT;
	int64_t mono = proc_mono_ms();
	if (s->rx || mono < s->rx_retry_mono)
		return;
	s->rx_retry_mono = mono + 1000;
	if (metrics_receiver_start(&s->rx, s->o->state_dir, &err) < 0)
		say(s, "controller: metrics: cannot start the log receiver: %s", err.buf);
	strbuf_release(&err);
}

/*
 * A tick over many deployments can outlast the lease (each service's commit
 * is its own, with its fsync): the lease is renewed between services once a
 * third of it has passed, so the fence keeps admitting this controller's
 * commits.  1 renewed; 0 not (the rest of the tick is skipped).
 */
static int renew_in_tick(struct serve *s)
{
	struct strbuf err = STRBUF_INIT;
	struct lease other;
	int r = lease_acquire(&s->st, &s->me, proc_now_ms(), s->o->lease_ms, &other, &err);
	strbuf_release(&err);
	return r == 1;
}

/*
 * A database's migrations (service "db.NAME", docs/databases.md) are not
 * driven here: `slipway db migrate` runs them in its own process, where the
 * database's connection is, and the controller only applies an abort of a
 * migration that waits at the gate (nothing has run).  What it leaves to
 * `db migrate` is said once per deployment and state.
 */
static void db_work(struct serve *s, struct sdriver *d, int64_t focus)
{
	struct strbuf err = STRBUF_INIT, reason = STRBUF_INIT, msg = STRBUF_INIT;
	struct deployment dep;
	char name[SERVICE_NAME_MAX + 1];
	int r = db_pending_intents(&s->st, focus, s->cfg->c.notify, NULL, &reason, &err);

	db_service_database(d->service, name, sizeof(name));
	if (r == 1) {
		say(s, "%s/%s: migration #%lld: %s", d->service, d->env, (long long)focus, reason.buf);
		d->said = 0;
	} else if (r < 0) {
		strbuf_addf(&msg, "%s/%s: controller: migration #%lld: %s; retrying", d->service, d->env, (long long)focus,
			    err.buf);
	} else if (deployment_store_load(&s->st, focus, &dep, NULL, &err) >= 0 && !deployment_state_is_final(dep.state)) {
		if (dep.state == DS_PENDING)
			strbuf_addf(&msg, "%s/%s: migration #%lld to '%s' waits at the gate; slipway serve does not run "
				    "database migrations (docs/databases.md): once its approvals are in, run 'slipway db "
				    "migrate %s --to %s --env %s' where the database's connection is; 'slipway abort %lld' "
				    "is applied here", d->service, d->env, (long long)focus, dep.version, name, dep.version,
				    d->env, (long long)focus);
		else
			strbuf_addf(&msg, "%s/%s: migration #%lld to '%s' is %s: the 'slipway db migrate' that started it "
				    "runs it (run it again with the same --to if it was interrupted)", d->service, d->env,
				    (long long)focus, dep.version, deployment_state_name(dep.state));
	}
	if (msg.len) {
		unsigned long h = hash_str(msg.buf);
		if (h != d->said)
			say(s, "%s", msg.buf);
		d->said = h;
	}
	strbuf_release(&err);
	strbuf_release(&reason);
	strbuf_release(&msg);
}

static void followup_say(void *ctx, const char *line)
{
	say(ctx, "%s", line);
}

/* Steps 3 to 7.  < 0: the store is gone or refuses writes; stop. */
static int work(struct serve *s, struct strbuf *err)
{
	struct deployment_work *w = NULL;
	size_t n = 0;
	int64_t mono = proc_mono_ms();
	int rc;

	take_receiver(s);
	if ((rc = store_check_identity(&s->st, err)) < 0)
		return rc;
	if ((rc = deployment_store_work(&s->st, &w, &n, err)) < 0) {
		say(s, "controller: cannot list the work: %s; retrying", err->buf);
		strbuf_reset(err);
		return 0;
	}
	for (size_t i = 0; i < n && !stop_requested; i++) {
		struct sdriver *d = find_driver(s, w[i].service, w[i].env, 1);
		struct strbuf terr = STRBUF_INIT;
		if (proc_now_ms() - s->me.renewed_ms > s->o->lease_ms / 3 && !renew_in_tick(s))
			break;	/* the lease is another's now, or the store refused: the next tick's step 1 says which */
		d->last_work_mono = mono;
		if (!strncmp(w[i].service, "db.", 3)) {
			db_work(s, d, w[i].focus);
			strbuf_release(&terr);
			continue;
		}
		if (!d->ld && open_driver(s, d) < 0)
			continue;
		rc = local_driver_tick(d->ld, w[i].focus, &terr);
		if (rc == SW_ESTORE && store_check_identity(&s->st, NULL) < 0) {
			strbuf_errf(err, "%s", terr.buf);
			strbuf_release(&terr);
			free(w);
			return rc;
		}
		if (rc < 0) {
			unsigned long h = hash_str(terr.buf);
			if (h != d->said)
				say(s, "%s/%s: controller: %s; retrying", d->service, d->env, terr.buf);
			d->said = h;
			if (rc == SW_ESTORE) {
				/* refusing writes for too long (controller.h): start its controller afresh */
				close_driver(s, d);
				d->retry_mono = mono + RETRY_MS;
			}
		}
		strbuf_release(&terr);
	}
	free(w);
	/* step 5: post-deployment follow-up (controller/followup.h), once a second */
	if (!stop_requested && mono - s->followup_mono >= FOLLOWUP_LOOK_MS) {
		struct followup_run run = { .policy = s->cfg->c.policy, .notify = s->cfg->c.notify,
					    .now_ms = proc_now_ms(), .say = followup_say, .say_ctx = s,
					    .state_dir = s->o->state_dir, .project_dir = s->o->project_dir };
		s->followup_mono = mono;
		if (followup_tick(&s->st, &run, err) < 0) {
			if (store_check_identity(&s->st, NULL) < 0)
				return SW_ESTORE;
			say(s, "follow-up: %s; retrying", err->buf);
		}
		strbuf_reset(err);
	}
	/* step 6: the messages of this tick (and any due for a retry) */
	if (s->cfg->c.notify) {
		struct notify_deliver_stats ns = { 0 };
		if (notify_deliver(&s->st, &s->ncfg, proc_now_ms(), &ns, err) < 0)
			say(s, "notify: %s", err->buf);
		strbuf_reset(err);
	}
	/* step 7 */
	for (size_t i = 0; i < s->n;) {
		struct sdriver *d = &s->d[i];
		if (mono - d->last_work_mono >= IDLE_MS) {
			close_driver(s, d);
			s->d[i] = s->d[--s->n];
		} else {
			i++;
		}
	}
	return 0;
}

int serve_run(const struct serve_opts *o, struct strbuf *err)
{
	struct serve *s = xcalloc(1, sizeof(*s));
	struct sigaction sa, old_term, old_int, old_hup;
	char host[100] = "localhost";
	int rc, handlers = 0;

	s->o = o;
	s->log = o->log ? o->log : stderr;
	if ((rc = store_open_all(&s->st, o->state_dir, err)) < 0) {
		free(s);
		return rc;
	}
	if ((rc = cfg_load(s, err)) < 0)
		goto out;
	gethostname(host, sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	bprintf(s->me.holder, sizeof(s->me.holder), "%s:%ld:%lld", host, (long)getpid(), (long long)proc_now_ms());
	s->me.pid = (long)getpid();
	snprintf(s->me.host, sizeof(s->me.host), "%s", host);

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;	/* a signal never cuts a router or store call short */
	sa.sa_handler = on_stop;
	stop_requested = reload_requested = 0;
	sigaction(SIGTERM, &sa, &old_term);
	sigaction(SIGINT, &sa, &old_int);
	sa.sa_handler = on_reload;
	sigaction(SIGHUP, &sa, &old_hup);
	handlers = 1;

	say(s, "slipway serve: store '%s', project '%s' (pid %ld)", s->st.path, localstack_project_dir(o->project_dir),
	    s->me.pid);
	manager(s, "READY=1\nSTATUS=started; asking for the controller lease");
	while (!stop_requested) {
		int64_t started = proc_mono_ms(), spent;
		if (reload_requested) {
			reload_requested = 0;
			reload(s);
		}
		if (lease_step(s)) {
			if ((rc = work(s, err)) < 0)
				goto out;
			if (o->ticked)
				o->ticked(o->ticked_ctx, proc_mono_ms() - started, proc_now_ms());
		}
		spent = proc_mono_ms() - started;
		if (!stop_requested && spent < SERVE_TICK_MS)
			proc_sleep_ms(SERVE_TICK_MS - spent);
	}
	if (s->holding && s->cfg->c.notify) {
		/* what the last tick queued goes out now, within the channels' own budget (default 2 s);
		 * a delivery that fails keeps its retry schedule for the next controller */
		struct notify_deliver_stats ns = { 0 };
		if (notify_deliver(&s->st, s->cfg->c.notify, proc_now_ms(), &ns, err) < 0)
			say(s, "notify: %s", err->buf);
		strbuf_reset(err);
	}
	say(s, "stopping: the last tick finished; every service environment left as it is (HAProxy and the "
	    "instances keep running)%s", s->holding ? "; the controller lease is given up" : "");
	manager(s, "STOPPING=1");
	rc = 0;
out:
	close_all(s);
	free(s->d);
	metrics_receiver_stop(s->rx);
	if (s->holding) {
		struct strbuf e = STRBUF_INIT;
		if (lease_release(&s->st, s->me.holder, &e) < 0)
			say(s, "controller: cannot give the controller lease up: %s (it expires on its own)", e.buf);
		strbuf_release(&e);
	}
	cfg_put(s, s->cfg);
	if (handlers) {
		sigaction(SIGTERM, &old_term, NULL);
		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGHUP, &old_hup, NULL);
	}
	store_close(&s->st);
	free(s);
	return rc;
}
