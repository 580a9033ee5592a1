/*
 * checklist.c - the runbook's checklists as data; see checklist.h and
 * docs/checklists.md.
 *
 * Design: the built-in items are a table (one line per runbook line); a
 * policy file's `checklists:` section is merged over it by id, like the
 * policy's other named sections (keys given replace the built-in's, a new
 * id adds an item, `ID: ~` removes one).  References to roles and types are
 * checked once the whole policy is merged (checklist__validate()), because
 * the types may be defined further down the file.
 */
#include "core/checklist.h"
#include "core/policy.h"
#include "core/sarif.h"

#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/alloc.h"
#include "base/err.h"
#include "base/strbuf.h"
#include "core/yaml_text.h"
#include "base/suggest.h"

const char *const checklist_list_names[] = {
	[CHECKLIST_PRE] = "pre-deployment",
	[CHECKLIST_EMERGENCY] = "emergency",
	[CHECKLIST_POST_IMMEDIATE] = "post-immediate",
	[CHECKLIST_POST_SHORT] = "post-short-term",
	[CHECKLIST_POST_LONG] = "post-long-term",
	[CHECKLIST_POST_EMERGENCY] = "post-emergency",
	NULL,
};

const char *const checklist_check_names[] = {
	[CHECK_ATTEST] = "attest",
	[CHECK_SARIF] = "sarif",
	[CHECK_WINDOW] = "window",
	[CHECK_INCIDENTS] = "incidents",
	[CHECK_APPROVALS] = "approvals",
	[CHECK_ROLLBACK] = "rollback",
	[CHECK_BASELINE] = "baseline",
	[CHECK_HEALTH] = "health",
	[CHECK_STAGING] = "staging",
	[CHECK_ANNOUNCED] = "announced",
	[CHECK_THRESHOLDS] = "thresholds",
	[CHECK_SMOKE] = "smoke",
	[CHECK_FLAGS] = "flags",
	[CHECK_MIGRATIONS] = "migrations",
	[CHECK_DASHBOARDS] = "dashboards",
	NULL,
};

static const char *const state_names[] = { "missing", "satisfied", "failed", "unchecked" };

const char *checklist_list_name(enum checklist_list l)
{
	return (unsigned)l < CHECKLIST__LISTS ? checklist_list_names[l] : "?";
}

const char *checklist_check_name(enum checklist_check c)
{
	return (unsigned)c < CHECK__COUNT ? checklist_check_names[c] : "?";
}

const char *checklist_state_name(enum checklist_state s)
{
	return (unsigned)s <= CL_UNCHECKED ? state_names[s] : "?";
}

/* ---------------------------------------------------------------- the set */

static void types_clear(struct checklist_types *t)
{
	for (size_t i = 0; i < t->nr; i++)
		free(t->v[i]);
	free(t->v);
	free(t->at);
	memset(t, 0, sizeof(*t));
}

static void types_add(struct checklist_types *t, const char *name, int line, int col)
{
	t->v = xrealloc(t->v, (t->nr + 1) * sizeof(*t->v));
	t->at = xrealloc(t->at, (t->nr + 1) * sizeof(*t->at));
	t->at[t->nr] = (struct yaml_pos){ line, col };
	t->v[t->nr++] = xstrdup(name);
}

static void item_release(struct checklist_item *it)
{
	free(it->id);
	free(it->text);
	free(it->who);
	types_clear(&it->blocks);
	memset(it, 0, sizeof(*it));
}

