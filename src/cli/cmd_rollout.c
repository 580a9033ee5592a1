/*
 * cmd_rollout.c - the human controls and status of rollouts
 * (docs/engine.md, "Human controls"): `slipway promote|pause|resume|abort|retry|undo DEPLOYMENT` record an
 * intent that the controller applies on its next tick (DESIGN.md:
 * intents, not inline work); `slipway status` shows deployments, their
 * transitions with reasons, pending intents and the last analysis table.
 */
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/records_util.h"
#include "cli/vocab.h"
#include "cli/watch.h"
#include "cli/api_client.h"
#include "server/documents.h"
#include "adapters/records.h"
#include "adapters/audit.h"
#include "base/fmt.h"
#include "adapters/deployment_store.h"
#include "adapters/sql.h"
#include "adapters/store.h"
#include "adapters/notify_config.h"
#include "controller/db_ops.h"
#include "core/deployment.h"
#include "base/alloc.h"
#include "base/err.h"
#include "base/strbuf.h"
#include "base/timeutil.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define INTENT_USAGE(name, extra, text)                                                  \
	"usage: slipway " name " DEPLOYMENT" extra " [--by NAME] [-o json]\n"              \
	"\n" text "\n"                                                                     \
	"DEPLOYMENT is a deployment id or a service name (its current deployment).\n"      \
	"The intent is recorded in the store; the controller applies it on its next tick\n" \
	"and the result shows in 'slipway status DEPLOYMENT'.  --by names the person\n"    \
	"(default: the caller, $SLIPWAY_USER else the OS user, as for approvals).\n"

const char usage_promote[] = INTENT_USAGE("promote", " [--full]",
	"Move a rollout to its next step now (also lifts a pause); with --full, straight to\n"
	"100%.  During monitoring: end the monitoring period now (succeeded).");
const char usage_pause[] = INTENT_USAGE("pause", "",
	"Hold a rollout at its current weight.  Analysis continues: the immediate and the\n"
	"type's rollback criteria still roll back.");
const char usage_resume[] = INTENT_USAGE("resume", "", "Continue a paused rollout on its schedule.");
const char usage_abort[] = INTENT_USAGE("abort", "",
	"Roll back now: all traffic to the stable revision, the new revision stopped.");
const char usage_retry[] = INTENT_USAGE("retry", "",
	"After a rollback or failure: deploy the same revision again (a new deployment).");
const char usage_undo[] = INTENT_USAGE("undo", " [--to-revision N]",
	"Go back: a deployment in flight is rolled back (like abort); a finished one is\n"
	"followed by a new deployment of the previous revision, or of revision N, with the\n"
	"full strategy (kubectl rollout undo [--to-revision=N]).");

/* The intent recorded by the controller over the local socket (POST /api/v1/deployments/REF/KIND). */
static int intent_over_socket(struct cli_ctx *ctx, struct cli_api *api, struct store *st, const char *ref,
			      const struct intent *it, const char *name)
{
	struct strbuf path = STRBUF_INIT, err = STRBUF_INIT;
	json_t *body = json_object(), *doc = NULL;
	long status = 0;
	int r, rc = EXIT_OK;

	if (it->full)
		json_object_set_new(body, "full", json_true());
	if (it->to_revision)
		json_object_set_new(body, "to_revision", json_integer(it->to_revision));
	strbuf_addf(&path, "deployments/%s/%s", ref, name);
	r = cli_api_call(api, "POST", path.buf, body, &status, &doc, &err);
	cli_api_close(api);
	if (r < 0) {
		cli_error("%s", err.buf);
		rc = cli_exit(r);
	} else if (status != 202) {
		rc = cli_api_problem(status, doc);
	} else if (ctx->output == OUTPUT_JSON) {
		cli_print_json(json_incref(doc));
	} else {
		struct deployment d;
		int64_t did = json_integer_value(json_object_get(doc, "deployment_id"));
		strbuf_reset(&err);
		if (deployment_store_load(st, did, &d, NULL, &err) < 0) {
			cli_error("%s", err.buf);
			rc = cli_exit(SW_ESTORE);
		} else {
			printf("recorded intent %lld: %s%s deployment %lld (%s %s, %s, step %d at %.4g%%) as '%s' by the "
			       "controller; it applies it on its next tick\n",
			       (long long)json_integer_value(json_object_get(doc, "id")), name, it->full ? " --full" : "",
			       (long long)d.id, d.service, d.version, deployment_state_name(d.state), d.step, d.weight,
			       json_string_value(json_object_get(doc, "requested_by")));
		}
	}
	json_decref(doc);
	json_decref(body);
	strbuf_release(&path);
	strbuf_release(&err);
	return rc;
}

