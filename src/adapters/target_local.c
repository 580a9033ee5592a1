/*
 * target_local.c - instances as local processes; see target_local.h.
 *
 * Every change is committed to the store before it is acted on, and the
 * process identity (pid + start time) right after fork, so a slipway killed
 * at any point leaves rows a restarted one can adopt or clean up: a row in
 * `starting` with pid 0 was never started; a row whose process is gone is
 * marked failed and its slot started again.
 */
#include "adapters/target_local.h"
#include "adapters/local_store.h"
#include "adapters/proc.h"
#include "adapters/sql.h"
#include "adapters/store.h"
#include "base/alloc.h"
#include "base/err.h"
#include "base/strbuf.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void instance_list_release(struct instance_list *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static struct instance *list_add(struct instance_list *l)
{
	ALLOC_GROW(l->v, l->n + 1, l->alloc);
	memset(&l->v[l->n], 0, sizeof(l->v[0]));
	return &l->v[l->n++];
}

int target_local_init(struct target_local *t, struct store *st, const char *state_dir, const char *project_dir,
		      struct strbuf *err)
{
	int r = local_store_migrate(st, err);
	if (r < 0)
		return r;
	t->st = st;
	t->state_dir = xstrdup(state_dir);
	t->project_dir = xstrdup(project_dir ? project_dir : ".");
	return 0;
}

void target_local_release(struct target_local *t)
{
	free(t->state_dir);
	free(t->project_dir);
	t->state_dir = t->project_dir = NULL;
}

static void abs_path(const struct target_local *t, const char *p, struct strbuf *out)
{
	if (p[0] != '/') {
		if (t->project_dir[0] != '/') {
			char cwd[4096];
			if (getcwd(cwd, sizeof(cwd)))
				strbuf_addf(out, "%s/", cwd);
		}
		if (strcmp(t->project_dir, "."))
			strbuf_addf(out, "%s/", t->project_dir);
	}
	strbuf_addstr(out, p);
}

void target_local_release_dir(const struct target_local *t, const struct service *svc, const char *version,
			      struct strbuf *out)
{
	abs_path(t, svc->releases, out);
	strbuf_addf(out, "/%s", version);
}

static int set_state(struct target_local *t, int64_t id, const char *state, pid_t pid, uint64_t start_time,
		     struct strbuf *err)
{
	_cleanup_sql_ struct sql_stmt *s = NULL;
	int r = sql_prepare(t->st, &s,
			      "UPDATE instances SET state = ?1, pid = CASE WHEN ?2 > 0 THEN ?2 ELSE pid END,"
			      " start_time = CASE WHEN ?2 > 0 THEN ?3 ELSE start_time END,"
			      " stopped_ms = CASE WHEN ?1 IN ('stopped', 'failed') THEN ?4 ELSE stopped_ms END"
			      " WHERE id = ?5", err);
	if (r < 0)
		return r;
	sql_bind_text(s, 1, state);
	sql_bind_int64(s, 2, pid);
	sql_bind_int64(s, 3, (int64_t)start_time);
	sql_bind_int64(s, 4, proc_now_ms());
	sql_bind_int64(s, 5, id);
	if (sql_step(s, NULL) != SQL_DONE) {
		strbuf_errf(err, "store: %s", sql_errmsg(t->st));
		return SW_ESTORE;
	}
	return 0;
}

struct row {
	int64_t id;
	struct instance in;
};

