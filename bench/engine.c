/*
 * bench/engine.c - can one core keep up with 1,000 concurrent rollouts on a
 * one-second tick?
 *
 * Creates N deployments (default 1000; the runbook's canary-config.yaml
 * semantics: 10% steps every minute up to 50%, then 30 minutes of
 * monitoring) in a fresh store, then drives them through one controller
 * with the simulated router/target and a constant healthy metrics provider,
 * one tick per simulated second.  Reports CPU time per tick, per deployment
 * per tick, and the ratio of a tick's CPU time to the 1 s tick interval
 * (below 1.0: one core keeps up), for the average tick and the worst one
 * (when every deployment's analysis interval ends in the same tick).
 *
 *   build/bench/bench_engine [N] [SIMULATED_SECONDS] [STATE_DIR]
 */
#include "adapters/deployment_store.h"
#include "adapters/sim_infra.h"
#include "adapters/store.h"
#include "controller/controller.h"
#include "core/strategy.h"
#include "base/err.h"
#include "base/strbuf.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int healthy(void *ctx, const char *service, enum revision_role role, const char *version, int64_t from_ms,
		   int64_t to_ms, struct metrics_sample *out, struct strbuf *err)
{
	memset(out, 0, sizeof(*out));
	out->from_ms = from_ms;
	out->to_ms = to_ms;
	out->requests = role == ROLE_CANARY ? 500 : 1000;
	out->errors = 1;
	out->p50_ms = 45;
	out->p90_ms = 120;
	out->p99_ms = 200;
	out->max_ms = 300;
	return 0;
}

static double cpu_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 1000;
	int seconds = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 600;
	char tmpl[] = "/tmp/slipway-bench.XXXXXX";
	int own_dir = argc <= 3;
	const char *dir = argc > 3 ? argv[3] : mkdtemp(tmpl);
	struct store st = { 0 };
	struct strbuf err = STRBUF_INIT;
	struct strategy *s = calloc(1, sizeof(*s));
	struct sim_infra infra;
	struct router router;
	struct target target;
	struct metrics_provider prov = { NULL, healthy };
	struct controller c;
	double total_cpu = 0, worst_cpu = 0, total_wall = 0, worst_wall = 0, t0;
	int active = n;

	if (n < 1 || seconds < 1 || !dir || store_open(&st, dir, &err) < 0 || deployment_store_migrate(&st, &err) < 0) {
		fprintf(stderr, "bench_engine: %s\n", err.buf[0] ? err.buf : "bad arguments");
		return 1;
	}
	/* the runbook's canary-config.yaml: stepWeight 10, maxWeight 50, interval 1m, threshold 5 */
	strategy_default(s, STRATEGY_CANARY);
	s->n_steps = 0;
	for (int w = 10; w <= 50; w += 10)
		strategy_add_step(s, 0, w, 60000, NULL);
	s->threshold = 5;
	s->n_checks = 2;
	snprintf(s->checks[0].name, sizeof(s->checks[0].name), "request-success-rate");
	s->checks[0].metric = CHECK_SUCCESS_RATE;
	s->checks[0].has_min = 1;
	s->checks[0].min = 99;
	snprintf(s->checks[1].name, sizeof(s->checks[1].name), "request-duration");
	s->checks[1].metric = CHECK_DURATION;
	s->checks[1].has_max = 1;
	s->checks[1].max = 500;
	t0 = wall_ms();
	for (int i = 0; i < n; i++) {
		struct deployment d;
		char svc[64];
		snprintf(svc, sizeof(svc), "svc-%04d", i);
		deployment_init(&d, svc, "production", "v2", "v1", "standard", 0);
		snprintf(d.requested_by, sizeof(d.requested_by), "bench");
		if (deployment_store_create(&st, &d, s, &err) < 0) {
			fprintf(stderr, "bench_engine: %s\n", err.buf);
			return 1;
		}
	}
	printf("created %d deployments in %.0f ms (%s)\n", n, wall_ms() - t0, dir);

	sim_infra_init(&infra);
	sim_infra_router(&infra, &router);
	sim_infra_target(&infra, &target);
	controller_init(&c, &st);
	c.router = &router;
	c.target = &target;
	c.metrics = &prov;
	for (int t = 0; t < seconds && active > 0; t++) {
		double c0 = cpu_ms(), w0 = wall_ms(), dc, dw;
		active = controller_tick(&c, (int64_t)t * 1000, &err);
		if (active < 0) {
			fprintf(stderr, "bench_engine: %s\n", err.buf);
			return 1;
		}
		dc = cpu_ms() - c0;
		dw = wall_ms() - w0;
		total_cpu += dc;
		total_wall += dw;
		if (dc > worst_cpu)
			worst_cpu = dc;
		if (dw > worst_wall)
			worst_wall = dw;
	}
	printf("%llu ticks (1 simulated second each), %d deployments, %llu commits, %llu transitions\n",
	       (unsigned long long)c.stats.ticks, n, (unsigned long long)c.stats.commits,
	       (unsigned long long)c.stats.transitions);
	printf("CPU per tick:            mean %.2f ms, worst %.2f ms\n", total_cpu / c.stats.ticks, worst_cpu);
	printf("CPU per deployment/tick: mean %.1f us, worst %.1f us\n", 1000 * total_cpu / c.stats.ticks / n,
	       1000 * worst_cpu / n);
	printf("ratio to a 1 s tick:     mean %.4f, worst %.4f (< 1: one core keeps up)\n",
	       total_cpu / c.stats.ticks / 1000.0, worst_cpu / 1000.0);
	printf("wall per tick:           mean %.2f ms, worst %.2f ms (includes the tick's one commit and fsync)\n",
	       total_wall / c.stats.ticks, worst_wall);
	controller_release(&c);
	sim_infra_release(&infra);
	store_close(&st);
	if (own_dir) {
		/* the store is ours: remove it (slipway.db and its WAL files) */
		const char *suffix[] = { "slipway.db", "slipway.db-wal", "slipway.db-shm" };
		for (size_t i = 0; i < 3; i++) {
			char path[512];
			snprintf(path, sizeof(path), "%s/%s", dir, suffix[i]);
			unlink(path);
		}
		rmdir(dir);
	}
	free(s);
	strbuf_release(&err);
	return 0;
}
