/*
 * tz.h - time zones as an interface, so that core stays pure.
 *
 * The policy's windows and freezes are written in local wall-clock time of
 * one IANA zone (runbook: Deployment Windows, "Time (UTC)"; DESIGN.md: freeze
 * dates are whole days in the policy's timezone).  Core never reads the zone
 * database: it is handed a `struct tz_zone` that answers one question, "what
 * is the UTC offset at this instant".  src/adapters/tz.c implements it with
 * the C library and the system's tzdata; tz_zone_fixed() below gives a fixed
 * offset (UTC, and tests).
 *
 * Local time here is "ms since the epoch as if the wall clock were UTC":
 * local_ms = utc_ms + offset_ms.  civil_from_ms(local_ms) then gives the
 * wall-clock date, time and weekday.
 */
#ifndef SLIPWAY_CORE_TZ_H
#define SLIPWAY_CORE_TZ_H

#include <stdint.h>

struct strbuf;

struct tz_zone {
	void *ctx;
	/*
	 * Set *offset_ms to the zone's UTC offset (ms, east positive: +3600000
	 * for CET) in effect at the UTC instant utc_ms.  Returns 0, or a negative
	 * error when the zone cannot answer (callers then use offset 0).
	 */
	int (*offset_at)(void *ctx, int64_t utc_ms, int64_t *offset_ms);
	int64_t fixed_offset_ms;	/* used by tz_zone_fixed(); ignored otherwise */
};

/*
 * A zone database: answers whether a zone name exists.  The policy loader
 * uses it to reject an unknown `timezone:` with FILE:LINE:COL.  exists()
 * returns 1 if the name is a zone, 0 if not.
 */
struct tz_db {
	void *ctx;
	int (*exists)(void *ctx, const char *name);
};

/* Initialise z as a zone with a constant offset (ms, east positive). */
void tz_zone_fixed(struct tz_zone *z, int64_t offset_ms);

/* Offset (ms) at utc_ms; 0 when the zone fails to answer. */
int64_t tz_offset(const struct tz_zone *z, int64_t utc_ms);
/* utc_ms + offset: the wall clock as ms since the epoch (see above). */
int64_t tz_to_local(const struct tz_zone *z, int64_t utc_ms);

/*
 * The first UTC instant whose local time is >= local_ms.  For a wall-clock
 * time that exists once this is that instant; for one that exists twice (the
 * hour repeated when clocks go back) it is the earlier one; for one that
 * does not exist (skipped when clocks go forward) it is the instant the gap
 * ends, where the wall clock resumes at the later time.  This is how a
 * window edge inside a DST gap takes effect.
 */
int64_t tz_from_local(const struct tz_zone *z, int64_t local_ms);

/*
 * Every UTC instant whose local time is exactly local_ms (0, 1 or 2 of
 * them), written to out[] in ascending order; returns the count.  Used to
 * find both occurrences of a repeated hour.
 */
int tz_local_instants(const struct tz_zone *z, int64_t local_ms, int64_t out[2]);

/*
 * The instants in (lo_ms, hi_ms] at which the offset changes (at most max,
 * ascending); returns the count.  Found by bisection to the millisecond, so
 * at most one change per sub-range of a day is expected (true of tzdata).
 */
int tz_transitions(const struct tz_zone *z, int64_t lo_ms, int64_t hi_ms, int64_t *out, int max);

/* Whether name is a well-formed IANA zone name ("Europe/Berlin", "UTC"):
 * letters, digits, '_', '-', '+', '/' components, no "..", no leading '/',
 * at most 64 bytes.  Says nothing about whether it exists. */
int tz_name_is_wellformed(const char *name);

#endif
