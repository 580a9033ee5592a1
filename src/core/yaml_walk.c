/*
 * yaml_walk.c - the shared YAML walker; see yaml_walk.h.
 *
 * Design: libfyaml builds the whole document (errors collected through a
 * diag object, never printed); one pass then refuses aliases anywhere, so
 * no table and no parser needs to think about them; tables of keys then
 * drive the walk, each key listed once with its parser, its destination and
 * its bounds.  Messages follow one pattern: "WHAT 'VALUE' is not valid;
 * expected ...", so the same fault reads the same in every file.
 */
#include "core/yaml_walk.h"
#include "core/yaml_text.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libfyaml.h>

#include "base/alloc.h"
#include "base/strbuf.h"
#include "base/suggest.h"
#include "base/timeutil.h"

int yaml_walk_fail(struct yaml_walk *w, struct yaml_pos at, const char *fmt, ...)
{
	va_list ap;

	if (w->failed)
		return YAML_WALK_ERR;
	w->failed = 1;
	if (!w->err)
		return YAML_WALK_ERR;
	if (at.line > 0)
		strbuf_addf(w->err, "%s:%d:%d: ", w->file, at.line, at.col > 0 ? at.col : 1);
	else
		strbuf_addf(w->err, "%s: ", w->file);
	va_start(ap, fmt);
	strbuf_vaddf(w->err, fmt, ap);
	va_end(ap);
	return YAML_WALK_ERR;
}

struct yaml_pos yaml_walk_pos(struct fy_node *n, struct yaml_pos fallback)
{
	struct fy_token *t;
	const struct fy_mark *m;

	if (!n || fy_node_get_type(n) != FYNT_SCALAR)
		return fallback;
	t = fy_node_get_scalar_token(n);
	m = t ? fy_token_start_mark(t) : NULL;
	if (!m)
		return fallback;
	/* libfyaml's marks are 0-based and start after a quote or a '*':
	 * point at the quote or the '*', where the value starts */
	switch (fy_node_get_style(n)) {
	case FYNS_SINGLE_QUOTED:
	case FYNS_DOUBLE_QUOTED:
	case FYNS_ALIAS:
		return (struct yaml_pos){ m->line + 1, m->column > 0 ? m->column : 1 };
	default:
		return (struct yaml_pos){ m->line + 1, m->column + 1 };
	}
}

int yaml_walk_is_null(struct fy_node *n)
{
	const char *s;
	size_t len;

	if (!n)
		return 1;
	if (fy_node_get_type(n) != FYNT_SCALAR || fy_node_is_alias(n) || fy_node_get_style(n) != FYNS_PLAIN)
		return 0;
	s = fy_node_get_scalar(n, &len);
	if (!s)
		return 1;
	return len == 0 || (len == 1 && s[0] == '~') ||
	       (len == 4 && (!memcmp(s, "null", 4) || !memcmp(s, "Null", 4) || !memcmp(s, "NULL", 4)));
}

int yaml_walk_len(struct fy_node *n)
{
	if (yaml_walk_is_list(n))
		return fy_node_sequence_item_count(n);
	if (yaml_walk_is_mapping(n))
		return fy_node_mapping_item_count(n);
	return 0;
}

int yaml_walk_is_scalar(struct fy_node *n)
{
	return n && fy_node_get_type(n) == FYNT_SCALAR && !yaml_walk_is_null(n);
}

int yaml_walk_is_mapping(struct fy_node *n)
{
	return n && fy_node_get_type(n) == FYNT_MAPPING;
}

int yaml_walk_is_list(struct fy_node *n)
{
	return n && fy_node_get_type(n) == FYNT_SEQUENCE;
}

const char *yaml_walk_kind(struct fy_node *n)
{
	if (yaml_walk_is_null(n))
		return "nothing (null)";
	switch (fy_node_get_type(n)) {
	case FYNT_SCALAR:
		return "a scalar";
	case FYNT_SEQUENCE:
		return "a list";
	case FYNT_MAPPING:
		return "a mapping";
	}
	return "something else";
}

int yaml_walk_key_is(struct fy_node *k, const char *s)
{
	const char *t;
	size_t len;

	if (!k || fy_node_get_type(k) != FYNT_SCALAR)
		return 0;
	t = fy_node_get_scalar(k, &len);
	return t && len == strlen(s) && !memcmp(t, s, len);
}

