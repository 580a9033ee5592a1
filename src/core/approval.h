/*
 * approval.h - the approval gate, as pure logic (runbook: Deployment Types
 * "Approval Required", Deployment Windows "Restrictions", Emergency
 * Deployments "Get VP approval").
 *
 * A deployment may start only when every required role has a valid
 * approval.  An approval is valid for a role when all of these hold:
 *   1. it is for this deployment (an approval never counts for another);
 *   2. the approver is not the deployment's requester (no self-approval;
 *      GitHub environments' "prevent self-reviews");
 *   3. the approver holds the role in the roles map (policy `roles:`);
 *   4. it is younger than the TTL: now_ms - at_ms < ttl_ms (default 24 h);
 *   5. it is the latest decision on that role by someone who holds the role
 *      (a later rejection by a role holder overrides it, and a later
 *      approval overrides a rejection).
 * The roles map, the TTL and the required roles are plain parameters so
 * that the policy (which owns them) and this gate are tested apart.  Time is
 * a parameter; nothing here reads a clock.
 */
#ifndef SLIPWAY_CORE_APPROVAL_H
#define SLIPWAY_CORE_APPROVAL_H

#include <stddef.h>
#include <stdint.h>

struct strbuf;

#define APPROVAL_DEFAULT_TTL_MS (24LL * 60 * 60 * 1000)

enum approval_decision {
	APPROVAL_APPROVED = 0,
	APPROVAL_REJECTED,
};

/* One recorded decision (a row of the approvals table). Strings borrowed. */
struct approval {
	int64_t id;
	int64_t deployment_id;
	const char *role;
	const char *approver;
	enum approval_decision decision;
	int64_t at_ms;
};

/* One entry of the roles map: role -> people.  Strings borrowed. */
struct role_members {
	const char *role;
	const char *const *people;
	size_t n_people;
};

/* Why a required role is still missing. */
enum approval_why {
	APPROVAL_WHY_NONE = 0,		/* no decision recorded for the role */
	APPROVAL_WHY_EXPIRED,		/* the latest valid approval is older than the TTL */
	APPROVAL_WHY_REJECTED,		/* the latest decision is a rejection */
	APPROVAL_WHY_NOT_IN_ROLE,	/* the only approvals come from people without the role */
	APPROVAL_WHY_SELF,		/* the only approvals come from the requester */
};

/* "no approval", "expired", "rejected", "approver lacks the role", "self-approval refused" */
const char *approval_why_str(enum approval_why why);

struct approval_missing {
	const char *role;		/* borrowed from the required list */
	enum approval_why why;
	int64_t approval_id;		/* the decision that explains it, or 0 */
	const char *who;		/* its approver (borrowed), or NULL */
	int64_t at_ms;			/* its time, or 0 */
};

struct approval_gate {
	size_t n_missing;
	struct approval_missing *missing;	/* owned; n_missing entries */
	size_t n_granted;
	int64_t *granted_ids;			/* owned; the approvals that count, one per granted role */
	int rejected;				/* 1 if any required role's latest decision is a rejection */
};

/*
 * Evaluate the gate of deployment_id at now_ms.  required: the role names
 * (duplicates are counted once); roles: the roles map; requester: the
 * deployment's requested_by; ttl_ms > 0; approvals: every decision recorded
 * (those for other deployments are ignored).  Fills *out (release with
 * approval_gate_release()); the gate is open when out->n_missing == 0.
 * Returns 0, or SW_EUSAGE when ttl_ms <= 0.
 */
int approval_gate_eval(int64_t deployment_id, const char *const *required, size_t n_required,
		       const struct role_members *roles, size_t n_roles, const char *requester,
		       int64_t ttl_ms, int64_t now_ms, const struct approval *approvals,
		       size_t n_approvals, struct approval_gate *out, struct strbuf *err);
void approval_gate_release(struct approval_gate *g);

/* Whether person holds role in the map (exact, case-sensitive names). */
int roles_map_has(const struct role_members *roles, size_t n_roles, const char *role,
		  const char *person);

/*
 * A roles map: parsed from text "role=a,b;role2=c" (test data files), or
 * taken from the policy's `roles:` map (roles_map_from_policy()).
 * White space around names is ignored.  Owns its strings.
 */
struct roles_map {
	struct role_members *roles;
	size_t n;
	char *storage;		/* the copied text that the pointers point into */
};
/* 0, or SW_EPARSE naming the bad part and the valid form. */
int roles_map_parse(const char *text, struct roles_map *out, struct strbuf *err);

struct policy;
/*
 * The policy's `roles:` map (runbook: "Approval Required" by role; who holds
 * each role is the team's decision in slipway.yaml).  The names are borrowed
 * from p, which must outlive out; release with roles_map_release().
 */
void roles_map_from_policy(const struct policy *p, struct roles_map *out);
void roles_map_release(struct roles_map *m);

#endif
