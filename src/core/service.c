/*
 * service.c - parse a service definition (services/NAME.yaml) on the shared
 * YAML walker (core/yaml_walk.h): tables of keys below, each key listed
 * once with its parser and destination.  Syntax errors, aliases, unknown
 * keys and wrong values all come back as FILE:LINE:COL and SW_ECONFIG.
 * Unknown keys are refused (a typo must not silently mean "default").
 * Pure: no I/O.
 */
#include "core/service.h"
#include "core/plugin_names.h"
#include "core/yaml_walk.h"
#include "base/alloc.h"
#include "base/err.h"
#include "base/placeholder.h"
#include "base/strbuf.h"
#include "base/timeutil.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <libfyaml.h>
#include <string.h>

/* What the walk fills: the service, and what is read before it is used. */
struct svc_doc {
	struct service svc;
	const char *expect_name;
	int default_instances;		/* `instances:` at the top, for environments without their own */
	struct fy_node *envs;		/* read after the rest: instances may follow it */
	struct yaml_pos envs_at;
	size_t smoke_alloc, steps_alloc;
	struct yaml_pos provider_at;	/* `provider:`'s value, for the check across keys */
};

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

/* char[SERVICE_NAME_MAX + 1]: a service or environment name. */
static int parse_name(struct yaml_walk *w, const struct yaml_key *k, struct fy_node *v, struct yaml_pos at, void *dst)
{
	_cleanup_free_ char *s = NULL;
	int r = yaml_walk_scalar(w, v, at, k->name, SERVICE_NAME_MAX + 64, &s);
	if (r < 0)
		return r;
	if (!service_name_valid(s))
		return yaml_walk_fail(w, at, "'%s' must be 1 to 64 of the characters A-Z a-z 0-9 . _ -, not '%s'",
				      k->name, s);
	memcpy(dst, s, strlen(s) + 1);
	return 0;
}

static int parse_service_name(struct yaml_walk *w, const struct yaml_key *k, struct fy_node *v, struct yaml_pos at,
			      void *dst)
{
	struct svc_doc *d = w->user;
	int r = parse_name(w, k, v, at, dst);
	if (r < 0)
		return r;
	if (d->expect_name && strcmp(d->expect_name, d->svc.name))
		return yaml_walk_fail(w, at, "'name' is '%s' but the file defines service '%s' (rename one)",
				      d->svc.name, d->expect_name);
	return 0;
}

/* char *, starting with '/': an HTTP path. */
static int parse_path(struct yaml_walk *w, const struct yaml_key *k, struct fy_node *v, struct yaml_pos at, void *dst)
{
	char **p = dst;
	int r = yaml_parse_str(w, k, v, at, dst);
	if (r < 0)
		return r;
	if ((*p)[0] != '/')
		return yaml_walk_fail(w, at, "'%s' must start with '/', not '%s'", k->name, *p);
	return 0;
}

/* an unknown {placeholder} in s is refused now, at its position, not when an instance starts */
static int check_placeholders(struct yaml_walk *w, struct fy_node *v, struct yaml_pos at, const char *s)
{
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	struct service_vars none = { 0 };
	int r = service_expand(&out, s, &none, &err);
	if (r < 0)
		r = yaml_walk_fail(w, yaml_walk_pos(v, at), "%s; write {{ for a literal {", err.buf);
	strbuf_release(&out);
	strbuf_release(&err);
	return r;
}

static int add_arg(struct yaml_walk *w, struct fy_node *item, struct yaml_pos at, void *ctx)
{
	struct service *svc = ctx;
	char *s;
	int r = yaml_walk_scalar(w, item, at, "command", SERVICE_TEXT_MAX, &s);
	if (r < 0)
		return r;
	if ((r = check_placeholders(w, item, at, s)) < 0) {
		free(s);
		return r;
	}
	svc->argv = xrealloc(svc->argv, (svc->argc + 2) * sizeof(char *));
	svc->argv[svc->argc++] = s;
	svc->argv[svc->argc] = NULL;
	return 0;
}

/* struct service: a program and its arguments, as a list (or one word alone:
 * arguments need the list form so no shell quoting is guessed). */
