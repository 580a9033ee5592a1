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
 */
#include "server/ofrep.h"
#include "adapters/audit.h"
#include "adapters/flag_store.h"
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
#include <string.h>
#include <time.h>

#define OFREP_PREFIX "/ofrep/v1/evaluate/flags"
#define ENV_HEADER "X-Slipway-Environment"
#define DEFAULT_ENV "production"

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

/* 0 with the token's user in tok, or -1 (and the refusal audited, as the API's). */
static int authenticate(struct MHD_Connection *conn, struct store *st, const char *method, const char *url,
			struct api_token *tok, struct strbuf *err)
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
	{
		struct strbuf subject = STRBUF_INIT, e2 = STRBUF_INIT;
		strbuf_addf(&subject, "api:%s %.200s", method, url);
		audit_append_json(st, wall_ms(), "anonymous", "api.refused", subject.buf,
				  json_pack("{s:i, s:s}", "status", 401, "why", err->buf), &e2);
		strbuf_release(&subject);
		strbuf_release(&e2);
	}
	return -1;
}

static json_t *success(const char *key, const struct flag_result *res, const char *env, int64_t version)
{
	json_t *j = json_pack("{s:s}", "key", key), *md;
	json_object_set(j, "value", (json_t *)res->value);
	json_object_set_new(j, "reason", json_string(flag_reason_name(res->reason)));
	json_object_set_new(j, "variant", json_string(res->variant));
	md = json_pack("{s:s, s:I}", "environment", env, "version", (json_int_t)version);
	if (res->rule >= 0)
		json_object_set_new(md, "rule", json_integer(res->rule + 1));
	json_object_set_new(j, "metadata", md);
	return j;
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
	json_t *doc = NULL, *ctx, *segs = NULL, *tk;
	int bulk, ret;

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
	if (authenticate(conn, st, method, url, &tok, &err) < 0) {
		ret = send_json(conn, 401, failure(key, "GENERAL", err.buf), NULL, NULL, status);
		strbuf_release(&err);
		return ret;
	}
	api_token_release(&tok);
	if (!env || !*env)
		env = DEFAULT_ENV;
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
	if (flag_store_segments(st, env, &segs, &err) < 0) {
		ret = send_json(conn, 500, failure(key, "GENERAL", err.buf), NULL, NULL, status);
		goto out;
	}
	if (!bulk) {
		struct flag_record rec;
		struct flag_result res;
		int r = flag_store_get(st, env, FLAG_KIND_FLAG, key, &rec, &err);
		if (r == SW_ENOTFOUND) {
			strbuf_reset(&err);
			strbuf_addf(&err, "flag '%s' was not found in environment '%s'", key, env);
			ret = send_json(conn, 404, failure(key, "FLAG_NOT_FOUND", err.buf), NULL, NULL, status);
			goto out;
		}
		if (r < 0) {
			ret = send_json(conn, 500, failure(key, "GENERAL", err.buf), NULL, NULL, status);
			goto out;
		}
		flag_evaluate(rec.def, key, segs, ctx, &res);
		if (res.reason == FLAG_ERROR)
			ret = send_json(conn, 400, failure(key, flag_error_name(res.error), res.detail), NULL, NULL, status);
		else
			ret = send_json(conn, 200, success(key, &res, env, rec.version), NULL, NULL, status);
		flag_record_release(&rec);
	} else {
		struct flag_record *v = NULL;
		size_t n = 0;
		int64_t gen = flag_store_generation(st, env, &err);
		char etag[48];
		json_t *flags, *out;
		if (gen < 0 || flag_store_list(st, env, FLAG_KIND_FLAG, &v, &n, &err) < 0) {
			ret = send_json(conn, 500, failure(NULL, "GENERAL", err.buf), NULL, NULL, status);
			goto out;
		}
		etag_of(env, gen, ctx, etag);
		if (none_match(MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH), etag)) {
			flag_records_free(v, n);
			ret = send_json(conn, 304, NULL, etag, NULL, status);
			goto out;
		}
		flags = json_array();
		for (size_t i = 0; i < n; i++) {
			struct flag_result res;
			flag_evaluate(v[i].def, v[i].name, segs, ctx, &res);
			json_array_append_new(flags, res.reason == FLAG_ERROR
						     ? failure(v[i].name, flag_error_name(res.error), res.detail)
						     : success(v[i].name, &res, env, v[i].version));
		}
		flag_records_free(v, n);
		out = json_pack("{s:o, s:{s:s, s:I}}", "flags", flags, "metadata", "environment", env, "generation",
				(json_int_t)gen);
		ret = send_json(conn, 200, out, etag, NULL, status);
	}
out:
	json_decref(doc);
	json_decref(segs);
	strbuf_release(&err);
	return ret;
}
