/*
 * deployment_store.c - the "deployments" store module: schema and the
 * reads and writes of the rollout engine; see deployment_store.h.
 * Migrations are append-only.  Every write that follows a decision happens
 * in one BEGIN IMMEDIATE transaction guarded by the row version
 * (engine_seq), so a transition is either committed once with everything
 * it implies, or not at all.
 */
#include "adapters/deployment_store.h"
#include "adapters/sql.h"
#include "adapters/store.h"
#include "core/query_analysis.h"
#include "core/strategy_json.h"
#include "base/alloc.h"
#include "base/err.h"
#include "base/fmt.h"
#include "base/strbuf.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const migrations[] = {
	/* 1 */
	"CREATE TABLE deployments ("
	"  id INTEGER PRIMARY KEY,"
	"  service TEXT NOT NULL,"
	"  env TEXT NOT NULL,"
	"  version TEXT NOT NULL,"
	"  revision INTEGER NOT NULL,"
	"  from_version TEXT,"
	"  type TEXT NOT NULL,"
	"  class TEXT NOT NULL DEFAULT 'normal',"
	"  strategy TEXT NOT NULL,"
	"  state TEXT NOT NULL,"
	"  step INTEGER NOT NULL DEFAULT 0,"
	"  weight REAL NOT NULL DEFAULT 0,"
	"  failed_checks INTEGER NOT NULL DEFAULT 0,"
	"  reason TEXT,"
	"  requested_by TEXT NOT NULL,"
	"  emergency_reason TEXT,"
	"  commit_sha TEXT,"
	"  commit_time_ms INTEGER,"
	"  created_ms INTEGER NOT NULL,"
	"  started_ms INTEGER,"
	"  finished_ms INTEGER,"
	"  state_since_ms INTEGER NOT NULL,"
	"  spec_json TEXT);"
	"CREATE INDEX deployments_service ON deployments(service, env, id);"
	"CREATE INDEX deployments_created ON deployments(created_ms);"
	"CREATE TABLE transitions ("
	"  id INTEGER PRIMARY KEY,"
	"  deployment_id INTEGER NOT NULL REFERENCES deployments(id),"
	"  at_ms INTEGER NOT NULL,"
	"  from_state TEXT,"
	"  to_state TEXT NOT NULL,"
	"  step INTEGER,"
	"  weight REAL,"
	"  reason TEXT,"
	"  detail_json TEXT);"
	"CREATE INDEX transitions_deployment ON transitions(deployment_id, id);"
	"CREATE TABLE intents ("
	"  id INTEGER PRIMARY KEY,"
	"  deployment_id INTEGER NOT NULL REFERENCES deployments(id),"
	"  kind TEXT NOT NULL,"
	"  arg TEXT,"
	"  requested_by TEXT,"
	"  created_ms INTEGER NOT NULL,"
	"  applied_ms INTEGER,"
	"  result TEXT);"
	"CREATE INDEX intents_pending ON intents(deployment_id, applied_ms);"
	"CREATE TABLE analysis_results ("
	"  id INTEGER PRIMARY KEY,"
	"  deployment_id INTEGER NOT NULL REFERENCES deployments(id),"
	"  at_ms INTEGER NOT NULL,"
	"  step INTEGER,"
	"  weight REAL,"
	"  verdict TEXT NOT NULL,"
	"  reason TEXT,"
	"  table_json TEXT);"
	"CREATE INDEX analysis_deployment ON analysis_results(deployment_id, id);",
	/* 2: the engine's cursor and row version */
	"ALTER TABLE deployments ADD COLUMN engine_json TEXT;"
	"ALTER TABLE deployments ADD COLUMN engine_seq INTEGER NOT NULL DEFAULT 0;"
	"CREATE INDEX deployments_state ON deployments(state);",
	/* 3: at most one unfinished deployment per service and environment (every path that creates
	 * one: deploy, retry, undo).  A store from before may hold several: all but the oldest are
	 * failed first, with a transition saying why, so the index can exist. */
	"INSERT INTO transitions (deployment_id, at_ms, from_state, to_state, step, weight, reason)"
	"  SELECT id, state_since_ms, state, 'failed', step, weight,"
	"         'failed by the store upgrade: a second unfinished deployment of ' || service || ' in ' || env"
	"  FROM deployments d WHERE state NOT IN ('succeeded', 'rolled_back', 'failed') AND EXISTS ("
	"    SELECT 1 FROM deployments o WHERE o.service = d.service AND o.env = d.env AND o.id < d.id"
	"    AND o.state NOT IN ('succeeded', 'rolled_back', 'failed'));"
	"UPDATE deployments SET state = 'failed', finished_ms = state_since_ms, engine_seq = engine_seq + 1,"
	"  reason = 'failed by the store upgrade: a second unfinished deployment of ' || service || ' in ' || env"
	"  WHERE id IN (SELECT d.id FROM deployments d WHERE d.state NOT IN ('succeeded', 'rolled_back', 'failed')"
	"    AND EXISTS (SELECT 1 FROM deployments o WHERE o.service = d.service AND o.env = d.env AND o.id < d.id"
	"    AND o.state NOT IN ('succeeded', 'rolled_back', 'failed')));"
	"CREATE UNIQUE INDEX deployments_one_unfinished ON deployments(service, env)"
	"  WHERE state NOT IN ('succeeded', 'rolled_back', 'failed');",
	/* 4: the time scale a deployment runs at (docs/engine.md "Time scale"); its times are wall times */
	"ALTER TABLE deployments ADD COLUMN time_scale REAL NOT NULL DEFAULT 1;",
};

