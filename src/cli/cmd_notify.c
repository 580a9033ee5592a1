/*
 * cmd_notify.c - `slipway notify test|flush|list|config`: try a channel's
 * sinks, run the delivery pass by hand, see the queue, and see the resolved
 * configuration (never the webhook URLs).  The controller runs the same
 * delivery pass (notify_deliver()) every tick.
 */
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/records_util.h"
#include "cli/vocab.h"
#include "adapters/emergency.h"
#include "adapters/notify.h"
#include "adapters/records.h"
#include "base/err.h"
#include "base/strbuf.h"
#include "base/timeutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char usage_notify[] =
	"usage: slipway notify test --channel CHANNEL [--kind KIND] [--deployment ID] [--queue-only] [-o json]\n"
	"       slipway notify flush [--at TIME] [-o json]\n"
	"       slipway notify list [--deployment ID] [--limit N] [-o json]\n"
	"       slipway notify config [-o json]\n"
	"\n"
	"Notifications to the channels deployments and all-engineering.\n"
	"  test    queue a message to CHANNEL and run one delivery pass (exit 0 when\n"
	"          every sink took it, 1 when one is retrying or gave up).  KIND is\n"
	"          test (default), starting, complete, rollback, emergency, paused or\n"
	"          failed; with --deployment its fields come from that record.\n"
	"  flush   deliver every message due at TIME (default now) within the budget\n"
	"  list    the queue: each message and sink with its state, attempts, next\n"
	"          attempt and last error\n"
	"  config  the channels and sinks in use (webhook URLs are never shown)\n"
	"Configuration: $SLIPWAY_NOTIFICATIONS, else the notifications: section of the\n"
	"policy file, else ./notifications.yaml, else a file sink in the state\n"
	"directory (docs/records.md).\n";

static int known_channel(const char *c)
{
	for (int i = 0; notify_channel_names[i]; i++)
		if (!strcmp(c, notify_channel_names[i]))
			return 1;
	return 0;
}

static json_t *stats_json(const struct notify_deliver_stats *s)
{
	return json_pack("{s:i, s:i, s:i, s:i}", "attempted", s->attempted, "sent", s->sent, "retrying", s->retrying,
			 "gave_up", s->gave_up);
}

static void print_rows(const struct notify_delivery_row *v, size_t n)
{
	char a[RFC3339_BUFSZ];
	if (!n)
		printf("no messages\n");
	else
		printf("%-5s %-6s %-10s %-14s %-8s %-3s %-20s %s\n", "MSG", "DEPLOY", "KIND", "SINK", "STATE", "TRY",
		       "NEXT", "LAST ERROR");
	for (size_t i = 0; i < n; i++)
		printf("%-5lld %-6lld %-10s %-14s %-8s %-3d %-20s %s\n", (long long)v[i].message_id,
		       (long long)v[i].deployment_id, v[i].kind, v[i].sink, v[i].state, v[i].attempts,
		       strcmp(v[i].state, "queued") ? "-" : time_format_rfc3339(v[i].next_attempt_ms, a),
		       v[i].last_error ? v[i].last_error : "");
}

