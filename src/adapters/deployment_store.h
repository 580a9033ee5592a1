/*
 * deployment_store.h - the "deployments" module of the store: deployments,
 * their transitions, the intents people record, and analysis results.
 *
 * Tables (migration 1; later migrations only add):
 *   deployments(id, service, env, version, revision, from_version, type, class,
 *     strategy, state, step, weight, failed_checks, reason, requested_by,
 *     emergency_reason, commit_sha, commit_time_ms, created_ms, started_ms,
 *     finished_ms, state_since_ms, spec_json)
 *     state is one of: pending progressing paused promoting monitoring
 *     succeeded rolling_back rolled_back failed (final: succeeded rolled_back
 *     failed).  Times are ms since the epoch, UTC.  weight is percent 0-100.
 *   transitions(id, deployment_id, at_ms, from_state, to_state, step, weight,
 *     reason, detail_json)        one row per state change, committed before
 *                                 the change is acted on
 *   intents(id, deployment_id, kind, arg, requested_by, created_ms,
 *     applied_ms, result)         promote|pause|resume|abort|retry|undo|...
 *   analysis_results(id, deployment_id, at_ms, step, weight, verdict, reason,
 *     table_json)                 one per analysis interval, with the
 *                                 runbook's comparison table
 * Migration 2 adds deployments.engine_json (the state machine's cursor:
 * group, step_since_ms, next_analysis_ms, inconclusive_since_ms,
 * monitoring_since_ms, resume_state, paused_by_rule, host_away_since_ms
 * when a hold on a fleet host is under way, baseline) and
 * deployments.engine_seq (row version for optimistic concurrency: two
 * controllers never both commit a transition of one deployment).
 * spec_json holds {"strategy": strategy_to_json()}.
 *
 * The transitions table doubles as the outbox: a notifier that must not
 * lose a message reads transitions rather than trusting the controller's
 * best-effort notification after the commit.
 */
#ifndef SLIPWAY_ADAPTERS_DEPLOYMENT_STORE_H
#define SLIPWAY_ADAPTERS_DEPLOYMENT_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "core/deployment.h"
#include "core/strategy.h"

struct store;
struct strbuf;

/* Create or upgrade the module's tables.  0 or SW_ESTORE with detail in err. */
int deployment_store_migrate(struct store *st, struct strbuf *err);

/*
 * Insert deployment *d (state pending) with strategy *s and its first
 * transition ("" -> pending, reason d->reason), in one transaction.
 * d->revision 0 means "the next revision number of service/env".  Sets
 * d->id, d->revision and d->store_seq.  0 or SW_ESTORE.
 */
int deployment_store_create(struct store *st, struct deployment *d, const struct strategy *s,
			    struct strbuf *err);

/*
 * Insert deployment *d already final (d->state succeeded, rolled_back,
 * failed...) with its history: t[0] is its first transition ("" ->
 * pending; its from is ignored), t[1..nt-1] the moves after it, the last
 * one to d->state; at_ms are wall-clock ms.  One transaction: a
 * controller never sees it unfinished (docs/databases.md, the release
 * deployed with a migration).  Sets d->id, d->revision, d->store_seq.  0,
 * SW_EUSAGE (transitions that do not start at pending or end at d->state;
 * nothing written) or SW_ESTORE.
 */
int deployment_store_create_final(struct store *st, struct deployment *d, const struct strategy *s,
				  const struct transition *t, int nt, struct strbuf *err);

/* Read deployment id (and its strategy when s is not NULL).  0, SW_ENOTFOUND or SW_ESTORE/SW_EPARSE. */
int deployment_store_load(struct store *st, int64_t id, struct deployment *d, struct strategy *s,
			  struct strbuf *err);

/*
 * The ids the controller must look at: every non-final deployment and
 * every deployment with an intent not yet applied, oldest first, among
 * those created before before_ms (a deployment created during a tick is
 * first visited on the next one, restart or not: this keeps replays
 * deterministic).  *ids is malloc'ed (caller frees).  0 or SW_ESTORE.
 */
