/*
 * local_deploy.c - `slipway deploy` on this machine: the engine's
 * controller (controller/controller.h) composed from the plugins the
 * service file names (`target:`, `router:`, `provider:`, `judge:`; by
 * default local, haproxy, builtin, observed), each opened by name from the
 * registry (controller/registry.h); see local_deploy.h.
 *
 * The controller commits every decision before it acts (deployment.c
 * invariants 2 and 3); this file only composes the plugins, the hooks
 * (policy gate, rules, notifications, records), the clock and the loop.  The clock the controller sees is the wall clock,
 * LAG_MS behind: a request's log line reaches the store within one
 * 250 ms flush of the receiver, so an interval is measured only once all
 * of its lines are in.  It is never scaled: --time-scale N is stored with
 * the deployment, and the core shortens the strategy's durations by N
 * (docs/engine.md "Time scale"), so windows, approvals and records stay on
 * the wall clock.
 */
#include "controller/local_deploy.h"
#include "adapters/deployment_store.h"
#include "adapters/proc.h"
#include "adapters/sql.h"
#include "base/alloc.h"
#include "base/err.h"
#include "base/fmt.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "adapters/emergency.h"
#include "adapters/flag_router.h"
#include "adapters/notify.h"
#include "controller/analysis_plan.h"
#include "controller/controller.h"
#include "controller/gate.h"
#include "core/policy.h"
#include "controller/localstack.h"
#include "controller/registry.h"
#include "core/deployment.h"
#include "core/flag_rollout.h"
#include "core/rollout_config.h"
#include "core/rules.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TICK_MS 100
#define LAG_MS 600		/* the controller's clock runs this far behind the log */
#define CATCH_UP_TICKS 16	/* at most this many controller ticks a 100 ms tick (controller.h analysis_behind) */
#define BACKLOG_MS 1500		/* after (re)start: lines HAProxy kept in its ring arrive first */

struct driver {
	const struct local_deploy_opts *o;
	struct localstack ls;
	/* the plugins the service file chose (controller/registry.h), owned */
	struct target *target;
	struct router *router;
	struct metrics_provider *inner;	/* on the wall clock the log is stamped with */
	struct judge *judge;
	struct metrics_provider prov;	/* inner, without a stable revision for a first deployment */
	int64_t last_progress;
	int64_t id;
	pid_t hap_pid;			/* the HAProxy last seen running (watch_router()) */
	/* wall-clock spans in which the router was not as recorded (watch_router()): intervals
	 * overlapping one are "no data", never judged against the canary */
	struct { int64_t from, to; } outage[16];
	int n_outage;
	int64_t router_ok_wall;		/* the last tick at which the router was as recorded */
	/* hashes of the last check's findings (its report split at "; "), so a lasting one is
	 * noted once: a report is recorded only when it holds a finding the last one did not */
	unsigned long router_note[16];
	int n_router_note;
	struct policy_gate gate;	/* set up when o->policy */
	struct notify_config ncfg;	/* o->notify with a short delivery budget */
	/* the controller of this service environment (local_driver_*()) */
	struct controller c;
	int ctl;			/* c is initialised */
	int64_t ctl_wall;		/* wall clock when c started: ticks wait BACKLOG_MS after it */
	char prefix[2 * SERVICE_NAME_MAX + 8];	/* "SERVICE/ENV: " before every line (serve), or "" */
	/* the rollout file's own queries (controller/analysis_plan.h), when it has any */
	struct query_plan *plan;
	struct analysis_prom *ap;
	/* a guarded flag rollout's router and target (driver_start(), when the deployment's version is
	 * a flag cohort) */
	struct flag_router fr;
	struct router flag_router;
	struct target flag_target;
};

static void say(struct driver *dr, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct driver *dr, const char *fmt, ...)
{
	va_list ap;
	if (!dr->o->log)
		return;
	if (dr->o->progress_tty)
		fputs("\r\033[K", dr->o->log);
	fputs(dr->prefix, dr->o->log);
	va_start(ap, fmt);
	vfprintf(dr->o->log, fmt, ap);
	va_end(ap);
	fputc('\n', dr->o->log);
	fflush(dr->o->log);
}

/* the plugins' progress lines (registry.h: plugin_host.say) */
static void say_line(void *ctx, const char *line)
{
	say(ctx, "%s", line);
}

/* ---- core/metrics-t.h: the chosen provider (a first deployment has no stable revision) ---- */

/* Did the router's outage or repair overlap the wall-clock span [from, to)?  Then the
 * interval's requests say nothing about the canary (docs/haproxy.md "Failure paths"). */
static int router_outage(struct driver *dr, int64_t from, int64_t to, struct strbuf *err)
{
	for (int i = 0; i < dr->n_outage; i++)
		if (dr->outage[i].from < to && dr->outage[i].to >= from) {
			strbuf_errf(err, "no data: the router was down or not as recorded during this interval, and was "
				    "repaired (see the record's router lines)");
			return 1;
		}
	return 0;
}

static int provider_query(void *ctx, const char *service, enum revision_role role, const char *version,
			int64_t from_ms, int64_t to_ms, struct metrics_sample *out, struct strbuf *err)
{
	struct driver *dr = ctx;
	int rc;
	if (!version || !*version)
		return SW_ENOTFOUND;	/* a first deployment has no stable revision */
	if (router_outage(dr, from_ms, to_ms, err))
		return SW_EEXTERNAL;
	rc = dr->inner->query(dr->inner->ctx, service, role, version, from_ms, to_ms, out, err);
	if (rc >= 0) {
		out->from_ms = from_ms;
		out->to_ms = to_ms;
	}
	return rc;
}

static int provider_query_over(void *ctx, const char *service, enum revision_role role, const char *version,
			     int64_t from_ms, int64_t to_ms, const double *thresholds_ms, int n, uint64_t *over,
			     struct strbuf *err)
{
	struct driver *dr = ctx;
	if (!version || !*version)
		return SW_ENOTFOUND;
	return dr->inner->query_over(dr->inner->ctx, service, role, version, from_ms, to_ms, thresholds_ms, n, over,
				     err);
}

/* What the plugins are opened on (registry.h). */
static void host_of(struct driver *dr, struct plugin_host *hp)
{
	const struct service *svc = &dr->ls.svc;
	struct plugin_host h = { .st = &dr->ls.st, .svc = svc, .env = dr->ls.env, .state_dir = dr->o->state_dir,
				 .project_dir = localstack_project_dir(dr->o->project_dir), .policy = dr->o->policy,
				 .ls = &dr->ls,
				 .say = say_line, .say_ctx = dr };
	*hp = h;
}

