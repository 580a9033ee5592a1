/*
 * flag_store.c - flags and segments in the store; see flag_store.h.
 * Definitions are kept as compact JSON text with sorted keys, so that equal
 * definitions compare equal and an unchanged apply writes nothing.
 */
#include "adapters/flag_store.h"
#include "adapters/audit.h"
#include "adapters/sql.h"
#include "adapters/store.h"
#include "base/alloc.h"
#include "base/err.h"
#include "base/strbuf.h"
#include "core/flag.h"

#include <stdlib.h>
#include <string.h>

static const char *const migrations[] = {
	/* 1 */
	"CREATE TABLE flag_objects ("
	"  env TEXT NOT NULL,"
	"  kind TEXT NOT NULL CHECK (kind IN ('flag', 'segment')),"
	"  name TEXT NOT NULL,"
	"  version INTEGER NOT NULL,"
	"  definition TEXT NOT NULL,"
	"  updated_ms INTEGER NOT NULL,"
	"  updated_by TEXT NOT NULL,"
	"  PRIMARY KEY (env, kind, name));"
	"CREATE TABLE flag_history ("
	"  seq INTEGER PRIMARY KEY,"
	"  env TEXT NOT NULL,"
	"  kind TEXT NOT NULL,"
	"  name TEXT NOT NULL,"
	"  version INTEGER NOT NULL,"
	"  at_ms INTEGER NOT NULL,"
	"  actor TEXT NOT NULL,"
	"  action TEXT NOT NULL CHECK (action IN ('created', 'updated', 'deleted')),"
	"  definition TEXT,"
	"  reason TEXT,"
	"  audit_id INTEGER NOT NULL);"
	"CREATE INDEX flag_history_name ON flag_history(env, kind, name, version);",
	/* 2: flag_store_generation() on every OFREP request, one index probe */
	"CREATE INDEX flag_history_env_seq ON flag_history(env, seq);",
};

int flag_store_migrate(struct store *st, struct strbuf *err)
{
	int r = audit_migrate(st, err);
	if (r)
		return r;
	return store_migrate_ported(st, "flags", migrations, NULL, (int)ARRAY_SIZE(migrations), err);
}

void flag_record_release(struct flag_record *r)
{
	if (!r)
		return;
	free(r->env);
	free(r->kind);
	free(r->name);
	json_decref(r->def);
	free(r->actor);
	free(r->action);
	free(r->reason);
	memset(r, 0, sizeof(*r));
}

void flag_records_free(struct flag_record *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		flag_record_release(&v[i]);
	free(v);
}

static char *col(struct sql_stmt *q, int i)
{
	const char *s = sql_column_text(q, i);
	return s ? xstrdup(s) : NULL;
}

static json_t *col_json(struct sql_stmt *q, int i)
{
	const char *s = sql_column_text(q, i);
	return s ? json_loads(s, 0, NULL) : NULL;
}

#define CURRENT "SELECT env, kind, name, version, definition, updated_ms, updated_by FROM flag_objects "

static void row_current(struct sql_stmt *q, struct flag_record *r)
{
	memset(r, 0, sizeof(*r));
	r->env = col(q, 0);
	r->kind = col(q, 1);
	r->name = col(q, 2);
	r->version = sql_column_int64(q, 3);
	r->def = col_json(q, 4);
	r->at_ms = sql_column_int64(q, 5);
	r->actor = col(q, 6);
}

int flag_store_get(struct store *st, const char *env, const char *kind, const char *name, struct flag_record *out,
		   struct strbuf *err)
{
	_cleanup_sql_ struct sql_stmt *q = NULL;
	int r = sql_prepare(st, &q, CURRENT "WHERE env = ?1 AND kind = ?2 AND name = ?3", err);
	if (r < 0)
		return r;
	sql_bind_text(q, 1, env);
	sql_bind_text(q, 2, kind);
	sql_bind_text(q, 3, name);
	if (sql_step(q, NULL) != SQL_ROW) {
		strbuf_errf(err, "no %s '%s' in environment '%s'; see 'slipway flag list --env %s'", kind, name, env, env);
		return SW_ENOTFOUND;
	}
	row_current(q, out);
	return 0;
}

