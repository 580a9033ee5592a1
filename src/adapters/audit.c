/*
 * audit.c - the hash-chained audit log; see audit.h for the format.
 *
 * The chain is computed here, not in SQL, so that verification reads rows
 * exactly as stored and recomputes every hash: a row whose content was
 * edited no longer matches its hash, and the row after a deleted one no
 * longer matches its prev_hash.  SHA-256 comes from OpenSSL's libcrypto
 * (EVP interface), the hash library every Debian system already carries.
 */
#include "adapters/audit.h"
#include "adapters/sql.h"
#include "adapters/store.h"
#include "base/alloc.h"
#include "base/err.h"
#include "base/strbuf.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

static const char *const migrations[] = {
	/* 1 */
	"CREATE TABLE audit ("
	"  id INTEGER PRIMARY KEY,"
	"  at_ms INTEGER NOT NULL,"
	"  actor TEXT NOT NULL,"
	"  action TEXT NOT NULL,"
	"  subject TEXT NOT NULL,"
	"  detail TEXT NOT NULL,"
	"  prev_hash TEXT NOT NULL,"
	"  hash TEXT NOT NULL);"
	"CREATE INDEX audit_at ON audit(at_ms);"
	"CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit"
	"  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;"
	"CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit"
	"  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;",
};

/* The same on PostgreSQL: its triggers call a function (PostgreSQL 15 documentation, "CREATE TRIGGER"). */
static const char *const pg_migrations[] = {
	/* 1 */
	"CREATE TABLE audit ("
	"  id BIGINT PRIMARY KEY,"
	"  at_ms BIGINT NOT NULL,"
	"  actor TEXT NOT NULL,"
	"  action TEXT NOT NULL,"
	"  subject TEXT NOT NULL,"
	"  detail TEXT NOT NULL,"
	"  prev_hash TEXT NOT NULL,"
	"  hash TEXT NOT NULL);"
	"CREATE INDEX audit_at ON audit(at_ms);"
	"CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS"
	"  $$ BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$;"
	"CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit"
	"  FOR EACH ROW EXECUTE FUNCTION audit_append_only();"
	"CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit"
	"  FOR EACH ROW EXECUTE FUNCTION audit_append_only();"
	"CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit"
	"  FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();",
};

static const char zero_hash[AUDIT_HASH_HEX] =
	"0000000000000000000000000000000000000000000000000000000000000000";

int audit_migrate(struct store *st, struct strbuf *err)
{
	return store_migrate_ported(st, "audit", migrations, pg_migrations, (int)ARRAY_SIZE(migrations), err);
}

