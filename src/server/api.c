/*
 * api.c - the HTTP API over libmicrohttpd; see api.h and docs/api.md.
 *
 * One request is one `struct call`: the method and path are matched
 * against the route table below, the bearer token is checked (401), the
 * route's role is checked against the policy's roles: map (403), and the
 * handler builds a document with the same functions the CLI's -o json uses
 * (server/documents.h).  A handler that fails sets a problem (RFC 9457)
 * whose detail is the message the CLI prints.  Refused calls (401, 403)
 * are audit entries "api.refused" (adapters/audit.h) naming the caller
 * (the token's user, or "anonymous"), the call and why.
 *
 * Threads: libmicrohttpd's internal thread pool.  Each pool thread opens
 * its own store handle on first use (a pthread key; closed when the thread
 * ends), as SQLite wants one connection per thread.
 */
#include "server/api.h"
#include "server/api_body.h"
#include "server/api_internal.h"
#include "server/documents.h"
#include "server/ui.h"
#include "server/vocab.h"
#include "adapters/approvals.h"
#include "adapters/audit.h"
#include "adapters/proc.h"
#include "adapters/dora_store.h"
#include "adapters/incidents.h"
#include "adapters/metrics_builtin.h"
#include "adapters/records.h"
#include "adapters/router_haproxy.h"
#include "adapters/store.h"
#include "adapters/store_all.h"
#include "adapters/tokens.h"
#include "base/alloc.h"
#include "base/err.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "controller/checklist_gate.h"
#include "controller/followup.h"
#include "controller/localstack.h"
#include "controller/policy_file.h"
#include "core/approval.h"
#include "core/calendar.h"
#include "core/deployment.h"
#include "core/dora.h"
#include "core/service.h"
#include "server/ofrep.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#if MHD_VERSION < 0x00097002
typedef int mhd_result;
#else
typedef enum MHD_Result mhd_result;
#endif

#define API_THREADS 4
/* libmicrohttpd's memory pool per connection (headers, read and write
 * buffers; bodies come through in pieces of it).  It zeroes the pool for
 * every request on a kept-alive connection: its default, 32 KiB, cost a third
 * of an OFREP evaluation (docs/flags.md "Bench"). */
#define API_CONN_MEMORY (16 * 1024)
#define API_UNIX_THREADS 2	/* the local socket's pool: people at a terminal, not CI fleets */
#define ROLE_DEPLOYER "deployer"	/* the role writes other than approvals need (docs/api.md) */

struct api_server {
	struct MHD_Daemon *d;
	char *state_dir, *project_dir, *policy_path;
	char *cert_pem, *key_pem;
	int port, tls;
	pthread_key_t store_key;
	pthread_mutex_t mu;	/* guards the fields below */
	int64_t tick_ms, last_ok_ms;
	int have_tick;
	uint64_t ticks;			/* ticks reported, and their total duration (ms) */
	int64_t ticks_ms;
	uint64_t responses[API_STATUS_SLOTS];
	struct api_streams *streams;	/* GET /api/v1/stream (api_stream.c) */
	struct MHD_Daemon *unix_d;	/* the local socket (api_options.socket_path), or NULL */
	char *sock_path;		/* the path bound, unlinked at stop while it is still ours */
	dev_t sock_dev;
	ino_t sock_ino;
	int sock_dirfd;			/* -1, or the directory held open for a path over sun_path's size */
	char *want_sock;		/* api_options.socket_path when it could not be taken at the start */
	int64_t sock_retry_mono;	/* api_server_take_socket(): the next try */
};

/* One call in flight (libmicrohttpd's per-request context while the body arrives). */
struct call {
	struct api_server *s;
	struct MHD_Connection *conn;
	const char *method, *url, *path;	/* path: url after "/api/v1" */
	struct strbuf body;
	int body_too_big;
	struct store *st;
	struct api_token tok;
	int authed;
	char identity[48];		/* "token:ID" */
	/* the answer */
	unsigned status;
	json_t *doc;			/* a document, or a problem */
	int problem;
	const char *allow;		/* 405: the methods the path takes */
	const char *www_auth;		/* 401: WWW-Authenticate */
	int via_socket;			/* over the local unix socket: the peer's uid is the identity */
	long peer_uid;			/* that uid */
	int is_stream;			/* GET /stream: sf says what to send */
	struct api_stream_filter sf;
};

static int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the store, one handle per thread ---- */

static void store_key_free(void *p)
{
	store_close(p);
	free(p);
}

struct store *api_thread_store(struct api_server *s, struct strbuf *err)
{
	struct store *st = pthread_getspecific(s->store_key);
	int r;
	if (st)
		return st;
	st = xcalloc(1, sizeof(*st));
	if ((r = store_open_all(st, s->state_dir, err)) < 0) {
		free(st);
		return NULL;
	}
	pthread_setspecific(s->store_key, st);
	return st;
}

/* ---- answers ---- */

static const char *status_title(unsigned status)
{
	switch (status) {
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Content Too Large";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "Error";
	}
}

/* A problem document (RFC 9457): type about:blank, the status's title, and
 * detail (the CLI's message for the same error). */
static void problem(struct call *c, unsigned status, const char *detail)
{
	json_decref(c->doc);
	c->status = status;
	c->problem = 1;
	c->doc = json_pack("{s:s, s:s, s:i, s:s, s:s}", "type", "about:blank", "title", status_title(status), "status",
			   (int)status, "detail", detail ? detail : status_title(status), "instance", c->url);
}

static unsigned status_of(int r)
{
	switch (r) {
	case SW_EUSAGE: case SW_EPARSE: case SW_EPOLICY: case SW_ECONFIG: return 400;
	case SW_ETOOBIG: return 413;
	case SW_ENOTFOUND: return 404;
	case SW_ESTATE: return 409;
	case SW_EDENIED: return 403;
	case SW_ETIMEOUT: return 504;
	case SW_EEXTERNAL: return 502;
	case SW_ESTORE: return 503;
	default: return 500;
	}
}

static void fail(struct call *c, int r, const struct strbuf *err)
{
	problem(c, status_of(r), err && err->len ? err->buf : slipway_strerror(r));
}

static void answer(struct call *c, unsigned status, json_t *doc)
{
	json_decref(c->doc);
	c->status = status;
	c->problem = 0;
	c->doc = doc;
}

static const char *query(struct call *c, const char *name)
{
	return MHD_lookup_connection_value(c->conn, MHD_GET_ARGUMENT_KIND, name);
}

/* ---- who is calling ---- */

static void audit_refusal(struct call *c, const char *why)
{
	struct strbuf err = STRBUF_INIT, subject = STRBUF_INIT;
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	char addr[INET6_ADDRSTRLEN + 8] = "";
	json_t *detail;

	if (!c->st)
		return;
	if (c->via_socket)
		snprintf(addr, sizeof(addr), "unix");
	else if (ci && ci->client_addr) {
		const struct sockaddr *sa = ci->client_addr;
		if (sa->sa_family == AF_INET)
			inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, addr, sizeof(addr));
		else if (sa->sa_family == AF_INET6)
			inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, addr, sizeof(addr));
	}
	strbuf_addf(&subject, "api:%s /api/v1%.200s", c->method, c->path);
	detail = json_pack("{s:i, s:s, s:s}", "status", (int)c->status, "why", why, "remote", addr);
	if (c->authed)
		json_object_set_new(detail, "identity", json_string(c->identity));
	audit_append_json(c->st, wall_ms(), c->authed ? c->tok.user : "anonymous", "api.refused", subject.buf, detail,
			  &err);
	strbuf_release(&err);
	strbuf_release(&subject);
}

/*
 * A call over the local socket: the caller is the peer process's user
 * (SO_PEERCRED, socket(7), on the connection's descriptor), named by the
 * password database; no token is asked for.  0, or a 401 answered and
 * audited when the kernel does not say who it is.
 */
static int authenticate_peer(struct call *c)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct passwd pw, *res = NULL;
	char buf[4096];

	if (!ci || getsockopt(ci->connect_fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || len != sizeof(cred)) {
		problem(c, 401, "the local socket's peer cannot be identified (SO_PEERCRED failed)");
		audit_refusal(c, "the local socket's peer cannot be identified");
		return -1;
	}
	if (getpwuid_r(cred.uid, &pw, buf, sizeof(buf), &res) == 0 && res && res->pw_name && *res->pw_name)
		c->tok.user = xstrdup(res->pw_name);
	else
	{
		/* a uid without a name: roles can still list it as uidN */
		struct strbuf u = STRBUF_INIT;
		strbuf_addf(&u, "uid%u", (unsigned)cred.uid);
		c->tok.user = strbuf_detach(&u, NULL);
	}
	c->tok.id = 0;
	c->authed = 1;
	c->peer_uid = (long)cred.uid;
	snprintf(c->identity, sizeof(c->identity), "uid:%u", (unsigned)cred.uid);
	return 0;
}

