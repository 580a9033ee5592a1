/*
 * metrics_trace.h - the trace-replay metrics provider (docs/trace-format.md): a
 * recorded trace of per-interval numbers played back through the
 * struct metrics_provider interface, so `slipway analyze` and the tests run
 * the real engine over real-looking data on a simulated clock.
 *
 * Format (docs/trace-format.md): CSV with the header line
 *   t_s,revision,requests,errors,p50_ms,p99_ms
 * one row per revision and interval; revision is "stable" or "canary"; a row
 * covers the interval that ENDS at t_s seconds after the trace's origin (the
 * deployment's start in `slipway analyze`).  p50_ms/p99_ms may be empty when
 * requests is 0.  Blank lines and lines starting with '#' are ignored, and
 * so is a UTF-8 byte order mark at the start.  Rows must come in
 * non-decreasing t_s; a trace has at least one row.
 */
#ifndef SLIPWAY_ADAPTERS_METRICS_TRACE_H
#define SLIPWAY_ADAPTERS_METRICS_TRACE_H

#include <stddef.h>
#include <stdint.h>

#include "core/metrics-t.h"

struct strbuf;

struct trace_row {
	int64_t t_ms;		/* end of the interval, ms after the origin */
	enum revision_role role;
	uint64_t requests, errors;
	double p50_ms, p99_ms;	/* NAN when empty */
};

struct metrics_trace {
	struct trace_row *rows;
	size_t nr, alloc;
	int64_t origin_ms;	/* absolute ms that t_s = 0 stands for; set by the caller */
};

#define METRICS_TRACE_MAX_BYTES (64 * 1024 * 1024)
#define METRICS_TRACE_INIT { NULL, 0, 0, 0 }

/*
 * Parse CSV text buf[0..len) named `file` in messages into *t (appending
 * rows).  Returns 0, or SW_EPARSE with "FILE:LINE: message" in err naming
 * what would be valid; on failure t holds no new rows.
 */
int metrics_trace_parse(struct metrics_trace *t, const char *buf, size_t len, const char *file,
			struct strbuf *err);
/* Read and parse the file at path (at most METRICS_TRACE_MAX_BYTES).  0, -errno or SW_EPARSE. */
int metrics_trace_load(struct metrics_trace *t, const char *path, struct strbuf *err);
void metrics_trace_release(struct metrics_trace *t);

/* t_ms of the last row (0 for an empty trace). */
int64_t metrics_trace_end_ms(const struct metrics_trace *t);

/*
 * A provider over t (which must outlive it).  query() sums the rows of the
 * role whose interval ends in (from_ms, to_ms] (absolute ms: origin_ms +
 * t_s*1000); latency percentiles of several rows are their request-weighted
 * mean (an approximation until traces carry histograms).  Service and
 * version are ignored: a trace describes one rollout.  A range with no rows
 * answers requests 0 (no data), never an error.  The answer's from_ms/to_ms
 * are the time those rows cover, from the end of the row before the first
 * one summed (or t_s = 0) to the last one's t_s: a 60 s row answers a 10 s
 * look with its 60 s, so requests / (to_ms - from_ms) is its real rate.
 */
void metrics_trace_provider(struct metrics_trace *t, struct metrics_provider *out);

/*
 * Several traces, one per service (the simulator: many deployments, each
 * replaying its own trace).  The set does not own the traces.  query()
 * answers from the trace of `service`, or SW_ENOTFOUND.
 */
struct metrics_trace_set {
	struct metrics_trace_entry {
		char service[64];
		struct metrics_trace *trace;
	} *v;
	size_t n, alloc;
};
void metrics_trace_set_add(struct metrics_trace_set *set, const char *service, struct metrics_trace *t);
void metrics_trace_set_release(struct metrics_trace_set *set);
void metrics_trace_set_provider(struct metrics_trace_set *set, struct metrics_provider *out);

#endif
