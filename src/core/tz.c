/*
 * tz.c - wall-clock <-> UTC conversion over the tz_zone interface.
 *
 * Conversions ask the zone for offsets only, so they are exact for any zone
 * the interface can describe, and cheap for fixed zones (the default policy
 * is UTC).  Offsets are assumed to change at most once within +-1 day of a
 * given instant, which holds for every zone in tzdata.
 */
#include "core/tz.h"

#include <string.h>

#include "base/timeutil.h"

static int fixed_offset(void *ctx, int64_t utc_ms, int64_t *offset_ms)
{
	const struct tz_zone *z = ctx;
	*offset_ms = z->fixed_offset_ms;
	return 0;
}

void tz_zone_fixed(struct tz_zone *z, int64_t offset_ms)
{
	z->ctx = z;
	z->offset_at = fixed_offset;
	z->fixed_offset_ms = offset_ms;
}

int64_t tz_offset(const struct tz_zone *z, int64_t utc_ms)
{
	int64_t off = 0;
	if (!z || !z->offset_at)
		return 0;
	if (z->offset_at == fixed_offset)
		return z->fixed_offset_ms;
	if (z->offset_at(z->ctx, utc_ms, &off) < 0)
		return 0;
	return off;
}

int64_t tz_to_local(const struct tz_zone *z, int64_t utc_ms)
{
	return utc_ms + tz_offset(z, utc_ms);
}

int tz_local_instants(const struct tz_zone *z, int64_t local_ms, int64_t out[2])
{
	int64_t offs[3];
	int n = 0;

	offs[0] = tz_offset(z, local_ms - MS_PER_DAY);
	offs[1] = tz_offset(z, local_ms);
	offs[2] = tz_offset(z, local_ms + MS_PER_DAY);
	for (int i = 0; i < 3 && n < 2; i++) {
		int64_t cand = local_ms - offs[i];
		int dup = 0;
		for (int k = 0; k < n; k++)
			dup |= out[k] == cand;
		if (!dup && tz_offset(z, cand) == offs[i])
			out[n++] = cand;
	}
	if (n == 2 && out[0] > out[1]) {
		int64_t t = out[0];
		out[0] = out[1];
		out[1] = t;
	}
	return n;
}

int tz_transitions(const struct tz_zone *z, int64_t lo_ms, int64_t hi_ms, int64_t *out, int max)
{
	const int64_t step = 6 * MS_PER_HOUR;
	int n = 0;

	if (!z || z->offset_at == fixed_offset)
		return 0;
	/* Scan in 6-hour steps, then bisect each step whose offsets differ. */
	for (int64_t a0 = lo_ms; a0 < hi_ms && n < max; a0 += step) {
		int64_t a = a0, b = a0 + step < hi_ms ? a0 + step : hi_ms;
		int64_t oa = tz_offset(z, a);
		if (oa == tz_offset(z, b))
			continue;
		while (b - a > 1) {	/* invariant: offset(a) == oa != offset(b) */
			int64_t mid = a + (b - a) / 2;
			if (tz_offset(z, mid) == oa)
				a = mid;
			else
				b = mid;
		}
		out[n++] = b;
	}
	return n;
}

int64_t tz_from_local(const struct tz_zone *z, int64_t local_ms)
{
	int64_t inst[2], tr[4];
	int n = tz_local_instants(z, local_ms, inst), m;

	if (n > 0)
		return inst[0];
	/* In a gap: the first instant after the change whose local time is
	 * past local_ms is the change itself. */
	m = tz_transitions(z, local_ms - 2 * MS_PER_DAY, local_ms + 2 * MS_PER_DAY, tr, 4);
	for (int i = 0; i < m; i++)
		if (tz_to_local(z, tr[i]) >= local_ms)
			return tr[i];
	return local_ms - tz_offset(z, local_ms);
}

int tz_name_is_wellformed(const char *name)
{
	size_t len = strlen(name);
	const char *p;

	if (len == 0 || len > 64 || name[0] == '/' || name[len - 1] == '/' || strstr(name, "..") ||
	    strstr(name, "//"))
		return 0;
	for (p = name; *p; p++) {
		char c = *p;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || c == '+' || c == '/'))
			return 0;
	}
	return 1;
}
