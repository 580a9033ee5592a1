/*
 * router_haproxy.c - HAProxy as slipway's router; see router_haproxy.h.
 *
 * The store is the truth, HAProxy the effect: every change is written to
 * the store and to haproxy.cfg (generated from the store) first, then made
 * at runtime through the admin socket.  So a HAProxy that is restarted or
 * reloaded comes up with the weights, servers and mode slipway last set,
 * and a slipway that is killed mid-change redoes the change on restart.
 */
#include "adapters/router_haproxy.h"
#include "adapters/local_store.h"
#include "adapters/proc.h"
#include "adapters/sql.h"
#include "adapters/store.h"
#include "adapters/target_local.h"
#include "base/alloc.h"
#include "base/err.h"
#include "base/strbuf.h"
#include "core/share.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <openssl/evp.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

const char *haproxy_program(void)
{
	const char *p = getenv("SLIPWAY_HAPROXY");
	if (p && *p)
		return p;
	if (access("/usr/sbin/haproxy", X_OK) == 0)
		return "/usr/sbin/haproxy";
	return "haproxy";
}

int haproxy_cli(const char *sock_path, const char *cmd, struct strbuf *reply, struct strbuf *err)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd, r = 0;
	size_t len = strlen(cmd), off = 0;
	int64_t until = proc_mono_ms() + 5000;

	if (strlen(sock_path) >= sizeof(a.sun_path)) {
		strbuf_errf(err, "socket path '%s' is too long", sock_path);
		return -ENAMETOOLONG;
	}
	memcpy(a.sun_path, sock_path, strlen(sock_path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		r = -errno;
		strbuf_errf(err, "socket: %s", strerror(errno));
		return r;
	}
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		r = -errno;
		strbuf_errf(err, "cannot connect to HAProxy's admin socket '%s': %s", sock_path, strerror(errno));
		close(fd);
		return r;
	}
	while (off < len + 1) {
		ssize_t w = off < len ? send(fd, cmd + off, len - off, MSG_NOSIGNAL) : send(fd, "\n", 1, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			strbuf_errf(err, "writing to '%s': %s", sock_path, strerror(errno));
			goto out;
		}
		off += (size_t)w;
	}
	for (;;) {
		char buf[8192];
		struct pollfd p = { fd, POLLIN, 0 };
		int64_t left = until - proc_mono_ms();
		ssize_t n;
		if (left <= 0 || poll(&p, 1, (int)left) == 0) {
			strbuf_errf(err, "HAProxy did not answer '%.60s' within 5 s", cmd);
			r = SW_ETIMEOUT;
			goto out;
		}
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			strbuf_errf(err, "reading from '%s': %s", sock_path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		if (reply->len < (64u << 20))
			strbuf_add(reply, buf, (size_t)n);
	}
out:
	close(fd);
	return r;
}

/* Replies of set/enable commands are empty lines; anything else is HAProxy's complaint. */
static int cli_expect(struct router_haproxy *r, const char *cmd, const char *const *ok_texts, struct strbuf *err)
{
	struct strbuf reply = STRBUF_INIT;
	int rc = haproxy_cli(r->sock_path, cmd, &reply, err);
	if (rc < 0)
		goto out;
	for (const char *const *o = ok_texts; o && *o; o++) {
		/* remove each occurrence of an accepted answer */
		char *p;
		size_t ol = strlen(*o);
		while ((p = strstr(reply.buf, *o))) {
			memmove(p, p + ol, reply.len - (size_t)(p - reply.buf) - ol + 1);
			reply.len -= ol;
		}
	}
	for (size_t i = 0; i < reply.len; i++)
		if (reply.buf[i] != '\n' && reply.buf[i] != ' ') {
			strbuf_rtrim(&reply);
			for (size_t j = 0; j < reply.len; j++)
				if (reply.buf[j] == '\n')
					reply.buf[j] = ' ';
			strbuf_errf(err, "HAProxy answered '%s' to '%.80s'", reply.buf + i, cmd);
			rc = SW_EEXTERNAL;
			break;
		}
out:
	strbuf_release(&reply);
	return rc;
}

static char *path_in(const char *dir, const char *name)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_addf(&sb, "%s/%s", dir, name);
	return strbuf_detach(&sb, NULL);
}

/*
 * STATE/routers/s-HASH.sock, HASH the first 16 hex digits of SHA-256 of
 * "SERVICE.ENV": the admin socket of a service whose name makes
 * STATE/routers/SERVICE.ENV/admin.sock longer than a unix socket path may be
 * (108 bytes).  NULL if the digest cannot be computed.
 */
static char *short_sock_path(const char *state_abs, const char *service, const char *env)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	struct strbuf key = STRBUF_INIT, path = STRBUF_INIT;
	int ok;

	strbuf_addf(&key, "%s.%s", service, env);
	ok = EVP_Digest(key.buf, key.len, md, &mdlen, EVP_sha256(), NULL) == 1 && mdlen >= 8;
	strbuf_release(&key);
	if (!ok)
		return NULL;
	strbuf_addf(&path, "%s/routers/s-", state_abs);
	for (int i = 0; i < 8; i++)
		strbuf_addf(&path, "%02x", md[i]);
	strbuf_addstr(&path, ".sock");
	return strbuf_detach(&path, NULL);
}

/* The same name for another socket of the router: ROUTERS/s-HASH + suffix, ROUTERS the parent of rundir. */
static char *short_sock_path_in(const char *rundir, const char *service, const char *env, const char *suffix)
{
	const char *slash = strrchr(rundir, '/');
	struct strbuf state = STRBUF_INIT;
	char *p, *dot;

	if (!slash)
		return NULL;
	/* rundir is STATE/routers/SERVICE.ENV: STATE is two levels up */
	strbuf_add(&state, rundir, (size_t)(slash - rundir));
	slash = strrchr(state.buf, '/');
	if (!slash) {
		strbuf_release(&state);
		return NULL;
	}
	strbuf_setlen(&state, (size_t)(slash - state.buf));
	p = short_sock_path(state.buf, service, env);
	strbuf_release(&state);
	if (!p || !(dot = strrchr(p, '.')))
		return p;
	*dot = 0;
	{
		struct strbuf out = STRBUF_INIT;
		strbuf_addf(&out, "%s%s", p, suffix);
		free(p);
		return strbuf_detach(&out, NULL);
	}
}