void audit_entry_hash(const struct audit_entry *e, char out[AUDIT_HASH_HEX])
{
	json_t *a = json_pack("[I, I, s, s, s, s, s]", (json_int_t)e->id, (json_int_t)e->at_ms,
			      e->actor ? e->actor : "", e->action ? e->action : "",
			      e->subject ? e->subject : "", e->detail ? e->detail : "", e->prev_hash);
	char *canon = json_dumps(a, JSON_COMPACT | JSON_ENSURE_ASCII);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	if (!a || !canon || !ctx) {
		fprintf(stderr, "slipway: out of memory hashing an audit entry\n");
		abort();
	}
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	EVP_DigestUpdate(ctx, e->prev_hash, strlen(e->prev_hash));
	EVP_DigestUpdate(ctx, canon, strlen(canon));
	EVP_DigestFinal_ex(ctx, md, &mdlen);
	EVP_MD_CTX_free(ctx);
	for (unsigned int i = 0; i < mdlen && i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	out[64] = '\0';
	free(canon);
	json_decref(a);
}

static void copy_hash(char dst[AUDIT_HASH_HEX], const char *src)
{
	snprintf(dst, AUDIT_HASH_HEX, "%s", src ? src : "");
}

int64_t audit_append(struct store *st, int64_t at_ms, const char *actor, const char *action,
		     const char *subject, const char *detail, struct strbuf *err)
{
	_cleanup_sql_ struct sql_stmt *last = NULL, *ins = NULL;
	struct strbuf e_msg = STRBUF_INIT;
	struct audit_entry e = { 0 };
	int own_tx = 0;
	int r;

	if ((own_tx = store_tx_begin(st, err)) < 0)
		return own_tx;
	r = sql_prepare(st, &last, "SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1", err);
	if (r)
		goto fail;
	e.id = 1;
	memcpy(e.prev_hash, zero_hash, AUDIT_HASH_HEX);
	if (sql_step(last, NULL) == SQL_ROW) {
		e.id = sql_column_int64(last, 0) + 1;
		copy_hash(e.prev_hash, sql_column_text(last, 1));
	}
	e.at_ms = at_ms;
	e.actor = (char *)(actor ? actor : "slipway");
	e.action = (char *)action;
	e.subject = (char *)(subject ? subject : "");
	e.detail = (char *)(detail ? detail : "{}");
	audit_entry_hash(&e, e.hash);
	r = sql_prepare(st, &ins,
			"INSERT INTO audit(id, at_ms, actor, action, subject, detail, prev_hash, hash)"
			" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", err);
	if (r)
		goto fail;
	sql_bind_int64(ins, 1, e.id);
	sql_bind_int64(ins, 2, e.at_ms);
	sql_bind_text(ins, 3, e.actor);
	sql_bind_text(ins, 4, e.action);
	sql_bind_text(ins, 5, e.subject);
	sql_bind_text(ins, 6, e.detail);
	sql_bind_text(ins, 7, e.prev_hash);
	sql_bind_text(ins, 8, e.hash);
	if (sql_step(ins, &e_msg) != SQL_DONE) {
		strbuf_errf(err, "store '%s': cannot append to the audit log: %s", st->path, e_msg.buf);
		r = SW_ESTORE;
		goto fail;
	}
	r = 0;
fail:
	strbuf_release(&e_msg);
	r = store_tx_end(st, own_tx, r, err);
	return r < 0 ? r : e.id;
}

int64_t audit_append_json(struct store *st, int64_t at_ms, const char *actor, const char *action,
			  const char *subject, json_t *detail, struct strbuf *err)
{
	char *text = detail ? json_dumps(detail, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	int64_t r = audit_append(st, at_ms, actor, action, subject, text, err);
	free(text);
	json_decref(detail);
	return r;
}

static char *col_dup(struct sql_stmt *s, int i)
{
	const char *t = sql_column_text(s, i);
	return xstrdup(t ? t : "");
}

int audit_list(struct store *st, int64_t since_ms, struct audit_entry **out, size_t *n,
	       struct strbuf *err)
{
	_cleanup_sql_ struct sql_stmt *q = NULL;
	struct strbuf e_msg = STRBUF_INIT;
	struct audit_entry *v = NULL;
	size_t nr = 0, alloc = 0;
	int r, rc;

	r = sql_prepare(st, &q,
			"SELECT id, at_ms, actor, action, subject, detail, prev_hash, hash FROM audit"
			" WHERE at_ms >= ?1 ORDER BY id", err);
	if (r)
		return r;
	sql_bind_int64(q, 1, since_ms);
	while ((rc = sql_step(q, &e_msg)) == SQL_ROW) {
		struct audit_entry *e;
		ALLOC_GROW(v, nr + 1, alloc);
		e = &v[nr++];
		e->id = sql_column_int64(q, 0);
		e->at_ms = sql_column_int64(q, 1);
		e->actor = col_dup(q, 2);
		e->action = col_dup(q, 3);
		e->subject = col_dup(q, 4);
		e->detail = col_dup(q, 5);
		copy_hash(e->prev_hash, sql_column_text(q, 6));
		copy_hash(e->hash, sql_column_text(q, 7));
	}
	if (rc != SQL_DONE) {
		strbuf_errf(err, "store '%s': %s", st->path, e_msg.buf);
		strbuf_release(&e_msg);
		audit_entries_free(v, nr);
		return SW_ESTORE;
	}
	*out = v;
	*n = nr;
	return 0;
}

void audit_entries_free(struct audit_entry *e, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(e[i].actor);
		free(e[i].action);
		free(e[i].subject);
		free(e[i].detail);
	}
	free(e);
}

int audit_verify(struct store *st, struct audit_verify_result *res, struct strbuf *err)
{
	_cleanup_sql_ struct sql_stmt *q = NULL;
	struct strbuf e_msg = STRBUF_INIT;
	struct audit_verify_result v = { 0 };
	char prev[AUDIT_HASH_HEX];
	int64_t expect_id = 1;
	int r, rc;

	memcpy(prev, zero_hash, AUDIT_HASH_HEX);
	r = sql_prepare(st, &q,
			"SELECT id, at_ms, actor, action, subject, detail, prev_hash, hash FROM audit ORDER BY id",
			err);
	if (r)
		return r;
	while ((rc = sql_step(q, &e_msg)) == SQL_ROW) {
		struct audit_entry e;
		char want[AUDIT_HASH_HEX];

		e.id = sql_column_int64(q, 0);
		e.at_ms = sql_column_int64(q, 1);
		e.actor = (char *)sql_column_text(q, 2);
		e.action = (char *)sql_column_text(q, 3);
		e.subject = (char *)sql_column_text(q, 4);
		e.detail = (char *)sql_column_text(q, 5);
		copy_hash(e.prev_hash, sql_column_text(q, 6));
		copy_hash(e.hash, sql_column_text(q, 7));
		v.entries++;
		if (!v.bad_id) {
			if (e.id != expect_id) {
				v.bad_id = e.id;
				snprintf(v.why, sizeof(v.why), "expected entry %lld next: entries before it were deleted",
					 (long long)expect_id);
			} else if (strcmp(e.prev_hash, prev)) {
				v.bad_id = e.id;
				snprintf(v.why, sizeof(v.why),
					 "its prev_hash does not match entry %lld: the entry before it was changed or deleted",
					 (long long)(e.id - 1));
			} else {
				audit_entry_hash(&e, want);
				if (strcmp(want, e.hash)) {
					v.bad_id = e.id;
					snprintf(v.why, sizeof(v.why),
						 "its content does not match its hash: the row was changed");
				}
			}
		}
		memcpy(prev, e.hash, AUDIT_HASH_HEX);
		expect_id = e.id + 1;
	}
	if (rc != SQL_DONE) {
		strbuf_errf(err, "store '%s': %s", st->path, e_msg.buf);
		strbuf_release(&e_msg);
		return SW_ESTORE;
	}
	memcpy(v.head, prev, AUDIT_HASH_HEX);
	*res = v;
	return 0;
}