static int parse_command(struct yaml_walk *w, const struct yaml_key *k, struct fy_node *v, struct yaml_pos at,
			 void *dst)
{
	struct service *svc = dst;
	(void)k;
	if (yaml_walk_is_scalar(v)) {
		size_t len = 0;
		const char *t = fy_node_get_scalar(v, &len);
		/* one word alone; "python3 -m http.server" would be run as a program of that name */
		if (t && (memchr(t, ' ', len) || memchr(t, '\t', len)))
			return yaml_walk_fail(w, yaml_walk_pos(v, at), "command '%.*s' has spaces: write it as a list, "
					      "one argument an item, e.g. [python3, -m, http.server, \"{port}\"] (no shell "
					      "quoting is guessed)", (int)(len > 200 ? 200 : len), t);
		return add_arg(w, v, at, svc);
	}
	int r;
	if ((r = yaml_walk_items(w, v, at, "command", SERVICE_MAX_ARGS, add_arg, svc)) < 0)
		return r;	/* YAML_WALK_ERR: bad input, exit 2 */
	if (!svc->argc || !svc->argv[0][0])
		return yaml_walk_fail(w, yaml_walk_pos(v, at), "command is empty: give the program and its "
				      "arguments, e.g. [python3, -m, http.server, \"{port}\"]");
	return 0;
}

static int add_env_var(struct yaml_walk *w, const char *key, struct yaml_pos kat, struct fy_node *v, void *ctx)
{
	struct service *svc = ctx;
	_cleanup_free_ char *val = NULL;
	struct strbuf sb = STRBUF_INIT;
	int r;
	if (!*key || strchr(key, '='))
		return yaml_walk_fail(w, kat, "environment variable names must not be empty or contain '='");
	if ((r = yaml_walk_scalar(w, v, yaml_walk_pos(v, kat), key, SERVICE_TEXT_MAX, &val)) < 0)
		return r;
	if ((r = check_placeholders(w, v, kat, val)) < 0)
		return r;
	strbuf_addf(&sb, "%s=%s", key, val);
	svc->env = xrealloc(svc->env, (svc->envc + 2) * sizeof(char *));
	svc->env[svc->envc++] = strbuf_detach(&sb, NULL);
	svc->env[svc->envc] = NULL;
	return 0;
}

/* "HOST:PORT" for key k: an IPv4 literal and a port, into host[hostsz] and *port. */
static int parse_hostport(struct yaml_walk *w, const struct yaml_key *k, struct fy_node *v, struct yaml_pos at,
			  char *host, size_t hostsz, int *port_out)
{
	_cleanup_free_ char *s = NULL;
	char *colon, *end;
	long port;
	int r = yaml_walk_scalar(w, v, at, k->name, 128, &s);
	if (r < 0)
		return r;
	colon = strrchr(s, ':');
	if (!colon || colon == s || (size_t)(colon - s) >= hostsz)
		return yaml_walk_fail(w, at, "'%s' must be HOST:PORT such as \"127.0.0.1:8080\", not '%s'", k->name, s);
	for (char *c = s; c < colon; c++)
		if (!((*c >= '0' && *c <= '9') || *c == '.'))
			return yaml_walk_fail(w, at, "'%s' host must be an IPv4 address such as 127.0.0.1, not '%.*s'",
					      k->name, (int)(colon - s), s);
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (errno || end == colon + 1 || *end || port < 1 || port > 65535)
		return yaml_walk_fail(w, at, "'%s' port must be 1 to 65535, not '%s'", k->name, colon + 1);
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	*port_out = (int)port;
	return 0;
}

/* struct service_env: `listen: HOST:PORT`, the router's frontend. */
static int parse_listen(struct yaml_walk *w, const struct yaml_key *k, struct fy_node *v, struct yaml_pos at,
			void *dst)
{
	struct service_env *e = dst;
	return parse_hostport(w, k, v, at, e->listen_host, sizeof(e->listen_host), &e->listen_port);
}

/* struct service_env: `router: {metrics: HOST:PORT}`, HAProxy's Prometheus exporter. */
static int parse_metrics_listen(struct yaml_walk *w, const struct yaml_key *k, struct fy_node *v, struct yaml_pos at,
				void *dst)
{
	struct service_env *e = dst;
	return parse_hostport(w, k, v, at, e->metrics_host, sizeof(e->metrics_host), &e->metrics_port);
}