static int record_intent(int argc, char **argv, struct cli_ctx *ctx, enum intent_kind kind)
{
	const char *name = intent_kind_name(kind), *by = NULL, *to_rev = NULL;
	int full = 0;
	const struct cli_option opts[] = {
		CLI_FLAG("full", 0, &full),
		CLI_STRING("to-revision", 0, &to_rev),
		CLI_STRING("by", 0, &by),
		CLI_OPTIONS_END,
	};
	struct intent it;
	struct store *st;
	struct deployment d;
	struct strbuf err = STRBUF_INIT;
	char **args;
	int nargs, rc = EXIT_OK, r, beside_note = 0;

	memset(&it, 0, sizeof(it));
	it.kind = kind;
	if ((rc = cli_parse(ctx, argc, argv, opts, &args, &nargs)) != EXIT_OK)
		return rc;
	if (full && kind != INTENT_PROMOTE)
		return cli_usage_error(ctx, name, "--full applies to promote only");
	it.full = full;
	if (to_rev) {
		char *end;
		long n;
		if (kind != INTENT_UNDO)
			return cli_usage_error(ctx, name, "--to-revision applies to undo only");
		errno = 0;
		n = strtol(to_rev, &end, 10);
		if (errno || *end || n < 1 || n > 1000000000L)
			return cli_usage_error(ctx, name, "--to-revision must be a revision number >= 1, not '%s'", to_rev);
		it.to_revision = (int)n;
	}
	if (by && *by && strlen(by) >= sizeof(it.requested_by))
		return cli_usage_error(ctx, name, "--by '%s' is longer than %zu bytes", by, sizeof(it.requested_by) - 1);
	if ((rc = cli_store(ctx, &st)) != EXIT_OK)
		return rc;
	if (!(by && *by) && strspn(args[0], "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") ==
	    strlen(args[0])) {
		/* a controller answering on the local socket records it, as the OS user it authenticated */
		struct cli_api api;
		int beside, up = cli_api_for_person(ctx, &api, &beside);
		if (up == 1)
			return intent_over_socket(ctx, &api, st, args[0], &it, name);
		if (beside)
			beside_note = 1;
	}
	{
		const char *identity = NULL, *caller = cli_caller(&identity);
		identity = cli_identity_beside(identity, beside_note);
		/* --by names the person acting when it is not the caller (an on-call bot
		 * relaying a request); without it, the one identity rule */
		struct intent_request rq = { .kind = kind, .full = it.full, .to_revision = it.to_revision,
					     .requested_by = by && *by ? by : caller, .identity = identity,
					     .relayed_by = by && *by ? caller : NULL, .now_ms = cli_now_ms() };
		json_t *doc = NULL;
		if ((r = doc_record_intent(st, args[0], &rq, &doc, &d, &err)) < 0) {
			cli_error("%s", err.buf);
			rc = cli_exit(r);
			goto out;
		}
		if (ctx->output == OUTPUT_JSON) {
			cli_print_json(doc);
		} else {
			printf("recorded intent %lld: %s%s deployment %lld (%s %s, %s, step %d at %.4g%%); the controller "
			       "applies it on its next tick\n", (long long)json_integer_value(json_object_get(doc, "id")),
			       name, it.full ? " --full" : "", (long long)d.id, d.service, d.version,
			       deployment_state_name(d.state), d.step, d.weight);
			json_decref(doc);
		}
		/* a database's migration waiting at the gate has no process driving it (`db migrate` exits
		   while it waits): its intents are applied here (docs/databases.md) */
		if (!strncmp(d.service, "db.", 3)) {
			struct notify_config ncfg;
			struct strbuf reason = STRBUF_INIT;
			int have = records_notify_config(ctx, &ncfg) >= 0;
			strbuf_reset(&err);
			r = db_pending_intents(st, d.id, have ? &ncfg : NULL, NULL, &reason, &err);
			if (r < 0) {
				cli_error("%s", err.buf);
				rc = cli_exit(r);
			} else if (r == 1 && ctx->output != OUTPUT_JSON) {
				printf("migration %lld (%s %s): failed: %s\n", (long long)d.id, d.service, d.version, reason.buf);
			}
			if (have)
				notify_config_release(&ncfg);
			strbuf_release(&reason);
		}
	}
out:
	strbuf_release(&err);
	return rc;
}

