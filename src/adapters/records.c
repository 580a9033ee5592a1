/*
 * records.c - queries over the deployments module's tables for the record
 * commands (history, log, show) and for approvals and DORA; see records.h.
 * Read-only: the rollout engine owns these tables and their schema.
 */
#include "adapters/records.h"
#include "core/deployment.h"
#include "adapters/sql.h"
#include "adapters/store.h"
#include "base/alloc.h"
#include "base/err.h"
#include "base/strbuf.h"

#include <jansson.h>
#include <string.h>

#define DEPLOYMENT_COLUMNS(HOLD)                                                            \
	"id, service, env, version, from_version, type, class, strategy, state, revision, step," \
	" weight, failed_checks, reason, requested_by, emergency_reason, commit_sha,"            \
	" commit_time_ms, created_ms, started_ms, finished_ms, state_since_ms, " PAUSED_MS ", time_scale, " HOLD

/* the time spent paused (waiting for a person): each transition into paused up
 * to the next transition, summed; a pause still open counts 0 */
#define PAUSED_MS                                                                                 \
	"(SELECT COALESCE(SUM(COALESCE((SELECT MIN(n.at_ms) FROM transitions n"                    \
	" WHERE n.deployment_id = p.deployment_id AND n.id > p.id), p.at_ms) - p.at_ms), 0)"       \
	" FROM transitions p WHERE p.deployment_id = deployments.id AND p.to_state = 'paused')"

/* the strategy's step count, the current step's hold (engine ms) and when the step began
 * (deployment_store.h: spec_json's steps are [group, weight, hold_ms, ...]; engine_json's
 * step_since_ms), for the time left in the hold */
#define HOLD_COLUMNS                                                                                 \
	"CASE WHEN json_valid(spec_json) THEN json_array_length(spec_json, '$.strategy.steps') END,"  \
	" CASE WHEN json_valid(spec_json) AND step >= 1 THEN"                                          \
	"   json_extract(spec_json, '$.strategy.steps[' || (step - 1) || '][2]') END,"                  \
	" CASE WHEN json_valid(engine_json) THEN json_extract(engine_json, '$.step_since_ms') END"

/* on PostgreSQL the two texts themselves, read with jansson in read_hold_pg(): a cast to jsonb of
 * a text that is not JSON fails the whole statement (PostgreSQL 15 has no "IS JSON" to guard it),
 * where SQLite's json_valid() reads such a row with no steps */
#define HOLD_COLUMNS_PG "spec_json, NULL, engine_json"

#define DEPLOYMENT_QUERY(st, TAIL)                                                                   \
	((st)->backend == STORE_BACKEND_PG ? "SELECT " DEPLOYMENT_COLUMNS(HOLD_COLUMNS_PG) " FROM deployments" TAIL \
	 : "SELECT " DEPLOYMENT_COLUMNS(HOLD_COLUMNS) " FROM deployments" TAIL)

static char *col_str(struct sql_stmt *s, int i)
{
	const char *t = sql_column_text(s, i);
	return t ? xstrdup(t) : NULL;
}

static int64_t col_time(struct sql_stmt *s, int i)
{
	return sql_column_is_null(s, i) ? RECORD_TIME_NONE : sql_column_int64(s, i);
}

/* HOLD_COLUMNS' three values from HOLD_COLUMNS_PG's texts: the strategy's step count, the current
 * step's hold and when the step began (each with has[] set when known) */
static void read_hold_pg(struct sql_stmt *s, int64_t step, int64_t *n_steps, int64_t *hold_ms, int64_t *since_ms,
			 int has[2])
{
	const char *spec = sql_column_text(s, 24), *engine = sql_column_text(s, 26);
	json_t *j = spec ? json_loads(spec, JSON_DECODE_ANY, NULL) : NULL;
	json_t *steps = json_object_get(json_object_get(j, "strategy"), "steps");

	*n_steps = json_is_array(steps) ? (int64_t)json_array_size(steps) : 0;
	has[0] = has[1] = 0;
	if (step >= 1 && step <= *n_steps) {
		json_t *h = json_array_get(json_array_get(steps, (size_t)(step - 1)), 2);
		if ((has[0] = json_is_number(h)))
			*hold_ms = (int64_t)json_number_value(h);
	}
	json_decref(j);
	j = engine ? json_loads(engine, JSON_DECODE_ANY, NULL) : NULL;
	if ((has[1] = json_is_number(json_object_get(j, "step_since_ms"))))
		*since_ms = (int64_t)json_number_value(json_object_get(j, "step_since_ms"));
	json_decref(j);
}

