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

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/audit.h"
#include "adapters/checklist_store.h"
#include "adapters/db_store.h"
#include "adapters/db_tools.h"
#include "adapters/flag_store.h"
#include "adapters/http_get.h"
#include "adapters/deployment_store.h"
#include "adapters/incidents.h"
#include "adapters/notify.h"
#include "adapters/proc.h"
#include "adapters/records.h"
#include "adapters/store.h"
#include "base/alloc.h"
#include "base/err.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "core/deployment.h"
#include "core/github.h"
#include "core/policy.h"
#include "core/database.h"
#include "core/service.h"
#include "controller/db_ops.h"
#include "controller/localstack.h"

static int proof_update(struct store *st, int64_t id, const char *item, const char *state, const char *evidence,
			int64_t now_ms, struct strbuf *err);

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

/* What fill_row() reads once per view for the items proved after the start. */
struct started {
	int loaded;
	struct deployment_record rec;	/* rec.id 0: not found */
};

/* `baseline` once the deployment started: the stable's baseline the engine stored (runbook: "Document baselines"). */
static enum checklist_state prove_baseline(struct store *st, const struct deployment_record *r, struct strbuf *ev)
{
	struct deployment *d;
	struct strbuf e = STRBUF_INIT;
	enum checklist_state s;

	if (!r->from_version || !*r->from_version) {
		strbuf_addstr(ev, "first deployment: no stable revision to take a baseline of");
		return CL_UNCHECKED;
	}
	d = xcalloc(1, sizeof(*d));
	if (deployment_store_load(st, r->id, d, NULL, &e) < 0) {
		strbuf_addf(ev, "cannot read the deployment: %s", e.buf);
		s = CL_UNCHECKED;
	} else if (d->baseline.requests) {
		strbuf_addf(ev, "baseline of %s stored: %llu requests, %.2f%% errors", r->from_version,
			    (unsigned long long)d->baseline.requests,
			    100.0 * (double)d->baseline.errors / (double)d->baseline.requests);
		if (!isnan(d->baseline.p99_ms))
			strbuf_addf(ev, ", p99 %.0fms", d->baseline.p99_ms);
		if (d->baseline.span_ms > 0)
			strbuf_addf(ev, " over %llds", (long long)(d->baseline.span_ms / 1000));
		s = CL_SATISFIED;
	} else if (d->state == DS_PROGRESSING && d->step == 0) {
		strbuf_addstr(ev, "the baseline is being captured (step 0)");
		s = CL_UNCHECKED;
	} else {
		strbuf_addf(ev, "no baseline of %s was captured (no stable traffic during the warm-up)", r->from_version);
		s = CL_MISSING;
	}
	free(d);
	strbuf_release(&e);
	return s;
}

/* `announced` once the deployment started: its DEPLOYMENT STARTING (or EMERGENCY DEPLOYMENT) message delivered. */
static enum checklist_state prove_announced(struct store *st, const struct deployment_record *r, struct strbuf *ev)
{
	struct notify_delivery_row *v = NULL;
	struct strbuf e = STRBUF_INIT;
	const char *kind = r->type && !strcmp(r->type, "emergency") ? "emergency" : "starting";
	const char *title = !strcmp(kind, "emergency") ? "EMERGENCY DEPLOYMENT" : "DEPLOYMENT STARTING";
	enum checklist_state s = CL_MISSING;
	size_t n = 0, sent = 0, other = 0;
	char when[RFC3339_BUFSZ];

	if (notify_list(st, r->id, 0, &v, &n, &e) < 0) {
		/* a store without the notify module: notifications were never configured */
		strbuf_addf(ev, "no notification records in this store (%s)", e.buf);
		strbuf_release(&e);
		return CL_UNCHECKED;
	}
	strbuf_release(&e);
	for (size_t i = 0; i < n; i++) {
		if (!v[i].kind || strcmp(v[i].kind, kind))
			continue;
		if (v[i].state && !strcmp(v[i].state, "sent")) {
			if (!sent++)
				strbuf_addf(ev, "%s delivered to %s via %s at %s", title, v[i].channels ? v[i].channels : "-",
					    v[i].sink ? v[i].sink : "-", time_format_rfc3339(v[i].sent_ms, when));
		} else if (!other++ && !sent) {
			strbuf_addf(ev, "%s %s via %s%s%s", title, v[i].state ? v[i].state : "queued",
				    v[i].sink ? v[i].sink : "-", v[i].last_error ? ": " : "",
				    v[i].last_error ? v[i].last_error : "");
		}
	}
	if (sent)
		s = CL_SATISFIED;
	else if (!other)
		strbuf_addf(ev, "no %s message recorded (no notification channel configured?)", title);
	notify_delivery_rows_free(v, n);
	return s;
}

/* The state of a `baseline` or `announced` item from the records: unchecked until the deployment started. */
static void prove_started(struct store *st, int64_t id, struct started *sd, const struct checklist_item *it,
			  struct checklist_row *row)
{
	struct strbuf ev = STRBUF_INIT, e = STRBUF_INIT;

