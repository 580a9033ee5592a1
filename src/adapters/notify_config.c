/*
 * notify_config.c - the `notifications:` YAML section; see notify_config.h.
 *
 * libfyaml builds the document (its own syntax errors are collected through
 * a diag object, never printed); this file walks it and checks every key
 * against a short list, reporting FILE:LINE:COL from the key's or value's
 * scalar token.  Aliases are refused rather than resolved (no
 * "billion laughs").  Kept free of the store and of libcurl so the fuzz
 * target links it alone (tests/fuzz/fuzz_notify_config.c).
 */
#include "adapters/notify_config.h"
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

#define NOTIFY_CONFIG_MAX_BYTES (1024 * 1024)
#define NOTIFY_URL_MAX_BYTES 4096

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

/* ---- the walk ---------------------------------------------------------- */

struct walk {
	const char *file;
	struct strbuf *err;
	int line, col;		/* position of the last key, for non-scalar values */
};

static void mark_of(struct walk *w, struct fy_node *n, int *line, int *col)
{
	struct fy_token *t = n && fy_node_is_scalar(n) ? fy_node_get_scalar_token(n) : NULL;
	const struct fy_mark *m = t ? fy_token_start_mark(t) : NULL;

	*line = m ? m->line + 1 : w->line;
	*col = m ? m->column + 1 : w->col;
}