static void read_deployment(struct sql_stmt *s, int pg, struct deployment_record *d)
{
	int64_t hold_ms = 0, since_ms = 0;
	int has[2];

	d->id = sql_column_int64(s, 0);
	d->service = col_str(s, 1);
	d->env = col_str(s, 2);
	d->version = col_str(s, 3);
	d->from_version = col_str(s, 4);
	d->type = col_str(s, 5);
	d->class_ = col_str(s, 6);
	d->strategy = col_str(s, 7);
	d->state = col_str(s, 8);
	d->revision = sql_column_int64(s, 9);
	d->step = sql_column_int64(s, 10);
	d->weight = sql_column_double(s, 11);
	d->failed_checks = sql_column_int64(s, 12);
	d->reason = col_str(s, 13);
	d->requested_by = col_str(s, 14);
	d->emergency_reason = col_str(s, 15);
	d->commit_sha = col_str(s, 16);
	d->commit_time_ms = col_time(s, 17);
	d->created_ms = col_time(s, 18);
	d->started_ms = col_time(s, 19);
	d->finished_ms = col_time(s, 20);
	d->state_since_ms = col_time(s, 21);
	d->waited_ms = d->ran_ms = RECORD_TIME_NONE;
	if (d->finished_ms != RECORD_TIME_NONE && d->created_ms != RECORD_TIME_NONE) {
		/* pending (the gate: approvals, windows, freezes, incidents) and paused (a person) */
		int64_t waited = (d->started_ms != RECORD_TIME_NONE ? d->started_ms : d->finished_ms) - d->created_ms;
		int64_t total = d->finished_ms - d->created_ms;
		waited += sql_column_int64(s, 22);
		if (waited < 0)
			waited = 0;
		if (waited > total)
			waited = total > 0 ? total : 0;
		d->waited_ms = waited;
		d->ran_ms = total - waited > 0 ? total - waited : 0;
	}
	d->time_scale = sql_column_double(s, 23);
	if (pg) {
		read_hold_pg(s, d->step, &d->n_steps, &hold_ms, &since_ms, has);
	} else {
		d->n_steps = sql_column_int64(s, 24);
		has[0] = !sql_column_is_null(s, 25);
		has[1] = !sql_column_is_null(s, 26);
		hold_ms = sql_column_int64(s, 25);
		since_ms = sql_column_int64(s, 26);
	}
	d->hold_until_ms = RECORD_TIME_NONE;
	if (!strcmp(d->state ? d->state : "", "progressing") && d->step >= 1 && d->step <= d->n_steps &&
	    has[0] && has[1] && since_ms > 0) {
		/* the hold is engine time, shortened by the time scale (docs/engine.md "Time scale") */
		struct deployment x = { .time_scale = d->time_scale };
		d->hold_until_ms = since_ms + deployment_wall_span(&x, hold_ms);
	}
}

void deployment_record_release(struct deployment_record *d)
{
	if (!d)
		return;
	free(d->service);
	free(d->env);
	free(d->version);
	free(d->from_version);
	free(d->type);
	free(d->class_);
	free(d->strategy);
	free(d->state);
	free(d->reason);
	free(d->requested_by);
	free(d->emergency_reason);
	free(d->commit_sha);
	memset(d, 0, sizeof(*d));
}

void deployment_records_free(struct deployment_record *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		deployment_record_release(&v[i]);
	free(v);
}

int record_state_is_final(const char *state)
{
	enum deploy_state s;
	return state && deployment_state_parse(state, &s) >= 0 && deployment_state_is_final(s);
}

int records_get(struct store *st, int64_t id, struct deployment_record *out, struct strbuf *err)
{
	_cleanup_sql_ struct sql_stmt *q = NULL;
	int r = sql_prepare(st, &q, DEPLOYMENT_QUERY(st, " WHERE id = ?1"), err);
	int rc;

	if (r)
		return r;
	sql_bind_int64(q, 1, id);
	rc = sql_step(q, NULL);
	if (rc == SQL_ROW) {
		read_deployment(q, st->backend == STORE_BACKEND_PG, out);
		return 0;
	}
	if (rc == SQL_DONE) {
		strbuf_errf(err, "no deployment %lld; 'slipway log' lists them", (long long)id);
		return SW_ENOTFOUND;
	}
	strbuf_errf(err, "store '%s': %s", st->path, sql_errmsg(st));
	return SW_ESTORE;
}

int records_list(struct store *st, const char *service, const char *env, size_t limit,
		 struct deployment_record **out, size_t *n, struct strbuf *err)
{
	_cleanup_sql_ struct sql_stmt *q = NULL;
	struct deployment_record *v = NULL;
	size_t nr = 0, alloc = 0;
	int r, rc;