/*
 * The unfinished deployment of service/env: its id (and state name in
 * state[32]), 0 when none, or < 0 on a store error.
 */
static int64_t unfinished_of(struct store *st, const char *service, const char *env, char *state, struct strbuf *err)
{
	_cleanup_sql_ struct sql_stmt *q = NULL;
	int64_t id = 0;
	int r;
	if ((r = sql_prepare(st, &q, "SELECT id, state FROM deployments WHERE service = ? AND env = ? AND state NOT IN "
			       "('succeeded', 'rolled_back', 'failed') ORDER BY id LIMIT 1", err)) < 0)
		return r;
	sql_bind_text(q, 1, service);
	sql_bind_text(q, 2, env);
	if (sql_step(q, NULL) == SQL_ROW) {
		id = sql_column_int64(q, 0);
		snprintf(state, 32, "%s", sql_column_text(q, 1));
	}
	return id;
}

int deployment_store_migrate(struct store *st, struct strbuf *err)
{
	return store_migrate_ported(st, "deployments", migrations, NULL, (int)ARRAY_SIZE(migrations), err);
}

static int sqlerr(struct store *st, struct strbuf *err, const char *what)
{
	strbuf_errf(err, "store: %s: %s", what, sql_errmsg(st));
	return SW_ESTORE;
}

static void copy_col(char *dst, size_t n, struct sql_stmt *s, int col)
{
	const char *t = sql_column_text(s, col);
	snprintf(dst, n, "%s", t ? t : "");
}

static int64_t col_i64(struct sql_stmt *s, int col)
{
	return sql_column_is_null(s, col) ? 0 : sql_column_int64(s, col);
}

static void bind_text_or_null(struct sql_stmt *s, int i, const char *t)
{
	if (t && *t)
		sql_bind_text(s, i, t);
	else
		sql_bind_null(s, i);
}

static void bind_ms_or_null(struct sql_stmt *s, int i, int64_t v)
{
	if (v)
		sql_bind_int64(s, i, v);
	else
		sql_bind_null(s, i);
}

static void num_or_null(json_t *o, const char *k, double v)
{
	json_object_set_new(o, k, isnan(v) ? json_null() : json_real(v));
}

static char *cursor_json(const struct deployment *d)
{
	json_t *j = json_object(), *b = json_object();
	char *out;

	json_object_set_new(j, "group", json_integer(d->group));
	json_object_set_new(j, "step_since_ms", json_integer(d->step_since_ms));
	json_object_set_new(j, "next_analysis_ms", json_integer(d->next_analysis_ms));
	json_object_set_new(j, "analysis_from_ms", json_integer(d->analysis_from_ms));
	json_object_set_new(j, "check_counted_ms", json_integer(d->check_counted_ms));
	json_object_set_new(j, "inconclusive_since_ms", json_integer(d->inconclusive_since_ms));
	json_object_set_new(j, "monitoring_since_ms", json_integer(d->monitoring_since_ms));
	json_object_set_new(j, "resume_state", json_string(deployment_state_name(d->resume_state)));
	json_object_set_new(j, "paused_by_rule", json_integer(d->paused_by_rule));
	if (d->host_away_since_ms)	/* a hold on a fleet host under way (deployment-t.h) */
		json_object_set_new(j, "host_away_since_ms", json_integer(d->host_away_since_ms));
	json_object_set_new(b, "requests", json_integer((json_int_t)d->baseline.requests));
	json_object_set_new(b, "errors", json_integer((json_int_t)d->baseline.errors));
	num_or_null(b, "p50_ms", d->baseline.p50_ms);
	num_or_null(b, "p99_ms", d->baseline.p99_ms);
	json_object_set_new(b, "span_ms", json_integer(d->baseline.span_ms));
	json_object_set_new(j, "baseline", b);
	if (d->ev.batches || d->ev.have_lines)
		json_object_set_new(j, "evidence", judge_evidence_to_json(&d->ev));
	out = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(j);
	return out;
}

static double num_or_nan(json_t *v)
{
	return json_is_number(v) ? json_number_value(v) : NAN;
}

