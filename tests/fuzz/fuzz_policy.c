/*
 * fuzz_policy.c - libFuzzer target for the policy loader (policy_load), the
 * parser of the one outside file every command reads.
 *
 * Besides "never crash, never leak", it checks two properties on every
 * input that loads: the effective policy printed by policy_format_yaml()
 * loads again (the `slipway policy show` round trip), and the calendar can
 * evaluate a check on it.  The zone database is a stub, so no I/O happens.
 * Built and run by tests/cli/fuzz.sh; sources: fuzz_policy.sources.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"
#include "base/timeutil.h"
#include "core/calendar.h"
#include "core/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int stub_exists(void *ctx, const char *name)
{
	return !strcmp(name, "Europe/Berlin") || !strcmp(name, "America/New_York");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct tz_db db = { NULL, stub_exists };
	struct strbuf err = STRBUF_INIT, shown = STRBUF_INIT;
	struct policy p, q;
	struct tz_zone utc;
	struct calendar_result r;

	if (policy_load(&p, (const char *)data, size, "fuzz.yaml", &db, &err) < 0) {
		if (!err.len)
			abort();	/* every failure must say why */
		strbuf_release(&err);
		return 0;
	}
	policy_format_yaml(&p, &shown);
	if (policy_load(&q, shown.buf, shown.len, "shown.yaml", &db, &err) < 0) {
		fprintf(stderr, "shown policy does not reload: %s\n%s\n", err.buf, shown.buf);
		abort();
	}
	policy_release(&q);
	tz_zone_fixed(&utc, 0);
	if (p.types_nr && calendar_check(&p, &utc, p.types[0].name, NULL, 1796310000000LL, &r, NULL) == 0)
		calendar_result_release(&r);
	policy_release(&p);
	strbuf_release(&shown);
	strbuf_release(&err);
	return 0;
}
