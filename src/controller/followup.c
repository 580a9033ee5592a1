/*
 * followup.c - post-deployment follow-up under `slipway serve`; see
 * followup.h and docs/checklists.md "Post-deployment follow-up".
 *
 * Design: everything that decides is in core/followup.c; this file reads
 * what those decisions need from the store (the deployment, its
 * attestations and proofs, the follow-up's instants), does what is due, and
 * writes the instants back, so a controller that restarts or takes the
 * lease over resumes each follow-up where the store says it is.  A finding
 * is a proof of the checklist (adapters/checklist_store.h): `slipway
 * checklist ID` and GET /api/v1/deployments/ID/checklist show it with its
 * evidence, as they show the gate's.
 */
#include "controller/followup.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/audit.h"
#include "adapters/checklist_store.h"
#include "adapters/deployment_store.h"
#include "adapters/followup_store.h"
#include "adapters/incidents.h"
#include "adapters/metrics_builtin.h"
#include "adapters/notify.h"
#include "adapters/store.h"
#include "adapters/target_local.h"
#include "base/alloc.h"
#include "base/err.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "core/checklist.h"
#include "core/deployment.h"
#include "core/followup.h"
#include "core/notify_msg.h"
#include "core/policy.h"
#include "core/service.h"
#include "controller/localstack.h"

#define WEEK_MS (7 * 24 * FOLLOWUP_HOUR_MS)

struct one {
	struct store *st;
	const struct followup_run *run;
	struct deployment dep;
	struct followup_row row;
	const struct checklist_item **def;	/* the policy's items, parallel to items */
	struct followup_item *items;
	size_t n;
	struct strbuf detail;			/* what this look did, for the row's detail */
};

static void say(struct one *o, const char *what)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_addf(&sb, "%s/%s: follow-up of deployment #%lld: %s", o->dep.service, o->dep.env,
		    (long long)o->dep.id, what);
	if (o->run->say)
		o->run->say(o->run->say_ctx, sb.buf);
	strbuf_reset(&o->detail);
	strbuf_addstr(&o->detail, what);
	strbuf_release(&sb);
}

static int notify(struct one *o, const char *status, const char *reason, struct strbuf *err)
{
	struct notify_event ev = { .kind = NOTIFY_FOLLOWUP, .duration_ms = -1 };

	if (!o->run->notify)
		return 0;
	ev.deployment_id = o->dep.id;
	ev.service = o->dep.service;
	ev.env = o->dep.env;
	ev.version = o->dep.version;
	ev.from_version = o->dep.from_version;
	ev.owner = o->dep.requested_by;
	ev.reason = reason;
	ev.status = status;
	ev.at_ms = o->run->now_ms;
	return notify_enqueue(o->st, o->run->notify, &ev, o->run->now_ms, err) < 0 ? SW_ESTORE : 0;
}

static int attested(const struct checklist_item *it)
{
	return it->check == CHECK_ATTEST || it->check == CHECK_SARIF;
}

/* The post-deployment items of the deployment's type, with done as the store says. */
static int load_items(struct one *o, struct strbuf *err)
{
	const struct checklist_set *set = &o->run->policy->checklists;
	struct attestation *att = NULL;
	size_t natt = 0;
	int r = checklist_attestations(o->st, o->dep.id, o->dep.service, o->dep.version, &att, &natt, err);

	if (r < 0)
		return r;
	o->items = xcalloc(set->nr ? set->nr : 1, sizeof(*o->items));
	o->def = xcalloc(set->nr ? set->nr : 1, sizeof(*o->def));
	for (size_t i = 0; i < set->nr && r >= 0; i++) {
		const struct checklist_item *it = &set->v[i];
		struct followup_item *fi = &o->items[o->n];
		if (it->list < CHECKLIST_POST_IMMEDIATE || !checklist_applies(it, o->dep.type))
			continue;
		fi->id = it->id;
		fi->list = it->list;
		fi->automatic = !attested(it);
		if (fi->automatic) {
			char *state = NULL, *ev = NULL;
			int64_t at = 0;
			r = checklist_proof_get(o->st, o->dep.id, it->id, &state, &ev, &at, err);
			fi->done = r == 0;
			free(state);
			free(ev);
		} else {
			const struct attestation *a = NULL;
			for (size_t k = 0; k < natt; k++)
				if (!strcmp(att[k].item, it->id))
					a = &att[k];	/* the newest wins */
			fi->done = a && !strcmp(a->status, "pass");
		}
		o->def[o->n++] = it;
	}
	attestations_free(att, natt);
	return r < 0 ? r : 0;
}