struct fy_node *yaml_walk_lookup(struct fy_node *n, const char *key, struct yaml_pos *at)
{
	struct fy_node_pair *p;
	void *it = NULL;

	*at = (struct yaml_pos){ 0, 0 };
	if (!yaml_walk_is_mapping(n))
		return NULL;
	while ((p = fy_node_mapping_iterate(n, &it)))
		if (yaml_walk_key_is(fy_node_pair_key(p), key)) {
			*at = yaml_walk_pos(fy_node_pair_key(p), (struct yaml_pos){ 1, 1 });
			return fy_node_pair_value(p);
		}
	return NULL;
}

void yaml_walk_list_names(struct strbuf *sb, const char *const *names)
{
	for (size_t i = 0; names[i]; i++)
		strbuf_addf(sb, "%s%s", i ? ", " : "", names[i]);
}

/* ---- opening ------------------------------------------------------------ */

/* Whether buf holds nothing but blank lines and '#' comments (libfyaml
 * finds no document there: an empty file, not a syntax error). */
static int only_comments(const char *buf, size_t len)
{
	int in_comment = 0;

	for (size_t i = 0; i < len; i++) {
		char c = buf[i];
		if (c == '\n')
			in_comment = 0;
		else if (in_comment || c == ' ' || c == '\r')
			continue;
		else if (c == '#')
			in_comment = 1;
		else
			return 0;
	}
	return 1;
}

/* The first alias in n (depth-first, in file order), or a depth error. */
static int refuse_aliases(struct yaml_walk *w, struct fy_node *n, int depth)
{
	void *it = NULL;
	int r;

	if (!n)
		return 0;
	if (depth > YAML_WALK_DEPTH_MAX)
		return yaml_walk_fail(w, (struct yaml_pos){ 0, 0 }, "nested deeper than %d levels; flatten the file",
				      YAML_WALK_DEPTH_MAX);
	switch (fy_node_get_type(n)) {
	case FYNT_SCALAR:
		if (fy_node_is_alias(n))
			return yaml_walk_fail(w, yaml_walk_pos(n, (struct yaml_pos){ 0, 0 }),
					      "aliases are not supported in %s; write the value out", w->doc);
		return 0;
	case FYNT_SEQUENCE: {
		struct fy_node *item;
		while ((item = fy_node_sequence_iterate(n, &it)))
			if ((r = refuse_aliases(w, item, depth + 1)) < 0)
				return r;
		return 0;
	}
	case FYNT_MAPPING: {
		struct fy_node_pair *p;
		while ((p = fy_node_mapping_iterate(n, &it))) {
			if ((r = refuse_aliases(w, fy_node_pair_key(p), depth + 1)) < 0 ||
			    (r = refuse_aliases(w, fy_node_pair_value(p), depth + 1)) < 0)
				return r;
		}
		return 0;
	}
	}
	return 0;
}

