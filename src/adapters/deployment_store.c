/*
 * deployment_store.c - schema of the "deployments" store module; see
 * deployment_store.h.  Migrations are append-only.
 */
#include "adapters/deployment_store.h"
#include "adapters/store.h"
#include "base/alloc.h"

static const char *const migrations[] = {
	/* 1 */
	"CREATE TABLE deployments ("
	"  id INTEGER PRIMARY KEY,"
	"  service TEXT NOT NULL,"
	"  env TEXT NOT NULL,"
	"  version TEXT NOT NULL,"
	"  revision INTEGER NOT NULL,"
	"  from_version TEXT,"
	"  type TEXT NOT NULL,"
	"  class TEXT NOT NULL DEFAULT 'normal',"
	"  strategy TEXT NOT NULL,"
	"  state TEXT NOT NULL,"
	"  step INTEGER NOT NULL DEFAULT 0,"
	"  weight REAL NOT NULL DEFAULT 0,"
	"  failed_checks INTEGER NOT NULL DEFAULT 0,"
	"  reason TEXT,"
	"  requested_by TEXT NOT NULL,"
	"  emergency_reason TEXT,"
	"  commit_sha TEXT,"
	"  commit_time_ms INTEGER,"
	"  created_ms INTEGER NOT NULL,"
	"  started_ms INTEGER,"
	"  finished_ms INTEGER,"
	"  state_since_ms INTEGER NOT NULL,"
	"  spec_json TEXT);"
	"CREATE INDEX deployments_service ON deployments(service, env, id);"
	"CREATE INDEX deployments_created ON deployments(created_ms);"
	"CREATE TABLE transitions ("
	"  id INTEGER PRIMARY KEY,"
	"  deployment_id INTEGER NOT NULL REFERENCES deployments(id),"
	"  at_ms INTEGER NOT NULL,"
	"  from_state TEXT,"
	"  to_state TEXT NOT NULL,"
	"  step INTEGER,"
	"  weight REAL,"
	"  reason TEXT,"
	"  detail_json TEXT);"
	"CREATE INDEX transitions_deployment ON transitions(deployment_id, id);"
	"CREATE TABLE intents ("
	"  id INTEGER PRIMARY KEY,"
	"  deployment_id INTEGER NOT NULL REFERENCES deployments(id),"
	"  kind TEXT NOT NULL,"
	"  arg TEXT,"
	"  requested_by TEXT,"
	"  created_ms INTEGER NOT NULL,"
	"  applied_ms INTEGER,"
	"  result TEXT);"
	"CREATE INDEX intents_pending ON intents(deployment_id, applied_ms);"
	"CREATE TABLE analysis_results ("
	"  id INTEGER PRIMARY KEY,"
	"  deployment_id INTEGER NOT NULL REFERENCES deployments(id),"
	"  at_ms INTEGER NOT NULL,"
	"  step INTEGER,"
	"  weight REAL,"
	"  verdict TEXT NOT NULL,"
	"  reason TEXT,"
	"  table_json TEXT);"
	"CREATE INDEX analysis_deployment ON analysis_results(deployment_id, id);",
};

int deployment_store_migrate(struct store *st, struct strbuf *err)
{
	return store_migrate(st, "deployments", migrations, (int)ARRAY_SIZE(migrations), err);
}
