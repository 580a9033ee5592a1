/*
 * policy_load.c - `slipway.yaml` over the built-in policy, read on the
 * shared YAML walker (core/yaml_walk.h); see policy_load() in policy.h and
 * docs/policy.md.
 *
 * Design: one table of keys per mapping below, each key listed once with
 * its parser, so every error names the file, line and column, says what is
 * wrong and what would be valid (with the nearest key suggested).  A file
 * is merged over the built-in default entry by entry: the named sections
 * (roles, change_classes, windows, freezes, types) are walked name by name,
 * `name: ~` removes an entry.  Cross references (a type's roles and
 * windows, a freeze's change classes) are checked once the merge is
 * complete, because a later section may define what an earlier one names.
 * Aliases are refused by the walker: a policy is short, and refusing them
 * keeps "billion laughs" inputs harmless.
 */
#include "core/policy.h"
#include "core/policy_internal.h"
#include "core/checklist.h"
#include "core/strategy.h"
#include "core/yaml_walk.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/alloc.h"
#include "base/err.h"
#include "base/strbuf.h"
#include "base/suggest.h"
#include "base/timeutil.h"

#define MAX_DURATION_MS (3650 * MS_PER_DAY)

struct removal {
	char section[16];
	char *name;
	struct pmark mark;
};

/* The loader: the policy being merged and what the walk remembers. */
struct loader {
	struct policy p;
	const struct tz_db *db;
	struct removal *removed;
	size_t removed_nr, removed_alloc;
	double version;
	int base;
	/* the freeze or window being read */
	int fresh, admits_given;
	struct yaml_pos to_at, until_at;
};

static struct pmark pm(struct yaml_pos at)
{
	return (struct pmark){ at.line, at.col };
}

static struct yaml_pos yp(struct pmark m)
{
	/* line 0: a built-in value, reported at the top of the file */
	return m.line ? (struct yaml_pos){ m.line, m.col } : YAML_ROOT_POS;
}

static struct loader *ld_of(struct yaml_walk *w)
{
	return w->user;
}

/* ---- scalars of a policy ------------------------------------------------ */

static int valid_name(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > POLICY_NAME_MAX || !isalnum((unsigned char)s[0]))
		return 0;
	/* YAML reads a plain null as nothing; such a name would not survive
	 * `policy show` and back */
	if (!strcasecmp(s, "null"))
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_' && *s != '.')
			return 0;
	return 1;
}

static int check_name(struct yaml_walk *w, const char *s, struct yaml_pos at, const char *what)
{
	if (!valid_name(s))
		return yaml_walk_fail(w, at,
				      "'%.80s' is not a valid %s; use 1-%d letters, digits, '-', '_' or '.', starting with a letter or digit",
				      s, what, POLICY_NAME_MAX);
	return 0;
}

/* A list of names or texts: struct policy_names; null is an empty list. */
struct names_ctx {
	struct policy_names l;
	const char *what;
	int free_text;
};

static int add_name(struct yaml_walk *w, struct fy_node *item, struct yaml_pos at, void *ctx)
{
	struct names_ctx *c = ctx;
	char *s = NULL;
	int r = yaml_walk_scalar(w, item, at, c->what, c->free_text ? POLICY_TEXT_MAX : POLICY_NAME_MAX + 64, &s);
	if (r >= 0 && !c->free_text)
		r = check_name(w, s, at, c->what);
	if (r >= 0 && policy__names_has(&c->l, s))
		r = yaml_walk_fail(w, at, "'%s' appears twice in %s; list it once", s, c->what);
	if (r >= 0)
		policy__names_add(&c->l, s, pm(at));
	free(s);
	return r;
}

static int names(struct yaml_walk *w, struct fy_node *v, struct yaml_pos at, const char *what, int free_text,
		 struct policy_names *out)
{
	struct names_ctx c = { .what = what, .free_text = free_text };
	int r = yaml_walk_items(w, v, at, what, POLICY_LIST_MAX, add_name, &c);
	if (r < 0) {
		policy__names_clear(&c.l);
		return r;
	}
	policy__names_clear(out);
	*out = c.l;
	return 0;
}

/* struct policy_names of names */
static int parse_names(struct yaml_walk *w, const struct yaml_key *k, struct fy_node *v, struct yaml_pos at, void *dst)
{
	return names(w, v, at, k->name, 0, dst);
}

/* char *: the name of a strategy (core/strategy.h, the one list) */
static int parse_strategy(struct yaml_walk *w, const struct yaml_key *k, struct fy_node *v, struct yaml_pos at,
			  void *dst)
{
	int e, r = yaml_parse_enum(w, k, v, at, &e);
	if (r < 0)
		return r;
	policy__set_str(dst, strategy_kind_names[e]);
	return 0;
}

/* int64_t ms: a duration, or `continuous` (MONITORING_CONTINUOUS) */
static int parse_monitoring(struct yaml_walk *w, const struct yaml_key *k, struct fy_node *v, struct yaml_pos at,
			    void *dst)
{
	char *s = NULL;
	int64_t ms;
	int r = yaml_walk_scalar(w, v, at, k->name, 64, &s);
	if (r < 0)
		return r;
	if (!strcmp(s, "continuous"))
		*(int64_t *)dst = MONITORING_CONTINUOUS;
	else if (duration_parse(s, &ms, NULL) < 0)
		r = yaml_walk_fail(w, at, "%s '%s' is not a duration; expected for example 30m, 1h30m, 24h or 7d, or continuous",
				   k->name, s);
	else
		r = yaml_parse_duration(w, k, v, at, dst);
	free(s);
	return r;
}

