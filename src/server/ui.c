/*
 * ui.c - the dashboard's static files over libmicrohttpd; see ui.h and
 * docs/dashboard.md.
 *
 * The files are compiled in (tools/embed-files), so the binary serves the
 * dashboard of its own version with nothing installed beside it, and a
 * path names only what is in the table: nothing is read from the disk, so
 * "../" leads nowhere.  The files need no token: they hold no data; the
 * pages read everything through /api/v1 with the token the user pastes.
 * Every answer carries a strict Content-Security-Policy (UI_CSP) and
 * nosniff, so only the files served here run in the page.
 */
#include "server/ui.h"

#include <microhttpd.h>
#include <string.h>

const struct embedded_file *ui_file_find(const char *path)
{
	for (size_t i = 0; i < ui_files_count; i++)
		if (!strcmp(ui_files[i].path, path))
			return &ui_files[i];
	return NULL;
}

const char *ui_content_type(const char *path)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
		{ ".html", "text/html; charset=utf-8" },
		{ ".css", "text/css; charset=utf-8" },
		{ ".js", "text/javascript; charset=utf-8" },
		{ ".json", "application/json" },
		{ ".svg", "image/svg+xml" },
		{ ".png", "image/png" },
		{ ".txt", "text/plain; charset=utf-8" },
	};
	size_t n = strlen(path);
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		size_t e = strlen(types[i].ext);
		if (n >= e && !strcmp(path + n - e, types[i].ext))
			return types[i].type;
	}
	/* LICENSE, VERSION: text without an extension */
	return strchr(path, '.') ? "application/octet-stream" : "text/plain; charset=utf-8";
}

static int queue(struct MHD_Connection *conn, unsigned status, const char *ctype, const void *data, size_t len,
		 const char *location, const char *allow)
{
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_PERSISTENT);
	int ret;
	if (!resp)
		return 0;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	MHD_add_response_header(resp, "Content-Security-Policy", UI_CSP);
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	/* revalidate every time: a new binary brings new files under the same names */
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	if (location)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, location);
	if (allow)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
	ret = MHD_queue_response(conn, status, resp) == MHD_YES;
	MHD_destroy_response(resp);
	return ret;
}

int ui_serve(struct MHD_Connection *conn, const char *method, const char *url, unsigned *status)
{
	static const char not_found[] = "no such file in the dashboard; start at /ui/\n";
	static const char bad_method[] = "the dashboard's files take GET and HEAD\n";
	const struct embedded_file *f;

	if (strcmp(url, "/") && strcmp(url, "/ui") && strncmp(url, "/ui/", 4))
		return -1;
	/* libmicrohttpd sends no body for HEAD */
	if (strcmp(method, "HEAD") && strcmp(method, "GET")) {
		*status = 405;
		return queue(conn, 405, "text/plain; charset=utf-8", bad_method, strlen(bad_method), NULL, "GET, HEAD");
	}
	if (!strcmp(url, "/") || !strcmp(url, "/ui")) {
		*status = 302;
		return queue(conn, 302, "text/plain; charset=utf-8", "", 0, "/ui/", NULL);
	}
	f = ui_file_find(url[4] ? url + 4 : "index.html");
	if (!f) {
		*status = 404;
		return queue(conn, 404, "text/plain; charset=utf-8", not_found, strlen(not_found), NULL, NULL);
	}
	*status = 200;
	return queue(conn, 200, ui_content_type(f->path), f->data, f->len, NULL, NULL);
}
