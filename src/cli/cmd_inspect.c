/*
 * cmd_inspect.c - `slipway inspect FILE...`: load rollout and analysis
 * files as they are (Flagger Canary and MetricTemplate, Argo Rollout and
 * AnalysisTemplate, Kubernetes Deployment, slipway Strategy) and show what
 * slipway makes of them: the steps, the holds, the pauses that wait for a
 * person, and each analysis query rendered with its arguments
 * (docs/argo.md).  Templates a rollout file refers to are read from its
 * directory, or from --templates DIR.
 */
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/cli_policy.h"
#include "cli/vocab.h"
#include "adapters/analysis_files.h"
#include "adapters/metrics_prometheus.h"
#include "core/argo.h"
#include "core/metric_template.h"
#include "core/rollout_config.h"
#include "core/strategy_json.h"
#include "base/alloc.h"
#include "base/err.h"
#include "base/strbuf.h"
#include "base/timeutil.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char usage_inspect[] =
	"usage: slipway inspect FILE... [--templates DIR] [-o json]\n"
	"\n"
	"Load rollout and analysis files unchanged and show what slipway makes of them:\n"
	"a Flagger Canary (with templateRef metrics) or MetricTemplate, an Argo Rollout,\n"
	"AnalysisTemplate or ClusterAnalysisTemplate, a Kubernetes Deployment or a\n"
	"slipway/v1 Strategy.  Steps, holds, pauses and analysis queries, rendered.\n"
	"\n"
	"  --templates DIR   where referenced templates are found (default: each\n"
	"                    rollout file's own directory)\n"
	"  --measure         run each rendered query once now against its Prometheus\n"
	"                    and show the measurement (Argo's phase, Flagger's check)\n"
	"\n"
	"Exit codes: 0 every file loads, 2 a file or a template it needs does not.\n";

static int measure_now;	/* --measure */

/*
 * Run `query` once now against `address` (the prometheus provider's
 * instant query, no retries) into *res; a provider fault is the return
 * value with its reason in err.
 */
static int query_now(const char *address, const char *query, struct prom_result *res, struct strbuf *err)
{
	struct service *svc = xcalloc(1, sizeof(*svc));
	struct metrics_prometheus *mp = NULL;
	struct metrics_provider prov;
	int r;

	snprintf(svc->name, sizeof(svc->name), "inspect");
	svc->prom.address = (char *)(address && address[0] ? address : "http://127.0.0.1:9090");
	svc->prom.timeout_ms = 5000;
	svc->prom.backoff_ms = 200;
	r = metrics_prometheus_open(&mp, svc, "inspect", &prov, err);
	if (r >= 0)
		r = metrics_prometheus_instant(mp, query, cli_now_ms(), res, err);
	metrics_prometheus_free(mp);
	free(svc);
	return r;
}

/* An Argo measurement of metric m on the answer to q: its phase and reason into j. */
static void measure_argo(const struct argo_metric *m, const char *q, json_t *j, int text)
{
	struct prom_result res = { 0 };
	struct strbuf err = STRBUF_INIT;
	enum argo_phase ph;
	double *vals = NULL;

	if (query_now(m->address, q, &res, &err) < 0) {
		ph = ARGO_ERROR;	/* a provider fault is an Error measurement (Argo) */
	} else if (res.type == PROM_MATRIX) {
		ph = ARGO_ERROR;
		strbuf_errf(&err, "a matrix answer; the query must be an instant vector or scalar");
	} else {
		struct argo_result ar = { 0 };
		vals = xcalloc(res.n ? res.n : 1, sizeof(*vals));
		for (size_t i = 0; i < res.n; i++)
			vals[i] = res.v[i].v;
		ar.is_vector = res.type == PROM_VECTOR;
		ar.scalar = res.n ? vals[0] : NAN;
		ar.values = vals;
		ar.n = res.n;
		ph = argo_measure(m->success_e, m->failure_e, &ar, &err);
	}
	if (text)
		printf("        measured now: %s (%s)\n", argo_phase_name(ph), err.buf);
	json_object_set_new(j, "measured", json_pack("{s:s,s:s}", "phase", argo_phase_name(ph), "reason", err.buf));
	free(vals);
	prom_result_release(&res);
	strbuf_release(&err);
}

