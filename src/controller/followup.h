/*
 * followup.h - post-deployment follow-up under `slipway serve` (runbook
 * v1.0: Post-Deployment Activities in three horizons, Emergency
 * Deployments; docs/checklists.md "Post-deployment follow-up").  The pure
 * decisions are core/followup.h; this file acts on them: it measures, stores
 * the findings as the checklist's proofs, opens incidents, queues messages.
 */
#ifndef SLIPWAY_CONTROLLER_FOLLOWUP_H
#define SLIPWAY_CONTROLLER_FOLLOWUP_H

#include <stdint.h>

struct store;
struct strbuf;
struct policy;
struct notify_config;
struct metrics_provider;

struct followup_run {
	const struct policy *policy;
	const struct notify_config *notify;	/* NULL: no messages */
	/* the metrics of every service environment; NULL: the builtin provider over the store
	 * (adapters/metrics_builtin.h), for the deployment's environment */
	const struct metrics_provider *metrics;
	/* where the service files and instances are, for `check: smoke` items (NULL: such
	 * items are recorded unchecked) */
	const char *state_dir, *project_dir;
	int64_t now_ms;				/* wall clock, ms since the epoch */
	void (*say)(void *ctx, const char *line);	/* one log line per event; may be NULL */
	void *say_ctx;
};

/*
 * One look at every follow-up: deployments that succeeded within the
 * long-term horizon (7 days) and have none yet are started; for each one
 * not closed, what core/followup.h says is due at now_ms is done:
 *   smoke      (check: smoke) the service file's smoke checks against every
 *              running instance of the deployed version (target_local_smoke());
 *              a failure is a regression; no smoke checks: unchecked;
 *   check      the item's horizon judged against the captured baseline
 *              (immediate) or the same hours a week before (short and long
 *              term), followup_judge(); the finding is stored as the item's
 *              proof (satisfied, failed, unchecked with the reason);
 *   monitor    an emergency's continuous monitoring, the same judgement
 *              since the last look;
 *   a regression opens an incident linked to the deployment (DORA's change
 *   failure rate counts it), unless one it opened is still open, and sends
 *   POST-DEPLOYMENT FOLLOW-UP with status REGRESSION;
 *   remind     POST-DEPLOYMENT FOLLOW-UP, status REMINDER: each open manual
 *              item, who may tick it (its role and the role's people), when
 *              it is due, and 'slipway checklist tick ID ITEM';
 *   overdue    status POST-MORTEM OVERDUE, once;
 *   end-monitoring, close: recorded (and audited: followup.monitoring_ended,
 *              followup.closed with the manual items never ticked).
 * Returns 0, or SW_ESTORE (err) when the store fails; a deployment that
 * cannot be read is said and skipped.
 */
int followup_tick(struct store *st, const struct followup_run *run, struct strbuf *err);

/*
 * The follow-up of deployment id as JSON, for `slipway checklist ID -o json`
 * and GET /api/v1/deployments/ID/checklist (docs/schema/Checklist.json
 * "followup"): {"succeeded", "immediate_until", "short_term_until",
 * "long_term_until", "last_reminder", "postmortem_due" (emergencies, else
 * null), "postmortem_overdue_said", "monitoring" ("continuous", "ended" or
 * "none"), "monitoring_ended", "closed", "last"}: times RFC 3339 or null.
 * *out is a new reference, JSON null when the deployment has no follow-up
 * (it has not succeeded, or no controller has looked since).  0 or SW_ESTORE.
 */
struct json_t;
int followup_status_json(struct store *st, const struct policy *p, int64_t id, struct json_t **out,
			 struct strbuf *err);

#endif
