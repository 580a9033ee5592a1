/*
 * policy_default.c - the policy as a model: its entries and lists, the
 * built-in runbook v1.0 policy (policy_init_default()), and the accessors
 * other modules use; see policy.h.  Loading a file over it is
 * policy_load.c, printing it policy_show.c; what the three share is in
 * policy_internal.h.
 */
#include "core/policy.h"
#include "core/policy_internal.h"
#include "core/checklist.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/err.h"
#include "base/strbuf.h"
#include "base/timeutil.h"

/* ---------------------------------------------------------------- names */

void policy__names_add(struct policy_names *l, const char *s, struct pmark m)
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

void policy__names_clear(struct policy_names *l)
{
	for (size_t i = 0; i < l->nr; i++)
		free(l->v[i]);
	free(l->v);
	free(l->marks);
	memset(l, 0, sizeof(*l));
}

int policy__names_has(const struct policy_names *l, const char *s)
{
	for (size_t i = 0; i < l->nr; i++)
		if (!strcmp(l->v[i], s))
			return 1;
	return 0;
}

void policy__names_set(struct policy_names *l, const char *const *v)
{
	static const struct pmark none;
	policy__names_clear(l);
	for (; v && *v; v++)
		policy__names_add(l, *v, none);
}

void policy__set_str(char **dst, const char *s)
{
	free(*dst);
	*dst = s ? xstrdup(s) : NULL;
}

/* ---------------------------------------------------------------- enums */

const char *const policy__criterion_names[] = {
	[TYPE_CRIT_ERROR_RATE] = "error-rate",
	[TYPE_CRIT_ANY_REGRESSION] = "any-regression",
	[TYPE_CRIT_WORSE_THAN_BASELINE] = "worse-than-baseline",
	[TYPE_CRIT_ANY_ERROR] = "any-error",
	[TYPE_CRIT_AVAILABILITY] = "availability",
	NULL,
};

const char *const policy__freeze_kind_names[] = {
	[FREEZE_ANNUAL] = "annual",
	[FREEZE_QUARTER_END] = "quarter-end",
	[FREEZE_PRODUCT_LAUNCH] = "product-launch",
	[FREEZE_ONE_OFF] = "one-off",
	NULL,
};

const char *const policy__window_close_names[] = {
	[WINDOW_CLOSE_HOLD] = "hold",
	[WINDOW_CLOSE_CONTINUE] = "continue",
	[WINDOW_CLOSE_ROLLBACK] = "rollback",
	NULL,
};

const char *const policy__host_lost_names[] = {
	[HOST_LOST_ROLLBACK] = "rollback",
	[HOST_LOST_PAUSE] = "pause",
	NULL,
};

const char *const policy__day_names[] = { "sun", "mon", "tue", "wed", "thu", "fri", "sat" };
const char *const policy__day_long[] = { "sunday", "monday", "tuesday", "wednesday",
					"thursday", "friday", "saturday" };

const char *const policy__metric_names[METRIC__COUNT + 1] = {
	[METRIC_DEPLOYMENT_FREQUENCY] = "deployment_frequency",
	[METRIC_LEAD_TIME] = "lead_time",
	[METRIC_DEPLOYMENT_FAILURE_RATE] = "deployment_failure_rate",
	[METRIC_MTTR] = "mttr",
	[METRIC_CHANGE_FAILURE_RATE] = "change_failure_rate",
	NULL,
};

const enum policy_metric_unit policy__metric_units[METRIC__COUNT] = {
	[METRIC_DEPLOYMENT_FREQUENCY] = POLICY_METRIC_PERIOD,
	[METRIC_LEAD_TIME] = POLICY_METRIC_DURATION,
	[METRIC_DEPLOYMENT_FAILURE_RATE] = POLICY_METRIC_PCT,
	[METRIC_MTTR] = POLICY_METRIC_DURATION,
	[METRIC_CHANGE_FAILURE_RATE] = POLICY_METRIC_PCT,
};

const char *policy_criterion_name(enum type_criterion c)
{
	return (unsigned)c < ARRAY_SIZE(policy__criterion_names) - 1 ? policy__criterion_names[c] : "?";
}

const char *policy_freeze_kind_name(enum freeze_kind k)
{
	return (unsigned)k < ARRAY_SIZE(policy__freeze_kind_names) - 1 ? policy__freeze_kind_names[k] : "?";
}

const char *policy_window_close_name(enum window_close_action a)
{
	return (unsigned)a < ARRAY_SIZE(policy__window_close_names) - 1 ? policy__window_close_names[a] : "?";
}

const char *policy_host_lost_name(enum host_lost_action a)
{
	return (unsigned)a < ARRAY_SIZE(policy__host_lost_names) - 1 ? policy__host_lost_names[a] : "?";
}

const char *policy_day_name(int wday)
{
	return wday >= 0 && wday < 7 ? policy__day_names[wday] : "?";
}

/* ---------------------------------------------------------------- entries */

struct policy_role *policy__role_get(struct policy *p, const char *name, int create)
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

struct policy_class *policy__class_get(struct policy *p, const char *name, int create)
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

struct policy_window *policy__window_get(struct policy *p, const char *name, int create)
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

struct policy_freeze *policy__freeze_get(struct policy *p, const char *name, int create)
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

struct policy_type *policy__type_get(struct policy *p, const char *name, int create)
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

