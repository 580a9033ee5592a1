/*
 * plugin_names.h - the names of slipway's plugins, per kind, as pure data:
 * which targets, routers, metrics providers, judges and notification sinks
 * exist, and which one a service file gets when it names none.
 *
 * The loaders in core (service files: `target:`, `router:`, `provider:`,
 * `judge:`; notification sinks: `type:`) validate a name against this list
 * and list the valid ones in their FILE:LINE:COL errors; the constructors
 * live in src/controller/registry.c (sinks: src/adapters/notify.c), and
 * tests/unit/test_registry.c checks that both lists agree.  Adding a plugin
 * is one line here and one entry in the registry (docs/ARCHITECTURE.md,
 * "Adding a plugin").  The shape follows git's refs backends: a name and an
 * init, found by name.
 */
#ifndef SLIPWAY_CORE_PLUGIN_NAMES_H
#define SLIPWAY_CORE_PLUGIN_NAMES_H

struct strbuf;

enum plugin_kind {
	PLUGIN_TARGET = 0,	/* where instances run (core/target-t.h) */
	PLUGIN_ROUTER,		/* what splits traffic (core/router-t.h) */
	PLUGIN_PROVIDER,	/* where metrics come from (core/metrics-t.h) */
	PLUGIN_JUDGE,		/* who decides a criterion (core/judge.h) */
	PLUGIN_SINK,		/* where notifications go (adapters/notify.h) */
	PLUGIN_KIND_COUNT
};

/* The largest plugin name, in bytes (names are lowercase words and '-'). */
#define PLUGIN_NAME_MAX 32

/* "target", "router", "provider", "judge", "sink": also the service-file key of the kind. */
const char *plugin_kind_name(enum plugin_kind k);

/* The names of kind k, NULL-terminated, in the order errors list them. */
const char *const *plugin_names(enum plugin_kind k);

/* The name used when a file chooses none: local, haproxy, builtin, observed (sinks: none, NULL). */
const char *plugin_default(enum plugin_kind k);

/* 1 when name is a plugin of kind k, else 0. */
int plugin_name_known(enum plugin_kind k, const char *name);

/* Append the names of kind k to out as "a, b, c". */
void plugin_names_list(enum plugin_kind k, struct strbuf *out);

#endif
