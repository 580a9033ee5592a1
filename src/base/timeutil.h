/*
 * timeutil.h - time as a number: milliseconds since the Unix epoch, UTC.
 *
 * Core code never reads the clock; it is handed a `int64_t now_ms`.  These
 * helpers are pure arithmetic (proleptic Gregorian calendar, no time zone
 * database); zone conversion lives in the policy code, which needs it.
 */
#ifndef SLIPWAY_BASE_TIMEUTIL_H
#define SLIPWAY_BASE_TIMEUTIL_H

#include <stdint.h>
#include <stddef.h>

struct strbuf;

#define MS_PER_SEC  1000LL
#define MS_PER_MIN  (60LL * MS_PER_SEC)
#define MS_PER_HOUR (60LL * MS_PER_MIN)
#define MS_PER_DAY  (24LL * MS_PER_HOUR)

/* A broken-down civil time; fields as in struct tm but month 1-12, full year. */
struct civil {
	int year, month, day;	/* month 1-12, day 1-31 */
	int hour, min, sec;	/* 0-23, 0-59, 0-60 */
	int ms;			/* 0-999 */
	int wday;		/* 0 = Sunday .. 6 = Saturday (output only) */
};

/* Days since 1970-01-01 of a civil date (any int year). */
int64_t days_from_civil(int year, int month, int day);
/* Civil fields of ms since the epoch, UTC.  Fills every field including wday. */
void civil_from_ms(int64_t ms, struct civil *out);
/* Inverse of civil_from_ms() (wday ignored). */
int64_t ms_from_civil(const struct civil *c);
int is_leap_year(int year);
int days_in_month(int year, int month);

/*
 * Parse RFC 3339 ("2026-12-03T15:00:00Z", "...T15:00:00.250+01:00", lower-case
 * t/z accepted) into *ms.  Returns 0, or SW_EPARSE with a message in err.
 */
int time_parse_rfc3339(const char *s, int64_t *ms, struct strbuf *err);
/* Parse a date "YYYY-MM-DD" into its days since the epoch.  0 or SW_EPARSE. */
int date_parse(const char *s, int64_t *days, struct strbuf *err);
/* Format ms as "2026-12-03T15:00:00Z" (milliseconds added only when non-zero). */
#define RFC3339_BUFSZ 32
const char *time_format_rfc3339(int64_t ms, char buf[RFC3339_BUFSZ]);

/*
 * Parse a duration: Go/Flagger style "1m", "90s", "1h30m", "500ms", "2d",
 * or a bare number of seconds.  Result in ms, >= 0.  0 or SW_EPARSE.
 */
int duration_parse(const char *s, int64_t *ms, struct strbuf *err);
/* Format ms as the shortest of "1h30m", "5m", "45s", "250ms". */
#define DURATION_BUFSZ 48
const char *duration_format(int64_t ms, char buf[DURATION_BUFSZ]);

#endif
