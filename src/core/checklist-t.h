/*
 * checklist-t.h - the runbook's checklists as data (runbook v1.0:
 * Pre-Deployment Checklist, Emergency Deployment Checklist, Post-Deployment
 * Activities in three horizons; docs/checklists.md).  Types only: held by
 * struct policy (policy-t.h), read by the gate, the CLI and the API.
 * Functions: checklist.h.  Strings are owned by the item (checklist_release()).
 */
#ifndef SLIPWAY_CORE_CHECKLIST_T_H
#define SLIPWAY_CORE_CHECKLIST_T_H

#include <stddef.h>
#include <stdint.h>

#include "core/yaml_walk.h"	/* struct yaml_pos */

/* Which list an item belongs to (the runbook's headings). */
enum checklist_list {
	CHECKLIST_PRE = 0,		/* Pre-Deployment Checklist: before a deployment starts */
	CHECKLIST_EMERGENCY,		/* Emergency Deployment Checklist */
	CHECKLIST_POST_IMMEDIATE,	/* Post-Deployment Activities, Immediate (0-2 hours) */
	CHECKLIST_POST_SHORT,		/* Short-term (2-24 hours) */
	CHECKLIST_POST_LONG,		/* Long-term (1-7 days) */
	CHECKLIST_POST_EMERGENCY,	/* after an emergency: its post-mortem (docs/checklists.md,
					   "Post-deployment follow-up"); applies to emergencies only */
	CHECKLIST__LISTS,
};

/*
 * How an item is satisfied.  CHECK_ATTEST and CHECK_SARIF come from
 * elsewhere (`slipway attest`, POST .../attestations); the others are items
 * slipway proves itself from its own records at the gate.
 */
enum checklist_check {
	CHECK_ATTEST = 0,		/* an attestation with status pass */
	CHECK_SARIF,			/* an attestation whose SARIF has no finding at or above fail_at */
	CHECK_WINDOW,			/* a window the type may use is open, no freeze blocks (calendar) */
	CHECK_INCIDENTS,		/* no open incident in the deployment's environment */
	CHECK_APPROVALS,		/* every required role approved (docs/records.md) */
	CHECK_ROLLBACK,			/* the previous release is present and startable */
	CHECK_BASELINE,			/* a baseline was captured and stored */
	CHECK_HEALTH,			/* the stable revision's error rate and p99 within the policy's limits */
	CHECK_STAGING,			/* the same version succeeded in the staging environment */
	CHECK_ANNOUNCED,		/* the DEPLOYMENT STARTING message was delivered */
	CHECK_THRESHOLDS,		/* the type's rollback criteria are set */
	CHECK_SMOKE,			/* post-deployment only: the service's smoke checks pass on the
					   serving revision (docs/checklists.md "Post-deployment follow-up") */
	CHECK_FLAGS,			/* the flags the release declares exist in the target environment */
	CHECK_MIGRATIONS,		/* a passing `db rehearse` of the release's database changes */
	CHECK_DASHBOARDS,		/* the service's dashboard URLs answer 2xx or 3xx */
	CHECK__COUNT,
};

/* SARIF severities, lowest first (docs/checklists.md: how a result maps). */
enum sarif_severity {
	SARIF_SEV_NONE = 0,
	SARIF_SEV_LOW,
	SARIF_SEV_MEDIUM,
	SARIF_SEV_HIGH,
	SARIF_SEV_CRITICAL,
};

/* A list of type names; `all` is all_types = 1. */
struct checklist_types {
	char **v;
	struct yaml_pos *at;	/* where each of v was written */
	size_t nr;
	int all;
};

struct checklist_item {
	char *id;			/* "ci-passing": 1-63 of [A-Za-z0-9._-] */
	char *text;			/* the runbook's line */
	char *who;			/* a role of the policy, "automation" or "anyone" */
	enum checklist_list list;
	enum checklist_check check;
	struct checklist_types blocks;	/* types for which an unsatisfied item keeps a deployment pending */
	enum sarif_severity fail_at;	/* CHECK_SARIF: findings at or above this fail (default high) */
	int line, col;			/* where the file set it; line 0: built-in */
	struct yaml_pos who_at, blocks_at;	/* where its who: and blocks: values are; line 0: not in the file */
};

struct checklist_set {
	struct checklist_item *v;
	size_t nr, alloc;
};

#endif
