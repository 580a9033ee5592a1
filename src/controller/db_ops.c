/*
 * db_ops.c - backup, rehearsal and migration of a database (db_ops.h,
 * docs/databases.md).  slipway orchestrates; sqitch runs the changes (each
 * in its own transaction on PostgreSQL) and keeps the registry of what is
 * deployed, which is the truth slipway's record is checked against.
 */
#include "controller/db_ops.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "adapters/db_store.h"
#include "adapters/db_tools.h"
#include "adapters/deployment_store.h"
#include "adapters/notify.h"
#include "adapters/proc.h"
#include "adapters/router_haproxy.h"
#include "adapters/store.h"
#include "base/alloc.h"
#include "base/err.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "controller/gate.h"
#include "controller/localstack.h"
#include "core/deployment.h"
#include "core/haproxy_cfg.h"
#include "core/policy.h"
#include "core/service.h"
#include "core/strategy.h"

static void say(const struct db_ops *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(const struct db_ops *o, const char *fmt, ...)
{
	va_list ap;
	if (!o->log)
		return;
	va_start(ap, fmt);
	vfprintf(o->log, fmt, ap);
	va_end(ap);
	fputc('\n', o->log);
	fflush(o->log);
}

void db_format_duration(int64_t ms, char *buf, size_t n)
{
	if (ms < 60000)
		snprintf(buf, n, "%.1fs", (double)ms / 1000);
	else if (ms < 3600000)
		snprintf(buf, n, "%dm%02ds", (int)(ms / 60000), (int)(ms % 60000 / 1000));
	else
		snprintf(buf, n, "%dh%02dm", (int)(ms / 3600000), (int)(ms % 3600000 / 60000));
}

void db_format_size(int64_t b, char *buf, size_t n)
{
	if (b < 1000)
		snprintf(buf, n, "%" PRId64 " B", b);
	else if (b < 1000000)
		snprintf(buf, n, "%.1f kB", (double)b / 1e3);
	else if (b < 1000000000)
		snprintf(buf, n, "%.1f MB", (double)b / 1e6);
	else
		snprintf(buf, n, "%.1f GB", (double)b / 1e9);
}

int db_load(struct database *db, const char *project_dir, const char *name, struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT, buf = STRBUF_INIT, e = STRBUF_INIT;
	int rc;
	if (!service_name_valid(name)) {
		strbuf_errf(err, "'%s' is not a database name (1 to 64 of A-Z a-z 0-9 . _ -)", name);
		return SW_EUSAGE;
	}
	strbuf_addf(&path, "%s/databases/%s.yaml", localstack_project_dir(project_dir), name);
	rc = strbuf_read_file_max(&buf, path.buf, DATABASE_FILE_MAX, &e);
	if (rc == -ENOENT) {
		strbuf_errf(err, "no database '%s': '%s' does not exist (set $SLIPWAY_PROJECT or run from the project "
			    "directory; docs/databases.md)", name, path.buf);
		rc = SW_ENOTFOUND;
	} else if (rc == -EFBIG) {
		strbuf_errf(err, "%s", e.buf);
		rc = SW_ECONFIG;
	} else if (rc < 0) {
		strbuf_errf(err, "%s", e.buf);
	} else {
		rc = database_parse(db, path.buf, buf.buf, buf.len, name, err);
	}
	strbuf_release(&path);
	strbuf_release(&buf);
	strbuf_release(&e);
	return rc;
}

void db_sqitch_dir(const struct database *db, const char *project_dir, struct strbuf *out)
{
	if (db->project[0] == '/')
		strbuf_addstr(out, db->project);
	else
		strbuf_addf(out, "%s/%s", localstack_project_dir(project_dir), db->project);
}

/* STATE/db/NAME (created), where logs go. */
static int log_dir(const struct db_ops *o, const struct database *db, struct strbuf *out, struct strbuf *err)
{
	strbuf_addf(out, "%s/db/%s", o->state_dir, db->name);
	return mkdir_p(out->buf, err);
}

static void stamp(int64_t ms, char *buf, size_t n)
{
	char t[RFC3339_BUFSZ];
	size_t j = 0;
	time_format_rfc3339(ms, t);
	for (size_t i = 0; t[i] && j + 1 < n; i++)
		if (t[i] != '-' && t[i] != ':')
			buf[j++] = t[i];
	buf[j] = 0;
}

/* ---- backup ---------------------------------------------------------- */

static int prune(const struct db_ops *o, const struct database *db, const char *env, int64_t now_ms, struct strbuf *err)
{
	struct db_backup *v = NULL;
	size_t n = 0;
	int r = db_store_backups(o->st, db->name, env, &v, &n, err);
	for (size_t i = (size_t)db->backup_keep; r >= 0 && i < n; i++) {
		if (unlink(v[i].path) < 0 && errno != ENOENT)
			say(o, "  could not delete backup #%" PRId64 " '%s': %s", v[i].id, v[i].path, strerror(errno));
		r = db_store_delete_backup(o->st, v[i].id, now_ms, err);
		if (r >= 0)
			say(o, "  backup #%" PRId64 " deleted (backup.keep: %d)", v[i].id, db->backup_keep);
	}
	free(v);
	return r;
}

int db_backup(const struct db_ops *o, const struct database *db, const char *env, int64_t now_ms,
	      struct db_backup *out, struct strbuf *err)
{
	struct strbuf url = STRBUF_INIT, dir = STRBUF_INIT, path = STRBUF_INIT, part = STRBUF_INIT,
		      logs = STRBUF_INIT, logp = STRBUF_INIT, sq = STRBUF_INIT, list = STRBUF_INIT, e = STRBUF_INIT;
	struct db_backup b;
	char ts[40];
	int r, status = 0;

	memset(&b, 0, sizeof(b));
	if ((r = db_url(db, env, localstack_project_dir(o->project_dir), &url, err)) < 0)
		goto out;
	if (db->backup_dir[0] == '/')
		strbuf_addstr(&dir, db->backup_dir);
	else
		strbuf_addf(&dir, "%s/%s", o->state_dir, db->backup_dir);
	if ((r = mkdir_p(dir.buf, err)) < 0 || (r = log_dir(o, db, &logs, err)) < 0)
		goto out;
	stamp(now_ms, ts, sizeof(ts));
	strbuf_addf(&path, "%s/%s-%s-%s.dump", dir.buf, db->name, env, ts);
	strbuf_addf(&part, "%s.partial", path.buf);
	strbuf_addf(&logp, "%s/backup-%s-%s.log", logs.buf, env, ts);
	db_sqitch_dir(db, o->project_dir, &sq);
	/* what is deployed, as the registry says, before the dump: the backup is of that state */
	if ((r = db_sqitch_current(sq.buf, url.buf, logp.buf, b.change, sizeof(b.change), err)) < 0)
		goto out;
	say(o, "backing up %s %s (at change '%s') with pg_dump -Fc", db->name, env, b.change[0] ? b.change : "(none)");
	{
		char *argv[] = { "pg_dump", "-Fc", "--no-password", "-f", part.buf, "-d", url.buf, NULL };
		if ((r = db_run(argv, NULL, NULL, logp.buf, &status, err)) < 0)
			goto out;
	}
	if (status) {
		strbuf_errf(err, "pg_dump failed (exit %d): ", status);
		db_log_tail(logp.buf, 300, err);
		r = SW_EEXTERNAL;
		goto fail;
	}
	/* readable before it counts: pg_restore lists the archive's table of contents */
	strbuf_addf(&list, "%s.list", part.buf);
	{
		char *argv[] = { "pg_restore", "--list", "-f", list.buf, part.buf, NULL };
		if ((r = db_run(argv, NULL, NULL, logp.buf, &status, err)) < 0)
			goto fail;
	}
	strbuf_reset(&e);
	if (status || strbuf_read_file_max(&e, list.buf, 64 << 20, err) < 0 || !strstr(e.buf, "; Archive created")) {
		strbuf_errf(err, "the backup is not readable: pg_restore --list exit %d: ", status);
		db_log_tail(logp.buf, 300, err);
		r = SW_EEXTERNAL;
		goto fail;
	}
	unlink(list.buf);
	if (rename(part.buf, path.buf) < 0) {
		strbuf_errf(err, "rename '%s': %s", part.buf, strerror(errno));
		r = -errno;
		goto fail;
	}
	if ((r = db_sha256_file(path.buf, b.sha256, &b.size_bytes, err)) < 0)
		goto out;
	snprintf(b.database, sizeof(b.database), "%s", db->name);
	snprintf(b.env, sizeof(b.env), "%s", env);
	snprintf(b.path, sizeof(b.path), "%s", path.buf);
	b.created_ms = now_ms;
	if ((r = db_store_add_backup(o->st, &b, err)) < 0)
		goto out;
	*out = b;
	r = prune(o, db, env, now_ms, err);
	goto out;
fail:
	unlink(part.buf);
	if (list.len)
		unlink(list.buf);
out:
	if (url.buf)
		memset(url.buf, 0, url.len);
	strbuf_release(&url);
	strbuf_release(&dir);
	strbuf_release(&path);
	strbuf_release(&part);
	strbuf_release(&logs);
	strbuf_release(&logp);
	strbuf_release(&sq);
	strbuf_release(&list);
	strbuf_release(&e);
	return r;
}

/* ---- rehearsal --------------------------------------------------------- */

/* Run a program on the scratch database's server; 0 when it exited 0, else SW_EEXTERNAL with the log's end. */
static int run_ok(char *const argv[], const char *logp, const char *what, struct strbuf *err)
{
	int status = 0, r = db_run(argv, NULL, NULL, logp, &status, err);
	if (r < 0)
		return r;
	if (status) {
		strbuf_errf(err, "%s failed (exit %d): ", what, status);
		db_log_tail(logp, 300, err);
		return SW_EEXTERNAL;
	}
	return 0;
}

/* sqitch VERB on url; 0 when it exited 0, else SW_EEXTERNAL with the log's end in err; *ms its duration */
static int sqitch_step(const char *sq, const char *url, const char *verb, const char *to, const char *logp,
		       int64_t *ms, struct strbuf *err)
{
	int status = 0, r;
	int64_t t0 = proc_mono_ms();
	FILE *f = fopen(logp, "a");
	if (f) {
		fprintf(f, "---- slipway: sqitch %s%s%s\n", verb, to && *to ? " --to " : "", to && *to ? to : "");
		fclose(f);
	}
	r = db_sqitch(sq, url, verb, to, logp, &status, err);
	if (ms)
		*ms = proc_mono_ms() - t0;
	if (r < 0)
		return r;
	if (status) {
		strbuf_errf(err, "sqitch %s exited %d: ", verb, status);
		db_log_tail(logp, 240, err);
		return SW_EEXTERNAL;
	}
	return 0;
}

int db_rehearse(const struct db_ops *o, const struct database *db, const char *to, int64_t now_ms,
		struct db_rehearsal *out, struct strbuf *err)
{
	struct strbuf url = STRBUF_INIT, run_url = STRBUF_INIT, sq = STRBUF_INIT, logs = STRBUF_INIT,
		      logp = STRBUF_INIT, scratch = STRBUF_INIT, e = STRBUF_INIT;
	struct db_rehearsal x;
	struct db_backup *bk = NULL;
	size_t nbk = 0;
	char prev[256], ts[40], cur[256];
	int r, dropped = 1;

	memset(&x, 0, sizeof(x));
	db_sqitch_dir(db, o->project_dir, &sq);
	if ((r = db_plan_find(sq.buf, to, prev, sizeof(prev), err)) <= 0) {
		r = r ? r : SW_ENOTFOUND;
		goto out;
	}
	if ((r = db_plan_sha256(sq.buf, x.plan_sha256, err)) < 0 ||
	    (r = db_url(db, db->rehearsal_env, localstack_project_dir(o->project_dir), &url, err)) < 0 ||
	    (r = log_dir(o, db, &logs, err)) < 0)
		goto out;
	stamp(now_ms, ts, sizeof(ts));
	strbuf_addf(&logp, "%s/rehearse-%s-%s.log", logs.buf, to, ts);
	snprintf(x.database, sizeof(x.database), "%s", db->name);
	snprintf(x.env, sizeof(x.env), "%s", db->rehearsal_env);
	snprintf(x.to_change, sizeof(x.to_change), "%s", to);
	snprintf(x.log_path, sizeof(x.log_path), "%s", logp.buf);
	x.created_ms = now_ms;
	if (db->rehearsal == DB_REHEARSE_RESTORE) {
		/* production's latest verified backup, restored into a scratch database on staging's server */
		if ((r = db_store_backups(o->st, db->name, "production", &bk, &nbk, err)) < 0)
			goto out;
		if (!nbk) {
			strbuf_errf(err, "no backup of %s production to rehearse on: run 'slipway db backup %s --env "
				    "production' first (rehearsal.using: restore)", db->name, db->name);
			r = SW_ENOTFOUND;
			goto out;
		}
		x.backup_id = bk[0].id;
		strbuf_addstr(&scratch, "slipway_rehearsal_");
		for (const char *p = db->name; *p; p++)
			strbuf_addch(&scratch, (*p == '.' || *p == '-') ? '_' : *p);
		database_url_with_dbname(url.buf, scratch.buf, &run_url);
		say(o, "restoring backup #%" PRId64 " of %s production into scratch database '%s' on %s's server",
		    bk[0].id, db->name, scratch.buf, db->rehearsal_env);
		{
			char *drop[] = { "dropdb", "--if-exists", "--no-password", "--maintenance-db", url.buf, scratch.buf, NULL };
			char *create[] = { "createdb", "--no-password", "--maintenance-db", url.buf, scratch.buf, NULL };
			char *restore[] = { "pg_restore", "--no-owner", "--no-acl", "--exit-on-error", "-d", run_url.buf,
					    bk[0].path, NULL };
			if ((r = run_ok(drop, logp.buf, "dropdb", err)) < 0 || (r = run_ok(create, logp.buf, "createdb", err)) < 0)
				goto out;
			dropped = 0;
			if ((r = run_ok(restore, logp.buf, "pg_restore", err)) < 0) {
				snprintf(x.failed_step, sizeof(x.failed_step), "restore");
				goto record;
			}
		}
	} else {
		strbuf_add(&run_url, url.buf, url.len);
	}
	if ((r = db_sqitch_current(sq.buf, run_url.buf, logp.buf, x.from_change, sizeof(x.from_change), err)) < 0) {
		snprintf(x.failed_step, sizeof(x.failed_step), "status");
		goto record;
	}
	if (!strcmp(x.from_change, to)) {
		strbuf_errf(err, "'%s' is deployed there already: nothing to rehearse", to);
		snprintf(x.failed_step, sizeof(x.failed_step), "status");
		r = SW_ESTATE;
		goto record;
	}
	say(o, "rehearsing %s on %s%s: deploy %s -> %s", db->name, db->rehearsal_env,
	    db->rehearsal == DB_REHEARSE_RESTORE ? " (scratch copy of production)" : "",
	    x.from_change[0] ? x.from_change : "(none)", to);
	if ((r = sqitch_step(sq.buf, run_url.buf, "deploy", to, logp.buf, &x.deploy_ms, err)) < 0) {
		snprintf(x.failed_step, sizeof(x.failed_step), "deploy");
		goto record;
	}
	say(o, "  deploy: %.1fs", (double)x.deploy_ms / 1000);
	if ((r = sqitch_step(sq.buf, run_url.buf, "verify", NULL, logp.buf, &x.verify_ms, err)) < 0) {
		snprintf(x.failed_step, sizeof(x.failed_step), "verify");
		goto record;
	}
	say(o, "  verify: %.1fs", (double)x.verify_ms / 1000);
	/* the rollback test: back to where it started, and verified there */
	if ((r = sqitch_step(sq.buf, run_url.buf, "revert", x.from_change, logp.buf, &x.revert_ms, err)) < 0) {
		snprintf(x.failed_step, sizeof(x.failed_step), "revert");
		goto record;
	}
	say(o, "  revert: %.1fs", (double)x.revert_ms / 1000);
	if ((r = db_sqitch_current(sq.buf, run_url.buf, logp.buf, cur, sizeof(cur), err)) < 0 ||
	    strcmp(cur, x.from_change)) {
		if (r >= 0)
			strbuf_errf(err, "after the revert the registry is at '%s', not '%s'", cur, x.from_change);
		snprintf(x.failed_step, sizeof(x.failed_step), "revert");
		r = SW_EEXTERNAL;
		goto record;
	}
	if (x.from_change[0] && (r = sqitch_step(sq.buf, run_url.buf, "verify", NULL, logp.buf, NULL, err)) < 0) {
		snprintf(x.failed_step, sizeof(x.failed_step), "verify-after-revert");
		goto record;
	}
	x.ok = 1;
	r = 0;
record:
	if (!x.ok) {
		snprintf(x.reason, sizeof(x.reason), "%s: %s", x.failed_step, err->buf);
		strbuf_reset(err);
	} else {
		char d[32];
		db_format_duration(x.deploy_ms + x.verify_ms, d, sizeof(d));
		snprintf(x.reason, sizeof(x.reason), "deploy, verify, revert and verify passed; estimate %s", d);
	}
	if (!dropped) {
		char *drop[] = { "dropdb", "--if-exists", "--no-password", "--maintenance-db", url.buf, scratch.buf, NULL };
		if (run_ok(drop, logp.buf, "dropdb", &e) < 0)
			say(o, "  could not drop the scratch database: %s", e.buf);
	}
	if ((r = db_store_add_rehearsal(o->st, &x, err)) < 0)
		goto out;
	*out = x;
	r = 0;
out:
	if (url.buf)
		memset(url.buf, 0, url.len);
	if (run_url.buf)
		memset(run_url.buf, 0, run_url.len);
	free(bk);
	strbuf_release(&url);
	strbuf_release(&run_url);
	strbuf_release(&sq);
	strbuf_release(&logs);
	strbuf_release(&logp);
	strbuf_release(&scratch);
	strbuf_release(&e);
	return r;
}

/* ---- migration ---------------------------------------------------------- */

struct mig {
	const struct db_ops *o;
	const struct database *db;
	const struct db_migrate_opts *opt;
	struct deployment d;
	struct strategy s;
	struct db_migration m;
	struct db_backup backup;
	char sq[1024];
	struct strbuf url;
	struct intent_result ir;	/* an intent the next move() consumes (has_ir) */
	int has_ir;
	/* the --with-release switch's moments, wall-clock ms, for its deployment's transitions
	   (0: not in this process, e.g. run again after an interruption) */
	int64_t rel_start_ms, rel_live_ms, rel_back_ms;
};

/* Commit d's move to state `to` with reason (one transition), before acting on it. */
static int move(struct mig *g, enum deploy_state to, const char *reason, struct strbuf *err)
{
	struct decision *dec = xcalloc(1, sizeof(*dec));
	int64_t now = proc_now_ms();
	int r;

	dec->next = g->d;
	dec->next.state = to;
	snprintf(dec->next.reason, sizeof(dec->next.reason), "%s", reason);
	dec->changed = 1;
	if (g->has_ir) {
		dec->intents[dec->n_intents++] = g->ir;
		g->has_ir = 0;
	}
	if (to != g->d.state) {
		struct transition *t = &dec->transitions[dec->n_transitions++];
		dec->next.state_since_ms = now;
		t->from = g->d.state;
		t->to = to;
		t->at_ms = now;
		snprintf(t->reason, sizeof(t->reason), "%s", reason);
	}
	if (to == DS_PROGRESSING && !dec->next.started_ms)
		dec->next.started_ms = now;
	if (to == DS_MONITORING && !dec->next.monitoring_since_ms)
		dec->next.monitoring_since_ms = now;
	if (deployment_state_is_final(to))
		dec->next.finished_ms = now;
	r = deployment_store_commit(g->o->st, &g->d, &g->s, dec, now, NULL, 0, err);
	if (r >= 0) {
		g->d = dec->next;
		g->d.store_seq++;
	}
	free(dec);
	return r;
}

/* Write where the migration is before that step runs. */
static int at_step(struct mig *g, const char *step, struct strbuf *err)
{
	snprintf(g->m.step, sizeof(g->m.step), "%s", step);
	g->m.updated_ms = proc_now_ms();
	return db_store_put_migration(g->o->st, &g->m, err);
}

static void notify(struct mig *g, enum notify_kind kind, const char *status);

/*
 * The intents of g->d not yet applied (`slipway abort ID`, ...).  A
 * migration takes abort (while it waits at the gate, or while it is
 * monitored) and promote while monitored (the monitoring ends early, as for
 * any deployment: docs/engine.md); the first such intent is returned in
 * *take and left in g->ir for the move that applies it.  Every other one is
 * rejected now, with why, in its own commit.  0 (take->kind is -1 when
 * none), or the store's error.
 */
static int take_intents(struct mig *g, struct intent *take, struct strbuf *err)
{
	struct intent v[DECISION_MAX_INTENTS];
	int n = 0, r, taken = 0;

	take->kind = (enum intent_kind)-1;
	if ((r = deployment_store_intents(g->o->st, g->d.id, v, DECISION_MAX_INTENTS, &n, err)) < 0)
		return r;
	for (int i = 0; i < n; i++) {
		int ok = !deployment_state_is_final(g->d.state) &&
			 (v[i].kind == INTENT_ABORT || (v[i].kind == INTENT_PROMOTE && g->d.state == DS_MONITORING));
		if (ok && !taken) {
			*take = v[i];
			taken = 1;
			continue;
		}
		if (ok)
			continue;	/* a second one: rejected at the next look, once the migration is final */
		memset(&g->ir, 0, sizeof(g->ir));
		g->ir.intent_id = v[i].id;
		snprintf(g->ir.result, sizeof(g->ir.result), "rejected: a database migration that is %s takes %s "
			 "(docs/databases.md)", deployment_state_name(g->d.state),
			 deployment_state_is_final(g->d.state) ? "no intent" :
			 g->d.state == DS_MONITORING ? "abort and promote" : "abort only");
		g->has_ir = 1;
		if ((r = move(g, g->d.state, g->d.reason, err)) < 0)
			return r;
	}
	if (taken) {
		memset(&g->ir, 0, sizeof(g->ir));
		g->ir.intent_id = take->id;
		g->ir.applied = 1;
		snprintf(g->ir.result, sizeof(g->ir.result), "%s by %s",
			 take->kind == INTENT_ABORT ? "aborted" : "monitoring ended early", take->requested_by);
		g->has_ir = 1;
	}
	return 0;
}

/*
 * An abort taken while the migration waits at the gate: it ends failed,
 * nothing ran (the engine's abort of a pending deployment).
 */
static int abort_pending(struct mig *g, const struct intent *it, struct strbuf *err)
{
	char reason[300];
	int r;
	snprintf(reason, sizeof(reason), "aborted by %s while waiting at the gate: nothing ran, the database was not "
		 "changed", it->requested_by[0] ? it->requested_by : "someone");
	if (db_store_get_migration(g->o->st, g->d.id, &g->m, err) == 1) {
		snprintf(g->m.failed_step, sizeof(g->m.failed_step), "gate");
		if ((r = at_step(g, "failed", err)) < 0)
			return r;
	}
	if ((r = move(g, DS_FAILED, reason, err)) < 0)
		return r;
	notify(g, NOTIFY_FAILED, "FAILED");
	return 0;
}

static void notify(struct mig *g, enum notify_kind kind, const char *status)
{
	struct notify_event ev = { 0 };
	struct strbuf err = STRBUF_INIT;
	if (!g->opt->notify)
		return;
	ev.kind = kind;
	ev.status = status;
	ev.deployment_id = g->d.id;
	ev.service = g->d.service;
	ev.env = g->d.env;
	ev.version = g->d.version;
	ev.from_version = g->d.from_version[0] ? g->d.from_version : NULL;
	ev.owner = g->d.requested_by;
	ev.reason = g->d.reason;
	ev.at_ms = proc_now_ms();
	ev.duration_ms = g->d.finished_ms && g->d.started_ms ? g->d.finished_ms - g->d.started_ms : -1;
	if (notify_enqueue(g->o->st, g->opt->notify, &ev, ev.at_ms, &err) < 0)
		say(g->o, "  notify: %s", err.buf);
	strbuf_release(&err);
}

/* The router's mode for every service that uses the database. */
static int set_traffic(struct mig *g, enum traffic_mode mode, struct strbuf *err)
{
	const struct database *db = g->db;
	/* read-only's 405 and maintenance's 503 both carry the message (docs/databases.md) */
	static const char ro_msg[] = "Database migration in progress: read-only, writes are refused; retry shortly";
	static const char maint_msg[] = "Database maintenance in progress; please retry shortly";
	const char *msg = db->message ? db->message : mode == TRAFFIC_READ_ONLY ? ro_msg : maint_msg;
	int r = 0;
	if (db->traffic == DB_TRAFFIC_NONE)
		return 0;
	for (size_t i = 0; i < db->nservices; i++) {
		struct localstack ls;
		int started;
		if ((r = localstack_open(&ls, g->o->state_dir, g->o->project_dir, db->services[i], g->d.env, 0, err)) < 0)
			return r;
		if ((r = router_haproxy_up(&ls.router, &started, err)) >= 0)
			r = router_haproxy_set_mode(&ls.router, mode, mode != TRAFFIC_NORMAL ? msg : NULL, err);
		localstack_close(&ls);
		if (r < 0)
			return r;
		say(g->o, "  %s %s: %s", db->services[i], g->d.env, traffic_mode_name(mode));
	}
	return 0;
}

/* ---- the application release deployed with a migration (--with-release) ---- */

/*
 * Switch g->m.app_service to version `to` the blue-green way (the type's
 * strategy): its instances started and ready, then all the weight to them;
 * `off`'s instances keep running at weight 0 until stop_release().
 */
static int switch_release(struct mig *g, const char *to, struct strbuf *err)
{
	struct localstack ls;
	struct instance_list l = { 0 };
	int r;
	if ((r = localstack_open(&ls, g->o->state_dir, g->o->project_dir, g->m.app_service, g->d.env, 0, err)) < 0)
		return r;
	r = localstack_start_revision(&ls, to, 100, &l, err);
	instance_list_release(&l);
	localstack_close(&ls);
	if (r >= 0)
		say(g->o, "  %s %s: %s has all the traffic", g->m.app_service, g->d.env, to);
	return r;
}

static int stop_release(struct mig *g, const char *version, struct strbuf *err)
{
	struct localstack ls;
	int r;
	if (!version[0])
		return 0;
	if ((r = localstack_open(&ls, g->o->state_dir, g->o->project_dir, g->m.app_service, g->d.env, 0, err)) < 0)
		return r;
	r = localstack_stop_revision(&ls, version, err);
	localstack_close(&ls);
	if (r >= 0)
		say(g->o, "  %s %s: %s drained and stopped", g->m.app_service, g->d.env, version);
	return r;
}

/*
 * The switch of g->m.app_service, once it is over, as a deployment of that
 * service (type database-migration, the blue-green strategy, already
 * final): `slipway history SERVICE`, DORA and the next deploy's stable
 * version see it.  Recorded final at once, never as an unfinished
 * deployment a `slipway serve` would try to drive, with transitions of its
 * own at the moments they happened: pending and progressing when the new
 * version's instances were started, monitoring once it had all the weight,
 * rolling_back when the migration's rollback set it back, then the end.
 * Failing to record it is said, not fatal: the migration's own record has
 * the release.
 */
static void record_release(struct mig *g, enum deploy_state final, const char *why)
{
	struct deployment a;
	struct strategy s;
	struct transition t[5];
	struct strbuf e = STRBUF_INIT;
	int64_t now = proc_now_ms();
	int64_t start = g->rel_start_ms ? g->rel_start_ms : g->d.started_ms ? g->d.started_ms : now;
	int64_t live = g->rel_live_ms, back = g->rel_back_ms ? g->rel_back_ms : now;
	int nt = 0;

	if (!g->m.app_service[0] || !g->m.app_previous[0])
		return;
	if (!live && final == DS_SUCCEEDED)
		live = start;	/* switched before an interruption: the moment is not known here */
	memset(&a, 0, sizeof(a));
	memset(t, 0, sizeof(t));
	strategy_default(&s, STRATEGY_BLUE_GREEN);
	snprintf(a.service, sizeof(a.service), "%s", g->m.app_service);
	snprintf(a.env, sizeof(a.env), "%s", g->d.env);
	snprintf(a.version, sizeof(a.version), "%s", g->m.app_version);
	snprintf(a.from_version, sizeof(a.from_version), "%s", g->m.app_previous);
	snprintf(a.type, sizeof(a.type), "database-migration");
	snprintf(a.change_class, sizeof(a.change_class), "%s", g->d.change_class);
	snprintf(a.requested_by, sizeof(a.requested_by), "%s", g->d.requested_by);
	snprintf(a.reason, sizeof(a.reason), "%s with migration #%" PRId64 " of %s to '%s': %s",
		 final == DS_SUCCEEDED ? "deployed" : "rolled back", g->d.id, g->d.service, g->d.version, why);
	a.state = final;
	a.weight = final == DS_SUCCEEDED ? 100 : 0;
	a.created_ms = a.started_ms = start;
	a.finished_ms = a.state_since_ms = now;
	a.time_scale = g->d.time_scale;

	t[nt].to = DS_PENDING;
	t[nt].at_ms = start;
	snprintf(t[nt++].reason, sizeof(t[0].reason), "with migration #%" PRId64 " of %s to '%s' (database-migration: "
		 "blue-green, after the verify)", g->d.id, g->d.service, g->d.version);
	t[nt].from = DS_PENDING;
	t[nt].to = DS_PROGRESSING;
	t[nt].at_ms = start;
	snprintf(t[nt++].reason, sizeof(t[0].reason), "starting %s's instances; %s keeps the traffic until they are "
		 "ready", g->m.app_version, g->m.app_previous);
	if (live) {
		t[nt].from = DS_PROGRESSING;
		t[nt].to = DS_MONITORING;
		t[nt].at_ms = live;
		t[nt].weight = 100;
		snprintf(t[nt++].reason, sizeof(t[0].reason), "%s has all the traffic; %s at weight 0 until the "
			 "migration's monitoring passes", g->m.app_version, g->m.app_previous);
	}
	if (final != DS_SUCCEEDED) {
		t[nt].from = t[nt - 1].to;
		t[nt].to = DS_ROLLING_BACK;
		t[nt].at_ms = back < t[nt - 1].at_ms ? t[nt - 1].at_ms : back;
		snprintf(t[nt++].reason, sizeof(t[0].reason), "the migration is rolled back (%.200s): %s back to %s", why,
			 g->m.app_service, g->m.app_previous);
	}
	t[nt].from = t[nt - 1].to;
	t[nt].to = final;
	t[nt].at_ms = now;
	t[nt].weight = a.weight;
	snprintf(t[nt++].reason, sizeof(t[0].reason), "%s", a.reason);
	if (deployment_store_create_final(g->o->st, &a, &s, t, nt, &e) < 0)
		say(g->o, "  could not record the release of %s %s: %s", g->m.app_service, g->m.app_version, e.buf);
	else
		say(g->o, "  %s %s recorded as deployment #%" PRId64 " (%s)", g->m.app_service, g->m.app_version, a.id,
		    deployment_state_name(final));
	strbuf_release(&e);
}

/* The revision of service/env with the most weight in its router ("" when none runs). */
static int current_release(const struct db_ops *o, const char *service, const char *env, char *out, size_t n,
			   struct strbuf *err)
{
	struct localstack ls;
	struct revision_weight *w = NULL;
	size_t nw = 0;
	double best = -1;
	int r;
	out[0] = 0;
	if ((r = localstack_open(&ls, o->state_dir, o->project_dir, service, env, LOCALSTACK_READONLY, err)) < 0)
		return r;
	r = router_haproxy_get_weights(&ls.router, &w, &nw, err);
	for (size_t i = 0; r >= 0 && i < nw; i++)
		if (w[i].weight > best) {
			best = w[i].weight;
			snprintf(out, n, "%s", w[i].version);
		}
	free(w);
	localstack_close(&ls);
	return r < 0 ? r : 0;
}

/*
 * The errors of the services that use the database (and of the release
 * deployed with it) so far: HTTP 5xx answers of their servers, summed over
 * HAProxy's `show stat` counters, and their requests.  0, or the first
 * service whose router could not be asked (err).
 */
static int count_errors(struct mig *g, long long *errors, long long *requests, struct strbuf *err)
{
	const struct database *db = g->db;
	int r = 0;
	*errors = *requests = 0;
	for (size_t i = 0; i <= db->nservices && r >= 0; i++) {
		const char *svc = i < db->nservices ? db->services[i] : g->m.app_service;
		struct localstack ls;
		struct haproxy_server_stat *v = NULL;
		size_t n = 0;
		int dup = 0;
		if (!svc[0])
			continue;
		for (size_t k = 0; i == db->nservices && k < db->nservices; k++)
			dup |= !strcmp(db->services[k], svc);
		if (dup)
			continue;
		if ((r = localstack_open(&ls, g->o->state_dir, g->o->project_dir, svc, g->d.env, LOCALSTACK_READONLY,
					 err)) < 0)
			break;
		r = router_haproxy_stats(&ls.router, &v, &n, err);
		for (size_t k = 0; r >= 0 && k < n; k++) {
			*errors += v[k].hrsp_5xx;
			*requests += v[k].req_tot;
		}
		free(v);
		localstack_close(&ls);
		if (r < 0)
			strbuf_addf(err, " (service '%s')", svc);
	}
	return r < 0 ? r : 0;
}

/*
 * Roll back after a failing step: sqitch revert to the change production
 * had before, verify there; if that fails, restore the backup.  Traffic
 * normal either way.  Final state rolled_back, or failed when even the
 * restore failed.
 */
static int roll_back(struct mig *g, const char *step, const char *why, const char *logp, struct db_migrate_result *res,
		     struct strbuf *err)
{
	struct strbuf reason = STRBUF_INIT, e = STRBUF_INIT;
	const char *from = g->m.from_change;
	char cur[256] = "";
	enum deploy_state final = DS_ROLLED_BACK;
	int r;

	snprintf(g->m.failed_step, sizeof(g->m.failed_step), "%s", step);
	snprintf(res->failed_step, sizeof(res->failed_step), "%s", step);
	strbuf_addf(&reason, "%s failed: %s; reverting to '%s'", step, why, from[0] ? from : "(none)");
	if ((r = at_step(g, "revert", err)) < 0 || (r = move(g, DS_ROLLING_BACK, reason.buf, err)) < 0)
		goto out;
	say(g->o, "%s", reason.buf);
	notify(g, NOTIFY_ROLLBACK, "IN PROGRESS");
	/* sqitch deploy reverts what it deployed in a failed run itself; revert only what is left */
	r = db_sqitch_current(g->sq, g->url.buf, logp, cur, sizeof(cur), &e);
	if (r >= 0 && strcmp(cur, from))
		r = sqitch_step(g->sq, g->url.buf, "revert", from, logp, NULL, &e);
	if (r >= 0)
		r = db_sqitch_current(g->sq, g->url.buf, logp, cur, sizeof(cur), &e);
	if (r >= 0 && strcmp(cur, from)) {
		strbuf_addf(&e, "after the revert the registry is at '%s', not '%s'", cur, from);
		r = SW_EEXTERNAL;
	}
	if (r >= 0 && from[0])
		r = sqitch_step(g->sq, g->url.buf, "verify", NULL, logp, NULL, &e);
	strbuf_reset(&reason);
	if (r >= 0) {
		strbuf_addf(&reason, "rolled back: %s failed (%s); sqitch reverted to '%s' and verified", step, why,
			    from[0] ? from : "(none)");
	} else {
		/* the revert failed: the backup taken before is the way back */
		char *argv[] = { "pg_restore", "--clean", "--if-exists", "--no-owner", "--no-acl", "--exit-on-error",
				 "-d", g->url.buf, g->backup.path, NULL };
		say(g->o, "revert failed (%s): restoring backup #%" PRId64, e.buf, g->backup.id);
		strbuf_reset(&e);
		if ((r = at_step(g, "restore", err)) < 0)
			goto out;
		r = run_ok(argv, logp, "pg_restore", &e);
		if (r >= 0) {
			strbuf_addf(&reason, "rolled back: %s failed (%s); revert failed; backup #%" PRId64 " restored", step,
				    why, g->backup.id);
		} else {
			strbuf_addf(&reason, "%s failed (%s); revert failed; restoring backup #%" PRId64 " failed: %s", step,
				    why, g->backup.id, e.buf);
			final = DS_FAILED;
		}
	}
	strbuf_reset(&e);
	/* then the application version deployed with it, back to the one it replaced (runbook: Database
	   Migration rollback: roll the database back, deploy the previous application version);
	   app_previous is written before the switch, so it is set once the switch may have begun */
	if (g->m.app_service[0] && g->m.app_previous[0]) {
		if ((r = at_step(g, "release-back", err)) < 0)
			goto out;
		g->rel_back_ms = proc_now_ms();
		if (switch_release(g, g->m.app_previous, &e) < 0 || stop_release(g, g->m.app_version, &e) < 0) {
			strbuf_addf(&reason, "; %s could not be set back to %s: %s", g->m.app_service, g->m.app_previous,
				    e.buf);
			final = DS_FAILED;
		} else {
			strbuf_addf(&reason, "; %s back to %s", g->m.app_service, g->m.app_previous);
			{
				char w[400];
				snprintf(w, sizeof(w), "%s failed: %.300s", step, why);
				record_release(g, DS_ROLLED_BACK, w);
			}
		}
		strbuf_reset(&e);
	}
	if (set_traffic(g, TRAFFIC_NORMAL, &e) < 0) {
		strbuf_addf(&reason, "; traffic could not be set back to normal: %s", e.buf);
		final = DS_FAILED;
	}
	if ((r = at_step(g, final == DS_ROLLED_BACK ? "rolled-back" : "failed", err)) < 0 ||
	    (r = move(g, final, reason.buf, err)) < 0)
		goto out;
	notify(g, final == DS_ROLLED_BACK ? NOTIFY_ROLLBACK : NOTIFY_FAILED, final == DS_ROLLED_BACK ? "ROLLED BACK" : "FAILED");
	r = 0;
out:
	strbuf_release(&reason);
	strbuf_release(&e);
	return r;
}

/* What is missing for a migration to o->to from `current`: appended to missing ("" when nothing). */
static int preconditions(struct mig *g, const char *current, int64_t now_ms, struct db_rehearsal *reh,
			 struct strbuf *missing, struct strbuf *err)
{
	const struct database *db = g->db;
	struct db_backup *bk = NULL;
	struct db_rehearsal *all = NULL;
	size_t nbk = 0, nall = 0;
	char age[32], when[RFC3339_BUFSZ];
	int r;

	if ((r = db_store_backups(g->o->st, db->name, g->opt->env, &bk, &nbk, err)) < 0)
		return r;
	if (!nbk) {
		strbuf_addf(missing, "no backup of %s %s: run 'slipway db backup %s --env %s'", db->name, g->opt->env, db->name,
			    g->opt->env);
	} else if (bk[0].created_ms < now_ms - db->backup_max_age_ms) {
		db_format_duration(now_ms - bk[0].created_ms, age, sizeof(age));
		strbuf_addf(missing, "no fresh backup: the latest, #%" PRId64 " of %s, is %s old (backup.max_age): run "
			    "'slipway db backup %s --env %s'", bk[0].id, time_format_rfc3339(bk[0].created_ms, when), age,
			    db->name, g->opt->env);
	} else if (strcmp(bk[0].change, current)) {
		strbuf_addf(missing, "no backup of the current state: the latest, #%" PRId64 ", was taken at change '%s' "
			    "and %s is at '%s' now: run 'slipway db backup %s --env %s'", bk[0].id,
			    bk[0].change[0] ? bk[0].change : "(none)", g->opt->env, current[0] ? current : "(none)", db->name,
			    g->opt->env);
	} else {
		g->backup = bk[0];
	}
	free(bk);
	r = db_store_rehearsal_ok(g->o->st, db->name, g->opt->to, g->m.plan_sha256, now_ms - db->rehearsal_max_age_ms,
				  reh, err);
	if (r < 0)
		return r;
	if (!r) {
		const char *why = "none has passed";
		if ((r = db_store_rehearsals(g->o->st, db->name, &all, &nall, err)) < 0)
			return r;
		for (size_t i = 0; i < nall; i++) {
			if (strcmp(all[i].to_change, g->opt->to))
				continue;
			if (!all[i].ok)
				why = "the last one failed";
			else if (strcmp(all[i].plan_sha256, g->m.plan_sha256))
				why = "the last passing one was of another plan (the plan or its scripts changed since)";
			else
				why = "the last passing one is older than rehearsal.max_age";
			break;
		}
		free(all);
		strbuf_addf(missing, "%sno passing rehearsal of '%s' with this plan (%s): run 'slipway db rehearse %s --to %s'",
			    missing->len ? "; " : "", g->opt->to, why, db->name, g->opt->to);
	}
	return 0;
}

static void estimate(const struct db_rehearsal *reh, const struct db_backup *b, struct strbuf *out)
{
	char d[32], size[32], when[RFC3339_BUFSZ];
	db_format_duration(reh->deploy_ms + reh->verify_ms, d, sizeof(d));
	db_format_size(b->size_bytes, size, sizeof(size));
	time_format_rfc3339(reh->created_ms, when);
	strbuf_addf(out, "expected %s from the rehearsal #%" PRId64 " on %.10s, backup #%" PRId64 " %s", d, reh->id, when,
		    b->id, size);
}

/* The type's monitoring period (engine ms): the policy's, the runbook's hour without one. */
static int64_t monitoring_period(const struct mig *g)
{
	const struct policy_type *t = g->opt->policy ? policy_find_type(g->opt->policy, "database-migration") : NULL;
	return t ? t->monitoring_ms : 3600 * 1000;
}

/*
 * The runbook's monitoring of a database migration: the services that use
 * the database (and the release deployed with it) watched for the type's
 * monitoring period, scaled by the deployment's time scale (docs/engine.md
 * "Time scale"), with the type's rollback criterion: ANY error, an HTTP 5xx
 * answer of theirs counted by HAProxy, rolls the migration back; so does an
 * abort; a promote ends it early.  At its end `sqitch verify` runs again
 * (the change's data still checks out), then the replaced release is
 * stopped and the migration succeeds.  Resumed after a crash, it goes on
 * to the same end (monitoring_since_ms) with a fresh count.
 */
static int monitor(struct mig *g, const char *logp, const char *note, struct db_migrate_result *res,
		   struct strbuf *err)
{
	struct strbuf e = STRBUF_INIT, reason = STRBUF_INIT;
	int64_t period = monitoring_period(g), end;
	long long base_err = -1, base_req = 0, n_err = 0, n_req = 0;
	char dur[32], said[300] = "";
	const char *why_end = "the monitoring period passed";
	int r;

	db_format_duration(period < 0 ? 0 : period, dur, sizeof(dur));
	if ((r = at_step(g, "monitor", err)) < 0)
		goto out;
	if (g->d.state != DS_MONITORING) {
		strbuf_addf(&reason, "migrated to '%s' and verified%s; monitoring %s for %s%s (database-migration: any "
			    "error rolls it back)", g->opt->to, note, g->db->nservices || g->m.app_service[0] ?
			    "its services" : "(no services: the database alone)", period < 0 ? "until promoted" : dur,
			    g->d.time_scale > 1 ? " at the deployment's time scale" : "");
		if ((r = move(g, DS_MONITORING, reason.buf, err)) < 0)
			goto out;
		say(g->o, "%s", reason.buf);
	}
	end = period < 0 ? INT64_MAX : g->d.monitoring_since_ms + deployment_wall_span(&g->d, period);
	for (;;) {
		struct intent it;
		int64_t now = proc_now_ms();
		if ((r = take_intents(g, &it, err)) < 0)
			goto out;
		if (it.kind == INTENT_ABORT) {
			strbuf_reset(&e);
			strbuf_addf(&e, "aborted by %s during monitoring", it.requested_by);
			r = roll_back(g, "monitor", e.buf, logp, res, err);
			goto out;
		}
		if (it.kind == INTENT_PROMOTE) {
			why_end = "monitoring ended early (promote)";
			break;
		}
		strbuf_reset(&e);
		if (count_errors(g, &n_err, &n_req, &e) < 0) {
			/* not an error of the services: said once, and watched again at the next look */
			if (strcmp(said, e.buf)) {
				say(g->o, "  monitoring: cannot read the services' counters: %s", e.buf);
				snprintf(said, sizeof(said), "%s", e.buf);
			}
		} else if (base_err < 0 || n_err < base_err || n_req < base_req) {
			base_err = n_err;	/* the first look, or counters reset (HAProxy restarted) */
			base_req = n_req;
		} else if (n_err > base_err) {
			strbuf_reset(&e);
			strbuf_addf(&e, "%lld error%s (HTTP 5xx) in %lld request%s of the services during monitoring "
				    "(database-migration: any error)", n_err - base_err, n_err - base_err == 1 ? "" : "s",
				    n_req - base_req, n_req - base_req == 1 ? "" : "s");
			r = roll_back(g, "monitor", e.buf, logp, res, err);
			goto out;
		}
		if (now >= end)
			break;
		proc_sleep_ms(end - now < 500 ? end - now : 500);
	}
	/* the data still checks out after the period */
	strbuf_reset(&e);
	if (sqitch_step(g->sq, g->url.buf, "verify", NULL, logp, NULL, &e) < 0) {
		struct strbuf w = STRBUF_INIT;
		strbuf_addf(&w, "sqitch verify at the end of monitoring: %s", e.buf);
		r = roll_back(g, "monitor", w.buf, logp, res, err);
		strbuf_release(&w);
		goto out;
	}
	strbuf_reset(&reason);
	strbuf_addf(&reason, "migrated to '%s', verified and monitored%s: %s without an error (%lld requests of the "
		    "services), verified again", g->opt->to, note, why_end, base_err < 0 ? 0 : n_req - base_req);
	if (g->m.app_service[0]) {
		strbuf_addf(&reason, "; %s at %s", g->m.app_service, g->m.app_version);
		strbuf_reset(&e);
		if (g->m.app_previous[0] && stop_release(g, g->m.app_previous, &e) < 0)
			strbuf_addf(&reason, " (%s could not be stopped: %s)", g->m.app_previous, e.buf);
		record_release(g, DS_SUCCEEDED, "switched after the verify, monitored without an error");
	}
	if ((r = at_step(g, "done", err)) >= 0 && (r = move(g, DS_SUCCEEDED, reason.buf, err)) >= 0)
		notify(g, NOTIFY_COMPLETE, "SUCCESS");
out:
	strbuf_release(&e);
	strbuf_release(&reason);
	return r;
}

/*
 * Step "release" (db migrate --with-release SERVICE VERSION): SERVICE
 * switched to VERSION once the change is verified; the version it replaces
 * is recorded first (app_previous), so a rollback returns to it.  0 go on
 * to the monitoring; 1 it failed and the migration was rolled back; < 0 the
 * store.
 */
static int release(struct mig *g, const char *logp, struct db_migrate_result *res, struct strbuf *err)
{
	struct strbuf e = STRBUF_INIT;
	char prev[SW_NAME_MAX + 1];
	int r = 0;

	if (!g->m.app_service[0])
		return 0;
	if (!g->m.app_previous[0]) {
		if (current_release(g->o, g->m.app_service, g->d.env, prev, sizeof(prev), &e) < 0)
			goto fail;
		if (strcmp(prev, g->m.app_version))
			snprintf(g->m.app_previous, sizeof(g->m.app_previous), "%s", prev);
	}
	if ((r = at_step(g, "release", err)) < 0)
		goto out;
	say(g->o, "release: %s %s from %s to %s", g->m.app_service, g->d.env,
	    g->m.app_previous[0] ? g->m.app_previous : "(the same)", g->m.app_version);
	g->rel_start_ms = proc_now_ms();
	if (switch_release(g, g->m.app_version, &e) < 0)
		goto fail;
	g->rel_live_ms = proc_now_ms();
	goto out;
fail:
	r = roll_back(g, "release", e.buf, logp, res, err);
	if (r >= 0)
		r = 1;
out:
	strbuf_release(&e);
	return r;
}

/* The migration's own steps, from the gate's yes to the end. */
static int run_steps(struct mig *g, const char *logp, struct db_migrate_result *res, struct strbuf *err)
{
	const struct database *db = g->db;
	struct strbuf e = STRBUF_INIT, reason = STRBUF_INIT;
	int r;

	if (db->traffic != DB_TRAFFIC_NONE) {
		if ((r = at_step(g, "traffic", err)) < 0)
			goto out;
		if (set_traffic(g, db->traffic == DB_TRAFFIC_READ_ONLY ? TRAFFIC_READ_ONLY : TRAFFIC_MAINTENANCE, &e) < 0) {
			/* nothing ran on the database: put traffic back and stop */
			struct strbuf e2 = STRBUF_INIT;
			set_traffic(g, TRAFFIC_NORMAL, &e2);
			strbuf_release(&e2);
			snprintf(res->failed_step, sizeof(res->failed_step), "traffic");
			snprintf(g->m.failed_step, sizeof(g->m.failed_step), "traffic");
			strbuf_addf(&reason, "traffic failed: %s; the database was not changed", e.buf);
			if ((r = at_step(g, "failed", err)) >= 0 && (r = move(g, DS_FAILED, reason.buf, err)) >= 0)
				notify(g, NOTIFY_FAILED, "FAILED");
			goto out;
		}
	}
	if ((r = at_step(g, "deploy", err)) < 0)
		goto out;
	say(g->o, "sqitch deploy --to %s (log: %s)", g->opt->to, logp);
	if (sqitch_step(g->sq, g->url.buf, "deploy", g->opt->to, logp, NULL, &e) < 0) {
		r = roll_back(g, "deploy", e.buf, logp, res, err);
		goto out;
	}
	if ((r = at_step(g, "verify", err)) < 0)
		goto out;
	if (sqitch_step(g->sq, g->url.buf, "verify", NULL, logp, NULL, &e) < 0) {
		r = roll_back(g, "verify", e.buf, logp, res, err);
		goto out;
	}
	if ((r = at_step(g, "traffic-back", err)) < 0)
		goto out;
	if (set_traffic(g, TRAFFIC_NORMAL, &e) < 0)
		strbuf_addf(&reason, "; traffic could not be set back to normal: %s", e.buf);
	if ((r = release(g, logp, res, err)) != 0)
		goto out;
	r = monitor(g, logp, reason.buf, res, err);
out:
	strbuf_release(&e);
	strbuf_release(&reason);
	return r;
}

int db_service_database(const char *service, char *name, size_t n)
{
	if (strncmp(service, "db.", 3) || !service[3])
		return 0;
	snprintf(name, n, "%s", service + 3);
	return 1;
}

int db_pending_intents(struct store *st, int64_t id, const struct notify_config *notify, FILE *log,
		       struct strbuf *reason, struct strbuf *err)
{
	struct db_ops o = { .st = st, .log = log };
	struct db_migrate_opts opt = { .notify = notify };
	struct mig *g = xcalloc(1, sizeof(*g));
	struct intent it;
	char name[SW_NAME_MAX + 1];
	int r;

	g->o = &o;
	g->opt = &opt;
	strbuf_init(&g->url, 0);
	if ((r = deployment_store_load(st, id, &g->d, &g->s, err)) < 0)
		goto out;
	r = 0;
	if (!db_service_database(g->d.service, name, sizeof(name)))
		goto out;
	if ((r = db_store_migrate(st, err)) < 0)	/* the databases module's tables, as `db` opens them */
		goto out;
	r = 0;
	if (deployment_state_is_final(g->d.state)) {
		r = take_intents(g, &it, err);	/* every one rejected: a final migration takes none */
		goto out;
	}
	if (g->d.state != DS_PENDING)
		goto out;
	if ((r = take_intents(g, &it, err)) < 0 || it.kind != INTENT_ABORT)
		goto out;
	if ((r = abort_pending(g, &it, err)) >= 0) {
		r = 1;
		if (reason)
			strbuf_addstr(reason, g->d.reason);
	}
out:
	if (r == SW_ESTATE) {
		strbuf_reset(err);	/* another process moved it first (a migrate that started, an abort) */
		r = 0;
	}
	strbuf_release(&g->url);
	free(g);
	return r;
}

/*
 * A migration found unfinished (slipway was killed): what sqitch's registry
 * shows decides, and no change is deployed again without a person.
 */
static int recover(struct mig *g, const char *logp, struct db_migrate_result *res, struct strbuf *err)
{
	struct strbuf e = STRBUF_INIT, reason = STRBUF_INIT;
	char cur[256] = "";
	int r;

	res->recovered = 1;
	if (!db_store_get_migration(g->o->st, g->d.id, &g->m, err)) {
		strbuf_errf(err, "deployment #%" PRId64 " has no migration record", g->d.id);
		return SW_ESTATE;
	}
	if (g->m.backup_id) {
		struct db_backup *bk = NULL;
		size_t n = 0;
		if ((r = db_store_backups(g->o->st, g->db->name, g->d.env, &bk, &n, err)) < 0)
			return r;
		for (size_t i = 0; i < n; i++)
			if (bk[i].id == g->m.backup_id)
				g->backup = bk[i];
		free(bk);
	}
	/* sqitch runs in its own session: it may still be finishing the change the killed slipway started */
	r = db_run_wait_orphan(logp, 3600 * 1000);
	if (r == SW_ETIMEOUT) {
		strbuf_errf(err, "the sqitch of interrupted migration #%" PRId64 " still runs after an hour", g->d.id);
		return r;
	}
	if (r > 0)
		say(g->o, "waited for the sqitch the interrupted slipway had started to finish");
	if ((r = db_sqitch_current(g->sq, g->url.buf, logp, cur, sizeof(cur), err)) < 0)
		return r;
	say(g->o, "migration #%" PRId64 " was interrupted at step '%s'; sqitch's registry is at '%s'", g->d.id, g->m.step,
	    cur[0] ? cur : "(none)");
	if (!strcmp(g->m.step, "revert") || !strcmp(g->m.step, "restore") || g->d.state == DS_ROLLING_BACK) {
		r = roll_back(g, g->m.failed_step[0] ? g->m.failed_step : "deploy", "interrupted while rolling back", logp, res,
			      err);
	} else if (!strcmp(cur, g->opt->to)) {
		/* the change committed: verify it, then finish as the run would have */
		if (sqitch_step(g->sq, g->url.buf, "verify", NULL, logp, NULL, &e) < 0) {
			r = roll_back(g, "verify", e.buf, logp, res, err);
		} else {
			int was_monitoring = !strcmp(g->m.step, "monitor");
			strbuf_addf(&reason, " after an interruption at step '%s' (sqitch registry at '%s')", g->m.step, cur);
			if (set_traffic(g, TRAFFIC_NORMAL, &e) < 0)
				strbuf_addf(&reason, "; traffic could not be set back to normal: %s", e.buf);
			if (was_monitoring) {
				say(g->o, "monitoring resumed to its end (it began %s)", "before the interruption");
				r = monitor(g, logp, reason.buf, res, err);
			} else if ((r = release(g, logp, res, err)) == 0) {
				r = monitor(g, logp, reason.buf, res, err);
			}
			if (r > 0)
				r = 0;
		}
	} else if (!strcmp(cur, g->m.from_change)) {
		/* nothing committed: the database is as before; a person decides to run it again */
		set_traffic(g, TRAFFIC_NORMAL, &e);
		snprintf(res->failed_step, sizeof(res->failed_step), "%s", g->m.step);
		strbuf_addf(&reason, "interrupted at step '%s' before '%s' committed; sqitch registry still at '%s', "
			    "nothing to undo: run 'slipway db migrate %s --to %s' again", g->m.step, g->opt->to,
			    cur[0] ? cur : "(none)", g->db->name, g->opt->to);
		snprintf(g->m.failed_step, sizeof(g->m.failed_step), "%s", g->m.step);
		if ((r = at_step(g, "rolled-back", err)) >= 0 && (r = move(g, DS_ROLLED_BACK, reason.buf, err)) >= 0)
			notify(g, NOTIFY_ROLLBACK, "ROLLED BACK");
	} else {
		strbuf_addf(&e, "interrupted with the registry at '%s' (neither '%s' nor '%s')", cur, g->m.from_change,
			    g->opt->to);
		r = roll_back(g, g->m.step, e.buf, logp, res, err);
	}
	strbuf_release(&e);
	strbuf_release(&reason);
	return r;
}

int db_migrate(const struct db_ops *ops, const struct database *db, const struct db_migrate_opts *o, int64_t now_ms,
	       struct db_migrate_result *res, struct strbuf *err)
{
	struct mig *g = xcalloc(1, sizeof(*g));
	struct strbuf sq = STRBUF_INIT, logs = STRBUF_INIT, logp = STRBUF_INIT, missing = STRBUF_INIT,
		      svc = STRBUF_INIT, est = STRBUF_INIT, reason = STRBUF_INIT;
	struct db_rehearsal reh;
	struct policy_gate gate;
	int64_t *ids = NULL;
	size_t nids = 0;
	char prev[256], current[256] = "";
	int r, found = 0, gate_open = 0;

	memset(res, 0, sizeof(*res));
	memset(&reh, 0, sizeof(reh));
	g->o = ops;
	g->db = db;
	g->opt = o;
	strbuf_init(&g->url, 0);
	strategy_default(&g->s, STRATEGY_FULL);
	db_sqitch_dir(db, ops->project_dir, &sq);
	snprintf(g->sq, sizeof(g->sq), "%s", sq.buf);
	if ((r = db_plan_find(sq.buf, o->to, prev, sizeof(prev), err)) <= 0) {
		r = r ? r : SW_ENOTFOUND;
		goto out;
	}
	if ((r = db_plan_sha256(sq.buf, g->m.plan_sha256, err)) < 0 ||
	    (r = db_url(db, o->env, localstack_project_dir(ops->project_dir), &g->url, err)) < 0 ||
	    (r = log_dir(ops, db, &logs, err)) < 0)
		goto out;
	/* the record of a database's migrations: service "db.NAME" (docs/databases.md) */
	strbuf_addf(&svc, "db.%s", db->name);
	if ((r = deployment_store_active_of(ops->st, svc.buf, o->env, INT64_MAX, &ids, &nids, err)) < 0)
		goto out;
	for (size_t i = 0; i < nids && !found; i++) {
		struct deployment d;
		if ((r = deployment_store_load(ops->st, ids[i], &d, &g->s, err)) < 0)
			goto out;
		if (deployment_state_is_final(d.state))
			continue;
		if (strcmp(d.version, o->to)) {
			strbuf_errf(err, "migration #%" PRId64 " of %s to '%s' is unfinished (%s): finish it, or "
				    "'slipway abort %" PRId64 "' while it waits", d.id, db->name, d.version,
				    deployment_state_name(d.state), d.id);
			r = SW_ESTATE;
			goto out;
		}
		g->d = d;
		found = 1;
	}
	strbuf_addf(&logp, "%s/migrate-%s.log", logs.buf, o->to);
	if (found && g->d.state != DS_PENDING) {
		strbuf_reset(&logp);
		strbuf_addf(&logp, "%s/migrate-%" PRId64 ".log", logs.buf, g->d.id);
		r = recover(g, logp.buf, res, err);
		goto result;
	}
	if (found) {
		/* an abort typed while it waited at the gate ends it here, before anything runs */
		struct intent it;
		struct db_migration was;
		if ((r = take_intents(g, &it, err)) < 0)
			goto out;
		if (it.kind == INTENT_ABORT) {
			if ((r = abort_pending(g, &it, err)) < 0)
				goto out;
			goto result;
		}
		if ((r = db_store_get_migration(ops->st, g->d.id, &was, err)) < 0)
			goto out;
		if (r == 1 && o->app_service && strcmp(was.app_service, o->app_service)) {
			strbuf_errf(err, "migration #%" PRId64 " was recorded %s%s%s%s; run it again with the same "
				    "--with-release, or 'slipway abort %" PRId64 "'", g->d.id,
				    was.app_service[0] ? "with --with-release " : "without --with-release", was.app_service,
				    was.app_service[0] ? " " : "", was.app_version, g->d.id);
			r = SW_EUSAGE;
			goto out;
		}
		if (r == 1) {
			snprintf(g->m.app_service, sizeof(g->m.app_service), "%s", was.app_service);
			snprintf(g->m.app_version, sizeof(g->m.app_version), "%s", was.app_version);
		}
	}
	if (!g->m.app_service[0] && o->app_service) {
		snprintf(g->m.app_service, sizeof(g->m.app_service), "%s", o->app_service);
		snprintf(g->m.app_version, sizeof(g->m.app_version), "%s", o->app_version);
	}
	if ((r = db_sqitch_current(sq.buf, g->url.buf, logp.buf, current, sizeof(current), err)) < 0)
		goto out;
	if (!strcmp(current, o->to)) {
		res->refused = 1;
		snprintf(res->reason, sizeof(res->reason), "%s %s is at '%s' already: nothing to migrate", db->name, o->env,
			 o->to);
		goto out;
	}
	snprintf(g->m.from_change, sizeof(g->m.from_change), "%s", current);
	if ((r = preconditions(g, current, now_ms, &reh, &missing, err)) < 0)
		goto out;
	/* what ran there is still what the plan says: no edited script, no change inserted before one that ran */
	if ((r = db_plan_audit(sq.buf, g->url.buf, o->env, logp.buf, &missing, err)) < 0)
		goto out;
	if (missing.len) {
		res->refused = 1;
		res->id = found ? g->d.id : 0;
		snprintf(res->reason, sizeof(res->reason), "refused before anything ran: %s", missing.buf);
		goto out;
	}
	estimate(&reh, &g->backup, &est);
	if (!found) {
		memset(&g->d, 0, sizeof(g->d));
		snprintf(g->d.service, sizeof(g->d.service), "%s", svc.buf);
		snprintf(g->d.env, sizeof(g->d.env), "%s", o->env);
		snprintf(g->d.version, sizeof(g->d.version), "%s", o->to);
		snprintf(g->d.from_version, sizeof(g->d.from_version), "%.64s", current);
		snprintf(g->d.type, sizeof(g->d.type), "database-migration");
		snprintf(g->d.change_class, sizeof(g->d.change_class), "%s", o->change_class ? o->change_class : "normal");
		snprintf(g->d.requested_by, sizeof(g->d.requested_by), "%s", o->requested_by ? o->requested_by : "");
		g->d.state = DS_PENDING;
		g->d.created_ms = g->d.state_since_ms = now_ms;
		g->d.time_scale = o->time_scale >= 1 ? o->time_scale : 1;
		snprintf(g->d.reason, sizeof(g->d.reason), "migration of %s to '%s' recorded; %s", db->name, o->to, est.buf);
		if ((r = deployment_store_create(ops->st, &g->d, &g->s, err)) < 0)
			goto out;
	}
	res->id = g->d.id;
	strbuf_reset(&logp);
	strbuf_addf(&logp, "%s/migrate-%" PRId64 ".log", logs.buf, g->d.id);
	g->m.deployment_id = g->d.id;
	snprintf(g->m.database, sizeof(g->m.database), "%s", db->name);
	snprintf(g->m.env, sizeof(g->m.env), "%s", o->env);
	snprintf(g->m.to_change, sizeof(g->m.to_change), "%s", o->to);
	snprintf(g->m.log_path, sizeof(g->m.log_path), "%s", logp.buf);
	g->m.backup_id = g->backup.id;
	g->m.rehearsal_id = reh.id;
	if ((r = at_step(g, "gate", err)) < 0)
		goto out;
	say(ops, "migration #%" PRId64 ": %s %s '%s' -> '%s'; %s", g->d.id, db->name, o->env,
	    current[0] ? current : "(none)", o->to, est.buf);
	/* the policy gate: window, freeze, the type's approvals (engineering-manager and dba by default), incidents */
	if (o->policy) {
		enum gate_result gr;
		if ((r = policy_gate_init(&gate, o->policy, o->zone, ops->st, err)) < 0)
			goto out;
		gate_open = 1;
		gr = policy_gate_check(&gate, &g->d, GATE_PHASE_START, now_ms, &reason);
		if (gr == GATE_WAIT) {
			strbuf_addf(&reason, "; %s", est.buf);
			if ((r = move(g, DS_PENDING, reason.buf, err)) < 0)
				goto out;
			goto result;
		}
		if (gr == GATE_DENY) {
			if ((r = move(g, DS_FAILED, reason.buf, err)) < 0)
				goto out;
			goto result;
		}
	}
	strbuf_reset(&reason);
	strbuf_addf(&reason, "migrating %s %s from '%s' to '%s'; %s", db->name, o->env, current[0] ? current : "(none)",
		    o->to, est.buf);
	if ((r = move(g, DS_PROGRESSING, reason.buf, err)) == SW_ESTATE) {
		/* moved by another process since it was read (an abort applied by `slipway serve`): say how it is */
		strbuf_reset(err);
		if ((r = deployment_store_load(ops->st, g->d.id, &g->d, &g->s, err)) < 0)
			goto out;
		goto result;
	}
	if (r < 0)
		goto out;
	notify(g, NOTIFY_STARTING, "IN PROGRESS");
	r = run_steps(g, logp.buf, res, err);
result:
	res->id = g->d.id;
	res->state = g->d.state;
	snprintf(res->reason, sizeof(res->reason), "%s", g->d.reason);
	if (!res->failed_step[0])
		snprintf(res->failed_step, sizeof(res->failed_step), "%s", g->m.failed_step);
	if (o->notify && r >= 0) {
		struct notify_deliver_stats ns = { 0 };
		struct strbuf e = STRBUF_INIT;
		if (notify_deliver(ops->st, o->notify, proc_now_ms(), &ns, &e) < 0)
			say(ops, "  notify: %s", e.buf);
		strbuf_release(&e);
	}
out:
	if (gate_open)
		policy_gate_release(&gate);
	if (g->url.buf)
		memset(g->url.buf, 0, g->url.len);
	strbuf_release(&g->url);
	free(g);
	free(ids);
	strbuf_release(&sq);
	strbuf_release(&logs);
	strbuf_release(&logp);
	strbuf_release(&missing);
	strbuf_release(&svc);
	strbuf_release(&est);
	strbuf_release(&reason);
	return r;
}
