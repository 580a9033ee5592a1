/*
 * cmd_approve.c - `slipway approve`, `slipway reject` and `slipway
 * approvals` (runbook: Deployment Types "Approval Required"; Emergency
 * Deployments "Get VP approval").
 *
 * approve/reject record a decision for the caller (the OS user, or
 * $SLIPWAY_USER: a test/automation override that the record and the audit
 * entry say was used).  approvals shows the gate the rollout engine applies
 * before a deployment starts.  The roles map, the approval TTL and the
 * required roles (the type's plus the open window's) come from the
 * effective policy (docs/policy.md, docs/records.md).
 */
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/records_util.h"
#include "cli/vocab.h"
#include "server/documents.h"
#include "cli/cli_policy.h"
#include "cli/api_client.h"
#include "adapters/approvals.h"
#include "adapters/records.h"
#include "base/alloc.h"
#include "base/err.h"
#include "base/strbuf.h"
#include "base/timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char usage_approve[] =
	"usage: slipway approve DEPLOYMENT --role ROLE [--comment TEXT] [-o json]\n"
	"\n"
	"Approve a deployment for ROLE.  The approver is the OS user, or $SLIPWAY_USER\n"
	"when set (a test/automation override, recorded as such in the audit log).\n"
	"No one approves a deployment they requested, and the approver must hold ROLE\n"
	"in the policy's roles: map (slipway.yaml; 'slipway policy show').\n"
	"An approval counts for this deployment only and expires after the policy's\n"
	"approval_ttl (default 24h).  Exit 0 recorded, 1 refused, 2 bad usage, 3 store error.\n";

const char usage_reject[] =
	"usage: slipway reject DEPLOYMENT --role ROLE --comment TEXT [-o json]\n"
	"\n"
	"Reject a deployment for ROLE, saying why.  Same identity and role rules as\n"
	"'slipway approve'.  A later approval for the role overrides a rejection.\n";

const char usage_approvals[] =
	"usage: slipway approvals DEPLOYMENT [--require ROLE[,ROLE...]] [--ttl DURATION]\n"
	"                         [--at TIME] [-o json]\n"
	"\n"
	"The approval gate of a deployment: which required roles are approved and\n"
	"which are missing, and why (no approval, expired, rejected, approver lacks\n"
	"the role, self-approval refused).  Required roles are the policy's: the\n"
	"deployment type's (runbook: standard team-lead; hotfix engineering-manager;\n"
	"emergency vp-engineering; database-migration engineering-manager, dba;\n"
	"infrastructure-change sre-lead, engineering-manager) plus those of the window\n"
	"open at the time (extended: engineering-manager); --require replaces them.\n"
	"--ttl replaces the policy's approval_ttl (24h); --at evaluates at TIME.\n"
	"Exit 0 all approved, 1 rejected, 4 waiting for approvals.\n";

/* The decision recorded by the controller over the local socket, as the OS user it authenticated (SO_PEERCRED). */
static int decide_over_socket(struct cli_ctx *ctx, struct cli_api *api, int64_t id, const char *role,
			      const char *comment, enum approval_decision decision)
{
	struct strbuf path = STRBUF_INIT, err = STRBUF_INIT;
	json_t *body = json_pack("{s:s}", "role", role), *doc = NULL;
	long status = 0;
	int r, rc = EXIT_OK;

	if (comment)
		json_object_set_new(body, "comment", json_string(comment));
	strbuf_addf(&path, "deployments/%lld/%s", (long long)id, decision == APPROVAL_APPROVED ? "approve" : "reject");
	r = cli_api_call(api, "POST", path.buf, body, &status, &doc, &err);
	cli_api_close(api);
	if (r < 0) {
		cli_error("%s", err.buf);
		rc = cli_exit(r);
	} else if (status != 201) {
		rc = cli_api_problem(status, doc);
	} else if (ctx->output == OUTPUT_JSON) {
		cli_print_json(json_incref(doc));
	} else {
		printf("%s deployment %lld for %s as '%s' (decision %lld, by the controller)\n",
		       decision == APPROVAL_APPROVED ? "approved" : "rejected", (long long)id, role,
		       json_string_value(json_object_get(doc, "by")), (long long)json_integer_value(json_object_get(doc, "id")));
	}
	json_decref(doc);
	json_decref(body);
	strbuf_release(&path);
	strbuf_release(&err);
	return rc;
}

