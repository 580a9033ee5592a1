/*
 * policy.c - the built-in runbook v1.0 policy, the YAML loader, and the
 * accessors other modules use.
 *
 * Design: the loader walks libfyaml's document tree with one small function
 * per section, each knowing its valid keys, so that every error can name the
 * file, line and column, say what is wrong and what would be valid (with the
 * nearest key suggested by edit distance).  A file is merged over the
 * built-in default entry by entry (see policy.h); cross references (a type's
 * roles and windows, a freeze's change classes) are checked once the merge is
 * complete, because a later section may define what an earlier one names.
 * Aliases and anchors are refused: a policy is short, and refusing them keeps
 * "billion laughs" inputs harmless.
 */
#include "core/policy.h"
#include "core/yaml_text.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libfyaml.h>

#include "base/alloc.h"
#include "base/err.h"
#include "base/strbuf.h"
#include "base/timeutil.h"

/* ---------------------------------------------------------------- names */

static void names_add(struct policy_names *l, const char *s, struct pmark m)
{
	if (l->nr + 1 > l->alloc) {
		l->alloc = (l->alloc + 8) * 3 / 2;
		l->v = xrealloc(l->v, l->alloc * sizeof(*l->v));
		l->marks = xrealloc(l->marks, l->alloc * sizeof(*l->marks));
	}
	l->v[l->nr] = xstrdup(s);
	l->marks[l->nr] = m;
	l->nr++;
}

static void names_clear(struct policy_names *l)
{
	for (size_t i = 0; i < l->nr; i++)
		free(l->v[i]);
	free(l->v);
	free(l->marks);
	memset(l, 0, sizeof(*l));
}

static int names_has(const struct policy_names *l, const char *s)
{
	for (size_t i = 0; i < l->nr; i++)
		if (!strcmp(l->v[i], s))
			return 1;
	return 0;
}

static void names_set(struct policy_names *l, const char *const *v)
{
	static const struct pmark none;
	names_clear(l);
	for (; v && *v; v++)
		names_add(l, *v, none);
}

static void set_str(char **dst, const char *s)
{
	free(*dst);
	*dst = s ? xstrdup(s) : NULL;
}

/* ---------------------------------------------------------------- enums */

static const char *const criterion_names[] = {
	[TYPE_CRIT_ERROR_RATE] = "error-rate",
	[TYPE_CRIT_ANY_REGRESSION] = "any-regression",
	[TYPE_CRIT_WORSE_THAN_BASELINE] = "worse-than-baseline",
	[TYPE_CRIT_ANY_ERROR] = "any-error",
	[TYPE_CRIT_AVAILABILITY] = "availability",
};

static const char *const freeze_kind_names[] = {
	[FREEZE_ANNUAL] = "annual",
	[FREEZE_QUARTER_END] = "quarter-end",
	[FREEZE_PRODUCT_LAUNCH] = "product-launch",
	[FREEZE_ONE_OFF] = "one-off",
};

static const char *const window_close_names[] = {
	[WINDOW_CLOSE_HOLD] = "hold",
	[WINDOW_CLOSE_CONTINUE] = "continue",
	[WINDOW_CLOSE_ROLLBACK] = "rollback",
};

static const char *const day_names[] = { "sun", "mon", "tue", "wed", "thu", "fri", "sat" };
static const char *const day_long[] = { "sunday", "monday", "tuesday", "wednesday",
					"thursday", "friday", "saturday" };

static const char *const strategy_names[] = {
	"canary", "fast-progressive", "full", "blue-green", "rolling", "region-by-region",
};

static const char *const metric_names[METRIC__COUNT] = {
	[METRIC_DEPLOYMENT_FREQUENCY] = "deployment_frequency",
	[METRIC_LEAD_TIME] = "lead_time",
	[METRIC_DEPLOYMENT_FAILURE_RATE] = "deployment_failure_rate",
	[METRIC_MTTR] = "mttr",
	[METRIC_CHANGE_FAILURE_RATE] = "change_failure_rate",
};

static const enum policy_metric_unit metric_units[METRIC__COUNT] = {
	[METRIC_DEPLOYMENT_FREQUENCY] = POLICY_METRIC_PERIOD,
	[METRIC_LEAD_TIME] = POLICY_METRIC_DURATION,
	[METRIC_DEPLOYMENT_FAILURE_RATE] = POLICY_METRIC_PCT,
	[METRIC_MTTR] = POLICY_METRIC_DURATION,
	[METRIC_CHANGE_FAILURE_RATE] = POLICY_METRIC_PCT,
};

const char *policy_criterion_name(enum type_criterion c)
{
	return (unsigned)c < ARRAY_SIZE(criterion_names) ? criterion_names[c] : "?";
}

const char *policy_freeze_kind_name(enum freeze_kind k)
{
	return (unsigned)k < ARRAY_SIZE(freeze_kind_names) ? freeze_kind_names[k] : "?";
}

const char *policy_window_close_name(enum window_close_action a)
{
	return (unsigned)a < ARRAY_SIZE(window_close_names) ? window_close_names[a] : "?";
}

const char *policy_day_name(int wday)
{
	return wday >= 0 && wday < 7 ? day_names[wday] : "?";
}

static int enum_lookup(const char *s, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (names[i] && !strcmp(s, names[i]))
			return (int)i;
	return -1;
}

/* ---------------------------------------------------------------- entries */

static struct policy_role *role_get(struct policy *p, const char *name, int create)
{
	for (size_t i = 0; i < p->roles_nr; i++)
		if (!strcmp(p->roles[i].name, name))
			return &p->roles[i];
	if (!create)
		return NULL;
	ALLOC_GROW(p->roles, p->roles_nr + 1, p->roles_alloc);
	memset(&p->roles[p->roles_nr], 0, sizeof(p->roles[0]));
	p->roles[p->roles_nr].name = xstrdup(name);
	return &p->roles[p->roles_nr++];
}

static struct policy_class *class_get(struct policy *p, const char *name, int create)
{
	for (size_t i = 0; i < p->classes_nr; i++)
		if (!strcmp(p->classes[i].name, name))
			return &p->classes[i];
	if (!create)
		return NULL;
	ALLOC_GROW(p->classes, p->classes_nr + 1, p->classes_alloc);
	memset(&p->classes[p->classes_nr], 0, sizeof(p->classes[0]));
	p->classes[p->classes_nr].name = xstrdup(name);
	return &p->classes[p->classes_nr++];
}

static struct policy_window *window_get(struct policy *p, const char *name, int create)
{
	for (size_t i = 0; i < p->windows_nr; i++)
		if (!strcmp(p->windows[i].name, name))
			return &p->windows[i];
	if (!create)
		return NULL;
	ALLOC_GROW(p->windows, p->windows_nr + 1, p->windows_alloc);
	memset(&p->windows[p->windows_nr], 0, sizeof(p->windows[0]));
	p->windows[p->windows_nr].name = xstrdup(name);
	p->windows[p->windows_nr].from_min = -1;
	p->windows[p->windows_nr].to_min = -1;
	return &p->windows[p->windows_nr++];
}

static struct policy_freeze *freeze_get(struct policy *p, const char *name, int create)
{
	for (size_t i = 0; i < p->freezes_nr; i++)
		if (!strcmp(p->freezes[i].name, name))
			return &p->freezes[i];
	if (!create)
		return NULL;
	ALLOC_GROW(p->freezes, p->freezes_nr + 1, p->freezes_alloc);
	memset(&p->freezes[p->freezes_nr], 0, sizeof(p->freezes[0]));
	p->freezes[p->freezes_nr].name = xstrdup(name);
	p->freezes[p->freezes_nr].kind = (enum freeze_kind)-1;
	p->freezes[p->freezes_nr].from_date = INT64_MIN;
	p->freezes[p->freezes_nr].until_date = INT64_MIN;
	return &p->freezes[p->freezes_nr++];
}

static struct policy_type *type_get(struct policy *p, const char *name, int create)
{
	for (size_t i = 0; i < p->types_nr; i++)
		if (!strcmp(p->types[i].name, name))
			return &p->types[i];
	if (!create)
		return NULL;
	ALLOC_GROW(p->types, p->types_nr + 1, p->types_alloc);
	memset(&p->types[p->types_nr], 0, sizeof(p->types[0]));
	p->types[p->types_nr].name = xstrdup(name);
	p->types[p->types_nr].monitoring_ms = 30 * MS_PER_MIN;
	p->types[p->types_nr].criterion_error_rate_pct = 1.0;
	return &p->types[p->types_nr++];
}

static void role_release(struct policy_role *r)
{
	free(r->name);
	names_clear(&r->people);
}

static void class_release(struct policy_class *c)
{
	free(c->name);
	free(c->description);
}

static void window_release(struct policy_window *w)
{
	free(w->name);
	free(w->description);
	names_clear(&w->approvals);
}

static void freeze_release(struct policy_freeze *f)
{
	free(f->name);
	free(f->reason);
	names_clear(&f->admits);
}

static void type_release(struct policy_type *t)
{
	free(t->name);
	free(t->description);
	free(t->testing);
	free(t->strategy);
	names_clear(&t->approvals);
	names_clear(&t->windows);
}

void policy_release(struct policy *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->roles_nr; i++)
		role_release(&p->roles[i]);
	for (size_t i = 0; i < p->classes_nr; i++)
		class_release(&p->classes[i]);
	for (size_t i = 0; i < p->windows_nr; i++)
		window_release(&p->windows[i]);
	for (size_t i = 0; i < p->freezes_nr; i++)
		freeze_release(&p->freezes[i]);
	for (size_t i = 0; i < p->types_nr; i++)
		type_release(&p->types[i]);
	free(p->roles);
	free(p->classes);
	free(p->windows);
	free(p->freezes);
	free(p->types);
	free(p->source);
	free(p->timezone);
	memset(p, 0, sizeof(*p));
}