int router_haproxy_open(struct router_haproxy *r, struct store *st, const char *state_dir,
			const struct service *svc, const char *env, struct strbuf *err)
{
	const struct service_env *e = service_find_env(svc, env);
	struct strbuf dir = STRBUF_INIT;
	char absbuf[4096];
	int rc;

	memset(r, 0, sizeof(*r));
	if (!e) {
		strbuf_errf(err, "service '%s' has no environment '%s'", svc->name, env);
		return SW_ENOTFOUND;
	}
	if ((rc = local_store_migrate(st, err)) < 0)
		return rc;
	if ((rc = mkdir_p(state_dir, err)) < 0)
		return rc;
	if (!realpath(state_dir, absbuf)) {
		rc = -errno;
		strbuf_errf(err, "cannot resolve '%s': %s", state_dir, strerror(errno));
		return rc;
	}
	r->st = st;
	snprintf(r->service, sizeof(r->service), "%s", svc->name);
	snprintf(r->env, sizeof(r->env), "%s", env);
	snprintf(r->listen_host, sizeof(r->listen_host), "%s", e->listen_host);
	r->listen_port = e->listen_port;
	r->drain_ms = svc->drain_ms;
	snprintf(r->metrics_host, sizeof(r->metrics_host), "%s", e->metrics_host);
	r->metrics_port = e->metrics_port;
	strbuf_addf(&dir, "%s/routers/%s.%s", absbuf, svc->name, env);
	r->rundir = strbuf_detach(&dir, NULL);
	r->cfg_path = path_in(r->rundir, "haproxy.cfg");
	r->map_path = path_in(r->rundir, "flags.map");
	r->log_path = path_in(r->rundir, "haproxy.log");
	r->log_sock = path_in(absbuf, "log.stream");
	if (e->router_socket) {
		r->attached = 1;
		r->sock_path = xstrdup(e->router_socket);
		snprintf(r->backend, sizeof(r->backend), "%s", e->router_backend ? e->router_backend : svc->name);
	} else {
		r->sock_path = path_in(r->rundir, "admin.sock");
		if (strlen(r->sock_path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
			/* a long SERVICE.ENV (names may have 64 bytes each): the socket
			 * moves to a short name derived from them, same directory tree */
			free(r->sock_path);
			r->sock_path = short_sock_path(absbuf, svc->name, env);
		}
		snprintf(r->backend, sizeof(r->backend), "%s.%s", svc->name, env);
	}
	if (!r->sock_path || strlen(r->sock_path) >= sizeof(((struct sockaddr_un *)0)->sun_path) ||
	    strlen(r->log_sock) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		strbuf_errf(err, "state directory '%s' is too deep for unix socket paths (108 bytes); use a shorter --state-dir",
			    absbuf);
		router_haproxy_close(r);
		return SW_ECONFIG;
	}
	return 0;
}

void router_haproxy_close(struct router_haproxy *r)
{
	free(r->rundir);
	free(r->cfg_path);
	free(r->sock_path);
	free(r->map_path);
	free(r->log_sock);
	free(r->log_path);
	r->rundir = r->cfg_path = r->sock_path = r->map_path = r->log_sock = r->log_path = NULL;
}

struct srv {
	char name[80];
	char version[SERVICE_NAME_MAX + 1];
	int idx, port, weight;
	char state[8];
	char addr[64];		/* "127.0.0.1" for local instances */
};

static int load_servers(struct router_haproxy *r, const char *version, struct srv **out, size_t *n,
			struct strbuf *err)
{
	_cleanup_sql_ struct sql_stmt *s = NULL;
	size_t alloc = 0;
	int rc = sql_prepare(r->st, &s,
			       "SELECT name, version, idx, port, weight, state, addr FROM router_servers"
			       " WHERE service = ?1 AND env = ?2 AND (?3 IS NULL OR version = ?3) ORDER BY version, idx",
			       err);
	if (rc < 0)
		return rc;
	sql_bind_text(s, 1, r->service);
	sql_bind_text(s, 2, r->env);
	if (version)
		sql_bind_text(s, 3, version);
	*out = NULL;
	*n = 0;
	while ((rc = sql_step(s, NULL)) == SQL_ROW) {
		struct srv *v;
		ALLOC_GROW(*out, *n + 1, alloc);
		v = &(*out)[(*n)++];
		memset(v, 0, sizeof(*v));
		snprintf(v->name, sizeof(v->name), "%s", sql_column_text(s, 0));
		snprintf(v->version, sizeof(v->version), "%s", sql_column_text(s, 1));
		v->idx = (int)sql_column_int64(s, 2);
		v->port = (int)sql_column_int64(s, 3);
		v->weight = (int)sql_column_int64(s, 4);
		snprintf(v->state, sizeof(v->state), "%s", sql_column_text(s, 5));
		snprintf(v->addr, sizeof(v->addr), "%s", sql_column_text(s, 6));
	}
	if (rc != SQL_DONE) {
		free(*out);
		*out = NULL;
		strbuf_errf(err, "store: %s", sql_errmsg(r->st));
		return SW_ESTORE;
	}
	return 0;
}

static int load_mode(struct router_haproxy *r, enum traffic_mode *m, struct strbuf *msg, struct strbuf *err)
{
	_cleanup_sql_ struct sql_stmt *s = NULL;
	int rc = sql_prepare(r->st, &s, "SELECT mode, message FROM routers WHERE service = ?1 AND env = ?2", err);
	if (rc < 0)
		return rc;
	sql_bind_text(s, 1, r->service);
	sql_bind_text(s, 2, r->env);
	*m = TRAFFIC_NORMAL;
	if (sql_step(s, NULL) == SQL_ROW) {
		traffic_mode_parse(sql_column_text(s, 0), m);
		if (msg && sql_column_text(s, 1))
			strbuf_addstr(msg, sql_column_text(s, 1));
	}
	if (msg && !msg->len)
		strbuf_addstr(msg, HAPROXY_DEFAULT_MESSAGE);
	return 0;
}

static int write_atomic(const char *path, const struct strbuf *data, mode_t mode, struct strbuf *err)
{
	struct strbuf tmp = STRBUF_INIT;
	int fd, rc = 0;
	strbuf_addf(&tmp, "%s.tmp", path);
	fd = open(tmp.buf, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0 || write(fd, data->buf, data->len) != (ssize_t)data->len || fsync(fd) < 0) {
		rc = -errno;
		strbuf_errf(err, "cannot write '%s': %s", tmp.buf, strerror(errno));
		if (fd >= 0)
			close(fd);
		goto out;
	}
	close(fd);
	if (rename(tmp.buf, path) < 0) {
		rc = -errno;
		strbuf_errf(err, "cannot rename '%s': %s", tmp.buf, strerror(errno));
	}
out:
	strbuf_release(&tmp);
	return rc;
}

/* HAProxy needs about two descriptors per connection and refuses to start
 * when it cannot raise its limit that far: fit maxconn to the hard limit */
static int haproxy_maxconn(void)
{
	struct rlimit rl;
	long m = 4096;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_max != RLIM_INFINITY)
		m = ((long)rl.rlim_max - 200) / 2;
	if (m > 10000)
		m = 10000;
	if (m < 100)
		m = 100;
	return (int)m;
}

/* size of the log ring: $SLIPWAY_LOG_RING_BYTES (tests use a small one, at least 16 KiB, to
 * provoke loss), else 16 MiB, about 250,000 request lines */
static long ring_bytes(void)
{
	const char *e = getenv("SLIPWAY_LOG_RING_BYTES");
	char *end;
	long v;
	if (e && *e) {
		errno = 0;
		v = strtol(e, &end, 10);
		if (!errno && !*end && v >= 16384 && v <= (1L << 30))
			return v;
	}
	return 16L << 20;
}

/* flags.map and haproxy.cfg from the store: the mirror a reload reads
 * (the text: core/haproxy_cfg.h) */
static int write_files(struct router_haproxy *r, struct strbuf *err)
{
	struct strbuf cfg = STRBUF_INIT, map = STRBUF_INIT, msg = STRBUF_INIT, lua_path = STRBUF_INIT, relay = STRBUF_INIT;
	struct srv *srv = NULL;
	struct haproxy_cfg_server *hs = NULL;
	struct haproxy_cfg c = { 0 };
	size_t n = 0;
	int rc;

	if (r->attached)
		return 0;
	if ((rc = mkdir_p(r->rundir, err)) < 0)
		return rc;
	if ((rc = load_mode(r, &c.mode, &msg, err)) < 0 || (rc = load_servers(r, NULL, &srv, &n, err)) < 0)
		goto out;
	hs = xcalloc(n ? n : 1, sizeof(*hs));
	for (size_t i = 0; i < n; i++) {
		hs[i].name = srv[i].name;
		hs[i].port = srv[i].port;
		hs[i].addr = srv[i].addr;
		hs[i].weight = srv[i].weight;
		hs[i].state = srv[i].state;
	}
	c.backend = r->backend;
	c.listen_host = r->listen_host;
	c.listen_port = r->listen_port;
	c.sock_path = r->sock_path;
	c.map_path = r->map_path;
	c.log_sock = r->log_sock;
	c.relay_dir = r->rundir;
	strbuf_addf(&relay, "%s/logs.sock", r->rundir);
	if (relay.len > 97) {
		/* HAProxy refuses a unix@ bind path longer than 97 bytes (a 64-byte service
		 * name does it): the relay's socket moves beside the short admin socket */
		char *sp = short_sock_path_in(r->rundir, r->service, r->env, ".relay.sock");
		strbuf_reset(&relay);
		strbuf_addstr(&relay, sp ? sp : "");
		free(sp);
		c.relay_sock = relay.buf;
	}
	c.maxconn = haproxy_maxconn();
	c.ring_bytes = ring_bytes();
	c.message = msg.buf;
	c.servers = hs;
	c.n_servers = n;
	strbuf_addf(&lua_path, "%s/wait-receiver.lua", r->rundir);
	haproxy_flags_render(&c, &map);
	if ((rc = write_atomic(r->map_path, &map, 0600, err)) < 0)
		goto out;
	strbuf_reset(&map);
	haproxy_relay_lua_render(&c, &map);
	if ((rc = write_atomic(lua_path.buf, &map, 0600, err)) < 0)
		goto out;
	/* every instance, for a Prometheus's file_sd (docs/prometheus.md) */
	c.service = r->service;
	c.env = r->env;
	strbuf_reset(&map);
	haproxy_targets_render(&c, &map);
	strbuf_reset(&lua_path);
	strbuf_addf(&lua_path, "%s/targets.json", r->rundir);
	if ((rc = write_atomic(lua_path.buf, &map, 0644, err)) < 0)
		goto out;
	c.metrics_host = r->metrics_host;
	c.metrics_port = r->metrics_port;
	haproxy_cfg_render(&c, &cfg);
	rc = write_atomic(r->cfg_path, &cfg, 0600, err);
out:
	free(hs);
	free(srv);
	strbuf_release(&cfg);
	strbuf_release(&map);
	strbuf_release(&msg);
	strbuf_release(&lua_path);
	strbuf_release(&relay);
	return rc;
}

