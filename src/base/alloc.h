/*
 * alloc.h - the one allocation policy (after git's xmalloc; docs/ARCHITECTURE.md).
 *
 * Allocation failure is not an error slipway can recover from, so these abort
 * with a message on stderr.  Where a size comes from outside input, check it
 * against a limit before calling them (see strbuf_read_file_max()).
 */
#ifndef SLIPWAY_BASE_ALLOC_H
#define SLIPWAY_BASE_ALLOC_H

#include <stddef.h>
#include <stdlib.h>

/* Never return NULL; abort on out-of-memory.  xmalloc(0) returns a unique pointer. */
void *xmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *ptr, size_t size);
/* Copies of a C string (s must not be NULL) or of its first n bytes, NUL-terminated. */
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* Like xstrdup() but returns NULL for NULL. */
char *xstrdup_or_null(const char *s);

/*
 * Grow the array x (element count nr, capacity alloc) so that it holds at
 * least n elements.  Capacity grows by 1.5x; the caller owns x.
 */
#define ALLOC_GROW(x, n, alloc)                                              \
	do {                                                                 \
		if ((size_t)(n) > (size_t)(alloc)) {                         \
			size_t alloc_grow_new_ = ((size_t)(alloc) + 16) * 3 / 2; \
			if (alloc_grow_new_ < (size_t)(n))                   \
				alloc_grow_new_ = (size_t)(n);                 \
			(x) = xrealloc((x), alloc_grow_new_ * sizeof(*(x))); \
			(alloc) = alloc_grow_new_;                           \
		}                                                            \
	} while (0)

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Cleanup attribute helpers (after systemd's _cleanup_). */
#define _cleanup_(f) __attribute__((cleanup(f)))
static inline void freep(void *p) { free(*(void **)p); }
#define _cleanup_free_ _cleanup_(freep)

#endif
