/*
 * router_haproxy.h - the `haproxy` router: HAProxy 2.6 splits a service's
 * traffic between the instances of its revisions by server weight, changed
 * at runtime through the admin socket, never by a reload (runtime API:
 * HAProxy 2.6 management guide, section 9.3 "Unix Socket commands"; what
 * we write and the quirks met: docs/haproxy.md; the files' text:
 * core/haproxy_cfg.h).
 *
 * One HAProxy per service environment, in STATE/routers/SERVICE.ENV/:
 *   haproxy.cfg   written by slipway from the store (local_store.h), so it
 *                 always mirrors the runtime state and a reload keeps it
 *   admin.sock    `stats socket ... mode 600 level admin`
 *   flags.map     maint / readonly / message, read by the frontend's rules
 *   haproxy.log   HAProxy's own stdout and stderr
 * One frontend and one backend, both named SERVICE.ENV; servers are named
 * VERSION-N after the instance they reach.  Every request is logged to
 * a 16 MiB ring forwarded to STATE/log.stream (unix stream, `format raw`,
 * one line per request; a slow receiver delays lines, it does not lose
 * them) with the log-format
 * "slipway2 %Ts.%ms %Tt %b %s %ST %Tr %Ta %HM %hs" (core/reqlog.h), which the builtin
 * metrics provider receives.
 *
 * Attach mode: when the environment sets `router: {socket: PATH}`, slipway
 * runs no HAProxy and writes no file; it changes weights of the named
 * backend's servers through that socket only (the servers must exist).
 */
#ifndef SLIPWAY_ADAPTERS_ROUTER_HAPROXY_H
#define SLIPWAY_ADAPTERS_ROUTER_HAPROXY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/haproxy_cfg.h"	/* enum traffic_mode; the files' text */
#include "core/service.h"

struct store;
struct strbuf;
struct instance;

/* Per-revision share of traffic, percent 0-100 (the sum is normally 100). */
struct revision_weight {
	char version[SERVICE_NAME_MAX + 1];
	double weight;
};

/* One server as `show stat` reports it (columns mapped by the header line). */
struct haproxy_server_stat {
	char name[80];		/* VERSION-N */
	char status[16];	/* UP, DRAIN, MAINT, no check ... */
	int weight;		/* effective weight */
	long long scur;		/* current sessions */
	long long req_tot;	/* HTTP requests */
	long long hrsp_5xx;
};

struct router_haproxy {
	struct store *st;	/* not owned */
	char service[SERVICE_NAME_MAX + 1];
	char env[SERVICE_NAME_MAX + 1];
	char backend[160];	/* "SERVICE.ENV", or the attached backend */
	char listen_host[64];
	int listen_port;
	int attached;		/* 1: a HAProxy slipway does not run */
	char *rundir, *cfg_path, *sock_path, *map_path, *log_sock, *log_path;	/* owned */
	int64_t drain_ms;	/* how long drain waits for in-flight requests */
	char metrics_host[64];	/* HAProxy's Prometheus exporter (router.metrics), port 0: none */
	int metrics_port;
};

/*
 * Prepare the router of svc/env (no process is started): paths, store
 * module.  Returns 0, SW_ENOTFOUND (no such environment), SW_ECONFIG (a
 * socket path longer than a unix socket allows), SW_ESTORE.
 */
int router_haproxy_open(struct router_haproxy *r, struct store *st, const char *state_dir,
			const struct service *svc, const char *env, struct strbuf *err);
void router_haproxy_close(struct router_haproxy *r);

/*
 * Make HAProxy run: adopt the recorded process if it is the same (pid +
 * start time) and its socket answers; otherwise write haproxy.cfg from the
 * store and start it (its own process group), waiting up to 5 s for the
 * socket.  Sets *started to 1 when a new process was started.  In attach
 * mode only checks that the socket answers.  0, SW_EEXTERNAL (HAProxy
 * refused the configuration or exited: its log is quoted), -errno.
 */
int router_haproxy_up(struct router_haproxy *r, int *started, struct strbuf *err);

/* Stop the HAProxy slipway runs for this environment (SIGTERM; SIGKILL
 * after 5 s) and forget its servers.  0 when stopped or not running. */
int router_haproxy_down(struct router_haproxy *r, struct strbuf *err);

