/*
 * analysis_plan.h - the queries a rollout file asks a deployment to run
 * (core/query_analysis.h), built from the file and its templates, and
 * measured through the `prometheus` provider (adapters/metrics_prometheus.h).
 * docs/argo.md, "How a deployment runs them".
 */
#ifndef SLIPWAY_CONTROLLER_ANALYSIS_PLAN_H
#define SLIPWAY_CONTROLLER_ANALYSIS_PLAN_H

#include <stdint.h>

#include "core/query_analysis.h"
#include "core/rollout_config.h"
#include "core/service.h"

struct strbuf;
struct deployment;

/*
 * Build *plan (release with query_plan_release()) from cfg, a rollout file
 * read from `dir`: a Flagger Canary's templateRef metrics (their
 * MetricTemplates found in dir: adapters/analysis_files.h) and an Argo
 * Rollout's analyses (AnalysisTemplates in dir), every query rendered with
 * the Canary's variables or the Rollout's args.  svc gives the Prometheus
 * address a template without one uses.  0 (a file with no such metrics
 * gives an empty plan); SW_ENOTFOUND or SW_ECONFIG naming the template, the
 * file or the argument (a valueFrom other than podTemplateHashValue, a
 * metric with no address to ask).  *plan is empty on failure.
 */
int analysis_plan_load(struct query_plan *plan, const struct rollout_config *cfg, const char *dir,
		       const struct service *svc, struct strbuf *err);

/*
 * The same from the rollout file at path (read and parsed here).
 */
int analysis_plan_load_file(struct query_plan *plan, const char *path, const struct service *svc,
			    struct strbuf *err);

/* The Prometheus clients of a plan's queries: one per address and timeout. */
struct analysis_prom;

/*
 * Open them for plan (which must outlive *out) with svc's settings (token,
 * CA, retries).  The service file's prometheus.address, when it has one,
 * is asked for every query: a template's provider address names the
 * cluster's Prometheus, which means nothing on this machine; without one
 * the template's address is used.
 */
int analysis_prom_open(struct analysis_prom **out, const struct query_plan *plan, const struct service *svc,
		       struct strbuf *err);
void analysis_prom_free(struct analysis_prom *ap);

/*
 * Run metric i's query for d as an instant query at at_ms into *a: the
 * values, or an error answer with the provider's reason ("provider error:
 * HTTP 503 ...", "... timeout", "bad JSON"; a matrix answer is an error
 * too).  For controller.h's `measure` hook: ctx is the struct analysis_prom.
 */
void analysis_prom_measure(void *ctx, const struct query_plan *plan, int i, const struct deployment *d,
			   int64_t at_ms, struct query_answer *a);

#endif