/* Parse "HH:MM" (00:00..24:00) into minutes. */
static int parse_hhmm(const char *s, int *min)
{
	int h, m;
	if (strlen(s) != 5 || !isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]) || s[2] != ':' ||
	    !isdigit((unsigned char)s[3]) || !isdigit((unsigned char)s[4]))
		return -1;
	h = (s[0] - '0') * 10 + (s[1] - '0');
	m = (s[3] - '0') * 10 + (s[4] - '0');
	if (h > 24 || m > 59 || (h == 24 && m != 0))
		return -1;
	*min = h * 60 + m;
	return 0;
}

/* int: minutes after midnight, "HH:MM" */
static int parse_time_of_day(struct yaml_walk *w, const struct yaml_key *k, struct fy_node *v, struct yaml_pos at,
			     void *dst)
{
	char *s = NULL;
	int r = yaml_walk_scalar(w, v, at, k->name, 64, &s);
	if (r < 0)
		return r;
	if (parse_hhmm(s, dst) < 0)
		r = yaml_walk_fail(w, at, "bad time '%s' for %s; expected HH:MM from 00:00 to 24:00, for example \"14:00\"",
				   s, k->name);
	free(s);
	if (r >= 0 && !strcmp(k->name, "to"))
		ld_of(w)->to_at = at;
	return r;
}

static int day_index(const char *s, size_t len)
{
	for (int i = 0; i < 7; i++) {
		if (len == 3 && !strncasecmp(s, policy__day_names[i], 3))
			return i;
		if (len == strlen(policy__day_long[i]) && !strncasecmp(s, policy__day_long[i], len))
			return i;
	}
	return -1;
}

/* "mon", "Monday", "mon-fri" (a range, may wrap: "fri-mon"); adds to *mask. */
static int parse_day_item(const char *s, unsigned *mask)
{
	const char *dash = strchr(s, '-');
	int a, b;
	if (!strcasecmp(s, "any") || !strcasecmp(s, "daily")) {
		*mask |= 0x7f;
		return 0;
	}
	if (!dash) {
		a = day_index(s, strlen(s));
		if (a < 0)
			return -1;
		*mask |= 1u << a;
		return 0;
	}
	a = day_index(s, (size_t)(dash - s));
	b = day_index(dash + 1, strlen(dash + 1));
	if (a < 0 || b < 0)
		return -1;
	for (int d = a;; d = (d + 1) % 7) {
		*mask |= 1u << d;
		if (d == b)
			break;
	}
	return 0;
}

#define DAYS_VALID "expected day names or ranges such as [mon, tue] or [mon-thu], or any"

static int add_day(struct yaml_walk *w, struct fy_node *item, struct yaml_pos at, void *ctx)
{
	char *s = NULL;
	int r = yaml_walk_scalar(w, item, at, "a day", 64, &s);
	if (r < 0)
		return r;
	if (parse_day_item(s, ctx) < 0)
		r = yaml_walk_fail(w, at, "bad day '%s'; %s", s, DAYS_VALID);
	free(s);
	return r;
}

/* unsigned: a bit per weekday, from a day, a range or a list of them */
static int parse_days(struct yaml_walk *w, const struct yaml_key *k, struct fy_node *v, struct yaml_pos at, void *dst)
{
	unsigned mask = 0;
	int r;
	if (yaml_walk_is_scalar(v))
		r = add_day(w, v, at, &mask);
	else if (!yaml_walk_is_list(v))
		return yaml_walk_fail(w, at, "days must be a list of days, found %s; %s", yaml_walk_kind(v), DAYS_VALID);
	else
		r = yaml_walk_items(w, v, at, "days", POLICY_LIST_MAX, add_day, &mask);
	if (r < 0)
		return r;
	if (!mask)
		return yaml_walk_fail(w, at, "days is empty; %s", DAYS_VALID);
	*(unsigned *)dst = mask;
	return 0;
}

/* ---- named sections ----------------------------------------------------- */

static void note_removal(struct loader *ld, const char *section, const char *name, struct pmark m)
{
	ALLOC_GROW(ld->removed, ld->removed_nr + 1, ld->removed_alloc);
	snprintf(ld->removed[ld->removed_nr].section, sizeof(ld->removed[0].section), "%s", section);
	ld->removed[ld->removed_nr].name = xstrdup(name);
	ld->removed[ld->removed_nr].mark = m;
	ld->removed_nr++;
}

#define REMOVE(arr, nr, rel, name)                                                                   \
	do {                                                                                         \
		for (size_t i_ = 0; i_ < p->nr; i_++)                                                \
			if (!strcmp(p->arr[i_].name, (name))) {                                       \
				rel(&p->arr[i_]);                                                    \
				memmove(&p->arr[i_], &p->arr[i_ + 1], (p->nr - i_ - 1) * sizeof(p->arr[0])); \
				p->nr--;                                                             \
				break;                                                               \
			}                                                                            \
	} while (0)

