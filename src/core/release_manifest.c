/*
 * release_manifest.c - a release's `slipway-release.yaml`; see
 * release_manifest.h and docs/checklists.md.
 *
 * Design: the file is the release's own (CI writes it beside the binary),
 * so the flags and database changes follow the version, not the service:
 * the service file says what every release runs, the manifest what this
 * one needs.
 */
#include "core/release_manifest.h"

#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/strbuf.h"
#include "core/flag.h"
#include "core/service.h"

static int add_flag(struct yaml_walk *w, struct fy_node *item, struct yaml_pos at, void *dst)
{
	struct release_manifest *m = dst;
	char *s = NULL;
	int r = yaml_walk_scalar(w, item, at, "a flag name", 256, &s);

	if (r < 0)
		return r;
	if (!flag_name_ok(s))
		r = yaml_walk_fail(w, at, "'%.80s' is not a flag name: 1 to 200 letters, digits and . _ - : /", s);
	for (size_t i = 0; r >= 0 && i < m->nflags; i++)
		if (!strcmp(m->flags[i], s))
			r = yaml_walk_fail(w, at, "flag '%s' is listed twice; list it once", s);
	if (r < 0) {
		free(s);
		return r;
	}
	m->flags = xrealloc(m->flags, (m->nflags + 1) * sizeof(*m->flags));
	m->flags[m->nflags++] = s;
	return 0;
}

static int change_ok(const char *s)
{
	size_t n = strlen(s);
	if (!n || n > RELEASE_CHANGE_MAX)
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || *s == 0x7f)
			return 0;
	return 1;
}

static int add_migration(struct yaml_walk *w, const char *db, struct yaml_pos at, struct fy_node *v, void *dst)
{
	struct release_manifest *m = dst;
	char *s = NULL;
	int r;

	if (!service_name_valid(db))
		return yaml_walk_fail(w, at, "'%.80s' is not a database name (databases/NAME.yaml): 1 to 64 of A-Z a-z 0-9 . _ -",
				      db);
	for (size_t i = 0; i < m->nmigrations; i++)
		if (!strcmp(m->migrations[i].database, db))
			return yaml_walk_fail(w, at, "database '%s' is listed twice", db);
	at = yaml_walk_pos(v, at);
	if ((r = yaml_walk_scalar(w, v, at, "a sqitch change", RELEASE_CHANGE_MAX + 1, &s)) < 0)
		return r;
	if (!change_ok(s)) {
		r = yaml_walk_fail(w, at, "'%.80s' is not a sqitch change name (1 to %d bytes, no spaces), e.g. app: items", s,
				   RELEASE_CHANGE_MAX);
		free(s);
		return r;
	}
	m->migrations = xrealloc(m->migrations, (m->nmigrations + 1) * sizeof(*m->migrations));
	m->migrations[m->nmigrations].database = xstrdup(db);
	m->migrations[m->nmigrations++].change = s;
	return 0;
}

static const struct yaml_map root_map = {
	.where = "the release manifest",
	.keys = (const struct yaml_key[]){
		{ "flags", yaml_parse_list, 0, .max = RELEASE_MANIFEST_ITEMS_MAX, .item = add_flag,
		  .at = YAML_AT(struct release_manifest, flags_at) },
		{ "migrations", yaml_parse_entries, 0, .max = RELEASE_MANIFEST_ITEMS_MAX, .entry = add_migration,
		  .at = YAML_AT(struct release_manifest, migrations_at) },
		{ NULL },
	},
};

int release_manifest_parse(struct release_manifest *out, const char *file, const char *buf, size_t len,
			   struct strbuf *err)
{
	struct yaml_walk w;
	struct fy_node *root = NULL;
	struct release_manifest m;
	int r;

	memset(&m, 0, sizeof(m));
	if ((r = yaml_walk_open(&w, file, "a release manifest", buf, len, RELEASE_MANIFEST_MAX, err, &root)) < 0)
		return r;
	if (root)
		r = yaml_walk_map(&w, root, YAML_ROOT_POS, &root_map, NULL, &m);
	yaml_walk_close(&w);
	if (r < 0) {
		release_manifest_release(&m);
		return r;
	}
	*out = m;
	return 0;
}

void release_manifest_release(struct release_manifest *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->nflags; i++)
		free(m->flags[i]);
	free(m->flags);
	for (size_t i = 0; i < m->nmigrations; i++) {
		free(m->migrations[i].database);
		free(m->migrations[i].change);
	}
	free(m->migrations);
	memset(m, 0, sizeof(m[0]));
}
