/*
 * emergency.h - the emergency record (runbook: Emergency Deployments,
 * "create-emergency-record.sh --reason ... --approver ..."); store module
 * "emergency".
 *
 * Table emergencies(deployment_id PRIMARY KEY, reason, requested_by,
 *   created_ms, approver, approved_ms, ended_ms, ended_by):
 *   one per emergency deployment; approver and approved_ms are filled when
 *   vp-engineering approves (adapters/approvals.c calls
 *   emergency_record_approved()); ended_ms when someone ends the continuous
 *   monitoring.  Each change is an audit entry.
 */
#ifndef SLIPWAY_ADAPTERS_EMERGENCY_H
#define SLIPWAY_ADAPTERS_EMERGENCY_H

#include <stdint.h>

struct store;
struct strbuf;

/* Create or upgrade the emergencies (and audit) tables.  0 or SW_ESTORE. */
int emergency_migrate(struct store *st, struct strbuf *err);

/*
 * The deploy command's check of --type/--reason: an emergency needs a
 * non-blank reason (runbook: "Document the emergency"), and a reason is
 * only accepted for an emergency.  Pure; 0 or SW_EUSAGE with the message
 * in err ("--type emergency needs --reason TEXT ...").
 */
int emergency_check_reason(const char *type, const char *reason, struct strbuf *err);

/* Record the emergency of deployment_id.  0, or SW_ESTATE if one exists, SW_ESTORE. */
int emergency_record_create(struct store *st, int64_t deployment_id, const char *reason,
			    const char *requested_by, int64_t now_ms, struct strbuf *err);
/* Set its approver (first vp-engineering approval).  0 (also when there is no record), SW_ESTORE. */
int emergency_record_approved(struct store *st, int64_t deployment_id, const char *approver,
			      int64_t now_ms, struct strbuf *err);
/* Close it when continuous monitoring is ended.  0, SW_ENOTFOUND, SW_ESTORE. */
int emergency_record_end(struct store *st, int64_t deployment_id, const char *who, int64_t now_ms,
			 struct strbuf *err);

struct emergency_record {
	int64_t deployment_id;
	char *reason, *requested_by, *approver, *ended_by;	/* owned; approver/ended_by may be NULL */
	int64_t created_ms, approved_ms, ended_ms;		/* 0 when not yet */
};
/* 0 and *out filled; 1 when the deployment has none; SW_ESTORE. */
int emergency_record_get(struct store *st, int64_t deployment_id, struct emergency_record *out,
			 struct strbuf *err);
void emergency_record_release(struct emergency_record *e);

#endif