int flag_store_list(struct store *st, const char *env, const char *kind, struct flag_record **out, size_t *n,
		    struct strbuf *err)
{
	_cleanup_sql_ struct sql_stmt *q = NULL;
	struct flag_record *v = NULL;
	size_t nr = 0, alloc = 0;
	int r = sql_prepare(st, &q, CURRENT "WHERE env = ?1 AND kind = ?2 ORDER BY name", err);
	if (r < 0)
		return r;
	sql_bind_text(q, 1, env);
	sql_bind_text(q, 2, kind);
	while (sql_step(q, NULL) == SQL_ROW) {
		ALLOC_GROW(v, nr + 1, alloc);
		row_current(q, &v[nr++]);
	}
	*out = v;
	*n = nr;
	return 0;
}

int flag_store_segments(struct store *st, const char *env, json_t **out, struct strbuf *err)
{
	struct flag_record *v = NULL;
	size_t n = 0;
	int r = flag_store_list(st, env, FLAG_KIND_SEGMENT, &v, &n, err);
	json_t *o;
	if (r < 0)
		return r;
	o = json_object();
	for (size_t i = 0; i < n; i++)
		if (v[i].def)
			json_object_set(o, v[i].name, v[i].def);
	flag_records_free(v, n);
	*out = o;
	return 0;
}

/* The last version kind/name had in env (0 when never), from the history. */
static int64_t last_version(struct store *st, const char *env, const char *kind, const char *name, struct strbuf *err)
{
	_cleanup_sql_ struct sql_stmt *q = NULL;
	int r = sql_prepare(st, &q, "SELECT COALESCE(MAX(version), 0) FROM flag_history "
			      "WHERE env = ?1 AND kind = ?2 AND name = ?3", err);
	if (r < 0)
		return r;
	sql_bind_text(q, 1, env);
	sql_bind_text(q, 2, kind);
	sql_bind_text(q, 3, name);
	return sql_step(q, NULL) == SQL_ROW ? sql_column_int64(q, 0) : 0;
}

/* History row and audit entry of one change. */
static int record_change(struct store *st, const char *env, const char *kind, const char *name, int64_t version,
			 const char *action, const char *text, json_t *def, const char *actor, const char *reason,
			 int64_t now_ms, struct strbuf *err)
{
	_cleanup_sql_ struct sql_stmt *ins = NULL;
	struct strbuf subject = STRBUF_INIT, verb = STRBUF_INIT;
	json_t *detail = json_pack("{s:s, s:s, s:I}", "env", env, "name", name, "version", (json_int_t)version);
	int64_t aid;
	int r;

	if (def)
		json_object_set(detail, "definition", def);
	if (reason)
		json_object_set_new(detail, "reason", json_string(reason));
	strbuf_addf(&subject, "%s:%s/%s", kind, env, name);
	strbuf_addf(&verb, "%s.%s", kind, action);
	aid = audit_append_json(st, now_ms, actor, verb.buf, subject.buf, detail, err);
	strbuf_release(&subject);
	strbuf_release(&verb);
	if (aid < 0)
		return (int)aid;
	if ((r = sql_prepare(st, &ins, "INSERT INTO flag_history(env, kind, name, version, at_ms, actor, action, "
			       "definition, reason, audit_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)", err)) < 0)
		return r;
	sql_bind_text(ins, 1, env);
	sql_bind_text(ins, 2, kind);
	sql_bind_text(ins, 3, name);
	sql_bind_int64(ins, 4, version);
	sql_bind_int64(ins, 5, now_ms);
	sql_bind_text(ins, 6, actor);
	sql_bind_text(ins, 7, action);
	if (text)
		sql_bind_text(ins, 8, text);
	if (reason)
		sql_bind_text(ins, 9, reason);
	sql_bind_int64(ins, 10, aid);
	if (sql_step(ins, NULL) != SQL_DONE) {
		strbuf_errf(err, "cannot record the %s change: %s", kind, sql_errmsg(st));
		return SW_ESTORE;
	}
	return 0;
}