/* 0 when the call carries a token in force (or comes over the local socket); else a 401 answered and audited. */
static int authenticate(struct call *c)
{
	struct strbuf err = STRBUF_INIT;
	char text[TOKEN_CHARS + 1];
	const char *h;
	int r;

	if (c->via_socket)
		return authenticate_peer(c);
	h = MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	r = api_bearer_parse(h, text, &err);

	if (r == 0)
		r = token_lookup(c->st, text, &c->tok, &err);
	if (r == 0) {
		c->authed = 1;
		snprintf(c->identity, sizeof(c->identity), "token:%lld", (long long)c->tok.id);
		strbuf_release(&err);
		return 0;
	}
	if (r == SW_EDENIED) {
		problem(c, 401, err.buf);
		c->www_auth = "Bearer realm=\"slipway\"";
		audit_refusal(c, err.buf);
	} else {
		fail(c, r, &err);
	}
	strbuf_release(&err);
	return -1;
}

static int load_policy(struct call *c, struct policy_file *pol)
{
	struct strbuf err = STRBUF_INIT;
	int r = policy_file_load(c->s->policy_path, pol, NULL, &err);
	if (r < 0)
		problem(c, 500, err.buf);	/* the server's own configuration is bad, not the call */
	strbuf_release(&err);
	return r;
}

/*
 * 0 when the caller's token may act as role (the policy's roles: map holds
 * its user, and the token is not limited to another role); else a 403
 * naming the missing role, audited.
 */
static int require_role(struct call *c, const struct policy_file *pol, const char *role)
{
	struct roles_map m;
	struct strbuf why = STRBUF_INIT;
	int ok;

	/* over the local socket: the controller's own uid, and every local user when the policy names
	 * no deployer role, could write the store in-process anyway (where deploy and the intents check
	 * no role): they may make the deployer's calls (docs/serve.md "The local socket") */
	if (c->via_socket && !strcmp(role, ROLE_DEPLOYER) &&
	    (c->peer_uid == (long)geteuid() || !policy_find_role(&pol->p, role)))
		return 0;
	roles_map_from_policy(&pol->p, &m);
	ok = roles_map_has(m.roles, m.n, role, c->tok.user);
	roles_map_release(&m);
	if (ok && (!c->tok.role || !strcmp(c->tok.role, role)))
		return 0;
	if (ok)
		strbuf_addf(&why, "token %lld is limited to the role '%s'; this call needs the role '%s'",
			    (long long)c->tok.id, c->tok.role, role);
	else if (!policy_find_role(&pol->p, role))
		strbuf_addf(&why, "'%s' does not hold the role '%s': the policy has no such role; add '%s: [%s]' "
			    "under roles:", c->tok.user, role, role, c->tok.user);
	else
		strbuf_addf(&why, "'%s' does not hold the role '%s' in the roles map; only its members may make this call",
			    c->tok.user, role);
	problem(c, 403, why.buf);
	json_object_set_new(c->doc, "missing_role", json_string(role));
	audit_refusal(c, why.buf);
	strbuf_release(&why);
	return -1;
}

/* ---- arguments ---- */

static int parse_id(struct call *c, const char *what, const char *s, int64_t *id)
{
	char *end;
	long long v;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v <= 0) {
		struct strbuf m = STRBUF_INIT;
		strbuf_addf(&m, "%s '%.64s' is not an id; give a positive number such as 12", what, s);
		problem(c, 400, m.buf);
		strbuf_release(&m);
		return -1;
	}
	*id = v;
	return 0;
}

/* a time query parameter: YYYY-MM-DD or RFC 3339 (as the CLI's --since) */
static int parse_time_param(struct call *c, const char *name, const char *s, int64_t *ms)
{
	struct strbuf err = STRBUF_INIT;
	int64_t days;
	if (strlen(s) == 10 && !date_parse(s, &days, NULL)) {
		*ms = days * MS_PER_DAY;
		return 0;
	}
	if (!time_parse_rfc3339(s, ms, &err)) {
		strbuf_release(&err);
		return 0;
	}
	strbuf_reset(&err);
	strbuf_addf(&err, "%s '%.64s': not a date; give YYYY-MM-DD or an RFC 3339 time such as 2026-12-03T15:00:00Z",
		    name, s);
	problem(c, 400, err.buf);
	strbuf_release(&err);
	return -1;
}

static int parse_body(struct call *c, const struct api_field *fields, void *out, json_t **root)
{
	struct strbuf err = STRBUF_INIT;
	int r = api_body_parse(c->body.buf, c->body.len, fields, out, root, &err);
	if (r < 0)
		fail(c, r, &err);
	strbuf_release(&err);
	return r;
}

static int name_ok(struct call *c, const char *what, const char *s)
{
	struct strbuf m = STRBUF_INIT;
	if (service_name_valid(s))
		return 0;
	strbuf_addf(&m, "'%.64s' is not a %s name (1 to %d of A-Z a-z 0-9 . _ -)", s, what, SERVICE_NAME_MAX);
	problem(c, 400, m.buf);
	strbuf_release(&m);
	return -1;
}

/* ---- handlers ---- */

static void h_whoami(struct call *c, char **arg)
{
	struct policy_file pol;
	struct roles_map m;
	json_t *j, *roles;
	if (load_policy(c, &pol) < 0)
		return;
	roles = json_array();
	roles_map_from_policy(&pol.p, &m);
	for (size_t i = 0; i < m.n; i++)
		if (roles_map_has(&m.roles[i], 1, m.roles[i].role, c->tok.user) &&
		    (!c->tok.role || !strcmp(c->tok.role, m.roles[i].role)))
			json_array_append_new(roles, json_string(m.roles[i].role));
	roles_map_release(&m);
	policy_file_release(&pol);
	j = vocab_doc("Identity");
	json_object_set_new(j, "user", json_string(c->tok.user));
	json_object_set_new(j, "token_id", json_integer(c->tok.id));
	vocab_json_str(j, "token_role", c->tok.role);
	json_object_set_new(j, "roles", roles);
	answer(c, 200, j);
}

static void h_deployments(struct call *c, char **arg)
{
	struct strbuf err = STRBUF_INIT;
	struct deployment_record *v = NULL;
	const char *service = query(c, "service"), *env = query(c, "env"), *limit_s = query(c, "limit");
	size_t n = 0, limit = 50;
	int r;

	if (limit_s) {
		char *end;
		long l;
		errno = 0;
		l = strtol(limit_s, &end, 10);
		if (errno || end == limit_s || *end || l < 0 || l > 100000) {
			problem(c, 400, "limit is not a count; give 0 (all) or more, at most 100000");
			return;
		}
		limit = (size_t)l;
	}
	if ((r = records_list(c->st, service, env, limit, &v, &n, &err))) {
		fail(c, r, &err);
	} else {
		json_t *a = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(a, vocab_deployment_json(&v[i]));
		answer(c, 200, vocab_list_doc("DeploymentList", a));
	}
	deployment_records_free(v, n);
	strbuf_release(&err);
}

static void h_deployment(struct call *c, char **arg)
{
	struct strbuf err = STRBUF_INIT;
	json_t *j = NULL;
	int64_t id;
	int r;
	if (parse_id(c, "deployment", arg[0], &id))
		return;
	if ((r = doc_deployment_detail(c->st, id, &j, &err)) < 0)
		fail(c, r, &err);
	else
		answer(c, 200, j);
	strbuf_release(&err);
}

/* The transitions of a deployment as events, each with its sequence number
 * ("after" = the last one seen, for polling). */
static void h_events(struct call *c, char **arg)
{
	struct strbuf err = STRBUF_INIT;
	struct deployment_record d = { 0 };
	struct transition_record *tr = NULL;
	size_t n = 0;
	int64_t id, after = 0;
	const char *after_s = query(c, "after");
	int r;

	if (parse_id(c, "deployment", arg[0], &id))
		return;
	if (after_s) {
		char *end;
		errno = 0;
		after = strtoll(after_s, &end, 10);
		if (errno || end == after_s || *end || after < 0) {
			problem(c, 400, "after is not an event number; give 0 or more");
			return;
		}
	}
	if ((r = records_get(c->st, id, &d, &err)) || (r = records_transitions(c->st, id, &tr, &n, &err))) {
		fail(c, r, &err);
	} else {
		json_t *a = json_array(), *j;
		for (size_t i = (size_t)(after < (int64_t)n ? after : (int64_t)n); i < n; i++) {
			json_t *o = vocab_transition_json(&tr[i]);
			json_object_set_new(o, "seq", json_integer((json_int_t)i + 1));
			json_array_append_new(a, o);
		}
		j = vocab_list_doc("DeploymentEventList", a);
		json_object_set_new(j, "deployment_id", json_integer(id));
		vocab_json_str(j, "state", d.state);
		json_object_set_new(j, "final", json_boolean(record_state_is_final(d.state)));
		answer(c, 200, j);
	}
	transition_records_free(tr, n);
	deployment_record_release(&d);
	strbuf_release(&err);
}

