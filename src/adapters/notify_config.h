/*
 * notify_config.h - where messages go: channels (deployments,
 * all-engineering; runbook notify.sh --channel) mapped to sinks (stdout, a
 * file, a Slack incoming webhook, a CloudEvents webhook), and the delivery
 * limits.  Read from the `notifications:` section of a YAML file: slipway.yaml
 * (the policy file; other top-level keys belong to the policy and are
 * ignored here) or a notifications.yaml of its own (docs/records.md):
 *
 *   notifications:
 *     sinks:
 *       ops-slack:   { type: slack, url_env: SLACK_WEBHOOK_URL }
 *       events:      { type: cloudevents, url_file: /etc/slipway/events.url,
 *                      source: /slipway/prod }
 *       log:         { type: file, path: /var/log/slipway/notify.log }
 *       console:     { type: stdout }
 *     channels:
 *       deployments: [ops-slack, events, log]
 *       all-engineering: [ops-slack]
 *     retry: { max_attempts: 8, initial_backoff: 10s, max_backoff: 10m }
 *     timeout: 5s     # one HTTP request
 *     budget: 2s      # one notify_deliver() call (one controller tick)
 *
 * Webhook URLs are secrets: only `url_env` (an environment variable) or
 * `url_file` (a file holding the URL) are accepted; a literal `url:` is an
 * error.  Errors name FILE:LINE:COL and what would be valid.
 */
#ifndef SLIPWAY_ADAPTERS_NOTIFY_CONFIG_H
#define SLIPWAY_ADAPTERS_NOTIFY_CONFIG_H

#include <stddef.h>
#include <stdint.h>

struct strbuf;

/* The sink implementations (adapters/notify.h: notify_sink_impls), named as in core/plugin_names.c. */
enum notify_sink_type {
	SINK_STDOUT = 0,
	SINK_FILE,
	SINK_SLACK,
	SINK_CLOUDEVENTS,
	SINK_TYPE_COUNT
};
/* "stdout", "file", "slack", "cloudevents" */
const char *notify_sink_type_name(enum notify_sink_type t);

struct notify_sink {
	char *name;
	enum notify_sink_type type;
	char *path;		/* file */
	char *url_env;		/* slack, cloudevents: variable holding the URL */
	char *url_file;		/* ... or a file holding it */
	char *source;		/* cloudevents `source`, NULL = /slipway/ENV/SERVICE */
};

struct notify_channel {
	char *name;		/* "deployments" or "all-engineering" */
	char **sinks;		/* sink names */
	size_t n_sinks;
};

struct notify_config {
	struct notify_sink *sinks;
	size_t n_sinks;
	struct notify_channel *channels;
	size_t n_channels;
	int max_attempts;		/* deliveries given up after this many (default 8) */
	int64_t initial_backoff_ms;	/* first retry delay (default 10 s), doubled each time */
	int64_t max_backoff_ms;		/* cap of the delay (default 10 min) */
	int64_t timeout_ms;		/* one HTTP request (default 5 s) */
	int64_t budget_ms;		/* one notify_deliver() call (default 2 s) */
	char *origin;			/* the file it came from, or "(default)" */
};

/* The known channel names (NULL-terminated). */
extern const char *const notify_channel_names[];

/*
 * The configuration when none is given: both channels to one file sink
 * "log" at STATE_DIR/notifications.log.
 */
void notify_config_default(struct notify_config *cfg, const char *state_dir);

/*
 * Parse YAML text (len bytes; need not be NUL-terminated) named filename in
 * errors.  0, or SW_ECONFIG with "FILE:LINE:COL: what; what is valid" in
 * err.  With no `notifications:` key at the top, returns 1 and leaves *cfg
 * unset (the file has no notification settings).
 */
int notify_config_parse(const char *text, size_t len, const char *filename, struct notify_config *cfg,
			struct strbuf *err);
/* Read (at most 1 MiB) and parse a file; as above, or -errno. */
int notify_config_load(const char *path, struct notify_config *cfg, struct strbuf *err);
void notify_config_release(struct notify_config *cfg);

const struct notify_sink *notify_config_sink(const struct notify_config *cfg, const char *name);
const struct notify_channel *notify_config_channel(const struct notify_config *cfg, const char *name);

/*
 * The webhook URL of sink s, newly allocated in *url, from its url_env or
 * url_file.  The URL never appears in err: errors name the variable or
 * file only.  0, SW_ECONFIG.
 */
int notify_sink_url(const struct notify_sink *s, char **url, struct strbuf *err);

#endif
