/*
 * api_internal.h - what the API's files share (api.c, api_metrics.c,
 * api_create.c, the generated openapi_json.c); not for use outside
 * src/server.
 */
#ifndef SLIPWAY_SERVER_API_INTERNAL_H
#define SLIPWAY_SERVER_API_INTERNAL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct api_server;
struct store;
struct strbuf;
struct policy_file;

/* docs/openapi.json, compiled in (meson turns the file into openapi_json.c). */
extern const char api_openapi_json[];

/* Responses counted by status class for /metrics: 2xx, 3xx, 4xx, 5xx and 401, 403 apart. */
enum { API_SLOT_2XX, API_SLOT_3XX, API_SLOT_401, API_SLOT_403, API_SLOT_4XX, API_SLOT_5XX, API_STATUS_SLOTS };
static inline int api_status_slot(unsigned status)
{
	return status == 401 ? API_SLOT_401 : status == 403 ? API_SLOT_403 : status >= 500 ? API_SLOT_5XX
	       : status >= 400 ? API_SLOT_4XX : status >= 300 ? API_SLOT_3XX : API_SLOT_2XX;
}

/* What the controller reported (api_server_set_tick()) and the response counts, copied under the lock. */
struct api_tick {
	int have;
	int64_t tick_ms, last_ok_ms;
	uint64_t ticks;		/* ticks reported so far */
	int64_t ticks_ms;	/* their durations added up, ms */
	uint64_t responses[API_STATUS_SLOTS];
};
void api_server_tick(struct api_server *s, struct api_tick *t);

/* The readiness answer of /readyz: the store answers a query, and when a
 * controller reports ticks, its last successful one is at most
 * API_READY_TICK_AGE_MS old.  0 ready; -1 with why[] otherwise. */
#define API_READY_TICK_AGE_MS 30000
int api_ready(struct store *st, const struct api_tick *t, int64_t now_ms, char *why, size_t whysz, struct strbuf *err);

/* The /metrics text (Prometheus exposition format 0.0.4) into out.  0 or SW_ESTORE with err. */
int api_metrics_render(struct store *st, const struct api_tick *t, struct strbuf *out, struct strbuf *err);

/* POST /api/v1/deployments: the body's fields (borrowed from the parsed body). */
struct api_create_request {
	const char *service, *version, *type, *env, *change_class, *reason, *commit_sha, *commit_time;
	double time_scale;	/* deploy --time-scale (docs/engine.md "Time scale"); 0: 1 */
};
/*
 * Record the deployment as `deploy` does before its first tick (the policy
 * checked, the service file read, the strategy chosen; the controller that
 * runs later drives it), requested by user.  Sets *status and *doc (a
 * Deployment document, 201; 200 when an unfinished deployment of that
 * version was found; or a problem with *is_problem = 1 and the message
 * deploy prints).
 */
void api_create_deployment(const char *state_dir, const char *project_dir, const struct policy_file *pol,
			   const struct api_create_request *rq, const char *user, const char *identity,
			   struct store *st, unsigned *status, json_t **doc, int *is_problem, const char *instance);

/* The calling pool thread's own store handle (opened on first use; SQLite wants one per thread), or NULL with err. */
struct store *api_thread_store(struct api_server *s, struct strbuf *err);

/*
 * GET /api/v1/stream (api_stream.c, docs/api.md "Live events"): the
 * transitions as Server-Sent Events.  api_streams_start() starts the one
 * notifier thread of a server (it polls the store in state_dir, not the
 * clients); api_streams_quiesce() ends every stream and the notifier (call
 * it before MHD_stop_daemon: no connection may stay suspended);
 * api_streams_free() quiesces and frees (accepts NULL).
 */
struct api_streams;
struct MHD_Connection;
struct MHD_Response;
struct api_streams *api_streams_start(const char *state_dir);
void api_streams_quiesce(struct api_streams *ss);
void api_streams_free(struct api_streams *ss);

/* What a stream sends: the transitions with a global id above `after`, of
 * deployment_id when > 0, else of service and env where not NULL. */
struct api_stream_filter {
	int64_t deployment_id;
	const char *service, *env;	/* copied */
	int64_t after;
};
/* A response for MHD_queue_response (text/event-stream, chunked, never
 * ending by itself), or NULL when libmicrohttpd cannot make one.  The
 * daemon must allow suspending (MHD_ALLOW_SUSPEND_RESUME). */
struct MHD_Response *api_stream_response(struct api_server *srv, struct api_streams *ss, struct MHD_Connection *conn,
					 const struct api_stream_filter *f);

#endif
