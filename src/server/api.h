/*
 * api.h - slipway's HTTP API (docs/api.md; docs/openapi.json is its
 * OpenAPI 3.1 description, served at /api/v1/openapi.json).
 *
 * libmicrohttpd serves it from a small pool of threads.  Each thread opens
 * its own handle on the store (SQLite connections are not shared between
 * threads), so the API reads what the controller commits and writes
 * intents, approvals and incidents the controller applies on its next
 * tick; it never calls the controller itself.
 *
 *   /api/v1/...       JSON in the CLI's -o json vocabulary (server/vocab.h,
 *                     server/documents.h); errors are RFC 9457 problem
 *                     details (application/problem+json) whose detail is
 *                     the message the CLI prints for the same error.
 *                     Every call but GET /api/v1/openapi.json needs
 *                     "Authorization: Bearer TOKEN" (adapters/tokens.h):
 *                     401 without a valid one, 403 naming the role the
 *                     token lacks; each refused call is an audit entry
 *                     "api.refused".
 *   /metrics          slipway's own metrics, Prometheus text format 0.0.4
 *                     (no token: see docs/api.md "Metrics").
 *   /healthz, /readyz liveness and readiness (no token).
 */
#ifndef SLIPWAY_SERVER_API_H
#define SLIPWAY_SERVER_API_H

#include <stdint.h>

struct strbuf;

struct api_options {
	const char *listen;	/* "HOST:PORT" (IPv4 or [IPv6]); "127.0.0.1:8480" when NULL; PORT 0: any free port */
	const char *project_dir;/* services/ and releases/ (traffic and metrics calls); NULL: "." */
	const char *store_path;	/* the state directory holding slipway.db (the CLI's --state-dir) */
	const char *tls_cert;	/* PEM files: HTTPS when both are set, else plain HTTP */
	const char *tls_key;
	const char *policy_path;/* the policy file (roles:, windows, ...); NULL: the built-in runbook policy.
				   Read again at each call that needs it, so an edit applies at once */
	const char *socket_path;/* also serve the local unix socket here (docs/serve.md "The local socket"):
				   each call is made as the peer process's user (SO_PEERCRED), no token.
				   With socket_path and no listen, no TCP port is opened */
	struct strbuf *notes;	/* when not NULL: what was done differently, to log (a long socket path bound
				   through its directory; another slipway serve answering on the socket, which
				   then is not an error: the server runs without it) */
};

struct api_server;

/*
 * Start serving o in threads of its own; returns at once.  Over TCP
 * (listen) and/or the local socket (socket_path).  The caller
 * ignores SIGPIPE (a client that hangs up mid-answer must not end the
 * process), as `slipway api` does.  Returns 0 with
 * *out, or: SW_EUSAGE (a bad listen address), -errno (the port is taken:
 * -EADDRINUSE; a TLS file cannot be read), SW_ECONFIG (TLS asked for but
 * libmicrohttpd has no TLS support) or SW_ESTORE (the store cannot be
 * opened), with a message in e (a struct strbuf *).  Stop with
 * api_server_stop().
 */
int api_server_start(const struct api_options *o, struct api_server **out, struct strbuf *e);

/*
 * A standby `slipway serve` starts without the local socket when the
 * controller holding the lease answers there; once this one holds the lease
 * (the other died), it takes the socket over: called after each of its
 * ticks, it tries at most once a second while the socket is still wanted.
 * 1 taken now, 0 nothing to do (already listening, not wanted, or tried less
 * than a second ago), < 0 not taken (SW_ESTATE: another process answers
 * there; -errno) with e.  Call from the controller's thread only.
 */
int api_server_take_socket(struct api_server *s, struct strbuf *e);

/* The path of the local socket it listens on (as bound: /proc/self/fd/N/NAME
 * for a long one), or NULL when it does not. */
const char *api_server_socket(const struct api_server *s);

/* The port it listens on (useful after port 0); 0 without TCP. */
int api_server_port(const struct api_server *s);

/*
 * What the controller tells the API after each tick, for /metrics and
 * /readyz: how long the tick took (ms) and the wall-clock time (ms since
 * the epoch) of the last tick that succeeded (0: none yet).  Thread-safe.
 */
void api_server_set_tick(struct api_server *s, int64_t tick_ms, int64_t last_ok_wall_ms);

/* Stop serving (in-flight requests finish) and free s.  Accepts NULL. */
void api_server_stop(struct api_server *s);

#endif