/*
 * GET /stream: the transitions as Server-Sent Events (api_stream.c).  The
 * filter: ?deployment=ID, or ?service=NAME and/or ?env=ENV.  Where to
 * start: the Last-Event-ID header (a reconnecting EventSource sends it),
 * else ?after=SEQ, else the first transition of a deployment given by id,
 * and the next new transition for every other filter (a stream of the
 * whole store does not replay its history).  Only checks here; the
 * response is made in on_request() once dispatch() is done.
 */
static void h_stream(struct call *c, char **arg)
{
	struct strbuf err = STRBUF_INIT;
	const char *dep = query(c, "deployment"), *service = query(c, "service"), *env = query(c, "env");
	const char *last = MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND, "Last-Event-ID");
	const char *after_s = last && *last ? last : query(c, "after");
	int64_t id = 0, after = 0;
	int r;

	(void)arg;
	if (dep && (service || env)) {
		problem(c, 400, "give deployment=ID, or service=NAME and env=ENV, not both");
		return;
	}
	if (dep && parse_id(c, "deployment", dep, &id))
		return;
	if ((service && name_ok(c, "service", service)) || (env && name_ok(c, "environment", env)))
		return;
	if (after_s) {
		char *end;
		errno = 0;
		after = strtoll(after_s, &end, 10);
		if (errno || end == after_s || *end || after < 0) {
			problem(c, 400, last && *last ? "Last-Event-ID is not an event id; give the id: of the last event seen"
						      : "after is not an event id; give 0 or more");
			return;
		}
	}
	if (id) {
		struct deployment_record d = { 0 };
		if ((r = records_get(c->st, id, &d, &err)) < 0) {
			fail(c, r, &err);
			strbuf_release(&err);
			return;
		}
		deployment_record_release(&d);
	} else if (!after_s && (r = records_transitions_last_id(c->st, &after, &err)) < 0) {
		fail(c, r, &err);
		strbuf_release(&err);
		return;
	}
	strbuf_release(&err);
	c->is_stream = 1;
	c->sf.deployment_id = id;
	c->sf.service = service;
	c->sf.env = env;
	c->sf.after = after;
	answer(c, 200, json_object());	/* replaced by the stream */
}

struct intent_body {
	int full;
	int64_t to_revision;
};

static void intent(struct call *c, char **arg, enum intent_kind kind)
{
	struct intent_body b = { 0, 0 };
	const struct api_field promote[] = { { "full", API_FIELD_BOOL, 0, 0, 0, offsetof(struct intent_body, full) },
					     API_FIELDS_END };
	const struct api_field undo[] = { { "to_revision", API_FIELD_INT, 0, 1, 1000000000,
					    offsetof(struct intent_body, to_revision) }, API_FIELDS_END };
	const struct api_field none[] = { API_FIELDS_END };
	struct strbuf err = STRBUF_INIT;
	struct policy_file pol;
	struct deployment d;
	json_t *root = NULL, *doc = NULL;
	int r;

	if (load_policy(c, &pol) < 0)
		return;
	if (require_role(c, &pol, ROLE_DEPLOYER) < 0)
		goto out;
	if (parse_body(c, kind == INTENT_PROMOTE ? promote : kind == INTENT_UNDO ? undo : none, &b, &root) < 0)
		goto out;
	{
		struct intent_request rq = { .kind = kind, .full = b.full, .to_revision = (int)b.to_revision,
					     .requested_by = c->tok.user, .identity = c->identity,
					     .now_ms = wall_ms() };
		if ((r = doc_record_intent(c->st, arg[0], &rq, &doc, &d, &err)) < 0)
			fail(c, r, &err);
		else
			answer(c, 202, doc);
	}
out:
	json_decref(root);
	policy_file_release(&pol);
	strbuf_release(&err);
}

static void h_promote(struct call *c, char **arg) { intent(c, arg, INTENT_PROMOTE); }
static void h_pause(struct call *c, char **arg) { intent(c, arg, INTENT_PAUSE); }
static void h_resume(struct call *c, char **arg) { intent(c, arg, INTENT_RESUME); }
static void h_abort(struct call *c, char **arg) { intent(c, arg, INTENT_ABORT); }
static void h_retry(struct call *c, char **arg) { intent(c, arg, INTENT_RETRY); }
static void h_undo(struct call *c, char **arg) { intent(c, arg, INTENT_UNDO); }

static void h_gate(struct call *c, char **arg)
{
	struct strbuf err = STRBUF_INIT;
	struct policy_file pol;
	struct roles_map roles;
	struct gate_view v;
	int64_t id;
	int r;

	if (parse_id(c, "deployment", arg[0], &id) || load_policy(c, &pol) < 0)
		return;
	roles_map_from_policy(&pol.p, &roles);
	if ((r = gate_view_load(c->st, &pol, &roles, id, NULL, -1, wall_ms(), 0, &v, &err)))
		fail(c, r, &err);
	else
		answer(c, 200, doc_approval_gate(&v));
	gate_view_release(&v);
	roles_map_release(&roles);
	policy_file_release(&pol);
	strbuf_release(&err);
}

struct decision_body {
	const char *role, *comment;
};

static void decide(struct call *c, char **arg, enum approval_decision decision)
{
	struct decision_body b = { NULL, NULL };
	const struct api_field fields[] = {
		{ "role", API_FIELD_STRING, 1, 0, 64, offsetof(struct decision_body, role) },
		{ "comment", API_FIELD_STRING, decision == APPROVAL_REJECTED, 0, 0, offsetof(struct decision_body, comment) },
		API_FIELDS_END,
	};
	struct strbuf err = STRBUF_INIT;
	struct policy_file pol;
	struct roles_map roles;
	json_t *root = NULL;
	int64_t id, aid, now = wall_ms();

	if (parse_id(c, "deployment", arg[0], &id) || load_policy(c, &pol) < 0)
		return;
	roles_map_from_policy(&pol.p, &roles);
	if (parse_body(c, fields, &b, &root) < 0)
		goto out;
	if (!policy_find_role(&pol.p, b.role)) {
		struct strbuf m = STRBUF_INIT;
		strbuf_addf(&m, "unknown role '%.64s'; valid: ", b.role);
		for (size_t i = 0; i < pol.p.roles_nr; i++)
			strbuf_addf(&m, "%s%s", i ? ", " : "", pol.p.roles[i].name);
		problem(c, 400, m.buf);
		strbuf_release(&m);
		goto out;
	}
	/* a token limited to another role is refused here; membership and
	 * self-approval are approval_record()'s rules, with its messages and
	 * its "approval.refused" audit entry */
	if (c->tok.role && strcmp(c->tok.role, b.role)) {
		if (require_role(c, &pol, b.role) < 0)
			goto out;
	}
	aid = approval_record(c->st, id, b.role, c->tok.user, decision, b.comment, c->identity, roles.roles, roles.n,
			      now, &err);
	if (aid < 0) {
		fail(c, (int)aid, &err);
		if (aid == SW_EDENIED && !roles_map_has(roles.roles, roles.n, b.role, c->tok.user))
			json_object_set_new(c->doc, "missing_role", json_string(b.role));
	} else {
		struct approval a = { .id = aid, .deployment_id = id, .role = b.role, .approver = c->tok.user,
				      .decision = decision, .at_ms = now };
		json_t *j = vocab_doc("Approval");
		json_object_update_new(j, vocab_approval_json(&a, b.comment, c->identity));
		answer(c, 201, j);
	}
out:
	json_decref(root);
	roles_map_release(&roles);
	policy_file_release(&pol);
	strbuf_release(&err);
}

static void h_approve(struct call *c, char **arg) { decide(c, arg, APPROVAL_APPROVED); }
static void h_reject(struct call *c, char **arg) { decide(c, arg, APPROVAL_REJECTED); }

/* ---- checklists (docs/checklists.md) ---- */

struct attest_body {
	const char *item, *status, *evidence, *sarif;
};