static const char *const smoke_methods[] = { "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", NULL };

static int parse_method(struct yaml_walk *w, const struct yaml_key *k, struct fy_node *v, struct yaml_pos at,
			void *dst)
{
	int i, r = yaml_parse_enum(w, k, v, at, &i);
	if (r < 0)
		return r;
	memcpy(dst, smoke_methods[i], strlen(smoke_methods[i]) + 1);
	return 0;
}

static const struct yaml_map router_map = {
	.where = "'router'",
	.keys = (const struct yaml_key[]){
		{ "socket", yaml_parse_str, offsetof(struct service_env, router_socket), .size = SERVICE_TEXT_MAX },
		{ "backend", yaml_parse_str, offsetof(struct service_env, router_backend), .size = SERVICE_TEXT_MAX },
		{ "metrics", parse_metrics_listen, 0, .hint = "(HOST:PORT such as 127.0.0.1:9101)" },
		{ NULL },
	},
};

static const struct yaml_map env_map = {
	.keys = (const struct yaml_key[]){
		{ "listen", parse_listen, 0, .flags = YAML_REQUIRED, .hint = "(HOST:PORT such as 127.0.0.1:8080)" },
		{ "instances", yaml_parse_int, offsetof(struct service_env, instances), 1, SERVICE_MAX_INSTANCES },
		{ "router", yaml_parse_map, 0, .map = &router_map },
		{ NULL },
	},
};

static const struct yaml_map smoke_map = {
	.where = "a smoke check",
	.keys = (const struct yaml_key[]){
		{ "method", parse_method, offsetof(struct service_smoke, method), .names = smoke_methods },
		{ "path", parse_path, offsetof(struct service_smoke, path), .size = SERVICE_TEXT_MAX,
		  .flags = YAML_REQUIRED },
		{ "status", yaml_parse_int, offsetof(struct service_smoke, status), 100, 599 },
		{ NULL },
	},
};

static const struct yaml_map step_map = {
	.where = "a step",
	.keys = (const struct yaml_key[]){
		{ "weight", yaml_parse_percent, offsetof(struct service_step, weight), 0, 100, .flags = YAML_REQUIRED },
		{ "hold", yaml_parse_duration, offsetof(struct service_step, hold_ms) },
		{ NULL },
	},
};

static int add_smoke(struct yaml_walk *w, struct fy_node *item, struct yaml_pos at, void *ctx)
{
	struct svc_doc *d = ctx;
	struct service_smoke *s;
	ALLOC_GROW(d->svc.smoke, d->svc.nsmoke + 1, d->smoke_alloc);
	s = &d->svc.smoke[d->svc.nsmoke++];
	memset(s, 0, sizeof(*s));
	memcpy(s->method, "GET", 4);
	s->status = 200;
	return yaml_walk_map(w, item, at, &smoke_map, NULL, s);
}

static int add_step(struct yaml_walk *w, struct fy_node *item, struct yaml_pos at, void *ctx)
{
	struct svc_doc *d = ctx;
	struct service_step *st;
	ALLOC_GROW(d->svc.steps, d->svc.nsteps + 1, d->steps_alloc);
	st = &d->svc.steps[d->svc.nsteps++];
	memset(st, 0, sizeof(*st));
	int r;
	if ((r = yaml_walk_map(w, item, at, &step_map, NULL, st)) < 0)
		return r;
	/* said here, at the step, rather than by the engine when a deployment starts */
	if (d->svc.nsteps > 1 && st->weight < d->svc.steps[d->svc.nsteps - 2].weight)
		return yaml_walk_fail(w, yaml_walk_pos(fy_node_mapping_lookup_by_string(item, "weight", -1), at),
				      "step %zu: weight %g is below the previous step's %g; a "
				      "canary's weight only grows from step to step", d->svc.nsteps, st->weight,
				      d->svc.steps[d->svc.nsteps - 2].weight);
	return 0;
}

