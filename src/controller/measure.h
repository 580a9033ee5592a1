/*
 * measure.h - turn a metrics provider's answers into the analysis input of
 * one interval (shared by the controller and `slipway analyze`).
 */
#ifndef SLIPWAY_CONTROLLER_MEASURE_H
#define SLIPWAY_CONTROLLER_MEASURE_H

#include "core/analysis.h"
#include "core/deployment-t.h"
#include "core/metrics-t.h"

/*
 * Query p for the canary (d->version) and the stable (d->from_version)
 * revisions of d->service over [from_ms, to_ms) into *out.  A provider
 * error is not fatal: out->have_samples is 0 and provider_error says why
 * (the analysis reports the interval as inconclusive).  When the sequential
 * judge's latency lines are due a refinement (a whole interval_ms of the
 * stable since the last one: the analysis may look more often than once an
 * interval), out->refine is the stable over [to_ms - interval_ms, to_ms):
 * a p99 over a look of a few hundred requests would be a biased estimate.
 * interval_ms is on the clock of from_ms and to_ms: the wall time an
 * interval takes (deployment_wall_span() of a time-scaled deployment's).
 * Always returns 0.
 */
int measure_interval(const struct metrics_provider *p, const struct deployment *d, int64_t from_ms,
		     int64_t to_ms, int64_t interval_ms, double weight, int idle, struct analysis_input *out);

#endif
