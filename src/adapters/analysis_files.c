/*
 * analysis_files.c - the directory scan of analysis_files.h.  Files are
 * visited in name order so the first match is the same on every machine;
 * two files defining the same template are refused rather than one
 * silently winning.
 */
#include "adapters/analysis_files.h"
#include "base/alloc.h"
#include "base/err.h"
#include "base/strbuf.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void analysis_files_dir_of(const char *path, char *buf, size_t n)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		snprintf(buf, n, ".");
	else if (slash == path)
		snprintf(buf, n, "/");
	else
		snprintf(buf, n, "%.*s", (int)(slash - path), path);
}

static int yaml_name(const char *name)
{
	size_t l = strlen(name);
	return name[0] != '.' && ((l > 5 && !strcmp(name + l - 5, ".yaml")) || (l > 4 && !strcmp(name + l - 4, ".yml")));
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int analysis_files_has_kind(const char *text, const char *kind)
{
	for (const char *p = text; p; p = strchr(p, '\n')) {
		if (*p == '\n')
			p++;
		if (!strncmp(p, "kind:", 5)) {
			const char *v = p + 5;
			size_t l = strlen(kind);
			while (*v == ' ')
				v++;
			if (*v == '"' || *v == '\'')
				v++;
			return !strncmp(v, kind, l) && strchr(" \t\r\n\"'#", v[l] ? v[l] : ' ');
		}
	}
	return 0;
}

typedef int load_fn(const char *buf, size_t len, const char *path, void *out, void *ctx, struct strbuf *err);

static int scan(const char *dir, const char *kind, const char *name, load_fn *load, void *out, size_t out_size,
		void (*release)(void *), void *ctx, char **path_out, struct strbuf *err)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0;
	void *cand = xcalloc(1, out_size);
	char *found = NULL;
	int r = 0;

	if (!d) {
		strbuf_errf(err, "cannot open directory '%s' to find %s '%s'", dir, kind, name);
		free(cand);
		return SW_ENOTFOUND;
	}
	while ((e = readdir(d))) {
		if (!yaml_name(e->d_name))
			continue;
		if (n == cap)
			names = xrealloc(names, (cap = cap ? cap * 2 : 16) * sizeof(*names));
		names[n++] = xstrdup(e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_names);
	for (size_t i = 0; i < n && r >= 0; i++) {
		struct strbuf path = STRBUF_INIT, text = STRBUF_INIT, ferr = STRBUF_INIT;
		strbuf_addf(&path, "%s/%s", dir, names[i]);
		if (strbuf_read_file_max(&text, path.buf, 1024 * 1024, &ferr) >= 0 && analysis_files_has_kind(text.buf, kind)) {
			int lr = load(text.buf, text.len, path.buf, cand, ctx, &ferr);
			if (lr == 1) {
				if (found) {
					strbuf_errf(err, "%s '%s' is defined twice: in '%s' and '%s'", kind, name, found, path.buf);
					r = SW_ECONFIG;
					release(cand);
				} else {
					memcpy(out, cand, out_size);
					found = strbuf_detach(&path, NULL);
				}
			} else if (lr < 0) {
				/* a file of the kind wanted that does not load: it may be the one */
				strbuf_errf(err, "%s", ferr.buf);
				r = SW_ECONFIG;
			}
		}
		strbuf_release(&path);
		strbuf_release(&text);
		strbuf_release(&ferr);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(cand);
	if (r < 0) {
		if (found)
			release(out);
		free(found);
		return r;
	}
	if (!found) {
		strbuf_errf(err, "no %s '%s' in '%s' (templates are read from the rollout file's directory; see docs/argo.md)",
			    kind, name, dir);
		return SW_ENOTFOUND;
	}
	if (path_out)
		*path_out = found;
	else
		free(found);
	return 0;
}

struct mt_ctx {
	const struct flagger_template_ref *ref;
	const char *ns;
};

static int load_mt(const char *buf, size_t len, const char *path, void *out, void *ctx, struct strbuf *err)
{
	struct mt_ctx *c = ctx;
	int r = metric_template_parse(buf, len, path, out, err);
	if (r < 0)
		return r;
	if (!metric_template_matches(out, c->ref, c->ns)) {
		metric_template_release(out);
		return 0;
	}
	return 1;
}

static void release_mt(void *p)
{
	metric_template_release(p);
}

int analysis_files_metric_template(const char *dir, const struct flagger_template_ref *ref, const char *ns,
				   struct metric_template *out, char **path_out, struct strbuf *err)
{
	struct mt_ctx c = { ref, ns };
	return scan(dir, "MetricTemplate", ref->name, load_mt, out, sizeof(*out), release_mt, &c, path_out, err);
}

struct at_ctx {
	const char *name;
};

static int load_at(const char *buf, size_t len, const char *path, void *out, void *ctx, struct strbuf *err)
{
	struct at_ctx *c = ctx;
	struct argo_template *t = out;
	int r = argo_template_parse(buf, len, path, t, err);
	if (r < 0)
		return r;
	if (strcmp(t->name, c->name)) {
		argo_template_release(t);
		return 0;
	}
	return 1;
}

static void release_at(void *p)
{
	argo_template_release(p);
}

int analysis_files_argo_template(const char *dir, const char *name, int cluster, struct argo_template *out,
				 char **path_out, struct strbuf *err)
{
	struct at_ctx c = { name };
	return scan(dir, cluster ? "ClusterAnalysisTemplate" : "AnalysisTemplate", name, load_at, out, sizeof(*out),
		    release_at, &c, path_out, err);
}
