/*
 * controller.h - the reconcile loop (docs/DESIGN.md: controller and the
 * "intents, not inline work" principle; docs/engine.md).  One struct controller
 * drives every deployment in one store; controller_tick() is called once a
 * tick (every 100 ms in `slipway deploy`, controller/local_deploy.c; once
 * per simulated second or event in tests, the simulator and the benchmark)
 * with the time.
 *
 * What plugs in (all optional but the store):
 *   router   set the canary weight per service/group   (core/router-t.h)
 *   target   start/stop revisions, report readiness     (core/target-t.h)
 *   metrics  requests, errors, latency per revision     (core/metrics-t.h)
 *   judge    decides each criterion                     (core/judge.h)
 *   hooks    gate (window/freeze, approvals, incidents, preflight), the type
 *            rules (policy), notify (notifiers)         (below)
 * Missing router/target/metrics act as no-ops (a router that accepts every
 * weight; a target whose revisions are always ready; a provider with no
 * data, which makes analysis inconclusive rather than passing).
 */
#ifndef SLIPWAY_CONTROLLER_CONTROLLER_H
#define SLIPWAY_CONTROLLER_CONTROLLER_H

#include <stddef.h>
#include <stdint.h>

#include "core/deployment.h"
#include "core/judge.h"
#include "core/metrics-t.h"
#include "core/query_analysis.h"
#include "core/router-t.h"
#include "core/rules-t.h"
#include "core/target-t.h"

struct store;
struct strbuf;

/*
 * The pre-start and pre-advance gate (policy window/freeze, approvals,
 * incidents, preflight such as webhook reachability).  phase 0: may a
 * pending deployment start; phase 1: may a progressing one raise its
 * weight (a window that closed holds it).  Return GATE_ALLOW, GATE_WAIT or
 * GATE_DENY and put the reason (rule and numbers) in reason.  NULL = allow.
 */
enum gate_phase { GATE_PHASE_START = 0, GATE_PHASE_ADVANCE = 1 };
struct controller_hooks {
	void *ctx;
	enum gate_result (*gate)(void *ctx, const struct deployment *d, enum gate_phase phase, int64_t now_ms,
				 struct strbuf *reason);
	/* the type's rules (policy_type_rules() once wired); NULL = type_rules_default() */
	int (*rules)(void *ctx, const char *type, struct type_rules *out, struct strbuf *err);
	/* after a commit: an event of deployment d (best effort; the transitions table is the outbox) */
	void (*notify)(void *ctx, const struct deployment *d, const char *event, const char *text);
	/* a problem handled by skipping a deployment this tick (store conflict, router error, ...) */
	void (*log)(void *ctx, const struct deployment *d, const char *message);
	/*
	 * Preflight of the strategy's webhooks before a pending deployment
	 * starts (docs/engine.md, "Where slipway differs from Flagger"): 0 when url is reachable, else < 0 with the
	 * reason; the deployment then fails before any traffic moves.
	 * controller_init() sets webhook_check_reachable(); NULL skips it.
	 */
	int (*webhook_check)(const char *url, int64_t timeout_ms, struct strbuf *err);
	/*
	 * Call one of the strategy's webhooks with a JSON payload (Flagger's:
	 * name, namespace, phase, metadata): 0 and the HTTP status, or < 0.
	 * controller_init() sets webhook_call(); NULL calls none.  When they
	 * are called and what their answer does (Flagger semantics):
	 *   confirm-rollout    pending, before starting: not 2xx = wait
	 *   pre-rollout        end of the warm-up interval: not 2xx = failed check
	 *   rollout            each analysis interval: not 2xx = failed check
	 *   confirm-promotion  after the last step: not 2xx = hold at it
	 *   rollback           each analysis interval: 2xx = roll back now
	 *   post-rollout       after succeeded / rolled_back / failed: logged
	 *   event              with every notification: logged
	 */
	int (*webhook_call)(const struct webhook *w, const char *payload, long *status, struct strbuf *err);
	/*
	 * Fencing (docs/serve.md "The lease"): called inside the tick's write
	 * transaction, before any decision is written; < 0 (reason in err)
	 * rolls the whole tick back, so nothing is committed and nothing is
	 * acted on.  `slipway serve` checks there that it still holds the
	 * store's controller lease.  NULL: no check (in-process deploy, tests).
	 */
	int (*fence)(void *ctx, struct store *st, struct strbuf *err);
	/*
	 * The clock request logs are stamped with (ms; the wall clock in
	 * `slipway deploy`, which controller_tick()'s now_ms follows a little
	 * behind), read before and after applying a changed desired state.  An
	 * application that took longer than one analysis interval (the `ssh`
	 * target starting, probing and draining instances on remote hosts,
	 * docs/fleet.md) ends the deployment's unobserved time there: the
	 * intervals it spanned measured a state the router and target did not
	 * show yet, so they are not judged, the schedule restarts at its end and
	 * the hold counts from then (tick_input.observed_since_ms).  NULL: an
	 * application takes no time (simulations, tests on a simulated clock).
	 */
	int64_t (*now)(void *ctx);
};