int yaml_walk_open(struct yaml_walk *w, const char *file, const char *doc, const char *buf, size_t len,
		   size_t max, struct strbuf *err, struct fy_node **root)
{
	struct yaml_text_error te;
	struct fy_diag_cfg dc;
	struct fy_parse_cfg pc;
	int r;

	memset(w, 0, sizeof(*w));
	w->file = file ? file : "(input)";
	w->doc = doc ? doc : "this file";
	w->err = err;
	*root = NULL;
	if (len > max)
		return yaml_walk_fail(w, (struct yaml_pos){ 0, 0 }, "larger than %zu bytes; %s is much smaller", max,
				      w->doc);
	if (yaml_text_check(buf, len, &te) < 0)
		return yaml_walk_fail(w, (struct yaml_pos){ te.line, te.col }, "%s", te.msg);
	if (!len || only_comments(buf, len))
		return 0;

	fy_diag_cfg_default(&dc);
	dc.fp = NULL;
	dc.output_fn = NULL;
	dc.colorize = false;
	w->diag = fy_diag_create(&dc);
	if (!w->diag)
		return yaml_walk_fail(w, (struct yaml_pos){ 0, 0 }, "out of memory while reading %s", w->doc);
	fy_diag_set_collect_errors(w->diag, true);
	memset(&pc, 0, sizeof(pc));
	pc.flags = FYPCF_QUIET;
	pc.diag = w->diag;
	w->fyp = fy_parser_create(&pc);
	if (!w->fyp) {
		r = yaml_walk_fail(w, (struct yaml_pos){ 0, 0 }, "out of memory while reading %s", w->doc);
		yaml_walk_close(w);
		return r;
	}
	if (fy_parser_set_string(w->fyp, buf, len) == 0)
		w->fyd = fy_parse_load_document(w->fyp);
	if (w->fyd) {
		/* one document a file: a second one (after ---) would be read by nobody */
		struct fy_document *next = fy_parse_load_document(w->fyp);
		if (next) {
			struct fy_node *nr = fy_document_root(next);
			const struct fy_mark *m = fy_document_state_start_mark(fy_document_get_document_state(next));
			/* at the second document's '---' (marks are 0-based) */
			struct yaml_pos at = m ? (struct yaml_pos){ m->line + 1, m->column + 1 } : (struct yaml_pos){ 1, 1 };
			int has_content = nr && !yaml_walk_is_null(nr);
			fy_parse_document_destroy(w->fyp, next);
			if (has_content) {
				r = yaml_walk_fail(w, at, "a second YAML document; %s is one document: remove the "
						   "'---' before it and merge its keys into the first", w->doc);
				yaml_walk_close(w);
				return r;
			}
		}
	}
	if (!w->fyd || fy_parser_get_stream_error(w->fyp)) {
		void *it = NULL;
		struct fy_diag_error *e = fy_diag_errors_iterate(w->diag, &it);
		/* libfyaml's diagnostics are 1-based already */
		if (e)
			r = yaml_walk_fail(w, (struct yaml_pos){ e->line > 0 ? e->line : 1, e->column > 0 ? e->column : 1 },
					   "invalid YAML: %s", e->msg ? e->msg : "syntax error");
		else
			r = yaml_walk_fail(w, (struct yaml_pos){ 0, 0 }, "invalid YAML");
		yaml_walk_close(w);
		return r;
	}
	*root = fy_document_root(w->fyd);
	if ((r = refuse_aliases(w, *root, 0)) < 0) {
		*root = NULL;
		yaml_walk_close(w);
		return r;
	}
	return 0;
}

void yaml_walk_close(struct yaml_walk *w)
{
	if (w->fyd)
		fy_parse_document_destroy(w->fyp, w->fyd);
	if (w->fyp)
		fy_parser_destroy(w->fyp);
	if (w->diag)
		fy_diag_destroy(w->diag);
	w->fyd = NULL;
	w->fyp = NULL;
	w->diag = NULL;
}

/* ---- scalars ------------------------------------------------------------ */

int yaml_walk_scalar(struct yaml_walk *w, struct fy_node *n, struct yaml_pos at, const char *what, size_t max,
		     char **out)
{
	const char *s;
	size_t len;

	if (!n || fy_node_get_type(n) != FYNT_SCALAR || yaml_walk_is_null(n))
		return yaml_walk_fail(w, yaml_walk_pos(n, at), "%s must be a single value, found %s", what,
				      yaml_walk_kind(n));
	s = fy_node_get_scalar(n, &len);
	if (!s)
		s = "";
	if (len > max)
		return yaml_walk_fail(w, yaml_walk_pos(n, at), "%s is longer than %zu bytes; shorten it", what, max);
	if (memchr(s, '\0', len))
		return yaml_walk_fail(w, yaml_walk_pos(n, at), "%s contains a NUL byte; remove it", what);
	*out = xstrndup(s, len);
	return 0;
}

static const char *what_of(const struct yaml_key *k)
{
	return k->what ? k->what : k->name;
}

/* The scalar as a short string for number-like parsers. */
static int short_scalar(struct yaml_walk *w, const struct yaml_key *k, struct fy_node *v, struct yaml_pos at,
			char **out)
{
	return yaml_walk_scalar(w, v, at, what_of(k), 64, out);
}

int yaml_parse_buf(struct yaml_walk *w, const struct yaml_key *k, struct fy_node *v, struct yaml_pos at, void *dst)
{
	char *s = NULL;
	int r = yaml_walk_scalar(w, v, at, what_of(k), k->size - 1, &s);

	if (r < 0)
		return r;
	memcpy(dst, s, strlen(s) + 1);
	free(s);
	return 0;
}

