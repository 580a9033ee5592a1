/* test_base.c - strbuf, time and duration arithmetic, errors. */
#include "tap.h"
#include <errno.h>
#include <string.h>
#include "base/err.h"
#include "base/fmt.h"
#include "base/limits.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "base/url.h"

int main(void)
{
	struct strbuf sb = STRBUF_INIT, err = STRBUF_INIT;
	char buf[RFC3339_BUFSZ], dbuf[DURATION_BUFSZ];
	int64_t ms = 0, days = 0;
	struct civil c;

	/* URLs from service files: redacted passwords, checks at load (base/url.h) */
	{
		static const char *const redact[][2] = {
			{ "http://user:s3cret@127.0.0.1:9/d", "http://user:***@127.0.0.1:9/d" },
			{ "https://u:p:q@h/x@y", "https://u:***@h/x@y" },
			{ "http://user@h/d", "http://user@h/d" },
			{ "http://h/d?a=b:c@d", "http://h/d?a=b:c@d" },
			{ "http://:pw@h", "http://:***@h" },
			{ "ftp://u:p@h/", "ftp://u:p@h/" },
		};
		static const char *const good[] = { "http://h", "https://grafana.example.com:443/d/x?o=1#p",
						    "http://u:p@127.0.0.1:65535/", "http://[::1]:3000/d", "http://h:1" };
		static const char *const bad[][2] = {
			{ "http://127.0.0.1:99999/d", "port '99999'" }, { "http://h:0/", "port '0'" },
			{ "http://h:/", "port ''" },			{ "http://h:80x/", "port '80x'" },
			{ "http:///d", "no host" },			{ "http://u:p@/d", "no host" },
			{ "http://a b/", "space" },			{ "http://[::1/", "closing ']'" },
			{ "http://[::1]x/", "':PORT'" },		{ "http://h^/", "'^' in its host" },
			{ "grafana/d", "http:// or https://" },
		};
		for (size_t i = 0; i < sizeof(redact) / sizeof(redact[0]); i++) {
			strbuf_reset(&sb);
			url_redact(redact[i][0], &sb);
			is_str(sb.buf, redact[i][1], "url_redact %s", redact[i][0]);
		}
		for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
			is_int(url_check(good[i], NULL), 0, "url_check accepts %s", good[i]);
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			strbuf_reset(&err);
			is_int(url_check(bad[i][0], &err), SW_EPARSE, "url_check refuses %s", bad[i][0]);
			ok(strstr(err.buf, bad[i][1]) != NULL, "and says '%s': %s", bad[i][1], err.buf);
		}
		strbuf_reset(&sb);
		strbuf_reset(&err);
	}

	strbuf_addf(&sb, "%s-%d", "x", 42);
	is_str(sb.buf, "x-42", "strbuf_addf formats");
	for (int i = 0; i < 1000; i++)
		strbuf_addch(&sb, 'a');
	is_int(sb.len, 1004, "strbuf grows");
	strbuf_release(&sb);
	is_int(sb.len, 0, "strbuf_release resets");

	is_int(time_parse_rfc3339("2026-12-03T15:00:00Z", &ms, &err), 0, "parse RFC 3339");
	is_str(time_format_rfc3339(ms, buf), "2026-12-03T15:00:00Z", "format RFC 3339 round-trips");
	civil_from_ms(ms, &c);
	is_int(c.wday, 4, "2026-12-03 is a Thursday");
	is_int(time_parse_rfc3339("2026-12-03T16:00:00+01:00", &ms, &err), 0, "offset accepted");
	is_str(time_format_rfc3339(ms, buf), "2026-12-03T15:00:00Z", "offset applied");
	is_int(time_parse_rfc3339("2026-02-29T00:00:00Z", &ms, &err), SW_EPARSE, "2026-02-29 rejected");
	ok(strstr(err.buf, "RFC 3339") != NULL, "error says what is valid");
	is_int(time_parse_rfc3339("2024-02-29T00:00:00Z", &ms, NULL), 0, "2024-02-29 accepted (leap year)");
	is_int(time_parse_rfc3339("1969-12-31T23:59:59Z", &ms, NULL), 0, "before the epoch");
	is_int(ms, -1000, "negative ms");
	civil_from_ms(ms, &c);
	ok(c.year == 1969 && c.month == 12 && c.day == 31 && c.wday == 3, "civil before the epoch");
	is_int(date_parse("2026-12-15", &days, NULL), 0, "date parses");
	is_int(days, days_from_civil(2026, 12, 15), "date value");

	is_int(duration_parse("1m", &ms, NULL), 0, "1m");
	is_int(ms, 60000, "1m = 60000 ms");
	is_int(duration_parse("1h30m", &ms, NULL), 0, "1h30m");
	is_int(ms, 5400000, "1h30m value");
	is_int(duration_parse("500ms", &ms, NULL), 0, "500ms");
	is_int(ms, 500, "500ms value");
	is_int(duration_parse("90", &ms, NULL), 0, "bare seconds");
	is_int(ms, 90000, "90 s");
	is_int(duration_parse("5x", &ms, NULL), SW_EPARSE, "bad unit rejected");
	is_int(duration_parse("", &ms, NULL), SW_EPARSE, "empty rejected");
	is_str(duration_format(5400000, dbuf), "1h30m", "duration_format");
	is_str(duration_format(250, dbuf), "250ms", "duration_format ms");

	is_str(slipway_strerror(SW_EPOLICY), "invalid policy", "slipway_strerror");
	/* the error table's exit column (docs/exit-codes.md) */
	is_int(slipway_error_exit(0), 0, "success exits 0");
	is_int(slipway_error_exit(SW_ENOTFOUND), 2, "not found exits 2");
	is_int(slipway_error_exit(SW_EUSAGE), 2, "bad usage exits 2");
	is_int(slipway_error_exit(SW_EDENIED), 1, "denied exits 1");
	is_int(slipway_error_exit(SW_ESTATE), 1, "not in this state exits 1");
	is_int(slipway_error_exit(SW_ESTORE), 3, "store error exits 3");
	is_int(slipway_error_exit(-ENOENT), 3, "-errno exits 3");

	/* bounded formatting: a name fills its field exactly or is refused, never cut */
	{
		char name[SW_NAME_MAX + 1], small[8];
		char long_name[SW_NAME_MAX + 2];
		memset(long_name, 'a', SW_NAME_MAX);
		long_name[SW_NAME_MAX] = '\0';
		is_int(xsnprintf(name, sizeof(name), "%s", long_name), SW_NAME_MAX, "a 64-byte name fits its field");
		is_str(name, long_name, "all 64 bytes of it");
		long_name[SW_NAME_MAX] = 'b';
		long_name[SW_NAME_MAX + 1] = '\0';
		is_int(bsnprintf(name, sizeof(name), "%s", long_name), SW_ETOOBIG, "65 bytes: bsnprintf says too big");
		is_str(name, "", "and leaves an empty string, not a cut name");
		is_int(bprintf(small, sizeof(small), "%s", "abcdefghij"), 1, "bprintf says it cut");
		is_str(small, "abcd...", "and marks the cut");
		is_int(bprintf(small, sizeof(small), "%s", "abc"), 0, "a short text is not cut");
		is_str(small, "abc", "and is unchanged");
	}
	strbuf_release(&err);
	return tap_done();
}
