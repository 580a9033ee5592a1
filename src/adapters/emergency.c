/*
 * emergency.c - the emergency record; see emergency.h.  Each function joins
 * the caller's transaction when there is one (approval_record() sets the
 * approver inside its own), else runs in its own.
 */
#include "adapters/emergency.h"
#include "adapters/audit.h"
#include "adapters/sql.h"
#include "adapters/store.h"
#include "base/alloc.h"
#include "base/err.h"
#include "base/strbuf.h"

#include <ctype.h>
#include <jansson.h>
#include <string.h>

static const char *const migrations[] = {
	/* 1 */
	"CREATE TABLE emergencies ("
	"  deployment_id INTEGER PRIMARY KEY,"
	"  reason TEXT NOT NULL,"
	"  requested_by TEXT NOT NULL,"
	"  created_ms INTEGER NOT NULL,"
	"  approver TEXT,"
	"  approved_ms INTEGER,"
	"  ended_ms INTEGER,"
	"  ended_by TEXT);",
};

int emergency_migrate(struct store *st, struct strbuf *err)
{
	int r = audit_migrate(st, err);
	if (r)
		return r;
	return store_migrate_ported(st, "emergency", migrations, NULL, (int)ARRAY_SIZE(migrations), err);
}

static int blank(const char *s)
{
	if (!s)
		return 1;
	for (; *s; s++)
		if (!isspace((unsigned char)*s))
			return 0;
	return 1;
}

int emergency_check_reason(const char *type, const char *reason, struct strbuf *err)
{
	int emergency = type && !strcmp(type, "emergency");

	if (emergency && blank(reason)) {
		strbuf_errf(err, "--type emergency needs --reason TEXT: the emergency record states why "
			    "(runbook: Emergency Deployments, \"Document the emergency\")");
		return SW_EUSAGE;
	}
	if (!emergency && reason) {
		strbuf_errf(err, "--reason is for --type emergency only; this deployment is '%s'",
			    type ? type : "(no type)");
		return SW_EUSAGE;
	}
	return 0;
}

/* run one statement with the binds applied by the caller-supplied values */
static int step_done(struct store *st, struct sql_stmt *s, struct strbuf *err)
{
	if (sql_step(s, NULL) != SQL_DONE) {
		strbuf_errf(err, "store '%s': %s", st->path, sql_errmsg(st));
		return SW_ESTORE;
	}
	return 0;
}

static void subject_of(struct strbuf *sb, int64_t id)
{
	strbuf_addf(sb, "deployment:%lld", (long long)id);
}

int emergency_record_create(struct store *st, int64_t deployment_id, const char *reason,
			    const char *requested_by, int64_t now_ms, struct strbuf *err)
{
	_cleanup_sql_ struct sql_stmt *ins = NULL;
	struct strbuf subject = STRBUF_INIT;
	int own_tx = 0;
	int r;

	if (blank(reason))
		return emergency_check_reason("emergency", reason, err);
	if ((own_tx = store_tx_begin(st, err)) < 0)
		return own_tx;
	r = sql_prepare(st, &ins,
			  "INSERT INTO emergencies(deployment_id, reason, requested_by, created_ms)"
			  " VALUES (?1, ?2, ?3, ?4) ON CONFLICT(deployment_id) DO NOTHING", err);
	if (r)
		goto fail;
	sql_bind_int64(ins, 1, deployment_id);
	sql_bind_text(ins, 2, reason);
	sql_bind_text(ins, 3, requested_by ? requested_by : "unknown");
	sql_bind_int64(ins, 4, now_ms);
	if ((r = step_done(st, ins, err)))
		goto fail;
	if (sql_changes(ins) == 0) {
		strbuf_errf(err, "deployment %lld already has an emergency record", (long long)deployment_id);
		r = SW_ESTATE;
		goto fail;
	}
	subject_of(&subject, deployment_id);
	if (audit_append_json(st, now_ms, requested_by, "emergency.recorded", subject.buf,
			      json_pack("{s:s}", "reason", reason), err) < 0) {
		r = SW_ESTORE;
		goto fail;
	}
	r = 0;
fail:
	strbuf_release(&subject);
	return store_tx_end(st, own_tx, r, err);
}

