/*
 * cmd_rollout.c - the human controls and status of rollouts
 * (docs/engine.md, "Human controls"): `slipway promote|pause|resume|abort|retry|undo DEPLOYMENT` record an
 * intent that the controller applies on its next tick (DESIGN.md:
 * intents, not inline work); `slipway status` shows deployments, their
 * transitions with reasons, pending intents and the last analysis table.
 */
#include "cli/cli.h"
#include "cli/commands.h"
#include "adapters/deployment_store.h"
#include "adapters/store.h"
#include "core/deployment.h"
#include "base/alloc.h"
#include "base/err.h"
#include "base/strbuf.h"
#include "base/timeutil.h"

#include <errno.h>
#include <getopt.h>
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
	"($SLIPWAY_USER, else $USER).\n"

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

static const char *requester(const char *by)
{
	const char *u = by;
	if (!u || !*u)
		u = getenv("SLIPWAY_USER");
	if (!u || !*u)
		u = getenv("USER");
	return u && *u ? u : "unknown";
}

static int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int open_store(struct cli_ctx *ctx, struct store *st, int reader)
{
	struct strbuf err = STRBUF_INIT;
	if ((reader ? store_open_reader(st, ctx->state_dir, &err) : store_open(st, ctx->state_dir, &err)) < 0 ||
	    deployment_store_migrate(st, &err) < 0) {
		cli_error("%s", err.buf);
		strbuf_release(&err);
		store_close(st);
		return -1;
	}
	strbuf_release(&err);
	return 0;
}