	if (!sd->loaded) {
		sd->loaded = 1;
		if (records_get(st, id, &sd->rec, &e) < 0)
			sd->rec.id = 0;
		strbuf_release(&e);
	}
	if (!sd->rec.id || sd->rec.started_ms == RECORD_TIME_NONE) {
		row->state = CL_UNCHECKED;
		strbuf_addstr(&ev, "proved once the deployment starts (docs/checklists.md)");
	} else {
		row->state = it->check == CHECK_BASELINE ? prove_baseline(st, &sd->rec, &ev)
							 : prove_announced(st, &sd->rec, &ev);
		row->at_ms = sd->rec.started_ms;
	}
	free(row->evidence);
	row->evidence = strbuf_detach(&ev, NULL);
	free(row->who);
	row->who = xstrdup("slipway");
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
		char *state = NULL, *ev = NULL;
		int64_t at = 0;
		/* a live check against GitHub (ci-passing, review-approved) is stored as a proof:
		 * the newer of it and the newest attestation is the item's word */
		int r = id > 0 && it->check == CHECK_ATTEST ? checklist_proof_get(st, id, it->id, &state, &ev, &at, err) : 1;
		if (r < 0)
			return r;
		if (r == 0 && (!a || at > a->at_ms)) {
			row->state = state_from_name(state);
			row->evidence = ev;
			row->who = xstrdup("slipway");
			row->identity = xstrdup("github");
			row->at_ms = at;
			ev = NULL;
		} else if (a) {
			row->state = !strcmp(a->status, "pass") ? CL_SATISFIED : CL_FAILED;
			row->evidence = dup_or_null(a->evidence);
			row->detail = dup_or_null(a->detail);
			row->who = dup_or_null(a->actor);
			row->identity = dup_or_null(a->identity);
			row->at_ms = a->at_ms;
		}
		free(state);
		free(ev);
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
	struct started sd = { 0 };
	size_t natt = 0;
	int r;

	memset(out, 0, sizeof(*out));
	out->deployment_id = id;
	if (id > 0) {	/* its service: a version's attestation counts for that service only */
		struct strbuf e = STRBUF_INIT;
		sd.loaded = 1;
		if (records_get(st, id, &sd.rec, &e) < 0)
			sd.rec.id = 0;
		strbuf_release(&e);
	}
	if ((r = checklist_attestations(st, id, sd.rec.id ? sd.rec.service : NULL, version, &att, &natt, err)) < 0) {
		deployment_record_release(&sd.rec);
		return r;
	}
	out->v = xcalloc(p->checklists.nr + 1, sizeof(*out->v));
	for (size_t i = 0; i < p->checklists.nr && r >= 0; i++) {
		const struct checklist_item *it = &p->checklists.v[i];
		if (!checklist_applies(it, type))
			continue;
		r = fill_row(st, id, type, it, att, natt, &out->v[out->n], err);
		if (r >= 0 && id > 0 && (it->check == CHECK_BASELINE || it->check == CHECK_ANNOUNCED))
			prove_started(st, id, &sd, it, &out->v[out->n]);
		if (r >= 0) {
			if (out->v[out->n].blocking && out->v[out->n].state != CL_SATISFIED)
				out->unsatisfied_blocking++;
			out->n++;
		}
	}
	attestations_free(att, natt);
	deployment_record_release(&sd.rec);
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

/* The service a version's attestation is for: rq->service, else the one service the store has a deployment
 * of that version for.  0 and a new string in *out, SW_ENOTFOUND or SW_EUSAGE. */
static int version_service(struct store *st, const struct attest_request *rq, char **out, struct strbuf *err)
{
	struct deployment_record *v = NULL;
	struct strbuf seen = STRBUF_INIT;
	const char *one = NULL, **names;
	size_t n = 0, services = 0;
	int r;

	for (const char *c = rq->version; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '.' ||
		      *c == '_' || *c == '-' || *c == '+')) {
			strbuf_errf(err, "'%s' is not a version: use letters, digits, '.', '_', '-' or '+' (v1.2.3), or a "
				    "deployment's id", rq->version);
			return SW_EUSAGE;
		}
	if (rq->service && *rq->service) {
		*out = xstrdup(rq->service);	/* CI may attest a version before its deployment exists */
		return 0;
	}
	if ((r = records_list(st, NULL, NULL, 0, &v, &n, err)) < 0)
		return r;
	names = xcalloc(n + 1, sizeof(*names));
	for (size_t i = 0; i < n; i++) {
		size_t k = 0;
		if (!v[i].version || strcmp(v[i].version, rq->version) || !v[i].service)
			continue;
		while (k < services && strcmp(names[k], v[i].service))
			k++;
		if (k < services)
			continue;
		strbuf_addf(&seen, "%s%s", services ? ", " : "", v[i].service);
		names[services++] = v[i].service;
	}
	one = services ? names[0] : NULL;
	free(names);
	if (!services) {
		strbuf_errf(err, "no deployment of version %s in the store: name its service (--service SERVICE, or "
			    "\"service\" in the body) to attest it before the deployment exists, or attest a deployment by "
			    "its id", rq->version);
		r = SW_ENOTFOUND;
	} else if (services > 1) {
		strbuf_errf(err, "version %s was deployed for %s: name the service it is for (--service SERVICE, or "
			    "\"service\" in the body)", rq->version, seen.buf);
		r = SW_EUSAGE;
	} else {
		*out = xstrdup(one);
	}
	deployment_records_free(v, n);
	strbuf_release(&seen);
	return r;
}

