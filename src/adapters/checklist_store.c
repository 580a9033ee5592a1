/*
 * checklist_store.c - attestations and the gate's findings in the store;
 * see checklist_store.h.  An attestation and its audit entry commit
 * together, so the audit chain names who attested every item.
 */
#include "adapters/checklist_store.h"
#include "adapters/audit.h"
#include "adapters/sql.h"
#include "adapters/store.h"
#include "base/alloc.h"
#include "base/err.h"
#include "base/strbuf.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static const char *const migrations[] = {
	/* 1 */
	"CREATE TABLE attestations ("
	"  id INTEGER PRIMARY KEY,"
	"  deployment_id INTEGER,"
	"  version TEXT,"
	"  item TEXT NOT NULL,"
	"  status TEXT NOT NULL CHECK (status IN ('pass', 'fail')),"
	"  evidence TEXT,"
	"  detail TEXT,"
	"  actor TEXT NOT NULL,"
	"  identity TEXT NOT NULL,"
	"  at_ms INTEGER NOT NULL,"
	"  CHECK ((deployment_id IS NULL) <> (version IS NULL)));"
	"CREATE INDEX attestations_deployment ON attestations(deployment_id, id);"
	"CREATE INDEX attestations_version ON attestations(version, id);"
	"CREATE TABLE checklist_proofs ("
	"  deployment_id INTEGER NOT NULL,"
	"  item TEXT NOT NULL,"
	"  state TEXT NOT NULL,"
	"  evidence TEXT,"
	"  at_ms INTEGER NOT NULL,"
	"  PRIMARY KEY (deployment_id, item));",
};

int checklist_store_migrate(struct store *st, struct strbuf *err)
{
	int r = audit_migrate(st, err);
	if (r)
		return r;
	return store_migrate_ported(st, "checklist", migrations, NULL, (int)ARRAY_SIZE(migrations), err);
}

static void bind_opt(struct sql_stmt *s, int i, const char *v)
{
	if (v)
		sql_bind_text(s, i, v);
	else
		sql_bind_null(s, i);
}

int64_t checklist_attest_store(struct store *st, const struct attestation *a, struct strbuf *err)
{
	_cleanup_sql_ struct sql_stmt *ins = NULL;
	struct strbuf subject = STRBUF_INIT;
	int64_t id = 0;
	int own, r;
	json_t *det;

	if ((own = store_tx_begin(st, err)) < 0)
		return own;
	r = sql_prepare(st, &ins,
			  "INSERT INTO attestations(deployment_id, version, item, status, evidence, detail, actor, identity, at_ms)"
			  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)", err);
	if (r >= 0) {
		if (a->deployment_id > 0)
			sql_bind_int64(ins, 1, a->deployment_id);
		else
			sql_bind_null(ins, 1);
		bind_opt(ins, 2, a->deployment_id > 0 ? NULL : a->version);
		sql_bind_text(ins, 3, a->item);
		sql_bind_text(ins, 4, a->status);
		bind_opt(ins, 5, a->evidence);
		bind_opt(ins, 6, a->detail);
		sql_bind_text(ins, 7, a->actor);
		sql_bind_text(ins, 8, a->identity ? a->identity : "os");
		sql_bind_int64(ins, 9, a->at_ms);
		if (sql_step(ins, NULL) != SQL_DONE) {
			strbuf_errf(err, "store '%s': %s", st->path, sql_errmsg(st));
			r = SW_ESTORE;
		} else {
			id = sql_last_insert_id(st);
		}
	}
	if (r >= 0) {
		if (a->deployment_id > 0)
			strbuf_addf(&subject, "deployment:%lld", (long long)a->deployment_id);
		else
			strbuf_addf(&subject, "version:%s", a->version ? a->version : "");
		det = json_pack("{s:I, s:s, s:s, s:s}", "attestation_id", (json_int_t)id, "item", a->item, "status",
				a->status, "identity", a->identity ? a->identity : "os");
		if (a->evidence)
			json_object_set_new(det, "evidence", json_string(a->evidence));
		if (a->detail)
			json_object_set_new(det, "detail", json_string(a->detail));
		if (audit_append_json(st, a->at_ms, a->actor, "checklist.attested", subject.buf, det, err) < 0)
			r = SW_ESTORE;
	}
	strbuf_release(&subject);
	r = store_tx_end(st, own, r, err);
	return r < 0 ? r : id;
}

