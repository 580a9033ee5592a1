/*
 * metrics_builtin.h - the `builtin` metrics provider: metrics measured from
 * HAProxy's own per-request log (docs/haproxy.md, docs/services.md).
 *
 * Pieces:
 *  - the receiver: listens on the unix stream socket STATE/log.stream to
 *    which every HAProxy slipway runs forwards its log ring
 *    (router_haproxy.h), parses each line
 *    (core/reqlog.h) and aggregates per service, environment and revision
 *    the request count, the 5xx (and no-response) count and a latency
 *    histogram, in 250 ms buckets by the time each request completed
 *    (so lines HAProxy delivers late land where they belong), written to
 *    the store (table request_stats).  It runs as two threads in whichever slipway process
 *    holds STATE/log.lock: the controller (`deploy --wait`) starts it, or
 *    `slipway metrics --receive` when no controller runs.  One receiver per
 *    state directory; a second one finds the lock held and does nothing.
 *  - accounting: nothing is silently dropped.  Lines without the slipway2
 *    marker are HAProxy's own notices ("events"); lines with it that do not
 *    parse are "unparseable"; lines that never arrived are "lost": every
 *    second the receiver reads HAProxy's frontend request count (`show
 *    stat`, req_tot) and DroppedLogs (`show info`) and stores them beside
 *    the count of lines received from that HAProxy process, so
 *    lost = requests HAProxy counted - lines received.
 *  - the provider (struct metrics_provider, core/metrics-t.h): sums the
 *    stored buckets of a revision over [from_ms, to_ms), so it works from
 *    any process and after a controller restart.
 *
 * Store module "metrics" (migration 1):
 *   request_stats(service, env, version, at_ms, requests, errors, hist)
 *     at_ms: start of a 250 ms bucket; version "-" for requests HAProxy
 *     answered itself (maintenance, read-only); hist: hist_encode() text
 *   variant_stats(service, env, flag, variant, at_ms, requests, errors, hist)
 *     (migration 2) the same per flag variant the service reported in its
 *     X-Flag-Variant response header (docs/flags.md "Metrics per variant"),
 *     whatever revision served; a request naming two flags counts in both
 *   log_accounting(service, env, haproxy_pid, haproxy_start, received,
 *     unparseable, haproxy_requests, haproxy_dropped, updated_ms)
 *     one row per HAProxy process; unparseable and events lines that name
 *     no service are counted under service "*".
 */
#ifndef SLIPWAY_ADAPTERS_METRICS_BUILTIN_H
#define SLIPWAY_ADAPTERS_METRICS_BUILTIN_H

#include <stdint.h>
#include <sys/types.h>

#include "core/metrics-t.h"
#include "core/reqlog.h"
#include "core/service.h"

struct store;
struct strbuf;

#define METRICS_BUCKET_MS 250

/* Create or upgrade the "metrics" module's tables, and first the "local" module's (the receiver reads
 * its routers table).  0 or SW_ESTORE. */
int metrics_store_migrate(struct store *st, struct strbuf *err);

struct metrics_receiver;	/* opaque: threads, socket, aggregates */

/*
 * Start receiving in this process.  Returns 1 and *out when started; 0
 * when another process holds STATE/log.lock (it receives; *out is NULL);
 * negative on error (socket, store) with a message in err.
 */
int metrics_receiver_start(struct metrics_receiver **out, const char *state_dir, struct strbuf *err);
/* Flush what was received and stop both threads; accepts NULL. */
void metrics_receiver_stop(struct metrics_receiver *mr);
/* pid of the process holding STATE/log.lock, or 0 when none receives. */
pid_t metrics_receiver_pid(const char *state_dir);

/* The provider's context: a store and the environment it answers for. */
struct metrics_builtin {
	struct store *st;	/* not owned */
	char env[SERVICE_NAME_MAX + 1];
};
/* Fill p with the builtin provider over mb (which must outlive p). */
void metrics_builtin_provider(struct metrics_builtin *mb, struct metrics_provider *p);
/* The provider's query (metrics-t.h); role is not used: revisions are named. */
int metrics_builtin_query(void *ctx, const char *service, enum revision_role role, const char *version,
			  int64_t from_ms, int64_t to_ms, struct metrics_sample *out, struct strbuf *err);

/*
 * The provider's query_over (metrics-t.h): requests of `version` in
 * [from_ms, to_ms) slower than each of thresholds_ms[0..n) (n <=
 * METRICS_MAX_THRESHOLDS), counted from the latency histogram at the bucket
 * edge above each threshold (exact below 32 ms).  Same returns as query.
 */
int metrics_builtin_query_over(void *ctx, const char *service, enum revision_role role, const char *version,
			       int64_t from_ms, int64_t to_ms, const double *thresholds_ms, int n, uint64_t *over,
			       struct strbuf *err);

/*
 * Flag cohorts: a query (or query_over) whose version is
 * "flag:FLAG=VARIANT" (core/flag_rollout.h flag_cohort_parse()) answers for
 * the requests whose X-Flag-Variant header named that variant of FLAG, from
 * variant_stats, so the judge compares the enabled cohort with the disabled
 * one on the same traffic (a revision's name never holds ':').  A version
 * with the prefix that is not FLAG=VARIANT: SW_EUSAGE.
 */

/* `slipway metrics`: every revision seen in [from_ms, to_ms) (then every flag cohort,
 * as "flag:FLAG=VARIANT"), and the log accounting. */
struct metrics_revision {
	char version[SERVICE_NAME_MAX + 1];
	struct metrics_sample s;
};
struct metrics_accounting {
	uint64_t received, unparseable, events;	/* lines */
	uint64_t haproxy_requests, haproxy_dropped;	/* HAProxy's own counters */
	int64_t lost;			/* haproxy_requests - received (>= 0) */
	int64_t updated_ms;		/* when HAProxy's counters were last read; 0: never */
	pid_t haproxy_pid;
};
int metrics_builtin_report(struct store *st, const char *service, const char *env, int64_t from_ms, int64_t to_ms,
			   struct metrics_revision **revs, size_t *nrevs, struct metrics_accounting *acc,
			   struct strbuf *err);

#endif
