/*
 * test_flag_metrics.c - per flag variant counts from HAProxy's request log
 * (docs/flags.md "Metrics per variant"): the builtin receiver
 * (adapters/metrics_builtin.c) is started on a fresh state directory, the
 * lines of each tests/data/flag-metrics/NAME.log are sent over its unix
 * stream socket as HAProxy's ring would, and the provider's answers must
 * match NAME.expect ("SERVICE COHORT REQUESTS ERRORS" lines; a cohort is a
 * revision or flag:FLAG=VARIANT).
 */
#include "tap.h"
#include "adapters/metrics_builtin.h"
#include "adapters/sql.h"
#include "adapters/store.h"
#include "base/err.h"
#include "base/strbuf.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int send_file(const char *sock, const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	char buf[4096];
	size_t n;
	int fd, rc = 0;
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	if (strlen(sock) >= sizeof(a.sun_path)) {
		fclose(f);
		return -1;
	}
	memcpy(a.sun_path, sock, strlen(sock) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		rc = -1;
	while (rc == 0 && (n = fread(buf, 1, sizeof(buf), f)) > 0)
		if (write(fd, buf, n) != (ssize_t)n)
			rc = -1;
	fclose(f);
	if (fd >= 0)
		close(fd);
	return rc;
}

static void run_case(const char *dir, const char *name)	/* dir: < 512 bytes, name: < 256 */
{
	char tmpl[] = "/tmp/slipway-flagmetrics-XXXXXX", path[1200], sock[100], line[512];
	struct metrics_receiver *mr = NULL;
	struct strbuf err = STRBUF_INIT;
	struct store st;
	struct metrics_builtin mb;
	struct metrics_provider p;
	FILE *f;

	if (!mkdtemp(tmpl)) {
		ok(0, "%s: temporary directory", name);
		return;
	}
	ok(metrics_receiver_start(&mr, tmpl, &err) == 1, "%s: the receiver starts (%s)", name, err.buf);
	snprintf(sock, sizeof(sock), "%s/log.stream", tmpl);
	snprintf(path, sizeof(path), "%s/%s.log", dir, name);
	ok(send_file(sock, path) == 0, "%s: lines sent over the log socket", name);
	ok(store_open(&st, tmpl, &err) == 0, "%s: store opens", name);
	/* every line of the file is a request line: wait (at most 10 s) until the receiver's
	 * 250 ms flushes have stored them all, then stop it */
	{
		long want = 0, got = -1;
		int c;
		f = fopen(path, "r");
		while (f && (c = fgetc(f)) != EOF)
			want += c == '\n';
		if (f)
			fclose(f);
		for (int i = 0; i < 200 && got != want; i++) {
			_cleanup_sql_ struct sql_stmt *q = NULL;
			usleep(50 * 1000);
			if (sql_prepare(&st, &q, "SELECT coalesce(sum(requests), 0) FROM request_stats", NULL) == 0 &&
			    sql_step(q, NULL) == SQL_ROW)
				got = (long)sql_column_int64(q, 0);
		}
		is_int(got, want, "%s: every line was received and stored", name);
	}
	metrics_receiver_stop(mr);
	memset(&mb, 0, sizeof(mb));
	mb.st = &st;
	snprintf(mb.env, sizeof(mb.env), "production");
	metrics_builtin_provider(&mb, &p);
	snprintf(path, sizeof(path), "%s/%s.expect", dir, name);
	f = fopen(path, "r");
	ok(f != NULL, "%s: %s.expect", name, name);
	while (f && fgets(line, sizeof(line), f)) {
		char svc[100], cohort[300];
		unsigned long long req, errs;
		struct metrics_sample s;
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (sscanf(line, "%99s %299s %llu %llu", svc, cohort, &req, &errs) != 4) {
			ok(0, "%s: bad expect line: %s", name, line);
			continue;
		}
		strbuf_reset(&err);
		ok(p.query(p.ctx, svc, ROLE_CANARY, cohort, 0, INT64_MAX, &s, &err) == 0 && s.requests == req &&
		   s.errors == errs, "%s: %s %s: %llu requests, %llu errors (got %llu, %llu %s)", name, svc, cohort, req,
		   errs, (unsigned long long)s.requests, (unsigned long long)s.errors, err.buf);
	}
	if (f)
		fclose(f);
	{
		struct metrics_sample s;
		strbuf_reset(&err);
		ok(p.query(p.ctx, "api", ROLE_CANARY, "flag:no-variant", 0, INT64_MAX, &s, &err) == SW_EUSAGE &&
		   strstr(err.buf, "flag:FLAG=VARIANT"), "%s: a malformed cohort is refused with what is valid", name);
	}
	store_close(&st);
	strbuf_release(&err);
	{
		char cmd[700];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpl);
		if (system(cmd) != 0)
			ok(0, "cleanup");
	}
}

int main(void)
{
	char dir[512];
	DIR *d;
	struct dirent *e;
	snprintf(dir, sizeof(dir), "%s/tests/data/flag-metrics", SLIPWAY_SRC_DIR);
	d = opendir(dir);
	ok(d != NULL, "tests/data/flag-metrics exists");
	while (d && (e = readdir(d))) {
		size_t n = strlen(e->d_name);
		char name[256];
		if (n < 5 || strcmp(e->d_name + n - 4, ".log") || n - 4 >= sizeof(name))
			continue;
		memcpy(name, e->d_name, n - 4);
		name[n - 4] = '\0';
		run_case(dir, name);
	}
	if (d)
		closedir(d);
	return tap_done();
}
