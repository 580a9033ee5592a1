/*
 * http_receiver.c - a webhook receiver for tests (libmicrohttpd), on
 * 127.0.0.1 only.
 *
 *   http_receiver --port-file FILE --dir DIR [--script CODES]
 *
 * Binds a free port, writes it to FILE, and stores each request as
 * DIR/N.body (the body) and DIR/N.meta (method, path, Content-Type), N = 1,
 * 2, ...  CODES is a comma-separated list of answers for successive
 * requests, then 200 for the rest: "200", "500", "410", "429:SECONDS"
 * (Retry-After in seconds), "429:date:SECONDS" (Retry-After as an HTTP date
 * that many seconds from now).  Runs until SIGTERM or SIGINT.
 */
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct req {
	char *body;
	size_t len;
};

static const char *dir;
static char script[4096];
static int n_requests;

static const char *next_answer(char *buf, size_t size)
{
	char *p = script;
	for (int i = 0; i < n_requests - 1 && p; i++) {
		p = strchr(p, ',');
		if (p)
			p++;
	}
	if (!p || !*p)
		return "200";
	snprintf(buf, size, "%.*s", (int)strcspn(p, ","), p);
	return buf;
}

static void save(struct MHD_Connection *c, const char *method, const char *url, const struct req *r)
{
	char path[4096];
	const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
	const char *ua = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "User-Agent");
	FILE *f;

	snprintf(path, sizeof(path), "%s/%d.body.tmp", dir, n_requests);
	if ((f = fopen(path, "w"))) {
		fwrite(r->body ? r->body : "", 1, r->len, f);
		fclose(f);
		char final[4096];
		snprintf(final, sizeof(final), "%s/%d.body", dir, n_requests);
		snprintf(path, sizeof(path), "%s/%d.meta", dir, n_requests);
		if ((f = fopen(path, "w"))) {
			fprintf(f, "method %s\npath %s\ncontent-type %s\nuser-agent %s\n", method, url, ct ? ct : "",
				ua ? ua : "");
			fclose(f);
		}
		snprintf(path, sizeof(path), "%s/%d.body.tmp", dir, n_requests);
		rename(path, final);
	}
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
			      const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	struct req *r = *con_cls;
	struct MHD_Response *resp;
	char ans[64], date[64];
	const char *a;
	int code;
	enum MHD_Result ret;

	if (!r) {
		r = calloc(1, sizeof(*r));
		*con_cls = r;
		return MHD_YES;
	}
	if (*upload_size) {
		r->body = realloc(r->body, r->len + *upload_size);
		memcpy(r->body + r->len, upload, *upload_size);
		r->len += *upload_size;
		*upload_size = 0;
		return MHD_YES;
	}
	n_requests++;
	save(c, method, url, r);
	a = next_answer(ans, sizeof(ans));
	code = (int)strtol(a, NULL, 10);
	resp = MHD_create_response_from_buffer(code == 200 ? 2 : 5, code == 200 ? "ok" : "error",
					       MHD_RESPMEM_PERSISTENT);
	if (code == 429 && strchr(a, ':')) {
		const char *v = strchr(a, ':') + 1;
		if (!strncmp(v, "date:", 5)) {
			time_t t = time(NULL) + strtol(v + 5, NULL, 10);
			struct tm tm;
			gmtime_r(&t, &tm);
			strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
			MHD_add_response_header(resp, "Retry-After", date);
		} else {
			MHD_add_response_header(resp, "Retry-After", v);
		}
	}
	ret = MHD_queue_response(c, (unsigned)code, resp);
	MHD_destroy_response(resp);
	return ret;
}

static void done(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode t)
{
	struct req *r = *con_cls;
	if (r) {
		free(r->body);
		free(r);
	}
	*con_cls = NULL;
}

int main(int argc, char **argv)
{
	const char *port_file = NULL;
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct MHD_Daemon *d;
	const union MHD_DaemonInfo *info;
	sigset_t set;
	int sig;
	FILE *f;
	char tmp[4096];

	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--port-file"))
			port_file = argv[i + 1];
		else if (!strcmp(argv[i], "--dir"))
			dir = argv[i + 1];
		else if (!strcmp(argv[i], "--script"))
			snprintf(script, sizeof(script), "%s", argv[i + 1]);
	}
	if (!port_file || !dir) {
		fprintf(stderr, "usage: http_receiver --port-file FILE --dir DIR [--script CODES]\n");
		return 2;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);	/* before MHD's thread starts: it inherits the mask */
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = 0;
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL, handle, NULL,
			     MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_NOTIFY_COMPLETED, done, NULL,
			     MHD_OPTION_END);
	if (!d) {
		fprintf(stderr, "http_receiver: cannot start\n");
		return 1;
	}
	info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	snprintf(tmp, sizeof(tmp), "%s.tmp", port_file);
	if (!info || !(f = fopen(tmp, "w"))) {
		MHD_stop_daemon(d);
		return 1;
	}
	fprintf(f, "%u\n", (unsigned)info->port);
	fclose(f);
	rename(tmp, port_file);
	sigwait(&set, &sig);
	MHD_stop_daemon(d);
	return 0;
}