struct controller_stats {
	uint64_t ticks, visits, commits, transitions, actuations, errors;
};

struct controller_applied;	/* internal: what was last applied, per deployment */

struct controller {
	struct store *st;
	const struct router *router;
	const struct target *target;
	const struct metrics_provider *metrics;
	const struct judge *judge;
	struct controller_hooks hooks;
	struct controller_stats stats;
	struct controller_applied *applied;	/* owned */
	size_t n_applied, alloc_applied;
	/*
	 * The store refusing commits (a full disk, an I/O error): while it
	 * does, ticks back off (1 s doubling to 30 s of the controller's
	 * clock) and decide nothing, so nothing is acted on either and the
	 * traffic stays as it is; reported once through hooks.log.  After
	 * CONTROLLER_STORE_GIVE_UP_MS of failures controller_tick() returns
	 * SW_ESTORE and sets store_gave_up: the caller should stop.
	 */
	int store_failures;		/* failed commits in a row */
	int64_t store_failing_since;	/* controller time of the first, or 0 */
	int64_t store_retry_ms;		/* no tick's work before this controller time */
	int store_gave_up;
	/*
	 * Which deployments this controller drives: with service (and env) set,
	 * only those of that service environment (a controller whose router and
	 * target are one service environment's must not act on another's);
	 * NULL: every deployment in the store (engine-sim, tests, benchmark).
	 * Borrowed strings.
	 */
	const char *service, *env;
	/*
	 * Set by controller_tick() when a deployment it judged still has an
	 * analysis range complete at now_ms: its looks are shorter than the
	 * caller's tick (a large time scale: 10 s looks at 600x are 17 ms).
	 * The caller may tick again at once, at the same now_ms, so the
	 * schedule keeps up with the clock instead of judging one range a tick.
	 * Only for ranges shorter than CONTROLLER_SHORT_RANGE_MS (the live
	 * tick): a controller behind for another reason (a blocking restart)
	 * catches up one range a tick, as before.
	 */
	int analysis_behind;
	/*
	 * The rollout file's own queries (core/query_analysis.h; docs/argo.md,
	 * "How a deployment runs them"): Flagger MetricTemplate checks and Argo
	 * analysis runs.  NULL: none.  Each tick, for each deployment, the
	 * queries due are run through measure() (deploy:
	 * analysis_prom_measure() of controller/analysis_plan.h; a fake in the
	 * tests), and the verdict holds the step, counts a failed check, pauses
	 * or rolls back; the last measurements go with every analysis result
	 * as its "queries".  The state is the controller's (a controller
	 * restarted mid-run starts the step's analysis again).  Borrowed.
	 */
	const struct query_plan *queries;
	void *measure_ctx;
	void (*measure)(void *ctx, const struct query_plan *plan, int i, const struct deployment *d, int64_t at_ms,
			struct query_answer *out);
	int observing;			/* set at the first tick */
	int64_t observing_since_ms;	/* the first tick of this controller: intervals before it are not judged */
};
#define CONTROLLER_STORE_GIVE_UP_MS (2 * 60 * 1000)
#define CONTROLLER_SHORT_RANGE_MS 100	/* analysis_behind: ranges shorter than the live tick */

/* Set up c over st (which must outlive it); every plug-in NULL. */
void controller_init(struct controller *c, struct store *st);
void controller_release(struct controller *c);

/*
 * One tick at now_ms; see controller.c for what runs.  Returns the number
 * of deployments still active (non-final or with unapplied intents), or
 * SW_ESTORE when the store could not even be listed or is no longer the
 * file it opened (deleted or replaced: store_check_identity()).  Per-deployment
 * problems are logged through hooks.log and retried next tick.
 */
int controller_tick(struct controller *c, int64_t now_ms, struct strbuf *err);

/*
 * Forget what was applied (as after a restart): the next tick re-applies
 * every active deployment's desired state.
 */
void controller_forget(struct controller *c);

#endif
