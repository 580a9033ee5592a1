/*
 * registry.h - slipway's plugins found by name: for each kind (target,
 * router, metrics provider, judge, notification sink) a table of named
 * implementations, each with a constructor from its configuration and a
 * close (the shape of git's refs backends: a name and an init).
 *
 * The names are pure data in core/plugin_names.h, so the core loaders can
 * validate a service file's `target:`, `router:`, `provider:` and `judge:`
 * and list the valid names in their errors; this file holds the
 * constructors, and tests/unit/test_registry.c checks that the two lists
 * agree.  A controller is composed from what the registry returns
 * (controller/local_deploy.c): nothing else names an implementation.
 *
 * Adding a plugin (docs/ARCHITECTURE.md, "Adding a plugin"): write the
 * implementation of its interface (core/target-t.h, core/router-t.h,
 * core/metrics-t.h, core/judge.h) in src/adapters/ or src/core/, add its
 * name to core/plugin_names.c and one `struct plugin` entry to the table in
 * registry.c.
 */
#ifndef SLIPWAY_CONTROLLER_REGISTRY_H
#define SLIPWAY_CONTROLLER_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "core/plugin_names.h"

struct strbuf;
struct store;
struct service;
struct policy;
struct localstack;
struct target;
struct router;
struct metrics_provider;
struct judge;

/*
 * What a constructor may use: the resources of the one service environment
 * a controller drives.  The localstack (controller/localstack.h) holds the
 * store, the service definition, and the local machine's process table and
 * HAProxy that the `local` target and the `haproxy` router work on.
 */
struct plugin_host {
	struct store *st;		/* the store (open, migrated for deployments) */
	const struct service *svc;	/* the service file: its plugin names, instances, ... */
	const char *env;		/* the environment deployed to */
	const char *state_dir;
	const char *project_dir;	/* services/ and releases/ */
	const struct policy *policy;	/* the effective policy (e.g. a judge's settings); may be NULL */
	uint64_t min_requests;		/* judges: the strategy's minimum canary requests per interval */
	/* this machine's process table and HAProxy (the local target and the
	 * haproxy router work on it); NULL where a controller drives no local
	 * machine, and plugins that need it refuse to open */
	struct localstack *ls;		/* not owned; every member must outlive the plugins opened on it */
	/* one progress line for a person ("  api v2 (canary): 2 instances ready"); may be NULL */
	void (*say)(void *say_ctx, const char *line);
	void *say_ctx;
};

/*
 * One implementation.  open() builds the plugin from the host and returns
 * it in *out, typed by kind: struct target *, struct router *, struct
 * metrics_provider *, struct judge *; 0, or a negative error with a message
 * in err (nothing is left open).  close() releases what open() returned and
 * accepts NULL.  Notification sinks are built per message by the delivery
 * queue (adapters/notify.h): their entries have open and close NULL.
 */
struct plugin {
	enum plugin_kind kind;
	const char *name;	/* as in core/plugin_names.c */
	const char *summary;	/* one line for documentation and errors */
	int (*open)(const struct plugin_host *h, void **out, struct strbuf *err);
	void (*close)(void *obj);
};

/* The implementation of kind k called name, or NULL. */
const struct plugin *registry_find(enum plugin_kind k, const char *name);

/* Every implementation, for tests and listings: index 0.. until NULL. */
const struct plugin *registry_at(size_t i);

/*
 * Open the plugin of kind k called name (NULL: the kind's default,
 * plugin_default()).  SW_ENOTFOUND with the valid names in err when there
 * is no such plugin; otherwise what its open() returns.
 */
int registry_open(enum plugin_kind k, const char *name, const struct plugin_host *h, void **out,
		  struct strbuf *err);
/* Close what registry_open(k, name, ...) returned; accepts NULL. */
void registry_close(enum plugin_kind k, const char *name, void *obj);

#endif
