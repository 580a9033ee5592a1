/* cli_policy.c - load the effective policy once per command, and rollout files; see cli_policy.h. */
#include "cli/cli_policy.h"
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "base/strbuf.h"
#include "core/calendar.h"
#include "core/rollout_config.h"

void cli_policy_release(struct cli_policy *l)
{
	if (l->have_policy)
		policy_release(&l->p);
	l->have_policy = 0;
	tz_system_close(&l->tz);
}

int cli_policy_load(const char *path, struct cli_policy *l)
{
	struct strbuf buf = STRBUF_INIT, err = STRBUF_INIT;
	int r;

	memset(l, 0, sizeof(*l));
	if (!path) {
		policy_init_default(&l->p);
	} else {
		if (strbuf_read_file_max(&buf, path, POLICY_FILE_MAX, &err) < 0) {
			cli_error("cannot read the policy: %s", err.buf);
			strbuf_release(&buf);
			strbuf_release(&err);
			return EXIT_USAGE;
		}
		r = policy_load(&l->p, buf.buf, buf.len, path, &tz_system_db, &err);
		strbuf_release(&buf);
		if (r < 0) {
			/* compiler style: the line itself names FILE:LINE:COL */
			fprintf(stderr, "%s\n", err.buf);
			strbuf_release(&err);
			return EXIT_USAGE;
		}
	}
	l->have_policy = 1;
	if (tz_system_open(&l->tz, l->p.timezone, &err) < 0) {
		cli_error("%s", err.buf);
		strbuf_release(&err);
		cli_policy_release(l);
		return EXIT_USAGE;
	}
	strbuf_release(&err);
	return EXIT_OK;
}

int cli_policy_rules(void *ctx, const char *type, struct type_rules *out, struct strbuf *err)
{
	const struct cli_policy *l = ctx;
	return policy_type_rules(&l->p, type, out, err);
}

int policy_approvals_at(const struct cli_policy *l, const char *type, const char *cls, int64_t at_ms,
			const char **out, size_t max, struct strbuf *err)
{
	struct calendar_result r;
	const char *window = NULL;
	int n;

	if (calendar_check(&l->p, &l->tz.zone, type, cls, at_ms, &r, err) < 0)
		return SW_EPOLICY;
	window = r.window;	/* borrowed from the policy, not from r */
	calendar_result_release(&r);
	n = policy_required_approvals(&l->p, type, window, out, max, err);
	return n;
}

int cli_read_rollout_config(const char *path, struct rollout_config *cfg)
{
	struct strbuf sb = STRBUF_INIT, err = STRBUF_INIT;
	int r = strbuf_read_file_max(&sb, path, ROLLOUT_CONFIG_MAX_BYTES, &err);
	if (r >= 0)
		r = rollout_config_parse(sb.buf, sb.len, path, cfg, &err);
	if (r < 0)
		cli_error("%s", err.buf);
	strbuf_release(&sb);
	strbuf_release(&err);
	return r;
}

int cli_type_rules(const char *path, const char *type, struct type_rules *out)
{
	struct strbuf err = STRBUF_INIT;
	struct cli_policy pol;
	int rc = cli_policy_load(path, &pol);
	if (rc != EXIT_OK)
		return rc;
	if (policy_type_rules(&pol.p, type, out, &err) < 0) {
		cli_error("%s", err.buf);
		rc = EXIT_USAGE;
	}
	cli_policy_release(&pol);
	strbuf_release(&err);
	return rc;
}
