/*
 * documents.c - the documents the CLI and the HTTP API share; see
 * documents.h.  They were built inline in the commands; the API needs the
 * very same ones, so they moved here, below both.
 */
#include "server/documents.h"
#include "server/vocab.h"
#include "adapters/approvals.h"
#include "adapters/audit.h"
#include "adapters/deployment_store.h"
#include "adapters/emergency.h"
#include "adapters/incidents.h"
#include "adapters/metrics_builtin.h"
#include "adapters/notify.h"
#include "adapters/records.h"
#include "adapters/router_haproxy.h"
#include "adapters/sql.h"
#include "adapters/store.h"
#include "base/alloc.h"
#include "base/err.h"
#include "base/fmt.h"
#include "base/strbuf.h"
#include "base/suggest.h"
#include "base/timeutil.h"
#include "controller/policy_file.h"
#include "core/checklist.h"
#include "core/calendar.h"
#include "core/deployment.h"
#include "core/dora.h"
#include "core/policy.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- DeploymentDetail ---- */

json_t *doc_table_rows(json_t *t)
{
	if (json_is_array(t))
		return t;
	if (json_is_array(json_object_get(t, "table")))
		return json_object_get(t, "table");
	return json_object_get(t, "rows");
}

/* The pending and applied intents of deployment id: [{id, action, arg, requested_by, created_at,
 * applied_at, result}]. */
static int intents_json(struct store *st, int64_t id, json_t **out, struct strbuf *err)
{
	_cleanup_sql_ struct sql_stmt *q = NULL;
	json_t *a;
	int r = sql_prepare(st, &q, "SELECT id, kind, arg, requested_by, created_ms, applied_ms, result FROM intents "
			      "WHERE deployment_id = ? ORDER BY id", err);
	if (r < 0)
		return r;
	a = json_array();
	sql_bind_int64(q, 1, id);
	while (sql_step(q, NULL) == SQL_ROW) {
		json_t *o = json_object();
		json_object_set_new(o, "id", json_integer(sql_column_int64(q, 0)));
		vocab_json_str(o, "action", sql_column_text(q, 1));
		vocab_json_str(o, "arg", sql_column_text(q, 2));
		vocab_json_str(o, "requested_by", sql_column_text(q, 3));
		vocab_json_time(o, "created_at", sql_column_int64(q, 4));
		json_object_set_new(o, "applied", json_boolean(!sql_column_is_null(q, 5)));
		vocab_json_time(o, "applied_at", sql_column_is_null(q, 5) ? 0 : sql_column_int64(q, 5));
		vocab_json_str(o, "result", sql_column_text(q, 6));
		json_array_append_new(a, o);
	}
	*out = a;
	return 0;
}

void deployment_view_release(struct deployment_view *v)
{
	free(v->verdict);
	free(v->reason);
	free(v->table);
	transition_records_free(v->tr, v->ntr);
	approval_set_release(&v->ap);
	if (v->have_em)
		emergency_record_release(&v->em);
	notify_delivery_rows_free(v->msgs, v->nmsgs);
	incidents_free(v->inc, v->ninc);
	deployment_record_release(&v->d);
}

int deployment_view_load(struct store *st, int64_t id, struct deployment_view *v, struct strbuf *err)
{
	int r;
	memset(v, 0, sizeof(*v));
	if ((r = records_get(st, id, &v->d, err)) || (r = records_transitions(st, id, &v->tr, &v->ntr, err)) ||
	    (r = records_last_analysis(st, id, &v->verdict, &v->reason, &v->table, &v->an_at, err)) ||
	    (r = approvals_load(st, id, &v->ap, err)) || (r = notify_list(st, id, 0, &v->msgs, &v->nmsgs, err)) ||
	    (r = incident_list(st, NULL, 0, &v->inc, &v->ninc, err)))
		return r;
	if ((r = emergency_record_get(st, id, &v->em, err)) < 0)
		return r;
	v->have_em = r == 0;
	return 0;
}

