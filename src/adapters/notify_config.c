/*
 * notify_config.c - the `notifications:` YAML section; see notify_config.h.
 *
 * Read on the shared YAML walker (core/yaml_walk.h): tables of keys below,
 * FILE:LINE:COL errors, aliases refused, unknown keys named with the
 * nearest valid one.  Kept free of the store and of libcurl so the fuzz
 * target links it alone (tests/fuzz/fuzz_notify_config.c).
 */
#include "adapters/notify_config.h"
#include "core/plugin_names.h"
#include "core/yaml_walk.h"
#include "base/alloc.h"
#include "base/err.h"
#include "base/strbuf.h"
#include "base/timeutil.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOTIFY_CONFIG_MAX_BYTES (1024 * 1024)
#define NOTIFY_URL_MAX_BYTES 4096
#define NOTIFY_TEXT_MAX 4096		/* bytes in a path, variable name, sink name */
#define NOTIFY_ENTRIES_MAX 256		/* sinks, channels, sinks of a channel */

const char *const notify_channel_names[] = { "deployments", "all-engineering", NULL };

const char *notify_sink_type_name(enum notify_sink_type t)
{
	switch (t) {
	case SINK_STDOUT: return "stdout";
	case SINK_FILE: return "file";
	case SINK_SLACK: return "slack";
	case SINK_CLOUDEVENTS: return "cloudevents";
	case SINK_TYPE_COUNT: break;
	}
	return "unknown";
}

static void set_defaults(struct notify_config *cfg)
{
	cfg->max_attempts = 8;
	cfg->initial_backoff_ms = 10 * MS_PER_SEC;
	cfg->max_backoff_ms = 10 * MS_PER_MIN;
	cfg->timeout_ms = 5 * MS_PER_SEC;
	cfg->budget_ms = 2 * MS_PER_SEC;
}

void notify_config_default(struct notify_config *cfg, const char *state_dir)
{
	struct strbuf path = STRBUF_INIT;

	memset(cfg, 0, sizeof(*cfg));
	set_defaults(cfg);
	strbuf_addf(&path, "%s/notifications.log", state_dir ? state_dir : ".");
	cfg->sinks = xcalloc(1, sizeof(*cfg->sinks));
	cfg->sinks[0].name = xstrdup("log");
	cfg->sinks[0].type = SINK_FILE;
	cfg->sinks[0].path = strbuf_detach(&path, NULL);
	cfg->n_sinks = 1;
	cfg->channels = xcalloc(2, sizeof(*cfg->channels));
	for (int i = 0; i < 2; i++) {
		cfg->channels[i].name = xstrdup(notify_channel_names[i]);
		cfg->channels[i].sinks = xcalloc(1, sizeof(char *));
		cfg->channels[i].sinks[0] = xstrdup("log");
		cfg->channels[i].n_sinks = 1;
	}
	cfg->n_channels = 2;
	cfg->origin = xstrdup("(default)");
}

void notify_config_release(struct notify_config *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < cfg->n_sinks; i++) {
		free(cfg->sinks[i].name);
		free(cfg->sinks[i].path);
		free(cfg->sinks[i].url_env);
		free(cfg->sinks[i].url_file);
		free(cfg->sinks[i].source);
	}
	free(cfg->sinks);
	for (size_t i = 0; i < cfg->n_channels; i++) {
		for (size_t j = 0; j < cfg->channels[i].n_sinks; j++)
			free(cfg->channels[i].sinks[j]);
		free(cfg->channels[i].sinks);
		free(cfg->channels[i].name);
	}
	free(cfg->channels);
	free(cfg->origin);
	memset(cfg, 0, sizeof(*cfg));
}

const struct notify_sink *notify_config_sink(const struct notify_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->n_sinks; i++)
		if (!strcmp(cfg->sinks[i].name, name))
			return &cfg->sinks[i];
	return NULL;
}

