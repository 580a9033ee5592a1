/* test_sse.c - the Server-Sent Events parser (base/sse.h): events split at any byte, line ends, comments, limits. */
#include "tap.h"
#include "base/err.h"
#include "base/sse.h"
#include "base/strbuf.h"

#include <string.h>

struct seen {
	struct strbuf log;
	int n, stop_at;
};

static int on_event(void *ctx, const struct sse_event *ev)
{
	struct seen *s = ctx;
	strbuf_addf(&s->log, "[%s|%s|%s]", ev->id, ev->type, ev->data);
	return ++s->n == s->stop_at ? 7 : 0;
}

static const char *parse_in_pieces(const char *text, size_t piece, struct seen *s)
{
	struct sse_parser p;
	struct strbuf err = STRBUF_INIT;
	size_t len = strlen(text);
	strbuf_reset(&s->log);
	s->n = 0;
	sse_parser_init(&p, on_event, s);
	for (size_t i = 0; i < len; i += piece)
		if (sse_feed(&p, text + i, len - i < piece ? len - i : piece, &err))
			break;
	sse_parser_release(&p);
	strbuf_release(&err);
	return s->log.len ? s->log.buf : "";
}

int main(void)
{
	static const char stream[] = ": slipway deployment events\nretry: 2000\n\n"
				     "id: 4\nevent: transition\ndata: {\"to\":\"progressing\"}\n\n"
				     ": keepalive\n\n"
				     "id: 9\r\nevent: transition\r\ndata:{\"a\":1}\r\ndata: two\r\n\r\n"
				     "data: no id change\rdata\r\r"
				     "event: ignored without data\n\n";
	const char *want = "[4|transition|{\"to\":\"progressing\"}][9|transition|{\"a\":1}\ntwo][9|message|no id change\n]";
	struct seen s = { STRBUF_INIT, 0, 0 };
	struct sse_parser p;
	struct strbuf err = STRBUF_INIT, big = STRBUF_INIT;

	is_str(parse_in_pieces(stream, sizeof(stream), &s), want, "whole: events with id, type and joined data");
	is_str(parse_in_pieces(stream, 1, &s), want, "fed a byte at a time: the same events");
	is_str(parse_in_pieces(stream, 7, &s), want, "fed 7 bytes at a time: the same events");
	s.stop_at = 1;
	is_str(parse_in_pieces(stream, 5, &s), "[4|transition|{\"to\":\"progressing\"}]", "the callback stops the parse");
	s.stop_at = 0;

	sse_parser_init(&p, on_event, &s);
	for (int i = 0; i <= SSE_LINE_MAX; i++)
		strbuf_addch(&big, 'x');
	is_int(sse_feed(&p, big.buf, big.len, &err), SW_ETOOBIG, "a line over the limit is refused");
	ok(strstr(err.buf, "over") != NULL, "and the error says so");
	sse_parser_release(&p);
	strbuf_release(&big);
	strbuf_release(&err);
	strbuf_release(&s.log);
	return tap_done();
}