/* A Flagger check of ref on the answer to q. */
static void measure_flagger(const struct flagger_template_ref *ref, const char *address, const char *q, json_t *j,
			    int text)
{
	struct prom_result res = { 0 };
	struct strbuf err = STRBUF_INIT;
	int pass = 0;
	double v = NAN;

	if (query_now(address, q, &res, &err) >= 0) {
		double *vals = xcalloc(res.n ? res.n : 1, sizeof(*vals));
		for (size_t i = 0; i < res.n; i++)
			vals[i] = res.v[i].v;
		pass = flagger_threshold_check(ref, vals, res.n, &v, &err);
		free(vals);
	}
	if (text)
		printf("    measured now: %s (%s)\n", pass ? "pass" : "failed check", err.buf);
	json_object_set_new(j, "measured", json_pack("{s:s,s:s}", "phase", pass ? "pass" : "failed", "reason", err.buf));
	prom_result_release(&res);
	strbuf_release(&err);
}

static json_t *metric_json(const struct argo_metric *m, const char *query)
{
	json_t *j = json_object();
	json_object_set_new(j, "name", json_string(m->name));
	json_object_set_new(j, "interval_ms", json_integer(m->interval_ms));
	json_object_set_new(j, "initial_delay_ms", json_integer(m->initial_delay_ms));
	json_object_set_new(j, "count", json_integer(m->limits.count));
	json_object_set_new(j, "failure_limit", json_integer(m->limits.failure_limit));
	json_object_set_new(j, "inconclusive_limit", json_integer(m->limits.inconclusive_limit));
	json_object_set_new(j, "consecutive_error_limit", json_integer(m->limits.consecutive_error_limit));
	json_object_set_new(j, "success_condition", m->success ? json_string(m->success) : json_null());
	json_object_set_new(j, "failure_condition", m->failure ? json_string(m->failure) : json_null());
	json_object_set_new(j, "address", json_string(m->address));
	json_object_set_new(j, "query", json_string(query));
	return j;
}

static void print_metric(const struct argo_metric *m, const char *query)
{
	char b1[DURATION_BUFSZ], b2[DURATION_BUFSZ];
	printf("      metric %s: every %s, count %d, initialDelay %s, failureLimit %d, inconclusiveLimit %d, "
	       "consecutiveErrorLimit %d\n", m->name, m->interval_ms ? duration_format(m->interval_ms, b1) : "-",
	       m->limits.count, duration_format(m->initial_delay_ms, b2), m->limits.failure_limit,
	       m->limits.inconclusive_limit, m->limits.consecutive_error_limit);
	if (m->success)
		printf("        successCondition: %s\n", m->success);
	if (m->failure)
		printf("        failureCondition: %s\n", m->failure);
	printf("        query: %s\n", query);
}

/* An Argo analysis: each template found and its queries rendered. */
static int show_analysis(const char *dir, const struct argo_analysis_ref *an, json_t *arr, int text,
			 struct strbuf *err)
{
	for (int i = 0; i < an->n_templates; i++) {
		struct argo_template *t = xcalloc(1, sizeof(*t));
		char *path = NULL;
		json_t *jt, *jm;
		int r = analysis_files_argo_template(dir, an->templates[i], an->cluster[i], t, &path, err);
		if (r < 0) {
			free(t);
			return r;
		}
		jt = json_object();
		jm = json_array();
		json_object_set_new(jt, "template", json_string(t->name));
		json_object_set_new(jt, "file", json_string(path));
		if (text)
			printf("    template %s (%s)\n", t->name, path);
		for (int m = 0; m < t->n_metrics && r >= 0; m++) {
			char *q = NULL;
			if ((r = argo_render(t->metrics[m].query, t, an->args, an->n_args, &q, err)) < 0) {
				strbuf_addf(err, " (template '%s', metric '%s')", t->name, t->metrics[m].name);
				break;
			}
			json_t *one = metric_json(&t->metrics[m], q);
			if (text)
				print_metric(&t->metrics[m], q);
			if (measure_now)
				measure_argo(&t->metrics[m], q, one, text);
			json_array_append_new(jm, one);
			free(q);
		}
		json_object_set_new(jt, "metrics", jm);
		json_array_append_new(arr, jt);
		argo_template_release(t);
		free(t);
		free(path);
		if (r < 0)
			return r;
	}
	return 0;
}

