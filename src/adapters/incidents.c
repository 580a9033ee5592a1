/*
 * incidents.c - incidents in the store and the gate over them; see
 * incidents.h.
 */
#include "adapters/incidents.h"
#include "adapters/audit.h"
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
	"CREATE TABLE incidents ("
	"  id INTEGER PRIMARY KEY,"
	"  service TEXT NOT NULL,"
	"  env TEXT NOT NULL,"
	"  title TEXT NOT NULL,"
	"  opened_by TEXT NOT NULL,"
	"  opened_ms INTEGER NOT NULL,"
	"  resolved_by TEXT,"
	"  resolved_ms INTEGER,"
	"  deployment_id INTEGER);"
	"CREATE INDEX incidents_open ON incidents(env, resolved_ms);"
	"CREATE INDEX incidents_deployment ON incidents(deployment_id);",
};

int incidents_migrate(struct store *st, struct strbuf *err)
{
	int r = audit_migrate(st, err);
	if (r)
		return r;
	return store_migrate_ported(st, "incidents", migrations, NULL, (int)ARRAY_SIZE(migrations), err);
}

int64_t incident_open(struct store *st, const char *service, const char *env, const char *title,
		      const char *who, int64_t deployment_id, int64_t now_ms, struct strbuf *err)
{
	_cleanup_sql_ struct sql_stmt *ins = NULL;
	struct strbuf subject = STRBUF_INIT;
	json_t *det;
	int64_t id;
	int r;

	if ((r = store_begin(st, err)) < 0)
		return r;
	r = sql_prepare(st, &ins,
			  "INSERT INTO incidents(service, env, title, opened_by, opened_ms, deployment_id)"
			  " VALUES (?1, ?2, ?3, ?4, ?5, ?6)", err);
	if (r)
		goto fail;
	sql_bind_text(ins, 1, service);
	sql_bind_text(ins, 2, env);
	sql_bind_text(ins, 3, title);
	sql_bind_text(ins, 4, who);
	sql_bind_int64(ins, 5, now_ms);
	if (deployment_id > 0)
		sql_bind_int64(ins, 6, deployment_id);
	if (sql_step(ins, NULL) != SQL_DONE) {
		strbuf_errf(err, "store '%s': %s", st->path, sql_errmsg(st));
		r = SW_ESTORE;
		goto fail;
	}
	id = sql_last_insert_id(st);
	strbuf_addf(&subject, "incident:%lld", (long long)id);
	det = json_pack("{s:s, s:s, s:s}", "service", service, "env", env, "title", title);
	if (deployment_id > 0)
		json_object_set_new(det, "deployment_id", json_integer(deployment_id));
	if (audit_append_json(st, now_ms, who, "incident.opened", subject.buf, det, err) < 0) {
		r = SW_ESTORE;
		goto fail;
	}
	strbuf_release(&subject);
	if ((r = store_commit(st, err)) < 0)
		return r;
	return id;
fail:
	strbuf_release(&subject);
	store_rollback(st);
	return r;
}

int incident_resolve(struct store *st, int64_t id, const char *who, int64_t now_ms, struct strbuf *err)
{
	_cleanup_sql_ struct sql_stmt *q = NULL, *upd = NULL;
	struct strbuf subject = STRBUF_INIT;
	int r, rc;

	if ((r = store_begin(st, err)) < 0)
		return r;
	r = sql_prepare(st, &q, "SELECT resolved_ms, opened_ms FROM incidents WHERE id = ?1", err);
	if (r)
		goto fail;
	sql_bind_int64(q, 1, id);
	rc = sql_step(q, NULL);
	if (rc == SQL_DONE) {
		strbuf_errf(err, "no incident %lld; 'slipway incident list' shows them", (long long)id);
		r = SW_ENOTFOUND;
		goto fail;
	}
	if (!sql_column_is_null(q, 0)) {
		char at[RFC3339_BUFSZ];
		strbuf_errf(err, "incident %lld was already resolved at %s", (long long)id,
			    time_format_rfc3339(sql_column_int64(q, 0), at));
		r = SW_ESTATE;
		goto fail;
	}
	if (now_ms < sql_column_int64(q, 1))
		now_ms = sql_column_int64(q, 1);	/* a clock behind the opener's: never negative */
	r = sql_prepare(st, &upd, "UPDATE incidents SET resolved_ms = ?2, resolved_by = ?3 WHERE id = ?1", err);
	if (r)
		goto fail;
	sql_bind_int64(upd, 1, id);
	sql_bind_int64(upd, 2, now_ms);
	sql_bind_text(upd, 3, who);
	if (sql_step(upd, NULL) != SQL_DONE) {
		strbuf_errf(err, "store '%s': %s", st->path, sql_errmsg(st));
		r = SW_ESTORE;
		goto fail;
	}
	strbuf_addf(&subject, "incident:%lld", (long long)id);
	if (audit_append(st, now_ms, who, "incident.resolved", subject.buf, NULL, err) < 0) {
		r = SW_ESTORE;
		goto fail;
	}
	strbuf_release(&subject);
	return store_commit(st, err);
fail:
	strbuf_release(&subject);
	store_rollback(st);
	return r;
}