int64_t checklist_attest(struct store *st, const struct policy *p, const struct attest_request *rq,
			 const char **status_out, struct strbuf *detail, struct strbuf *err)
{
	const struct checklist_item *it = checklist_find(&p->checklists, rq->item ? rq->item : "");
	struct attestation a = { 0 };
	struct strbuf sdetail = STRBUF_INIT;
	const char *status = rq->status ? rq->status : "pass";
	char *service = NULL;
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
	if (!strcmp(it->who, "automation") && (!rq->identity || (strncmp(rq->identity, "token:", 6) &&
								 strncmp(rq->identity, "env:", 4)))) {
		/* a person under their own name is not automation: a program holds an API token, or
		 * names itself in $SLIPWAY_USER at the CLI (recorded as such) */
		strbuf_errf(err, "item '%s' is ticked by automation only (who: automation), not by a person ('%s'); CI "
			    "posts it with an API token (POST /api/v1/deployments/ID/attestations) or runs 'slipway attest' "
			    "with SLIPWAY_USER set to its name; the policy's checklists: can set who: anyone or a role",
			    it->id, rq->actor ? rq->actor : "?");
		return SW_EDENIED;
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
	} else {
		int x = version_service(st, rq, &service, err);
		if (x < 0)
			return x;
	}
	if (it->check == CHECK_SARIF) {
		struct sarif_report rep;
		int x;
		if (!rq->sarif) {
			strbuf_errf(err, "item '%s' reads a SARIF log: give it with --evidence FILE.sarif (or \"sarif\" in the body)",
				    it->id);
			free(service);
			return SW_EUSAGE;
		}
		if ((x = sarif_read(rq->sarif, rq->sarif_len, rq->evidence ? rq->evidence : "sarif", it->fail_at, &rep,
				    err)) < 0) {
			free(service);
			return x;
		}
		sarif_describe(&rep, it->fail_at, &sdetail);
		if (rep.failing)
			status = "fail";
	}
	a.deployment_id = rq->deployment_id;
	a.version = (char *)rq->version;
	a.service = service;
	a.item = it->id;
	a.status = (char *)status;
	a.evidence = (char *)rq->evidence;
	a.detail = sdetail.len ? sdetail.buf : NULL;
	a.actor = (char *)rq->actor;
	a.identity = (char *)rq->identity;
	a.at_ms = rq->now_ms;
	a.commit_time_ms = rq->commit_time_ms;
	r = checklist_attest_store(st, &a, err);
	if (r > 0) {
		if (status_out)
			*status_out = !strcmp(status, "pass") ? "pass" : "fail";
		if (detail && sdetail.len)
			strbuf_addstr(detail, sdetail.buf);
	}
	free(service);
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

enum checklist_state checklist_judge_health(const struct policy *p, const char *version,
					    const struct metrics_sample *recent, const struct metrics_sample *earlier,
					    struct strbuf *ev)
{
	double err_pct, lim_p99 = NAN;
	enum checklist_state s = CL_SATISFIED;

	if (!recent->requests) {
		strbuf_addf(ev, "no request to %s in the last %ds: no data to judge its health", version,
			    CHECKLIST_HEALTH_RECENT_MS / 1000);
		return CL_UNCHECKED;
	}
	err_pct = 100.0 * (double)recent->errors / (double)recent->requests;
	if (earlier && earlier->requests && !isnan(earlier->p99_ms) && earlier->p99_ms > 0)
		lim_p99 = p->immediate.p99_ratio * earlier->p99_ms;
	strbuf_addf(ev, "%s over the last %ds: %llu requests, %.2f%% errors (limit %g%%)", version,
		    CHECKLIST_HEALTH_RECENT_MS / 1000, (unsigned long long)recent->requests, err_pct,
		    p->immediate.error_rate_pct);
	if (err_pct > p->immediate.error_rate_pct)
		s = CL_FAILED;
	if (!isnan(recent->p99_ms)) {
		strbuf_addf(ev, ", p99 %.0fms", recent->p99_ms);
		if (!isnan(lim_p99)) {
			strbuf_addf(ev, " (limit %gx the earlier %.0fms = %.0fms)", p->immediate.p99_ratio, earlier->p99_ms,
				    lim_p99);
			if (recent->p99_ms > lim_p99)
				s = CL_FAILED;
		} else {
			strbuf_addf(ev, " (no earlier %d min to compare with)", CHECKLIST_HEALTH_EARLIER_MS / 60000);
		}
	}
	return s;
}

static enum checklist_state prove_health(const struct policy *p, const struct checklist_gate_args *a,
					 struct strbuf *ev)
{
	struct metrics_sample recent, earlier;
	struct strbuf e = STRBUF_INIT;
	enum checklist_state s;

	if (!a->from_version || !*a->from_version) {
		strbuf_addstr(ev, "first deployment: no stable revision serving to judge");
		return CL_UNCHECKED;
	}
	if (!a->health_fn) {
		strbuf_addstr(ev, "no metrics to read here");
		return CL_UNCHECKED;
	}
	memset(&recent, 0, sizeof(recent));
	memset(&earlier, 0, sizeof(earlier));
	recent.p99_ms = earlier.p99_ms = NAN;
	if (a->health_fn(a->health_ctx, a->service, a->from_version, &recent, &earlier, &e) < 0) {
		strbuf_addf(ev, "cannot read the metrics of %s: %s", a->from_version, e.buf);
		s = CL_UNCHECKED;
	} else {
		s = checklist_judge_health(p, a->from_version, &recent, &earlier, ev);
	}
	strbuf_release(&e);
	return s;
}

void checklist_release_release(struct checklist_release *r)
{
	if (!r)
		return;
	free(r->manifest_path);
	free(r->manifest_err);
	release_manifest_release(&r->m);
	for (size_t i = 0; i < r->ndbs; i++) {
		free(r->dbs[i].name);
		free(r->dbs[i].plan_sha256);
		free(r->dbs[i].err);
	}
	free(r->dbs);
	free(r->dbs_err);
	memset(r, 0, sizeof(*r));
}

/* The release's facts, read once per look of the gate (lazily: only when an item needs them). */
struct release_read {
	int loaded, rc;
	struct checklist_release r;
	struct strbuf err;
};

static const struct checklist_release *release_get(const struct checklist_gate_args *a, struct release_read *rr,
						   struct strbuf *ev)
{
	if (!rr->loaded) {
		rr->loaded = 1;
		strbuf_init(&rr->err, 0);
		rr->rc = a->release_fn ? a->release_fn(a->release_ctx, a->service, a->version, &rr->r, &rr->err) : 1;
	}
	if (rr->rc == 1)
		strbuf_addstr(ev, "no release or service file to read here");
	else if (rr->rc < 0)
		strbuf_addf(ev, "cannot read the release %s %s: %s", a->service, a->version, rr->err.buf);
	return rr->rc == 0 ? &rr->r : NULL;
}

/* The manifest's verdict for an item that needs it: CL_SATISFIED (go on), or the item's state and ev. */
static enum checklist_state manifest_needed(const struct checklist_gate_args *a, const struct checklist_release *r,
					    const char *key, struct yaml_pos given, struct strbuf *ev)
{
	if (r->manifest < 0) {
		strbuf_addf(ev, "%s", r->manifest_err ? r->manifest_err : "the release manifest cannot be read");
		return CL_FAILED;
	}
	if (!r->manifest) {
		strbuf_addf(ev, "release %s has no %s declaring its %s (%s)", a->version, RELEASE_MANIFEST_FILE, key,
			    r->manifest_path ? r->manifest_path : "?");
		return CL_UNCHECKED;
	}
	if (!given.line) {
		strbuf_addf(ev, "%s does not say %s: (write %s: %s when the release needs none)", r->manifest_path, key, key,
			    !strcmp(key, "flags") ? "[]" : "{}");
		return CL_UNCHECKED;
	}
	return CL_SATISFIED;
}

/* "Feature flags in place for new features": every flag the release declares exists in the target environment. */
static enum checklist_state prove_flags(struct store *st, const struct checklist_gate_args *a, struct release_read *rr,
					struct strbuf *ev)
{
	const struct checklist_release *r = release_get(a, rr, ev);
	struct strbuf absent = STRBUF_INIT, e = STRBUF_INIT;
	enum checklist_state s;
	size_t nabsent = 0;

	if (!r)
		return CL_UNCHECKED;
	if ((s = manifest_needed(a, r, "flags", r->m.flags_at, ev)) != CL_SATISFIED)
		return s;
	if (!r->m.nflags) {
		strbuf_addf(ev, "not applicable: release %s declares no flags (flags: [] in %s)", a->version, r->manifest_path);
		return CL_SATISFIED;
	}
	for (size_t i = 0; i < r->m.nflags && s == CL_SATISFIED; i++) {
		struct flag_record fr = { 0 };
		int x = flag_store_get(st, a->env, FLAG_KIND_FLAG, r->m.flags[i], &fr, &e);
		if (x == SW_ENOTFOUND) {
			strbuf_addf(&absent, "%s'%s'", nabsent++ ? ", " : "", r->m.flags[i]);
		} else if (x < 0) {
			strbuf_addf(ev, "cannot read the flag store: %s", e.buf);
			s = CL_UNCHECKED;
		}
		flag_record_release(&fr);
		strbuf_reset(&e);
	}
	if (s == CL_SATISFIED && nabsent) {
		strbuf_addf(ev, "%zu of the %zu flags release %s declares %s not in %s: %s ('slipway flag create FLAG --env %s')",
			    nabsent, r->m.nflags, a->version, nabsent == 1 ? "is" : "are", a->env, absent.buf, a->env);
		s = CL_FAILED;
	} else if (s == CL_SATISFIED) {
		strbuf_addf(ev, "the %zu flags release %s declares exist in %s:", r->m.nflags, a->version, a->env);
		for (size_t i = 0; i < r->m.nflags; i++)
			strbuf_addf(ev, " %s", r->m.flags[i]);
	}
	strbuf_release(&absent);
	strbuf_release(&e);
	return s;
}

static const struct checklist_database *find_db(const struct checklist_release *r, const char *name)
{
	for (size_t i = 0; i < r->ndbs; i++)
		if (!strcmp(r->dbs[i].name, name))
			return &r->dbs[i];
	return NULL;
}

/* "Migration scripts tested in staging": a passing `db rehearse` of each database change the release declares,
 * of the plan as it is now and within rehearsal.max_age (the rule `db migrate` applies, docs/databases.md). */
static enum checklist_state prove_migrations(struct store *st, const struct checklist_gate_args *a,
					     struct release_read *rr, struct strbuf *ev)
{
	const struct checklist_release *r = release_get(a, rr, ev);
	struct strbuf e = STRBUF_INIT;
	enum checklist_state s;
	char when[RFC3339_BUFSZ];

	if (!r)
		return CL_UNCHECKED;
	if (r->dbs_err) {
		strbuf_addf(ev, "cannot read the databases: %s", r->dbs_err);
		return CL_UNCHECKED;
	}
	for (size_t i = 0; r->manifest > 0 && i < r->m.nmigrations; i++)
		if (!find_db(r, r->m.migrations[i].database)) {
			strbuf_addf(ev, "release %s declares a change to database '%s', whose databases/%s.yaml does not list "
				    "%s under services:", a->version, r->m.migrations[i].database,
				    r->m.migrations[i].database, a->service);
			return CL_FAILED;
		}
	if (!r->ndbs) {
		strbuf_addf(ev, "not applicable: %s has no database (no databases/*.yaml lists it under services:)",
			    a->service);
		return CL_SATISFIED;
	}
	if ((s = manifest_needed(a, r, "migrations", r->m.migrations_at, ev)) != CL_SATISFIED) {
		if (s == CL_UNCHECKED)
			strbuf_addf(ev, "; %s uses database '%s'", a->service, r->dbs[0].name);
		return s;
	}
	if (!r->m.nmigrations) {
		strbuf_addf(ev, "not applicable: release %s changes no database (migrations: {} in %s)", a->version,
			    r->manifest_path);
		return CL_SATISFIED;
	}
	for (size_t i = 0; i < r->m.nmigrations && s == CL_SATISFIED; i++) {
		const struct release_migration *m = &r->m.migrations[i];
		const struct checklist_database *db = find_db(r, m->database);
		struct db_rehearsal reh;
		int x;
		if (!db->plan_sha256) {
			strbuf_addf(ev, "%scannot hash the sqitch plan of '%s': %s", i ? "; " : "", db->name,
				    db->err ? db->err : "?");
			s = CL_UNCHECKED;
			break;
		}
		memset(&reh, 0, sizeof(reh));
		x = db_store_rehearsal_ok(st, db->name, m->change, db->plan_sha256, a->now_ms - db->max_age_ms, &reh, &e);
		if (x < 0) {
			strbuf_addf(ev, "%scannot read the rehearsals: %s", i ? "; " : "", e.buf);
			s = CL_UNCHECKED;
		} else if (x == 0) {
			strbuf_addf(ev, "%sno passing rehearsal of '%s' on %s with this plan within %llds: run 'slipway db "
				    "rehearse %s --to %s'", i ? "; " : "", m->change, db->name,
				    (long long)(db->max_age_ms / 1000), db->name, m->change);
			s = CL_FAILED;
		} else {
			strbuf_addf(ev, "%srehearsal #%lld of %s to '%s' passed in %s at %s", i ? "; " : "", (long long)reh.id,
				    db->name, m->change, reh.env, time_format_rfc3339(reh.created_ms, when));
		}
	}
	strbuf_release(&e);
	return s;
}

/* What is left of the probes' budget (ms, proc_mono_ms() based deadline), at most cap. */
static int64_t budget_left(int64_t deadline, int64_t cap)
{
	int64_t left = deadline - proc_mono_ms();
	return left < cap ? left : cap;
}

#define BUDGET_SPENT "the gate's probe budget of " STR_(CHECKLIST_PROBE_BUDGET_MS) "ms is spent (docs/checklists.md): " \
	"asked again at the next probe"
#define STR_(x) STR__(x)
#define STR__(x) #x

/* "Dashboards accessible": each dashboard URL of the service file answers 2xx or 3xx, all asked at once within
 * CHECKLIST_DASHBOARD_TIMEOUT_MS and what is left of the budget; one that does not answer in time leaves the item
 * unchecked (a refusal or a 4xx/5xx fails it). */
static enum checklist_state prove_dashboards(const struct checklist_gate_args *a, struct release_read *rr,
					     int64_t deadline, struct strbuf *ev)
{
	const struct checklist_release *r = release_get(a, rr, ev);
	enum checklist_state s = CL_SATISFIED;
	struct strbuf *e;
	int64_t t;
	long *status;
	int *rc, late = 0;

	if (!r)
		return CL_UNCHECKED;
	if (!r->ndashboards) {
		strbuf_addf(ev, "no dashboards: in services/%s.yaml to probe", a->service);
		return CL_UNCHECKED;
	}
	if ((t = budget_left(deadline, CHECKLIST_DASHBOARD_TIMEOUT_MS)) < CHECKLIST_PROBE_MIN_MS) {
		strbuf_addstr(ev, "dashboards not probed: " BUDGET_SPENT);
		return CL_UNCHECKED;
	}
	e = xcalloc(r->ndashboards, sizeof(*e));
	status = xcalloc(r->ndashboards, sizeof(*status));
	rc = xcalloc(r->ndashboards, sizeof(*rc));
	for (size_t i = 0; i < r->ndashboards; i++)
		strbuf_init(&e[i], 0);
	http_get_each((const char *const *)r->dashboards, r->ndashboards, t, 16u << 20, rc, status, e);
	for (size_t i = 0; i < r->ndashboards; i++) {
		if (i)
			strbuf_addstr(ev, "; ");
		if (rc[i] == SW_ETIMEOUT) {
			strbuf_addf(ev, "%s (the gate's probe budget, docs/checklists.md; asked again at the "
				    "next probe)", e[i].buf);
			late = 1;
		} else if (rc[i] < 0) {
			strbuf_addf(ev, "%s", e[i].buf);
			s = CL_FAILED;
		} else {
			strbuf_addf(ev, "%s answered %ld", r->dashboards[i], status[i]);
			if (status[i] < 200 || status[i] > 399)
				s = CL_FAILED;
		}
		strbuf_release(&e[i]);
	}
	free(e);
	free(status);
	free(rc);
	return late && s == CL_SATISFIED ? CL_UNCHECKED : s;
}

/* ---- live checks against GitHub (ci-passing, review-approved) ---- */

struct gh {
	const struct service_github *cfg;
	const char *sha;
	int64_t deadline;	/* proc_mono_ms() by which every request is done (the probes' budget) */
	char auth[512];
	const char *headers[4];
};

/* GET API/repos/REPO/PATH into body.  0, or CL_UNCHECKED with ev (never a header or the token). */
static int gh_get(struct gh *g, const char *path, struct strbuf *body, struct strbuf *ev)
{
	struct strbuf url = STRBUF_INIT, e = STRBUF_INIT;
	const char *api = g->cfg->api ? g->cfg->api : "https://api.github.com";
	size_t al = strlen(api);
	int64_t t = budget_left(g->deadline, g->cfg->timeout_ms);
	long status = 0;
	int r = 0, x;

	if (t < CHECKLIST_PROBE_MIN_MS) {
		strbuf_addstr(ev, "GitHub not asked: " BUDGET_SPENT);
		return -1;
	}
	strbuf_addf(&url, "%.*s/repos/%s/%s", (int)(al && api[al - 1] == '/' ? al - 1 : al), api, g->cfg->repo, path);
	strbuf_reset(body);
	if ((x = http_get(url.buf, g->headers, t, GITHUB_BODY_MAX, &status, body, &e)) == SW_ETIMEOUT) {
		strbuf_addf(ev, "GitHub did not answer: %s (the gate's probe budget, docs/checklists.md; asked again at "
			    "the next probe)", e.buf);
		r = -1;
	} else if (x < 0) {
		strbuf_addf(ev, "GitHub cannot be reached: %s", e.buf);
		r = -1;
	} else if (status != 200) {
		strbuf_addf(ev, "GitHub answered %ld for %s%s", status, url.buf,
			    status == 401 || status == 403 ? " (is the token valid, may it read the repository?)" :
			    status == 404 ? " (is github.repo right, may the token read it?)" : "");
		r = -1;
	}
	strbuf_release(&url);
	strbuf_release(&e);
	return r;
}

static enum checklist_state gh_ci(struct gh *g, struct strbuf *ev)
{
	struct strbuf st = STRBUF_INIT, ck = STRBUF_INIT, path = STRBUF_INIT, e = STRBUF_INIT;
	int r;

	strbuf_addf(&path, "commits/%s/status", g->sha);
	r = gh_get(g, path.buf, &st, ev);
	strbuf_reset(&path);
	strbuf_addf(&path, "commits/%s/check-runs?per_page=100", g->sha);
	if (r == 0)
		r = gh_get(g, path.buf, &ck, ev);
	if (r == 0 && (r = github_judge_ci(st.buf, st.len, ck.buf, ck.len, g->sha, ev, &e)) < 0)
		strbuf_addf(ev, "GitHub's answer cannot be read: %s", e.buf);
	strbuf_release(&st);
	strbuf_release(&ck);
	strbuf_release(&path);
	strbuf_release(&e);
	return r < 0 ? CL_UNCHECKED : (enum checklist_state)r;
}

static enum checklist_state gh_review(struct gh *g, struct strbuf *ev)
{
	struct strbuf body = STRBUF_INIT, path = STRBUF_INIT, e = STRBUF_INIT, rv[GITHUB_PULLS_MAX];
	const char *bufs[GITHUB_PULLS_MAX];
	size_t lens[GITHUB_PULLS_MAX];
	int64_t nums[GITHUB_PULLS_MAX];
	int r, n = 0;

	for (size_t i = 0; i < GITHUB_PULLS_MAX; i++)
		strbuf_init(&rv[i], 0);
	strbuf_addf(&path, "commits/%s/pulls", g->sha);
	r = gh_get(g, path.buf, &body, ev);
	if (r == 0 && (r = n = github_pull_numbers(body.buf, body.len, nums, GITHUB_PULLS_MAX, &e)) < 0)
		strbuf_addf(ev, "GitHub's answer cannot be read: %s", e.buf);
	for (int i = 0; r >= 0 && i < n; i++) {
		strbuf_reset(&path);
		strbuf_addf(&path, "pulls/%lld/reviews?per_page=100", (long long)nums[i]);
		r = gh_get(g, path.buf, &rv[i], ev);
		bufs[i] = rv[i].buf;
		lens[i] = rv[i].len;
	}
	if (r >= 0 && (r = github_judge_review(nums, bufs, lens, (size_t)n, g->sha, ev, &e)) < 0)
		strbuf_addf(ev, "GitHub's answer cannot be read: %s", e.buf);
	for (size_t i = 0; i < GITHUB_PULLS_MAX; i++)
		strbuf_release(&rv[i]);
	strbuf_release(&body);
	strbuf_release(&path);
	strbuf_release(&e);
	return r < 0 ? CL_UNCHECKED : (enum checklist_state)r;
}

static int sha_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	return n >= 7 && n <= 64 && strspn(s, "0123456789abcdefABCDEF") == n;
}

