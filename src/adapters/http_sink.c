/* http_sink.c - a bounded body for libcurl; see http_sink.h. */
#include "adapters/http_sink.h"

size_t http_sink_write(char *p, size_t size, size_t n, void *ctx)
{
	struct http_sink *s = ctx;
	if (s->buf.len + size * n > s->max) {
		s->too_big = 1;
		return 0;
	}
	strbuf_add(&s->buf, p, size * n);
	return size * n;
}
