/*
 * flag_router.h - the router and target of a guarded flag rollout
 * (docs/flags.md "Guarded flag rollout"): where a release's router moves
 * HAProxy weights, this one sets the flag's rollout percentage in the store
 * (core/flag_rollout.h flag_rollout_set()), each change a versioned,
 * audited flag record like `slipway flag set`; the target has nothing to
 * start (the service's running revision serves both cohorts).
 *
 * The deployment's versions are cohorts, "flag:FLAG=ON" (new) and
 * "flag:FLAG=OFF" (stable); the controller calls set_weight(canary weight)
 * after each commit, so a rollback sets the flag to 0% (the segment, if the
 * rollout kept one, still served) in the tick that decided it.
 */
#ifndef SLIPWAY_ADAPTERS_FLAG_ROUTER_H
#define SLIPWAY_ADAPTERS_FLAG_ROUTER_H

#include <stdint.h>

#include "base/limits.h"
#include "core/router-t.h"
#include "core/target-t.h"

struct store;

struct flag_router {
	struct store *st;		/* not owned */
	char env[SW_NAME_MAX + 1];
	int64_t deployment_id;		/* named in each change's reason */
	char actor[SW_USER_MAX + 1];	/* recorded as who changed the flag ("slipway" by default) */
};

/*
 * Fill *r and *t over fr (which must outlive them).  set_weight(): the
 * canary version must be a cohort (SW_EUSAGE otherwise); the flag is read,
 * edited and written in one store transaction (or the caller's); an
 * unchanged definition writes nothing, so calling it again each tick is
 * free.  Errors: SW_ENOTFOUND (the flag was deleted), SW_ESTORE, with a
 * message in err; the controller retries on its next tick.
 */
void flag_router_init(struct flag_router *fr, struct router *r, struct target *t);

#endif
