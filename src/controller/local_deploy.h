/*
 * local_deploy.h - `slipway deploy` on this machine: the engine's state
 * machine (core/deployment.h) driven live over the target, router, metrics
 * provider and judge the service file chooses by name (by default the
 * local target, the HAProxy router, the builtin provider and the observed
 * judge; controller/registry.h; docs/services.md).
 *
 * This is the live controller of one service environment.  `deploy` runs
 * it in the deploying process for one deployment (local_deploy_run(), the
 * laptop's way: no daemon); `slipway serve` runs one per service
 * environment with work, for every deployment of the store
 * (local_driver_*(), controller/serve.h, docs/serve.md).  Both call the same
 * tick.  Every tick (100 ms):
 *   1. now = the wall clock, a little behind the log (never scaled: a
 *      time scale is the deployment's, and only shortens its strategy's
 *      durations; docs/engine.md "Time scale");
 *   2. if an analysis interval is due, measure it (controller/measure.h)
 *      with the chosen provider, on the wall clock the log is stamped with;
 *   3. read the deployment's pending intents (abort, pause, ...) from the
 *      store;
 *   4. deployment_advance();
 *   5. commit the row, transitions, analysis result, intent results and the
 *      driver's cursor in ONE transaction;
 *   6. only then drive target and router to deployment_desired(next):
 *      canary instances up (ready before any weight), weights, stable or
 *      canary drained and stopped.  The level is re-applied every tick, so
 *      an action lost in a crash is redone.
 * Run again after a crash (kill -9) with the same service and version, it
 * finds the unfinished deployment in the store and resumes it: same
 * deployment id, step, weight and failed checks, the instances adopted.
 */
#ifndef SLIPWAY_CONTROLLER_LOCAL_DEPLOY_H
#define SLIPWAY_CONTROLLER_LOCAL_DEPLOY_H

#include <stdint.h>
#include <stdio.h>

#include "core/deployment-t.h"

struct strbuf;
struct policy;
struct tz_zone;
struct notify_config;
struct store;

struct local_deploy_opts {
	const char *state_dir;
	const char *project_dir;	/* NULL: $SLIPWAY_PROJECT or "." */
	const char *service, *version, *env, *type;
	const char *requested_by;	/* the caller (the CLI's identity rule, cli_caller()) */
	double time_scale;		/* 1 = real time; 60: holds, intervals, deadlines and monitoring
					   of a NEW deployment take a second per minute (stored with it;
					   a resumed one keeps its own); never the wall clock's instants */
	int progress_tty;		/* redraw a progress line on stderr */
	FILE *log;			/* transitions and analysis lines (stderr); NULL: silent */
	/* the policy gate and the records (docs/policy.md, docs/records.md); each may be NULL */
	const struct policy *policy;	/* rules per type, windows, freezes, approvals (NULL: runbook rules, no gate) */
	const struct tz_zone *zone;	/* the policy's time zone */
	const char *change_class;	/* normal (NULL), security, critical-security */
	const struct notify_config *notify;	/* channels and sinks; NULL: no messages */
	const char *emergency_reason;	/* --type emergency: the emergency record's reason */
	const char *commit_sha;		/* for DORA's lead time; may be NULL */
	int64_t commit_time_ms;		/* 0: unknown */
	/*
	 * Record the deployment (or find the unfinished one of this version)
	 * and return at once, without taking the service environment's lock or
	 * changing anything: a `slipway serve` holding the store's controller
	 * lease drives it (docs/serve.md).  res->recorded is set.
	 */
	int record_only;
	/*
	 * A guarded flag rollout (docs/flags.md "Guarded flag rollout"): version
	 * is the flag's enabled cohort "flag:FLAG=ON", flag_stable its disabled
	 * cohort, flag_strategy the steps (core/flag_rollout.h).  The service must
	 * be serving (a revision of it succeeded or HAProxy routes to one); its
	 * instances are left as they are, and the flag's percentage is the router
	 * (adapters/flag_router.h).  NULL: a release.
	 */
	const char *flag_stable;
	const struct strategy *flag_strategy;
	/* the controller's fence (controller.h hooks.fence), called with fence_ctx; NULL: none */
	int (*fence)(void *fence_ctx, struct store *st, struct strbuf *err);
	void *fence_ctx;
};

struct local_deploy_result {
	int64_t id;
	enum deploy_state state;	/* final: succeeded, rolled_back, failed; or paused, or pending
					   (the gate waits: approvals, a window, an incident) */
	char reason[400];
	int resumed;			/* 1: an unfinished deployment was resumed */
	int interrupted;		/* 1: SIGINT or SIGTERM stopped the controller after a tick;
					   the deployment is left as it was (state not final) */
	int recorded;			/* 1: record_only: recorded (or found) for the controller;
					   state is its state now */
	int waiting;			/* 1: followed (deploy --wait) to a pause or a gate waiting for a person */
};

/*
 * Run (or resume) the deployment to a final state, or until it pauses for a
 * person (a consider criterion, or a pause intent).  Returns 0 with *res
 * filled (whatever the outcome), or a negative error (service file, store,
 * target or router failure that the state machine cannot express) with a
 * message in err.  SW_ESTATE: another version of the service is being
 * deployed in this environment.
 */
int local_deploy_run(const struct local_deploy_opts *o, struct local_deploy_result *res, struct strbuf *err);

/*
 * One service environment driven by `slipway serve` (controller/serve.h):
 * local_driver_open() opens its stack, plugins, gate and a controller that
 * visits only that service environment's deployments, from o's state_dir,
 * project_dir, service, env, policy, zone, notify, log and fence (copied;
 * the pointed-to policy, zone, notify and log must outlive the driver).  It
 * takes the service environment's lock without waiting: SW_ESTATE with who
 * holds it in err when another slipway (an in-process deploy, `traffic`)
 * is changing it.  Other errors: as localstack_open() and the registry's.
 *
 * local_driver_tick() runs one tick for the deployment focus (the
 * deployment the work is about: deployment_store_work()): on a new focus
 * the controller restarts on that deployment's judge (the clock is the wall
 * clock; a time scale is the deployment's own), and waits
 * 1.5 s for HAProxy's kept log lines when the deployment already had
 * traffic.  0, or SW_ESTORE when the store is gone or refuses writes (the
 * caller stops), or the error of loading the focus deployment.
 * local_driver_close() accepts NULL; closing leaves HAProxy and the
 * instances running as they are.
 */
struct local_driver;
int local_driver_open(const struct local_deploy_opts *o, struct local_driver **out, struct strbuf *err);
int local_driver_tick(struct local_driver *ld, int64_t focus, struct strbuf *err);
void local_driver_close(struct local_driver *ld);

#endif
