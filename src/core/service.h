/*
 * service.h - a service definition: how the instances of one revision of a
 * service start, how many run in each environment, how readiness and smoke
 * checks are done, which analysis a rollout uses, and where the router
 * listens, and which plugins a rollout uses (docs/services.md is the
 * user's manual).
 *
 * One file per service, `services/NAME.yaml`, parsed from a buffer (the
 * caller reads the file, bounded).  Pure: no I/O, so it is fuzzed
 * (tests/fuzz/fuzz_service.c) and unit-tested from tests/data/service/.
 */
#ifndef SLIPWAY_CORE_SERVICE_H
#define SLIPWAY_CORE_SERVICE_H

#include "base/limits.h"
#include <stddef.h>
#include <stdint.h>

#include "core/plugin_names.h"
#include "core/strategy.h"

struct strbuf;

#define SERVICE_NAME_MAX SW_NAME_MAX	/* names and versions: [A-Za-z0-9._-], 1..64 bytes (base/limits.h) */
#define SERVICE_MAX_INSTANCES 64
#define SERVICE_FILE_MAX (256 * 1024)	/* bytes a service file may have */
#define SERVICE_TEXT_MAX 4096	/* bytes in a command argument, path, socket, env value */
#define SERVICE_MAX_ARGS 256	/* entries in command, env, smoke, steps, environments */

struct service_smoke {
	char method[16];	/* "GET", "POST", ... */
	char *path;		/* "/health" */
	int status;		/* expected HTTP status, 100-599 */
};

struct service_env {
	char name[SERVICE_NAME_MAX + 1];	/* "production", "staging" */
	char listen_host[64];			/* router frontend, IPv4 literal "127.0.0.1" */
	int listen_port;			/* 1-65535 */
	int instances;				/* instances per revision, 1..SERVICE_MAX_INSTANCES */
	char *router_socket;			/* attach to this HAProxy admin socket, or NULL: run our own */
	char *router_backend;			/* backend name in an attached HAProxy (NULL: the service name) */
	char metrics_host[64];			/* router.metrics: HAProxy's Prometheus exporter, IPv4 literal */
	int metrics_port;			/* 0: the HAProxy slipway runs serves no exporter */
};

/*
 * The `prometheus:` section: how the `prometheus` metrics provider reaches
 * a Prometheus server and which PromQL it asks (docs/prometheus.md).  The
 * bearer token is named, never held here: a file or an environment variable
 * read when the provider opens.
 */
enum service_prom_set {
	PROM_SET_APP = 0,	/* http_requests_total{version,code} and http_request_duration_seconds */
	PROM_SET_HAPROXY,	/* HAProxy's exporter per server; latency from the app set */
};
struct service_prometheus {
	char *address;		/* "http://127.0.0.1:9090" (http or https); NULL: section absent */
	char *token_file;	/* bearer token in this file (first line), or NULL */
	char *token_env;	/* bearer token in this environment variable, or NULL */
	char *ca_file;		/* PEM bundle to verify an https address, or NULL: the system's */
	int64_t timeout_ms;	/* one HTTP request, default 5000 */
	int retries;		/* further attempts after a failed request, default 2 */
	int64_t backoff_ms;	/* before the first retry, doubled each time, default 200 */
	int set;		/* enum service_prom_set: the built-in templates */
	/* templates overriding the set's (NULL: the set's); placeholders in docs/prometheus.md */
	char *q_requests, *q_errors, *q_buckets, *q_quantile;
	/* the same for a flag's cohort (version "flag:FLAG=VARIANT"; docs/prometheus.md "Per flag variant") */
	char *q_flag_requests, *q_flag_errors, *q_flag_buckets, *q_flag_quantile;
};

/*
 * The `github:` section: GitHub's REST API answers the checklist's
 * `ci-passing` (commit statuses and check runs of the deployment's commit)
 * and `review-approved` (the reviews of the pull requests that contain it)
 * at the gate (docs/checklists.md "Live checks against GitHub").  The token
 * is named, never held here: read from the environment when the gate looks.
 */
struct service_github {
	char *repo;		/* "OWNER/NAME"; NULL: section absent */
	char *api;		/* API base URL, default "https://api.github.com" (tests: a server on 127.0.0.1) */
	char *token_env;	/* the environment variable holding the token, default "GITHUB_TOKEN" */
	int64_t timeout_ms;	/* one request, default 5000 */
};