int doc_deployment_detail(struct store *st, int64_t id, json_t **out, struct strbuf *err)
{
	struct deployment_view v;
	json_t *j, *tl, *apj, *mj, *ij, *intents = NULL;
	int r;

	if ((r = deployment_view_load(st, id, &v, err)) || (r = intents_json(st, id, &intents, err)))
		goto out;
	j = vocab_doc("DeploymentDetail");
	json_object_set_new(j, "deployment", vocab_deployment_json(&v.d));
	tl = json_array();
	for (size_t i = 0; i < v.ntr; i++)
		json_array_append_new(tl, vocab_transition_json(&v.tr[i]));
	json_object_set_new(j, "transitions", tl);
	json_object_set_new(j, "intents", intents);
	intents = NULL;
	if (v.table) {
		json_t *tj = json_loads(v.table, 0, NULL);
		json_t *cmp = json_object(), *rows = tj ? doc_table_rows(tj) : NULL;
		vocab_json_time(cmp, "at", v.an_at);
		vocab_json_str(cmp, "verdict", v.verdict);
		vocab_json_str(cmp, "reason", v.reason);
		json_object_set(cmp, "table", rows ? rows : json_null());
		json_object_set_new(cmp, "analysis", tj ? tj : json_string(v.table));
		json_object_set_new(j, "last_analysis", cmp);
	} else {
		json_object_set_new(j, "last_analysis", json_null());
	}
	apj = json_array();
	for (size_t i = 0; i < v.ap.n; i++)
		json_array_append_new(apj, vocab_approval_json(&v.ap.v[i], v.ap.comments[i], v.ap.identities[i]));
	json_object_set_new(j, "approvals", apj);
	if (v.have_em) {
		json_t *e = json_object();
		vocab_json_str(e, "reason", v.em.reason);
		vocab_json_str(e, "requested_by", v.em.requested_by);
		vocab_json_str(e, "approver", v.em.approver);
		vocab_json_time(e, "created_at", v.em.created_ms);
		vocab_json_time(e, "approved_at", v.em.approved_ms);
		vocab_json_time(e, "ended_at", v.em.ended_ms);
		json_object_set_new(j, "emergency", e);
	} else {
		json_object_set_new(j, "emergency", json_null());
	}
	ij = json_array();
	for (size_t i = 0; i < v.ninc; i++)
		if (v.inc[i].deployment_id == id)
			json_array_append_new(ij, vocab_incident_json(&v.inc[i]));
	json_object_set_new(j, "incidents", ij);
	mj = json_array();
	for (size_t i = v.nmsgs; i-- > 0;)
		json_array_append_new(mj, vocab_delivery_json(&v.msgs[i]));
	json_object_set_new(j, "messages", mj);
	*out = j;
out:
	json_decref(intents);
	deployment_view_release(&v);
	return r;
}

/* {"stable": baseline, "canary": current} of the table's row named metric (nulls when absent). */
static json_t *pair_of(json_t *rows, const char *metric)
{
	size_t i;
	json_t *row;
	json_array_foreach(rows, i, row) {
		const char *m = json_string_value(json_object_get(row, "metric"));
		if (m && !strcmp(m, metric)) {
			json_t *b = json_object_get(row, "baseline"), *c = json_object_get(row, "current");
			return json_pack("{s:O, s:O}", "stable", json_is_number(b) ? b : json_null(), "canary",
					 json_is_number(c) ? c : json_null());
		}
	}
	return json_pack("{s:n, s:n}", "stable", "canary");
}

int doc_deployment_analysis(struct store *st, int64_t id, int64_t after, size_t limit, json_t **out,
			    struct strbuf *err)
{
	struct deployment_record d = { 0 };
	struct analysis_record *a = NULL;
	size_t n = 0;
	json_t *items, *j;
	int r;