static int inspect_rollout(const char *file, const char *dir, const char *text_buf, size_t len, json_t *doc, int text,
			   struct strbuf *err)
{
	struct rollout_config *cfg = xcalloc(1, sizeof(*cfg));
	char b[DURATION_BUFSZ];
	json_t *an = json_array(), *refs = json_array();
	int r = rollout_config_parse(text_buf, len, file, cfg, err);

	if (r < 0)
		goto out;
	if (cfg->warning[0])
		cli_warning("%s", cfg->warning);
	json_object_set_new(doc, "format", json_string(cfg->format));
	json_object_set_new(doc, "name", json_string(cfg->name));
	json_object_set_new(doc, "strategy", strategy_to_json(&cfg->strategy));
	if (text) {
		printf("%s: %s '%s': strategy %s, %d step%s\n", file, cfg->format, cfg->name,
		       strategy_kind_name(cfg->strategy.kind), cfg->strategy.n_steps, cfg->strategy.n_steps == 1 ? "" : "s");
		for (int i = 0; i < cfg->strategy.n_steps; i++) {
			char hold[64];
			printf("  step %d: weight %g%%, %s\n", i + 1, cfg->strategy.steps[i].weight,
			       cli_step_hold(cfg, i, hold, sizeof(hold)));
			for (int k = 0; k < cfg->argo.n_analyses; k++)
				if (cfg->argo.analyses[k].step == i)
					printf("    analysis: runs at this step\n");
		}
	}
	for (int k = 0; k < cfg->argo.n_analyses && r >= 0; k++) {
		const struct argo_analysis_ref *a = &cfg->argo.analyses[k];
		json_t *ja = json_object(), *jt = json_array();
		json_object_set_new(ja, "step", a->step < 0 ? json_null() : json_integer(a->step + 1));
		if (text && a->step < 0)
			printf("  background analysis (every step)\n");
		else if (text)
			printf("  analysis at step %d\n", a->step + 1);
		r = show_analysis(dir, a, jt, text, err);
		json_object_set_new(ja, "templates", jt);
		json_array_append_new(an, ja);
	}
	for (int k = 0; k < cfg->n_template_refs && r >= 0; k++) {
		const struct flagger_template_ref *ref = &cfg->template_refs[k];
		struct metric_template mt;
		char *path = NULL, *q = NULL;
		json_t *jr;
		if ((r = analysis_files_metric_template(dir, ref, cfg->namespace_, &mt, &path, err)) < 0)
			break;
		if ((r = metric_template_render(&mt, ref, cfg->namespace_, cfg->target, &q, err)) >= 0) {
			jr = json_object();
			json_object_set_new(jr, "metric", json_string(ref->metric));
			json_object_set_new(jr, "template", json_string(mt.name));
			json_object_set_new(jr, "file", json_string(path));
			json_object_set_new(jr, "min", ref->has_min ? json_real(ref->min) : json_null());
			json_object_set_new(jr, "max", ref->has_max ? json_real(ref->max) : json_null());
			json_object_set_new(jr, "interval_ms", json_integer(ref->interval_ms));
			json_object_set_new(jr, "address", json_string(mt.address));
			json_object_set_new(jr, "query", json_string(q));
			json_array_append_new(refs, jr);
			if (text) {
				printf("  metric %s: template %s (%s), every %s, ", ref->metric, mt.name, path,
				       duration_format(ref->interval_ms, b));
				if (ref->has_min)
					printf("min %g ", ref->min);
				if (ref->has_max)
					printf("max %g ", ref->max);
				printf("\n    query: %s\n", q);
			}
			if (measure_now)
				measure_flagger(ref, mt.address, q, jr, text);
		}
		free(q);
		free(path);
		metric_template_release(&mt);
	}
out:
	json_object_set_new(doc, "analyses", an);
	json_object_set_new(doc, "template_metrics", refs);
	free(cfg);
	return r;
}