static int load_rows(struct target_local *t, const char *service, const char *env, const char *version,
		     struct row **rows, size_t *n, struct strbuf *err)
{
	_cleanup_sql_ struct sql_stmt *s = NULL;
	size_t alloc = 0;
	int r = sql_prepare(t->st, &s,
			      "SELECT id, version, idx, port, pid, start_time, state, log_path, started_ms FROM instances"
			      " WHERE service = ?1 AND env = ?2 AND (?3 IS NULL OR version = ?3)"
			      " AND state IN ('starting', 'running') ORDER BY version, idx, id", err);
	if (r < 0)
		return r;
	sql_bind_text(s, 1, service);
	sql_bind_text(s, 2, env);
	if (version)
		sql_bind_text(s, 3, version);
	*rows = NULL;
	*n = 0;
	while ((r = sql_step(s, NULL)) == SQL_ROW) {
		struct row *w;
		ALLOC_GROW(*rows, *n + 1, alloc);
		w = &(*rows)[(*n)++];
		memset(w, 0, sizeof(*w));
		w->id = sql_column_int64(s, 0);
		snprintf(w->in.version, sizeof(w->in.version), "%s", sql_column_text(s, 1));
		w->in.idx = (int)sql_column_int64(s, 2);
		w->in.port = (int)sql_column_int64(s, 3);
		w->in.pid = (pid_t)sql_column_int64(s, 4);
		w->in.start_time = (uint64_t)sql_column_int64(s, 5);
		snprintf(w->in.state, sizeof(w->in.state), "%s", sql_column_text(s, 6));
		snprintf(w->in.log_path, sizeof(w->in.log_path), "%s", sql_column_text(s, 7));
		w->in.started_ms = sql_column_int64(s, 8);
		w->in.alive = proc_same(w->in.pid, w->in.start_time);
	}
	if (r != SQL_DONE) {
		free(*rows);
		*rows = NULL;
		strbuf_errf(err, "store: %s", sql_errmsg(t->st));
		return SW_ESTORE;
	}
	return 0;
}

int target_local_list(struct target_local *t, const char *service, const char *env, const char *version,
		      struct instance_list *out, struct strbuf *err)
{
	struct row *rows;
	size_t n;
	int r;
	proc_reap();
	r = load_rows(t, service, env, version, &rows, &n, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		*list_add(out) = rows[i].in;
	free(rows);
	return 0;
}

int target_local_probe(int port, const char *path, int64_t timeout_ms)
{
	char url[512];
	int status = 0;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
	if (http_request("GET", url, timeout_ms, &status, NULL, NULL) < 0)
		return 0;
	return status >= 200 && status < 300;
}

int target_local_smoke(struct target_local *t, const struct service *svc, const char *env, const char *version,
		       struct strbuf *why, struct strbuf *err)
{
	struct row *rows;
	size_t n;
	int r, ok = 1;

	if (!svc->nsmoke)
		return 1;
	proc_reap();
	if ((r = load_rows(t, svc->name, env, version, &rows, &n, err)) < 0)
		return r;
	for (size_t i = 0; i < n && ok; i++) {
		if (!rows[i].in.alive || strcmp(rows[i].in.state, "running"))
			continue;
		for (size_t k = 0; k < svc->nsmoke && ok; k++) {
			const struct service_smoke *sc = &svc->smoke[k];
			struct strbuf e = STRBUF_INIT;
			char url[600];
			int status = 0;
			snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", rows[i].in.port, sc->path);
			if (http_request(sc->method, url, svc->ready_timeout_ms, &status, NULL, &e) < 0) {
				strbuf_errf(why, "smoke check '%s %s' on %s-%d: no answer (%s), expected %d", sc->method,
					    sc->path, version, rows[i].in.idx, e.len ? e.buf : "no response", sc->status);
				ok = 0;
			} else if (status != sc->status) {
				strbuf_errf(why, "smoke check '%s %s' on %s-%d answered %d, expected %d", sc->method,
					    sc->path, version, rows[i].in.idx, status, sc->status);
				ok = 0;
			}
			strbuf_release(&e);
		}
	}
	free(rows);
	return ok;
}

/* VERSION-N.pid beside VERSION-N.log: "PID START_TIME", so that the instances
 * can be found and stopped from the state directory when the store lost them */
static void pid_file_path(const char *log_path, struct strbuf *out)
{
	size_t n = strlen(log_path);
	if (n > 4 && !strcmp(log_path + n - 4, ".log"))
		n -= 4;
	strbuf_add(out, log_path, n);
	strbuf_addstr(out, ".pid");
}

static void write_pid_file(const char *log_path, pid_t pid, uint64_t start_time)
{
	struct strbuf path = STRBUF_INIT;
	FILE *f;
	pid_file_path(log_path, &path);
	if ((f = fopen(path.buf, "w"))) {
		fprintf(f, "%d %llu\n", (int)pid, (unsigned long long)start_time);
		fclose(f);
	}
	strbuf_release(&path);
}

static void remove_pid_file(const char *log_path)
{
	struct strbuf path = STRBUF_INIT;
	pid_file_path(log_path, &path);
	unlink(path.buf);
	strbuf_release(&path);
}

static void log_tail(const char *path, struct strbuf *err)
{
	struct strbuf sb = STRBUF_INIT;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		char buf[400];
		off_t end = lseek(fd, 0, SEEK_END);
		ssize_t n;
		if (end > (off_t)sizeof(buf) - 1)
			lseek(fd, end - (off_t)sizeof(buf) + 1, SEEK_SET);
		else
			lseek(fd, 0, SEEK_SET);
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n > 0) {
			strbuf_add(&sb, buf, (size_t)n);
			strbuf_rtrim(&sb);
			for (size_t i = 0; i < sb.len; i++)
				if (sb.buf[i] == '\n')
					sb.buf[i] = '|';
			strbuf_errf(err, "; its log ends: %s", sb.buf);
		}
	}
	strbuf_release(&sb);
}

