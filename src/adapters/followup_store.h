/*
 * followup_store.h - post-deployment follow-up in the store (module
 * "followup"; docs/checklists.md "Post-deployment follow-up"): one row per
 * succeeded deployment while its follow-up runs, holding the instants the
 * pure decisions (core/followup.h) need.
 *
 * Table followups(deployment_id, succeeded_ms, time_scale, emergency,
 *   last_reminder_ms, overdue_ms, last_monitor_ms, monitoring_ended_ms,
 *   closed_ms, detail):
 *   succeeded_ms   the deployment's finished_ms (wall ms)
 *   time_scale     the deployment's (horizons are engine time)
 *   *_ms           0 = not yet (core/followup.h struct followup_state)
 *   detail         the last thing the follow-up did, as a sentence
 * The automatic items' findings are stored as the checklist's proofs
 * (adapters/checklist_store.h), so `slipway checklist` shows them.
 */
#ifndef SLIPWAY_ADAPTERS_FOLLOWUP_STORE_H
#define SLIPWAY_ADAPTERS_FOLLOWUP_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "core/followup.h"

struct store;
struct strbuf;

/* Create or upgrade the module's tables.  0 or SW_ESTORE. */
int followup_store_migrate(struct store *st, struct strbuf *err);

struct followup_row {
	int64_t deployment_id;
	struct followup_state s;
	char *detail;			/* owned, may be NULL */
};
void followup_rows_free(struct followup_row *v, size_t n);

/* Start the follow-up of every deployment that succeeded at or after
 * since_ms and has none yet.  Returns how many were started, or SW_ESTORE. */
int followup_store_enroll(struct store *st, int64_t since_ms, struct strbuf *err);

/* The follow-ups not closed (closed_only 0) or every one, oldest first, into
 * a new array (followup_rows_free()).  0 or SW_ESTORE. */
int followup_store_list(struct store *st, int open_only, struct followup_row **out, size_t *n, struct strbuf *err);

/* The follow-up of one deployment into *out (caller frees out->detail):
 * 0, 1 when it has none, or SW_ESTORE. */
int followup_store_get(struct store *st, int64_t deployment_id, struct followup_row *out, struct strbuf *err);

/* Write the instants of r (and its detail when not NULL).  0 or SW_ESTORE. */
int followup_store_put(struct store *st, const struct followup_row *r, struct strbuf *err);

#endif
