/*
 * timeutil.c - calendar arithmetic without the C library's time zone state.
 *
 * days_from_civil() and its inverse use the well-known era-based algorithm
 * (400-year cycles of 146097 days), exact for any int year.
 */
#include "base/timeutil.h"
#include "base/err.h"
#include "base/strbuf.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

int is_leap_year(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int days_in_month(int y, int m)
{
	static const int d[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (m < 1 || m > 12)
		return 0;
	return m == 2 && is_leap_year(y) ? 29 : d[m - 1];
}

int64_t days_from_civil(int y, int m, int d)
{
	int64_t yy = (int64_t)y - (m <= 2);
	int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
	int64_t yoe = yy - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int64_t floordiv(int64_t a, int64_t b)
{
	int64_t q = a / b;
	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

void civil_from_ms(int64_t ms, struct civil *c)
{
	int64_t days = floordiv(ms, MS_PER_DAY);
	int64_t rem = ms - days * MS_PER_DAY;
	int64_t z = days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t y = yoe + era * 400;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int64_t d = doy - (153 * mp + 2) / 5 + 1;
	int64_t m = mp < 10 ? mp + 3 : mp - 9;

	c->year = (int)(y + (m <= 2));
	c->month = (int)m;
	c->day = (int)d;
	c->hour = (int)(rem / MS_PER_HOUR);
	c->min = (int)(rem / MS_PER_MIN % 60);
	c->sec = (int)(rem / MS_PER_SEC % 60);
	c->ms = (int)(rem % 1000);
	c->wday = (int)((days % 7 + 7 + 4) % 7); /* 1970-01-01 was a Thursday */
}

int64_t ms_from_civil(const struct civil *c)
{
	return days_from_civil(c->year, c->month, c->day) * MS_PER_DAY +
	       c->hour * MS_PER_HOUR + c->min * MS_PER_MIN + c->sec * MS_PER_SEC + c->ms;
}

static int take_digits(const char **p, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return -1;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

static int parse_date_part(const char **p, struct civil *c)
{
	if (take_digits(p, 4, &c->year) || **p != '-')
		return -1;
	(*p)++;
	if (take_digits(p, 2, &c->month) || **p != '-')
		return -1;
	(*p)++;
	if (take_digits(p, 2, &c->day))
		return -1;
	if (c->month < 1 || c->month > 12 || c->day < 1 || c->day > days_in_month(c->year, c->month))
		return -1;
	return 0;
}

int date_parse(const char *s, int64_t *days, struct strbuf *err)
{
	struct civil c = { 0 };
	const char *p = s;
	if (parse_date_part(&p, &c) || *p) {
		strbuf_errf(err, "'%s' is not a date; expected YYYY-MM-DD, for example 2026-12-03", s);
		return SW_EPARSE;
	}
	*days = days_from_civil(c.year, c.month, c.day);
	return 0;
}

int time_parse_rfc3339(const char *s, int64_t *ms, struct strbuf *err)
{
	struct civil c = { 0 };
	const char *p = s;
	int64_t off = 0;

	if (parse_date_part(&p, &c) || (*p != 'T' && *p != 't' && *p != ' '))
		goto bad;
	p++;
	if (take_digits(&p, 2, &c.hour) || *p++ != ':' || take_digits(&p, 2, &c.min) ||
	    *p++ != ':' || take_digits(&p, 2, &c.sec))
		goto bad;
	if (c.hour > 23 || c.min > 59 || c.sec > 60)
		goto bad;
	if (*p == '.') {
		int scale = 100, any = 0;
		p++;
		while (isdigit((unsigned char)*p)) {
			c.ms += (*p - '0') * scale;
			scale /= 10;
			p++;
			any = 1;
		}
		if (!any)
			goto bad;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p == '-' ? -1 : 1, oh, om;
		p++;
		if (take_digits(&p, 2, &oh) || *p++ != ':' || take_digits(&p, 2, &om) || oh > 23 || om > 59)
			goto bad;
		off = sign * (oh * MS_PER_HOUR + om * MS_PER_MIN);
	} else {
		goto bad;
	}
	if (*p)
		goto bad;
	if (c.sec == 60)
		c.sec = 59; /* a leap second is the same instant for our purposes */
	*ms = ms_from_civil(&c) - off;
	return 0;
bad:
	strbuf_errf(err, "'%s' is not an RFC 3339 time; expected for example 2026-12-03T15:00:00Z", s);
	return SW_EPARSE;
}

const char *time_format_rfc3339(int64_t ms, char buf[RFC3339_BUFSZ])
{
	struct civil c;
	civil_from_ms(ms, &c);
	if (c.ms)
		snprintf(buf, RFC3339_BUFSZ, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
			 c.year, c.month, c.day, c.hour, c.min, c.sec, c.ms);
	else
		snprintf(buf, RFC3339_BUFSZ, "%04d-%02d-%02dT%02d:%02d:%02dZ",
			 c.year, c.month, c.day, c.hour, c.min, c.sec);
	return buf;
}

int duration_parse(const char *s, int64_t *out, struct strbuf *err)
{
	const char *p = s;
	int64_t total = 0;
	int any = 0;

	if (!*p)
		goto bad;
	while (*p) {
		int64_t v = 0, unit;
		int digits = 0;
		while (isdigit((unsigned char)*p)) {
			if (v > (INT64_MAX / 10 - 9) / MS_PER_DAY)
				goto bad;
			v = v * 10 + (*p - '0');
			p++;
			digits++;
		}
		if (!digits)
			goto bad;
		if (!strncmp(p, "ms", 2)) {
			unit = 1;
			p += 2;
		} else if (*p == 's') {
			unit = MS_PER_SEC;
			p++;
		} else if (*p == 'm') {
			unit = MS_PER_MIN;
			p++;
		} else if (*p == 'h') {
			unit = MS_PER_HOUR;
			p++;
		} else if (*p == 'd') {
			unit = MS_PER_DAY;
			p++;
		} else if (!*p && !any) {
			unit = MS_PER_SEC; /* a bare number is seconds */
		} else {
			goto bad;
		}
		if (v > (INT64_MAX - total) / unit)
			goto bad;	/* past what a time in ms holds */
		total += v * unit;
		any = 1;
	}
	*out = total;
	return 0;
bad:
	strbuf_errf(err, "'%s' is not a duration; expected for example 30s, 5m, 1h30m or 500ms", s);
	return SW_EPARSE;
}

const char *duration_format(int64_t ms, char buf[DURATION_BUFSZ])
{
	size_t n = 0;
	int64_t d, h, m, s;

	if (ms < 0) {
		buf[n++] = '-';
		ms = -ms;
	}
	if (ms == 0 || (ms < MS_PER_SEC)) {
		snprintf(buf + n, DURATION_BUFSZ - n, "%lldms", (long long)ms);
		return buf;
	}
	d = ms / MS_PER_DAY;
	h = ms / MS_PER_HOUR % 24;
	m = ms / MS_PER_MIN % 60;
	s = ms / MS_PER_SEC % 60;
	buf[n] = '\0';
	if (d)
		n += (size_t)snprintf(buf + n, DURATION_BUFSZ - n, "%lldd", (long long)d);
	if (h)
		n += (size_t)snprintf(buf + n, DURATION_BUFSZ - n, "%lldh", (long long)h);
	if (m)
		n += (size_t)snprintf(buf + n, DURATION_BUFSZ - n, "%lldm", (long long)m);
	if (s)
		snprintf(buf + n, DURATION_BUFSZ - n, "%llds", (long long)s);
	return buf;
}
