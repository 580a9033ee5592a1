/*
 * local_deploy.c - the live driver of one deployment on this machine; see
 * local_deploy.h.  What is committed before what is acted on follows the
 * invariants at the top of core/deployment.c (2 and 3).
 */
#include "controller/local_deploy.h"
#include "adapters/local_store.h"
#include "adapters/deployment_store.h"
#include "adapters/metrics_builtin.h"
#include "adapters/proc.h"
#include "base/alloc.h"
#include "base/err.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "controller/localstack.h"
#include "controller/measure.h"
#include "core/deployment.h"
#include "core/rollout_config.h"
#include "core/rules.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TICK_MS 100

/* the engine's clock: wall time, or wall time sped up by `scale` from an epoch */
struct sclock {
	int64_t wall0, sim0;
	double scale;
};

static int64_t sim_now(const struct sclock *c)
{
	return c->sim0 + (int64_t)((double)(proc_now_ms() - c->wall0) * c->scale);
}

static int64_t wall_of(const struct sclock *c, int64_t sim)
{
	return c->wall0 + (int64_t)((double)(sim - c->sim0) / c->scale);
}

/* the builtin provider seen through the scaled clock */
struct scaled_provider {
	struct metrics_builtin mb;
	const struct sclock *clk;
};

static int scaled_query(void *ctx, const char *service, enum revision_role role, const char *version,
			int64_t from_ms, int64_t to_ms, struct metrics_sample *out, struct strbuf *err)
{
	struct scaled_provider *sp = ctx;
	int rc;
	if (!version || !*version)
		return SW_ENOTFOUND;	/* a first deployment has no stable revision */
	rc = metrics_builtin_query(&sp->mb, service, role, version, wall_of(sp->clk, from_ms), wall_of(sp->clk, to_ms),
				   out, err);
	if (rc >= 0) {
		out->from_ms = from_ms;
		out->to_ms = to_ms;
	}
	return rc;
}

struct driver {
	const struct local_deploy_opts *o;
	struct localstack ls;
	struct type_rules rules;
	struct strategy strat;
	struct deployment d;
	struct sclock clk;
	struct scaled_provider sp;
	struct metrics_provider prov;
	struct metrics_receiver *rx;
	int canary_started, stable_checked;
	int64_t rx_since;	/* wall ms the receiver started: lines HAProxy kept in its ring arrive after */
	double applied_weight;	/* -1: not applied yet in this process */
	int64_t last_progress;
};

static void logf_(struct driver *dr, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(struct driver *dr, const char *fmt, ...)
{
	va_list ap;
	if (!dr->o->log)
		return;
	if (dr->o->progress_tty)
		fputs("\r\033[K", dr->o->log);
	va_start(ap, fmt);
	vfprintf(dr->o->log, fmt, ap);
	va_end(ap);
	fputc('\n', dr->o->log);
	fflush(dr->o->log);
}

/* ---- the store: deployments module rows, written by this driver ---- */

static int bind_text(sqlite3_stmt *s, int i, const char *v)
{
	return sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
}

static int step_done(struct driver *dr, sqlite3_stmt *s, struct strbuf *err)
{
	if (sqlite3_step(s) != SQLITE_DONE) {
		strbuf_errf(err, "store: %s", sqlite3_errmsg(dr->ls.st.db));
		return SW_ESTORE;
	}
	return 0;
}

static char *cursor_json(const struct driver *dr)
{
	const struct deployment *d = &dr->d;
	json_t *j = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:s, s:i, s:i,"
			      " s:{s:I, s:I, s:f, s:f, s:I}, s:{s:I, s:I, s:f}}",
			      "created_ms", (json_int_t)d->created_ms, "started_ms", (json_int_t)d->started_ms,
			      "finished_ms", (json_int_t)d->finished_ms, "step_since_ms", (json_int_t)d->step_since_ms,
			      "next_analysis_ms", (json_int_t)d->next_analysis_ms,
			      "inconclusive_since_ms", (json_int_t)d->inconclusive_since_ms,
			      "monitoring_since_ms", (json_int_t)d->monitoring_since_ms,
			      "resume_state", deployment_state_name(d->resume_state), "paused_by_rule", d->paused_by_rule,
			      "group", d->group,
			      "baseline", "requests", (json_int_t)d->baseline.requests, "errors", (json_int_t)d->baseline.errors,
			      "p50_ms", isnan(d->baseline.p50_ms) ? -1.0 : d->baseline.p50_ms,
			      "p99_ms", isnan(d->baseline.p99_ms) ? -1.0 : d->baseline.p99_ms,
			      "span_ms", (json_int_t)d->baseline.span_ms,
			      "clock", "wall0", (json_int_t)dr->clk.wall0, "sim0", (json_int_t)dr->clk.sim0, "scale",
			      dr->clk.scale);
	char *s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	return s;
}