static char *col(struct sql_stmt *q, int i)
{
	const char *c = sql_column_text(q, i);
	return c ? xstrdup(c) : NULL;
}

int checklist_attestations(struct store *st, int64_t deployment_id, const char *version, struct attestation **out,
			   size_t *n, struct strbuf *err)
{
	_cleanup_sql_ struct sql_stmt *q = NULL;
	struct attestation *v = NULL;
	size_t nr = 0, alloc = 0;
	int r = sql_prepare(st, &q,
			      "SELECT id, deployment_id, version, item, status, evidence, detail, actor, identity, at_ms"
			      " FROM attestations WHERE deployment_id = ?1 OR (?2 IS NOT NULL AND version = ?2)"
			      " ORDER BY id", err);
	if (r < 0)
		return r;
	sql_bind_int64(q, 1, deployment_id);
	bind_opt(q, 2, version);
	while ((r = sql_step(q, NULL)) == SQL_ROW) {
		struct attestation *a;
		ALLOC_GROW(v, nr + 1, alloc);
		a = &v[nr++];
		a->id = sql_column_int64(q, 0);
		a->deployment_id = sql_column_int64(q, 1);
		a->version = col(q, 2);
		a->item = col(q, 3);
		a->status = col(q, 4);
		a->evidence = col(q, 5);
		a->detail = col(q, 6);
		a->actor = col(q, 7);
		a->identity = col(q, 8);
		a->at_ms = sql_column_int64(q, 9);
	}
	if (r != SQL_DONE) {
		strbuf_errf(err, "store '%s': %s", st->path, sql_errmsg(st));
		attestations_free(v, nr);
		return SW_ESTORE;
	}
	*out = v;
	*n = nr;
	return 0;
}

void attestations_free(struct attestation *a, size_t n)
{
	for (size_t i = 0; a && i < n; i++) {
		free(a[i].version);
		free(a[i].item);
		free(a[i].status);
		free(a[i].evidence);
		free(a[i].detail);
		free(a[i].actor);
		free(a[i].identity);
	}
	free(a);
}

int checklist_proof_put(struct store *st, int64_t deployment_id, const char *item, const char *state,
			const char *evidence, int64_t at_ms, struct strbuf *err)
{
	_cleanup_sql_ struct sql_stmt *s = NULL;
	int r = sql_prepare(st, &s,
			      "INSERT INTO checklist_proofs(deployment_id, item, state, evidence, at_ms) VALUES (?1, ?2, ?3, ?4, ?5)"
			      " ON CONFLICT(deployment_id, item) DO UPDATE SET state = ?3, evidence = ?4, at_ms = ?5"
			      " WHERE checklist_proofs.state IS NOT ?3 OR checklist_proofs.evidence IS NOT ?4", err);
	if (r < 0)
		return r;
	sql_bind_int64(s, 1, deployment_id);
	sql_bind_text(s, 2, item);
	sql_bind_text(s, 3, state);
	bind_opt(s, 4, evidence);
	sql_bind_int64(s, 5, at_ms);
	if (sql_step(s, NULL) != SQL_DONE) {
		strbuf_errf(err, "store '%s': %s", st->path, sql_errmsg(st));
		return SW_ESTORE;
	}
	return 0;
}

int checklist_proof_get(struct store *st, int64_t deployment_id, const char *item, char **state, char **evidence,
			int64_t *at_ms, struct strbuf *err)
{
	_cleanup_sql_ struct sql_stmt *q = NULL;
	int r = sql_prepare(st, &q, "SELECT state, evidence, at_ms FROM checklist_proofs WHERE deployment_id = ?1 AND item = ?2",
			      err);
	if (r < 0)
		return r;
	sql_bind_int64(q, 1, deployment_id);
	sql_bind_text(q, 2, item);
	r = sql_step(q, NULL);
	if (r == SQL_DONE)
		return 1;
	if (r != SQL_ROW) {
		strbuf_errf(err, "store '%s': %s", st->path, sql_errmsg(st));
		return SW_ESTORE;
	}
	*state = col(q, 0);
	*evidence = col(q, 1);
	*at_ms = sql_column_int64(q, 2);
	return 0;
}
