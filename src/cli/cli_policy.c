/* cli_policy.c - load the effective policy once per command, and rollout files; see cli_policy.h. */
#include "cli/cli_policy.h"
#include "core/checklist.h"
#include "cli/cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "core/calendar.h"
#include "core/rollout_config.h"
#include "core/rules.h"
#include "core/plugin_names.h"
#include "core/service.h"

void cli_policy_release(struct policy_file *l)
{
	policy_file_release(l);
}

void cli_policy_print_errors(const char *msg)
{
	const char *line = msg, *nl;

	for (; line && *line; line = nl ? nl + 1 : NULL) {
		int n;
		nl = strchr(line, '\n');
		n = nl ? (int)(nl - line) : (int)strlen(line);
		if (!n)
			continue;
		if (!strncmp(line, "warning: ", 9))
			cli_warning("%.*s", n - 9, line + 9);
		else
			cli_error("%.*s", n, line);
	}
}

int cli_policy_load(const char *path, struct policy_file *l)
{
	struct strbuf err = STRBUF_INIT;
	int r = policy_file_load(path, l, NULL, &err);

	if (r < 0) {
		cli_policy_print_errors(err.buf);
	} else {
		/* what the file did that a team rarely means (core/checklist.h), once per process */
		static int warned;
		strbuf_reset(&err);
		if (!warned && checklist_warnings(&l->p.checklists, &err) > 0) {
			warned = 1;
			cli_policy_print_errors(err.buf);
		}
	}
	strbuf_release(&err);
	return r < 0 ? EXIT_USAGE : EXIT_OK;
}

int cli_policy_rules(void *ctx, const char *type, struct type_rules *out, struct strbuf *err)
{
	const struct policy_file *l = ctx;
	return policy_type_rules(&l->p, type, out, err);
}

int cli_read_rollout_config(const char *path, struct rollout_config *cfg)
{
	struct strbuf sb = STRBUF_INIT, err = STRBUF_INIT;
	int r = strbuf_read_file_max(&sb, path, ROLLOUT_CONFIG_MAX_BYTES, &err);
	if (r >= 0)
		r = rollout_config_parse(sb.buf, sb.len, path, cfg, &err);
	if (r < 0)
		cli_error("%s", err.buf);
	else if (cfg->warning[0])
		cli_warning("%s", cfg->warning);
	strbuf_release(&sb);
	strbuf_release(&err);
	return r;
}

int cli_type_rules(const char *path, const char *type, struct type_rules *out)
{
	struct strbuf err = STRBUF_INIT;
	struct policy_file pol;
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

/* a line that starts with `command:`: only service files have that key at the top level */
static int looks_like_service(const char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((i == 0 || buf[i - 1] == '\n') && len - i >= 8 && !memcmp(buf + i, "command:", 8))
			return 1;
	return 0;
}

int cli_read_strategy_file(const char *path, const struct type_rules *rules, struct rollout_config *cfg, char *judge,
			   size_t judge_n)
{
	struct strbuf sb = STRBUF_INIT, err = STRBUF_INIT, canary = STRBUF_INIT;
	struct service svc = { 0 };
	enum strategy_kind kind;
	int r = strbuf_read_file_max(&sb, path, ROLLOUT_CONFIG_MAX_BYTES, &err);
	if (judge && judge_n)
		judge[0] = '\0';
	if (r >= 0 && !looks_like_service(sb.buf, sb.len)) {
		r = rollout_config_parse(sb.buf, sb.len, path, cfg, &err);
		if (r >= 0 && cfg->warning[0])
			cli_warning("%s", cfg->warning);
	} else if (r >= 0 && (r = service_parse(&svc, path, sb.buf, sb.len, NULL, &err)) >= 0) {
		if (judge && judge_n)
			snprintf(judge, judge_n, "%s", svc.judge);
		if (svc.analysis_canary) {
			const char *slash = strrchr(path, '/');
			if (svc.analysis_canary[0] != '/' && slash)
				strbuf_add(&canary, path, (size_t)(slash - path) + 1);
			strbuf_addstr(&canary, svc.analysis_canary);
			if (access(canary.buf, R_OK) < 0) {
				strbuf_errf(&err, "%s: analysis.canary: %s: cannot open: %s", path, canary.buf,
					    strerror(errno));
				r = -1;
			} else if ((r = cli_read_rollout_config(canary.buf, cfg)) < 0) {
				err.len = 0;	/* printed */
			}
		} else if ((r = strategy_kind_parse(rules->strategy, &kind, &err)) >= 0 &&
			   (r = service_strategy(&svc, kind, &cfg->strategy, &err)) >= 0) {
			snprintf(cfg->format, sizeof(cfg->format), "service");
			snprintf(cfg->name, sizeof(cfg->name), "%.*s", (int)sizeof(cfg->name) - 1, svc.name);
		}
	}
	if (r < 0 && err.len)
		cli_error("%s", err.buf);
	service_release(&svc);
	strbuf_release(&canary);
	strbuf_release(&sb);
	strbuf_release(&err);
	return r;
}

void cli_apply_service_judge(struct type_rules *rules, const char *flag, const char *svc_judge)
{
	const char *name = flag;
	if (!name && svc_judge && svc_judge[0] && strcmp(svc_judge, plugin_default(PLUGIN_JUDGE)))
		name = svc_judge;
	if (name)
		snprintf(rules->judge.name, sizeof(rules->judge.name), "%s", name);
}

int cli_step_is_manual(const struct rollout_config *cfg, int i)
{
	for (int k = 0; k < cfg->argo.n_manual; k++)
		if (cfg->argo.manual[k] == i)
			return 1;
	return 0;
}

int cli_warn_unjudged(const char *what, const struct rollout_config *cfg, const struct type_rules *rules,
		      int through_monitoring)
{
	int judged = 0;
	if (!through_monitoring) {
		for (int k = 0; k < cfg->strategy.n_steps; k++)
			judged += cfg->strategy.steps[k].weight > 0 && !cfg->strategy.steps[k].idle;
		if (judged)
			return 0;
		cli_warning("%s: no step puts traffic on the new revision before promotion (strategy %s), so nothing "
			    "is judged before it; add --through-monitoring to judge the monitoring period at 100%%",
			    what ? what : "the type's default strategy", strategy_kind_name(cfg->strategy.kind));
		return 1;
	}
	if (rules->monitoring_ms != MONITORING_CONTINUOUS)
		return 0;
	cli_warning("type %s monitors continuously until a person promotes, which nobody does in a replay: with "
		    "--through-monitoring a run that is not rolled back ends unfinished", rules->type);
	return 1;
}

const char *cli_step_hold(const struct rollout_config *cfg, int i, char *buf, size_t n)
{
	char d[DURATION_BUFSZ];

	if (cli_step_is_manual(cfg, i))
		snprintf(buf, n, "wait for a person's promote");
	else if (cfg->strategy.steps[i].hold_ms <= 0)
		snprintf(buf, n, "no hold");
	else
		snprintf(buf, n, "hold %s", duration_format(cfg->strategy.steps[i].hold_ms, d));
	return buf;
}