/* POST deployments/ID/attestations and versions/V/attestations: as the token's user, audited. */
static void attest(struct call *c, int64_t id, const char *version)
{
	struct attest_body b = { 0 };
	const struct api_field fields[] = {
		{ "item", API_FIELD_STRING, 1, 0, 64, offsetof(struct attest_body, item) },
		{ "status", API_FIELD_STRING, 0, 0, 8, offsetof(struct attest_body, status) },
		{ "evidence", API_FIELD_STRING, 0, 0, 0, offsetof(struct attest_body, evidence) },
		{ "sarif", API_FIELD_STRING, 0, 0, API_BODY_MAX, offsetof(struct attest_body, sarif) },
		API_FIELDS_END,
	};
	struct attest_request rq = { 0 };
	struct strbuf err = STRBUF_INIT, detail = STRBUF_INIT;
	struct policy_file pol;
	json_t *root = NULL;
	const char *got = NULL;
	int64_t aid;

	if (load_policy(c, &pol) < 0)
		return;
	if (parse_body(c, fields, &b, &root) < 0)
		goto out;
	rq.deployment_id = id;
	rq.version = version;
	rq.item = b.item;
	rq.status = b.status;
	rq.evidence = b.evidence;
	rq.sarif = b.sarif;
	rq.sarif_len = b.sarif ? strlen(b.sarif) : 0;
	rq.actor = c->tok.user;
	rq.identity = c->identity;
	rq.now_ms = wall_ms();
	aid = checklist_attest(c->st, &pol.p, &rq, &got, &detail, &err);
	if (aid < 0) {
		fail(c, (int)aid, &err);
	} else {
		json_t *j = vocab_doc("Attestation");
		json_object_set_new(j, "id", json_integer(aid));
		if (id > 0)
			json_object_set_new(j, "deployment", json_integer(id));
		else
			json_object_set_new(j, "version", json_string(version));
		json_object_set_new(j, "item", json_string(b.item));
		json_object_set_new(j, "status", json_string(got));
		json_object_set_new(j, "evidence", b.evidence ? json_string(b.evidence) : json_null());
		json_object_set_new(j, "detail", detail.len ? json_string(detail.buf) : json_null());
		json_object_set_new(j, "by", json_string(c->tok.user));
		json_object_set_new(j, "identity", json_string(c->identity));
		answer(c, 201, j);
	}
out:
	json_decref(root);
	policy_file_release(&pol);
	strbuf_release(&err);
	strbuf_release(&detail);
}

static void h_attest_deployment(struct call *c, char **arg)
{
	int64_t id;
	if (!parse_id(c, "deployment", arg[0], &id))
		attest(c, id, NULL);
}

static void h_attest_version(struct call *c, char **arg)
{
	if (!name_ok(c, "version", arg[0]))
		attest(c, 0, arg[0]);
}

static void h_checklist(struct call *c, char **arg)
{
	struct deployment_record d = { 0 };
	struct checklist_view v = { 0 };
	struct strbuf err = STRBUF_INIT;
	struct policy_file pol;
	int64_t id;
	int r;

	if (parse_id(c, "deployment", arg[0], &id) || load_policy(c, &pol) < 0)
		return;
	if ((r = records_get(c->st, id, &d, &err)) < 0 ||
	    (r = checklist_view_build(c->st, &pol.p, id, d.version, d.type, &v, &err)) < 0) {
		fail(c, r, &err);
	} else {
		json_t *j = vocab_doc("Checklist"), *fu = NULL;
		json_object_update_new(j, checklist_view_json(&v));
		json_object_set_new(j, "type", json_string(d.type ? d.type : ""));
		json_object_set_new(j, "state", json_string(d.state ? d.state : ""));
		if (followup_status_json(c->st, &pol.p, id, &fu, &err) >= 0)
			json_object_set_new(j, "followup", fu);
		answer(c, 200, j);
	}
	checklist_view_release(&v);
	deployment_record_release(&d);
	policy_file_release(&pol);
	strbuf_release(&err);
}

static void h_check(struct call *c, char **arg)
{
	struct strbuf err = STRBUF_INIT;
	struct policy_file pol;
	struct calendar_result r;
	const char *type = query(c, "type"), *cls = query(c, "class"), *at_s = query(c, "at");
	int64_t at = wall_ms();

	if (!type) {
		problem(c, 400, "type is required (standard, hotfix, emergency, database-migration, infrastructure-change)");
		return;
	}
	if (at_s && time_parse_rfc3339(at_s, &at, &err) < 0) {
		struct strbuf m = STRBUF_INIT;
		strbuf_addf(&m, "at: %s", err.buf);
		problem(c, 400, m.buf);
		strbuf_release(&m);
		strbuf_release(&err);
		return;
	}
	if (load_policy(c, &pol) < 0)
		return;
	if (doc_check_type_class(&pol.p, type, cls, &err) < 0 ||
	    calendar_check(&pol.p, &pol.tz.zone, type, cls, at, &r, &err) < 0) {
		problem(c, 400, err.buf);
	} else {
		answer(c, 200, doc_policy_check(&pol, &r));
		calendar_result_release(&r);
	}
	policy_file_release(&pol);
	strbuf_release(&err);
}

static void h_calendar(struct call *c, char **arg)
{
	struct strbuf err = STRBUF_INIT;
	struct policy_file pol;
	struct calendar cal;
	const char *type = query(c, "type"), *cls = query(c, "class"), *from_s = query(c, "from"), *to_s = query(c, "to");
	int64_t from, to, d;

	if (!type)
		type = "standard";
	if (load_policy(c, &pol) < 0)
		return;
	if (doc_check_type_class(&pol.p, type, cls, &err) < 0) {
		problem(c, 400, err.buf);
		goto out;
	}
	if (from_s) {
		if (date_parse(from_s, &d, &err) < 0) {
			struct strbuf m = STRBUF_INIT;
			strbuf_addf(&m, "from: %s", err.buf);
			problem(c, 400, m.buf);
			strbuf_release(&m);
			goto out;
		}
		from = calendar_date_start(&pol.tz.zone, d);
	} else {
		from = wall_ms();
	}
	if (to_s) {
		if (date_parse(to_s, &d, &err) < 0) {
			struct strbuf m = STRBUF_INIT;
			strbuf_addf(&m, "to: %s", err.buf);
			problem(c, 400, m.buf);
			strbuf_release(&m);
			goto out;
		}
		to = calendar_date_start(&pol.tz.zone, d + 1);
	} else {
		to = calendar_date_start(&pol.tz.zone, calendar_local_date(&pol.tz.zone, from) + 15);
	}
	if (calendar_spans(&pol.p, &pol.tz.zone, type, cls, from, to, &cal, &err) < 0) {
		problem(c, 400, err.buf);
		goto out;
	}
	answer(c, 200, doc_calendar(&pol, type, cls, from, to, &cal));
	calendar_release(&cal);
out:
	policy_file_release(&pol);
	strbuf_release(&err);
}

static void h_incidents(struct call *c, char **arg)
{
	struct strbuf err = STRBUF_INIT;
	struct incident *v = NULL;
	const char *open_s = query(c, "open");
	size_t n = 0;
	int r;
	if ((r = incident_list(c->st, query(c, "env"), open_s && strcmp(open_s, "false") && strcmp(open_s, "0"), &v, &n,
			       &err))) {
		fail(c, r, &err);
	} else {
		json_t *a = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(a, vocab_incident_json(&v[i]));
		answer(c, 200, vocab_list_doc("IncidentList", a));
	}
	incidents_free(v, n);
	strbuf_release(&err);
}

static void incident_answer(struct call *c, int64_t id, unsigned status)
{
	struct strbuf err = STRBUF_INIT;
	struct incident *v = NULL;
	size_t n = 0;
	int r = incident_list(c->st, NULL, 0, &v, &n, &err);
	if (r)
		fail(c, r, &err);
	for (size_t i = 0; !r && i < n; i++)
		if (v[i].id == id) {
			json_t *j = vocab_doc("Incident");
			json_object_update_new(j, vocab_incident_json(&v[i]));
			answer(c, status, j);
		}
	incidents_free(v, n);
	strbuf_release(&err);
}

struct incident_body {
	const char *service, *title, *env;
	int64_t deployment_id;
};

static void h_incident_open(struct call *c, char **arg)
{
	struct incident_body b = { NULL, NULL, NULL, 0 };
	const struct api_field fields[] = {
		{ "service", API_FIELD_STRING, 1, 0, SERVICE_NAME_MAX, offsetof(struct incident_body, service) },
		{ "title", API_FIELD_STRING, 1, 0, 0, offsetof(struct incident_body, title) },
		{ "env", API_FIELD_STRING, 0, 0, SERVICE_NAME_MAX, offsetof(struct incident_body, env) },
		{ "deployment_id", API_FIELD_INT, 0, 1, INT64_MAX, offsetof(struct incident_body, deployment_id) },
		API_FIELDS_END,
	};
	struct strbuf err = STRBUF_INIT;
	struct policy_file pol;
	json_t *root = NULL;
	int64_t id;

	if (load_policy(c, &pol) < 0)
		return;
	if (require_role(c, &pol, ROLE_DEPLOYER) < 0 || parse_body(c, fields, &b, &root) < 0)
		goto out;
	id = incident_open(c->st, b.service, b.env ? b.env : "production", b.title, c->tok.user, b.deployment_id,
			   wall_ms(), &err);
	if (id < 0)
		fail(c, (int)id, &err);
	else
		incident_answer(c, id, 201);
out:
	json_decref(root);
	policy_file_release(&pol);
	strbuf_release(&err);
}

