/*
 * database.c - databases/NAME.yaml (docs/databases.md) through the one YAML
 * walker: a table of keys per mapping; targets are a mapping keyed by
 * environment names the file chooses.
 */
#include "core/database.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libfyaml.h>

#include "base/alloc.h"
#include "base/err.h"
#include "base/strbuf.h"
#include "core/service.h"
#include "core/yaml_walk.h"

static const char *const engines[] = { "pg", NULL };
static const char *const traffic_names[] = { "none", "read-only", "maintenance", NULL };
static const char *const rehearsal_names[] = { "restore", "target", NULL };

#define HOUR_MS (3600LL * 1000)

struct db_doc {
	struct database db;
	const char *expect_name;
	struct fy_node *targets;
	struct yaml_pos targets_at;
	struct yaml_pos name_at;
};

const char *database_traffic_name(enum database_traffic t)
{
	return (unsigned)t < 3 ? traffic_names[t] : "none";
}

static int parse_name(struct yaml_walk *w, const struct yaml_key *k, struct fy_node *v, struct yaml_pos at,
		      void *dst)
{
	struct db_doc *d = w->user;
	char *s = NULL;
	int r;
	(void)k, (void)dst;
	if ((r = yaml_walk_scalar(w, v, at, "name", SW_NAME_MAX + 16, &s)) < 0)
		return r;
	if (!service_name_valid(s))
		r = yaml_walk_fail(w, yaml_walk_pos(v, at), "database name '%.80s' must be 1 to 64 of A-Z a-z 0-9 . _ -", s);
	else if (d->expect_name && strcmp(s, d->expect_name))
		r = yaml_walk_fail(w, yaml_walk_pos(v, at), "name '%s' differs from the file's name '%s' "
				   "(databases/%s.yaml); remove 'name' or make them agree", s, d->expect_name,
				   d->expect_name);
	else
		memcpy(d->db.name, s, strlen(s) + 1);
	free(s);
	return r;
}

static int add_service(struct yaml_walk *w, struct fy_node *item, struct yaml_pos at, void *ctx)
{
	struct database *db = ctx;
	char *s = NULL;
	int r;
	if ((r = yaml_walk_scalar(w, item, at, "a service", SW_NAME_MAX + 16, &s)) < 0)
		return r;
	if (!service_name_valid(s))
		r = yaml_walk_fail(w, yaml_walk_pos(item, at), "service name '%.80s' must be 1 to 64 of A-Z a-z 0-9 . _ -",
				   s);
	else
		memcpy(db->services[db->nservices++], s, strlen(s) + 1);
	free(s);
	return r;
}

static int parse_services(struct yaml_walk *w, const struct yaml_key *k, struct fy_node *v, struct yaml_pos at,
			  void *dst)
{
	(void)k;
	if (yaml_walk_is_scalar(v))
		return add_service(w, v, at, dst);
	return yaml_walk_items(w, v, at, "services", DATABASE_MAX_SERVICES, add_service, dst);
}

static const struct yaml_map backup_map = {
	.where = "'backup'",
	.keys = (const struct yaml_key[]){
		{ "dir", yaml_parse_str, offsetof(struct db_doc, db.backup_dir), .size = DATABASE_TEXT_MAX },
		{ "keep", yaml_parse_int, offsetof(struct db_doc, db.backup_keep), 1, 1000 },
		{ "max_age", yaml_parse_duration, offsetof(struct db_doc, db.backup_max_age_ms), 60000, 0 },
		{ NULL },
	},
};

static const struct yaml_map rehearsal_map = {
	.where = "'rehearsal'",
	.keys = (const struct yaml_key[]){
		{ "env", yaml_parse_buf, offsetof(struct db_doc, db.rehearsal_env), .size = SW_NAME_MAX + 1 },
		{ "using", yaml_parse_enum, offsetof(struct db_doc, db.rehearsal), .names = rehearsal_names },
		{ "max_age", yaml_parse_duration, offsetof(struct db_doc, db.rehearsal_max_age_ms), 60000, 0 },
		{ NULL },
	},
};