/* Whether the probe kept under key was made less than CHECKLIST_PROBE_EVERY_MS ago (then it is not made again). */
static int probed_recently(struct store *st, int64_t id, const char *item, int64_t now_ms, struct strbuf *err)
{
	struct strbuf key = STRBUF_INIT;
	char *s = NULL, *e = NULL;
	int64_t at = 0;
	int r, recent;

	strbuf_addf(&key, "(probed) %s", item);
	r = checklist_proof_get(st, id, key.buf, &s, &e, &at, err);
	free(s);
	free(e);
	recent = r == 0 && now_ms >= at && now_ms - at < CHECKLIST_PROBE_EVERY_MS;
	if (r >= 0 && !recent) {
		/* the evidence is the time: checklist_proof_put() writes only what changed */
		char when[32];
		snprintf(when, sizeof(when), "%lld", (long long)now_ms);
		r = checklist_proof_put(st, id, key.buf, "satisfied", when, now_ms, err);
	}
	strbuf_release(&key);
	return r < 0 ? r : recent;
}

/* The live checks, stored as the items' proofs when the service file has a github: section. */
static int prove_github(struct store *st, const struct policy *p, const struct checklist_gate_args *a,
			struct release_read *rr, int64_t deadline, struct strbuf *err)
{
	static const char *const items[] = { "ci-passing", "review-approved" };
	struct strbuf ev = STRBUF_INIT, why = STRBUF_INIT;
	const struct checklist_release *r = NULL;
	struct deployment_record rec = { 0 };
	struct gh g = { 0 };
	const char *token = NULL;
	int x = 0, have_rec = 0;