void checklist_release(struct checklist_set *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nr; i++)
		item_release(&s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

const struct checklist_item *checklist_find(const struct checklist_set *s, const char *id)
{
	for (size_t i = 0; s && i < s->nr; i++)
		if (!strcmp(s->v[i].id, id))
			return &s->v[i];
	return NULL;
}

static struct checklist_item *item_get(struct checklist_set *s, const char *id, int *fresh)
{
	for (size_t i = 0; i < s->nr; i++)
		if (!strcmp(s->v[i].id, id)) {
			*fresh = 0;
			return &s->v[i];
		}
	ALLOC_GROW(s->v, s->nr + 1, s->alloc);
	memset(&s->v[s->nr], 0, sizeof(s->v[0]));
	s->v[s->nr].id = xstrdup(id);
	s->v[s->nr].list = (enum checklist_list)-1;
	s->v[s->nr].check = CHECK_ATTEST;
	s->v[s->nr].fail_at = SARIF_SEV_HIGH;
	*fresh = 1;
	return &s->v[s->nr++];
}

int checklist_applies(const struct checklist_item *it, const char *type)
{
	if (it->list == CHECKLIST_EMERGENCY || it->list == CHECKLIST_POST_EMERGENCY)
		return type && !strcmp(type, "emergency");
	return 1;
}

int checklist_blocks(const struct checklist_item *it, const char *type)
{
	if (!checklist_applies(it, type) || it->list >= CHECKLIST_POST_IMMEDIATE)
		return 0;
	if (it->blocks.all)
		return 1;
	for (size_t i = 0; type && i < it->blocks.nr; i++)
		if (!strcmp(it->blocks.v[i], type))
			return 1;
	return 0;
}

/* ---------------------------------------------------------------- default */

/*
 * The runbook's lines.  Blocking by default only where the gate already
 * held a deployment before checklists existed (window, incidents,
 * approvals), so that a policy without a `checklists:` section behaves as
 * it did; every other item is reported and blocks only when a team says so
 * (docs/checklists.md, "What blocks by default").
 */
static const struct {
	const char *id;
	enum checklist_list list;
	enum checklist_check check;
	const char *who;
	int blocks_all;
	const char *text;
} builtin[] = {
	/* Pre-Deployment Checklist: Code Readiness */
	{ "ci-passing", CHECKLIST_PRE, CHECK_ATTEST, "automation", 0, "All tests passing in CI" },
	{ "review-approved", CHECKLIST_PRE, CHECK_ATTEST, "anyone", 0, "Code review approved by required reviewers" },
	{ "no-vulnerabilities", CHECKLIST_PRE, CHECK_SARIF, "automation", 0,
	  "No unresolved security vulnerabilities (Snyk/Dependabot)" },
	{ "docs-updated", CHECKLIST_PRE, CHECK_ATTEST, "anyone", 0, "Documentation updated (if applicable)" },
	{ "feature-flags", CHECKLIST_PRE, CHECK_FLAGS, "automation", 0, "Feature flags in place for new features" },
	{ "migrations-tested", CHECKLIST_PRE, CHECK_MIGRATIONS, "automation", 0, "Migration scripts tested in staging" },
	/* Environment Readiness */
	{ "staging-succeeded", CHECKLIST_PRE, CHECK_STAGING, "automation", 0,
	  "Staging deployment successful; staging tests passing" },
	{ "no-incidents", CHECKLIST_PRE, CHECK_INCIDENTS, "automation", 1, "No active incidents in production" },
	{ "window-confirmed", CHECKLIST_PRE, CHECK_WINDOW, "automation", 1, "Deployment window confirmed" },
	{ "rollback-possible", CHECKLIST_PRE, CHECK_ROLLBACK, "automation", 0,
	  "Rollback procedure documented; rollback is possible" },
	{ "oncall-aware", CHECKLIST_PRE, CHECK_ATTEST, "anyone", 0, "On-call engineer aware and available" },
	/* Communication */
	{ "announced", CHECKLIST_PRE, CHECK_ANNOUNCED, "automation", 0, "Deployment announced in #deployments channel" },
	{ "stakeholders-notified", CHECKLIST_PRE, CHECK_ATTEST, "anyone", 0, "Stakeholders notified (if user-impacting)" },
	{ "support-briefed", CHECKLIST_PRE, CHECK_ATTEST, "anyone", 0, "Support team briefed (if needed)" },
	{ "status-page-prepared", CHECKLIST_PRE, CHECK_ATTEST, "anyone", 0, "Status page update prepared (if needed)" },
	/* Monitoring */
	{ "dashboards-accessible", CHECKLIST_PRE, CHECK_DASHBOARDS, "automation", 0, "Dashboards accessible" },
	{ "alert-thresholds", CHECKLIST_PRE, CHECK_THRESHOLDS, "automation", 0, "Alert thresholds appropriate" },
	{ "baselines-documented", CHECKLIST_PRE, CHECK_BASELINE, "automation", 0,
	  "Error rate and performance baselines documented" },
	{ "production-health", CHECKLIST_PRE, CHECK_HEALTH, "automation", 0, "Production health checked" },
	/* Emergency Deployment Checklist */
	{ "vp-approval", CHECKLIST_EMERGENCY, CHECK_APPROVALS, "automation", 1, "VP approval obtained" },
	{ "emergency-documented", CHECKLIST_EMERGENCY, CHECK_ATTEST, "anyone", 0, "Emergency documented" },
	{ "minimal-testing", CHECKLIST_EMERGENCY, CHECK_ATTEST, "anyone", 0, "Minimal testing completed" },
	{ "all-stakeholders-notified", CHECKLIST_EMERGENCY, CHECK_ATTEST, "anyone", 0, "All stakeholders notified" },
	{ "enhanced-monitoring", CHECKLIST_EMERGENCY, CHECK_ATTEST, "anyone", 0, "Enhanced monitoring enabled" },
	{ "oncall-standing-by", CHECKLIST_EMERGENCY, CHECK_ATTEST, "anyone", 0, "On-call aware and standing by" },
	{ "rollback-plan", CHECKLIST_EMERGENCY, CHECK_ROLLBACK, "automation", 0, "Rollback plan ready" },
	/* Post-Deployment Activities: Immediate (0-2 hours) */
	{ "monitor-errors-latency", CHECKLIST_POST_IMMEDIATE, CHECK_HEALTH, "automation", 0,
	  "Monitor error rates and latency" },
	{ "customer-complaints", CHECKLIST_POST_IMMEDIATE, CHECK_ATTEST, "anyone", 0, "Watch for customer complaints" },
	{ "feature-verified", CHECKLIST_POST_IMMEDIATE, CHECK_ATTEST, "anyone", 0, "Verify feature functionality" },
	{ "integration-health", CHECKLIST_POST_IMMEDIATE, CHECK_SMOKE, "automation", 0, "Check integration health" },
	{ "deployment-log", CHECKLIST_POST_IMMEDIATE, CHECK_ATTEST, "anyone", 0, "Update deployment log" },
	/* Short-term (2-24 hours) */
	{ "overnight-metrics", CHECKLIST_POST_SHORT, CHECK_HEALTH, "automation", 0, "Review overnight metrics" },
	{ "minor-issues", CHECKLIST_POST_SHORT, CHECK_ATTEST, "anyone", 0, "Address any minor issues" },
	{ "ticket-closed", CHECKLIST_POST_SHORT, CHECK_ATTEST, "anyone", 0, "Close deployment ticket" },
	{ "documentation", CHECKLIST_POST_SHORT, CHECK_ATTEST, "anyone", 0, "Update documentation" },
	{ "support-changes", CHECKLIST_POST_SHORT, CHECK_ATTEST, "anyone", 0, "Brief support team on changes" },
	/* Long-term (1-7 days) */
	{ "metrics-analyzed", CHECKLIST_POST_LONG, CHECK_ATTEST, "anyone", 0, "Analyze deployment metrics" },
	{ "user-feedback", CHECKLIST_POST_LONG, CHECK_ATTEST, "anyone", 0, "Collect user feedback" },
	{ "lessons-learned", CHECKLIST_POST_LONG, CHECK_ATTEST, "anyone", 0, "Document lessons learned" },
	{ "runbooks-updated", CHECKLIST_POST_LONG, CHECK_ATTEST, "anyone", 0, "Update runbooks if needed" },
	{ "follow-up-planned", CHECKLIST_POST_LONG, CHECK_ATTEST, "anyone", 0, "Plan follow-up improvements" },
	/* Emergency Deployments: the fix is followed by a post-mortem; the
	 * emergency's monitoring ends only once this is ticked (followup.h) */
	{ "post-mortem", CHECKLIST_POST_EMERGENCY, CHECK_ATTEST, "anyone", 0, "Post-mortem written and reviewed" },
};

void checklist_init_default(struct checklist_set *s)
{
	memset(s, 0, sizeof(*s));
	for (size_t i = 0; i < ARRAY_SIZE(builtin); i++) {
		int fresh;
		struct checklist_item *it = item_get(s, builtin[i].id, &fresh);
		it->list = builtin[i].list;
		it->check = builtin[i].check;
		it->who = xstrdup(builtin[i].who);
		it->text = xstrdup(builtin[i].text);
		it->blocks.all = builtin[i].blocks_all;
	}
}

/* ---------------------------------------------------------------- loading */

static int valid_id(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > CHECKLIST_ID_MAX || !isalnum((unsigned char)s[0]) || !strcasecmp(s, "null"))
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_' && *s != '.')
			return 0;
	return 1;
}