static int load_router(struct router_haproxy *r, pid_t *pid, uint64_t *start)
{
	_cleanup_sql_ struct sql_stmt *s = NULL;
	*pid = 0;
	*start = 0;
	if (sql_prepare(r->st, &s, "SELECT pid, start_time FROM routers WHERE service = ?1 AND env = ?2", NULL) < 0)
		return -1;
	sql_bind_text(s, 1, r->service);
	sql_bind_text(s, 2, r->env);
	if (sql_step(s, NULL) != SQL_ROW)
		return 0;
	*pid = (pid_t)sql_column_int64(s, 0);
	*start = (uint64_t)sql_column_int64(s, 1);
	return 1;
}

static int save_router(struct router_haproxy *r, pid_t pid, uint64_t start, struct strbuf *err)
{
	_cleanup_sql_ struct sql_stmt *s = NULL;
	int rc = sql_prepare(r->st, &s,
			       "INSERT INTO routers (service, env, pid, start_time, cfg_path, socket_path, started_ms)"
			       " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (service, env) DO UPDATE SET"
			       " pid = ?3, start_time = ?4, cfg_path = ?5, socket_path = ?6, started_ms = ?7", err);
	if (rc < 0)
		return rc;
	sql_bind_text(s, 1, r->service);
	sql_bind_text(s, 2, r->env);
	sql_bind_int64(s, 3, pid);
	sql_bind_int64(s, 4, (int64_t)start);
	sql_bind_text(s, 5, r->attached ? NULL : r->cfg_path);
	sql_bind_text(s, 6, r->sock_path);
	sql_bind_int64(s, 7, proc_now_ms());
	if (sql_step(s, NULL) != SQL_DONE) {
		strbuf_errf(err, "store: %s", sql_errmsg(r->st));
		return SW_ESTORE;
	}
	return 0;
}

pid_t router_haproxy_pid(struct router_haproxy *r)
{
	pid_t pid;
	uint64_t st;
	if (r->attached || load_router(r, &pid, &st) <= 0 || !proc_same(pid, st))
		return 0;
	return pid;
}

static int socket_answers(struct router_haproxy *r)
{
	struct strbuf reply = STRBUF_INIT;
	int ok = haproxy_cli(r->sock_path, "show info", &reply, NULL) == 0 && strstr(reply.buf, "Pid:");
	strbuf_release(&reply);
	return ok;
}

int router_haproxy_up(struct router_haproxy *r, int *started, struct strbuf *err)
{
	pid_t pid;
	uint64_t st;
	int rc;
	int64_t until;
	char *argv[5];

	*started = 0;
	if (r->attached) {
		if (!socket_answers(r)) {
			strbuf_errf(err, "the HAProxy at '%s' does not answer on its admin socket", r->sock_path);
			return SW_EEXTERNAL;
		}
		return save_router(r, 0, 0, err);
	}
	proc_reap();
	if (load_router(r, &pid, &st) > 0 && proc_same(pid, st) && socket_answers(r))
		return 0;	/* adopted */
	if ((rc = write_files(r, err)) < 0)
		return rc;
	argv[0] = (char *)haproxy_program();
	argv[1] = "-f";
	argv[2] = r->cfg_path;
	argv[3] = NULL;
	if ((rc = proc_spawn(argv, NULL, r->rundir, r->log_path, &pid, &st, err)) < 0)
		return rc;
	if ((rc = save_router(r, pid, st, err)) < 0)
		return rc;
	until = proc_mono_ms() + 5000;
	while (!socket_answers(r)) {
		proc_reap();
		if (!proc_same(pid, st) || proc_mono_ms() > until) {
			struct strbuf log = STRBUF_INIT;
			strbuf_read_file_max(&log, r->log_path, 1 << 20, NULL);
			strbuf_rtrim(&log);
			strbuf_errf(err, "HAProxy did not start (configuration '%s'); its log ends: %s", r->cfg_path,
				    log.len > 600 ? log.buf + log.len - 600 : log.buf);
			strbuf_release(&log);
			if (proc_same(pid, st)) {
				int killed;
				proc_stop(pid, st, 1000, &killed, NULL);
			}
			return SW_EEXTERNAL;
		}
		proc_sleep_ms(10);
	}
	*started = 1;
	return 0;
}

int router_haproxy_down(struct router_haproxy *r, struct strbuf *err)
{
	pid_t pid;
	uint64_t st;
	int rc = 0, killed;
	_cleanup_sql_ struct sql_stmt *s = NULL;
	if (r->attached)
		return 0;
	if (load_router(r, &pid, &st) > 0 && pid > 0)
		rc = proc_stop(pid, st, 5000, &killed, err);
	if (rc < 0)
		return rc;
	if ((rc = sql_prepare(r->st, &s, "DELETE FROM router_servers WHERE service = ?1 AND env = ?2", err)) < 0)
		return rc;
	sql_bind_text(s, 1, r->service);
	sql_bind_text(s, 2, r->env);
	sql_step(s, NULL);
	unlink(r->sock_path);
	return save_router(r, 0, 0, err);
}

/* 1 when pid's command line has the argument arg (here: our haproxy.cfg) */
static int cmdline_has(pid_t pid, const char *arg)
{
	char path[64];
	struct strbuf sb = STRBUF_INIT;
	int found = 0;
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	if (strbuf_read_file_max(&sb, path, 1 << 16, NULL) >= 0)
		for (size_t i = 0; i < sb.len; i += strlen(sb.buf + i) + 1)
			if (!strcmp(sb.buf + i, arg))
				found = 1;
	strbuf_release(&sb);
	return found;
}

int router_haproxy_sweep(struct router_haproxy *r, struct strbuf *done, struct strbuf *err)
{
	struct strbuf reply = STRBUF_INIT;
	const char *p;
	long pid = 0;
	uint64_t st;
	int rc = 0, killed;
	if (r->attached)
		return 0;
	if (haproxy_cli(r->sock_path, "show info", &reply, NULL) == 0 && (p = strstr(reply.buf, "\nPid: ")))
		pid = strtol(p + 6, NULL, 10);
	strbuf_release(&reply);
	if (pid <= 0) {
		unlink(r->sock_path);	/* nothing answers: a socket left behind */
		return 0;
	}
	if (!cmdline_has((pid_t)pid, r->cfg_path) || proc_start_time((pid_t)pid, &st) < 0) {
		strbuf_errf(err, "an HAProxy (pid %ld) answers on '%s' but does not run '%s': not stopped; stop it "
			    "yourself if it is a leftover", pid, r->sock_path, r->cfg_path);
		return SW_ESTATE;
	}
	if ((rc = proc_stop((pid_t)pid, st, 5000, &killed, err)) < 0)
		return rc;
	strbuf_addf(done, "%sHAProxy (pid %ld)", done->len ? ", " : "", pid);
	unlink(r->sock_path);
	return 1;
}

static int put_server(struct router_haproxy *r, const struct srv *v, struct strbuf *err)
{
	_cleanup_sql_ struct sql_stmt *s = NULL;
	int rc = sql_prepare(r->st, &s,
			       "INSERT INTO router_servers (service, env, name, version, idx, port, weight, state, addr)"
			       " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT (service, env, name) DO UPDATE SET"
			       " port = ?6, weight = ?7, state = ?8, addr = ?9", err);
	if (rc < 0)
		return rc;
	sql_bind_text(s, 1, r->service);
	sql_bind_text(s, 2, r->env);
	sql_bind_text(s, 3, v->name);
	sql_bind_text(s, 4, v->version);
	sql_bind_int64(s, 5, v->idx);
	sql_bind_int64(s, 6, v->port);
	sql_bind_int64(s, 7, v->weight);
	sql_bind_text(s, 8, v->state);
	sql_bind_text(s, 9, v->addr[0] ? v->addr : "127.0.0.1");
	if (sql_step(s, NULL) != SQL_DONE) {
		strbuf_errf(err, "store: %s", sql_errmsg(r->st));
		return SW_ESTORE;
	}
	return 0;
}

/* the server's state as HAProxy has it now: "" when it has no such server */
static int runtime_servers(struct router_haproxy *r, struct haproxy_server_stat **st, size_t *n, struct strbuf *err)
{
	return router_haproxy_stats(r, st, n, err);
}

/* Point the runtime server `name` at addr:port (idempotent; HAProxy 2.6 "set server ... addr"). */
static int sync_server_addr(struct router_haproxy *r, const char *name, const char *addr, int port,
			    struct strbuf *err)
{
	struct strbuf cmd = STRBUF_INIT, reply = STRBUF_INIT;
	int rc;
	strbuf_addf(&cmd, "set server %s/%s addr %s port %d", r->backend, name, addr && *addr ? addr : "127.0.0.1",
		    port);
	rc = haproxy_cli(r->sock_path, cmd.buf, &reply, err);
	/* it answers "no need to change the addr, port changed from 'A' to 'B' by ..." */
	if (rc >= 0 && !strstr(reply.buf, "no need to change the port") && !strstr(reply.buf, "port changed") &&
	    !strstr(reply.buf, "IP changed")) {
		strbuf_rtrim(&reply);
		strbuf_errf(err, "HAProxy answered '%s' to '%s'", reply.buf, cmd.buf);
		rc = SW_EEXTERNAL;
	}
	strbuf_release(&cmd);
	strbuf_release(&reply);
	return rc;
}