static int check_window(struct yaml_walk *w, void *obj, struct yaml_pos at)
{
	struct policy_window *win = obj;
	const char *name = win->name;

	if (!win->days)
		return yaml_walk_fail(w, at, "window '%s' has no days; add days: [mon-fri] or similar", name);
	if (win->from_min < 0 || win->to_min < 0)
		return yaml_walk_fail(w, at, "window '%s' needs both from and to, for example from: \"14:00\" and to: \"18:00\"",
				      name);
	if (win->from_min == 1440)
		return yaml_walk_fail(w, at, "window '%s' starts at 24:00; use 00:00", name);
	if (win->to_min == 0)
		win->to_min = 1440;	/* "to: 00:00" means midnight at the end of the day */
	if (win->from_min == win->to_min)
		return yaml_walk_fail(w, ld_of(w)->to_at.line ? ld_of(w)->to_at : at,
				      "window '%s' is empty: to equals from; make to later than from (or earlier, for a window that crosses midnight)",
				      name);
	return 0;
}

static const struct yaml_map window_map = {
	.keys = (const struct yaml_key[]){
		{ "description", yaml_parse_str, offsetof(struct policy_window, description), .size = POLICY_TEXT_MAX },
		{ "days", parse_days, offsetof(struct policy_window, days) },
		{ "from", parse_time_of_day, offsetof(struct policy_window, from_min) },
		{ "to", parse_time_of_day, offsetof(struct policy_window, to_min) },
		{ "approvals", parse_names, offsetof(struct policy_window, approvals) },
		{ NULL },
	},
	.check = check_window,
};

/* "MM-DD" for annual freezes; "YYYY-MM-DD" for dated ones */
static int freeze_date(struct yaml_walk *w, const struct yaml_key *k, struct fy_node *v, struct yaml_pos at,
		       struct policy_freeze *f, int until)
{
	char *s = NULL;
	int r = yaml_walk_scalar(w, v, at, k->name, 64, &s), m, d;

	if (r < 0)
		return r;
	if (f->kind == FREEZE_QUARTER_END) {
		r = yaml_walk_fail(w, at, "a quarter-end freeze has no %s; use last_days", k->name);
	} else if (f->kind == FREEZE_ANNUAL) {
		if (strlen(s) != 5 || !isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]) || s[2] != '-' ||
		    !isdigit((unsigned char)s[3]) || !isdigit((unsigned char)s[4]) ||
		    (m = (s[0] - '0') * 10 + s[1] - '0') < 1 || m > 12 ||
		    (d = (s[3] - '0') * 10 + s[4] - '0') < 1 || d > days_in_month(2000, m))
			r = yaml_walk_fail(w, at, "bad date '%s' for %s of an annual freeze; expected MM-DD, for example \"12-15\"",
					   s, k->name);
		else if (until)
			f->until_month = m, f->until_day = d;
		else
			f->from_month = m, f->from_day = d;
	} else if (date_parse(s, until ? &f->until_date : &f->from_date, NULL) < 0) {
		r = yaml_walk_fail(w, at, "bad date '%s' for %s; expected YYYY-MM-DD, for example 2027-03-01", s, k->name);
	}
	if (until)
		ld_of(w)->until_at = at;
	free(s);
	return r;
}

static int parse_freeze_from(struct yaml_walk *w, const struct yaml_key *k, struct fy_node *v, struct yaml_pos at,
			     void *dst)
{
	return freeze_date(w, k, v, at, dst, 0);
}

static int parse_freeze_until(struct yaml_walk *w, const struct yaml_key *k, struct fy_node *v, struct yaml_pos at,
			      void *dst)
{
	return freeze_date(w, k, v, at, dst, 1);
}

static int parse_last_days(struct yaml_walk *w, const struct yaml_key *k, struct fy_node *v, struct yaml_pos at,
			   void *dst)
{
	struct policy_freeze *f = dst;
	double d;
	int r;
	if (f->kind != FREEZE_QUARTER_END)
		return yaml_walk_fail(w, at, "last_days applies only to kind quarter-end; remove it or use from and until");
	if ((r = yaml_parse_number(w, k, v, at, &d)) < 0)
		return r;
	if (d != floor(d))
		return yaml_walk_fail(w, at, "last_days must be a whole number from 1 to 28");
	f->last_days = (int)d;
	return 0;
}

static int parse_admits(struct yaml_walk *w, const struct yaml_key *k, struct fy_node *v, struct yaml_pos at,
			void *dst)
{
	ld_of(w)->admits_given = 1;
	return parse_names(w, k, v, at, dst);
}

static int check_freeze(struct yaml_walk *w, void *obj, struct yaml_pos at)
{
	struct loader *ld = ld_of(w);
	struct policy_freeze *f = obj;

	if (ld->fresh && !ld->admits_given && f->kind == FREEZE_QUARTER_END)
		policy__names_set(&f->admits, (const char *const[]){ "security", "critical-security", NULL });
	if (f->kind == FREEZE_QUARTER_END) {
		if (!f->last_days)
			f->last_days = 3;
		return 0;
	}
	if (f->kind == FREEZE_ANNUAL) {
		if (!f->from_month || !f->until_month)
			return yaml_walk_fail(w, at, "annual freeze '%s' needs from and until as MM-DD, for example from: \"12-15\" and until: \"01-02\"",
					      f->name);
		return 0;
	}
	/* product-launch, one-off: dated */
	if (f->from_date == INT64_MIN || f->until_date == INT64_MIN)
		return yaml_walk_fail(w, at, "%s freeze '%s' needs from and until dates, for example from: 2027-03-01 and until: 2027-03-05",
				      policy_freeze_kind_name(f->kind), f->name);
	if (f->until_date < f->from_date) {
		struct civil a, b;
		civil_from_ms(f->from_date * MS_PER_DAY, &a);
		civil_from_ms(f->until_date * MS_PER_DAY, &b);
		return yaml_walk_fail(w, ld->until_at.line ? ld->until_at : at,
				      "until %04d-%02d-%02d is before from %04d-%02d-%02d in freeze '%s'; until must be on or after from",
				      b.year, b.month, b.day, a.year, a.month, a.day, f->name);
	}
	return 0;
}