static struct target_local_backoff *backoff_slot(struct target_local *t, const char *service, const char *env,
						  const char *version, int create)
{
	char key[sizeof(t->backoff[0].key)];
	struct target_local_backoff *oldest = &t->backoff[0];
	snprintf(key, sizeof(key), "%s %s %s", service, env, version);
	for (int i = 0; i < TARGET_LOCAL_BACKOFF_SLOTS; i++) {
		if (!strcmp(t->backoff[i].key, key))
			return &t->backoff[i];
		if (t->backoff[i].retry_mono_ms < oldest->retry_mono_ms)
			oldest = &t->backoff[i];
	}
	if (!create)
		return NULL;
	memset(oldest, 0, sizeof(*oldest));
	memcpy(oldest->key, key, sizeof(key));
	return oldest;
}

static void backoff_failed(struct target_local *t, const char *service, const char *env, const char *version,
			   const char *msg)
{
	struct target_local_backoff *b = backoff_slot(t, service, env, version, 1);
	int64_t wait = 1000;
	b->failures++;
	for (int i = 1; i < b->failures && wait < TARGET_LOCAL_BACKOFF_MAX_MS; i++)
		wait *= 2;
	if (wait > TARGET_LOCAL_BACKOFF_MAX_MS)
		wait = TARGET_LOCAL_BACKOFF_MAX_MS;
	b->retry_mono_ms = proc_mono_ms() + wait;
	snprintf(b->last, sizeof(b->last), "%s", msg);
}

int target_local_ready_count(struct target_local *t, const char *service, const char *env, const char *version,
			     struct strbuf *why, struct strbuf *err)
{
	struct row *rows;
	size_t n;
	int r, ready = 0;
	proc_reap();
	if ((r = load_rows(t, service, env, version, &rows, &n, err)) < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		if (rows[i].in.alive) {
			ready += !strcmp(rows[i].in.state, "running");
			continue;
		}
		if (rows[i].in.pid <= 0)
			continue;	/* being started by another call: not ours to judge */
		if (why) {
			struct strbuf tail = STRBUF_INIT;
			log_tail(rows[i].in.log_path, &tail);
			strbuf_errf(why, "instance %s-%d (pid %d) is gone%s", rows[i].in.version, rows[i].in.idx,
				    (int)rows[i].in.pid, tail.buf);
			strbuf_release(&tail);
		}
		set_state(t, rows[i].id, "failed", 0, 0, NULL);
	}
	free(rows);
	return ready;
}

