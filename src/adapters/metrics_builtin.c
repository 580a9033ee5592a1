/*
 * metrics_builtin.c - receive HAProxy's request log, aggregate, store,
 * answer queries; see metrics_builtin.h.
 *
 * HAProxy writes each request line into a ring (16 MiB) and forwards the
 * ring over a unix stream connection to STATE/log.stream, newline-framed.
 * A stream has back-pressure: when this process is slow (two cores shared
 * with the load generator, the service and HAProxy) lines wait in the ring
 * instead of being lost, as they were with a unix datagram socket (whose
 * queue holds 512 lines: a third of the lines arrived at 9,000 requests per
 * second, docs/haproxy.md).  Lines are lost only if the ring overflows,
 * which the accounting reports.
 *
 * Two threads, so that a slow store never stops the socket from being read:
 *   receive  poll the listener and HAProxy's connections, split lines,
 *            parse, add to the current aggregate under a mutex;
 *   flush    every 250 ms swap the aggregate out and write it to the store
 *            in one transaction (synchronous=NORMAL on this connection:
 *            metrics may lose the last bucket on power loss, deployments
 *            may not); every second read HAProxy's counters for the
 *            accounting.
 */
#include "adapters/metrics_builtin.h"
#include "adapters/local_store.h"
#include "adapters/proc.h"
#include "adapters/router_haproxy.h"
#include "adapters/sql.h"
#include "adapters/store.h"
#include "base/alloc.h"
#include "base/err.h"
#include "base/strbuf.h"
#include "core/flag_rollout.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static const char *const migrations[] = {
	/* 1 */
	"CREATE TABLE request_stats ("
	"  service TEXT NOT NULL,"
	"  env TEXT NOT NULL,"
	"  version TEXT NOT NULL,"
	"  at_ms INTEGER NOT NULL,"
	"  requests INTEGER NOT NULL,"
	"  errors INTEGER NOT NULL,"
	"  hist TEXT NOT NULL);"
	"CREATE INDEX request_stats_q ON request_stats(service, env, version, at_ms);"
	"CREATE INDEX request_stats_t ON request_stats(service, env, at_ms);"
	"CREATE TABLE log_accounting ("
	"  service TEXT NOT NULL,"
	"  env TEXT NOT NULL,"
	"  haproxy_pid INTEGER NOT NULL,"
	"  haproxy_start INTEGER NOT NULL,"
	"  received INTEGER NOT NULL DEFAULT 0,"
	"  unparseable INTEGER NOT NULL DEFAULT 0,"
	"  events INTEGER NOT NULL DEFAULT 0,"
	"  haproxy_requests INTEGER NOT NULL DEFAULT 0,"
	"  haproxy_dropped INTEGER NOT NULL DEFAULT 0,"
	"  created_ms INTEGER NOT NULL,"
	"  updated_ms INTEGER NOT NULL DEFAULT 0,"
	"  PRIMARY KEY (service, env, haproxy_pid, haproxy_start));",
	/* 2: per flag variant, from the X-Flag-Variant header (docs/flags.md) */
	"CREATE TABLE variant_stats ("
	"  service TEXT NOT NULL,"
	"  env TEXT NOT NULL,"
	"  flag TEXT NOT NULL,"
	"  variant TEXT NOT NULL,"
	"  at_ms INTEGER NOT NULL,"
	"  requests INTEGER NOT NULL,"
	"  errors INTEGER NOT NULL,"
	"  hist TEXT NOT NULL);"
	"CREATE INDEX variant_stats_q ON variant_stats(service, env, flag, variant, at_ms);",
};

int metrics_store_migrate(struct store *st, struct strbuf *err)
{
	/* the receiver reads the routers table (the local module's) inside its write transactions: on
	 * PostgreSQL a statement on a missing table would abort the whole transaction, so it exists first */
	int r = local_store_migrate(st, err);
	if (r < 0)
		return r;
	return store_migrate_ported(st, "metrics", migrations, NULL, (int)ARRAY_SIZE(migrations), err);
}

struct agg {
	char backend[160];
	char version[72];
	/* a flag variant's row (variant_stats) when flag[0]; else the revision's */
	char flag[REQLOG_NAME_MAX + 1], variant[REQLOG_NAME_MAX + 1];
	int64_t bucket_ms;	/* start of the 250 ms bucket the requests completed in */
	uint64_t requests, errors;
	struct hist h;
};

struct aggset {
	struct agg *v;
	size_t n, alloc;
	uint64_t unparseable, events;
};