static const struct yaml_map freeze_map = {
	.keys = (const struct yaml_key[]){
		{ "kind", yaml_parse_ignore, 0 },	/* read first, by add_freeze() */
		{ "reason", yaml_parse_str, offsetof(struct policy_freeze, reason), .size = POLICY_TEXT_MAX },
		{ "from", parse_freeze_from, 0 },
		{ "until", parse_freeze_until, 0 },
		{ "last_days", parse_last_days, 0, 1, 28 },
		{ "admits", parse_admits, offsetof(struct policy_freeze, admits) },
		{ NULL },
	},
	.check = check_freeze,
};

static int check_type(struct yaml_walk *w, void *obj, struct yaml_pos at)
{
	struct policy_type *t = obj;
	if (!t->strategy) {
		struct strbuf valid = STRBUF_INIT;
		int r;
		yaml_walk_list_names(&valid, strategy_kind_names);
		r = yaml_walk_fail(w, at, "type '%s' needs a strategy; valid: %s", t->name, valid.buf);
		strbuf_release(&valid);
		return r;
	}
	if (!t->windows.nr)
		return yaml_walk_fail(w, at, "type '%s' may use no window; list at least one in windows: [...]", t->name);
	return 0;
}

static const struct yaml_map type_map = {
	.keys = (const struct yaml_key[]){
		{ "description", yaml_parse_str, offsetof(struct policy_type, description), .size = POLICY_TEXT_MAX },
		{ "approvals", parse_names, offsetof(struct policy_type, approvals) },
		{ "testing", yaml_parse_str, offsetof(struct policy_type, testing), .size = POLICY_TEXT_MAX },
		{ "strategy", parse_strategy, offsetof(struct policy_type, strategy), .names = strategy_kind_names },
		{ "monitoring", parse_monitoring, offsetof(struct policy_type, monitoring_ms), 1, MAX_DURATION_MS },
		{ "rollback", yaml_parse_enum, offsetof(struct policy_type, criterion), .names = policy__criterion_names,
		  .what = "rollback criterion" },
		{ "rollback_error_rate", yaml_parse_number, offsetof(struct policy_type, criterion_error_rate_pct), 0, 100 },
		{ "windows", parse_names, offsetof(struct policy_type, windows) },
		{ NULL },
	},
	.check = check_type,
};

/* One `name: value` of a named section; null removes the entry. */
static int add_role(struct yaml_walk *w, const char *name, struct yaml_pos at, struct fy_node *v)
{
	struct policy_role *role = policy__role_get(&ld_of(w)->p, name, 1);
	role->mark = pm(at);
	return names(w, v, yaml_walk_pos(v, at), "people", 1, &role->people);
}

static int add_class(struct yaml_walk *w, const char *name, struct yaml_pos at, struct fy_node *v)
{
	static const struct yaml_key k = { "change class description", yaml_parse_str, 0, .size = POLICY_TEXT_MAX };
	struct policy *p = &ld_of(w)->p;
	struct policy_class *c;

	if (yaml_walk_is_null(v)) {
		REMOVE(classes, classes_nr, policy__class_release, name);
		return 1;
	}
	c = policy__class_get(p, name, 1);
	c->mark = pm(at);
	return yaml_parse_str(w, &k, v, yaml_walk_pos(v, at), &c->description);
}

static int add_window(struct yaml_walk *w, const char *name, struct yaml_pos at, struct fy_node *v)
{
	struct policy *p = &ld_of(w)->p;
	struct policy_window *win;
	struct strbuf where = STRBUF_INIT;
	int r;

	if (yaml_walk_is_null(v)) {
		REMOVE(windows, windows_nr, policy__window_release, name);
		return 1;
	}
	win = policy__window_get(p, name, 1);
	win->mark = pm(at);
	ld_of(w)->to_at = (struct yaml_pos){ 0, 0 };
	strbuf_addf(&where, "window '%s'", name);
	r = yaml_walk_map(w, v, at, &window_map, where.buf, win);
	strbuf_release(&where);
	return r;
}

static int add_freeze(struct yaml_walk *w, const char *name, struct yaml_pos at, struct fy_node *v)
{
	static const struct yaml_key kind_key = { "kind", yaml_parse_enum, 0, .names = policy__freeze_kind_names,
						  .what = "freeze kind" };
	struct loader *ld = ld_of(w);
	struct policy *p = &ld->p;
	struct policy_freeze *f;
	struct strbuf where = STRBUF_INIT;
	struct yaml_pos kat;
	struct fy_node *kv;
	int r = 0, kind;

	if (yaml_walk_is_null(v)) {
		REMOVE(freezes, freezes_nr, policy__freeze_release, name);
		return 1;
	}
	f = policy__freeze_get(p, name, 1);
	f->mark = pm(at);
	ld->fresh = f->kind == (enum freeze_kind)-1;
	ld->admits_given = 0;
	ld->until_at = (struct yaml_pos){ 0, 0 };
	strbuf_addf(&where, "freeze '%s'", name);
	if (!yaml_walk_is_mapping(v)) {
		r = yaml_walk_fail(w, yaml_walk_pos(v, at), "%s must be a mapping of keys to values, found %s", where.buf,
				   yaml_walk_kind(v));
		goto out;
	}
	/* the kind decides how from and until read: it comes first */
	kv = yaml_walk_lookup(v, "kind", &kat);
	if (kat.line) {
		if ((r = yaml_parse_enum(w, &kind_key, kv, yaml_walk_pos(kv, kat), &kind)) < 0)
			goto out;
		if (!ld->fresh && (int)f->kind != kind) {
			/* a new kind: the old kind's dates no longer apply */
			f->from_date = f->until_date = INT64_MIN;
			f->from_month = f->until_month = 0;
		}
		f->kind = (enum freeze_kind)kind;
	}
	if (f->kind == (enum freeze_kind)-1) {
		r = yaml_walk_fail(w, at, "freeze '%s' needs a kind; valid: annual, quarter-end, product-launch, one-off",
				   name);
		goto out;
	}
	r = yaml_walk_map(w, v, at, &freeze_map, where.buf, f);
out:
	strbuf_release(&where);
	return r;
}