/* What `version` of the deployment's service did over [from, to): 0, or < 0 with err. */
static int measure(struct one *o, const char *version, int64_t from, int64_t to, double line_ms,
		   struct judge_sample *out, uint64_t *over, struct strbuf *err)
{
	struct metrics_builtin mb = { .st = o->st };
	struct metrics_provider own;
	const struct metrics_provider *p = o->run->metrics;
	struct metrics_sample ms;
	int r;

	if (!p) {
		snprintf(mb.env, sizeof(mb.env), "%s", o->dep.env);
		metrics_builtin_provider(&mb, &own);
		p = &own;
	}
	memset(out, 0, sizeof(*out));
	out->p50_ms = out->p99_ms = NAN;
	*over = UINT64_MAX;
	memset(&ms, 0, sizeof(ms));
	r = p->query(p->ctx, o->dep.service, ROLE_CANARY, version, from, to, &ms, err);
	if (r == SW_ENOTFOUND) {
		strbuf_reset(err);
		return 0;	/* no requests */
	}
	if (r < 0)
		return r;
	out->requests = ms.requests;
	out->errors = ms.errors;
	out->p50_ms = ms.p50_ms;
	out->p99_ms = ms.p99_ms;
	out->span_ms = to - from;
	if (p->query_over && !isnan(line_ms) && ms.requests > 0) {
		uint64_t n = 0;
		if (p->query_over(p->ctx, o->dep.service, ROLE_CANARY, version, from, to, &line_ms, 1, &n, err) >= 0)
			*over = n;
		strbuf_reset(err);
	}
	return 0;
}

/* An incident for a regression, unless one this deployment caused is still open. */
static int open_incident(struct one *o, const char *what, const char *reason, struct strbuf *err)
{
	struct incident *v = NULL;
	size_t n = 0;
	int64_t id = 0;
	struct strbuf title = STRBUF_INIT, line = STRBUF_INIT;
	int r = incident_list(o->st, o->dep.env, 1, &v, &n, err);

	if (r < 0)
		return r;
	for (size_t i = 0; i < n && !id; i++)
		if (v[i].deployment_id == o->dep.id)
			id = v[i].id;
	incidents_free(v, n);
	if (id) {
		strbuf_addf(&line, "%s: %s (incident %lld is still open)", what, reason, (long long)id);
		say(o, line.buf);
		strbuf_release(&line);
		return 0;
	}
	strbuf_addf(&title, "follow-up %s after deployment #%lld of %s %s: %s", what, (long long)o->dep.id,
		    o->dep.service, o->dep.version, reason);
	id = incident_open(o->st, o->dep.service, o->dep.env, title.buf, "slipway", o->dep.id, o->run->now_ms, err);
	if (id < 0) {
		strbuf_release(&title);
		return (int)id;
	}
	strbuf_addf(&line, "%s: %s; incident %lld opened", what, reason, (long long)id);
	say(o, line.buf);
	strbuf_reset(&title);
	strbuf_addf(&title, "%s found a regression: %s; incident %lld opened ('slipway incident resolve %lld' once "
		    "handled)", what, reason, (long long)id, (long long)id);
	r = notify(o, "REGRESSION", title.buf, err);
	strbuf_release(&title);
	strbuf_release(&line);
	return r;
}

/* The service's smoke checks against the deployed version's instances: the verdict in *v. */
static int smoke(struct one *o, struct followup_verdict *v, struct strbuf *err)
{
	struct service svc;
	struct target_local t;
	struct strbuf why = STRBUF_INIT, e = STRBUF_INIT;
	int r;

	memset(v, 0, sizeof(*v));
	v->outcome = FU_UNCHECKED;
	if (!o->run->state_dir) {
		snprintf(v->reason, sizeof(v->reason), "no project to read the service file from");
		return 0;
	}
	memset(&svc, 0, sizeof(svc));
	if (service_load(&svc, o->run->project_dir, o->dep.service, &e) < 0) {
		snprintf(v->reason, sizeof(v->reason), "the service file does not load: %.250s", e.buf);
		strbuf_release(&e);
		return 0;
	}
	if (!svc.nsmoke) {
		snprintf(v->reason, sizeof(v->reason), "the service file of %s has no smoke checks (smoke:, docs/services.md)",
			 o->dep.service);
		service_release(&svc);
		return 0;
	}
	if ((r = target_local_init(&t, o->st, o->run->state_dir, o->run->project_dir, err)) < 0) {
		service_release(&svc);
		return r;
	}
	r = target_local_smoke(&t, &svc, o->dep.env, o->dep.version, &why, err);
	if (r == 1) {
		v->outcome = FU_OK;
		snprintf(v->reason, sizeof(v->reason), "%zu smoke check%s passed on every running instance of %s",
			 svc.nsmoke, svc.nsmoke == 1 ? "" : "s", o->dep.version);
	} else if (r == 0) {
		v->outcome = FU_REGRESSION;
		snprintf(v->reason, sizeof(v->reason), "%.300s", why.buf);
	}
	target_local_release(&t);
	service_release(&svc);
	strbuf_release(&why);
	return r < 0 ? r : 0;
}