/* Every segment a flag's rules name exists in env. */
static int segments_exist(struct store *st, const char *env, json_t *def, char *path, size_t pathsz,
			  struct strbuf *err)
{
	json_t *rule, *seg;
	size_t i, j;
	json_array_foreach(json_object_get(def, "rules"), i, rule) {
		json_array_foreach(json_object_get(rule, "segments"), j, seg) {
			struct flag_record rec;
			struct strbuf e = STRBUF_INIT;
			int r = flag_store_get(st, env, FLAG_KIND_SEGMENT, json_string_value(seg), &rec, &e);
			strbuf_release(&e);
			if (r == SW_ENOTFOUND) {
				if (path && pathsz)
					snprintf(path, pathsz, "rules[%zu].segments[%zu]", i, j);
				strbuf_errf(err, "rules[%zu].segments[%zu]: no segment '%s' in environment '%s'; define it "
					    "first (a file's segments: or 'slipway flag segment')", i, j,
					    json_string_value(seg), env);
				return SW_ECONFIG;
			}
			if (r < 0)
				return r;
			flag_record_release(&rec);
		}
	}
	return 0;
}

int64_t flag_store_put(struct store *st, const char *env, const char *kind, const char *name, json_t *def,
		       enum flag_put_mode mode, const char *actor, const char *reason, int64_t now_ms, int *changed,
		       char *path, size_t pathsz, struct strbuf *err)
{
	_cleanup_sql_ struct sql_stmt *up = NULL;
	struct flag_record cur = { 0 };
	int is_flag = !strcmp(kind, FLAG_KIND_FLAG), own, r, have;
	int64_t version = 0;
	char *text = NULL;

	*changed = 0;
	if (!flag_name_ok(name)) {
		strbuf_errf(err, "'%.100s' is not a valid %s name: 1 to %d letters, digits and . _ - : /", name, kind,
			    FLAG_KEY_MAX);
		return SW_EUSAGE;
	}
	if ((r = is_flag ? flag_validate(def, err, path, pathsz) : segment_validate(def, err, path, pathsz)) < 0)
		return r;
	if ((own = store_tx_begin(st, err)) < 0)
		return own;
	if (is_flag && (r = segments_exist(st, env, def, path, pathsz, err)) < 0)
		goto out;
	r = flag_store_get(st, env, kind, name, &cur, err);
	have = r == 0;
	if (r == SW_ENOTFOUND) {
		strbuf_reset(err);
		r = 0;
	}
	if (r < 0)
		goto out;
	if (have && mode == FLAG_PUT_CREATE) {
		strbuf_errf(err, "%s '%s' exists in environment '%s' (version %lld); change it with 'slipway flag set'",
			    kind, name, env, (long long)cur.version);
		r = SW_ESTATE;
		goto out;
	}
	if (!have && mode == FLAG_PUT_UPDATE) {
		strbuf_errf(err, "no %s '%s' in environment '%s'; create it first ('slipway flag create %s')", kind, name,
			    env, name);
		r = SW_ENOTFOUND;
		goto out;
	}
	if (have && json_equal(cur.def, def)) {
		version = cur.version;
		goto out;
	}
	text = json_dumps(def, JSON_COMPACT | JSON_SORT_KEYS);
	if ((version = last_version(st, env, kind, name, err)) < 0) {
		r = (int)version;
		goto out;
	}
	version++;
	if ((r = sql_prepare(st, &up, "INSERT INTO flag_objects(env, kind, name, version, definition, updated_ms, "
			       "updated_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT(env, kind, name) DO UPDATE "
			       "SET version = excluded.version, definition = excluded.definition, "
			       "updated_ms = excluded.updated_ms, updated_by = excluded.updated_by", err)) < 0)
		goto out;
	sql_bind_text(up, 1, env);
	sql_bind_text(up, 2, kind);
	sql_bind_text(up, 3, name);
	sql_bind_int64(up, 4, version);
	sql_bind_text(up, 5, text);
	sql_bind_int64(up, 6, now_ms);
	sql_bind_text(up, 7, actor);
	if (sql_step(up, NULL) != SQL_DONE) {
		strbuf_errf(err, "cannot store %s '%s': %s", kind, name, sql_errmsg(st));
		r = SW_ESTORE;
		goto out;
	}
	r = record_change(st, env, kind, name, version, have ? "updated" : "created", text, def, actor, reason, now_ms,
			  err);
	if (r >= 0)
		*changed = 1;
out:
	free(text);
	flag_record_release(&cur);
	r = store_tx_end(st, own, r, err);
	return r < 0 ? r : version;
}