	for (size_t i = 0; i < ARRAY_SIZE(items) && x >= 0; i++) {
		const struct checklist_item *it = checklist_find(&p->checklists, items[i]);
		enum checklist_state s;
		if (!it || it->check != CHECK_ATTEST || it->list != CHECKLIST_PRE || !checklist_applies(it, a->type))
			continue;
		if (!r) {
			strbuf_reset(&why);
			if (!(r = release_get(a, rr, &why)) || !r->github || !r->github->repo)
				break;	/* no github: section: the items are attested only */
		}
		if ((x = probed_recently(st, a->id, it->id, a->now_ms, err)) != 0)
			continue;
		if (!have_rec) {
			have_rec = 1;
			if (records_get(st, a->id, &rec, err) < 0) {
				strbuf_reset(err);
				rec.commit_sha = NULL;
			}
			token = getenv(r->github->token_env ? r->github->token_env : "GITHUB_TOKEN");
			g.cfg = r->github;
			g.sha = rec.commit_sha;
			g.deadline = deadline;
			if (token && *token && strlen(token) < sizeof(g.auth) - 32) {
				snprintf(g.auth, sizeof(g.auth), "Authorization: Bearer %s", token);
				g.headers[0] = "Accept: application/vnd.github+json";
				g.headers[1] = "X-GitHub-Api-Version: 2022-11-28";
				g.headers[2] = g.auth;
			}
		}
		strbuf_reset(&ev);
		if (!g.auth[0]) {
			strbuf_addf(&ev, "GitHub: %s $%s (services/%s.yaml github.token_env): not asked",
				    token && *token ? "the token is too long in" : "no token in",
				    r->github->token_env ? r->github->token_env : "GITHUB_TOKEN", a->service);
			s = CL_UNCHECKED;
		} else if (!sha_ok(g.sha)) {
			strbuf_addf(&ev, "GitHub: deployment %lld has no commit to ask about ('slipway deploy --commit SHA')",
				    (long long)a->id);
			s = CL_UNCHECKED;
		} else {
			s = !strcmp(it->id, "ci-passing") ? gh_ci(&g, &ev) : gh_review(&g, &ev);
		}
		x = proof_update(st, a->id, it->id, checklist_state_name(s), ev.buf, a->now_ms, err);
	}
	memset(g.auth, 0, sizeof(g.auth));
	deployment_record_release(&rec);
	strbuf_release(&ev);
	strbuf_release(&why);
	return x < 0 ? x : 0;
}

