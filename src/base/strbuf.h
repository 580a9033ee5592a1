/*
 * strbuf.h - growable, always NUL-terminated byte buffers (after git's strbuf).
 *
 * struct strbuf is also the error-detail convention of slipway
 * (docs/ARCHITECTURE.md, "Conventions in force"): a function that can fail takes a `struct strbuf *err` (may be NULL) and
 * appends one lowercase message without a trailing period.
 */
#ifndef SLIPWAY_BASE_STRBUF_H
#define SLIPWAY_BASE_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

struct strbuf {
	char *buf;	/* always NUL-terminated; never NULL after strbuf_init() */
	size_t len;	/* bytes used, excluding the NUL */
	size_t alloc;	/* bytes allocated; 0 means buf points at a static "" */
};

extern char strbuf_slopbuf[];
#define STRBUF_INIT { strbuf_slopbuf, 0, 0 }

void strbuf_init(struct strbuf *sb, size_t hint);
/* Frees the buffer and re-initialises sb; NULL is accepted. */
void strbuf_release(struct strbuf *sb);
/* Returns the buffer (caller frees) and re-initialises sb. */
char *strbuf_detach(struct strbuf *sb, size_t *len);
void strbuf_grow(struct strbuf *sb, size_t extra);
void strbuf_reset(struct strbuf *sb);
void strbuf_setlen(struct strbuf *sb, size_t len);
void strbuf_add(struct strbuf *sb, const void *data, size_t len);
void strbuf_addstr(struct strbuf *sb, const char *s);
void strbuf_addch(struct strbuf *sb, int c);
void strbuf_addf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Remove trailing white space. */
void strbuf_rtrim(struct strbuf *sb);

/*
 * Read the whole file at path into sb (appending), refusing files larger than
 * max bytes (bounded input, as curl's dynbuf).  Returns 0, or -errno / -EFBIG with a message
 * in err naming the file.
 */
int strbuf_read_file_max(struct strbuf *sb, const char *path, size_t max, struct strbuf *err);

/* Append err-style text only when err is not NULL. */
void strbuf_errf(struct strbuf *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
