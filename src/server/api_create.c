/*
 * api_create.c - POST /api/v1/deployments: record a deployment the way
 * `slipway deploy` does before its first tick (controller/local_deploy.h,
 * record_only), with deploy's checks and messages.  The deployment waits
 * in `pending` for a controller: `slipway serve`, or `slipway deploy
 * SERVICE VERSION` run later, which finds and resumes it.
 */
#include "server/api_internal.h"
#include "server/vocab.h"
#include "adapters/dora_store.h"
#include "adapters/emergency.h"
#include "adapters/records.h"
#include "base/err.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "controller/local_deploy.h"
#include "controller/policy_file.h"
#include "core/policy.h"

#include <string.h>

static void problem_doc(unsigned status, const char *detail, const char *instance, unsigned *st_out, json_t **doc,
			int *is_problem)
{
	static const struct { unsigned status; const char *title; } titles[] = {
		{ 400, "Bad Request" }, { 404, "Not Found" }, { 409, "Conflict" }, { 502, "Bad Gateway" },
		{ 503, "Service Unavailable" }, { 500, "Internal Server Error" },
	};
	const char *title = "Error";
	for (size_t i = 0; i < sizeof(titles) / sizeof(titles[0]); i++)
		if (titles[i].status == status)
			title = titles[i].title;
	*st_out = status;
	*is_problem = 1;
	*doc = json_pack("{s:s, s:s, s:i, s:s, s:s}", "type", "about:blank", "title", title, "status", (int)status,
			 "detail", detail, "instance", instance);
}

static unsigned status_of(int r)
{
	switch (r) {
	case SW_EUSAGE: case SW_EPARSE: case SW_EPOLICY: case SW_ECONFIG: case SW_ETOOBIG: return 400;
	case SW_ENOTFOUND: return 404;
	case SW_ESTATE: case SW_EDENIED: return 409;
	case SW_EEXTERNAL: return 502;
	case SW_ESTORE: case SW_ETIMEOUT: return 503;
	default: return 500;
	}
}

void api_create_deployment(const char *state_dir, const char *project_dir, const struct policy_file *pol,
			   const struct api_create_request *rq, const char *user, const char *identity,
			   struct store *st, unsigned *status, json_t **doc, int *is_problem, const char *instance)
{
	struct local_deploy_opts o = { 0 };
	struct local_deploy_result res;
	struct deployment_record d = { 0 };
	struct strbuf err = STRBUF_INIT;
	int r;

	o.type = rq->type;
	o.env = rq->env;
	o.change_class = rq->change_class;
	o.emergency_reason = rq->reason;
	o.commit_sha = rq->commit_sha;
	o.time_scale = rq->time_scale >= 1 ? rq->time_scale : 1;
	if (emergency_check_reason(o.type, o.emergency_reason, &err) < 0)
		goto bad;
	if (rq->commit_time && time_parse_rfc3339(rq->commit_time, &o.commit_time_ms, &err) < 0) {
		struct strbuf m = STRBUF_INIT;
		strbuf_addf(&m, "commit_time: %s", err.buf);
		strbuf_reset(&err);
		strbuf_addstr(&err, m.buf);
		strbuf_release(&m);
		goto bad;
	}
	if (o.commit_sha && !rq->commit_time && commit_time_resolve(project_dir, o.commit_sha, &o.commit_time_ms, &err) < 0) {
		struct strbuf m = STRBUF_INIT;
		strbuf_addf(&m, "commit %s: %s; give commit_time", o.commit_sha, err.buf);
		strbuf_reset(&err);
		strbuf_addstr(&err, m.buf);
		strbuf_release(&m);
		goto bad;
	}
	if (!policy_find_type(&pol->p, o.type)) {
		struct type_rules unused;
		strbuf_reset(&err);
		policy_type_rules(&pol->p, o.type, &unused, &err);
		goto bad;
	}
	if (o.change_class && !policy_find_class(&pol->p, o.change_class)) {
		strbuf_reset(&err);
		strbuf_addf(&err, "unknown change class '%s'; see 'slipway policy show'", o.change_class);
		goto bad;
	}
	o.policy = &pol->p;
	o.zone = &pol->tz.zone;
	o.state_dir = state_dir;
	o.project_dir = project_dir;
	o.service = rq->service;
	o.version = rq->version;
	o.requested_by = user;
	o.record_only = 1;
	strbuf_reset(&err);
	if ((r = local_deploy_run(&o, &res, &err)) < 0) {
		problem_doc(status_of(r), err.len ? err.buf : slipway_strerror(r), instance, status, doc, is_problem);
		goto out;
	}
	strbuf_reset(&err);
	if ((r = records_get(st, res.id, &d, &err)) < 0) {
		problem_doc(status_of(r), err.buf, instance, status, doc, is_problem);
		goto out;
	}
	*doc = vocab_doc("Deployment");
	json_object_update_new(*doc, vocab_deployment_json(&d));
	json_object_set_new(*doc, "resumed", json_boolean(res.resumed));
	*status = res.resumed ? 200 : 201;
	*is_problem = 0;
	(void)identity;
	goto out;
bad:
	problem_doc(400, err.buf, instance, status, doc, is_problem);
out:
	deployment_record_release(&d);
	strbuf_release(&err);
}