static int save(struct driver *dr, const struct decision *dec, struct strbuf *err)
{
	const struct deployment *d = &dr->d;
	_cleanup_stmt_ sqlite3_stmt *u = NULL, *c = NULL;
	char *cj;
	int rc;

	if ((rc = store_prepare(&dr->ls.st, &u,
				"UPDATE deployments SET state = ?2, step = ?3, weight = ?4, failed_checks = ?5, reason = ?6,"
				" started_ms = ?7, finished_ms = ?8, state_since_ms = ?9 WHERE id = ?1", err)) < 0)
		return rc;
	sqlite3_bind_int64(u, 1, d->id);
	bind_text(u, 2, deployment_state_name(d->state));
	sqlite3_bind_int(u, 3, d->step);
	sqlite3_bind_double(u, 4, d->weight);
	sqlite3_bind_int(u, 5, d->failed_checks);
	bind_text(u, 6, d->reason);
	if (d->started_ms)
		sqlite3_bind_int64(u, 7, d->started_ms);
	if (d->finished_ms)
		sqlite3_bind_int64(u, 8, d->finished_ms);
	sqlite3_bind_int64(u, 9, d->state_since_ms);
	if ((rc = step_done(dr, u, err)) < 0)
		return rc;
	for (int i = 0; dec && i < dec->n_transitions; i++) {
		const struct transition *t = &dec->transitions[i];
		_cleanup_stmt_ sqlite3_stmt *s = NULL;
		char detail[64];
		if ((rc = store_prepare(&dr->ls.st, &s,
					"INSERT INTO transitions (deployment_id, at_ms, from_state, to_state, step, weight, reason,"
					" detail_json) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", err)) < 0)
			return rc;
		snprintf(detail, sizeof(detail), "{\"group\":%d}", t->group);
		sqlite3_bind_int64(s, 1, d->id);
		sqlite3_bind_int64(s, 2, t->at_ms);
		bind_text(s, 3, deployment_state_name(t->from));
		bind_text(s, 4, deployment_state_name(t->to));
		sqlite3_bind_int(s, 5, t->step);
		sqlite3_bind_double(s, 6, t->weight);
		bind_text(s, 7, t->reason);
		bind_text(s, 8, detail);
		if ((rc = step_done(dr, s, err)) < 0)
			return rc;
	}
	if (dec && dec->has_analysis) {
		const struct analysis_result *a = &dec->analysis;
		_cleanup_stmt_ sqlite3_stmt *s = NULL;
		json_t *tbl = json_array();
		char *tj;
		for (int i = 0; i < 4; i++) {
			const struct comparison_row *row = &a->table[i];
			if (!row->metric)
				continue;
			json_array_append_new(tbl, json_pack("{s:s, s:o, s:o, s:o, s:s}", "metric", row->metric,
				"baseline", isnan(row->baseline) ? json_null() : json_real(row->baseline),
				"current", isnan(row->current) ? json_null() : json_real(row->current),
				"delta", isnan(row->delta) ? json_null() : json_real(row->delta),
				"status", row->status ? row->status : "N/A"));
		}
		tj = json_dumps(tbl, JSON_COMPACT);
		json_decref(tbl);
		rc = store_prepare(&dr->ls.st, &s,
				   "INSERT INTO analysis_results (deployment_id, at_ms, step, weight, verdict, reason, table_json)"
				   " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", err);
		if (rc >= 0) {
			sqlite3_bind_int64(s, 1, d->id);
			sqlite3_bind_int64(s, 2, sim_now(&dr->clk));
			sqlite3_bind_int(s, 3, d->step);
			sqlite3_bind_double(s, 4, d->weight);
			bind_text(s, 5, analysis_verdict_name(a->verdict));
			bind_text(s, 6, a->reason);
			bind_text(s, 7, tj);
			rc = step_done(dr, s, err);
		}
		free(tj);
		if (rc < 0)
			return rc;
	}
	for (int i = 0; dec && i < dec->n_intents; i++) {
		_cleanup_stmt_ sqlite3_stmt *s = NULL;
		char res[260];
		if ((rc = store_prepare(&dr->ls.st, &s, "UPDATE intents SET applied_ms = ?2, result = ?3 WHERE id = ?1",
					err)) < 0)
			return rc;
		snprintf(res, sizeof(res), "%s%s", dec->intents[i].applied ? "" : "rejected: ", dec->intents[i].result);
		sqlite3_bind_int64(s, 1, dec->intents[i].intent_id);
		sqlite3_bind_int64(s, 2, sim_now(&dr->clk));
		bind_text(s, 3, res);
		if ((rc = step_done(dr, s, err)) < 0)
			return rc;
	}
	cj = cursor_json(dr);
	rc = store_prepare(&dr->ls.st, &c, "INSERT INTO deploy_cursor (deployment_id, json) VALUES (?1, ?2)"
			   " ON CONFLICT (deployment_id) DO UPDATE SET json = ?2", err);
	if (rc >= 0) {
		sqlite3_bind_int64(c, 1, d->id);
		bind_text(c, 2, cj);
		rc = step_done(dr, c, err);
	}
	free(cj);
	return rc;
}