static int add_type(struct yaml_walk *w, const char *name, struct yaml_pos at, struct fy_node *v)
{
	struct policy *p = &ld_of(w)->p;
	struct policy_type *t;
	struct strbuf where = STRBUF_INIT;
	int r;

	if (yaml_walk_is_null(v)) {
		REMOVE(types, types_nr, policy__type_release, name);
		return 1;
	}
	t = policy__type_get(p, name, 1);
	t->mark = pm(at);
	strbuf_addf(&where, "type '%s'", name);
	r = yaml_walk_map(w, v, at, &type_map, where.buf, t);
	strbuf_release(&where);
	return r;
}

/* What a named section does with one entry: 0, 1 when it removed it, or an error. */
typedef int entry_fn(struct yaml_walk *w, const char *name, struct yaml_pos at, struct fy_node *v);

struct section {
	const char *name;
	entry_fn *entry;
};

static int section_entry(struct yaml_walk *w, const char *name, struct yaml_pos at, struct fy_node *v, void *ctx)
{
	const struct section *s = ctx;
	int r = check_name(w, name, at, "name");
	if (r < 0)
		return r;
	r = s->entry(w, name, at, v);
	if (r == 1)
		note_removal(ld_of(w), s->name, name, pm(at));
	return r < 0 ? r : 0;
}

static int parse_section(struct yaml_walk *w, const struct yaml_key *k, struct fy_node *v, struct yaml_pos at,
			 void *dst)
{
	static const struct section sections[] = {
		{ "roles", add_role },
		{ "change_classes", add_class },
		{ "windows", add_window },
		{ "freezes", add_freeze },
		{ "types", add_type },
	};
	for (size_t i = 0; i < ARRAY_SIZE(sections); i++)
		if (!strcmp(k->name, sections[i].name))
			return yaml_walk_entries(w, v, at, k->name, POLICY_ENTRIES_MAX, section_entry,
						 (void *)&sections[i]);
	return 0;
}

/* ---- the top ------------------------------------------------------------- */

static int parse_timezone(struct yaml_walk *w, const struct yaml_key *k, struct fy_node *v, struct yaml_pos at,
			  void *dst)
{
	const struct tz_db *db = ld_of(w)->db;
	char *tz = NULL;
	int r = yaml_walk_scalar(w, v, at, k->name, 64, &tz);
	if (r < 0)
		return r;
	if (!tz_name_is_wellformed(tz) || (strcmp(tz, "UTC") && db && db->exists && !db->exists(db->ctx, tz))) {
		r = yaml_walk_fail(w, at, "unknown time zone '%.80s'; use an IANA name such as UTC, Europe/Berlin or America/New_York",
				   tz);
		free(tz);
		return r;
	}
	free(*(char **)dst);
	*(char **)dst = tz;
	return 0;
}

/* double: a metric's target or threshold, read by the metric's unit */
static int metric_value(struct yaml_walk *w, const struct yaml_key *k, struct fy_node *v, struct yaml_pos at,
			struct policy_metric *m, double *out)
{
	struct yaml_key dk = { k->name, NULL, 0, 1, MAX_DURATION_MS };
	int64_t ms;
	int r;

	if (m->unit == POLICY_METRIC_PCT) {
		struct yaml_key pk = { k->name, NULL, 0, 0, 100 };
		return yaml_parse_number(w, &pk, v, at, out);
	}
	if (m->unit == POLICY_METRIC_PERIOD && yaml_walk_is_scalar(v)) {
		char *s = NULL;
		if ((r = yaml_walk_scalar(w, v, at, k->name, 64, &s)) < 0)
			return r;
		r = !strcmp(s, "daily") ? 1 : !strcmp(s, "weekly") ? 7 : 0;
		free(s);
		if (r) {
			*out = (double)(r * MS_PER_DAY);
			return 0;
		}
	}
	if ((r = yaml_parse_duration(w, &dk, v, at, &ms)) < 0)
		return r;
	*out = (double)ms;
	return 0;
}

static int parse_target(struct yaml_walk *w, const struct yaml_key *k, struct fy_node *v, struct yaml_pos at, void *dst)
{
	struct policy_metric *m = dst;
	return metric_value(w, k, v, at, m, &m->target);
}

static int parse_threshold(struct yaml_walk *w, const struct yaml_key *k, struct fy_node *v, struct yaml_pos at,
			   void *dst)
{
	struct policy_metric *m = dst;
	return metric_value(w, k, v, at, m, &m->threshold);
}