static int parse_cursor(const char *text, struct deployment *d, struct strbuf *err)
{
	json_error_t je;
	json_t *j, *b;
	const char *rs;

	d->baseline.p50_ms = d->baseline.p99_ms = NAN;
	if (!text || !*text)
		return 0;
	j = json_loads(text, 0, &je);
	if (!j) {
		strbuf_errf(err, "store: deployment %lld: bad engine_json: %s", (long long)d->id, je.text);
		return SW_EPARSE;
	}
	d->group = (int)json_integer_value(json_object_get(j, "group"));
	d->step_since_ms = json_integer_value(json_object_get(j, "step_since_ms"));
	d->next_analysis_ms = json_integer_value(json_object_get(j, "next_analysis_ms"));
	d->analysis_from_ms = json_integer_value(json_object_get(j, "analysis_from_ms"));
	d->check_counted_ms = json_integer_value(json_object_get(j, "check_counted_ms"));
	d->inconclusive_since_ms = json_integer_value(json_object_get(j, "inconclusive_since_ms"));
	d->monitoring_since_ms = json_integer_value(json_object_get(j, "monitoring_since_ms"));
	rs = json_string_value(json_object_get(j, "resume_state"));
	if (!rs || deployment_state_parse(rs, &d->resume_state) < 0)
		d->resume_state = DS_PROGRESSING;
	d->paused_by_rule = (int)json_integer_value(json_object_get(j, "paused_by_rule"));
	d->host_away_since_ms = json_integer_value(json_object_get(j, "host_away_since_ms"));
	b = json_object_get(j, "baseline");
	if (json_is_object(b)) {
		d->baseline.requests = (uint64_t)json_integer_value(json_object_get(b, "requests"));
		d->baseline.errors = (uint64_t)json_integer_value(json_object_get(b, "errors"));
		d->baseline.p50_ms = num_or_nan(json_object_get(b, "p50_ms"));
		d->baseline.p99_ms = num_or_nan(json_object_get(b, "p99_ms"));
		d->baseline.span_ms = json_integer_value(json_object_get(b, "span_ms"));
	}
	/* the sequential judge's evidence (judge.h): absent before the first judged interval */
	memset(&d->ev, 0, sizeof(d->ev));
	if (json_object_get(j, "evidence") && judge_evidence_from_json(json_object_get(j, "evidence"), &d->ev) < 0) {
		json_decref(j);
		strbuf_errf(err, "store: deployment %lld: bad evidence in engine_json", (long long)d->id);
		return SW_EPARSE;
	}
	json_decref(j);
	return 0;
}

static char *spec_json(const struct strategy *s)
{
	json_t *j = json_object();
	char *out;
	json_object_set_new(j, "strategy", strategy_to_json(s));
	out = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	return out;
}

/*
 * Insert d inside an open transaction; sets id, revision, store_seq.  Its
 * first transition is "" -> first->to at first->at_ms with first->reason,
 * or (first NULL) "" -> d->state at d->created_ms with d->reason.
 */
static int insert_deployment(struct store *st, struct deployment *d, const char *spec,
			     const struct transition *first, struct strbuf *err)
{
	_cleanup_sql_ struct sql_stmt *q = NULL, *ins = NULL, *tr = NULL;
	_cleanup_free_ char *cur = NULL;
	char state[32] = "";
	int64_t other;
	int r;

	/* the partial unique index enforces it; this check gives the error a person can act on */
	if (!deployment_state_is_final(d->state) && (other = unfinished_of(st, d->service, d->env, state, err)) != 0) {
		if (other < 0)
			return (int)other;
		strbuf_errf(err, "deployment %lld of %s in %s is unfinished (%s): one deployment at a time per service "
			    "and environment; run 'slipway deploy' of its version again to resume it, or "
			    "'slipway abort %lld' first", (long long)other, d->service, d->env, state, (long long)other);
		return SW_ESTATE;
	}
	if (d->revision <= 0) {
		if ((r = sql_prepare(st, &q, "SELECT COALESCE(MAX(revision), 0) + 1 FROM deployments "
				       "WHERE service = ? AND env = ?", err)) < 0)
			return r;
		sql_bind_text(q, 1, d->service);
		sql_bind_text(q, 2, d->env);
		if (sql_step(q, NULL) != SQL_ROW)
			return sqlerr(st, err, "next revision");
		d->revision = (int)sql_column_int64(q, 0);
	}
	cur = cursor_json(d);
	if ((r = sql_prepare(st, &ins,
			       "INSERT INTO deployments (service, env, version, revision, from_version, type, strategy, "
			       "state, step, weight, failed_checks, reason, requested_by, created_ms, started_ms, "
			       "finished_ms, state_since_ms, spec_json, engine_json, engine_seq, class, time_scale) "
			       "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,1,?20,?21)", err)) < 0)
		return r;
	sql_bind_text(ins, 1, d->service);
	sql_bind_text(ins, 2, d->env);
	sql_bind_text(ins, 3, d->version);
	sql_bind_int64(ins, 4, d->revision);
	bind_text_or_null(ins, 5, d->from_version);
	sql_bind_text(ins, 6, d->type);
	{
		json_error_t je;
		json_t *sj = json_loads(spec, 0, &je);
		const char *kind = json_string_value(json_object_get(json_object_get(sj, "strategy"), "kind"));
		sql_bind_text(ins, 7, kind ? kind : "canary");
		json_decref(sj);
	}
	sql_bind_text(ins, 8, deployment_state_name(d->state));
	sql_bind_int64(ins, 9, d->step);
	sql_bind_double(ins, 10, d->weight);
	sql_bind_int64(ins, 11, d->failed_checks);
	sql_bind_text(ins, 12, d->reason);
	sql_bind_text(ins, 13, d->requested_by[0] ? d->requested_by : "unknown");
	sql_bind_int64(ins, 14, d->created_ms);
	bind_ms_or_null(ins, 15, d->started_ms);
	bind_ms_or_null(ins, 16, d->finished_ms);
	sql_bind_int64(ins, 17, d->state_since_ms);
	sql_bind_text(ins, 18, spec);
	sql_bind_text(ins, 19, cur);
	sql_bind_text(ins, 20, d->change_class[0] ? d->change_class : "normal");
	sql_bind_double(ins, 21, deployment_is_scaled(d) ? d->time_scale : 1);
	if (sql_step(ins, NULL) != SQL_DONE)
		return sqlerr(st, err, "insert deployment");
	d->id = sql_last_insert_id(st);
	d->store_seq = 1;
	if ((r = sql_prepare(st, &tr, "INSERT INTO transitions (deployment_id, at_ms, from_state, to_state, step, "
			       "weight, reason) VALUES (?, ?, NULL, ?, ?, ?, ?)", err)) < 0)
		return r;
	sql_bind_int64(tr, 1, d->id);
	sql_bind_int64(tr, 2, first ? first->at_ms : d->created_ms);
	sql_bind_text(tr, 3, deployment_state_name(first ? first->to : d->state));
	sql_bind_int64(tr, 4, first ? first->step : d->step);
	sql_bind_double(tr, 5, first ? first->weight : d->weight);
	sql_bind_text(tr, 6, first ? first->reason : d->reason);
	if (sql_step(tr, NULL) != SQL_DONE)
		return sqlerr(st, err, "insert transition");
	return 0;
}

