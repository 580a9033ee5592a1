/* yaml_text.c - refuse what libfyaml mishandles; see yaml_text.h. */
#include "core/yaml_text.h"
#include "base/strbuf.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Length of the UTF-8 sequence at p (at most n bytes available), or 0 if invalid. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
	unsigned char c = p[0];
	size_t len;
	uint32_t cp, min;

	if (c < 0x80)
		return 1;
	if ((c & 0xe0) == 0xc0) {
		len = 2, cp = c & 0x1f, min = 0x80;
	} else if ((c & 0xf0) == 0xe0) {
		len = 3, cp = c & 0x0f, min = 0x800;
	} else if ((c & 0xf8) == 0xf0) {
		len = 4, cp = c & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

static int offence(struct yaml_text_error *e, int line, int col, const char *msg)
{
	e->line = line;
	e->col = col;
	snprintf(e->msg, sizeof(e->msg), "%s", msg);
	return -1;
}

int yaml_text_check(const char *buf, size_t len, struct yaml_text_error *e)
{
	const unsigned char *p = (const unsigned char *)buf;
	int line = 1, col = 1;

	for (size_t i = 0; i < len;) {
		unsigned char c = p[i];
		size_t n;

		if (col == 1 && c == '%') {
			size_t end = i;
			while (end < len && p[end] != '\n' && p[end] != '\r')
				end++;
			if (!(end - i >= 9 && !memcmp(p + i, "%YAML 1.", 8) && p[i + 8] >= '0' && p[i + 8] <= '9'))
				return offence(e, line, col, "a line starting with '%' is a YAML directive; only "
					       "'%YAML 1.2' is accepted (or remove the line)");
		}
		if (c == '\t')
			return offence(e, line, col, "tab character; indent and separate with spaces");
		if ((c < 0x20 && c != '\n' && c != '\r') || c == 0x7f) {
			char msg[96];
			snprintf(msg, sizeof(msg), "control character 0x%02x; the file must be printable UTF-8 text", c);
			return offence(e, line, col, msg);
		}
		n = utf8_len(p + i, len - i);
		if (!n)
			return offence(e, line, col, "not valid UTF-8; save the file as UTF-8 text");
		if (c == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
		i += n;
	}
	return 0;
}

void yaml_text_add_quoted(struct strbuf *out, const char *s)
{
	strbuf_addch(out, '"');
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			strbuf_addf(out, "\\%c", c);
		else if (c < 0x20)
			strbuf_addf(out, "\\x%02x", c);
		else
			strbuf_addch(out, (char)c);
	}
	strbuf_addch(out, '"');
}