	if ((r = records_get(st, id, &d, err)) || (r = records_analyses(st, id, after, limit, &a, &n, err)))
		goto out;
	items = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *o = json_object(), *tj = a[i].table_json ? json_loads(a[i].table_json, 0, NULL) : NULL;
		json_t *rows = tj ? doc_table_rows(tj) : NULL;
		if (!json_is_array(rows))
			rows = NULL;
		json_object_set_new(o, "id", json_integer(a[i].id));
		vocab_json_time(o, "at", a[i].at_ms);
		json_object_set_new(o, "step", json_integer(a[i].step));
		json_object_set_new(o, "weight", json_real(a[i].weight));
		vocab_json_str(o, "verdict", a[i].verdict);
		vocab_json_str(o, "reason", a[i].reason);
		json_object_set_new(o, "error_rate_pct", pair_of(rows, "Error Rate"));
		json_object_set_new(o, "p99_ms", pair_of(rows, "P99 Latency"));
		json_object_set(o, "table", rows ? rows : json_null());
		json_decref(tj);
		json_array_append_new(items, o);
	}
	j = vocab_list_doc("DeploymentAnalysis", items);
	json_object_set_new(j, "deployment_id", json_integer(id));
	vocab_json_str(j, "state", d.state);
	json_object_set_new(j, "final", json_boolean(record_state_is_final(d.state)));
	*out = j;
out:
	analysis_records_free(a, n);
	deployment_record_release(&d);
	return r;
}

/* ---- intents ---- */

int doc_record_intent(struct store *st, const char *ref, const struct intent_request *rq, json_t **doc,
		      struct deployment *dout, struct strbuf *err)
{
	const char *name = intent_kind_name(rq->kind);
	struct intent it;
	struct deployment d;
	int64_t id, intent_id = 0;
	int r, own;

	memset(&it, 0, sizeof(it));
	it.kind = rq->kind;
	it.full = rq->full;
	it.to_revision = rq->to_revision;
	if ((r = deployment_store_resolve(st, ref, rq->kind != INTENT_RETRY && rq->kind != INTENT_UNDO, &id, err)) < 0 ||
	    (r = deployment_store_load(st, id, &d, NULL, err)) < 0)
		return r;
	if (deployment_state_is_final(d.state) && rq->kind != INTENT_RETRY && rq->kind != INTENT_UNDO) {
		strbuf_errf(err, "deployment %lld (%s %s) is %s; nothing to %s", (long long)d.id, d.service, d.version,
			    deployment_state_name(d.state), name);
		return SW_ESTATE;
	}
	if (bsnprintf(it.requested_by, sizeof(it.requested_by), "%s", rq->requested_by) < 0) {
		strbuf_errf(err, "the requester '%s' is longer than %zu bytes", rq->requested_by,
			    sizeof(it.requested_by) - 1);
		return SW_EUSAGE;
	}
	it.created_ms = rq->now_ms;
	/* the intent and its audit entry commit together: who asked for what is in the chain */
	if ((own = store_tx_begin(st, err)) < 0)
		return own;
	r = deployment_store_add_intent(st, id, &it, &intent_id, err);
	if (r >= 0) {
		char action[32], subject[48];
		json_t *detail = json_object();

		xsnprintf(action, sizeof(action), "intent.%s", name);
		xsnprintf(subject, sizeof(subject), "deployment:%lld", (long long)id);
		json_object_set_new(detail, "intent_id", json_integer(intent_id));
		if (it.full)
			json_object_set_new(detail, "full", json_true());
		if (it.to_revision)
			json_object_set_new(detail, "to_revision", json_integer(it.to_revision));
		if (rq->identity)
			json_object_set_new(detail, "identity", json_string(rq->identity));
		if (rq->relayed_by)
			json_object_set_new(detail, "relayed_by", json_string(rq->relayed_by));
		if (audit_append_json(st, it.created_ms, it.requested_by, action, subject, detail, err) < 0)
			r = SW_ESTORE;
	}
	if ((r = store_tx_end(st, own, r, err)) < 0)
		return r;
	*doc = vocab_doc("Intent");
	json_object_set_new(*doc, "id", json_integer(intent_id));
	json_object_set_new(*doc, "deployment_id", json_integer(d.id));
	json_object_set_new(*doc, "action", json_string(name));
	json_object_set_new(*doc, "full", json_boolean(it.full));
	json_object_set_new(*doc, "to_revision", it.to_revision ? json_integer(it.to_revision) : json_null());
	json_object_set_new(*doc, "requested_by", json_string(it.requested_by));
	vocab_json_time(*doc, "created_at", it.created_ms);
	json_object_set_new(*doc, "deployment_state", json_string(deployment_state_name(d.state)));
	if (dout)
		*dout = d;
	return 0;
}

