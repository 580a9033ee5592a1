/*
 * bench_prometheus.c - the cost of running a rollout file's analysis
 * queries against a real Prometheus, at N concurrent deployments
 * (bench/prometheus.sh starts the Prometheus and runs this for 1 and N).
 *
 *   bench_prometheus STATE_DIR FILES_DIR ADDRESS N
 *
 * N deployments of the Rollout FILES_DIR/rollout.yaml (an analysis step
 * whose metrics are measured every interval) are driven by one controller
 * on the wall clock, the analysis queries through the prometheus provider
 * at ADDRESS, the judge's own numbers from a fake (no HAProxy involved:
 * what is measured is the queries' path).  Per deployment and tick with a
 * measurement, the latency is the wall time from the tick's clock (the
 * moment the measurement was due, within a 20 ms tick) to the return of the
 * deployment's last query: the verdict follows it without I/O.  Prints
 * one line of key=value: deployments, measurements, queries per analysis
 * run, latency p50/p99/max (ms).  Asserts nothing.
 */
#include "adapters/deployment_store.h"
#include "adapters/proc.h"
#include "adapters/sim_infra.h"
#include "adapters/store.h"
#include "base/alloc.h"
#include "base/strbuf.h"
#include "controller/analysis_plan.h"
#include "controller/controller.h"
#include "core/rollout_config.h"
#include "core/rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPLOYMENTS 1000

static struct analysis_prom *ap;
static int64_t queries;
/* per deployment: the tick time of its last measurement and the latest return in that tick */
static int64_t tick_at[MAX_DEPLOYMENTS + 1], done_at[MAX_DEPLOYMENTS + 1];
static double *lat;
static size_t n_lat, cap_lat;

static void flush_latency(int64_t id)
{
	if (!tick_at[id])
		return;
	if (n_lat == cap_lat) {
		cap_lat = cap_lat ? 2 * cap_lat : 1024;
		lat = xrealloc(lat, cap_lat * sizeof(*lat));
	}
	lat[n_lat++] = (double)(done_at[id] - tick_at[id]);
	tick_at[id] = 0;
}

static void measure(void *ctx, const struct query_plan *plan, int i, const struct deployment *d, int64_t at_ms,
		    struct query_answer *a)
{
	int64_t id = d->id <= MAX_DEPLOYMENTS ? d->id : 0;
	if (tick_at[id] != at_ms) {
		flush_latency(id);
		tick_at[id] = at_ms;
	}
	analysis_prom_measure(ctx, plan, i, d, at_ms, a);
	queries++;
	done_at[id] = proc_now_ms();
}

static int healthy(void *ctx, const char *service, enum revision_role role, const char *version, int64_t from_ms,
		   int64_t to_ms, struct metrics_sample *out, struct strbuf *err)
{
	memset(out, 0, sizeof(*out));
	out->requests = 1000;
	out->p50_ms = 10;
	out->p99_ms = 20;
	return 0;
}

/* the standard rules with a short monitoring period: the run ends soon after the analysis */
static int rules(void *ctx, const char *type, struct type_rules *out, struct strbuf *err)
{
	int r = type_rules_default("standard", out, err);
	out->monitoring_ms = 1000;
	return r;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	struct store st = { 0 };
	struct strbuf err = STRBUF_INIT, text = STRBUF_INIT, path = STRBUF_INIT;
	struct rollout_config *cfg = xcalloc(1, sizeof(*cfg));
	struct query_plan plan;
	struct service svc;
	struct sim_infra infra;
	struct router router;
	struct target target;
	struct metrics_provider prov = { NULL, healthy, NULL };
	struct judge observed;
	struct controller c;
	int n, runs = 0;
	int64_t start, first_id = 0;

	if (argc != 5 || (n = (int)strtol(argv[4], NULL, 10)) < 1 || n > MAX_DEPLOYMENTS) {
		fprintf(stderr, "usage: bench_prometheus STATE_DIR FILES_DIR ADDRESS N (1..%d)\n", MAX_DEPLOYMENTS);
		return 2;
	}
	strbuf_addf(&path, "%s/rollout.yaml", argv[2]);
	memset(&svc, 0, sizeof(svc));
	snprintf(svc.name, sizeof(svc.name), "bench");
	svc.prom.address = argv[3];
	svc.prom.timeout_ms = 5000;
	svc.prom.retries = 0;
	svc.prom.backoff_ms = 200;
	if (store_open(&st, argv[1], &err) < 0 || deployment_store_migrate(&st, &err) < 0 ||
	    strbuf_read_file_max(&text, path.buf, ROLLOUT_CONFIG_MAX_BYTES, &err) < 0 ||
	    rollout_config_parse(text.buf, text.len, path.buf, cfg, &err) < 0 ||
	    analysis_plan_load(&plan, cfg, argv[2], &svc, &err) < 0 || analysis_prom_open(&ap, &plan, &svc, &err) < 0) {
		fprintf(stderr, "bench_prometheus: %s\n", err.buf);
		return 1;
	}
	start = proc_now_ms();
	for (int i = 0; i < n; i++) {
		struct deployment d;
		char name[32];
		snprintf(name, sizeof(name), "svc%d", i);
		deployment_init(&d, name, "production", "v2", "v1", "standard", start - 1);
		d.time_scale = 20;
		if (deployment_store_create(&st, &d, &cfg->strategy, &err) < 0) {
			fprintf(stderr, "bench_prometheus: %s\n", err.buf);
			return 1;
		}
		if (!first_id)
			first_id = d.id;
	}
	sim_infra_init(&infra);
	sim_infra_router(&infra, &router);
	sim_infra_target(&infra, &target);
	controller_init(&c, &st);
	c.router = &router;
	c.target = &target;
	c.metrics = &prov;
	judge_observed_impl.init(&observed, NULL, 0);
	c.judge = &observed;
	c.hooks.rules = rules;
	c.queries = &plan;
	c.measure_ctx = ap;
	c.measure = measure;
	while (proc_now_ms() - start < 300000) {
		int active = controller_tick(&c, proc_now_ms(), &err);
		if (active <= 0)
			break;
		proc_sleep_ms(20);
	}
	for (int64_t id = 0; id <= MAX_DEPLOYMENTS; id++)
		flush_latency(id);
	for (int64_t id = first_id; id < first_id + n; id++) {
		struct deployment d;
		if (deployment_store_load(&st, id, &d, NULL, NULL) == 0 && d.state == DS_SUCCEEDED)
			runs++;
	}
	qsort(lat, n_lat, sizeof(*lat), cmp);
	printf("deployments=%d succeeded=%d measurements=%zu queries=%lld queries_per_analysis=%.2f "
	       "latency_p50_ms=%.0f latency_p99_ms=%.0f latency_max_ms=%.0f wall_s=%.1f\n",
	       n, runs, n_lat, (long long)queries, runs ? (double)queries / (double)n : 0.0,
	       n_lat ? lat[n_lat / 2] : 0.0, n_lat ? lat[(size_t)((double)(n_lat - 1) * 0.99)] : 0.0,
	       n_lat ? lat[n_lat - 1] : 0.0, (double)(proc_now_ms() - start) / 1000.0);
	controller_release(&c);
	sim_infra_release(&infra);
	analysis_prom_free(ap);
	query_plan_release(&plan);
	store_close(&st);
	free(cfg);
	free(lat);
	strbuf_release(&err);
	strbuf_release(&text);
	strbuf_release(&path);
	return runs == n ? 0 : 1;
}
