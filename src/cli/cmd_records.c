/*
 * cmd_records.c - `slipway history`, `slipway log`, `slipway show`: the
 * deployment records (runbook: record-deployment.sh, the deployment log of
 * update-deployment-log.sh, Post-Deployment "Update deployment log").
 */
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/records_util.h"
#include "cli/vocab.h"
#include "adapters/approvals.h"
#include "adapters/emergency.h"
#include "adapters/incidents.h"
#include "adapters/notify.h"
#include "adapters/records.h"
#include "base/alloc.h"
#include "base/err.h"
#include "base/strbuf.h"
#include "base/timeutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char usage_history[] =
	"usage: slipway history SERVICE [--env ENV] [--limit N] [-o json]\n"
	"\n"
	"The deployments of SERVICE, newest first: id, version, status (the state:\n"
	"succeeded, rolled_back, failed, progressing, ...), type, environment, times,\n"
	"duration and the reason of the last transition.\n";

const char usage_log[] =
	"usage: slipway log [--env ENV] [--limit N] [-o json]\n"
	"\n"
	"The deployment log: every service's deployments, newest first (runbook:\n"
	"update-deployment-log.sh).\n";

const char usage_show[] =
	"usage: slipway show DEPLOYMENT [-o json]\n"
	"\n"
	"One deployment: its record, the timeline of transitions with their reasons,\n"
	"the latest comparison table (Metric | Baseline | Current | Delta | Status),\n"
	"approvals, the emergency record, incidents linked to it, and the messages\n"
	"sent about it with their delivery state.\n";

static int64_t duration_of(const struct deployment_record *d)
{
	int64_t start = d->started_ms != RECORD_TIME_NONE ? d->started_ms : d->created_ms;
	if (d->finished_ms == RECORD_TIME_NONE || start == RECORD_TIME_NONE)
		return -1;
	return d->finished_ms - start;
}

static int parse_limit(const char *s, size_t *out)
{
	char *end;
	long v;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0) {
		cli_error("--limit '%s' is not a count; give 0 (all) or more", s);
		return -1;
	}
	*out = (size_t)v;
	return 0;
}

static int list_records(int argc, char **argv, struct cli_ctx *ctx, int per_service)
{
	const char *env = NULL, *service = NULL, *limit_s = NULL;
	const struct cli_option opts[] = {
		CLI_STRING("env", 0, &env),
		CLI_STRING("limit", 0, &limit_s),
		CLI_OPTIONS_END,
	};
	struct deployment_record *v = NULL;
	struct store *st;
	struct strbuf err = STRBUF_INIT;
	size_t n = 0, limit = 0;
	char **args;
	int nargs, rc, r;

	if ((rc = cli_parse(ctx, argc, argv, opts, &args, &nargs)) != EXIT_OK)
		return rc;
	if (limit_s && parse_limit(limit_s, &limit))
		return EXIT_USAGE;
	if (per_service)
		service = args[0];
	if ((rc = cli_store(ctx, &st)) != EXIT_OK)
		return rc;
	if ((r = records_list(st, service, env, limit, &v, &n, &err))) {
		cli_error("%s", err.buf);
		rc = cli_exit(r);
	} else if (service && n == 0 && !env) {
		/* a service that was never deployed is a name that does not exist here */
		cli_error("no deployments of '%s'; see 'slipway log' for the services deployed", service);
		rc = cli_exit(SW_ENOTFOUND);
	} else if (ctx->output == OUTPUT_JSON) {
		json_t *a = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(a, cli_deployment_json(&v[i]));
		cli_print_json(cli_list_doc("DeploymentList", a));
	} else if (n == 0) {
		printf(service ? "no deployments of '%s' in '%s'\n" : "no deployments\n", service, env);
	} else {
		char at[RFC3339_BUFSZ], dur[DURATION_BUFSZ];
		printf("%-6s %-20s %-16s %-12s %-12s %-22s %-11s %-9s %-12s %s\n", "ID", "CREATED", "SERVICE", "VERSION",
		       "ENV", "TYPE", "STATE", "DURATION", "OWNER", "REASON");
		for (size_t i = 0; i < n; i++) {
			int64_t d = duration_of(&v[i]);
			printf("%-6lld %-20s %-16s %-12s %-12s %-22s %-11s %-9s %-12s %s\n", (long long)v[i].id,
			       records_time(v[i].created_ms, at), v[i].service, v[i].version, v[i].env, v[i].type,
			       v[i].state, d < 0 ? "-" : duration_format(d, dur), v[i].requested_by,
			       v[i].reason ? v[i].reason : "");
		}
	}
	deployment_records_free(v, n);
	strbuf_release(&err);
	return rc;
}

