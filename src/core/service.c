/*
 * service.c - parse a service definition (services/NAME.yaml) with libfyaml.
 *
 * The document is built from a buffer with diagnostics collected, so a YAML
 * syntax error comes back as FILE:LINE:COL from libfyaml's own position, and
 * a field error as FILE:LINE:COL of the offending key or value.  Unknown keys
 * are refused (a typo must not silently mean "default").  Pure: no I/O.
 */
#include "core/service.h"
#include "core/plugin_names.h"
#include "core/yaml_text.h"
#include "base/alloc.h"
#include "base/err.h"
#include "base/strbuf.h"
#include "base/timeutil.h"

#include <errno.h>
#include <libfyaml.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sp {
	const char *file;
	struct strbuf *err;
};

static void mark_of(struct fy_node *n, int *line, int *col)
{
	struct fy_token *t = n ? fy_node_get_scalar_token(n) : NULL;
	const struct fy_mark *m = t ? fy_token_start_mark(t) : NULL;
	*line = m ? m->line + 1 : 0;
	*col = m ? m->column + 1 : 0;
}

__attribute__((format(printf, 3, 4)))
static int fail(struct sp *p, struct fy_node *at, const char *fmt, ...)
{
	int line, col;
	va_list ap;
	if (!p->err)
		return SW_ECONFIG;
	mark_of(at, &line, &col);
	if (line)
		strbuf_addf(p->err, "%s:%d:%d: ", p->file, line, col);
	else
		strbuf_addf(p->err, "%s: ", p->file);
	va_start(ap, fmt);
	strbuf_vaddf(p->err, fmt, ap);
	va_end(ap);
	return SW_ECONFIG;
}

/* The scalar text of n as a new string, or an error naming key. */
static int scalar(struct sp *p, struct fy_node *key, struct fy_node *n, const char *what, char **out)
{
	size_t len;
	const char *s;
	if (!n || !fy_node_is_scalar(n) || fy_node_is_alias(n))
		return fail(p, key, "'%s' must be %s", what, "a scalar");
	s = fy_node_get_scalar(n, &len);
	if (!s)
		return fail(p, key, "'%s' must be %s", what, "a scalar");
	if (memchr(s, '\0', len))
		return fail(p, n, "'%s' contains a NUL byte", what);
	*out = xstrndup(s, len);
	return 0;
}

static int get_int(struct sp *p, struct fy_node *key, struct fy_node *n, const char *what, long lo, long hi,
		   int *out)
{
	_cleanup_free_ char *s = NULL;
	char *end;
	long v;
	int r = scalar(p, key, n, what, &s);
	if (r < 0)
		return r;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return fail(p, n, "'%s' must be a whole number from %ld to %ld, not '%s'", what, lo, hi, s);
	*out = (int)v;
	return 0;
}

static int get_duration(struct sp *p, struct fy_node *key, struct fy_node *n, const char *what, int64_t *out)
{
	_cleanup_free_ char *s = NULL;
	struct strbuf e = STRBUF_INIT;
	int r = scalar(p, key, n, what, &s);
	if (r < 0)
		return r;
	if (duration_parse(s, out, &e) < 0) {
		r = fail(p, n, "'%s' must be a duration like \"2s\", \"500ms\" or \"5m\", not '%s'", what, s);
		strbuf_release(&e);
		return r;
	}
	strbuf_release(&e);
	return 0;
}

static int get_name(struct sp *p, struct fy_node *key, struct fy_node *n, const char *what, char out[SERVICE_NAME_MAX + 1])
{
	_cleanup_free_ char *s = NULL;
	int r = scalar(p, key, n, what, &s);
	if (r < 0)
		return r;
	if (!service_name_valid(s))
		return fail(p, n, "'%s' must be 1 to 64 of the characters A-Z a-z 0-9 . _ -, not '%s'", what, s);
	memcpy(out, s, strlen(s) + 1);
	return 0;
}