/* Open the service file's target, router and provider from the registry. */
static int open_plugins(struct driver *dr, struct strbuf *err)
{
	const struct service *svc = &dr->ls.svc;
	struct plugin_host h;
	void *p;
	int rc;
	host_of(dr, &h);
	if ((rc = registry_open(PLUGIN_TARGET, svc->target, &h, &p, err)) < 0)
		return rc;
	dr->target = p;
	if ((rc = registry_open(PLUGIN_ROUTER, svc->router, &h, &p, err)) < 0)
		return rc;
	dr->router = p;
	if (dr->o->record_only)
		return 0;	/* a controller elsewhere measures: no receiver here */
	if ((rc = registry_open(PLUGIN_PROVIDER, svc->provider, &h, &p, err)) < 0)
		return rc;
	dr->inner = p;
	dr->prov.ctx = dr;
	dr->prov.query = provider_query;
	dr->prov.query_over = dr->inner->query_over ? provider_query_over : NULL;
	return 0;
}

/* The service file's judge, for the deployment's strategy (its minimum canary requests). */
static int open_judge(struct driver *dr, const struct strategy *s, struct strbuf *err)
{
	struct plugin_host h;
	void *p;
	int rc;
	host_of(dr, &h);
	h.min_requests = s->min_requests;
	if ((rc = registry_open(PLUGIN_JUDGE, dr->ls.svc.judge, &h, &p, err)) < 0)
		return rc;
	dr->judge = p;
	return 0;
}

static void close_plugins(struct driver *dr)
{
	const struct service *svc = &dr->ls.svc;
	if (dr->judge)
		registry_close(PLUGIN_JUDGE, svc->judge, dr->judge);
	if (dr->inner)
		registry_close(PLUGIN_PROVIDER, svc->provider, dr->inner);
	registry_close(PLUGIN_ROUTER, svc->router, dr->router);
	registry_close(PLUGIN_TARGET, svc->target, dr->target);
	dr->judge = NULL;
	dr->inner = NULL;
	dr->router = NULL;
	dr->target = NULL;
}

/* ---- hooks ---- */

/* the span since the router was last seen as recorded is an outage (router_outage()) */
static void outage_until_now(struct driver *dr)
{
	int64_t wall = proc_now_ms();
	if (dr->n_outage == (int)(sizeof(dr->outage) / sizeof(dr->outage[0]))) {
		memmove(&dr->outage[0], &dr->outage[1], sizeof(dr->outage) - sizeof(dr->outage[0]));
		dr->n_outage--;
	}
	dr->outage[dr->n_outage].from = dr->router_ok_wall ? dr->router_ok_wall : wall;
	dr->outage[dr->n_outage].to = wall;
	dr->n_outage++;
}

/*
 * Beyond a live process (watch_router() below): HAProxy answers as ours,
 * listens on the frontend, and has every server where its live instance is,
 * at the recorded weight (router_haproxy_check()).  A repair is recorded
 * under the deployment once, the controller re-applies the desired state,
 * and the span since the last good tick is an outage: no data.
 */
static void check_router(struct driver *dr, struct controller *c, int64_t now)
{
	struct instance_list l = { 0 };
	struct strbuf report = STRBUF_INIT, err = STRBUF_INIT, note = STRBUF_INIT;
	char watched[2 * SERVICE_NAME_MAX + 2] = "";
	int r;
	if (dr->ls.router.attached || router_haproxy_pid(&dr->ls.router) <= 0)
		return;
	/* the check knows this machine's instances only; servers of the ssh target are the
	 * target's to keep (docs/fleet.md "What is not checked yet") */
	if (strcmp(dr->ls.svc.target, "local"))
		return;
	if (target_local_list(&dr->ls.target, dr->ls.svc.name, dr->ls.env, NULL, &l, NULL) < 0) {
		instance_list_release(&l);
		return;
	}
	/* the new revision's deaths are the controller's to count (controller.c watch()): its dead
	 * servers go, but that is neither a router outage nor a reason to re-apply at once.  The
	 * new revision is the deployment's (serve's drivers have no version of their own). */
	{
		struct deployment *d = xcalloc(1, sizeof(*d));
		if (dr->id && deployment_store_load(&dr->ls.st, dr->id, d, NULL, NULL) == 0)
			/* the stable's deaths too: watch() counts them and fails the deployment on the third */
			snprintf(watched, sizeof(watched), "%s%s%s", d->version, d->from_version[0] ? " " : "",
				 d->from_version);
		else if (dr->o->version)
			snprintf(watched, sizeof(watched), "%s", dr->o->version);
		free(d);
	}
	r = router_haproxy_check(&dr->ls.router, l.v, l.n, watched[0] ? watched : NULL, &report, &err);
	if (r == 3) {
		strbuf_addf(&note, "router: %s", report.buf);
		say(dr, "  %s", note.buf);
		deployment_store_note(&dr->ls.st, dr->id, now, note.buf, NULL);
		dr->router_ok_wall = proc_now_ms();
	} else if (r > 0 || r < 0) {
		unsigned long h[16];
		int nh = 0, fresh = 0;
		if (r < 0)
			strbuf_addf(&note, "router: cannot check or repair HAProxy: %s", err.buf);
		else
			strbuf_addf(&note, "router: %s", report.buf);
		for (const char *p = note.buf + strlen("router: "); *p && nh < 16;) {	/* one hash per finding */
			const char *end = strstr(p, "; ");
			size_t len = end ? (size_t)(end - p) : strlen(p);
			h[nh] = 5381;
			for (size_t i = 0; i < len; i++)
				h[nh] = h[nh] * 33 + (unsigned char)p[i];
			int seen = 0;
			for (int i = 0; i < dr->n_router_note; i++)
				seen |= h[nh] == dr->router_note[i];
			fresh |= !seen;
			nh++;
			p += len + (end ? 2 : 0);
		}
		outage_until_now(dr);
		if (r != 2)
			controller_forget(c);	/* repaired: the desired state is applied again */
		if (fresh) {
			say(dr, "  %s", note.buf);
			deployment_store_note(&dr->ls.st, dr->id, now, note.buf, NULL);
		}
		memcpy(dr->router_note, h, sizeof(h[0]) * (size_t)nh);
		dr->n_router_note = nh;
		dr->hap_pid = router_haproxy_pid(&dr->ls.router);
	} else {
		dr->n_router_note = 0;
		dr->router_ok_wall = proc_now_ms();
	}
	instance_list_release(&l);
	strbuf_release(&report);
	strbuf_release(&err);
	strbuf_release(&note);
}

/*
 * The router's real state, every tick (docs/haproxy.md "Failure paths"):
 * an HAProxy of ours seen running and now gone is started again at once
 * from its mirrored configuration (the store's servers and weights), the
 * event is recorded under the deployment, and the controller re-applies
 * the desired state.  Requests refused meanwhile reach neither revision, so
 * the interval holds no data of either (inconclusive), never a verdict
 * against the canary.
 */
