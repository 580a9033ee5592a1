/*
 * ofrep.c - OFREP evaluation over the store's flags; see ofrep.h and
 * docs/flags.md.  Error mapping (OFREP's openapi.yaml):
 *   body not JSON                      400 PARSE_ERROR
 *   context missing or not an object,
 *   targetingKey not a string          400 INVALID_CONTEXT
 *   flag not in the environment        404 FLAG_NOT_FOUND
 *   a rule must hash an absent key     400 TARGETING_KEY_MISSING (in bulk:
 *                                      that flag's item, the others answer)
 *   no or a bad token                  401; store unreadable 500 GENERAL
 * Every success carries key, value, reason, variant and metadata (the
 * flag's version and environment).  The bulk ETag is a SHA-256 over the
 * environment's generation (flag_store_generation(): any change of any flag
 * or segment moves it) and the canonical context, so a 304 means the same
 * flags evaluated for the same context.
 *
 * Speed (docs/flags.md "Bench"): each server thread keeps a snapshot of
 * the flags and segments of the environments it was asked about, parsed
 * once, and rebuilt only when the environment's generation moved; a request
 * costs one indexed generation read and the token's look-up (both prepared
 * once per thread, store_prepare_cached()), in one read transaction, then
 * pure evaluation.
 */
#include "server/ofrep.h"
#include "adapters/audit.h"
#include "adapters/flag_store.h"
#include "adapters/sql.h"
#include "adapters/store.h"
#include "adapters/tokens.h"
#include "base/alloc.h"
#include "base/err.h"
#include "base/strbuf.h"
#include "core/flag.h"
#include "core/service.h"
#include "server/api_body.h"

#include <jansson.h>
#include <microhttpd.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define OFREP_PREFIX "/ofrep/v1/evaluate/flags"
#define ENV_HEADER "X-Slipway-Environment"
#define DEFAULT_ENV "production"

/* ---- the per-thread snapshot ---- */

#define SNAP_ENVS 4	/* environments a thread keeps; more are rebuilt in turn */

struct env_snap {
	char *env;			/* owned; NULL: unused slot */
	const struct store *st;		/* the thread store it was read from */
	int64_t gen;			/* flag_store_generation() when read */
	json_t *segs;			/* name -> definition */
	json_t *index;			/* flag name -> its index in v */
	struct flag_record *v;		/* flags, in name order */
	json_t *values;			/* per flag: variant -> its value as JSON text (filled on use) */
	size_t n;
};

struct snaps {
	struct env_snap e[SNAP_ENVS];
	size_t next;			/* the slot replaced next */
};

static pthread_key_t snaps_key;
static pthread_once_t snaps_once = PTHREAD_ONCE_INIT;

static void env_snap_release(struct env_snap *e)
{
	free(e->env);
	json_decref(e->segs);
	json_decref(e->index);
	json_decref(e->values);
	flag_records_free(e->v, e->n);
	memset(e, 0, sizeof(*e));
}

static void snaps_free(void *p)
{
	struct snaps *s = p;
	for (size_t i = 0; i < SNAP_ENVS; i++)
		env_snap_release(&s->e[i]);
	free(s);
}

static void snaps_key_init(void)
{
	if (pthread_key_create(&snaps_key, snaps_free))
		abort();
}

/* This thread's current snapshot of env, read again when its generation moved.
 * NULL on a store error (in err); owned by the thread. */
static struct env_snap *snapshot(struct store *st, const char *env, struct strbuf *err)
{
	struct snaps *s;
	struct env_snap *e = NULL, fresh = { 0 };
	int64_t gen = flag_store_generation(st, env, err);
	size_t i;

	if (gen < 0)
		return NULL;
	pthread_once(&snaps_once, snaps_key_init);
	if (!(s = pthread_getspecific(snaps_key))) {
		s = xcalloc(1, sizeof(*s));
		pthread_setspecific(snaps_key, s);
	}
	for (i = 0; i < SNAP_ENVS; i++)
		if (s->e[i].env && s->e[i].st == st && !strcmp(s->e[i].env, env)) {
			e = &s->e[i];
			if (e->gen == gen)
				return e;
			break;
		}
	/* read gen first: a change racing the reads below moves it again, and the next request rereads */
	if (flag_store_segments(st, env, &fresh.segs, err) < 0)
		return NULL;
	if (flag_store_list(st, env, FLAG_KIND_FLAG, &fresh.v, &fresh.n, err) < 0) {
		json_decref(fresh.segs);
		return NULL;
	}
	fresh.env = xstrdup(env);
	fresh.st = st;
	fresh.gen = gen;
	fresh.index = json_object();
	fresh.values = json_array();
	for (i = 0; i < fresh.n; i++) {
		json_object_set_new(fresh.index, fresh.v[i].name, json_integer((json_int_t)i));
		json_array_append_new(fresh.values, json_object());
	}
	if (!e) {
		e = &s->e[s->next];
		s->next = (s->next + 1) % SNAP_ENVS;
	}
	env_snap_release(e);
	*e = fresh;
	return e;
}