	r = sql_prepare(st, &q,
			  DEPLOYMENT_QUERY(st, " WHERE (?1 IS NULL OR service = ?1) AND (?2 IS NULL OR env = ?2)"
					   " ORDER BY created_ms DESC, id DESC LIMIT ?3"), err);
	if (r)
		return r;
	if (service)
		sql_bind_text(q, 1, service);
	if (env)
		sql_bind_text(q, 2, env);
	sql_bind_int64(q, 3, limit ? (int64_t)limit : INT64_MAX);	/* no limit, on both backends */
	while ((rc = sql_step(q, NULL)) == SQL_ROW) {
		ALLOC_GROW(v, nr + 1, alloc);
		read_deployment(q, st->backend == STORE_BACKEND_PG, &v[nr++]);
	}
	if (rc != SQL_DONE) {
		strbuf_errf(err, "store '%s': %s", st->path, sql_errmsg(st));
		deployment_records_free(v, nr);
		return SW_ESTORE;
	}
	*out = v;
	*n = nr;
	return 0;
}

void transition_records_free(struct transition_record *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].from_state);
		free(v[i].to_state);
		free(v[i].reason);
		free(v[i].detail_json);
	}
	free(v);
}

int records_transitions(struct store *st, int64_t deployment_id, struct transition_record **out,
			size_t *n, struct strbuf *err)
{
	_cleanup_sql_ struct sql_stmt *q = NULL;
	struct transition_record *v = NULL;
	size_t nr = 0, alloc = 0;
	int r, rc;

	r = sql_prepare(st, &q,
			  "SELECT id, at_ms, step, weight, from_state, to_state, reason, detail_json"
			  " FROM transitions WHERE deployment_id = ?1 ORDER BY at_ms, id", err);
	if (r)
		return r;
	sql_bind_int64(q, 1, deployment_id);
	while ((rc = sql_step(q, NULL)) == SQL_ROW) {
		struct transition_record *t;
		ALLOC_GROW(v, nr + 1, alloc);
		t = &v[nr++];
		t->id = sql_column_int64(q, 0);
		t->at_ms = sql_column_int64(q, 1);
		t->step = sql_column_int64(q, 2);
		t->weight = sql_column_double(q, 3);
		t->from_state = col_str(q, 4);
		t->to_state = col_str(q, 5);
		t->reason = col_str(q, 6);
		t->detail_json = col_str(q, 7);
	}
	if (rc != SQL_DONE) {
		strbuf_errf(err, "store '%s': %s", st->path, sql_errmsg(st));
		transition_records_free(v, nr);
		return SW_ESTORE;
	}
	*out = v;
	*n = nr;
	return 0;
}

void transition_events_free(struct transition_event *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].t.from_state);
		free(v[i].t.to_state);
		free(v[i].t.reason);
		free(v[i].t.detail_json);
		free(v[i].service);
		free(v[i].env);
		free(v[i].version);
	}
	free(v);
}

int records_transitions_after(struct store *st, int64_t after_id, int64_t deployment_id, const char *service,
			      const char *env, size_t limit, struct transition_event **out, size_t *n,
			      struct strbuf *err)
{
	_cleanup_sql_ struct sql_stmt *q = NULL;
	struct transition_event *v = NULL;
	size_t nr = 0, alloc = 0;
	int r, rc;

	/* seq counts as the events endpoint does: the deployment's transitions ordered by (at_ms, id) */
	r = sql_prepare(st, &q,
			  "SELECT t.id, t.at_ms, t.step, t.weight, t.from_state, t.to_state, t.reason, t.detail_json,"
			  " t.deployment_id, d.service, d.env, d.version,"
			  " (SELECT count(*) FROM transitions u WHERE u.deployment_id = t.deployment_id"
			  "   AND (u.at_ms < t.at_ms OR (u.at_ms = t.at_ms AND u.id <= t.id)))"
			  " FROM transitions t JOIN deployments d ON d.id = t.deployment_id"
			  " WHERE t.id > ?1 AND (?2 = 0 OR t.deployment_id = ?2) AND (?3 IS NULL OR d.service = ?3)"
			  " AND (?4 IS NULL OR d.env = ?4) ORDER BY t.id LIMIT ?5", err);
	if (r)
		return r;
	sql_bind_int64(q, 1, after_id);
	sql_bind_int64(q, 2, deployment_id > 0 ? deployment_id : 0);
	if (service)
		sql_bind_text(q, 3, service);
	if (env)
		sql_bind_text(q, 4, env);
	sql_bind_int64(q, 5, limit ? (int64_t)limit : 1);
	while ((rc = sql_step(q, NULL)) == SQL_ROW) {
		struct transition_event *e;
		ALLOC_GROW(v, nr + 1, alloc);
		e = &v[nr++];
		e->t.id = sql_column_int64(q, 0);
		e->t.at_ms = sql_column_int64(q, 1);
		e->t.step = sql_column_int64(q, 2);
		e->t.weight = sql_column_double(q, 3);
		e->t.from_state = col_str(q, 4);
		e->t.to_state = col_str(q, 5);
		e->t.reason = col_str(q, 6);
		e->t.detail_json = col_str(q, 7);
		e->deployment_id = sql_column_int64(q, 8);
		e->service = col_str(q, 9);
		e->env = col_str(q, 10);
		e->version = col_str(q, 11);
		e->seq = sql_column_int64(q, 12);
	}
	if (rc != SQL_DONE) {
		strbuf_errf(err, "store '%s': %s", st->path, sql_errmsg(st));
		transition_events_free(v, nr);
		return SW_ESTORE;
	}
	*out = v;
	*n = nr;
	return 0;
}

