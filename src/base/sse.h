/*
 * sse.h - a parser of a Server-Sent Events stream (WHATWG HTML standard,
 * "Server-sent events", "Interpreting an event stream"), for the CLI that
 * follows slipway's GET /api/v1/stream (docs/api.md "Live events").
 *
 * Fed bytes as they arrive, in pieces of any size; calls back once per
 * event (a blank line ends it) with its id, type and data (data lines
 * joined by "\n").  Comment lines (":" ...) and unknown fields are skipped,
 * as the standard says; "retry" is ignored.  Lines end in LF, CRLF or CR.
 * A line longer than SSE_LINE_MAX bytes is an error (the stream is outside
 * input: bounded), and so is an event's data over SSE_LINE_MAX.
 */
#ifndef SLIPWAY_BASE_SSE_H
#define SLIPWAY_BASE_SSE_H

#include "base/strbuf.h"

#include <stddef.h>

#define SSE_LINE_MAX (1 << 20)	/* bytes */

/* One event: strings owned by the parser, valid during the callback only.
 * id is the last id seen in the stream ("" when none), type "message" by default. */
struct sse_event {
	const char *id, *type, *data;
};

/* Return 0 to go on, anything else to stop: sse_feed() returns it. */
typedef int (*sse_event_fn)(void *ctx, const struct sse_event *ev);

struct sse_parser {
	struct strbuf line, data, type, id;
	int have_data, after_cr;
	sse_event_fn fn;
	void *ctx;
};

void sse_parser_init(struct sse_parser *p, sse_event_fn fn, void *ctx);
void sse_parser_release(struct sse_parser *p);

/*
 * Parse len bytes of the stream.  0, the callback's nonzero return (the
 * rest of buf is not parsed), or SW_ETOOBIG (a line or an event's data
 * over SSE_LINE_MAX; err says which).
 */
int sse_feed(struct sse_parser *p, const char *buf, size_t len, struct strbuf *err);

#endif
