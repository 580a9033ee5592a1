/*
 * local_store.c - schema of the "local" store module; see local_store.h.
 * Migrations are append-only.
 */
#include "adapters/local_store.h"
#include "adapters/sql.h"
#include "adapters/store.h"
#include "base/alloc.h"

static const char *const migrations[] = {
	/* 1 */
	"CREATE TABLE instances ("
	"  id INTEGER PRIMARY KEY,"
	"  service TEXT NOT NULL,"
	"  env TEXT NOT NULL,"
	"  version TEXT NOT NULL,"
	"  idx INTEGER NOT NULL,"
	"  port INTEGER NOT NULL,"
	"  pid INTEGER NOT NULL DEFAULT 0,"
	"  start_time INTEGER NOT NULL DEFAULT 0,"
	"  state TEXT NOT NULL,"
	"  log_path TEXT NOT NULL,"
	"  started_ms INTEGER NOT NULL,"
	"  stopped_ms INTEGER);"
	"CREATE INDEX instances_live ON instances(service, env, version, state);"
	"CREATE TABLE routers ("
	"  service TEXT NOT NULL,"
	"  env TEXT NOT NULL,"
	"  pid INTEGER NOT NULL DEFAULT 0,"
	"  start_time INTEGER NOT NULL DEFAULT 0,"
	"  cfg_path TEXT,"
	"  socket_path TEXT NOT NULL,"
	"  mode TEXT NOT NULL DEFAULT 'normal',"
	"  message TEXT,"
	"  started_ms INTEGER,"
	"  PRIMARY KEY (service, env));"
	"CREATE TABLE router_servers ("
	"  service TEXT NOT NULL,"
	"  env TEXT NOT NULL,"
	"  name TEXT NOT NULL,"
	"  version TEXT NOT NULL,"
	"  idx INTEGER NOT NULL,"
	"  port INTEGER NOT NULL,"
	"  weight INTEGER NOT NULL,"
	"  state TEXT NOT NULL DEFAULT 'ready',"
	"  PRIMARY KEY (service, env, name));",
	/* 2: the live driver's cursor (controller/local_deploy.c) */
	"CREATE TABLE deploy_cursor ("
	"  deployment_id INTEGER PRIMARY KEY,"
	"  json TEXT NOT NULL);",
	/* 3: servers on other hosts (the ssh target, docs/fleet.md): where HAProxy connects */
	"ALTER TABLE router_servers ADD COLUMN addr TEXT NOT NULL DEFAULT '127.0.0.1';",
};

int local_store_migrate(struct store *st, struct strbuf *err)
{
	return store_migrate_ported(st, "local", migrations, NULL, (int)ARRAY_SIZE(migrations), err);
}