static enum checklist_state prove(struct store *st, const struct policy *p, const struct checklist_gate_args *a,
				  const struct checklist_item *it, struct release_read *rr, int64_t deadline,
				  struct strbuf *ev, struct strbuf *err)
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
	case CHECK_HEALTH:
		return prove_health(p, a, ev);
	case CHECK_FLAGS:
		return prove_flags(st, a, rr, ev);
	case CHECK_MIGRATIONS:
		return prove_migrations(st, a, rr, ev);
	case CHECK_DASHBOARDS:
		return prove_dashboards(a, rr, deadline, ev);
	case CHECK_BASELINE:
	case CHECK_ANNOUNCED:
	case CHECK_SMOKE:
		strbuf_addstr(ev, "proved once the deployment starts (docs/checklists.md)");
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
	struct release_read rr = { 0 };
	int emergency = a->type && !strcmp(a->type, "emergency");
	int64_t deadline = proc_mono_ms() + CHECKLIST_PROBE_BUDGET_MS;	/* every probe of this evaluation */
	int r = 0, n = 0;

	for (size_t i = 0; i < p->checklists.nr && r >= 0; i++) {
		const struct checklist_item *it = &p->checklists.v[i];
		enum checklist_state s;
		if (attested(it) || it->list >= CHECKLIST_POST_IMMEDIATE || !checklist_applies(it, a->type))
			continue;
		/* a dashboard probe waits for the network: at most once per CHECKLIST_PROBE_EVERY_MS */
		if (it->check == CHECK_DASHBOARDS && (r = probed_recently(st, a->id, it->id, a->now_ms, err)) != 0)
			continue;
		strbuf_reset(&ev);
		s = prove(st, p, a, it, &rr, deadline, &ev, err);
		r = proof_update(st, a->id, it->id, checklist_state_name(s), ev.len ? ev.buf : NULL, a->now_ms, err);
	}
	if (r >= 0)
		r = prove_github(st, p, a, &rr, deadline, err);
	strbuf_release(&ev);
	if (rr.loaded) {
		checklist_release_release(&rr.r);
		strbuf_release(&rr.err);
	}
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

