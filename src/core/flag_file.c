/*
 * flag_file.c - flag files: YAML through the walker into the JSON
 * definitions of core/flag.h; see flag_file.h.  Each definition becomes
 * JSON with a map from its paths ("rules[0].rollout.percentage") to file
 * positions, so flag_validate()'s path-named faults come out at the line
 * and column of the value.  Plain scalars are typed as YAML 1.2's core
 * schema does (null, true/false, numbers); quoted ones are always text.
 */
#include "core/flag_file.h"
#include "base/err.h"
#include "base/strbuf.h"
#include "base/suggest.h"
#include "core/flag.h"
#include "core/yaml_walk.h"

#include <errno.h>
#include <libfyaml.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define FLAG_FILE_ENTRIES 10000

struct conv {
	json_t *pos;	/* path -> [line, col] */
};

static void note(struct conv *c, const char *path, struct yaml_pos at)
{
	json_object_set_new(c->pos, path, json_pack("[i, i]", at.line, at.col));
}

static json_t *scalar_json(struct fy_node *n, const char *s, size_t len)
{
	char buf[64], *end;
	if (fy_node_get_style(n) != FYNS_PLAIN)
		return json_stringn(s, len);
	if (len < sizeof(buf)) {
		memcpy(buf, s, len);
		buf[len] = '\0';
		if (!strcmp(buf, "true") || !strcmp(buf, "True") || !strcmp(buf, "TRUE"))
			return json_true();
		if (!strcmp(buf, "false") || !strcmp(buf, "False") || !strcmp(buf, "FALSE"))
			return json_false();
		if (len && strspn(buf, "-+0123456789") == len && len < 19) {
			errno = 0;
			long long v = strtoll(buf, &end, 10);
			if (!errno && !*end)
				return json_integer(v);
		}
		if (len && strspn(buf, "-+0123456789.eE") == len) {
			errno = 0;
			double d = strtod(buf, &end);
			if (!errno && !*end && isfinite(d))
				return json_real(d);
		}
	}
	return json_stringn(s, len);
}

static int convert(struct yaml_walk *w, struct conv *c, struct fy_node *n, const char *path, struct yaml_pos at,
		   json_t **out);

struct map_ctx {
	struct conv *c;
	const char *path;
	json_t *obj;
};

static int map_entry(struct yaml_walk *w, const char *key, struct yaml_pos kat, struct fy_node *v, void *ctx)
{
	struct map_ctx *m = ctx;
	struct strbuf p = STRBUF_INIT;
	json_t *val = NULL;
	int r;
	strbuf_addf(&p, "%s%s%s", m->path, m->path[0] ? "." : "", key);
	note(m->c, p.buf, yaml_walk_pos(v, kat));
	r = convert(w, m->c, v, p.buf, kat, &val);
	if (r >= 0)
		json_object_set_new(m->obj, key, val);
	strbuf_release(&p);
	return r;
}

struct list_ctx {
	struct conv *c;
	const char *path;
	json_t *arr;
};

static int list_item(struct yaml_walk *w, struct fy_node *item, struct yaml_pos iat, void *ctx)
{
	struct list_ctx *l = ctx;
	struct strbuf p = STRBUF_INIT;
	json_t *val = NULL;
	int r;
	strbuf_addf(&p, "%s[%zu]", l->path, json_array_size(l->arr));
	note(l->c, p.buf, yaml_walk_pos(item, iat));
	r = convert(w, l->c, item, p.buf, yaml_walk_pos(item, iat), &val);
	if (r >= 0)
		json_array_append_new(l->arr, val);
	strbuf_release(&p);
	return r;
}

static int convert(struct yaml_walk *w, struct conv *c, struct fy_node *n, const char *path, struct yaml_pos at,
		   json_t **out)
{
	if (yaml_walk_is_mapping(n)) {
		struct map_ctx m = { c, path, json_object() };
		int r = yaml_walk_entries(w, n, at, path[0] ? path : "the definition", FLAG_FILE_ENTRIES, map_entry, &m);
		if (r < 0) {
			json_decref(m.obj);
			return r;
		}
		*out = m.obj;
		return 0;
	}
	if (yaml_walk_is_list(n)) {
		struct list_ctx l = { c, path, json_array() };
		int r = yaml_walk_items(w, n, at, path, FLAG_FILE_ENTRIES, list_item, &l);
		if (r < 0) {
			json_decref(l.arr);
			return r;
		}
		*out = l.arr;
		return 0;
	}
	if (yaml_walk_is_null(n)) {
		*out = json_null();
		return 0;
	}
	{
		size_t len = 0;
		const char *s = fy_node_get_scalar(n, &len);
		*out = scalar_json(n, s ? s : "", s ? len : 0);
	}
	return 0;
}

/* The position of path in pos, else of its nearest recorded parent, else of "" (the name). */
static void lookup_pos(const json_t *pos, const char *path, int *line, int *col)
{
	char buf[300];
	json_t *p;
	snprintf(buf, sizeof(buf), "%s", path);
	for (;;) {
		char *cut;
		if ((p = json_object_get(pos, buf))) {
			*line = (int)json_integer_value(json_array_get(p, 0));
			*col = (int)json_integer_value(json_array_get(p, 1));
			return;
		}
		if (!buf[0])
			return;
		cut = strrchr(buf, '.');
		if (!cut || (strrchr(buf, '[') && strrchr(buf, '[') > cut))
			cut = strrchr(buf, '[');
		if (cut)
			*cut = '\0';
		else
			buf[0] = '\0';
	}
}

