/*
 * api_client.h - the CLI's side of the local socket: when a `slipway
 * serve` answers on <state dir>/serve.sock, commands that act for a person
 * call its API there (libcurl, CURLOPT_UNIX_SOCKET_PATH), and the
 * controller names the caller by its uid (SO_PEERCRED); docs/serve.md
 * "The local socket".  With no controller they work in-process.
 */
#ifndef SLIPWAY_CLI_API_CLIENT_H
#define SLIPWAY_CLI_API_CLIENT_H

#include <jansson.h>

struct cli_ctx;
struct strbuf;

/* <state dir>/serve.sock, the socket `slipway serve` listens on by default; malloc'd. */
char *cli_serve_socket_path(const struct cli_ctx *ctx);

struct cli_api {
	char *sock;	/* as given to connect(2): /proc/self/fd/N/NAME for a path over sun_path's size */
	int dirfd;	/* -1, or the directory held open for such a path */
};

/*
 * 1 with *a when something answers on the local socket (a connect(2)
 * succeeds), 0 when nothing does (no socket file, refused): the caller
 * works in-process.  Release with cli_api_close().
 */
int cli_api_open(const struct cli_ctx *ctx, struct cli_api *a);
void cli_api_close(struct cli_api *a);

/*
 * One call: method and path under /api/v1 ("deployments/12/abort"), body
 * (borrowed; NULL: none).  0 with the HTTP status and the answer parsed
 * (*doc owned; NULL when it is not JSON), or SW_EEXTERNAL with err when no
 * answer came (at most 4 MiB, 60 s).
 */
int cli_api_call(struct cli_api *a, const char *method, const char *path, json_t *body, long *status, json_t **doc,
		 struct strbuf *err);

/*
 * Whether an act of a person (an intent, an approval or rejection, deploy's
 * record) goes to the controller over the local socket: 1 with *a (close
 * it) when a `slipway serve` answers there and $SLIPWAY_USER is not set;
 * 0 otherwise: the command works in-process, as without a controller.
 * $SLIPWAY_USER set while a controller answers keeps the command
 * in-process (tests and automation name the person that way); *beside is
 * then 1 and the audit entry says so (cli_identity_beside()).
 */
int cli_api_for_person(const struct cli_ctx *ctx, struct cli_api *a, int *beside);

/* The identity note of an in-process act (cli_caller()'s) with, when beside
 * is set, "; in-process beside the controller answering on the local socket"
 * appended.  A static buffer. */
const char *cli_identity_beside(const char *identity, int beside);

/* An error answer (a problem, RFC 9457): its detail printed as the CLI's error, the exit code for its status. */
int cli_api_problem(long status, const json_t *doc);

/*
 * Follow GET /api/v1/PATH (an event stream, docs/api.md "Live events"):
 * fn gets each event's id and parsed data; idle runs about once a second
 * (and after each event).  Either returning nonzero ends the stream with
 * that value.  0 when the server ended the stream, the nonzero value, or
 * < 0 with err (no answer, an error status, a bad stream).
 */
typedef int (*cli_api_event_fn)(void *ctx, long long id, json_t *data);
typedef int (*cli_api_idle_fn)(void *ctx);
int cli_api_stream(struct cli_api *a, const char *path, cli_api_event_fn fn, cli_api_idle_fn idle, void *ctx,
		   struct strbuf *err);

#endif