static int check_target(struct yaml_walk *w, void *obj, struct yaml_pos at)
{
	struct database_target *t = obj;
	if (!t->url_env == !t->url_file)
		return yaml_walk_fail(w, at, "target '%s' needs exactly one of 'url_env' (an environment variable "
				      "holding the connection URL) or 'url_file' (a file holding it)", t->env);
	if (t->url_env && !t->url_env[0])
		return yaml_walk_fail(w, at, "target '%s': 'url_env' is empty; name an environment variable", t->env);
	return 0;
}

static const struct yaml_map target_map = {
	.where = "a target",
	.keys = (const struct yaml_key[]){
		{ "url_env", yaml_parse_str, offsetof(struct database_target, url_env), .size = 256 },
		{ "url_file", yaml_parse_str, offsetof(struct database_target, url_file), .size = DATABASE_TEXT_MAX },
		{ NULL },
	},
	.check = check_target,
};

static int keep_targets(struct yaml_walk *w, const struct yaml_key *k, struct fy_node *v, struct yaml_pos at,
			void *dst)
{
	struct db_doc *d = dst;
	(void)w, (void)k;
	d->targets = v;
	d->targets_at = at;
	return 0;
}

static const struct yaml_map root_map = {
	.where = "the database",
	.keys = (const struct yaml_key[]){
		{ "name", parse_name, 0, .at = YAML_AT(struct db_doc, name_at) },
		{ "engine", yaml_parse_enum, offsetof(struct db_doc, db.engine), .names = engines },
		{ "project", yaml_parse_str, offsetof(struct db_doc, db.project), .size = DATABASE_TEXT_MAX },
		{ "services", parse_services, offsetof(struct db_doc, db) },
		{ "traffic", yaml_parse_enum, offsetof(struct db_doc, db.traffic), .names = traffic_names },
		{ "message", yaml_parse_str, offsetof(struct db_doc, db.message), .size = 400 },
		{ "backup", yaml_parse_map, 0, .map = &backup_map },
		{ "rehearsal", yaml_parse_map, 0, .map = &rehearsal_map },
		{ "targets", keep_targets, 0, .flags = YAML_REQUIRED,
		  .hint = "(e.g. production: {url_env: APP_DATABASE_URL})" },
		{ NULL },
	},
};

static int add_target(struct yaml_walk *w, const char *key, struct yaml_pos kat, struct fy_node *v, void *ctx)
{
	struct database *db = ctx;
	struct database_target *t;
	struct strbuf where = STRBUF_INIT;
	int r;

	if (!service_name_valid(key))
		return yaml_walk_fail(w, kat, "environment name must be 1 to 64 of A-Z a-z 0-9 . _ -, not '%.80s'", key);
	if (db->ntargets >= DATABASE_MAX_TARGETS)
		return yaml_walk_fail(w, kat, "at most %d targets", DATABASE_MAX_TARGETS);
	t = &db->targets[db->ntargets++];
	memcpy(t->env, key, strlen(key) + 1);
	strbuf_addf(&where, "target '%s'", key);
	r = yaml_walk_map(w, v, kat, &target_map, where.buf, t);
	strbuf_release(&where);
	return r;
}