/*
 * After router_haproxy_down(), what the store did not know (it was deleted
 * or replaced, docs/engine.md "Failure paths"): an HAProxy answering "show
 * info" on this environment's admin socket whose command line names this
 * environment's haproxy.cfg is stopped (SIGTERM, SIGKILL after 5 s) and
 * appended to done ("HAProxy (pid N)").  Returns 1 when one was stopped, 0
 * when none answers (a stale socket file is removed), SW_ESTATE when the
 * process answering runs another configuration (not ours: left alone, err
 * says so), or proc_stop()'s error.
 */
int router_haproxy_sweep(struct router_haproxy *r, struct strbuf *done, struct strbuf *err);

/* pid of the running HAProxy (0 when none or attached). */
pid_t router_haproxy_pid(struct router_haproxy *r);

/*
 * Add the instances as servers VERSION-N at weight 0, state ready (runtime
 * `add server`, `set server ... state ready`: a dynamic server starts in
 * maintenance in 2.6), and record them.  Servers already present are left
 * as they are.  0, SW_EEXTERNAL with HAProxy's answer, SW_ESTORE.
 */
int router_haproxy_add(struct router_haproxy *r, const struct instance *in, size_t n, struct strbuf *err);

/*
 * Set the share of each listed revision: each server of a revision with
 * weight w percent and k servers gets HAProxy weight round(2 w / k) (at
 * least 1 when w > 0; 200 means 100%), or the nearest whole weights when
 * those miss (core/share.h).  Revisions not listed get 0; the listed
 * shares add up to 100 (SW_EUSAGE otherwise, or when no whole weights
 * meet a share within SHARE_TOLERANCE_PP points).  All
 * `set server ... weight` commands go in one socket round trip, so a
 * rollback (canary 0, stable 100) takes effect for every new request at
 * once.  The store and haproxy.cfg are updated first.  0, SW_ENOTFOUND (a
 * revision with no server), SW_EEXTERNAL.
 */
int router_haproxy_set_weights(struct router_haproxy *r, const struct revision_weight *w, size_t n,
			       struct strbuf *err);

/*
 * router_haproxy_set_weights with the shares checked against what HAProxy
 * can deliver (core/share.h, docs/haproxy.md "Shares"): the listed shares
 * add up to 100 (or all are 0), and whole server weights up to 256 must
 * meet each within SHARE_TOLERANCE_PP percentage points, else SW_EUSAGE
 * naming the nearest achievable shares; round set: the nearest achievable
 * shares are used instead.  router_haproxy_set_weights is round 0.
 */
int router_haproxy_set_shares(struct router_haproxy *r, const struct revision_weight *w, size_t n, int round,
			      struct strbuf *err);

/*
 * Region-by-region through the one HAProxy of a fleet (docs/fleet.md
 * "Region by region"): the servers whose address is one of addrs[0..naddr)
 * are one region group's, and only their weights change.  The group keeps
 * the share of the traffic it has while the stable revision alone serves:
 * B per stable server there, B = round(200 / stable servers in all groups)
 * (the weight set_weights gives each of them at 100%, so a group at 0% is
 * left exactly as it was; with no stable revision, B over the canary's
 * servers).  canary_pct (0-100) of that share goes to canary's servers in
 * the group, the rest to stable's, each whole weight 0-256, at least 1 for
 * a share above 0 (so a share is approximate: 1% of 2 x 67 is 1 of 67 per
 * server).  Other revisions' servers in the group get 0.  stable may be ""
 * (a first deployment).  The store and haproxy.cfg first, then every
 * command in one socket round trip.  0, SW_ENOTFOUND (canary_pct > 0 and
 * canary has no server in the group), SW_EUSAGE (canary_pct out of 0-100),
 * SW_EEXTERNAL.
 */
int router_haproxy_set_group_weight(struct router_haproxy *r, const char *const *addrs, size_t naddr,
				    const char *group, const char *stable, const char *canary, double canary_pct,
				    struct strbuf *err);

/*
 * Can HAProxy split traffic canary_pct / (100 - canary_pct) between
 * k_canary servers of canary and k_stable servers of stable within
 * SHARE_TOLERANCE_PP points (core/share.h)?  Pure.  0, or SW_EUSAGE with
 * the nearest achievable shares in err.  Asked for every step of a
 * strategy before a deployment is recorded.
 */
int router_haproxy_check_split(const char *stable, const char *canary, double canary_pct, int k_stable,
			       int k_canary, struct strbuf *err);

