/*
 * cmd_incident.c - `slipway incident open|resolve|list` (runbook:
 * Pre-Deployment Checklist "No active incidents in production",
 * incident-status.sh).  An open incident blocks deployments to its
 * environment except emergencies (adapters/incidents.h incidents_gate()).
 */
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/records_util.h"
#include "cli/vocab.h"
#include "server/documents.h"
#include "adapters/incidents.h"
#include "base/alloc.h"
#include "base/err.h"
#include "base/strbuf.h"
#include "base/timeutil.h"

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

static json_t *incident_doc(const struct incident *i)
{
	json_t *j = cli_doc("Incident");
	json_object_update_new(j, cli_incident_json(i));
	return j;
}

/* The Incident document of id, as stored. */
static int print_incident(struct store *st, int64_t id)
{
	struct strbuf err = STRBUF_INIT;
	struct incident *v = NULL;
	size_t n = 0;
	int r = incident_list(st, NULL, 0, &v, &n, &err), rc = EXIT_OK, found = 0;
	if (r) {
		cli_error("%s", err.buf);
		rc = cli_exit(r);
	}
	for (size_t i = 0; i < n && !found; i++)
		if (v[i].id == id) {
			cli_print_json(incident_doc(&v[i]));
			found = 1;
		}
	incidents_free(v, n);
	strbuf_release(&err);
	return rc;
}

int cmd_incident(int argc, char **argv, struct cli_ctx *ctx)
{
	const char *sub, *title = NULL, *env = NULL, *type = "standard", *dep_s = NULL;
	int open_only = 0;
	const struct cli_option opts[] = {
		CLI_STRING("title", 0, &title),
		CLI_STRING("env", 0, &env),
		CLI_STRING("deployment", 0, &dep_s),
		CLI_FLAG("open", 0, &open_only),
		CLI_STRING("type", 0, &type),
		CLI_OPTIONS_END,
	};
	struct store *st;
	struct strbuf err = STRBUF_INIT;
	int64_t dep = 0;
	char **args;
	int nargs, rc;

	if ((rc = cli_parse(ctx, argc, argv, opts, &args, &nargs)) != EXIT_OK)
		return rc;
	if (dep_s && records_parse_id("--deployment", dep_s, &dep))
		return EXIT_USAGE;
	static const struct { const char *name, *args; int nargs, writes; } subs[] = {
		{ "open", "give one SERVICE", 1, 1 },
		{ "resolve", "give one incident ID", 1, 1 },
		{ "list", "takes no argument", 0, 0 },
		{ "check", "takes no argument", 0, 0 },
	};
	size_t k;

	sub = args[0];
	args++;
	nargs--;
	for (k = 0; k < ARRAY_SIZE(subs) && strcmp(sub, subs[k].name); k++)
		;
	if (k == ARRAY_SIZE(subs))
		return cli_usage_error(ctx, "incident", "unknown subcommand '%s'; valid: open, resolve, list, check", sub);
	if (nargs != subs[k].nargs)
		return cli_usage_error(ctx, "incident", "'incident %s' %s", sub, subs[k].args);
	if (!strcmp(sub, "open") && (!title || !*title))
		return cli_usage_error(ctx, "incident", "--title TEXT is required");
	/* one store opening: list and check only read */
	if ((rc = subs[k].writes ? cli_store(ctx, &st) : cli_store_read(ctx, &st)) != EXIT_OK)
		return rc;
	if (!strcmp(sub, "open")) {
		const char *who;
		int64_t id;
		int64_t now = cli_now_ms();
		who = cli_caller(NULL);
		id = incident_open(st, args[0], env ? env : "production", title, who, dep, now, &err);
		if (id < 0) {
			cli_error("%s", err.buf);
			rc = cli_exit((int)id);
		} else if (ctx->output == OUTPUT_JSON) {
			struct incident inc = { .id = id, .service = (char *)args[0],
						.env = (char *)(env ? env : "production"), .title = (char *)title,
						.opened_by = (char *)who, .opened_ms = now, .deployment_id = dep };
			cli_print_json(incident_doc(&inc));
		} else {
			printf("opened incident %lld in %s: %s\n", (long long)id, env ? env : "production", title);
		}
	} else if (!strcmp(sub, "resolve")) {
		int64_t id;
		int r;
		if (records_parse_id("incident", args[0], &id))
			return EXIT_USAGE;
		r = incident_resolve(st, id, cli_caller(NULL), cli_now_ms(), &err);
		if (r) {
			cli_error("%s", err.buf);
			rc = cli_exit(r);
		} else if (ctx->output == OUTPUT_JSON) {
			rc = print_incident(st, id);
		} else {
			printf("resolved incident %lld\n", (long long)id);
		}
	} else if (!strcmp(sub, "list")) {
		struct incident *v = NULL;
		size_t n = 0;
		int r;
		if ((r = incident_list(st, env, open_only, &v, &n, &err))) {
			cli_error("%s", err.buf);
			rc = cli_exit(r);
		} else if (ctx->output == OUTPUT_JSON) {
			json_t *a = json_array();
			for (size_t i = 0; i < n; i++)
				json_array_append_new(a, cli_incident_json(&v[i]));
			cli_print_json(cli_list_doc("IncidentList", a));
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
		r = incidents_gate(st, env ? env : "production", type, &ids, &n, &err);
		if (r && r != SW_EDENIED) {
			cli_error("%s", err.buf);
			rc = cli_exit(r);
		} else {
			rc = r ? EXIT_NO : EXIT_OK;
			if (ctx->output == OUTPUT_JSON) {
				cli_print_json(doc_incident_check(!r, env ? env : "production", type, ids, n, r ? err.buf : ""));
			} else {
				printf("%s\n", r ? err.buf : "no open incidents block it");
			}
		}
		free(ids);
	}
	strbuf_release(&err);
	return rc;
}
