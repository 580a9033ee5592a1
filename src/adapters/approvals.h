/*
 * approvals.h - approvals and rejections in the store (module "approvals"),
 * and the approval gate the rollout engine's pre-start check calls.
 *
 * Table approvals(id, deployment_id, role, approver, decision, comment,
 *   at_ms, identity, expired_audited_ms):
 *   decision   'approved' | 'rejected'
 *   identity   how the approver was identified: "os" (the OS user) or
 *              "env:SLIPWAY_USER (os user NAME)" (the test/automation
 *              override), so an override is visible in the record
 *   expired_audited_ms  when the "approval.expired" audit entry was written
 * Every approval, rejection, refused attempt and expiry is an audit entry
 * (adapters/audit.h) written in the same transaction.
 * The rules themselves are pure and live in core/approval.h.
 */
#ifndef SLIPWAY_ADAPTERS_APPROVALS_H
#define SLIPWAY_ADAPTERS_APPROVALS_H

#include "core/approval.h"

#include <stddef.h>
#include <stdint.h>

struct store;
struct strbuf;

/* Create or upgrade the approvals (and audit) tables.  0 or SW_ESTORE. */
int approvals_migrate(struct store *st, struct strbuf *err);

/*
 * Record a decision by `approver` on deployment_id for role, at now_ms.
 * Refused (SW_EDENIED, with an "approval.refused" audit entry and the reason
 * in err) when approver requested the deployment, or does not hold role in
 * roles.  SW_ENOTFOUND when there is no such deployment; SW_ESTATE when it
 * has already finished (succeeded, rolled_back, failed); SW_EUSAGE when a
 * rejection has no comment.  identity: see the table above (NULL = "os").
 * When role is vp-engineering and the deployment's type is emergency, the
 * emergency record's approver is set too (adapters/emergency.h).
 * Returns the decision's id (> 0).
 */
int64_t approval_record(struct store *st, int64_t deployment_id, const char *role, const char *approver,
			enum approval_decision decision, const char *comment, const char *identity,
			const struct role_members *roles, size_t n_roles, int64_t now_ms,
			struct strbuf *err);

/* The decisions recorded for one deployment, oldest first; owns its strings. */
struct approval_set {
	struct approval *v;
	char **comments;	/* v[i]'s comment or NULL */
	char **identities;
	size_t n;
	char *requester;	/* the deployment's requested_by */
};
int approvals_load(struct store *st, int64_t deployment_id, struct approval_set *out, struct strbuf *err);
void approval_set_release(struct approval_set *s);

/*
 * THE GATE the engine calls before a deployment leaves `pending`:
 * which of `required` roles are still missing at now_ms, and why (core
 * approval_gate_eval() over the stored decisions and the deployment's
 * requester).  Approvals found expired get their "approval.expired" audit
 * entry here, once each.  *set holds the strings *gate points into: release
 * both (approval_gate_release(), approval_set_release()).
 * Returns 0 (open when gate->n_missing == 0), SW_ENOTFOUND, SW_ESTORE.
 */
int approvals_gate(struct store *st, int64_t deployment_id, const char *const *required,
		   size_t n_required, const struct role_members *roles, size_t n_roles, int64_t ttl_ms,
		   int64_t now_ms, struct approval_set *set, struct approval_gate *gate,
		   struct strbuf *err);

#endif