/* One automatic item over its horizon, or an emergency's monitoring look (it NULL). */
static int check(struct one *o, const struct checklist_item *it, int64_t from, int64_t to, struct strbuf *err)
{
	struct judge_sample base = o->dep.baseline, now;
	struct followup_verdict v;
	uint64_t over = UINT64_MAX, ignore;
	struct strbuf ev = STRBUF_INIT;
	char a[RFC3339_BUFSZ], b[RFC3339_BUFSZ];
	const char *what = it ? it->id : "monitoring";
	int week = it && it->list != CHECKLIST_POST_IMMEDIATE && it->list != CHECKLIST_POST_EMERGENCY;
	int r = 0;
	struct type_rules tr;
	struct strbuf terr = STRBUF_INIT;
	double line_ms, ratio = NAN;

	/* the latency line: the type's immediate ratio ("p99 latency > 3x baseline"): with no
	   revision serving beside the new one, the hour is compared with a baseline taken
	   minutes before, under another load, and a finding opens an incident that holds the
	   next deployment, so the line is the runbook's no-discussion one (docs/checklists.md) */
	if (policy_type_rules(o->run->policy, o->dep.type, &tr, &terr) == 0)
		ratio = tr.immediate_p99_ratio;
	strbuf_release(&terr);

	memset(&v, 0, sizeof(v));
	if (it && it->check == CHECK_SMOKE) {
		if ((r = smoke(o, &v, err)) < 0)
			return r;
	} else if (it && it->check != CHECK_HEALTH) {
		v.outcome = FU_UNCHECKED;
		snprintf(v.reason, sizeof(v.reason), "slipway checks only check: health and smoke after a deployment, not %s",
			 checklist_check_name(it->check));
	} else if (week) {
		/* overnight and weekly reviews: against the same hours a week before, where data exists */
		int64_t wk = (int64_t)llround((double)WEEK_MS / (o->row.s.time_scale > 0 ? o->row.s.time_scale : 1));
		const char *prev = o->dep.from_version[0] ? o->dep.from_version : NULL;
		memset(&base, 0, sizeof(base));
		base.p99_ms = NAN;
		if (prev && (r = measure(o, prev, from - wk, to - wk, NAN, &base, &ignore, err)) < 0)
			return r;
		line_ms = followup_line_ms(base.p99_ms, ratio);
		if ((r = measure(o, o->dep.version, from, to, line_ms, &now, &over, err)) < 0)
			return r;
		followup_judge(&base, &now, over, line_ms, &o->run->policy->judge, &v);
		if (v.outcome == FU_UNCHECKED && base.requests == 0)
			snprintf(v.reason, sizeof(v.reason), "no metrics of %s for the same hours a week before (%s to %s)",
				 prev ? prev : "a previous version", time_format_rfc3339(from - wk, a),
				 time_format_rfc3339(to - wk, b));
	} else {
		line_ms = followup_line_ms(base.p99_ms, ratio);
		if ((r = measure(o, o->dep.version, from, to, line_ms, &now, &over, err)) < 0)
			return r;
		followup_judge(&base, &now, over, line_ms, &o->run->policy->judge, &v);
	}
	strbuf_addf(&ev, "%s to %s: %s", time_format_rfc3339(from, a), time_format_rfc3339(to, b), v.reason);
	if (it) {
		const char *state = v.outcome == FU_OK ? "satisfied" : v.outcome == FU_REGRESSION ? "failed" : "unchecked";
		if ((r = checklist_proof_put(o->st, o->dep.id, it->id, state, ev.buf, o->run->now_ms, err)) < 0)
			goto out;
	}
	if (v.outcome == FU_REGRESSION) {
		r = open_incident(o, what, v.reason, err);
	} else {
		struct strbuf line = STRBUF_INIT;
		strbuf_addf(&line, "%s: %s: %s", what, followup_outcome_name(v.outcome), ev.buf);
		say(o, line.buf);
		strbuf_release(&line);
	}
out:
	strbuf_release(&ev);
	return r;
}