int deployment_store_create(struct store *st, struct deployment *d, const struct strategy *s,
			    struct strbuf *err)
{
	_cleanup_free_ char *spec = spec_json(s);
	struct deployment tmp = *d;
	int r;

	if ((r = store_begin(st, err)) < 0)
		return r;
	if ((r = insert_deployment(st, &tmp, spec, NULL, err)) < 0) {
		store_rollback(st);
		return r;
	}
	if ((r = store_commit(st, err)) < 0)
		return r;
	*d = tmp;
	return 0;
}

int deployment_store_create_final(struct store *st, struct deployment *d, const struct strategy *s,
				  const struct transition *t, int nt, struct strbuf *err)
{
	_cleanup_free_ char *spec = spec_json(s);
	_cleanup_sql_ struct sql_stmt *tr = NULL;
	struct deployment tmp = *d;
	int r;

	if (!deployment_state_is_final(d->state) || nt < 1 || t[0].to != DS_PENDING || t[nt - 1].to != d->state) {
		strbuf_errf(err, "internal: a deployment created final needs transitions from pending to its state");
		return SW_EUSAGE;
	}
	if ((r = store_begin(st, err)) < 0)
		return r;
	if ((r = insert_deployment(st, &tmp, spec, &t[0], err)) < 0 ||
	    (r = sql_prepare(st, &tr, "INSERT INTO transitions (deployment_id, at_ms, from_state, to_state, step, "
			       "weight, reason) VALUES (?, ?, ?, ?, ?, ?, ?)", err)) < 0)
		goto fail;
	for (int i = 1; i < nt; i++) {
		sql_reset(tr);
		sql_bind_int64(tr, 1, tmp.id);
		sql_bind_int64(tr, 2, t[i].at_ms);
		sql_bind_text(tr, 3, deployment_state_name(t[i].from));
		sql_bind_text(tr, 4, deployment_state_name(t[i].to));
		sql_bind_int64(tr, 5, t[i].step);
		sql_bind_double(tr, 6, t[i].weight);
		sql_bind_text(tr, 7, t[i].reason);
		if (sql_step(tr, NULL) != SQL_DONE) {
			r = sqlerr(st, err, "insert transition");
			goto fail;
		}
	}
	if ((r = store_commit(st, err)) < 0)
		return r;
	*d = tmp;
	return 0;
fail:
	store_rollback(st);
	return r;
}

int deployment_store_load(struct store *st, int64_t id, struct deployment *d, struct strategy *s,
			  struct strbuf *err)
{
	_cleanup_sql_ struct sql_stmt *q = NULL;
	struct deployment tmp;
	char state[32];
	int r;

	if ((r = sql_prepare(st, &q,
			       "SELECT id, service, env, version, revision, from_version, type, state, step, weight, "
			       "failed_checks, reason, requested_by, created_ms, started_ms, finished_ms, "
			       "state_since_ms, engine_json, engine_seq, spec_json, class, time_scale FROM deployments "
			       "WHERE id = ?",
			       err)) < 0)
		return r;
	sql_bind_int64(q, 1, id);
	r = sql_step(q, NULL);
	if (r == SQL_DONE) {
		strbuf_errf(err, "no deployment %lld", (long long)id);
		return SW_ENOTFOUND;
	}
	if (r != SQL_ROW)
		return sqlerr(st, err, "load deployment");
	memset(&tmp, 0, sizeof(tmp));
	tmp.id = sql_column_int64(q, 0);
	copy_col(tmp.service, sizeof(tmp.service), q, 1);
	copy_col(tmp.env, sizeof(tmp.env), q, 2);
	copy_col(tmp.version, sizeof(tmp.version), q, 3);
	tmp.revision = (int)sql_column_int64(q, 4);
	copy_col(tmp.from_version, sizeof(tmp.from_version), q, 5);
	copy_col(tmp.type, sizeof(tmp.type), q, 6);
	copy_col(state, sizeof(state), q, 7);
	if (deployment_state_parse(state, &tmp.state) < 0) {
		strbuf_errf(err, "store: deployment %lld has an unknown state '%s'", (long long)id, state);
		return SW_EPARSE;
	}
	tmp.step = (int)sql_column_int64(q, 8);
	tmp.weight = sql_column_double(q, 9);
	tmp.failed_checks = (int)sql_column_int64(q, 10);
	copy_col(tmp.reason, sizeof(tmp.reason), q, 11);
	copy_col(tmp.requested_by, sizeof(tmp.requested_by), q, 12);
	tmp.created_ms = col_i64(q, 13);
	tmp.started_ms = col_i64(q, 14);
	tmp.finished_ms = col_i64(q, 15);
	tmp.state_since_ms = col_i64(q, 16);
	if ((r = parse_cursor(sql_column_text(q, 17), &tmp, err)) < 0)
		return r;
	tmp.store_seq = col_i64(q, 18);
	copy_col(tmp.change_class, sizeof(tmp.change_class), q, 20);
	tmp.time_scale = sql_column_double(q, 21);
	if (s) {
		json_error_t je;
		const char *text = sql_column_text(q, 19);
		json_t *j = text ? json_loads(text, 0, &je) : NULL;
		r = j ? strategy_from_json(json_object_get(j, "strategy"), s, err) : SW_EPARSE;
		if (!j)
			strbuf_errf(err, "store: deployment %lld has no readable strategy", (long long)id);
		json_decref(j);
		if (r < 0)
			return r;
	}
	*d = tmp;
	return 0;
}

