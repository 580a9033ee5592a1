/*
 * fmt.h - bounded formatting that cannot truncate in silence (after git's
 * xsnprintf() in wrapper.c).
 *
 * snprintf() into a fixed array cuts a long string and carries on: a
 * 64-character version becomes a 63-character one that names nothing.  Use
 *   - xsnprintf() where the text cannot be too long unless slipway has a bug
 *     (its parts were checked against the same *_MAX constant the array is
 *     sized from, base/limits.h): truncation aborts with a message;
 *   - bsnprintf() where the length comes from outside input and a long value
 *     is an error to report: truncation returns SW_ETOOBIG;
 *   - bprintf() for free text that may be cut (a reason, a message): a cut
 *     text ends in "..." so that it is never cut in silence.
 */
#ifndef SLIPWAY_BASE_FMT_H
#define SLIPWAY_BASE_FMT_H

#include <stddef.h>

/* Format into dst[size] (size >= 1).  Returns the length written; aborts
 * ("slipway: fatal: ...") when the text would not fit. */
int xsnprintf(char *dst, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Format into dst[size] (size >= 1).  Returns the length written, or
 * SW_ETOOBIG (dst then holds "") when the text would not fit. */
int bsnprintf(char *dst, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Format into dst[size] (size >= 4); when the text does not fit, its end is
 * replaced by "...".  Returns 1 when it was cut, else 0. */
int bprintf(char *dst, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
