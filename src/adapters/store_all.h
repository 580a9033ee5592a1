/*
 * store_all.h - the one way to open the store: store_open() and every
 * module's migrations, so that no command or controller works on a store
 * where some module's tables are missing or older than the binary.
 */
#ifndef SLIPWAY_ADAPTERS_STORE_ALL_H
#define SLIPWAY_ADAPTERS_STORE_ALL_H

struct store;
struct strbuf;

/*
 * Open DIR/slipway.db (creating the directory and file if needed, as
 * store_open()) and apply the migrations of every module: deployments,
 * approvals with audit, emergency, incidents, notifications, the local
 * target, the builtin metrics, the API tokens, the feature flags.  Returns 0, or SW_ESTORE / -errno with the
 * module in err (nothing left open).  Release with store_close().
 */
int store_open_all(struct store *st, const char *dir, struct strbuf *err);

/*
 * The same for commands that only read: never creates the store; when
 * there is none, an empty in-memory one with every module's tables
 * (store_open_reader()).
 */
int store_open_all_reader(struct store *st, const char *dir, struct strbuf *err);

#endif