/* char *: who may tick the item, a role name (checked later) or automation/anyone */
static int parse_who(struct yaml_walk *w, const struct yaml_key *k, struct fy_node *v, struct yaml_pos at, void *dst)
{
	char *s = NULL;
	int r = yaml_walk_scalar(w, v, at, k->name, CHECKLIST_ID_MAX + 16, &s);
	if (r < 0)
		return r;
	if (!valid_id(s)) {
		r = yaml_walk_fail(w, at, "who '%.80s' is not a role name; use a role of the policy, automation or anyone", s);
		free(s);
		return r;
	}
	free(*(char **)dst);
	*(char **)dst = s;
	return 0;
}

static int add_type_name(struct yaml_walk *w, struct fy_node *item, struct yaml_pos at, void *ctx)
{
	struct checklist_types *t = ctx;
	char *s = NULL;
	int r = yaml_walk_scalar(w, item, at, "a type in blocks", CHECKLIST_ID_MAX + 16, &s);
	if (r >= 0 && !valid_id(s))
		r = yaml_walk_fail(w, at, "'%.80s' is not a deployment type name; list types of the policy, such as [standard, hotfix]",
				   s);
	for (size_t i = 0; r >= 0 && i < t->nr; i++)
		if (!strcmp(t->v[i], s))
			r = yaml_walk_fail(w, at, "'%s' appears twice in blocks; list it once", s);
	if (r >= 0 && !strcmp(s, "all"))
		r = yaml_walk_fail(w, at, "'all' is a value of its own: write blocks: all, not inside a list");
	if (r >= 0)
		types_add(t, s, at.line, at.col);
	free(s);
	return r;
}

