/*
 * test_yaml_walk.c - the shared YAML walker (core/yaml_walk.c) and the
 * "did you mean" helper (base/suggest.c): positions as libfyaml gives them,
 * aliases refused, tables of keys, every scalar parser and its bounds.
 */
#include "tap.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"
#include "base/suggest.h"
#include "base/timeutil.h"
#include "core/yaml_walk.h"

struct obj {
	char name[8];
	char *text;
	int count;
	double ratio, pct;
	int64_t wait_ms;
	int color, flag;
	struct yaml_pos count_at;
	struct {
		int depth;
	} inner;
};

static const char *const colors[] = { "red", "green", "blue", NULL };

static const struct yaml_map inner_map = {
	.where = "inner",
	.keys = (const struct yaml_key[]){
		{ "depth", yaml_parse_int, offsetof(struct obj, inner.depth), 0, 9 },
		{ NULL },
	},
};

static int checked;

static int check_obj(struct yaml_walk *w, void *o, struct yaml_pos at)
{
	struct obj *x = o;
	checked++;
	if (x->count == 7)
		return yaml_walk_fail(w, x->count_at, "seven is not allowed here");
	return 0;
}

static const struct yaml_map obj_map = {
	.where = "the test",
	.keys = (const struct yaml_key[]){
		{ "name", yaml_parse_buf, offsetof(struct obj, name), .size = sizeof(((struct obj *)0)->name),
		  .flags = YAML_REQUIRED },
		{ "text", yaml_parse_str, offsetof(struct obj, text), .size = 10 },
		{ "count", yaml_parse_int, offsetof(struct obj, count), 1, 10, .at = YAML_AT(struct obj, count_at) },
		{ "ratio", yaml_parse_number, offsetof(struct obj, ratio), 0.5, 2 },
		{ "pct", yaml_parse_percent, offsetof(struct obj, pct) },
		{ "wait", yaml_parse_duration, offsetof(struct obj, wait_ms), 1000, 60000 },
		{ "color", yaml_parse_enum, offsetof(struct obj, color), .names = colors },
		{ "flag", yaml_parse_bool, offsetof(struct obj, flag) },
		{ "inner", yaml_parse_map, 0, .map = &inner_map },
		{ "foreign", yaml_parse_ignore, 0 },
		{ NULL },
	},
	.check = check_obj,
};

/* Walk text against obj_map; 0 or the error, with the message in err. */
static int walk(const char *text, struct obj *o, struct strbuf *err)
{
	struct yaml_walk w;
	struct fy_node *root;
	int r;

	memset(o, 0, sizeof(*o));
	strbuf_reset(err);
	if ((r = yaml_walk_open(&w, "t.yaml", "a test file", text, strlen(text), 4096, err, &root)) < 0)
		return r;
	r = yaml_walk_map(&w, root, YAML_ROOT_POS, &obj_map, NULL, o);
	yaml_walk_close(&w);
	return r;
}

/* The walk of text fails with err starting with want. */
static void refused(const char *text, const char *want, const char *name)
{
	struct strbuf err = STRBUF_INIT;
	struct obj o;
	int r = walk(text, &o, &err);
	ok(r == YAML_WALK_ERR && !strncmp(err.buf, want, strlen(want)), "%s", name);
	if (r != YAML_WALK_ERR || strncmp(err.buf, want, strlen(want)))
		printf("#   got  %d '%s'\n#   want '%s'\n", r, err.buf, want);
	free(o.text);
	strbuf_release(&err);
}

static int add_item(struct yaml_walk *w, struct fy_node *item, struct yaml_pos at, void *ctx)
{
	struct strbuf *sb = ctx;
	char *s = NULL;
	int r = yaml_walk_scalar(w, item, at, "an item", 16, &s);
	if (r < 0)
		return r;
	strbuf_addf(sb, "%s@%d:%d ", s, at.line, at.col);
	free(s);
	return 0;
}

static int add_entry(struct yaml_walk *w, const char *key, struct yaml_pos at, struct fy_node *v, void *ctx)
{
	strbuf_addf(ctx, "%s@%d:%d ", key, at.line, at.col);
	return 0;
}

