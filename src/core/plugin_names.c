/*
 * plugin_names.c - the catalogue of plugin names; see plugin_names.h.
 * One line per plugin: the registry (src/controller/registry.c) must have a
 * constructor for every name here and no other, which test_registry checks.
 */
#include "core/plugin_names.h"
#include "base/strbuf.h"

#include <string.h>

static const char *const targets[] = { "local", "ssh", "sim", NULL };
static const char *const routers[] = { "haproxy", "sim", NULL };
static const char *const providers[] = { "builtin", "prometheus", "sim", NULL };
static const char *const judges[] = { "sequential", "threshold", "observed", NULL };
static const char *const sinks[] = { "stdout", "file", "slack", "cloudevents", NULL };

static const struct {
	const char *kind;
	const char *const *names;
	const char *def;
} catalogue[PLUGIN_KIND_COUNT] = {
	[PLUGIN_TARGET] = { "target", targets, "local" },
	[PLUGIN_ROUTER] = { "router", routers, "haproxy" },
	[PLUGIN_PROVIDER] = { "provider", providers, "builtin" },
	[PLUGIN_JUDGE] = { "judge", judges, "sequential" },
	[PLUGIN_SINK] = { "sink", sinks, NULL },
};

const char *plugin_kind_name(enum plugin_kind k)
{
	return (unsigned)k < PLUGIN_KIND_COUNT ? catalogue[k].kind : "?";
}

const char *const *plugin_names(enum plugin_kind k)
{
	static const char *const none[] = { NULL };
	return (unsigned)k < PLUGIN_KIND_COUNT ? catalogue[k].names : none;
}

const char *plugin_default(enum plugin_kind k)
{
	return (unsigned)k < PLUGIN_KIND_COUNT ? catalogue[k].def : NULL;
}

int plugin_name_known(enum plugin_kind k, const char *name)
{
	if (!name)
		return 0;
	for (const char *const *n = plugin_names(k); *n; n++)
		if (!strcmp(*n, name))
			return 1;
	return 0;
}

void plugin_names_list(enum plugin_kind k, struct strbuf *out)
{
	const char *const *n = plugin_names(k);
	for (size_t i = 0; n[i]; i++)
		strbuf_addf(out, "%s%s", i ? ", " : "", n[i]);
}