int ofrep_path(const char *url)
{
	return !strncmp(url, "/ofrep/", 7);
}

static int send_json(struct MHD_Connection *conn, unsigned status, json_t *doc, const char *etag, const char *allow,
		     unsigned *sent)
{
	char *text = doc ? json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17)) : NULL;
	size_t len = text ? strlen(text) : 0;
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, text ? text : (char *)"",
								    text ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	int ret;
	if (text)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	if (etag)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, etag);
	if (allow)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
	if (status == 401)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"slipway\"");
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	json_decref(doc);
	*sent = status;
	return ret;
}

static json_t *failure(const char *key, const char *code, const char *details)
{
	json_t *j = json_object();
	if (key)
		json_object_set_new(j, "key", json_string(key));
	json_object_set_new(j, "errorCode", json_string(code));
	json_object_set_new(j, "errorDetails", json_string(details));
	return j;
}

static int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* 0 with the token's user in tok, or -1 with the reason in err (not yet audited: refused()). */
static int authenticate(struct MHD_Connection *conn, struct store *st, struct api_token *tok, struct strbuf *err)
{
	const char *h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	const char *key = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-API-Key");
	char text[TOKEN_CHARS + 1];
	int r;

	if (!h && key && strlen(key) == TOKEN_CHARS) {
		memcpy(text, key, TOKEN_CHARS + 1);
		r = 0;
	} else {
		r = api_bearer_parse(h, text, err);
	}
	if (r == 0 && (r = token_lookup(st, text, tok, err)) == 0)
		return 0;
	return -1;
}

/* A refused request, audited as the API's are (a write: after the read transaction). */
static void refused(struct store *st, const char *method, const char *url, const char *why)
{
	struct strbuf subject = STRBUF_INIT, e2 = STRBUF_INIT;
	strbuf_addf(&subject, "api:%s %.200s", method, url);
	audit_append_json(st, wall_ms(), "anonymous", "api.refused", subject.buf,
			  json_pack("{s:i, s:s}", "status", 401, "why", why), &e2);
	strbuf_release(&subject);
	strbuf_release(&e2);
}

/*
 * One read transaction around a request's reads (the token, the generation, a snapshot
 * rebuilt): in autocommit each statement is its own read transaction, with its own WAL
 * read lock and checks of the database and shared-memory files (docs/flags.md "Bench").
 * Deferred: the first SELECT takes the read lock.  Returns 1 when one began (end it with
 * read_end()), 0 when not (the reads then run in autocommit, as before).
 */
static int read_begin(struct store *st)
{
	struct strbuf err = STRBUF_INIT;
	struct sql_stmt *q;
	int began = 0;
	if (sql_prepare_cached(st, &q, "BEGIN", &err) == 0) {
		began = sql_step(q, NULL) == SQL_DONE;
		sql_reset(q);
	}
	strbuf_release(&err);
	return began;
}

static void read_end(struct store *st, int began)
{
	struct strbuf err = STRBUF_INIT;
	struct sql_stmt *q;
	if (!began)
		return;
	if (sql_prepare_cached(st, &q, "COMMIT", &err) == 0) {
		if (sql_step(q, NULL) != SQL_DONE)
			began = -1;
		sql_reset(q);
	}
	if (began != 1 || store_in_tx(st))	/* never leave it open */
		store_rollback(st);
	strbuf_release(&err);
}

/*
 * Append flag i's success item as compact JSON (key, value, reason, variant,
 * metadata: OFREP's success shape), without building a document: the bulk answer of 100 flags spent
 * most of its time building, dumping and freeing jansson trees.  Every name
 * written unescaped is one that needs no escaping: flag and variant names
 * (flag_name_ok()'s characters) and the environment (service_name_valid()).
 */