static int insert_deployment(struct driver *dr, struct strbuf *err)
{
	struct deployment *d = &dr->d;
	_cleanup_stmt_ sqlite3_stmt *r = NULL, *s = NULL;
	json_t *spec;
	char *sj;
	int rc;

	if ((rc = store_prepare(&dr->ls.st, &r, "SELECT coalesce(max(revision), 0) + 1 FROM deployments WHERE service = ?1",
				err)) < 0)
		return rc;
	bind_text(r, 1, d->service);
	d->revision = sqlite3_step(r) == SQLITE_ROW ? sqlite3_column_int(r, 0) : 1;
	if ((rc = store_prepare(&dr->ls.st, &s,
				"INSERT INTO deployments (service, env, version, revision, from_version, type, class, strategy,"
				" state, step, weight, failed_checks, reason, requested_by, created_ms, state_since_ms, spec_json)"
				" VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'normal', ?7, ?8, 0, 0, 0, ?9, ?10, ?11, ?11, ?12)", err)) < 0)
		return rc;
	spec = json_pack("{s:s, s:s, s:f, s:s}", "target", "local", "router", "haproxy", "time_scale", dr->clk.scale,
			 "clock", dr->clk.scale == 1 ? "wall" : "scaled: times are the engine's clock, durations as the policy counts them");
	sj = json_dumps(spec, JSON_COMPACT);
	json_decref(spec);
	bind_text(s, 1, d->service);
	bind_text(s, 2, d->env);
	bind_text(s, 3, d->version);
	sqlite3_bind_int(s, 4, d->revision);
	if (d->from_version[0])
		bind_text(s, 5, d->from_version);
	bind_text(s, 6, d->type);
	bind_text(s, 7, strategy_kind_name(dr->strat.kind));
	bind_text(s, 8, deployment_state_name(d->state));
	bind_text(s, 9, d->reason);
	bind_text(s, 10, d->requested_by);
	sqlite3_bind_int64(s, 11, d->created_ms);
	bind_text(s, 12, sj);
	rc = step_done(dr, s, err);
	free(sj);
	if (rc < 0)
		return rc;
	d->id = sqlite3_last_insert_rowid(dr->ls.st.db);
	{
		struct decision dec;
		memset(&dec, 0, sizeof(dec));
		dec.n_transitions = 1;
		dec.transitions[0].from = DS_PENDING;
		dec.transitions[0].to = DS_PENDING;
		dec.transitions[0].at_ms = d->created_ms;
		snprintf(dec.transitions[0].reason, sizeof(dec.transitions[0].reason), "deployment of %s %s requested (%s)",
			 d->service, d->version, d->type);
		return save(dr, &dec, err);
	}
}

