/*
 * localstack.h - one service environment on this machine: the service
 * definition, the store, and the machine's resources behind the `local`
 * target and the `haproxy` router (its process table and its HAProxy),
 * opened together, and the revision-level operations built from them.
 * The commands that run services on this machine (start, stop, weight,
 * traffic, instances, down) use it directly; a deployment reaches it only
 * through the plugins the registry opens on it (controller/registry.h,
 * struct plugin_host), so the controller names no implementation.
 *
 * Ordering rules it keeps (runbook: graceful rollout; DESIGN.md):
 *   start a revision  = instances started and ready, THEN servers added at
 *                       weight 0: no request reaches an instance before it
 *                       is ready;
 *   stop a revision   = servers drained (in-flight requests finish) and
 *                       removed, THEN SIGTERM/SIGKILL: no request is cut.
 */
#ifndef SLIPWAY_CONTROLLER_LOCALSTACK_H
#define SLIPWAY_CONTROLLER_LOCALSTACK_H

#include "adapters/router_haproxy.h"
#include "adapters/store.h"
#include "adapters/target_local.h"
#include "core/service.h"

struct strbuf;

/*
 * Read and parse PROJECT/services/NAME.yaml (bounded to SERVICE_FILE_MAX).
 * project_dir NULL means $SLIPWAY_PROJECT, else the current directory.
 * 0, SW_ENOTFOUND (no such file: the message says where it looked),
 * SW_EPARSE / SW_ECONFIG (FILE:LINE:COL in err), SW_EUSAGE (bad name).
 */
int service_load(struct service *svc, const char *project_dir, const char *name, struct strbuf *err);
/* The project directory service_load() uses: project_dir, $SLIPWAY_PROJECT or ".". */
const char *localstack_project_dir(const char *project_dir);

struct localstack {
	struct store st;
	struct service svc;
	char env[SERVICE_NAME_MAX + 1];
	char *state_dir;
	struct target_local target;
	struct router_haproxy router;
	int lock_fd;	/* STATE/routers/SERVICE.ENV.lock, held while open */
};

/*
 * Open everything for service/env (no process is started).  Takes an
 * exclusive lock per service environment, so two slipway processes never
 * change one router at the same time (waits up to 30 s); not with
 * LOCALSTACK_READONLY.  0 or negative
 * with a message in err; on failure nothing is left open.
 */
#define LOCALSTACK_READONLY 1u	/* flags: no lock (the caller only reads) */
#define LOCALSTACK_NOLOCK 2u	/* no lock, the store writable: the caller records a deployment for the
				   controller that drives it (`deploy` beside `slipway serve`) and changes
				   no router or instance */
#define LOCALSTACK_TRYLOCK 4u	/* the lock or SW_ESTATE at once, without waiting (`slipway serve`
				   skips a service environment another slipway is changing) */
/*
 * Called once, at once, when localstack_open() finds the lock taken, with a
 * line naming the holder (pid, since when, its command line, as the holder
 * wrote them into the lock file); NULL: wait in silence.  The CLI sets it
 * to print a warning, so a second deploy says who it waits for.
 */
extern void (*localstack_on_wait)(const char *msg);
int localstack_open(struct localstack *ls, const char *state_dir, const char *project_dir, const char *service,
		    const char *env, unsigned flags, struct strbuf *err);
void localstack_close(struct localstack *ls);

/*
 * Start (or adopt) version's instances, wait until ready, make HAProxy run
 * and add them as servers.  weight >= 0: then give version that share and
 * the other revisions the rest, in their current proportions (all of it to
 * version when no other has a share); weight < 0: leave weights alone,
 * except that a revision alone in the router gets 100.  *out lists the
 * instances.  0 or negative.
 */
int localstack_start_revision(struct localstack *ls, const char *version, double weight, struct instance_list *out,
			      struct strbuf *err);

/* Drain and remove version's servers, then stop its instances (release kept). */
int localstack_stop_revision(struct localstack *ls, const char *version, struct strbuf *err);

/*
 * Stop every instance of every revision and the HAProxy of this environment:
 * those the store records, then those it does not (a store deleted or
 * replaced under a running slipway: router_haproxy_sweep(),
 * target_local_sweep()), which are appended to found ("HAProxy (pid N),
 * v1-0 (pid M)").  0; SW_ESTATE when an HAProxy not running this
 * environment's configuration holds its admin socket (left alone, err says
 * which; everything else is stopped); or the first stop's error.
 */
int localstack_down(struct localstack *ls, struct strbuf *found, struct strbuf *err);

#endif
