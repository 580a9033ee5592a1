/*
 * cmd_checklist.c - `slipway attest` and `slipway checklist` (runbook:
 * Pre-Deployment Checklist, Emergency Deployment Checklist, Post-Deployment
 * Activities; docs/checklists.md).
 *
 * attest records an attestation for a deployment or for a version, as the
 * caller (the OS user, or $SLIPWAY_USER, recorded as such), with its audit
 * entry; a SARIF item reads the log given as evidence.  checklist shows
 * every item that applies to a deployment with its state, evidence, who and
 * when, as the gate sees it (controller/checklist_gate.h).
 */
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/records_util.h"
#include "cli/cli_policy.h"
#include "cli/vocab.h"
#include "adapters/checklist_store.h"
#include "adapters/records.h"
#include "base/err.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "controller/checklist_gate.h"
#include "controller/followup.h"
#include "core/sarif.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char usage_attest[] =
	"usage: slipway attest DEPLOYMENT|VERSION ITEM [--evidence URL|FILE] [--status pass|fail] [-o json]\n"
	"\n"
	"Attest a checklist item (docs/checklists.md; 'slipway policy show' lists them\n"
	"under checklists:) for one deployment (a number) or for every deployment of a\n"
	"version.  --status defaults to pass.  An item with check: sarif reads the SARIF\n"
	"2.1.0 log given as --evidence FILE: findings at or above its fail_at (default\n"
	"high) make it fail, naming the worst one.  The attester is the OS user, or\n"
	"$SLIPWAY_USER (recorded as such); an item whose who: is a role needs a holder.\n"
	"Exit 0 recorded as pass, 1 recorded as fail, 2 bad usage or input, 3 store error.\n";

const char usage_checklist[] =
	"usage: slipway checklist DEPLOYMENT [-o json]\n"
	"       slipway checklist tick DEPLOYMENT ITEM [--evidence URL|FILE] [-o json]\n"
	"\n"
	"The checklists of a deployment as the gate sees them: each item that applies\n"
	"to its type, its state (satisfied, failed, missing, unchecked), whether it\n"
	"blocks the start, its evidence, who ticked it and when.\n"
	"Exit 0 nothing blocking is missing (or an emergency, which is never held by\n"
	"its checklist), 4 waiting for a blocking item.\n"
	"'checklist tick' is 'slipway attest DEPLOYMENT ITEM' with status pass (for\n"
	"the post-deployment items people tick); same rules and exit codes.\n";

static int all_digits(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return 0;
	return 1;
}

int cmd_attest(int argc, char **argv, struct cli_ctx *ctx)
{
	const char *evidence = NULL, *status = NULL, *identity = NULL;
	const struct cli_option opts[] = {
		CLI_STRING("evidence", 0, &evidence),
		CLI_STRING("status", 0, &status),
		CLI_OPTIONS_END,
	};
	struct attest_request rq = { 0 };
	struct policy_file pol;
	struct store *st;
	struct strbuf err = STRBUF_INIT, sarif = STRBUF_INIT, detail = STRBUF_INIT;
	const char *got = NULL;
	int64_t aid;
	char **args;
	int nargs, rc;

	if ((rc = cli_parse(ctx, argc, argv, opts, &args, &nargs)) != EXIT_OK)
		return rc;
	if (status && strcmp(status, "pass") && strcmp(status, "fail"))
		return cli_usage_error(ctx, argv[0], "--status must be pass or fail, not '%s'", status);
	if (all_digits(args[0])) {
		if (records_parse_id("deployment", args[0], &rq.deployment_id))
			return EXIT_USAGE;
	} else {
		rq.version = args[0];
	}
	if (cli_policy_load(ctx->policy_path, &pol) != EXIT_OK)
		return EXIT_USAGE;
	{
		const struct checklist_item *it = checklist_find(&pol.p.checklists, args[1]);
		if (it && it->check == CHECK_SARIF) {
			if (!evidence) {
				rc = cli_usage_error(ctx, argv[0], "item '%s' reads a SARIF log: give it with --evidence FILE",
						     it->id);
				cli_policy_release(&pol);
				return rc;
			}
			if (strbuf_read_file_max(&sarif, evidence, SARIF_MAX_BYTES, &err) < 0) {
				cli_error("%s", err.buf);
				strbuf_release(&err);
				strbuf_release(&sarif);
				cli_policy_release(&pol);
				return EXIT_USAGE;
			}
			rq.sarif = sarif.buf;
			rq.sarif_len = sarif.len;
		}
	}
	if ((rc = cli_store(ctx, &st)) != EXIT_OK)
		goto out;
	rq.item = args[1];
	rq.status = status;
	rq.evidence = evidence;
	rq.actor = cli_caller(&identity);
	rq.identity = identity;
	rq.now_ms = cli_now_ms();
	aid = checklist_attest(st, &pol.p, &rq, &got, &detail, &err);
	if (aid < 0) {
		cli_error("%s", err.buf);
		rc = cli_exit((int)aid);
		goto out;
	}
	rc = !strcmp(got, "pass") ? EXIT_OK : 1;
	if (ctx->output == OUTPUT_JSON) {
		json_t *j = cli_doc("Attestation");
		json_object_set_new(j, "id", json_integer(aid));
		if (rq.deployment_id)
			json_object_set_new(j, "deployment", json_integer(rq.deployment_id));
		else
			json_object_set_new(j, "version", json_string(rq.version));
		json_object_set_new(j, "item", json_string(rq.item));
		json_object_set_new(j, "status", json_string(got));
		json_object_set_new(j, "evidence", evidence ? json_string(evidence) : json_null());
		json_object_set_new(j, "detail", detail.len ? json_string(detail.buf) : json_null());
		json_object_set_new(j, "by", json_string(rq.actor));
		json_object_set_new(j, "identity", json_string(identity ? identity : "os"));
		cli_print_json(j);
	} else {
		if (rq.deployment_id)
			printf("attested %s for deployment %lld: %s as '%s' (attestation %lld)\n", rq.item,
			       (long long)rq.deployment_id, got, rq.actor, (long long)aid);
		else
			printf("attested %s for version %s: %s as '%s' (attestation %lld)\n", rq.item, rq.version, got,
			       rq.actor, (long long)aid);
		if (detail.len)
			printf("  %s\n", detail.buf);
	}
out:
	strbuf_release(&err);
	strbuf_release(&sarif);
	strbuf_release(&detail);
	cli_policy_release(&pol);
	return rc;
}

