/*
 * fuzz_api_body.c - the HTTP API's parsers of outside input
 * (src/server/api_body.h): request bodies against a table with every
 * field type, and Authorization header values.  The first byte chooses
 * which; the rest is the input.  Neither may crash, leak or accept a token
 * that is not swt_ and 64 hex digits.
 */
#include "server/api_body.h"
#include "base/strbuf.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct body {
	const char *name, *note;
	int flag;
	int64_t count;
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct api_field fields[] = {
		{ "name", API_FIELD_STRING, 1, 0, 64, offsetof(struct body, name) },
		{ "note", API_FIELD_STRING, 0, 0, 0, offsetof(struct body, note) },
		{ "flag", API_FIELD_BOOL, 0, 0, 0, offsetof(struct body, flag) },
		{ "count", API_FIELD_INT, 0, 1, 1000, offsetof(struct body, count) },
		API_FIELDS_END,
	};
	struct strbuf err = STRBUF_INIT;
	char *text;

	if (size < 1)
		return 0;
	if (data[0] & 1) {
		char tok[TOKEN_CHARS + 1];
		text = malloc(size);
		memcpy(text, data + 1, size - 1);
		text[size - 1] = '\0';
		if (api_bearer_parse(text, tok, &err) == 0 &&
		    (strlen(tok) != TOKEN_CHARS || strncmp(tok, TOKEN_PREFIX, 4) ||
		     strspn(tok + 4, "0123456789abcdef") != TOKEN_CHARS - 4))
			abort();
		free(text);
	} else {
		struct body b = { 0 };
		json_t *root = NULL;
		if (api_body_parse((const char *)data + 1, size - 1, fields, &b, &root, &err) == 0) {
			if (!b.name || strlen(b.name) > 64 || (b.count && (b.count < 1 || b.count > 1000)))
				abort();
			json_decref(root);
		} else if (root) {
			abort();
		}
	}
	strbuf_release(&err);
	return 0;
}