int deployment_store_active(struct store *st, int64_t before_ms, int64_t **ids, size_t *n, struct strbuf *err);
/* The same, of one service (and environment) only; NULL service (or env): all. */
int deployment_store_active_of(struct store *st, const char *service, const char *env, int64_t before_ms,
			       int64_t **ids, size_t *n, struct strbuf *err);

/*
 * The service environments with work for a controller (`slipway serve`,
 * docs/serve.md): those with a non-final deployment or an intent not yet
 * applied.  For each, focus is the deployment the work is about: the
 * unfinished one when there is one (at most one, deployments_one_unfinished),
 * else the newest with an unapplied intent.  *out is malloc'ed (caller
 * frees).  0 or SW_ESTORE.
 */
struct deployment_work {
	char service[SW_NAME_MAX + 1];
	char env[SW_NAME_MAX + 1];
	int64_t focus;
};
int deployment_store_work(struct store *st, struct deployment_work **out, size_t *n, struct strbuf *err);

/* Up to max intents of deployment id not yet applied, oldest first.  0 or SW_ESTORE. */
int deployment_store_intents(struct store *st, int64_t id, struct intent *out, int max, int *n,
			     struct strbuf *err);

/*
 * Record a person's intent (docs/engine.md) for the controller.  kind as in
 * enum intent_kind; full for promote --full; to_revision for undo.  Sets
 * *intent_id when not NULL.  0, SW_ENOTFOUND (no such deployment) or SW_ESTORE.
 */
int deployment_store_add_intent(struct store *st, int64_t deployment_id, const struct intent *it,
				int64_t *intent_id, struct strbuf *err);

/*
 * Commit one decision of the state machine atomically, BEFORE anything acts
 * on it (DESIGN.md principle 1, deployment.c invariant 2): the deployment
 * row (only if still at before->store_seq: else SW_ESTATE, nothing
 * written), its transitions, the intents it consumed (each marked applied
 * exactly once), its analysis result, and the deployments that retry/undo
 * create.  *created gets the ids of those (up to max_created; may be NULL).
 * 0, SW_ESTATE (someone else committed first) or SW_ESTORE.
 */
int deployment_store_commit(struct store *st, const struct deployment *before, const struct strategy *s,
			    const struct decision *dec, int64_t now_ms, int64_t *created, int max_created,
			    struct strbuf *err);

/*
 * The same writes inside a transaction the caller opened (store_begin(),
 * usually with one SAVEPOINT per deployment): the controller commits all
 * decisions of a tick in one transaction, one fsync instead of one per
 * deployment.  On failure the caller rolls back (to its savepoint).
 */
int deployment_store_apply(struct store *st, const struct deployment *before, const struct strategy *s,
			   const struct decision *dec, int64_t now_ms, int64_t *created, int max_created,
			   struct strbuf *err);

/*
 * Resolve what a person typed: a deployment id ("12") or a service name
 * (its most recent deployment; with active_only, its most recent non-final
 * one).  0, SW_ENOTFOUND with a message, or SW_ESTORE.
 */
/*
 * Record an event of the infrastructure under deployment id (e.g. "router:
 * HAProxy pid 123 was gone; restarted from its mirrored configuration") as
 * a transitions row that keeps the state, step and weight: the record shows
 * what happened and when (at_ms, the controller's clock).  0 or SW_ESTORE.
 */
int deployment_store_note(struct store *st, int64_t id, int64_t at_ms, const char *text, struct strbuf *err);

int deployment_store_resolve(struct store *st, const char *ref, int active_only, int64_t *id,
			     struct strbuf *err);

/* The version serving now for service/env: the latest succeeded deployment's, latest by id
 * (created after every earlier one finished: one unfinished deployment at a time), never by
 * finished_ms, which is on each deployment's own, possibly time-scaled, clock (buf "" if none).
 * 0 or SW_ESTORE. */
int deployment_store_current_version(struct store *st, const char *service, const char *env, char *buf,
				     size_t size, struct strbuf *err);

#endif