/* struct checklist_types: `all`, `none`, or a list of type names */
static int parse_blocks(struct yaml_walk *w, const struct yaml_key *k, struct fy_node *v, struct yaml_pos at, void *dst)
{
	struct checklist_types n = { 0 };
	int r = 0;

	if (yaml_walk_is_scalar(v)) {
		char *s = NULL;
		if ((r = yaml_walk_scalar(w, v, at, k->name, 64, &s)) < 0)
			return r;
		if (!strcmp(s, "all"))
			n.all = 1;
		else if (strcmp(s, "none"))
			r = yaml_walk_fail(w, at, "blocks '%.80s' is not valid; use all, none, or a list of types such as [standard, hotfix]",
					   s);
		free(s);
	} else {
		r = yaml_walk_items(w, v, at, k->name, 64, add_type_name, &n);
	}
	if (r < 0) {
		types_clear(&n);
		return r;
	}
	types_clear(dst);
	*(struct checklist_types *)dst = n;
	return 0;
}

static int check_item(struct yaml_walk *w, void *obj, struct yaml_pos at)
{
	struct checklist_item *it = obj;

	if ((int)it->list < 0)
		return yaml_walk_fail(w, at, "checklist item '%s' needs list: one of pre-deployment, emergency, post-immediate, "
				      "post-short-term, post-long-term, post-emergency", it->id);
	if (!it->text || !*it->text)
		return yaml_walk_fail(w, at, "checklist item '%s' needs text: the line people read, for example "
				      "text: \"Load test passed\"", it->id);
	if (!it->who)
		it->who = xstrdup(it->check == CHECK_ATTEST || it->check == CHECK_SARIF ? "anyone" : "automation");
	if (it->check == CHECK_SMOKE && it->list < CHECKLIST_POST_IMMEDIATE)
		return yaml_walk_fail(w, at, "checklist item '%s': check: smoke runs after a deployment; use it in a "
				      "post-deployment list (post-immediate, post-short-term, post-long-term)", it->id);
	if (it->blocks_at.line)
		at = it->blocks_at;
	if (it->list >= CHECKLIST_POST_IMMEDIATE && (it->blocks.all || it->blocks.nr))
		return yaml_walk_fail(w, at, "checklist item '%s' is a post-deployment item and cannot block a start; "
				      "use blocks: none, or list pre-deployment", it->id);
	if ((it->check == CHECK_BASELINE || it->check == CHECK_ANNOUNCED) && (it->blocks.all || it->blocks.nr))
		return yaml_walk_fail(w, at, "checklist item '%s' (check: %s) is proved once the deployment starts and "
				      "cannot block its start; use blocks: none", it->id, checklist_check_name(it->check));
	return 0;
}