struct metrics_receiver {
	char *state_dir;
	int fd, lock_fd, stop_pipe[2];
	pthread_t rx, fl;
	pthread_mutex_t mu;
	struct aggset cur;
	int stopping;
	struct store st;
};

static void lock_path(const char *state_dir, struct strbuf *sb)
{
	strbuf_addf(sb, "%s/log.lock", state_dir);
}

pid_t metrics_receiver_pid(const char *state_dir)
{
	struct strbuf p = STRBUF_INIT;
	char buf[32] = "";
	pid_t pid = 0;
	int fd;
	lock_path(state_dir, &p);
	fd = open(p.buf, O_RDONLY | O_CLOEXEC);
	strbuf_release(&p);
	if (fd < 0)
		return 0;
	if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
		close(fd);	/* nobody holds it: no receiver */
		return 0;
	}
	if (read(fd, buf, sizeof(buf) - 1) > 0)
		pid = (pid_t)strtol(buf, NULL, 10);
	close(fd);
	return pid > 0 ? pid : 1;
}

static struct agg *agg_get(struct aggset *a, const char *backend, const char *version, const char *flag,
			   const char *variant, int64_t bucket_ms)
{
	/* newest first: nearly every line belongs to the current bucket */
	for (size_t i = a->n; i-- > 0;)
		if (a->v[i].bucket_ms == bucket_ms && !strcmp(a->v[i].backend, backend) &&
		    !strcmp(a->v[i].version, version) && !strcmp(a->v[i].flag, flag) && !strcmp(a->v[i].variant, variant))
			return &a->v[i];
	ALLOC_GROW(a->v, a->n + 1, a->alloc);
	memset(&a->v[a->n], 0, sizeof(a->v[0]));
	snprintf(a->v[a->n].backend, sizeof(a->v[0].backend), "%s", backend);
	snprintf(a->v[a->n].version, sizeof(a->v[0].version), "%s", version);
	snprintf(a->v[a->n].flag, sizeof(a->v[0].flag), "%s", flag);
	snprintf(a->v[a->n].variant, sizeof(a->v[0].variant), "%s", variant);
	a->v[a->n].bucket_ms = bucket_ms;
	return &a->v[a->n++];
}

static void add_line(struct metrics_receiver *mr, const char *buf, size_t len)
{
	struct reqlog_line l;
	struct agg *a;
	if (reqlog_parse(buf, len, &l) < 0) {
		/* HAProxy's own notices (server state changes) carry no marker */
		if (len <= REQLOG_LINE_MAX && memmem(buf, len, REQLOG_MARKER, sizeof(REQLOG_MARKER) - 1))
			mr->cur.unparseable++;
		else if (len > REQLOG_LINE_MAX)
			mr->cur.unparseable++;
		else
			mr->cur.events++;
		return;
	}
	a = agg_get(&mr->cur, l.backend, l.version[0] ? l.version : "-", "", "",
		    l.end_ms / METRICS_BUCKET_MS * METRICS_BUCKET_MS);
	a->requests++;
	a->errors += (uint64_t)l.error;
	hist_add(&a->h, (uint32_t)l.latency_ms);
	/* the same request once more per flag variant it reported, across revisions */
	for (int i = 0; i < l.n_variants; i++) {
		a = agg_get(&mr->cur, l.backend, "", l.variants[i].flag, l.variants[i].variant,
			    l.end_ms / METRICS_BUCKET_MS * METRICS_BUCKET_MS);
		a->requests++;
		a->errors += (uint64_t)l.error;
		hist_add(&a->h, (uint32_t)l.latency_ms);
	}
}

/* one HAProxy's connection: lines arrive newline-terminated, in any chunks */
struct conn {
	int fd;
	size_t len;
	char buf[64 * 1024];
};

static void conn_lines(struct metrics_receiver *mr, struct conn *c)
{
	size_t start = 0;
	for (size_t i = 0; i < c->len; i++) {
		if (c->buf[i] != '\n')
			continue;
		add_line(mr, c->buf + start, i - start);
		start = i + 1;
	}
	if (start == 0 && c->len == sizeof(c->buf)) {
		/* 64 KiB without a newline: not a log line; count it and resynchronise */
		add_line(mr, c->buf, REQLOG_LINE_MAX + 1);
		c->len = 0;
		return;
	}
	memmove(c->buf, c->buf + start, c->len - start);
	c->len -= start;
}

