/*
 * checklist_gate.c - the checklists at the gate; see checklist_gate.h and
 * docs/checklists.md.
 *
 * Design: the policy says what each item is (core/checklist.h); this file
 * joins it with the evidence in the store (adapters/checklist_store.h).
 * Attested items take the newest attestation for the deployment or for its
 * version; proved items take what the gate found the last time it looked,
 * which it stores, so that `slipway checklist` and the API show what held
 * a deployment without proving anything again.
 */
#include "controller/checklist_gate.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/audit.h"
#include "adapters/checklist_store.h"
#include "adapters/incidents.h"
#include "adapters/records.h"
#include "adapters/store.h"
#include "base/alloc.h"
#include "base/err.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "core/policy.h"

/* the proofs table's key for "the emergency's missing items were recorded" */
#define BYPASS_KEY "(emergency-bypass)"

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static enum checklist_state state_from_name(const char *s)
{
	for (int i = CL_MISSING; i <= CL_UNCHECKED; i++)
		if (!strcmp(s, checklist_state_name((enum checklist_state)i)))
			return (enum checklist_state)i;
	return CL_MISSING;
}

static int attested(const struct checklist_item *it)
{
	return it->check == CHECK_ATTEST || it->check == CHECK_SARIF;
}

static int fill_row(struct store *st, int64_t id, const char *type, const struct checklist_item *it,
		    const struct attestation *att, size_t natt, struct checklist_row *row, struct strbuf *err)
{
	memset(row, 0, sizeof(*row));
	row->item = it;
	row->blocking = checklist_blocks(it, type);
	if (attested(it)) {
		const struct attestation *a = NULL;
		for (size_t i = 0; i < natt; i++)
			if (!strcmp(att[i].item, it->id))
				a = &att[i];	/* the newest wins */
		if (a) {
			row->state = !strcmp(a->status, "pass") ? CL_SATISFIED : CL_FAILED;
			row->evidence = dup_or_null(a->evidence);
			row->detail = dup_or_null(a->detail);
			row->who = dup_or_null(a->actor);
			row->identity = dup_or_null(a->identity);
			row->at_ms = a->at_ms;
		}
	} else {
		char *state = NULL, *ev = NULL;
		int64_t at = 0;
		int r = id > 0 ? checklist_proof_get(st, id, it->id, &state, &ev, &at, err) : 1;
		if (r < 0)
			return r;
		if (r == 0) {
			row->state = state_from_name(state);
			row->evidence = ev;
			row->who = xstrdup("slipway");
			row->at_ms = at;
			free(state);
		} else {
			row->state = CL_UNCHECKED;
		}
	}
	return 0;
}

int checklist_view_build(struct store *st, const struct policy *p, int64_t id, const char *version, const char *type,
			 struct checklist_view *out, struct strbuf *err)
{
	struct attestation *att = NULL;
	size_t natt = 0;
	int r;

	memset(out, 0, sizeof(*out));
	out->deployment_id = id;
	if ((r = checklist_attestations(st, id, version, &att, &natt, err)) < 0)
		return r;
	out->v = xcalloc(p->checklists.nr + 1, sizeof(*out->v));
	for (size_t i = 0; i < p->checklists.nr && r >= 0; i++) {
		const struct checklist_item *it = &p->checklists.v[i];
		if (!checklist_applies(it, type))
			continue;
		r = fill_row(st, id, type, it, att, natt, &out->v[out->n], err);
		if (r >= 0) {
			if (out->v[out->n].blocking && out->v[out->n].state != CL_SATISFIED)
				out->unsatisfied_blocking++;
			out->n++;
		}
	}
	attestations_free(att, natt);
	if (r < 0)
		checklist_view_release(out);
	return r < 0 ? r : 0;
}

void checklist_view_release(struct checklist_view *v)
{
	for (size_t i = 0; v && i < v->n; i++) {
		free(v->v[i].evidence);
		free(v->v[i].detail);
		free(v->v[i].who);
		free(v->v[i].identity);
	}
	if (v) {
		free(v->v);
		memset(v, 0, sizeof(*v));
	}
}

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