static int record_intent(int argc, char **argv, struct cli_ctx *ctx, enum intent_kind kind)
{
	static const struct option opts[] = {
		{ "full", no_argument, NULL, 'f' },
		{ "to-revision", required_argument, NULL, 'r' },
		{ "by", required_argument, NULL, 'b' },
		{ "output", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	const char *name = intent_kind_name(kind), *by = NULL;
	struct intent it;
	struct store st = { 0 };
	struct deployment d;
	struct strbuf err = STRBUF_INIT;
	int64_t id, intent_id;
	int c, rc = EXIT_OK;

	memset(&it, 0, sizeof(it));
	it.kind = kind;
	while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (kind != INTENT_PROMOTE)
				return cli_usage_error(ctx, name, "--full applies to promote only");
			it.full = 1;
			break;
		case 'r': {
			char *end;
			long n;
			if (kind != INTENT_UNDO)
				return cli_usage_error(ctx, name, "--to-revision applies to undo only");
			errno = 0;
			n = strtol(optarg, &end, 10);
			if (errno || *end || n < 1 || n > 1000000000L)
				return cli_usage_error(ctx, name, "--to-revision must be a revision number >= 1, not '%s'",
						       optarg);
			it.to_revision = (int)n;
			break;
		}
		case 'b': by = optarg; break;
		case 'o':
			if (cli_parse_output(ctx, optarg) < 0)
				return EXIT_USAGE;
			break;
		default:
			return cli_usage_error(ctx, name, "bad option or missing value (see above)");
		}
	}
	if (optind + 1 != argc)
		return cli_usage_error(ctx, name, "expected one DEPLOYMENT (an id or a service name)");
	if (open_store(ctx, &st, 0) < 0)
		return EXIT_RUNTIME;
	if (deployment_store_resolve(&st, argv[optind], kind != INTENT_RETRY && kind != INTENT_UNDO, &id, &err) < 0 ||
	    deployment_store_load(&st, id, &d, NULL, &err) < 0) {
		cli_error("%s", err.buf);
		rc = EXIT_USAGE;
		goto out;
	}
	if (deployment_state_is_final(d.state) && kind != INTENT_RETRY && kind != INTENT_UNDO) {
		cli_error("deployment %lld (%s %s) is %s; nothing to %s", (long long)d.id, d.service, d.version,
			  deployment_state_name(d.state), name);
		rc = EXIT_NO;
		goto out;
	}
	snprintf(it.requested_by, sizeof(it.requested_by), "%s", requester(by));
	it.created_ms = wall_ms();
	if (deployment_store_add_intent(&st, id, &it, &intent_id, &err) < 0) {
		cli_error("%s", err.buf);
		rc = EXIT_RUNTIME;
		goto out;
	}
	if (ctx->output == OUTPUT_JSON) {
		json_t *j = json_object();
		json_object_set_new(j, "intent_id", json_integer(intent_id));
		json_object_set_new(j, "deployment", json_integer(d.id));
		json_object_set_new(j, "kind", json_string(name));
		json_object_set_new(j, "full", json_boolean(it.full));
		json_object_set_new(j, "to_revision", it.to_revision ? json_integer(it.to_revision) : json_null());
		json_object_set_new(j, "requested_by", json_string(it.requested_by));
		json_object_set_new(j, "state", json_string(deployment_state_name(d.state)));
		cli_print_json(j);
	} else {
		printf("recorded intent %lld: %s%s deployment %lld (%s %s, %s, step %d at %.4g%%); the controller "
		       "applies it on its next tick\n", (long long)intent_id, name, it.full ? " --full" : "",
		       (long long)d.id, d.service, d.version, deployment_state_name(d.state), d.step, d.weight);
	}
out:
	strbuf_release(&err);
	store_close(&st);
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
	"usage: slipway status [SERVICE|DEPLOYMENT] [-o json]\n"
	"\n"
	"Without an argument: the most recent deployments (active ones first).  With a\n"
	"service name: that service's deployments and the details of the latest.  With a\n"
	"deployment id: its state, step and weight, failed checks, every transition with\n"
	"its reason, pending intents, and the last analysis with the runbook's comparison\n"
	"table (Metric | Baseline | Current | Delta | Status).\n";

static json_t *deployment_json(const struct deployment *d)
{
	json_t *j = json_object();
	char buf[RFC3339_BUFSZ];
	json_object_set_new(j, "id", json_integer(d->id));
	json_object_set_new(j, "service", json_string(d->service));
	json_object_set_new(j, "env", json_string(d->env));
	json_object_set_new(j, "version", json_string(d->version));
	json_object_set_new(j, "revision", json_integer(d->revision));
	json_object_set_new(j, "from_version", json_string(d->from_version));
	json_object_set_new(j, "type", json_string(d->type));
	json_object_set_new(j, "state", json_string(deployment_state_name(d->state)));
	json_object_set_new(j, "step", json_integer(d->step));
	json_object_set_new(j, "weight", json_real(d->weight));
	json_object_set_new(j, "failed_checks", json_integer(d->failed_checks));
	json_object_set_new(j, "reason", json_string(d->reason));
	json_object_set_new(j, "requested_by", json_string(d->requested_by));
	json_object_set_new(j, "created", json_string(time_format_rfc3339(d->created_ms, buf)));
	json_object_set_new(j, "state_since", json_string(time_format_rfc3339(d->state_since_ms, buf)));
	return j;
}

static int list_ids(struct store *st, const char *service, int64_t **ids, size_t *n, struct strbuf *err)
{
	_cleanup_stmt_ sqlite3_stmt *q = NULL;
	int64_t *v = NULL;
	size_t nr = 0, alloc = 0;
	int r;

	if ((r = store_prepare(st, &q, service ?
			       "SELECT id FROM deployments WHERE service = ? ORDER BY id DESC LIMIT 50" :
			       "SELECT id FROM deployments ORDER BY state IN ('succeeded', 'rolled_back', 'failed'), "
			       "id DESC LIMIT 50", err)) < 0)
		return r;
	if (service)
		sqlite3_bind_text(q, 1, service, -1, SQLITE_STATIC);
	while ((r = sqlite3_step(q)) == SQLITE_ROW) {
		ALLOC_GROW(v, nr + 1, alloc);
		v[nr++] = sqlite3_column_int64(q, 0);
	}
	*ids = v;
	*n = nr;
	return 0;
}

static void print_row(const struct deployment *d)
{
	printf("%-5lld %-16s %-10s %-12s %4d %-21s %-12s %4d %6.4g%% %3d  %s\n", (long long)d->id, d->service, d->env,
	       d->version, d->revision, d->type, deployment_state_name(d->state), d->step, d->weight, d->failed_checks,
	       d->reason);
}

static int show_detail(struct store *st, int64_t id, struct cli_ctx *ctx, json_t *into)
{
	_cleanup_stmt_ sqlite3_stmt *t = NULL, *in = NULL, *an = NULL;
	struct deployment d;
	struct strbuf err = STRBUF_INIT;
	json_t *j = NULL, *trs = json_array(), *ins = json_array(), *analysis = json_null();
	int r;

	if ((r = deployment_store_load(st, id, &d, NULL, &err)) < 0) {
		cli_error("%s", err.buf);
		strbuf_release(&err);
		json_decref(trs);
		json_decref(ins);
		return EXIT_USAGE;
	}
	store_prepare(st, &t, "SELECT at_ms, COALESCE(from_state, ''), to_state, step, weight, reason FROM transitions "
		      "WHERE deployment_id = ? ORDER BY id", &err);
	store_prepare(st, &in, "SELECT id, kind, COALESCE(arg, ''), COALESCE(requested_by, ''), created_ms, "
		      "applied_ms, COALESCE(result, '') FROM intents WHERE deployment_id = ? ORDER BY id", &err);
	store_prepare(st, &an, "SELECT table_json FROM analysis_results WHERE deployment_id = ? ORDER BY id DESC LIMIT 1",
		      &err);
	if (!t || !in || !an) {
		cli_error("%s", err.buf);
		strbuf_release(&err);
		json_decref(trs);
		json_decref(ins);
		return EXIT_RUNTIME;
	}
	sqlite3_bind_int64(t, 1, id);
	while (sqlite3_step(t) == SQLITE_ROW) {
		char buf[RFC3339_BUFSZ];
		json_t *o = json_object();
		json_object_set_new(o, "at", json_string(time_format_rfc3339(sqlite3_column_int64(t, 0), buf)));
		json_object_set_new(o, "from", json_string((const char *)sqlite3_column_text(t, 1)));
		json_object_set_new(o, "to", json_string((const char *)sqlite3_column_text(t, 2)));
		json_object_set_new(o, "step", json_integer(sqlite3_column_int(t, 3)));
		json_object_set_new(o, "weight", json_real(sqlite3_column_double(t, 4)));
		json_object_set_new(o, "reason", json_string((const char *)sqlite3_column_text(t, 5)));
		json_array_append_new(trs, o);
	}
	sqlite3_bind_int64(in, 1, id);
	while (sqlite3_step(in) == SQLITE_ROW) {
		json_t *o = json_object();
		json_object_set_new(o, "id", json_integer(sqlite3_column_int64(in, 0)));
		json_object_set_new(o, "kind", json_string((const char *)sqlite3_column_text(in, 1)));
		json_object_set_new(o, "arg", json_string((const char *)sqlite3_column_text(in, 2)));
		json_object_set_new(o, "requested_by", json_string((const char *)sqlite3_column_text(in, 3)));
		json_object_set_new(o, "applied", json_boolean(sqlite3_column_type(in, 5) != SQLITE_NULL));
		json_object_set_new(o, "result", json_string((const char *)sqlite3_column_text(in, 6)));
		json_array_append_new(ins, o);
	}
	sqlite3_bind_int64(an, 1, id);
	if (sqlite3_step(an) == SQLITE_ROW && sqlite3_column_text(an, 0)) {
		json_error_t je;
		json_decref(analysis);
		analysis = json_loads((const char *)sqlite3_column_text(an, 0), 0, &je);
		if (!analysis)
			analysis = json_null();
	}
	j = deployment_json(&d);
	json_object_set_new(j, "transitions", trs);
	json_object_set_new(j, "intents", ins);
	json_object_set_new(j, "last_analysis", analysis);
	if (ctx->output == OUTPUT_JSON) {
		json_object_set_new(into, "deployment", j);
	} else {
		size_t i;
		json_t *o;
		printf("deployment %lld: %s %s (revision %d) in %s, type %s, requested by %s\n", (long long)d.id,
		       d.service, d.version, d.revision, d.env, d.type, d.requested_by);
		printf("state: %s, step %d, weight %.4g%%, failed checks %d\n", deployment_state_name(d.state), d.step,
		       d.weight, d.failed_checks);
		printf("reason: %s\n", d.reason);
		printf("transitions:\n");
		json_array_foreach(trs, i, o)
			printf("  %s  %s -> %s (step %lld, %.4g%%): %s\n", json_string_value(json_object_get(o, "at")),
			       json_string_value(json_object_get(o, "from")), json_string_value(json_object_get(o, "to")),
			       (long long)json_integer_value(json_object_get(o, "step")),
			       json_real_value(json_object_get(o, "weight")), json_string_value(json_object_get(o, "reason")));
		if (json_array_size(ins)) {
			printf("intents:\n");
			json_array_foreach(ins, i, o)
				printf("  %lld %s%s%s by %s: %s\n", (long long)json_integer_value(json_object_get(o, "id")),
				       json_string_value(json_object_get(o, "kind")),
				       *json_string_value(json_object_get(o, "arg")) ? " " : "",
				       json_string_value(json_object_get(o, "arg")),
				       json_string_value(json_object_get(o, "requested_by")),
				       json_is_true(json_object_get(o, "applied")) ?
				       json_string_value(json_object_get(o, "result")) : "pending");
		}
		if (json_is_object(analysis)) {
			printf("last analysis: %s: %s\n", json_string_value(json_object_get(analysis, "verdict")),
			       json_string_value(json_object_get(analysis, "reason")));
			printf("  Metric          | Baseline | Current  | Delta   | Status\n");
			printf("  --------------- | -------- | -------- | ------- | ------\n");
			json_array_foreach(json_object_get(analysis, "table"), i, o) {
				char b[32] = "-", cu[32] = "-", de[32] = "-";
				const char *unit = i == 0 ? "%" : i == 3 ? " rps" : "ms";
				json_t *bv = json_object_get(o, "baseline"), *cv = json_object_get(o, "current"),
				       *dv = json_object_get(o, "delta");
				if (json_is_number(bv))
					snprintf(b, sizeof(b), i == 0 ? "%.2f%s" : "%.0f%s", json_number_value(bv), unit);
				if (json_is_number(cv))
					snprintf(cu, sizeof(cu), i == 0 ? "%.2f%s" : "%.0f%s", json_number_value(cv), unit);
				if (json_is_number(dv))
					snprintf(de, sizeof(de), "%+.2f%%", json_number_value(dv));
				printf("  %-15s | %-8s | %-8s | %-7s | %s\n", json_string_value(json_object_get(o, "metric")),
				       b, cu, de, json_string_value(json_object_get(o, "status")));
			}
		}
		json_decref(j);
	}
	strbuf_release(&err);
	return EXIT_OK;
}

int cmd_status(int argc, char **argv, struct cli_ctx *ctx)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	struct store st = { 0 };
	struct strbuf err = STRBUF_INIT;
	const char *ref = NULL;
	int64_t *ids = NULL, id;
	size_t n = 0;
	int c, rc = EXIT_OK, numeric = 0;
	json_t *out = json_object();

	while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		if (c == 'o') {
			if (cli_parse_output(ctx, optarg) < 0) {
				json_decref(out);
				return EXIT_USAGE;
			}
		} else {
			json_decref(out);
			return cli_usage_error(ctx, "status", "bad option or missing value (see above)");
		}
	}
	if (optind < argc)
		ref = argv[optind++];
	if (optind < argc) {
		json_decref(out);
		return cli_usage_error(ctx, "status", "unexpected argument '%s'", argv[optind]);
	}
	if (open_store(ctx, &st, 1) < 0) {
		json_decref(out);
		return EXIT_RUNTIME;
	}
	if (ref) {
		numeric = strspn(ref, "0123456789") == strlen(ref);
		if (numeric) {
			if (deployment_store_resolve(&st, ref, 0, &id, &err) < 0) {
				cli_error("%s", err.buf);
				rc = EXIT_USAGE;
				goto out;
			}
			rc = show_detail(&st, id, ctx, out);
			goto out;
		}
	}
	if (list_ids(&st, ref, &ids, &n, &err) < 0) {
		cli_error("%s", err.buf);
		rc = EXIT_RUNTIME;
		goto out;
	}
	if (ref && !n) {
		cli_error("no deployments of '%s'; see 'slipway status'", ref);
		rc = EXIT_USAGE;
		goto out;
	}
	{
		json_t *arr = json_array();
		if (ctx->output != OUTPUT_JSON)
			printf("%-5s %-16s %-10s %-12s %4s %-21s %-12s %4s %7s %3s  %s\n", "ID", "SERVICE", "ENV", "VERSION",
			       "REV", "TYPE", "STATE", "STEP", "WEIGHT", "FC", "REASON");
		for (size_t i = 0; i < n; i++) {
			struct deployment d;
			if (deployment_store_load(&st, ids[i], &d, NULL, &err) < 0)
				continue;
			if (ctx->output == OUTPUT_JSON)
				json_array_append_new(arr, deployment_json(&d));
			else
				print_row(&d);
		}
		json_object_set_new(out, "deployments", arr);
	}
	if (ref && n) {
		if (ctx->output != OUTPUT_JSON)
			printf("\n");
		rc = show_detail(&st, ids[0], ctx, out);
	}
out:
	if (ctx->output == OUTPUT_JSON && rc == EXIT_OK)
		cli_print_json(out);
	else
		json_decref(out);
	free(ids);
	strbuf_release(&err);
	store_close(&st);
	return rc;
}