int yaml_parse_str(struct yaml_walk *w, const struct yaml_key *k, struct fy_node *v, struct yaml_pos at, void *dst)
{
	char **p = dst, *s = NULL;
	int r = yaml_walk_scalar(w, v, at, what_of(k), k->size ? k->size : 4096, &s);

	if (r < 0)
		return r;
	free(*p);
	*p = s;
	return 0;
}

int yaml_parse_int(struct yaml_walk *w, const struct yaml_key *k, struct fy_node *v, struct yaml_pos at, void *dst)
{
	char *s = NULL, *end;
	long l;
	int r = short_scalar(w, k, v, at, &s);

	if (r < 0)
		return r;
	errno = 0;
	l = strtol(s, &end, 10);
	if (errno || end == s || *end || (double)l < k->min || (double)l > k->max)
		r = yaml_walk_fail(w, yaml_walk_pos(v, at), "%s '%s' is not valid; expected a whole number from %.0f to %.0f",
				   what_of(k), s, k->min, k->max);
	else
		*(int *)dst = (int)l;
	free(s);
	return r;
}

static int number(struct yaml_walk *w, const struct yaml_key *k, struct fy_node *v, struct yaml_pos at,
		  int percent, double *out)
{
	char *s = NULL, *end;
	double d, lo = k->min, hi = k->max;
	int r = short_scalar(w, k, v, at, &s);

	if (r < 0)
		return r;
	if (percent && lo == 0 && hi == 0)
		hi = 100;
	errno = 0;
	d = strtod(s, &end);
	if (percent && end != s && !strcmp(end, "%"))
		end++;
	if (errno || end == s || *end || !isfinite(d) || d < lo || d > hi)
		r = yaml_walk_fail(w, yaml_walk_pos(v, at), "%s '%s' is not valid; expected a %s from %g to %g",
				   what_of(k), s, percent ? "percent" : "number", lo, hi);
	else
		*out = d;
	free(s);
	return r;
}

int yaml_parse_number(struct yaml_walk *w, const struct yaml_key *k, struct fy_node *v, struct yaml_pos at,
		      void *dst)
{
	return number(w, k, v, at, 0, dst);
}

int yaml_parse_percent(struct yaml_walk *w, const struct yaml_key *k, struct fy_node *v, struct yaml_pos at,
		       void *dst)
{
	return number(w, k, v, at, 1, dst);
}

int yaml_parse_duration(struct yaml_walk *w, const struct yaml_key *k, struct fy_node *v, struct yaml_pos at,
			void *dst)
{
	char *s = NULL;
	int64_t ms;
	int r = short_scalar(w, k, v, at, &s);

	if (r < 0)
		return r;
	if (duration_parse(s, &ms, NULL) < 0) {
		r = yaml_walk_fail(w, yaml_walk_pos(v, at),
				   "%s '%s' is not a duration; expected for example 30m, 1h30m, 24h or 7d", what_of(k), s);
	} else if ((double)ms < k->min || (double)ms > (k->max > 0 ? k->max : YAML_DURATION_MAX_MS)) {
		char lo[DURATION_BUFSZ], hi[DURATION_BUFSZ], got[DURATION_BUFSZ], was[DURATION_BUFSZ + 64] = "";
		duration_format((int64_t)k->min, lo);
		duration_format(k->max > 0 ? (int64_t)k->max : YAML_DURATION_MAX_MS, hi);
		/* "remind_every: 30" meant as minutes: say how it was read */
		if (s[strspn(s, "0123456789")] == '\0')
			snprintf(was, sizeof(was), " (a bare number is seconds: '%.20s' is %s)", s, duration_format(ms, got));
		if (k->max > 0 || ms > 0)
			r = yaml_walk_fail(w, yaml_walk_pos(v, at), "%s '%s' is not valid; expected a duration from %s to %s%s",
					   what_of(k), s, k->min > 0 ? lo : "0s", hi, was);
		else
			r = yaml_walk_fail(w, yaml_walk_pos(v, at), "%s '%s' is not valid; expected a duration of at least %s%s",
					   what_of(k), s, lo, was);
	} else {
		*(int64_t *)dst = ms;
	}
	free(s);
	return r;
}

