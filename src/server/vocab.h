/*
 * vocab.h - the one JSON vocabulary of `-o json` (docs/schema/, README
 * "JSON output"): every top-level document is an object carrying
 * "apiVersion": "slipway/v1" and a "kind" ("Deployment", "DeploymentList",
 * "Approval", ...); a list is {"kind": "XList", "items": [...]}; times are
 * RFC 3339 UTC strings named *_at (null when not yet); a deployment, an
 * approval, an incident and a transition are built here only, so they look
 * the same in every command.  An analysis result is core's
 * analysis_result_to_json() everywhere.  The HTTP API (server/api.h) speaks
 * it too, so it lives below both.
 */
#ifndef SLIPWAY_SERVER_VOCAB_H
#define SLIPWAY_SERVER_VOCAB_H

#include <jansson.h>
#include <stdint.h>

#define VOCAB_API_VERSION "slipway/v1"

struct deployment_record;
struct transition_record;
struct approval;
struct incident;
struct notify_delivery_row;

/* A new top-level document {"apiVersion": "slipway/v1", "kind": kind}. */
json_t *vocab_doc(const char *kind);
/* {"apiVersion", "kind": kind, "items": items}; items (an array) is stolen.
 * kind names the list ("DeploymentList"). */
json_t *vocab_list_doc(const char *kind, json_t *items);

/* o[key] = ms as RFC 3339 UTC ("2026-12-03T15:00:00Z"), or null when ms is
 * 0 or RECORD_TIME_NONE (not yet). */
void vocab_json_time(json_t *o, const char *key, int64_t ms);
/* o[key] = v, or null for NULL. */
void vocab_json_str(json_t *o, const char *key, const char *v);

/*
 * A deployment: id, service, env, version, from_version, revision, type,
 * class, strategy, state, step, weight (percent), failed_checks, reason,
 * requested_by, created_at, started_at, updated_at (when it entered its
 * state), finished_at, duration_s, waited_s, ran_s (the time pending or paused, and running), commit_sha, commit_time,
 * emergency_reason, time_scale, steps (the strategy's step count, 0 when
 * unknown), hold_until (while progressing: when the current step's minimum
 * hold ends, wall time; else null).
 */
json_t *vocab_deployment_json(const struct deployment_record *d);
/* A transition: at, from, to, step, weight, reason[, detail]. */
json_t *vocab_transition_json(const struct transition_record *t);

/* A transition as the event stream sends it (docs/api.md "Live events"):
 * vocab_transition_json() and seq, deployment_id, service, env, version. */
struct transition_event;
json_t *vocab_transition_event_json(const struct transition_event *e);
/* An approval: id, deployment_id, role, by, decision, at, comment, identity. */
json_t *vocab_approval_json(const struct approval *a, const char *comment, const char *identity);
/* An incident: id, service, env, title, state (open, resolved), opened_by,
 * created_at, resolved_by, resolved_at, deployment_id. */
json_t *vocab_incident_json(const struct incident *i);
/* A notification delivery: id, message_id, deployment_id, kind, channels,
 * sink, state (queued, sent, retrying, gave_up), attempts, last_status,
 * last_error, created_at, updated_at, next_attempt_at, sent_at. */
json_t *vocab_delivery_json(const struct notify_delivery_row *m);

#endif
