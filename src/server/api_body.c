/* api_body.c - request bodies and bearer tokens, checked; see api_body.h. */
#include "server/api_body.h"
#include "base/err.h"
#include "base/strbuf.h"

#include <string.h>
#include <strings.h>

static const struct api_field *find_field(const struct api_field *f, const char *name)
{
	for (; f->name; f++)
		if (!strcmp(f->name, name))
			return f;
	return NULL;
}

static void valid_names(const struct api_field *f, struct strbuf *sb)
{
	for (int i = 0; f[i].name; i++)
		strbuf_addf(sb, "%s%s", i ? ", " : "", f[i].name);
	if (!f[0].name)
		strbuf_addstr(sb, "none (this call takes no body)");
}

int api_body_parse(const char *body, size_t len, const struct api_field *fields, void *out, json_t **root,
		   struct strbuf *err)
{
	json_error_t je;
	json_t *j, *v;
	const char *key;

	*root = NULL;
	if (len > API_BODY_MAX) {
		strbuf_errf(err, "the request body is %zu bytes; at most %d are read", len, API_BODY_MAX);
		return SW_ETOOBIG;
	}
	while (len && (*body == ' ' || *body == '\n' || *body == '\r' || *body == '\t'))
		body++, len--;
	if (!len)
		j = json_object();
	else if (!(j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je))) {
		strbuf_errf(err, "the request body is not JSON: line %d column %d: %s", je.line, je.column, je.text);
		return SW_EPARSE;
	}
	if (!json_is_object(j)) {
		strbuf_errf(err, "the request body must be a JSON object");
		json_decref(j);
		return SW_EUSAGE;
	}
	json_object_foreach(j, key, v) {
		const struct api_field *f = find_field(fields, key);
		char *dst;
		if (!f) {
			struct strbuf names = STRBUF_INIT;
			valid_names(fields, &names);
			strbuf_errf(err, "unknown field '%.64s'; valid: %s", key, names.buf);
			strbuf_release(&names);
			json_decref(j);
			return SW_EUSAGE;
		}
		dst = (char *)out + f->offset;
		switch (f->type) {
		case API_FIELD_STRING: {
			size_t max = f->max > 0 ? (size_t)f->max : API_STRING_MAX;
			const char *s = json_string_value(v);
			if (json_is_null(v))
				continue;
			if (!s) {
				strbuf_errf(err, "'%s' must be a string", f->name);
				goto bad;
			}
			if (strlen(s) != json_string_length(v)) {
				strbuf_errf(err, "'%s' holds a NUL character", f->name);
				goto bad;
			}
			if (json_string_length(v) > max) {
				strbuf_errf(err, "'%s' is longer than %zu bytes", f->name, max);
				goto bad;
			}
			memcpy(dst, &s, sizeof(s));
			break;
		}
		case API_FIELD_BOOL: {
			int b;
			if (!json_is_boolean(v)) {
				strbuf_errf(err, "'%s' must be true or false", f->name);
				goto bad;
			}
			b = json_is_true(v);
			memcpy(dst, &b, sizeof(b));
			break;
		}
		case API_FIELD_INT: {
			int64_t n;
			if (!json_is_integer(v) || json_integer_value(v) < f->min || json_integer_value(v) > f->max) {
				strbuf_errf(err, "'%s' must be a whole number from %lld to %lld", f->name,
					    (long long)f->min, (long long)f->max);
				goto bad;
			}
			n = json_integer_value(v);
			memcpy(dst, &n, sizeof(n));
			break;
		}
		case API_FIELD_NUMBER: {
			double x;
			if (!json_is_number(v) || json_number_value(v) < (double)f->min ||
			    json_number_value(v) > (double)f->max) {
				strbuf_errf(err, "'%s' must be a number from %lld to %lld", f->name, (long long)f->min,
					    (long long)f->max);
				goto bad;
			}
			x = json_number_value(v);
			memcpy(dst, &x, sizeof(x));
			break;
		}
		}
	}
	for (const struct api_field *f = fields; f->name; f++) {
		v = json_object_get(j, f->name);
		if (f->required && (!v || json_is_null(v) ||
				    (f->type == API_FIELD_STRING && !*json_string_value(v)))) {
			strbuf_errf(err, "'%s' is required", f->name);
			goto bad;
		}
	}
	*root = j;
	return 0;
bad:
	json_decref(j);
	return SW_EUSAGE;
}

int api_bearer_parse(const char *header, char out[TOKEN_CHARS + 1], struct strbuf *err)
{
	const char *t;
	size_t n;

	if (!header || !*header) {
		strbuf_errf(err, "no Authorization header; send 'Authorization: Bearer TOKEN' (slipway token create)");
		return SW_EDENIED;
	}
	if (strncasecmp(header, "Bearer ", 7)) {
		strbuf_errf(err, "the Authorization header is not 'Bearer TOKEN'");
		return SW_EDENIED;
	}
	t = header + 7;
	while (*t == ' ')
		t++;
	n = strlen(t);
	while (n && t[n - 1] == ' ')
		n--;
	if (n != TOKEN_CHARS || strncmp(t, TOKEN_PREFIX, 4) || strspn(t + 4, "0123456789abcdef") < TOKEN_CHARS - 4) {
		strbuf_errf(err, "not a slipway token (%s followed by 64 hex digits)", TOKEN_PREFIX);
		return SW_EDENIED;
	}
	memcpy(out, t, TOKEN_CHARS);
	out[TOKEN_CHARS] = '\0';
	return 0;
}