static void test_lists(void)
{
	struct strbuf err = STRBUF_INIT, got = STRBUF_INIT;
	struct yaml_walk w;
	struct fy_node *root, *v;
	struct yaml_pos at;
	const char *text = "items: [a, 'b', \"c\"]\nnames:\n  x: 1\n  y: 2\n";

	ok(yaml_walk_open(&w, "l.yaml", "a test file", text, strlen(text), 4096, &err, &root) == 0, "lists: open");
	v = yaml_walk_lookup(root, "items", &at);
	is_int(at.line * 100 + at.col, 101, "lookup gives the key's position");
	ok(yaml_walk_items(&w, v, at, "items", 8, add_item, &got) == 0, "items walked");
	is_str(got.buf, "a@1:9 b@1:12 c@1:17 ", "items at their first character (quotes included)");
	strbuf_reset(&got);
	ok(yaml_walk_items(&w, v, at, "items", 2, add_item, &got) == YAML_WALK_ERR &&
		   strstr(err.buf, "l.yaml:1:17: items has more than 2 entries"),
	   "at most max items: %s", err.buf);
	yaml_walk_close(&w);

	ok(yaml_walk_open(&w, "l.yaml", "a test file", text, strlen(text), 4096, &err, &root) == 0, "lists: reopen");
	strbuf_reset(&err);
	strbuf_reset(&got);
	v = yaml_walk_lookup(root, "names", &at);
	ok(yaml_walk_entries(&w, v, at, "names", 8, add_entry, &got) == 0, "entries walked");
	is_str(got.buf, "x@3:3 y@4:3 ", "entries in file order with the key's position");
	ok(yaml_walk_entries(&w, yaml_walk_lookup(root, "items", &at), at, "names", 8, add_entry, &got) ==
			   YAML_WALK_ERR &&
		   !strcmp(err.buf, "l.yaml:1:1: names must be a mapping from names to entries, found a list"),
	   "entries of a list: refused at its key (%s)", err.buf);
	yaml_walk_close(&w);
	ok(yaml_walk_lookup(NULL, "x", &at) == NULL && at.line == 0, "lookup in nothing: absent");
	strbuf_release(&err);
	strbuf_release(&got);
}

static int item_count(struct yaml_walk *w, struct fy_node *item, struct yaml_pos at, void *dst)
{
	(*(int *)dst)++;
	return 0;
}

static int entry_count(struct yaml_walk *w, const char *name, struct yaml_pos at, struct fy_node *v, void *dst)
{
	(*(int *)dst) += 10;
	return 0;
}

struct counts {
	int items, entries;
};

static const struct yaml_map counts_map = {
	.where = "counts",
	.keys = (const struct yaml_key[]){
		{ "items", yaml_parse_list, offsetof(struct counts, items), .max = 3, .item = item_count },
		{ "entries", yaml_parse_entries, offsetof(struct counts, entries), .max = 2, .entry = entry_count },
		{ NULL },
	},
};

/* yaml_parse_list and yaml_parse_entries: the table's callbacks and bounds */
static int walk_counts(const char *text, struct counts *c, struct strbuf *err)
{
	struct yaml_walk w;
	struct fy_node *root;
	int r;

	memset(c, 0, sizeof(*c));
	strbuf_reset(err);
	if ((r = yaml_walk_open(&w, "c.yaml", "a test file", text, strlen(text), 4096, err, &root)) < 0)
		return r;
	r = yaml_walk_map(&w, root, YAML_ROOT_POS, &counts_map, NULL, c);
	yaml_walk_close(&w);
	return r;
}