int deployment_store_active(struct store *st, int64_t before_ms, int64_t **ids, size_t *n, struct strbuf *err)
{
	return deployment_store_active_of(st, NULL, NULL, before_ms, ids, n, err);
}

int deployment_store_active_of(struct store *st, const char *service, const char *env, int64_t before_ms,
			       int64_t **ids, size_t *n, struct strbuf *err)
{
	_cleanup_sql_ struct sql_stmt *q = NULL;
	int64_t *v = NULL;
	size_t nr = 0, alloc = 0;
	int r;

	if ((r = sql_prepare(st, &q,
			       "SELECT id FROM deployments WHERE created_ms < ?1 AND state NOT IN "
			       "('succeeded', 'rolled_back', 'failed') AND (?2 IS NULL OR service = ?2) "
			       "AND (?3 IS NULL OR env = ?3) "
			       "UNION SELECT DISTINCT i.deployment_id FROM intents i JOIN deployments d "
			       "ON d.id = i.deployment_id WHERE i.applied_ms IS NULL AND d.created_ms < ?1 "
			       "AND (?2 IS NULL OR d.service = ?2) AND (?3 IS NULL OR d.env = ?3) ORDER BY 1",
			       err)) < 0)
		return r;
	sql_bind_int64(q, 1, before_ms);
	if (service)
		sql_bind_text(q, 2, service);
	if (service && env)
		sql_bind_text(q, 3, env);
	while ((r = sql_step(q, NULL)) == SQL_ROW) {
		ALLOC_GROW(v, nr + 1, alloc);
		v[nr++] = sql_column_int64(q, 0);
	}
	if (r != SQL_DONE) {
		free(v);
		return sqlerr(st, err, "list active deployments");
	}
	*ids = v;
	*n = nr;
	return 0;
}

int deployment_store_work(struct store *st, struct deployment_work **out, size_t *n, struct strbuf *err)
{
	_cleanup_sql_ struct sql_stmt *q = NULL;
	struct deployment_work *v = NULL;
	size_t nr = 0, alloc = 0;
	int r;

	/* the unfinished deployment of a service environment is its newest (no other can be
	 * created while it is unfinished), so the newest active id is the focus; the first
	 * half reads the partial index deployments_one_unfinished, not every deployment */
	if ((r = sql_prepare(st, &q,
			       "SELECT service, env, MAX(id) FROM (SELECT service, env, id FROM deployments WHERE state "
			       "NOT IN ('succeeded', 'rolled_back', 'failed') UNION ALL SELECT d.service, d.env, d.id "
			       "FROM intents i JOIN deployments d ON d.id = i.deployment_id WHERE i.applied_ms IS NULL) "
			       "AS w GROUP BY service, env ORDER BY MIN(id)", err)) < 0)
		return r;
	while ((r = sql_step(q, NULL)) == SQL_ROW) {
		ALLOC_GROW(v, nr + 1, alloc);
		snprintf(v[nr].service, sizeof(v[nr].service), "%s", sql_column_text(q, 0));
		snprintf(v[nr].env, sizeof(v[nr].env), "%s", sql_column_text(q, 1));
		v[nr].focus = sql_column_int64(q, 2);
		nr++;
	}
	if (r != SQL_DONE) {
		free(v);
		return sqlerr(st, err, "list the work of the controller");
	}
	*out = v;
	*n = nr;
	return 0;
}

int deployment_store_intents(struct store *st, int64_t id, struct intent *out, int max, int *n,
			     struct strbuf *err)
{
	_cleanup_sql_ struct sql_stmt *q = NULL;
	int r, k = 0;

	if ((r = sql_prepare(st, &q, "SELECT id, kind, arg, requested_by, created_ms FROM intents "
			       "WHERE deployment_id = ? AND applied_ms IS NULL ORDER BY id LIMIT ?", err)) < 0)
		return r;
	sql_bind_int64(q, 1, id);
	sql_bind_int64(q, 2, max);
	while ((r = sql_step(q, NULL)) == SQL_ROW && k < max) {
		struct intent *it = &out[k];
		char kind[32], arg[32];
		memset(it, 0, sizeof(*it));
		it->id = sql_column_int64(q, 0);
		copy_col(kind, sizeof(kind), q, 1);
		copy_col(arg, sizeof(arg), q, 2);
		copy_col(it->requested_by, sizeof(it->requested_by), q, 3);
		it->created_ms = col_i64(q, 4);
		if (intent_kind_parse(kind, &it->kind) < 0)
			continue;	/* a kind this engine does not know (e.g. approve): not its business */
		if (it->kind == INTENT_PROMOTE && !strcmp(arg, "full"))
			it->full = 1;
		if (it->kind == INTENT_UNDO && arg[0])
			it->to_revision = (int)strtol(arg, NULL, 10);
		k++;
	}
	if (r != SQL_DONE && r != SQL_ROW)
		return sqlerr(st, err, "read intents");
	*n = k;
	return 0;
}

