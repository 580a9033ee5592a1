/*
 * router-t.h - the router interface: what splits a service's traffic
 * between its stable and canary revisions (DESIGN.md: router; HAProxy via
 * its runtime API in the local target, later a mesh or ingress).  Types
 * only; implementations live in src/adapters/, the controller calls them.
 */
#ifndef SLIPWAY_CORE_ROUTER_T_H
#define SLIPWAY_CORE_ROUTER_T_H

#include <stddef.h>

struct strbuf;

struct router {
	void *ctx;
	/*
	 * Send canary_weight percent (0-100) of the traffic of `service` in
	 * region group `group` ("" when the strategy has no groups) to the
	 * revision canary_version, the rest to stable_version (which may be
	 * "" for a first deployment).  Idempotent: called again with the same
	 * arguments after a controller restart.  Returns 0, or a negative
	 * error (e.g. SW_EEXTERNAL) with a message in err; the controller then
	 * retries on its next tick and does not advance the deployment.
	 */
	int (*set_weight)(void *ctx, const char *service, const char *group, const char *stable_version,
			  const char *canary_version, double canary_weight, struct strbuf *err);
	/*
	 * May be NULL.  The revision of service that gets the largest share of
	 * its traffic now, other than `except` (may be NULL), into out (n
	 * bytes; "" when none).  0 or a negative error.  Asked when the store
	 * knows no stable revision (revisions started by hand).
	 */
	int (*serving)(void *ctx, const char *service, const char *except, char *out, size_t n, struct strbuf *err);
};

#endif
