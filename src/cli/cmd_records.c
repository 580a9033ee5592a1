/*
 * cmd_records.c - `slipway history`, `slipway log`, `slipway show`: the
 * deployment records (runbook: record-deployment.sh, the deployment log of
 * update-deployment-log.sh, Post-Deployment "Update deployment log").
 */
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/records_util.h"
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
#include <getopt.h>
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

static void set_time(json_t *o, const char *key, int64_t ms)
{
	char b[RFC3339_BUFSZ];
	json_object_set_new(o, key, ms == RECORD_TIME_NONE ? json_null() : json_string(time_format_rfc3339(ms, b)));
}

static void set_str(json_t *o, const char *key, const char *v)
{
	json_object_set_new(o, key, v ? json_string(v) : json_null());
}

static int64_t duration_of(const struct deployment_record *d)
{
	int64_t start = d->started_ms != RECORD_TIME_NONE ? d->started_ms : d->created_ms;
	if (d->finished_ms == RECORD_TIME_NONE || start == RECORD_TIME_NONE)
		return -1;
	return d->finished_ms - start;
}

static json_t *record_json(const struct deployment_record *d)
{
	json_t *o = json_object();
	int64_t dur = duration_of(d);

	json_object_set_new(o, "id", json_integer(d->id));
	set_str(o, "service", d->service);
	set_str(o, "env", d->env);
	set_str(o, "version", d->version);
	set_str(o, "from_version", d->from_version);
	json_object_set_new(o, "revision", json_integer(d->revision));
	set_str(o, "status", d->state);
	set_str(o, "type", d->type);
	set_str(o, "class", d->class_);
	set_str(o, "strategy", d->strategy);
	set_str(o, "reason", d->reason);
	set_str(o, "requested_by", d->requested_by);
	json_object_set_new(o, "step", json_integer(d->step));
	json_object_set_new(o, "weight", json_real(d->weight));
	json_object_set_new(o, "failed_checks", json_integer(d->failed_checks));
	set_time(o, "created_at", d->created_ms);
	set_time(o, "started_at", d->started_ms);
	set_time(o, "finished_at", d->finished_ms);
	json_object_set_new(o, "created_ms", json_integer(d->created_ms));
	json_object_set_new(o, "finished_ms", d->finished_ms == RECORD_TIME_NONE ? json_null() : json_integer(d->finished_ms));
	json_object_set_new(o, "duration_s", dur < 0 ? json_null() : json_integer(dur / 1000));
	set_str(o, "commit_sha", d->commit_sha);
	set_time(o, "commit_time", d->commit_time_ms);
	set_str(o, "emergency_reason", d->emergency_reason);
	return o;
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
	static const struct option opts[] = {
		{ "env", required_argument, NULL, 'e' },
		{ "limit", required_argument, NULL, 'l' },
		{ "output", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cmd = argv[0], *env = NULL, *service = NULL;
	struct deployment_record *v = NULL;
	struct store st = { 0 };
	struct strbuf err = STRBUF_INIT;
	size_t n = 0, limit = 0;
	int c, rc;

	while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		switch (c) {
		case 'e': env = optarg; break;
		case 'l':
			if (parse_limit(optarg, &limit))
				return EXIT_USAGE;
			break;
		case 'o':
			if (cli_parse_output(ctx, optarg))
				return EXIT_USAGE;
			break;
		default:
			return cli_usage_error(ctx, cmd, "bad option or missing value (see above)");
		}
	}
	if (per_service) {
		if (optind + 1 != argc)
			return cli_usage_error(ctx, cmd, "give one SERVICE");
		service = argv[optind];
	} else if (optind != argc) {
		return cli_usage_error(ctx, cmd, "unexpected argument '%s'", argv[optind]);
	}
	if ((rc = records_store_open_reader(ctx, &st)) != EXIT_OK)
		return rc;
	if (records_list(&st, service, env, limit, &v, &n, &err)) {
		cli_error("%s", err.buf);
		rc = EXIT_RUNTIME;
	} else if (ctx->output == OUTPUT_JSON) {
		json_t *a = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(a, record_json(&v[i]));
		cli_print_json(a);
	} else if (n == 0) {
		printf(service ? "no deployments of '%s'\n" : "no deployments\n", service);
	} else {
		char at[RFC3339_BUFSZ], dur[DURATION_BUFSZ];
		printf("%-6s %-20s %-16s %-12s %-12s %-22s %-11s %-9s %-12s %s\n", "ID", "CREATED", "SERVICE", "VERSION",
		       "ENV", "TYPE", "STATUS", "DURATION", "OWNER", "REASON");
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
	store_close(&st);
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

/* The comparison table as text (runbook: Performance Verification's table). */
static void print_table(json_t *t)
{
	json_t *rows = table_rows(t);
	static const char *const cols[] = { "metric", "baseline", "current", "delta", "status" };
	static const char *const heads[] = { "Metric", "Baseline", "Current", "Delta", "Status" };
	size_t i;
	json_t *row;

	if (!json_is_array(rows)) {
		char *s = json_dumps(t, JSON_COMPACT);
		printf("  %s\n", s ? s : "");
		free(s);
		return;
	}
	printf("  %-16s | %-10s | %-10s | %-8s | %s\n", heads[0], heads[1], heads[2], heads[3], heads[4]);
	printf("  ---------------- | ---------- | ---------- | -------- | ------\n");
	json_array_foreach(rows, i, row) {
		char cells[5][64];
		for (int k = 0; k < 5; k++) {
			json_t *v = json_object_get(row, cols[k]);
			if (!v) /* accept capitalised keys as the runbook prints them */
				v = json_object_get(row, heads[k]);
			if (json_is_string(v))
				snprintf(cells[k], sizeof(cells[k]), "%s", json_string_value(v));
			else if (json_is_number(v))
				snprintf(cells[k], sizeof(cells[k]), "%g", json_number_value(v));
			else
				snprintf(cells[k], sizeof(cells[k]), "-");
		}
		printf("  %-16s | %-10s | %-10s | %-8s | %s\n", cells[0], cells[1], cells[2], cells[3], cells[4]);
	}
}

int cmd_show(int argc, char **argv, struct cli_ctx *ctx)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	struct store st = { 0 };
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
	int c, rc, r, have_em = 0;

	while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			if (cli_parse_output(ctx, optarg))
				return EXIT_USAGE;
			break;
		default:
			return cli_usage_error(ctx, "show", "bad option or missing value (see above)");
		}
	}
	if (optind + 1 != argc)
		return cli_usage_error(ctx, "show", "give one DEPLOYMENT id");
	if (records_parse_id("deployment", argv[optind], &id))
		return EXIT_USAGE;
	if ((rc = records_store_open_reader(ctx, &st)) != EXIT_OK)
		return rc;
	if ((r = records_get(&st, id, &d, &err)) || (r = records_transitions(&st, id, &tr, &ntr, &err)) ||
	    (r = records_last_analysis(&st, id, &verdict, &reason, &table, &an_at, &err)) ||
	    (r = approvals_load(&st, id, &ap, &err)) || (r = notify_list(&st, id, 0, &msgs, &nmsgs, &err)) ||
	    (r = incident_list(&st, NULL, 0, &inc, &ninc, &err))) {
		cli_error("%s", err.buf);
		rc = r == SW_ENOTFOUND ? EXIT_USAGE : EXIT_RUNTIME;
		goto out;
	}
	r = emergency_record_get(&st, id, &em, &err);
	if (r < 0) {
		cli_error("%s", err.buf);
		rc = EXIT_RUNTIME;
		goto out;
	}
	have_em = r == 0;

	if (ctx->output == OUTPUT_JSON) {
		json_t *j = json_object(), *tl = json_array(), *apj = json_array(), *mj = json_array(),
		       *ij = json_array();
		char at[RFC3339_BUFSZ];
		json_object_set_new(j, "deployment", record_json(&d));
		for (size_t i = 0; i < ntr; i++) {
			json_t *t = json_object();
			set_time(t, "at", tr[i].at_ms);
			set_str(t, "from", tr[i].from_state);
			set_str(t, "to", tr[i].to_state);
			json_object_set_new(t, "step", json_integer(tr[i].step));
			json_object_set_new(t, "weight", json_real(tr[i].weight));
			set_str(t, "reason", tr[i].reason);
			if (tr[i].detail_json) {
				json_t *dj = json_loads(tr[i].detail_json, 0, NULL);
				json_object_set_new(t, "detail", dj ? dj : json_string(tr[i].detail_json));
			}
			json_array_append_new(tl, t);
		}
		json_object_set_new(j, "timeline", tl);
		if (table) {
			json_t *tj = json_loads(table, 0, NULL);
			json_t *cmp = json_object(), *rows = tj ? table_rows(tj) : NULL;
			set_time(cmp, "at", an_at);
			set_str(cmp, "verdict", verdict);
			set_str(cmp, "reason", reason);
			json_object_set(cmp, "table", rows ? rows : json_null());
			json_object_set_new(cmp, "analysis", tj ? tj : json_string(table));
			json_object_set_new(j, "comparison", cmp);
		} else {
			json_object_set_new(j, "comparison", json_null());
		}
		for (size_t i = 0; i < ap.n; i++)
			json_array_append_new(apj, json_pack("{s:I, s:s, s:s, s:s, s:s, s:s?, s:s?}", "id",
							     (json_int_t)ap.v[i].id, "role", ap.v[i].role, "by",
							     ap.v[i].approver, "decision",
							     ap.v[i].decision == APPROVAL_APPROVED ? "approved" : "rejected",
							     "at", time_format_rfc3339(ap.v[i].at_ms, at), "comment",
							     ap.comments[i], "identity", ap.identities[i]));
		json_object_set_new(j, "approvals", apj);
		if (have_em) {
			json_t *e = json_pack("{s:s, s:s, s:s?}", "reason", em.reason, "requested_by", em.requested_by,
					      "approver", em.approver);
			set_time(e, "created_at", em.created_ms);
			set_time(e, "approved_at", em.approved_ms ? em.approved_ms : RECORD_TIME_NONE);
			set_time(e, "ended_at", em.ended_ms ? em.ended_ms : RECORD_TIME_NONE);
			json_object_set_new(j, "emergency", e);
		} else {
			json_object_set_new(j, "emergency", json_null());
		}
		for (size_t i = 0; i < ninc; i++)
			if (inc[i].deployment_id == id)
				json_array_append_new(ij, json_pack("{s:I, s:s, s:s}", "id", (json_int_t)inc[i].id, "title",
								    inc[i].title, "state",
								    inc[i].resolved_ms ? "resolved" : "open"));
		json_object_set_new(j, "incidents", ij);
		for (size_t i = nmsgs; i-- > 0;) {
			json_t *m = json_pack("{s:I, s:s, s:s, s:s, s:s, s:i}", "message_id",
					      (json_int_t)msgs[i].message_id, "kind", msgs[i].kind, "channels",
					      msgs[i].channels, "sink", msgs[i].sink, "state", msgs[i].state, "attempts",
					      msgs[i].attempts);
			set_time(m, "created_at", msgs[i].created_ms);
			set_time(m, "sent_at", msgs[i].sent_ms ? msgs[i].sent_ms : RECORD_TIME_NONE);
			set_str(m, "last_error", msgs[i].last_error);
			json_array_append_new(mj, m);
		}
		json_object_set_new(j, "messages", mj);
		cli_print_json(j);
		goto out;
	}

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
	store_close(&st);
	return rc;
}