int cmd_history(int argc, char **argv, struct cli_ctx *ctx)
{
	return list_records(argc, argv, ctx, 1);
}

int cmd_log(int argc, char **argv, struct cli_ctx *ctx)
{
	return list_records(argc, argv, ctx, 0);
}

/*
 * The comparison rows inside a stored analysis result: the array itself, or
 * its "table" (the rollout engine's analysis_result_to_json()) or "rows".
 */
static json_t *table_rows(json_t *t)
{
	if (json_is_array(t))
		return t;
	if (json_is_array(json_object_get(t, "table")))
		return json_object_get(t, "table");
	return json_object_get(t, "rows");
}

/* The comparison table as text, with units (cli_print_comparison()). */
static void print_table(json_t *t)
{
	json_t *rows = table_rows(t);
	if (!json_is_array(rows)) {
		char *s = json_dumps(t, JSON_COMPACT);
		printf("  %s\n", s ? s : "");
		free(s);
		return;
	}
	cli_print_comparison(rows, "  ");
}

/* The pending and applied intents of deployment id: [{id, action, arg, requested_by, created_at,
 * applied_at, result}]. */
static int intents_json(struct store *st, int64_t id, json_t **out, struct strbuf *err)
{
	_cleanup_stmt_ sqlite3_stmt *q = NULL;
	json_t *a;
	int r = store_prepare(st, &q, "SELECT id, kind, arg, requested_by, created_ms, applied_ms, result FROM intents "
			      "WHERE deployment_id = ? ORDER BY id", err);
	if (r < 0)
		return r;
	a = json_array();
	sqlite3_bind_int64(q, 1, id);
	while (sqlite3_step(q) == SQLITE_ROW) {
		json_t *o = json_object();
		json_object_set_new(o, "id", json_integer(sqlite3_column_int64(q, 0)));
		cli_json_str(o, "action", (const char *)sqlite3_column_text(q, 1));
		cli_json_str(o, "arg", (const char *)sqlite3_column_text(q, 2));
		cli_json_str(o, "requested_by", (const char *)sqlite3_column_text(q, 3));
		cli_json_time(o, "created_at", sqlite3_column_int64(q, 4));
		json_object_set_new(o, "applied", json_boolean(sqlite3_column_type(q, 5) != SQLITE_NULL));
		cli_json_time(o, "applied_at", sqlite3_column_type(q, 5) == SQLITE_NULL ? 0 : sqlite3_column_int64(q, 5));
		cli_json_str(o, "result", (const char *)sqlite3_column_text(q, 6));
		json_array_append_new(a, o);
	}
	*out = a;
	return 0;
}