json_t *checklist_view_json(const struct checklist_view *v)
{
	json_t *items = json_array();
	char when[RFC3339_BUFSZ];

	for (size_t i = 0; i < v->n; i++) {
		const struct checklist_row *r = &v->v[i];
		json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:s}", "id", r->item->id, "list",
				      checklist_list_name(r->item->list), "text", r->item->text, "who_may", r->item->who,
				      "check", checklist_check_name(r->item->check), "blocking", r->blocking, "state",
				      checklist_state_name(r->state));
		json_object_set_new(o, "evidence", str_or_null(r->evidence));
		json_object_set_new(o, "detail", str_or_null(r->detail));
		json_object_set_new(o, "by", str_or_null(r->who));
		json_object_set_new(o, "identity", str_or_null(r->identity));
		json_object_set_new(o, "at", r->at_ms ? json_string(time_format_rfc3339(r->at_ms, when)) : json_null());
		json_array_append_new(items, o);
	}
	return json_pack("{s:I, s:I, s:o}", "deployment", (json_int_t)v->deployment_id, "blocking_unsatisfied",
			 (json_int_t)v->unsatisfied_blocking, "items", items);
}

int64_t checklist_attest(struct store *st, const struct policy *p, const struct attest_request *rq,
			 const char **status_out, struct strbuf *detail, struct strbuf *err)
{
	const struct checklist_item *it = checklist_find(&p->checklists, rq->item ? rq->item : "");
	struct attestation a = { 0 };
	struct strbuf sdetail = STRBUF_INIT;
	const char *status = rq->status ? rq->status : "pass";
	int64_t r;

	if (!it) {
		strbuf_errf(err, "no checklist item '%s' in the policy; 'slipway policy show' lists them under checklists:",
			    rq->item ? rq->item : "");
		return SW_ENOTFOUND;
	}
	if (strcmp(status, "pass") && strcmp(status, "fail")) {
		strbuf_errf(err, "status '%s' is not valid; use pass or fail", status);
		return SW_EUSAGE;
	}
	if (!attested(it)) {
		strbuf_errf(err, "item '%s' is proved by slipway itself (check: %s); it takes no attestation", it->id,
			    checklist_check_name(it->check));
		return SW_EUSAGE;
	}
	if (strcmp(it->who, "automation") && strcmp(it->who, "anyone") &&
	    !policy_person_has_role(p, it->who, rq->actor)) {
		strbuf_errf(err, "'%s' does not hold the role '%s' that may tick '%s'; the policy's roles: map names who does",
			    rq->actor, it->who, it->id);
		return SW_EDENIED;
	}
	if (rq->deployment_id > 0) {
		struct deployment_record d = { 0 };
		int x = records_get(st, rq->deployment_id, &d, err);
		deployment_record_release(&d);
		if (x < 0)
			return x;
	} else if (!rq->version || !*rq->version) {
		strbuf_errf(err, "an attestation is for a deployment (its id) or a version");
		return SW_EUSAGE;
	}
	if (it->check == CHECK_SARIF) {
		struct sarif_report rep;
		int x;
		if (!rq->sarif) {
			strbuf_errf(err, "item '%s' reads a SARIF log: give it with --evidence FILE.sarif (or \"sarif\" in the body)",
				    it->id);
			return SW_EUSAGE;
		}
		if ((x = sarif_read(rq->sarif, rq->sarif_len, rq->evidence ? rq->evidence : "sarif", it->fail_at, &rep,
				    err)) < 0)
			return x;
		sarif_describe(&rep, it->fail_at, &sdetail);
		if (rep.failing)
			status = "fail";
	}
	a.deployment_id = rq->deployment_id;
	a.version = (char *)rq->version;
	a.item = it->id;
	a.status = (char *)status;
	a.evidence = (char *)rq->evidence;
	a.detail = sdetail.len ? sdetail.buf : NULL;
	a.actor = (char *)rq->actor;
	a.identity = (char *)rq->identity;
	a.at_ms = rq->now_ms;
	r = checklist_attest_store(st, &a, err);
	if (r > 0) {
		if (status_out)
			*status_out = !strcmp(status, "pass") ? "pass" : "fail";
		if (detail && sdetail.len)
			strbuf_addstr(detail, sdetail.buf);
	}
	strbuf_release(&sdetail);
	return r;
}

