/*
 * approvals.c - approvals in the store and the gate over them; see
 * approvals.h.  The decision rules are core/approval.c's; this file checks
 * the caller at the door (so a refused approval is never stored), stores
 * decisions with their audit entries in one transaction, and audits
 * expiries the first time the gate sees them.
 */
#include "adapters/approvals.h"
#include "adapters/audit.h"
#include "adapters/emergency.h"
#include "adapters/records.h"
#include "adapters/sql.h"
#include "adapters/store.h"
#include "base/alloc.h"
#include "base/err.h"
#include "base/strbuf.h"
#include "base/timeutil.h"

#include <jansson.h>
#include <string.h>

static const char *const migrations[] = {
	/* 1 */
	"CREATE TABLE approvals ("
	"  id INTEGER PRIMARY KEY,"
	"  deployment_id INTEGER NOT NULL,"
	"  role TEXT NOT NULL,"
	"  approver TEXT NOT NULL,"
	"  decision TEXT NOT NULL CHECK (decision IN ('approved', 'rejected')),"
	"  comment TEXT,"
	"  at_ms INTEGER NOT NULL,"
	"  identity TEXT NOT NULL DEFAULT 'os',"
	"  expired_audited_ms INTEGER);"
	"CREATE INDEX approvals_deployment ON approvals(deployment_id, id);",
};

int approvals_migrate(struct store *st, struct strbuf *err)
{
	int r = emergency_migrate(st, err);	/* approval_record() fills emergency records */
	if (r)
		return r;
	return store_migrate_ported(st, "approvals", migrations, NULL, (int)ARRAY_SIZE(migrations), err);
}

static json_t *decision_detail(const char *role, const char *comment, const char *identity,
			       const char *why)
{
	json_t *d = json_pack("{s:s, s:s}", "role", role, "identity", identity ? identity : "os");
	if (comment)
		json_object_set_new(d, "comment", json_string(comment));
	if (why)
		json_object_set_new(d, "refused", json_string(why));
	return d;
}

int64_t approval_record(struct store *st, int64_t deployment_id, const char *role, const char *approver,
			enum approval_decision decision, const char *comment, const char *identity,
			const struct role_members *roles, size_t n_roles, int64_t now_ms,
			struct strbuf *err)
{
	struct deployment_record d = { 0 };
	_cleanup_sql_ struct sql_stmt *ins = NULL;
	struct strbuf subject = STRBUF_INIT;
	const char *verb = decision == APPROVAL_APPROVED ? "approve" : "reject";
	const char *refused = NULL;
	int64_t id = 0;
	int r;

	if (!role || !*role || !approver || !*approver) {
		strbuf_errf(err, "an approval needs a role and an approver");
		return SW_EUSAGE;
	}
	if (decision == APPROVAL_REJECTED && (!comment || !*comment)) {
		strbuf_errf(err, "a rejection needs --comment TEXT saying why");
		return SW_EUSAGE;
	}
	r = records_get(st, deployment_id, &d, err);
	if (r)
		return r;
	if (record_state_is_final(d.state)) {
		strbuf_errf(err, "deployment %lld has already finished (%s); nothing to %s",
			    (long long)deployment_id, d.state, verb);
		deployment_record_release(&d);
		return SW_ESTATE;
	}
	strbuf_addf(&subject, "deployment:%lld", (long long)deployment_id);
	if (d.requested_by && !strcmp(d.requested_by, approver))
		refused = "self-approval refused";
	else if (!roles_map_has(roles, n_roles, role, approver))
		refused = "approver lacks the role";
	if (refused) {
		if (audit_append_json(st, now_ms, approver, "approval.refused", subject.buf,
				      decision_detail(role, comment, identity, refused), err) < 0) {
			r = SW_ESTORE;
		} else {
			if (!strcmp(refused, "self-approval refused"))
				strbuf_errf(err, "'%s' requested deployment %lld and cannot %s it; "
					    "another person holding '%s' must", approver,
					    (long long)deployment_id, verb, role);
			else
				strbuf_errf(err, "'%s' does not hold the role '%s' in the roles map; "
					    "only its members may %s for it", approver, role, verb);
			r = SW_EDENIED;
		}
		goto out;
	}