struct rt_server;
static int runtime_state(struct router_haproxy *r, struct rt_server **out, size_t *n, struct strbuf *err);
static int rt_port(const struct rt_server *rt, size_t nrt, const char *name);

/* After an add: HAProxy has each server at its instance's port (`show servers state`), or says why not. */
static int verify_added(struct router_haproxy *r, const struct instance *in, size_t n, struct strbuf *err)
{
	struct rt_server *rt = NULL;
	size_t nrt = 0;
	int rc = runtime_state(r, &rt, &nrt, err);
	for (size_t i = 0; rc >= 0 && i < n; i++) {
		char name[80];
		int port;
		snprintf(name, sizeof(name), "%s-%d", in[i].version, in[i].idx);
		port = rt_port(rt, nrt, name);
		if (port != in[i].port) {
			strbuf_errf(err, "HAProxy's server %s/%s is at port %d after it was added, not at its instance's %d",
				    r->backend, name, port, in[i].port);
			rc = SW_EEXTERNAL;
		}
	}
	free(rt);
	return rc < 0 ? rc : 0;
}

int router_haproxy_add(struct router_haproxy *r, const struct instance *in, size_t n, struct strbuf *err)
{
	struct haproxy_server_stat *cur = NULL;
	size_t ncur = 0;
	struct strbuf cmd = STRBUF_INIT;
	int rc;
	static const char *const ok[] = { "New server registered.", NULL };

	if (r->attached) {
		strbuf_errf(err, "slipway attaches to the HAProxy at '%s' and cannot add servers to it; add them there",
			    r->sock_path);
		return SW_ESTATE;
	}
	if ((rc = runtime_servers(r, &cur, &ncur, err)) < 0)
		return rc;
	if ((rc = store_begin(r->st, err)) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		struct srv v = { 0 };
		snprintf(v.name, sizeof(v.name), "%s-%d", in[i].version, in[i].idx);
		snprintf(v.version, sizeof(v.version), "%s", in[i].version);
		v.idx = in[i].idx;
		v.port = in[i].port;
		snprintf(v.addr, sizeof(v.addr), "%s", in[i].addr[0] ? in[i].addr : "127.0.0.1");
		v.weight = 0;
		snprintf(v.state, sizeof(v.state), "ready");
		{
			struct srv *have = NULL;
			size_t nh = 0;
			/* a server slipway recorded keeps its weight when re-added (adoption) */
			if (load_servers(r, in[i].version, &have, &nh, NULL) == 0)
				for (size_t j = 0; j < nh; j++)
					if (!strcmp(have[j].name, v.name) && have[j].port == v.port &&
					    !strcmp(have[j].addr, v.addr))
						v.weight = have[j].weight;
			free(have);
		}
		if ((rc = put_server(r, &v, err)) < 0) {
			store_rollback(r->st);
			goto out;
		}
	}
	if ((rc = store_commit(r->st, err)) < 0 || (rc = write_files(r, err)) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		char name[80];
		int present = 0;
		snprintf(name, sizeof(name), "%s-%d", in[i].version, in[i].idx);
		for (size_t j = 0; j < ncur; j++)
			if (!strcmp(cur[j].name, name))
				present = 1;
		if (present) {
			/* a server of that name may point at a dead instance's old port: always the live one */
			if ((rc = sync_server_addr(r, name, in[i].addr, in[i].port, err)) < 0)
				goto out;
			continue;
		}
		strbuf_reset(&cmd);
		/* 2.6: a dynamic server starts in maintenance, inherits nothing from default-server */
		strbuf_addf(&cmd, "add server %s/%s %s:%d weight 0%s", r->backend, name,
			    in[i].addr[0] ? in[i].addr : "127.0.0.1", in[i].port,
			    haproxy_server_checked(in[i].addr) ? " " HAPROXY_FLEET_CHECK : "");
		if ((rc = cli_expect(r, cmd.buf, ok, err)) < 0)
			goto out;
		strbuf_reset(&cmd);
		/* a dynamic server's checks start disabled (management guide: "enable health") */
		if (haproxy_server_checked(in[i].addr))
			strbuf_addf(&cmd, "enable health %s/%s;", r->backend, name);
		strbuf_addf(&cmd, "set server %s/%s state ready", r->backend, name);
		if ((rc = cli_expect(r, cmd.buf, NULL, err)) < 0)
			goto out;
	}
	rc = verify_added(r, in, n, err);
out:
	free(cur);
	strbuf_release(&cmd);
	return rc;
}

int router_haproxy_set_weights(struct router_haproxy *r, const struct revision_weight *w, size_t n,
			       struct strbuf *err)
{
	return router_haproxy_set_shares(r, w, n, 0, err);
}

int router_haproxy_set_shares(struct router_haproxy *r, const struct revision_weight *w, size_t n, int round,
			      struct strbuf *err)
{
	struct share_want *sw = NULL;
	struct share_got *sg = NULL;
	size_t nv = 0;
	struct srv *srv = NULL;
	size_t ns = 0;
	struct strbuf cmd = STRBUF_INIT;
	int rc;

	if ((rc = load_servers(r, NULL, &srv, &ns, err)) < 0)
		return rc;
	for (size_t k = 0; k < n; k++) {
		int have = 0;
		for (size_t i = 0; i < ns; i++)
			if (!strcmp(srv[i].version, w[k].version) && strcmp(srv[i].state, "maint"))
				have = 1;
		if (!have) {
			strbuf_errf(err, "revision '%s' of '%s' has no server in the router", w[k].version, r->backend);
			rc = SW_ENOTFOUND;
			goto out;
		}
		if (!(w[k].weight >= 0 && w[k].weight <= 100)) {
			strbuf_errf(err, "weight of '%s' must be 0 to 100 percent", w[k].version);
			rc = SW_EUSAGE;
			goto out;
		}
	}
	/* each revision with servers: its requested share and server count, then the whole
	 * weights HAProxy can carry it with (core/share.h: refused when they miss it) */
	sw = xcalloc(ns ? ns : 1, sizeof(*sw));
	sg = xcalloc(ns ? ns : 1, sizeof(*sg));
	for (size_t i = 0; i < ns; i++) {
		size_t v;
		if (!strcmp(srv[i].state, "maint"))
			continue;
		for (v = 0; v < nv; v++)
			if (!strcmp(sw[v].name, srv[i].version))
				break;
		if (v == nv) {
			sw[nv].name = srv[i].version;
			for (size_t k = 0; k < n; k++)
				if (!strcmp(srv[i].version, w[k].version))
					sw[nv].pct = w[k].weight;
			nv++;
		}
		sw[v].servers++;
	}
	if ((rc = share_fit(sw, nv, round, sg, err)) < 0)
		goto out;
	if ((rc = store_begin(r->st, err)) < 0)
		goto out;
	for (size_t i = 0; i < ns; i++) {
		double pct = 0;
		int hw = 0;
		if (!strcmp(srv[i].state, "maint"))
			continue;
		for (size_t v = 0; v < nv; v++)
			if (!strcmp(sw[v].name, srv[i].version)) {
				pct = sw[v].pct;
				hw = sg[v].server_weight;
			}
		srv[i].weight = hw;
		if (!strcmp(srv[i].state, "drain") && pct > 0)
			snprintf(srv[i].state, sizeof(srv[i].state), "ready");
		if ((rc = put_server(r, &srv[i], err)) < 0) {
			store_rollback(r->st);
			goto out;
		}
		strbuf_addf(&cmd, "%sset server %s/%s weight %d", cmd.len ? ";" : "", r->backend, srv[i].name, hw);
		if (!strcmp(srv[i].state, "ready"))
			strbuf_addf(&cmd, ";set server %s/%s state ready", r->backend, srv[i].name);
	}
	if ((rc = store_commit(r->st, err)) < 0 || (rc = write_files(r, err)) < 0)
		goto out;
	/* one round trip: every new request after this line sees the new weights */
	if (cmd.len)
		rc = cli_expect(r, cmd.buf, NULL, err);
out:
	free(srv);
	free(sw);
	free(sg);
	strbuf_release(&cmd);
	return rc;
}

static int addr_in(const char *addr, const char *const *addrs, size_t naddr)
{
	for (size_t i = 0; i < naddr; i++)
		if (!strcmp(addr, addrs[i]))
			return 1;
	return 0;
}