int cmd_promote(int argc, char **argv, struct cli_ctx *ctx) { return record_intent(argc, argv, ctx, INTENT_PROMOTE); }
int cmd_pause(int argc, char **argv, struct cli_ctx *ctx) { return record_intent(argc, argv, ctx, INTENT_PAUSE); }
int cmd_resume(int argc, char **argv, struct cli_ctx *ctx) { return record_intent(argc, argv, ctx, INTENT_RESUME); }
int cmd_abort(int argc, char **argv, struct cli_ctx *ctx) { return record_intent(argc, argv, ctx, INTENT_ABORT); }
int cmd_retry(int argc, char **argv, struct cli_ctx *ctx) { return record_intent(argc, argv, ctx, INTENT_RETRY); }
int cmd_undo(int argc, char **argv, struct cli_ctx *ctx) { return record_intent(argc, argv, ctx, INTENT_UNDO); }

/* ---- status ---- */

const char usage_status[] =
	"usage: slipway status [SERVICE|DEPLOYMENT] [--watch] [-o json]\n"
	"\n"
	"Without an argument: the most recent deployments (active ones first).  With a\n"
	"service name: that service's deployments and the details of the latest.  With a\n"
	"deployment id: its state, step and weight, failed checks, every transition with\n"
	"its reason, pending intents, and the last analysis with the runbook's comparison\n"
	"table (Metric | Baseline | Current | Delta | Status).\n"
	"\n"
	"--watch follows it as it moves: every transition as it happens, with step,\n"
	"weight and time left (the step's hold or the monitoring period), until the\n"
	"deployment ends or waits for a person; exit 0 succeeded, 1 rolled back or\n"
	"failed, 4 paused or waiting at the gate, 130 Ctrl-C.  SERVICE: its current\n"
	"deployment (else its latest); no argument: every deployment's transitions\n"
	"from now on, until Ctrl-C.  It follows the controller's event stream when a\n"
	"'slipway serve' answers on the local socket, else it reads the store.\n"
	"-o json: one JSON document a line (NDJSON), the stream's event with left_ms.\n";

static int list_ids(struct store *st, const char *service, int64_t **ids, size_t *n, struct strbuf *err)
{
	_cleanup_sql_ struct sql_stmt *q = NULL;
	int64_t *v = NULL;
	size_t nr = 0, alloc = 0;
	int r;

	if ((r = sql_prepare(st, &q, service ?
			       "SELECT id FROM deployments WHERE service = ? ORDER BY id DESC LIMIT 50" :
			       "SELECT id FROM deployments ORDER BY state IN ('succeeded', 'rolled_back', 'failed'), "
			       "id DESC LIMIT 50", err)) < 0)
		return r;
	if (service)
		sql_bind_text(q, 1, service);
	while ((r = sql_step(q, NULL)) == SQL_ROW) {
		ALLOC_GROW(v, nr + 1, alloc);
		v[nr++] = sql_column_int64(q, 0);
	}
	*ids = v;
	*n = nr;
	return 0;
}

static void print_row(const struct deployment *d)
{
	char scaled[48] = "";
	if (deployment_is_scaled(d))
		snprintf(scaled, sizeof(scaled), "(time scale %gx) ", d->time_scale);
	printf("%-5lld %-16s %-10s %-12s %4d %-21s %-12s %4d %6.4g%% %3d  %s%s\n", (long long)d->id, d->service, d->env,
	       d->version, d->revision, d->type, deployment_state_name(d->state), d->step, d->weight, d->failed_checks,
	       scaled, d->reason);
}

/* a number of the stored analysis JSON, "-" when absent */
static const char *fmt_num(const json_t *v, char buf[32])
{
	if (json_is_number(v))
		snprintf(buf, 32, "%.3g", json_number_value(v));
	else
		snprintf(buf, 32, "-");
	return buf;
}

