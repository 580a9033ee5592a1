/*
 * yaml_walk.h - the one YAML walker every loader of slipway's uses (policy,
 * rollout files, service files, notifications): a file becomes a libfyaml
 * document, and tables of keys say what each mapping may hold.  Format of
 * the files: docs/policy.md, docs/engine.md, docs/services.md,
 * docs/records.md; rules shared by all of them: docs/yaml.md.
 *
 * One behaviour for every file:
 *   - the bytes pass core/yaml_text.h first (what libfyaml 0.7.12 mishandles);
 *   - a YAML syntax error is reported where libfyaml's diagnostics put it
 *     (those are 1-based already);
 *   - the position of a value is that of its first character: the opening
 *     quote of a quoted scalar, the '*' of an alias (libfyaml's token marks
 *     are 0-based and start after a quote or '*'); a mapping or list value
 *     is reported at its key, a fault of the root itself at 1:1
 *     (YAML_ROOT_POS);
 *   - aliases are refused wherever they appear, before any key is read
 *     ("billion laughs" stays harmless, and a value is always written out);
 *   - a key not in the table is refused with the nearest valid key
 *     suggested (base/suggest.h) and the list of valid keys;
 *   - every fault returns YAML_WALK_ERR (SW_ECONFIG, exit code 2 in the CLI,
 *     docs/exit-codes.md) with one line "FILE:LINE:COL: message" in err.
 *
 * Pure: no I/O; the caller reads the file (bounded) and hands over bytes.
 */
#ifndef SLIPWAY_CORE_YAML_WALK_H
#define SLIPWAY_CORE_YAML_WALK_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

struct fy_node;
struct fy_document;
struct fy_diag;
struct strbuf;

/* The error every YAML fault returns. */
#define YAML_WALK_ERR SW_ECONFIG

/* Nesting deeper than this is refused (a stack bound for the walk). */
#define YAML_WALK_DEPTH_MAX 64

/* A 1-based position in the file; line 0 means none ("FILE: message"). */
struct yaml_pos {
	int line, col;
};

struct yaml_walk {
	const char *file;		/* names the input in messages */
	const char *doc;		/* "a policy", "a service file": in the alias message */
	struct strbuf *err;		/* may be NULL: no text, same return codes */
	int failed;			/* an error is in err; later ones are dropped */
	void *user;			/* the loader's own context, for its parsers */
	struct fy_diag *diag;
	struct fy_parser *fyp;		/* owns fyd; a file holds one document */
	struct fy_document *fyd;
};

/*
 * Start walking buf[0..len) named `file`, a `doc` ("a policy", ...) of at
 * most max bytes.  On success *root is the document's root node, or NULL
 * for an empty document (nothing, or only comments and blank lines); close
 * with yaml_walk_close() either way.  Returns 0, or YAML_WALK_ERR with the
 * message in err: too large, bytes refused by yaml_text_check(), a YAML
 * syntax error at libfyaml's position, an alias anywhere, nesting deeper
 * than YAML_WALK_DEPTH_MAX.  After a failure nothing is left to close.
 */
int yaml_walk_open(struct yaml_walk *w, const char *file, const char *doc, const char *buf, size_t len,
		   size_t max, struct strbuf *err, struct fy_node **root);
void yaml_walk_close(struct yaml_walk *w);

/* Append "FILE:LINE:COL: message" (or "FILE: message" for line 0) to
 * w->err unless an error is already there; returns YAML_WALK_ERR. */
