/*
 * pack_store.c - agent-pack stages in the store; see pack_store.h.
 */
#include "adapters/pack_store.h"
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
	"CREATE TABLE pack_stages ("
	"  seq INTEGER PRIMARY KEY,"
	"  pack TEXT NOT NULL,"
	"  version TEXT NOT NULL,"
	"  env TEXT NOT NULL,"
	"  stage TEXT NOT NULL,"
	"  status TEXT NOT NULL CHECK (status IN ('passed', 'failed', 'waiting')),"
	"  exit_code INTEGER NOT NULL,"
	"  detail TEXT NOT NULL,"
	"  actor TEXT NOT NULL,"
	"  at_ms INTEGER NOT NULL,"
	"  audit_id INTEGER NOT NULL);"
	"CREATE INDEX pack_stages_key ON pack_stages(pack, version, env, stage, seq);",
};

int pack_store_migrate(struct store *st, struct strbuf *err)
{
	int r = audit_migrate(st, err);
	if (r)
		return r;
	return store_migrate_ported(st, "packs", migrations, NULL, (int)ARRAY_SIZE(migrations), err);
}

int pack_store_record(struct store *st, const char *pack, const char *version, const char *env, const char *stage,
		      const char *status, int exit_code, const char *detail, const char *actor, int64_t at_ms,
		      struct strbuf *err)
{
	_cleanup_sql_ struct sql_stmt *ins = NULL;
	struct strbuf subject = STRBUF_INIT;
	int64_t audit_id;
	int own, r;

	if ((own = store_tx_begin(st, err)) < 0)
		return own;
	strbuf_addf(&subject, "pack:%s@%s", pack, version);
	audit_id = audit_append_json(st, at_ms, actor, "pack.stage", subject.buf,
				     json_pack("{s:s, s:s, s:s, s:i, s:s}", "env", env, "stage", stage, "status", status,
					       "exit", exit_code, "detail", detail ? detail : ""),
				     err);
	strbuf_release(&subject);
	r = audit_id < 0 ? (int)audit_id : 0;
	if (r >= 0 && (r = sql_prepare(st, &ins, "INSERT INTO pack_stages(pack, version, env, stage, status, "
					 "exit_code, detail, actor, at_ms, audit_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
					 err)) >= 0) {
		sql_bind_text(ins, 1, pack);
		sql_bind_text(ins, 2, version);
		sql_bind_text(ins, 3, env);
		sql_bind_text(ins, 4, stage);
		sql_bind_text(ins, 5, status);
		sql_bind_int64(ins, 6, exit_code);
		sql_bind_text(ins, 7, detail ? detail : "");
		sql_bind_text(ins, 8, actor);
		sql_bind_int64(ins, 9, at_ms);
		sql_bind_int64(ins, 10, audit_id);
		if (sql_step(ins, NULL) != SQL_DONE) {
			strbuf_errf(err, "cannot record the pack's stage: %s", sql_errmsg(st));
			r = SW_ESTORE;
		}
	}
	return store_tx_end(st, own, r, err);
}

int pack_store_last(struct store *st, const char *pack, const char *version, const char *env, const char *stage,
		    const char **status, struct strbuf *err)
{
	_cleanup_sql_ struct sql_stmt *q = NULL;
	int r = sql_prepare(st, &q, "SELECT status FROM pack_stages WHERE pack = ?1 AND version = ?2 AND env = ?3 "
			      "AND stage = ?4 ORDER BY seq DESC LIMIT 1", err);
	if (r < 0)
		return r;
	sql_bind_text(q, 1, pack);
	sql_bind_text(q, 2, version);
	sql_bind_text(q, 3, env);
	sql_bind_text(q, 4, stage);
	*status = NULL;
	if (sql_step(q, NULL) == SQL_ROW) {
		static const char *const known[] = { PACK_PASSED, PACK_WAITING, PACK_FAILED };
		const char *s = sql_column_text(q, 0);
		*status = known[2];
		for (size_t i = 0; i < 2; i++)
			if (s && !strcmp(s, known[i]))
				*status = known[i];
	}
	return 0;
}

static char *dup_col(struct sql_stmt *q, int i)
{
	const char *s = sql_column_text(q, i);
	return xstrdup(s ? s : "");
}

int pack_store_list(struct store *st, const char *pack, const char *version, struct pack_stage **out, size_t *n,
		    struct strbuf *err)
{
	_cleanup_sql_ struct sql_stmt *q = NULL;
	struct pack_stage *v = NULL;
	size_t nr = 0, alloc = 0;
	int r = sql_prepare(st, &q, "SELECT seq, pack, version, env, stage, status, exit_code, detail, actor, at_ms "
			      "FROM pack_stages WHERE (?1 IS NULL OR pack = ?1) AND (?2 IS NULL OR version = ?2) ORDER BY seq", err);
	if (r < 0)
		return r;
	if (pack)
		sql_bind_text(q, 1, pack);
	if (version)
		sql_bind_text(q, 2, version);
	while (sql_step(q, NULL) == SQL_ROW) {
		struct pack_stage *s;
		ALLOC_GROW(v, nr + 1, alloc);
		s = &v[nr++];
		s->seq = sql_column_int64(q, 0);
		s->pack = dup_col(q, 1);
		s->version = dup_col(q, 2);
		s->env = dup_col(q, 3);
		s->stage = dup_col(q, 4);
		s->status = dup_col(q, 5);
		s->exit_code = (int)sql_column_int64(q, 6);
		s->detail = dup_col(q, 7);
		s->actor = dup_col(q, 8);
		s->at_ms = sql_column_int64(q, 9);
	}
	*out = v;
	*n = nr;
	return 0;
}

void pack_stages_free(struct pack_stage *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].pack);
		free(v[i].version);
		free(v[i].env);
		free(v[i].stage);
		free(v[i].status);
		free(v[i].detail);
		free(v[i].actor);
	}
	free(v);
}
