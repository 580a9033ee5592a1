/* fmt.c - formatting that fails on truncation; see fmt.h. */
#include "base/fmt.h"
#include "base/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int vformat(char *dst, size_t size, const char *fmt, va_list ap)
{
	int n = vsnprintf(dst, size, fmt, ap);
	if (n < 0 || (size_t)n >= size) {
		dst[0] = '\0';
		return SW_ETOOBIG;
	}
	return n;
}

int xsnprintf(char *dst, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;
	va_start(ap, fmt);
	n = vformat(dst, size, fmt, ap);
	va_end(ap);
	if (n < 0) {
		/* a bug: the parts were not checked against the buffer's limit */
		fprintf(stderr, "slipway: fatal: text for a %zu-byte buffer was truncated (format \"%s\")\n", size, fmt);
		abort();
	}
	return n;
}

int bsnprintf(char *dst, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;
	va_start(ap, fmt);
	n = vformat(dst, size, fmt, ap);
	va_end(ap);
	return n;
}

int bprintf(char *dst, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;
	va_start(ap, fmt);
	n = vsnprintf(dst, size, fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < size)
		return 0;
	if (size >= 4)
		memcpy(dst + size - 4, "...", 4);
	else if (size)
		dst[0] = '\0';
	return 1;
}
