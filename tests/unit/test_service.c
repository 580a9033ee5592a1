/*
 * test_service.c - service definitions (core/service.c): every file in
 * tests/data/service/ is one case; its first line says "# expect: ok" or
 * "# expect: " and the beginning of the error message (FILE:LINE:COL ...).
 */
#include "tap.h"
#include "base/strbuf.h"
#include "core/service.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void check_full(const struct service *s)
{
	const struct service_env *p = service_find_env(s, "production"), *st = service_find_env(s, "staging");
	is_str(s->name, "api-server", "ok-full: name");
	is_int(s->argc, 5, "ok-full: 5 arguments");
	is_str(s->argv[2], "{port}", "ok-full: placeholders kept for expansion");
	is_str(s->env[0], "INSTANCE={instance}", "ok-full: env as NAME=value");
	is_str(s->releases, "/srv/releases/api-server", "ok-full: releases");
	is_str(s->ready_path, "/ready", "ok-full: readiness path");
	is_int(s->ready_timeout_ms, 500, "ok-full: readiness timeout 500 ms");
	is_int(s->ready_deadline_ms, 60000, "ok-full: readiness deadline 1 m");
	is_int(s->stop_grace_ms, 20000, "ok-full: stop grace");
	is_int(s->log_max_bytes, 512 * 1024, "ok-full: logs rotated at 512KB");
	is_int(s->log_keep, 5, "ok-full: 5 log files kept");
	is_int(s->nsmoke, 2, "ok-full: two smoke checks");
	is_str(s->smoke[1].method, "POST", "ok-full: smoke method");
	is_int(s->smoke[1].status, 201, "ok-full: smoke status");
	is_str(s->analysis_canary, "canary-config.yaml", "ok-full: Flagger Canary file");
	ok(p && p->instances == 4 && p->listen_port == 8080, "ok-full: production has 4 instances on 8080");
	ok(st && st->instances == 3, "ok-full: staging inherits the service's 3 instances");
	ok(!strcmp(s->target, "local") && !strcmp(s->router, "haproxy") && !strcmp(s->provider, "builtin") &&
		   !strcmp(s->judge, "sequential"),
	   "ok-full: no plugin named: local, haproxy, builtin, sequential");
}

int main(void)
{
	struct strbuf dir = STRBUF_INIT;
	char **names = NULL;
	size_t n = 0;
	DIR *d;
	struct dirent *de;

	strbuf_addf(&dir, "%s/tests/data/service", SLIPWAY_SRC_DIR);
	d = opendir(dir.buf);
	ok(d != NULL, "open %s", dir.buf);
	if (!d)
		return tap_done();
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		if (l > 5 && !strcmp(de->d_name + l - 5, ".yaml")) {
			names = realloc(names, (n + 1) * sizeof(*names));
			names[n++] = strdup(de->d_name);
		}
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp);
	for (size_t i = 0; i < n; i++) {
		struct strbuf path = STRBUF_INIT, buf = STRBUF_INIT, err = STRBUF_INIT, name = STRBUF_INIT;
		struct service s = { 0 };
		const char *expect;
		char *nl;
		int r;
		strbuf_addf(&path, "%s/%s", dir.buf, names[i]);
		strbuf_read_file_max(&buf, path.buf, 1 << 20, NULL);
		strbuf_add(&name, names[i], strlen(names[i]) - 5);
		expect = strstr(buf.buf, "# expect: ");
		nl = expect ? strchr(expect, '\n') : NULL;
		ok(expect && nl, "%s: has an '# expect:' line", names[i]);
		if (!expect || !nl)
			continue;
		expect += 10;
		/* the file name gives the service name, unless the file names its own
		 * (bad-name checks the clash) */
		r = service_parse(&s, names[i], buf.buf, buf.len,
				  strstr(buf.buf, "\nname:") && strcmp(names[i], "bad-name.yaml") ? NULL : name.buf, &err);
		if (!strncmp(expect, "ok\n", 3)) {
			ok(r == 0, "%s: parses", names[i]);
			if (r)
				printf("#   %s\n", err.buf);
			if (!strcmp(names[i], "ok-full.yaml"))
				check_full(&s);
		} else {
			int match = r < 0 && !strncmp(err.buf, expect, (size_t)(nl - expect));
			ok(match, "%s: refused with the expected message", names[i]);
			if (!match)
				printf("#   got '%s'\n#   want '%.*s'\n", err.buf, (int)(nl - expect), expect);
		}
		service_release(&s);
		strbuf_release(&path);
		strbuf_release(&buf);
		strbuf_release(&err);
		strbuf_release(&name);
		free(names[i]);
	}
	free(names);
	strbuf_release(&dir);

	{
		struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
		struct service_vars v = { .port = 8080, .version = "v2", .release = "/r/v2", .service = "api", .env = "prod",
					  .instance = 1 };
		ok(service_expand(&out, "{service}-{version}-{instance}:{port} {release} {env} {{x}", &v, &err) == 0 &&
			   !strcmp(out.buf, "api-v2-1:8080 /r/v2 prod {x}"),
		   "placeholders expand (%s)", out.buf);
		strbuf_reset(&out);
		ok(service_expand(&out, "{nope}", &v, &err) < 0 && strstr(err.buf, "unknown placeholder '{nope}'"),
		   "an unknown placeholder is an error naming it");
		strbuf_release(&out);
		strbuf_release(&err);
	}
	ok(service_name_valid("v1.2.3-rc_1") && !service_name_valid("..") && !service_name_valid("a/b") &&
		   !service_name_valid(""),
	   "names: letters, digits, . _ - only");
	return tap_done();
}
