/*
 * tz.c - core's zone interface over the C library and tzdata.
 *
 * glibc reads the zone file once per TZ change and caches it, so each
 * offset question is one localtime_r() call; the calendar asks a few
 * thousand at most (400 days of change points).  Zone names are checked
 * against the files of the tz database before they reach TZ, so a bad name
 * is an error instead of silently becoming UTC (glibc's behaviour).
 */
#include "adapters/tz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/alloc.h"
#include "base/err.h"
#include "base/strbuf.h"
#include "base/timeutil.h"

static int is_utc(const char *name)
{
	return !strcmp(name, "UTC") || !strcmp(name, "Etc/UTC") || !strcmp(name, "Etc/UCT") ||
	       !strcmp(name, "UCT") || !strcmp(name, "Zulu") || !strcmp(name, "Etc/Zulu");
}

int tz_system_exists(const char *name)
{
	const char *dir = getenv("TZDIR");
	char path[512], magic[4];
	FILE *f;
	size_t n;

	if (!tz_name_is_wellformed(name))
		return 0;
	if (is_utc(name))
		return 1;
	if (!dir || !*dir)
		dir = "/usr/share/zoneinfo";
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
		return 0;
	f = fopen(path, "rb");
	if (!f)
		return 0;
	n = fread(magic, 1, sizeof(magic), f);
	fclose(f);
	return n == 4 && !memcmp(magic, "TZif", 4);	/* a zone file, not a directory or table */
}

static int db_exists(void *ctx, const char *name)
{
	return tz_system_exists(name);
}

const struct tz_db tz_system_db = { NULL, db_exists };

static int64_t floordiv(int64_t a, int64_t b)
{
	int64_t q = a / b;
	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

static int system_offset(void *ctx, int64_t utc_ms, int64_t *offset_ms)
{
	time_t sec = (time_t)floordiv(utc_ms, MS_PER_SEC);
	struct tm tm;
	if (!localtime_r(&sec, &tm))
		return -1;
	*offset_ms = (int64_t)tm.tm_gmtoff * MS_PER_SEC;
	return 0;
}

int tz_system_open(struct tz_system *tz, const char *name, struct strbuf *err)
{
	const char *old;
	struct strbuf val = STRBUF_INIT;

	memset(tz, 0, sizeof(*tz));
	if (!tz_system_exists(name)) {
		strbuf_errf(err, "unknown time zone '%s'; use an IANA name such as UTC, Europe/Berlin or America/New_York (package tzdata)",
			    name);
		return SW_ENOTFOUND;
	}
	tz->name = xstrdup(name);
	if (is_utc(name)) {
		tz_zone_fixed(&tz->zone, 0);
		return 0;
	}
	old = getenv("TZ");
	tz->saved_tz = xstrdup_or_null(old);
	strbuf_addf(&val, ":%s", name);
	setenv("TZ", val.buf, 1);
	strbuf_release(&val);
	tzset();
	tz->uses_env = 1;
	tz->zone.ctx = tz;
	tz->zone.offset_at = system_offset;
	return 0;
}

void tz_system_close(struct tz_system *tz)
{
	if (!tz)
		return;
	if (tz->uses_env) {
		if (tz->saved_tz)
			setenv("TZ", tz->saved_tz, 1);
		else
			unsetenv("TZ");
		tzset();
	}
	free(tz->name);
	free(tz->saved_tz);
	memset(tz, 0, sizeof(*tz));
}