static int whole_weight(double w, int above_zero)
{
	int v = (int)(w + 0.5);
	if (above_zero && v < 1)
		v = 1;
	return v > SHARE_MAX_WEIGHT ? SHARE_MAX_WEIGHT : v < 0 ? 0 : v;
}

int router_haproxy_set_group_weight(struct router_haproxy *r, const char *const *addrs, size_t naddr,
				    const char *group, const char *stable, const char *canary, double canary_pct,
				    struct strbuf *err)
{
	struct srv *srv = NULL;
	size_t ns = 0;
	int n_stable = 0, n_canary = 0, g_stable = 0, g_canary = 0, rc;
	double base, units;
	struct strbuf cmd = STRBUF_INIT;

	if (!(canary_pct >= 0 && canary_pct <= 100)) {
		strbuf_errf(err, "weight of '%s' in region group '%s' must be 0 to 100 percent", canary, group);
		return SW_EUSAGE;
	}
	if ((rc = load_servers(r, NULL, &srv, &ns, err)) < 0)
		return rc;
	for (size_t i = 0; i < ns; i++) {
		int in = addr_in(srv[i].addr, addrs, naddr);
		if (!strcmp(srv[i].state, "maint"))
			continue;
		if (stable && *stable && !strcmp(srv[i].version, stable)) {
			n_stable++;
			g_stable += in;
		} else if (!strcmp(srv[i].version, canary)) {
			n_canary++;
			g_canary += in;
		}
	}
	if (canary_pct > 0 && !g_canary) {
		strbuf_errf(err, "revision '%s' of '%s' has no server in region group '%s'", canary, r->backend, group);
		rc = SW_ENOTFOUND;
		goto out;
	}
	/* the weight each stable server has at 100% (share_plan's conventional one) */
	base = n_stable ? 200.0 / n_stable : n_canary ? 200.0 / n_canary : 0;
	base = whole_weight(base, 1);
	units = base * (g_stable ? g_stable : g_canary);
	if ((rc = store_begin(r->st, err)) < 0)
		goto out;
	for (size_t i = 0; i < ns; i++) {
		double w = 0;
		if (!strcmp(srv[i].state, "maint") || !addr_in(srv[i].addr, addrs, naddr))
			continue;
		if (!strcmp(srv[i].version, canary))
			srv[i].weight = whole_weight(units * canary_pct / 100 / g_canary, canary_pct > 0);
		else if (stable && *stable && !strcmp(srv[i].version, stable))
			srv[i].weight = (w = units * (100 - canary_pct) / 100 / g_stable) > 0 ? whole_weight(w, 1) : 0;
		else
			srv[i].weight = 0;
		if (!strcmp(srv[i].state, "drain") && srv[i].weight > 0)
			snprintf(srv[i].state, sizeof(srv[i].state), "ready");
		if ((rc = put_server(r, &srv[i], err)) < 0) {
			store_rollback(r->st);
			goto out;
		}
		strbuf_addf(&cmd, "%sset server %s/%s weight %d", cmd.len ? ";" : "", r->backend, srv[i].name,
			    srv[i].weight);
		if (!strcmp(srv[i].state, "ready"))
			strbuf_addf(&cmd, ";set server %s/%s state ready", r->backend, srv[i].name);
	}
	if ((rc = store_commit(r->st, err)) < 0 || (rc = write_files(r, err)) < 0)
		goto out;
	if (cmd.len)
		rc = cli_expect(r, cmd.buf, NULL, err);
out:
	free(srv);
	strbuf_release(&cmd);
	return rc;
}

int router_haproxy_check_split(const char *stable, const char *canary, double canary_pct, int k_stable,
			       int k_canary, struct strbuf *err)
{
	struct share_want sw[2] = { { stable, 100 - canary_pct, k_stable > 0 ? k_stable : 1 },
				    { canary, canary_pct, k_canary > 0 ? k_canary : 1 } };
	struct share_got sg[2];
	return share_fit(sw, 2, 0, sg, err);
}

int router_haproxy_get_weights(struct router_haproxy *r, struct revision_weight **out, size_t *n,
			       struct strbuf *err)
{
	struct srv *srv = NULL;
	size_t ns = 0, alloc = 0;
	long total = 0;
	int rc = load_servers(r, NULL, &srv, &ns, err);
	if (rc < 0)
		return rc;
	*out = NULL;
	*n = 0;
	for (size_t i = 0; i < ns; i++)
		if (!strcmp(srv[i].state, "ready"))
			total += srv[i].weight;
	for (size_t i = 0; i < ns; i++) {
		size_t k;
		for (k = 0; k < *n; k++)
			if (!strcmp((*out)[k].version, srv[i].version))
				break;
		if (k == *n) {
			ALLOC_GROW(*out, *n + 1, alloc);
			memset(&(*out)[k], 0, sizeof((*out)[k]));
			snprintf((*out)[k].version, sizeof((*out)[k].version), "%s", srv[i].version);
			(*n)++;
		}
		if (total > 0 && !strcmp(srv[i].state, "ready"))
			(*out)[k].weight += 100.0 * srv[i].weight / (double)total;
	}
	free(srv);
	return 0;
}

static int set_state_all(struct router_haproxy *r, const char *version, const char *state, struct srv **srvp,
			 size_t *nsp, struct strbuf *err)
{
	struct strbuf cmd = STRBUF_INIT;
	int rc;
	if ((rc = load_servers(r, version, srvp, nsp, err)) < 0)
		return rc;
	if ((rc = store_begin(r->st, err)) < 0)
		goto out;
	for (size_t i = 0; i < *nsp; i++) {
		snprintf((*srvp)[i].state, sizeof((*srvp)[i].state), "%s", state);
		if ((rc = put_server(r, &(*srvp)[i], err)) < 0) {
			store_rollback(r->st);
			goto out;
		}
		strbuf_addf(&cmd, "%sset server %s/%s state %s", cmd.len ? ";" : "", r->backend, (*srvp)[i].name, state);
	}
	if ((rc = store_commit(r->st, err)) < 0 || (rc = write_files(r, err)) < 0)
		goto out;
	if (cmd.len)
		rc = cli_expect(r, cmd.buf, NULL, err);
out:
	strbuf_release(&cmd);
	return rc;
}

int router_haproxy_drain(struct router_haproxy *r, const char *version, struct strbuf *err)
{
	struct srv *srv = NULL;
	size_t ns = 0;
	int64_t until = proc_mono_ms() + r->drain_ms;
	int rc = set_state_all(r, version, "drain", &srv, &ns, err);
	if (rc < 0)
		goto out;
	for (;;) {
		struct haproxy_server_stat *st = NULL;
		size_t n = 0;
		long long busy = 0;
		if (router_haproxy_stats(r, &st, &n, NULL) == 0)
			for (size_t i = 0; i < n; i++)
				for (size_t j = 0; j < ns; j++)
					if (!strcmp(st[i].name, srv[j].name))
						busy += st[i].scur;
		free(st);
		if (!busy || proc_mono_ms() >= until)
			break;
		proc_sleep_ms(20);
	}
out:
	free(srv);
	return rc;
}

static int del_rows(struct router_haproxy *r, const char *version, struct strbuf *err)
{
	_cleanup_sql_ struct sql_stmt *s = NULL;
	int rc = sql_prepare(r->st, &s, "DELETE FROM router_servers WHERE service = ?1 AND env = ?2 AND version = ?3",
			       err);
	if (rc < 0)
		return rc;
	sql_bind_text(s, 1, r->service);
	sql_bind_text(s, 2, r->env);
	sql_bind_text(s, 3, version);
	if (sql_step(s, NULL) != SQL_DONE) {
		strbuf_errf(err, "store: %s", sql_errmsg(r->st));
		return SW_ESTORE;
	}
	return 0;
}

/*
 * A server with health checks on a host that does not answer always has a
 * check's connection attempt attached, and `del server` refuses a server
 * with connections ("Server still has connections attached to it"): its
 * checks are stopped and its sessions shut first (management guide:
 * "disable health", "shutdown sessions server").  Answers are not checked:
 * the `del server` that follows says what matters.
 */
static void quiet_server(struct router_haproxy *r, const char *name, int sessions)
{
	struct strbuf cmd = STRBUF_INIT, reply = STRBUF_INIT;
	strbuf_addf(&cmd, "disable health %s/%s", r->backend, name);
	if (sessions)
		strbuf_addf(&cmd, ";shutdown sessions server %s/%s", r->backend, name);
	haproxy_cli(r->sock_path, cmd.buf, &reply, NULL);
	strbuf_release(&cmd);
	strbuf_release(&reply);
}

