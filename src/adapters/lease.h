/*
 * lease.h - the controller lease (docs/serve.md "The lease"): one row in
 * the store saying which `slipway serve` drives the deployments, so that two
 * controllers on one store never both act.
 *
 * Table (module "lease", migration 1):
 *   controller_lease(name = 'controller', holder, pid, host, since_ms,
 *     renewed_ms, expires_ms)
 *   holder: an id unique per serve process ("HOST:PID:START_MS"); since_ms:
 *   when this holder took it; renewed_ms / expires_ms: its last renewal and
 *   the instant (ms since the epoch, UTC, wall clock) after which another
 *   controller may take it.
 *
 * The holder renews the lease while it runs (every second); a holder that
 * dies (kill -9) stops renewing and another takes over once expires_ms has
 * passed.  Taking, renewing and releasing are each one write transaction,
 * so two takers never both win.  lease_check() is the fence: called inside
 * a controller's tick transaction, it refuses the tick's commit when the
 * lease is no longer this holder's (a holder stopped longer than the lease,
 * then resumed, commits nothing).
 */
#ifndef SLIPWAY_ADAPTERS_LEASE_H
#define SLIPWAY_ADAPTERS_LEASE_H

#include <stddef.h>
#include <stdint.h>

struct store;
struct strbuf;

struct lease {
	char holder[128];
	long pid;
	char host[128];
	int64_t since_ms, renewed_ms, expires_ms;
};

/* Create or upgrade the module's table.  0 or SW_ESTORE. */
int lease_migrate(struct store *st, struct strbuf *err);

/* The lease as stored: 1 and *out (possibly expired), 0 when none was ever taken or it was released, or SW_ESTORE. */
int lease_read(struct store *st, struct lease *out, struct strbuf *err);

/* 1 when l is held at now_ms (not expired). */
int lease_live(const struct lease *l, int64_t now_ms);

/*
 * Take or renew the lease for me (me->holder, pid, host) at now_ms for
 * ttl_ms: when nobody holds it, it has expired, or me holds it.  Returns 1
 * when me holds it until now_ms + ttl_ms (me->since_ms, renewed_ms,
 * expires_ms set; since_ms kept on a renewal), 0 when another holds it
 * (*other filled when not NULL), or SW_ESTORE.
 */
int lease_acquire(struct store *st, struct lease *me, int64_t now_ms, int64_t ttl_ms, struct lease *other,
		  struct strbuf *err);

/* Give the lease up now if holder holds it (a clean stop: another may take it at once).  0 or SW_ESTORE. */
int lease_release(struct store *st, const char *holder, struct strbuf *err);

/*
 * The fence, inside the caller's transaction: 0 when holder holds a live
 * lease at now_ms, else SW_ESTATE with who holds it in err.
 */
int lease_check(struct store *st, const char *holder, int64_t now_ms, struct strbuf *err);

/* "HOLDER (pid P on HOST) since T" for messages, into buf. */
void lease_describe(const struct lease *l, char *buf, size_t size);

#endif
