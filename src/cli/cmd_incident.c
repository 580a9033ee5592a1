/*
 * cmd_incident.c - `slipway incident open|resolve|list` (runbook:
 * Pre-Deployment Checklist "No active incidents in production",
 * incident-status.sh).  An open incident blocks deployments to its
 * environment except emergencies (adapters/incidents.h incidents_gate()).
 */
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/records_util.h"
#include "adapters/incidents.h"
#include "base/strbuf.h"
#include "base/err.h"
#include "base/timeutil.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

const char usage_incident[] =
	"usage: slipway incident open SERVICE --title TEXT [--env ENV] [--deployment ID] [-o json]\n"
	"       slipway incident resolve ID [-o json]\n"
	"       slipway incident list [--env ENV] [--open] [-o json]\n"
	"       slipway incident check [--env ENV] [--type TYPE] [-o json]\n"
	"\n"
	"Incidents.  An open incident in an environment (default production) blocks\n"
	"deployments there, except --type emergency.  --deployment names the\n"
	"deployment that caused it (counted in DORA's change failure rate).\n"
	"'check' answers whether a deployment of TYPE may start in ENV now\n"
	"(exit 0 yes, 1 blocked).  Opening and resolving are audit entries.\n";

static json_t *incident_json(const struct incident *i)
{
	char a[RFC3339_BUFSZ], b[RFC3339_BUFSZ];
	json_t *j = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s}", "id", (json_int_t)i->id, "service", i->service,
			      "env", i->env, "title", i->title, "state", i->resolved_ms ? "resolved" : "open",
			      "opened_by", i->opened_by, "opened_at", time_format_rfc3339(i->opened_ms, a));
	if (i->resolved_ms) {
		json_object_set_new(j, "resolved_at", json_string(time_format_rfc3339(i->resolved_ms, b)));
		json_object_set_new(j, "resolved_by", json_string(i->resolved_by ? i->resolved_by : ""));
	}
	if (i->deployment_id)
		json_object_set_new(j, "deployment_id", json_integer(i->deployment_id));
	return j;
}

int cmd_incident(int argc, char **argv, struct cli_ctx *ctx)
{
	static const struct option opts[] = {
		{ "title", required_argument, NULL, 't' },
		{ "env", required_argument, NULL, 'e' },
		{ "deployment", required_argument, NULL, 'd' },
		{ "open", no_argument, NULL, 'O' },
		{ "type", required_argument, NULL, 'T' },
		{ "output", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	const char *sub, *title = NULL, *env = NULL, *type = "standard";
	struct store st = { 0 };
	struct strbuf err = STRBUF_INIT;
	int64_t dep = 0;
	int open_only = 0, c, rc;

	if (argc < 2)
		return cli_usage_error(ctx, "incident", "give a subcommand: open, resolve, list, check");
	sub = argv[1];
	argc--;
	argv++;
	while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		switch (c) {
		case 't': title = optarg; break;
		case 'e': env = optarg; break;
		case 'd':
			if (records_parse_id("--deployment", optarg, &dep))
				return EXIT_USAGE;
			break;
		case 'O': open_only = 1; break;
		case 'T': type = optarg; break;
		case 'o':
			if (cli_parse_output(ctx, optarg))
				return EXIT_USAGE;
			break;
		default:
			return cli_usage_error(ctx, "incident", "bad option or missing value (see above)");
		}
	}
	if (!strcmp(sub, "open")) {
		const char *who;
		int64_t id;
		if (optind + 1 != argc)
			return cli_usage_error(ctx, "incident", "give one SERVICE");
		if (!title || !*title)
			return cli_usage_error(ctx, "incident", "--title TEXT is required");
		if ((rc = records_store_open(ctx, &st)) != EXIT_OK)
			return rc;
		who = records_caller(NULL);
		id = incident_open(&st, argv[optind], env ? env : "production", title, who, dep, records_now_ms(), &err);
		if (id < 0) {
			cli_error("%s", err.buf);
			rc = EXIT_RUNTIME;
		} else if (ctx->output == OUTPUT_JSON) {
			cli_print_json(json_pack("{s:I, s:s, s:s, s:s}", "id", (json_int_t)id, "service", argv[optind],
						 "env", env ? env : "production", "state", "open"));
		} else {
			printf("opened incident %lld in %s: %s\n", (long long)id, env ? env : "production", title);
		}
	} else if (!strcmp(sub, "resolve")) {
		int64_t id;
		int r;
		if (optind + 1 != argc)
			return cli_usage_error(ctx, "incident", "give one incident ID");
		if (records_parse_id("incident", argv[optind], &id))
			return EXIT_USAGE;
		if ((rc = records_store_open(ctx, &st)) != EXIT_OK)
			return rc;
		r = incident_resolve(&st, id, records_caller(NULL), records_now_ms(), &err);
		if (r) {
			cli_error("%s", err.buf);
			rc = r == SW_ENOTFOUND ? EXIT_USAGE : r == SW_ESTATE ? EXIT_NO : EXIT_RUNTIME;
		} else if (ctx->output == OUTPUT_JSON) {
			cli_print_json(json_pack("{s:I, s:s}", "id", (json_int_t)id, "state", "resolved"));
		} else {
			printf("resolved incident %lld\n", (long long)id);
		}
	} else if (!strcmp(sub, "list")) {
		struct incident *v = NULL;
		size_t n = 0;
		if (optind != argc)
			return cli_usage_error(ctx, "incident", "unexpected argument '%s'", argv[optind]);
		if ((rc = records_store_open(ctx, &st)) != EXIT_OK)
			return rc;
		if (incident_list(&st, env, open_only, &v, &n, &err)) {
			cli_error("%s", err.buf);
			rc = EXIT_RUNTIME;
		} else if (ctx->output == OUTPUT_JSON) {
			json_t *a = json_array();
			for (size_t i = 0; i < n; i++)
				json_array_append_new(a, incident_json(&v[i]));
			cli_print_json(a);
		} else {
			char at[RFC3339_BUFSZ];
			if (!n)
				printf("no incidents\n");
			for (size_t i = 0; i < n; i++)
				printf("%-4lld %-8s %-12s %-16s %-20s %s\n", (long long)v[i].id,
				       v[i].resolved_ms ? "resolved" : "open", v[i].env, v[i].service,
				       time_format_rfc3339(v[i].opened_ms, at), v[i].title);
		}
		incidents_free(v, n);
	} else if (!strcmp(sub, "check")) {
		int64_t *ids = NULL;
		size_t n = 0;
		int r;
		if ((rc = records_store_open(ctx, &st)) != EXIT_OK)
			return rc;
		r = incidents_gate(&st, env ? env : "production", type, &ids, &n, &err);
		if (r && r != SW_EDENIED) {
			cli_error("%s", err.buf);
			rc = EXIT_RUNTIME;
		} else {
			rc = r ? EXIT_NO : EXIT_OK;
			if (ctx->output == OUTPUT_JSON) {
				json_t *a = json_array();
				for (size_t i = 0; i < n; i++)
					json_array_append_new(a, json_integer(ids[i]));
				cli_print_json(json_pack("{s:b, s:s, s:s, s:o, s:s}", "allowed", !r, "env",
							 env ? env : "production", "type", type, "blocked_by", a, "reason",
							 r ? err.buf : ""));
			} else {
				printf("%s\n", r ? err.buf : "no open incidents block it");
			}
		}
		free(ids);
	} else {
		return cli_usage_error(ctx, "incident", "unknown subcommand '%s'; valid: open, resolve, list, check", sub);
	}
	strbuf_release(&err);
	store_close(&st);
	return rc;
}