int deployment_store_add_intent(struct store *st, int64_t deployment_id, const struct intent *it,
				int64_t *intent_id, struct strbuf *err)
{
	_cleanup_sql_ struct sql_stmt *q = NULL, *ins = NULL;
	char arg[32] = "";
	int r;

	if ((r = sql_prepare(st, &q, "SELECT 1 FROM deployments WHERE id = ?", err)) < 0)
		return r;
	sql_bind_int64(q, 1, deployment_id);
	if (sql_step(q, NULL) != SQL_ROW) {
		strbuf_errf(err, "no deployment %lld", (long long)deployment_id);
		return SW_ENOTFOUND;
	}
	if (it->full)
		snprintf(arg, sizeof(arg), "full");
	else if (it->to_revision)
		snprintf(arg, sizeof(arg), "%d", it->to_revision);
	if ((r = sql_prepare(st, &ins, "INSERT INTO intents (deployment_id, kind, arg, requested_by, created_ms) "
			       "VALUES (?, ?, ?, ?, ?)", err)) < 0)
		return r;
	sql_bind_int64(ins, 1, deployment_id);
	sql_bind_text(ins, 2, intent_kind_name(it->kind));
	bind_text_or_null(ins, 3, arg);
	bind_text_or_null(ins, 4, it->requested_by);
	sql_bind_int64(ins, 5, it->created_ms);
	if (sql_step(ins, NULL) != SQL_DONE)
		return sqlerr(st, err, "record intent");
	if (intent_id)
		*intent_id = sql_last_insert_id(st);
	return 0;
}

/* The deployment a retry/undo creates, inside the commit's transaction. */
static int create_follow_up(struct store *st, const struct deployment *before, const struct strategy *s,
			    const struct rollout_action *a, int64_t now_ms, int64_t *new_id, char *result,
			    size_t rsize, struct strbuf *err)
{
	_cleanup_sql_ struct sql_stmt *q = NULL;
	_cleanup_free_ char *spec = NULL;
	struct deployment nd;
	struct strategy *ns = xcalloc(1, sizeof(*ns));
	char by[SW_USER_MAX + 1] = "", version[SW_NAME_MAX + 1] = "";
	int revision = 0, r;

	if ((r = sql_prepare(st, &q, "SELECT requested_by FROM intents WHERE id = ?", err)) < 0)
		goto out;
	sql_bind_int64(q, 1, a->intent_id);
	if (sql_step(q, NULL) == SQL_ROW)
		copy_col(by, sizeof(by), q, 0);
	sql_finalize(q);
	q = NULL;
	*ns = *s;
	if (a->kind == ACT_RETRY) {
		deployment_init(&nd, before->service, before->env, before->version, before->from_version, before->type,
				now_ms);
		memcpy(nd.change_class, before->change_class, sizeof(nd.change_class));
		nd.time_scale = before->time_scale;	/* the same run of the same revision: the same clock */
		nd.revision = before->revision;
		snprintf(nd.reason, sizeof(nd.reason), "retry of deployment %lld (%s) by %s", (long long)before->id,
			 before->version, by[0] ? by : "someone");
	} else {
		/* undo: back to revision N, or to the revision before this one */
		const char *serving = before->state == DS_SUCCEEDED ? before->version : before->from_version;
		if (a->to_revision) {
			if ((r = sql_prepare(st, &q, "SELECT version, revision FROM deployments WHERE service = ? AND "
					       "env = ? AND revision = ? ORDER BY id DESC LIMIT 1", err)) < 0)
				goto out;
			sql_bind_int64(q, 3, a->to_revision);
		} else {
			if ((r = sql_prepare(st, &q, "SELECT version, revision FROM deployments WHERE service = ? AND "
					       "env = ? AND version = ? ORDER BY id DESC LIMIT 1", err)) < 0)
				goto out;
			sql_bind_text(q, 3, before->from_version);
		}
		sql_bind_text(q, 1, before->service);
		sql_bind_text(q, 2, before->env);
		if (sql_step(q, NULL) == SQL_ROW) {
			copy_col(version, sizeof(version), q, 0);
			revision = (int)sql_column_int64(q, 1);
		} else if (!a->to_revision && before->from_version[0]) {
			xsnprintf(version, sizeof(version), "%s", before->from_version);
		}
		if (!version[0]) {
			if (a->to_revision)
				snprintf(result, rsize, "rejected: %s has no revision %d", before->service, a->to_revision);
			else
				snprintf(result, rsize, "rejected: %s has no earlier revision to go back to", before->service);
			r = 0;
			goto out;
		}
		deployment_init(&nd, before->service, before->env, version, serving, before->type, now_ms);
		nd.revision = revision;
		snprintf(nd.reason, sizeof(nd.reason), "undo of deployment %lld (%s) by %s: back to %s",
			 (long long)before->id, before->version, by[0] ? by : "someone", version);
		/* a rollback is fast: straight to 100% after warm-up, same analysis and checks */
		ns->kind = STRATEGY_FULL;
		ns->n_steps = 0;
		ns->n_groups = 0;
	}
	snprintf(nd.requested_by, sizeof(nd.requested_by), "%s", by[0] ? by : before->requested_by);
	{
		/* a retry or undo never makes a second unfinished deployment: the intent is refused */
		char state[32] = "";
		int64_t other = unfinished_of(st, before->service, before->env, state, err);
		if (other < 0) {
			r = (int)other;
			goto out;
		}
		if (other && other != before->id) {
			/* cut at the result's size on purpose */
			struct strbuf msg = STRBUF_INIT;
			size_t len;
			strbuf_addf(&msg, "rejected: deployment %lld of %s in %s is unfinished (%s); abort it or let it "
				    "finish first", (long long)other, before->service, before->env, state);
			len = msg.len < rsize ? msg.len : rsize - 1;
			memcpy(result, msg.buf, len);
			result[len] = '\0';
			strbuf_release(&msg);
			r = 0;
			goto out;
		}
	}
	spec = spec_json(ns);
	if ((r = insert_deployment(st, &nd, spec, NULL, err)) < 0)
		goto out;
	*new_id = nd.id;
	snprintf(result, rsize, "%s: deployment %lld of %s (revision %d) created",
		 a->kind == ACT_RETRY ? "retry" : "undo", (long long)nd.id, nd.version, nd.revision);
	r = 1;
out:
	free(ns);
	return r;
}

