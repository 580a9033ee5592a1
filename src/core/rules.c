/*
 * rules.c - the runbook v1.0 rules as data (see rules.h).  The policy module
 * replaces this table with slipway.yaml; the engine only sees the struct.
 */
#include "core/rules.h"
#include "base/err.h"
#include "base/strbuf.h"
#include "base/timeutil.h"

#include <stdio.h>
#include <string.h>

static const struct {
	const char *type, *strategy;
	int64_t monitoring_ms;
	enum type_criterion criterion;
} table[] = {
	{ "standard", "canary", 30 * MS_PER_MIN, TYPE_CRIT_ERROR_RATE },
	{ "hotfix", "fast-progressive", 15 * MS_PER_MIN, TYPE_CRIT_ANY_REGRESSION },
	{ "emergency", "full", MONITORING_CONTINUOUS, TYPE_CRIT_WORSE_THAN_BASELINE },
	{ "database-migration", "blue-green", MS_PER_HOUR, TYPE_CRIT_ANY_ERROR },
	{ "infrastructure-change", "region-by-region", MS_PER_HOUR, TYPE_CRIT_AVAILABILITY },
};

int type_rules_default(const char *type, struct type_rules *out, struct strbuf *err)
{
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		if (strcmp(table[i].type, type))
			continue;
		memset(out, 0, sizeof(*out));
		snprintf(out->type, sizeof(out->type), "%s", table[i].type);
		snprintf(out->strategy, sizeof(out->strategy), "%s", table[i].strategy);
		out->monitoring_ms = table[i].monitoring_ms;
		out->criterion = table[i].criterion;
		out->criterion_error_rate_pct = 1.0;
		out->immediate_error_rate_pct = 5.0;
		out->immediate_p99_ratio = 3.0;
		out->consider_error_rate_pct = 1.0;
		out->consider_p99_ratio = 2.0;
		return 0;
	}
	strbuf_errf(err, "unknown deployment type '%s'; valid: standard, hotfix, emergency, "
		    "database-migration, infrastructure-change", type);
	return SW_EUSAGE;
}

const char *type_criterion_name(enum type_criterion c)
{
	switch (c) {
	case TYPE_CRIT_ERROR_RATE: return "error-rate";
	case TYPE_CRIT_ANY_REGRESSION: return "any-regression";
	case TYPE_CRIT_WORSE_THAN_BASELINE: return "worse-than-baseline";
	case TYPE_CRIT_ANY_ERROR: return "any-error";
	case TYPE_CRIT_AVAILABILITY: return "availability";
	}
	return "unknown";
}
