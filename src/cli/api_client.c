/*
 * api_client.c - calls to `slipway serve`'s API over the local unix
 * socket (api_client.h): libcurl with CURLOPT_UNIX_SOCKET_PATH, answers
 * bounded, event streams parsed by base/sse.h.
 */
#include "cli/api_client.h"
#include "cli/cli.h"
#include "adapters/http_sink.h"
#include "base/alloc.h"
#include "base/err.h"
#include "base/sse.h"
#include "base/strbuf.h"

#include <curl/curl.h>
#include <stdio.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define ANSWER_MAX (4 << 20)	/* bytes */

char *cli_serve_socket_path(const struct cli_ctx *ctx)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_addf(&sb, "%s/serve.sock", ctx->state_dir);
	return strbuf_detach(&sb, NULL);
}

int cli_api_open(const struct cli_ctx *ctx, struct cli_api *a)
{
	struct sockaddr_un sa;
	char *path = cli_serve_socket_path(ctx);
	int fd, ok;

	memset(a, 0, sizeof(*a));
	a->dirfd = -1;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) < sizeof(sa.sun_path)) {
		memcpy(sa.sun_path, path, strlen(path) + 1);
	} else {
		/* as the server binds it (src/server/api.c start_unix()) */
		char *slash = strrchr(path, '/');
		*slash = '\0';
		a->dirfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (a->dirfd < 0 || (size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/%s", a->dirfd,
						     slash + 1) >= sizeof(sa.sun_path)) {
			free(path);
			cli_api_close(a);
			return 0;
		}
	}
	free(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ok = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	if (fd >= 0)
		close(fd);
	if (!ok) {
		cli_api_close(a);
		return 0;
	}
	a->sock = xstrdup(sa.sun_path);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	return 1;
}

void cli_api_close(struct cli_api *a)
{
	free(a->sock);
	a->sock = NULL;
	if (a->dirfd >= 0)
		close(a->dirfd);
	a->dirfd = -1;
}

int cli_api_for_person(const struct cli_ctx *ctx, struct cli_api *a, int *beside)
{
	const char *env = getenv("SLIPWAY_USER");
	int up = cli_api_open(ctx, a);
	*beside = 0;
	if (up == 1 && env && *env) {
		cli_api_close(a);
		*beside = 1;
		return 0;
	}
	return up;
}

const char *cli_identity_beside(const char *identity, int beside)
{
	static char buf[512];
	if (!beside)
		return identity;
	snprintf(buf, sizeof(buf), "%s; in-process beside the controller answering on the local socket",
		 identity ? identity : "os");
	return buf;
}

static CURL *handle(struct cli_api *a, const char *path, struct curl_slist **h)
{
	CURL *c = curl_easy_init();
	struct strbuf url = STRBUF_INIT;
	if (!c)
		return NULL;
	strbuf_addf(&url, "http://localhost/api/v1/%s", path);
	curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, a->sock);
	curl_easy_setopt(c, CURLOPT_URL, url.buf);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	*h = curl_slist_append(*h, "Accept: application/json");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, *h);
	strbuf_release(&url);
	return c;
}

int cli_api_call(struct cli_api *a, const char *method, const char *path, json_t *body, long *status, json_t **doc,
		 struct strbuf *err)
{
	struct curl_slist *h = NULL;
	struct http_sink s = HTTP_SINK_INIT(ANSWER_MAX);
	char *text = NULL;
	CURL *c;
	CURLcode cr;
	int r = 0;

	*doc = NULL;
	if (body)
		h = curl_slist_append(h, "Content-Type: application/json");
	if (!(c = handle(a, path, &h))) {
		curl_slist_free_all(h);
		strbuf_errf(err, "libcurl cannot start a call");
		return SW_EEXTERNAL;
	}
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (body) {
		text = json_dumps(body, JSON_COMPACT);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, text ? text : "{}");
	} else if (strcmp(method, "GET")) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
	}
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, http_sink_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	if ((cr = curl_easy_perform(c)) != CURLE_OK) {
		strbuf_errf(err, "the controller's local socket '%s': %s", a->sock,
			    s.too_big ? "the answer is over 4 MiB" : curl_easy_strerror(cr));
		r = SW_EEXTERNAL;
	} else {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
		*doc = json_loadb(s.buf.len ? s.buf.buf : "", s.buf.len, 0, NULL);
	}
	curl_easy_cleanup(c);
	curl_slist_free_all(h);
	strbuf_release(&s.buf);
	free(text);
	return r;
}

