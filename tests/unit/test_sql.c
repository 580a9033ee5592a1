/*
 * test_sql.c - the statement layer (adapters/sql.h) and the store modules
 * ported onto it (schema versions, audit, lease), on both backends:
 *
 *   - the SQLite -> PostgreSQL translations of tests/data/sql-translate/;
 *   - the same module calls on SQLite (always) and on PostgreSQL when
 *     $SLIPWAY_TEST_PG_URL names an empty database (tests/cli/pgstore.sh
 *     starts a PostgreSQL 15 for it; without it those cases are skipped),
 *     with the same answers: the audit chain's head hash is the same on both;
 *   - a module not ported yet refuses on PostgreSQL, naming itself.
 */
#include "tap.h"
#include "adapters/audit.h"
#include "adapters/deployment_store.h"
#include "adapters/incidents.h"
#include "adapters/notify.h"
#include "adapters/lease.h"
#include "adapters/local_store.h"
#include "adapters/sql.h"
#include "adapters/store.h"
#include "adapters/store_all.h"
#include "base/err.h"
#include "base/strbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void translations(void)
{
	FILE *f = fopen(SLIPWAY_SRC_DIR "/tests/data/sql-translate/cases.txt", "r");
	char line[1024], in[1024] = "";
	int n = 0;

	ok(f != NULL, "tests/data/sql-translate/cases.txt opens");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (!strncmp(line, "sqlite: ", 8)) {
			snprintf(in, sizeof(in), "%s", line + 8);
		} else if (!strncmp(line, "pg: ", 4) || !strncmp(line, "error: ", 7)) {
			struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
			int r = sql_pg_translate(in, &out, &err);
			if (line[0] == 'p') {
				ok(r >= 0, "translates: %s", in);
				is_str(out.buf, line + 4, "  as %s", line + 4);
			} else {
				is_int(r, SW_ESTORE, "refused: %s", in);
				ok(strstr(err.buf, line + 7) != NULL, "  saying '%s' (%s)", line + 7, err.buf);
			}
			strbuf_release(&out);
			strbuf_release(&err);
			n++;
		}
	}
	fclose(f);
	ok(n >= 10, "%d translation cases", n);
}

static int exec_sql(struct store *st, const char *sql)
{
	struct sql_stmt *q = NULL;
	int r = sql_prepare(st, &q, sql, NULL);
	if (r >= 0)
		r = sql_step(q, NULL);
	sql_finalize(q);
	return r;
}

static void holder(struct lease *l, const char *id)
{
	memset(l, 0, sizeof(*l));
	snprintf(l->holder, sizeof(l->holder), "%s", id);
	l->pid = 42;
	snprintf(l->host, sizeof(l->host), "testhost");
}

