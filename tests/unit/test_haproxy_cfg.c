/*
 * test_haproxy_cfg.c - the text slipway writes for HAProxy
 * (core/haproxy_cfg.h), byte for byte: every tests/data/haproxy-cfg/NAME.json
 * (the router's state) renders exactly NAME.cfg (haproxy.cfg) and, when the
 * file exists, NAME.map (flags.map).  A change of the renderer is a change
 * of these files; SLIPWAY_REGEN=1 rewrites them from the renderer for
 * review with git diff.  Also the weight arithmetic.
 */
#include "tap.h"
#include "base/strbuf.h"
#include "core/haproxy_cfg.h"

#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static const char *str(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

/* the first differing line, for the failure message */
static void first_diff(const char *got, const char *want)
{
	int line = 1;
	while (*got && *got == *want) {
		if (*got == '\n')
			line++;
		got++, want++;
	}
	printf("#   line %d differs\n#   got:  %.*s\n#   want: %.*s\n", line, (int)strcspn(got, "\n"), got,
	       (int)strcspn(want, "\n"), want);
}

static void check(const char *dir, const char *name, int regen)
{
	struct strbuf path = STRBUF_INIT, got = STRBUF_INIT, want = STRBUF_INIT;
	struct haproxy_cfg c = { 0 };
	struct haproxy_cfg_server *srv = NULL;
	json_error_t je;
	json_t *j, *servers;
	size_t i;
	json_t *v;

	strbuf_addf(&path, "%s/%s.json", dir, name);
	j = json_load_file(path.buf, 0, &je);
	ok(j != NULL, "%s.json: reads (%s)", name, j ? "ok" : je.text);
	if (!j)
		goto out;
	c.backend = str(j, "backend");
	c.listen_host = str(j, "listen_host");
	c.listen_port = (int)json_integer_value(json_object_get(j, "listen_port"));
	c.sock_path = str(j, "socket");
	c.map_path = str(j, "map");
	c.log_sock = str(j, "log_socket");
	c.relay_dir = str(j, "relay_dir");
	c.maxconn = (int)json_integer_value(json_object_get(j, "maxconn"));
	c.ring_bytes = (long)json_integer_value(json_object_get(j, "ring_bytes"));
	if (traffic_mode_parse(str(j, "mode"), &c.mode) < 0)
		c.mode = TRAFFIC_NORMAL;
	c.message = json_string_value(json_object_get(j, "message"));
	servers = json_object_get(j, "servers");
	srv = calloc(json_array_size(servers) + 1, sizeof(*srv));
	json_array_foreach(servers, i, v) {
		srv[i].name = str(v, "name");
		srv[i].port = (int)json_integer_value(json_object_get(v, "port"));
		srv[i].weight = (int)json_integer_value(json_object_get(v, "weight"));
		srv[i].state = str(v, "state");
		srv[i].addr = str(v, "addr");
	}
	c.servers = srv;
	c.n_servers = json_array_size(servers);
	c.metrics_host = json_string_value(json_object_get(j, "metrics_host"));
	c.metrics_port = (int)json_integer_value(json_object_get(j, "metrics_port"));
	c.service = json_string_value(json_object_get(j, "service"));
	c.env = json_string_value(json_object_get(j, "env"));

	for (int f = 0; f < 4; f++) {
		const char *ext = f == 3 ? "targets" : f == 2 ? "lua" : f ? "map" : "cfg";
		FILE *fp;
		strbuf_reset(&path);
		strbuf_reset(&got);
		strbuf_reset(&want);
		strbuf_addf(&path, "%s/%s.%s", dir, name, ext);
		if (f == 3)
			haproxy_targets_render(&c, &got);
		else if (f == 2)
			haproxy_relay_lua_render(&c, &got);
		else if (f)
			haproxy_flags_render(&c, &got);
		else
			haproxy_cfg_render(&c, &got);
		if (regen && (fp = fopen(path.buf, "w"))) {
			fwrite(got.buf, 1, got.len, fp);
			fclose(fp);
		}
		if (strbuf_read_file_max(&want, path.buf, 1 << 20, NULL) < 0) {
			if (f == 1 || f == 3)
				continue;	/* a .map and a .targets are optional */
			ok(0, "%s.%s: exists", name, ext);
			continue;
		}
		ok(got.len == want.len && !memcmp(got.buf, want.buf, got.len), "%s.%s: rendered exactly", name, ext);
		if (got.len != want.len || memcmp(got.buf, want.buf, got.len))
			first_diff(got.buf, want.buf);
	}
	json_decref(j);
out:
	free(srv);
	strbuf_release(&path);
	strbuf_release(&got);
	strbuf_release(&want);
}

int main(void)
{
	const char *src = getenv("SLIPWAY_SRC");
	const char *regen = getenv("SLIPWAY_REGEN");
	struct strbuf dir = STRBUF_INIT;
	char **names = NULL;
	size_t n = 0;
	struct dirent *de;
	DIR *d;

	strbuf_addf(&dir, "%s/tests/data/haproxy-cfg", src ? src : SLIPWAY_SRC_DIR);
	d = opendir(dir.buf);
	ok(d != NULL, "open %s", dir.buf);
	if (!d)
		return tap_done();
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		if (l > 5 && !strcmp(de->d_name + l - 5, ".json")) {
			names = realloc(names, (n + 1) * sizeof(*names));
			names[n++] = strndup(de->d_name, l - 5);
		}
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp);
	ok(n >= 3, "%zu cases", n);
	for (size_t i = 0; i < n; i++) {
		check(dir.buf, names[i], regen && !strcmp(regen, "1"));
		free(names[i]);
	}
	free(names);
	strbuf_release(&dir);

	is_int(haproxy_server_weight(10, 2), 10, "10%% over 2 servers: weight 10 each");
	is_int(haproxy_server_weight(1, 4), 1, "1%% over 4 servers: at least 1");
	is_int(haproxy_server_weight(0, 4), 0, "0%%: weight 0");
	is_int(haproxy_server_weight(100, 1), 200, "100%% on one server: 200");
	is_int(haproxy_server_weight(100, 0), 0, "no server: 0");
	return tap_done();
}