/* ---- the approval gate ---- */

static size_t split_roles(char *list, const char **out, size_t max)
{
	size_t n = 0;
	for (char *p = list; p && *p && n < max;) {
		char *comma = strchr(p, ',');
		if (comma)
			*comma++ = '\0';
		if (*p)
			out[n++] = p;
		p = comma;
	}
	return n;
}

int gate_view_load(struct store *st, const struct policy_file *pol, const struct roles_map *roles, int64_t id,
		   const char *require, int64_t ttl_ms, int64_t at_ms, int what_if, struct gate_view *v,
		   struct strbuf *err)
{
	int r;

	memset(v, 0, sizeof(*v));
	v->id = id;
	v->at_ms = at_ms;
	v->ttl_ms = ttl_ms < 0 ? policy_approval_ttl_ms(&pol->p) : ttl_ms;
	if ((r = records_get(st, id, &v->d, err)))
		return r;
	if (require) {
		v->require_copy = xstrdup(require);
		v->n_required = split_roles(v->require_copy, v->required, ARRAY_SIZE(v->required));
	} else {
		r = policy_approvals_at(pol, v->d.type, v->d.class_ ? v->d.class_ : "normal", at_ms, v->required,
					ARRAY_SIZE(v->required), err);
		if (r < 0)
			return r;
		v->n_required = (size_t)r;
	}
	if (what_if) {
		/* a "what if" at another time: evaluate only, write no expiry entries dated then */
		r = approvals_load(st, id, &v->set, err);
		if (!r)
			r = approval_gate_eval(id, v->required, v->n_required, roles->roles, roles->n, v->set.requester,
					       v->ttl_ms, at_ms, v->set.v, v->set.n, &v->gate, err);
		return r;
	}
	return approvals_gate(st, id, v->required, v->n_required, roles->roles, roles->n, v->ttl_ms, at_ms, &v->set,
			      &v->gate, err);
}

void gate_view_release(struct gate_view *v)
{
	approval_gate_release(&v->gate);
	approval_set_release(&v->set);
	deployment_record_release(&v->d);
	free(v->require_copy);
	memset(v, 0, sizeof(*v));
}