int yaml_walk_fail(struct yaml_walk *w, struct yaml_pos at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The position of n's first character, or `fallback` when n is not a
 * scalar (mappings and lists are reported at their key). */
struct yaml_pos yaml_walk_pos(struct fy_node *n, struct yaml_pos fallback);

/* Where a root-level fault without a key of its own is reported. */
#define YAML_ROOT_POS ((struct yaml_pos){ 1, 1 })

/* Items of a list or pairs of a mapping; 0 for anything else. */
int yaml_walk_len(struct fy_node *n);

/* Whether n is absent or a plain null (empty, ~, null, Null, NULL). */
int yaml_walk_is_null(struct fy_node *n);
/* Whether n is a scalar that is not null, a mapping, a list. */
int yaml_walk_is_scalar(struct fy_node *n);
int yaml_walk_is_mapping(struct fy_node *n);
int yaml_walk_is_list(struct fy_node *n);
/* "a scalar", "a list", "a mapping", "nothing (null)": for messages. */
const char *yaml_walk_kind(struct fy_node *n);

/*
 * The text of scalar n (at most max bytes, no NUL) as a new string in *out
 * (caller frees).  Errors: not a scalar or null ("WHAT must be a single
 * value, found a list"), too long, a NUL byte.
 */
int yaml_walk_scalar(struct yaml_walk *w, struct fy_node *n, struct yaml_pos at, const char *what,
		     size_t max, char **out);

/* The text of key node k compared with s (for a loader's own lookups). */
int yaml_walk_key_is(struct fy_node *k, const char *s);

/* The value of `key` in mapping n (NULL when absent, or when n is not a
 * mapping); *at is the key's position, line 0 when absent. */
struct fy_node *yaml_walk_lookup(struct fy_node *n, const char *key, struct yaml_pos *at);

/* ---- tables of keys ---------------------------------------------------- */

struct yaml_key;

/*
 * A parser: read value v (reported at `at`) for key k into dst, which
 * points k->offset bytes into the object being filled.  0 or YAML_WALK_ERR.
 */
typedef int yaml_parse_fn(struct yaml_walk *w, const struct yaml_key *k, struct fy_node *v, struct yaml_pos at,
			  void *dst);

struct yaml_map;

struct yaml_key {
	const char *name;		/* the key as written in the file */
	yaml_parse_fn *parse;		/* one of yaml_parse_* below, or the loader's own */
	size_t offset;			/* of the destination in the object */
	double min, max;		/* int, number, percent: bounds; duration: ms (max 0: none) */
	size_t size;			/* yaml_parse_buf: buffer bytes; yaml_parse_str: max bytes */
	const char *const *names;	/* enum: valid names, NULL-terminated (the index is stored) */
	const struct yaml_map *map;	/* yaml_parse_map: the nested table (same object + offset) */
	size_t at;			/* YAML_AT(): where to record the value's position, 0 = nowhere */
	/* yaml_parse_list: called for each item, with dst */
	int (*item)(struct yaml_walk *w, struct fy_node *item, struct yaml_pos at, void *dst);
	/* yaml_parse_entries: called for each `name: value`, with dst */
	int (*entry)(struct yaml_walk *w, const char *name, struct yaml_pos at, struct fy_node *v, void *dst);
	unsigned flags;			/* YAML_REQUIRED */
	const char *what;		/* the name in messages, when not `name` */
	const char *hint;		/* YAML_REQUIRED: an example, appended to "WHERE needs 'KEY'" */
};

#define YAML_REQUIRED 1u
/* Record the position of the key's value in a struct yaml_pos field of the
 * object (line > 0 afterwards means the key was given). */
#define YAML_AT(type, field) (offsetof(type, field) + 1)

struct yaml_map {
	const char *where;		/* "the policy", "spec.analysis": in messages */
	const struct yaml_key *keys;	/* terminated by an entry with name NULL */
	/* optional: checks across keys once the mapping is read; `at` is the
	 * mapping's position.  0 or YAML_WALK_ERR. */
	int (*check)(struct yaml_walk *w, void *obj, struct yaml_pos at);
};

/*
 * Walk mapping n (reported at `at`) against table m, filling obj.  `where`
 * overrides m->where in messages ("type 'standard'"), or NULL.  Refused:
 * n not a mapping ("WHERE must be a mapping of keys to values, found a
 * list"), a key that is not a scalar, a key not in the table (a key given
 * twice is a syntax error of libfyaml's); then a YAML_REQUIRED key that is missing ("WHERE needs
 * 'KEY'"), then m->check.  A null n is an empty mapping.
 */
int yaml_walk_map(struct yaml_walk *w, struct fy_node *n, struct yaml_pos at, const struct yaml_map *m,
		  const char *where, void *obj);

/*
 * Each key of mapping n in order, for mappings keyed by names the file
 * chooses (windows, environments, sinks): fn gets the key's text and
 * position and the value.  At most max entries.  A null n has none.
 */
int yaml_walk_entries(struct yaml_walk *w, struct fy_node *n, struct yaml_pos at, const char *where, size_t max,
		      int (*fn)(struct yaml_walk *w, const char *key, struct yaml_pos kat, struct fy_node *v,
				void *ctx),
		      void *ctx);

/*
 * Each item of list n in order: fn gets the item and its position (an
 * item that is not a scalar is reported at the list's `at`).  At most max
 * items.  A null n has none; a scalar or mapping is refused ("WHAT must be
 * a list, found a scalar").
 */
int yaml_walk_items(struct yaml_walk *w, struct fy_node *n, struct yaml_pos at, const char *what, size_t max,
		    int (*fn)(struct yaml_walk *w, struct fy_node *item, struct yaml_pos iat, void *ctx), void *ctx);

/* ---- parsers ----------------------------------------------------------- */

/* char[k->size]: a string of at most k->size - 1 bytes. */
yaml_parse_fn yaml_parse_buf;
/* char *: a new string of at most k->size bytes (the old one is freed). */
yaml_parse_fn yaml_parse_str;
/* int: a whole number in [k->min, k->max]. */
yaml_parse_fn yaml_parse_int;
/* double: a number in [k->min, k->max]. */
yaml_parse_fn yaml_parse_number;
/* double: a percent in [k->min, k->max] (0-100 when both are 0), "25" or "25%". */
yaml_parse_fn yaml_parse_percent;
/* int64_t ms: a duration ("500ms", "30s", "1h30m", "7d"; a bare number is
 * seconds, as duration_parse() reads it, and an out-of-range one says so),
 * from k->min ms (at least 0) to k->max ms (0: up to YAML_DURATION_MAX_MS,
 * ten years, so that a time plus a duration never overflows). */
#define YAML_DURATION_MAX_MS (3650LL * 86400000LL)
yaml_parse_fn yaml_parse_duration;
/* int: the index of the value in k->names (unknown: "did you mean"). */
yaml_parse_fn yaml_parse_enum;
/* int: 1 for true, 0 for false. */
yaml_parse_fn yaml_parse_bool;
/* a nested mapping: yaml_walk_map() with k->map on dst. */
yaml_parse_fn yaml_parse_map;
/* a list (a sequence of values or of mappings): yaml_walk_items() with
 * k->item on dst, at most k->max items. */
yaml_parse_fn yaml_parse_list;
/* a mapping keyed by names the file chooses: yaml_walk_entries() with
 * k->entry on dst, at most k->max entries. */
yaml_parse_fn yaml_parse_entries;
/* accepted and not read (a field of a foreign format slipway has no use for). */
yaml_parse_fn yaml_parse_ignore;

/* "a, b, c" of a NULL-terminated list, appended to sb. */
void yaml_walk_list_names(struct strbuf *sb, const char *const *names);

#endif