static void *rx_main(void *arg)
{
	struct metrics_receiver *mr = arg;
	enum { MAXC = 64 };
	struct conn *conns[MAXC] = { 0 };
	int nconn = 0;

	for (;;) {
		struct pollfd p[MAXC + 2];
		int np = 0;
		p[np++] = (struct pollfd){ mr->stop_pipe[0], POLLIN, 0 };
		p[np++] = (struct pollfd){ mr->fd, POLLIN, 0 };
		for (int i = 0; i < nconn; i++)
			p[np++] = (struct pollfd){ conns[i]->fd, POLLIN, 0 };
		if (poll(p, (nfds_t)np, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[0].revents)
			break;
		if (p[1].revents & POLLIN) {
			int fd = accept4(mr->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
			if (fd >= 0 && nconn < MAXC) {
				conns[nconn] = xmalloc(sizeof(struct conn));
				conns[nconn]->fd = fd;
				conns[nconn]->len = 0;
				nconn++;
			} else if (fd >= 0) {
				close(fd);
			}
		}
		for (int i = nconn - 1; i >= 0; i--) {
			struct conn *c = conns[i];
			int closed = 0;
			if (!p[2 + i].revents)
				continue;
			pthread_mutex_lock(&mr->mu);
			for (;;) {
				ssize_t n = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
				if (n > 0) {
					c->len += (size_t)n;
					conn_lines(mr, c);
					continue;
				}
				if (n == 0 || (errno != EAGAIN && errno != EINTR))
					closed = 1;
				if (n < 0 && errno == EINTR)
					continue;
				break;
			}
			pthread_mutex_unlock(&mr->mu);
			if (closed) {
				close(c->fd);
				free(c);
				conns[i] = conns[--nconn];
			}
		}
	}
	for (int i = 0; i < nconn; i++) {
		close(conns[i]->fd);
		free(conns[i]);
	}
	return NULL;
}

/* backend "SERVICE.ENV" -> service and env, by the routers slipway knows */
static void split_backend(struct store *st, const char *backend, char *service, char *env)
{
	_cleanup_sql_ struct sql_stmt *s = NULL;
	const char *dot;
	if (sql_prepare(st, &s, "SELECT service, env FROM routers WHERE service || '.' || env = ?1", NULL) == 0) {
		sql_bind_text(s, 1, backend);
		if (sql_step(s, NULL) == SQL_ROW) {
			snprintf(service, SERVICE_NAME_MAX + 1, "%s", sql_column_text(s, 0));
			snprintf(env, SERVICE_NAME_MAX + 1, "%s", sql_column_text(s, 1));
			return;
		}
	}
	dot = strrchr(backend, '.');
	if (dot && dot != backend && (size_t)(dot - backend) <= SERVICE_NAME_MAX && strlen(dot + 1) <= SERVICE_NAME_MAX) {
		memcpy(service, backend, (size_t)(dot - backend));
		service[dot - backend] = '\0';
		memcpy(env, dot + 1, strlen(dot + 1) + 1);
	} else {
		snprintf(service, SERVICE_NAME_MAX + 1, "%.64s", backend);
		memcpy(env, "*", 2);
	}
}

/* the row of the HAProxy process now serving service/env (pid 0 when none) */
static void current_router(struct store *st, const char *service, const char *env, int64_t *pid, int64_t *start)
{
	_cleanup_sql_ struct sql_stmt *s = NULL;
	*pid = 0;
	*start = 0;
	if (sql_prepare(st, &s, "SELECT pid, start_time FROM routers WHERE service = ?1 AND env = ?2", NULL) < 0)
		return;
	sql_bind_text(s, 1, service);
	sql_bind_text(s, 2, env);
	if (sql_step(s, NULL) == SQL_ROW) {
		*pid = sql_column_int64(s, 0);
		*start = sql_column_int64(s, 1);
	}
}

static void account(struct store *st, const char *service, const char *env, int64_t pid, int64_t start,
		    uint64_t received, uint64_t unparseable, uint64_t events, int64_t now)
{
	_cleanup_sql_ struct sql_stmt *s = NULL;
	if (sql_prepare(st, &s,
			  "INSERT INTO log_accounting (service, env, haproxy_pid, haproxy_start, received, unparseable,"
			  " events, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
			  " ON CONFLICT (service, env, haproxy_pid, haproxy_start) DO UPDATE SET"
			  " received = log_accounting.received + ?5, unparseable = log_accounting.unparseable + ?6,"
			  " events = log_accounting.events + ?7", NULL) < 0)
		return;
	sql_bind_text(s, 1, service);
	sql_bind_text(s, 2, env);
	sql_bind_int64(s, 3, pid);
	sql_bind_int64(s, 4, start);
	sql_bind_int64(s, 5, (int64_t)received);
	sql_bind_int64(s, 6, (int64_t)unparseable);
	sql_bind_int64(s, 7, (int64_t)events);
	sql_bind_int64(s, 8, now);
	sql_step(s, NULL);
}

static void flush(struct metrics_receiver *mr)
{
	struct aggset a;
	struct strbuf hs = STRBUF_INIT;
	int64_t now = proc_now_ms();

	pthread_mutex_lock(&mr->mu);
	a = mr->cur;
	memset(&mr->cur, 0, sizeof(mr->cur));
	pthread_mutex_unlock(&mr->mu);
	if (!a.n && !a.unparseable && !a.events)
		return;
	if (store_begin(&mr->st, NULL) < 0)
		goto requeue;
	for (size_t i = 0; i < a.n; i++) {
		_cleanup_sql_ struct sql_stmt *s = NULL;
		char service[SERVICE_NAME_MAX + 1], env[SERVICE_NAME_MAX + 1];
		int64_t pid, start;
		split_backend(&mr->st, a.v[i].backend, service, env);
		strbuf_reset(&hs);
		hist_encode(&a.v[i].h, &hs);
		if (a.v[i].flag[0]) {
			if (sql_prepare(&mr->st, &s,
					  "INSERT INTO variant_stats (service, env, flag, variant, at_ms, requests, errors,"
					  " hist) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", NULL) < 0)
				goto fail;
			sql_bind_text(s, 1, service);
			sql_bind_text(s, 2, env);
			sql_bind_text(s, 3, a.v[i].flag);
			sql_bind_text(s, 4, a.v[i].variant);
			sql_bind_int64(s, 5, a.v[i].bucket_ms);
			sql_bind_int64(s, 6, (int64_t)a.v[i].requests);
			sql_bind_int64(s, 7, (int64_t)a.v[i].errors);
			sql_bind_text(s, 8, hs.buf);
			if (sql_step(s, NULL) != SQL_DONE)
				goto fail;
			continue;	/* the request was counted (and accounted) on its revision's row */
		}
		if (sql_prepare(&mr->st, &s,
				  "INSERT INTO request_stats (service, env, version, at_ms, requests, errors, hist)"
				  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", NULL) < 0)
			goto fail;
		sql_bind_text(s, 1, service);
		sql_bind_text(s, 2, env);
		sql_bind_text(s, 3, a.v[i].version);
		sql_bind_int64(s, 4, a.v[i].bucket_ms);
		sql_bind_int64(s, 5, (int64_t)a.v[i].requests);
		sql_bind_int64(s, 6, (int64_t)a.v[i].errors);
		sql_bind_text(s, 7, hs.buf);
		if (sql_step(s, NULL) != SQL_DONE)
			goto fail;
		current_router(&mr->st, service, env, &pid, &start);
		account(&mr->st, service, env, pid, start, a.v[i].requests, 0, 0, now);
	}
	if (a.unparseable || a.events)
		account(&mr->st, "*", "*", 0, 0, 0, a.unparseable, a.events, now);
	if (store_commit(&mr->st, NULL) < 0)
		goto fail;
	free(a.v);
	strbuf_release(&hs);
	return;
fail:
	store_rollback(&mr->st);
requeue:
	/* keep the counts for the next flush rather than drop them */
	pthread_mutex_lock(&mr->mu);
	for (size_t i = 0; i < a.n; i++) {
		struct agg *g = agg_get(&mr->cur, a.v[i].backend, a.v[i].version, a.v[i].flag, a.v[i].variant,
					a.v[i].bucket_ms);
		g->requests += a.v[i].requests;
		g->errors += a.v[i].errors;
		hist_merge(&g->h, &a.v[i].h);
	}
	mr->cur.unparseable += a.unparseable;
	mr->cur.events += a.events;
	pthread_mutex_unlock(&mr->mu);
	free(a.v);
	strbuf_release(&hs);
}

static long long info_field(const char *reply, const char *name)
{
	const char *p = strstr(reply, name);
	if (!p)
		return -1;
	return strtoll(p + strlen(name), NULL, 10);
}

/* HAProxy's own counts, to compare with the lines received */
static void reconcile(struct metrics_receiver *mr)
{
	_cleanup_sql_ struct sql_stmt *s = NULL;
	struct strbuf reply = STRBUF_INIT, cmd = STRBUF_INIT;
	if (sql_prepare(&mr->st, &s, "SELECT service, env, pid, start_time, socket_path FROM routers WHERE pid > 0",
			  NULL) < 0)
		return;
	while (sql_step(s, NULL) == SQL_ROW) {
		const char *service = sql_column_text(s, 0);
		const char *env = sql_column_text(s, 1);
		int64_t pid = sql_column_int64(s, 2), start = sql_column_int64(s, 3);
		const char *sock = sql_column_text(s, 4);
		long long dropped, req = -1;
		_cleanup_sql_ struct sql_stmt *u = NULL;
		char *line, *save = NULL, fe[2 * SERVICE_NAME_MAX + 2];
		int col = -1;
		if (!proc_same((pid_t)pid, (uint64_t)start))
			continue;
		strbuf_reset(&reply);
		if (haproxy_cli(sock, "show info", &reply, NULL) < 0)
			continue;
		dropped = info_field(reply.buf, "DroppedLogs: ");
		strbuf_reset(&reply);
		strbuf_reset(&cmd);
		strbuf_addstr(&cmd, "show stat -1 1 -1");	/* frontends; ours picked by pxname */
		if (haproxy_cli(sock, cmd.buf, &reply, NULL) < 0)
			continue;
		snprintf(fe, sizeof(fe), "%s.%s", service, env);
		for (line = strtok_r(reply.buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			/* CSV with empty fields: split by hand (strtok would merge ",,") */
			char *f = line[0] == '#' ? line + 2 : line;
			for (int i = 0; f; i++) {
				char *comma = strchr(f, ',');
				if (comma)
					*comma = '\0';
				if (line[0] == '#' && !strcmp(f, "req_tot"))
					col = i;
				else if (line[0] != '#' && i == col && !strcmp(line, fe))
					req = strtoll(f, NULL, 10);
				f = comma ? comma + 1 : NULL;
			}
		}
		if (req < 0 || dropped < 0)
			continue;
		account(&mr->st, service, env, pid, start, 0, 0, 0, proc_now_ms());
		if (sql_prepare(&mr->st, &u,
				  "UPDATE log_accounting SET haproxy_requests = ?5, haproxy_dropped = ?6, updated_ms = ?7"
				  " WHERE service = ?1 AND env = ?2 AND haproxy_pid = ?3 AND haproxy_start = ?4", NULL) < 0)
			continue;
		sql_bind_text(u, 1, service);
		sql_bind_text(u, 2, env);
		sql_bind_int64(u, 3, pid);
		sql_bind_int64(u, 4, start);
		sql_bind_int64(u, 5, req);
		sql_bind_int64(u, 6, dropped);
		sql_bind_int64(u, 7, proc_now_ms());
		sql_step(u, NULL);
	}
	strbuf_release(&reply);
	strbuf_release(&cmd);
}

static void *flush_main(void *arg)
{
	struct metrics_receiver *mr = arg;
	int tick = 0;
	for (;;) {
		int64_t now = proc_now_ms();
		int64_t next = (now / METRICS_BUCKET_MS + 1) * METRICS_BUCKET_MS;
		struct pollfd p = { mr->stop_pipe[0], POLLIN, 0 };
		int stop = poll(&p, 1, (int)(next - now)) > 0;
		flush(mr);
		if (stop)
			break;
		if (++tick % 4 == 0) {
			reconcile(mr);
		}
	}
	reconcile(mr);
	return NULL;
}

int metrics_receiver_start(struct metrics_receiver **out, const char *state_dir, struct strbuf *err)
{
	struct metrics_receiver *mr;
	struct strbuf lp = STRBUF_INIT, sp = STRBUF_INIT;
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	char pidbuf[32];
	char absdir[4096];
	int rc;

	*out = NULL;
	if ((rc = mkdir_p(state_dir, err)) < 0)
		return rc;
	if (!realpath(state_dir, absdir)) {
		rc = -errno;
		strbuf_errf(err, "cannot resolve '%s': %s", state_dir, strerror(errno));
		return rc;
	}
	mr = xcalloc(1, sizeof(*mr));
	mr->fd = mr->lock_fd = mr->stop_pipe[0] = mr->stop_pipe[1] = -1;
	mr->state_dir = xstrdup(absdir);
	lock_path(absdir, &lp);
	mr->lock_fd = open(lp.buf, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (mr->lock_fd < 0) {
		rc = -errno;
		strbuf_errf(err, "cannot open '%s': %s", lp.buf, strerror(errno));
		goto fail;
	}
	if (flock(mr->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		rc = 0;	/* another slipway receives */
		goto fail;
	}
	snprintf(pidbuf, sizeof(pidbuf), "%d\n", (int)getpid());
	if (ftruncate(mr->lock_fd, 0) < 0 || pwrite(mr->lock_fd, pidbuf, strlen(pidbuf), 0) < 0) {
		rc = -errno;
		strbuf_errf(err, "cannot write '%s': %s", lp.buf, strerror(errno));
		goto fail;
	}
	if ((rc = store_open(&mr->st, absdir, err)) < 0)
		goto fail;
	if ((rc = metrics_store_migrate(&mr->st, err)) < 0 ||
	    (mr->st.backend == STORE_BACKEND_SQLITE && (rc = store_exec(&mr->st, "PRAGMA synchronous=NORMAL", err)) < 0))
		goto fail;
	strbuf_addf(&sp, "%s/log.stream", absdir);
	if (sp.len >= sizeof(a.sun_path)) {
		strbuf_errf(err, "socket path '%s' is too long; use a shorter --state-dir", sp.buf);
		rc = SW_ECONFIG;
		goto fail;
	}
	memcpy(a.sun_path, sp.buf, sp.len + 1);
	unlink(sp.buf);	/* we hold the lock: a socket file left there is stale */
	mr->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (mr->fd < 0 || bind(mr->fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(mr->fd, 64) < 0) {
		rc = -errno;
		strbuf_errf(err, "cannot bind '%s': %s", sp.buf, strerror(errno));
		goto fail;
	}
	chmod(sp.buf, 0600);
	if (pipe2(mr->stop_pipe, O_CLOEXEC) < 0) {
		rc = -errno;
		strbuf_errf(err, "pipe: %s", strerror(errno));
		goto fail;
	}
	pthread_mutex_init(&mr->mu, NULL);
	if (pthread_create(&mr->rx, NULL, rx_main, mr) != 0) {
		strbuf_errf(err, "cannot start the receive thread");
		rc = SW_EEXTERNAL;
		pthread_mutex_destroy(&mr->mu);
		goto fail;
	}
	if (pthread_create(&mr->fl, NULL, flush_main, mr) != 0) {
		ssize_t w = write(mr->stop_pipe[1], "x", 1);
		(void)w;
		pthread_join(mr->rx, NULL);
		pthread_mutex_destroy(&mr->mu);
		strbuf_errf(err, "cannot start the flush thread");
		rc = SW_EEXTERNAL;
		goto fail;
	}
	strbuf_release(&lp);
	strbuf_release(&sp);
	*out = mr;
	return 1;
fail:
	if (mr->fd >= 0) {
		close(mr->fd);
		unlink(sp.buf);
	}
	if (mr->stop_pipe[0] >= 0) {
		close(mr->stop_pipe[0]);
		close(mr->stop_pipe[1]);
	}
	if (mr->lock_fd >= 0)
		close(mr->lock_fd);
	store_close(&mr->st);
	free(mr->state_dir);
	free(mr);
	strbuf_release(&lp);
	strbuf_release(&sp);
	return rc;
}

void metrics_receiver_stop(struct metrics_receiver *mr)
{
	struct strbuf sp = STRBUF_INIT;
	ssize_t w;
	if (!mr)
		return;
	w = write(mr->stop_pipe[1], "x", 1);
	(void)w;
	pthread_join(mr->rx, NULL);
	pthread_join(mr->fl, NULL);
	strbuf_addf(&sp, "%s/log.stream", mr->state_dir);
	unlink(sp.buf);
	strbuf_release(&sp);
	close(mr->fd);
	close(mr->stop_pipe[0]);
	close(mr->stop_pipe[1]);
	close(mr->lock_fd);
	pthread_mutex_destroy(&mr->mu);
	free(mr->cur.v);
	store_close(&mr->st);
	free(mr->state_dir);
	free(mr);
}

static void sample_fill(struct metrics_sample *out, int64_t from, int64_t to, uint64_t req, uint64_t errs,
			const struct hist *h)
{
	out->from_ms = from;
	out->to_ms = to;
	out->requests = req;
	out->errors = errs;
	if (h->count) {
		out->p50_ms = hist_quantile(h, 0.50);
		out->p90_ms = hist_quantile(h, 0.90);
		out->p99_ms = hist_quantile(h, 0.99);
		out->max_ms = h->max_ms;
	} else {
		out->p50_ms = out->p90_ms = out->p99_ms = out->max_ms = NAN;
	}
}

static int sum_range(struct store *st, const char *service, const char *env, const char *version, int64_t from_ms,
		     int64_t to_ms, uint64_t *req, uint64_t *errs, struct hist *h, struct strbuf *err)
{
	_cleanup_sql_ struct sql_stmt *s = NULL;
	char flag[REQLOG_NAME_MAX + 1], variant[REQLOG_NAME_MAX + 1];
	int cohort = flag_cohort_parse(version, flag, sizeof(flag), variant, sizeof(variant));
	int rc;
	if (cohort < 0) {
		strbuf_errf(err, "'%s' is not a flag cohort: write flag:FLAG=VARIANT", version);
		return cohort;
	}
	rc = cohort ? sql_prepare(st, &s,
				    "SELECT requests, errors, hist FROM variant_stats WHERE service = ?1 AND env = ?2"
				    " AND flag = ?3 AND variant = ?6 AND at_ms >= ?4 AND at_ms < ?5", err)
		    : sql_prepare(st, &s,
				    "SELECT requests, errors, hist FROM request_stats WHERE service = ?1 AND env = ?2"
				    " AND version = ?3 AND at_ms >= ?4 AND at_ms < ?5", err);
	if (rc < 0)
		return rc;
	sql_bind_text(s, 1, service);
	sql_bind_text(s, 2, env);
	sql_bind_text(s, 3, cohort ? flag : version);
	if (cohort)
		sql_bind_text(s, 6, variant);
	/* a bucket counts when it starts inside the range */
	sql_bind_int64(s, 4, from_ms);
	sql_bind_int64(s, 5, to_ms);
	*req = *errs = 0;
	memset(h, 0, sizeof(*h));
	while ((rc = sql_step(s, NULL)) == SQL_ROW) {
		struct hist one;
		*req += (uint64_t)sql_column_int64(s, 0);
		*errs += (uint64_t)sql_column_int64(s, 1);
		if (hist_decode(&one, sql_column_text(s, 2)) == 0)
			hist_merge(h, &one);
	}
	if (rc != SQL_DONE) {
		strbuf_errf(err, "store: %s", sql_errmsg(st));
		return SW_ESTORE;
	}
	return 0;
}

int metrics_builtin_query(void *ctx, const char *service, enum revision_role role, const char *version,
			  int64_t from_ms, int64_t to_ms, struct metrics_sample *out, struct strbuf *err)
{
	struct metrics_builtin *mb = ctx;
	uint64_t req, errs;
	struct hist *h = xcalloc(1, sizeof(*h));
	int rc = metrics_store_migrate(mb->st, err);
	if (rc >= 0)
		rc = sum_range(mb->st, service, mb->env, version, from_ms, to_ms, &req, &errs, h, err);
	if (rc >= 0)
		sample_fill(out, from_ms, to_ms, req, errs, h);
	free(h);
	return rc < 0 ? rc : 0;
}

/*
 * Requests slower than each threshold, from the per-request latency
 * histogram (reqlog.h): the requests in buckets whose lower edge is above
 * the threshold, so a request in the threshold's own bucket is not counted
 * (exact below 32 ms, within one bucket, about 6%, above).
 */
int metrics_builtin_query_over(void *ctx, const char *service, enum revision_role role, const char *version,
			       int64_t from_ms, int64_t to_ms, const double *thresholds_ms, int n, uint64_t *over,
			       struct strbuf *err)
{
	struct metrics_builtin *mb = ctx;
	uint64_t req, errs;
	struct hist *h;
	int rc;

	if (n < 0 || n > METRICS_MAX_THRESHOLDS)
		return SW_EUSAGE;
	h = xcalloc(1, sizeof(*h));
	rc = metrics_store_migrate(mb->st, err);
	if (rc >= 0)
		rc = sum_range(mb->st, service, mb->env, version, from_ms, to_ms, &req, &errs, h, err);
	for (int k = 0; rc >= 0 && k < n; k++) {
		double t = thresholds_ms[k];
		over[k] = 0;
		for (int b = 0; b < HIST_BUCKETS; b++) {
			double lower = b == 0 ? 0 : (double)hist_bucket_upper(b - 1) + 1;
			if (lower > t)
				over[k] += h->n[b];
		}
	}
	free(h);
	return rc < 0 ? rc : 0;
}

void metrics_builtin_provider(struct metrics_builtin *mb, struct metrics_provider *p)
{
	p->ctx = mb;
	p->query = metrics_builtin_query;
	p->query_over = metrics_builtin_query_over;
}

int metrics_builtin_report(struct store *st, const char *service, const char *env, int64_t from_ms, int64_t to_ms,
			   struct metrics_revision **revs, size_t *nrevs, struct metrics_accounting *acc,
			   struct strbuf *err)
{
	_cleanup_sql_ struct sql_stmt *s = NULL, *a = NULL, *u = NULL;
	size_t alloc = 0;
	struct hist *h = xcalloc(1, sizeof(*h));
	int rc;

	*revs = NULL;
	*nrevs = 0;
	memset(acc, 0, sizeof(*acc));
	if ((rc = metrics_store_migrate(st, err)) < 0)
		goto out;
	if ((rc = sql_prepare(st, &s,
				"SELECT * FROM (SELECT DISTINCT version FROM request_stats WHERE service = ?1 AND env = ?2"
				" AND at_ms >= ?3 AND at_ms < ?4 ORDER BY version) AS versions UNION ALL"
				" SELECT * FROM (SELECT DISTINCT '" FLAG_COHORT_PREFIX "' || flag || '=' || variant AS v"
				" FROM variant_stats WHERE service = ?1 AND env = ?2 AND at_ms >= ?3 AND at_ms < ?4"
				" ORDER BY v) AS cohorts", err)) < 0)
		goto out;
	sql_bind_text(s, 1, service);
	sql_bind_text(s, 2, env);
	sql_bind_int64(s, 3, from_ms);
	sql_bind_int64(s, 4, to_ms);
	while (sql_step(s, NULL) == SQL_ROW) {
		struct metrics_revision *r;
		uint64_t req, errs;
		ALLOC_GROW(*revs, *nrevs + 1, alloc);
		r = &(*revs)[(*nrevs)++];
		memset(r, 0, sizeof(*r));
		snprintf(r->version, sizeof(r->version), "%s", sql_column_text(s, 0));
		if ((rc = sum_range(st, service, env, r->version, from_ms, to_ms, &req, &errs, h, err)) < 0)
			goto out;
		sample_fill(&r->s, from_ms, to_ms, req, errs, h);
	}
	/* the accounting of the newest HAProxy process of this environment */
	/* PostgreSQL has no rowid: of two processes recorded in one millisecond, the one started last */
	if ((rc = sql_prepare(st, &a,
				st->backend == STORE_BACKEND_PG ?
				"SELECT haproxy_pid, received, unparseable, events, haproxy_requests, haproxy_dropped, updated_ms"
				" FROM log_accounting WHERE service = ?1 AND env = ?2"
				" ORDER BY created_ms DESC, haproxy_start DESC, haproxy_pid DESC LIMIT 1" :
				"SELECT haproxy_pid, received, unparseable, events, haproxy_requests, haproxy_dropped, updated_ms"
				" FROM log_accounting WHERE service = ?1 AND env = ?2 ORDER BY created_ms DESC, rowid DESC LIMIT 1",
				err)) < 0)
		goto out;
	sql_bind_text(a, 1, service);
	sql_bind_text(a, 2, env);
	if (sql_step(a, NULL) == SQL_ROW) {
		acc->haproxy_pid = (pid_t)sql_column_int64(a, 0);
		acc->received = (uint64_t)sql_column_int64(a, 1);
		acc->haproxy_requests = (uint64_t)sql_column_int64(a, 4);
		acc->haproxy_dropped = (uint64_t)sql_column_int64(a, 5);
		acc->updated_ms = sql_column_int64(a, 6);
		if (acc->updated_ms && acc->haproxy_requests > acc->received)
			acc->lost = (int64_t)(acc->haproxy_requests - acc->received);
	}
	if ((rc = sql_prepare(st, &u, "SELECT sum(unparseable), sum(events) FROM log_accounting WHERE service = '*'",
				err)) < 0)
		goto out;
	if (sql_step(u, NULL) == SQL_ROW) {
		acc->unparseable = (uint64_t)sql_column_int64(u, 0);
		acc->events = (uint64_t)sql_column_int64(u, 1);
	}
	rc = 0;
out:
	free(h);
	if (rc < 0) {
		free(*revs);
		*revs = NULL;
		*nrevs = 0;
	}
	return rc;
}
