/*
 * audit.h - the audit log: an append-only, hash-chained record of who did
 * what (approvals, rejections, expiries, emergency records, incidents,
 * notifications given up, and every intent: promote, pause, resume, abort,
 * retry, undo as "intent.NAME", attributed by the caller rule of
 * docs/records.md, with "relayed_by" when --by names someone else).  Store module "audit".
 *
 * Table audit(id, at_ms, actor, action, subject, detail, prev_hash, hash):
 *   id        1, 2, 3, ... without gaps (assigned here, not by SQLite)
 *   at_ms     ms since the epoch, UTC
 *   actor     who did it: a person (OS user or $SLIPWAY_USER) or "slipway"
 *   action    dotted verb, e.g. "approval.approved", "notify.gave_up"
 *   subject   what it is about, e.g. "deployment:12", "incident:3"
 *   detail    JSON object text (may be "{}")
 *   prev_hash hex SHA-256 of the previous entry (64 zeros for the first)
 *   hash      hex SHA-256 of prev_hash || canonical(entry)
 * canonical(entry) is the compact JSON array
 *   [id, at_ms, actor, action, subject, detail, prev_hash]
 * so changing any field of a row, deleting a row in the middle, or
 * renumbering rows breaks the chain at that row (audit_verify()).  SQLite
 * triggers refuse UPDATE and DELETE so that slipway itself cannot change the
 * log by mistake; someone with the database file can drop them, which is
 * what the chain is for.  Deleting the newest rows cannot be seen from the
 * chain alone: compare the head hash that `slipway audit --verify` prints
 * with a copy kept elsewhere (docs/records.md).
 */
#ifndef SLIPWAY_ADAPTERS_AUDIT_H
#define SLIPWAY_ADAPTERS_AUDIT_H

#include <stddef.h>
#include <stdint.h>

struct store;
struct strbuf;

#define AUDIT_HASH_HEX 65	/* 64 hex digits and the NUL */

struct audit_entry {
	int64_t id;
	int64_t at_ms;
	char *actor, *action, *subject, *detail;	/* owned */
	char prev_hash[AUDIT_HASH_HEX];
	char hash[AUDIT_HASH_HEX];
};

/* Create or upgrade the module's table.  0 or SW_ESTORE. */
int audit_migrate(struct store *st, struct strbuf *err);

/*
 * Append one entry.  detail is JSON object text or NULL ("{}").  Runs in
 * its own BEGIN IMMEDIATE transaction unless the caller already holds one
 * (then the entry commits or rolls back with the caller's work).  Returns
 * the new entry's id (> 0), or SW_ESTORE with detail in err.
 */
int64_t audit_append(struct store *st, int64_t at_ms, const char *actor, const char *action,
		     const char *subject, const char *detail, struct strbuf *err);

/* Like audit_append() with the detail a JSON object, whose reference is
 * taken (stolen) whatever the result; NULL means "{}". */
struct json_t;
int64_t audit_append_json(struct store *st, int64_t at_ms, const char *actor, const char *action,
			  const char *subject, struct json_t *detail, struct strbuf *err);

/*
 * Entries with at_ms >= since_ms (INT64_MIN for all), oldest first, into a
 * newly allocated array *out of *n (free with audit_entries_free()).
 * 0 or SW_ESTORE.
 */
int audit_list(struct store *st, int64_t since_ms, struct audit_entry **out, size_t *n,
	       struct strbuf *err);
void audit_entries_free(struct audit_entry *e, size_t n);

struct audit_verify_result {
	int64_t entries;		/* rows read */
	int64_t bad_id;			/* first bad row's id, 0 when the chain holds */
	char why[160];			/* what is wrong with it */
	char head[AUDIT_HASH_HEX];	/* hash of the newest entry (zeros if empty) */
};

/*
 * Recompute the chain from the first row.  Returns 0 and fills *res (bad_id
 * 0 when intact, else the first row whose id, prev_hash or hash does not
 * follow), or SW_ESTORE.
 */
int audit_verify(struct store *st, struct audit_verify_result *res, struct strbuf *err);

/* The hex SHA-256 of prev || canonical(entry) (exposed for tests). */
void audit_entry_hash(const struct audit_entry *e, char out[AUDIT_HASH_HEX]);

#endif