static int notify_test(struct cli_ctx *ctx, const char *channel, const char *kind,
		       int64_t dep, int queue_only)
{
	struct notify_config cfg = { 0 };
	struct store *st;
	struct strbuf err = STRBUF_INIT;
	struct notify_event ev = { .kind = NOTIFY_TEST, .duration_ms = -1 };
	struct deployment_record d = { 0 };
	struct emergency_record em = { 0 };
	struct notify_deliver_stats stats = { 0 };
	struct notify_delivery_row *rows = NULL;
	size_t nrows = 0;
	int64_t now = cli_now_ms(), mid;
	int rc, r, have_em = 0, have_d = 0;

	if (!channel || !known_channel(channel))
		return cli_usage_error(ctx, "notify", "--channel must be deployments or all-engineering");
	if (kind && notify_kind_parse(kind, &ev.kind))
		return cli_usage_error(ctx, "notify",
				       "--kind '%s' is unknown; valid: test, starting, complete, rollback, emergency, "
				       "paused, failed", kind);
	if (records_notify_config(ctx, &cfg))
		return EXIT_USAGE;
	if ((rc = cli_store(ctx, &st)) != EXIT_OK) {
		notify_config_release(&cfg);
		return rc;
	}
	ev.at_ms = now;
	if (dep) {
		r = records_get(st, dep, &d, &err);
		if (r) {
			cli_error("%s", err.buf);
			rc = cli_exit(r);
			goto out;
		}
		have_d = 1;
		have_em = emergency_record_get(st, dep, &em, NULL) == 0;
		notify_event_from_record(&ev, &d, have_em ? &em : NULL);
	} else {
		ev.service = "slipway";
		ev.env = "test";
		ev.version = "test";
		ev.owner = cli_caller(NULL);
		ev.reason = "notification test";
	}
	mid = notify_enqueue_channels(st, &cfg, &ev, &channel, 1, now, &err);
	if (mid < 0) {
		cli_error("%s", err.buf);
		rc = cli_exit((int)mid);
		goto out;
	}
	if ((!queue_only && (r = notify_deliver(st, &cfg, now, &stats, &err))) ||
	    (r = notify_list(st, 0, 0, &rows, &nrows, &err))) {
		cli_error("%s", err.buf);
		rc = cli_exit(r);
		goto out;
	}
	{
		json_t *a = json_array();
		size_t shown = 0;
		int all_sent = 1;
		/* rows are newest first; keep this message's in front */
		for (size_t i = 0; i < nrows; i++) {
			if (rows[i].message_id != mid)
				continue;
			if (i != shown) {
				struct notify_delivery_row tmp = rows[shown];
				rows[shown] = rows[i];
				rows[i] = tmp;
			}
			if (strcmp(rows[shown].state, "sent"))
				all_sent = 0;
			shown++;
		}
		if (shown == 0) {
			cli_warning("channel '%s' has no sinks in %s", channel, cfg.origin);
			all_sent = 0;
		}
		rc = queue_only || all_sent ? EXIT_OK : EXIT_NO;
		if (ctx->output == OUTPUT_JSON) {
			for (size_t i = 0; i < shown; i++)
				json_array_append_new(a, cli_delivery_json(&rows[i]));
			json_t *j = cli_doc("NotificationTest");
			json_object_update_new(j, json_pack("{s:I, s:s, s:o, s:o}", "message_id", (json_int_t)mid,
							    "channel", channel, "delivery", stats_json(&stats),
							    "deliveries", a));
			cli_print_json(j);
		} else {
			json_decref(a);
			printf("message %lld queued for %s\n", (long long)mid, channel);
			print_rows(rows, shown);
		}
	}
out:
	notify_delivery_rows_free(rows, nrows);
	if (have_em)
		emergency_record_release(&em);
	if (have_d)
		deployment_record_release(&d);
	notify_config_release(&cfg);
	strbuf_release(&err);
	return rc;
}