void policy__role_release(struct policy_role *r)
{
	free(r->name);
	policy__names_clear(&r->people);
}

void policy__class_release(struct policy_class *c)
{
	free(c->name);
	free(c->description);
}

void policy__window_release(struct policy_window *w)
{
	free(w->name);
	free(w->description);
	policy__names_clear(&w->approvals);
}

void policy__freeze_release(struct policy_freeze *f)
{
	free(f->name);
	free(f->reason);
	policy__names_clear(&f->admits);
}

void policy__type_release(struct policy_type *t)
{
	free(t->name);
	free(t->description);
	free(t->testing);
	free(t->strategy);
	policy__names_clear(&t->approvals);
	policy__names_clear(&t->windows);
}

void policy_release(struct policy *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->roles_nr; i++)
		policy__role_release(&p->roles[i]);
	for (size_t i = 0; i < p->classes_nr; i++)
		policy__class_release(&p->classes[i]);
	for (size_t i = 0; i < p->windows_nr; i++)
		policy__window_release(&p->windows[i]);
	for (size_t i = 0; i < p->freezes_nr; i++)
		policy__freeze_release(&p->freezes[i]);
	for (size_t i = 0; i < p->types_nr; i++)
		policy__type_release(&p->types[i]);
	free(p->roles);
	free(p->classes);
	free(p->windows);
	free(p->freezes);
	free(p->types);
	free(p->source);
	free(p->timezone);
	checklist_release(&p->checklists);
	memset(p, 0, sizeof(*p));
}

/* ---------------------------------------------------------------- default */

static void init_metrics(struct policy *p)
{
	for (int i = 0; i < METRIC__COUNT; i++) {
		p->metrics[i].name = policy__metric_names[i];
		p->metrics[i].unit = policy__metric_units[i];
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

void policy__init_empty(struct policy *p, const char *source)
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
	p->fleet.host_hold_max_ms = HOST_HOLD_MAX_DEFAULT_MS;
	p->fleet.on_host_lost = HOST_LOST_ROLLBACK;
	followup_settings_default(&p->followup);
	init_metrics(p);
}

static void add_window(struct policy *p, const char *name, const char *desc, unsigned days,
		       int from_min, int to_min, const char *const *approvals)
{
	struct policy_window *w = policy__window_get(p, name, 1);
	policy__set_str(&w->description, desc);
	w->days = days;
	w->from_min = from_min;
	w->to_min = to_min;
	policy__names_set(&w->approvals, approvals);
}

static void add_type(struct policy *p, const char *name, const char *desc,
		     const char *const *approvals, const char *testing, const char *strategy,
		     int64_t monitoring_ms, enum type_criterion crit, const char *const *windows)
{
	struct policy_type *t = policy__type_get(p, name, 1);
	policy__set_str(&t->description, desc);
	policy__names_set(&t->approvals, approvals);
	policy__set_str(&t->testing, testing);
	policy__set_str(&t->strategy, strategy);
	t->monitoring_ms = monitoring_ms;
	t->criterion = crit;
	t->criterion_error_rate_pct = 1.0;
	policy__names_set(&t->windows, windows);
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

	policy__init_empty(p, POLICY_BUILTIN_SOURCE);
	checklist_init_default(&p->checklists);
	for (size_t i = 0; i < ARRAY_SIZE(roles); i++)
		policy__role_get(p, roles[i], 1);

	c = policy__class_get(p, "normal", 1);
	policy__set_str(&c->description, "any change that is not a security fix");
	c = policy__class_get(p, "security", 1);
	policy__set_str(&c->description, "a fix for a security vulnerability");
	c = policy__class_get(p, "critical-security", 1);
	policy__set_str(&c->description, "a fix for a security vulnerability being exploited or about to be");

	/* runbook: Deployment Windows */
	add_window(p, "standard", "Standard window: Mon-Thu 14:00-18:00, no restrictions",
		   DAYS(1, 2, 3, 4), 14 * 60, 18 * 60, NONE);
	add_window(p, "extended", "Extended window: Mon-Fri 10:00-20:00, manager approval",
		   DAYS(1, 2, 3, 4, 5), 10 * 60, 20 * 60, L("engineering-manager"));
	add_window(p, "emergency", "Emergency window: any day, any time, VP approval",
		   0x7f, 0, 24 * 60, L("vp-engineering"));

	/* runbook: Deployment Freeze Calendar */
	f = policy__freeze_get(p, "holiday", 1);
	policy__set_str(&f->reason, "Holiday freeze");
	f->kind = FREEZE_ANNUAL;
	f->from_month = 12;
	f->from_day = 15;
	f->until_month = 1;
	f->until_day = 2;
	policy__names_add(&f->admits, "critical-security", none);
	f = policy__freeze_get(p, "quarter-end", 1);
	policy__set_str(&f->reason, "Financial close");
	f->kind = FREEZE_QUARTER_END;
	f->last_days = 3;
	policy__names_add(&f->admits, "security", none);
	policy__names_add(&f->admits, "critical-security", none);

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
	r.fleet = p->fleet;
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
		if (policy__names_has(&t->approvals, w->approvals.v[i]))
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
	return l ? policy__names_has(l, person) : 0;
}

int64_t policy_approval_ttl_ms(const struct policy *p)
{
	return p->approval_ttl_ms;
}

int policy_freeze_admits(const struct policy_freeze *f, const char *cls)
{
	return policy__names_has(&f->admits, cls);
}
