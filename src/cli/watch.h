/*
 * watch.h - following deployments as they move, for `slipway status
 * --watch` and `slipway deploy --wait` (docs/serve.md "Following a
 * deployment"): over the controller's event stream (GET /api/v1/stream on
 * the local socket) when a `slipway serve` answers there, else by reading
 * the store every 250 ms, so it works in-process too.
 *
 * Each transition is printed as it happens: as text, "TIME #ID SERVICE
 * VERSION (ENV): STATE (step N, weight W%) [LEFT left]: REASON", or with
 * -o json one JSON document a line (NDJSON): the stream's event (docs/api.md
 * "Live events") and left_ms when known.  Time left is the current step's
 * hold, or the monitoring period, still to run (wall time, as deploy's
 * progress line).
 */
#ifndef SLIPWAY_CLI_WATCH_H
#define SLIPWAY_CLI_WATCH_H

#include "core/deployment-t.h"

#include <stdint.h>
#include <stdio.h>

struct cli_ctx;
struct strbuf;

struct watch_result {
	enum deploy_state state;	/* where the deployment followed stands (not for id 0) */
	char reason[400];
	int waiting;		/* paused, or pending at the gate waiting for a person */
	int interrupted;	/* SIGINT/SIGTERM stopped following */
	int lost;		/* the stream ended before the deployment did (the controller went away) */
	int streamed;		/* followed over the controller's stream */
	int64_t last;		/* in and out: the last transition id printed (0: none yet) */
};

/*
 * Follow deployment id (0: every deployment, from its next transition on,
 * until interrupted), printing to out (-o json: NDJSON, else text) every
 * transition after res->last (zero res first: from the deployment's first),
 * until it is final or waits for a person.  use_stream: over the
 * controller's stream when one answers on the local socket; when that
 * stream ends before the deployment does, res->lost is set and the caller
 * may follow on by polling (call again with use_stream 0: nothing is
 * printed twice).  0 with *res, or < 0 with err.
 */
int watch_follow(struct cli_ctx *ctx, int64_t id, int use_stream, FILE *out, struct watch_result *res,
		 struct strbuf *err);

/* The exit code of a followed deployment: 0 succeeded, 1 rolled back or failed, 4 waiting, 130 interrupted. */
int watch_exit(const struct watch_result *res);

#endif