/* One deployment in detail, as text; -o json prints doc_deployment_detail()'s document instead. */
static int show_detail(struct store *st, int64_t id)
{
	char b0[32], b1[32], b2[32], b3[32];
	_cleanup_sql_ struct sql_stmt *t = NULL, *in = NULL, *an = NULL;
	struct deployment d;
	struct strbuf err = STRBUF_INIT;
	int r;

	if ((r = deployment_store_load(st, id, &d, NULL, &err)) < 0) {
		cli_error("%s", err.buf);
		strbuf_release(&err);
		return cli_exit(r);
	}
	if ((r = sql_prepare(st, &t, "SELECT at_ms, COALESCE(from_state, ''), to_state, step, weight, reason "
			       "FROM transitions WHERE deployment_id = ? ORDER BY id", &err)) < 0 ||
	    (r = sql_prepare(st, &in, "SELECT id, kind, COALESCE(arg, ''), COALESCE(requested_by, ''), created_ms, "
			       "applied_ms, COALESCE(result, '') FROM intents WHERE deployment_id = ? ORDER BY id", &err)) < 0 ||
	    (r = sql_prepare(st, &an, "SELECT table_json FROM analysis_results WHERE deployment_id = ? ORDER BY id "
			       "DESC LIMIT 1", &err)) < 0) {
		cli_error("%s", err.buf);
		strbuf_release(&err);
		return cli_exit(r);
	}
	printf("deployment %lld: %s %s (revision %d) in %s, type %s, requested by %s\n", (long long)d.id, d.service,
	       d.version, d.revision, d.env, d.type, d.requested_by);
	printf("state: %s, step %d, weight %.4g%%, failed checks %d\n", deployment_state_name(d.state), d.step, d.weight,
	       d.failed_checks);
	printf("reason: %s\n", d.reason);
	if (deployment_is_scaled(&d))
		printf("time scale: %gx (holds, intervals and monitoring ran %g times faster than the wall clock; every "
		       "time shown is wall time)\n", d.time_scale, d.time_scale);
	if (!d.from_version[0])
		printf("first release: no earlier revision to compare it with or return to (docs/engine.md)\n");
	printf("transitions:\n");
	sql_bind_int64(t, 1, id);
	while (sql_step(t, NULL) == SQL_ROW) {
		char buf[RFC3339_BUFSZ];
		printf("  %s  %s -> %s (step %d, %.4g%%): %s\n", time_format_rfc3339(sql_column_int64(t, 0), buf),
		       sql_column_text(t, 1), sql_column_text(t, 2),
		       (int)sql_column_int64(t, 3), sql_column_double(t, 4), sql_column_text(t, 5));
	}
	sql_bind_int64(in, 1, id);
	for (int first = 1; sql_step(in, NULL) == SQL_ROW; first = 0) {
		const char *arg = sql_column_text(in, 2);
		if (first)
			printf("intents:\n");
		printf("  %lld %s%s%s by %s: %s\n", (long long)sql_column_int64(in, 0),
		       sql_column_text(in, 1), *arg ? " " : "", arg,
		       sql_column_text(in, 3),
		       !sql_column_is_null(in, 5) ? sql_column_text(in, 6) : "pending");
	}
	sql_bind_int64(an, 1, id);
	if (sql_step(an, NULL) == SQL_ROW && sql_column_text(an, 0)) {
		json_t *analysis = json_loads(sql_column_text(an, 0), 0, NULL);
		if (json_is_object(analysis)) {
			json_t *sq = json_object_get(analysis, "step_question"), *o;
			size_t i;
			printf("last analysis: %s: %s\n", json_string_value(json_object_get(analysis, "verdict")),
			       json_string_value(json_object_get(analysis, "reason")));
			/* the sequential judge's evidence per test (docs/judge.md) */
			json_array_foreach(json_object_get(analysis, "checks"), i, o) {
				json_t *e = json_object_get(o, "e_value"), *iv = json_object_get(o, "interval_pct");
				const char *res = json_string_value(json_object_get(o, "result"));
				/* a test with no canary request has nothing to pass on (docs/judge.md) */
				int no_data = !json_integer_value(json_object_get(o, "requests")) && res && !strcmp(res, "pass");
				if (!e)
					continue;
				printf("  %-30s %-5s %s%% [%s-%s%%], e-value %s of %g, %lld %s requests\n",
				       json_string_value(json_object_get(o, "name")),
				       no_data ? "no data" : res,
				       fmt_num(json_object_get(o, "estimate_pct"), b0), fmt_num(json_array_get(iv, 0), b1),
				       fmt_num(json_array_get(iv, 1), b2), json_is_string(e) ? "inf" : fmt_num(e, b3),
				       json_number_value(json_object_get(o, "fires_at")),
				       (long long)json_integer_value(json_object_get(o, "requests")),
				       d.from_version[0] ? "canary" : "first-release");
			}
			if (json_is_object(sq))
				printf("step question (%s): %s\n", json_is_true(json_object_get(sq, "answered")) ? "answered" :
				       "open", json_string_value(json_object_get(sq, "text")));
			cli_print_comparison(json_object_get(analysis, "table"), "  ");
			cli_print_queries(json_object_get(analysis, "queries"), "  ");
		}
		json_decref(analysis);
	}
	strbuf_release(&err);
	return EXIT_OK;
}