static void test_table_lists(void)
{
	struct strbuf err = STRBUF_INIT;
	struct counts c;

	ok(walk_counts("items: [a, b, c]\nentries: {x: 1, y: 2}\n", &c, &err) == 0 && c.items == 3 && c.entries == 20,
	   "list and entries parsers call back per item and entry (%d, %d)", c.items, c.entries);
	ok(walk_counts("items: [a, b, c, d]\n", &c, &err) == YAML_WALK_ERR &&
		   !strcmp(err.buf, "c.yaml:1:18: items has more than 3 entries"),
	   "a list over its bound: at the first item too many (%s)", err.buf);
	ok(walk_counts("entries: {x: 1, y: 2, z: 3}\n", &c, &err) == YAML_WALK_ERR &&
		   !strcmp(err.buf, "c.yaml:1:23: entries has more than 2 entries"),
	   "entries over their bound (%s)", err.buf);
	ok(walk_counts("items: a\n", &c, &err) == YAML_WALK_ERR &&
		   !strcmp(err.buf, "c.yaml:1:8: items must be a list such as [a, b], found a scalar"),
	   "a scalar for a list (%s)", err.buf);
	ok(walk_counts("items: ~\nentries:\n", &c, &err) == 0 && !c.items && !c.entries, "null lists and entries are empty");
	strbuf_release(&err);
}

static void test_open(void)
{
	struct strbuf err = STRBUF_INIT, deep = STRBUF_INIT;
	struct yaml_walk w;
	struct fy_node *root = (struct fy_node *)&w;

	ok(yaml_walk_open(&w, "e.yaml", "a test file", "", 0, 10, &err, &root) == 0 && !root, "empty: no root");
	yaml_walk_close(&w);
	ok(yaml_walk_open(&w, "e.yaml", "a test file", "# c\n\n# d\n", 9, 10, &err, &root) == 0 && !root,
	   "only comments: no root");
	yaml_walk_close(&w);
	ok(yaml_walk_open(&w, "big.yaml", "a test file", "a: 1234567\n", 11, 10, &err, &root) == YAML_WALK_ERR &&
		   !strcmp(err.buf, "big.yaml: larger than 10 bytes; a test file is much smaller"),
	   "too large: %s", err.buf);
	strbuf_reset(&err);
	ok(yaml_walk_open(&w, "u.yaml", "a test file", "# x\na: {b: 1\n", 13, 100, &err, &root) == YAML_WALK_ERR &&
		   !strncmp(err.buf, "u.yaml:3:1: invalid YAML: ", 26),
	   "an unclosed flow mapping in a two-line file: 3:1, libfyaml's 1-based position (%s)", err.buf);
	strbuf_reset(&err);
	for (int i = 0; i < YAML_WALK_DEPTH_MAX + 2; i++)
		strbuf_addch(&deep, '[');
	for (int i = 0; i < YAML_WALK_DEPTH_MAX + 2; i++)
		strbuf_addch(&deep, ']');
	ok(yaml_walk_open(&w, "d.yaml", "a test file", deep.buf, deep.len, 4096, &err, &root) == YAML_WALK_ERR &&
		   (strstr(err.buf, "nested deeper than") || strstr(err.buf, "depth")),
	   "nesting is bounded (libfyaml's own limit, or the walker's): %s", err.buf);
	strbuf_release(&deep);
	strbuf_release(&err);
}