static const struct yaml_map item_map = {
	.keys = (const struct yaml_key[]){
		{ "list", yaml_parse_enum, offsetof(struct checklist_item, list), .names = checklist_list_names,
		  .what = "checklist list" },
		{ "text", yaml_parse_str, offsetof(struct checklist_item, text), .size = 1024 },
		{ "who", parse_who, offsetof(struct checklist_item, who), .at = YAML_AT(struct checklist_item, who_at) },
		{ "check", yaml_parse_enum, offsetof(struct checklist_item, check), .names = checklist_check_names,
		  .what = "check" },
		{ "blocks", parse_blocks, offsetof(struct checklist_item, blocks),
		  .at = YAML_AT(struct checklist_item, blocks_at) },
		{ "fail_at", yaml_parse_enum, offsetof(struct checklist_item, fail_at), .names = sarif_severity_names,
		  .what = "severity" },
		{ NULL },
	},
	.check = check_item,
};

static void remove_item(struct checklist_set *s, const char *id)
{
	for (size_t i = 0; i < s->nr; i++)
		if (!strcmp(s->v[i].id, id)) {
			item_release(&s->v[i]);
			memmove(&s->v[i], &s->v[i + 1], (s->nr - i - 1) * sizeof(s->v[0]));
			s->nr--;
			return;
		}
}

static int add_item(struct yaml_walk *w, const char *id, struct yaml_pos at, struct fy_node *v, void *ctx)
{
	struct checklist_set *s = ctx;
	struct checklist_item *it;
	struct strbuf where = STRBUF_INIT;
	int fresh, r;

	if (!valid_id(id))
		return yaml_walk_fail(w, at, "'%.80s' is not a valid checklist item id; use 1-%d letters, digits, '-', '_' or '.', "
				      "starting with a letter or digit", id, CHECKLIST_ID_MAX);
	if (yaml_walk_is_null(v)) {
		if (!checklist_find(s, id)) {
			const char **ids = xcalloc(s->nr + 1, sizeof(char *));
			const char *sugg;
			for (size_t i = 0; i < s->nr; i++)
				ids[i] = s->v[i].id;
			sugg = suggest_nearest(id, ids, s->nr);
			r = yaml_walk_fail(w, at, "no checklist item '%s' to remove%s%s%s", id, sugg ? "; did you mean '" : "",
					   sugg ? sugg : "", sugg ? "'?" : "");
			free(ids);
			return r;
		}
		remove_item(s, id);
		return 0;
	}
	it = item_get(s, id, &fresh);
	it->line = at.line;
	it->col = at.col;
	strbuf_addf(&where, "checklist item '%s'", id);
	r = yaml_walk_map(w, v, at, &item_map, where.buf, it);
	strbuf_release(&where);
	return r;
}

int checklist__parse_section(struct yaml_walk *w, const struct yaml_key *k, struct fy_node *v, struct yaml_pos at,
			     void *dst)
{
	return yaml_walk_entries(w, v, at, k->name, CHECKLIST_ITEMS_MAX, add_item, dst);
}

static struct yaml_pos item_pos(const struct checklist_item *it)
{
	return it->line ? (struct yaml_pos){ it->line, it->col } : YAML_ROOT_POS;
}

/* Where a value was written, else the item. */
static struct yaml_pos value_pos(const struct checklist_item *it, struct yaml_pos at)
{
	return at.line ? at : item_pos(it);
}