/* ---- what the gate reads about a release (checklist_release_read()) ---- */

static int name_cmp(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

/* The databases/NAME.yaml files whose services: list svc, each with its plan's hash. */
static int read_databases(const char *project_dir, const char *service, struct checklist_release *out,
			  struct strbuf *err)
{
	struct strbuf dir = STRBUF_INIT, e = STRBUF_INIT, sq = STRBUF_INIT;
	char **names = NULL;
	size_t n = 0;
	struct dirent *de;
	DIR *d;

	strbuf_addf(&dir, "%s/databases", localstack_project_dir(project_dir));
	if (!(d = opendir(dir.buf))) {
		strbuf_release(&dir);
		return 0;	/* no databases/ directory: no database */
	}
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		if (l > 5 && !strcmp(de->d_name + l - 5, ".yaml") && l - 5 <= SW_NAME_MAX) {
			names = xrealloc(names, (n + 1) * sizeof(*names));
			names[n++] = xstrndup(de->d_name, l - 5);
		}
	}
	closedir(d);
	qsort(names, n, sizeof(*names), name_cmp);
	for (size_t i = 0; i < n && !out->dbs_err; i++) {
		struct database db;
		struct checklist_database *c;
		int uses = 0;
		memset(&db, 0, sizeof(db));
		strbuf_reset(&e);
		if (db_load(&db, project_dir, names[i], &e) < 0) {
			out->dbs_err = strbuf_detach(&e, NULL);
			continue;
		}
		for (size_t k = 0; k < db.nservices; k++)
			uses |= !strcmp(db.services[k], service);
		if (uses) {
			out->dbs = xrealloc(out->dbs, (out->ndbs + 1) * sizeof(*out->dbs));
			c = &out->dbs[out->ndbs++];
			memset(c, 0, sizeof(*c));
			c->name = xstrdup(db.name);
			c->max_age_ms = db.rehearsal_max_age_ms;
			c->plan_sha256 = xmalloc(65);
			strbuf_reset(&sq);
			db_sqitch_dir(&db, project_dir, &sq);
			if (db_plan_sha256(sq.buf, c->plan_sha256, &e) < 0) {
				free(c->plan_sha256);
				c->plan_sha256 = NULL;
				c->err = strbuf_detach(&e, NULL);
			}
		}
		database_release(&db);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	strbuf_release(&dir);
	strbuf_release(&e);
	strbuf_release(&sq);
	(void)err;
	return 0;
}

int checklist_release_read(const char *project_dir, const struct service *svc, const char *release_dir,
			   struct checklist_release *out, struct strbuf *err)
{
	struct strbuf buf = STRBUF_INIT, e = STRBUF_INIT, path = STRBUF_INIT;
	int rc;

	memset(out, 0, sizeof(*out));
	strbuf_addf(&path, "%s/%s", release_dir, RELEASE_MANIFEST_FILE);
	out->manifest_path = strbuf_detach(&path, NULL);
	rc = strbuf_read_file_max(&buf, out->manifest_path, RELEASE_MANIFEST_MAX, &e);
	if (rc == -ENOENT) {
		out->manifest = 0;
	} else if (rc < 0) {
		out->manifest = -1;
		out->manifest_err = strbuf_detach(&e, NULL);
	} else if (release_manifest_parse(&out->m, out->manifest_path, buf.buf, buf.len, &e) < 0) {
		out->manifest = -1;
		out->manifest_err = strbuf_detach(&e, NULL);
	} else {
		out->manifest = 1;
	}
	out->dashboards = svc->dashboards;
	out->ndashboards = svc->ndashboards;
	out->github = svc->github.repo ? &svc->github : NULL;
	rc = read_databases(project_dir, svc->name, out, err);
	strbuf_release(&buf);
	strbuf_release(&e);
	return rc;
}
