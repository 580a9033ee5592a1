/*
 * sse.c - the Server-Sent Events parser of sse.h: a line buffer, then the
 * standard's field rules per line (field ":" optional-space value).
 */
#include "base/sse.h"
#include "base/err.h"

#include <string.h>

void sse_parser_init(struct sse_parser *p, sse_event_fn fn, void *ctx)
{
	memset(p, 0, sizeof(*p));
	strbuf_init(&p->line, 0);
	strbuf_init(&p->data, 0);
	strbuf_init(&p->type, 0);
	strbuf_init(&p->id, 0);
	p->fn = fn;
	p->ctx = ctx;
}

void sse_parser_release(struct sse_parser *p)
{
	strbuf_release(&p->line);
	strbuf_release(&p->data);
	strbuf_release(&p->type);
	strbuf_release(&p->id);
}

/* One complete line (without its end). */
static int line(struct sse_parser *p, struct strbuf *err)
{
	const char *l = p->line.len ? p->line.buf : "", *colon, *value;
	size_t flen, vlen;

	if (!p->line.len) {
		/* dispatch: an event only when it had data (the standard drops the others) */
		int r = 0;
		if (p->have_data) {
			struct sse_event ev = { p->id.len ? p->id.buf : "", p->type.len ? p->type.buf : "message",
						p->data.len ? p->data.buf : "" };
			r = p->fn(p->ctx, &ev);
		}
		strbuf_reset(&p->data);
		strbuf_reset(&p->type);
		p->have_data = 0;
		return r;
	}
	if (l[0] == ':')
		return 0;	/* a comment: keepalives */
	colon = memchr(l, ':', p->line.len);
	flen = colon ? (size_t)(colon - l) : p->line.len;
	value = colon ? colon + 1 : l + p->line.len;
	vlen = p->line.len - (size_t)(value - l);
	if (vlen && *value == ' ')
		value++, vlen--;
	if (flen == 4 && !memcmp(l, "data", 4)) {
		if (p->data.len + vlen + 1 > SSE_LINE_MAX) {
			strbuf_errf(err, "an event's data is over %d bytes", SSE_LINE_MAX);
			return SW_ETOOBIG;
		}
		if (p->have_data)
			strbuf_addch(&p->data, '\n');
		strbuf_add(&p->data, value, vlen);
		p->have_data = 1;
	} else if (flen == 5 && !memcmp(l, "event", 5)) {
		strbuf_reset(&p->type);
		strbuf_add(&p->type, value, vlen);
	} else if (flen == 2 && !memcmp(l, "id", 2) && !memchr(value, '\0', vlen)) {
		strbuf_reset(&p->id);
		strbuf_add(&p->id, value, vlen);
	}
	return 0;
}

int sse_feed(struct sse_parser *p, const char *buf, size_t len, struct strbuf *err)
{
	for (size_t i = 0; i < len; i++) {
		char ch = buf[i];
		int r;
		if (p->after_cr && ch == '\n') {
			p->after_cr = 0;	/* the LF of a CRLF */
			continue;
		}
		p->after_cr = 0;
		if (ch == '\n' || ch == '\r') {
			p->after_cr = ch == '\r';
			r = line(p, err);
			strbuf_reset(&p->line);
			if (r)
				return r;
			continue;
		}
		if (p->line.len >= SSE_LINE_MAX) {
			strbuf_errf(err, "a line of the event stream is over %d bytes", SSE_LINE_MAX);
			return SW_ETOOBIG;
		}
		strbuf_addch(&p->line, ch);
	}
	return 0;
}