const struct notify_channel *notify_config_channel(const struct notify_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->n_channels; i++)
		if (!strcmp(cfg->channels[i].name, name))
			return &cfg->channels[i];
	return NULL;
}

/* ---- the walk (core/yaml_walk.h) ------------------------------------------ */

/* A sink while it is read. */
struct sink_doc {
	struct notify_sink s;
	struct yaml_pos type_at;
};

/* enum notify_sink_type: a sink that exists (core/plugin_names.h, the
 * catalogue); "webhook" is cloudevents' old name */
static int parse_sink_type(struct yaml_walk *w, const struct yaml_key *k, struct fy_node *v, struct yaml_pos at,
			   void *dst)
{
	struct yaml_key tk = *k;
	char *s = NULL;
	int i, r;

	if ((r = yaml_walk_scalar(w, v, at, "sink type", 64, &s)) < 0)
		return r;
	i = !strcmp(s, "webhook");
	free(s);
	if (i) {
		*(enum notify_sink_type *)dst = SINK_CLOUDEVENTS;
		return 0;
	}
	tk.names = plugin_names(PLUGIN_SINK);
	if ((r = yaml_parse_enum(w, &tk, v, at, &i)) < 0)
		return r;
	*(enum notify_sink_type *)dst = SINK_CLOUDEVENTS;
	for (int t = 0; t < SINK_TYPE_COUNT; t++)
		if (!strcmp(tk.names[i], notify_sink_type_name((enum notify_sink_type)t)))
			*(enum notify_sink_type *)dst = (enum notify_sink_type)t;
	return 0;
}

static int refuse_url(struct yaml_walk *w, const struct yaml_key *k, struct fy_node *v, struct yaml_pos at, void *dst)
{
	const struct sink_doc *d = dst;
	return yaml_walk_fail(w, at, "sink '%s': webhook URLs are secrets and are not written in the file; "
			      "use url_env: VARIABLE or url_file: FILE", d->s.name);
}

static int check_sink(struct yaml_walk *w, void *obj, struct yaml_pos at)
{
	struct sink_doc *d = obj;
	struct notify_sink *s = &d->s;

	if (s->type == SINK_FILE && (!s->path || !*s->path))
		return yaml_walk_fail(w, d->type_at, "sink '%s' of type file needs path: FILE", s->name);
	if ((s->type == SINK_SLACK || s->type == SINK_CLOUDEVENTS) && !s->url_env && !s->url_file)
		return yaml_walk_fail(w, d->type_at, "sink '%s' of type %s needs url_env: VARIABLE or url_file: FILE",
				      s->name, notify_sink_type_name(s->type));
	if (s->url_env && s->url_file)
		return yaml_walk_fail(w, d->type_at, "sink '%s': give url_env or url_file, not both", s->name);
	return 0;
}

static const struct yaml_map sink_map = {
	.keys = (const struct yaml_key[]){
		{ "type", parse_sink_type, offsetof(struct sink_doc, s.type), .at = YAML_AT(struct sink_doc, type_at),
		  .flags = YAML_REQUIRED, .what = "sink type" },
		{ "path", yaml_parse_str, offsetof(struct sink_doc, s.path), .size = NOTIFY_TEXT_MAX },
		{ "url_env", yaml_parse_str, offsetof(struct sink_doc, s.url_env), .size = NOTIFY_TEXT_MAX },
		{ "url_file", yaml_parse_str, offsetof(struct sink_doc, s.url_file), .size = NOTIFY_TEXT_MAX },
		{ "source", yaml_parse_str, offsetof(struct sink_doc, s.source), .size = NOTIFY_TEXT_MAX },
		{ "url", refuse_url, 0 },
		{ "webhook_url", refuse_url, 0 },
		{ NULL },
	},
	.check = check_sink,
};

