/*
 * bench_rollback.c - time from a rollback decision to the moment every new
 * request reaches stable (goal < 50 ms).  Run by
 * bench/rollback.sh, which starts stable and canary behind HAProxy.
 *
 *   bench_rollback STATE_DIR PROJECT_DIR SERVICE STABLE CANARY ROUNDS
 *
 * Each round: canary at 50%, then the decision (t0), router_haproxy_set_weights()
 * with stable 100 / canary 0 (store and haproxy.cfg written first, then one
 * runtime-API round trip), then probes on new connections until 20 in a row
 * come from stable.  Prints, per round and as median/max: the set_weights
 * call, and the time until the first of those 20 stable answers.  Numbers
 * only, no assertions (bench, not a test).
 */
#include "adapters/proc.h"
#include "adapters/router_haproxy.h"
#include "base/strbuf.h"
#include "controller/localstack.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static size_t hdr_cb(char *b, size_t sz, size_t n, void *ud)
{
	char *ver = ud;
	size_t len = sz * n;
	if (len > 11 && !strncasecmp(b, "X-Version: ", 11)) {
		size_t l = len - 11;
		while (l && (b[11 + l - 1] == '\r' || b[11 + l - 1] == '\n'))
			l--;
		if (l > 63)
			l = 63;
		memcpy(ver, b + 11, l);
		ver[l] = '\0';
	}
	return len;
}

static size_t sink(char *b, size_t sz, size_t n, void *ud) { return sz * n; }

static int dcmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	struct localstack ls;
	struct strbuf err = STRBUF_INIT;
	char url[128], ver[64];
	int rounds;
	double *t_set, *t_all;
	CURL *c;

	if (argc != 7) {
		fprintf(stderr, "usage: bench_rollback STATE_DIR PROJECT_DIR SERVICE STABLE CANARY ROUNDS\n");
		return 2;
	}
	rounds = (int)strtol(argv[6], NULL, 10);
	if (rounds < 1)
		rounds = 1;
	if (localstack_open(&ls, argv[1], argv[2], argv[3], "production", 0, &err) < 0) {
		fprintf(stderr, "bench_rollback: %s\n", err.buf);
		return 3;
	}
	snprintf(url, sizeof(url), "http://%s:%d/api/probe", ls.router.listen_host, ls.router.listen_port);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	c = curl_easy_init();
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_FORBID_REUSE, 1L);	/* a new connection, a new balancing decision */
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, hdr_cb);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, ver);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 2000L);
	t_set = calloc((size_t)rounds, sizeof(double));
	t_all = calloc((size_t)rounds, sizeof(double));
	for (int r = 0; r < rounds; r++) {
		struct revision_weight half[2], back[2];
		double t0, first_stable = -1;
		int streak = 0, probes = 0, canary_seen = 0;
		snprintf(half[0].version, sizeof(half[0].version), "%s", argv[4]);
		snprintf(half[1].version, sizeof(half[1].version), "%s", argv[5]);
		half[0].weight = half[1].weight = 50;
		back[0] = half[0];
		back[1] = half[1];
		back[0].weight = 100;
		back[1].weight = 0;
		if (router_haproxy_set_weights(&ls.router, half, 2, &err) < 0) {
			fprintf(stderr, "bench_rollback: %s\n", err.buf);
			return 3;
		}
		/* traffic is split: confirm the canary answers before deciding */
		for (int i = 0; i < 10; i++) {
			ver[0] = '\0';
			curl_easy_perform(c);
			if (!strcmp(ver, argv[5]))
				canary_seen = 1;
		}
		t0 = now_us();	/* the rollback decision */
		if (router_haproxy_set_weights(&ls.router, back, 2, &err) < 0) {
			fprintf(stderr, "bench_rollback: %s\n", err.buf);
			return 3;
		}
		t_set[r] = (now_us() - t0) / 1000.0;
		while (streak < 20 && probes < 10000) {
			double tp = now_us();
			ver[0] = '\0';
			curl_easy_perform(c);
			probes++;
			if (!strcmp(ver, argv[4])) {
				if (!streak)
					first_stable = tp;
				streak++;
			} else {
				streak = 0;
			}
		}
		t_all[r] = (first_stable - t0) / 1000.0;
		printf("round %2d: canary answering before: %s; set_weights %.2f ms; all new requests on stable after %.2f ms\n",
		       r + 1, canary_seen ? "yes" : "no", t_set[r], t_all[r]);
	}
	qsort(t_set, (size_t)rounds, sizeof(double), dcmp);
	qsort(t_all, (size_t)rounds, sizeof(double), dcmp);
	printf("rollback to stable: median %.2f ms, max %.2f ms over %d rounds (goal < 50 ms); "
	       "set_weights call (store + haproxy.cfg + runtime API): median %.2f ms, max %.2f ms\n",
	       t_all[rounds / 2], t_all[rounds - 1], rounds, t_set[rounds / 2], t_set[rounds - 1]);
	free(t_set);
	free(t_all);
	curl_easy_cleanup(c);
	curl_global_cleanup();
	localstack_close(&ls);
	strbuf_release(&err);
	return 0;
}