/* analysis.steps: a list of at least one step (an empty list would fall back to the type's strategy unseen) */
static int parse_steps(struct yaml_walk *w, const struct yaml_key *k, struct fy_node *v, struct yaml_pos at, void *dst)
{
	if (v && fy_node_is_sequence(v) && fy_node_sequence_item_count(v) == 0)
		return yaml_walk_fail(w, at,
				      "'steps' is empty: list at least one step (e.g. - {weight: 10, hold: 5m}), "
				      "or leave 'steps' out to use the deployment type's strategy");
	return yaml_parse_list(w, k, v, at, dst);
}

static int check_analysis(struct yaml_walk *w, void *obj, struct yaml_pos at)
{
	struct svc_doc *d = obj;
	if (d->svc.analysis_canary && d->svc.nsteps)
		return yaml_walk_fail(w, at, "'analysis' takes either 'canary' (a Flagger Canary file) or 'steps', not both");
	return 0;
}

static const struct yaml_map readiness_map = {
	.where = "'readiness'",
	.keys = (const struct yaml_key[]){
		{ "path", parse_path, offsetof(struct svc_doc, svc.ready_path), .size = SERVICE_TEXT_MAX },
		{ "timeout", yaml_parse_duration, offsetof(struct svc_doc, svc.ready_timeout_ms) },
		{ "deadline", yaml_parse_duration, offsetof(struct svc_doc, svc.ready_deadline_ms) },
		{ NULL },
	},
};

static const struct yaml_map stop_map = {
	.where = "'stop'",
	.keys = (const struct yaml_key[]){
		{ "grace", yaml_parse_duration, offsetof(struct svc_doc, svc.stop_grace_ms) },
		{ "drain", yaml_parse_duration, offsetof(struct svc_doc, svc.drain_ms) },
		{ NULL },
	},
};

/* int64_t bytes: "10MB", "512KB", "1GB" (powers of 1024; also KiB, MiB, GiB) or a
 * number of bytes, from 4 KiB to 1 TiB */
static int parse_size(struct yaml_walk *w, const struct yaml_key *k, struct fy_node *v, struct yaml_pos at,
		      void *dst)
{
	static const struct { const char *unit; int64_t mul; } units[] = {
		{ "", 1 }, { "B", 1 }, { "KB", 1 << 10 }, { "KiB", 1 << 10 }, { "K", 1 << 10 }, { "MB", 1 << 20 },
		{ "MiB", 1 << 20 }, { "M", 1 << 20 }, { "GB", 1 << 30 }, { "GiB", 1 << 30 }, { "G", 1 << 30 },
	};
	char *s = NULL, *end;
	long long n;
	int r = yaml_walk_scalar(w, v, at, "'logs.max_size'", 32, &s);
	(void)k;
	if (r < 0)
		return r;
	errno = 0;
	n = s ? strtoll(s, &end, 10) : -1;
	r = -1;
	if (s && !errno && end != s && n > 0)
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (!strcmp(end, units[i].unit) && n <= (1LL << 40) / units[i].mul &&
			    n * units[i].mul >= 4096) {
				*(int64_t *)dst = n * units[i].mul;
				r = 0;
			}
	if (r < 0)
		r = yaml_walk_fail(w, yaml_walk_pos(v, at), "'logs.max_size' '%s' is not valid; expected a size from "
				   "4KB to 1024GB such as 10MB, 512KB or 1GB", s ? s : "");
	free(s);
	return r;
}

static const struct yaml_map logs_map = {
	.where = "'logs'",
	.keys = (const struct yaml_key[]){
		{ "max_size", parse_size, offsetof(struct svc_doc, svc.log_max_bytes) },
		{ "keep", yaml_parse_int, offsetof(struct svc_doc, svc.log_keep), 1, 100 },
		{ NULL },
	},
};

static const struct yaml_map analysis_map = {
	.where = "'analysis'",
	.keys = (const struct yaml_key[]){
		{ "canary", yaml_parse_str, offsetof(struct svc_doc, svc.analysis_canary), .size = SERVICE_TEXT_MAX },
		{ "steps", parse_steps, 0, .max = SERVICE_MAX_ARGS, .item = add_step },
		{ NULL },
	},
	.check = check_analysis,
};

