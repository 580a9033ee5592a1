/*
 * test_api.c - the API server as `slipway serve` uses it (server/api.h):
 * started on a free port of 127.0.0.1, told about ticks with
 * api_server_set_tick(), read back over HTTP (libcurl): /metrics carries
 * the tick's duration and the age of the last successful tick, /readyz
 * turns 503 when that tick is too old; and the body and token parsers on
 * fixed cases (the fuzz target covers the rest).
 */
#include "tap.h"
#include "server/api.h"
#include "server/api_body.h"
#include "server/ui.h"
#include "base/err.h"
#include "base/strbuf.h"

#include <curl/curl.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static size_t collect(char *p, size_t size, size_t n, void *ud)
{
	strbuf_add(ud, p, size * n);
	return size * n;
}

static long get(int port, const char *path, struct strbuf *out)
{
	CURL *c = curl_easy_init();
	char url[128];
	long code = 0;
	strbuf_reset(out);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(c);
	return code;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct body {
	const char *name;
	int flag;
	int64_t count;
};

static void parsers(void)
{
	static const struct api_field f[] = {
		{ "name", API_FIELD_STRING, 1, 0, 8, offsetof(struct body, name) },
		{ "flag", API_FIELD_BOOL, 0, 0, 0, offsetof(struct body, flag) },
		{ "count", API_FIELD_INT, 0, 1, 10, offsetof(struct body, count) },
		API_FIELDS_END,
	};
	static const struct { const char *in; int r; const char *msg; } cases[] = {
		{ "{\"name\": \"web\", \"flag\": true, \"count\": 3}", 0, "" },
		{ "{\"name\": \"web\", \"nmae\": 1}", SW_EUSAGE, "unknown field 'nmae'; valid: name, flag, count" },
		{ "{\"flag\": true}", SW_EUSAGE, "'name' is required" },
		{ "{\"name\": \"123456789\"}", SW_EUSAGE, "'name' is longer than 8 bytes" },
		{ "{\"name\": \"x\", \"count\": 11}", SW_EUSAGE, "'count' must be a whole number from 1 to 10" },
		{ "{\"name\": \"x\", \"flag\": 1}", SW_EUSAGE, "'flag' must be true or false" },
		{ "[1]", SW_EUSAGE, "the request body must be a JSON object" },
		{ "{\"name\": \"x\", \"name\": \"y\"}", SW_EPARSE, NULL },
		{ "{\"name\": \"a\\u0000b\"}", SW_EPARSE, NULL },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct strbuf err = STRBUF_INIT;
		struct body b = { 0 };
		json_t *root = NULL;
		int r = api_body_parse(cases[i].in, strlen(cases[i].in), f, &b, &root, &err);
		is_int(r, cases[i].r, "body %s: %s", cases[i].in, r ? err.buf : "accepted");
		if (cases[i].msg && r)
			is_str(err.buf, cases[i].msg, "  its message");
		if (!r)
			ok(b.flag == 1 && b.count == 3 && !strcmp(b.name, "web"), "  the values land in the struct");
		json_decref(root);
		strbuf_release(&err);
	}
	{
		char tok[TOKEN_CHARS + 1];
		struct strbuf err = STRBUF_INIT;
		char good[100];
		snprintf(good, sizeof(good), "bearer  swt_%s ", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
		is_int(api_bearer_parse(good, tok, &err), 0, "a bearer token (scheme in any case, spaces around)");
		is_str(tok, "swt_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "  the token itself");
		is_int(api_bearer_parse("Basic eDp5", tok, &err), SW_EDENIED, "Basic is refused");
		is_int(api_bearer_parse("Bearer swt_0123", tok, &err), SW_EDENIED, "a short token is refused");
		is_int(api_bearer_parse(NULL, tok, &err), SW_EDENIED, "no header is refused");
		strbuf_release(&err);
	}
}

int main(void)
{
	char dir[] = "/tmp/slipway-test-api.XXXXXX";
	struct api_options o = { .listen = "127.0.0.1:0" };
	struct api_server *s = NULL;
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT;
	int r, port;

	parsers();
	if (!mkdtemp(dir))
		return 1;
	o.store_path = dir;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	r = api_server_start(&o, &s, &err);
	is_int(r, 0, "api_server_start on 127.0.0.1:0 %s", err.buf);
	if (r)
		return tap_done();
	port = api_server_port(s);
	ok(port > 0, "it took a free port (%d)", port);
	is_int(get(port, "/healthz", &out), 200, "/healthz: 200");
	is_int(get(port, "/readyz", &out), 200, "/readyz: 200 before any tick (no controller reports)");
	get(port, "/metrics", &out);
	ok(!strstr(out.buf, "slipway_tick_duration_seconds"), "no tick metrics before a tick");

	api_server_set_tick(s, 250, now_ms() - 2000);
	get(port, "/metrics", &out);
	ok(strstr(out.buf, "slipway_tick_duration_seconds 0.250\n") != NULL, "the tick's duration in seconds");
	{
		const char *a = strstr(out.buf, "\nslipway_last_successful_tick_age_seconds ");
		double age = a ? strtod(a + strlen("\nslipway_last_successful_tick_age_seconds "), NULL) : -1;
		ok(age >= 2.0 && age < 60.0, "the age of the last successful tick (%.3f s)", age);
	}
	is_int(get(port, "/readyz", &out), 200, "/readyz: ready with a recent successful tick");
	api_server_set_tick(s, 40, now_ms() - 120000);
	is_int(get(port, "/readyz", &out), 503, "/readyz: 503 when the last successful tick is 2 minutes old");
	ok(strstr(out.buf, "older than 30 s") != NULL, "and says why");
	is_int(get(port, "/api/v1/deployments", &out), 401, "the API needs a token");
	is_int(get(port, "/nowhere", &out), 404, "an unknown path: 404");
	/* the dashboard's files (server/ui.h): compiled in, no token */
	is_int(get(port, "/ui/", &out), 200, "/ui/: the dashboard, no token");
	ok(strstr(out.buf, "<script type=\"module\" src=\"app.js\">") != NULL, "  its index.html");
	is_int(get(port, "/ui/app.js", &out), 200, "/ui/app.js");
	is_int(get(port, "/ui/nope.js", &out), 404, "a file not compiled in: 404");
	is_int(get(port, "/", &out), 302, "/ redirects");
	ok(ui_file_find("vendor/uplot/uPlot.iife.min.js") != NULL, "the vendored uPlot is compiled in");
	ok(ui_file_find("../api.c") == NULL && ui_file_find("") == NULL, "nothing but the table's names");
	is_str(ui_content_type("a/b.js"), "text/javascript; charset=utf-8", "a .js file: text/javascript");
	is_str(ui_content_type("index.html"), "text/html; charset=utf-8", "a .html file: text/html");
	is_str(ui_content_type("vendor/uplot/LICENSE"), "text/plain; charset=utf-8", "LICENSE: text/plain");
	is_str(ui_content_type("x.bin"), "application/octet-stream", "anything else: octet-stream");

	{
		struct api_server *s2 = NULL;
		char listen[64];
		struct strbuf e2 = STRBUF_INIT;
		snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
		o.listen = listen;
		is_int(api_server_start(&o, &s2, &e2), -EADDRINUSE, "a second server on the port: -EADDRINUSE");
		ok(strstr(e2.buf, "cannot listen on") != NULL, "  saying so: %s", e2.buf);
		strbuf_release(&e2);
		o.listen = "127.0.0.1";
		strbuf_reset(&err);
		is_int(api_server_start(&o, &s2, &err), SW_EUSAGE, "a listen address without a port: SW_EUSAGE");
	}
	api_server_stop(s);
	api_server_stop(NULL);
	curl_global_cleanup();
	strbuf_release(&err);
	strbuf_release(&out);
	{
		char cmd[128];
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			ok(0, "remove %s", dir);
	}
	return tap_done();
}