static int decide(int argc, char **argv, struct cli_ctx *ctx, enum approval_decision decision)
{
	const char *cmd = argv[0], *role = NULL, *comment = NULL, *identity = NULL, *who;
	const struct cli_option opts[] = {
		CLI_STRING("role", 0, &role),
		CLI_STRING("comment", 0, &comment),
		CLI_OPTIONS_END,
	};
	struct roles_map roles = { 0 };
	struct policy_file pol;
	struct store *st;
	struct strbuf err = STRBUF_INIT;
	int64_t id, aid, now;
	char **args;
	int nargs, rc = EXIT_OK, beside = 0;

	if ((rc = cli_parse(ctx, argc, argv, opts, &args, &nargs)) != EXIT_OK)
		return rc;
	if (!role || !*role)
		return cli_usage_error(ctx, cmd, "--role ROLE is required");
	if (decision == APPROVAL_REJECTED && (!comment || !*comment))
		return cli_usage_error(ctx, cmd, "--comment TEXT is required: say why it is rejected");
	if (records_parse_id("deployment", args[0], &id) || records_roles(ctx, &pol, &roles))
		return EXIT_USAGE;
	if (!policy_find_role(&pol.p, role)) {
		struct strbuf valid = STRBUF_INIT;
		for (size_t i = 0; i < pol.p.roles_nr; i++)
			strbuf_addf(&valid, "%s%s", i ? ", " : "", pol.p.roles[i].name);
		cli_usage_error(ctx, cmd, "unknown role '%s'; valid: %s", role, valid.buf);
		strbuf_release(&valid);
		roles_map_release(&roles);
		cli_policy_release(&pol);
		return EXIT_USAGE;
	}
	if ((rc = cli_store(ctx, &st)) != EXIT_OK) {
		roles_map_release(&roles);
		cli_policy_release(&pol);
		return rc;
	}
	{
		/* a controller answering on the local socket records it, as the OS user it authenticated */
		struct cli_api api;
		int up = cli_api_for_person(ctx, &api, &beside);
		if (up == 1) {
			roles_map_release(&roles);
			cli_policy_release(&pol);
			return decide_over_socket(ctx, &api, id, role, comment, decision);
		}
	}
	who = cli_caller(&identity);
	identity = cli_identity_beside(identity, beside);
	now = cli_now_ms();
	aid = approval_record(st, id, role, who, decision, comment, identity, roles.roles, roles.n, now, &err);
	if (aid < 0) {
		cli_error("%s", err.buf);
		rc = cli_exit((int)aid);
	} else if (ctx->output == OUTPUT_JSON) {
		struct approval a = { .id = aid, .deployment_id = id, .role = role, .approver = who,
				      .decision = decision, .at_ms = now };
		json_t *j = cli_doc("Approval"), *o = cli_approval_json(&a, comment, identity);
		json_object_update(j, o);
		json_decref(o);
		cli_print_json(j);
	} else {
		printf("%s deployment %lld for %s as '%s' (decision %lld)\n",
		       decision == APPROVAL_APPROVED ? "approved" : "rejected", (long long)id, role, who,
		       (long long)aid);
	}
	strbuf_release(&err);
	roles_map_release(&roles);
	cli_policy_release(&pol);
	return rc;
}

int cmd_approve(int argc, char **argv, struct cli_ctx *ctx)
{
	return decide(argc, argv, ctx, APPROVAL_APPROVED);
}

int cmd_reject(int argc, char **argv, struct cli_ctx *ctx)
{
	return decide(argc, argv, ctx, APPROVAL_REJECTED);
}

int cmd_approvals(int argc, char **argv, struct cli_ctx *ctx)
{
	const char *require = NULL, *ttl_s = NULL, *at_s = NULL;
	const struct cli_option opts[] = {
		CLI_STRING("require", 0, &require),
		CLI_STRING("ttl", 0, &ttl_s),
		CLI_STRING("at", 0, &at_s),
		CLI_OPTIONS_END,
	};
	struct roles_map roles = { 0 };
	struct policy_file pol;
	struct store *st;
	struct strbuf err = STRBUF_INIT;
	struct gate_view v;
	int64_t id, ttl = -1, now = 0;
	char **args;
	int nargs, have_at, rc = EXIT_OK, r;

	if ((rc = cli_parse(ctx, argc, argv, opts, &args, &nargs)) != EXIT_OK)
		return rc;
	have_at = at_s != NULL;
	if (have_at && records_parse_time("--at", at_s, &now))
		return EXIT_USAGE;
	if (ttl_s && (duration_parse(ttl_s, &ttl, &err) || ttl <= 0)) {
		cli_error("approval ttl '%s': %s", ttl_s, err.len ? err.buf : "must be more than 0");
		strbuf_release(&err);
		return EXIT_USAGE;
	}
	if (records_parse_id("deployment", args[0], &id) || records_roles(ctx, &pol, &roles))
		return EXIT_USAGE;
	if ((rc = cli_store(ctx, &st)) != EXIT_OK) {
		roles_map_release(&roles);
		cli_policy_release(&pol);
		return rc;
	}
	if (!have_at)
		now = cli_now_ms();
	r = gate_view_load(st, &pol, &roles, id, require, ttl, now, have_at, &v, &err);
	if (r) {
		cli_error("%s", err.buf);
		rc = cli_exit(r);
		goto out;
	}
	rc = v.gate.n_missing == 0 ? EXIT_OK : v.gate.rejected ? EXIT_NO : EXIT_WAITING;
	if (ctx->output == OUTPUT_JSON) {
		cli_print_json(doc_approval_gate(&v));
	} else {
		printf("deployment %lld (%s, requested by %s): %s\n", (long long)id, v.d.type ? v.d.type : "?",
		       v.set.requester ? v.set.requester : "?",
		       v.gate.n_missing == 0 ? "approved" : v.gate.rejected ? "rejected" : "waiting for approvals");
		for (size_t i = 0; i < v.n_required; i++) {
			const char *state = "approved";
			for (size_t k = 0; k < v.gate.n_missing; k++)
				if (!strcmp(v.gate.missing[k].role, v.required[i])) {
					const struct approval_missing *m = &v.gate.missing[k];
					static char buf[300];
					if (m->who)
						snprintf(buf, sizeof(buf), "missing: %s (%s)", approval_why_str(m->why), m->who);
					else
						snprintf(buf, sizeof(buf), "missing: %s", approval_why_str(m->why));
					state = buf;
				}
			printf("  %-22s %s\n", v.required[i], state);
		}
	}
out:
	gate_view_release(&v);
	strbuf_release(&err);
	roles_map_release(&roles);
	cli_policy_release(&pol);
	return rc;
}