static int64_t jint(json_t *o, const char *k)
{
	return (int64_t)json_integer_value(json_object_get(o, k));
}

/* the unfinished deployment of service/env, if any: 1 loaded into dr->d, 0 none */
static int load_unfinished(struct driver *dr, struct strbuf *err)
{
	struct deployment *d = &dr->d;
	_cleanup_stmt_ sqlite3_stmt *s = NULL;
	json_t *j, *b, *c;
	json_error_t je;
	int rc;

	if ((rc = store_prepare(&dr->ls.st, &s,
				"SELECT d.id, d.version, d.revision, coalesce(d.from_version, ''), d.type, d.state, d.step, d.weight,"
				" d.failed_checks, coalesce(d.reason, ''), d.requested_by, d.state_since_ms, c.json"
				" FROM deployments d JOIN deploy_cursor c ON c.deployment_id = d.id"
				" WHERE d.service = ?1 AND d.env = ?2 AND d.state NOT IN ('succeeded', 'rolled_back', 'failed')"
				" ORDER BY d.id DESC LIMIT 1", err)) < 0)
		return rc;
	bind_text(s, 1, dr->o->service);
	bind_text(s, 2, dr->o->env);
	if (sqlite3_step(s) != SQLITE_ROW)
		return 0;
	deployment_init(d, dr->o->service, dr->o->env, (const char *)sqlite3_column_text(s, 1),
			(const char *)sqlite3_column_text(s, 3), (const char *)sqlite3_column_text(s, 4), 0);
	d->id = sqlite3_column_int64(s, 0);
	d->revision = sqlite3_column_int(s, 2);
	deployment_state_parse((const char *)sqlite3_column_text(s, 5), &d->state);
	d->step = sqlite3_column_int(s, 6);
	d->weight = sqlite3_column_double(s, 7);
	d->failed_checks = sqlite3_column_int(s, 8);
	snprintf(d->reason, sizeof(d->reason), "%s", (const char *)sqlite3_column_text(s, 9));
	snprintf(d->requested_by, sizeof(d->requested_by), "%s", (const char *)sqlite3_column_text(s, 10));
	d->state_since_ms = sqlite3_column_int64(s, 11);
	j = json_loads((const char *)sqlite3_column_text(s, 12), 0, &je);
	if (!j) {
		strbuf_errf(err, "deployment #%lld: its cursor is not JSON: %s", (long long)d->id, je.text);
		return SW_ESTORE;
	}
	d->created_ms = jint(j, "created_ms");
	d->started_ms = jint(j, "started_ms");
	d->finished_ms = jint(j, "finished_ms");
	d->step_since_ms = jint(j, "step_since_ms");
	d->next_analysis_ms = jint(j, "next_analysis_ms");
	d->inconclusive_since_ms = jint(j, "inconclusive_since_ms");
	d->monitoring_since_ms = jint(j, "monitoring_since_ms");
	{
		const char *rs = json_string_value(json_object_get(j, "resume_state"));
		deployment_state_parse(rs ? rs : "progressing", &d->resume_state);
	}
	d->paused_by_rule = (int)jint(j, "paused_by_rule");
	d->group = (int)jint(j, "group");
	b = json_object_get(j, "baseline");
	d->baseline.requests = (uint64_t)jint(b, "requests");
	d->baseline.errors = (uint64_t)jint(b, "errors");
	d->baseline.p50_ms = json_real_value(json_object_get(b, "p50_ms"));
	d->baseline.p99_ms = json_real_value(json_object_get(b, "p99_ms"));
	if (d->baseline.p50_ms < 0)
		d->baseline.p50_ms = NAN;
	if (d->baseline.p99_ms < 0)
		d->baseline.p99_ms = NAN;
	d->baseline.span_ms = jint(b, "span_ms");
	c = json_object_get(j, "clock");
	dr->clk.wall0 = jint(c, "wall0");
	dr->clk.sim0 = jint(c, "sim0");
	dr->clk.scale = json_number_value(json_object_get(c, "scale"));
	if (!(dr->clk.scale > 0))
		dr->clk.scale = 1;
	json_decref(j);
	return 1;
}

