/*
 * test_database.c - databases/NAME.yaml (core/database.c): defaults, the
 * file's values, and the URL rewrites for sqitch and the rehearsal's scratch
 * database; the databases store module (adapters/db_store.c) in memory.
 * Faults as data files: tests/data/databases/ (tests/cli/db-files.sh).
 */
#include "tap.h"
#include "adapters/db_store.h"
#include "adapters/store.h"
#include "base/strbuf.h"
#include "core/database.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_parse(void)
{
	const char *y = "targets: {production: {url_env: P}, staging: {url_file: s.url}}\n";
	const char *full = "project: /srv/db\nservices: [api, web]\ntraffic: maintenance\nmessage: \"soon\"\n"
			   "backup: {dir: b, keep: 3, max_age: 6h}\nrehearsal: {env: qa, using: target, max_age: 2d}\n"
			   "targets: {production: {url_env: P}, qa: {url_env: Q}}\n";
	struct database db;
	struct strbuf err = STRBUF_INIT;

	is_int(database_parse(&db, "app.yaml", y, strlen(y), "app", &err), 0, "minimal file parses");
	is_str(db.name, "app", "name from the file name");
	is_str(db.project, "db/app", "project defaults to db/NAME");
	is_str(db.backup_dir, "backups/app", "backup.dir defaults to backups/NAME");
	is_int(db.backup_keep, 7, "backup.keep defaults to 7");
	ok(db.backup_max_age_ms == 24LL * 3600 * 1000, "backup.max_age defaults to 24h");
	is_str(db.rehearsal_env, "staging", "rehearsals on staging by default");
	is_int(db.rehearsal, DB_REHEARSE_RESTORE, "by restoring production's backup");
	is_int(db.traffic, DB_TRAFFIC_NONE, "traffic none by default");
	is_str(database_target(&db, "staging")->url_file, "s.url", "staging from a file");
	ok(database_target(&db, "qa") == NULL, "no qa target");
	database_release(&db);

	is_int(database_parse(&db, "app.yaml", full, strlen(full), "app", &err), 0, "full file parses");
	is_str(db.project, "/srv/db", "project");
	is_int((int)db.nservices, 2, "two services");
	is_str(db.services[1], "web", "second service");
	is_int(db.traffic, DB_TRAFFIC_MAINTENANCE, "maintenance");
	is_str(db.message, "soon", "message");
	is_int(db.backup_keep, 3, "keep 3");
	ok(db.rehearsal_max_age_ms == 2LL * 86400 * 1000, "rehearsal.max_age 2d");
	is_str(db.rehearsal_env, "qa", "rehearsal env qa");
	is_int(db.rehearsal, DB_REHEARSE_TARGET, "using target");
	database_release(&db);

	strbuf_reset(&err);
	ok(database_parse(&db, "app.yaml", "name: other\n", 12, "app", &err) < 0, "a name other than the file's is refused");
	strbuf_release(&err);
}

static void test_urls(void)
{
	struct strbuf out = STRBUF_INIT;
	is_int(database_url_with_dbname("postgresql://u@%2Ftmp%2Fs/app?sslmode=disable", "scratch", &out), 0, "dbname replaced");
	is_str(out.buf, "postgresql://u@%2Ftmp%2Fs/scratch?sslmode=disable", "host and query kept");
	strbuf_reset(&out);
	database_url_with_dbname("postgres://h:5432", "x", &out);
	is_str(out.buf, "postgres://h:5432/x", "a URL without a database gets one");
	strbuf_reset(&out);
	is_int(database_sqitch_target("postgresql://u@h/app", &out), 0, "sqitch target");
	is_str(out.buf, "db:pg://u@h/app", "db:pg:// form");
	strbuf_reset(&out);
	ok(database_sqitch_target("mysql://h/app", &out) < 0, "not postgresql: refused");
	strbuf_release(&out);
}

static void test_store(void)
{
	struct store st = { 0 };
	struct strbuf err = STRBUF_INIT;
	struct db_backup b = { 0 }, *v = NULL;
	struct db_rehearsal x = { 0 }, got;
	struct db_migration m = { 0 }, m2;
	size_t n = 0;

	ok(store_open_reader(&st, "/nonexistent-slipway-dir", &err) == 0, "in-memory store");
	is_int(db_store_migrate(&st, &err), 0, "databases module migrates");
	snprintf(b.database, sizeof(b.database), "%s", "app");
	snprintf(b.env, sizeof(b.env), "%s", "production");
	snprintf(b.path, sizeof(b.path), "%s", "/b/1.dump");
	memset(b.sha256, 'a', 64);
	b.size_bytes = 1234;
	b.created_ms = 1000;
	is_int(db_store_add_backup(&st, &b, &err), 0, "backup recorded");
	b.created_ms = 2000;
	snprintf(b.change, sizeof(b.change), "%s", "items");
	db_store_add_backup(&st, &b, &err);
	db_store_backups(&st, "app", "production", &v, &n, &err);
	is_int((int)n, 2, "two backups");
	is_str(v[0].change, "items", "newest first");
	db_store_delete_backup(&st, v[1].id, 3000, &err);
	free(v);
	db_store_backups(&st, "app", NULL, &v, &n, &err);
	is_int((int)n, 1, "a deleted backup is not listed");
	free(v);

	snprintf(x.database, sizeof(x.database), "%s", "app");
	snprintf(x.to_change, sizeof(x.to_change), "items");
	snprintf(x.plan_sha256, sizeof(x.plan_sha256), "p1");
	x.ok = 1;
	x.created_ms = 5000;
	db_store_add_rehearsal(&st, &x, &err);
	is_int(db_store_rehearsal_ok(&st, "app", "items", "p1", 4000, &got, &err), 1, "a passing rehearsal of the plan");
	is_int(db_store_rehearsal_ok(&st, "app", "items", "p2", 4000, &got, &err), 0, "not of another plan");
	is_int(db_store_rehearsal_ok(&st, "app", "items", "p1", 6000, &got, &err), 0, "not an older one");

	m.deployment_id = 7;
	snprintf(m.step, sizeof(m.step), "%s", "deploy");
	db_store_put_migration(&st, &m, &err);
	snprintf(m.step, sizeof(m.step), "%s", "verify");
	db_store_put_migration(&st, &m, &err);
	is_int(db_store_get_migration(&st, 7, &m2, &err), 1, "migration found");
	is_str(m2.step, "verify", "its step replaced");
	is_int(db_store_get_migration(&st, 8, &m2, &err), 0, "none for another deployment");
	store_close(&st);
	strbuf_release(&err);
}

int main(void)
{
	test_parse();
	test_urls();
	test_store();
	return tap_done();
}