/* "team-lead (bob, carol)", "anyone", "automation" */
static void who_text(const struct policy *p, const char *who, struct strbuf *out)
{
	strbuf_addstr(out, who);
	for (size_t i = 0; i < p->roles_nr; i++) {
		const struct policy_role *r = &p->roles[i];
		if (strcmp(r->name, who) || !r->people.nr)
			continue;
		strbuf_addstr(out, " (");
		for (size_t k = 0; k < r->people.nr; k++)
			strbuf_addf(out, "%s%s", k ? ", " : "", r->people.v[k]);
		strbuf_addch(out, ')');
	}
}

static int remind(struct one *o, struct strbuf *err)
{
	const struct followup_settings *set = &o->run->policy->followup;
	struct strbuf sb = STRBUF_INIT;
	char at[RFC3339_BUFSZ];
	size_t count = 0;
	int r;

	for (size_t i = 0; i < o->n; i++) {
		int64_t open, due;
		int st = o->items[i].automatic ? 0 : followup_item_open(set, &o->row.s, &o->items[i], o->run->now_ms);
		if (!st)
			continue;
		followup_item_window(set, &o->row.s, &o->items[i], &open, &due);
		strbuf_addf(&sb, "%s%s (who: ", count++ ? "; " : "", o->items[i].id);
		who_text(o->run->policy, o->def[i]->who, &sb);
		strbuf_addf(&sb, ", %s %s)", st == 2 ? "overdue since" : "due", time_format_rfc3339(due, at));
	}
	strbuf_addf(&sb, "; tick each with 'slipway checklist tick %lld ITEM'", (long long)o->dep.id);
	say(o, sb.buf);
	r = notify(o, "REMINDER", sb.buf, err);
	o->row.s.last_reminder_ms = o->run->now_ms;
	strbuf_release(&sb);
	return r;
}

static int audit(struct one *o, const char *action, json_t *detail, struct strbuf *err)
{
	char subject[48];
	snprintf(subject, sizeof(subject), "deployment:%lld", (long long)o->dep.id);
	return audit_append_json(o->st, o->run->now_ms, "slipway", action, subject, detail, err) < 0 ? SW_ESTORE : 0;
}

static int act(struct one *o, const struct followup_action *a, struct strbuf *err)
{
	const struct followup_settings *set = &o->run->policy->followup;
	char at[RFC3339_BUFSZ];
	struct strbuf sb = STRBUF_INIT;
	int r = 0;

	switch (a->act) {
	case FU_CHECK:
		r = check(o, o->def[a->item], a->from_ms, a->to_ms, err);
		break;
	case FU_MONITOR:
		r = check(o, NULL, a->from_ms, a->to_ms, err);
		o->row.s.last_monitor_ms = o->run->now_ms;
		break;
	case FU_REMIND:
		r = remind(o, err);
		break;
	case FU_OVERDUE: {
		int64_t open, due = 0;
		for (size_t i = 0; i < o->n; i++)
			if (o->items[i].list == CHECKLIST_POST_EMERGENCY && !o->items[i].done)
				followup_item_window(set, &o->row.s, &o->items[i], &open, &due);
		strbuf_addf(&sb, "the emergency's post-mortem was due %s and is not ticked; its monitoring goes on "
			    "until it is ('slipway checklist tick %lld post-mortem')", time_format_rfc3339(due, at),
			    (long long)o->dep.id);
		say(o, sb.buf);
		r = notify(o, "POST-MORTEM OVERDUE", sb.buf, err);
		o->row.s.overdue_ms = o->run->now_ms;
		break;
	}
	case FU_END_MONITORING:
		say(o, "the post-mortem is ticked: the emergency's continuous monitoring ends");
		o->row.s.monitoring_ended_ms = o->run->now_ms;
		r = audit(o, "followup.monitoring_ended", NULL, err);
		break;
	case FU_CLOSE: {
		json_t *missed = json_array();
		for (size_t i = 0; i < o->n; i++)
			if (!o->items[i].done && !o->items[i].automatic &&
			    (o->items[i].list != CHECKLIST_POST_EMERGENCY || o->row.s.emergency)) {
				json_array_append_new(missed, json_string(o->items[i].id));
				strbuf_addf(&sb, "%s%s", sb.len ? ", " : "", o->items[i].id);
			}
		o->row.s.closed_ms = o->run->now_ms;
		r = audit(o, "followup.closed", json_pack("{s:o}", "never_ticked", missed), err);
		{
			struct strbuf line = STRBUF_INIT;
			strbuf_addf(&line, "closed after the long-term horizon; %s%s", sb.len ? "never ticked: " : "every item done",
				    sb.buf);
			say(o, line.buf);
			strbuf_release(&line);
		}
		break;
	}
	}
	strbuf_release(&sb);
	return r;
}

