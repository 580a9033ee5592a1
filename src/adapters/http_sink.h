/*
 * http_sink.h - a libcurl write callback that keeps an answer's body in a
 * strbuf up to a limit (the prometheus provider's answers, the CLI's calls
 * to the local API).  A body past the limit stops the transfer (libcurl
 * then fails with CURLE_WRITE_ERROR) and sets too_big, so the caller can say
 * "larger than N bytes" rather than a write error.
 */
#ifndef SLIPWAY_ADAPTERS_HTTP_SINK_H
#define SLIPWAY_ADAPTERS_HTTP_SINK_H

#include <stddef.h>

#include "base/strbuf.h"

struct http_sink {
	struct strbuf buf;	/* the body so far; the caller releases it */
	size_t max;		/* bytes */
	int too_big;
};

#define HTTP_SINK_INIT(max_bytes) { STRBUF_INIT, (max_bytes), 0 }

/* CURLOPT_WRITEFUNCTION, with CURLOPT_WRITEDATA a struct http_sink *. */
size_t http_sink_write(char *p, size_t size, size_t n, void *sink);

#endif