static int fail_at(struct walk *w, struct fy_node *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail_at(struct walk *w, struct fy_node *n, const char *fmt, ...)
{
	int line, col;
	va_list ap;

	mark_of(w, n, &line, &col);
	if (w->err) {
		strbuf_addf(w->err, "%s:%d:%d: ", w->file, line, col);
		va_start(ap, fmt);
		strbuf_vaddf(w->err, fmt, ap);
		va_end(ap);
	}
	return SW_ECONFIG;
}

/* The scalar text of n as a new string, or an error if n is not a plain scalar. */
static int scalar_dup(struct walk *w, struct fy_node *n, const char *what, char **out)
{
	const char *s;
	size_t len;

	if (!n || !fy_node_is_scalar(n) || fy_node_is_alias(n))
		return fail_at(w, n, "%s must be a single value (aliases are not accepted)", what);
	s = fy_node_get_scalar(n, &len);
	if (!s)
		return fail_at(w, n, "%s must be a single value", what);
	if (memchr(s, '\0', len))
		return fail_at(w, n, "%s contains a NUL byte", what);
	free(*out);
	*out = xstrndup(s, len);
	return 0;
}

static int key_of(struct walk *w, struct fy_node_pair *p, char **key)
{
	struct fy_node *k = fy_node_pair_key(p);
	int r;

	*key = NULL;
	r = scalar_dup(w, k, "a key", key);
	if (!r)
		mark_of(w, k, &w->line, &w->col);
	return r;
}

static int expect_mapping(struct walk *w, struct fy_node *n, const char *what, const char *valid)
{
	if (!n || !fy_node_is_mapping(n))
		return fail_at(w, n, "%s must be a mapping (%s)", what, valid);
	return 0;
}

static int parse_duration_node(struct walk *w, struct fy_node *n, const char *what, int64_t min_ms,
			       int64_t *out)
{
	_cleanup_free_ char *s = NULL;
	struct strbuf e = STRBUF_INIT;
	int64_t ms;
	int r = scalar_dup(w, n, what, &s);

	if (r)
		return r;
	if (duration_parse(s, &ms, &e) || ms < min_ms) {
		strbuf_release(&e);
		return fail_at(w, n, "%s: '%s' is not a duration of at least %lld ms; valid: 500ms, 10s, 5m, 1h",
			       what, s, (long long)min_ms);
	}
	strbuf_release(&e);
	*out = ms;
	return 0;
}

static int parse_sink(struct walk *w, const char *name, struct fy_node *n, struct notify_sink *s)
{
	static const char valid[] = "type, path, url_env, url_file, source";
	struct fy_node_pair *p;
	void *it = NULL;
	_cleanup_free_ char *type = NULL;
	int r, have_type = 0;
	struct fy_node *type_node = NULL;

	s->name = xstrdup(name);
	r = expect_mapping(w, n, "a sink", "type: stdout|file|slack|cloudevents, ...");
	if (r)
		return r;
	while ((p = fy_node_mapping_iterate(n, &it))) {
		_cleanup_free_ char *key = NULL;
		struct fy_node *v = fy_node_pair_value(p);

		if ((r = key_of(w, p, &key)))
			return r;
		if (!strcmp(key, "type")) {
			if ((r = scalar_dup(w, v, "type", &type)))
				return r;
			have_type = 1;
			type_node = v;
		} else if (!strcmp(key, "path")) {
			r = scalar_dup(w, v, "path", &s->path);
		} else if (!strcmp(key, "url_env")) {
			r = scalar_dup(w, v, "url_env", &s->url_env);
		} else if (!strcmp(key, "url_file")) {
			r = scalar_dup(w, v, "url_file", &s->url_file);
		} else if (!strcmp(key, "source")) {
			r = scalar_dup(w, v, "source", &s->source);
		} else if (!strcmp(key, "url") || !strcmp(key, "webhook_url")) {
			return fail_at(w, fy_node_pair_key(p),
				       "sink '%s': webhook URLs are secrets and are not written in the file; "
				       "use url_env: VARIABLE or url_file: FILE", name);
		} else {
			return fail_at(w, fy_node_pair_key(p), "sink '%s': unknown key '%s'; valid: %s", name, key,
				       valid);
		}
		if (r)
			return r;
	}
	if (!have_type || !plugin_name_known(PLUGIN_SINK, !strcmp(type, "webhook") ? "cloudevents" : type)) {
		/* the sinks that exist: core/plugin_names.h ("webhook" is cloudevents' old name) */
		struct strbuf names = STRBUF_INIT;
		plugin_names_list(PLUGIN_SINK, &names);
		if (!have_type)
			r = fail_at(w, NULL, "sink '%s' has no type; valid: %s", name, names.buf);
		else
			r = fail_at(w, type_node, "sink '%s': unknown type '%s'; valid: %s", name, type, names.buf);
		strbuf_release(&names);
		return r;
	}
	s->type = SINK_CLOUDEVENTS;	/* and "webhook" */
	for (int t = 0; t < SINK_TYPE_COUNT; t++)
		if (!strcmp(type, notify_sink_type_name((enum notify_sink_type)t)))
			s->type = (enum notify_sink_type)t;
	if (s->type == SINK_FILE && (!s->path || !*s->path))
		return fail_at(w, type_node, "sink '%s' of type file needs path: FILE", name);
	if ((s->type == SINK_SLACK || s->type == SINK_CLOUDEVENTS) && !s->url_env && !s->url_file)
		return fail_at(w, type_node, "sink '%s' of type %s needs url_env: VARIABLE or url_file: FILE", name,
			       type);
	if (s->url_env && s->url_file)
		return fail_at(w, type_node, "sink '%s': give url_env or url_file, not both", name);
	return 0;
}

static int parse_sinks(struct walk *w, struct fy_node *n, struct notify_config *cfg)
{
	struct fy_node_pair *p;
	void *it = NULL;
	size_t alloc = 0;
	int r = expect_mapping(w, n, "sinks", "NAME: {type: ...}");

	if (r)
		return r;
	while ((p = fy_node_mapping_iterate(n, &it))) {
		_cleanup_free_ char *key = NULL;
		if ((r = key_of(w, p, &key)))
			return r;
		if (notify_config_sink(cfg, key))
			return fail_at(w, fy_node_pair_key(p), "sink '%s' is defined twice", key);
		ALLOC_GROW(cfg->sinks, cfg->n_sinks + 1, alloc);
		memset(&cfg->sinks[cfg->n_sinks], 0, sizeof(cfg->sinks[0]));
		cfg->n_sinks++;
		if ((r = parse_sink(w, key, fy_node_pair_value(p), &cfg->sinks[cfg->n_sinks - 1])))
			return r;
	}
	return 0;
}

static int parse_channels(struct walk *w, struct fy_node *n, struct notify_config *cfg)
{
	struct fy_node_pair *p;
	void *it = NULL;
	size_t alloc = 0;
	int r = expect_mapping(w, n, "channels", "deployments: [SINK, ...], all-engineering: [SINK, ...]");

	if (r)
		return r;
	while ((p = fy_node_mapping_iterate(n, &it))) {
		_cleanup_free_ char *key = NULL;
		struct fy_node *v = fy_node_pair_value(p), *item;
		struct notify_channel *c;
		size_t salloc = 0;
		void *it2 = NULL;
		int known = 0;

		if ((r = key_of(w, p, &key)))
			return r;
		for (int i = 0; notify_channel_names[i]; i++)
			known |= !strcmp(key, notify_channel_names[i]);
		if (!known)
			return fail_at(w, fy_node_pair_key(p), "unknown channel '%s'; valid: deployments, all-engineering",
				       key);
		if (notify_config_channel(cfg, key))
			return fail_at(w, fy_node_pair_key(p), "channel '%s' is given twice", key);
		ALLOC_GROW(cfg->channels, cfg->n_channels + 1, alloc);
		c = &cfg->channels[cfg->n_channels++];
		memset(c, 0, sizeof(*c));
		c->name = xstrdup(key);
		if (v && fy_node_is_scalar(v) && !fy_node_is_alias(v)) {
			c->sinks = xcalloc(1, sizeof(char *));
			c->n_sinks = 1;
			if ((r = scalar_dup(w, v, "a sink name", &c->sinks[0])))
				return r;
			continue;
		}
		if (!v || !fy_node_is_sequence(v))
			return fail_at(w, fy_node_pair_key(p), "channel '%s' must list sink names: [SINK, ...]", key);
		while ((item = fy_node_sequence_iterate(v, &it2))) {
			ALLOC_GROW(c->sinks, c->n_sinks + 1, salloc);
			c->sinks[c->n_sinks] = NULL;
			c->n_sinks++;
			if ((r = scalar_dup(w, item, "a sink name", &c->sinks[c->n_sinks - 1])))
				return r;
		}
	}
	return 0;
}

static int parse_int_node(struct walk *w, struct fy_node *n, const char *what, int min, int max, int *out)
{
	_cleanup_free_ char *s = NULL;
	char *end;
	long v;
	int r = scalar_dup(w, n, what, &s);

	if (r)
		return r;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return fail_at(w, n, "%s: '%s' is not a whole number from %d to %d", what, s, min, max);
	*out = (int)v;
	return 0;
}

static int parse_retry(struct walk *w, struct fy_node *n, struct notify_config *cfg)
{
	struct fy_node_pair *p;
	void *it = NULL;
	int r = expect_mapping(w, n, "retry", "max_attempts, initial_backoff, max_backoff");

	if (r)
		return r;
	while ((p = fy_node_mapping_iterate(n, &it))) {
		_cleanup_free_ char *key = NULL;
		struct fy_node *v = fy_node_pair_value(p);
		if ((r = key_of(w, p, &key)))
			return r;
		if (!strcmp(key, "max_attempts"))
			r = parse_int_node(w, v, "max_attempts", 1, 1000, &cfg->max_attempts);
		else if (!strcmp(key, "initial_backoff"))
			r = parse_duration_node(w, v, "initial_backoff", 1, &cfg->initial_backoff_ms);
		else if (!strcmp(key, "max_backoff"))
			r = parse_duration_node(w, v, "max_backoff", 1, &cfg->max_backoff_ms);
		else
			return fail_at(w, fy_node_pair_key(p),
				       "retry: unknown key '%s'; valid: max_attempts, initial_backoff, max_backoff", key);
		if (r)
			return r;
	}
	return 0;
}

static int parse_section(struct walk *w, struct fy_node *n, struct notify_config *cfg)
{
	struct fy_node_pair *p;
	void *it = NULL;
	int r = expect_mapping(w, n, "notifications", "sinks, channels, retry, timeout, budget");

	if (r)
		return r;
	while ((p = fy_node_mapping_iterate(n, &it))) {
		_cleanup_free_ char *key = NULL;
		struct fy_node *v = fy_node_pair_value(p);
		if ((r = key_of(w, p, &key)))
			return r;
		if (!strcmp(key, "sinks"))
			r = parse_sinks(w, v, cfg);
		else if (!strcmp(key, "channels"))
			r = parse_channels(w, v, cfg);
		else if (!strcmp(key, "retry"))
			r = parse_retry(w, v, cfg);
		else if (!strcmp(key, "timeout"))
			r = parse_duration_node(w, v, "timeout", 1, &cfg->timeout_ms);
		else if (!strcmp(key, "budget"))
			r = parse_duration_node(w, v, "budget", 1, &cfg->budget_ms);
		else
			return fail_at(w, fy_node_pair_key(p),
				       "notifications: unknown key '%s'; valid: sinks, channels, retry, timeout, budget",
				       key);
		if (r)
			return r;
	}
	if (cfg->max_backoff_ms < cfg->initial_backoff_ms)
		cfg->max_backoff_ms = cfg->initial_backoff_ms;
	/* every channel's sinks exist */
	for (size_t i = 0; i < cfg->n_channels; i++)
		for (size_t j = 0; j < cfg->channels[i].n_sinks; j++)
			if (!notify_config_sink(cfg, cfg->channels[i].sinks[j])) {
				w->line = w->col = 1;
				if (w->err)
					strbuf_addf(w->err, "%s: channel '%s' names sink '%s', which is not defined under "
						    "notifications.sinks", w->file, cfg->channels[i].name,
						    cfg->channels[i].sinks[j]);
				return SW_ECONFIG;
			}
	return 0;
}

/*
 * Before libfyaml sees the text, check what YAML requires of it anyway:
 * printable characters only (YAML 1.2 §5.1 c-printable: no C0 controls but
 * tab, LF, CR; no DEL), valid UTF-8 (§5.2), and directives only as
 * "%YAML 1.x" (slipway's files need no %TAG).  Beyond the spec, tabs are
 * refused everywhere (YAML forbids them for indentation; this file needs
 * them nowhere).  These guard against two bugs of libfyaml 0.7.12 (Debian
 * 12) found by the fuzz target: its directive scanner loops forever on a NUL
 * byte or invalid UTF-8, and its parser crashes (SEGV in
 * fy_indent_vacuum_internal) on "? c:<TAB>? e:".
 */
/* The bytes libfyaml may see (core/yaml_text.h); FILE:LINE:COL errors. */
static int check_text(const char *text, size_t len, const char *file, struct strbuf *err)
{
	struct yaml_text_error e;
	if (yaml_text_check(text, len, &e) < 0) {
		if (err)
			strbuf_addf(err, "%s:%d:%d: %s", file, e.line, e.col, e.msg);
		return SW_ECONFIG;
	}
	return 0;
}

int notify_config_parse(const char *text, size_t len, const char *filename, struct notify_config *out,
			struct strbuf *err)
{
	struct fy_diag_cfg dcfg;
	struct fy_diag *diag;
	struct fy_parse_cfg pcfg = { 0 };
	struct fy_document *fyd;
	struct fy_node *root, *section = NULL;
	struct notify_config cfg = { 0 };
	struct walk w = { .file = filename ? filename : "(notifications)", .err = err, .line = 1, .col = 1 };
	struct fy_node_pair *p;
	void *it = NULL;
	int r = check_text(text, len, filename ? filename : "(notifications)", err);

	if (r)
		return r;
	fy_diag_cfg_default(&dcfg);
	dcfg.fp = NULL;
	dcfg.output_fn = NULL;
	dcfg.colorize = false;
	diag = fy_diag_create(&dcfg);
	if (!diag)
		abort();
	fy_diag_set_collect_errors(diag, true);
	pcfg.flags = FYPCF_QUIET;
	pcfg.diag = diag;
	fyd = fy_document_build_from_string(&pcfg, text, len);
	if (!fyd) {
		void *eit = NULL;
		struct fy_diag_error *de = fy_diag_errors_iterate(diag, &eit);
		if (err) {
			if (de)
				strbuf_addf(err, "%s:%d:%d: invalid YAML: %s", w.file, de->line + 1, de->column + 1,
					    de->msg ? de->msg : "syntax error");
			else
				strbuf_addf(err, "%s: invalid YAML", w.file);
		}
		fy_diag_destroy(diag);
		return SW_ECONFIG;
	}
	root = fy_document_root(fyd);
	if (root && !fy_node_is_mapping(root)) {
		r = fail_at(&w, root, "the top level must be a mapping with a 'notifications:' key");
		goto out;
	}
	while (root && (p = fy_node_mapping_iterate(root, &it))) {
		struct fy_node *k = fy_node_pair_key(p);
		size_t kl;
		const char *ks = k && fy_node_is_scalar(k) ? fy_node_get_scalar(k, &kl) : NULL;
		if (ks && kl == strlen("notifications") && !memcmp(ks, "notifications", kl)) {
			mark_of(&w, k, &w.line, &w.col);
			section = fy_node_pair_value(p);
			break;
		}
	}
	if (!section) {
		r = 1;
		goto out;
	}
	set_defaults(&cfg);
	r = parse_section(&w, section, &cfg);
	if (!r && cfg.n_channels == 0) {
		if (err)
			strbuf_addf(err, "%s:%d:%d: notifications has no channels; give channels: {deployments: [SINK]}",
				    w.file, w.line, w.col);
		r = SW_ECONFIG;
	}
	if (!r) {
		cfg.origin = xstrdup(w.file);
		*out = cfg;
		memset(&cfg, 0, sizeof(cfg));
	}
out:
	notify_config_release(&cfg);
	fy_document_destroy(fyd);
	fy_diag_destroy(diag);
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
