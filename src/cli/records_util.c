/* records_util.c - shared pieces of the record commands; see records_util.h. */
#include "cli/records_util.h"
#include "cli/cli_policy.h"
#include "adapters/approvals.h"
#include "adapters/audit.h"
#include "adapters/deployment_store.h"
#include "adapters/emergency.h"
#include "adapters/incidents.h"
#include "adapters/notify.h"
#include "adapters/records.h"
#include "base/err.h"
#include "base/strbuf.h"
#include "base/timeutil.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int records_parse_time(const char *option, const char *s, int64_t *ms)
{
	struct strbuf err = STRBUF_INIT;
	int64_t days;

	if (strlen(s) == 10 && !date_parse(s, &days, NULL)) {
		*ms = days * MS_PER_DAY;
		return 0;
	}
	if (!time_parse_rfc3339(s, ms, &err)) {
		strbuf_release(&err);
		return 0;
	}
	cli_error("%s '%s': not a date; give YYYY-MM-DD or an RFC 3339 time such as 2026-12-03T15:00:00Z",
		  option, s);
	strbuf_release(&err);
	return -1;
}

int records_parse_id(const char *what, const char *s, int64_t *id)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v <= 0) {
		cli_error("%s '%s' is not an id; give a positive number such as 12", what, s);
		return -1;
	}
	*id = v;
	return 0;
}

int records_roles(const struct cli_ctx *ctx, struct policy_file *pol, struct roles_map *m)
{
	memset(m, 0, sizeof(*m));
	if (cli_policy_load(ctx->policy_path, pol) != EXIT_OK)
		return -1;
	roles_map_from_policy(&pol->p, m);
	return 0;
}

int records_notify_config(const struct cli_ctx *ctx, struct notify_config *cfg)
{
	struct strbuf err = STRBUF_INIT;
	const char *env = getenv("SLIPWAY_NOTIFICATIONS");
	const char *candidates[3];
	int n = 0, r;

	if (env && *env)
		candidates[n++] = env;
	else {
		if (ctx->policy_path)
			candidates[n++] = ctx->policy_path;
		if (access("notifications.yaml", F_OK) == 0)
			candidates[n++] = "notifications.yaml";
	}
	for (int i = 0; i < n; i++) {
		r = notify_config_load(candidates[i], cfg, &err);
		if (r == 0) {
			strbuf_release(&err);
			return 0;
		}
		if (r < 0) {
			cli_error("%s", err.buf);
			strbuf_release(&err);
			return -1;
		}
		/* 1: that file has no notifications section; try the next */
		if (env && *env) {
			cli_error("%s: no 'notifications:' section; see docs/records.md", env);
			return -1;
		}
	}
	notify_config_default(cfg, ctx->state_dir);
	strbuf_release(&err);
	return 0;
}

const char *records_time(int64_t ms, char buf[32])
{
	if (ms == RECORD_TIME_NONE || ms == 0) {
		snprintf(buf, 32, "-");
		return buf;
	}
	return time_format_rfc3339(ms, buf);
}