static void h_incident_resolve(struct call *c, char **arg)
{
	struct strbuf err = STRBUF_INIT;
	struct policy_file pol;
	int64_t id;
	int r;

	if (parse_id(c, "incident", arg[0], &id) || load_policy(c, &pol) < 0)
		return;
	if (require_role(c, &pol, ROLE_DEPLOYER) == 0) {
		if ((r = incident_resolve(c->st, id, c->tok.user, wall_ms(), &err)))
			fail(c, r, &err);
		else
			incident_answer(c, id, 200);
	}
	policy_file_release(&pol);
	strbuf_release(&err);
}

static void h_incident_check(struct call *c, char **arg)
{
	struct strbuf err = STRBUF_INIT;
	const char *env = query(c, "env"), *type = query(c, "type");
	int64_t *ids = NULL;
	size_t n = 0;
	int r;
	if (!env)
		env = "production";
	if (!type)
		type = "standard";
	r = incidents_gate(c->st, env, type, &ids, &n, &err);
	if (r && r != SW_EDENIED)
		fail(c, r, &err);
	else
		answer(c, 200, doc_incident_check(!r, env, type, ids, n, r ? err.buf : ""));
	free(ids);
	strbuf_release(&err);
}

static void h_dora(struct call *c, char **arg)
{
	struct strbuf err = STRBUF_INIT;
	struct policy_file pol;
	struct dora_targets targets;
	struct dora_deploy *d = NULL;
	struct dora_incident *inc = NULL;
	struct dora_report rep = { 0 };
	const char *service = query(c, "service"), *env = query(c, "env"), *since = query(c, "since"),
		   *until = query(c, "until");
	size_t n = 0, ni = 0;
	int64_t from = 0, to = wall_ms();
	int r;

	if (!env)
		env = "production";
	if ((until && parse_time_param(c, "until", until, &to)) || (since && parse_time_param(c, "since", since, &from)))
		return;
	if (!since)
		from = to - 90 * MS_PER_DAY;
	if (to <= from) {
		problem(c, 400, "since must be before until");
		return;
	}
	if (load_policy(c, &pol) < 0)
		return;
	dora_targets_from_policy(&pol.p, &targets);
	policy_file_release(&pol);
	if ((r = dora_load(c->st, service, env, from, to, &d, &n, &inc, &ni, &err)) ||
	    (r = dora_compute(d, n, inc, ni, from, to, &targets, &rep, &err)))
		fail(c, r, &err);
	else
		answer(c, 200, doc_dora_report(&rep, env, service, from, to));
	free(d);
	free(inc);
	dora_report_release(&rep);
	strbuf_release(&err);
}

static void h_audit(struct call *c, char **arg)
{
	struct strbuf err = STRBUF_INIT;
	struct audit_entry *e = NULL;
	const char *since_s = query(c, "since");
	int64_t since = INT64_MIN;
	size_t n = 0;
	int r;
	if (since_s && parse_time_param(c, "since", since_s, &since))
		return;
	if ((r = audit_list(c->st, since, &e, &n, &err)))
		fail(c, r, &err);
	else
		answer(c, 200, doc_audit_entries(e, n));
	audit_entries_free(e, n);
	strbuf_release(&err);
}

static void h_audit_verify(struct call *c, char **arg)
{
	struct strbuf err = STRBUF_INIT;
	struct audit_verify_result v;
	int r;
	if ((r = audit_verify(c->st, &v, &err)))
		fail(c, r, &err);
	else
		answer(c, 200, doc_audit_verification(&v));
	strbuf_release(&err);
}

/* The service's local stack for reading (no lock), or an answered error. */
static int open_stack(struct call *c, const char *service, const char *env, unsigned flags, struct localstack *ls)
{
	struct strbuf err = STRBUF_INIT;
	int r;
	if (name_ok(c, "service", service) || name_ok(c, "environment", env))
		return -1;
	if ((r = localstack_open(ls, c->s->state_dir, c->s->project_dir, service, env, flags, &err)) < 0) {
		fail(c, r, &err);
		strbuf_release(&err);
		return -1;
	}
	strbuf_release(&err);
	return 0;
}

struct traffic_body {
	const char *mode, *message, *env;
};

static void traffic(struct call *c, const char *service, int set)
{
	struct traffic_body b = { NULL, NULL, NULL };
	const struct api_field fields[] = {
		{ "mode", API_FIELD_STRING, 1, 0, 32, offsetof(struct traffic_body, mode) },
		{ "message", API_FIELD_STRING, 0, 0, 256, offsetof(struct traffic_body, message) },
		{ "env", API_FIELD_STRING, 0, 0, SERVICE_NAME_MAX, offsetof(struct traffic_body, env) },
		API_FIELDS_END,
	};
	struct strbuf err = STRBUF_INIT, msg = STRBUF_INIT;
	struct policy_file pol;
	struct localstack ls;
	enum traffic_mode m = TRAFFIC_NORMAL;
	const char *env = query(c, "env");
	json_t *root = NULL;
	int r;

	if (set) {
		if (load_policy(c, &pol) < 0)
			return;
		r = require_role(c, &pol, ROLE_DEPLOYER);
		policy_file_release(&pol);
		if (r < 0 || parse_body(c, fields, &b, &root) < 0)
			goto out;
		if (b.env)
			env = b.env;
		if (traffic_mode_parse(b.mode, &m) < 0) {
			strbuf_addf(&msg, "unknown mode '%.32s'; valid: normal, read-only, maintenance", b.mode);
			problem(c, 400, msg.buf);
			goto out;
		}
	}
	if (!env)
		env = "production";
	if (open_stack(c, service, env, set ? 0 : LOCALSTACK_READONLY, &ls) < 0)
		goto out;
	if (set) {
		int started;
		if ((r = router_haproxy_up(&ls.router, &started, &err)) < 0 ||
		    (r = router_haproxy_set_mode(&ls.router, m, b.message, &err)) < 0) {
			fail(c, r, &err);
			goto close;
		}
		{
			struct strbuf subject = STRBUF_INIT, e2 = STRBUF_INIT;
			strbuf_addf(&subject, "service:%s/%s", service, env);
			audit_append_json(c->st, wall_ms(), c->tok.user, "traffic.mode", subject.buf,
					  json_pack("{s:s, s:s?, s:s}", "mode", traffic_mode_name(m), "message", b.message,
						    "identity", c->identity), &e2);
			strbuf_release(&subject);
			strbuf_release(&e2);
		}
	}
	if ((r = router_haproxy_get_mode(&ls.router, &m, &msg, &err)) < 0)
		fail(c, r, &err);
	else
		answer(c, 200, doc_traffic_mode(ls.svc.name, env, traffic_mode_name(m), msg.buf));
close:
	localstack_close(&ls);
out:
	json_decref(root);
	strbuf_release(&err);
	strbuf_release(&msg);
}

static void h_traffic_get(struct call *c, char **arg) { traffic(c, arg[0], 0); }
static void h_traffic_put(struct call *c, char **arg) { traffic(c, arg[0], 1); }

static void h_metrics_report(struct call *c, char **arg)
{
	struct strbuf err = STRBUF_INIT;
	struct localstack ls;
	struct metrics_revision *revs = NULL;
	struct metrics_accounting acc;
	struct revision_weight *w = NULL;
	size_t nrevs = 0, nw = 0;
	const char *env = query(c, "env"), *window_s = query(c, "window");
	int64_t window = 60000, now = wall_ms(), to, from;
	int r;

	if (!env)
		env = "production";
	if (window_s && (duration_parse(window_s, &window, &err) < 0 || window < METRICS_BUCKET_MS)) {
		strbuf_reset(&err);
		strbuf_addf(&err, "window '%.32s' is not a duration of 1s or more, such as 1m", window_s);
		problem(c, 400, err.buf);
		strbuf_release(&err);
		return;
	}
	if (open_stack(c, arg[0], env, LOCALSTACK_READONLY, &ls) < 0)
		return;
	to = now / METRICS_BUCKET_MS * METRICS_BUCKET_MS;
	from = to - window;
	if ((r = metrics_builtin_report(&ls.st, arg[0], env, from, to, &revs, &nrevs, &acc, &err)) < 0) {
		fail(c, r, &err);
	} else {
		/* weights only when HAProxy runs: a service that is down has none */
		if (router_haproxy_get_weights(&ls.router, &w, &nw, &err) < 0)
			nw = 0;
		answer(c, 200, doc_metrics_report(arg[0], env, window, to, (int)metrics_receiver_pid(c->s->state_dir), revs,
						  nrevs, w, nw, &acc));
	}
	free(revs);
	free(w);
	localstack_close(&ls);
	strbuf_release(&err);
}