int deployment_store_commit(struct store *st, const struct deployment *before, const struct strategy *s,
			    const struct decision *dec, int64_t now_ms, int64_t *created, int max_created,
			    struct strbuf *err)
{
	int r, n;

	if ((r = store_begin(st, err)) < 0)
		return r;
	n = deployment_store_apply(st, before, s, dec, now_ms, created, max_created, err);
	if (n < 0) {
		store_rollback(st);
		return n;
	}
	if ((r = store_commit(st, err)) < 0)
		return r;
	return n;
}

int deployment_store_apply(struct store *st, const struct deployment *before, const struct strategy *s,
			   const struct decision *dec, int64_t now_ms, int64_t *created, int max_created,
			   struct strbuf *err)
{
	const struct deployment *d = &dec->next;
	_cleanup_sql_ struct sql_stmt *up = NULL, *tr = NULL, *in = NULL, *an = NULL;
	_cleanup_free_ char *cur = NULL;
	int r, n_created = 0;
	char results[DECISION_MAX_INTENTS][200];

	for (int i = 0; i < dec->n_intents; i++)
		snprintf(results[i], sizeof(results[i]), "%s", dec->intents[i].result);
	cur = cursor_json(d);
	if ((r = sql_prepare(st, &up,
			       "UPDATE deployments SET state = ?, step = ?, weight = ?, failed_checks = ?, reason = ?, "
			       "started_ms = ?, finished_ms = ?, state_since_ms = ?, engine_json = ?, "
			       "engine_seq = engine_seq + 1 WHERE id = ? AND engine_seq = ?", err)) < 0)
		goto fail;
	sql_bind_text(up, 1, deployment_state_name(d->state));
	sql_bind_int64(up, 2, d->step);
	sql_bind_double(up, 3, d->weight);
	sql_bind_int64(up, 4, d->failed_checks);
	sql_bind_text(up, 5, d->reason);
	bind_ms_or_null(up, 6, d->started_ms);
	bind_ms_or_null(up, 7, d->finished_ms);
	sql_bind_int64(up, 8, d->state_since_ms);
	sql_bind_text(up, 9, cur);
	sql_bind_int64(up, 10, before->id);
	sql_bind_int64(up, 11, before->store_seq);
	if (sql_step(up, NULL) != SQL_DONE) {
		r = sqlerr(st, err, "update deployment");
		goto fail;
	}
	if (sql_changes(up) != 1) {
		strbuf_errf(err, "deployment %lld changed under us (another controller?)", (long long)before->id);
		r = SW_ESTATE;
		goto fail;
	}
	if ((r = sql_prepare(st, &tr, "INSERT INTO transitions (deployment_id, at_ms, from_state, to_state, step, "
			       "weight, reason, detail_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", err)) < 0)
		goto fail;
	for (int i = 0; i < dec->n_transitions; i++) {
		const struct transition *t = &dec->transitions[i];
		char detail[64];
		snprintf(detail, sizeof(detail), "{\"group\":%d}", t->group);
		sql_reset(tr);
		sql_bind_int64(tr, 1, before->id);
		sql_bind_int64(tr, 2, t->at_ms);
		sql_bind_text(tr, 3, deployment_state_name(t->from));
		sql_bind_text(tr, 4, deployment_state_name(t->to));
		sql_bind_int64(tr, 5, t->step);
		sql_bind_double(tr, 6, t->weight);
		sql_bind_text(tr, 7, t->reason);
		sql_bind_text(tr, 8, detail);
		if (sql_step(tr, NULL) != SQL_DONE) {
			r = sqlerr(st, err, "insert transition");
			goto fail;
		}
	}
	for (int i = 0; i < dec->n_actions; i++) {
		const struct rollout_action *a = &dec->actions[i];
		int64_t nid = 0;
		if (a->kind != ACT_RETRY && a->kind != ACT_UNDO)
			continue;
		for (int k = 0; k < dec->n_intents; k++) {
			if (dec->intents[k].intent_id != a->intent_id)
				continue;
			r = create_follow_up(st, before, s, a, now_ms, &nid, results[k], sizeof(results[k]), err);
			if (r < 0)
				goto fail;
			if (r > 0 && created && n_created < max_created)
				created[n_created++] = nid;
		}
	}
	if ((r = sql_prepare(st, &in, "UPDATE intents SET applied_ms = ?, result = ? "
			       "WHERE id = ? AND applied_ms IS NULL", err)) < 0)
		goto fail;
	for (int i = 0; i < dec->n_intents; i++) {
		sql_reset(in);
		sql_bind_int64(in, 1, now_ms);
		sql_bind_text(in, 2, results[i]);
		sql_bind_int64(in, 3, dec->intents[i].intent_id);
		if (sql_step(in, NULL) != SQL_DONE) {
			r = sqlerr(st, err, "mark intent applied");
			goto fail;
		}
		if (sql_changes(in) != 1) {
			strbuf_errf(err, "intent %lld was already applied", (long long)dec->intents[i].intent_id);
			r = SW_ESTATE;
			goto fail;
		}
	}
	if (dec->has_analysis && !(dec->analysis_quiet && !dec->n_transitions)) {
		json_t *j = analysis_result_to_json(&dec->analysis);
		char *text;
		if (dec->n_queries > 0 && dec->queries)
			json_object_set_new(j, "queries", query_rows_to_json(dec->queries, dec->n_queries));
		text = json_dumps(j, JSON_COMPACT);
		json_decref(j);
		if ((r = sql_prepare(st, &an, "INSERT INTO analysis_results (deployment_id, at_ms, step, weight, "
				       "verdict, reason, table_json) VALUES (?, ?, ?, ?, ?, ?, ?)", err)) < 0) {
			free(text);
			goto fail;
		}
		sql_bind_int64(an, 1, before->id);
		sql_bind_int64(an, 2, now_ms);
		sql_bind_int64(an, 3, before->step);
		sql_bind_double(an, 4, before->weight);
		sql_bind_text(an, 5, analysis_verdict_name(dec->analysis.verdict));
		sql_bind_text(an, 6, dec->analysis.reason);
		sql_bind_text(an, 7, text);
		free(text);
		if (sql_step(an, NULL) != SQL_DONE) {
			r = sqlerr(st, err, "insert analysis result");
			goto fail;
		}
	}
	return n_created;
fail:
	return r;
}