int records_detail_json(struct store *st, int64_t id, json_t **out, struct strbuf *err)
{
	struct deployment_record d = { 0 };
	struct transition_record *tr = NULL;
	struct approval_set ap = { 0 };
	struct emergency_record em = { 0 };
	struct notify_delivery_row *msgs = NULL;
	struct incident *inc = NULL;
	char *verdict = NULL, *reason = NULL, *table = NULL;
	size_t ntr = 0, nmsgs = 0, ninc = 0;
	json_t *j = NULL, *tl, *apj, *mj, *ij, *intents = NULL;
	int64_t an_at = 0;
	int r;

	if ((r = records_get(st, id, &d, err)) || (r = records_transitions(st, id, &tr, &ntr, err)) ||
	    (r = records_last_analysis(st, id, &verdict, &reason, &table, &an_at, err)) ||
	    (r = approvals_load(st, id, &ap, err)) || (r = notify_list(st, id, 0, &msgs, &nmsgs, err)) ||
	    (r = incident_list(st, NULL, 0, &inc, &ninc, err)) || (r = intents_json(st, id, &intents, err)))
		goto out;
	if ((r = emergency_record_get(st, id, &em, err)) < 0)
		goto out;
	j = cli_doc("DeploymentDetail");
	json_object_set_new(j, "deployment", cli_deployment_json(&d));
	tl = json_array();
	for (size_t i = 0; i < ntr; i++)
		json_array_append_new(tl, cli_transition_json(&tr[i]));
	json_object_set_new(j, "transitions", tl);
	json_object_set_new(j, "intents", intents);
	intents = NULL;
	if (table) {
		json_t *tj = json_loads(table, 0, NULL);
		json_t *cmp = json_object(), *rows = tj ? table_rows(tj) : NULL;
		cli_json_time(cmp, "at", an_at);
		cli_json_str(cmp, "verdict", verdict);
		cli_json_str(cmp, "reason", reason);
		json_object_set(cmp, "table", rows ? rows : json_null());
		json_object_set_new(cmp, "analysis", tj ? tj : json_string(table));
		json_object_set_new(j, "last_analysis", cmp);
	} else {
		json_object_set_new(j, "last_analysis", json_null());
	}
	apj = json_array();
	for (size_t i = 0; i < ap.n; i++)
		json_array_append_new(apj, cli_approval_json(&ap.v[i], ap.comments[i], ap.identities[i]));
	json_object_set_new(j, "approvals", apj);
	if (r == 0) {
		json_t *e = json_object();
		cli_json_str(e, "reason", em.reason);
		cli_json_str(e, "requested_by", em.requested_by);
		cli_json_str(e, "approver", em.approver);
		cli_json_time(e, "created_at", em.created_ms);
		cli_json_time(e, "approved_at", em.approved_ms);
		cli_json_time(e, "ended_at", em.ended_ms);
		json_object_set_new(j, "emergency", e);
		emergency_record_release(&em);
	} else {
		json_object_set_new(j, "emergency", json_null());
	}
	ij = json_array();
	for (size_t i = 0; i < ninc; i++)
		if (inc[i].deployment_id == id)
			json_array_append_new(ij, cli_incident_json(&inc[i]));
	json_object_set_new(j, "incidents", ij);
	mj = json_array();
	for (size_t i = nmsgs; i-- > 0;)
		json_array_append_new(mj, cli_delivery_json(&msgs[i]));
	json_object_set_new(j, "messages", mj);
	r = 0;
	*out = j;
out:
	json_decref(intents);
	free(verdict);
	free(reason);
	free(table);
	transition_records_free(tr, ntr);
	approval_set_release(&ap);
	notify_delivery_rows_free(msgs, nmsgs);
	incidents_free(inc, ninc);
	deployment_record_release(&d);
	return r;
}