int flag_store_delete(struct store *st, const char *env, const char *kind, const char *name, const char *actor,
		      const char *reason, int64_t now_ms, struct strbuf *err)
{
	_cleanup_sql_ struct sql_stmt *del = NULL;
	struct flag_record cur = { 0 };
	int own, r;

	if ((own = store_tx_begin(st, err)) < 0)
		return own;
	if ((r = flag_store_get(st, env, kind, name, &cur, err)) < 0)
		goto out;
	if (!strcmp(kind, FLAG_KIND_SEGMENT)) {
		struct flag_record *v = NULL;
		struct strbuf users = STRBUF_INIT;
		size_t n = 0;
		if ((r = flag_store_list(st, env, FLAG_KIND_FLAG, &v, &n, err)) < 0)
			goto out;
		for (size_t i = 0; i < n; i++) {
			json_t *rule, *seg;
			size_t a, b;
			int uses = 0;
			json_array_foreach(json_object_get(v[i].def, "rules"), a, rule)
				json_array_foreach(json_object_get(rule, "segments"), b, seg)
					uses |= !strcmp(json_string_value(seg), name);
			if (uses)
				strbuf_addf(&users, "%s'%s'", users.len ? ", " : "", v[i].name);
		}
		flag_records_free(v, n);
		if (users.len) {
			strbuf_errf(err, "segment '%s' is used by %s in environment '%s'; remove those rules first", name,
				    users.buf, env);
			r = SW_ESTATE;
		}
		strbuf_release(&users);
		if (r < 0)
			goto out;
	}
	if ((r = sql_prepare(st, &del, "DELETE FROM flag_objects WHERE env = ?1 AND kind = ?2 AND name = ?3", err)) < 0)
		goto out;
	sql_bind_text(del, 1, env);
	sql_bind_text(del, 2, kind);
	sql_bind_text(del, 3, name);
	if (sql_step(del, NULL) != SQL_DONE) {
		strbuf_errf(err, "cannot delete %s '%s': %s", kind, name, sql_errmsg(st));
		r = SW_ESTORE;
		goto out;
	}
	r = record_change(st, env, kind, name, cur.version + 1, "deleted", NULL, NULL, actor, reason, now_ms, err);
out:
	flag_record_release(&cur);
	return store_tx_end(st, own, r, err);
}

int flag_store_history(struct store *st, const char *env, const char *kind, const char *name, struct flag_record **out,
		       size_t *n, struct strbuf *err)
{
	_cleanup_sql_ struct sql_stmt *q = NULL;
	struct flag_record *v = NULL;
	size_t nr = 0, alloc = 0;
	int r = sql_prepare(st, &q, "SELECT env, kind, name, version, definition, at_ms, actor, action, reason, "
			      "audit_id FROM flag_history WHERE env = ?1 AND (?2 IS NULL OR (kind = ?3 AND name = ?2)) "
			      "ORDER BY seq", err);
	if (r < 0)
		return r;
	sql_bind_text(q, 1, env);
	if (name)
		sql_bind_text(q, 2, name);
	sql_bind_text(q, 3, kind);
	while (sql_step(q, NULL) == SQL_ROW) {
		struct flag_record *h;
		ALLOC_GROW(v, nr + 1, alloc);
		h = &v[nr++];
		memset(h, 0, sizeof(*h));
		h->env = col(q, 0);
		h->kind = col(q, 1);
		h->name = col(q, 2);
		h->version = sql_column_int64(q, 3);
		h->def = col_json(q, 4);
		h->at_ms = sql_column_int64(q, 5);
		h->actor = col(q, 6);
		h->action = col(q, 7);
		h->reason = col(q, 8);
		h->audit_id = sql_column_int64(q, 9);
	}
	*out = v;
	*n = nr;
	return 0;
}

int64_t flag_store_generation(struct store *st, const char *env, struct strbuf *err)
{
	static const char sql[] = "SELECT COALESCE(MAX(seq), 0) FROM flag_history WHERE env = ?1";
	struct sql_stmt *q;
	int64_t gen;
	int r = sql_prepare_cached(st, &q, sql, err);
	if (r < 0)
		return r;
	sql_bind_text(q, 1, env);
	switch (sql_step(q, NULL)) {
	case SQL_ROW:
		gen = sql_column_int64(q, 0);
		break;
	case SQL_DONE:
		gen = 0;
		break;
	default:
		strbuf_errf(err, "cannot read the flags' generation: %s", sql_errmsg(st));
		gen = SW_ESTORE;
	}
	sql_reset(q);
	return gen;
}