static int is_number(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

int deployment_store_resolve(struct store *st, const char *ref, int active_only, int64_t *id,
			     struct strbuf *err)
{
	_cleanup_sql_ struct sql_stmt *q = NULL;
	int r;

	if (is_number(ref)) {
		errno = 0;
		long long v = strtoll(ref, NULL, 10);
		if (errno)
			goto none;
		if ((r = sql_prepare(st, &q, "SELECT id FROM deployments WHERE id = ?", err)) < 0)
			return r;
		sql_bind_int64(q, 1, v);
	} else {
		if ((r = sql_prepare(st, &q, active_only ?
				       "SELECT id FROM deployments WHERE service = ? AND state NOT IN "
				       "('succeeded', 'rolled_back', 'failed') ORDER BY id DESC LIMIT 1" :
				       "SELECT id FROM deployments WHERE service = ? ORDER BY id DESC LIMIT 1", err)) < 0)
			return r;
		sql_bind_text(q, 1, ref);
	}
	r = sql_step(q, NULL);
	if (r == SQL_ROW) {
		*id = sql_column_int64(q, 0);
		return 0;
	}
	if (r != SQL_DONE)
		return sqlerr(st, err, "resolve deployment");
none:
	strbuf_errf(err, "no %sdeployment '%s'; give a deployment id or a service name (see 'slipway status')",
		    active_only ? "active " : "", ref);
	return SW_ENOTFOUND;
}

int deployment_store_current_version(struct store *st, const char *service, const char *env, char *buf,
				     size_t size, struct strbuf *err)
{
	_cleanup_sql_ struct sql_stmt *q = NULL;
	int r;

	/* a guarded flag rollout's cohorts (docs/flags.md) are not revisions: never the stable one.
	 * The latest by id, not by finished_ms: each deployment's times are on its own clock
	 * (a --time-scale one runs faster from its creation), so a quick deployment after a
	 * slow one can carry the earlier finish; ids follow finishes, since a service and
	 * environment has at most one unfinished deployment at a time */
	if ((r = sql_prepare(st, &q, "SELECT version FROM deployments WHERE service = ? AND env = ? AND "
			       "state = 'succeeded' AND version NOT LIKE 'flag:%' ORDER BY id DESC LIMIT 1", err)) < 0)
		return r;
	sql_bind_text(q, 1, service);
	sql_bind_text(q, 2, env);
	buf[0] = '\0';
	r = sql_step(q, NULL);
	if (r == SQL_ROW)
		copy_col(buf, size, q, 0);
	else if (r != SQL_DONE)
		return sqlerr(st, err, "current version");
	return 0;
}

int deployment_store_note(struct store *st, int64_t id, int64_t at_ms, const char *text, struct strbuf *err)
{
	_cleanup_sql_ struct sql_stmt *q = NULL;
	int r;
	if ((r = sql_prepare(st, &q, "INSERT INTO transitions (deployment_id, at_ms, from_state, to_state, step, weight, "
			       "reason, detail_json) SELECT id, ?2, state, state, step, weight, ?3, '{\"event\":true}' "
			       "FROM deployments WHERE id = ?1", err)) < 0)
		return r;
	sql_bind_int64(q, 1, id);
	sql_bind_int64(q, 2, at_ms);
	sql_bind_text(q, 3, text);
	if (sql_step(q, NULL) != SQL_DONE)
		return sqlerr(st, err, "note an event");
	return 0;
}
