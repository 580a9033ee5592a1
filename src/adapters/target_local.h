/*
 * target_local.h - the `local` target: the instances of a revision run as
 * child processes on this machine, on ports of 127.0.0.1 (docs/services.md;
 * the runbook's `kubectl set image` / `rollout status` / `scale`, done with
 * processes).
 *
 * - An instance is the service's command with {port} {version} {instance}
 *   {release} {service} {env} expanded, started in the release directory
 *   PROJECT/releases/SERVICE/VERSION/ (service field `releases`), in its own
 *   process group, stdout and stderr appended to
 *   STATE/logs/SERVICE.ENV/VERSION-N.log.
 * - Each instance gets a port the kernel reports free on 127.0.0.1.
 * - Ready means the readiness probe (HTTP GET of the service's readiness
 *   path) answered 2xx within the probe timeout; target_local_start() waits
 *   for every instance up to the readiness deadline, so an instance gets
 *   traffic only once ready.
 * - Every instance is recorded in the store (local_store.h) with pid and
 *   start time before slipway acts on it; start() adopts running instances
 *   it finds there instead of starting them twice.
 * - Stopping is the router's drain first (the caller's job: see
 *   router_haproxy_drain()), then SIGTERM to the process group, SIGKILL after
 *   the service's stop grace.
 */
#ifndef SLIPWAY_ADAPTERS_TARGET_LOCAL_H
#define SLIPWAY_ADAPTERS_TARGET_LOCAL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/service.h"

struct store;
struct strbuf;

struct instance {
	char version[SERVICE_NAME_MAX + 1];
	int idx;		/* 0 .. instances-1 */
	int port;		/* on 127.0.0.1, or on addr */
	char addr[64];		/* the host HAProxy connects to; "" = 127.0.0.1 (the ssh target sets it) */
	pid_t pid;
	uint64_t start_time;	/* /proc/PID/stat field 22 */
	char state[16];		/* starting | running | stopped | failed */
	int alive;		/* filled by list: the recorded process still runs */
	int adopted;		/* filled by start: found running, not started */
	int64_t started_ms;
	char log_path[512];
};

struct instance_list {
	struct instance *v;
	size_t n, alloc;
};
void instance_list_release(struct instance_list *l);

/*
 * Start failures of one revision, for the backoff: after the n-th failed
 * start in a row the next attempt waits 1 s * 2^(n-1), at most 30 s
 * (docs/services.md "Failure paths"), so a release that never starts costs
 * a start every 30 s instead of a busy loop.
 */
#define TARGET_LOCAL_BACKOFF_SLOTS 8
#define TARGET_LOCAL_BACKOFF_MAX_MS 30000
struct target_local_backoff {
	char key[3 * (SERVICE_NAME_MAX + 1)];	/* "service env version" */
	int failures;				/* failed starts in a row */
	int64_t retry_mono_ms;			/* no new attempt before (proc_mono_ms()) */
	char last[400];				/* the last failure's message */
};

struct target_local {
	struct store *st;		/* not owned */
	char *state_dir;		/* owned */
	char *project_dir;		/* where services/ and releases/ are; owned */
	struct target_local_backoff backoff[TARGET_LOCAL_BACKOFF_SLOTS];
};

/* Bind to an open store (migrating the "local" module).  0 or SW_ESTORE. */
int target_local_init(struct target_local *t, struct store *st, const char *state_dir, const char *project_dir,
		      struct strbuf *err);
void target_local_release(struct target_local *t);

/* Absolute path of the release directory of version: PROJECT/RELEASES/VERSION. */
void target_local_release_dir(const struct target_local *t, const struct service *svc, const char *version,
			      struct strbuf *out);

/*
 * Make the environment's `instances` instances of version run and be ready:
 * adopt the ones the store records as running whose process is the same
 * (pid + start time), start the others.  On success *out lists them all
 * (adopted ones flagged).  Errors: SW_ENOTFOUND (no release directory),
 * SW_ECONFIG (placeholder), SW_ETIMEOUT (not ready by the deadline: the
 * message quotes the end of its log), -errno.  Instances started by a
 * failed call are stopped again before returning.  After a failed start,
 * a new attempt within the backoff (struct target_local_backoff) fails at
 * once with SW_EEXTERNAL, naming the failures and the last one's message.
 */
int target_local_start(struct target_local *t, const struct service *svc, const char *env, const char *version,
		       struct instance_list *out, struct strbuf *err);

/*
 * The instances the store records as starting or running for service/env
 * (version NULL: all versions), each with `alive` checked.  0 or SW_ESTORE.
 */
int target_local_list(struct target_local *t, const char *service, const char *env, const char *version,
		      struct instance_list *out, struct strbuf *err);

/*
 * Stop version's instances: SIGTERM to each process group, SIGKILL after the
 * service's stop grace; rows become `stopped`.  The release directory is
 * kept (runbook: keep the previous version for rollback).  Drain in the
 * router first.  Returns the number stopped, or a negative error.
 */
int target_local_stop(struct target_local *t, const struct service *svc, const char *env, const char *version,
		      struct strbuf *err);

/*
 * Every instance is also a file STATE/logs/SERVICE.ENV/VERSION-N.pid ("PID
 * START_TIME", written when it starts, removed when it is stopped).  After
 * target_local_stop() of every revision the store knows, this stops what
 * those files name and still runs as the same process (pid and start
 * time): the instances of a store that was deleted or replaced (docs/engine.md
 * "Failure paths").  Each is appended to done ("v1-0 (pid N)"); stale files
 * are removed.  Returns how many were stopped, or proc_stop()'s error.
 */
int target_local_sweep(struct target_local *t, const struct service *svc, const char *env, struct strbuf *done,
		       struct strbuf *err);

/*
 * The runbook's cleanup-old-versions.sh --keep N: remove release directories
 * of svc beyond the newest `keep` (by modification time), never one that has
 * a running instance in any environment.  Removed names are appended to
 * *removed (one per line).  Returns the number removed, or a negative error.
 */
int target_local_cleanup(struct target_local *t, const struct service *svc, int keep, struct strbuf *removed,
			 struct strbuf *err);

/*
 * How many instances of version are ready to serve: recorded as running
 * (they passed the readiness probe) and still alive.  An instance recorded
 * as starting or running whose process is gone is described in *why
 * ("instance v2-0 (pid 123) is gone; its log ends: ...", may be NULL) and
 * marked failed in the store.  Returns the count, or SW_ESTORE.
 */
int target_local_ready_count(struct target_local *t, const char *service, const char *env, const char *version,
			     struct strbuf *why, struct strbuf *err);

/* Probe http://127.0.0.1:PORT/PATH once; 1 if it answered 2xx, else 0. */
int target_local_probe(int port, const char *path, int64_t timeout_ms);

/*
 * Run svc's smoke checks against every live instance of version in env:
 * each check's method and path on 127.0.0.1:PORT, within the readiness
 * timeout, must answer the check's status.  1 all passed (or svc has
 * none), 0 one did not (the first failure in why: its method, path,
 * instance and answer), negative on a store error (message in err).
 */
int target_local_smoke(struct target_local *t, const struct service *svc, const char *env, const char *version,
		       struct strbuf *why, struct strbuf *err);

#endif
