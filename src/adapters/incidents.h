/*
 * incidents.h - incidents (runbook: Pre-Deployment Checklist "No active
 * incidents in production", ./scripts/incident-status.sh); store module
 * "incidents".
 *
 * Table incidents(id, service, env, title, opened_by, opened_ms,
 *   resolved_by, resolved_ms, deployment_id):
 *   deployment_id  the deployment that caused it, when known (DORA's change
 *                  failure rate counts it; `--deployment ID` on open)
 * An open incident in an environment blocks every deployment to that
 * environment (any service: an incident is about the environment's health),
 * except emergencies, which exist to fix it.  Opening and resolving are
 * audit entries.
 */
#ifndef SLIPWAY_ADAPTERS_INCIDENTS_H
#define SLIPWAY_ADAPTERS_INCIDENTS_H

#include <stddef.h>
#include <stdint.h>

struct store;
struct strbuf;

int incidents_migrate(struct store *st, struct strbuf *err);

/* Open one; returns its id (> 0) or SW_ESTORE.  deployment_id 0 = none. */
int64_t incident_open(struct store *st, const char *service, const char *env, const char *title,
		      const char *who, int64_t deployment_id, int64_t now_ms, struct strbuf *err);
/* Resolve; 0, SW_ENOTFOUND, SW_ESTATE (already resolved), SW_ESTORE. */
int incident_resolve(struct store *st, int64_t id, const char *who, int64_t now_ms, struct strbuf *err);

struct incident {
	int64_t id;
	char *service, *env, *title, *opened_by, *resolved_by;	/* owned; resolved_by may be NULL */
	int64_t opened_ms, resolved_ms;				/* resolved_ms 0 while open */
	int64_t deployment_id;					/* 0 = none */
};
void incidents_free(struct incident *v, size_t n);

/* Incidents newest first; only open ones when open_only; env NULL = all.  0 or SW_ESTORE. */
int incident_list(struct store *st, const char *env, int open_only, struct incident **out, size_t *n,
		  struct strbuf *err);

/*
 * THE GATE the engine calls before a deployment to env starts: 0 when it may
 * start; SW_EDENIED when an incident is open in env and the type is not
 * "emergency", with err naming the incidents ("incident 3 'db down' is open
 * in production since ...; resolve it or deploy --type emergency").  The
 * blocking incidents' ids go to *blocking (owned, may be NULL) / *n_blocking.
 * SW_ESTORE on store errors.
 */
int incidents_gate(struct store *st, const char *env, const char *type, int64_t **blocking,
		   size_t *n_blocking, struct strbuf *err);

#endif
