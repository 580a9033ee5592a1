/* placeholder.c - {name} expansion; see placeholder.h. */
#include "base/placeholder.h"

#include <string.h>

#include "base/err.h"
#include "base/strbuf.h"

/* a word of lower-case letters and '_': meant as a placeholder */
static int is_word(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || s[i] == '_'))
			return 0;
	return n > 0;
}

int placeholder_expand(struct strbuf *out, const char *t, placeholder_fn lookup, void *ctx, int strict,
		       const char *valid, struct strbuf *err)
{
	while (*t) {
		const char *close;
		size_t n;
		if (t[0] == '{' && t[1] == '{') {
			strbuf_addch(out, '{');
			t += 2;
			continue;
		}
		if (*t != '{' || !(close = strchr(t, '}'))) {
			strbuf_addch(out, *t++);
			continue;
		}
		n = (size_t)(close - t - 1);
		if (lookup(ctx, t + 1, n, out)) {
			t = close + 1;
			continue;
		}
		if (strict || is_word(t + 1, n)) {
			strbuf_errf(err, "unknown placeholder '%.*s' (valid: %s)", (int)(n + 2), t, valid);
			return SW_ECONFIG;
		}
		strbuf_addch(out, *t++);
	}
	return 0;
}