int records_transitions_last_id(struct store *st, int64_t *id, struct strbuf *err)
{
	_cleanup_sql_ struct sql_stmt *q = NULL;
	int r;
	if ((r = sql_prepare(st, &q, "SELECT COALESCE(max(id), 0) FROM transitions", err)))
		return r;
	if (sql_step(q, NULL) != SQL_ROW) {
		strbuf_errf(err, "store '%s': %s", st->path, sql_errmsg(st));
		return SW_ESTORE;
	}
	*id = sql_column_int64(q, 0);
	return 0;
}

int records_last_analysis(struct store *st, int64_t deployment_id, char **verdict, char **reason,
			  char **table_json, int64_t *at_ms, struct strbuf *err)
{
	_cleanup_sql_ struct sql_stmt *q = NULL;
	int r, rc;

	*verdict = *reason = *table_json = NULL;
	*at_ms = RECORD_TIME_NONE;
	r = sql_prepare(st, &q,
			  "SELECT verdict, reason, table_json, at_ms FROM analysis_results"
			  " WHERE deployment_id = ?1 AND table_json IS NOT NULL ORDER BY at_ms DESC, id DESC LIMIT 1",
			  err);
	if (r)
		return r;
	sql_bind_int64(q, 1, deployment_id);
	rc = sql_step(q, NULL);
	if (rc == SQL_ROW) {
		*verdict = col_str(q, 0);
		*reason = col_str(q, 1);
		*table_json = col_str(q, 2);
		*at_ms = sql_column_int64(q, 3);
		return 0;
	}
	if (rc == SQL_DONE)
		return 0;
	strbuf_errf(err, "store '%s': %s", st->path, sql_errmsg(st));
	return SW_ESTORE;
}

void analysis_records_free(struct analysis_record *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].verdict);
		free(v[i].reason);
		free(v[i].table_json);
	}
	free(v);
}

int records_analyses(struct store *st, int64_t deployment_id, int64_t after_id, size_t limit,
		     struct analysis_record **out, size_t *n, struct strbuf *err)
{
	_cleanup_sql_ struct sql_stmt *q = NULL;
	struct analysis_record *v = NULL;
	size_t nr = 0, alloc = 0;
	int r, rc;

	r = sql_prepare(st, &q,
			  "SELECT id, at_ms, step, weight, verdict, reason, table_json FROM analysis_results"
			  " WHERE deployment_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
			  err);
	if (r)
		return r;
	sql_bind_int64(q, 1, deployment_id);
	sql_bind_int64(q, 2, after_id);
	sql_bind_int64(q, 3, limit ? (int64_t)limit : INT64_MAX);	/* no limit, on both backends */
	while ((rc = sql_step(q, NULL)) == SQL_ROW) {
		struct analysis_record *a;
		ALLOC_GROW(v, nr + 1, alloc);
		a = &v[nr++];
		a->id = sql_column_int64(q, 0);
		a->at_ms = sql_column_int64(q, 1);
		a->step = sql_column_int64(q, 2);
		a->weight = sql_column_double(q, 3);
		a->verdict = col_str(q, 4);
		a->reason = col_str(q, 5);
		a->table_json = col_str(q, 6);
	}
	if (rc != SQL_DONE) {
		analysis_records_free(v, nr);
		strbuf_errf(err, "store '%s': %s", st->path, sql_errmsg(st));
		return SW_ESTORE;
	}
	*out = v;
	*n = nr;
	return 0;
}