static int add_sink(struct yaml_walk *w, const char *name, struct yaml_pos at, struct fy_node *v, void *ctx)
{
	struct notify_config *cfg = ctx;
	struct strbuf where = STRBUF_INIT;
	struct sink_doc d;
	int r;

	if (notify_config_sink(cfg, name))
		return yaml_walk_fail(w, at, "sink '%s' is defined twice", name);
	memset(&d, 0, sizeof(d));
	d.s.name = xstrdup(name);
	strbuf_addf(&where, "sink '%s'", name);
	r = yaml_walk_map(w, v, at, &sink_map, where.buf, &d);
	strbuf_release(&where);
	/* kept even on failure, so that notify_config_release() frees it */
	cfg->sinks = xrealloc(cfg->sinks, (cfg->n_sinks + 1) * sizeof(*cfg->sinks));
	cfg->sinks[cfg->n_sinks++] = d.s;
	return r;
}

static int add_channel_sink(struct yaml_walk *w, struct fy_node *item, struct yaml_pos at, void *ctx)
{
	struct notify_channel *c = ctx;
	char *s = NULL;
	int r = yaml_walk_scalar(w, item, at, "a sink name", NOTIFY_TEXT_MAX, &s);
	if (r < 0)
		return r;
	c->sinks = xrealloc(c->sinks, (c->n_sinks + 1) * sizeof(*c->sinks));
	c->sinks[c->n_sinks++] = s;
	return 0;
}

static int add_channel(struct yaml_walk *w, const char *name, struct yaml_pos at, struct fy_node *v, void *ctx)
{
	struct notify_config *cfg = ctx;
	struct notify_channel *c;
	int known = 0;

	for (int i = 0; notify_channel_names[i]; i++)
		known |= !strcmp(name, notify_channel_names[i]);
	if (!known)
		return yaml_walk_fail(w, at, "unknown channel '%.80s'; valid: deployments, all-engineering", name);
	if (notify_config_channel(cfg, name))
		return yaml_walk_fail(w, at, "channel '%s' is given twice", name);
	cfg->channels = xrealloc(cfg->channels, (cfg->n_channels + 1) * sizeof(*cfg->channels));
	c = &cfg->channels[cfg->n_channels++];
	memset(c, 0, sizeof(*c));
	c->name = xstrdup(name);
	if (yaml_walk_is_scalar(v))
		return add_channel_sink(w, v, yaml_walk_pos(v, at), c);
	if (!yaml_walk_is_list(v))
		return yaml_walk_fail(w, at, "channel '%s' must list sink names: [SINK, ...]", name);
	return yaml_walk_items(w, v, at, "a channel", NOTIFY_ENTRIES_MAX, add_channel_sink, c);
}

static const struct yaml_map retry_map = {
	.where = "notifications.retry",
	.keys = (const struct yaml_key[]){
		{ "max_attempts", yaml_parse_int, offsetof(struct notify_config, max_attempts), 1, 1000 },
		{ "initial_backoff", yaml_parse_duration, offsetof(struct notify_config, initial_backoff_ms), 1 },
		{ "max_backoff", yaml_parse_duration, offsetof(struct notify_config, max_backoff_ms), 1 },
		{ NULL },
	},
};

static int check_section(struct yaml_walk *w, void *obj, struct yaml_pos at)
{
	struct notify_config *cfg = obj;

	if (cfg->max_backoff_ms < cfg->initial_backoff_ms)
		cfg->max_backoff_ms = cfg->initial_backoff_ms;
	/* every channel's sinks exist */
	for (size_t i = 0; i < cfg->n_channels; i++)
		for (size_t j = 0; j < cfg->channels[i].n_sinks; j++)
			if (!notify_config_sink(cfg, cfg->channels[i].sinks[j]))
				return yaml_walk_fail(w, (struct yaml_pos){ 0, 0 },
						      "channel '%s' names sink '%s', which is not defined under notifications.sinks",
						      cfg->channels[i].name, cfg->channels[i].sinks[j]);
	if (!cfg->n_channels)
		return yaml_walk_fail(w, at, "notifications has no channels; give channels: {deployments: [SINK]}");
	return 0;
}

