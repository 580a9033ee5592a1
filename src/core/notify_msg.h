/*
 * notify_msg.h - the messages slipway sends, as pure formatting: the
 * runbook's notify.sh templates (Deployment Procedures step 1 "DEPLOYMENT
 * STARTING", step 5 "DEPLOYMENT COMPLETE", Rollback Notification "ROLLBACK
 * INITIATED", Emergency Deployments "EMERGENCY DEPLOYMENT") plus slipway's
 * own "DEPLOYMENT PAUSED" (a consider criterion waits for a decision) and
 * "DEPLOYMENT FAILED", rendered three ways:
 *   - text: the template as the runbook writes it (stdout and file sinks,
 *     and Slack's fallback `text`);
 *   - Slack incoming-webhook JSON: `text` plus Block Kit `blocks` (header,
 *     section fields, context);
 *   - CloudEvents 1.0 structured-mode JSON, `type` a CDEvents type where one
 *     fits (service.deployed / service.upgraded / service.rolledback), else
 *     a slipway type "dev.slipway.deployment.<kind>.v1"; `data` is the
 *     CDEvent body (context + subject) with slipway's fields added.
 * No I/O, no clock: every time is in the event.
 */
#ifndef SLIPWAY_CORE_NOTIFY_MSG_H
#define SLIPWAY_CORE_NOTIFY_MSG_H

#include <jansson.h>
#include <stdint.h>

struct strbuf;

enum notify_kind {
	NOTIFY_STARTING = 0,	/* DEPLOYMENT STARTING: service, version, time, owner */
	NOTIFY_COMPLETE,	/* DEPLOYMENT COMPLETE: service, version, duration, status */
	NOTIFY_ROLLBACK,	/* ROLLBACK INITIATED: service, from, to, reason, owner, status */
	NOTIFY_EMERGENCY,	/* EMERGENCY DEPLOYMENT: service, version, reason, approved by, status */
	NOTIFY_PAUSED,		/* DEPLOYMENT PAUSED: service, version, reason, owner, status */
	NOTIFY_FAILED,		/* DEPLOYMENT FAILED: service, version, reason, owner, status */
	NOTIFY_TEST,		/* NOTIFICATION TEST: `slipway notify test` */
	NOTIFY_FOLLOWUP,	/* POST-DEPLOYMENT FOLLOW-UP: service, version, reason, owner, status
				   (REMINDER, REGRESSION, POST-MORTEM OVERDUE; docs/checklists.md) */
	NOTIFY_KIND_COUNT
};

/* "starting", "complete", "rollback", "emergency", "paused", "failed", "test", "followup" */
const char *notify_kind_name(enum notify_kind k);
/* Inverse of notify_kind_name(); 0 or -1 when unknown. */
int notify_kind_parse(const char *name, enum notify_kind *out);
/* "DEPLOYMENT STARTING", ... */
const char *notify_kind_title(enum notify_kind k);

/* CDEvents spec version whose event types are used (cdevents/spec v0.5). */
#define NOTIFY_CDEVENTS_SPEC "0.5.0"

/*
 * One message.  Strings are borrowed; NULL (or a negative time/duration)
 * means "not known" and the line shows "unknown" (runbook fields are never
 * silently dropped).  status defaults per kind: STARTING "STARTING",
 * COMPLETE "SUCCESS", ROLLBACK "IN PROGRESS", EMERGENCY "DEPLOYED", PAUSED
 * "WAITING FOR A DECISION", FAILED "FAILED".
 */
struct notify_event {
	enum notify_kind kind;
	int64_t deployment_id;		/* 0 for none (test messages) */
	const char *service, *env;
	const char *version;		/* the new version */
	const char *from_version;	/* ROLLBACK "From:" is version, "To:" is from_version */
	const char *owner;		/* requester, shown "@owner" */
	const char *reason;
	const char *approver;
	const char *status;
	int64_t at_ms;			/* when it happened (ms UTC) */
	int64_t duration_ms;		/* COMPLETE: deploy duration; -1 unknown */
};

/* The template text, lines ending "\n" (runbook formatting, "Time: HH:MM UTC"). */
void notify_msg_text(const struct notify_event *ev, struct strbuf *out);
/* "45 minutes", "1 hour 5 minutes", "30 seconds" (runbook "Duration: 45 minutes"). */
void notify_format_duration(int64_t ms, struct strbuf *out);

/* The Slack incoming-webhook body (new reference). */
json_t *notify_msg_slack(const struct notify_event *ev);

/*
 * The CloudEvents 1.0 structured-mode body (new reference).  id: unique per
 * message (e.g. "slipway-msg-42"); source: a URI-reference such as
 * "/slipway/production/api-server" (NULL = that default).
 */
json_t *notify_msg_cloudevent(const struct notify_event *ev, const char *id, const char *source);
/* The CloudEvents `type` used for a kind (static string). */
const char *notify_cloudevent_type(const struct notify_event *ev);

/*
 * The event as JSON (for the queue) and back.  notify_event_from_json()
 * borrows strings from j, which must outlive *ev.  0, or SW_EPARSE.
 */
json_t *notify_event_to_json(const struct notify_event *ev);
int notify_event_from_json(json_t *j, struct notify_event *ev, struct strbuf *err);

#endif
