/*
 * checklist_store.h - the checklists' evidence in the store (module
 * "checklist"; docs/checklists.md): attestations posted by CI or a person
 * (`slipway attest`, POST /api/v1/deployments/ID/attestations), and what
 * the gate found for the items slipway proves itself.
 *
 * Table attestations(id, deployment_id, version, item, status, evidence,
 *   detail, actor, identity, at_ms):
 *   deployment_id  the deployment it is for, or NULL when it is for a version
 *   version        the version it is for (every deployment of it), or NULL
 *   status         'pass' | 'fail'
 *   evidence       a URL or a file name, or NULL
 *   detail         what slipway read from the evidence (a SARIF summary), or NULL
 *   identity       how the actor was authenticated ("os", "token:ID", "uid:N")
 * Table checklist_proofs(deployment_id, item, state, evidence, at_ms): the
 *   gate's latest finding per item (state 'satisfied' | 'failed' | 'missing'
 *   | 'unchecked'), replaced on each look, so `slipway checklist` shows what
 *   the gate saw.
 * Every attestation is an audit entry "checklist.attested" (adapters/audit.h)
 * written in the same transaction.
 */
#ifndef SLIPWAY_ADAPTERS_CHECKLIST_STORE_H
#define SLIPWAY_ADAPTERS_CHECKLIST_STORE_H

#include <stddef.h>
#include <stdint.h>

struct store;
struct strbuf;

/* Create or upgrade the module's tables (and the audit log's).  0 or SW_ESTORE. */
int checklist_store_migrate(struct store *st, struct strbuf *err);

struct attestation {
	int64_t id;
	int64_t deployment_id;		/* 0: for a version */
	char *version;			/* NULL: for a deployment */
	char *service;			/* a version's service (NULL: any, as stored before services were named) */
	char *item, *status, *evidence, *detail, *actor, *identity;	/* owned; evidence, detail may be NULL */
	int64_t at_ms;
	int64_t commit_time_ms;		/* when the attested commit was made (CI says so), 0: not given; stored, not read back */
};

/*
 * Store attestation a (its id and strings are read, not kept) with its audit
 * entry "checklist.attested" (subject "deployment:ID" or "version:V"), in
 * one transaction.  Returns the new id (> 0), or SW_ESTORE with err.
 */
int64_t checklist_attest_store(struct store *st, const struct attestation *a, struct strbuf *err);

/*
 * The attestations for deployment_id or its version (either may be 0/NULL)
 * of service (a version's attestation for another service does not count;
 * service NULL: any), oldest first, into a new array *out of *n (free with
 * attestations_free()).  0 or SW_ESTORE.
 */
int checklist_attestations(struct store *st, int64_t deployment_id, const char *service, const char *version,
			   struct attestation **out,
			   size_t *n, struct strbuf *err);
void attestations_free(struct attestation *a, size_t n);

/* Record the gate's finding for one item of deployment_id (replacing the
 * previous one).  state, evidence: strings (evidence may be NULL).  0 or SW_ESTORE. */
int checklist_proof_put(struct store *st, int64_t deployment_id, const char *item, const char *state,
			const char *evidence, int64_t at_ms, struct strbuf *err);

/* The gate's finding for item, as new strings in *state and *evidence
 * (caller frees; NULL when none) and *at_ms.  0 (found), 1 (none) or SW_ESTORE. */
int checklist_proof_get(struct store *st, int64_t deployment_id, const char *item, char **state, char **evidence,
			int64_t *at_ms, struct strbuf *err);

#endif