/* ---------------------------------------------------------------- default */

static void init_metrics(struct policy *p)
{
	for (int i = 0; i < METRIC__COUNT; i++) {
		p->metrics[i].name = metric_names[i];
		p->metrics[i].unit = metric_units[i];
	}
	/* runbook: Deployment Metrics to Track (target, threshold) */
	p->metrics[METRIC_DEPLOYMENT_FREQUENCY].target = (double)MS_PER_DAY;		/* daily */
	p->metrics[METRIC_DEPLOYMENT_FREQUENCY].threshold = (double)(7 * MS_PER_DAY);	/* weekly minimum */
	p->metrics[METRIC_LEAD_TIME].target = (double)MS_PER_DAY;			/* < 1 day */
	p->metrics[METRIC_LEAD_TIME].threshold = (double)(7 * MS_PER_DAY);		/* < 1 week */
	p->metrics[METRIC_DEPLOYMENT_FAILURE_RATE].target = 5;
	p->metrics[METRIC_DEPLOYMENT_FAILURE_RATE].threshold = 15;
	p->metrics[METRIC_MTTR].target = (double)MS_PER_HOUR;				/* < 1 hour */
	p->metrics[METRIC_MTTR].threshold = (double)(4 * MS_PER_HOUR);		/* < 4 hours */
	p->metrics[METRIC_CHANGE_FAILURE_RATE].target = 10;
	p->metrics[METRIC_CHANGE_FAILURE_RATE].threshold = 25;
}

static void init_empty(struct policy *p, const char *source)
{
	memset(p, 0, sizeof(*p));
	p->source = xstrdup(source);
	p->timezone = xstrdup("UTC");
	p->approval_ttl_ms = 24 * MS_PER_HOUR;
	p->on_window_close = WINDOW_CLOSE_HOLD;
	p->immediate.error_rate_pct = 5;
	p->immediate.p99_ratio = 3;
	p->consider.error_rate_pct = 1;
	p->consider.p99_ratio = 2;
	judge_settings_default(&p->judge);
	init_metrics(p);
}

static void add_window(struct policy *p, const char *name, const char *desc, unsigned days,
		       int from_min, int to_min, const char *const *approvals)
{
	struct policy_window *w = window_get(p, name, 1);
	set_str(&w->description, desc);
	w->days = days;
	w->from_min = from_min;
	w->to_min = to_min;
	names_set(&w->approvals, approvals);
}

static void add_type(struct policy *p, const char *name, const char *desc,
		     const char *const *approvals, const char *testing, const char *strategy,
		     int64_t monitoring_ms, enum type_criterion crit, const char *const *windows)
{
	struct policy_type *t = type_get(p, name, 1);
	set_str(&t->description, desc);
	names_set(&t->approvals, approvals);
	set_str(&t->testing, testing);
	set_str(&t->strategy, strategy);
	t->monitoring_ms = monitoring_ms;
	t->criterion = crit;
	t->criterion_error_rate_pct = 1.0;
	names_set(&t->windows, windows);
}

#define L(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define NONE ((const char *const[]){ NULL })
#define DAYS(...) (days_mask((const int[]){ __VA_ARGS__, -1 }))

static unsigned days_mask(const int *d)
{
	unsigned m = 0;
	for (; *d >= 0; d++)
		m |= 1u << *d;
	return m;
}

void policy_init_default(struct policy *p)
{
	static const char *const roles[] = { "team-lead", "engineering-manager", "vp-engineering",
					     "dba", "sre-lead" };
	static const struct pmark none;
	struct policy_freeze *f;
	struct policy_class *c;

	init_empty(p, POLICY_BUILTIN_SOURCE);
	for (size_t i = 0; i < ARRAY_SIZE(roles); i++)
		role_get(p, roles[i], 1);

	c = class_get(p, "normal", 1);
	set_str(&c->description, "any change that is not a security fix");
	c = class_get(p, "security", 1);
	set_str(&c->description, "a fix for a security vulnerability");
	c = class_get(p, "critical-security", 1);
	set_str(&c->description, "a fix for a security vulnerability being exploited or about to be");

	/* runbook: Deployment Windows */
	add_window(p, "standard", "Standard window: Mon-Thu 14:00-18:00, no restrictions",
		   DAYS(1, 2, 3, 4), 14 * 60, 18 * 60, NONE);
	add_window(p, "extended", "Extended window: Mon-Fri 10:00-20:00, manager approval",
		   DAYS(1, 2, 3, 4, 5), 10 * 60, 20 * 60, L("engineering-manager"));
	add_window(p, "emergency", "Emergency window: any day, any time, VP approval",
		   0x7f, 0, 24 * 60, L("vp-engineering"));

	/* runbook: Deployment Freeze Calendar */
	f = freeze_get(p, "holiday", 1);
	set_str(&f->reason, "Holiday freeze");
	f->kind = FREEZE_ANNUAL;
	f->from_month = 12;
	f->from_day = 15;
	f->until_month = 1;
	f->until_day = 2;
	names_add(&f->admits, "critical-security", none);
	f = freeze_get(p, "quarter-end", 1);
	set_str(&f->reason, "Financial close");
	f->kind = FREEZE_QUARTER_END;
	f->last_days = 3;
	names_add(&f->admits, "security", none);
	names_add(&f->admits, "critical-security", none);

	/* runbook: Deployment Types; windows per DESIGN.md */
	add_type(p, "standard", "Regular feature or bug fix deployment during business hours",
		 L("team-lead"), "Full regression", "canary", 30 * MS_PER_MIN, TYPE_CRIT_ERROR_RATE,
		 L("standard", "extended"));
	add_type(p, "hotfix", "Urgent fix for production issue", L("engineering-manager"),
		 "Targeted testing", "fast-progressive", 15 * MS_PER_MIN, TYPE_CRIT_ANY_REGRESSION,
		 L("standard", "extended"));
	add_type(p, "emergency", "Critical security or availability fix", L("vp-engineering"),
		 "Smoke tests minimum", "full", MONITORING_CONTINUOUS, TYPE_CRIT_WORSE_THAN_BASELINE,
		 L("emergency"));
	add_type(p, "database-migration", "Schema or data changes to production database",
		 L("engineering-manager", "dba"), "Staging migration + rollback test", "blue-green",
		 MS_PER_HOUR, TYPE_CRIT_ANY_ERROR, L("standard", "extended"));
	add_type(p, "infrastructure-change", "Changes to infrastructure configuration",
		 L("sre-lead", "engineering-manager"), "Staging deployment + chaos testing",
		 "region-by-region", MS_PER_HOUR, TYPE_CRIT_AVAILABILITY, L("standard", "extended"));
}

/* ---------------------------------------------------------------- suggest */

static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), *row, r;
	if (la > 64 || lb > 64)
		return 1000;
	row = xcalloc(lb + 1, sizeof(*row));
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t prev = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t cur = row[j];
			size_t sub = prev + (tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]));
			size_t best = row[j] + 1 < row[j - 1] + 1 ? row[j] + 1 : row[j - 1] + 1;
			row[j] = sub < best ? sub : best;
			prev = cur;
		}
	}
	r = row[lb];
	free(row);
	return r;
}

const char *policy_suggest(const char *word, const char *const *valid, size_t n)
{
	const char *best = NULL;
	size_t best_d = (size_t)-1, wl = strlen(word);
	size_t limit = wl / 3 > 2 ? wl / 3 : 2;

	for (size_t i = 0; i < n; i++) {
		size_t d = edit_distance(word, valid[i]);
		/* a prefix ("monitor" for "monitoring") is a plausible slip too */
		if (wl >= 3 && !strncmp(valid[i], word, wl))
			d = d < 2 ? d : 2;
		if (d < best_d) {
			best_d = d;
			best = valid[i];
		}
	}
	return best_d <= limit ? best : NULL;
}

/* ---------------------------------------------------------------- loader */

struct removal {
	char section[16];
	char *name;
	struct pmark mark;
};

struct loader {
	const char *file;
	struct strbuf *err;
	const struct tz_db *db;
	struct policy *p;
	struct removal *removed;
	size_t removed_nr, removed_alloc;
};