/* status --watch [ID|SERVICE]: follow it (watch.h), over the controller's stream when it answers */
static int status_watch(struct cli_ctx *ctx, struct store *st, const char *ref)
{
	struct watch_result res;
	struct strbuf err = STRBUF_INIT;
	int64_t id = 0;
	int r;

	memset(&res, 0, sizeof(res));
	if (ref && (r = deployment_store_resolve(st, ref, 0, &id, &err)) < 0) {
		cli_error("%s", err.buf);
		strbuf_release(&err);
		return cli_exit(r);
	}
	r = watch_follow(ctx, id, 1, stdout, &res, &err);
	if (r >= 0 && res.lost && !res.interrupted) {
		/* the controller went away: go on reading the store */
		if (ctx->output != OUTPUT_JSON)
			fprintf(stderr, "the controller's event stream ended; following the store\n");
		r = watch_follow(ctx, id, 0, stdout, &res, &err);
	}
	if (r < 0) {
		cli_error("%s", err.len ? err.buf : slipway_strerror(r));
		strbuf_release(&err);
		return cli_exit(r);
	}
	strbuf_release(&err);
	if (!id)
		return res.interrupted ? EXIT_INTERRUPTED : EXIT_OK;
	if (ctx->output != OUTPUT_JSON)
		printf("deployment #%lld: %s%s: %s\n", (long long)id, deployment_state_name(res.state),
		       res.interrupted ? " (stopped following)" : res.waiting ? " (waiting for a person)" : "", res.reason);
	return watch_exit(&res);
}

int cmd_status(int argc, char **argv, struct cli_ctx *ctx)
{
	struct store *st;
	struct strbuf err = STRBUF_INIT;
	const char *ref = NULL;
	int64_t *ids = NULL, id;
	size_t n = 0;
	char **args;
	int nargs, rc, r;
	json_t *out = NULL, *items = NULL;

	int watch = 0;
	const struct cli_option opts[] = {
		CLI_FLAG("watch", 0, &watch),
		CLI_OPTIONS_END,
	};

	if ((rc = cli_parse(ctx, argc, argv, opts, &args, &nargs)) != EXIT_OK)
		return rc;
	if (nargs)
		ref = args[0];
	if ((rc = cli_store(ctx, &st)) != EXIT_OK)
		return rc;
	if (watch)
		return status_watch(ctx, st, ref);
	if (ref && strspn(ref, "0123456789") == strlen(ref)) {
		/* a deployment id: its detail */
		if ((r = deployment_store_resolve(st, ref, 0, &id, &err)) < 0) {
			cli_error("%s", err.buf);
			rc = cli_exit(r);
		} else if (ctx->output == OUTPUT_JSON) {
			if ((r = doc_deployment_detail(st, id, &out, &err)) < 0) {
				cli_error("%s", err.buf);
				rc = cli_exit(r);
			} else {
				cli_print_json(out);
			}
		} else {
			rc = show_detail(st, id);
		}
		goto out;
	}
	if ((r = list_ids(st, ref, &ids, &n, &err)) < 0) {
		cli_error("%s", err.buf);
		rc = cli_exit(r);
		goto out;
	}
	if (ref && !n) {
		cli_error("no deployments of '%s'; see 'slipway status'", ref);
		rc = cli_exit(SW_ENOTFOUND);
		goto out;
	}
	/* a list, newest and active first; with a service name, the latest in detail */
	if (ctx->output == OUTPUT_JSON) {
		out = cli_doc("Status");
		items = json_array();
	} else {
		printf("%-5s %-16s %-10s %-12s %4s %-21s %-12s %4s %7s %3s  %s\n", "ID", "SERVICE", "ENV", "VERSION",
		       "REV", "TYPE", "STATE", "STEP", "WEIGHT", "FC", "REASON");
	}
	for (size_t i = 0; i < n; i++) {
		if (items) {
			struct deployment_record d = { 0 };
			if (records_get(st, ids[i], &d, &err) == 0)
				json_array_append_new(items, cli_deployment_json(&d));
			deployment_record_release(&d);
		} else {
			struct deployment d;
			if (deployment_store_load(st, ids[i], &d, NULL, &err) == 0)
				print_row(&d);
		}
	}
	if (out) {
		json_t *detail = NULL;
		json_object_set_new(out, "deployments", items);
		if (ref && (r = doc_deployment_detail(st, ids[0], &detail, &err)) < 0) {
			cli_error("%s", err.buf);
			rc = cli_exit(r);
			json_decref(out);
			goto out;
		}
		json_object_set_new(out, "latest", detail ? detail : json_null());
		cli_print_json(out);
	} else if (ref) {
		printf("\n");
		rc = show_detail(st, ids[0]);
	}
out:
	free(ids);
	strbuf_release(&err);
	return rc;
}
