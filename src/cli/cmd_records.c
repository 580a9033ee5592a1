/*
 * cmd_records.c - `slipway history`, `slipway log`, `slipway show`: the
 * deployment records (runbook: record-deployment.sh, the deployment log of
 * update-deployment-log.sh, Post-Deployment "Update deployment log").
 */
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/records_util.h"
#include "cli/vocab.h"
#include "cli/cli_policy.h"
#include "controller/checklist_gate.h"
#include "server/documents.h"
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
	"The deployments of SERVICE, newest first: id, version, state (succeeded,\n"
	"rolled_back, failed, progressing, ...), type, environment, creation time,\n"
	"the time it waited (pending for approvals, a window, a freeze or an incident,\n"
	"and paused for a person) apart from the time it ran, the requester and the\n"
	"reason of the last transition.\n";

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
	"approvals, its checklist (each item, state, evidence, who and when, as\n"
	"'slipway checklist' shows it), the emergency record, incidents linked to it,\n"
	"and the messages sent about it with their delivery state.\n";

/* The columns of history and log: widths computed from what is printed, the last one unpadded. */
enum { COL_ID, COL_CREATED, COL_SERVICE, COL_VERSION, COL_ENV, COL_TYPE, COL_STATE, COL_WAITED, COL_RAN, COL_OWNER,
       COL_REASON, NCOLS };