static int load_intents(struct driver *dr, struct intent *out, int max, struct strbuf *err)
{
	_cleanup_stmt_ sqlite3_stmt *s = NULL;
	int n = 0, rc;
	if ((rc = store_prepare(&dr->ls.st, &s,
				"SELECT id, kind, coalesce(arg, ''), coalesce(requested_by, ''), created_ms FROM intents"
				" WHERE deployment_id = ?1 AND applied_ms IS NULL ORDER BY id", err)) < 0)
		return rc;
	sqlite3_bind_int64(s, 1, dr->d.id);
	while (n < max && sqlite3_step(s) == SQLITE_ROW) {
		struct intent *it = &out[n];
		const char *arg = (const char *)sqlite3_column_text(s, 2);
		memset(it, 0, sizeof(*it));
		if (intent_kind_parse((const char *)sqlite3_column_text(s, 1), &it->kind) < 0)
			continue;
		it->id = sqlite3_column_int64(s, 0);
		it->full = !strcmp(arg, "full") || !strcmp(arg, "--full");
		it->to_revision = (int)strtol(arg, NULL, 10);
		snprintf(it->requested_by, sizeof(it->requested_by), "%s", (const char *)sqlite3_column_text(s, 3));
		it->created_ms = sim_now(&dr->clk);
		n++;
	}
	return n;
}

/* ---- the strategy of this deployment ---- */

static int choose_strategy(struct driver *dr, int first, struct strbuf *err)
{
	const struct service *svc = &dr->ls.svc;
	enum strategy_kind kind;
	int rc;
	if (first) {
		/* nothing to compare a canary with: straight to 100% after warm-up */
		strategy_default(&dr->strat, STRATEGY_FULL);
		return 0;
	}
	if (svc->analysis_canary) {
		struct strbuf path = STRBUF_INIT, buf = STRBUF_INIT;
		struct rollout_config *rc_ = xcalloc(1, sizeof(*rc_));
		if (svc->analysis_canary[0] == '/')
			strbuf_addstr(&path, svc->analysis_canary);
		else
			strbuf_addf(&path, "%s/services/%s", localstack_project_dir(dr->o->project_dir), svc->analysis_canary);
		rc = strbuf_read_file_max(&buf, path.buf, ROLLOUT_CONFIG_MAX_BYTES, err);
		if (rc >= 0)
			rc = rollout_config_parse(buf.buf, buf.len, path.buf, rc_, err);
		if (rc >= 0)
			dr->strat = rc_->strategy;
		free(rc_);
		strbuf_release(&path);
		strbuf_release(&buf);
		return rc;
	}
	if ((rc = strategy_kind_parse(dr->rules.strategy, &kind, err)) < 0)
		return rc;
	strategy_default(&dr->strat, kind);
	if (svc->nsteps) {
		dr->strat.n_steps = 0;
		for (size_t i = 0; i < svc->nsteps; i++)
			if ((rc = strategy_add_step(&dr->strat, 0, svc->steps[i].weight, svc->steps[i].hold_ms, err)) < 0)
				return rc;
	}
	return strategy_validate(&dr->strat, err);
}

/* the stable revision: the one with most of the traffic now, other than version */
static void current_stable(struct driver *dr, char *out, size_t n)
{
	struct revision_weight *w = NULL;
	size_t nw = 0;
	double best = 0;
	out[0] = '\0';
	if (router_haproxy_get_weights(&dr->ls.router, &w, &nw, NULL) < 0)
		return;
	for (size_t i = 0; i < nw; i++)
		if (strcmp(w[i].version, dr->o->version) && w[i].weight > best) {
			best = w[i].weight;
			snprintf(out, n, "%s", w[i].version);
		}
	free(w);
}

/* ---- acting: drive target and router to the desired level ---- */