int cli_api_problem(long status, const json_t *doc)
{
	const char *detail = json_string_value(json_object_get(doc, "detail"));
	int r;
	cli_error("%s", detail ? detail : "the controller answered with an error");
	switch (status) {
	case 400: r = SW_EUSAGE; break;
	case 401: case 403: r = SW_EDENIED; break;
	case 404: r = SW_ENOTFOUND; break;
	case 409: r = SW_ESTATE; break;
	case 413: r = SW_ETOOBIG; break;
	case 503: r = SW_ESTORE; break;
	default: r = SW_EEXTERNAL; break;
	}
	return cli_exit(r);
}

struct follow {
	struct sse_parser p;
	cli_api_event_fn fn;
	cli_api_idle_fn idle;
	void *ctx;
	int stopped;		/* the nonzero value that ended it */
	struct strbuf err;
	long status;
	CURL *c;
	struct strbuf problem;	/* the body of an error answer */
};

static int on_event(void *ctx, const struct sse_event *ev)
{
	struct follow *f = ctx;
	json_t *data;
	int r;
	if (strcmp(ev->type, "transition"))
		return 0;
	if (!(data = json_loads(ev->data, 0, NULL))) {
		strbuf_errf(&f->err, "the event stream sent an event whose data is not JSON");
		return SW_EPARSE;
	}
	r = f->fn(f->ctx, strtoll(ev->id, NULL, 10), data);
	json_decref(data);
	if (!r && f->idle)
		r = f->idle(f->ctx);
	return r;
}

static size_t on_stream(char *p, size_t size, size_t n, void *ctx)
{
	struct follow *f = ctx;
	int r;
	if (!f->status)
		curl_easy_getinfo(f->c, CURLINFO_RESPONSE_CODE, &f->status);
	if (f->status != 200) {
		if (f->problem.len + size * n <= 65536)
			strbuf_add(&f->problem, p, size * n);
		return size * n;
	}
	if ((r = sse_feed(&f->p, p, size * n, &f->err))) {
		f->stopped = r;
		return 0;
	}
	return size * n;
}

static int on_progress(void *ctx, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	struct follow *f = ctx;
	int r;
	(void)dt, (void)dn, (void)ut, (void)un;
	if (f->idle && (r = f->idle(f->ctx))) {
		f->stopped = r;
		return 1;
	}
	return 0;
}

int cli_api_stream(struct cli_api *a, const char *path, cli_api_event_fn fn, cli_api_idle_fn idle, void *ctx,
		   struct strbuf *err)
{
	struct curl_slist *h = NULL;
	struct follow f;
	CURLcode cr;
	int r = 0;

	memset(&f, 0, sizeof(f));
	f.fn = fn;
	f.idle = idle;
	f.ctx = ctx;
	strbuf_init(&f.err, 0);
	strbuf_init(&f.problem, 0);
	sse_parser_init(&f.p, on_event, &f);
	h = curl_slist_append(h, "Cache-Control: no-store");
	if (!(f.c = handle(a, path, &h))) {
		curl_slist_free_all(h);
		sse_parser_release(&f.p);
		strbuf_errf(err, "libcurl cannot start a call");
		return SW_EEXTERNAL;
	}
	curl_easy_setopt(f.c, CURLOPT_WRITEFUNCTION, on_stream);
	curl_easy_setopt(f.c, CURLOPT_WRITEDATA, &f);
	curl_easy_setopt(f.c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(f.c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(f.c, CURLOPT_XFERINFODATA, &f);
	cr = curl_easy_perform(f.c);
	if (f.stopped > 0) {
		r = f.stopped;
	} else if (f.stopped < 0) {
		strbuf_errf(err, "the event stream: %s", f.err.buf);
		r = f.stopped;
	} else if (cr != CURLE_OK) {
		strbuf_errf(err, "the controller's local socket '%s': %s", a->sock, curl_easy_strerror(cr));
		r = SW_EEXTERNAL;
	} else if (f.status != 200) {
		json_t *doc = json_loadb(f.problem.len ? f.problem.buf : "", f.problem.len, 0, NULL);
		const char *detail = json_string_value(json_object_get(doc, "detail"));
		strbuf_errf(err, "the event stream: %ld: %s", f.status, detail ? detail : "an error answer");
		json_decref(doc);
		r = f.status == 404 ? SW_ENOTFOUND : f.status == 400 ? SW_EUSAGE : SW_EEXTERNAL;
	}
	curl_easy_cleanup(f.c);
	curl_slist_free_all(h);
	sse_parser_release(&f.p);
	strbuf_release(&f.err);
	strbuf_release(&f.problem);
	return r;
}