static void h_create(struct call *c, char **arg)
{
	struct policy_file pol;
	struct api_create_request rq = { 0 };
	const struct api_field fields[] = {
		{ "service", API_FIELD_STRING, 1, 0, SERVICE_NAME_MAX, offsetof(struct api_create_request, service) },
		{ "version", API_FIELD_STRING, 1, 0, SERVICE_NAME_MAX, offsetof(struct api_create_request, version) },
		{ "type", API_FIELD_STRING, 0, 0, 64, offsetof(struct api_create_request, type) },
		{ "env", API_FIELD_STRING, 0, 0, SERVICE_NAME_MAX, offsetof(struct api_create_request, env) },
		{ "class", API_FIELD_STRING, 0, 0, 64, offsetof(struct api_create_request, change_class) },
		{ "reason", API_FIELD_STRING, 0, 0, 0, offsetof(struct api_create_request, reason) },
		{ "commit_sha", API_FIELD_STRING, 0, 0, 64, offsetof(struct api_create_request, commit_sha) },
		{ "commit_time", API_FIELD_STRING, 0, 0, 64, offsetof(struct api_create_request, commit_time) },
		{ "time_scale", API_FIELD_NUMBER, 0, 1, 3600, offsetof(struct api_create_request, time_scale) },
		API_FIELDS_END,
	};
	json_t *root = NULL;

	if (load_policy(c, &pol) < 0)
		return;
	if (require_role(c, &pol, ROLE_DEPLOYER) < 0 || parse_body(c, fields, &rq, &root) < 0)
		goto out;
	if (!rq.type)
		rq.type = "standard";
	if (!rq.env)
		rq.env = "production";
	if (name_ok(c, "service", rq.service) || name_ok(c, "version", rq.version) || name_ok(c, "environment", rq.env))
		goto out;
	api_create_deployment(c->s->state_dir, c->s->project_dir, &pol, &rq, c->tok.user, c->identity, c->st, &c->status,
			      &c->doc, &c->problem, c->url);
out:
	json_decref(root);
	policy_file_release(&pol);
}

static void h_openapi(struct call *c, char **arg)
{
	json_error_t je;
	json_t *j = json_loads(api_openapi_json, 0, &je);
	if (!j)
		problem(c, 500, "the built-in OpenAPI document does not parse");
	else
		answer(c, 200, j);
}

/* A decimal count 0..max into *v: 0, or -1 (v untouched). */
static int parse_count(const char *s, int64_t max, int64_t *v)
{
	char *end;
	long long l;
	errno = 0;
	l = strtoll(s, &end, 10);
	if (errno || end == s || *end || l < 0 || l > max)
		return -1;
	*v = l;
	return 0;
}

/* The analysis results of a deployment (the dashboard's chart, docs/dashboard.md):
 * after = the last result id seen, for polling; limit at most that many (default 1000). */
static void h_analysis(struct call *c, char **arg)
{
	struct strbuf err = STRBUF_INIT;
	const char *after_s = query(c, "after"), *limit_s = query(c, "limit");
	int64_t id, after = 0, limit = 1000;
	json_t *j = NULL;
	int r;

	if (parse_id(c, "deployment", arg[0], &id))
		return;
	if (after_s && parse_count(after_s, INT64_MAX, &after) < 0) {
		problem(c, 400, "after is not an analysis result id; give 0 or more");
		return;
	}
	if (limit_s && parse_count(limit_s, 100000, &limit) < 0) {
		problem(c, 400, "limit is not a count; give 0 (all) or more, at most 100000");
		return;
	}
	if ((r = doc_deployment_analysis(c->st, id, after, (size_t)limit, &j, &err)) < 0)
		fail(c, r, &err);
	else
		answer(c, 200, j);
	strbuf_release(&err);
}

/* ---- routes ---- */

enum { NO_AUTH = 1 };

struct route {
	const char *method;
	const char *pattern;	/* segments after /api/v1; "*" matches one segment */
	void (*fn)(struct call *c, char **arg);
	unsigned flags;
};

static const struct route routes[] = {
	{ "GET", "openapi.json", h_openapi, NO_AUTH },
	{ "GET", "whoami", h_whoami, 0 },
	{ "GET", "deployments", h_deployments, 0 },
	{ "POST", "deployments", h_create, 0 },
	{ "GET", "deployments/*", h_deployment, 0 },
	{ "GET", "deployments/*/events", h_events, 0 },
	{ "GET", "stream", h_stream, 0 },
	{ "GET", "deployments/*/approvals", h_gate, 0 },
	{ "POST", "deployments/*/approve", h_approve, 0 },
	{ "POST", "deployments/*/reject", h_reject, 0 },
	{ "GET", "deployments/*/checklist", h_checklist, 0 },
	{ "POST", "deployments/*/attestations", h_attest_deployment, 0 },
	{ "POST", "versions/*/attestations", h_attest_version, 0 },
	{ "POST", "deployments/*/promote", h_promote, 0 },
	{ "POST", "deployments/*/pause", h_pause, 0 },
	{ "POST", "deployments/*/resume", h_resume, 0 },
	{ "POST", "deployments/*/abort", h_abort, 0 },
	{ "POST", "deployments/*/retry", h_retry, 0 },
	{ "POST", "deployments/*/undo", h_undo, 0 },
	{ "GET", "policy/check", h_check, 0 },
	{ "GET", "calendar", h_calendar, 0 },
	{ "GET", "services/*/traffic", h_traffic_get, 0 },
	{ "PUT", "services/*/traffic", h_traffic_put, 0 },
	{ "GET", "services/*/metrics", h_metrics_report, 0 },
	{ "GET", "incidents", h_incidents, 0 },
	{ "POST", "incidents", h_incident_open, 0 },
	{ "GET", "incidents/check", h_incident_check, 0 },
	{ "POST", "incidents/*/resolve", h_incident_resolve, 0 },
	{ "GET", "dora", h_dora, 0 },
	{ "GET", "audit", h_audit, 0 },
	{ "GET", "audit/verify", h_audit_verify, 0 },
	{ "GET", "deployments/*/analysis", h_analysis, 0 },
};

#define MAX_SEGS 6

/* Split path ("deployments/12/abort") into segs; the count, or -1 when too many or empty segments. */
static int split_path(char *path, char **segs)
{
	int n = 0;
	char *p = path;
	if (!*p)
		return 0;
	for (;;) {
		char *slash = strchr(p, '/');
		if (n == MAX_SEGS)
			return -1;
		if (slash)
			*slash = '\0';
		if (!*p)
			return -1;
		segs[n++] = p;
		if (!slash)
			return n;
		p = slash + 1;
	}
}

static int match(const char *pattern, char **segs, int n, char **args)
{
	char buf[64], *pseg[MAX_SEGS];
	int pn, na = 0;
	snprintf(buf, sizeof(buf), "%s", pattern);
	pn = split_path(buf, pseg);
	if (pn != n)
		return 0;
	for (int i = 0; i < n; i++) {
		if (!strcmp(pseg[i], "*"))
			args[na++] = segs[i];
		else if (strcmp(pseg[i], segs[i]))
			return 0;
	}
	return 1;
}

static void dispatch(struct call *c)
{
	struct strbuf err = STRBUF_INIT, allow = STRBUF_INIT;
	char *path = xstrdup(c->path[0] == '/' ? c->path + 1 : c->path), *segs[MAX_SEGS], *args[MAX_SEGS];
	int n = split_path(path, segs);
	const struct route *hit = NULL;

	for (size_t i = 0; n >= 0 && i < ARRAY_SIZE(routes); i++)
		if (match(routes[i].pattern, segs, n, args)) {
			if (!strcmp(routes[i].method, c->method)) {
				hit = &routes[i];
				break;
			}
			strbuf_addf(&allow, "%s%s", allow.len ? ", " : "", routes[i].method);
		}
	if (!hit) {
		if (allow.len) {
			static __thread char allow_buf[64];
			snprintf(allow_buf, sizeof(allow_buf), "%s", allow.buf);
			problem(c, 405, "this path does not take that method");
			c->allow = allow_buf;
		} else {
			problem(c, 404, "no such path; see /api/v1/openapi.json");
		}
		goto out;
	}
	if (!(c->st = api_thread_store(c->s, &err))) {
		problem(c, 503, err.buf);
		goto out;
	}
	if (!(hit->flags & NO_AUTH) && authenticate(c) < 0)
		goto out;
	hit->fn(c, args);
	if (!c->doc)
		problem(c, 500, "no answer");
out:
	free(path);
	strbuf_release(&err);
	strbuf_release(&allow);
}

/* ---- libmicrohttpd ---- */

static void count_status(struct api_server *s, unsigned status)
{
	pthread_mutex_lock(&s->mu);
	s->responses[api_status_slot(status)]++;
	pthread_mutex_unlock(&s->mu);
}

static mhd_result send_text(struct api_server *s, struct MHD_Connection *conn, unsigned status, const char *ctype,
			    char *text, size_t len, const struct call *c)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
	mhd_result ret;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (c && c->allow)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, c->allow);
	if (c && c->www_auth)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, c->www_auth);
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	count_status(s, status);
	return ret;
}

