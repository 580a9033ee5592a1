/*
 * dora_store.h - the inputs of the deployment metrics (core/dora.h) read
 * from the store, and the commit time of a change read from git (runbook:
 * "Lead time for changes"; the deploy command records commit_time_ms).
 */
#ifndef SLIPWAY_ADAPTERS_DORA_STORE_H
#define SLIPWAY_ADAPTERS_DORA_STORE_H

#include "core/dora.h"

#include <stddef.h>
#include <stdint.h>

struct store;
struct strbuf;

/*
 * Deployments of env (and service when not NULL) that finished in
 * [from_ms, to_ms), with the times of their rollback (first transition to
 * rolling_back, last to rolled_back, else finished_ms) and whether an
 * incident names them; and the incidents of env (and service) resolved in
 * the range.  Arrays newly allocated (free()).  Needs the deployments and
 * incidents modules migrated.  0 or SW_ESTORE.
 */
int dora_load(struct store *st, const char *service, const char *env, int64_t from_ms, int64_t to_ms,
	      struct dora_deploy **deploys, size_t *n, struct dora_incident **incidents, size_t *n_inc,
	      struct strbuf *err);

/*
 * The committer time of commit sha in the git repository repo, in ms UTC:
 * runs `git -C REPO show -s --format=%ct SHA` (no shell; sha must be 4-64
 * hex digits or a ref name of [A-Za-z0-9._/-] not starting with '-').
 * 0, SW_EUSAGE (bad sha), SW_EEXTERNAL (git failed: its message in err).
 */
int commit_time_resolve(const char *repo, const char *sha, int64_t *ms, struct strbuf *err);

#endif
