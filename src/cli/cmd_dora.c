/*
 * cmd_dora.c - `slipway dora`: the runbook's "Deployment Metrics to Track"
 * beside their targets and thresholds, and a monthly trend (core/dora.h for
 * the definitions, docs/dora.md for how they relate to DORA's).
 */
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/cli_policy.h"
#include "cli/records_util.h"
#include "cli/vocab.h"
#include "server/documents.h"
#include "adapters/dora_store.h"
#include "base/strbuf.h"
#include "base/timeutil.h"

#include <stdio.h>
#include <stdlib.h>

const char usage_dora[] =
	"usage: slipway dora [--service S] [--env ENV] [--since DATE] [--until DATE] [-o json]\n"
	"\n"
	"Deployment metrics over [--since, --until) (default: the 90 days up to now)\n"
	"for ENV (default production), all services or one: deployment frequency,\n"
	"lead time for changes, deployment failure rate, mean time to recovery (from\n"
	"rollbacks and from incidents) and change failure rate, each beside the\n"
	"runbook's target and threshold with a status (meets target, within\n"
	"threshold, outside), and a monthly trend chart.  DATE is YYYY-MM-DD or an\n"
	"RFC 3339 time.  Definitions: docs/dora.md.\n";

int cmd_dora(int argc, char **argv, struct cli_ctx *ctx)
{
	const char *service = NULL, *env = "production", *since_s = NULL, *until_s = NULL;
	const struct cli_option opts[] = {
		CLI_STRING("service", 0, &service),
		CLI_STRING("env", 0, &env),
		CLI_STRING("since", 0, &since_s),
		CLI_STRING("until", 0, &until_s),
		CLI_OPTIONS_END,
	};
	struct store *st;
	struct strbuf err = STRBUF_INIT, chart = STRBUF_INIT;
	struct dora_targets targets;
	struct dora_deploy *d = NULL;
	struct dora_incident *inc = NULL;
	struct dora_report rep = { 0 };
	size_t n = 0, ni = 0;
	int64_t from = 0, to = 0;
	int have_from, have_to, rc, r;

	if ((rc = cli_parse(ctx, argc, argv, opts, NULL, NULL)) != EXIT_OK)
		return rc;
	have_from = since_s != NULL;
	have_to = until_s != NULL;
	if ((have_from && records_parse_time("--since", since_s, &from)) ||
	    (have_to && records_parse_time("--until", until_s, &to)))
		return EXIT_USAGE;
	if (!have_to)
		to = cli_now_ms();
	if (!have_from)
		from = to - 90 * MS_PER_DAY;
	if (to <= from) {
		cli_error("--since must be before --until");
		return EXIT_USAGE;
	}
	{
		/* targets and thresholds: the effective policy's metrics: table */
		struct policy_file pol;
		if ((rc = cli_policy_load(ctx->policy_path, &pol)) != EXIT_OK)
			return rc;
		dora_targets_from_policy(&pol.p, &targets);
		cli_policy_release(&pol);
	}
	if ((rc = cli_store(ctx, &st)) != EXIT_OK)
		return rc;
	if ((r = dora_load(st, service, env, from, to, &d, &n, &inc, &ni, &err)) ||
	    (r = dora_compute(d, n, inc, ni, from, to, &targets, &rep, &err))) {
		cli_error("%s", err.buf);
		rc = cli_exit(r);
		goto out;
	}
	if (ctx->output == OUTPUT_JSON) {
		cli_print_json(doc_dora_report(&rep, env, service, from, to));
	} else {
		char a[RFC3339_BUFSZ], b[RFC3339_BUFSZ];
		printf("Deployment metrics: %s, %s, %s .. %s\n", env, service ? service : "all services",
		       time_format_rfc3339(from, a), time_format_rfc3339(to, b));
		printf("deployments finished: %lld (succeeded %lld, rolled back %lld, failed %lld); incidents resolved: %lld\n\n",
		       (long long)rep.finished, (long long)rep.succeeded, (long long)rep.rolled_back, (long long)rep.failed,
		       (long long)rep.m[DORA_M_MTTR_INCIDENT].samples);
		printf("%-34s %-34s %-9s %-15s %s\n", "METRIC", "VALUE", "TARGET", "THRESHOLD", "STATUS");
		for (int i = 0; i < DORA_M_COUNT; i++)
			printf("%-34s %-34s %-9s %-15s %s\n", rep.m[i].name, rep.m[i].display, rep.m[i].target,
			       rep.m[i].threshold, dora_status_str(rep.m[i].status));
		dora_chart(&rep, 40, &chart);
		printf("\nMonthly trend (bars: successful deployments; fail: deployment failure rate; cfr: change failure rate;\n"
		       "lead: median lead time):\n%s", chart.buf);
	}
out:
	free(d);
	free(inc);
	dora_report_release(&rep);
	strbuf_release(&err);
	strbuf_release(&chart);
	return rc;
}