static const struct yaml_map section_map = {
	.where = "notifications",
	.keys = (const struct yaml_key[]){
		{ "sinks", yaml_parse_entries, 0, .max = NOTIFY_ENTRIES_MAX, .entry = add_sink, .what = "notifications.sinks" },
		{ "channels", yaml_parse_entries, 0, .max = NOTIFY_ENTRIES_MAX, .entry = add_channel,
		  .what = "notifications.channels" },
		{ "retry", yaml_parse_map, 0, .map = &retry_map },
		{ "timeout", yaml_parse_duration, offsetof(struct notify_config, timeout_ms), 1 },
		{ "budget", yaml_parse_duration, offsetof(struct notify_config, budget_ms), 1 },
		{ NULL },
	},
	.check = check_section,
};

int notify_config_parse(const char *text, size_t len, const char *filename, struct notify_config *out,
			struct strbuf *err)
{
	struct notify_config cfg = { 0 };
	struct yaml_walk w;
	struct fy_node *root, *section = NULL;
	struct yaml_pos at = { 0, 0 };
	int r;

	filename = filename ? filename : "(notifications)";
	if ((r = yaml_walk_open(&w, filename, "a notifications file", text, len, NOTIFY_CONFIG_MAX_BYTES, err,
				&root)) < 0)
		return r;
	if (root && !yaml_walk_is_mapping(root)) {
		r = yaml_walk_fail(&w, (struct yaml_pos){ 1, 1 },
				   "the top level must be a mapping with a 'notifications:' key");
		goto out;
	}
	/* the other top-level keys belong to the policy (slipway.yaml) */
	section = yaml_walk_lookup(root, "notifications", &at);
	if (!at.line) {
		r = 1;
		goto out;
	}
	set_defaults(&cfg);
	r = yaml_walk_map(&w, section, at, &section_map, NULL, &cfg);
	if (!r) {
		cfg.origin = xstrdup(filename);
		*out = cfg;
		memset(&cfg, 0, sizeof(cfg));
	}
out:
	notify_config_release(&cfg);
	yaml_walk_close(&w);
	return r;
}

int notify_config_load(const char *path, struct notify_config *cfg, struct strbuf *err)
{
	struct strbuf text = STRBUF_INIT;
	int r = strbuf_read_file_max(&text, path, NOTIFY_CONFIG_MAX_BYTES, err);

	if (!r)
		r = notify_config_parse(text.buf, text.len, path, cfg, err);
	strbuf_release(&text);
	return r;
}

int notify_sink_url(const struct notify_sink *s, char **url, struct strbuf *err)
{
	struct strbuf sb = STRBUF_INIT;
	struct strbuf e = STRBUF_INIT;

	if (s->url_env) {
		const char *v = getenv(s->url_env);
		if (!v || !*v) {
			strbuf_errf(err, "sink '%s': environment variable '%s' (url_env) is not set", s->name, s->url_env);
			return SW_ECONFIG;
		}
		strbuf_addstr(&sb, v);
	} else if (s->url_file) {
		if (strbuf_read_file_max(&sb, s->url_file, NOTIFY_URL_MAX_BYTES, &e)) {
			/* e names the file, never its content */
			strbuf_errf(err, "sink '%s': cannot read url_file: %s", s->name, e.buf);
			strbuf_release(&e);
			strbuf_release(&sb);
			return SW_ECONFIG;
		}
		strbuf_rtrim(&sb);
	} else {
		strbuf_errf(err, "sink '%s' has no url_env or url_file", s->name);
		return SW_ECONFIG;
	}
	if (strncmp(sb.buf, "http://", 7) && strncmp(sb.buf, "https://", 8)) {
		strbuf_errf(err, "sink '%s': the URL in %s '%s' must start with http:// or https://", s->name,
			    s->url_env ? "variable" : "file", s->url_env ? s->url_env : s->url_file);
		strbuf_release(&sb);
		return SW_ECONFIG;
	}
	*url = strbuf_detach(&sb, NULL);
	return 0;
}