int cmd_notify(int argc, char **argv, struct cli_ctx *ctx)
{
	const char *sub, *channel = NULL, *kind = NULL, *dep_s = NULL, *at_s = NULL, *limit_s = NULL;
	int queue_only = 0;
	const struct cli_option opts[] = {
		CLI_STRING("channel", 0, &channel),
		CLI_STRING("kind", 0, &kind),
		CLI_STRING("deployment", 0, &dep_s),
		CLI_FLAG("queue-only", 0, &queue_only),
		CLI_STRING("at", 0, &at_s),
		CLI_STRING("limit", 0, &limit_s),
		CLI_OPTIONS_END,
	};
	struct store *st;
	struct strbuf err = STRBUF_INIT;
	struct notify_config cfg = { 0 };
	int64_t dep = 0, at = 0;
	long limit = 0;
	char **args;
	int nargs, rc, r;

	if ((rc = cli_parse(ctx, argc, argv, opts, &args, &nargs)) != EXIT_OK)
		return rc;
	sub = args[0];
	if (dep_s && records_parse_id("--deployment", dep_s, &dep))
		return EXIT_USAGE;
	if (at_s && records_parse_time("--at", at_s, &at))
		return EXIT_USAGE;
	if (limit_s) {
		char *end;
		errno = 0;
		limit = strtol(limit_s, &end, 10);
		if (errno || end == limit_s || *end || limit < 0)
			return cli_usage_error(ctx, "notify", "--limit '%s' is not a count", limit_s);
	}
	if (!strcmp(sub, "test"))
		return notify_test(ctx, channel, kind, dep, queue_only);

	if (!strcmp(sub, "config")) {
		if (records_notify_config(ctx, &cfg))
			return EXIT_USAGE;
		if (ctx->output == OUTPUT_JSON) {
			json_t *sinks = json_array(), *chans = json_object();
			char d1[DURATION_BUFSZ], d2[DURATION_BUFSZ], d3[DURATION_BUFSZ], d4[DURATION_BUFSZ];
			for (size_t i = 0; i < cfg.n_sinks; i++) {
				const struct notify_sink *s = &cfg.sinks[i];
				json_array_append_new(sinks, json_pack("{s:s, s:s, s:s?, s:s?, s:s?, s:s?}", "name", s->name,
								       "type", notify_sink_type_name(s->type), "path",
								       s->path, "url_env", s->url_env, "url_file",
								       s->url_file, "source", s->source));
			}
			for (size_t i = 0; i < cfg.n_channels; i++) {
				json_t *a = json_array();
				for (size_t k = 0; k < cfg.channels[i].n_sinks; k++)
					json_array_append_new(a, json_string(cfg.channels[i].sinks[k]));
				json_object_set_new(chans, cfg.channels[i].name, a);
			}
			json_t *j = cli_doc("NotificationConfig");
			json_object_update_new(j, json_pack("{s:s, s:o, s:o, s:{s:i, s:s, s:s}, s:s, s:s}", "origin", cfg.origin,
						 "sinks", sinks, "channels", chans, "retry", "max_attempts",
						 cfg.max_attempts, "initial_backoff",
						 duration_format(cfg.initial_backoff_ms, d1), "max_backoff",
						 duration_format(cfg.max_backoff_ms, d2), "timeout",
						 duration_format(cfg.timeout_ms, d3), "budget", duration_format(cfg.budget_ms, d4)));
			cli_print_json(j);
		} else {
			printf("notifications from %s\n", cfg.origin);
			for (size_t i = 0; i < cfg.n_channels; i++) {
				printf("  channel %s ->", cfg.channels[i].name);
				for (size_t k = 0; k < cfg.channels[i].n_sinks; k++)
					printf(" %s", cfg.channels[i].sinks[k]);
				printf("\n");
			}
			for (size_t i = 0; i < cfg.n_sinks; i++) {
				const struct notify_sink *s = &cfg.sinks[i];
				printf("  sink %s: %s", s->name, notify_sink_type_name(s->type));
				if (s->path)
					printf(" %s", s->path);
				if (s->url_env)
					printf(" url from $%s", s->url_env);
				if (s->url_file)
					printf(" url from file %s", s->url_file);
				printf("\n");
			}
			printf("  retry: %d attempts, backoff %lld ms doubling to %lld ms; timeout %lld ms, budget %lld ms\n",
			       cfg.max_attempts, (long long)cfg.initial_backoff_ms, (long long)cfg.max_backoff_ms,
			       (long long)cfg.timeout_ms, (long long)cfg.budget_ms);
		}
		notify_config_release(&cfg);
		return EXIT_OK;
	}

	if (!strcmp(sub, "flush")) {
		struct notify_deliver_stats stats = { 0 };
		if (records_notify_config(ctx, &cfg))
			return EXIT_USAGE;
		if ((rc = cli_store(ctx, &st)) != EXIT_OK) {
			notify_config_release(&cfg);
			return rc;
		}
		if (!at_s)
			at = cli_now_ms();
		if ((r = notify_deliver(st, &cfg, at, &stats, &err))) {
			cli_error("%s", err.buf);
			rc = cli_exit(r);
		} else if (ctx->output == OUTPUT_JSON) {
			json_t *j = cli_doc("NotificationFlush");
			json_object_update_new(j, stats_json(&stats));
			cli_print_json(j);
		} else {
			printf("delivered %d of %d due: %d sent, %d to retry, %d given up\n", stats.sent, stats.attempted,
			       stats.sent, stats.retrying, stats.gave_up);
		}
	} else if (!strcmp(sub, "list")) {
		struct notify_delivery_row *rows = NULL;
		size_t n = 0;
		if ((rc = cli_store_read(ctx, &st)) != EXIT_OK)
			return rc;
		if ((r = notify_list(st, dep, (size_t)limit, &rows, &n, &err))) {
			cli_error("%s", err.buf);
			rc = cli_exit(r);
		} else if (ctx->output == OUTPUT_JSON) {
			json_t *a = json_array();
			for (size_t i = 0; i < n; i++)
				json_array_append_new(a, cli_delivery_json(&rows[i]));
			cli_print_json(cli_list_doc("DeliveryList", a));
		} else {
			print_rows(rows, n);
		}
		notify_delivery_rows_free(rows, n);
	} else {
		return cli_usage_error(ctx, "notify", "unknown subcommand '%s'; valid: test, flush, list, config", sub);
	}
	notify_config_release(&cfg);
	strbuf_release(&err);
	return rc;
}