/* Append n >= 0 in decimal (strbuf_addf()'s vsnprintf was a fifth of a bulk item). */
static void add_int(struct strbuf *out, int64_t n)
{
	char d[24];
	size_t i = sizeof(d);
	uint64_t u = n < 0 ? 0 : (uint64_t)n;
	do {
		d[--i] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	strbuf_add(out, d + i, sizeof(d) - i);
}

static void add_success(struct strbuf *out, struct env_snap *snap, size_t i, const struct flag_result *res)
{
	json_t *texts = json_array_get(snap->values, i), *text = json_object_get(texts, res->variant);
	if (!text) {
		char *t = json_dumps(res->value, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
		text = json_string(t ? t : "null");
		json_object_set_new(texts, res->variant, text);
		free(t);
	}
	strbuf_addstr(out, "{\"key\":\"");
	strbuf_addstr(out, snap->v[i].name);
	strbuf_addstr(out, "\",\"value\":");
	strbuf_add(out, json_string_value(text), json_string_length(text));
	strbuf_addstr(out, ",\"reason\":\"");
	strbuf_addstr(out, flag_reason_name(res->reason));
	strbuf_addstr(out, "\",\"variant\":\"");
	strbuf_addstr(out, res->variant);
	strbuf_addstr(out, "\",\"metadata\":{\"environment\":\"");
	strbuf_addstr(out, snap->env);
	strbuf_addstr(out, "\",\"version\":");
	add_int(out, snap->v[i].version);
	if (res->rule >= 0) {
		strbuf_addstr(out, ",\"rule\":");
		add_int(out, res->rule + 1);
	}
	strbuf_addstr(out, "}}");
}

static int send_text(struct MHD_Connection *conn, struct strbuf *text, const char *etag, unsigned *sent)
{
	size_t len = text->len;
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, strbuf_detach(text, NULL),
								    MHD_RESPMEM_MUST_FREE);
	int ret;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	if (etag)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, etag);
	ret = MHD_queue_response(conn, 200, resp);
	MHD_destroy_response(resp);
	*sent = 200;
	return ret;
}

static void etag_of(const char *env, int64_t gen, const json_t *ctx, char out[48])
{
	static const char digits[] = "0123456789abcdef";
	char *text = json_dumps(ctx, JSON_COMPACT | JSON_SORT_KEYS);
	struct strbuf s = STRBUF_INIT;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	size_t i;

	strbuf_addf(&s, "%s\n%lld\n%s", env, (long long)gen, text ? text : "");
	EVP_Digest(s.buf, s.len, md, &mdlen, EVP_sha256(), NULL);
	out[0] = '"';
	for (i = 0; i < 20 && i < mdlen; i++) {
		out[1 + 2 * i] = digits[md[i] >> 4];
		out[2 + 2 * i] = digits[md[i] & 15];
	}
	out[1 + 2 * i] = '"';
	out[2 + 2 * i] = '\0';
	free(text);
	strbuf_release(&s);
}

/* Whether If-None-Match (a list of tags, or *) holds tag. */
static int none_match(const char *h, const char *tag)
{
	size_t n = strlen(tag);
	if (!h)
		return 0;
	if (!strcmp(h, "*"))
		return 1;
	for (const char *p = strstr(h, tag); p; p = strstr(p + 1, tag))
		if ((p == h || p[-1] == ' ' || p[-1] == ',' || p[-1] == '/') && (p[n] == '\0' || p[n] == ',' || p[n] == ' '))
			return 1;
	return 0;
}