static mhd_result send_call(struct call *c)
{
	char *text = json_dumps(c->doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
	size_t len;
	if (!text)
		text = xstrdup("{}");
	len = strlen(text);
	text = xrealloc(text, len + 2);
	text[len++] = '\n';
	text[len] = '\0';
	return send_text(c->s, c->conn, c->status, c->problem ? "application/problem+json" : "application/json", text,
			 len, c);
}

/* GET /stream, checked by h_stream(): the answer is the stream itself. */
static mhd_result send_stream(struct call *c)
{
	struct MHD_Response *resp = api_stream_response(c->s, c->s->streams, c->conn, &c->sf);
	mhd_result ret;
	if (!resp) {
		problem(c, 500, "cannot start the event stream");
		return send_call(c);
	}
	ret = MHD_queue_response(c->conn, 200, resp);
	MHD_destroy_response(resp);
	count_status(c->s, 200);
	return ret;
}

static mhd_result serve_plain(struct api_server *s, struct MHD_Connection *conn, const char *url)
{
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	struct store *st = api_thread_store(s, &err);
	unsigned status = 200;
	const char *ctype = "application/json";

	if (!strcmp(url, "/healthz")) {
		strbuf_addstr(&out, "{\"status\": \"ok\"}\n");
	} else if (!strcmp(url, "/readyz")) {
		struct api_tick t;
		char why[300] = "";
		api_server_tick(s, &t);
		if (api_ready(st, &t, wall_ms(), why, sizeof(why), &err) < 0)
			status = 503;
		json_t *j = json_pack("{s:s, s:s}", "status", status == 200 ? "ready" : "not ready", "reason",
				      status == 200 ? "" : why);
		char *txt = json_dumps(j, JSON_COMPACT);
		strbuf_addf(&out, "%s\n", txt);
		free(txt);
		json_decref(j);
	} else {
		struct api_tick t;
		api_server_tick(s, &t);
		ctype = "text/plain; version=0.0.4; charset=utf-8";
		if (!st || api_metrics_render(st, &t, &out, &err) < 0) {
			status = 503;
			strbuf_reset(&out);
			strbuf_addf(&out, "# slipway: cannot read the store: %s\n", err.buf);
		}
	}
	strbuf_release(&err);
	{
		size_t len = out.len;
		return send_text(s, conn, status, ctype, strbuf_detach(&out, NULL), len, NULL);
	}
}

static struct call *new_call(struct api_server *s, struct MHD_Connection *conn)
{
	struct call *c = xcalloc(1, sizeof(*c));
	c->s = s;
	c->conn = conn;
	strbuf_init(&c->body, 0);
	return c;
}

static mhd_result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
			     const char *version, const char *upload_data, size_t *upload_size, void **con_cls)
{
	struct api_server *s = cls;
	struct call *c = *con_cls;
	mhd_result ret;

	if (!c) {
		/* Every answer waits for the request's second call: libmicrohttpd closes a
		 * kept-alive connection after a response queued on the first (the
		 * request's end not yet read), and /healthz then cost a connection each. */
		*con_cls = new_call(s, conn);
		return MHD_YES;
	}
	if (*upload_size) {
		if (c->body.len + *upload_size > API_BODY_MAX)
			c->body_too_big = 1;
		else
			strbuf_add(&c->body, upload_data, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	if (!(!strncmp(url, "/api/v1/", 8) || !strcmp(url, "/api/v1") || ofrep_path(url))) {
		if (!strcmp(method, "GET") &&
		    (!strcmp(url, "/healthz") || !strcmp(url, "/readyz") || !strcmp(url, "/metrics")))
			return serve_plain(s, conn, url);
		{	/* the dashboard's static files (server/ui.h), no token */
			unsigned ui_status;
			int r = ui_serve(conn, method, url, &ui_status);
			if (r >= 0) {
				count_status(s, ui_status);
				return r ? MHD_YES : MHD_NO;
			}
		}
		{
			const char *nf = "{\"type\": \"about:blank\", \"title\": \"Not Found\", \"status\": 404, "
					 "\"detail\": \"no such path; the API is under /api/v1 (see /api/v1/openapi.json)\"}\n";
			return send_text(s, conn, 404, "application/problem+json", xstrdup(nf), strlen(nf), NULL);
		}
	}
	if (ofrep_path(url)) {	/* OFREP: src/server/ofrep.c, docs/flags.md */
		struct strbuf err = STRBUF_INIT;
		unsigned status = 500;
		ret = ofrep_answer(conn, api_thread_store(s, &err), &err, method, url, c->body.buf, c->body.len,
				   c->body_too_big, &status);
		count_status(s, status);
		strbuf_release(&err);
		return ret;
	}
	c->method = method;
	c->url = url;
	c->path = url + 7;	/* after "/api/v1" */
	if (c->body_too_big) {
		char m[96];
		snprintf(m, sizeof(m), "the request body is larger than %d bytes", API_BODY_MAX);
		problem(c, 413, m);
	} else {
		dispatch(c);
	}
	if (c->is_stream && !c->problem)
		return send_stream(c);
	ret = send_call(c);
	return ret;
}

/* The local socket's daemon: the same API, the caller named by the peer's uid (authenticate_peer()). */
static mhd_result on_request_unix(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
				  const char *version, const char *upload_data, size_t *upload_size, void **con_cls)
{
	if (!*con_cls && (!strncmp(url, "/api/v1/", 8) || !strcmp(url, "/api/v1"))) {
		struct call *c = new_call(cls, conn);
		c->via_socket = 1;
		*con_cls = c;
		return MHD_YES;
	}
	return on_request(cls, conn, url, method, version, upload_data, upload_size, con_cls);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct call *c = *con_cls;
	if (!c)
		return;
	json_decref(c->doc);
	api_token_release(&c->tok);
	strbuf_release(&c->body);
	free(c);
	*con_cls = NULL;
}

/* "HOST:PORT", "[V6]:PORT" -> a socket address.  0 or SW_EUSAGE with err. */
static int parse_listen(const char *listen, struct sockaddr_storage *ss, socklen_t *len, struct strbuf *err)
{
	char host[256];
	const char *colon = strrchr(listen, ':'), *h = listen;
	size_t hl;
	struct addrinfo hints = { 0 }, *ai = NULL;
	char *end;
	long port;

	if (!colon)
		goto bad;
	hl = (size_t)(colon - listen);
	if (hl >= 2 && listen[0] == '[' && listen[hl - 1] == ']') {
		h = listen + 1;
		hl -= 2;
	}
	if (hl == 0 || hl >= sizeof(host))
		goto bad;
	memcpy(host, h, hl);
	host[hl] = '\0';
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (errno || end == colon + 1 || *end || port < 0 || port > 65535)
		goto bad;
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	if (getaddrinfo(host, NULL, &hints, &ai) != 0 || !ai)
		goto bad;
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*len = ai->ai_addrlen;
	freeaddrinfo(ai);
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)(void *)ss)->sin_port = htons((uint16_t)port);
	else
		((struct sockaddr_in6 *)(void *)ss)->sin6_port = htons((uint16_t)port);
	return 0;
bad:
	strbuf_errf(err, "--listen '%s' is not HOST:PORT (such as 127.0.0.1:8480 or [::1]:8480)", listen);
	return SW_EUSAGE;
}

static char *read_pem(const char *path, struct strbuf *err, int *r)
{
	struct strbuf sb = STRBUF_INIT, e = STRBUF_INIT;
	if ((*r = strbuf_read_file_max(&sb, path, 1 << 20, &e)) < 0) {
		strbuf_errf(err, "TLS: %s", e.buf);
		strbuf_release(&sb);
		strbuf_release(&e);
		return NULL;
	}
	strbuf_release(&e);
	return strbuf_detach(&sb, NULL);
}

/*
 * Listen on the local unix socket at path (docs/serve.md "The local
 * socket"): the CLI of this machine calls the API there, named by its uid.
 * A path longer than sun_path holds (107 bytes and the NUL, unix(7)) is
 * bound through the directory's descriptor, /proc/self/fd/N/NAME, and
 * notes says so.  A socket file there that answers belongs to another
 * `slipway serve` (a standby on the same store): it is left alone,
 * SW_ESTATE.  One nobody answers is a leftover and replaced.  0, SW_ESTATE
 * or -errno, with e.
 */
