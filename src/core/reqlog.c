/*
 * reqlog.c - parse HAProxy's slipway2 request lines; the latency histogram.
 *
 * The parser is hand-written over a length-bounded buffer (datagrams are not
 * NUL-terminated, and they come from a socket, so they are untrusted):
 * fields are split on single spaces, numbers are checked for range.
 */
#include "core/reqlog.h"
#include "base/err.h"
#include "base/strbuf.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

static const char marker[] = REQLOG_MARKER;

/* next space-separated field of [*p, end) */
static int field(const char **p, const char *end, const char **f, size_t *flen)
{
	const char *s = *p, *e;
	if (s >= end)
		return -1;
	e = memchr(s, ' ', (size_t)(end - s));
	if (!e)
		e = end;
	if (e == s)
		return -1;
	*f = s;
	*flen = (size_t)(e - s);
	*p = e < end ? e + 1 : end;
	return 0;
}

static int num(const char *f, size_t n, long lo, long hi, long *out)
{
	char tmp[24];
	char *end;
	long v;
	if (n == 0 || n >= sizeof(tmp))
		return -1;
	memcpy(tmp, f, n);
	tmp[n] = '\0';
	errno = 0;
	v = strtol(tmp, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

int reqlog_parse(const char *buf, size_t len, struct reqlog_line *out)
{
	const char *p = NULL, *end, *f;
	size_t n, mlen = sizeof(marker) - 1;
	struct reqlog_line l;
	long st, tr, ta, tt, sec_ms;
	long long sec;

	if (len > REQLOG_LINE_MAX)
		return SW_EPARSE;
	for (size_t i = 0; i + mlen <= len; i++)
		if (!memcmp(buf + i, marker, mlen) && (i == 0 || buf[i - 1] == ' ')) {
			p = buf + i + mlen;
			break;
		}
	if (!p)
		return SW_EPARSE;
	end = buf + len;
	while (end > p && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == '\0'))
		end--;
	memset(&l, 0, sizeof(l));
	/* %Ts.%ms: seconds, a dot, three digits */
	if (field(&p, end, &f, &n) < 0 || n < 5 || f[n - 4] != '.' || num(f + n - 3, 3, 0, 999, &sec_ms) < 0)
		return SW_EPARSE;
	{
		long s1;
		if (num(f, n - 4, 0, 99999999999L > LONG_MAX ? LONG_MAX : 99999999999L, &s1) < 0)
			return SW_EPARSE;
		sec = s1;
	}
	if (field(&p, end, &f, &n) < 0 || num(f, n, -1, 100000000, &tt) < 0)
		return SW_EPARSE;
	l.end_ms = sec * 1000 + sec_ms + (tt > 0 ? tt : 0);
	if (field(&p, end, &f, &n) < 0 || n >= sizeof(l.backend))
		return SW_EPARSE;
	memcpy(l.backend, f, n);
	if (field(&p, end, &f, &n) < 0)
		return SW_EPARSE;
	l.instance = -1;
	if (!(n >= 1 && f[0] == '<')) {
		const char *dash = NULL;
		long inst;
		for (size_t i = 0; i < n; i++)
			if (f[i] == '-')
				dash = f + i;
		if (!dash || dash == f || (size_t)(dash - f) >= sizeof(l.version) ||
		    num(dash + 1, (size_t)(f + n - dash - 1), 0, 1000000, &inst) < 0)
			return SW_EPARSE;
		memcpy(l.version, f, (size_t)(dash - f));
		l.instance = (int)inst;
	}
	if (field(&p, end, &f, &n) < 0 || num(f, n, -1, 999, &st) < 0)
		return SW_EPARSE;
	if (field(&p, end, &f, &n) < 0 || num(f, n, -1, 100000000, &tr) < 0)
		return SW_EPARSE;
	if (field(&p, end, &f, &n) < 0 || num(f, n, -1, 100000000, &ta) < 0)
		return SW_EPARSE;
	/* %HM: present, not checked (the method is not used by the aggregates) */
	if (field(&p, end, &f, &n) < 0)
		return SW_EPARSE;
	/* %hs, optional: "{...}" to the end of the line (a value may hold spaces) */
	if (p < end) {
		size_t rest = (size_t)(end - p);
		if (rest < 2 || p[0] != '{' || end[-1] != '}')
			return SW_EPARSE;
		if (rest > 2) {
			int nv = reqlog_parse_variants(p + 1, rest - 2, l.variants, REQLOG_MAX_VARIANTS);
			if (nv < 0)
				l.variants_bad = 1;
			else
				l.n_variants = nv;
		}
	}
	l.status = st < 0 ? 0 : (int)st;
	l.latency_ms = ta < 0 ? 0 : (int)ta;
	l.error = l.status >= 500 || l.status == 0;
	*out = l;
	return 0;
}

static int name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
	       c == '-' || c == ':' || c == '/';
}