/* One native analysis step: send weight percent of traffic, hold for hold_ms. */
struct service_step {
	double weight;		/* percent 0-100 */
	int64_t hold_ms;
};

struct service {
	char name[SERVICE_NAME_MAX + 1];
	/*
	 * The plugins a rollout of this service uses, by name
	 * (core/plugin_names.h; `target:`, `router:`, `provider:`, `judge:`);
	 * the defaults when the file names none: local, haproxy, builtin,
	 * observed.
	 */
	char target[PLUGIN_NAME_MAX + 1];
	char router[PLUGIN_NAME_MAX + 1];
	char provider[PLUGIN_NAME_MAX + 1];
	char judge[PLUGIN_NAME_MAX + 1];
	char **argv;		/* command and arguments, placeholders unexpanded; NULL-terminated */
	size_t argc;
	char **env;		/* "NAME=value" strings, placeholders unexpanded; NULL-terminated */
	size_t envc;
	char *releases;		/* release root, default "releases/NAME"; relative to the project dir */
	char *ready_path;	/* readiness probe path, default "/health" */
	int64_t ready_timeout_ms;	/* one probe, default 2000 */
	int64_t ready_deadline_ms;	/* give up waiting after, default 30000 */
	int64_t stop_grace_ms;	/* SIGTERM -> SIGKILL, default 10000 */
	int64_t drain_ms;	/* wait for in-flight requests after drain, default 2000 */
	/* `logs: {max_size: 10MB, keep: 3}`: an instance's log (stdout and stderr) is rotated when
	 * it would pass log_max_bytes (bytes, default 10 MiB, 4 KiB to 1 TiB), keeping log_keep
	 * files (the log itself included, default 3, 1 to 100); docs/services.md */
	int64_t log_max_bytes;
	int log_keep;
	struct service_smoke *smoke;
	size_t nsmoke;
	char *analysis_canary;	/* path of a Flagger Canary file (relative to the service file), or NULL */
	struct service_step *steps;	/* native steps, or NULL */
	size_t nsteps;
	struct service_env *envs;
	size_t nenvs;
	struct service_prometheus prom;	/* `prometheus:` (address NULL when absent) */
	/* `dashboards: [URL, ...]`: what "Dashboards accessible" probes at the gate
	 * (http or https; docs/checklists.md) */
	char **dashboards;
	size_t ndashboards;
	struct service_github github;	/* `github:` (repo NULL when absent) */
};

/*
 * Parse a service definition from buf[0..len) (need not be NUL-terminated).
 * `file` names the input in messages ("services/api-server.yaml:4:3: ...").
 * `expect_name` (may be NULL) is the name the file must define (from its
 * file name); `name:` may then be omitted.  Returns 0 and fills *svc (release
 * with service_release()), or SW_ECONFIG (too large, YAML syntax, an alias,
 * an unknown key, a bad value: core/yaml_walk.h) with one message in err
 * naming FILE:LINE:COL and what would be valid.  *svc is untouched on
 * failure.
 */
int service_parse(struct service *svc, const char *file, const char *buf, size_t len,
		  const char *expect_name, struct strbuf *err);

/*
 * The strategy a deployment of svc uses when the service file names no Canary
 * file (`analysis.canary`): the type's strategy kind (core/strategy.h
 * strategy_default()) with the service's own `analysis.steps` in place of the
 * kind's built-in steps when it has some (docs/services.md).  0, or SW_ECONFIG
 * with the reason in err (a step the kind refuses).
 */
int service_strategy(const struct service *svc, enum strategy_kind kind, struct strategy *out, struct strbuf *err);

/* Free what svc owns; accepts a zeroed struct. */
void service_release(struct service *svc);

/* The environment called name, or NULL. */
const struct service_env *service_find_env(const struct service *svc, const char *name);

/* 1 if s is a valid service, environment or version name ([A-Za-z0-9._-]{1,64}, not "." or ".."). */
int service_name_valid(const char *s);

/*
 * Expand the placeholders {port} {version} {instance} {release} {service}
 * {env} in tmpl into out (appending).  Unknown {words} are an error:
 * SW_ECONFIG with the name in err.  "{{" is a literal "{".
 */
struct service_vars {
	int port;
	const char *version, *release, *service, *env;
	int instance;
};
int service_expand(struct strbuf *out, const char *tmpl, const struct service_vars *v, struct strbuf *err);

#endif