int cmd_show(int argc, char **argv, struct cli_ctx *ctx)
{
	struct store *st;
	struct strbuf err = STRBUF_INIT;
	struct deployment_record d = { 0 };
	struct transition_record *tr = NULL;
	struct approval_set ap = { 0 };
	struct emergency_record em = { 0 };
	struct notify_delivery_row *msgs = NULL;
	struct incident *inc = NULL;
	char *verdict = NULL, *reason = NULL, *table = NULL;
	size_t ntr = 0, nmsgs = 0, ninc = 0;
	int64_t id, an_at;
	char **args;
	int nargs, rc, r, have_em = 0;

	if ((rc = cli_parse(ctx, argc, argv, NULL, &args, &nargs)) != EXIT_OK)
		return rc;
	if (records_parse_id("deployment", args[0], &id))
		return EXIT_USAGE;
	if ((rc = cli_store(ctx, &st)) != EXIT_OK)
		return rc;
	if (ctx->output == OUTPUT_JSON) {
		json_t *j = NULL;
		if ((r = records_detail_json(st, id, &j, &err)) < 0) {
			cli_error("%s", err.buf);
			rc = cli_exit(r);
		} else {
			cli_print_json(j);
		}
		strbuf_release(&err);
		return rc;
	}
	if ((r = records_get(st, id, &d, &err)) || (r = records_transitions(st, id, &tr, &ntr, &err)) ||
	    (r = records_last_analysis(st, id, &verdict, &reason, &table, &an_at, &err)) ||
	    (r = approvals_load(st, id, &ap, &err)) || (r = notify_list(st, id, 0, &msgs, &nmsgs, &err)) ||
	    (r = incident_list(st, NULL, 0, &inc, &ninc, &err))) {
		cli_error("%s", err.buf);
		rc = cli_exit(r);
		goto out;
	}
	r = emergency_record_get(st, id, &em, &err);
	if (r < 0) {
		cli_error("%s", err.buf);
		rc = cli_exit(r);
		goto out;
	}
	have_em = r == 0;

	{
		char a[RFC3339_BUFSZ], b[RFC3339_BUFSZ], dur[DURATION_BUFSZ];
		int64_t dd = duration_of(&d);
		printf("deployment %lld: %s %s -> %s (%s, %s)\n", (long long)d.id, d.service,
		       d.from_version ? d.from_version : "-", d.version, d.env, d.type);
		printf("  status      %s%s%s\n", d.state, d.reason ? ": " : "", d.reason ? d.reason : "");
		printf("  requested   by %s at %s\n", d.requested_by, records_time(d.created_ms, a));
		printf("  finished    %s%s%s\n", records_time(d.finished_ms, b), dd >= 0 ? " after " : "",
		       dd >= 0 ? duration_format(dd, dur) : "");
		printf("  strategy    %s, step %lld, weight %g%%, failed checks %lld\n", d.strategy, (long long)d.step,
		       d.weight, (long long)d.failed_checks);
		if (d.commit_sha)
			printf("  commit      %s at %s\n", d.commit_sha, records_time(d.commit_time_ms, a));
		printf("\ntimeline:\n");
		if (!ntr)
			printf("  (no transitions)\n");
		for (size_t i = 0; i < ntr; i++)
			printf("  %s  %-12s -> %-12s step %lld weight %g%%  %s\n", records_time(tr[i].at_ms, a),
			       tr[i].from_state ? tr[i].from_state : "-", tr[i].to_state, (long long)tr[i].step,
			       tr[i].weight, tr[i].reason ? tr[i].reason : "");
		printf("\ncomparison:\n");
		if (table) {
			json_t *tj = json_loads(table, 0, NULL);
			printf("  at %s: %s%s%s\n", records_time(an_at, a), verdict ? verdict : "-", reason ? ", " : "",
			       reason ? reason : "");
			if (tj)
				print_table(tj);
			else
				printf("  %s\n", table);
			json_decref(tj);
		} else {
			printf("  (no analysis yet)\n");
		}
		printf("\napprovals:\n");
		if (!ap.n)
			printf("  (none)\n");
		for (size_t i = 0; i < ap.n; i++)
			printf("  %s  %-8s %-20s by %s%s%s\n", records_time(ap.v[i].at_ms, a),
			       ap.v[i].decision == APPROVAL_APPROVED ? "approved" : "rejected", ap.v[i].role,
			       ap.v[i].approver, ap.comments[i] ? ": " : "", ap.comments[i] ? ap.comments[i] : "");
		if (have_em) {
			printf("\nemergency:\n  reason %s\n  requested by %s, approved by %s, monitoring %s\n", em.reason,
			       em.requested_by, em.approver ? em.approver : "(not yet)", em.ended_ms ? "ended" : "continuous");
		}
		for (size_t i = 0, first = 1; i < ninc; i++)
			if (inc[i].deployment_id == id) {
				if (first)
					printf("\nincidents:\n");
				first = 0;
				printf("  %lld %s (%s)\n", (long long)inc[i].id, inc[i].title,
				       inc[i].resolved_ms ? "resolved" : "open");
			}
		printf("\nmessages:\n");
		if (!nmsgs)
			printf("  (none)\n");
		for (size_t i = nmsgs; i-- > 0;)
			printf("  %s  %-10s to %-16s via %-12s %s%s%s\n", records_time(msgs[i].created_ms, a), msgs[i].kind,
			       msgs[i].channels, msgs[i].sink, msgs[i].state, msgs[i].last_error ? ": " : "",
			       msgs[i].last_error ? msgs[i].last_error : "");
	}
out:
	free(verdict);
	free(reason);
	free(table);
	transition_records_free(tr, ntr);
	approval_set_release(&ap);
	if (have_em)
		emergency_record_release(&em);
	notify_delivery_rows_free(msgs, nmsgs);
	incidents_free(inc, ninc);
	deployment_record_release(&d);
	strbuf_release(&err);
	return rc;
}