static int fail(struct loader *ld, struct pmark m, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(struct loader *ld, struct pmark m, const char *fmt, ...)
{
	va_list ap;
	if (ld->err) {
		strbuf_addf(ld->err, "%s:%d:%d: ", ld->file, m.line ? m.line : 1, m.line ? m.col : 1);
		va_start(ap, fmt);
		strbuf_vaddf(ld->err, fmt, ap);
		va_end(ap);
	}
	return SW_EPOLICY;
}

static struct pmark mark_of(struct fy_node *n, struct pmark fallback)
{
	struct fy_token *t;
	const struct fy_mark *m;
	if (!n || fy_node_get_type(n) != FYNT_SCALAR)
		return fallback;
	t = fy_node_get_scalar_token(n);
	if (!t)
		return fallback;
	m = fy_token_start_mark(t);
	if (!m)
		return fallback;
	/* point at the opening quote or the '*' of an alias, not past it */
	switch (fy_node_get_style(n)) {
	case FYNS_SINGLE_QUOTED:
	case FYNS_DOUBLE_QUOTED:
	case FYNS_ALIAS:
		return (struct pmark){ m->line + 1, m->column > 0 ? m->column : 1 };
	default:
		return (struct pmark){ m->line + 1, m->column + 1 };
	}
}

static int is_null(struct fy_node *n)
{
	const char *s;
	size_t len;
	if (!n)
		return 1;
	if (fy_node_get_type(n) != FYNT_SCALAR || fy_node_is_alias(n) ||
	    fy_node_get_style(n) != FYNS_PLAIN)
		return 0;
	s = fy_node_get_scalar(n, &len);
	if (!s)
		return 1;
	return len == 0 || (len == 1 && s[0] == '~') ||
	       (len == 4 && (!memcmp(s, "null", 4) || !memcmp(s, "Null", 4) || !memcmp(s, "NULL", 4)));
}

static const char *node_kind(struct fy_node *n)
{
	if (!n || is_null(n))
		return "nothing (null)";
	if (fy_node_is_alias(n))
		return "an alias";
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

static int check_alias(struct loader *ld, struct fy_node *n, struct pmark m)
{
	if (n && fy_node_is_alias(n))
		return fail(ld, mark_of(n, m), "aliases are not supported in a policy; write the value out");
	return 0;
}

/* The text of scalar n as a NUL-terminated copy in *out (caller frees). */
static int get_scalar(struct loader *ld, struct fy_node *n, struct pmark km, const char *what,
		      size_t max, char **out)
{
	const char *s;
	size_t len;
	int r = check_alias(ld, n, km);
	if (r < 0)
		return r;
	if (!n || fy_node_get_type(n) != FYNT_SCALAR || is_null(n))
		return fail(ld, mark_of(n, km), "%s must be a string, found %s", what, node_kind(n));
	s = fy_node_get_scalar(n, &len);
	if (!s)
		s = "";
	if (len > max)
		return fail(ld, mark_of(n, km), "%s is longer than %zu bytes; shorten it", what, max);
	if (memchr(s, '\0', len))
		return fail(ld, mark_of(n, km), "%s contains a NUL byte; remove it", what);
	*out = xstrndup(s, len);
	return 0;
}

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

static int get_name(struct loader *ld, struct fy_node *n, struct pmark km, const char *what, char **out)
{
	char *s = NULL;
	int r = get_scalar(ld, n, km, what, POLICY_NAME_MAX + 64, &s);
	if (r < 0)
		return r;
	if (!valid_name(s)) {
		r = fail(ld, mark_of(n, km),
			 "'%.*s' is not a valid %s; use 1-%d letters, digits, '-', '_' or '.', starting with a letter or digit",
			 80, s, what, POLICY_NAME_MAX);
		free(s);
		return r;
	}
	*out = s;
	return 0;
}

static int get_text(struct loader *ld, struct fy_node *n, struct pmark km, const char *what, char **dst)
{
	char *s = NULL;
	int r = get_scalar(ld, n, km, what, POLICY_TEXT_MAX, &s);
	if (r < 0)
		return r;
	free(*dst);
	*dst = s;
	return 0;
}

static int get_number(struct loader *ld, struct fy_node *n, struct pmark km, const char *what,
		      double min, double max, double *out)
{
	char *s = NULL, *end;
	double v;
	int r = get_scalar(ld, n, km, what, 64, &s);
	if (r < 0)
		return r;
	errno = 0;
	v = strtod(s, &end);
	if (!*s || *end || errno || !isfinite(v) || v < min || v > max) {
		r = fail(ld, mark_of(n, km), "%s '%s' is not valid; expected a number from %g to %g", what, s,
			 min, max);
		free(s);
		return r;
	}
	free(s);
	*out = v;
	return 0;
}

static int get_duration(struct loader *ld, struct fy_node *n, struct pmark km, const char *what,
			int allow_continuous, int64_t *out)
{
	char *s = NULL;
	int64_t ms;
	int r = get_scalar(ld, n, km, what, 64, &s);
	if (r < 0)
		return r;
	if (allow_continuous && !strcmp(s, "continuous")) {
		*out = MONITORING_CONTINUOUS;
		free(s);
		return 0;
	}
	if (duration_parse(s, &ms, NULL) < 0 || ms <= 0 || ms > 3650 * MS_PER_DAY) {
		r = fail(ld, mark_of(n, km),
			 "%s '%s' is not a duration; expected for example 30m, 1h30m, 24h or 7d%s", what, s,
			 allow_continuous ? ", or continuous" : "");
		free(s);
		return r;
	}
	free(s);
	*out = ms;
	return 0;
}

static int get_enum(struct loader *ld, struct fy_node *n, struct pmark km, const char *what,
		    const char *const *names, size_t nr, int *out)
{
	char *s = NULL;
	int r = get_scalar(ld, n, km, what, 64, &s), i;
	struct strbuf valid = STRBUF_INIT;
	const char *sugg;
	if (r < 0)
		return r;
	i = enum_lookup(s, names, nr);
	if (i >= 0) {
		free(s);
		*out = i;
		return 0;
	}
	for (size_t k = 0; k < nr; k++)
		strbuf_addf(&valid, "%s%s", k ? ", " : "", names[k]);
	sugg = policy_suggest(s, names, nr);
	if (sugg)
		r = fail(ld, mark_of(n, km), "unknown %s '%.80s'; did you mean '%s'? valid: %s", what, s, sugg,
			 valid.buf);
	else
		r = fail(ld, mark_of(n, km), "unknown %s '%.80s'; valid: %s", what, s, valid.buf);
	strbuf_release(&valid);
	free(s);
	return r;
}

/* A list of names: a YAML sequence of names (or null for an empty list). */
static int get_names(struct loader *ld, struct fy_node *n, struct pmark km, const char *what,
		     int free_text, struct policy_names *out)
{
	struct policy_names l = { 0 };
	struct fy_node *item;
	void *it = NULL;
	int r = check_alias(ld, n, km);
	if (r < 0)
		return r;
	if (is_null(n)) {
		names_clear(out);
		return 0;
	}
	if (fy_node_get_type(n) != FYNT_SEQUENCE)
		return fail(ld, mark_of(n, km), "%s must be a list such as [a, b], found %s", what, node_kind(n));
	while ((item = fy_node_sequence_iterate(n, &it))) {
		char *s = NULL;
		struct pmark im = mark_of(item, km);
		if (l.nr >= POLICY_LIST_MAX) {
			names_clear(&l);
			return fail(ld, im, "%s has more than %d entries", what, POLICY_LIST_MAX);
		}
		r = free_text ? get_scalar(ld, item, km, what, POLICY_TEXT_MAX, &s)
			      : get_name(ld, item, km, what, &s);
		if (r < 0) {
			names_clear(&l);
			return r;
		}
		if (names_has(&l, s)) {
			r = fail(ld, im, "'%s' appears twice in %s; list it once", s, what);
			free(s);
			names_clear(&l);
			return r;
		}
		names_add(&l, s, im);
		free(s);
	}
	names_clear(out);
	*out = l;
	return 0;
}

/* Check that every key of mapping n is in keys[]; report the first that is not. */
static int check_keys(struct loader *ld, struct fy_node *n, struct pmark km, const char *where,
		      const char *const *keys, size_t nkeys)
{
	struct fy_node_pair *pair;
	void *it = NULL;
	int r = check_alias(ld, n, km);
	if (r < 0)
		return r;
	if (!n || fy_node_get_type(n) != FYNT_MAPPING)
		return fail(ld, mark_of(n, km), "%s must be a mapping of keys to values, found %s", where,
			    node_kind(n));
	while ((pair = fy_node_mapping_iterate(n, &it))) {
		struct fy_node *k = fy_node_pair_key(pair);
		const char *s;
		size_t len;
		struct strbuf valid = STRBUF_INIT;
		const char *sugg;
		char *ks;
		if (!k || fy_node_get_type(k) != FYNT_SCALAR || fy_node_is_alias(k))
			return fail(ld, mark_of(k, km), "keys in %s must be plain words", where);
		s = fy_node_get_scalar(k, &len);
		if (!s)
			s = "";
		ks = xstrndup(s, len > 80 ? 80 : len);
		if (enum_lookup(ks, keys, nkeys) >= 0 && strlen(ks) == len) {
			free(ks);
			continue;
		}
		for (size_t i = 0; i < nkeys; i++)
			strbuf_addf(&valid, "%s%s", i ? ", " : "", keys[i]);
		sugg = policy_suggest(ks, keys, nkeys);
		if (sugg)
			r = fail(ld, mark_of(k, km), "unknown key '%s' in %s; did you mean '%s'? valid keys: %s",
				 ks, where, sugg, valid.buf);
		else
			r = fail(ld, mark_of(k, km), "unknown key '%s' in %s; valid keys: %s", ks, where,
				 valid.buf);
		free(ks);
		strbuf_release(&valid);
		return r;
	}
	return 0;
}

/* The value of key `key` in mapping n (NULL when absent), and the key's mark. */
static struct fy_node *lookup(struct fy_node *n, const char *key, struct pmark *km, int *present)
{
	struct fy_node_pair *pair;
	void *it = NULL;
	*present = 0;
	while ((pair = fy_node_mapping_iterate(n, &it))) {
		struct fy_node *k = fy_node_pair_key(pair);
		const char *s;
		size_t len;
		if (!k || fy_node_get_type(k) != FYNT_SCALAR)
			continue;
		s = fy_node_get_scalar(k, &len);
		if (s && len == strlen(key) && !memcmp(s, key, len)) {
			*km = mark_of(k, *km);
			*present = 1;
			return fy_node_pair_value(pair);
		}
	}
	return NULL;
}

struct key_iter {
	struct fy_node *value;
	struct pmark mark;
	int present;
};

static struct key_iter key_iter_start(struct fy_node *n, const char *key, struct pmark base)
{
	struct key_iter ki = { .mark = base };
	ki.value = lookup(n, key, &ki.mark, &ki.present);
	return ki;
}

/* Run the statement after it once, with v (the value) and km (the key's
 * mark) bound, if mapping n has key `key`. */
#define FOR_KEY(n, key, v, km, base)                                             \
	for (struct key_iter ki_##v = key_iter_start((n), (key), (base)); ki_##v.present; \
	     ki_##v.present = 0)                                                 \
		for (struct pmark km = ki_##v.mark; ki_##v.present; ki_##v.present = 0) \
			for (struct fy_node *v = ki_##v.value; ki_##v.present; ki_##v.present = 0)

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

static int get_time_of_day(struct loader *ld, struct fy_node *n, struct pmark km, const char *what,
			   int *out)
{
	char *s = NULL;
	int r = get_scalar(ld, n, km, what, 64, &s);
	if (r < 0)
		return r;
	if (parse_hhmm(s, out) < 0) {
		r = fail(ld, mark_of(n, km), "bad time '%s' for %s; expected HH:MM from 00:00 to 24:00, for example \"14:00\"",
			 s, what);
		free(s);
		return r;
	}
	free(s);
	return 0;
}

static int day_index(const char *s, size_t len)
{
	for (int i = 0; i < 7; i++) {
		if (len == 3 && !strncasecmp(s, day_names[i], 3))
			return i;
		if (len == strlen(day_long[i]) && !strncasecmp(s, day_long[i], len))
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

static int get_days(struct loader *ld, struct fy_node *n, struct pmark km, unsigned *out)
{
	unsigned mask = 0;
	struct fy_node *item;
	void *it = NULL;
	int r = check_alias(ld, n, km), count = 0;
	const char *valid = "expected day names or ranges such as [mon, tue] or [mon-thu], or any";
	if (r < 0)
		return r;
	if (n && fy_node_get_type(n) == FYNT_SCALAR && !is_null(n)) {
		char *s = NULL;
		if ((r = get_scalar(ld, n, km, "days", 64, &s)) < 0)
			return r;
		if (parse_day_item(s, &mask) < 0) {
			r = fail(ld, mark_of(n, km), "bad day '%s'; %s", s, valid);
			free(s);
			return r;
		}
		free(s);
		*out = mask;
		return 0;
	}
	if (!n || fy_node_get_type(n) != FYNT_SEQUENCE)
		return fail(ld, mark_of(n, km), "days must be a list of days, found %s; %s", node_kind(n), valid);
	while ((item = fy_node_sequence_iterate(n, &it))) {
		char *s = NULL;
		if (++count > POLICY_LIST_MAX)
			return fail(ld, mark_of(item, km), "days has more than %d entries", POLICY_LIST_MAX);
		if ((r = get_scalar(ld, item, km, "a day", 64, &s)) < 0)
			return r;
		if (parse_day_item(s, &mask) < 0) {
			r = fail(ld, mark_of(item, km), "bad day '%s'; %s", s, valid);
			free(s);
			return r;
		}
		free(s);
	}
	if (!mask)
		return fail(ld, mark_of(n, km), "days is empty; %s", valid);
	*out = mask;
	return 0;
}

/* "MM-DD" for annual freezes. */
static int get_month_day(struct loader *ld, struct fy_node *n, struct pmark km, const char *what,
			 int *month, int *day)
{
	char *s = NULL;
	int r = get_scalar(ld, n, km, what, 64, &s), m, d;
	if (r < 0)
		return r;
	if (strlen(s) != 5 || !isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]) || s[2] != '-' ||
	    !isdigit((unsigned char)s[3]) || !isdigit((unsigned char)s[4]) ||
	    (m = (s[0] - '0') * 10 + s[1] - '0') < 1 || m > 12 ||
	    (d = (s[3] - '0') * 10 + s[4] - '0') < 1 || d > days_in_month(2000, m)) {
		r = fail(ld, mark_of(n, km),
			 "bad date '%s' for %s of an annual freeze; expected MM-DD, for example \"12-15\"", s, what);
		free(s);
		return r;
	}
	free(s);
	*month = m;
	*day = d;
	return 0;
}

static int get_date(struct loader *ld, struct fy_node *n, struct pmark km, const char *what, int64_t *out)
{
	char *s = NULL;
	int r = get_scalar(ld, n, km, what, 64, &s);
	if (r < 0)
		return r;
	if (date_parse(s, out, NULL) < 0) {
		r = fail(ld, mark_of(n, km), "bad date '%s' for %s; expected YYYY-MM-DD, for example 2027-03-01", s,
			 what);
		free(s);
		return r;
	}
	free(s);
	return 0;
}

static void note_removal(struct loader *ld, const char *section, const char *name, struct pmark m)
{
	ALLOC_GROW(ld->removed, ld->removed_nr + 1, ld->removed_alloc);
	snprintf(ld->removed[ld->removed_nr].section, sizeof(ld->removed[0].section), "%s", section);
	ld->removed[ld->removed_nr].name = xstrdup(name);
	ld->removed[ld->removed_nr].mark = m;
	ld->removed_nr++;
}

/*
 * Walk the mapping `n` of a named-entry section: for each `name: value`,
 * value null removes the entry (via remove()), otherwise entry() parses it.
 */
static int each_entry(struct loader *ld, struct fy_node *n, struct pmark km, const char *section,
		      int (*entry)(struct loader *, const char *, struct fy_node *, struct pmark),
		      int (*remove)(struct loader *, const char *))
{
	struct fy_node_pair *pair;
	void *it = NULL;
	size_t count = 0;
	int r = check_alias(ld, n, km);
	if (r < 0)
		return r;
	if (is_null(n))
		return 0;
	if (fy_node_get_type(n) != FYNT_MAPPING)
		return fail(ld, mark_of(n, km), "%s must be a mapping from names to entries, found %s", section,
			    node_kind(n));
	while ((pair = fy_node_mapping_iterate(n, &it))) {
		struct fy_node *k = fy_node_pair_key(pair), *v = fy_node_pair_value(pair);
		struct pmark em = mark_of(k, km);
		char *name = NULL;
		if (++count > POLICY_ENTRIES_MAX)
			return fail(ld, em, "%s has more than %d entries", section, POLICY_ENTRIES_MAX);
		if ((r = get_name(ld, k, km, "name", &name)) < 0)
			return r;
		if (is_null(v) && remove) {
			r = remove(ld, name);
			note_removal(ld, section, name, em);
		} else {
			r = entry(ld, name, v, em);
		}
		free(name);
		if (r < 0)
			return r;
	}
	return 0;
}

static int roles_entry(struct loader *ld, const char *name, struct fy_node *v, struct pmark em)
{
	struct policy_role *role = role_get(ld->p, name, 1);
	int r = get_names(ld, v, em, "people", 1, &role->people);
	role->mark = em;
	return r;
}

static int classes_entry(struct loader *ld, const char *name, struct fy_node *v, struct pmark em)
{
	struct policy_class *c = class_get(ld->p, name, 1);
	c->mark = em;
	return get_text(ld, v, em, "change class description", &c->description);
}

static int classes_remove(struct loader *ld, const char *name)
{
	struct policy *p = ld->p;
	for (size_t i = 0; i < p->classes_nr; i++)
		if (!strcmp(p->classes[i].name, name)) {
			class_release(&p->classes[i]);
			memmove(&p->classes[i], &p->classes[i + 1], (p->classes_nr - i - 1) * sizeof(p->classes[0]));
			p->classes_nr--;
			break;
		}
	return 0;
}

static int windows_entry(struct loader *ld, const char *name, struct fy_node *v, struct pmark em)
{
	static const char *const keys[] = { "description", "days", "from", "to", "approvals" };
	struct policy_window *w = window_get(ld->p, name, 1);
	struct strbuf where = STRBUF_INIT;
	struct pmark to_mark = em;
	int r;

	strbuf_addf(&where, "window '%s'", name);
	r = check_keys(ld, v, em, where.buf, keys, ARRAY_SIZE(keys));
	strbuf_release(&where);
	if (r < 0)
		return r;
	w->mark = em;
	FOR_KEY(v, "description", x, km, em)
		if ((r = get_text(ld, x, km, "description", &w->description)) < 0)
			return r;
	FOR_KEY(v, "days", x, km, em)
		if ((r = get_days(ld, x, km, &w->days)) < 0)
			return r;
	FOR_KEY(v, "from", x, km, em)
		if ((r = get_time_of_day(ld, x, km, "from", &w->from_min)) < 0)
			return r;
	FOR_KEY(v, "to", x, km, em) {
		if ((r = get_time_of_day(ld, x, km, "to", &w->to_min)) < 0)
			return r;
		to_mark = mark_of(x, km);
	}
	FOR_KEY(v, "approvals", x, km, em)
		if ((r = get_names(ld, x, km, "approvals", 0, &w->approvals)) < 0)
			return r;
	if (!w->days)
		return fail(ld, em, "window '%s' has no days; add days: [mon-fri] or similar", name);
	if (w->from_min < 0 || w->to_min < 0)
		return fail(ld, em, "window '%s' needs both from and to, for example from: \"14:00\" and to: \"18:00\"",
			    name);
	if (w->from_min == 1440)
		return fail(ld, em, "window '%s' starts at 24:00; use 00:00", name);
	if (w->to_min == 0)
		w->to_min = 1440;	/* "to: 00:00" means midnight at the end of the day */
	if (w->from_min == w->to_min)
		return fail(ld, to_mark, "window '%s' is empty: to equals from; make to later than from (or earlier, for a window that crosses midnight)",
			    name);
	return 0;
}

#define DEFINE_REMOVE(fn, arr, nr, rel)                                        \
	static int fn(struct loader *ld, const char *name)                     \
	{                                                                      \
		struct policy *p = ld->p;                                      \
		for (size_t i = 0; i < p->nr; i++)                             \
			if (!strcmp(p->arr[i].name, name)) {                   \
				rel(&p->arr[i]);                               \
				memmove(&p->arr[i], &p->arr[i + 1],            \
					(p->nr - i - 1) * sizeof(p->arr[0]));  \
				p->nr--;                                       \
				break;                                         \
			}                                                      \
		return 0;                                                      \
	}

DEFINE_REMOVE(windows_remove, windows, windows_nr, window_release)
DEFINE_REMOVE(freezes_remove, freezes, freezes_nr, freeze_release)
DEFINE_REMOVE(types_remove, types, types_nr, type_release)

static int freezes_entry(struct loader *ld, const char *name, struct fy_node *v, struct pmark em)
{
	static const char *const keys[] = { "kind", "reason", "from", "until", "last_days", "admits" };
	struct policy_freeze *f = freeze_get(ld->p, name, 1);
	struct strbuf where = STRBUF_INIT;
	struct pmark until_mark = em;
	int r, kind, fresh = f->kind == (enum freeze_kind)-1, admits_given = 0;
	int64_t from_date = f->from_date, until_date = f->until_date;

	strbuf_addf(&where, "freeze '%s'", name);
	r = check_keys(ld, v, em, where.buf, keys, ARRAY_SIZE(keys));
	strbuf_release(&where);
	if (r < 0)
		return r;
	f->mark = em;
	FOR_KEY(v, "kind", x, km, em) {
		if ((r = get_enum(ld, x, km, "freeze kind", freeze_kind_names, ARRAY_SIZE(freeze_kind_names),
				  &kind)) < 0)
			return r;
		if (!fresh && (int)f->kind != kind) {
			/* a new kind: the old kind's dates no longer apply */
			from_date = until_date = INT64_MIN;
			f->from_month = f->until_month = 0;
		}
		f->kind = (enum freeze_kind)kind;
	}
	if (f->kind == (enum freeze_kind)-1)
		return fail(ld, em, "freeze '%s' needs a kind; valid: annual, quarter-end, product-launch, one-off",
			    name);
	FOR_KEY(v, "reason", x, km, em)
		if ((r = get_text(ld, x, km, "reason", &f->reason)) < 0)
			return r;
	FOR_KEY(v, "admits", x, km, em) {
		if ((r = get_names(ld, x, km, "admits", 0, &f->admits)) < 0)
			return r;
		admits_given = 1;
	}
	if (fresh && !admits_given && f->kind == FREEZE_QUARTER_END)
		names_set(&f->admits, L("security", "critical-security"));
	FOR_KEY(v, "last_days", x, km, em) {
		double d;
		if (f->kind != FREEZE_QUARTER_END)
			return fail(ld, km, "last_days applies only to kind quarter-end; remove it or use from and until");
		if ((r = get_number(ld, x, km, "last_days", 1, 28, &d)) < 0)
			return r;
		if (d != floor(d))
			return fail(ld, mark_of(x, km), "last_days must be a whole number from 1 to 28");
		f->last_days = (int)d;
	}
	if (f->kind == FREEZE_QUARTER_END) {
		if (!f->last_days)
			f->last_days = 3;
		FOR_KEY(v, "from", x, km, em) {
			(void)x;
			return fail(ld, km, "a quarter-end freeze has no from; use last_days");
		}
		FOR_KEY(v, "until", x, km, em) {
			(void)x;
			return fail(ld, km, "a quarter-end freeze has no until; use last_days");
		}
		return 0;
	}
	if (f->kind == FREEZE_ANNUAL) {
		FOR_KEY(v, "from", x, km, em)
			if ((r = get_month_day(ld, x, km, "from", &f->from_month, &f->from_day)) < 0)
				return r;
		FOR_KEY(v, "until", x, km, em)
			if ((r = get_month_day(ld, x, km, "until", &f->until_month, &f->until_day)) < 0)
				return r;
		if (!f->from_month || !f->until_month)
			return fail(ld, em, "annual freeze '%s' needs from and until as MM-DD, for example from: \"12-15\" and until: \"01-02\"",
				    name);
		return 0;
	}
	/* product-launch, one-off: dated */
	FOR_KEY(v, "from", x, km, em)
		if ((r = get_date(ld, x, km, "from", &from_date)) < 0)
			return r;
	FOR_KEY(v, "until", x, km, em) {
		if ((r = get_date(ld, x, km, "until", &until_date)) < 0)
			return r;
		until_mark = mark_of(x, km);
	}
	if (from_date == INT64_MIN || until_date == INT64_MIN)
		return fail(ld, em, "%s freeze '%s' needs from and until dates, for example from: 2027-03-01 and until: 2027-03-05",
			    policy_freeze_kind_name(f->kind), name);
	if (until_date < from_date) {
		struct civil a, b;
		civil_from_ms(from_date * MS_PER_DAY, &a);
		civil_from_ms(until_date * MS_PER_DAY, &b);
		return fail(ld, until_mark,
			    "until %04d-%02d-%02d is before from %04d-%02d-%02d in freeze '%s'; until must be on or after from",
			    b.year, b.month, b.day, a.year, a.month, a.day, name);
	}
	f->from_date = from_date;
	f->until_date = until_date;
	return 0;
}

static int types_entry(struct loader *ld, const char *name, struct fy_node *v, struct pmark em)
{
	static const char *const keys[] = { "description", "approvals", "testing", "strategy", "monitoring",
					    "rollback", "rollback_error_rate", "windows" };
	struct policy_type *t = type_get(ld->p, name, 1);
	struct strbuf where = STRBUF_INIT;
	int r, e;

	strbuf_addf(&where, "type '%s'", name);
	r = check_keys(ld, v, em, where.buf, keys, ARRAY_SIZE(keys));
	strbuf_release(&where);
	if (r < 0)
		return r;
	t->mark = em;
	FOR_KEY(v, "description", x, km, em)
		if ((r = get_text(ld, x, km, "description", &t->description)) < 0)
			return r;
	FOR_KEY(v, "testing", x, km, em)
		if ((r = get_text(ld, x, km, "testing", &t->testing)) < 0)
			return r;
	FOR_KEY(v, "approvals", x, km, em)
		if ((r = get_names(ld, x, km, "approvals", 0, &t->approvals)) < 0)
			return r;
	FOR_KEY(v, "windows", x, km, em)
		if ((r = get_names(ld, x, km, "windows", 0, &t->windows)) < 0)
			return r;
	FOR_KEY(v, "strategy", x, km, em) {
		if ((r = get_enum(ld, x, km, "strategy", strategy_names, ARRAY_SIZE(strategy_names), &e)) < 0)
			return r;
		set_str(&t->strategy, strategy_names[e]);
	}
	FOR_KEY(v, "monitoring", x, km, em)
		if ((r = get_duration(ld, x, km, "monitoring", 1, &t->monitoring_ms)) < 0)
			return r;
	FOR_KEY(v, "rollback", x, km, em) {
		if ((r = get_enum(ld, x, km, "rollback criterion", criterion_names, ARRAY_SIZE(criterion_names),
				  &e)) < 0)
			return r;
		t->criterion = (enum type_criterion)e;
	}
	FOR_KEY(v, "rollback_error_rate", x, km, em)
		if ((r = get_number(ld, x, km, "rollback_error_rate", 0, 100, &t->criterion_error_rate_pct)) < 0)
			return r;
	if (!t->strategy)
		return fail(ld, em, "type '%s' needs a strategy; valid: canary, fast-progressive, full, blue-green, rolling, region-by-region",
			    name);
	if (!t->windows.nr)
		return fail(ld, em, "type '%s' may use no window; list at least one in windows: [...]", name);
	return 0;
}

static int criteria_section(struct loader *ld, struct fy_node *n, struct pmark km0, const char *what,
			    struct policy_criteria *c)
{
	static const char *const keys[] = { "error_rate", "p99_latency_ratio" };
	int r = check_keys(ld, n, km0, what, keys, ARRAY_SIZE(keys));
	if (r < 0)
		return r;
	FOR_KEY(n, "error_rate", x, km, km0)
		if ((r = get_number(ld, x, km, "error_rate", 0, 100, &c->error_rate_pct)) < 0)
			return r;
	FOR_KEY(n, "p99_latency_ratio", x, km, km0)
		if ((r = get_number(ld, x, km, "p99_latency_ratio", 1, 1000, &c->p99_ratio)) < 0)
			return r;
	return 0;
}

static int rollback_section(struct loader *ld, struct fy_node *n, struct pmark km0)
{
	static const char *const keys[] = { "immediate", "consider" };
	int r = check_keys(ld, n, km0, "rollback", keys, ARRAY_SIZE(keys));
	if (r < 0)
		return r;
	FOR_KEY(n, "immediate", x, km, km0)
		if ((r = criteria_section(ld, x, km, "rollback.immediate", &ld->p->immediate)) < 0)
			return r;
	FOR_KEY(n, "consider", x, km, km0)
		if ((r = criteria_section(ld, x, km, "rollback.consider", &ld->p->consider)) < 0)
			return r;
	return 0;
}

/*
 * `judge:` (docs/judge.md): which judge decides the rollback criteria and
 * the sequential judge's settings.  Self-contained on purpose (one block,
 * the loader's get_* helpers only) so it ports to another YAML walker.
 *   judge:
 *     name: sequential        # or threshold, observed
 *     alpha: 0.05             # false-halt bound of a whole deployment
 *     power: 0.8              # of what each step must rule out
 *     effect: 2               # smallest error-rate ratio worth catching
 *     max_hold_factor: 3      # a step waits for evidence up to this x its hold
 *     floor: 0.5              # error rate (percent) a step may rule out instead of the effect
 */
static int judge_section(struct loader *ld, struct fy_node *n, struct pmark km0)
{
	static const char *const keys[] = { "name", "alpha", "power", "effect", "max_hold_factor", "floor" };
	static const char *const names[] = { "sequential", "threshold", "observed" };
	struct judge_settings *j = &ld->p->judge;
	int r = check_keys(ld, n, km0, "judge", keys, ARRAY_SIZE(keys)), e;
	if (r < 0)
		return r;
	ld->p->judge_mark = km0;
	FOR_KEY(n, "name", x, km, km0) {
		if ((r = get_enum(ld, x, km, "judge name", names, ARRAY_SIZE(names), &e)) < 0)
			return r;
		snprintf(j->name, sizeof(j->name), "%s", names[e]);
	}
	FOR_KEY(n, "alpha", x, km, km0)
		if ((r = get_number(ld, x, km, "judge.alpha", 0.0001, 0.5, &j->alpha)) < 0)
			return r;
	FOR_KEY(n, "power", x, km, km0)
		if ((r = get_number(ld, x, km, "judge.power", 0.5, 0.999, &j->power)) < 0)
			return r;
	FOR_KEY(n, "effect", x, km, km0)
		if ((r = get_number(ld, x, km, "judge.effect", 1.25, 50, &j->effect)) < 0)
			return r;
	FOR_KEY(n, "max_hold_factor", x, km, km0)
		if ((r = get_number(ld, x, km, "judge.max_hold_factor", 1, 100, &j->max_hold_factor)) < 0)
			return r;
	FOR_KEY(n, "floor", x, km, km0)
		if ((r = get_number(ld, x, km, "judge.floor", 0.001, 50, &j->floor_pct)) < 0)
			return r;
	return 0;
}

static int metric_value(struct loader *ld, struct fy_node *x, struct pmark km, struct policy_metric *m,
			const char *what, double *out)
{
	int64_t ms;
	int r;
	if (m->unit == POLICY_METRIC_PCT)
		return get_number(ld, x, km, what, 0, 100, out);
	if (m->unit == POLICY_METRIC_PERIOD && x && fy_node_get_type(x) == FYNT_SCALAR && !fy_node_is_alias(x)) {
		size_t len;
		const char *s = fy_node_get_scalar(x, &len);
		if (s && len == 5 && !memcmp(s, "daily", 5)) {
			*out = (double)MS_PER_DAY;
			return 0;
		}
		if (s && len == 6 && !memcmp(s, "weekly", 6)) {
			*out = (double)(7 * MS_PER_DAY);
			return 0;
		}
	}
	if ((r = get_duration(ld, x, km, what, 0, &ms)) < 0)
		return r;
	*out = (double)ms;
	return 0;
}

static int metrics_section(struct loader *ld, struct fy_node *n, struct pmark km0)
{
	static const char *const keys[] = { "target", "threshold" };
	int r = check_keys(ld, n, km0, "metrics", metric_names, METRIC__COUNT);
	if (r < 0)
		return r;
	for (int i = 0; i < METRIC__COUNT; i++) {
		struct policy_metric *m = &ld->p->metrics[i];
		struct strbuf where = STRBUF_INIT;
		strbuf_addf(&where, "metrics.%s", metric_names[i]);
		FOR_KEY(n, metric_names[i], x, km, km0) {
			r = check_keys(ld, x, km, where.buf, keys, ARRAY_SIZE(keys));
			if (r >= 0)
				FOR_KEY(x, "target", y, km2, km)
					r = metric_value(ld, y, km2, m, "target", &m->target);
			if (r >= 0)
				FOR_KEY(x, "threshold", y, km2, km)
					r = metric_value(ld, y, km2, m, "threshold", &m->threshold);
		}
		strbuf_release(&where);
		if (r < 0)
			return r;
	}
	return 0;
}

static const struct pmark *removal_mark(struct loader *ld, const char *section, const char *name)
{
	for (size_t i = ld->removed_nr; i-- > 0;)
		if (!strcmp(ld->removed[i].section, section) && !strcmp(ld->removed[i].name, name))
			return &ld->removed[i].mark;
	return NULL;
}

/* A reference from `user` to `name` in `section` that does not exist. */
static int dangling(struct loader *ld, struct pmark ref, const char *user, const char *what,
		    const char *name, const char *section, const char *const *valid, size_t nvalid)
{
	struct strbuf v = STRBUF_INIT;
	const struct pmark *rm = removal_mark(ld, section, name);
	struct pmark at = ref.line ? ref : rm ? *rm : ref;
	const char *sugg = policy_suggest(name, valid, nvalid);
	int r;
	for (size_t i = 0; i < nvalid; i++)
		strbuf_addf(&v, "%s%s", i ? ", " : "", valid[i]);
	if (!nvalid)
		strbuf_addstr(&v, "(none defined)");
	if (sugg)
		r = fail(ld, at, "%s names %s '%s', which is not defined; did you mean '%s'? valid: %s", user, what,
			 name, sugg, v.buf);
	else
		r = fail(ld, at, "%s names %s '%s', which is not defined%s; valid: %s", user, what, name,
			 rm && !ref.line ? " (it was removed here)" : "", v.buf);
	strbuf_release(&v);
	return r;
}

static int check_refs(struct loader *ld, const struct policy_names *l, const char *user, const char *what,
		      const char *section, const char *const *valid, size_t nvalid)
{
	for (size_t i = 0; i < l->nr; i++)
		if (enum_lookup(l->v[i], valid, nvalid) < 0)
			return dangling(ld, l->marks[i], user, what, l->v[i], section, valid, nvalid);
	return 0;
}

static int validate(struct loader *ld, struct pmark root_mark)
{
	struct policy *p = ld->p;
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
		r = fail(ld, root_mark, "the policy defines no deployment types; add types: or drop base: none");
	if (r >= 0 && !policy_find_class(p, "normal"))
		r = fail(ld, root_mark, "the policy has no change class 'normal', the class of every deployment "
			 "that names none; keep change_classes: normal");
	for (size_t i = 0; r >= 0 && i < p->windows_nr; i++) {
		strbuf_reset(&who);
		strbuf_addf(&who, "window '%s'", p->windows[i].name);
		r = check_refs(ld, &p->windows[i].approvals, who.buf, "role", "roles", roles, p->roles_nr);
	}
	for (size_t i = 0; r >= 0 && i < p->freezes_nr; i++) {
		strbuf_reset(&who);
		strbuf_addf(&who, "freeze '%s'", p->freezes[i].name);
		r = check_refs(ld, &p->freezes[i].admits, who.buf, "change class", "change_classes", classes,
			       p->classes_nr);
	}
	for (size_t i = 0; r >= 0 && i < p->types_nr; i++) {
		strbuf_reset(&who);
		strbuf_addf(&who, "type '%s'", p->types[i].name);
		r = check_refs(ld, &p->types[i].approvals, who.buf, "role", "roles", roles, p->roles_nr);
		if (r >= 0)
			r = check_refs(ld, &p->types[i].windows, who.buf, "window", "windows", windows,
				       p->windows_nr);
	}
	strbuf_release(&who);
	free(roles);
	free(windows);
	free(classes);
	return r;
}

static int load_root(struct loader *ld, struct fy_node *root)
{
	/* "notifications" is the notifier's section of the same file (docs/records.md),
	 * read by its own loader; the policy only lets it stand */
	static const char *const keys[] = { "version", "base", "timezone", "approval_ttl", "on_window_close",
					    "roles", "change_classes", "windows", "freezes", "types",
					    "rollback", "metrics", "notifications", "judge" };
	static const char *const bases[] = { "runbook-v1", "none" };
	struct pmark m0 = { 1, 1 };
	int r, e;

	if (is_null(root))
		return 0;	/* an empty file: the built-in default */
	if ((r = check_keys(ld, root, m0, "the policy", keys, ARRAY_SIZE(keys))) < 0)
		return r;
	FOR_KEY(root, "version", x, km, m0) {
		double v;
		if ((r = get_number(ld, x, km, "version", 1, 1, &v)) < 0)
			return r;
	}
	FOR_KEY(root, "base", x, km, m0) {
		if ((r = get_enum(ld, x, km, "base", bases, ARRAY_SIZE(bases), &e)) < 0)
			return r;
		if (e == 1) {
			char *src = ld->p->source;
			ld->p->source = NULL;
			policy_release(ld->p);
			init_empty(ld->p, src);
			free(src);
		}
	}
	FOR_KEY(root, "timezone", x, km, m0) {
		char *tz = NULL;
		if ((r = get_scalar(ld, x, km, "timezone", 64, &tz)) < 0)
			return r;
		if (!tz_name_is_wellformed(tz) ||
		    (strcmp(tz, "UTC") && ld->db && ld->db->exists && !ld->db->exists(ld->db->ctx, tz))) {
			r = fail(ld, mark_of(x, km),
				 "unknown time zone '%.80s'; use an IANA name such as UTC, Europe/Berlin or America/New_York",
				 tz);
			free(tz);
			return r;
		}
		free(ld->p->timezone);
		ld->p->timezone = tz;
	}
	FOR_KEY(root, "approval_ttl", x, km, m0)
		if ((r = get_duration(ld, x, km, "approval_ttl", 0, &ld->p->approval_ttl_ms)) < 0)
			return r;
	FOR_KEY(root, "on_window_close", x, km, m0) {
		if ((r = get_enum(ld, x, km, "on_window_close", window_close_names, ARRAY_SIZE(window_close_names),
				  &e)) < 0)
			return r;
		ld->p->on_window_close = (enum window_close_action)e;
	}
	FOR_KEY(root, "roles", x, km, m0)
		if ((r = each_entry(ld, x, km, "roles", roles_entry, NULL)) < 0)
			return r;
	FOR_KEY(root, "change_classes", x, km, m0)
		if ((r = each_entry(ld, x, km, "change_classes", classes_entry, classes_remove)) < 0)
			return r;
	FOR_KEY(root, "windows", x, km, m0)
		if ((r = each_entry(ld, x, km, "windows", windows_entry, windows_remove)) < 0)
			return r;
	FOR_KEY(root, "freezes", x, km, m0)
		if ((r = each_entry(ld, x, km, "freezes", freezes_entry, freezes_remove)) < 0)
			return r;
	FOR_KEY(root, "types", x, km, m0)
		if ((r = each_entry(ld, x, km, "types", types_entry, types_remove)) < 0)
			return r;
	FOR_KEY(root, "rollback", x, km, m0)
		if ((r = rollback_section(ld, x, km)) < 0)
			return r;
	FOR_KEY(root, "metrics", x, km, m0)
		if ((r = metrics_section(ld, x, km)) < 0)
			return r;
	FOR_KEY(root, "judge", x, km, m0)
		if ((r = judge_section(ld, x, km)) < 0)
			return r;
	return validate(ld, m0);
}

/* The bytes libfyaml may see (core/yaml_text.h), as a policy error at their position. */
static int check_text(struct loader *ld, const unsigned char *s, size_t len)
{
	struct yaml_text_error e;
	if (yaml_text_check((const char *)s, len, &e) < 0)
		return fail(ld, (struct pmark){ e.line, e.col }, "%s", e.msg);
	return 0;
}

/* Whether buf holds nothing but blank lines and '#' comments (libfyaml
 * finds no document there, which is an empty policy, not a syntax error). */
static int only_comments(const char *buf, size_t len)
{
	int in_comment = 0;
	for (size_t i = 0; i < len; i++) {
		char c = buf[i];
		if (c == '\n')
			in_comment = 0;
		else if (in_comment || c == ' ' || c == '\t' || c == '\r')
			continue;
		else if (c == '#')
			in_comment = 1;
		else
			return 0;
	}
	return 1;
}

int policy_load(struct policy *out, const char *buf, size_t len, const char *filename,
		const struct tz_db *db, struct strbuf *err)
{
	struct policy p;
	struct loader ld = { .file = filename ? filename : "<policy>", .err = err, .db = db, .p = &p };
	struct fy_diag_cfg dc;
	struct fy_diag *diag;
	struct fy_parse_cfg pc = { 0 };
	struct fy_document *doc = NULL;
	struct pmark m0 = { 1, 1 };
	int r;

	if (len > POLICY_FILE_MAX)
		return fail(&ld, m0, "the file is larger than %d bytes; a policy is much smaller", POLICY_FILE_MAX);
	if (memchr(buf, '\0', len))
		return fail(&ld, m0, "the file contains a NUL byte; a policy is YAML text");
	if ((r = check_text(&ld, (const unsigned char *)buf, len)) < 0)
		return r;

	fy_diag_cfg_default(&dc);
	dc.fp = NULL;
	dc.colorize = false;
	diag = fy_diag_create(&dc);
	if (!diag)
		return fail(&ld, m0, "out of memory while reading the policy");
	fy_diag_set_collect_errors(diag, true);
	pc.flags = FYPCF_QUIET;
	pc.diag = diag;

	policy_init_default(&p);
	free(p.source);
	p.source = xstrdup(ld.file);
	if (len && only_comments(buf, len))
		len = 0;	/* comments and blank lines only: an empty file, the default */
	if (len)
		doc = fy_document_build_from_string(&pc, buf, len);
	if (len && !doc) {
		struct fy_diag_error *e;
		void *it = NULL;
		e = fy_diag_errors_iterate(diag, &it);
		if (e)
			r = fail(&ld, (struct pmark){ e->line > 0 ? e->line : 1, e->column > 0 ? e->column : 1 },
				 "not valid YAML: %s; a policy is a YAML mapping (docs/policy.md)",
				 e->msg ? e->msg : "syntax error");
		else
			r = fail(&ld, m0, "not valid YAML; a policy is a YAML mapping (docs/policy.md)");
		goto out;
	}
	r = doc ? load_root(&ld, fy_document_root(doc)) : 0;
out:
	if (doc)
		fy_document_destroy(doc);
	fy_diag_destroy(diag);
	for (size_t i = 0; i < ld.removed_nr; i++)
		free(ld.removed[i].name);
	free(ld.removed);
	if (r < 0) {
		policy_release(&p);
		return SW_EPOLICY;
	}
	*out = p;
	return 0;
}

/* ---------------------------------------------------------------- accessors */

const struct policy_type *policy_find_type(const struct policy *p, const char *name)
{
	for (size_t i = 0; i < p->types_nr; i++)
		if (!strcmp(p->types[i].name, name))
			return &p->types[i];
	return NULL;
}

const struct policy_window *policy_find_window(const struct policy *p, const char *name)
{
	for (size_t i = 0; i < p->windows_nr; i++)
		if (!strcmp(p->windows[i].name, name))
			return &p->windows[i];
	return NULL;
}

const struct policy_freeze *policy_find_freeze(const struct policy *p, const char *name)
{
	for (size_t i = 0; i < p->freezes_nr; i++)
		if (!strcmp(p->freezes[i].name, name))
			return &p->freezes[i];
	return NULL;
}

const struct policy_role *policy_find_role(const struct policy *p, const char *name)
{
	for (size_t i = 0; i < p->roles_nr; i++)
		if (!strcmp(p->roles[i].name, name))
			return &p->roles[i];
	return NULL;
}

const struct policy_class *policy_find_class(const struct policy *p, const char *name)
{
	for (size_t i = 0; i < p->classes_nr; i++)
		if (!strcmp(p->classes[i].name, name))
			return &p->classes[i];
	return NULL;
}

static void unknown_type(const struct policy *p, const char *type, struct strbuf *err)
{
	if (!err)
		return;
	strbuf_addf(err, "unknown deployment type '%s'; valid: ", type);
	for (size_t i = 0; i < p->types_nr; i++)
		strbuf_addf(err, "%s%s", i ? ", " : "", p->types[i].name);
}

int policy_type_rules(const struct policy *p, const char *type, struct type_rules *out, struct strbuf *err)
{
	const struct policy_type *t = policy_find_type(p, type);
	struct type_rules r;
	if (!t) {
		unknown_type(p, type, err);
		return SW_ENOTFOUND;
	}
	memset(&r, 0, sizeof(r));
	snprintf(r.type, sizeof(r.type), "%s", t->name);
	snprintf(r.strategy, sizeof(r.strategy), "%s", t->strategy ? t->strategy : "canary");
	r.monitoring_ms = t->monitoring_ms;
	r.criterion = t->criterion;
	r.criterion_error_rate_pct = t->criterion_error_rate_pct;
	r.immediate_error_rate_pct = p->immediate.error_rate_pct;
	r.immediate_p99_ratio = p->immediate.p99_ratio;
	r.consider_error_rate_pct = p->consider.error_rate_pct;
	r.consider_p99_ratio = p->consider.p99_ratio;
	r.judge = p->judge;
	*out = r;
	return 0;
}

int policy_required_approvals(const struct policy *p, const char *type, const char *window,
			      const char **out, size_t max, struct strbuf *err)
{
	const struct policy_type *t = policy_find_type(p, type);
	const struct policy_window *w = NULL;
	size_t n = 0;
	if (!t) {
		unknown_type(p, type, err);
		return SW_ENOTFOUND;
	}
	if (window && !(w = policy_find_window(p, window))) {
		strbuf_errf(err, "unknown window '%s'", window);
		return SW_ENOTFOUND;
	}
	for (size_t i = 0; i < t->approvals.nr; i++) {
		if (n < max)
			out[n] = t->approvals.v[i];
		n++;
	}
	for (size_t i = 0; w && i < w->approvals.nr; i++) {
		if (names_has(&t->approvals, w->approvals.v[i]))
			continue;
		if (n < max)
			out[n] = w->approvals.v[i];
		n++;
	}
	return (int)n;
}

const struct policy_names *policy_role_people(const struct policy *p, const char *role)
{
	const struct policy_role *r = policy_find_role(p, role);
	return r ? &r->people : NULL;
}

int policy_person_has_role(const struct policy *p, const char *role, const char *person)
{
	const struct policy_names *l = policy_role_people(p, role);
	return l ? names_has(l, person) : 0;
}

int64_t policy_approval_ttl_ms(const struct policy *p)
{
	return p->approval_ttl_ms;
}

int policy_freeze_admits(const struct policy_freeze *f, const char *cls)
{
	return names_has(&f->admits, cls);
}

/* ---------------------------------------------------------------- YAML out */

static void yaml_quoted(struct strbuf *out, const char *s)
{
	strbuf_addch(out, '"');
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			strbuf_addf(out, "\\%c", c);
		else if (c < 0x20)
			strbuf_addf(out, "\\x%02x", c);
		else
			strbuf_addch(out, (char)c);
	}
	strbuf_addch(out, '"');
}

static void yaml_list(struct strbuf *out, const struct policy_names *l, int quote)
{
	strbuf_addch(out, '[');
	for (size_t i = 0; i < l->nr; i++) {
		if (i)
			strbuf_addstr(out, ", ");
		if (quote)
			yaml_quoted(out, l->v[i]);
		else
			strbuf_addstr(out, l->v[i]);
	}
	strbuf_addch(out, ']');
}

static void yaml_days(struct strbuf *out, unsigned days)
{
	int first = 1;
	strbuf_addch(out, '[');
	/* Monday first, as people read a week */
	for (int k = 1; k <= 7; k++) {
		int d = k % 7;
		if (!(days & (1u << d)))
			continue;
		strbuf_addf(out, "%s%s", first ? "" : ", ", day_names[d]);
		first = 0;
	}
	strbuf_addch(out, ']');
}

static void yaml_duration(struct strbuf *out, double ms)
{
	char buf[DURATION_BUFSZ];
	strbuf_addstr(out, duration_format((int64_t)ms, buf));
}

void policy_format_yaml(const struct policy *p, struct strbuf *out)
{
	strbuf_addf(out,
		    "# slipway policy, effective (source: %s)\n"
		    "# Format and defaults: docs/policy.md.  Comments marked \"runbook silent\" are\n"
		    "# slipway's decisions where the runbook v1.0 says nothing.\n"
		    "version: 1\n"
		    "# This listing is complete, so it does not build on the built-in default;\n"
		    "# a hand-written slipway.yaml normally omits base and lists only changes.\n"
		    "base: none\n"
		    "# runbook: \"Time (UTC)\".  Windows and freeze days are wall-clock times in this zone.\n"
		    "timezone: %s\n"
		    "# runbook silent: an approval expires this long after it is given.\n"
		    "approval_ttl: ",
		    p->source ? p->source : POLICY_BUILTIN_SOURCE, p->timezone);
	yaml_duration(out, (double)p->approval_ttl_ms);
	strbuf_addf(out,
		    "\n# runbook silent (slipway default; docs/DESIGN.md): when a window closes during a rollout,\n"
		    "# hold the current weight until a window opens (or continue, or rollback).\n"
		    "on_window_close: %s\n\n",
		    policy_window_close_name(p->on_window_close));

	strbuf_addstr(out, "# runbook: \"Approval Required\" names the roles; who holds each is yours to fill in.\n"
			   "roles:\n");
	for (size_t i = 0; i < p->roles_nr; i++) {
		strbuf_addf(out, "  %s: ", p->roles[i].name);
		yaml_list(out, &p->roles[i].people, 1);
		strbuf_addch(out, '\n');
	}
	if (!p->roles_nr)
		strbuf_addstr(out, "  {}\n");

	strbuf_addstr(out, "\n# docs/DESIGN.md: what a freeze may admit (runbook: \"Critical security only\", \"Security only\").\n"
			   "change_classes:\n");
	for (size_t i = 0; i < p->classes_nr; i++) {
		strbuf_addf(out, "  %s: ", p->classes[i].name);
		yaml_quoted(out, p->classes[i].description ? p->classes[i].description : "");
		strbuf_addch(out, '\n');
	}

	strbuf_addstr(out, "\n# runbook: Deployment Windows.  Each is a half-open interval [from, to) of local\n"
			   "# time; runbook silent: from is included, to is not.  from > to crosses midnight.\n"
			   "# A window's approvals are added to the deployment type's.\n"
			   "windows:\n");
	for (size_t i = 0; i < p->windows_nr; i++) {
		const struct policy_window *w = &p->windows[i];
		strbuf_addf(out, "  %s:\n", w->name);
		if (w->description) {
			strbuf_addstr(out, "    description: ");
			yaml_quoted(out, w->description);
			strbuf_addch(out, '\n');
		}
		strbuf_addstr(out, "    days: ");
		yaml_days(out, w->days);
		strbuf_addf(out, "\n    from: \"%02d:%02d\"\n    to: \"%02d:%02d\"\n    approvals: ", w->from_min / 60,
			    w->from_min % 60, w->to_min / 60, w->to_min % 60);
		yaml_list(out, &w->approvals, 0);
		if (!strcmp(w->name, "extended"))
			strbuf_addstr(out, "   # runbook: \"Manager approval\"; runbook silent on which manager");
		strbuf_addch(out, '\n');
	}

	strbuf_addstr(out, "\n# runbook: Deployment Freeze Calendar.  Freezes override windows; dates are\n"
			   "# inclusive whole days in the policy's timezone (runbook silent).  A change may\n"
			   "# deploy during a freeze only if its class is admitted by every freeze in force.\n"
			   "# Kinds: annual (MM-DD, may cross the new year), quarter-end (last_days of Mar, Jun,\n"
			   "# Sep, Dec), product-launch and one-off (YYYY-MM-DD dates; runbook: \"Major product\n"
			   "# launches\", exceptions: none).\n"
			   "freezes:\n");
	for (size_t i = 0; i < p->freezes_nr; i++) {
		const struct policy_freeze *f = &p->freezes[i];
		struct civil a, b;
		strbuf_addf(out, "  %s:\n    kind: %s\n", f->name, policy_freeze_kind_name(f->kind));
		if (f->reason) {
			strbuf_addstr(out, "    reason: ");
			yaml_quoted(out, f->reason);
			strbuf_addch(out, '\n');
		}
		switch (f->kind) {
		case FREEZE_ANNUAL:
			strbuf_addf(out, "    from: \"%02d-%02d\"\n    until: \"%02d-%02d\"\n", f->from_month,
				    f->from_day, f->until_month, f->until_day);
			break;
		case FREEZE_QUARTER_END:
			strbuf_addf(out, "    last_days: %d\n", f->last_days);
			break;
		default:
			civil_from_ms(f->from_date * MS_PER_DAY, &a);
			civil_from_ms(f->until_date * MS_PER_DAY, &b);
			strbuf_addf(out, "    from: %04d-%02d-%02d\n    until: %04d-%02d-%02d\n", a.year, a.month,
				    a.day, b.year, b.month, b.day);
			break;
		}
		strbuf_addstr(out, "    admits: ");
		yaml_list(out, &f->admits, 0);
		if (f->kind == FREEZE_QUARTER_END && !strcmp(f->name, "quarter-end"))
			strbuf_addstr(out, "   # runbook: \"Security only\", read as security and critical-security");
		strbuf_addch(out, '\n');
	}

	strbuf_addstr(out, "\n# runbook: Deployment Types.  windows: which windows a type may use, in order of\n"
			   "# preference (runbook silent; docs/DESIGN.md decides).  monitoring: at 100% before\n"
			   "# success, or continuous.  rollback: the type's own criterion (error-rate uses\n"
			   "# rollback_error_rate, percent).\n"
			   "types:\n");
	for (size_t i = 0; i < p->types_nr; i++) {
		const struct policy_type *t = &p->types[i];
		strbuf_addf(out, "  %s:\n", t->name);
		if (t->description) {
			strbuf_addstr(out, "    description: ");
			yaml_quoted(out, t->description);
			strbuf_addch(out, '\n');
		}
		strbuf_addstr(out, "    approvals: ");
		yaml_list(out, &t->approvals, 0);
		strbuf_addch(out, '\n');
		if (t->testing) {
			strbuf_addstr(out, "    testing: ");
			yaml_quoted(out, t->testing);
			strbuf_addch(out, '\n');
		}
		strbuf_addf(out, "    strategy: %s\n    monitoring: ", t->strategy ? t->strategy : "canary");
		if (t->monitoring_ms == MONITORING_CONTINUOUS)
			strbuf_addstr(out, "continuous");
		else
			yaml_duration(out, (double)t->monitoring_ms);
		strbuf_addf(out, "\n    rollback: %s\n", policy_criterion_name(t->criterion));
		if (t->criterion == TYPE_CRIT_ERROR_RATE)
			strbuf_addf(out, "    rollback_error_rate: %g\n", t->criterion_error_rate_pct);
		strbuf_addstr(out, "    windows: ");
		yaml_list(out, &t->windows, 0);
		strbuf_addch(out, '\n');
	}

	strbuf_addf(out,
		    "\n# runbook: Rollback Decision Criteria.  immediate: roll back automatically;\n"
		    "# consider: pause and ask a person (slipway default; docs/DESIGN.md).  The runbook's other items (data\n"
		    "# corruption, security vulnerability, critical feature broken, customer\n"
		    "# complaints, unexpected behaviour) need a person and are not numbers.\n"
		    "rollback:\n"
		    "  immediate:\n    error_rate: %g\n    p99_latency_ratio: %g\n"
		    "  consider:\n    error_rate: %g\n    p99_latency_ratio: %g\n",
		    p->immediate.error_rate_pct, p->immediate.p99_ratio, p->consider.error_rate_pct,
		    p->consider.p99_ratio);
	strbuf_addf(out,
		    "\n# who decides the criteria (docs/judge.md): sequential tests on the deployment's\n"
		    "# evidence; threshold (Flagger's failed-check counting) and observed are the others.\n"
		    "judge:\n  name: %s\n  alpha: %g\n  power: %g\n  effect: %g\n  max_hold_factor: %g\n  floor: %g\n",
		    p->judge.name[0] ? p->judge.name : "sequential", p->judge.alpha, p->judge.power, p->judge.effect,
		    p->judge.max_hold_factor, p->judge.floor_pct);

	strbuf_addstr(out, "\n# runbook: Deployment Metrics to Track.  Frequency: at least one deployment per\n"
			   "# period; lead time and mttr: below the duration; rates: below the percent.\n"
			   "metrics:\n");
	for (int i = 0; i < METRIC__COUNT; i++) {
		const struct policy_metric *m = &p->metrics[i];
		strbuf_addf(out, "  %s: { target: ", metric_names[i]);
		if (m->unit == POLICY_METRIC_PCT)
			strbuf_addf(out, "%g, threshold: %g }\n", m->target, m->threshold);
		else {
			yaml_duration(out, m->target);
			strbuf_addstr(out, ", threshold: ");
			yaml_duration(out, m->threshold);
			strbuf_addstr(out, " }\n");
		}
	}
}