#define METRIC_MAP(id, key)                                                         \
	static const struct yaml_map metric_##id##_map = {                          \
		.where = "metrics." key,                                            \
		.keys = (const struct yaml_key[]){                                  \
			{ "target", parse_target, 0 },                              \
			{ "threshold", parse_threshold, 0 },                        \
			{ NULL },                                                   \
		},                                                                  \
	}
METRIC_MAP(frequency, "deployment_frequency");
METRIC_MAP(lead_time, "lead_time");
METRIC_MAP(failure_rate, "deployment_failure_rate");
METRIC_MAP(mttr, "mttr");
METRIC_MAP(change_failure_rate, "change_failure_rate");

static const struct yaml_map metrics_map = {
	.where = "metrics",
	.keys = (const struct yaml_key[]){
		{ "deployment_frequency", yaml_parse_map,
		  offsetof(struct loader, p.metrics) + METRIC_DEPLOYMENT_FREQUENCY * sizeof(struct policy_metric),
		  .map = &metric_frequency_map },
		{ "lead_time", yaml_parse_map, offsetof(struct loader, p.metrics) + METRIC_LEAD_TIME * sizeof(struct policy_metric),
		  .map = &metric_lead_time_map },
		{ "deployment_failure_rate", yaml_parse_map,
		  offsetof(struct loader, p.metrics) + METRIC_DEPLOYMENT_FAILURE_RATE * sizeof(struct policy_metric),
		  .map = &metric_failure_rate_map },
		{ "mttr", yaml_parse_map, offsetof(struct loader, p.metrics) + METRIC_MTTR * sizeof(struct policy_metric),
		  .map = &metric_mttr_map },
		{ "change_failure_rate", yaml_parse_map,
		  offsetof(struct loader, p.metrics) + METRIC_CHANGE_FAILURE_RATE * sizeof(struct policy_metric),
		  .map = &metric_change_failure_rate_map },
		{ NULL },
	},
};

static const struct yaml_key criteria_keys[] = {
	{ "error_rate", yaml_parse_number, offsetof(struct policy_criteria, error_rate_pct), 0, 100 },
	{ "p99_latency_ratio", yaml_parse_number, offsetof(struct policy_criteria, p99_ratio), 1, 1000 },
	{ NULL },
};
static const struct yaml_map immediate_map = { .where = "rollback.immediate", .keys = criteria_keys };
static const struct yaml_map consider_map = { .where = "rollback.consider", .keys = criteria_keys };

/*
 * The consider criteria pause for a person before the immediate ones roll
 * back (runbook "Rollback Decision Criteria"): a consider line above the
 * immediate one could never fire first, so it is refused.
 */
static int check_rollback(struct yaml_walk *w, void *obj, struct yaml_pos at)
{
	const struct policy *p = &((struct loader *)obj)->p;

	if (p->consider.error_rate_pct > 0 && p->immediate.error_rate_pct > 0 &&
	    p->consider.error_rate_pct > p->immediate.error_rate_pct)
		return yaml_walk_fail(w, at, "rollback: consider error_rate %g%% is above immediate error_rate %g%%; "
				      "the consider criteria pause before the immediate ones roll back, so each must "
				      "be at most its immediate counterpart", p->consider.error_rate_pct,
				      p->immediate.error_rate_pct);
	if (p->consider.p99_ratio > 0 && p->immediate.p99_ratio > 0 && p->consider.p99_ratio > p->immediate.p99_ratio)
		return yaml_walk_fail(w, at, "rollback: consider p99_latency_ratio %g is above immediate "
				      "p99_latency_ratio %g; the consider criteria pause before the immediate ones roll "
				      "back, so each must be at most its immediate counterpart", p->consider.p99_ratio,
				      p->immediate.p99_ratio);
	return 0;
}

static const struct yaml_map rollback_map = {
	.where = "rollback",
	.check = check_rollback,
	.keys = (const struct yaml_key[]){
		{ "immediate", yaml_parse_map, offsetof(struct loader, p.immediate), .map = &immediate_map },
		{ "consider", yaml_parse_map, offsetof(struct loader, p.consider), .map = &consider_map },
		{ NULL },
	},
};

/*
 * `judge:` (docs/judge.md): which judge decides the rollback criteria and
 * the sequential judge's settings.
 *   judge:
 *     name: sequential        # or threshold, observed
 *     alpha: 0.05             # false-halt bound of a whole deployment
 *     power: 0.8              # of what each step must rule out
 *     effect: 2               # smallest error-rate ratio worth catching
 *     max_hold_factor: 3      # a step waits for evidence up to this x its hold
 *     max_hold_min: 60m       # and at least this long
 *     floor: 0.5              # error rate (percent) a step may rule out instead of the effect
 *     look: 10s               # how often the evidence is looked at (default: interval / 6, >= 5s)
 */
static const char *const judge_names[] = { "sequential", "threshold", "observed", NULL };

/* char[16]: a judge's name */
static int parse_judge_name(struct yaml_walk *w, const struct yaml_key *k, struct fy_node *v, struct yaml_pos at,
			    void *dst)
{
	int e, r = yaml_parse_enum(w, k, v, at, &e);
	if (r < 0)
		return r;
	snprintf(dst, sizeof(((struct judge_settings *)0)->name), "%s", judge_names[e]);
	return 0;
}

static int check_judge(struct yaml_walk *w, void *obj, struct yaml_pos at)
{
	((struct loader *)obj)->p.judge_mark = pm(at);
	return 0;
}