int reqlog_parse_variants(const char *s, size_t len, struct reqlog_variant *v, int max)
{
	size_t i = 0;
	int n = 0;
	for (;;) {
		size_t a = i, eq, b;
		while (i < len && name_char(s[i]))
			i++;
		if (i == a || i - a > REQLOG_NAME_MAX || i >= len || s[i] != '=')
			return SW_EPARSE;
		eq = i++;
		b = i;
		while (i < len && name_char(s[i]))
			i++;
		if (i == b || i - b > REQLOG_NAME_MAX || n >= max)
			return SW_EPARSE;
		memcpy(v[n].flag, s + a, eq - a);
		v[n].flag[eq - a] = '\0';
		memcpy(v[n].variant, s + b, i - b);
		v[n].variant[i - b] = '\0';
		n++;
		if (i == len)
			return n;
		if (s[i] != ',')
			return SW_EPARSE;
		i++;
		while (i < len && s[i] == ' ')
			i++;
	}
}

/* buckets 0..31 exact; then for exponent e >= 5, 16 sub-buckets of width 2^(e-4) */
int hist_bucket(uint32_t ms)
{
	int e, b;
	if (ms < 32)
		return (int)ms;
	e = 31 - __builtin_clz(ms);	/* 5.. */
	b = 32 + (e - 5) * 16 + (int)((ms >> (e - 4)) & 15);
	return b < HIST_BUCKETS ? b : HIST_BUCKETS - 1;
}

uint32_t hist_bucket_upper(int b)
{
	int e, sub;
	if (b < 32)
		return (uint32_t)b;
	e = (b - 32) / 16 + 5;
	sub = (b - 32) % 16;
	return (uint32_t)(((16u + (uint32_t)sub + 1) << (e - 4)) - 1);
}

void hist_add(struct hist *h, uint32_t ms)
{
	h->n[hist_bucket(ms)]++;
	h->count++;
	if (ms > h->max_ms)
		h->max_ms = ms;
}

void hist_merge(struct hist *into, const struct hist *from)
{
	for (int i = 0; i < HIST_BUCKETS; i++)
		into->n[i] += from->n[i];
	into->count += from->count;
	if (from->max_ms > into->max_ms)
		into->max_ms = from->max_ms;
}

double hist_quantile(const struct hist *h, double q)
{
	uint64_t rank, seen = 0;
	if (!h->count)
		return 0;
	if (q <= 0)
		q = 1e-9;
	if (q > 1)
		q = 1;
	/* nearest-rank: the smallest value with at least q*count values at or below it */
	rank = (uint64_t)(q * (double)h->count);
	if ((double)rank < q * (double)h->count)
		rank++;
	if (rank < 1)
		rank = 1;
	for (int i = 0; i < HIST_BUCKETS; i++) {
		seen += h->n[i];
		if (seen >= rank) {
			uint32_t up = hist_bucket_upper(i);
			return up < h->max_ms ? up : h->max_ms;
		}
	}
	return h->max_ms;
}

void hist_encode(const struct hist *h, struct strbuf *out)
{
	int first = 1;
	for (int i = 0; i < HIST_BUCKETS; i++) {
		if (!h->n[i])
			continue;
		strbuf_addf(out, "%s%d:%u", first ? "" : ",", i, h->n[i]);
		first = 0;
	}
	strbuf_addf(out, ";%u", h->max_ms);
}

int hist_decode(struct hist *out, const char *s)
{
	struct hist h;
	char *end;
	memset(&h, 0, sizeof(h));
	while (*s && *s != ';') {
		long i;
		unsigned long c;
		errno = 0;
		i = strtol(s, &end, 10);
		if (errno || end == s || *end != ':' || i < 0 || i >= HIST_BUCKETS)
			return SW_EPARSE;
		s = end + 1;
		c = strtoul(s, &end, 10);
		if (errno || end == s || c > UINT32_MAX || *s == '-')
			return SW_EPARSE;
		h.n[i] += (uint32_t)c;
		h.count += c;
		s = end;
		if (*s == ',')
			s++;
		else if (*s != ';')
			return SW_EPARSE;
	}
	if (*s != ';')
		return SW_EPARSE;
	s++;
	{
		unsigned long m;
		errno = 0;
		m = strtoul(s, &end, 10);
		if (errno || end == s || *end || m > UINT32_MAX || *s == '-')
			return SW_EPARSE;
		h.max_ms = (uint32_t)m;
	}
	*out = h;
	return 0;
}