json_t *doc_approval_gate(const struct gate_view *v)
{
	const struct approval_gate *gate = &v->gate;
	const struct approval_set *set = &v->set;
	json_t *j = vocab_doc("ApprovalGate"), *req = json_array(), *missing = json_array(), *granted = json_array(),
	       *decisions = json_array();
	char at[RFC3339_BUFSZ], dur[DURATION_BUFSZ];

	for (size_t i = 0; i < v->n_required; i++)
		json_array_append_new(req, json_string(v->required[i]));
	for (size_t i = 0; i < gate->n_missing; i++) {
		const struct approval_missing *m = &gate->missing[i];
		json_t *o = json_pack("{s:s, s:s}", "role", m->role, "why", approval_why_str(m->why));
		if (m->who) {
			json_object_set_new(o, "by", json_string(m->who));
			json_object_set_new(o, "at", json_string(time_format_rfc3339(m->at_ms, at)));
			json_object_set_new(o, "decision_id", json_integer(m->approval_id));
		}
		json_array_append_new(missing, o);
	}
	for (size_t i = 0; i < set->n; i++) {
		const struct approval *a = &set->v[i];
		int counts = 0;
		json_t *o;
		for (size_t k = 0; k < gate->n_granted; k++)
			counts |= gate->granted_ids[k] == a->id;
		if (counts)
			json_array_append_new(granted, json_pack("{s:s, s:s, s:s, s:I}", "role", a->role, "by", a->approver,
								 "at", time_format_rfc3339(a->at_ms, at), "decision_id",
								 (json_int_t)a->id));
		o = vocab_approval_json(a, set->comments[i], set->identities[i]);
		json_object_set_new(o, "counts", json_boolean(counts));
		json_array_append_new(decisions, o);
	}
	json_object_set_new(j, "deployment_id", json_integer(v->id));
	json_object_set_new(j, "requested_by", json_string(set->requester ? set->requester : ""));
	json_object_set_new(j, "open", json_boolean(gate->n_missing == 0));
	json_object_set_new(j, "rejected", json_boolean(gate->rejected));
	json_object_set_new(j, "required", req);
	json_object_set_new(j, "approved", granted);
	json_object_set_new(j, "missing", missing);
	json_object_set_new(j, "ttl", json_string(duration_format(v->ttl_ms, dur)));
	json_object_set_new(j, "at", json_string(time_format_rfc3339(v->at_ms, at)));
	json_object_set_new(j, "decisions", decisions);
	return j;
}

/* ---- audit ---- */

json_t *doc_audit_verification(const struct audit_verify_result *v)
{
	json_t *j = vocab_doc("AuditVerification");
	json_object_set_new(j, "intact", json_boolean(!v->bad_id));
	json_object_set_new(j, "entries", json_integer(v->entries));
	json_object_set_new(j, "head", json_string(v->head));
	if (v->bad_id) {
		json_object_set_new(j, "first_bad_id", json_integer(v->bad_id));
		json_object_set_new(j, "why", json_string(v->why));
	}
	return j;
}

json_t *doc_audit_entries(const struct audit_entry *e, size_t n)
{
	json_t *a = json_array();
	char at[RFC3339_BUFSZ];
	for (size_t i = 0; i < n; i++) {
		json_t *detail = json_loads(e[i].detail, 0, NULL);
		json_array_append_new(a, json_pack("{s:I, s:s, s:s, s:s, s:s, s:o, s:s, s:s}", "id", (json_int_t)e[i].id,
						   "at", time_format_rfc3339(e[i].at_ms, at), "actor", e[i].actor,
						   "action", e[i].action, "subject", e[i].subject, "detail",
						   detail ? detail : json_string(e[i].detail), "prev_hash",
						   e[i].prev_hash, "hash", e[i].hash));
	}
	return vocab_list_doc("AuditEntryList", a);
}

/* ---- DORA ---- */

