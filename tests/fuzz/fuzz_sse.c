/*
 * fuzz_sse.c - the Server-Sent Events parser (src/base/sse.h) the CLI runs
 * on GET /api/v1/stream: any bytes, fed in two pieces split where the first
 * byte says.  It may not crash or leak, and every event it reports has
 * strings (never NULL).
 */
#include "base/sse.h"
#include "base/strbuf.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int on_event(void *ctx, const struct sse_event *ev)
{
	size_t *n = ctx;
	if (!ev->id || !ev->type || !ev->data)
		abort();
	*n += strlen(ev->id) + strlen(ev->type) + strlen(ev->data);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sse_parser p;
	struct strbuf err = STRBUF_INIT;
	size_t n = 0, cut;

	if (size < 1)
		return 0;
	cut = data[0] % size;
	sse_parser_init(&p, on_event, &n);
	if (sse_feed(&p, (const char *)data + 1, cut, &err) == 0)
		sse_feed(&p, (const char *)data + 1 + cut, size - 1 - cut, &err);
	sse_parser_release(&p);
	strbuf_release(&err);
	return 0;
}