/* The current shares by revision, as set by slipway (from the store): the achieved ones. */
int router_haproxy_get_weights(struct router_haproxy *r, struct revision_weight **out, size_t *n,
			       struct strbuf *err);

/*
 * Drain version's servers (`set server ... state drain`: no new requests,
 * in-flight ones finish), then wait until their current sessions are 0 or
 * drain_ms passed.  0 or a negative error.
 */
int router_haproxy_drain(struct router_haproxy *r, const char *version, struct strbuf *err);

/*
 * Remove version's servers: `state maint`, then `del server`, retried while
 * HAProxy says connections are still attached (up to 3 s), and from the
 * store and haproxy.cfg.  0 or a negative error.
 */
int router_haproxy_remove(struct router_haproxy *r, const char *version, struct strbuf *err);

/*
 * Retire one server (VERSION-N) while its revision keeps the others (a
 * rolling step scaling a revision down, docs/fleet.md): drained (no new
 * requests; in-flight ones finish, up to drain_ms), then taken out of
 * HAProxy (maint, weight 0, `del server`), the store and haproxy.cfg.  A
 * server that is not recorded is retired already: 0.  0 or a negative
 * error (SW_EEXTERNAL with HAProxy's answer, SW_ESTORE).
 */
int router_haproxy_retire(struct router_haproxy *r, const char *name, struct strbuf *err);
/*
 * The runbook's traffic-control.sh / maintenance-mode.sh: `set map` on
 * flags.map (runtime), and flags.map rewritten (reload).  message (NULL:
 * keep the current one; default "Service under maintenance") is printable
 * ASCII, at most 400 bytes.  0, SW_EUSAGE (bad message), SW_EEXTERNAL.
 */
int router_haproxy_set_mode(struct router_haproxy *r, enum traffic_mode m, const char *message, struct strbuf *err);
int router_haproxy_get_mode(struct router_haproxy *r, enum traffic_mode *m, struct strbuf *message, struct strbuf *err);

/*
 * The router's real state against the record, for a controller's every
 * tick (docs/haproxy.md "Failure paths"); does nothing when attached or
 * when no HAProxy of ours runs (router_haproxy_up starts that one):
 *   - the admin socket answers `show info` with our pid, and our process
 *     holds a socket listening on the frontend's address (/proc/net/tcp,
 *     /proc/PID/fd): else HAProxy is restarted from the mirrored config;
 *     another process listening there too is reported (not stopped);
 *   - every recorded server has a live instance (live[0..nlive): state
 *     "running" and alive) of its VERSION-N: else it is removed (maint,
 *     weight 0, `del server`) and dropped from the store and haproxy.cfg;
 *     on the instance's port: else the record and HAProxy are corrected
 *     (`set server ... addr 127.0.0.1 port P`);
 *   - `show servers state` has each recorded server at its recorded
 *     address, weight and state (ready servers): else it is added or set
 *     again; a server HAProxy has that slipway does not record is removed.
 * Each repair is appended to *report as one clause ("; "-separated), for
 * the record.  watched (may be NULL) names the revisions, space-separated,
 * whose deaths the caller handles itself (the controller counts the new and
 * the stable revision's deaths and restarts them):
 * its servers with no live instance are removed all the same.  Returns 1
 * when something was repaired, 3 when the only repairs were removals of
 * watched's servers, 2 when something is wrong that slipway does not repair
 * (another process on the port: only reported), 0 when all matched, or a
 * negative error (err) when HAProxy could not be asked or fixed.
 */
int router_haproxy_check(struct router_haproxy *r, const struct instance *live, size_t nlive, const char *watched,
			 struct strbuf *report, struct strbuf *err);

/* `show stat` for this backend's servers.  *out is malloc'd (caller frees). */
int router_haproxy_stats(struct router_haproxy *r, struct haproxy_server_stat **out, size_t *n, struct strbuf *err);

/*
 * One runtime API round trip: connect to the admin socket, send cmd and a
 * newline, read until HAProxy closes (not until an empty line: `del server`
 * sends none; reference 1.2).  The reply goes to *reply.  0, or -errno /
 * SW_ETIMEOUT (5 s) with a message in err.
 */
int haproxy_cli(const char *sock_path, const char *cmd, struct strbuf *reply, struct strbuf *err);

/* The HAProxy program: $SLIPWAY_HAPROXY, else /usr/sbin/haproxy, else "haproxy" from PATH. */
const char *haproxy_program(void);

#endif