json_t *doc_dora_report(const struct dora_report *rep, const char *env, const char *service, int64_t from,
			int64_t to)
{
	json_t *metrics = json_array(), *months = json_array(), *j;
	char a[RFC3339_BUFSZ], b[RFC3339_BUFSZ];

	for (int i = 0; i < DORA_M_COUNT; i++) {
		const struct dora_metric *m = &rep->m[i];
		const char *unit = i == DORA_M_FREQUENCY ? "deploy-days/week"
				   : (i == DORA_M_DEPLOY_FAILURE_RATE || i == DORA_M_CHANGE_FAILURE_RATE) ? "percent" : "ms";
		json_array_append_new(metrics, json_pack("{s:s, s:s, s:o, s:s, s:s, s:s, s:s, s:s, s:I}", "key", m->key,
							 "name", m->name, "value",
							 m->status == DORA_NO_DATA && i != DORA_M_FREQUENCY
								 ? json_null() : json_real(m->value),
							 "unit", unit, "display", m->display, "target", m->target,
							 "threshold", m->threshold, "status", dora_status_str(m->status),
							 "samples", (json_int_t)m->samples));
	}
	for (size_t i = 0; i < rep->n_months; i++) {
		const struct dora_month *m = &rep->months[i];
		int64_t fin = m->succeeded + m->rolled_back + m->failed;
		char mon[16];
		snprintf(mon, sizeof(mon), "%04d-%02d", m->year, m->month);
		json_array_append_new(months, json_pack("{s:s, s:I, s:I, s:I, s:I, s:o, s:o, s:o}", "month", mon,
							"succeeded", (json_int_t)m->succeeded, "rolled_back",
							(json_int_t)m->rolled_back, "failed", (json_int_t)m->failed,
							"change_failures", (json_int_t)m->change_failures,
							"deployment_failure_rate",
							fin ? json_real(100.0 * (double)(m->rolled_back + m->failed) / (double)fin)
							    : json_null(),
							"change_failure_rate",
							fin ? json_real(100.0 * (double)m->change_failures / (double)fin) : json_null(),
							"lead_time_median_ms",
							m->lead_median_ms == DORA_NONE ? json_null() : json_integer(m->lead_median_ms)));
	}
	j = vocab_doc("DoraReport");
	json_object_update_new(j, json_pack("{s:s, s:s?, s:s, s:s, s:{s:I, s:I, s:I, s:I, s:I}, s:f, s:I, s:o, s:o}",
					    "env", env, "service", service, "since", time_format_rfc3339(from, a),
					    "until", time_format_rfc3339(to, b), "deployments", "finished",
					    (json_int_t)rep->finished, "succeeded", (json_int_t)rep->succeeded,
					    "rolled_back", (json_int_t)rep->rolled_back, "failed", (json_int_t)rep->failed,
					    "change_failures", (json_int_t)rep->change_failures, "deploys_per_day",
					    rep->deploys_per_day, "weeks", (json_int_t)rep->weeks, "metrics", metrics,
					    "monthly", months));
	return j;
}

/* ---- incidents, traffic, metrics ---- */

json_t *doc_incident_check(int allowed, const char *env, const char *type, const int64_t *ids, size_t n,
			   const char *reason)
{
	json_t *a = json_array(), *j = vocab_doc("IncidentCheck");
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_integer(ids[i]));
	json_object_update_new(j, json_pack("{s:b, s:s, s:s, s:o, s:s}", "allowed", allowed, "env", env, "type", type,
					    "blocked_by", a, "reason", reason ? reason : ""));
	return j;
}

json_t *doc_traffic_mode(const char *service, const char *env, const char *mode, const char *message)
{
	json_t *j = vocab_doc("TrafficMode");
	json_object_update_new(j, json_pack("{s:s, s:s, s:s, s:s}", "service", service, "env", env, "mode", mode,
					    "message", message ? message : ""));
	return j;
}

static json_t *num_or_null(double v)
{
	return isnan(v) ? json_null() : json_real(v);
}