static void watch_router(struct driver *dr, struct controller *c, int64_t now)
{
	struct strbuf err = STRBUF_INIT, note = STRBUF_INIT;
	pid_t pid = router_haproxy_pid(&dr->ls.router);
	int started = 0;

	if (pid > 0 || dr->hap_pid <= 0 || dr->ls.router.attached) {
		if (pid > 0)
			dr->hap_pid = pid;
		check_router(dr, c, now);
		return;
	}
	outage_until_now(dr);
	if (router_haproxy_up(&dr->ls.router, &started, &err) < 0) {
		strbuf_addf(&note, "router: HAProxy (pid %d) is gone and could not be restarted: %s", (int)dr->hap_pid,
			    err.buf);
		dr->hap_pid = 0;	/* noted once; the controller's re-application retries it */
		controller_forget(c);
	} else {
		strbuf_addf(&note, "router: HAProxy (pid %d) was gone; restarted from its mirrored configuration "
			    "(pid %d)", (int)dr->hap_pid, (int)router_haproxy_pid(&dr->ls.router));
		dr->hap_pid = router_haproxy_pid(&dr->ls.router);
		controller_forget(c);
	}
	dr->outage[dr->n_outage - 1].to = proc_now_ms();	/* until it runs again */
	say(dr, "  %s", note.buf);
	deployment_store_note(&dr->ls.st, dr->id, now, note.buf, NULL);
	strbuf_release(&err);
	strbuf_release(&note);
}

/*
 * Before anything is recorded: the service's command and environment
 * expand (only the documented placeholders), and the environment's listen
 * address can be bound when no HAProxy of ours holds it.  A deployment
 * that could never start would only sit unfinished and block the next one.
 */
static int check_startable(struct driver *dr, struct strbuf *err)
{
	const struct service *svc = &dr->ls.svc;
	struct service_vars v = { .port = 1, .version = dr->o->version, .release = "", .service = svc->name,
				  .env = dr->ls.env, .instance = 0 };
	struct strbuf sb = STRBUF_INIT, e = STRBUF_INIT;
	int rc = 0;

	for (size_t i = 0; i < svc->argc && rc >= 0; i++) {
		strbuf_reset(&sb);
		rc = service_expand(&sb, svc->argv[i], &v, &e);
	}
	for (size_t i = 0; i < svc->envc && rc >= 0; i++) {
		strbuf_reset(&sb);
		rc = service_expand(&sb, svc->env[i], &v, &e);
	}
	if (rc < 0) {
		strbuf_errf(err, "services/%s.yaml: the command cannot be started: %s", svc->name, e.buf);
		rc = SW_EUSAGE;
	} else if (router_haproxy_pid(&dr->ls.router) <= 0 &&
		   (rc = proc_port_bindable(dr->ls.router.listen_host, dr->ls.router.listen_port)) < 0) {
		strbuf_errf(err, "services/%s.yaml: environment '%s' listens on %s:%d, which is %s; free it or choose "
			    "another 'listen'", svc->name, dr->ls.env, dr->ls.router.listen_host, dr->ls.router.listen_port,
			    rc == -EADDRINUSE ? "taken by another process" : strerror(-rc));
		rc = SW_EUSAGE;
	}
	strbuf_release(&sb);
	strbuf_release(&e);
	return rc < 0 ? rc : 0;
}

/*
 * Every step's share must be one HAProxy can deliver (whole server weights
 * up to 256; docs/haproxy.md "Shares"): a step of 0.1% next to one stable
 * server would serve 0.39% while the record said 0.1%.  Refused before
 * anything is recorded, naming the step and the nearest achievable share.
 */
static int check_shares(struct driver *dr, const struct strategy *s, const char *stable, struct strbuf *err)
{
	const struct service_env *e = service_find_env(&dr->ls.svc, dr->ls.env);
	int k = e ? e->instances : 1;
	if (!stable[0] || strcmp(dr->ls.svc.router, "haproxy"))
		return 0;	/* a first release takes all the traffic; other routers have their own limits */
	for (int i = 0; i < s->n_steps; i++) {
		const struct rollout_step *st = &s->steps[i];
		struct strbuf why = STRBUF_INIT;
		int rc = router_haproxy_check_split(stable, dr->o->version, st->weight,
						    st->old_instances > 0 ? st->old_instances : k,
						    st->new_instances > 0 ? st->new_instances : k, &why);
		if (rc < 0) {
			strbuf_errf(err, "services/%s.yaml: step %d (weight %g%%) cannot be served as asked: %s; choose a "
				    "step weight HAProxy can deliver", dr->ls.svc.name, i + 1, st->weight, why.buf);
			strbuf_release(&why);
			return rc;
		}
		strbuf_release(&why);
	}
	return 0;
}

/* What the records need of a new deployment (docs/records.md): the emergency record
 * (runbook: Emergency Deployments, "Document the emergency") and the commit
 * for DORA's lead time. */
static int record_extras(struct driver *dr, const struct deployment *d, struct strbuf *err)
{
	const struct local_deploy_opts *o = dr->o;
	int rc = 0;

	if (o->emergency_reason && !strcmp(d->type, "emergency") &&
	    (rc = emergency_record_create(&dr->ls.st, d->id, o->emergency_reason, d->requested_by, proc_now_ms(),
					  err)) < 0)
		return rc;
	if (o->commit_sha || o->commit_time_ms) {
		_cleanup_sql_ struct sql_stmt *q = NULL;
		if ((rc = sql_prepare(&dr->ls.st, &q, "UPDATE deployments SET commit_sha = ?1, commit_time_ms = ?2 "
					"WHERE id = ?3", err)) < 0)
			return rc;
		if (o->commit_sha)
			sql_bind_text(q, 1, o->commit_sha);
		if (o->commit_time_ms)
			sql_bind_int64(q, 2, o->commit_time_ms);
		sql_bind_int64(q, 3, d->id);
		if (sql_step(q, NULL) != SQL_DONE) {
			strbuf_errf(err, "store: %s", sql_errmsg(&dr->ls.st));
			return SW_ESTORE;
		}
	}
	return 0;
}

/* The type's rules: the policy's, else the runbook's built-in ones. */
static int dr_rules(void *ctx, const char *type, struct type_rules *out, struct strbuf *err)
{
	struct driver *dr = ctx;
	return dr->o->policy ? policy_type_rules(dr->o->policy, type, out, err) : type_rules_default(type, out, err);
}

/* controller.h hooks.now: the clock HAProxy stamps the log with (the controller's runs LAG_MS behind) */
static int64_t dr_now(void *ctx)
{
	(void)ctx;
	return proc_now_ms();
}

static enum gate_result dr_gate(void *ctx, const struct deployment *d, enum gate_phase phase, int64_t now_ms,
				struct strbuf *reason)
{
	struct driver *dr = ctx;
	return dr->o->policy ? policy_gate_check(&dr->gate, d, phase, now_ms, reason) : GATE_ALLOW;
}

/*
 * "Rollback possible" (runbook: Pre-Deployment Commands, verify-rollback.sh):
 * the previous version's release directory is there, and the program its
 * command runs is there and executable (checked, not assumed; a program
 * found through PATH is taken as startable).
 */