/* "the same version succeeded in staging" from the records (runbook: Staging deployment successful). */
static enum checklist_state prove_staging(struct store *st, const struct checklist_gate_args *a, struct strbuf *ev,
					  struct strbuf *err)
{
	struct deployment_record *v = NULL;
	size_t n = 0;
	enum checklist_state s = CL_MISSING;

	if (a->env && !strcmp(a->env, "staging")) {
		strbuf_addstr(ev, "this is the staging deployment");
		return CL_SATISFIED;
	}
	if (records_list(st, a->service, "staging", 0, &v, &n, err) < 0) {
		strbuf_addf(ev, "cannot read the records: %s", err->buf);
		strbuf_reset(err);
		return CL_MISSING;
	}
	for (size_t i = 0; i < n; i++)
		if (v[i].version && !strcmp(v[i].version, a->version) && v[i].state && !strcmp(v[i].state, "succeeded")) {
			strbuf_addf(ev, "deployment %lld of %s succeeded in staging", (long long)v[i].id, a->version);
			s = CL_SATISFIED;
			break;
		}
	if (s != CL_SATISFIED)
		strbuf_addf(ev, "no succeeded deployment of %s %s in staging", a->service, a->version);
	deployment_records_free(v, n);
	return s;
}

static enum checklist_state prove(struct store *st, const struct policy *p, const struct checklist_gate_args *a,
				  const struct checklist_item *it, struct strbuf *ev, struct strbuf *err)
{
	const struct policy_type *t;

	switch (it->check) {
	case CHECK_WINDOW:
		strbuf_addf(ev, "window %s open, no freeze blocks", a->window ? a->window : "(any)");
		return CL_SATISFIED;
	case CHECK_INCIDENTS: {
		/* looked up again: an emergency passes the incident gate, and its
		 * checklist must still say an incident is open */
		struct incident *inc = NULL;
		size_t n = 0;
		if (incident_list(st, a->env, 1, &inc, &n, err) < 0) {
			strbuf_addf(ev, "cannot read the incidents: %s", err->buf);
			strbuf_reset(err);
			return CL_MISSING;
		}
		if (n)
			strbuf_addf(ev, "incident %lld '%s' is open in %s", (long long)inc[0].id, inc[0].title ? inc[0].title : "",
				    a->env);
		else
			strbuf_addf(ev, "no open incident in %s", a->env ? a->env : "the environment");
		incidents_free(inc, n);
		return n ? CL_FAILED : CL_SATISFIED;
	}
	case CHECK_APPROVALS:
		strbuf_addstr(ev, "every required role approved");
		return CL_SATISFIED;
	case CHECK_ROLLBACK:
		if (!a->from_version || !*a->from_version) {
			strbuf_addstr(ev, "first deployment: no previous release to roll back to");
			return CL_SATISFIED;
		}
		if (!a->rollback_fn) {
			strbuf_addstr(ev, "no release directories to check here");
			return CL_UNCHECKED;
		}
		return a->rollback_fn(a->rollback_ctx, a->service, a->from_version, ev) < 0 ? CL_FAILED : CL_SATISFIED;
	case CHECK_STAGING:
		return prove_staging(st, a, ev, err);
	case CHECK_THRESHOLDS:
		t = policy_find_type(p, a->type);
		if (!t) {
			strbuf_addf(ev, "type %s is not in the policy", a->type);
			return CL_FAILED;
		}
		strbuf_addf(ev, "rollback criterion %s; immediate %g%% errors or %gx p99", policy_criterion_name(t->criterion),
			    p->immediate.error_rate_pct, p->immediate.p99_ratio);
		return CL_SATISFIED;
	case CHECK_BASELINE:
	case CHECK_HEALTH:
	case CHECK_ANNOUNCED:
	case CHECK_SMOKE:
		strbuf_addstr(ev, "checked once the deployment starts (docs/checklists.md)");
		return CL_UNCHECKED;
	case CHECK_ATTEST:
	case CHECK_SARIF:
	case CHECK__COUNT:
		break;
	}
	return CL_UNCHECKED;
}