int emergency_record_approved(struct store *st, int64_t deployment_id, const char *approver,
			      int64_t now_ms, struct strbuf *err)
{
	_cleanup_sql_ struct sql_stmt *upd = NULL;
	struct strbuf subject = STRBUF_INIT;
	int own_tx = 0;
	int r;

	if ((own_tx = store_tx_begin(st, err)) < 0)
		return own_tx;
	r = sql_prepare(st, &upd,
			  "UPDATE emergencies SET approver = ?2, approved_ms = ?3"
			  " WHERE deployment_id = ?1 AND approver IS NULL", err);
	if (r)
		goto fail;
	sql_bind_int64(upd, 1, deployment_id);
	sql_bind_text(upd, 2, approver);
	sql_bind_int64(upd, 3, now_ms);
	if ((r = step_done(st, upd, err)))
		goto fail;
	if (sql_changes(upd) > 0) {
		subject_of(&subject, deployment_id);
		if (audit_append_json(st, now_ms, approver, "emergency.approved", subject.buf,
				      json_pack("{s:s}", "approver", approver), err) < 0) {
			r = SW_ESTORE;
			goto fail;
		}
	}
	r = 0;
fail:
	strbuf_release(&subject);
	return store_tx_end(st, own_tx, r, err);
}

int emergency_record_end(struct store *st, int64_t deployment_id, const char *who, int64_t now_ms,
			 struct strbuf *err)
{
	_cleanup_sql_ struct sql_stmt *upd = NULL;
	struct strbuf subject = STRBUF_INIT;
	int own_tx = 0;
	int r;

	if ((own_tx = store_tx_begin(st, err)) < 0)
		return own_tx;
	r = sql_prepare(st, &upd,
			  "UPDATE emergencies SET ended_ms = ?2, ended_by = ?3"
			  " WHERE deployment_id = ?1 AND ended_ms IS NULL", err);
	if (r)
		goto fail;
	sql_bind_int64(upd, 1, deployment_id);
	sql_bind_int64(upd, 2, now_ms);
	sql_bind_text(upd, 3, who ? who : "slipway");
	if ((r = step_done(st, upd, err)))
		goto fail;
	if (sql_changes(upd) == 0) {
		strbuf_errf(err, "deployment %lld has no open emergency record", (long long)deployment_id);
		r = SW_ENOTFOUND;
		goto fail;
	}
	subject_of(&subject, deployment_id);
	if (audit_append(st, now_ms, who, "emergency.ended", subject.buf, NULL, err) < 0) {
		r = SW_ESTORE;
		goto fail;
	}
	r = 0;
fail:
	strbuf_release(&subject);
	return store_tx_end(st, own_tx, r, err);
}

int emergency_record_get(struct store *st, int64_t deployment_id, struct emergency_record *out,
			 struct strbuf *err)
{
	_cleanup_sql_ struct sql_stmt *q = NULL;
	int r, rc;

	r = sql_prepare(st, &q,
			  "SELECT reason, requested_by, approver, ended_by, created_ms, approved_ms, ended_ms"
			  " FROM emergencies WHERE deployment_id = ?1", err);
	if (r)
		return r;
	sql_bind_int64(q, 1, deployment_id);
	rc = sql_step(q, NULL);
	if (rc == SQL_DONE)
		return 1;
	if (rc != SQL_ROW) {
		strbuf_errf(err, "store '%s': %s", st->path, sql_errmsg(st));
		return SW_ESTORE;
	}
	memset(out, 0, sizeof(*out));
	out->deployment_id = deployment_id;
	out->reason = xstrdup_or_null(sql_column_text(q, 0));
	out->requested_by = xstrdup_or_null(sql_column_text(q, 1));
	out->approver = xstrdup_or_null(sql_column_text(q, 2));
	out->ended_by = xstrdup_or_null(sql_column_text(q, 3));
	out->created_ms = sql_column_int64(q, 4);
	out->approved_ms = sql_column_int64(q, 5);
	out->ended_ms = sql_column_int64(q, 6);
	return 0;
}

void emergency_record_release(struct emergency_record *e)
{
	if (!e)
		return;
	free(e->reason);
	free(e->requested_by);
	free(e->approver);
	free(e->ended_by);
	memset(e, 0, sizeof(*e));
}