	r = store_begin(st, err);
	if (r)
		goto out;
	r = sql_prepare(st, &ins,
			  "INSERT INTO approvals(deployment_id, role, approver, decision, comment, at_ms, identity)"
			  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", err);
	if (r)
		goto fail;
	sql_bind_int64(ins, 1, deployment_id);
	sql_bind_text(ins, 2, role);
	sql_bind_text(ins, 3, approver);
	sql_bind_text(ins, 4, decision == APPROVAL_APPROVED ? "approved" : "rejected");
	if (comment)
		sql_bind_text(ins, 5, comment);
	sql_bind_int64(ins, 6, now_ms);
	sql_bind_text(ins, 7, identity ? identity : "os");
	if (sql_step(ins, NULL) != SQL_DONE) {
		strbuf_errf(err, "store '%s': %s", st->path, sql_errmsg(st));
		r = SW_ESTORE;
		goto fail;
	}
	id = sql_last_insert_id(st);
	{
		json_t *det = decision_detail(role, comment, identity, NULL);
		json_object_set_new(det, "approval_id", json_integer(id));
		if (audit_append_json(st, now_ms, approver,
				      decision == APPROVAL_APPROVED ? "approval.approved" : "approval.rejected",
				      subject.buf, det, err) < 0) {
			r = SW_ESTORE;
			goto fail;
		}
	}
	if (decision == APPROVAL_APPROVED && !strcmp(role, "vp-engineering") && d.type &&
	    !strcmp(d.type, "emergency")) {
		r = emergency_record_approved(st, deployment_id, approver, now_ms, err);
		if (r)
			goto fail;
	}
	r = store_commit(st, err);
	if (r)
		goto fail;
	r = 0;
	goto out;
fail:
	store_rollback(st);
out:
	strbuf_release(&subject);
	deployment_record_release(&d);
	return r < 0 ? r : id;
}

void approval_set_release(struct approval_set *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++) {
		free((char *)s->v[i].role);
		free((char *)s->v[i].approver);
		free(s->comments[i]);
		free(s->identities[i]);
	}
	free(s->v);
	free(s->comments);
	free(s->identities);
	free(s->requester);
	memset(s, 0, sizeof(*s));
}

int approvals_load(struct store *st, int64_t deployment_id, struct approval_set *out, struct strbuf *err)
{
	_cleanup_sql_ struct sql_stmt *q = NULL;
	struct approval_set s = { 0 };
	struct deployment_record d = { 0 };
	size_t alloc = 0, calloc_ = 0, ialloc = 0;
	int r, rc;

	r = records_get(st, deployment_id, &d, err);
	if (r)
		return r;
	s.requester = d.requested_by;
	d.requested_by = NULL;
	deployment_record_release(&d);
	r = sql_prepare(st, &q,
			  "SELECT id, role, approver, decision, at_ms, comment, identity FROM approvals"
			  " WHERE deployment_id = ?1 ORDER BY at_ms, id", err);
	if (r) {
		approval_set_release(&s);
		return r;
	}
	sql_bind_int64(q, 1, deployment_id);
	while ((rc = sql_step(q, NULL)) == SQL_ROW) {
		struct approval *a;
		const char *c;
		ALLOC_GROW(s.v, s.n + 1, alloc);
		ALLOC_GROW(s.comments, s.n + 1, calloc_);
		ALLOC_GROW(s.identities, s.n + 1, ialloc);
		a = &s.v[s.n];
		a->id = sql_column_int64(q, 0);
		a->deployment_id = deployment_id;
		a->role = xstrdup(sql_column_text(q, 1));
		a->approver = xstrdup(sql_column_text(q, 2));
		a->decision = !strcmp(sql_column_text(q, 3), "rejected") ? APPROVAL_REJECTED
											: APPROVAL_APPROVED;
		a->at_ms = sql_column_int64(q, 4);
		c = sql_column_text(q, 5);
		s.comments[s.n] = c ? xstrdup((const char *)c) : NULL;
		c = sql_column_text(q, 6);
		s.identities[s.n] = c ? xstrdup((const char *)c) : NULL;
		s.n++;
	}
	if (rc != SQL_DONE) {
		strbuf_errf(err, "store '%s': %s", st->path, sql_errmsg(st));
		approval_set_release(&s);
		return SW_ESTORE;
	}
	*out = s;
	return 0;
}