static int reconcile(struct driver *dr, struct strbuf *err)
{
	const struct deployment *d = &dr->d;
	struct desired_state want;
	struct instance_list l = { 0 };
	int rc = 0;

	deployment_desired(d, &dr->strat, &want);
	if (!dr->stable_checked && d->from_version[0] && want.stable_up) {
		/* adopt (or restart) the stable revision's instances: rollback must have somewhere to go */
		if ((rc = localstack_start_revision(&dr->ls, d->from_version, -1, &l, err)) < 0)
			goto out;
		instance_list_release(&l);
		dr->stable_checked = 1;
	}
	if (want.canary_up && !dr->canary_started) {
		if ((rc = localstack_start_revision(&dr->ls, d->version, -1, &l, err)) < 0)
			goto out;
		dr->canary_started = 1;
		logf_(dr, "  %s %s: %zu instances ready%s", d->service, d->version, l.n,
		      l.n && l.v[0].adopted ? " (adopted)" : "");
		instance_list_release(&l);
	}
	if (dr->canary_started && (want.canary_up || d->from_version[0] == '\0')) {
		double w = d->from_version[0] ? want.group_weight[0] : 100;
		if (w != dr->applied_weight) {
			struct revision_weight rw[2];
			size_t n = 0;
			snprintf(rw[n].version, sizeof(rw[n].version), "%s", d->version);
			rw[n++].weight = w;
			if (d->from_version[0]) {
				snprintf(rw[n].version, sizeof(rw[n].version), "%s", d->from_version);
				rw[n++].weight = 100 - w;
			}
			if ((rc = router_haproxy_set_weights(&dr->ls.router, rw, n, err)) < 0)
				goto out;
			dr->applied_weight = w;
		}
	}
	if (!want.canary_up && d->from_version[0] && dr->applied_weight != 0) {
		/* rollback: every new request on stable in one runtime-API round trip, first */
		struct revision_weight rw[1];
		snprintf(rw[0].version, sizeof(rw[0].version), "%s", d->from_version);
		rw[0].weight = 100;
		if ((rc = router_haproxy_set_weights(&dr->ls.router, rw, 1, err)) < 0)
			goto out;
		dr->applied_weight = 0;
	}
	if (deployment_state_is_final(d->state)) {
		if (!want.canary_up && dr->canary_started) {
			if ((rc = localstack_stop_revision(&dr->ls, d->version, err)) < 0)
				goto out;
			dr->canary_started = 0;
			logf_(dr, "  %s %s: drained and stopped (release kept)", d->service, d->version);
		}
		if (!want.stable_up && d->from_version[0]) {
			if ((rc = localstack_stop_revision(&dr->ls, d->from_version, err)) < 0)
				goto out;
			logf_(dr, "  %s %s: drained and stopped (release kept)", d->service, d->from_version);
		}
	}
out:
	instance_list_release(&l);
	return rc;
}

/* ---- progress on a terminal ---- */

static void progress(struct driver *dr)
{
	const struct deployment *d = &dr->d;
	int64_t wall = proc_now_ms(), now = sim_now(&dr->clk);
	struct metrics_sample c, s;
	char left[DURATION_BUFSZ] = "-", ce[16] = "-", se[16] = "-", cp[16] = "-", sp[16] = "-";
	if (!dr->o->progress_tty || !dr->o->log || wall - dr->last_progress < 250)
		return;
	dr->last_progress = wall;
	memset(&c, 0, sizeof(c));
	memset(&s, 0, sizeof(s));
	/* live: the last 5 s of wall time, whatever the time scale */
	metrics_builtin_query(&dr->sp.mb, d->service, ROLE_CANARY, d->version, wall - 5000, wall, &c, NULL);
	if (d->from_version[0])
		metrics_builtin_query(&dr->sp.mb, d->service, ROLE_STABLE, d->from_version, wall - 5000, wall, &s, NULL);
	if (d->state == DS_PROGRESSING && d->step >= 1 && d->step <= dr->strat.n_steps) {
		int64_t l = d->step_since_ms + dr->strat.steps[d->step - 1].hold_ms - now;
		duration_format(l > 0 ? l : 0, left);
	} else if (d->state == DS_MONITORING && dr->rules.monitoring_ms > 0) {
		int64_t l = d->monitoring_since_ms + dr->rules.monitoring_ms - now;
		duration_format(l > 0 ? l : 0, left);
	}
	if (c.requests) {
		snprintf(ce, sizeof(ce), "%.2f%%", 100.0 * (double)c.errors / (double)c.requests);
		snprintf(cp, sizeof(cp), "%.0fms", c.p99_ms);
	}
	if (s.requests) {
		snprintf(se, sizeof(se), "%.2f%%", 100.0 * (double)s.errors / (double)s.requests);
		snprintf(sp, sizeof(sp), "%.0fms", s.p99_ms);
	}
	fprintf(dr->o->log, "\r\033[K%s step %d/%d weight %.0f%% | %s left | %.0f req/s | stable %s p99 %s | canary %s p99 %s",
		deployment_state_name(d->state), d->step, dr->strat.n_steps, d->weight, left,
		(double)(c.requests + s.requests) / 5.0, se, sp, ce, cp);
	fflush(dr->o->log);
}