int checklist__validate(struct yaml_walk *w, const struct policy *p)
{
	const struct checklist_set *s = &p->checklists;

	for (size_t i = 0; i < s->nr; i++) {
		const struct checklist_item *it = &s->v[i];
		if (strcmp(it->who, "automation") && strcmp(it->who, "anyone") && !policy_find_role(p, it->who)) {
			struct strbuf v = STRBUF_INIT;
			int r;
			for (size_t j = 0; j < p->roles_nr; j++)
				strbuf_addf(&v, ", %s", p->roles[j].name);
			r = yaml_walk_fail(w, value_pos(it, it->who_at), "checklist item '%s' names who '%s', which is not a role; valid: "
					   "automation, anyone%s", it->id, it->who, v.buf);
			strbuf_release(&v);
			return r;
		}
		for (size_t j = 0; j < it->blocks.nr; j++)
			if (!policy_find_type(p, it->blocks.v[j])) {
				struct strbuf v = STRBUF_INIT;
				int r;
				for (size_t t = 0; t < p->types_nr; t++)
					strbuf_addf(&v, "%s%s", t ? ", " : "", p->types[t].name);
				r = yaml_walk_fail(w, value_pos(it, it->blocks.at ? it->blocks.at[j] : it->blocks_at),
						   "checklist item '%s' blocks type '%s', which is not defined; "
						   "valid: %s", it->id, it->blocks.v[j], v.buf);
				strbuf_release(&v);
				return r;
			}
	}
	return 0;
}

int checklist_warnings(const struct checklist_set *s, struct strbuf *out)
{
	static const struct {
		const char *id, *rule;
	} kept[] = {
		{ "no-incidents", "the gate still holds a deployment while an incident is open in its environment" },
		{ "window-confirmed", "the calendar still holds a deployment outside its windows and in freezes" },
		{ "vp-approval", "an emergency still needs the approvals of its type" },
	};
	int n = 0;

	for (size_t i = 0; i < ARRAY_SIZE(kept); i++) {
		size_t b;
		if (checklist_find(s, kept[i].id))
			continue;
		for (b = 0; b < ARRAY_SIZE(builtin) && strcmp(builtin[b].id, kept[i].id); b++)
			;
		strbuf_addf(out, "warning: checklist item '%s' (runbook: \"%s\") is removed: 'slipway checklist' no "
				 "longer shows it or its evidence; %s (docs/checklists.md)\n", kept[i].id,
			    b < ARRAY_SIZE(builtin) ? builtin[b].text : kept[i].id, kept[i].rule);
		n++;
	}
	return n;
}

/* ---------------------------------------------------------------- showing */

void checklist__format_yaml(const struct checklist_set *s, struct strbuf *out)
{
	strbuf_addstr(out, "\n# runbook: Pre-Deployment Checklist, Emergency Deployment Checklist,\n"
			   "# Post-Deployment Activities (docs/checklists.md).  blocks: the types an\n"
			   "# unsatisfied item keeps pending (slipway default: only what the gate always held).\n"
			   "checklists:");
	if (!s->nr) {
		strbuf_addstr(out, " {}\n");
		return;
	}
	strbuf_addch(out, '\n');
	for (size_t i = 0; i < s->nr; i++) {
		const struct checklist_item *it = &s->v[i];
		strbuf_addf(out, "  %s:\n    list: %s\n    text: ", it->id, checklist_list_name(it->list));
		yaml_text_add_quoted(out, it->text);
		strbuf_addf(out, "\n    who: %s\n    check: %s\n    blocks: ", it->who, checklist_check_name(it->check));
		if (it->blocks.all) {
			strbuf_addstr(out, "all");
		} else {
			strbuf_addch(out, '[');
			for (size_t j = 0; j < it->blocks.nr; j++)
				strbuf_addf(out, "%s%s", j ? ", " : "", it->blocks.v[j]);
			strbuf_addch(out, ']');
		}
		strbuf_addch(out, '\n');
		if (it->check == CHECK_SARIF)
			strbuf_addf(out, "    fail_at: %s\n", sarif_severity_name(it->fail_at));
	}
}