/* char *: an http:// or https:// address */
static int parse_url(struct yaml_walk *w, const struct yaml_key *k, struct fy_node *v, struct yaml_pos at, void *dst)
{
	char **p = dst;
	int r = yaml_parse_str(w, k, v, at, dst);
	if (r < 0)
		return r;
	if (strncmp(*p, "http://", 7) && strncmp(*p, "https://", 8))
		return yaml_walk_fail(w, at, "'%s' must start with http:// or https://, not '%.80s'", k->name, *p);
	return 0;
}

static int add_dashboard(struct yaml_walk *w, struct fy_node *item, struct yaml_pos at, void *ctx)
{
	struct svc_doc *d = ctx;
	char *s = NULL;
	int r = yaml_walk_scalar(w, item, at, "a dashboard URL", SERVICE_TEXT_MAX, &s);

	if (r < 0)
		return r;
	if (strncmp(s, "http://", 7) && strncmp(s, "https://", 8)) {
		r = yaml_walk_fail(w, at, "dashboard '%.80s' must be an http:// or https:// URL", s);
		free(s);
		return r;
	}
	d->svc.dashboards = xrealloc(d->svc.dashboards, (d->svc.ndashboards + 1) * sizeof(char *));
	d->svc.dashboards[d->svc.ndashboards++] = s;
	return 0;
}