static int one_followup(struct store *st, const struct followup_run *run, struct followup_row *row,
			struct strbuf *err)
{
	struct one o = { .st = st, .run = run, .row = *row, .detail = STRBUF_INIT };
	struct followup_action acts[CHECKLIST_ITEMS_MAX + 8];
	size_t na;
	int r = deployment_store_load(st, row->deployment_id, &o.dep, NULL, err);

	if (r < 0)
		return r;
	if ((r = load_items(&o, err)) < 0)
		goto out;
	na = followup_due(&run->policy->followup, &o.row.s, o.items, o.n, run->now_ms, acts, ARRAY_SIZE(acts));
	for (size_t i = 0; i < na && r >= 0; i++)
		r = act(&o, &acts[i], err);
	if (na) {
		o.row.detail = o.detail.len ? o.detail.buf : NULL;
		if (r >= 0)
			r = followup_store_put(st, &o.row, err);
		else
			(void)followup_store_put(st, &o.row, NULL);	/* keep what was done */
		o.row.detail = NULL;
	}
out:
	free(o.items);
	free(o.def);
	strbuf_release(&o.detail);
	return r;
}

int followup_tick(struct store *st, const struct followup_run *run, struct strbuf *err)
{
	struct followup_row *rows = NULL;
	size_t n = 0;
	int r = followup_store_enroll(st, run->now_ms - WEEK_MS, err);

	if (r < 0 || (r = followup_store_list(st, 1, &rows, &n, err)) < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		struct strbuf e = STRBUF_INIT;
		int rc = one_followup(st, run, &rows[i], &e);
		if (rc == SW_ESTORE) {
			strbuf_addstr(err, e.buf);
			strbuf_release(&e);
			followup_rows_free(rows, n);
			return rc;
		}
		if (rc < 0 && run->say) {
			struct strbuf line = STRBUF_INIT;
			strbuf_addf(&line, "follow-up of deployment #%lld: %s; tried again on the next look",
				    (long long)rows[i].deployment_id, e.buf);
			run->say(run->say_ctx, line.buf);
			strbuf_release(&line);
		}
		strbuf_release(&e);
	}
	followup_rows_free(rows, n);
	return 0;
}

static json_t *time_or_null(int64_t ms)
{
	char b[RFC3339_BUFSZ];
	return ms ? json_string(time_format_rfc3339(ms, b)) : json_null();
}

int followup_status_json(struct store *st, const struct policy *p, int64_t id, json_t **out, struct strbuf *err)
{
	struct followup_row row;
	const struct followup_state *s = &row.s;
	int r = followup_store_get(st, id, &row, err);

	if (r < 0)
		return r;
	if (r == 1) {
		*out = json_null();
		return 0;
	}
	*out = json_object();
	json_object_set_new(*out, "succeeded", time_or_null(s->succeeded_ms));
	json_object_set_new(*out, "immediate_until", time_or_null(followup_at(s, FOLLOWUP_IMMEDIATE_END_MS)));
	json_object_set_new(*out, "short_term_until", time_or_null(followup_at(s, FOLLOWUP_SHORT_END_MS)));
	json_object_set_new(*out, "long_term_until", time_or_null(followup_at(s, FOLLOWUP_LONG_END_MS)));
	json_object_set_new(*out, "last_reminder", time_or_null(s->last_reminder_ms));
	json_object_set_new(*out, "postmortem_due",
			    s->emergency ? time_or_null(followup_at(s, p->followup.postmortem_within_ms)) : json_null());
	json_object_set_new(*out, "postmortem_overdue_said", time_or_null(s->overdue_ms));
	json_object_set_new(*out, "monitoring",
			    json_string(!s->emergency ? "none" : s->monitoring_ended_ms ? "ended" : "continuous"));
	json_object_set_new(*out, "monitoring_ended", time_or_null(s->monitoring_ended_ms));
	json_object_set_new(*out, "closed", time_or_null(s->closed_ms));
	json_object_set_new(*out, "last", row.detail ? json_string(row.detail) : json_null());
	free(row.detail);
	return 0;
}
