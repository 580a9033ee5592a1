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
#include "cli/cli_policy.h"
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

static int decide(int argc, char **argv, struct cli_ctx *ctx, enum approval_decision decision)
{
	const char *cmd = argv[0], *role = NULL, *comment = NULL, *identity = NULL, *who;
	const struct cli_option opts[] = {
		CLI_STRING("role", 0, &role),
		CLI_STRING("comment", 0, &comment),
		CLI_OPTIONS_END,
	};
	struct roles_map roles = { 0 };
	struct cli_policy pol;
	struct store *st;
	struct strbuf err = STRBUF_INIT;
	int64_t id, aid, now;
	char **args;
	int nargs, rc = EXIT_OK;

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
	who = cli_caller(&identity);
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

static size_t split_roles(char *list, const char **out, size_t max)
{
	size_t n = 0;
	for (char *p = list; p && *p && n < max;) {
		char *comma = strchr(p, ',');
		if (comma)
			*comma++ = '\0';
		if (*p)
			out[n++] = p;
		p = comma;
	}
	return n;
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
	struct cli_policy pol;
	struct store *st;
	struct strbuf err = STRBUF_INIT;
	struct deployment_record d = { 0 };
	struct approval_set set = { 0 };
	struct approval_gate gate = { 0 };
	_cleanup_free_ char *req_copy = NULL;
	const char *required[16];
	size_t n_required;
	int64_t id, ttl = APPROVAL_DEFAULT_TTL_MS, now = 0;
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
	if (!ttl_s)
		ttl = policy_approval_ttl_ms(&pol.p);
	if ((rc = cli_store(ctx, &st)) != EXIT_OK) {
		roles_map_release(&roles);
		cli_policy_release(&pol);
		return rc;
	}
	if (!have_at)
		now = cli_now_ms();
	r = records_get(st, id, &d, &err);
	if (r)
		goto fail;
	if (require) {
		req_copy = xstrdup(require);
		n_required = split_roles(req_copy, required, ARRAY_SIZE(required));
	} else {
		r = policy_approvals_at(&pol, d.type, d.class_ ? d.class_ : "normal", now, required,
					ARRAY_SIZE(required), &err);
		if (r < 0)
			goto fail;
		n_required = (size_t)r;
	}
	if (have_at) {
		/* a "what if" at another time: evaluate only, write no expiry entries dated then */
		r = approvals_load(st, id, &set, &err);
		if (!r)
			r = approval_gate_eval(id, required, n_required, roles.roles, roles.n, set.requester, ttl, now,
					       set.v, set.n, &gate, &err);
	} else {
		r = approvals_gate(st, id, required, n_required, roles.roles, roles.n, ttl, now, &set, &gate, &err);
	}
	if (r)
		goto fail;
	rc = gate.n_missing == 0 ? EXIT_OK : gate.rejected ? EXIT_NO : EXIT_WAITING;
	if (ctx->output == OUTPUT_JSON) {
		json_t *j = cli_doc("ApprovalGate"), *req = json_array(), *missing = json_array(), *granted = json_array(),
		       *decisions = json_array();
		char at[RFC3339_BUFSZ], dur[DURATION_BUFSZ];
		for (size_t i = 0; i < n_required; i++)
			json_array_append_new(req, json_string(required[i]));
		for (size_t i = 0; i < gate.n_missing; i++) {
			const struct approval_missing *m = &gate.missing[i];
			json_t *o = json_pack("{s:s, s:s}", "role", m->role, "why", approval_why_str(m->why));
			if (m->who) {
				json_object_set_new(o, "by", json_string(m->who));
				json_object_set_new(o, "at", json_string(time_format_rfc3339(m->at_ms, at)));
				json_object_set_new(o, "decision_id", json_integer(m->approval_id));
			}
			json_array_append_new(missing, o);
		}
		for (size_t i = 0; i < set.n; i++) {
			const struct approval *a = &set.v[i];
			int counts = 0;
			for (size_t k = 0; k < gate.n_granted; k++)
				counts |= gate.granted_ids[k] == a->id;
			if (counts)
				json_array_append_new(granted, json_pack("{s:s, s:s, s:s, s:I}", "role", a->role, "by",
									 a->approver, "at",
									 time_format_rfc3339(a->at_ms, at), "decision_id",
									 (json_int_t)a->id));
			{
				json_t *o = cli_approval_json(a, set.comments[i], set.identities[i]);
				json_object_set_new(o, "counts", json_boolean(counts));
				json_array_append_new(decisions, o);
			}
		}
		json_object_set_new(j, "deployment_id", json_integer(id));
		json_object_set_new(j, "requested_by", json_string(set.requester ? set.requester : ""));
		json_object_set_new(j, "open", json_boolean(gate.n_missing == 0));
		json_object_set_new(j, "rejected", json_boolean(gate.rejected));
		json_object_set_new(j, "required", req);
		json_object_set_new(j, "approved", granted);
		json_object_set_new(j, "missing", missing);
		json_object_set_new(j, "ttl", json_string(duration_format(ttl, dur)));
		json_object_set_new(j, "at", json_string(time_format_rfc3339(now, at)));
		json_object_set_new(j, "decisions", decisions);
		cli_print_json(j);
	} else {
		printf("deployment %lld (%s, requested by %s): %s\n", (long long)id, d.type ? d.type : "?",
		       set.requester ? set.requester : "?",
		       gate.n_missing == 0 ? "approved" : gate.rejected ? "rejected" : "waiting for approvals");
		for (size_t i = 0; i < n_required; i++) {
			const char *state = "approved";
			for (size_t k = 0; k < gate.n_missing; k++)
				if (!strcmp(gate.missing[k].role, required[i])) {
					const struct approval_missing *m = &gate.missing[k];
					static char buf[300];
					if (m->who)
						snprintf(buf, sizeof(buf), "missing: %s (%s)", approval_why_str(m->why), m->who);
					else
						snprintf(buf, sizeof(buf), "missing: %s", approval_why_str(m->why));
					state = buf;
				}
			printf("  %-22s %s\n", required[i], state);
		}
	}
	goto out;
fail:
	cli_error("%s", err.buf);
	rc = cli_exit(r);
out:
	approval_gate_release(&gate);
	approval_set_release(&set);
	deployment_record_release(&d);
	strbuf_release(&err);
	roles_map_release(&roles);
	cli_policy_release(&pol);
	return rc;
}