int router_haproxy_remove(struct router_haproxy *r, const char *version, struct strbuf *err)
{
	struct srv *srv = NULL;
	size_t ns = 0;
	struct strbuf cmd = STRBUF_INIT, reply = STRBUF_INIT;
	int rc;

	if (r->attached)
		return 0;
	if ((rc = set_state_all(r, version, "maint", &srv, &ns, err)) < 0)
		goto out;
	for (size_t i = 0; i < ns; i++) {
		int64_t until = proc_mono_ms() + 3000;
		if (haproxy_server_checked(srv[i].addr))
			quiet_server(r, srv[i].name, 1);
		for (;;) {
			strbuf_reset(&cmd);
			strbuf_reset(&reply);
			strbuf_addf(&cmd, "del server %s/%s", r->backend, srv[i].name);
			if ((rc = haproxy_cli(r->sock_path, cmd.buf, &reply, err)) < 0)
				goto out;
			/* `del server` answers without the blank line the other commands end with */
			if (strstr(reply.buf, "Server deleted") || strstr(reply.buf, "No such server"))
				break;
			if (!strstr(reply.buf, "connections attached") || proc_mono_ms() > until) {
				strbuf_rtrim(&reply);
				strbuf_errf(err, "HAProxy answered '%s' to '%s'", reply.buf, cmd.buf);
				rc = SW_EEXTERNAL;
				goto out;
			}
			proc_sleep_ms(50);
		}
	}
	if ((rc = del_rows(r, version, err)) < 0)
		goto out;
	rc = write_files(r, err);
out:
	free(srv);
	strbuf_release(&cmd);
	strbuf_release(&reply);
	return rc;
}

static void cli_escape(struct strbuf *out, const char *s)
{
	for (; *s; s++) {
		if (*s == ' ' || *s == ';' || *s == '\\')
			strbuf_addch(out, '\\');
		strbuf_addch(out, *s);
	}
}

int router_haproxy_set_mode(struct router_haproxy *r, enum traffic_mode m, const char *message, struct strbuf *err)
{
	struct strbuf cmd = STRBUF_INIT, msg = STRBUF_INIT;
	_cleanup_sql_ struct sql_stmt *s = NULL;
	enum traffic_mode old;
	int rc;

	if (message) {
		size_t len = strlen(message);
		if (!len || len > 400) {
			strbuf_errf(err, "the message must be 1 to 400 characters");
			return SW_EUSAGE;
		}
		for (size_t i = 0; i < len; i++)
			if ((unsigned char)message[i] < 0x20 || (unsigned char)message[i] > 0x7e) {
				strbuf_errf(err, "the message must be printable ASCII on one line");
				return SW_EUSAGE;
			}
		if (message[0] == ' ' || message[len - 1] == ' ') {
			strbuf_errf(err, "the message must not start or end with a space");
			return SW_EUSAGE;
		}
		strbuf_addstr(&msg, message);
	} else if ((rc = load_mode(r, &old, &msg, err)) < 0) {
		goto out;
	}
	{
		_cleanup_sql_ struct sql_stmt *ins = NULL;
		if ((rc = sql_prepare(r->st, &ins, "INSERT INTO routers (service, env, socket_path) VALUES (?1, ?2, ?3)"
					" ON CONFLICT (service, env) DO NOTHING", err)) < 0)
			goto out;
		sql_bind_text(ins, 1, r->service);
		sql_bind_text(ins, 2, r->env);
		sql_bind_text(ins, 3, r->sock_path);
		sql_step(ins, NULL);
	}
	if ((rc = sql_prepare(r->st, &s, "UPDATE routers SET mode = ?3, message = ?4 WHERE service = ?1 AND env = ?2",
				err)) < 0)
		goto out;
	sql_bind_text(s, 1, r->service);
	sql_bind_text(s, 2, r->env);
	sql_bind_text(s, 3, traffic_mode_name(m));
	sql_bind_text(s, 4, msg.buf);
	if (sql_step(s, NULL) != SQL_DONE) {
		strbuf_errf(err, "store: %s", sql_errmsg(r->st));
		rc = SW_ESTORE;
		goto out;
	}
	if ((rc = write_files(r, err)) < 0)
		goto out;
	/* the message first, so maintenance never shows the old text */
	strbuf_addf(&cmd, "set map %s message ", r->map_path);
	cli_escape(&cmd, msg.buf);
	strbuf_addf(&cmd, ";set map %s readonly %s;set map %s maint %s", r->map_path,
		    m == TRAFFIC_READ_ONLY ? "on" : "off", r->map_path, m == TRAFFIC_MAINTENANCE ? "on" : "off");
	rc = cli_expect(r, cmd.buf, NULL, err);
out:
	strbuf_release(&cmd);
	strbuf_release(&msg);
	return rc;
}

int router_haproxy_get_mode(struct router_haproxy *r, enum traffic_mode *m, struct strbuf *message, struct strbuf *err)
{
	return load_mode(r, m, message, err);
}

static int csv_split(char *line, char **f, int max)
{
	int n = 0;
	char *p = line;
	while (n < max) {
		f[n++] = p;
		p = strchr(p, ',');
		if (!p)
			break;
		*p++ = '\0';
	}
	return n;
}