int service_name_valid(const char *s)
{
	size_t n = strlen(s);
	if (n < 1 || n > SERVICE_NAME_MAX || !strcmp(s, ".") || !strcmp(s, ".."))
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
		      c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

static int parse_listen(struct sp *p, struct fy_node *key, struct fy_node *n, struct service_env *e)
{
	_cleanup_free_ char *s = NULL;
	char *colon, *end;
	long port;
	int r = scalar(p, key, n, "listen", &s);
	if (r < 0)
		return r;
	colon = strrchr(s, ':');
	if (!colon || colon == s || (size_t)(colon - s) >= sizeof(e->listen_host))
		return fail(p, n, "'listen' must be HOST:PORT such as \"127.0.0.1:8080\", not '%s'", s);
	for (char *c = s; c < colon; c++)
		if (!((*c >= '0' && *c <= '9') || *c == '.'))
			return fail(p, n, "'listen' host must be an IPv4 address such as 127.0.0.1, not '%.*s'",
				    (int)(colon - s), s);
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (errno || end == colon + 1 || *end || port < 1 || port > 65535)
		return fail(p, n, "'listen' port must be 1 to 65535, not '%s'", colon + 1);
	memcpy(e->listen_host, s, (size_t)(colon - s));
	e->listen_host[colon - s] = '\0';
	e->listen_port = (int)port;
	return 0;
}

static int need_map(struct sp *p, struct fy_node *key, struct fy_node *n, const char *what)
{
	if (!n || !fy_node_is_mapping(n))
		return fail(p, key, "'%s' must be a mapping", what);
	return 0;
}

static int need_seq(struct sp *p, struct fy_node *key, struct fy_node *n, const char *what)
{
	if (!n || !fy_node_is_sequence(n))
		return fail(p, key, "'%s' must be a list", what);
	return 0;
}

/* key text of a pair; keys must be plain scalars */
static int key_text(struct sp *p, struct fy_node_pair *pr, const char **k)
{
	struct fy_node *kn = fy_node_pair_key(pr);
	size_t len;
	const char *s;
	if (!kn || !fy_node_is_scalar(kn))
		return fail(p, kn, "keys must be plain words");
	s = fy_node_get_scalar0(kn);
	(void)len;
	if (!s)
		return fail(p, kn, "keys must be plain words");
	*k = s;
	return 0;
}

static int parse_env(struct sp *p, struct fy_node *key, struct fy_node *n, int default_instances,
		     struct service_env *e)
{
	void *it = NULL;
	struct fy_node_pair *pr;
	int r, have_listen = 0;
	if ((r = need_map(p, key, n, e->name)) < 0)
		return r;
	e->instances = default_instances;
	while ((pr = fy_node_mapping_iterate(n, &it))) {
		const char *k;
		struct fy_node *kn = fy_node_pair_key(pr), *v = fy_node_pair_value(pr);
		if ((r = key_text(p, pr, &k)) < 0)
			return r;
		if (!strcmp(k, "listen")) {
			if ((r = parse_listen(p, kn, v, e)) < 0)
				return r;
			have_listen = 1;
		} else if (!strcmp(k, "instances")) {
			if ((r = get_int(p, kn, v, "instances", 1, SERVICE_MAX_INSTANCES, &e->instances)) < 0)
				return r;
		} else if (!strcmp(k, "router")) {
			void *it2 = NULL;
			struct fy_node_pair *pr2;
			if ((r = need_map(p, kn, v, "router")) < 0)
				return r;
			while ((pr2 = fy_node_mapping_iterate(v, &it2))) {
				const char *k2;
				struct fy_node *kn2 = fy_node_pair_key(pr2), *v2 = fy_node_pair_value(pr2);
				char **dst;
				if ((r = key_text(p, pr2, &k2)) < 0)
					return r;
				if (!strcmp(k2, "socket"))
					dst = &e->router_socket;
				else if (!strcmp(k2, "backend"))
					dst = &e->router_backend;
				else
					return fail(p, kn2, "unknown key '%s' in 'router' (valid: socket, backend)", k2);
				free(*dst);
				*dst = NULL;
				if ((r = scalar(p, kn2, v2, k2, dst)) < 0)
					return r;
			}
		} else {
			return fail(p, kn, "unknown key '%s' in environment '%s' (valid: listen, instances, router)",
				    k, e->name);
		}
	}
	if (!have_listen)
		return fail(p, key, "environment '%s' needs 'listen: HOST:PORT'", e->name);
	return 0;
}

static int parse_smoke(struct sp *p, struct fy_node *key, struct fy_node *n, struct service *svc)
{
	void *it = NULL;
	struct fy_node *item;
	size_t alloc = 0;
	int r;
	if ((r = need_seq(p, key, n, "smoke")) < 0)
		return r;
	while ((item = fy_node_sequence_iterate(n, &it))) {
		struct service_smoke *s;
		void *it2 = NULL;
		struct fy_node_pair *pr;
		if ((r = need_map(p, key, item, "smoke item")) < 0)
			return r;
		ALLOC_GROW(svc->smoke, svc->nsmoke + 1, alloc);
		s = &svc->smoke[svc->nsmoke++];
		memset(s, 0, sizeof(*s));
		memcpy(s->method, "GET", 4);
		s->status = 200;
		while ((pr = fy_node_mapping_iterate(item, &it2))) {
			const char *k;
			struct fy_node *kn = fy_node_pair_key(pr), *v = fy_node_pair_value(pr);
			if ((r = key_text(p, pr, &k)) < 0)
				return r;
			if (!strcmp(k, "method")) {
				_cleanup_free_ char *m = NULL;
				if ((r = scalar(p, kn, v, "method", &m)) < 0)
					return r;
				if (strcmp(m, "GET") && strcmp(m, "HEAD") && strcmp(m, "POST") && strcmp(m, "PUT") &&
				    strcmp(m, "DELETE") && strcmp(m, "PATCH") && strcmp(m, "OPTIONS"))
					return fail(p, v, "'method' must be GET, HEAD, POST, PUT, DELETE, PATCH or OPTIONS, not '%s'", m);
				memcpy(s->method, m, strlen(m) + 1);
			} else if (!strcmp(k, "path")) {
				free(s->path);
				s->path = NULL;
				if ((r = scalar(p, kn, v, "path", &s->path)) < 0)
					return r;
				if (s->path[0] != '/')
					return fail(p, v, "'path' must start with '/', not '%s'", s->path);
			} else if (!strcmp(k, "status")) {
				if ((r = get_int(p, kn, v, "status", 100, 599, &s->status)) < 0)
					return r;
			} else {
				return fail(p, kn, "unknown key '%s' in a smoke check (valid: method, path, status)", k);
			}
		}
		if (!s->path)
			return fail(p, key, "every smoke check needs a 'path'");
	}
	return 0;
}

static int parse_analysis(struct sp *p, struct fy_node *key, struct fy_node *n, struct service *svc)
{
	void *it = NULL;
	struct fy_node_pair *pr;
	int r;
	if ((r = need_map(p, key, n, "analysis")) < 0)
		return r;
	while ((pr = fy_node_mapping_iterate(n, &it))) {
		const char *k;
		struct fy_node *kn = fy_node_pair_key(pr), *v = fy_node_pair_value(pr);
		if ((r = key_text(p, pr, &k)) < 0)
			return r;
		if (!strcmp(k, "canary")) {
			free(svc->analysis_canary);
			svc->analysis_canary = NULL;
			if ((r = scalar(p, kn, v, "canary", &svc->analysis_canary)) < 0)
				return r;
		} else if (!strcmp(k, "steps")) {
			void *it2 = NULL;
			struct fy_node *item;
			size_t alloc = 0;
			if ((r = need_seq(p, kn, v, "steps")) < 0)
				return r;
			while ((item = fy_node_sequence_iterate(v, &it2))) {
				void *it3 = NULL;
				struct fy_node_pair *pr3;
				struct service_step *st;
				int have_w = 0;
				if ((r = need_map(p, kn, item, "step")) < 0)
					return r;
				ALLOC_GROW(svc->steps, svc->nsteps + 1, alloc);
				st = &svc->steps[svc->nsteps++];
				st->weight = 0;
				st->hold_ms = 0;
				while ((pr3 = fy_node_mapping_iterate(item, &it3))) {
					const char *k3;
					struct fy_node *kn3 = fy_node_pair_key(pr3), *v3 = fy_node_pair_value(pr3);
					if ((r = key_text(p, pr3, &k3)) < 0)
						return r;
					if (!strcmp(k3, "weight")) {
						_cleanup_free_ char *s = NULL;
						char *end;
						double w;
						if ((r = scalar(p, kn3, v3, "weight", &s)) < 0)
							return r;
						errno = 0;
						w = strtod(s, &end);
						if (errno || end == s || (*end && strcmp(end, "%")) || !(w >= 0 && w <= 100))
							return fail(p, v3, "'weight' must be a percent from 0 to 100, not '%s'", s);
						st->weight = w;
						have_w = 1;
					} else if (!strcmp(k3, "hold")) {
						if ((r = get_duration(p, kn3, v3, "hold", &st->hold_ms)) < 0)
							return r;
					} else {
						return fail(p, kn3, "unknown key '%s' in a step (valid: weight, hold)", k3);
					}
				}
				if (!have_w)
					return fail(p, kn, "every step needs a 'weight'");
			}
		} else {
			return fail(p, kn, "unknown key '%s' in 'analysis' (valid: canary, steps)", k);
		}
	}
	if (svc->analysis_canary && svc->nsteps)
		return fail(p, key, "'analysis' takes either 'canary' (a Flagger Canary file) or 'steps', not both");
	return 0;
}

static int parse_string_list(struct sp *p, struct fy_node *key, struct fy_node *n, const char *what,
			     char ***out, size_t *count)
{
	void *it = NULL;
	struct fy_node *item;
	size_t alloc = 0;
	int r;
	if ((r = need_seq(p, key, n, what)) < 0)
		return r;
	while ((item = fy_node_sequence_iterate(n, &it))) {
		char *s;
		if ((r = scalar(p, key, item, what, &s)) < 0)
			return r;
		ALLOC_GROW(*out, *count + 2, alloc);
		(*out)[(*count)++] = s;
		(*out)[*count] = NULL;
	}
	return 0;
}

/* `target: NAME` and the like: a plugin of kind k that exists (core/plugin_names.h) */
static int get_plugin(struct sp *p, struct fy_node *key, struct fy_node *n, enum plugin_kind k,
		      char out[PLUGIN_NAME_MAX + 1])
{
	_cleanup_free_ char *s = NULL;
	const char *what = plugin_kind_name(k);
	int r = scalar(p, key, n, what, &s);
	if (r < 0)
		return r;
	if (!plugin_name_known(k, s)) {
		struct strbuf names = STRBUF_INIT;
		plugin_names_list(k, &names);
		r = fail(p, n, "unknown %s '%s' (valid: %s)", what, s, names.buf);
		strbuf_release(&names);
		return r;
	}
	memcpy(out, s, strlen(s) + 1);
	return 0;
}

static int parse_root(struct sp *p, struct fy_node *root, const char *expect_name, struct service *svc)
{
	void *it = NULL;
	struct fy_node_pair *pr;
	struct fy_node *envs_key = NULL, *envs = NULL;
	int r, default_instances = 1;

	if (!root || !fy_node_is_mapping(root))
		return fail(p, NULL, "a service definition must be a mapping with 'command' and 'environments'");
	while ((pr = fy_node_mapping_iterate(root, &it))) {
		const char *k;
		struct fy_node *kn = fy_node_pair_key(pr), *v = fy_node_pair_value(pr);
		if ((r = key_text(p, pr, &k)) < 0)
			return r;
		if (!strcmp(k, "name")) {
			if ((r = get_name(p, kn, v, "name", svc->name)) < 0)
				return r;
			if (expect_name && strcmp(expect_name, svc->name))
				return fail(p, v, "'name' is '%s' but the file defines service '%s' (rename one)",
					    svc->name, expect_name);
		} else if (!strcmp(k, "command")) {
			if (v && fy_node_is_scalar(v)) {
				/* one word only: arguments need the list form so no shell quoting is guessed */
				char *s;
				if ((r = scalar(p, kn, v, "command", &s)) < 0)
					return r;
				svc->argv = xcalloc(2, sizeof(char *));
				svc->argv[0] = s;
				svc->argc = 1;
			} else if ((r = parse_string_list(p, kn, v, "command", &svc->argv, &svc->argc)) < 0) {
				return r;
			}
		} else if (!strcmp(k, "env")) {
			void *it2 = NULL;
			struct fy_node_pair *pr2;
			size_t alloc = 0;
			if ((r = need_map(p, kn, v, "env")) < 0)
				return r;
			while ((pr2 = fy_node_mapping_iterate(v, &it2))) {
				const char *k2;
				_cleanup_free_ char *val = NULL;
				struct strbuf sb = STRBUF_INIT;
				if ((r = key_text(p, pr2, &k2)) < 0)
					return r;
				if (!*k2 || strchr(k2, '='))
					return fail(p, fy_node_pair_key(pr2), "environment variable names must not be empty or contain '='");
				if ((r = scalar(p, fy_node_pair_key(pr2), fy_node_pair_value(pr2), k2, &val)) < 0)
					return r;
				strbuf_addf(&sb, "%s=%s", k2, val);
				ALLOC_GROW(svc->env, svc->envc + 2, alloc);
				svc->env[svc->envc++] = strbuf_detach(&sb, NULL);
				svc->env[svc->envc] = NULL;
			}
		} else if (!strcmp(k, "instances")) {
			if ((r = get_int(p, kn, v, "instances", 1, SERVICE_MAX_INSTANCES, &default_instances)) < 0)
				return r;
		} else if (!strcmp(k, "releases")) {
			free(svc->releases);
			svc->releases = NULL;
			if ((r = scalar(p, kn, v, "releases", &svc->releases)) < 0)
				return r;
		} else if (!strcmp(k, "readiness")) {
			void *it2 = NULL;
			struct fy_node_pair *pr2;
			if ((r = need_map(p, kn, v, "readiness")) < 0)
				return r;
			while ((pr2 = fy_node_mapping_iterate(v, &it2))) {
				const char *k2;
				struct fy_node *kn2 = fy_node_pair_key(pr2), *v2 = fy_node_pair_value(pr2);
				if ((r = key_text(p, pr2, &k2)) < 0)
					return r;
				if (!strcmp(k2, "path")) {
					free(svc->ready_path);
					svc->ready_path = NULL;
					if ((r = scalar(p, kn2, v2, "path", &svc->ready_path)) < 0)
						return r;
					if (svc->ready_path[0] != '/')
						return fail(p, v2, "'path' must start with '/', not '%s'", svc->ready_path);
				} else if (!strcmp(k2, "timeout")) {
					if ((r = get_duration(p, kn2, v2, "timeout", &svc->ready_timeout_ms)) < 0)
						return r;
				} else if (!strcmp(k2, "deadline")) {
					if ((r = get_duration(p, kn2, v2, "deadline", &svc->ready_deadline_ms)) < 0)
						return r;
				} else {
					return fail(p, kn2, "unknown key '%s' in 'readiness' (valid: path, timeout, deadline)", k2);
				}
			}
		} else if (!strcmp(k, "stop")) {
			void *it2 = NULL;
			struct fy_node_pair *pr2;
			if ((r = need_map(p, kn, v, "stop")) < 0)
				return r;
			while ((pr2 = fy_node_mapping_iterate(v, &it2))) {
				const char *k2;
				struct fy_node *kn2 = fy_node_pair_key(pr2), *v2 = fy_node_pair_value(pr2);
				if ((r = key_text(p, pr2, &k2)) < 0)
					return r;
				if (!strcmp(k2, "grace")) {
					if ((r = get_duration(p, kn2, v2, "grace", &svc->stop_grace_ms)) < 0)
						return r;
				} else if (!strcmp(k2, "drain")) {
					if ((r = get_duration(p, kn2, v2, "drain", &svc->drain_ms)) < 0)
						return r;
				} else {
					return fail(p, kn2, "unknown key '%s' in 'stop' (valid: grace, drain)", k2);
				}
			}
		} else if (!strcmp(k, "smoke")) {
			if ((r = parse_smoke(p, kn, v, svc)) < 0)
				return r;
		} else if (!strcmp(k, "analysis")) {
			if ((r = parse_analysis(p, kn, v, svc)) < 0)
				return r;
		} else if (!strcmp(k, "environments")) {
			envs_key = kn;
			envs = v;
		} else if (!strcmp(k, "target")) {
			if ((r = get_plugin(p, kn, v, PLUGIN_TARGET, svc->target)) < 0)
				return r;
		} else if (!strcmp(k, "router")) {
			if ((r = get_plugin(p, kn, v, PLUGIN_ROUTER, svc->router)) < 0)
				return r;
		} else if (!strcmp(k, "provider")) {
			if ((r = get_plugin(p, kn, v, PLUGIN_PROVIDER, svc->provider)) < 0)
				return r;
		} else if (!strcmp(k, "judge")) {
			if ((r = get_plugin(p, kn, v, PLUGIN_JUDGE, svc->judge)) < 0)
				return r;
		} else {
			return fail(p, kn, "unknown key '%s' (valid: name, command, env, instances, releases, readiness, "
				    "stop, smoke, analysis, target, router, provider, judge, environments)", k);
		}
	}
	if (!svc->name[0]) {
		if (!expect_name)
			return fail(p, NULL, "the service needs a 'name'");
		if (!service_name_valid(expect_name))
			return fail(p, NULL, "service name '%s' must be 1 to 64 of A-Z a-z 0-9 . _ -", expect_name);
		memcpy(svc->name, expect_name, strlen(expect_name) + 1);
	}
	if (!svc->argc)
		return fail(p, NULL, "the service needs a 'command' (a list: program and arguments)");
	if (!envs)
		return fail(p, NULL, "the service needs 'environments' (e.g. production: {listen: 127.0.0.1:8080})");
	if ((r = need_map(p, envs_key, envs, "environments")) < 0)
		return r;
	it = NULL;
	while ((pr = fy_node_mapping_iterate(envs, &it))) {
		struct service_env *e;
		struct fy_node *kn = fy_node_pair_key(pr);
		svc->envs = xrealloc(svc->envs, (svc->nenvs + 1) * sizeof(*svc->envs));
		e = &svc->envs[svc->nenvs++];
		memset(e, 0, sizeof(*e));
		if ((r = get_name(p, kn, kn, "environment name", e->name)) < 0)
			return r;
		for (size_t i = 0; i + 1 < svc->nenvs; i++)
			if (!strcmp(svc->envs[i].name, e->name))
				return fail(p, kn, "environment '%s' is defined twice", e->name);
		if ((r = parse_env(p, kn, fy_node_pair_value(pr), default_instances, e)) < 0)
			return r;
	}
	if (!svc->nenvs)
		return fail(p, envs_key, "'environments' must name at least one environment");
	for (size_t i = 0; i < svc->nenvs; i++)
		for (size_t j = i + 1; j < svc->nenvs; j++)
			if (!svc->envs[i].router_socket && !svc->envs[j].router_socket &&
			    svc->envs[i].listen_port == svc->envs[j].listen_port &&
			    !strcmp(svc->envs[i].listen_host, svc->envs[j].listen_host))
				return fail(p, envs_key, "environments '%s' and '%s' listen on the same address",
					    svc->envs[i].name, svc->envs[j].name);
	if (!svc->releases) {
		struct strbuf sb = STRBUF_INIT;
		strbuf_addf(&sb, "releases/%s", svc->name);
		svc->releases = strbuf_detach(&sb, NULL);
	}
	if (!svc->ready_path)
		svc->ready_path = xstrdup("/health");
	return 0;
}

int service_parse(struct service *out, const char *file, const char *buf, size_t len, const char *expect_name,
		  struct strbuf *err)
{
	struct fy_diag_cfg dcfg;
	struct fy_diag *diag;
	struct fy_parse_cfg cfg = { 0 };
	struct fy_document *doc;
	struct service svc = { 0 };
	struct sp p = { file, err };
	int r;

	if (len > SERVICE_FILE_MAX) {
		strbuf_errf(err, "%s: larger than %d bytes", file, SERVICE_FILE_MAX);
		return SW_ETOOBIG;
	}
	/* the bytes libfyaml may see (core/yaml_text.h: it loops or crashes on
	 * some that no service file needs; found by tests/fuzz/fuzz_service.c) */
	{
		struct yaml_text_error ye;
		if (yaml_text_check(buf, len, &ye) < 0) {
			strbuf_errf(err, "%s:%d:%d: %s", file, ye.line, ye.col, ye.msg);
			return SW_EPARSE;
		}
	}
	fy_diag_cfg_default(&dcfg);
	dcfg.fp = NULL;
	dcfg.output_fn = NULL;
	dcfg.level = FYET_ERROR;
	diag = fy_diag_create(&dcfg);
	if (!diag) {
		strbuf_errf(err, "%s: cannot create the YAML parser", file);
		return SW_EPARSE;
	}
	fy_diag_set_collect_errors(diag, true);
	cfg.flags = FYPCF_QUIET | FYPCF_COLLECT_DIAG;
	cfg.diag = diag;
	doc = fy_document_build_from_string(&cfg, buf, len);
	if (!doc) {
		void *it = NULL;
		struct fy_diag_error *de = fy_diag_errors_iterate(diag, &it);
		if (de)
			/* diagnostics are 1-based already (marks of nodes are 0-based) */
			strbuf_errf(err, "%s:%d:%d: invalid YAML: %s", file, de->line, de->column, de->msg);
		else
			strbuf_errf(err, "%s: invalid YAML", file);
		fy_document_destroy(doc);
		fy_diag_destroy(diag);
		return SW_EPARSE;
	}
	snprintf(svc.target, sizeof(svc.target), "%s", plugin_default(PLUGIN_TARGET));
	snprintf(svc.router, sizeof(svc.router), "%s", plugin_default(PLUGIN_ROUTER));
	snprintf(svc.provider, sizeof(svc.provider), "%s", plugin_default(PLUGIN_PROVIDER));
	snprintf(svc.judge, sizeof(svc.judge), "%s", plugin_default(PLUGIN_JUDGE));
	svc.ready_timeout_ms = 2000;
	svc.ready_deadline_ms = 30000;
	svc.stop_grace_ms = 10000;
	svc.drain_ms = 2000;
	r = parse_root(&p, fy_document_root(doc), expect_name, &svc);
	fy_document_destroy(doc);
	fy_diag_destroy(diag);
	if (r < 0) {
		service_release(&svc);
		return r;
	}
	*out = svc;
	return 0;
}

void service_release(struct service *svc)
{
	if (!svc)
		return;
	for (size_t i = 0; i < svc->argc; i++)
		free(svc->argv[i]);
	free(svc->argv);
	for (size_t i = 0; i < svc->envc; i++)
		free(svc->env[i]);
	free(svc->env);
	free(svc->releases);
	free(svc->ready_path);
	for (size_t i = 0; i < svc->nsmoke; i++)
		free(svc->smoke[i].path);
	free(svc->smoke);
	free(svc->analysis_canary);
	free(svc->steps);
	for (size_t i = 0; i < svc->nenvs; i++) {
		free(svc->envs[i].router_socket);
		free(svc->envs[i].router_backend);
	}
	free(svc->envs);
	memset(svc, 0, sizeof(*svc));
}

const struct service_env *service_find_env(const struct service *svc, const char *name)
{
	for (size_t i = 0; i < svc->nenvs; i++)
		if (!strcmp(svc->envs[i].name, name))
			return &svc->envs[i];
	return NULL;
}

int service_expand(struct strbuf *out, const char *t, const struct service_vars *v, struct strbuf *err)
{
	while (*t) {
		const char *close;
		size_t n;
		if (t[0] == '{' && t[1] == '{') {
			strbuf_addch(out, '{');
			t += 2;
			continue;
		}
		if (*t != '{' || !(close = strchr(t, '}'))) {
			strbuf_addch(out, *t++);
			continue;
		}
		n = (size_t)(close - t - 1);
#define IS(w) (n == sizeof(w) - 1 && !memcmp(t + 1, w, n))
		if (IS("port"))
			strbuf_addf(out, "%d", v->port);
		else if (IS("instance"))
			strbuf_addf(out, "%d", v->instance);
		else if (IS("version"))
			strbuf_addstr(out, v->version ? v->version : "");
		else if (IS("release"))
			strbuf_addstr(out, v->release ? v->release : "");
		else if (IS("service"))
			strbuf_addstr(out, v->service ? v->service : "");
		else if (IS("env"))
			strbuf_addstr(out, v->env ? v->env : "");
		else {
			strbuf_errf(err, "unknown placeholder '%.*s' (valid: {port} {version} {instance} {release} {service} {env})",
				    (int)(n + 2), t);
			return SW_ECONFIG;
		}
#undef IS
		t = close + 1;
	}
	return 0;
}