static int spawn_one(struct target_local *t, const struct service *svc, const char *env, const char *version,
		     const char *release, int idx, struct row *w, struct strbuf *err)
{
	struct strbuf logdir = STRBUF_INIT, sb = STRBUF_INIT;
	struct service_vars v = { 0 };
	char **argv = xcalloc(svc->argc + 1, sizeof(char *));
	char **envp = xcalloc(svc->envc + 4, sizeof(char *));
	_cleanup_sql_ struct sql_stmt *s = NULL;
	int port, r;
	size_t ne = 0;

	port = proc_free_port();
	if (port < 0) {
		strbuf_errf(err, "no free port on 127.0.0.1: %s", strerror(-port));
		r = port;
		goto out;
	}
	v.port = port;
	v.version = version;
	v.release = release;
	v.service = svc->name;
	v.env = env;
	v.instance = idx;
	for (size_t i = 0; i < svc->argc; i++) {
		strbuf_reset(&sb);
		if ((r = service_expand(&sb, svc->argv[i], &v, err)) < 0)
			goto out;
		if (i == 0 && sb.buf[0] != '/' && strchr(sb.buf, '/')) {
			struct strbuf a = STRBUF_INIT;
			abs_path(t, sb.buf, &a);
			strbuf_release(&sb);
			sb = a;
		}
		argv[i] = xstrdup(sb.buf);
	}
	for (size_t i = 0; i < svc->envc; i++) {
		strbuf_reset(&sb);
		if ((r = service_expand(&sb, svc->env[i], &v, err)) < 0)
			goto out;
		envp[ne++] = xstrdup(sb.buf);
	}
	strbuf_reset(&sb);
	strbuf_addf(&sb, "PORT=%d", port);
	envp[ne++] = xstrdup(sb.buf);
	strbuf_reset(&sb);
	strbuf_addf(&sb, "SLIPWAY_INSTANCE=%s.%s/%s-%d", svc->name, env, version, idx);
	envp[ne++] = xstrdup(sb.buf);

	strbuf_addf(&logdir, "%s/logs/%s.%s", t->state_dir, svc->name, env);
	if ((r = mkdir_p(logdir.buf, err)) < 0)
		goto out;
	memset(w, 0, sizeof(*w));
	snprintf(w->in.version, sizeof(w->in.version), "%s", version);
	w->in.idx = idx;
	w->in.port = port;
	snprintf(w->in.log_path, sizeof(w->in.log_path), "%s/%s-%d.log", logdir.buf, version, idx);
	snprintf(w->in.state, sizeof(w->in.state), "starting");
	w->in.started_ms = proc_now_ms();

	/* the row first: a slipway killed right after fork leaves a row to find */
	if ((r = sql_prepare(t->st, &s,
			       "INSERT INTO instances (service, env, version, idx, port, state, log_path, started_ms)"
			       " VALUES (?1, ?2, ?3, ?4, ?5, 'starting', ?6, ?7)", err)) < 0)
		goto out;
	sql_bind_text(s, 1, svc->name);
	sql_bind_text(s, 2, env);
	sql_bind_text(s, 3, version);
	sql_bind_int64(s, 4, idx);
	sql_bind_int64(s, 5, port);
	sql_bind_text(s, 6, w->in.log_path);
	sql_bind_int64(s, 7, w->in.started_ms);
	if (sql_step(s, NULL) != SQL_DONE) {
		strbuf_errf(err, "store: %s", sql_errmsg(t->st));
		r = SW_ESTORE;
		goto out;
	}
	w->id = sql_last_insert_id(t->st);
	{
		struct strbuf perr = STRBUF_INIT;
		struct proc_log_rotation rot = { svc->log_max_bytes, svc->log_keep };
		r = proc_spawn_rotated(argv, envp, release, w->in.log_path, &rot, &w->in.pid, &w->in.start_time, &perr);
		if (r == SW_EEXTERNAL) {
			/* it exited at once: say which instance, and what its log says */
			strbuf_errf(err, "instance %s-%d of '%s' exited at once", version, idx, svc->name);
			log_tail(w->in.log_path, err);
		} else if (r < 0) {
			strbuf_errf(err, "%s", perr.buf);
		}
		strbuf_release(&perr);
	}
	if (r < 0) {
		set_state(t, w->id, "failed", 0, 0, NULL);
		goto out;
	}
	w->in.alive = 1;
	r = set_state(t, w->id, "starting", w->in.pid, w->in.start_time, err);
	write_pid_file(w->in.log_path, w->in.pid, w->in.start_time);
out:
	for (size_t i = 0; i < svc->argc; i++)
		free(argv[i]);
	free(argv);
	for (size_t i = 0; i < ne; i++)
		free(envp[i]);
	free(envp);
	strbuf_release(&sb);
	strbuf_release(&logdir);
	return r;
}

