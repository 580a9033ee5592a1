/*
 * target-t.h - the target interface: where a service's instances run
 * (DESIGN.md: target; local processes first, later SSH hosts and
 * Kubernetes).  Types only; implementations live in src/adapters/.
 */
#ifndef SLIPWAY_CORE_TARGET_T_H
#define SLIPWAY_CORE_TARGET_T_H

#include "core/metrics-t.h"

struct strbuf;

struct target {
	void *ctx;
	/*
	 * Make `count` instances of service at `version` (in the role given)
	 * run; count 0 means the target's usual number for the service, and
	 * up == 0 means none (stop them all).  Idempotent: starting what runs
	 * or stopping what is stopped is a no-op.  Returns 0 or a negative
	 * error with a message in err.
	 */
	int (*ensure)(void *ctx, const char *service, const char *version, enum revision_role role, int up,
		      int count, struct strbuf *err);
	/*
	 * 1 when the instances of service at version are up and ready (health
	 * checks pass), 0 when not yet, negative on error.  May be NULL: then
	 * a started revision counts as ready.
	 */
	int (*ready)(void *ctx, const char *service, const char *version, struct strbuf *err);
	/*
	 * May be NULL.  0 when version of service can be started here (its
	 * release exists), else a negative error (SW_EUSAGE: a person must
	 * provide the release first) with the reason in err.  Asked before a
	 * deployment is recorded, so one that could never start is not created.
	 */
	int (*check)(void *ctx, const char *service, const char *version, struct strbuf *err);
	/*
	 * May be NULL.  Run the service's smoke checks (service file `smoke:`,
	 * runbook "Smoke tests": an HTTP request and the status it must answer)
	 * against every running instance of version.  1 when all answer as
	 * expected (or there are none), 0 when one does not, with "smoke check
	 * 'GET /health' on v2-0 answered 200, expected 418" in why; negative on
	 * an error of the target itself.
	 */
	int (*smoke)(void *ctx, const char *service, const char *version, struct strbuf *why);
	/*
	 * May be NULL (the target has no regions: every revision runs
	 * everywhere).  Region-by-region (docs/engine.md "Strategies"): the
	 * instances of service at version run only in the region groups
	 * groups[0..n) (names as the strategy's groups; n < 0: in every
	 * region).  Remembered for the next ensure() and ready() of version,
	 * which start, count and stop its instances by it.  Asked by the
	 * controller before each ensure() of the new revision of a
	 * region-by-region deployment: the groups it has reached.  0 or a
	 * negative error with a message in err.
	 */
	int (*regions)(void *ctx, const char *service, const char *version, const char *const *groups, int n,
		       struct strbuf *err);
};

#endif