/* Every case on one backend; the audit chain's head into head. */
static void backend(const char *name, const char *dir, int pg, char head[AUDIT_HASH_HEX])
{
	struct store st = { 0 }, st2 = { 0 };
	struct strbuf err = STRBUF_INIT;
	struct audit_entry *list = NULL;
	struct audit_verify_result v;
	struct lease a, b, other, cur;
	struct sql_stmt *q = NULL;
	size_t n = 0;
	int r;

	printf("# backend %s\n", name);
	r = store_open(&st, dir, &err);
	is_int(r, 0, "%s: store opens (%s)", name, err.buf);
	if (r < 0)
		return;
	is_int(st.backend, pg ? STORE_BACKEND_PG : STORE_BACKEND_SQLITE, "%s: the backend", name);
	is_int(audit_migrate(&st, &err), 0, "%s: audit migrates (%s)", name, err.buf);
	is_int(lease_migrate(&st, &err), 0, "%s: lease migrates (%s)", name, err.buf);
	is_int(audit_migrate(&st, &err), 0, "%s: migrating again is a no-op", name);

	/* schema versions as store_migrate() keeps them */
	ok(sql_prepare(&st, &q, "SELECT module, version FROM schema_version ORDER BY module", &err) == 0,
	   "%s: schema_version reads", name);
	is_int(sql_step(q, NULL), SQL_ROW, "%s: a first module", name);
	is_str(sql_column_text(q, 0), "audit", "%s: audit", name);
	is_int(sql_column_int64(q, 1), 1, "%s: at version 1", name);
	is_int(sql_step(q, NULL), SQL_ROW, "%s: a second module", name);
	is_str(sql_column_text(q, 0), "lease", "%s: lease", name);
	is_int(sql_step(q, NULL), SQL_DONE, "%s: and no other", name);
	sql_finalize(q);
	q = NULL;

	/* the audit chain */
	is_int(audit_append(&st, 1000, "alice", "intent.pause", "api/1", "{\"why\":\"look\"}", &err), 1,
	       "%s: audit entry 1", name);
	is_int(audit_append(&st, 2000, "bob", "intent.resume", "api/1", NULL, &err), 2, "%s: audit entry 2", name);
	is_int(store_begin(&st, &err), 0, "%s: a transaction", name);
	is_int(audit_append(&st, 2500, "carol", "intent.abort", "api/1", NULL, &err), 3,
	       "%s: an entry inside it", name);
	store_rollback(&st);
	is_int(audit_append(&st, 3000, "carol", "intent.undo", "api/1", "{}", &err), 3,
	       "%s: the rolled-back entry left no trace: the next is 3 again", name);
	is_int(audit_list(&st, 2000, &list, &n, &err), 0, "%s: audit list since 2000", name);
	is_int(n, 2, "%s: two entries since 2000", name);
	if (n == 2) {
		is_str(list[0].actor, "bob", "%s: bob's first", name);
		is_str(list[1].action, "intent.undo", "%s: then the undo", name);
		is_int(list[1].at_ms, 3000, "%s: at 3000", name);
	}
	audit_entries_free(list, n);
	is_int(audit_verify(&st, &v, &err), 0, "%s: audit verify runs", name);
	is_int(v.entries, 3, "%s: three entries", name);
	is_int(v.bad_id, 0, "%s: the chain holds", name);
	memcpy(head, v.head, AUDIT_HASH_HEX);
	strbuf_reset(&err);
	ok(store_exec(&st, "UPDATE audit SET actor = 'mallory'", &err) < 0 && strstr(err.buf, "append-only"),
	   "%s: the audit log refuses an update (%s)", name, err.buf);
	strbuf_reset(&err);
	ok(store_exec(&st, "DELETE FROM audit WHERE id = 3", &err) < 0 && strstr(err.buf, "append-only"),
	   "%s: and a delete", name);
	strbuf_reset(&err);

	/* the statement layer */
	is_int(exec_sql(&st, "CREATE TABLE sqltest (id INTEGER PRIMARY KEY, name TEXT UNIQUE, n INTEGER)"), SQL_DONE,
	       "%s: a table with an INTEGER PRIMARY KEY", name);
	ok(sql_prepare(&st, &q, "INSERT INTO sqltest(name, n) VALUES (?, ?)", &err) == 0, "%s: insert prepares", name);
	sql_bind_text(q, 1, "one");
	sql_bind_int64(q, 2, (int64_t)1 << 40);
	is_int(sql_step(q, NULL), SQL_DONE, "%s: insert 1", name);
	is_int(sql_changes(q), 1, "%s: one row inserted", name);
	is_int(sql_last_insert_id(&st), 1, "%s: its id is 1", name);
	sql_bind_null(q, 1);
	sql_bind_int64(q, 2, -7);
	is_int(sql_step(q, NULL), SQL_DONE, "%s: a rebind runs again, with NULL", name);
	is_int(sql_last_insert_id(&st), 2, "%s: its id is 2", name);
	sql_finalize(q);
	q = NULL;
	ok(sql_prepare(&st, &q, "INSERT OR IGNORE INTO sqltest(name, n) VALUES (?1, 0)", &err) == 0,
	   "%s: INSERT OR IGNORE prepares", name);
	sql_bind_text(q, 1, "one");
	is_int(sql_step(q, NULL), SQL_DONE, "%s: a duplicate is ignored", name);
	is_int(sql_changes(q), 0, "%s: nothing inserted", name);
	sql_finalize(q);
	q = NULL;
	ok(sql_prepare(&st, &q, "UPDATE sqltest SET n = n + 1", &err) == 0, "%s: update prepares", name);
	is_int(sql_step(q, NULL), SQL_DONE, "%s: update runs", name);
	is_int(sql_changes(q), 2, "%s: two rows changed", name);
	sql_finalize(q);
	q = NULL;
	ok(sql_prepare(&st, &q, "SELECT id, name, n, n > 0 FROM sqltest ORDER BY id", &err) == 0,
	   "%s: select prepares", name);
	is_int(sql_step(q, NULL), SQL_ROW, "%s: row 1", name);
	is_int(sql_column_int64(q, 2), ((int64_t)1 << 40) + 1, "%s: a 64-bit integer comes back", name);
	is_int(sql_column_int64(q, 3), 1, "%s: a comparison reads as 1", name);
	is_int(sql_step(q, NULL), SQL_ROW, "%s: row 2", name);
	ok(sql_column_is_null(q, 1) && sql_column_text(q, 1) == NULL, "%s: NULL reads as NULL", name);
	is_int(sql_column_int64(q, 2), -6, "%s: a negative integer", name);
	is_int(sql_column_int64(q, 3), 0, "%s: a false comparison reads as 0", name);
	is_int(sql_step(q, NULL), SQL_DONE, "%s: no row 3", name);
	sql_reset(q);
	is_int(sql_step(q, NULL), SQL_ROW, "%s: after a reset, row 1 again", name);
	sql_finalize(q);
	q = NULL;
	ok(sql_prepare(&st, &q, "SELECT count(*) FROM sqltest WHERE (?1 IS NULL OR name = ?1) AND ?2 IS NOT NULL",
		       &err) == 0, "%s: a query with optional filters prepares", name);
	sql_bind_null(q, 1);
	sql_bind_int64(q, 2, 5);
	ok(sql_step(q, &err) == SQL_ROW && sql_column_int64(q, 0) == 2, "%s: NULL filter: every row", name);
	sql_bind_text(q, 1, "one");
	ok(sql_step(q, NULL) == SQL_ROW && sql_column_int64(q, 0) == 1, "%s: a filter: its row", name);
	sql_bind_null(q, 2);
	ok(sql_step(q, NULL) == SQL_ROW && sql_column_int64(q, 0) == 0, "%s: IS NOT NULL of a NULL: none", name);
	sql_finalize(q);
	q = NULL;
	ok(sql_prepare(&st, &q, "SELECT ?1 * 2.5", &err) == 0, "%s: doubles prepare", name);
	sql_bind_double(q, 1, 0.1);
	ok(sql_step(q, NULL) == SQL_ROW && sql_column_double(q, 0) == 0.1 * 2.5, "%s: a double round trip", name);
	sql_finalize(q);
	q = NULL;
	strbuf_reset(&err);
	ok(sql_prepare(&st, &q, "SELECT nosuchcolumn FROM sqltest", &err) < 0 || sql_step(q, &err) < 0,
	   "%s: a bad query is an error", name);
	ok(strstr(err.buf, "nosuchcolumn") != NULL, "%s: naming the column (%s)", name, err.buf);
	sql_finalize(q);
	q = NULL;
	strbuf_reset(&err);

	/* the controller lease on two connections */
	is_int(store_open(&st2, dir, &err), 0, "%s: a second connection", name);
	holder(&a, "a");
	holder(&b, "b");
	is_int(lease_acquire(&st, &a, 1000, 5000, &other, &err), 1, "%s: a takes the lease", name);
	is_int(lease_acquire(&st2, &b, 2000, 5000, &other, &err), 0, "%s: b may not while it is live", name);
	is_str(other.holder, "a", "%s: b is told a holds it", name);
	is_int(lease_acquire(&st, &a, 3000, 5000, &other, &err), 1, "%s: a renews", name);
	is_int(a.since_ms, 1000, "%s: keeping its since", name);
	is_int(a.expires_ms, 8000, "%s: until 8000", name);
	is_int(lease_check(&st, "a", 7999, &err), 0, "%s: the fence lets a commit before 8000", name);
	is_int(lease_acquire(&st2, &b, 8000, 5000, &other, &err), 1, "%s: b takes the expired lease", name);
	strbuf_reset(&err);
	is_int(lease_check(&st, "a", 8001, &err), SW_ESTATE, "%s: the fence stops a", name);
	ok(strstr(err.buf, "'b'") != NULL, "%s: naming b (%s)", name, err.buf);
	is_int(lease_read(&st, &cur, &err), 1, "%s: a sees the lease", name);
	is_str(cur.holder, "b", "%s: held by b", name);
	is_int(lease_release(&st2, "b", &err), 0, "%s: b releases", name);
	is_int(lease_read(&st, &cur, &err), 0, "%s: nobody holds it", name);
	if (pg) {
		/* write transactions follow one another: st's holds the write lock, st2 cannot take it */
		is_int(store_begin(&st, &err), 0, "%s: a write transaction", name);
		ok(sql_prepare(&st2, &q, "SELECT pg_try_advisory_xact_lock(32488822435963257)", &err) == 0 &&
		   sql_step(q, NULL) == SQL_ROW && sql_column_int64(q, 0) == 0,
		   "%s: holds the store's write lock against other connections", name);
		sql_finalize(q);
		q = NULL;
		store_rollback(&st);
	}
	store_close(&st2);

	/* every module migrates on both; a module still written for SQLite alone (store_migrate()) is
	 * refused on PostgreSQL, naming the module, before it changes anything */
	strbuf_reset(&err);
	is_int(deployment_store_migrate(&st, &err), 0, "%s: the deployments module migrates", name);
	is_int(notify_migrate(&st, &err), 0, "%s: the notify module migrates", name);
	is_int(incidents_migrate(&st, &err), 0, "%s: the incidents module migrates", name);
	is_int(local_store_migrate(&st, &err), 0, "%s: the local module migrates (%s)", name, err.buf);
	{
		static const char *const lite_only[] = { "CREATE TABLE lite_only (x INTEGER)" };
		strbuf_reset(&err);
		r = store_migrate(&st, "lite-only", lite_only, 1, &err);
		if (pg) {
			is_int(r, SW_ESTORE, "%s: a module on store_migrate() refuses", name);
			ok(strstr(err.buf, "store module 'lite-only' is SQLite-only yet") != NULL, "%s: saying so (%s)",
			   name, err.buf);
		} else {
			is_int(r, 0, "%s: a module on store_migrate() migrates", name);
		}
	}
	store_close(&st);
	strbuf_reset(&err);
	is_int(store_open_all(&st, dir, &err), 0, "%s: every module opens (%s)", name, err.buf);
	store_close(&st);
	strbuf_release(&err);
}

int main(void)
{
	char dir[] = "/tmp/slipway-test-sql.XXXXXX";
	char lite_head[AUDIT_HASH_HEX] = "", pg_head[AUDIT_HASH_HEX] = "";
	const char *url = getenv("SLIPWAY_TEST_PG_URL");

	translations();
	ok(mkdtemp(dir) != NULL, "temporary state directory");
	unsetenv("SLIPWAY_STORE");
	backend("sqlite", dir, 0, lite_head);
	if (url && *url) {
		setenv("SLIPWAY_STORE", url, 1);
		backend("postgresql", dir, 1, pg_head);
		unsetenv("SLIPWAY_STORE");
		is_str(pg_head, lite_head, "the audit chain's head is the same on both backends");
	} else {
		printf("ok %d - PostgreSQL cases # SKIP no $SLIPWAY_TEST_PG_URL (tests/cli/pgstore.sh sets it)\n",
		       ++tap_n_);
	}
	{
		char cmd[256];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			printf("# could not remove %s\n", dir);
	}
	return tap_done();
}