static int dr_rollback_possible(void *ctx, const char *service, const char *from_version, struct strbuf *ev)
{
	struct driver *dr = ctx;
	const struct service *svc = &dr->ls.svc;
	struct strbuf dir = STRBUF_INIT, prog = STRBUF_INIT;
	const char *a0 = svc->argv ? svc->argv[0] : NULL;
	struct stat sb;
	int r = 0;

	target_local_release_dir(&dr->ls.target, svc, from_version, &dir);
	if (stat(dir.buf, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
		strbuf_addf(ev, "the release directory of %s %s is gone: %s", service, from_version, dir.buf);
		r = SW_EDENIED;
	} else if (a0 && !strncmp(a0, "{release}/", 10)) {
		strbuf_addf(&prog, "%s/%s", dir.buf, a0 + 10);
	} else if (a0 && strchr(a0, '/') && !strchr(a0, '{')) {
		if (a0[0] != '/')
			strbuf_addf(&prog, "%s/", dr->ls.target.project_dir);
		strbuf_addstr(&prog, a0);
	}
	if (!r && prog.len && access(prog.buf, X_OK) < 0) {
		strbuf_addf(ev, "the program of %s %s is not executable: %s", service, from_version, prog.buf);
		r = SW_EDENIED;
	} else if (!r) {
		strbuf_addf(ev, "release %s present (%s)%s%s", from_version, dir.buf, prog.len ? ", program " : "",
			    prog.len ? prog.buf : "");
	}
	strbuf_release(&dir);
	strbuf_release(&prog);
	return r;
}

/* Production health (controller/checklist_gate.h): the stable revision's last minute and the 15 min before, wall clock. */
static int dr_health(void *ctx, const char *service, const char *version, struct metrics_sample *recent,
		     struct metrics_sample *earlier, struct strbuf *err)
{
	struct driver *dr = ctx;
	int64_t to = proc_now_ms() - LAG_MS, mid = to - CHECKLIST_HEALTH_RECENT_MS;
	int rc;

	if (!dr->inner)
		return 0;	/* no provider: no data */
	rc = dr->inner->query(dr->inner->ctx, service, ROLE_STABLE, version, mid, to, recent, err);
	if (rc == SW_ENOTFOUND) {	/* the provider knows nothing of it yet: no data */
		strbuf_reset(err);
		return 0;
	}
	if (rc < 0)
		return rc;
	rc = dr->inner->query(dr->inner->ctx, service, ROLE_STABLE, version, mid - CHECKLIST_HEALTH_EARLIER_MS, mid,
			      earlier, err);
	if (rc < 0) {
		memset(earlier, 0, sizeof(*earlier));
		strbuf_reset(err);
	}
	return 0;
}

/* The release's manifest, the service's databases, dashboards and github: for the checklist (checklist_gate.h). */
static int dr_release(void *ctx, const char *service, const char *version, struct checklist_release *out,
		      struct strbuf *err)
{
	struct driver *dr = ctx;
	struct strbuf dir = STRBUF_INIT;
	int rc;

	(void)service;
	target_local_release_dir(&dr->ls.target, &dr->ls.svc, version, &dir);
	rc = checklist_release_read(dr->o->project_dir, &dr->ls.svc, dir.buf, out, err);
	strbuf_release(&dir);
	return rc;
}

/* The engine's events as the runbook's messages (docs/records.md), queued in the store. */
static void on_notify(void *ctx, const struct deployment *d, const char *event, const char *text)
{
	struct driver *dr = ctx;
	struct notify_event ev = { 0 };
	struct strbuf err = STRBUF_INIT, why = STRBUF_INIT;

	say(dr, "[%s] %s", event, text);
	if (!dr->o->notify || !d)
		return;
	if (!strcmp(event, "started"))
		ev.kind = !strcmp(d->type, "emergency") ? NOTIFY_EMERGENCY : NOTIFY_STARTING, ev.status = "IN PROGRESS";
	else if (!strcmp(event, "succeeded"))
		ev.kind = NOTIFY_COMPLETE, ev.status = "SUCCESS";
	else if (!strcmp(event, "rollback-initiated"))
		ev.kind = NOTIFY_ROLLBACK, ev.status = "IN PROGRESS";
	else if (!strcmp(event, "paused"))
		ev.kind = NOTIFY_PAUSED, ev.status = "PAUSED";
	else if (!strcmp(event, "failed"))
		ev.kind = NOTIFY_FAILED, ev.status = "FAILED";
	else
		return;	/* steps, resumes, promotions: in the record, not on the channel */
	ev.deployment_id = d->id;
	ev.service = d->service;
	ev.env = d->env;
	ev.version = d->version;
	ev.from_version = d->from_version[0] ? d->from_version : NULL;
	ev.owner = d->requested_by;
	ev.reason = ev.kind == NOTIFY_EMERGENCY && dr->o->emergency_reason ? dr->o->emergency_reason : d->reason;
	if (ev.kind == NOTIFY_EMERGENCY) {
		/* what its checklist missed goes to every channel it is announced on (docs/checklists.md) */
		char *missing = NULL;
		if (checklist_bypassed(&dr->ls.st, d->id, &missing, &err) == 0 && missing) {
			strbuf_addf(&why, "%s; checklist missing: %s", ev.reason ? ev.reason : "", missing);
			ev.reason = why.buf;
		}
		free(missing);
		strbuf_reset(&err);
	}
	ev.at_ms = proc_now_ms();
	ev.duration_ms = d->finished_ms && d->started_ms ? d->finished_ms - d->started_ms : -1;
	if (notify_enqueue(&dr->ls.st, &dr->ncfg, &ev, ev.at_ms, &err) < 0)
		say(dr, "  notify: %s", err.buf);
	strbuf_release(&err);
	strbuf_release(&why);
}

static void on_log(void *ctx, const struct deployment *d, const char *message)
{
	struct driver *dr = ctx;
	if (d && d->id != dr->id)
		say(dr, "  controller: deployment %lld: %s", (long long)d->id, message);
	else
		say(dr, "  controller: %s", message);
}

/*
 * Before deploy exits: deliver what this run queued (the last tick's
 * messages were queued after that tick's delivery ran), for at most
 * FLUSH_MS; a delivery that failed keeps its retry schedule in the store
 * and is handed on to the next command that delivers, which is said.
 */
#define FLUSH_MS 5000
static void flush_messages(struct driver *dr)
{
	int64_t until = proc_mono_ms() + FLUSH_MS;
	int retrying = 0;
	if (!dr->o->notify)
		return;
	for (;;) {
		struct notify_deliver_stats ns = { 0 };
		struct strbuf err = STRBUF_INIT;
		int r = notify_deliver(&dr->ls.st, &dr->ncfg, proc_now_ms(), &ns, &err);
		if (r < 0)
			say(dr, "  notify: %s", err.buf);
		strbuf_release(&err);
		retrying = ns.retrying;
		if (r < 0 || ns.attempted == 0 || proc_mono_ms() >= until)
			break;
	}
	if (retrying)
		say(dr, "  notify: %d message%s could not be delivered yet; %s kept with %s retry schedule and go%s out "
		    "with the next 'slipway deploy' or 'slipway notify flush'", retrying, retrying == 1 ? "" : "s",
		    retrying == 1 ? "it is" : "they are", retrying == 1 ? "its" : "their", retrying == 1 ? "es" : "");
}

/* ---- the strategy of a new deployment ---- */

/* The service file's rollout file (analysis: canary:), into path. */
static void canary_path(struct driver *dr, struct strbuf *path)
{
	const struct service *svc = &dr->ls.svc;
	if (svc->analysis_canary[0] == '/')
		strbuf_addstr(path, svc->analysis_canary);
	else
		strbuf_addf(path, "%s/services/%s", localstack_project_dir(dr->o->project_dir), svc->analysis_canary);
}

/*
 * The rollout file's MetricTemplate / AnalysisTemplate queries and their
 * Prometheus clients (docs/argo.md, "How a deployment runs them"), once:
 * when a deployment is created (so a missing template refuses it before
 * anything is recorded) or when a controller takes up one.
 */
static int open_queries(struct driver *dr, struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT;
	int rc;
	if (dr->plan || !dr->ls.svc.analysis_canary)
		return 0;
	canary_path(dr, &path);
	dr->plan = xcalloc(1, sizeof(*dr->plan));
	rc = analysis_plan_load_file(dr->plan, path.buf, &dr->ls.svc, err);
	if (rc >= 0 && dr->plan->n_metrics)
		rc = analysis_prom_open(&dr->ap, dr->plan, &dr->ls.svc, err);
	if (rc >= 0 && dr->plan->n_metrics)
		say(dr, "  analysis queries: %d from %s (Prometheus; docs/argo.md)", dr->plan->n_metrics, path.buf);
	strbuf_release(&path);
	if (rc < 0) {
		query_plan_release(dr->plan);
		free(dr->plan);
		dr->plan = NULL;
	}
	return rc;
}

static void close_queries(struct driver *dr)
{
	analysis_prom_free(dr->ap);
	dr->ap = NULL;
	if (dr->plan)
		query_plan_release(dr->plan);
	free(dr->plan);
	dr->plan = NULL;
}

static int choose_strategy(struct driver *dr, const struct type_rules *rules, int first, struct strategy *out,
			   struct strbuf *err)
{
	const struct service *svc = &dr->ls.svc;
	enum strategy_kind kind;
	int rc;
	if (first) {
		/* nothing to compare a canary with: straight to 100% after warm-up, then monitoring */
		strategy_default(out, STRATEGY_FULL);
		return 0;
	}
	if (svc->analysis_canary) {
		struct strbuf path = STRBUF_INIT, buf = STRBUF_INIT;
		struct rollout_config *rc_ = xcalloc(1, sizeof(*rc_));
		canary_path(dr, &path);
		rc = strbuf_read_file_max(&buf, path.buf, ROLLOUT_CONFIG_MAX_BYTES, err);
		if (rc < 0) {	/* name the field that points at the missing file */
			char *why = strbuf_detach(err, NULL);
			strbuf_addf(err, "services/%s.yaml: analysis.canary: %s", svc->name, why);
			free(why);
		}
		if (rc >= 0)
			rc = rollout_config_parse(buf.buf, buf.len, path.buf, rc_, err);
		if (rc >= 0)
			*out = rc_->strategy;
		if (rc >= 0 && rc_->warning[0])	/* loaded, but not as written (docs/yaml.md) */
			say(dr, "warning: %s", rc_->warning);
		free(rc_);
		strbuf_release(&path);
		strbuf_release(&buf);
		if (rc >= 0)
			rc = open_queries(dr, err);
		return rc;
	}
	if ((rc = strategy_kind_parse(rules->strategy, &kind, err)) < 0)
		return rc;
	return service_strategy(svc, kind, out, err);
}

/*
 * The time scale is the deployment's (docs/engine.md "Time scale"): said
 * once, and a resumed deployment keeps the scale it was started with.
 */
static void say_time_scale(struct driver *dr, const struct deployment *d)
{
	double asked = dr->o->time_scale > 1 ? dr->o->time_scale : 1;
	double has = deployment_is_scaled(d) ? d->time_scale : 1;
	if (has > 1)
		say(dr, "  time scale %gx: holds, analysis intervals, deadlines and monitoring run %g times faster; "
		    "windows, freezes, approvals, incidents and every recorded time use the wall clock", has, has);
	if (asked != has && asked > 1)
		say(dr, "  --time-scale %g ignored: deployment #%lld keeps the time scale it started with (%gx)", asked,
		    (long long)d->id, has);
}

/* the unfinished deployment of service/env, if any (its id), else 0 */
static int64_t find_unfinished(struct driver *dr, struct deployment *d, struct strbuf *err)
{
	int64_t *ids = NULL, found = 0;
	size_t n = 0;
	if (deployment_store_active(&dr->ls.st, INT64_MAX, &ids, &n, err) < 0)
		return -1;
	for (size_t i = n; i-- > 0 && !found;) {
		if (deployment_store_load(&dr->ls.st, ids[i], d, NULL, NULL) < 0)
			continue;
		if (!strcmp(d->service, dr->o->service) && !strcmp(d->env, dr->o->env) && !deployment_state_is_final(d->state))
			found = ids[i];
	}
	free(ids);
	return found;
}

/* the stable revision: the latest succeeded deployment's, else what the router serves most */
static void current_stable(struct driver *dr, char *out, size_t n)
{
	if (deployment_store_current_version(&dr->ls.st, dr->o->service, dr->o->env, out, n, NULL) == 0 && out[0] &&
	    strcmp(out, dr->o->version))
		return;
	out[0] = '\0';
	if (dr->router->serving && dr->router->serving(dr->router->ctx, dr->o->service, dr->o->version, out, n, NULL) < 0)
		out[0] = '\0';
}

static void progress(struct driver *dr, const struct deployment *d, const struct strategy *s,
		     const struct type_rules *rules, int64_t now)
{
	int64_t wall = proc_now_ms();
	struct metrics_sample c, st;
	char left[DURATION_BUFSZ] = "-", ce[16] = "-", se[16] = "-", cp[16] = "-", sp[16] = "-", scale[40] = "";
	if (!dr->o->progress_tty || !dr->o->log || wall - dr->last_progress < 250)
		return;
	dr->last_progress = wall;
	memset(&c, 0, sizeof(c));
	memset(&st, 0, sizeof(st));
	/* live: the last 5 s of wall time, whatever the time scale */
	dr->inner->query(dr->inner->ctx, d->service, ROLE_CANARY, d->version, wall - 5000 - LAG_MS, wall - LAG_MS, &c,
			 NULL);
	if (d->from_version[0])
		dr->inner->query(dr->inner->ctx, d->service, ROLE_STABLE, d->from_version, wall - 5000 - LAG_MS,
				 wall - LAG_MS, &st, NULL);
	/* what is left, in wall time: the hold and the period are engine time, shortened by the scale */
	if (d->state == DS_PROGRESSING && d->step >= 1 && d->step <= s->n_steps) {
		int64_t l = d->step_since_ms + deployment_wall_span(d, s->steps[d->step - 1].hold_ms) - now;
		duration_format(l > 0 ? l : 0, left);
	} else if (d->state == DS_MONITORING && rules->monitoring_ms > 0) {
		int64_t l = d->monitoring_since_ms + deployment_wall_span(d, rules->monitoring_ms) - now;
		duration_format(l > 0 ? l : 0, left);
	}
	if (deployment_is_scaled(d))
		snprintf(scale, sizeof(scale), " (wall, time scale %gx)", d->time_scale);
	if (c.requests) {
		snprintf(ce, sizeof(ce), "%.2f%%", 100.0 * (double)c.errors / (double)c.requests);
		snprintf(cp, sizeof(cp), "%.0fms", c.p99_ms);
	}
	if (st.requests) {
		snprintf(se, sizeof(se), "%.2f%%", 100.0 * (double)st.errors / (double)st.requests);
		snprintf(sp, sizeof(sp), "%.0fms", st.p99_ms);
	}
	fprintf(dr->o->log, "\r\033[K%s step %d/%d weight %.0f%% | %s left%s | %.0f req/s | stable err %s p99 %s | canary err %s p99 %s",
		deployment_state_name(d->state), d->step, s->n_steps, d->weight, left, scale,
		(double)(c.requests + st.requests) / 5.0, se, sp, ce, cp);
	fflush(dr->o->log);
}

/* ---- one service environment's controller: deploy's loop and local_driver_*() ---- */

static int dr_fence(void *ctx, struct store *st, struct strbuf *err)
{
	struct driver *dr = ctx;
	return dr->o->fence(dr->o->fence_ctx, st, err);
}

/*
 * Open what drives the service environment of o: the stack (its lock as
 * ls_flags say), the store's modules, the gate, the notifications' budget
 * and the plugins.  On failure the caller still calls driver_close().
 */
static int driver_open(struct driver *dr, const struct local_deploy_opts *o, unsigned ls_flags, struct strbuf *err)
{
	int rc;

	dr->o = o;
	if ((rc = localstack_open(&dr->ls, o->state_dir, o->project_dir, o->service, o->env, ls_flags, err)) < 0)
		return rc;
	if ((rc = deployment_store_migrate(&dr->ls.st, err)) < 0)
		return rc;
	if ((rc = policy_gate_init(&dr->gate, o->policy, o->zone, &dr->ls.st, err)) < 0 ||
	    (rc = emergency_migrate(&dr->ls.st, err)) < 0)
		return rc;
	dr->gate.rollback_fn = dr_rollback_possible;
	dr->gate.rollback_ctx = dr;
	dr->gate.health_fn = dr_health;
	dr->gate.health_ctx = dr;
	dr->gate.release_fn = dr_release;
	dr->gate.release_ctx = dr;
	if (o->notify) {
		if ((rc = notify_migrate(&dr->ls.st, err)) < 0)
			return rc;
		dr->ncfg = *o->notify;	/* borrowed strings; only the budget differs */
		if (dr->ncfg.budget_ms > 200 || dr->ncfg.budget_ms <= 0)
			dr->ncfg.budget_ms = 200;	/* delivery never holds a tick up for long */
	}
	/* the service file's target, router, provider and judge (the provider
	 * starts receiving HAProxy's log here) */
	return open_plugins(dr, err);
}

static void driver_close(struct driver *dr)
{
	if (dr->ctl)
		controller_release(&dr->c);
	dr->ctl = 0;
	policy_gate_release(&dr->gate);
	close_queries(dr);
	close_plugins(dr);
	localstack_close(&dr->ls);
}

/* The controller on deployment dr->id (whose strategy the judge answers for), on the wall clock. */
static int driver_start(struct driver *dr, struct strbuf *err)
{
	struct deployment *d = xcalloc(1, sizeof(*d));
	struct strategy *s = xcalloc(1, sizeof(*s));
	struct controller *c = &dr->c;
	int rc = deployment_store_load(&dr->ls.st, dr->id, d, s, err), is_flag = 0;
	char fl[SW_NAME_MAX + 1], var[SW_NAME_MAX + 1];

	if (rc >= 0)
		is_flag = flag_cohort_parse(d->version, fl, sizeof(fl), var, sizeof(var)) == 1;
	if (rc >= 0 && !dr->judge)
		rc = open_judge(dr, s, err);
	/* a first release runs no analysis (full strategy): its queries compare nothing */
	if (rc >= 0 && s->kind != STRATEGY_FULL)
		rc = open_queries(dr, err);
	free(d);
	free(s);
	if (rc < 0)
		return rc;
	controller_init(c, &dr->ls.st);
	dr->ctl = 1;
	dr->ctl_wall = proc_now_ms();
	c->router = dr->router;
	c->target = dr->target;
	if (is_flag) {
		/* a guarded flag rollout: the flag's percentage is the router, nothing is started */
		memset(&dr->fr, 0, sizeof(dr->fr));
		dr->fr.st = &dr->ls.st;
		snprintf(dr->fr.env, sizeof(dr->fr.env), "%s", dr->ls.env);
		dr->fr.deployment_id = dr->id;
		flag_router_init(&dr->fr, &dr->flag_router, &dr->flag_target);
		c->router = &dr->flag_router;
		c->target = &dr->flag_target;
	}
	c->metrics = &dr->prov;
	c->judge = dr->judge;
	c->service = dr->ls.svc.name;	/* only this service environment's deployments */
	c->env = dr->ls.env;
	c->hooks.ctx = dr;
	c->hooks.notify = on_notify;
	c->hooks.log = on_log;
	c->hooks.rules = dr_rules;
	c->hooks.gate = dr_gate;
	c->hooks.now = dr_now;
	if (dr->o->fence)
		c->hooks.fence = dr_fence;
	if (dr->plan && dr->plan->n_metrics && dr->ap) {
		c->queries = dr->plan;
		c->measure_ctx = dr->ap;
		c->measure = analysis_prom_measure;
	}
	return 0;
}

/*
 * Drive deployment id from now on (`slipway serve`): its judge, a fresh
 * controller.  Nothing to do when id is already the focus.  No clock of its
 * own: a time scale is the deployment's (a retry or an undo inherits it in
 * the store), and the controller ticks on the wall clock (docs/engine.md
 * "Time scale").
 */
static int driver_focus(struct driver *dr, int64_t id, struct strbuf *err)
{
	if (dr->ctl && dr->id == id)
		return 0;
	if (dr->ctl)
		controller_release(&dr->c);
	dr->ctl = 0;
	if (dr->judge)
		registry_close(PLUGIN_JUDGE, dr->ls.svc.judge, dr->judge);
	dr->judge = NULL;
	dr->id = id;
	return driver_start(dr, err);
}

/*
 * One tick of the controller at wall (ms): the router watched, every
 * deployment of the service environment reconciled.  < 0 only when the
 * store is gone or has refused writes for too long (nothing more can be
 * recorded, so nothing more is done); other problems are said and retried.
 */
static int driver_tick(struct driver *dr, int64_t wall, struct strbuf *err)
{
	/* the controller's clock: the wall clock (never scaled), LAG_MS behind the log */
	int64_t now = wall - LAG_MS;
	struct strbuf terr = STRBUF_INIT;

	proc_reap();
	watch_router(dr, &dr->c, now);
	/* looks shorter than the tick (a large time scale): judge every range that is complete */
	for (int i = 0; i < CATCH_UP_TICKS; i++) {
		strbuf_reset(&terr);
		if (controller_tick(&dr->c, now, &terr) < 0) {
			if (store_check_identity(&dr->ls.st, NULL) < 0 || dr->c.store_gave_up) {
				strbuf_errf(err, "%s", terr.buf);
				strbuf_release(&terr);
				return SW_ESTORE;
			}
			say(dr, "  controller: %s", terr.buf);
			break;
		}
		if (!dr->c.analysis_behind)
			break;
	}
	strbuf_release(&terr);
	return 0;
}

struct local_driver {
	struct driver d;
	struct local_deploy_opts o;	/* d.o points here */
	char service[SERVICE_NAME_MAX + 1], env[SERVICE_NAME_MAX + 1];
};

int local_driver_open(const struct local_deploy_opts *o, struct local_driver **out, struct strbuf *err)
{
	struct local_driver *ld = xcalloc(1, sizeof(*ld));
	int rc;

	ld->o = *o;
	snprintf(ld->service, sizeof(ld->service), "%s", o->service);
	snprintf(ld->env, sizeof(ld->env), "%s", o->env);
	ld->o.service = ld->service;
	ld->o.env = ld->env;
	ld->o.version = NULL;
	ld->o.record_only = 0;
	ld->o.progress_tty = 0;
	bprintf(ld->d.prefix, sizeof(ld->d.prefix), "%s/%s: ", ld->service, ld->env);
	if ((rc = driver_open(&ld->d, &ld->o, LOCALSTACK_TRYLOCK, err)) < 0) {
		driver_close(&ld->d);
		free(ld);
		return rc;
	}
	*out = ld;
	return 0;
}

int local_driver_tick(struct local_driver *ld, int64_t focus, struct strbuf *err)
{
	struct driver *dr = &ld->d;
	int64_t wall;
	int rc, fresh = !dr->ctl || dr->id != focus;

	if ((rc = driver_focus(dr, focus, err)) < 0)
		return rc;
	if (fresh) {
		struct deployment d;
		if (deployment_store_load(&dr->ls.st, focus, &d, NULL, NULL) == 0 && d.state != DS_PENDING)
			say(dr, "driving deployment #%lld of %s %s (%s, step %d, weight %.0f%%)", (long long)focus,
			    d.service, d.version, deployment_state_name(d.state), d.step, d.weight);
		else
			dr->ctl_wall -= BACKLOG_MS;	/* nothing ran yet: no backlog of log lines to wait for */
	}
	wall = proc_now_ms();
	/* after a start: the lines HAProxy kept meanwhile arrive first */
	if (wall < dr->ctl_wall + BACKLOG_MS)
		return 0;
	return driver_tick(dr, wall, err);
}

void local_driver_close(struct local_driver *ld)
{
	if (!ld)
		return;
	driver_close(&ld->d);
	free(ld);
}

/* SIGINT or SIGTERM while a deploy runs: finish the tick, say what is left, stop */
static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig)
{
	(void)sig;
	interrupted = 1;
}