/* ---- the loop ---- */

int local_deploy_run(const struct local_deploy_opts *o, struct local_deploy_result *res, struct strbuf *err)
{
	struct driver *dr = xcalloc(1, sizeof(*dr));
	struct decision *dec = xcalloc(1, sizeof(*dec));
	struct analysis_input *ai = xcalloc(1, sizeof(*ai));
	int rc, found;

	memset(res, 0, sizeof(*res));
	dr->o = o;
	dr->applied_weight = -1;
	if ((rc = localstack_open(&dr->ls, o->state_dir, o->project_dir, o->service, o->env, 0, err)) < 0)
		goto out_free;
	if ((rc = deployment_store_migrate(&dr->ls.st, err)) < 0 || (rc = metrics_store_migrate(&dr->ls.st, err)) < 0 ||
	    (rc = type_rules_default(o->type, &dr->rules, err)) < 0)
		goto out;
	snprintf(dr->sp.mb.env, sizeof(dr->sp.mb.env), "%s", o->env);
	dr->sp.mb.st = &dr->ls.st;
	dr->sp.clk = &dr->clk;
	dr->prov.ctx = &dr->sp;
	dr->prov.query = scaled_query;

	if ((found = load_unfinished(dr, err)) < 0) {
		rc = found;
		goto out;
	}
	if (found && strcmp(dr->d.version, o->version)) {
		strbuf_errf(err, "deployment #%lld of %s %s in %s is unfinished (%s); resume it with 'slipway deploy %s %s' "
			    "or abort it first", (long long)dr->d.id, o->service, dr->d.version, o->env,
			    deployment_state_name(dr->d.state), o->service, dr->d.version);
		rc = SW_ESTATE;
		goto out;
	}
	if (found) {
		res->resumed = 1;
		if ((rc = type_rules_default(dr->d.type, &dr->rules, err)) < 0 ||
		    (rc = choose_strategy(dr, dr->d.from_version[0] == '\0', err)) < 0)
			goto out;
		logf_(dr, "resuming deployment #%lld of %s %s (%s, step %d, weight %.0f%%, %d failed checks)",
		      (long long)dr->d.id, dr->d.service, dr->d.version, deployment_state_name(dr->d.state), dr->d.step,
		      dr->d.weight, dr->d.failed_checks);
		/* the instances of a step already entered run: adopt them, apply the weight again */
		if (dr->d.state != DS_PENDING)
			dr->canary_started = 0;
	} else {
		char stable[SERVICE_NAME_MAX + 1];
		dr->clk.wall0 = proc_now_ms();
		dr->clk.sim0 = dr->clk.wall0;
		dr->clk.scale = o->time_scale > 0 ? o->time_scale : 1;
		current_stable(dr, stable, sizeof(stable));
		if ((rc = choose_strategy(dr, stable[0] == '\0', err)) < 0)
			goto out;
		deployment_init(&dr->d, o->service, o->env, o->version, stable, o->type, sim_now(&dr->clk));
		snprintf(dr->d.requested_by, sizeof(dr->d.requested_by), "%s", o->requested_by ? o->requested_by : "unknown");
		if ((rc = store_begin(&dr->ls.st, err)) < 0)
			goto out;
		if ((rc = insert_deployment(dr, err)) < 0) {
			store_rollback(&dr->ls.st);
			goto out;
		}
		if ((rc = store_commit(&dr->ls.st, err)) < 0)
			goto out;
		logf_(dr, "deployment #%lld: %s %s -> %s in %s (%s, %s strategy, %d steps%s)", (long long)dr->d.id,
		      o->service, stable[0] ? stable : "(nothing)", o->version, o->env, o->type,
		      strategy_kind_name(dr->strat.kind), dr->strat.n_steps,
		      dr->clk.scale != 1 ? ", time-scaled" : "");
	}
	res->id = dr->d.id;
	if ((rc = metrics_receiver_start(&dr->rx, o->state_dir, err)) < 0)
		goto out;
	dr->rx_since = proc_now_ms();

	for (;;) {
		struct tick_input in = { .gate = GATE_ALLOW, .canary_ready = 0 };
		struct intent intents[DECISION_MAX_INTENTS];
		int64_t now = sim_now(&dr->clk), from, to;
		double w;
		int idle, n_int;

		proc_reap();
		/* act first on what is committed (a resumed deployment re-applies its level) */
		if ((rc = reconcile(dr, err)) < 0)
			goto out;
		if (deployment_state_is_final(dr->d.state))
			break;
		in.canary_ready = dr->canary_started;
		snprintf(in.gate_reason, sizeof(in.gate_reason), "no policy gate in this build: allowed");
		if (deployment_analysis_due(&dr->d, &dr->strat, now, &from, &to, &w, &idle)) {
			/* the interval's last bucket must be flushed (250 ms of wall time) before it is read */
			/* ... and after a restart, the lines HAProxy kept in its ring meanwhile must have arrived */
			if (proc_now_ms() < wall_of(&dr->clk, to) + 2 * METRICS_BUCKET_MS || proc_now_ms() < dr->rx_since + 1500) {
				proc_sleep_ms(20);
				continue;
			}
			measure_interval(&dr->prov, &dr->d, from, to, w, idle, ai);
			in.analysis = ai;
		}
		if ((n_int = load_intents(dr, intents, DECISION_MAX_INTENTS, err)) < 0) {
			rc = n_int;
			goto out;
		}
		if ((rc = deployment_advance(&dr->d, &dr->rules, &dr->strat, &in, intents, n_int, now, dec)) < 0) {
			strbuf_errf(err, "the state machine refused the deployment");
			goto out;
		}
		if (dec->changed || dec->n_transitions || dec->has_analysis || dec->n_intents) {
			struct deployment prev = dr->d;
			dr->d = dec->next;
			if ((rc = store_begin(&dr->ls.st, err)) < 0 || (rc = save(dr, dec, err)) < 0 ||
			    (rc = store_commit(&dr->ls.st, err)) < 0) {
				store_rollback(&dr->ls.st);
				dr->d = prev;
				goto out;
			}
			/* a passing interval is routine: the progress line shows it; the rest is news */
			if (dec->has_analysis && dec->analysis.verdict != AV_PASS)
				logf_(dr, "  analysis step %d at %.0f%%: %s%s%s", prev.step, ai->weight,
				      analysis_verdict_name(dec->analysis.verdict), dec->analysis.reason[0] ? ": " : "",
				      dec->analysis.reason);
			for (int i = 0; i < dec->n_transitions; i++) {
				const struct transition *t = &dec->transitions[i];
				logf_(dr, "%s -> %s (step %d, weight %.0f%%): %s", deployment_state_name(t->from),
				      deployment_state_name(t->to), t->step, t->weight, t->reason);
			}
			for (int i = 0; i < dec->n_actions; i++)
				if (dec->actions[i].kind == ACT_NOTIFY)
					logf_(dr, "  [%s] %s", dec->actions[i].event, dec->actions[i].text);
			continue;	/* act on it at once */
		}
		if (dr->d.state == DS_PAUSED) {
			/* waiting for a person (DESIGN.md: consider criteria pause): this
			 * in-process controller stops; the row stays paused with its reason,
			 * and running deploy again resumes driving it */
			logf_(dr, "paused: %s; run 'slipway deploy %s %s' again after a resume or promote intent, "
			      "or abort it", dr->d.reason, dr->d.service, dr->d.version);
			break;
		}
		progress(dr);
		proc_sleep_ms(TICK_MS);
	}
	res->state = dr->d.state;
	snprintf(res->reason, sizeof(res->reason), "%s", dr->d.reason);
	rc = 0;
out:
	if (o->progress_tty && o->log) {
		fputs("\r\033[K", o->log);
		fflush(o->log);
	}
	metrics_receiver_stop(dr->rx);
	localstack_close(&dr->ls);
out_free:
	free(dr);
	free(dec);
	free(ai);
	return rc;
}
