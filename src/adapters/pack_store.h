/*
 * pack_store.h - the stages of agent-pack deployments in the store (module
 * `packs`; docs/flags.md "Agent packs").  Each stage of `slipway pack
 * deploy` (staging: deploy, enable, tests; production: disable, deploy,
 * enable, rollout) is a row, written with an audit entry (action
 * `pack.stage`, subject `pack:NAME@VERSION`, detail {env, stage, status,
 * exit, detail}) in one transaction, so the procedure's progress survives
 * the process and `audit --verify` covers it.
 */
#ifndef SLIPWAY_ADAPTERS_PACK_STORE_H
#define SLIPWAY_ADAPTERS_PACK_STORE_H

#include <stddef.h>
#include <stdint.h>

struct store;
struct strbuf;

/* A stage's status: passed, failed, or waiting (on a person: approvals, a window). */
#define PACK_PASSED "passed"
#define PACK_FAILED "failed"
#define PACK_WAITING "waiting"

struct pack_stage {
	int64_t seq;		/* the row's order */
	char *pack, *version, *env, *stage, *status, *detail, *actor;	/* owned; detail may be "" */
	int exit_code;		/* the stage's command's exit code */
	int64_t at_ms;		/* when it ended, ms since the epoch */
};

/* Create or upgrade the module's tables (and the audit log's).  0 or SW_ESTORE. */
int pack_store_migrate(struct store *st, struct strbuf *err);

/* Record one stage's end (row + audit entry, one transaction).  0 or SW_ESTORE. */
int pack_store_record(struct store *st, const char *pack, const char *version, const char *env, const char *stage,
		      const char *status, int exit_code, const char *detail, const char *actor, int64_t at_ms,
		      struct strbuf *err);

/* The newest status of stage for pack@version in env into *status (a static
 * string: PACK_PASSED, PACK_FAILED, PACK_WAITING), or NULL when never run.
 * 0 or SW_ESTORE. */
int pack_store_last(struct store *st, const char *pack, const char *version, const char *env, const char *stage,
		    const char **status, struct strbuf *err);

/* Every stage of pack (pack NULL: of every pack; version NULL: of every
 * version), oldest first, into a new array *out of *n (pack_stages_free()).
 * 0 or SW_ESTORE. */
int pack_store_list(struct store *st, const char *pack, const char *version, struct pack_stage **out, size_t *n,
		    struct strbuf *err);
void pack_stages_free(struct pack_stage *v, size_t n);

#endif
