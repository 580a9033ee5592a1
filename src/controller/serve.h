/*
 * serve.h - `slipway serve`: one long-running controller for a project
 * directory and its store (docs/serve.md).  It drives every deployment of
 * every service environment in the store, so that intents written by
 * anyone (the CLI, the API) take effect within one tick whatever the state
 * of the deployment, with nobody running `deploy` in the foreground.
 *
 * It holds the store's controller lease (adapters/lease.h) while it acts:
 * a second `slipway serve` on the same store waits, says who holds the
 * lease and since when, and takes over once the lease expires (the holder
 * died: kill -9, power loss), resuming every deployment from the store.
 * `deploy` asks the same lease: with a live holder it only records the
 * deployment (local_deploy_opts.record_only).
 *
 * Each service environment with work is driven by the same controller as
 * the in-process `deploy` (local_driver_*(), controller/local_deploy.h).
 */
#ifndef SLIPWAY_CONTROLLER_SERVE_H
#define SLIPWAY_CONTROLLER_SERVE_H

#include <stdint.h>
#include <stdio.h>

struct strbuf;
struct policy;
struct tz_zone;
struct notify_config;

#define SERVE_TICK_MS 100		/* one tick: as `deploy` (controller/local_deploy.c) */
#define SERVE_LEASE_MS 15000		/* default lease: another controller takes over this long after the
					   holder's last renewal */
#define SERVE_RENEW_MS 1000		/* the holder renews the lease this often */

/* What SIGHUP reloads besides the service files (owned by the loader). */
struct serve_config {
	const struct policy *policy;	/* rules per type, windows, freezes, approvals */
	const struct tz_zone *zone;	/* the policy's time zone */
	const struct notify_config *notify;	/* NULL: no messages */
	void *owner;			/* the loader's allocation, handed back to unload() */
};

struct serve_opts {
	const char *state_dir;
	const char *project_dir;	/* NULL: $SLIPWAY_PROJECT or "." */
	int64_t lease_ms;		/* 0: SERVE_LEASE_MS; at least 3 * SERVE_RENEW_MS */
	FILE *log;			/* log lines (one per event); NULL: stderr */
	/*
	 * Load the policy and the notifications (at start and on SIGHUP):
	 * 0 with *out filled, or < 0 (the loader has said what is wrong;
	 * err may add to it).  unload() frees what load() made.
	 */
	int (*load)(void *ctx, struct serve_config *out, struct strbuf *err);
	void (*unload)(void *ctx, struct serve_config *cfg);
	/* service manager notifications (sd_notify(3) strings: "READY=1", "STATUS=...", "STOPPING=1"); may be NULL */
	void (*notify_manager)(void *ctx, const char *state);
	void *ctx;
	/*
	 * After each tick this controller acted in (it holds the lease): how
	 * long the tick took (ms) and the wall-clock time (ms since the epoch)
	 * of the last tick that succeeded (the HTTP API's /metrics and
	 * /readyz).  May be NULL.
	 */
	void (*ticked)(void *ticked_ctx, int64_t tick_ms, int64_t last_ok_wall_ms);
	void *ticked_ctx;
};

/*
 * Run until SIGTERM or SIGINT (the tick in progress finishes: no router
 * change is left half-applied; the lease is given up so another controller
 * may take over at once) and return 0; or return < 0 with err when the
 * store cannot be opened, is deleted or replaced, or refuses writes for
 * CONTROLLER_STORE_GIVE_UP_MS (SW_ESTORE), or the first load() fails.
 * SIGHUP: reload the policy, the notifications and the service files; a
 * file that does not load is reported and the one in force is kept.
 * Installs handlers for SIGTERM, SIGINT and SIGHUP for its duration.
 */
int serve_run(const struct serve_opts *o, struct strbuf *err);

#endif
