/*
 * documents.h - the whole documents (docs/schema/KIND.json) that both the
 * CLI's -o json and the HTTP API (docs/api.md) return, and the one way to
 * record an intent.  Built here once so a deployment's detail, an approval
 * gate or a DORA report is the same document whichever front end asked,
 * with the same error messages.  The objects inside them are vocab.h's.
 */
#ifndef SLIPWAY_SERVER_DOCUMENTS_H
#define SLIPWAY_SERVER_DOCUMENTS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "adapters/approvals.h"
#include "adapters/emergency.h"
#include "adapters/incidents.h"
#include "adapters/notify.h"
#include "adapters/records.h"
#include "core/deployment-t.h"

struct store;
struct strbuf;
struct policy;
struct policy_file;
struct roles_map;
struct audit_verify_result;
struct audit_entry;
struct dora_report;
struct calendar_result;
struct calendar;
struct metrics_revision;
struct metrics_accounting;
struct revision_weight;

/*
 * Everything `show` and `status ID` tell about one deployment, loaded
 * once: 0, SW_ENOTFOUND or SW_ESTORE with err; release with
 * deployment_view_release() either way.
 */
struct deployment_view {
	struct deployment_record d;
	struct transition_record *tr;
	struct approval_set ap;
	struct emergency_record em;
	struct notify_delivery_row *msgs;
	struct incident *inc;
	char *verdict, *reason, *table;
	size_t ntr, nmsgs, ninc;
	int64_t an_at;
	int have_em;
};
int deployment_view_load(struct store *st, int64_t id, struct deployment_view *v, struct strbuf *err);
void deployment_view_release(struct deployment_view *v);

/*
 * The DeploymentDetail document of deployment id: deployment, transitions,
 * intents, last_analysis, approvals, emergency, incidents, messages.
 * `show -o json`, `status ID -o json` and GET /api/v1/deployments/ID.
 * 0 with *out (caller owns), SW_ENOTFOUND or SW_ESTORE with err.
 */
int doc_deployment_detail(struct store *st, int64_t id, json_t **out, struct strbuf *err);

/*
 * The DeploymentAnalysis document of deployment id: its analysis results
 * with a row id above after (0: from the first), oldest first, at most
 * limit (0: all), each with its id, at, step, weight, verdict, reason,
 * error_rate_pct and p99_ms ({stable, canary}: the comparison table's
 * baseline and current, percent and ms, null without data) and the
 * table; with the deployment's state and whether it is final.  For the
 * dashboard's chart (docs/dashboard.md) and GET
 * /api/v1/deployments/ID/analysis.  0 with *out (caller owns),
 * SW_ENOTFOUND or SW_ESTORE with err.
 */
int doc_deployment_analysis(struct store *st, int64_t id, int64_t after, size_t limit, json_t **out,
			    struct strbuf *err);

/* The rows of a stored comparison table: the array itself, or its "table" or "rows". */
json_t *doc_table_rows(json_t *t);

/*
 * Record an intent (docs/engine.md "Human controls") on the deployment
 * `ref` names (an id, or a service's current deployment), with its audit
 * entry "intent.NAME" in the same transaction, attributed to
 * requested_by; detail notes identity (how the caller was identified) and
 * relayed_by (who passed it on when that is not requested_by), each may be
 * NULL.  On success 0, *doc the Intent document, *d the deployment as it
 * was.  Errors with the CLI's messages: SW_ENOTFOUND (no such deployment),
 * SW_ESTATE ("deployment N (S V) is succeeded; nothing to abort"),
 * SW_ESTORE.
 */
struct intent_request {
	enum intent_kind kind;
	int full;		/* promote --full */
	int to_revision;	/* undo --to-revision N; 0: the previous one */
	const char *requested_by;
	const char *identity;	/* "os", "env:SLIPWAY_USER (...)", "token:ID" */
	const char *relayed_by;
	int64_t now_ms;
};
int doc_record_intent(struct store *st, const char *ref, const struct intent_request *rq, json_t **doc,
		      struct deployment *d, struct strbuf *err);

/*
 * The approval gate of one deployment, loaded for a document and a text:
 * the required roles (the policy's for the deployment's type and class at
 * `at`, or `require`, a comma-separated list), the decisions and what is
 * missing.  what_if: evaluate only (no expiry audit entries dated then).
 * ttl_ms < 0: the policy's approval_ttl.  0, or SW_ENOTFOUND / SW_ESTORE /
 * SW_EPOLICY with err.  Release with gate_view_release() either way.
 */
struct gate_view {
	int64_t id, ttl_ms, at_ms;
	struct deployment_record d;
	struct approval_set set;
	struct approval_gate gate;
	const char *required[16];
	size_t n_required;
	char *require_copy;
};
int gate_view_load(struct store *st, const struct policy_file *pol, const struct roles_map *roles, int64_t id,
		   const char *require, int64_t ttl_ms, int64_t at_ms, int what_if, struct gate_view *v,
		   struct strbuf *err);
void gate_view_release(struct gate_view *v);
/* The ApprovalGate document. */
json_t *doc_approval_gate(const struct gate_view *v);

/* AuditVerification: intact, entries, head[, first_bad_id, why]. */
json_t *doc_audit_verification(const struct audit_verify_result *v);
/* AuditEntryList of e[0..n). */
json_t *doc_audit_entries(const struct audit_entry *e, size_t n);

/* DoraReport of rep over [from, to) for env and service (NULL: all). */
json_t *doc_dora_report(const struct dora_report *rep, const char *env, const char *service, int64_t from,
			int64_t to);

/* IncidentCheck: allowed, env, type, blocked_by (ids), reason. */
json_t *doc_incident_check(int allowed, const char *env, const char *type, const int64_t *ids, size_t n,
			   const char *reason);

/* TrafficMode: service, env, mode, message. */
json_t *doc_traffic_mode(const char *service, const char *env, const char *mode, const char *message);

/*
 * MetricsReport of one service's revisions over window_ms up to to_ms:
 * requests, errors, rate, latency percentiles per revision, their weights
 * (w[0..nw), NULL: unknown), the receiver's pid (<= 0: not running) and
 * the log accounting.
 */
json_t *doc_metrics_report(const char *service, const char *env, int64_t window_ms, int64_t to_ms, int receiver_pid,
			   const struct metrics_revision *revs, size_t nrevs, const struct revision_weight *w,
			   size_t nw, const struct metrics_accounting *acc);

/*
 * Is type a deployment type of p, and cls (NULL: normal) a change class?
 * 0, or SW_EUSAGE with "unknown deployment type 'x'; did you mean 'y'?;
 * valid: ..." or "unknown change class ..." in err.
 */
int doc_check_type_class(const struct policy *p, const char *type, const char *cls, struct strbuf *err);
/* PolicyCheck of a calendar_check() answer under the policy l. */
json_t *doc_policy_check(const struct policy_file *l, const struct calendar_result *r);
/* Calendar of the spans and freezes of [from, to) for type and class. */
json_t *doc_calendar(const struct policy_file *l, const char *type, const char *cls, int64_t from, int64_t to,
		     const struct calendar *cal);

#endif
