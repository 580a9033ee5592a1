/*
 * ofrep.h - the OpenFeature Remote Evaluation Protocol (OFREP 0.3.0,
 * github.com/open-feature/protocol service/openapi.yaml) over the flags of
 * the store, served beside the HTTP API by `slipway serve --listen` and
 * `slipway api` (docs/flags.md "OFREP"):
 *   POST /ofrep/v1/evaluate/flags/{key}   one flag
 *   POST /ofrep/v1/evaluate/flags         every flag of the environment,
 *                                         with ETag / If-None-Match (304)
 * The body is {"context": {"targetingKey": ..., attributes...}}; the
 * environment is the X-Slipway-Environment header (production when absent);
 * the caller is the API token (Authorization: Bearer, or X-API-Key).
 */
#ifndef SLIPWAY_SERVER_OFREP_H
#define SLIPWAY_SERVER_OFREP_H

#include <stddef.h>

struct MHD_Connection;
struct store;
struct strbuf;

/* Whether url is OFREP's (starts with "/ofrep/"). */
int ofrep_path(const char *url);

/*
 * Answer one OFREP call on conn: st is this thread's store (NULL when it
 * could not be opened, why in store_err), body[0..len) the request body
 * (too_big when it exceeded the API's limit).  Queues the response and
 * returns libmicrohttpd's result (MHD_YES/MHD_NO); *status is the HTTP
 * status sent (for the API's response counts).
 */
int ofrep_answer(struct MHD_Connection *conn, struct store *st, const struct strbuf *store_err, const char *method,
		 const char *url, const char *body, size_t len, int too_big, unsigned *status);

#endif