/* The post-deployment follow-up's line (controller/followup.h), when it has one. */
static void followup_text(struct store *st, const struct policy *p, int64_t id)
{
	json_t *fu = NULL;
	const char *keys[] = { "long_term_until", "postmortem_due", "monitoring", "closed", "last" };

	if (followup_status_json(st, p, id, &fu, NULL) < 0 || !json_is_object(fu)) {
		json_decref(fu);
		return;
	}
	printf("follow-up:");
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *v = json_string_value(json_object_get(fu, keys[i]));
		if (v)
			printf("%s %s %s", i ? ";" : "", keys[i], v);
	}
	printf("\n");
	json_decref(fu);
}

int cmd_checklist(int argc, char **argv, struct cli_ctx *ctx)
{
	/* `checklist tick D ITEM ...`: an attestation with status pass */
	if (argc >= 2 && !strcmp(argv[1], "tick")) {
		for (int i = 2; i < argc; i++)
			if (!strcmp(argv[i], "--status"))
				return cli_usage_error(ctx, "checklist tick", "tick records a pass; use 'slipway attest --status fail' for a failure");
		return cmd_attest(argc - 1, argv + 1, ctx);
	}

	const struct cli_option opts[] = { CLI_OPTIONS_END };
	struct deployment_record d = { 0 };
	struct checklist_view v = { 0 };
	struct policy_file pol;
	struct store *st;
	struct strbuf err = STRBUF_INIT;
	int64_t id;
	int emergency;
	char **args;
	int nargs, rc, r;

	if ((rc = cli_parse(ctx, argc, argv, opts, &args, &nargs)) != EXIT_OK)
		return rc;
	if (nargs != 1)
		return cli_usage_error(ctx, argv[0], "unexpected argument '%s'; 'checklist tick DEPLOYMENT ITEM' ticks an item",
				       args[1]);
	if (records_parse_id("deployment", args[0], &id))
		return EXIT_USAGE;
	if (cli_policy_load(ctx->policy_path, &pol) != EXIT_OK)
		return EXIT_USAGE;
	if ((rc = cli_store_read(ctx, &st)) != EXIT_OK) {
		cli_policy_release(&pol);
		return rc;
	}
	if ((r = records_get(st, id, &d, &err)) < 0 ||
	    (r = checklist_view_build(st, &pol.p, id, d.version, d.type, &v, &err)) < 0) {
		cli_error("%s", err.buf);
		rc = cli_exit(r);
		goto out;
	}
	/* an emergency is never held by its checklist (docs/checklists.md): what it misses is
	   recorded and notified, so it is not "waiting" here */
	emergency = d.type && !strcmp(d.type, "emergency");
	rc = v.unsatisfied_blocking && !emergency && !record_state_is_final(d.state) && !strcmp(d.state, "pending")
		     ? 4
		     : EXIT_OK;
	if (ctx->output == OUTPUT_JSON) {
		json_t *j = cli_doc("Checklist"), *o = checklist_view_json(&v), *fu = NULL;
		json_object_update(j, o);
		json_decref(o);
		json_object_set_new(j, "type", json_string(d.type ? d.type : ""));
		json_object_set_new(j, "state", json_string(d.state ? d.state : ""));
		if (followup_status_json(st, &pol.p, id, &fu, &err) >= 0)
			json_object_set_new(j, "followup", fu);
		cli_print_json(j);
	} else {
		char when[RFC3339_BUFSZ];
		printf("deployment %lld (%s %s, type %s, %s): %zu blocking item%s not satisfied%s\n", (long long)id,
		       d.service ? d.service : "", d.version ? d.version : "", d.type ? d.type : "", d.state ? d.state : "",
		       v.unsatisfied_blocking, v.unsatisfied_blocking == 1 ? "" : "s",
		       emergency && v.unsatisfied_blocking ? " (an emergency is not held by them: what it misses is "
							     "recorded and notified)"
							   : "");
		printf("%-26s %-16s %-10s %-5s %-12s %-20s %s\n", "ITEM", "LIST", "STATE", "BLOCK", "BY", "AT", "EVIDENCE");
		for (size_t i = 0; i < v.n; i++) {
			const struct checklist_row *row = &v.v[i];
			printf("%-26s %-16s %-10s %-5s %-12s %-20s %s%s%s\n", row->item->id,
			       checklist_list_name(row->item->list), checklist_state_name(row->state),
			       row->blocking ? "yes" : "no", row->who ? row->who : "-",
			       row->at_ms ? time_format_rfc3339(row->at_ms, when) : "-", row->evidence ? row->evidence : "",
			       row->evidence && row->detail ? ": " : "", row->detail ? row->detail : "");
		}
		followup_text(st, &pol.p, id);
	}
out:
	checklist_view_release(&v);
	deployment_record_release(&d);
	strbuf_release(&err);
	cli_policy_release(&pol);
	return rc;
}