int target_local_start(struct target_local *t, const struct service *svc, const char *env, const char *version,
		       struct instance_list *out, struct strbuf *err)
{
	const struct service_env *e = service_find_env(svc, env);
	struct strbuf release = STRBUF_INIT;
	struct row *rows = NULL, *slot = NULL;
	char *started = NULL;	/* started[i]: slot i started by this call */
	size_t n = 0;
	struct stat sb;
	int r, count;
	int64_t deadline;

	if (!e) {
		strbuf_errf(err, "service '%s' has no environment '%s'", svc->name, env);
		return SW_ENOTFOUND;
	}
	count = e->instances;
	{
		struct target_local_backoff *b = backoff_slot(t, svc->name, env, version, 0);
		int64_t now = proc_mono_ms();
		if (b && b->failures && now < b->retry_mono_ms) {
			/* the same text until the next attempt: the controller logs a message once */
			strbuf_errf(err, "%s (failed to start %d time%s in a row; backing off)", b->last, b->failures,
				    b->failures == 1 ? "" : "s");
			return SW_EEXTERNAL;
		}
	}
	target_local_release_dir(t, svc, version, &release);
	if (stat(release.buf, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
		strbuf_errf(err, "release directory '%s' does not exist; put release '%s' of '%s' there first",
			    release.buf, version, svc->name);
		strbuf_release(&release);
		return SW_ENOTFOUND;
	}
	proc_reap();
	if ((r = load_rows(t, svc->name, env, version, &rows, &n, err)) < 0)
		goto out;
	slot = xcalloc((size_t)count, sizeof(*slot));
	started = xcalloc((size_t)count, 1);
	for (int i = 0; i < count; i++)
		slot[i].id = -1;
	for (size_t i = 0; i < n; i++) {
		struct row *w = &rows[i];
		if (w->in.alive && w->in.idx < count && slot[w->in.idx].id < 0) {
			slot[w->in.idx] = *w;
			slot[w->in.idx].in.adopted = 1;
		} else if (!w->in.alive) {
			/* recorded but gone (crashed, or killed with us): not adoptable */
			if ((r = set_state(t, w->id, "failed", 0, 0, err)) < 0)
				goto out;
		}
	}
	for (int i = 0; i < count; i++) {
		if (slot[i].id >= 0)
			continue;
		if ((r = spawn_one(t, svc, env, version, release.buf, i, &slot[i], err)) < 0) {
			slot[i].id = -1;
			goto fail;
		}
		started[i] = 1;
	}
	/* readiness: every instance answers the probe before it may get traffic */
	deadline = proc_mono_ms() + svc->ready_deadline_ms;
	for (int i = 0; i < count; i++) {
		struct instance *in = &slot[i].in;
		int64_t pause = 10;
		for (;;) {
			if (target_local_probe(in->port, svc->ready_path, svc->ready_timeout_ms))
				break;
			proc_reap();
			if (!proc_same(in->pid, in->start_time)) {
				strbuf_errf(err, "instance %s-%d of '%s' exited before it was ready", version, i, svc->name);
				log_tail(in->log_path, err);
				set_state(t, slot[i].id, "failed", 0, 0, NULL);
				r = SW_EEXTERNAL;
				goto fail;
			}
			if (proc_mono_ms() >= deadline) {
				strbuf_errf(err, "instance %s-%d of '%s' was not ready (GET %s on port %d) within %lld ms",
					    version, i, svc->name, svc->ready_path, in->port, (long long)svc->ready_deadline_ms);
				log_tail(in->log_path, err);
				r = SW_ETIMEOUT;
				goto fail;
			}
			proc_sleep_ms(pause);
			if (pause < 100)
				pause *= 2;
		}
		if (strcmp(in->state, "running")) {
			if ((r = set_state(t, slot[i].id, "running", 0, 0, err)) < 0)
				goto fail;
			snprintf(in->state, sizeof(in->state), "running");
		}
	}
	for (int i = 0; i < count; i++)
		*list_add(out) = slot[i].in;
	r = 0;
	goto out;
fail:
	for (int i = 0; i < count; i++) {
		int killed;
		if (!started[i] || slot[i].id < 0)
			continue;
		proc_stop(slot[i].in.pid, slot[i].in.start_time, 2000, &killed, NULL);
		set_state(t, slot[i].id, "failed", 0, 0, NULL);
	}
out:
	if (r < 0 && r != SW_ENOTFOUND && r != SW_ESTORE) {
		backoff_failed(t, svc->name, env, version, err ? err->buf : "");
	} else if (r >= 0) {
		struct target_local_backoff *b = backoff_slot(t, svc->name, env, version, 0);
		if (b)
			memset(b, 0, sizeof(*b));
	}
	free(rows);
	free(slot);
	free(started);
	strbuf_release(&release);
	return r;
}

int target_local_stop(struct target_local *t, const struct service *svc, const char *env, const char *version,
		      struct strbuf *err)
{
	struct row *rows;
	size_t n;
	int r, stopped = 0;
	proc_reap();
	if ((r = load_rows(t, svc->name, env, version, &rows, &n, err)) < 0)
		return r;
	/* SIGTERM all first, then wait: instances stop in parallel, not one grace period each */
	for (size_t i = 0; i < n; i++)
		if (rows[i].in.alive) {
			kill(-rows[i].in.pid, SIGTERM);
			kill(rows[i].in.pid, SIGTERM);
		}
	for (size_t i = 0; i < n; i++) {
		int killed = 0;
		if (rows[i].in.alive &&
		    (r = proc_stop(rows[i].in.pid, rows[i].in.start_time, svc->stop_grace_ms, &killed, err)) < 0)
			break;
		if ((r = set_state(t, rows[i].id, "stopped", 0, 0, err)) < 0)
			break;
		remove_pid_file(rows[i].in.log_path);
		stopped++;
	}
	free(rows);
	return r < 0 ? r : stopped;
}

int target_local_sweep(struct target_local *t, const struct service *svc, const char *env, struct strbuf *done,
		       struct strbuf *err)
{
	struct strbuf dir = STRBUF_INIT, path = STRBUF_INIT, text = STRBUF_INIT;
	struct dirent *de;
	DIR *dp;
	int r = 0, n = 0;
	strbuf_addf(&dir, "%s/logs/%s.%s", t->state_dir, svc->name, env);
	if (!(dp = opendir(dir.buf))) {
		strbuf_release(&dir);
		return 0;
	}
	proc_reap();
	while ((de = readdir(dp)) && r >= 0) {
		size_t len = strlen(de->d_name);
		long long pid = 0;
		unsigned long long st = 0;
		int killed = 0;
		if (len < 5 || strcmp(de->d_name + len - 4, ".pid"))
			continue;
		strbuf_reset(&path);
		strbuf_addf(&path, "%s/%s", dir.buf, de->d_name);
		strbuf_reset(&text);
		if (strbuf_read_file_max(&text, path.buf, 128, NULL) < 0 ||
		    sscanf(text.buf, "%lld %llu", &pid, &st) != 2 || pid <= 0) {
			unlink(path.buf);
			continue;
		}
		if (proc_same((pid_t)pid, st)) {
			kill(-(pid_t)pid, SIGTERM);
			if ((r = proc_stop((pid_t)pid, st, svc->stop_grace_ms, &killed, err)) < 0)
				break;
			strbuf_addf(done, "%s%.*s (pid %lld)", done->len ? ", " : "", (int)(len - 4), de->d_name, pid);
			n++;
		}
		unlink(path.buf);
	}
	closedir(dp);
	strbuf_release(&dir);
	strbuf_release(&path);
	strbuf_release(&text);
	return r < 0 ? r : n;
}

static int rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path) < 0 ? -1 : 0;
}