static int parse_repo(struct yaml_walk *w, const struct yaml_key *k, struct fy_node *v, struct yaml_pos at, void *dst)
{
	char **p = dst;
	const char *slash;
	int r = yaml_parse_str(w, k, v, at, dst);

	if (r < 0)
		return r;
	slash = strchr(*p, '/');
	if (!slash || slash == *p || !slash[1] || strchr(slash + 1, '/') ||
	    strspn(*p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-/") != strlen(*p))
		return yaml_walk_fail(w, at, "'repo' must be OWNER/NAME (letters, digits, . _ -), not '%.80s'", *p);
	return 0;
}

static int check_github(struct yaml_walk *w, void *obj, struct yaml_pos at)
{
	struct svc_doc *d = obj;
	if (!d->svc.github.repo)
		return yaml_walk_fail(w, at, "'github' needs 'repo' (e.g. github: {repo: acme/api-server})");
	return 0;
}

static const struct yaml_map github_map = {
	.where = "'github'",
	.keys = (const struct yaml_key[]){
		{ "repo", parse_repo, offsetof(struct svc_doc, svc.github.repo), .size = 256 },
		{ "api", parse_url, offsetof(struct svc_doc, svc.github.api), .size = SERVICE_TEXT_MAX },
		{ "token_env", yaml_parse_str, offsetof(struct svc_doc, svc.github.token_env), .size = 256 },
		{ "timeout", yaml_parse_duration, offsetof(struct svc_doc, svc.github.timeout_ms), 1, 60000 },
		{ NULL },
	},
	.check = check_github,
};

static const char *const prom_sets[] = { "app", "haproxy", NULL };

static const struct yaml_map prom_queries_map = {
	.where = "'prometheus.queries'",
	.keys = (const struct yaml_key[]){
		{ "requests", yaml_parse_str, offsetof(struct svc_doc, svc.prom.q_requests), .size = SERVICE_TEXT_MAX },
		{ "errors", yaml_parse_str, offsetof(struct svc_doc, svc.prom.q_errors), .size = SERVICE_TEXT_MAX },
		{ "buckets", yaml_parse_str, offsetof(struct svc_doc, svc.prom.q_buckets), .size = SERVICE_TEXT_MAX },
		{ "quantile", yaml_parse_str, offsetof(struct svc_doc, svc.prom.q_quantile), .size = SERVICE_TEXT_MAX },
		{ "flag_requests", yaml_parse_str, offsetof(struct svc_doc, svc.prom.q_flag_requests),
		  .size = SERVICE_TEXT_MAX },
		{ "flag_errors", yaml_parse_str, offsetof(struct svc_doc, svc.prom.q_flag_errors), .size = SERVICE_TEXT_MAX },
		{ "flag_buckets", yaml_parse_str, offsetof(struct svc_doc, svc.prom.q_flag_buckets),
		  .size = SERVICE_TEXT_MAX },
		{ "flag_quantile", yaml_parse_str, offsetof(struct svc_doc, svc.prom.q_flag_quantile),
		  .size = SERVICE_TEXT_MAX },
		{ NULL },
	},
};

static int check_prom(struct yaml_walk *w, void *obj, struct yaml_pos at)
{
	struct svc_doc *d = obj;
	if (!d->svc.prom.address)
		return yaml_walk_fail(w, at, "'prometheus' needs 'address' (e.g. http://127.0.0.1:9090)");
	if (d->svc.prom.token_file && d->svc.prom.token_env)
		return yaml_walk_fail(w, at, "'prometheus' takes 'token_file' or 'token_env', not both");
	return 0;
}

static const struct yaml_map prom_map = {
	.where = "'prometheus'",
	.keys = (const struct yaml_key[]){
		{ "address", parse_url, offsetof(struct svc_doc, svc.prom.address), .size = SERVICE_TEXT_MAX },
		{ "token_file", yaml_parse_str, offsetof(struct svc_doc, svc.prom.token_file), .size = SERVICE_TEXT_MAX },
		{ "token_env", yaml_parse_str, offsetof(struct svc_doc, svc.prom.token_env), .size = 256 },
		{ "ca_file", yaml_parse_str, offsetof(struct svc_doc, svc.prom.ca_file), .size = SERVICE_TEXT_MAX },
		{ "timeout", yaml_parse_duration, offsetof(struct svc_doc, svc.prom.timeout_ms), 1, 600000 },
		{ "retries", yaml_parse_int, offsetof(struct svc_doc, svc.prom.retries), 0, 10 },
		{ "backoff", yaml_parse_duration, offsetof(struct svc_doc, svc.prom.backoff_ms), 0, 60000 },
		{ "templates", yaml_parse_enum, offsetof(struct svc_doc, svc.prom.set), .names = prom_sets },
		{ "queries", yaml_parse_map, 0, .map = &prom_queries_map },
		{ NULL },
	},
	.check = check_prom,
};

/* char[PLUGIN_NAME_MAX + 1]: `target: NAME` and the like, a plugin of the kind
 * the key names that exists (core/plugin_names.h) */
static int parse_plugin(struct yaml_walk *w, const struct yaml_key *k, struct fy_node *v, struct yaml_pos at,
			void *dst)
{
	enum plugin_kind kind = PLUGIN_TARGET;
	struct yaml_key pk = *k;
	int i, r;

	for (int j = 0; j < PLUGIN_KIND_COUNT; j++)
		if (!strcmp(k->name, plugin_kind_name((enum plugin_kind)j)))
			kind = (enum plugin_kind)j;
	pk.names = plugin_names(kind);
	if ((r = yaml_parse_enum(w, &pk, v, at, &i)) < 0)
		return r;
	snprintf(dst, PLUGIN_NAME_MAX + 1, "%s", pk.names[i]);
	return 0;
}

static int keep_envs(struct yaml_walk *w, const struct yaml_key *k, struct fy_node *v, struct yaml_pos at, void *dst)
{
	struct svc_doc *d = dst;
	(void)w, (void)k;
	d->envs = v;
	d->envs_at = at;
	return 0;
}

static int check_root(struct yaml_walk *w, void *obj, struct yaml_pos at)
{
	struct svc_doc *d = obj;
	if (!d->svc.name[0]) {
		if (!d->expect_name)
			return yaml_walk_fail(w, at, "the service needs 'name'");
		if (!service_name_valid(d->expect_name))
			return yaml_walk_fail(w, at, "service name '%s' must be 1 to 64 of A-Z a-z 0-9 . _ -",
					      d->expect_name);
		memcpy(d->svc.name, d->expect_name, strlen(d->expect_name) + 1);
	}
	if (!strcmp(d->svc.provider, "prometheus") && !d->svc.prom.address)
		return yaml_walk_fail(w, d->provider_at, "'provider: prometheus' needs a 'prometheus' section with 'address' "
				      "(e.g. prometheus: {address: http://127.0.0.1:9090}, docs/prometheus.md)");
	return 0;
}

static const struct yaml_map root_map = {
	.where = "the service",
	.keys = (const struct yaml_key[]){
		{ "name", parse_service_name, offsetof(struct svc_doc, svc.name) },
		{ "command", parse_command, offsetof(struct svc_doc, svc), .flags = YAML_REQUIRED,
		  .hint = "(a list: program and arguments)" },
		{ "env", yaml_parse_entries, offsetof(struct svc_doc, svc), .max = SERVICE_MAX_ARGS, .entry = add_env_var },
		{ "instances", yaml_parse_int, offsetof(struct svc_doc, default_instances), 1, SERVICE_MAX_INSTANCES },
		{ "releases", yaml_parse_str, offsetof(struct svc_doc, svc.releases), .size = SERVICE_TEXT_MAX },
		{ "readiness", yaml_parse_map, 0, .map = &readiness_map },
		{ "stop", yaml_parse_map, 0, .map = &stop_map },
		{ "logs", yaml_parse_map, 0, .map = &logs_map },
		{ "smoke", yaml_parse_list, 0, .max = SERVICE_MAX_ARGS, .item = add_smoke },
		{ "analysis", yaml_parse_map, 0, .map = &analysis_map },
		{ "target", parse_plugin, offsetof(struct svc_doc, svc.target) },
		{ "router", parse_plugin, offsetof(struct svc_doc, svc.router) },
		{ "provider", parse_plugin, offsetof(struct svc_doc, svc.provider),
		  .at = YAML_AT(struct svc_doc, provider_at) },
		{ "judge", parse_plugin, offsetof(struct svc_doc, svc.judge) },
		{ "prometheus", yaml_parse_map, 0, .map = &prom_map },
		{ "dashboards", yaml_parse_list, 0, .max = SERVICE_MAX_ARGS, .item = add_dashboard },
		{ "github", yaml_parse_map, 0, .map = &github_map },
		{ "environments", keep_envs, 0, .flags = YAML_REQUIRED,
		  .hint = "(e.g. production: {listen: 127.0.0.1:8080})" },
		{ NULL },
	},
	.check = check_root,
};

static int add_env(struct yaml_walk *w, const char *key, struct yaml_pos kat, struct fy_node *v, void *ctx)
{
	struct svc_doc *d = ctx;
	struct service *svc = &d->svc;
	struct service_env *e;
	struct strbuf where = STRBUF_INIT;
	int r;

	if (!service_name_valid(key))
		return yaml_walk_fail(w, kat, "'environment name' must be 1 to 64 of the characters A-Z a-z 0-9 . _ -, not '%.80s'",
				      key);
	for (size_t i = 0; i < svc->nenvs; i++)
		if (!strcmp(svc->envs[i].name, key))
			return yaml_walk_fail(w, kat, "environment '%s' is defined twice", key);
	svc->envs = xrealloc(svc->envs, (svc->nenvs + 1) * sizeof(*svc->envs));
	e = &svc->envs[svc->nenvs++];
	memset(e, 0, sizeof(*e));
	memcpy(e->name, key, strlen(key) + 1);
	e->instances = d->default_instances;
	strbuf_addf(&where, "environment '%s'", key);
	r = yaml_walk_map(w, v, kat, &env_map, where.buf, e);
	strbuf_release(&where);
	return r;
}

static int parse_envs(struct yaml_walk *w, struct svc_doc *d)
{
	struct service *svc = &d->svc;
	int r;

	if (!yaml_walk_is_mapping(d->envs))
		return yaml_walk_fail(w, d->envs_at, "'environments' must be a mapping from names to environments, found %s",
				      yaml_walk_kind(d->envs));
	if ((r = yaml_walk_entries(w, d->envs, d->envs_at, "'environments'", SERVICE_MAX_ARGS, add_env, d)) < 0)
		return r;
	if (!svc->nenvs)
		return yaml_walk_fail(w, d->envs_at, "'environments' must name at least one environment");
	for (size_t i = 0; i < svc->nenvs; i++)
		for (size_t j = i + 1; j < svc->nenvs; j++)
			if (!svc->envs[i].router_socket && !svc->envs[j].router_socket &&
			    svc->envs[i].listen_port == svc->envs[j].listen_port &&
			    !strcmp(svc->envs[i].listen_host, svc->envs[j].listen_host))
				return yaml_walk_fail(w, d->envs_at, "environments '%s' and '%s' listen on the same address",
						      svc->envs[i].name, svc->envs[j].name);
	return 0;
}

int service_parse(struct service *out, const char *file, const char *buf, size_t len, const char *expect_name,
		  struct strbuf *err)
{
	struct yaml_walk w;
	struct fy_node *root;
	struct svc_doc d;
	int r;

	memset(&d, 0, sizeof(d));
	d.expect_name = expect_name;
	d.default_instances = 1;
	snprintf(d.svc.target, sizeof(d.svc.target), "%s", plugin_default(PLUGIN_TARGET));
	snprintf(d.svc.router, sizeof(d.svc.router), "%s", plugin_default(PLUGIN_ROUTER));
	snprintf(d.svc.provider, sizeof(d.svc.provider), "%s", plugin_default(PLUGIN_PROVIDER));
	snprintf(d.svc.judge, sizeof(d.svc.judge), "%s", plugin_default(PLUGIN_JUDGE));
	d.svc.ready_timeout_ms = 2000;
	d.svc.ready_deadline_ms = 30000;
	d.svc.stop_grace_ms = 10000;
	d.svc.drain_ms = 2000;
	d.svc.log_max_bytes = 10 << 20;
	d.svc.log_keep = 3;
	d.svc.prom.timeout_ms = 5000;
	d.svc.github.timeout_ms = 5000;
	d.svc.prom.retries = 2;
	d.svc.prom.backoff_ms = 200;
	if ((r = yaml_walk_open(&w, file, "a service file", buf, len, SERVICE_FILE_MAX, err, &root)) < 0)
		return r;
	w.user = &d;
	/* an empty file is a mapping without keys: it lacks 'command' */
	r = yaml_walk_map(&w, root, YAML_ROOT_POS, &root_map, NULL, &d);
	if (r >= 0)
		r = parse_envs(&w, &d);
	yaml_walk_close(&w);
	if (r < 0) {
		service_release(&d.svc);
		return r;
	}
	if (!d.svc.releases) {
		struct strbuf sb = STRBUF_INIT;
		strbuf_addf(&sb, "releases/%s", d.svc.name);
		d.svc.releases = strbuf_detach(&sb, NULL);
	}
	if (!d.svc.ready_path)
		d.svc.ready_path = xstrdup("/health");
	*out = d.svc;
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
	for (size_t i = 0; i < svc->ndashboards; i++)
		free(svc->dashboards[i]);
	free(svc->dashboards);
	free(svc->github.repo);
	free(svc->github.api);
	free(svc->github.token_env);
	free(svc->prom.address);
	free(svc->prom.token_file);
	free(svc->prom.token_env);
	free(svc->prom.ca_file);
	free(svc->prom.q_requests);
	free(svc->prom.q_errors);
	free(svc->prom.q_buckets);
	free(svc->prom.q_quantile);
	free(svc->prom.q_flag_requests);
	free(svc->prom.q_flag_errors);
	free(svc->prom.q_flag_buckets);
	free(svc->prom.q_flag_quantile);
	memset(svc, 0, sizeof(*svc));
}

const struct service_env *service_find_env(const struct service *svc, const char *name)
{
	for (size_t i = 0; i < svc->nenvs; i++)
		if (!strcmp(svc->envs[i].name, name))
			return &svc->envs[i];
	return NULL;
}

static int service_var(void *ctx, const char *name, size_t n, struct strbuf *out)
{
	const struct service_vars *v = ctx;
#define IS(w) (n == sizeof(w) - 1 && !memcmp(name, w, n))
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
	else
		return 0;
#undef IS
	return 1;
}

int service_expand(struct strbuf *out, const char *t, const struct service_vars *v, struct strbuf *err)
{
	return placeholder_expand(out, t, service_var, (void *)v, 1,
				  "{port} {version} {instance} {release} {service} {env}", err);
}

int service_strategy(const struct service *svc, enum strategy_kind kind, struct strategy *out, struct strbuf *err)
{
	int rc;
	strategy_default(out, kind);
	if (svc->nsteps) {
		out->n_steps = 0;
		for (size_t i = 0; i < svc->nsteps; i++)
			if ((rc = strategy_add_step(out, 0, svc->steps[i].weight, svc->steps[i].hold_ms, err)) < 0)
				return rc;
	}
	return strategy_validate(out, err);
}