void incidents_free(struct incident *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].service);
		free(v[i].env);
		free(v[i].title);
		free(v[i].opened_by);
		free(v[i].resolved_by);
	}
	free(v);
}

int incident_list(struct store *st, const char *env, int open_only, struct incident **out, size_t *n,
		  struct strbuf *err)
{
	_cleanup_sql_ struct sql_stmt *q = NULL;
	struct incident *v = NULL;
	size_t nr = 0, alloc = 0;
	int r, rc;

	r = sql_prepare(st, &q,
			  "SELECT id, service, env, title, opened_by, opened_ms, resolved_by, resolved_ms,"
			  " deployment_id FROM incidents"
			  " WHERE (?1 IS NULL OR env = ?1) AND (?2 = 0 OR resolved_ms IS NULL)"
			  " ORDER BY opened_ms DESC, id DESC", err);
	if (r)
		return r;
	if (env)
		sql_bind_text(q, 1, env);
	sql_bind_int64(q, 2, open_only);
	while ((rc = sql_step(q, NULL)) == SQL_ROW) {
		struct incident *i;
		ALLOC_GROW(v, nr + 1, alloc);
		i = &v[nr++];
		i->id = sql_column_int64(q, 0);
		i->service = xstrdup_or_null(sql_column_text(q, 1));
		i->env = xstrdup_or_null(sql_column_text(q, 2));
		i->title = xstrdup_or_null(sql_column_text(q, 3));
		i->opened_by = xstrdup_or_null(sql_column_text(q, 4));
		i->opened_ms = sql_column_int64(q, 5);
		i->resolved_by = xstrdup_or_null(sql_column_text(q, 6));
		i->resolved_ms = sql_column_int64(q, 7);
		i->deployment_id = sql_column_int64(q, 8);
	}
	if (rc != SQL_DONE) {
		strbuf_errf(err, "store '%s': %s", st->path, sql_errmsg(st));
		incidents_free(v, nr);
		return SW_ESTORE;
	}
	*out = v;
	*n = nr;
	return 0;
}

int incidents_gate(struct store *st, const char *env, const char *type, int64_t **blocking,
		   size_t *n_blocking, struct strbuf *err)
{
	struct incident *v = NULL;
	size_t n = 0;
	int64_t *ids = NULL;
	int r;

	r = incident_list(st, env, 1, &v, &n, err);
	if (r)
		return r;
	if (blocking)
		*blocking = NULL;
	if (n_blocking)
		*n_blocking = 0;
	if (n == 0 || (type && !strcmp(type, "emergency"))) {
		incidents_free(v, n);
		return 0;
	}
	ids = xcalloc(n, sizeof(*ids));
	for (size_t i = 0; i < n; i++) {
		char at[RFC3339_BUFSZ];
		ids[i] = v[i].id;
		strbuf_errf(err, "%sincident %lld '%s' (%s) is open in %s since %s", i ? "; " : "",
			    (long long)v[i].id, v[i].title, v[i].service, env, time_format_rfc3339(v[i].opened_ms, at));
	}
	strbuf_errf(err, "; resolve it with 'slipway incident resolve ID', or deploy --type emergency");
	if (blocking) {
		*blocking = ids;
		*n_blocking = n;
	} else {
		free(ids);
	}
	incidents_free(v, n);
	return SW_EDENIED;
}