static int start_unix(struct api_server *s, const char *path, struct strbuf *notes, struct strbuf *e)
{
	struct sockaddr_un sa;
	struct stat sb;
	int fd = -1, r;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) < sizeof(sa.sun_path)) {
		memcpy(sa.sun_path, path, strlen(path) + 1);
	} else {
		const char *slash = strrchr(path, '/'), *name = slash ? slash + 1 : path;
		char *dir = slash ? xstrndup(path, slash == path ? 1 : (size_t)(slash - path)) : xstrdup(".");
		s->sock_dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
		r = -errno;
		free(dir);
		if (s->sock_dirfd < 0) {
			strbuf_errf(e, "local socket '%s': its directory: %s", path, strerror(-r));
			return r;
		}
		if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/%s", s->sock_dirfd, name) >=
		    sizeof(sa.sun_path)) {
			strbuf_errf(e, "local socket '%s': the path is %zu bytes, over the %zu a unix socket's address holds, "
				    "and so is its name; give a shorter SLIPWAY_STATE_DIR or --socket PATH", path, strlen(path),
				    sizeof(sa.sun_path) - 1);
			return -ENAMETOOLONG;
		}
		if (notes)
			strbuf_addf(notes, "the local socket's path '%s' is %zu bytes, over the %zu a unix socket's address "
				    "holds: bound through its directory as '%s' (the CLI does the same)", path, strlen(path),
				    sizeof(sa.sun_path) - 1, sa.sun_path);
	}
	if (lstat(sa.sun_path, &sb) == 0) {
		if (!S_ISSOCK(sb.st_mode)) {
			strbuf_errf(e, "local socket '%s': the path exists and is not a socket; remove it or give --socket PATH",
				    path);
			return SW_ESTATE;
		}
		if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) >= 0 &&
		    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			close(fd);
			strbuf_errf(e, "local socket '%s': another slipway serve answers there; this one does not listen on it",
				    path);
			return SW_ESTATE;
		}
		if (fd >= 0)
			close(fd);
		unlink(sa.sun_path);	/* a leftover of a process that died */
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 128) < 0 || lstat(sa.sun_path, &sb) < 0) {
		r = -errno;
		strbuf_errf(e, "local socket '%s': %s", path, strerror(-r));
		if (fd >= 0)
			close(fd);
		return r;
	}
	s->sock_path = xstrdup(sa.sun_path);
	s->sock_dev = sb.st_dev;
	s->sock_ino = sb.st_ino;
	s->unix_d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_ALLOW_SUSPEND_RESUME, 0, NULL,
				     NULL, on_request_unix, s, MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_THREAD_POOL_SIZE,
				     (unsigned)API_UNIX_THREADS, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
				     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
				     MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)API_CONN_MEMORY, MHD_OPTION_END);
	if (!s->unix_d) {
		close(fd);
		strbuf_errf(e, "local socket '%s': libmicrohttpd does not serve it", path);
		return -EIO;
	}
	return 0;
}

int api_server_start(const struct api_options *o, struct api_server **out, struct strbuf *e)
{
	struct api_server *s;
	struct sockaddr_storage ss;
	socklen_t sl;
	/* suspend/resume: an event stream waits without holding a pool thread (api_stream.c) */
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_ALLOW_SUSPEND_RESUME;
	int tcp = o->listen || !o->socket_path;
	const union MHD_DaemonInfo *info;
	struct store *probe;
	int r;

	if (tcp && (r = parse_listen(o->listen ? o->listen : "127.0.0.1:8480", &ss, &sl, e)) < 0)
		return r;
	if (!o->store_path || !*o->store_path) {
		strbuf_errf(e, "no state directory given for the API's store");
		return SW_EUSAGE;
	}
	if ((o->tls_cert && *o->tls_cert) != (o->tls_key && *o->tls_key)) {
		strbuf_errf(e, "TLS needs both a certificate and a key (--tls-cert and --tls-key)");
		return SW_EUSAGE;
	}
	s = xcalloc(1, sizeof(*s));
	s->state_dir = xstrdup(o->store_path);
	s->project_dir = xstrdup(o->project_dir ? o->project_dir : ".");
	s->policy_path = o->policy_path ? xstrdup(o->policy_path) : NULL;
	s->sock_dirfd = -1;
	pthread_mutex_init(&s->mu, NULL);
	pthread_key_create(&s->store_key, store_key_free);
	/* the store must open here, so a bad --state-dir fails now rather than in every call */
	probe = xcalloc(1, sizeof(*probe));
	if ((r = store_open_all(probe, s->state_dir, e)) < 0) {
		free(probe);
		goto fail;
	}
	store_close(probe);
	free(probe);
	if (o->tls_cert && *o->tls_cert) {
		if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
			strbuf_errf(e, "TLS asked for, but this libmicrohttpd was built without HTTPS support");
			r = SW_ECONFIG;
			goto fail;
		}
		if (!(s->cert_pem = read_pem(o->tls_cert, e, &r)) || !(s->key_pem = read_pem(o->tls_key, e, &r)))
			goto fail;
		s->tls = 1;
		flags |= MHD_USE_TLS;
	}
	s->streams = api_streams_start(s->state_dir);
	if (o->socket_path && (r = start_unix(s, o->socket_path, o->notes, e)) < 0) {
		if (r != SW_ESTATE || !o->notes)
			goto fail;
		/* a standby beside the controller that answers there: serve on without the socket,
		 * and take it once this one holds the lease (api_server_take_socket()) */
		strbuf_addf(o->notes, "%s%s", o->notes->len ? "; " : "", e->buf);
		strbuf_reset(e);
		s->want_sock = xstrdup(o->socket_path);
		if (s->sock_dirfd >= 0) {
			close(s->sock_dirfd);
			s->sock_dirfd = -1;
		}
	}
	if (!tcp) {
		*out = s;
		return 0;
	}
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (s->tls)
		s->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, &ss,
					MHD_OPTION_THREAD_POOL_SIZE, (unsigned)API_THREADS, MHD_OPTION_NOTIFY_COMPLETED,
					on_completed, s, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
					MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)API_CONN_MEMORY,
					MHD_OPTION_HTTPS_MEM_CERT, s->cert_pem, MHD_OPTION_HTTPS_MEM_KEY, s->key_pem,
					MHD_OPTION_END);
	else
		s->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, &ss,
					MHD_OPTION_THREAD_POOL_SIZE, (unsigned)API_THREADS, MHD_OPTION_NOTIFY_COMPLETED,
					on_completed, s, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
					MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)API_CONN_MEMORY, MHD_OPTION_END);
	if (!s->d) {
		strbuf_errf(e, "cannot listen on %s%s (the port is taken, or the address is not this machine's)",
			    o->listen ? o->listen : "127.0.0.1:8480", s->tls ? " with TLS (check the certificate and key)" : "");
		r = -EADDRINUSE;
		goto fail;
	}
	info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
	s->port = info ? info->port : 0;
	*out = s;
	return 0;
fail:
	api_server_stop(s);
	return r;
}

int api_server_port(const struct api_server *s)
{
	return s->port;
}

void api_server_set_tick(struct api_server *s, int64_t tick_ms, int64_t last_ok_wall_ms)
{
	pthread_mutex_lock(&s->mu);
	s->tick_ms = tick_ms;
	if (last_ok_wall_ms)
		s->last_ok_ms = last_ok_wall_ms;
	s->have_tick = 1;
	s->ticks++;
	s->ticks_ms += tick_ms;
	pthread_mutex_unlock(&s->mu);
}

void api_server_tick(struct api_server *s, struct api_tick *t)
{
	pthread_mutex_lock(&s->mu);
	t->have = s->have_tick;
	t->tick_ms = s->tick_ms;
	t->last_ok_ms = s->last_ok_ms;
	t->ticks = s->ticks;
	t->ticks_ms = s->ticks_ms;
	memcpy(t->responses, s->responses, sizeof(t->responses));
	pthread_mutex_unlock(&s->mu);
}

void api_server_stop(struct api_server *s)
{
	struct stat sb;
	if (!s)
		return;
	api_streams_quiesce(s->streams);	/* no connection may stay suspended when a daemon stops */
	if (s->d)
		MHD_stop_daemon(s->d);	/* joins the pool threads: their stores close */
	if (s->unix_d)
		MHD_stop_daemon(s->unix_d);
	if (s->sock_path && lstat(s->sock_path, &sb) == 0 && sb.st_dev == s->sock_dev && sb.st_ino == s->sock_ino)
		unlink(s->sock_path);	/* still ours: not replaced by a later slipway serve */
	if (s->sock_dirfd >= 0)
		close(s->sock_dirfd);
	free(s->sock_path);
	free(s->want_sock);
	api_streams_free(s->streams);
	pthread_key_delete(s->store_key);
	pthread_mutex_destroy(&s->mu);
	free(s->state_dir);
	free(s->project_dir);
	free(s->policy_path);
	free(s->cert_pem);
	free(s->key_pem);
	free(s);
}

int api_server_take_socket(struct api_server *s, struct strbuf *e)
{
	int64_t now = proc_mono_ms();
	int r;
	if (s->unix_d || !s->want_sock || now < s->sock_retry_mono)
		return 0;
	s->sock_retry_mono = now + 1000;
	if ((r = start_unix(s, s->want_sock, NULL, e)) < 0) {
		if (s->sock_dirfd >= 0) {
			close(s->sock_dirfd);
			s->sock_dirfd = -1;
		}
		return r;
	}
	free(s->want_sock);
	s->want_sock = NULL;
	return 1;
}

const char *api_server_socket(const struct api_server *s)
{
	return s->unix_d ? s->sock_path : NULL;
}
