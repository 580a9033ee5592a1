/*
 * ui.h - the web dashboard's static files (docs/dashboard.md), served by
 * the API server (server/api.h) under /ui/ from a copy compiled into the
 * binary: HTML, CSS, JavaScript modules and the vendored chart library
 * (src/server/ui/, turned into C by tools/embed-files at build time).
 */
#ifndef SLIPWAY_SERVER_UI_H
#define SLIPWAY_SERVER_UI_H

#include <stddef.h>

struct MHD_Connection;

/* One file compiled in: its path under src/server/ui/ ("index.html",
 * "vendor/uplot/uPlot.iife.min.js"), its bytes (NUL-terminated beyond len)
 * and its length in bytes. */
struct embedded_file {
	const char *path;
	const unsigned char *data;
	size_t len;
};
extern const struct embedded_file ui_files[];
extern const size_t ui_files_count;

/* The embedded file at path (relative, "app.js"), or NULL. */
const struct embedded_file *ui_file_find(const char *path);

/* The Content-Type of a file by its name's ending (.html, .css, .js,
 * .json, .png, .svg, .txt; anything else application/octet-stream). */
const char *ui_content_type(const char *path);

/* The Content-Security-Policy every dashboard answer carries: scripts,
 * styles and API calls from this origin only, no inline script or style,
 * no frames, no plugins. */
#define UI_CSP                                                                                          \
	"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " \
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

/*
 * Answer a request for the dashboard, without a token: GET or HEAD of "/"
 * (302 to /ui/), "/ui" (302 to /ui/), "/ui/" (index.html) and "/ui/PATH"
 * (an embedded file, 404 when there is none); another method gets 405 with
 * Allow: GET, HEAD.  Returns -1 when url is none of those (the caller
 * answers it), else libmicrohttpd's result of queueing the answer (1 queued,
 * 0 failed), with the HTTP status in *status.
 */
int ui_serve(struct MHD_Connection *conn, const char *method, const char *url, unsigned *status);

#endif