int checklist_bypassed(struct store *st, int64_t id, char **missing, struct strbuf *err)
{
	char *state = NULL;
	int64_t at;
	int r;

	*missing = NULL;
	r = checklist_proof_get(st, id, BYPASS_KEY, &state, missing, &at, err);
	free(state);
	return r < 0 ? r : 0;
}

/* Store a finding only when it differs from the stored one: the gate looks at
 * every tick, and a read takes no write lock. */
static int proof_update(struct store *st, int64_t id, const char *item, const char *state, const char *evidence,
			int64_t now_ms, struct strbuf *err)
{
	char *os = NULL, *oe = NULL;
	int64_t at;
	int r = checklist_proof_get(st, id, item, &os, &oe, &at, err), same;

	if (r < 0)
		return r;
	same = r == 0 && !strcmp(os, state) && ((!oe && !evidence) || (oe && evidence && !strcmp(oe, evidence)));
	free(os);
	free(oe);
	return same ? 0 : checklist_proof_put(st, id, item, state, evidence, now_ms, err);
}

int checklist_gate_check(struct store *st, const struct policy *p, const struct checklist_gate_args *a,
			 struct strbuf *reason, struct strbuf *err)
{
	struct checklist_view v;
	struct strbuf ev = STRBUF_INIT, missing = STRBUF_INIT;
	int emergency = a->type && !strcmp(a->type, "emergency");
	int r = 0, n = 0;

	for (size_t i = 0; i < p->checklists.nr && r >= 0; i++) {
		const struct checklist_item *it = &p->checklists.v[i];
		enum checklist_state s;
		if (attested(it) || it->list >= CHECKLIST_POST_IMMEDIATE || !checklist_applies(it, a->type))
			continue;
		strbuf_reset(&ev);
		s = prove(st, p, a, it, &ev, err);
		r = proof_update(st, a->id, it->id, checklist_state_name(s), ev.len ? ev.buf : NULL, a->now_ms, err);
	}
	strbuf_release(&ev);
	if (r < 0)
		return r;
	if ((r = checklist_view_build(st, p, a->id, a->version, a->type, &v, err)) < 0)
		return r;
	for (size_t i = 0; i < v.n; i++) {
		const struct checklist_row *row = &v.v[i];
		if (!row->blocking || row->state == CL_SATISFIED)
			continue;
		strbuf_addf(&missing, "%s%s (%s", n++ ? ", " : "", row->item->id, checklist_state_name(row->state));
		if (row->state == CL_FAILED && (row->detail || row->evidence))
			strbuf_addf(&missing, ": %s", row->detail ? row->detail : row->evidence);
		strbuf_addch(&missing, ')');
	}
	if (n && !emergency) {
		strbuf_addf(reason, "checklist: waiting for %s; 'slipway checklist %lld' shows each item, "
			    "'slipway attest %lld ITEM' ticks one", missing.buf, (long long)a->id, (long long)a->id);
		r = 1;
	} else if (n) {
		/* an emergency goes through, never silently: recorded once in the audit log */
		char *s = NULL, *e = NULL;
		int64_t at;
		int seen = checklist_proof_get(st, a->id, BYPASS_KEY, &s, &e, &at, err);
		free(s);
		free(e);
		if (seen == 1) {
			struct strbuf subject = STRBUF_INIT;
			strbuf_addf(&subject, "deployment:%lld", (long long)a->id);
			if (audit_append_json(st, a->now_ms, "slipway", "checklist.bypassed", subject.buf,
					      json_pack("{s:s}", "missing", missing.buf), err) < 0 ||
			    checklist_proof_put(st, a->id, BYPASS_KEY, "satisfied", missing.buf, a->now_ms, err) < 0)
				seen = SW_ESTORE;
			strbuf_release(&subject);
		}
		r = seen < 0 ? seen : 0;
	}
	strbuf_release(&missing);
	checklist_view_release(&v);
	return r;
}