static void print_rows(struct deployment_record *v, size_t n, int with_service)
{
	static const char *const head[NCOLS] = { "ID", "CREATED", "SERVICE", "VERSION", "ENV", "TYPE", "STATE",
						 "WAITED", "RAN", "OWNER", "REASON" };
	char **cell = xcalloc(n * NCOLS, sizeof(*cell));
	size_t w[NCOLS];

	for (int c = 0; c < NCOLS; c++)
		w[c] = strlen(head[c]);
	for (size_t i = 0; i < n; i++) {
		char at[RFC3339_BUFSZ], waited[DURATION_BUFSZ] = "-", ran[DURATION_BUFSZ] = "-", id[24];
		char **r = cell + i * NCOLS;
		if (v[i].waited_ms != RECORD_TIME_NONE) {
			/* whole seconds, as -o json's waited_s and ran_s */
			duration_format(v[i].waited_ms / 1000 * 1000, waited);
			duration_format(v[i].ran_ms / 1000 * 1000, ran);
			if (v[i].waited_ms < 1000)
				snprintf(waited, sizeof(waited), "0s");
			if (v[i].ran_ms < 1000)
				snprintf(ran, sizeof(ran), "0s");
		}
		snprintf(id, sizeof(id), "%lld", (long long)v[i].id);
		r[COL_ID] = xstrdup(id);
		r[COL_CREATED] = xstrdup(records_time(v[i].created_ms, at));
		r[COL_SERVICE] = xstrdup(v[i].service ? v[i].service : "");
		r[COL_VERSION] = xstrdup(v[i].version ? v[i].version : "");
		r[COL_ENV] = xstrdup(v[i].env ? v[i].env : "");
		r[COL_TYPE] = xstrdup(v[i].type ? v[i].type : "");
		r[COL_STATE] = xstrdup(v[i].state ? v[i].state : "");
		r[COL_WAITED] = xstrdup(waited);
		r[COL_RAN] = xstrdup(ran);
		r[COL_OWNER] = xstrdup(v[i].requested_by ? v[i].requested_by : "");
		if (v[i].time_scale > 1) {	/* it ran time-scaled: said before the reason (engine.md "Time scale") */
			const char *why = v[i].reason ? v[i].reason : "";
			size_t len = strlen(why) + 48;
			r[COL_REASON] = xmalloc(len);
			snprintf(r[COL_REASON], len, "(time scale %gx) %s", v[i].time_scale, why);
		} else
			r[COL_REASON] = xstrdup(v[i].reason ? v[i].reason : "");
		for (int c = 0; c < NCOLS; c++)
			if (strlen(r[c]) > w[c])
				w[c] = strlen(r[c]);
	}
	for (size_t i = 0; i <= n; i++) {
		const char *const *r = i == 0 ? head : (const char *const *)cell + (i - 1) * NCOLS;
		for (int c = 0; c < NCOLS; c++) {
			if (c == COL_SERVICE && !with_service)
				continue;
			if (c == COL_REASON)
				printf("%s\n", r[c]);
			else
				printf("%-*s  ", (int)w[c], r[c]);
		}
	}
	for (size_t i = 0; i < n * NCOLS; i++)
		free(cell[i]);
	free(cell);
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
		print_rows(v, n, !service);
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

/* The comparison table as text, with units (cli_print_comparison()). */
static void print_table(json_t *t)
{
	json_t *rows = doc_table_rows(t);
	if (!json_is_array(rows)) {
		char *s = json_dumps(t, JSON_COMPACT);
		printf("  %s\n", s ? s : "");
		free(s);
		return;
	}
	cli_print_comparison(rows, "  ");
	cli_print_queries(json_object_get(t, "queries"), "  ");
}

/* The deployment's checklist (docs/checklists.md) as the gate sees it, under the effective policy:
 * as JSON in *json (checklist_view_json(), a new reference) when json is not NULL, else as text
 * lines in text; 0, or -1 with why the checklist cannot be shown in text. */
static int show_checklist(struct cli_ctx *ctx, struct store *st, int64_t id, json_t **json, struct strbuf *text)
{
	struct deployment_record d = { 0 };
	struct checklist_view v = { 0 };
	struct policy_file pol;
	struct strbuf err = STRBUF_INIT;
	char when[RFC3339_BUFSZ];
	int r;

	if (cli_policy_load(ctx->policy_path, &pol) != EXIT_OK) {
		strbuf_addstr(text, "the policy did not load (see above)");
		return -1;
	}
	r = records_get(st, id, &d, &err);
	if (r >= 0)
		r = checklist_view_build(st, &pol.p, id, d.version, d.type, &v, &err);
	if (r < 0)
		strbuf_addstr(text, err.buf);
	else if (json)
		*json = checklist_view_json(&v);
	for (size_t i = 0; r >= 0 && !json && i < v.n; i++) {
		const struct checklist_row *row = &v.v[i];
		strbuf_addf(text, "  %-26s %-16s %-10s %-6s %-8s %-20s %s%s%s\n", row->item->id,
			    checklist_list_name(row->item->list), checklist_state_name(row->state),
			    row->blocking ? "blocks" : "-", row->who ? row->who : "-",
			    row->at_ms ? time_format_rfc3339(row->at_ms, when) : "-", row->evidence ? row->evidence : "",
			    row->evidence && row->detail ? ": " : "", row->detail ? row->detail : "");
	}
	if (r >= 0 && !json && !v.n)
		strbuf_addstr(text, "  (no item applies)\n");
	checklist_view_release(&v);
	deployment_record_release(&d);
	cli_policy_release(&pol);
	strbuf_release(&err);
	return r < 0 ? -1 : 0;
}

int cmd_show(int argc, char **argv, struct cli_ctx *ctx)
{
	struct store *st;
	struct strbuf err = STRBUF_INIT;
	struct deployment_view v;
	int64_t id;
	char **args;
	int nargs, rc, r;

	if ((rc = cli_parse(ctx, argc, argv, NULL, &args, &nargs)) != EXIT_OK)
		return rc;
	if (records_parse_id("deployment", args[0], &id))
		return EXIT_USAGE;
	if ((rc = cli_store(ctx, &st)) != EXIT_OK)
		return rc;
	if (ctx->output == OUTPUT_JSON) {
		json_t *j = NULL;
		if ((r = doc_deployment_detail(st, id, &j, &err)) < 0) {
			cli_error("%s", err.buf);
			rc = cli_exit(r);
		} else {
			struct strbuf why = STRBUF_INIT;
			json_t *c = NULL;
			if (show_checklist(ctx, st, id, &c, &why) < 0)
				cli_error("checklist: %s", why.buf);
			json_object_set_new(j, "checklist", c ? c : json_null());
			strbuf_release(&why);
			cli_print_json(j);
		}
		strbuf_release(&err);
		return rc;
	}
	if ((r = deployment_view_load(st, id, &v, &err)) < 0) {
		cli_error("%s", err.buf);
		rc = cli_exit(r);
		goto out;
	}
	{
		char a[RFC3339_BUFSZ], b[RFC3339_BUFSZ], dur[DURATION_BUFSZ], wdur[DURATION_BUFSZ];
		int dd = v.d.waited_ms != RECORD_TIME_NONE;
		printf("deployment %lld: %s %s -> %s (%s, %s)\n", (long long)v.d.id, v.d.service,
		       v.d.from_version ? v.d.from_version : "-", v.d.version, v.d.env, v.d.type);
		printf("  status      %s%s%s\n", v.d.state, v.d.reason ? ": " : "", v.d.reason ? v.d.reason : "");
		printf("  requested   by %s at %s\n", v.d.requested_by, records_time(v.d.created_ms, a));
		printf("  finished    %s", records_time(v.d.finished_ms, b));
		if (dd)
			printf(": waited %s, ran %s", duration_format(v.d.waited_ms, wdur), duration_format(v.d.ran_ms, dur));
		printf("\n");
		printf("  strategy    %s, step %lld, weight %g%%, failed checks %lld\n", v.d.strategy, (long long)v.d.step,
		       v.d.weight, (long long)v.d.failed_checks);
		if (v.d.time_scale > 1)
			printf("  time scale  %gx: holds, intervals and monitoring ran %g times faster than the wall clock; "
			       "every time shown is wall time\n", v.d.time_scale, v.d.time_scale);
		if (v.d.commit_sha)
			printf("  commit      %s at %s\n", v.d.commit_sha, records_time(v.d.commit_time_ms, a));
		printf("\ntimeline:\n");
		if (!v.ntr)
			printf("  (no transitions)\n");
		for (size_t i = 0; i < v.ntr; i++)
			printf("  %s  %-12s -> %-12s step %lld weight %g%%  %s\n", records_time(v.tr[i].at_ms, a),
			       v.tr[i].from_state ? v.tr[i].from_state : "-", v.tr[i].to_state, (long long)v.tr[i].step,
			       v.tr[i].weight, v.tr[i].reason ? v.tr[i].reason : "");
		printf("\ncomparison:\n");
		if (v.table) {
			json_t *tj = json_loads(v.table, 0, NULL);
			printf("  at %s: %s%s%s\n", records_time(v.an_at, a), v.verdict ? v.verdict : "-", v.reason ? ", " : "",
			       v.reason ? v.reason : "");
			if (tj)
				print_table(tj);
			else
				printf("  %s\n", v.table);
			json_decref(tj);
		} else {
			printf("  (no analysis yet)\n");
		}
		printf("\napprovals:\n");
		if (!v.ap.n)
			printf("  (none)\n");
		for (size_t i = 0; i < v.ap.n; i++)
			printf("  %s  %-8s %-20s by %s%s%s\n", records_time(v.ap.v[i].at_ms, a),
			       v.ap.v[i].decision == APPROVAL_APPROVED ? "approved" : "rejected", v.ap.v[i].role,
			       v.ap.v[i].approver, v.ap.comments[i] ? ": " : "", v.ap.comments[i] ? v.ap.comments[i] : "");
		{
			struct strbuf ct = STRBUF_INIT;
			int cr = show_checklist(ctx, st, id, NULL, &ct);
			printf("\nchecklist:%s%s\n%s", cr < 0 ? " " : "", cr < 0 ? ct.buf : "", cr < 0 ? "" : ct.buf);
			strbuf_release(&ct);
		}
		if (v.have_em) {
			printf("\nemergency:\n  reason %s\n  requested by %s, approved by %s, monitoring %s\n", v.em.reason,
			       v.em.requested_by, v.em.approver ? v.em.approver : "(not yet)", v.em.ended_ms ? "ended" : "continuous");
		}
		for (size_t i = 0, first = 1; i < v.ninc; i++)
			if (v.inc[i].deployment_id == id) {
				if (first)
					printf("\nincidents:\n");
				first = 0;
				printf("  %lld %s (%s)\n", (long long)v.inc[i].id, v.inc[i].title,
				       v.inc[i].resolved_ms ? "resolved" : "open");
			}
		printf("\nmessages:\n");
		if (!v.nmsgs)
			printf("  (none)\n");
		for (size_t i = v.nmsgs; i-- > 0;)
			printf("  %s  %-10s to %-16s via %-12s %s%s%s\n", records_time(v.msgs[i].created_ms, a), v.msgs[i].kind,
			       v.msgs[i].channels, v.msgs[i].sink, v.msgs[i].state, v.msgs[i].last_error ? ": " : "",
			       v.msgs[i].last_error ? v.msgs[i].last_error : "");
	}
out:
	deployment_view_release(&v);
	strbuf_release(&err);
	return rc;
}
