/*
 * tokens.c - API tokens in the store; see tokens.h.  Only a token's SHA-256
 * is kept (a stolen copy of the store gives no usable token); the token
 * has 256 random bits, so a plain unsalted hash looked up by equality is
 * enough (no password stretching: nothing to guess).
 */
#include "adapters/tokens.h"
#include "adapters/audit.h"
#include "adapters/store.h"
#include "base/alloc.h"
#include "base/err.h"
#include "base/strbuf.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

static const char *const migrations[] = {
	/* 1 */
	"CREATE TABLE api_tokens ("
	"  id INTEGER PRIMARY KEY,"
	"  user TEXT NOT NULL,"
	"  role TEXT,"
	"  hash TEXT NOT NULL UNIQUE,"
	"  prefix TEXT NOT NULL,"
	"  created_ms INTEGER NOT NULL,"
	"  created_by TEXT NOT NULL,"
	"  revoked_ms INTEGER,"
	"  revoked_by TEXT);",
};

int tokens_migrate(struct store *st, struct strbuf *err)
{
	int r = audit_migrate(st, err);
	if (r)
		return r;
	return store_migrate(st, "tokens", migrations, (int)ARRAY_SIZE(migrations), err);
}

static void hex(const unsigned char *b, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = '\0';
}

/* hex SHA-256 of text into out[65] */
static void token_hash(const char *text, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	EVP_Digest(text, strlen(text), md, &mdlen, EVP_sha256(), NULL);
	hex(md, mdlen > 32 ? 32 : mdlen, out);
}

int64_t token_create(struct store *st, const char *user, const char *role, const char *by, int64_t now_ms,
		     char out[TOKEN_CHARS + 1], struct strbuf *err)
{
	_cleanup_stmt_ sqlite3_stmt *ins = NULL;
	unsigned char raw[32];
	char text[TOKEN_CHARS + 1], h[65], prefix[TOKEN_SHOWN_CHARS + 1], subject[48];
	int64_t id;
	int own, r;

	if (RAND_bytes(raw, sizeof(raw)) != 1) {
		strbuf_errf(err, "no random bytes for a token (OpenSSL RAND_bytes failed)");
		return SW_EEXTERNAL;
	}
	memcpy(text, TOKEN_PREFIX, 4);
	hex(raw, sizeof(raw), text + 4);
	token_hash(text, h);
	memcpy(prefix, text, TOKEN_SHOWN_CHARS);
	prefix[TOKEN_SHOWN_CHARS] = '\0';
	if ((own = store_tx_begin(st, err)) < 0)
		return own;
	r = store_prepare(st, &ins, "INSERT INTO api_tokens(user, role, hash, prefix, created_ms, created_by) "
			  "VALUES (?1, ?2, ?3, ?4, ?5, ?6)", err);
	if (r >= 0) {
		sqlite3_bind_text(ins, 1, user, -1, SQLITE_STATIC);
		if (role)
			sqlite3_bind_text(ins, 2, role, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 3, h, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 4, prefix, -1, SQLITE_STATIC);
		sqlite3_bind_int64(ins, 5, now_ms);
		sqlite3_bind_text(ins, 6, by, -1, SQLITE_STATIC);
		if (sqlite3_step(ins) != SQLITE_DONE) {
			strbuf_errf(err, "cannot record the token: %s", sqlite3_errmsg(st->db));
			r = SW_ESTORE;
		}
	}
	id = r >= 0 ? sqlite3_last_insert_rowid(st->db) : 0;
	if (r >= 0) {
		json_t *detail = json_pack("{s:s, s:s?, s:s}", "user", user, "role", role, "prefix", prefix);
		snprintf(subject, sizeof(subject), "token:%lld", (long long)id);
		if (audit_append_json(st, now_ms, by, "token.created", subject, detail, err) < 0)
			r = SW_ESTORE;
	}
	if ((r = store_tx_end(st, own, r, err)) < 0)
		return r;
	memcpy(out, text, TOKEN_CHARS + 1);
	return id;
}

static char *dup_col(sqlite3_stmt *q, int i)
{
	const char *s = (const char *)sqlite3_column_text(q, i);
	return s ? xstrdup(s) : NULL;
}

static void row_to_token(sqlite3_stmt *q, struct api_token *t)
{
	memset(t, 0, sizeof(*t));
	t->id = sqlite3_column_int64(q, 0);
	t->user = dup_col(q, 1);
	t->role = dup_col(q, 2);
	snprintf(t->prefix, sizeof(t->prefix), "%s", (const char *)sqlite3_column_text(q, 3));
	t->created_ms = sqlite3_column_int64(q, 4);
	t->created_by = dup_col(q, 5);
	t->revoked_ms = sqlite3_column_type(q, 6) == SQLITE_NULL ? 0 : sqlite3_column_int64(q, 6);
	t->revoked_by = dup_col(q, 7);
}