static const struct yaml_map judge_map = {
	.where = "judge",
	.keys = (const struct yaml_key[]){
		{ "name", parse_judge_name, offsetof(struct loader, p.judge.name), .names = judge_names,
		  .what = "judge name" },
		{ "alpha", yaml_parse_number, offsetof(struct loader, p.judge.alpha), 0.0001, 0.5, .what = "judge.alpha" },
		{ "power", yaml_parse_number, offsetof(struct loader, p.judge.power), 0.5, 0.999, .what = "judge.power" },
		{ "effect", yaml_parse_number, offsetof(struct loader, p.judge.effect), 1.25, 50, .what = "judge.effect" },
		{ "max_hold_factor", yaml_parse_number, offsetof(struct loader, p.judge.max_hold_factor), 1, 100,
		  .what = "judge.max_hold_factor" },
		{ "max_hold_min", yaml_parse_duration, offsetof(struct loader, p.judge.max_hold_min_ms), 60000,
		  7.0 * 24 * 3600 * 1000, .what = "judge.max_hold_min" },
		{ "floor", yaml_parse_number, offsetof(struct loader, p.judge.floor_pct), 0.001, 50, .what = "judge.floor" },
		{ "look", yaml_parse_duration, offsetof(struct loader, p.judge.look_ms), 1000, 24.0 * 3600 * 1000,
		  .what = "judge.look" },
		{ NULL },
	},
	.check = check_judge,
};

/*
 * `fleet:` (docs/policy.md "fleet", docs/fleet.md "Host failures"): how long
 * a rollout holds for a host that does not answer, and what it does then.
 *   fleet:
 *     host_hold_max: 10m      # engine time, 1m-7d
 *     on_host_lost: rollback  # or pause
 */
static const struct yaml_map fleet_map = {
	.where = "fleet",
	.keys = (const struct yaml_key[]){
		{ "host_hold_max", yaml_parse_duration, offsetof(struct loader, p.fleet.host_hold_max_ms), 60000,
		  7.0 * 24 * 3600 * 1000, .what = "fleet.host_hold_max" },
		{ "on_host_lost", yaml_parse_enum, offsetof(struct loader, p.fleet.on_host_lost),
		  .names = policy__host_lost_names, .what = "fleet.on_host_lost" },
		{ NULL },
	},
};

/*
 * `followup:` (docs/checklists.md "Post-deployment follow-up"): after a
 * deployment succeeds, how often open manual items are reminded, when an
 * emergency's post-mortem is due and how often its monitoring looks.
 */
static const struct yaml_map followup_map = {
	.where = "followup",
	.keys = (const struct yaml_key[]){
		{ "remind_every", yaml_parse_duration, offsetof(struct loader, p.followup.remind_every_ms), 60000,
		  MAX_DURATION_MS, .what = "followup.remind_every" },
		{ "postmortem_within", yaml_parse_duration, offsetof(struct loader, p.followup.postmortem_within_ms),
		  60000, MAX_DURATION_MS, .what = "followup.postmortem_within" },
		{ "monitor_every", yaml_parse_duration, offsetof(struct loader, p.followup.monitor_every_ms), 60000,
		  MAX_DURATION_MS, .what = "followup.monitor_every" },
		{ NULL },
	},
};

static const struct pmark *removal_mark(struct loader *ld, const char *section, const char *name)
{
	for (size_t i = ld->removed_nr; i-- > 0;)
		if (!strcmp(ld->removed[i].section, section) && !strcmp(ld->removed[i].name, name))
			return &ld->removed[i].mark;
	return NULL;
}

/* A reference from `user` to `name` in `section` that does not exist. */
static int dangling(struct yaml_walk *w, struct pmark ref, const char *user, const char *what, const char *name,
		    const char *section, const char *const *valid, size_t nvalid)
{
	struct loader *ld = ld_of(w);
	struct strbuf v = STRBUF_INIT;
	const struct pmark *rm = removal_mark(ld, section, name);
	struct pmark at = ref.line ? ref : rm ? *rm : ref;
	const char *sugg = suggest_nearest(name, valid, nvalid);
	int r;

	for (size_t i = 0; i < nvalid; i++)
		strbuf_addf(&v, "%s%s", i ? ", " : "", valid[i]);
	if (!nvalid)
		strbuf_addstr(&v, "(none defined)");
	if (sugg)
		r = yaml_walk_fail(w, yp(at), "%s names %s '%s', which is not defined; did you mean '%s'? valid: %s", user,
				   what, name, sugg, v.buf);
	else
		r = yaml_walk_fail(w, yp(at), "%s names %s '%s', which is not defined%s; valid: %s", user, what, name,
				   rm && !ref.line ? " (it was removed here)" : "", v.buf);
	strbuf_release(&v);
	return r;
}

static int check_refs(struct yaml_walk *w, const struct policy_names *l, const char *user, const char *what,
		      const char *section, const char *const *valid, size_t nvalid)
{
	for (size_t i = 0; i < l->nr; i++) {
		int found = 0;
		for (size_t j = 0; j < nvalid && !found; j++)
			found = !strcmp(l->v[i], valid[j]);
		if (!found)
			return dangling(w, l->marks[i], user, what, l->v[i], section, valid, nvalid);
	}
	return 0;
}

