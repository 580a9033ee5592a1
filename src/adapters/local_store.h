/*
 * local_store.h - the "local" module of the store: what the local target and
 * the HAProxy router have running, so that a controller that restarts (or
 * is killed with -9) adopts the same processes instead of starting them
 * twice (docs/services.md; docs/DESIGN.md "state lives in the store").
 *
 * Tables (migration 1; later migrations only add):
 *   instances(id, service, env, version, idx, port, pid, start_time, state,
 *     log_path, started_ms, stopped_ms)
 *     one row per instance slipway started; state is starting | running |
 *     stopped | failed.  (pid, start_time) identifies the process: the start
 *     time is field 22 of /proc/PID/stat, so a reused pid is not mistaken
 *     for ours.
 *   routers(service, env, pid, start_time, cfg_path, socket_path, mode,
 *     message, started_ms)   the HAProxy process of a service environment;
 *     pid 0 when slipway attaches to a HAProxy it does not run.  mode is
 *     normal | read-only | maintenance.
 *   router_servers(service, env, name, version, idx, port, weight, state)
 *     the servers of the backend as slipway last set them through the
 *     runtime API (weight 0-256, state ready | drain | maint); the
 *     configuration file is generated from these rows, which is how runtime
 *     changes survive a reload.
 *   deploy_cursor(deployment_id, json)   (migration 2) no longer written:
 *     the live driver kept a scaled clock's epoch there; a time scale is now
 *     the deployment's own (deployments.time_scale, docs/engine.md "Time
 *     scale").  Kept so that stores from before still migrate.
 */
#ifndef SLIPWAY_ADAPTERS_LOCAL_STORE_H
#define SLIPWAY_ADAPTERS_LOCAL_STORE_H

struct store;
struct strbuf;

/* Create or upgrade the module's tables.  0 or SW_ESTORE with detail in err. */
int local_store_migrate(struct store *st, struct strbuf *err);

#endif