static int finish(struct yaml_walk *w, struct db_doc *d)
{
	struct database *db = &d->db;
	int r;

	if (!db->name[0]) {
		if (!d->expect_name)
			return yaml_walk_fail(w, YAML_ROOT_POS, "the database needs 'name'");
		if (!service_name_valid(d->expect_name))
			return yaml_walk_fail(w, YAML_ROOT_POS, "database name '%.80s' must be 1 to 64 of A-Z a-z 0-9 . _ -",
					      d->expect_name);
		memcpy(db->name, d->expect_name, strlen(d->expect_name) + 1);
	}
	if (!yaml_walk_is_mapping(d->targets))
		return yaml_walk_fail(w, d->targets_at, "'targets' must be a mapping from environment names to "
				      "connections (e.g. production: {url_env: APP_DATABASE_URL}), found %s",
				      yaml_walk_kind(d->targets));
	if ((r = yaml_walk_entries(w, d->targets, d->targets_at, "'targets'", DATABASE_MAX_TARGETS, add_target, db)) < 0)
		return r;
	for (size_t i = 0; i < db->ntargets; i++)
		for (size_t j = i + 1; j < db->ntargets; j++)
			if (!strcmp(db->targets[i].env, db->targets[j].env))
				return yaml_walk_fail(w, d->targets_at, "target '%s' is defined twice", db->targets[i].env);
	if (!database_target(db, "production"))
		return yaml_walk_fail(w, d->targets_at, "'targets' needs 'production' (what `slipway db migrate` changes "
				      "and `slipway db backup` saves)");
	if (!database_target(db, db->rehearsal_env))
		return yaml_walk_fail(w, d->targets_at, "'targets' needs '%s', where rehearsals run (rehearsal.env); "
				      "valid: an environment listed under 'targets'", db->rehearsal_env);
	if (!strcmp(db->rehearsal_env, "production"))
		return yaml_walk_fail(w, d->targets_at, "rehearsal.env must not be 'production': the rollback test "
				      "reverts changes (use staging)");
	return 0;
}

int database_parse(struct database *out, const char *file, const char *buf, size_t len, const char *expect_name,
		   struct strbuf *err)
{
	struct yaml_walk w;
	struct fy_node *root;
	struct db_doc d;
	int r;

	memset(&d, 0, sizeof(d));
	d.expect_name = expect_name;
	d.db.backup_keep = 7;
	d.db.backup_max_age_ms = 24 * HOUR_MS;
	d.db.rehearsal_max_age_ms = 7 * 24 * HOUR_MS;
	memcpy(d.db.rehearsal_env, "staging", sizeof("staging"));
	if ((r = yaml_walk_open(&w, file, "a database file", buf, len, DATABASE_FILE_MAX, err, &root)) < 0)
		return r;
	w.user = &d;
	r = yaml_walk_map(&w, root, YAML_ROOT_POS, &root_map, NULL, &d);
	if (r >= 0)
		r = finish(&w, &d);
	yaml_walk_close(&w);
	if (r < 0) {
		database_release(&d.db);
		return r;
	}
	if (!d.db.project) {
		struct strbuf sb = STRBUF_INIT;
		strbuf_addf(&sb, "db/%s", d.db.name);
		d.db.project = strbuf_detach(&sb, NULL);
	}
	if (!d.db.backup_dir) {
		struct strbuf sb = STRBUF_INIT;
		strbuf_addf(&sb, "backups/%s", d.db.name);
		d.db.backup_dir = strbuf_detach(&sb, NULL);
	}
	*out = d.db;
	return 0;
}

void database_release(struct database *db)
{
	if (!db)
		return;
	free(db->project);
	free(db->message);
	free(db->backup_dir);
	for (size_t i = 0; i < db->ntargets; i++) {
		free(db->targets[i].url_env);
		free(db->targets[i].url_file);
	}
	memset(db, 0, sizeof(*db));
}

const struct database_target *database_target(const struct database *db, const char *env)
{
	for (size_t i = 0; i < db->ntargets; i++)
		if (!strcmp(db->targets[i].env, env))
			return &db->targets[i];
	return NULL;
}

/* The length of "postgresql://" or "postgres://" at the start of u, or 0. */
static size_t pg_scheme(const char *u)
{
	if (!strncmp(u, "postgresql://", 13))
		return 13;
	if (!strncmp(u, "postgres://", 11))
		return 11;
	return 0;
}

int database_url_with_dbname(const char *u, const char *dbname, struct strbuf *out)
{
	size_t s = pg_scheme(u), host_end, q;
	if (!s)
		return SW_ECONFIG;
	host_end = s + strcspn(u + s, "/?");
	q = host_end + strcspn(u + host_end, "?");
	strbuf_add(out, u, host_end);
	strbuf_addf(out, "/%s", dbname);
	strbuf_addstr(out, u + q);
	return 0;
}

int database_sqitch_target(const char *u, struct strbuf *out)
{
	size_t s = pg_scheme(u);
	if (!s)
		return SW_ECONFIG;
	strbuf_addstr(out, "db:pg://");
	strbuf_addstr(out, u + s);
	return 0;
}