json_t *doc_metrics_report(const char *service, const char *env, int64_t window_ms, int64_t to_ms, int receiver_pid,
			   const struct metrics_revision *revs, size_t nrevs, const struct revision_weight *w,
			   size_t nw, const struct metrics_accounting *acc)
{
	json_t *a = json_array(), *j;
	double secs = (double)window_ms / 1000.0;
	char to_at[RFC3339_BUFSZ];

	for (size_t i = 0; i < nrevs; i++) {
		const struct metrics_sample *s = &revs[i].s;
		json_t *wt = json_null();
		for (size_t k = 0; k < nw; k++)
			if (!strcmp(w[k].version, revs[i].version)) {
				json_decref(wt);
				wt = json_real(w[k].weight);
			}
		json_array_append_new(a, json_pack("{s:s, s:o, s:I, s:I, s:f, s:f, s:o, s:o, s:o, s:o}", "version",
						   revs[i].version, "weight", wt, "requests", (json_int_t)s->requests,
						   "errors", (json_int_t)s->errors, "error_rate_pct",
						   s->requests ? 100.0 * (double)s->errors / (double)s->requests : 0.0,
						   "rps", (double)s->requests / secs, "p50_ms", num_or_null(s->p50_ms),
						   "p90_ms", num_or_null(s->p90_ms), "p99_ms", num_or_null(s->p99_ms),
						   "max_ms", num_or_null(s->max_ms)));
	}
	j = vocab_doc("MetricsReport");
	json_object_update_new(j, json_pack("{s:s, s:s, s:I, s:s, s:{s:b, s:i}, s:o, s:{s:I, s:I, s:I, s:I, s:I, s:I, s:b}}",
					    "service", service, "env", env, "window_ms", (json_int_t)window_ms, "to",
					    time_format_rfc3339(to_ms, to_at), "receiver", "running", receiver_pid > 0,
					    "pid", receiver_pid, "revisions", a, "log", "received",
					    (json_int_t)acc->received, "unparseable", (json_int_t)acc->unparseable,
					    "events", (json_int_t)acc->events, "haproxy_requests",
					    (json_int_t)acc->haproxy_requests, "haproxy_dropped",
					    (json_int_t)acc->haproxy_dropped, "lost", (json_int_t)acc->lost, "counted",
					    acc->updated_ms > 0));
	return j;
}

/* ---- policy check and calendar ---- */

int doc_check_type_class(const struct policy *p, const char *type, const char *cls, struct strbuf *err)
{
	if (!policy_find_type(p, type)) {
		struct strbuf v = STRBUF_INIT;
		const char **names = xcalloc(p->types_nr + 1, sizeof(char *));
		const char *sugg;
		for (size_t i = 0; i < p->types_nr; i++) {
			strbuf_addf(&v, "%s%s", i ? ", " : "", p->types[i].name);
			names[i] = p->types[i].name;
		}
		sugg = suggest_nearest(type, names, p->types_nr);
		strbuf_errf(err, "unknown deployment type '%s'%s%s%s; valid: %s", type, sugg ? "; did you mean '" : "",
			    sugg ? sugg : "", sugg ? "'?" : "", v.buf);
		free(names);
		strbuf_release(&v);
		return SW_EUSAGE;
	}
	if (cls && !policy_find_class(p, cls)) {
		struct strbuf v = STRBUF_INIT;
		for (size_t i = 0; i < p->classes_nr; i++)
			strbuf_addf(&v, "%s%s", i ? ", " : "", p->classes[i].name);
		strbuf_errf(err, "unknown change class '%s'; valid: %s", cls, v.buf);
		strbuf_release(&v);
		return SW_EUSAGE;
	}
	return 0;
}

static json_t *json_time_or_null(int64_t ms)
{
	char buf[RFC3339_BUFSZ];
	if (ms == CALENDAR_NO_TIME)
		return json_null();
	return json_string(time_format_rfc3339(ms, buf));
}