int router_haproxy_stats(struct router_haproxy *r, struct haproxy_server_stat **out, size_t *n, struct strbuf *err)
{
	struct strbuf cmd = STRBUF_INIT, reply = STRBUF_INIT;
	char *line, *save = NULL;
	int rc, c_sv = -1, c_status = -1, c_weight = -1, c_scur = -1, c_req = -1, c_5xx = -1, c_px = -1;
	size_t alloc = 0;

	*out = NULL;
	*n = 0;
	/* all proxies, servers only, filtered by pxname below: naming the proxy
	 * would find the frontend of the same name first */
	strbuf_addstr(&cmd, "show stat -1 4 -1");
	if ((rc = haproxy_cli(r->sock_path, cmd.buf, &reply, err)) < 0)
		goto out;
	for (line = strtok_r(reply.buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *f[128];
		int nf;
		if (line[0] == '#') {
			/* map columns by the header: their positions differ between 2.6 releases */
			nf = csv_split(line + 2, f, 128);
			for (int i = 0; i < nf; i++) {
				if (!strcmp(f[i], "pxname")) c_px = i;
				else if (!strcmp(f[i], "svname")) c_sv = i;
				else if (!strcmp(f[i], "status")) c_status = i;
				else if (!strcmp(f[i], "weight")) c_weight = i;
				else if (!strcmp(f[i], "scur")) c_scur = i;
				else if (!strcmp(f[i], "req_tot")) c_req = i;
				else if (!strcmp(f[i], "hrsp_5xx")) c_5xx = i;
			}
			continue;
		}
		if (c_sv < 0)
			continue;
		nf = csv_split(line, f, 128);
		if (nf <= c_sv || (c_px >= 0 && strcmp(f[c_px], r->backend)) || !strcmp(f[c_sv], "BACKEND"))
			continue;
		ALLOC_GROW(*out, *n + 1, alloc);
		struct haproxy_server_stat *s = &(*out)[(*n)++];
		memset(s, 0, sizeof(*s));
		snprintf(s->name, sizeof(s->name), "%s", f[c_sv]);
		if (c_status >= 0 && c_status < nf)
			snprintf(s->status, sizeof(s->status), "%s", f[c_status]);
		if (c_weight >= 0 && c_weight < nf)
			s->weight = (int)strtol(f[c_weight], NULL, 10);
		if (c_scur >= 0 && c_scur < nf)
			s->scur = strtoll(f[c_scur], NULL, 10);
		if (c_req >= 0 && c_req < nf)
			s->req_tot = strtoll(f[c_req], NULL, 10);
		if (c_5xx >= 0 && c_5xx < nf)
			s->hrsp_5xx = strtoll(f[c_5xx], NULL, 10);
	}
	if (c_sv < 0 && !strstr(reply.buf, "# pxname")) {
		strbuf_rtrim(&reply);
		strbuf_errf(err, "HAProxy answered '%.200s' to '%s'", reply.buf, cmd.buf);
		rc = SW_EEXTERNAL;
	}
out:
	strbuf_release(&cmd);
	strbuf_release(&reply);
	return rc;
}

/* ---- the router's real state against the record (router_haproxy_check) ---- */

/* One server as `show servers state BACKEND` reports it (columns by the header line). */
struct rt_server {
	char name[80];
	char addr[64];
	int port;
	int uweight;
	int admin;	/* srv_admin_state bits: 0x01 forced maint, 0x08 forced drain ... */
};

/* the port of server name in rt, or -1 when HAProxy has no such server */
static int rt_port(const struct rt_server *rt, size_t nrt, const char *name)
{
	for (size_t j = 0; j < nrt; j++)
		if (!strcmp(rt[j].name, name))
			return rt[j].port;
	return -1;
}

static int runtime_state(struct router_haproxy *r, struct rt_server **out, size_t *n, struct strbuf *err)
{
	struct strbuf cmd = STRBUF_INIT, reply = STRBUF_INIT;
	char *line, *save = NULL;
	int rc, c_name = -1, c_addr = -1, c_port = -1, c_w = -1, c_admin = -1, header = 0;
	size_t alloc = 0;

	*out = NULL;
	*n = 0;
	strbuf_addf(&cmd, "show servers state %s", r->backend);
	if ((rc = haproxy_cli(r->sock_path, cmd.buf, &reply, err)) < 0)
		goto out;
	for (line = strtok_r(reply.buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *f[64], *tok, *s2 = NULL;
		int nf = 0;
		for (tok = strtok_r(line, " ", &s2); tok && nf < 64; tok = strtok_r(NULL, " ", &s2))
			f[nf++] = tok;
		if (nf && !strcmp(f[0], "#")) {
			header = 1;
			for (int i = 1; i < nf; i++) {
				if (!strcmp(f[i], "srv_name")) c_name = i - 1;
				else if (!strcmp(f[i], "srv_addr")) c_addr = i - 1;
				else if (!strcmp(f[i], "srv_port")) c_port = i - 1;
				else if (!strcmp(f[i], "srv_uweight")) c_w = i - 1;
				else if (!strcmp(f[i], "srv_admin_state")) c_admin = i - 1;
			}
			continue;
		}
		if (!header || c_name < 0 || nf <= c_name || nf <= c_port || nf <= c_addr)
			continue;
		ALLOC_GROW(*out, *n + 1, alloc);
		struct rt_server *s = &(*out)[(*n)++];
		memset(s, 0, sizeof(*s));
		snprintf(s->name, sizeof(s->name), "%s", f[c_name]);
		snprintf(s->addr, sizeof(s->addr), "%s", f[c_addr]);
		s->port = (int)strtol(f[c_port], NULL, 10);
		s->uweight = c_w >= 0 && c_w < nf ? (int)strtol(f[c_w], NULL, 10) : 0;
		s->admin = c_admin >= 0 && c_admin < nf ? (int)strtol(f[c_admin], NULL, 10) : 0;
	}
	if (!header) {
		strbuf_rtrim(&reply);
		strbuf_errf(err, "HAProxy answered '%.200s' to '%s'", reply.buf, cmd.buf);
		rc = SW_EEXTERNAL;
	}
out:
	strbuf_release(&cmd);
	strbuf_release(&reply);
	return rc;
}

/* the pid `show info` reports on the admin socket, or 0 */
static pid_t socket_pid(struct router_haproxy *r)
{
	struct strbuf reply = STRBUF_INIT;
	pid_t pid = 0;
	const char *p;
	if (haproxy_cli(r->sock_path, "show info", &reply, NULL) == 0 && (p = strstr(reply.buf, "\nPid: ")))
		pid = (pid_t)strtol(p + 6, NULL, 10);
	else if (reply.buf && !strncmp(reply.buf, "Pid: ", 5))
		pid = (pid_t)strtol(reply.buf + 5, NULL, 10);
	strbuf_release(&reply);
	return pid;
}

/*
 * The inodes of the TCP sockets listening on host:port (/proc/net/tcp,
 * state 0A; proc(5)).  Returns how many (at most max).
 */
static int listen_inodes(const char *host, int port, unsigned long *ino, int max)
{
	FILE *f = fopen("/proc/net/tcp", "re");
	char line[512];
	unsigned a, b, c, d;
	unsigned long want_addr;
	int n = 0;
	if (!f)
		return -1;
	if (sscanf(host, "%u.%u.%u.%u", &a, &b, &c, &d) != 4)
		a = b = c = d = 0;
	/* /proc/net/tcp prints the address as the host-order hex of the network-order word */
	want_addr = (unsigned long)a | (unsigned long)b << 8 | (unsigned long)c << 16 | (unsigned long)d << 24;
	while (fgets(line, sizeof(line), f) && n < max) {
		unsigned long laddr, inode;
		unsigned lport, st;
		if (sscanf(line, " %*d: %lX:%X %*X:%*X %X %*X:%*X %*X:%*X %*X %*u %*d %lu", &laddr, &lport, &st,
			   &inode) != 4)
			continue;
		if (st == 0x0A && (int)lport == port && (laddr == want_addr || laddr == 0) && inode)
			ino[n++] = inode;
	}
	fclose(f);
	return n;
}

/* Does process pid hold socket inode ino (/proc/PID/fd/N -> "socket:[INO]")? */
static int pid_holds(pid_t pid, unsigned long ino)
{
	char dir[64], path[320], link[64], want[48];
	DIR *d;
	struct dirent *e;
	int found = 0;
	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	snprintf(want, sizeof(want), "socket:[%lu]", ino);
	if (!(d = opendir(dir)))
		return 0;
	while (!found && (e = readdir(d))) {
		ssize_t l;
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		l = readlink(path, link, sizeof(link) - 1);
		if (l > 0) {
			link[l] = '\0';
			found = !strcmp(link, want);
		}
	}
	closedir(d);
	return found;
}

/* The process that holds socket inode ino (a scan of /proc: only when one is not ours), or 0. */
static pid_t holder_of(unsigned long ino)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	pid_t found = 0;
	if (!d)
		return 0;
	while (!found && (e = readdir(d)))
		if (e->d_name[0] >= '1' && e->d_name[0] <= '9' && pid_holds((pid_t)strtol(e->d_name, NULL, 10), ino))
			found = (pid_t)strtol(e->d_name, NULL, 10);
	closedir(d);
	return found;
}

/* one clause of the report; a repair (counted in *repairs) or, repairs NULL, only a warning */
static void note(struct strbuf *report, int *repairs, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void note(struct strbuf *report, int *repairs, const char *fmt, ...)
{
	va_list ap;
	if (repairs)
		(*repairs)++;
	if (report->len)
		strbuf_addstr(report, "; ");
	va_start(ap, fmt);
	strbuf_vaddf(report, fmt, ap);
	va_end(ap);
}

/* Stop our HAProxy (it is alive but not the router it should be) and start it from the mirror. */
static int restart(struct router_haproxy *r, struct strbuf *err)
{
	pid_t pid;
	uint64_t st;
	int killed, started;
	if (load_router(r, &pid, &st) > 0 && pid > 0 && proc_same(pid, st))
		proc_stop(pid, st, 2000, &killed, NULL);
	proc_reap();
	return router_haproxy_up(r, &started, err);
}

/* Take server `name` out of HAProxy at once: maint, weight 0, then deleted (it may linger
 * while connections are attached: maint at weight 0 takes no request meanwhile). */
static void drop_runtime(struct router_haproxy *r, const char *name)
{
	struct strbuf cmd = STRBUF_INIT, reply = STRBUF_INIT;
	strbuf_addf(&cmd, "set server %s/%s state maint;set server %s/%s weight 0", r->backend, name, r->backend, name);
	haproxy_cli(r->sock_path, cmd.buf, &reply, NULL);
	quiet_server(r, name, 0);
	strbuf_reset(&cmd);
	strbuf_reset(&reply);
	strbuf_addf(&cmd, "del server %s/%s", r->backend, name);
	haproxy_cli(r->sock_path, cmd.buf, &reply, NULL);
	strbuf_release(&cmd);
	strbuf_release(&reply);
}

static int del_row(struct router_haproxy *r, const char *name, struct strbuf *err)
{
	_cleanup_sql_ struct sql_stmt *s = NULL;
	int rc = sql_prepare(r->st, &s, "DELETE FROM router_servers WHERE service = ?1 AND env = ?2 AND name = ?3",
			       err);
	if (rc < 0)
		return rc;
	sql_bind_text(s, 1, r->service);
	sql_bind_text(s, 2, r->env);
	sql_bind_text(s, 3, name);
	if (sql_step(s, NULL) != SQL_DONE) {
		strbuf_errf(err, "store: %s", sql_errmsg(r->st));
		return SW_ESTORE;
	}
	return 0;
}

/* Is version one of the space-separated revisions in watched? */
static int is_watched(const char *watched, const char *version)
{
	size_t n = strlen(version);
	for (const char *p = watched; p && *p;) {
		const char *e = strchr(p, ' ');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		if (len == n && !memcmp(p, version, n))
			return 1;
		p = e ? e + 1 : NULL;
	}
	return 0;
}

int router_haproxy_check(struct router_haproxy *r, const struct instance *live, size_t nlive, const char *watched,
			 struct strbuf *report, struct strbuf *err)
{
	int watched_gone = 0;
	struct srv *srv = NULL;
	struct rt_server *rt = NULL;
	size_t ns = 0, nrt = 0;
	unsigned long ino[16];
	pid_t pid, spid;
	int rc, nino, ours = 0, dirty = 0, repairs = 0;
	size_t before = report->len;

	if (r->attached)
		return 0;
	pid = router_haproxy_pid(r);
	if (pid <= 0)
		return 0;	/* not running: the caller restarts it (router_haproxy_up) */
	/* 1. the admin socket reaches our process */
	spid = socket_pid(r);
	if (spid != pid) {
		proc_sleep_ms(50);	/* a process being killed closes its sockets before it is a zombie */
		proc_reap();
		if (router_haproxy_pid(r) <= 0)
			note(report, &repairs, "HAProxy (pid %d) was gone; restarted from its mirrored configuration",
			     (int)pid);	/* it died since the caller looked */
		else if (spid > 0)
			note(report, &repairs, "the admin socket answered for HAProxy pid %d, not slipway's (pid %d); restarted "
			     "slipway's from its mirrored configuration", (int)spid, (int)pid);
		else
			note(report, &repairs, "HAProxy (pid %d) did not answer on its admin socket; restarted it from its mirrored "
			     "configuration", (int)pid);
		if ((rc = restart(r, err)) < 0)
			goto out;
		pid = router_haproxy_pid(r);
	}
	/* 2. the frontend's listener is our process's, and no one else's */
	nino = listen_inodes(r->listen_host, r->listen_port, ino, 16);
	for (int i = 0; i < nino; i++)
		ours += pid_holds(pid, ino[i]);
	if (nino >= 0 && !ours) {
		proc_sleep_ms(50);	/* a process being killed closes its sockets before it is a zombie */
		proc_reap();
		if (router_haproxy_pid(r) <= 0)
			note(report, &repairs, "HAProxy (pid %d) was gone; restarted from its mirrored configuration",
			     (int)pid);
		else
			note(report, &repairs, "HAProxy (pid %d) did not listen on %s:%d; restarted it from its mirrored "
			     "configuration", (int)pid, r->listen_host, r->listen_port);
		if ((rc = restart(r, err)) < 0)
			goto out;
		pid = router_haproxy_pid(r);
	} else {
		for (int i = 0; i < nino; i++) {
			pid_t other;
			char comm[64] = "?";
			if (pid_holds(pid, ino[i]) || !(other = holder_of(ino[i])))
				continue;
			{
				char path[64];
				FILE *f;
				snprintf(path, sizeof(path), "/proc/%d/comm", (int)other);
				if ((f = fopen(path, "re"))) {
					if (fgets(comm, sizeof(comm), f))
						comm[strcspn(comm, "\n")] = '\0';
					fclose(f);
				}
			}
			note(report, NULL, "another process (pid %d, %s) also listens on %s:%d and takes part of the traffic; "
			     "stop it", (int)other, comm, r->listen_host, r->listen_port);
		}
	}
	/* 3. every recorded server has a live instance at its address, and HAProxy has it as recorded */
	if ((rc = load_servers(r, NULL, &srv, &ns, err)) < 0 || (rc = runtime_state(r, &rt, &nrt, err)) < 0)
		goto out;
	for (size_t i = 0; i < ns; i++) {
		const struct instance *in = NULL;
		struct rt_server *have = NULL;
		struct strbuf cmd = STRBUF_INIT;
		for (size_t j = 0; j < nlive; j++)
			if (live[j].alive && !strcmp(live[j].state, "running") && !strcmp(live[j].version, srv[i].version) &&
			    live[j].idx == srv[i].idx)
				in = &live[j];
		for (size_t j = 0; j < nrt; j++)
			if (!strcmp(rt[j].name, srv[i].name))
				have = &rt[j];
		if (!in) {
			/* its instance is gone: nothing may keep pointing at its old port */
			if (have)
				drop_runtime(r, srv[i].name);
			if ((rc = del_row(r, srv[i].name, err)) < 0)
				goto out;
			dirty = 1;
			if (is_watched(watched, srv[i].version)) {
				note(report, NULL, "server %s (127.0.0.1:%d) had no live instance: removed", srv[i].name,
				     srv[i].port);
				watched_gone++;
			} else {
				note(report, &repairs, "server %s (127.0.0.1:%d) had no live instance: removed", srv[i].name,
				     srv[i].port);
			}
			continue;
		}
		if (in->port != srv[i].port) {
			note(report, &repairs, "server %s pointed at 127.0.0.1:%d, its instance listens on %d: corrected", srv[i].name,
			     srv[i].port, in->port);
			srv[i].port = in->port;
			if ((rc = put_server(r, &srv[i], err)) < 0)
				goto out;
			dirty = 1;
		}
		if (!have) {
			static const char *const okr[] = { "New server registered.", NULL };
			note(report, &repairs, "server %s was missing in HAProxy: added", srv[i].name);
			strbuf_addf(&cmd, "add server %s/%s %s:%d weight 0", r->backend, srv[i].name, srv[i].addr,
				    srv[i].port);
			rc = cli_expect(r, cmd.buf, okr, err);
			strbuf_reset(&cmd);
			if (rc < 0) {
				strbuf_release(&cmd);
				goto out;
			}
		} else if (have->port != srv[i].port || strcmp(have->addr, srv[i].addr)) {
			note(report, &repairs, "HAProxy's server %s pointed at %s:%d, its instance listens on %s:%d: corrected",
			     srv[i].name, have->addr, have->port, srv[i].addr, srv[i].port);
			if ((rc = sync_server_addr(r, srv[i].name, srv[i].addr, srv[i].port, err)) < 0) {
				strbuf_release(&cmd);
				goto out;
			}
		}
		if (!strcmp(srv[i].state, "ready") && (!have || have->uweight != srv[i].weight || (have->admin & 0x29))) {
			if (have && have->uweight != srv[i].weight)
				note(report, &repairs, "HAProxy's server %s had weight %d, the record %d: reapplied", srv[i].name,
				     have->uweight, srv[i].weight);
			else if (have)
				note(report, &repairs, "HAProxy's server %s was in maintenance or drain, the record says ready: "
				     "reapplied", srv[i].name);
			strbuf_addf(&cmd, "set server %s/%s weight %d;set server %s/%s state ready", r->backend, srv[i].name,
				    srv[i].weight, r->backend, srv[i].name);
			rc = cli_expect(r, cmd.buf, NULL, err);
			if (rc < 0) {
				strbuf_release(&cmd);
				goto out;
			}
		}
		strbuf_release(&cmd);
	}
	for (size_t j = 0; j < nrt; j++) {
		int known = 0;
		for (size_t i = 0; i < ns; i++)
			known |= !strcmp(rt[j].name, srv[i].name);
		if (!known && !(rt[j].admin & 0x01 && rt[j].uweight == 0)) {
			note(report, &repairs, "HAProxy had server %s (%s:%d), which slipway does not record: removed", rt[j].name,
			     rt[j].addr, rt[j].port);
			drop_runtime(r, rt[j].name);
		}
	}
	if (dirty && (rc = write_files(r, err)) < 0)
		goto out;
	rc = repairs ? 1 : watched_gone ? 3 : report->len > before ? 2 : 0;
out:
	free(srv);
	free(rt);
	return rc;
}

int router_haproxy_retire(struct router_haproxy *r, const char *name, struct strbuf *err)
{
	struct srv *srv = NULL, *v = NULL;
	size_t ns = 0;
	struct strbuf cmd = STRBUF_INIT, reply = STRBUF_INIT;
	int64_t until = proc_mono_ms() + r->drain_ms;
	int rc;

	if (r->attached)
		return 0;
	if ((rc = load_servers(r, NULL, &srv, &ns, err)) < 0)
		return rc;
	for (size_t i = 0; i < ns; i++)
		if (!strcmp(srv[i].name, name))
			v = &srv[i];
	if (!v)
		goto out;	/* retired already */
	/* drain: no new request, in-flight ones finish (the record first, as everywhere) */
	snprintf(v->state, sizeof(v->state), "drain");
	if ((rc = put_server(r, v, err)) < 0 || (rc = write_files(r, err)) < 0)
		goto out;
	strbuf_addf(&cmd, "set server %s/%s state drain", r->backend, name);
	if ((rc = cli_expect(r, cmd.buf, NULL, err)) < 0)
		goto out;
	for (;;) {
		struct haproxy_server_stat *st = NULL;
		size_t n = 0;
		long long busy = 0;
		if (router_haproxy_stats(r, &st, &n, NULL) == 0)
			for (size_t i = 0; i < n; i++)
				if (!strcmp(st[i].name, name))
					busy += st[i].scur;
		free(st);
		if (!busy || proc_mono_ms() >= until)
			break;
		proc_sleep_ms(20);
	}
	drop_runtime(r, name);
	if ((rc = del_row(r, name, err)) < 0)
		goto out;
	rc = write_files(r, err);
out:
	free(srv);
	strbuf_release(&cmd);
	strbuf_release(&reply);
	return rc;
}