/* Cross references, once the whole file is merged. */
static int validate(struct yaml_walk *w, void *obj, struct yaml_pos at)
{
	struct policy *p = &((struct loader *)obj)->p;
	const char **roles = xcalloc(p->roles_nr + 1, sizeof(char *));
	const char **windows = xcalloc(p->windows_nr + 1, sizeof(char *));
	const char **classes = xcalloc(p->classes_nr + 1, sizeof(char *));
	struct strbuf who = STRBUF_INIT;
	int r = 0;

	for (size_t i = 0; i < p->roles_nr; i++)
		roles[i] = p->roles[i].name;
	for (size_t i = 0; i < p->windows_nr; i++)
		windows[i] = p->windows[i].name;
	for (size_t i = 0; i < p->classes_nr; i++)
		classes[i] = p->classes[i].name;

	if (!p->types_nr)
		r = yaml_walk_fail(w, at, "the policy defines no deployment types; add types: or drop base: none");
	if (r >= 0 && !policy_find_class(p, "normal"))
		r = yaml_walk_fail(w, at, "the policy has no change class 'normal', the class of every deployment "
				   "that names none; keep change_classes: normal");
	for (size_t i = 0; r >= 0 && i < p->windows_nr; i++) {
		strbuf_reset(&who);
		strbuf_addf(&who, "window '%s'", p->windows[i].name);
		r = check_refs(w, &p->windows[i].approvals, who.buf, "role", "roles", roles, p->roles_nr);
	}
	for (size_t i = 0; r >= 0 && i < p->freezes_nr; i++) {
		strbuf_reset(&who);
		strbuf_addf(&who, "freeze '%s'", p->freezes[i].name);
		r = check_refs(w, &p->freezes[i].admits, who.buf, "change class", "change_classes", classes,
			       p->classes_nr);
	}
	for (size_t i = 0; r >= 0 && i < p->types_nr; i++) {
		strbuf_reset(&who);
		strbuf_addf(&who, "type '%s'", p->types[i].name);
		r = check_refs(w, &p->types[i].approvals, who.buf, "role", "roles", roles, p->roles_nr);
		if (r >= 0)
			r = check_refs(w, &p->types[i].windows, who.buf, "window", "windows", windows, p->windows_nr);
	}
	strbuf_release(&who);
	/* checklist items name roles and types too (core/checklist.c) */
	if (r >= 0)
		r = checklist__validate(w, p);
	free(roles);
	free(windows);
	free(classes);
	return r;
}

static const char *const bases[] = { "runbook-v1", "none", NULL };

static const struct yaml_map root_map = {
	.where = "the policy",
	.keys = (const struct yaml_key[]){
		{ "version", yaml_parse_number, offsetof(struct loader, version), 1, 1 },
		{ "base", yaml_parse_enum, offsetof(struct loader, base), .names = bases },
		{ "timezone", parse_timezone, offsetof(struct loader, p.timezone) },
		{ "approval_ttl", yaml_parse_duration, offsetof(struct loader, p.approval_ttl_ms), 1, MAX_DURATION_MS },
		{ "on_window_close", yaml_parse_enum, offsetof(struct loader, p.on_window_close),
		  .names = policy__window_close_names },
		{ "roles", parse_section, 0 },
		{ "change_classes", parse_section, 0 },
		{ "windows", parse_section, 0 },
		{ "freezes", parse_section, 0 },
		{ "types", parse_section, 0 },
		{ "rollback", yaml_parse_map, 0, .map = &rollback_map },
		{ "metrics", yaml_parse_map, 0, .map = &metrics_map },
		{ "judge", yaml_parse_map, 0, .map = &judge_map },
		{ "fleet", yaml_parse_map, 0, .map = &fleet_map },
		/* the runbook's checklists (docs/checklists.md): core/checklist.c */
		{ "checklists", checklist__parse_section, offsetof(struct loader, p.checklists) },
		{ "followup", yaml_parse_map, 0, .map = &followup_map },
		/* the notifier's section of the same file (docs/records.md), read by
		 * its own loader; the policy only lets it stand */
		{ "notifications", yaml_parse_ignore, 0 },
		{ NULL },
	},
	.check = validate,
};

int policy_load(struct policy *out, const char *buf, size_t len, const char *filename, const struct tz_db *db,
		struct strbuf *err)
{
	struct yaml_walk w;
	struct fy_node *root, *bv;
	struct yaml_pos bat;
	struct loader *ld;
	int r;

	filename = filename ? filename : "<policy>";
	if ((r = yaml_walk_open(&w, filename, "a policy", buf, len, POLICY_FILE_MAX, err, &root)) < 0)
		return r;
	ld = xcalloc(1, sizeof(*ld));
	ld->db = db;
	w.user = ld;
	policy_init_default(&ld->p);
	policy__set_str(&ld->p.source, filename);
	if (!root || yaml_walk_is_null(root))
		goto out;	/* an empty file: the built-in default */
	/* `base: none` starts from an empty policy: before any other key */
	bv = yaml_walk_lookup(root, "base", &bat);
	if (bat.line) {
		static const struct yaml_key k = { "base", yaml_parse_enum, 0, .names = bases };
		if ((r = yaml_parse_enum(&w, &k, bv, yaml_walk_pos(bv, bat), &ld->base)) < 0)
			goto out;
		if (ld->base == 1) {
			char *src = ld->p.source;
			ld->p.source = NULL;
			policy_release(&ld->p);
			policy__init_empty(&ld->p, src);
			free(src);
		}
	}
	r = yaml_walk_map(&w, root, YAML_ROOT_POS, &root_map, NULL, ld);
out:
	yaml_walk_close(&w);
	for (size_t i = 0; i < ld->removed_nr; i++)
		free(ld->removed[i].name);
	free(ld->removed);
	if (r < 0)
		policy_release(&ld->p);
	else
		*out = ld->p;
	free(ld);
	return r < 0 ? r : 0;
}
