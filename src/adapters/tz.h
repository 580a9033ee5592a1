/*
 * tz.h - IANA time zones from the system's tzdata (Debian package tzdata),
 * behind core's struct tz_zone / struct tz_db (src/core/tz.h).
 *
 * Implemented with the C library: the zone is selected by setting TZ to
 * ":Area/City" and calling tzset(); offsets come from localtime_r()'s
 * tm_gmtoff.  TZ is process-global state, so: open one non-UTC zone at a
 * time, from one thread, and close it (which restores TZ) before opening
 * another.  "UTC" and "Etc/UTC" need no tzdata: they are fixed zones.
 */
#ifndef SLIPWAY_ADAPTERS_TZ_H
#define SLIPWAY_ADAPTERS_TZ_H

#include "core/tz.h"

struct strbuf;

struct tz_system {
	struct tz_zone zone;	/* hand &zone to core */
	char *name;		/* the zone's IANA name */
	char *saved_tz;		/* TZ before open (NULL: was unset) */
	int uses_env;		/* 1 if TZ was changed and must be restored */
};

/* The zone database of this machine: exists() is 1 when
 * $TZDIR or /usr/share/zoneinfo holds a TZif file of that name. */
extern const struct tz_db tz_system_db;

/* 1 if name is a zone known to this machine (as tz_system_db.exists). */
int tz_system_exists(const char *name);

/*
 * Open zone `name`.  Returns 0, or SW_ENOTFOUND with "unknown time zone
 * 'x'; ..." in err (then tz is zeroed and needs no close).
 */
int tz_system_open(struct tz_system *tz, const char *name, struct strbuf *err);

/* Restore TZ and free; a zeroed tz is accepted. */
void tz_system_close(struct tz_system *tz);

#endif