int main(void)
{
	struct strbuf err = STRBUF_INIT;
	struct obj o;
	static const char *const words[] = { "monitoring", "strategy", "windows", NULL };

	/* suggest */
	is_str(suggest_nearest0("monitor", words), "monitoring", "a prefix is a plausible slip");
	is_str(suggest_nearest0("stratgy", words), "strategy", "one letter missing");
	ok(suggest_nearest0("xyz", words) == NULL, "nothing near: no suggestion");
	ok(suggest_nearest("a", NULL, 0) == NULL, "no candidates: no suggestion");

	/* a full, valid mapping */
	checked = 0;
	is_int(walk("name: abc\ntext: hello\ncount: 3\nratio: 1.5\npct: 25%\nwait: 30s\ncolor: blue\nflag: true\n"
		    "inner: {depth: 4}\nforeign: [anything, {goes: here}]\n",
		    &o, &err),
	       0, "valid mapping: %s", err.buf);
	ok(!strcmp(o.name, "abc") && !strcmp(o.text, "hello") && o.count == 3 && o.ratio == 1.5 && o.pct == 25 &&
		   o.wait_ms == 30000 && o.color == 2 && o.flag == 1 && o.inner.depth == 4,
	   "every parser filled its field");
	ok(o.count_at.line == 3 && o.count_at.col == 8, "the value's position is recorded (%d:%d)", o.count_at.line,
	   o.count_at.col);
	is_int(checked, 1, "the table's check ran once");
	free(o.text);

	/* faults: positions and messages */
	refused("name: abc\ncount: 7\n", "t.yaml:2:8: seven is not allowed here", "the check reports at a recorded position");
	refused("count: 3\n", "t.yaml:1:1: the test needs 'name'", "a required key is missing");
	refused("name: abc\ncolour: red\n", "t.yaml:2:1: unknown key 'colour' in the test; did you mean 'color'? valid keys: name, text, count",
		"unknown key: nearest suggested, valid listed");
	refused("name: abc\nzzzzzzz: 1\n", "t.yaml:2:1: unknown key 'zzzzzzz' in the test; valid keys: name,",
		"unknown key, nothing near");
	refused("name: abc\ninner: {dpth: 1}\n", "t.yaml:2:9: unknown key 'dpth' in inner; did you mean 'depth'?",
		"unknown key in a nested mapping");
	refused("name: abc\ninner: [1]\n", "t.yaml:2:1: inner must be a mapping of keys to values, found a list",
		"a list for a mapping: at its key");
	refused("name: abc\ncount: [1]\n", "t.yaml:2:1: count must be a single value, found a list",
		"a list for a scalar: at its key");
	refused("name: abc\ncount: ~\n", "t.yaml:2:8: count must be a single value, found nothing (null)", "null for a number");
	refused("name: abcdefgh\n", "t.yaml:1:7: name is longer than 7 bytes; shorten it", "a string over its buffer");
	refused("name: a\ntext: \"0123456789a\"\n", "t.yaml:2:7: text is longer than 10 bytes", "a string over its maximum, at the quote");
	refused("name: a\ncount: 11\n", "t.yaml:2:8: count '11' is not valid; expected a whole number from 1 to 10",
		"integer above its bound");
	refused("name: a\ncount: 2.5\n", "t.yaml:2:8: count '2.5' is not valid; expected a whole number", "integer with a fraction");
	refused("name: a\nratio: 3\n", "t.yaml:2:8: ratio '3' is not valid; expected a number from 0.5 to 2", "number above its bound");
	refused("name: a\nratio: nan\n", "t.yaml:2:8: ratio 'nan' is not valid", "not a finite number");
	refused("name: a\npct: 101%\n", "t.yaml:2:6: pct '101%' is not valid; expected a percent from 0 to 100", "percent above 100");
	refused("name: a\nwait: soon\n", "t.yaml:2:7: wait 'soon' is not a duration; expected for example 30m", "not a duration");
	refused("name: a\nwait: 2m\n", "t.yaml:2:7: wait '2m' is not valid; expected a duration from 1s to 1m", "duration above its bound");
	refused("name: a\ncolor: gren\n", "t.yaml:2:8: unknown color 'gren'; did you mean 'green'? valid: red, green, blue",
		"enum with a suggestion");
	refused("name: a\nflag: maybe\n", "t.yaml:2:7: flag 'maybe' is not valid; expected true or false", "bool");
	refused("name: &n a\ntext: *n\n", "t.yaml:2:7: aliases are not supported in a test file; write the value out",
		"an alias, at its '*'");
	refused("x: &n a\n*n : 1\n", "t.yaml:2:1: aliases are not supported in a test file", "an alias as a key");
	refused("name: a\n\tcount: 1\n", "t.yaml:2:1: tab character", "a tab");
	refused("- a\n", "t.yaml:1:1: the test must be a mapping of keys to values, found a list", "a list at the top");
	refused("name: a\ncount: 1\ncount: 2\n", "t.yaml:3:1: invalid YAML: duplicate key", "a key given twice (libfyaml)");

	test_open();
	test_lists();
	test_table_lists();
	strbuf_release(&err);
	return tap_done();
}