#define TOKEN_COLUMNS "id, user, role, prefix, created_ms, created_by, revoked_ms, revoked_by"

int token_list(struct store *st, struct api_token **out, size_t *n, struct strbuf *err)
{
	_cleanup_stmt_ sqlite3_stmt *q = NULL;
	struct api_token *v = NULL;
	size_t nr = 0, alloc = 0;
	int r = store_prepare(st, &q, "SELECT " TOKEN_COLUMNS " FROM api_tokens ORDER BY id", err);
	if (r < 0)
		return r;
	while (sqlite3_step(q) == SQLITE_ROW) {
		ALLOC_GROW(v, nr + 1, alloc);
		row_to_token(q, &v[nr++]);
	}
	*out = v;
	*n = nr;
	return 0;
}

void api_token_release(struct api_token *t)
{
	if (!t)
		return;
	free(t->user);
	free(t->role);
	free(t->created_by);
	free(t->revoked_by);
	memset(t, 0, sizeof(*t));
}

void api_tokens_free(struct api_token *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		api_token_release(&v[i]);
	free(v);
}

int token_revoke(struct store *st, int64_t id, const char *by, int64_t now_ms, struct strbuf *err)
{
	_cleanup_stmt_ sqlite3_stmt *q = NULL, *up = NULL;
	char subject[48];
	int own, r;

	if ((own = store_tx_begin(st, err)) < 0)
		return own;
	r = store_prepare(st, &q, "SELECT revoked_ms FROM api_tokens WHERE id = ?", err);
	if (r >= 0) {
		sqlite3_bind_int64(q, 1, id);
		if (sqlite3_step(q) != SQLITE_ROW) {
			strbuf_errf(err, "no token %lld; see 'slipway token list'", (long long)id);
			r = SW_ENOTFOUND;
		} else if (sqlite3_column_type(q, 0) != SQLITE_NULL) {
			strbuf_errf(err, "token %lld is revoked already", (long long)id);
			r = SW_ESTATE;
		}
	}
	if (r >= 0 && (r = store_prepare(st, &up, "UPDATE api_tokens SET revoked_ms = ?1, revoked_by = ?2 WHERE id = ?3",
					 err)) >= 0) {
		sqlite3_bind_int64(up, 1, now_ms);
		sqlite3_bind_text(up, 2, by, -1, SQLITE_STATIC);
		sqlite3_bind_int64(up, 3, id);
		if (sqlite3_step(up) != SQLITE_DONE) {
			strbuf_errf(err, "cannot revoke token %lld: %s", (long long)id, sqlite3_errmsg(st->db));
			r = SW_ESTORE;
		}
	}
	if (r >= 0) {
		snprintf(subject, sizeof(subject), "token:%lld", (long long)id);
		if (audit_append_json(st, now_ms, by, "token.revoked", subject, NULL, err) < 0)
			r = SW_ESTORE;
	}
	return store_tx_end(st, own, r, err);
}

/* token_hash() of the text this thread looked up last: a client sends the
 * same token on every request, and the digest (OpenSSL's fetch of SHA-256
 * included) costs more than the indexed look-up it keys.  The hash is not a
 * verdict: the row (revocation included) is read every time. */
static void lookup_hash(const char *text, char out[65])
{
	static _Thread_local char last_text[TOKEN_CHARS + 1], last_hash[65];
	size_t n = strlen(text);
	if (n <= TOKEN_CHARS && last_hash[0] && !strcmp(text, last_text)) {
		memcpy(out, last_hash, 65);
		return;
	}
	token_hash(text, out);
	if (n <= TOKEN_CHARS) {
		memcpy(last_text, text, n + 1);
		memcpy(last_hash, out, 65);
	}
}

int token_lookup(struct store *st, const char *text, struct api_token *out, struct strbuf *err)
{
	/* cached: a server looks a token up on every request */
	static const char sql[] = "SELECT " TOKEN_COLUMNS " FROM api_tokens WHERE hash = ?";
	sqlite3_stmt *q;
	char h[65];
	int r = store_prepare_cached(st, &q, sql, err);
	if (r < 0)
		return r;
	lookup_hash(text, h);
	sqlite3_bind_text(q, 1, h, -1, SQLITE_STATIC);
	if (sqlite3_step(q) != SQLITE_ROW) {
		strbuf_errf(err, "unknown token");
		r = SW_EDENIED;
	} else if (sqlite3_column_type(q, 6) != SQLITE_NULL) {
		strbuf_errf(err, "token %lld was revoked", (long long)sqlite3_column_int64(q, 0));
		r = SW_EDENIED;
	} else {
		row_to_token(q, out);
	}
	sqlite3_reset(q);
	return r;
}