/* Write "approval.expired" once for each approval of the deployment older than the TTL. */
static int audit_expiries(struct store *st, int64_t deployment_id, int64_t ttl_ms, int64_t now_ms,
			  struct strbuf *err)
{
	_cleanup_sql_ struct sql_stmt *pending = NULL, *mark = NULL;
	struct strbuf subject = STRBUF_INIT;
	int own_tx = 0;
	int r, rc;

	r = sql_prepare(st, &pending,
			  "SELECT id, role, approver, at_ms FROM approvals WHERE deployment_id = ?1"
			  " AND decision = 'approved' AND expired_audited_ms IS NULL AND at_ms <= ?2", err);
	if (r)
		return r;
	sql_bind_int64(pending, 1, deployment_id);
	sql_bind_int64(pending, 2, now_ms - ttl_ms);
	rc = sql_step(pending, NULL);
	if (rc == SQL_DONE)
		return 0;	/* the common case: nothing newly expired, no write */
	sql_reset(pending);
	if ((own_tx = store_tx_begin(st, err)) < 0)
		return own_tx;
	r = sql_prepare(st, &mark, "UPDATE approvals SET expired_audited_ms = ?2 WHERE id = ?1", err);
	if (r)
		goto fail;
	strbuf_addf(&subject, "deployment:%lld", (long long)deployment_id);
	while ((rc = sql_step(pending, NULL)) == SQL_ROW) {
		char at[RFC3339_BUFSZ], ttl[DURATION_BUFSZ];
		int64_t aid = sql_column_int64(pending, 0);
		json_t *det2 = json_pack("{s:I, s:s, s:s, s:s, s:s}", "approval_id", (json_int_t)aid, "role",
					 sql_column_text(pending, 1), "approver",
					 sql_column_text(pending, 2), "approved_at",
					 time_format_rfc3339(sql_column_int64(pending, 3), at), "ttl",
					 duration_format(ttl_ms, ttl));
		if (audit_append_json(st, now_ms, "slipway", "approval.expired", subject.buf, det2, err) < 0) {
			r = SW_ESTORE;
			goto fail;
		}
		sql_reset(mark);
		sql_bind_int64(mark, 1, aid);
		sql_bind_int64(mark, 2, now_ms);
		if (sql_step(mark, NULL) != SQL_DONE) {
			strbuf_errf(err, "store '%s': %s", st->path, sql_errmsg(st));
			r = SW_ESTORE;
			goto fail;
		}
	}
	r = 0;
fail:
	strbuf_release(&subject);
	return store_tx_end(st, own_tx, r, err);
}

int approvals_gate(struct store *st, int64_t deployment_id, const char *const *required,
		   size_t n_required, const struct role_members *roles, size_t n_roles, int64_t ttl_ms,
		   int64_t now_ms, struct approval_set *set, struct approval_gate *gate,
		   struct strbuf *err)
{
	struct approval_set s = { 0 };
	struct approval_gate g = { 0 };
	int r;

	r = approvals_load(st, deployment_id, &s, err);
	if (r)
		return r;
	r = approval_gate_eval(deployment_id, required, n_required, roles, n_roles, s.requester, ttl_ms,
			       now_ms, s.v, s.n, &g, err);
	if (!r)
		r = audit_expiries(st, deployment_id, ttl_ms, now_ms, err);
	if (r) {
		approval_gate_release(&g);
		approval_set_release(&s);
		return r;
	}
	*set = s;
	*gate = g;
	return 0;
}