struct rel {
	char name[SERVICE_NAME_MAX + 1];
	int64_t mtime;
};

static int rel_cmp(const void *a, const void *b)
{
	const struct rel *x = a, *y = b;
	if (x->mtime != y->mtime)
		return x->mtime > y->mtime ? -1 : 1;
	return strcmp(y->name, x->name);
}

int target_local_cleanup(struct target_local *t, const struct service *svc, int keep, struct strbuf *removed,
			 struct strbuf *err)
{
	struct strbuf root = STRBUF_INIT, p = STRBUF_INIT;
	struct rel *rels = NULL;
	size_t n = 0, alloc = 0;
	DIR *d;
	struct dirent *de;
	int r = 0, count = 0;

	abs_path(t, svc->releases, &root);
	d = opendir(root.buf);
	if (!d) {
		if (errno == ENOENT)
			goto out;
		r = -errno;
		strbuf_errf(err, "cannot read '%s': %s", root.buf, strerror(errno));
		goto out;
	}
	while ((de = readdir(d))) {
		struct stat sb;
		if (!service_name_valid(de->d_name))
			continue;
		strbuf_reset(&p);
		strbuf_addf(&p, "%s/%s", root.buf, de->d_name);
		if (lstat(p.buf, &sb) < 0 || !S_ISDIR(sb.st_mode))
			continue;
		ALLOC_GROW(rels, n + 1, alloc);
		memcpy(rels[n].name, de->d_name, strlen(de->d_name) + 1); /* valid names are <= 64 bytes */
		rels[n].mtime = (int64_t)sb.st_mtim.tv_sec * 1000 + sb.st_mtim.tv_nsec / 1000000;
		n++;
	}
	closedir(d);
	qsort(rels, n, sizeof(*rels), rel_cmp);
	for (size_t i = (size_t)keep; i < n; i++) {
		_cleanup_sql_ struct sql_stmt *s = NULL;
		int live = 0;
		if ((r = sql_prepare(t->st, &s,
				       "SELECT pid, start_time FROM instances WHERE service = ?1 AND version = ?2"
				       " AND state IN ('starting', 'running')", err)) < 0)
			goto out;
		sql_bind_text(s, 1, svc->name);
		sql_bind_text(s, 2, rels[i].name);
		while (sql_step(s, NULL) == SQL_ROW)
			if (proc_same((pid_t)sql_column_int64(s, 0), (uint64_t)sql_column_int64(s, 1)))
				live = 1;
		if (live)
			continue;
		strbuf_reset(&p);
		strbuf_addf(&p, "%s/%s", root.buf, rels[i].name);
		if (nftw(p.buf, rm_cb, 16, FTW_DEPTH | FTW_PHYS) < 0) {
			r = -errno;
			strbuf_errf(err, "cannot remove '%s': %s", p.buf, strerror(errno));
			goto out;
		}
		strbuf_addf(removed, "%s\n", rels[i].name);
		count++;
	}
out:
	free(rels);
	strbuf_release(&root);
	strbuf_release(&p);
	return r < 0 ? r : count;
}
