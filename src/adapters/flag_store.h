/*
 * flag_store.h - feature flags and segments in the store, per environment,
 * versioned, every change an audit entry (docs/flags.md).  Store module
 * "flags", with its own migrations.
 *
 * Tables:
 *   flag_objects(env, kind, name, version, definition, updated_ms, updated_by)
 *     the current definition of each flag (kind "flag") and segment (kind
 *     "segment"); a deleted one has no row;
 *   flag_history(seq, env, kind, name, version, at_ms, actor, action,
 *                definition, reason, audit_id)
 *     every change: action created, updated or deleted (definition NULL),
 *     version 1, 2, 3 ... per name and kind, never reused (a re-created flag
 *     continues the count).  seq orders every change of the store; its
 *     largest value for an environment is that environment's generation,
 *     which OFREP's ETag carries.
 * A change, its history row and its audit entry (action "flag.created",
 * "flag.updated", "flag.deleted", "segment.*"; subject "flag:ENV/NAME" or
 * "segment:ENV/NAME"; detail {env, name, version, definition, reason}) are
 * one transaction.
 */
#ifndef SLIPWAY_ADAPTERS_FLAG_STORE_H
#define SLIPWAY_ADAPTERS_FLAG_STORE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct store;
struct strbuf;

#define FLAG_KIND_FLAG "flag"
#define FLAG_KIND_SEGMENT "segment"

struct flag_record {
	char *env, *kind, *name;	/* owned */
	int64_t version;
	json_t *def;			/* owned reference; NULL in a history row of a deletion */
	int64_t at_ms;			/* updated (current) or changed (history), ms since the epoch */
	char *actor;			/* owned */
	char *action;			/* history only: created, updated, deleted (owned) */
	char *reason;			/* history only, may be NULL (owned) */
	int64_t audit_id;		/* history only */
};
void flag_record_release(struct flag_record *r);
void flag_records_free(struct flag_record *v, size_t n);

/* Create or upgrade the module's tables (and the audit log's).  0 or SW_ESTORE. */
int flag_store_migrate(struct store *st, struct strbuf *err);

/* The current definition of kind/name in env into *out.  0, SW_ENOTFOUND
 * (message names what exists: 'slipway flag list'), or SW_ESTORE. */
int flag_store_get(struct store *st, const char *env, const char *kind, const char *name, struct flag_record *out,
		   struct strbuf *err);

/* Every current definition of kind in env, by name, into a new array. 0 or SW_ESTORE. */
int flag_store_list(struct store *st, const char *env, const char *kind, struct flag_record **out, size_t *n,
		    struct strbuf *err);

/* Every segment of env as one object name -> definition (new reference), for flag_evaluate(). */
int flag_store_segments(struct store *st, const char *env, json_t **out, struct strbuf *err);

enum flag_put_mode { FLAG_PUT_ANY, FLAG_PUT_CREATE, FLAG_PUT_UPDATE };

/*
 * Store def (validated here with flag_validate()/segment_validate(), which
 * fill its defaults in place; a flag's rules must name segments that exist
 * in env) as the next version of kind/name in env, by actor at now_ms, with
 * an optional reason, its history row and audit entry in one transaction
 * (joining the caller's when there is one).  mode CREATE refuses a name that
 * exists (SW_ESTATE), UPDATE one that does not (SW_ENOTFOUND).  A definition
 * equal to the current one writes nothing.  Returns the version now in
 * force (> 0), *changed 1 when written; SW_ECONFIG with "PATH: message"
 * (and the path in path[] when given), SW_ESTATE, SW_ENOTFOUND, SW_ESTORE.
 */
int64_t flag_store_put(struct store *st, const char *env, const char *kind, const char *name, json_t *def,
		       enum flag_put_mode mode, const char *actor, const char *reason, int64_t now_ms, int *changed,
		       char *path, size_t pathsz, struct strbuf *err);

/* Delete kind/name from env (history row and audit entry; a segment some
 * flag's rule names is refused with SW_ESTATE naming the flags).  0,
 * SW_ENOTFOUND, SW_ESTATE, SW_ESTORE. */
int flag_store_delete(struct store *st, const char *env, const char *kind, const char *name, const char *actor,
		      const char *reason, int64_t now_ms, struct strbuf *err);

/* The changes of kind/name in env, oldest first (name NULL: every change of env). 0 or SW_ESTORE. */
int flag_store_history(struct store *st, const char *env, const char *kind, const char *name, struct flag_record **out,
		       size_t *n, struct strbuf *err);

/* The environment's generation: the seq of its newest change, 0 when none.  >= 0 or SW_ESTORE. */
int64_t flag_store_generation(struct store *st, const char *env, struct strbuf *err);

#endif
