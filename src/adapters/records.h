/*
 * records.h - reading the deployment records for people: `slipway history`,
 * `slipway log` and `slipway show` (runbook: record-deployment.sh,
 * update-deployment-log.sh, Post-Deployment "Update deployment log").
 *
 * These read the "deployments" module's tables (adapters/deployment_store.h,
 * owned by the rollout engine) and own no table of their own.
 */
#ifndef SLIPWAY_ADAPTERS_RECORDS_H
#define SLIPWAY_ADAPTERS_RECORDS_H

#include <stddef.h>
#include <stdint.h>

struct store;
struct strbuf;

#define RECORD_TIME_NONE INT64_MIN	/* a time column that is NULL */

/* One row of `deployments`; strings owned (NULL where the column is NULL). */
struct deployment_record {
	int64_t id;
	char *service, *env, *version, *from_version, *type, *class_, *strategy, *state;
	int64_t revision, step;
	double weight;		/* percent 0-100 */
	int64_t failed_checks;
	char *reason, *requested_by, *emergency_reason, *commit_sha;
	int64_t commit_time_ms, created_ms, started_ms, finished_ms, state_since_ms;	/* or RECORD_TIME_NONE */
	double time_scale;	/* 1: real time; N: its engine ran N times faster (deploy --time-scale N);
				   every time above is wall time either way (docs/engine.md "Time scale") */
	/* Of a finished deployment (else RECORD_TIME_NONE), ms: waited_ms is the time it
	 * waited, pending for the gate (approvals, windows, freezes, incidents) and paused
	 * for a person; ran_ms the rest of created..finished, the rollout itself. */
	int64_t waited_ms, ran_ms;
	/* The strategy's number of steps (0 when unknown), and while progressing at a step,
	 * when that step's minimum hold ends, wall ms (step began + hold / time scale;
	 * RECORD_TIME_NONE otherwise): the step moves on at the first passing analysis
	 * after it (docs/engine.md). */
	int64_t n_steps, hold_until_ms;
};

void deployment_record_release(struct deployment_record *d);
void deployment_records_free(struct deployment_record *v, size_t n);

/* Deployment id into *out.  0, SW_ENOTFOUND ("no deployment N"), SW_ESTORE. */
int records_get(struct store *st, int64_t id, struct deployment_record *out, struct strbuf *err);

/*
 * Deployments newest first (by created_ms, then id): of one service when
 * service is not NULL, of one env when env is not NULL, at most limit rows
 * (0 = all).  *out is a new array of *n.  0 or SW_ESTORE.
 */
int records_list(struct store *st, const char *service, const char *env, size_t limit,
		 struct deployment_record **out, size_t *n, struct strbuf *err);

/* One row of `transitions`. */
struct transition_record {
	int64_t id, at_ms, step;
	double weight;
	char *from_state, *to_state, *reason, *detail_json;	/* owned, may be NULL */
};
void transition_records_free(struct transition_record *v, size_t n);
/* The transitions of one deployment, oldest first.  0 or SW_ESTORE. */
int records_transitions(struct store *st, int64_t deployment_id, struct transition_record **out,
			size_t *n, struct strbuf *err);

/*
 * A transition as a stream of every deployment's events sees it (the API's
 * GET /api/v1/stream, docs/api.md "Live events"): the row (t.id is its
 * global sequence number, increasing over the whole store), its number
 * among its deployment's transitions (seq: 1, 2, ..., as the events
 * endpoint numbers them) and the deployment it belongs to.
 */
struct transition_event {
	struct transition_record t;
	int64_t deployment_id, seq;
	char *service, *env, *version;	/* owned */
};
void transition_events_free(struct transition_event *v, size_t n);

/*
 * The transitions with a global sequence number (transitions.id) above
 * after_id, oldest first, at most limit (>= 1): of deployment_id only when
 * it is > 0, else of service and of env where those are not NULL.  *out is
 * a new array of *n (possibly 0).  0 or SW_ESTORE.
 */
int records_transitions_after(struct store *st, int64_t after_id, int64_t deployment_id, const char *service,
			      const char *env, size_t limit, struct transition_event **out, size_t *n,
			      struct strbuf *err);

/* The highest global transition sequence number in the store (0: none) into *id.  0 or SW_ESTORE. */
int records_transitions_last_id(struct store *st, int64_t *id, struct strbuf *err);

/*
 * The newest analysis result of a deployment that carries a comparison
 * table: its verdict, reason and table_json (owned strings, NULL when there
 * is none).  0 or SW_ESTORE.
 */
int records_last_analysis(struct store *st, int64_t deployment_id, char **verdict, char **reason,
			  char **table_json, int64_t *at_ms, struct strbuf *err);

/* One row of analysis_results (deployment_store.h): one analysis interval's verdict. */
struct analysis_record {
	int64_t id, at_ms, step;
	double weight;				/* percent 0-100 */
	char *verdict, *reason, *table_json;	/* owned; reason and table_json may be NULL */
};
void analysis_records_free(struct analysis_record *v, size_t n);
/*
 * The analysis results of a deployment with a row id above after_id, oldest
 * first, at most limit (0: all): *out a new array of *n (NULL, 0 when none;
 * free with analysis_records_free()).  An unknown deployment has none.
 * 0 or SW_ESTORE.
 */
int records_analyses(struct store *st, int64_t deployment_id, int64_t after_id, size_t limit,
		     struct analysis_record **out, size_t *n, struct strbuf *err);

/* Whether the state is final: succeeded, rolled_back, failed. */
int record_state_is_final(const char *state);

#endif