int yaml_parse_enum(struct yaml_walk *w, const struct yaml_key *k, struct fy_node *v, struct yaml_pos at, void *dst)
{
	struct strbuf valid = STRBUF_INIT;
	const char *sugg;
	char *s = NULL;
	int r = short_scalar(w, k, v, at, &s);

	if (r < 0)
		return r;
	for (size_t i = 0; k->names[i]; i++)
		if (!strcmp(s, k->names[i])) {
			*(int *)dst = (int)i;
			free(s);
			return 0;
		}
	yaml_walk_list_names(&valid, k->names);
	sugg = suggest_nearest0(s, k->names);
	if (sugg)
		r = yaml_walk_fail(w, yaml_walk_pos(v, at), "unknown %s '%.80s'; did you mean '%s'? valid: %s", what_of(k),
				   s, sugg, valid.buf);
	else
		r = yaml_walk_fail(w, yaml_walk_pos(v, at), "unknown %s '%.80s'; valid: %s", what_of(k), s, valid.buf);
	strbuf_release(&valid);
	free(s);
	return r;
}

int yaml_parse_bool(struct yaml_walk *w, const struct yaml_key *k, struct fy_node *v, struct yaml_pos at, void *dst)
{
	char *s = NULL;
	int r = short_scalar(w, k, v, at, &s);

	if (r < 0)
		return r;
	if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE"))
		*(int *)dst = 1;
	else if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE"))
		*(int *)dst = 0;
	else
		r = yaml_walk_fail(w, yaml_walk_pos(v, at), "%s '%s' is not valid; expected true or false", what_of(k), s);
	free(s);
	return r;
}

int yaml_parse_map(struct yaml_walk *w, const struct yaml_key *k, struct fy_node *v, struct yaml_pos at, void *dst)
{
	return yaml_walk_map(w, v, at, k->map, NULL, dst);
}

int yaml_parse_list(struct yaml_walk *w, const struct yaml_key *k, struct fy_node *v, struct yaml_pos at, void *dst)
{
	return yaml_walk_items(w, v, at, what_of(k), (size_t)k->max, k->item, dst);
}

int yaml_parse_entries(struct yaml_walk *w, const struct yaml_key *k, struct fy_node *v, struct yaml_pos at,
		       void *dst)
{
	return yaml_walk_entries(w, v, at, what_of(k), (size_t)k->max, k->entry, dst);
}

int yaml_parse_ignore(struct yaml_walk *w, const struct yaml_key *k, struct fy_node *v, struct yaml_pos at,
		      void *dst)
{
	(void)w, (void)k, (void)v, (void)at, (void)dst;
	return 0;
}

/* ---- mappings and lists --------------------------------------------------- */

static int need_mapping(struct yaml_walk *w, struct fy_node *n, struct yaml_pos at, const char *where,
			const char *shape)
{
	if (!n || fy_node_get_type(n) != FYNT_MAPPING)
		return yaml_walk_fail(w, yaml_walk_pos(n, at), "%s must be a mapping %s, found %s", where, shape,
				      yaml_walk_kind(n));
	return 0;
}

/* The text of key node k (a scalar), or an error. */
static int key_text(struct yaml_walk *w, struct fy_node *k, struct yaml_pos at, const char *where, const char **s,
		    size_t *len)
{
	if (!k || fy_node_get_type(k) != FYNT_SCALAR)
		return yaml_walk_fail(w, yaml_walk_pos(k, at), "keys in %s must be plain words", where);
	*s = fy_node_get_scalar(k, len);
	if (!*s) {
		*s = "";
		*len = 0;
	}
	return 0;
}

