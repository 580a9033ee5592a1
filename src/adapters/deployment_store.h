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
 */
#ifndef SLIPWAY_ADAPTERS_DEPLOYMENT_STORE_H
#define SLIPWAY_ADAPTERS_DEPLOYMENT_STORE_H

struct store;
struct strbuf;

/* Create or upgrade the module's tables.  0 or SW_ESTORE with detail in err. */
int deployment_store_migrate(struct store *st, struct strbuf *err);

#endif