int ofrep_answer(struct MHD_Connection *conn, struct store *st, const struct strbuf *store_err, const char *method,
		 const char *url, const char *body, size_t len, int too_big, unsigned *status)
{
	struct strbuf err = STRBUF_INIT;
	struct api_token tok = { 0 };
	const char *env = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, ENV_HEADER);
	const char *key = NULL;
	json_error_t je;
	struct strbuf snap_err = STRBUF_INIT;
	struct env_snap *snap = NULL;
	json_t *doc = NULL, *ctx, *tk;
	int bulk, ret, tx, authed;

	if (!strcmp(url, OFREP_PREFIX) || !strcmp(url, OFREP_PREFIX "/")) {
		bulk = 1;
	} else if (!strncmp(url, OFREP_PREFIX "/", sizeof(OFREP_PREFIX)) && url[sizeof(OFREP_PREFIX)]) {
		bulk = 0;
		key = url + sizeof(OFREP_PREFIX);
	} else {
		return send_json(conn, 404, failure(NULL, "GENERAL", "no such path; OFREP is POST "
						   OFREP_PREFIX " and POST " OFREP_PREFIX "/{key}"), NULL, NULL, status);
	}
	if (strcmp(method, "POST"))
		return send_json(conn, 405, failure(key, "GENERAL", "OFREP evaluates with POST"), NULL, "POST", status);
	if (!st)
		return send_json(conn, 500, failure(key, "GENERAL", store_err && store_err->len ? store_err->buf
											: "cannot open the store"),
				 NULL, NULL, status);
	if (!env || !*env)
		env = DEFAULT_ENV;
	/* the token and the environment's snapshot in one read transaction */
	tx = read_begin(st);
	authed = authenticate(conn, st, &tok, &err) == 0;
	if (authed && service_name_valid(env) && !(snap = snapshot(st, env, &snap_err)) && !snap_err.len)
		strbuf_addstr(&snap_err, "cannot read the flags");
	read_end(st, tx);
	if (!authed) {
		refused(st, method, url, err.buf);
		ret = send_json(conn, 401, failure(key, "GENERAL", err.buf), NULL, NULL, status);
		strbuf_release(&err);
		strbuf_release(&snap_err);
		return ret;
	}
	api_token_release(&tok);
	if (!service_name_valid(env)) {
		/* the same rule as the CLI's --env: a name, not a path or a phrase */
		ret = send_json(conn, 400, failure(key, "INVALID_CONTEXT", "the " ENV_HEADER " header must name an "
						   "environment ([A-Za-z0-9._-], 1 to 64 characters)"), NULL, NULL, status);
		goto out;
	}
	if (too_big) {
		ret = send_json(conn, 413, failure(key, "PARSE_ERROR", "the request body is larger than its limit"), NULL,
				NULL, status);
		goto out;
	}
	doc = json_loadb(body ? body : "", len, 0, &je);
	if (!doc) {
		strbuf_addf(&err, "the body is not JSON: %s (line %d, column %d)", je.text, je.line, je.column);
		ret = send_json(conn, 400, failure(key, "PARSE_ERROR", err.buf), NULL, NULL, status);
		goto out;
	}
	ctx = json_object_get(doc, "context");
	if (!json_is_object(doc) || !json_is_object(ctx)) {
		ret = send_json(conn, 400, failure(key, "INVALID_CONTEXT", "the body must be {\"context\": {...}}"), NULL,
				NULL, status);
		goto out;
	}
	tk = json_object_get(ctx, "targetingKey");
	if (tk && !json_is_string(tk) && !json_is_null(tk)) {
		ret = send_json(conn, 400, failure(key, "INVALID_CONTEXT", "targetingKey must be a string"), NULL, NULL,
				status);
		goto out;
	}
	if (!snap) {
		ret = send_json(conn, 500, failure(key, "GENERAL", snap_err.buf), NULL, NULL, status);
		goto out;
	}
	if (!bulk) {
		struct flag_result res;
		const struct flag_record *rec;
		json_t *at = json_object_get(snap->index, key);
		if (!at) {
			strbuf_addf(&err, "flag '%s' was not found in environment '%s'", key, env);
			ret = send_json(conn, 404, failure(key, "FLAG_NOT_FOUND", err.buf), NULL, NULL, status);
			goto out;
		}
		rec = &snap->v[json_integer_value(at)];
		flag_evaluate(rec->def, key, snap->segs, ctx, &res);
		if (res.reason == FLAG_ERROR) {
			ret = send_json(conn, 400, failure(key, flag_error_name(res.error), res.detail), NULL, NULL, status);
		} else {
			struct strbuf text = STRBUF_INIT;
			add_success(&text, snap, (size_t)json_integer_value(at), &res);
			ret = send_text(conn, &text, NULL, status);
		}
	} else {
		char etag[48];
		struct strbuf text = STRBUF_INIT;
		etag_of(env, snap->gen, ctx, etag);
		if (none_match(MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH), etag)) {
			ret = send_json(conn, 304, NULL, etag, NULL, status);
			goto out;
		}
		strbuf_grow(&text, 160 * snap->n + 100);
		strbuf_addstr(&text, "{\"flags\":[");
		for (size_t i = 0; i < snap->n; i++) {
			const struct flag_record *rec = &snap->v[i];
			struct flag_result res;
			flag_evaluate(rec->def, rec->name, snap->segs, ctx, &res);
			if (i)
				strbuf_addch(&text, ',');
			if (res.reason == FLAG_ERROR) {
				json_t *f = failure(rec->name, flag_error_name(res.error), res.detail);
				char *t = json_dumps(f, JSON_COMPACT | JSON_PRESERVE_ORDER);
				strbuf_addstr(&text, t ? t : "null");
				free(t);
				json_decref(f);
			} else {
				add_success(&text, snap, i, &res);
			}
		}
		strbuf_addf(&text, "],\"metadata\":{\"environment\":\"%s\",\"generation\":%lld}}", env,
			    (long long)snap->gen);
		ret = send_text(conn, &text, etag, status);
	}
out:
	json_decref(doc);
	strbuf_release(&err);
	strbuf_release(&snap_err);
	return ret;
}