static json_t *json_names(const char *const *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static json_t *json_str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

json_t *doc_policy_check(const struct policy_file *l, const struct calendar_result *r)
{
	json_t *j = vocab_doc("PolicyCheck"), *b = json_array(), *next;
	json_object_set_new(j, "allowed", json_boolean(r->allowed));
	json_object_set_new(j, "type", json_string(r->type));
	json_object_set_new(j, "class", json_string(r->change_class));
	json_object_set_new(j, "at", json_time_or_null(r->at_ms));
	json_object_set_new(j, "window", json_str_or_null(r->window));
	json_object_set_new(j, "approvals", json_names(r->approvals, r->approvals_nr));
	for (size_t i = 0; i < r->blocked_nr; i++) {
		json_t *o = json_object();
		json_object_set_new(o, "kind", json_string(r->blocked_by[i].kind == BLOCKER_WINDOW ? "window" : "freeze"));
		json_object_set_new(o, "name", json_string(r->blocked_by[i].name));
		json_object_set_new(o, "until", json_time_or_null(r->blocked_by[i].until_ms));
		json_array_append_new(b, o);
	}
	json_object_set_new(j, "blocked_by", b);
	if (r->has_next) {
		next = json_object();
		json_object_set_new(next, "at", json_time_or_null(r->next_ms));
		json_object_set_new(next, "window", json_str_or_null(r->next_window));
		json_object_set_new(next, "approvals", json_names(r->next_approvals, r->next_approvals_nr));
	} else {
		next = json_null();
	}
	json_object_set_new(j, "next_allowed", next);
	json_object_set_new(j, "timezone", json_string(l->p.timezone));
	json_object_set_new(j, "policy", json_string(l->p.source));
	/* the checklist items a deployment of this type waits for (docs/checklists.md) */
	b = json_array();
	for (size_t i = 0; i < l->p.checklists.nr; i++) {
		const struct checklist_item *it = &l->p.checklists.v[i];
		if (checklist_blocks(it, r->type))
			json_array_append_new(b, json_pack("{s:s, s:s, s:s, s:s}", "id", it->id, "text", it->text, "check",
							   checklist_check_name(it->check), "who", it->who));
	}
	json_object_set_new(j, "checklist_blocking", b);
	return j;
}

json_t *doc_calendar(const struct policy_file *l, const char *type, const char *cls, int64_t from, int64_t to,
		     const struct calendar *cal)
{
	json_t *j = vocab_doc("Calendar"), *spans = json_array(), *fr = json_array();
	json_object_set_new(j, "type", json_string(type));
	json_object_set_new(j, "class", json_string(cls ? cls : "normal"));
	json_object_set_new(j, "timezone", json_string(l->p.timezone));
	json_object_set_new(j, "from", json_time_or_null(from));
	json_object_set_new(j, "to", json_time_or_null(to));
	for (size_t i = 0; i < cal->spans_nr; i++) {
		json_t *o = json_object();
		json_object_set_new(o, "from", json_time_or_null(cal->spans[i].from_ms));
		json_object_set_new(o, "to", json_time_or_null(cal->spans[i].to_ms));
		json_object_set_new(o, "window", json_string(cal->spans[i].window));
		json_object_set_new(o, "approvals", json_names(cal->spans[i].approvals, cal->spans[i].approvals_nr));
		json_array_append_new(spans, o);
	}
	for (size_t i = 0; i < cal->freezes_nr; i++) {
		const struct calendar_freeze *f = &cal->freezes[i];
		json_t *o = json_object();
		struct civil s, e;
		char ds[16], de[16];
		civil_from_ms(f->from_date * MS_PER_DAY, &s);
		civil_from_ms(f->until_date * MS_PER_DAY, &e);
		snprintf(ds, sizeof(ds), "%04d-%02d-%02d", s.year, s.month, s.day);
		snprintf(de, sizeof(de), "%04d-%02d-%02d", e.year, e.month, e.day);
		json_object_set_new(o, "name", json_string(f->freeze->name));
		json_object_set_new(o, "kind", json_string(policy_freeze_kind_name(f->freeze->kind)));
		json_object_set_new(o, "reason", json_str_or_null(f->freeze->reason));
		json_object_set_new(o, "from", json_string(ds));
		json_object_set_new(o, "until", json_string(de));
		json_object_set_new(o, "admits", json_names((const char *const *)f->freeze->admits.v, f->freeze->admits.nr));
		json_object_set_new(o, "blocks", json_boolean(f->blocks));
		json_array_append_new(fr, o);
	}
	json_object_set_new(j, "spans", spans);
	json_object_set_new(j, "freezes", fr);
	return j;
}