int yaml_walk_map(struct yaml_walk *w, struct fy_node *n, struct yaml_pos at, const struct yaml_map *m,
		  const char *where, void *obj)
{
	struct fy_node_pair *p;
	void *it = NULL;
	size_t nkeys = 0;
	int r;

	if (!where)
		where = m->where;
	while (m->keys[nkeys].name)
		nkeys++;
	if (!yaml_walk_is_null(n) && (r = need_mapping(w, n, at, where, "of keys to values")) < 0)
		return r;
	if (!yaml_walk_is_null(n))
		while ((p = fy_node_mapping_iterate(n, &it))) {
			struct fy_node *kn = fy_node_pair_key(p), *v = fy_node_pair_value(p);
			const struct yaml_key *k = NULL;
			struct yaml_pos kat, vat;
			const char *s;
			size_t len;

			if ((r = key_text(w, kn, at, where, &s, &len)) < 0)
				return r;
			kat = yaml_walk_pos(kn, at);
			for (size_t i = 0; i < nkeys && !k; i++)
				if (len == strlen(m->keys[i].name) && !memcmp(s, m->keys[i].name, len))
					k = &m->keys[i];
			if (!k) {
				struct strbuf valid = STRBUF_INIT;
				const char **names = xcalloc(nkeys + 1, sizeof(*names));
				char *ks = xstrndup(s, len > 80 ? 80 : len);
				const char *sugg;

				for (size_t i = 0; i < nkeys; i++)
					names[i] = m->keys[i].name;
				yaml_walk_list_names(&valid, names);
				sugg = suggest_nearest(ks, names, nkeys);
				if (sugg)
					r = yaml_walk_fail(w, kat, "unknown key '%s' in %s; did you mean '%s'? valid keys: %s", ks,
							   where, sugg, valid.buf);
				else
					r = yaml_walk_fail(w, kat, "unknown key '%s' in %s; valid keys: %s", ks, where, valid.buf);
				free(ks);
				free(names);
				strbuf_release(&valid);
				return r;
			}
			vat = yaml_walk_pos(v, kat);
			if (k->at)
				*(struct yaml_pos *)((char *)obj + k->at - 1) = vat;
			if ((r = k->parse(w, k, v, vat, (char *)obj + k->offset)) < 0)
				return r;
		}
	for (size_t i = 0; i < nkeys; i++) {
		const struct yaml_key *k = &m->keys[i];
		int present = 0;
		if (!(k->flags & YAML_REQUIRED))
			continue;
		it = NULL;
		if (!yaml_walk_is_null(n))
			while ((p = fy_node_mapping_iterate(n, &it)))
				present |= yaml_walk_key_is(fy_node_pair_key(p), k->name);
		if (!present)
			return yaml_walk_fail(w, at, "%s needs '%s'%s%s", where, k->name, k->hint ? " " : "",
					      k->hint ? k->hint : "");
	}
	return m->check ? m->check(w, obj, at) : 0;
}

int yaml_walk_entries(struct yaml_walk *w, struct fy_node *n, struct yaml_pos at, const char *where, size_t max,
		      int (*fn)(struct yaml_walk *w, const char *key, struct yaml_pos kat, struct fy_node *v,
				void *ctx),
		      void *ctx)
{
	struct fy_node_pair *p;
	void *it = NULL;
	size_t count = 0;
	int r;

	if (yaml_walk_is_null(n))
		return 0;
	if ((r = need_mapping(w, n, at, where, "from names to entries")) < 0)
		return r;
	while ((p = fy_node_mapping_iterate(n, &it))) {
		struct fy_node *kn = fy_node_pair_key(p);
		struct yaml_pos kat = yaml_walk_pos(kn, at);
		const char *s;
		size_t len;
		char *key;

		if (++count > max)
			return yaml_walk_fail(w, kat, "%s has more than %zu entries", where, max);
		if ((r = key_text(w, kn, at, where, &s, &len)) < 0)
			return r;
		if (memchr(s, '\0', len))
			return yaml_walk_fail(w, kat, "a name in %s contains a NUL byte; remove it", where);
		key = xstrndup(s, len);
		r = fn(w, key, kat, fy_node_pair_value(p), ctx);
		free(key);
		if (r < 0)
			return r;
	}
	return 0;
}

int yaml_walk_items(struct yaml_walk *w, struct fy_node *n, struct yaml_pos at, const char *what, size_t max,
		    int (*fn)(struct yaml_walk *w, struct fy_node *item, struct yaml_pos iat, void *ctx), void *ctx)
{
	struct fy_node *item;
	void *it = NULL;
	size_t count = 0;
	int r;

	if (yaml_walk_is_null(n))
		return 0;
	if (fy_node_get_type(n) != FYNT_SEQUENCE)
		return yaml_walk_fail(w, yaml_walk_pos(n, at), "%s must be a list such as [a, b], found %s", what,
				      yaml_walk_kind(n));
	while ((item = fy_node_sequence_iterate(n, &it))) {
		struct yaml_pos iat = yaml_walk_pos(item, at);
		if (++count > max)
			return yaml_walk_fail(w, iat, "%s has more than %zu entries", what, max);
		if ((r = fn(w, item, iat, ctx)) < 0)
			return r;
	}
	return 0;
}