static int inspect_file(const char *file, const char *templates, json_t *files, int text, struct strbuf *err)
{
	struct strbuf buf = STRBUF_INIT;
	char dir[1024];
	json_t *doc = json_object();
	int r;

	json_object_set_new(doc, "file", json_string(file));
	if ((r = strbuf_read_file_max(&buf, file, ARGO_FILE_MAX_BYTES, err)) < 0)
		goto out;
	if (templates)
		snprintf(dir, sizeof(dir), "%s", templates);
	else
		analysis_files_dir_of(file, dir, sizeof(dir));
	if (analysis_files_has_kind(buf.buf, "AnalysisTemplate") ||
	    analysis_files_has_kind(buf.buf, "ClusterAnalysisTemplate")) {
		struct argo_template *t = xcalloc(1, sizeof(*t));
		if ((r = argo_template_parse(buf.buf, buf.len, file, t, err)) >= 0) {
			json_t *jm = json_array();
			json_object_set_new(doc, "format", json_string(t->kind));
			json_object_set_new(doc, "name", json_string(t->name));
			if (text)
				printf("%s: %s '%s': %d argument%s, %d metric%s\n", file, t->kind, t->name, t->n_args,
				       t->n_args == 1 ? "" : "s", t->n_metrics, t->n_metrics == 1 ? "" : "s");
			for (int i = 0; i < t->n_metrics; i++) {
				if (text)
					print_metric(&t->metrics[i], t->metrics[i].query);
				json_array_append_new(jm, metric_json(&t->metrics[i], t->metrics[i].query));
			}
			json_object_set_new(doc, "metrics", jm);
			argo_template_release(t);
		}
		free(t);
	} else if (analysis_files_has_kind(buf.buf, "MetricTemplate")) {
		struct metric_template mt;
		if ((r = metric_template_parse(buf.buf, buf.len, file, &mt, err)) >= 0) {
			json_object_set_new(doc, "format", json_string("MetricTemplate"));
			json_object_set_new(doc, "name", json_string(mt.name));
			json_object_set_new(doc, "address", json_string(mt.address));
			json_object_set_new(doc, "query", json_string(mt.query));
			if (text)
				printf("%s: MetricTemplate '%s': provider prometheus %s\n  query: %s\n", file, mt.name,
				       mt.address[0] ? mt.address : "(the service file's)", mt.query);
			metric_template_release(&mt);
		}
	} else {
		r = inspect_rollout(file, dir, buf.buf, buf.len, doc, text, err);
	}
out:
	json_object_set_new(doc, "ok", json_boolean(r >= 0));
	if (r < 0)
		json_object_set_new(doc, "error", json_string(err->buf));
	json_array_append_new(files, doc);
	strbuf_release(&buf);
	return r;
}

int cmd_inspect(int argc, char **argv, struct cli_ctx *ctx)
{
	const char *templates = NULL;
	const struct cli_option opts[] = { CLI_STRING("templates", 0, &templates), CLI_FLAG("measure", 0, &measure_now),
					   CLI_OPTIONS_END };
	char **args;
	int nargs, rc = cli_parse(ctx, argc, argv, opts, &args, &nargs), bad = 0;
	json_t *files;

	if (rc != EXIT_OK)
		return rc;
	files = json_array();
	for (int i = 0; i < nargs; i++) {
		struct strbuf err = STRBUF_INIT;
		if (inspect_file(args[i], templates, files, ctx->output != OUTPUT_JSON, &err) < 0) {
			cli_error("%s", err.buf);
			bad = 1;
		}
		strbuf_release(&err);
	}
	if (ctx->output == OUTPUT_JSON) {
		json_t *j = cli_doc("Inspection");
		json_object_set_new(j, "files", files);
		cli_print_json(j);
	} else {
		json_decref(files);
	}
	return bad ? EXIT_USAGE : EXIT_OK;
}