int local_deploy_run(const struct local_deploy_opts *o, struct local_deploy_result *res, struct strbuf *err)
{
	struct driver *dr = xcalloc(1, sizeof(*dr));
	struct deployment *d = xcalloc(1, sizeof(*d));
	struct strategy *s = xcalloc(1, sizeof(*s));
	struct type_rules rules;
	int64_t found, start_wall;
	int rc, ticked = 0, handlers = 0;
	enum deploy_state last_state = DS_COUNT;
	int last_step = -1;
	struct sigaction sa, old_int, old_term;

	memset(res, 0, sizeof(*res));
	if ((rc = driver_open(dr, o, o->record_only ? LOCALSTACK_NOLOCK : 0, err)) < 0)
		goto out;
	if ((found = find_unfinished(dr, d, err)) < 0) {
		rc = SW_ESTORE;
		goto out;
	}
	if (found && strcmp(d->version, o->version)) {
		strbuf_errf(err, "deployment %lld of %s %s in %s is unfinished (%s); resume it with 'slipway deploy %s %s' "
			    "or 'slipway abort %lld' first", (long long)found, o->service, d->version, o->env,
			    deployment_state_name(d->state), o->service, d->version, (long long)found);
		rc = SW_ESTATE;
		goto out;
	}
	if (found && o->record_only) {
		dr->id = found;
		res->id = found;
		res->resumed = 1;
		res->recorded = 1;
		res->state = d->state;
		snprintf(res->reason, sizeof(res->reason), "%s", d->reason);
		rc = 0;
		goto out;
	}
	if (found) {
		dr->id = found;
		res->resumed = 1;
		say(dr, "resuming deployment #%lld of %s %s (%s, step %d, weight %.0f%%, %d failed checks)", (long long)found,
		    d->service, d->version, deployment_state_name(d->state), d->step, d->weight, d->failed_checks);
		/* that line says where it is: its stored reason (say "waiting: approval needed",
		 * answered since) is not printed again; the next state line is a change */
		last_state = d->state;
		last_step = d->step;
	} else {
		char stable[SERVICE_NAME_MAX + 1];
		/* refuse before anything is recorded: a deployment that cannot start
		 * its instances would only sit unfinished and block the next one */
		if (!service_find_env(&dr->ls.svc, o->env)) {
			strbuf_errf(err, "service '%s' has no environment '%s'; see services/%s.yaml", o->service, o->env,
				    o->service);
			rc = SW_EUSAGE;
			goto out;
		}
		if (o->flag_strategy) {
			/* a guarded flag rollout: the service's running revision serves both cohorts */
			char running[SERVICE_NAME_MAX + 1];
			current_stable(dr, running, sizeof(running));
			if (!running[0]) {
				strbuf_errf(err, "nothing of %s serves in %s: a guarded flag rollout compares the requests "
					    "of the running service; deploy or start it first", o->service, o->env);
				rc = SW_ESTATE;
				goto out;
			}
			if ((rc = dr_rules(dr, o->type, &rules, err)) < 0)
				goto out;
			snprintf(stable, sizeof(stable), "%s", o->flag_stable);
			*s = *o->flag_strategy;
		} else {
			if (dr->target->check &&
			    (rc = dr->target->check(dr->target->ctx, o->service, o->version, err)) < 0)
				goto out;
			if ((rc = check_startable(dr, err)) < 0)
				goto out;
			if ((rc = dr_rules(dr, o->type, &rules, err)) < 0)
				goto out;
			current_stable(dr, stable, sizeof(stable));
			if ((rc = choose_strategy(dr, &rules, stable[0] == '\0', s, err)) < 0 ||
			    (rc = check_shares(dr, s, stable, err)) < 0)
				goto out;
		}
		/* created before the controller's first tick sees it (now - LAG_MS) */
		deployment_init(d, o->service, o->env, o->version, stable, o->type, proc_now_ms() - LAG_MS - 1);
		d->time_scale = o->time_scale > 1 ? o->time_scale : 1;
		snprintf(d->requested_by, sizeof(d->requested_by), "%s", o->requested_by ? o->requested_by : "unknown");
		snprintf(d->change_class, sizeof(d->change_class), "%s", o->change_class ? o->change_class : "normal");
		if ((rc = deployment_store_create(&dr->ls.st, d, s, err)) < 0)
			goto out;
		dr->id = d->id;
		if ((rc = record_extras(dr, d, err)) < 0)
			goto out;
		say(dr, "deployment #%lld: %s %s -> %s in %s (%s, %s strategy, %d steps%s)", (long long)d->id, o->service,
		    stable[0] ? stable : "(nothing)", o->version, o->env, o->type, strategy_kind_name(s->kind), s->n_steps,
		    deployment_is_scaled(d) ? ", time-scaled" : "");
	}
	if (o->record_only) {
		/* the controller holding the store's lease drives it (docs/serve.md) */
		res->id = dr->id;
		res->recorded = 1;
		res->state = d->state;
		snprintf(res->reason, sizeof(res->reason), "%s", d->reason);
		rc = 0;
		goto out;
	}
	/* the judge answers for this deployment's strategy (a resumed one's is in the store) */
	if ((rc = driver_start(dr, err)) < 0)
		goto out;
	if ((rc = deployment_store_load(&dr->ls.st, dr->id, d, s, err)) < 0)
		goto out;
	if (dr->c.router == &dr->flag_router)
		say(dr, "  plugins: target none (the running revision serves both cohorts), router the flag's percentage, "
		    "provider %s, judge %s", dr->ls.svc.provider, dr->judge->name ? dr->judge->name : dr->ls.svc.judge);
	else
		say(dr, "  plugins: target %s, router %s, provider %s, judge %s", dr->ls.svc.target, dr->ls.svc.router,
		    dr->ls.svc.provider, dr->judge->name ? dr->judge->name : dr->ls.svc.judge);
	res->id = dr->id;
	say_time_scale(dr, d);
	start_wall = proc_now_ms();

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_interrupt;
	sigemptyset(&sa.sa_mask);
	interrupted = 0;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	handlers = 1;
	for (;;) {
		int64_t wall = proc_now_ms();
		int64_t now = wall - LAG_MS;	/* the controller's clock (driver_tick()), for the progress line */
		/* held after a start until the lines HAProxy kept meanwhile have arrived */
		if (wall >= start_wall + (res->resumed ? BACKLOG_MS : 0)) {
			struct strbuf terr = STRBUF_INIT;
			if ((rc = driver_tick(dr, wall, err)) < 0)
				goto out;
			if (o->notify) {
				struct notify_deliver_stats ns = { 0 };
				if (notify_deliver(&dr->ls.st, &dr->ncfg, wall, &ns, &terr) < 0)
					say(dr, "  notify: %s", terr.buf);
			}
			strbuf_release(&terr);
			ticked = 1;
		}
		if ((rc = deployment_store_load(&dr->ls.st, dr->id, d, s, err)) < 0)
			goto out;
		if (d->state != last_state || d->step != last_step) {
			say(dr, "%s (step %d, weight %.0f%%): %s", deployment_state_name(d->state), d->step, d->weight, d->reason);
			last_state = d->state;
			last_step = d->step;
		}
		if (deployment_state_is_final(d->state))
			break;
		if (interrupted) {
			/* every decision so far is committed: the deployment goes on where it is
			 * the next time a controller runs it; nothing is changed on the way out */
			say(dr, "interrupted: deployment %lld (%s %s) is left %s at step %d, weight %.0f%%, as it was: "
			    "traffic stays as it is and nothing is judged until a controller runs again; run "
			    "'slipway deploy %s %s' to go on, or 'slipway abort %lld' and then deploy to roll back",
			    (long long)dr->id, d->service, d->version, deployment_state_name(d->state), d->step,
			    d->weight, d->service, d->version, (long long)dr->id);
			res->interrupted = 1;
			break;
		}
		if (d->state == DS_PENDING && ticked && !strncmp(d->reason, "waiting: ", 9)) {
			/* the gate waits for a person (approval), a window or an incident's end:
			 * this in-process controller stops, the deployment stays pending, and
			 * running deploy again picks it up */
			say(dr, "pending: %s; run 'slipway deploy %s %s%s%s' again when that is done, or 'slipway abort %lld'",
			    d->reason + 9, d->service, d->version, strcmp(dr->ls.env, "production") ? " --env " : "",
			    strcmp(dr->ls.env, "production") ? dr->ls.env : "", (long long)dr->id);
			break;
		}
		if (d->state == DS_PAUSED && ticked) {
			struct intent pend[1];
			int npend = 0;
			if (deployment_store_intents(&dr->ls.st, dr->id, pend, 1, &npend, NULL) == 0 && npend > 0)
				goto next;	/* a resume or promote waits for the next tick */
			/* waiting for a person: this in-process controller stops; the row stays
			 * paused, and running deploy again (after resume or promote) drives it on */
			say(dr, "paused: run 'slipway resume %lld' or 'slipway promote %lld', then 'slipway deploy %s %s%s%s' "
			    "again, or 'slipway abort %lld'", (long long)dr->id, (long long)dr->id, d->service, d->version,
			    strcmp(dr->ls.env, "production") ? " --env " : "",
			    strcmp(dr->ls.env, "production") ? dr->ls.env : "", (long long)dr->id);
			break;
		}
		if (dr_rules(dr, d->type, &rules, NULL) == 0)
			progress(dr, d, s, &rules, now);
next:
		proc_sleep_ms(TICK_MS);
	}
	res->state = d->state;
	snprintf(res->reason, sizeof(res->reason), "%s", d->reason);
	flush_messages(dr);
	rc = 0;
out:
	if (handlers) {
		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGTERM, &old_term, NULL);
	}
	if (o->progress_tty && o->log) {
		fputs("\r\033[K", o->log);
		fflush(o->log);
	}
	driver_close(dr);
	free(dr);
	free(d);
	free(s);
	return rc;
}
