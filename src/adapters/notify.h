/*
 * notify.h - the notification queue and its delivery (runbook: notify.sh
 * --channel deployments / all-engineering; DESIGN.md: notifiers).  Store
 * module "notify".
 *
 * Delivery never blocks or slows a rollout: the controller enqueues a
 * message (one INSERT per message and per sink, in the caller's
 * transaction if it has one) and calls notify_deliver() once per tick;
 * that call sends what is due within a bounded time (config `budget`,
 * default 2 s; all HTTP requests of one call run in parallel through libcurl's
 * multi interface, each limited by `timeout`) and leaves the rest queued.
 *
 * Tables:
 *   notify_messages(id, deployment_id, kind, channels, event_json, text,
 *     created_ms)          one per message; channels is "deployments" or
 *                          "deployments,all-engineering"
 *   notify_deliveries(id, message_id, sink, state, attempts,
 *     next_attempt_ms, last_status, last_error, sent_ms, updated_ms)
 *                          one per message and sink (a sink named by both
 *                          channels gets the message once); state is
 *                          queued | sent | gave_up
 * Retry policy (docs/records.md): 2xx is sent; 429 and 5xx, 408 and network
 * errors are retried after initial_backoff * 2^(attempts-1), capped at
 * max_backoff, or after the response's Retry-After (seconds or an HTTP
 * date) when it gives one; 410 and other 4xx are permanent; after
 * max_attempts attempts, or on a permanent answer, the delivery is given up
 * with a "notify.gave_up" audit entry.  Webhook URLs are never stored,
 * printed or logged: errors carry libcurl's generic text and the status.
 */
#ifndef SLIPWAY_ADAPTERS_NOTIFY_H
#define SLIPWAY_ADAPTERS_NOTIFY_H

#include "adapters/notify_config.h"
#include "core/notify_msg.h"

#include <stddef.h>
#include <stdint.h>

struct store;
struct strbuf;

int notify_migrate(struct store *st, struct strbuf *err);

/*
 * Queue ev for the channels its kind goes to: "deployments" always, and
 * "all-engineering" too for NOTIFY_EMERGENCY (runbook: Emergency
 * Deployments, "Notify all stakeholders").  A channel with no sinks in cfg
 * is skipped.  Returns the message id (> 0), or SW_ESTORE.
 */
int64_t notify_enqueue(struct store *st, const struct notify_config *cfg, const struct notify_event *ev,
		       int64_t now_ms, struct strbuf *err);
/* The same for an explicit channel list (n >= 1): `slipway notify test`. */
int64_t notify_enqueue_channels(struct store *st, const struct notify_config *cfg,
				const struct notify_event *ev, const char *const *channels, size_t n,
				int64_t now_ms, struct strbuf *err);

struct deployment_record;
struct emergency_record;
/*
 * Fill ev (kind and at_ms set by the caller) from a deployment record: id,
 * service, env, version, from_version, owner (requested_by), reason (the
 * emergency reason for NOTIFY_EMERGENCY, else the record's), duration
 * (finished - started, when finished), and the approver from the emergency
 * record em (may be NULL).  Strings stay owned by d and em.
 */
void notify_event_from_record(struct notify_event *ev, const struct deployment_record *d,
			      const struct emergency_record *em);

/*
 * A sink implementation, by type (notify_config.h: enum notify_sink_type;
 * the names are core/plugin_names.h's PLUGIN_SINK, and the registry,
 * controller/registry.h, lists them).  A local sink delivers at once
 * (deliver(): 0, or < 0 with the reason in err; the delivery is retried); a
 * webhook sink has its URL from url_env/url_file and gives the POST body
 * (body(): a new JSON reference) and its Content-Type header line.  Adding
 * a sink: docs/ARCHITECTURE.md, "Adding a notification sink".
 */
struct json_t;
struct notify_sink_impl {
	const char *name;
	int (*deliver)(const struct notify_sink *s, int64_t message_id, const char *text, int64_t now_ms,
		       struct strbuf *err);
	struct json_t *(*body)(const struct notify_sink *s, const struct notify_event *ev, int64_t message_id);
	const char *content_type;	/* "Content-Type: ..." */
};
extern const struct notify_sink_impl notify_sink_impls[SINK_TYPE_COUNT];
/* The implementation called name, or NULL. */
const struct notify_sink_impl *notify_sink_impl_find(const char *name);

struct notify_deliver_stats {
	int attempted, sent, retrying, gave_up;
};

/*
 * THE PER-TICK CALL: deliver the deliveries due at now_ms (at most 64),
 * within cfg->budget_ms of wall-clock time, and record each outcome.
 * stdout sinks print to stdout, file sinks append to their file.
 * Returns 0 (even when sends failed: they are rescheduled), or SW_ESTORE.
 */
int notify_deliver(struct store *st, const struct notify_config *cfg, int64_t now_ms,
		   struct notify_deliver_stats *stats, struct strbuf *err);

struct notify_delivery_row {
	int64_t id, message_id, deployment_id;
	char *kind, *channels, *sink, *state, *last_error, *text;	/* owned */
	int attempts, last_status;
	int64_t created_ms, next_attempt_ms, sent_ms, updated_ms;	/* sent_ms 0 if not sent */
};
void notify_delivery_rows_free(struct notify_delivery_row *v, size_t n);
/*
 * Deliveries newest first, of one deployment when deployment_id > 0, at
 * most limit (0 = all).  0 or SW_ESTORE.
 */
int notify_list(struct store *st, int64_t deployment_id, size_t limit, struct notify_delivery_row **out,
		size_t *n, struct strbuf *err);

/*
 * When a response asks the sender to wait: Retry-After value (delay in
 * seconds, or an HTTP date) -> delay in ms relative to wall_now_ms, or -1
 * when it cannot be read.  Exposed for tests.
 */
int64_t notify_parse_retry_after(const char *value, int64_t wall_now_ms);

#endif
