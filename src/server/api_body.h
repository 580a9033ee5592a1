/*
 * api_body.h - what the HTTP API reads from outside, checked before use
 * (docs/api.md): request bodies (a JSON object of known fields, at most
 * API_BODY_MAX bytes) and the Authorization header's bearer token.  Pure:
 * no I/O, so tests/fuzz/fuzz_api_body.c runs them on any bytes.
 */
#ifndef SLIPWAY_SERVER_API_BODY_H
#define SLIPWAY_SERVER_API_BODY_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "adapters/tokens.h"

struct strbuf;

#define API_BODY_MAX (64 * 1024)	/* bytes: a request body above it is refused (413) */
#define API_STRING_MAX 1024		/* bytes: the longest string field */

enum api_field_type {
	API_FIELD_STRING,	/* -> const char * (borrowed from the parsed document) */
	API_FIELD_BOOL,		/* -> int */
	API_FIELD_INT,		/* -> int64_t, within [min, max] */
	API_FIELD_NUMBER,	/* -> double, within [min, max] (a whole or fractional JSON number) */
};

/* One field of a body: its name, type, whether it is required, bounds
 * (strings: the longest length in bytes, 0 = API_STRING_MAX; integers:
 * min and max) and where it goes (offsetof into the output struct). */
struct api_field {
	const char *name;
	enum api_field_type type;
	int required;
	int64_t min, max;
	size_t offset;
};
#define API_FIELDS_END { NULL, 0, 0, 0, 0, 0 }

/*
 * Parse body[0..len) as one JSON object whose keys are among fields[], and
 * store each value at out + offset.  An empty body is an empty object.
 * Returns 0 with *root the parsed document (the strings point into it:
 * json_decref() it after use), or SW_EPARSE / SW_EUSAGE / SW_ETOOBIG with
 * a message naming the field and what would be valid ("'mode' must be a
 * string", "unknown field 'moed'; valid: mode, message", "line 1 column
 * 9: ..."); *root is then NULL.
 */
int api_body_parse(const char *body, size_t len, const struct api_field *fields, void *out, json_t **root,
		   struct strbuf *err);

/*
 * The token of an Authorization header value "Bearer swt_<64 hex>" (the
 * scheme case-insensitive, RFC 6750 section 2.1).  0 with the token in
 * out, or SW_EDENIED with why in err (missing, another scheme, not a
 * slipway token).
 */
int api_bearer_parse(const char *header, char out[TOKEN_CHARS + 1], struct strbuf *err);

#endif