int flag_file_pos(const struct flag_file *f, const char *kind, const char *name, const char *path, int *line,
		  int *col)
{
	struct strbuf k = STRBUF_INIT;
	json_t *pos;
	strbuf_addf(&k, "%s %s", kind, name);
	pos = json_object_get(f->positions, k.buf);
	strbuf_release(&k);
	if (!pos)
		return -1;
	lookup_pos(pos, path ? path : "", line, col);
	return 0;
}

struct file_ctx {
	struct flag_file *f;
	int segments;	/* which section is being read */
};

static int definition(struct yaml_walk *w, const char *name, struct yaml_pos kat, struct fy_node *v, void *ctx)
{
	struct file_ctx *fc = ctx;
	struct conv c = { json_object() };
	struct strbuf e = STRBUF_INIT;
	const char *kind = fc->segments ? "segment" : "flag";
	char path[300] = "";
	json_t *def = NULL;
	int r;

	if (!flag_name_ok(name)) {
		json_decref(c.pos);
		return yaml_walk_fail(w, kat, "'%.100s' is not a valid %s name: 1 to %d letters, digits and . _ - : /",
				      name, kind, FLAG_KEY_MAX);
	}
	if ((r = convert(w, &c, v, "", kat, &def)) < 0)
		goto out;
	if (json_is_null(def)) {
		json_decref(def);
		def = json_object();
	}
	r = fc->segments ? segment_validate(def, &e, path, sizeof(path)) : flag_validate(def, &e, path, sizeof(path));
	note(&c, "", kat);
	if (r < 0) {
		struct yaml_pos at = kat;
		lookup_pos(c.pos, path, &at.line, &at.col);
		r = yaml_walk_fail(w, at, "%s '%s': %s", kind, name, e.buf);
		goto out;
	}
	json_object_set(fc->segments ? fc->f->segments : fc->f->flags, name, def);
	{
		struct strbuf k = STRBUF_INIT;
		strbuf_addf(&k, "%s %s", kind, name);
		json_object_set(fc->f->positions, k.buf, c.pos);
		strbuf_release(&k);
	}
out:
	json_decref(def);
	json_decref(c.pos);
	strbuf_release(&e);
	return r;
}

static int top(struct yaml_walk *w, const char *key, struct yaml_pos kat, struct fy_node *v, void *ctx)
{
	static const char *const keys[] = { "environment", "segments", "flags", NULL };
	struct file_ctx *fc = ctx;

	if (!strcmp(key, "environment")) {
		char *env = NULL;
		int r = yaml_walk_scalar(w, v, yaml_walk_pos(v, kat), "environment", FLAG_KEY_MAX, &env);
		if (r < 0)
			return r;
		if (!flag_name_ok(env)) {
			free(env);
			return yaml_walk_fail(w, yaml_walk_pos(v, kat), "environment must be a name (letters, digits, . _ - : /)");
		}
		free(fc->f->environment);
		fc->f->environment = env;
		return 0;
	}
	if (!strcmp(key, "segments") || !strcmp(key, "flags")) {
		fc->segments = !strcmp(key, "segments");
		return yaml_walk_entries(w, v, kat, key, FLAG_FILE_ENTRIES, definition, fc);
	}
	{
		const char *near = suggest_nearest0(key, keys);
		return yaml_walk_fail(w, kat, "unknown key '%s'%s%s%s; valid: environment, segments, flags", key,
				      near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
	}
}

int flag_file_parse(const char *file, const char *buf, size_t len, struct flag_file *out, struct strbuf *err)
{
	struct yaml_walk w;
	struct fy_node *root = NULL;
	struct flag_file f = { NULL, json_object(), json_object(), json_object() };
	struct file_ctx fc = { &f, 0 };
	int r = yaml_walk_open(&w, file, "a flag file", buf, len, FLAG_FILE_MAX, err, &root);

	if (r < 0) {
		flag_file_release(&f);
		return r;
	}
	if (root && !yaml_walk_is_mapping(root))
		r = yaml_walk_fail(&w, YAML_ROOT_POS, "a flag file must be a mapping (environment, segments, flags), found %s",
				   yaml_walk_kind(root));
	else
		r = yaml_walk_entries(&w, root, YAML_ROOT_POS, "a flag file", 3, top, &fc);
	/* nothing to apply is refused, as kubectl apply refuses a file with no objects: an empty
	 * file in flags/ is more often a truncated write or a failed generator than an intent
	 * (docs/flags.md "Flag files") */
	if (r >= 0 && !root)
		r = yaml_walk_fail(&w, YAML_ROOT_POS, "the flag file is empty (no YAML document, only comments or "
				   "nothing): nothing to apply; a flag file declares segments: and/or flags: (docs/flags.md)");
	else if (r >= 0 && !json_object_size(f.flags) && !json_object_size(f.segments))
		r = yaml_walk_fail(&w, YAML_ROOT_POS, "the flag file declares no flag and no segment: nothing to apply; "
				   "a flag file declares segments: and/or flags: (docs/flags.md)");
	yaml_walk_close(&w);
	if (r < 0) {
		flag_file_release(&f);
		return YAML_WALK_ERR;
	}
	*out = f;
	return 0;
}

void flag_file_release(struct flag_file *f)
{
	if (!f)
		return;
	free(f->environment);
	json_decref(f->segments);
	json_decref(f->flags);
	json_decref(f->positions);
	memset(f, 0, sizeof(*f));
}
