/*
 * api_metrics.c - /metrics and /readyz (docs/api.md "Metrics").
 *
 * slipway's own metrics in the Prometheus text exposition format 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/), read
 * from the store at each scrape, so every process serving the API reports
 * the same numbers, plus what the controller told this process about its
 * ticks.  Names follow Prometheus's naming practice: a unit suffix
 * (_seconds, _percent), _total on counters.
 */
#include "config.h"
#include "server/api_internal.h"
#include "adapters/sql.h"
#include "adapters/store.h"
#include "base/err.h"
#include "base/strbuf.h"
#include "core/deployment.h"

#include <string.h>
#include <time.h>

/* a label value, escaped as the format asks (backslash, double quote, newline) */
static void label(struct strbuf *out, const char *v)
{
	for (; v && *v; v++) {
		if (*v == '\\' || *v == '"')
			strbuf_addch(out, '\\');
		if (*v == '\n') {
			strbuf_addstr(out, "\\n");
			continue;
		}
		strbuf_addch(out, *v);
	}
}

static void head(struct strbuf *out, const char *name, const char *type, const char *help)
{
	strbuf_addf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void weight_line(struct strbuf *out, const char *service, const char *env, const char *version,
			const char *role, double w)
{
	strbuf_addstr(out, "slipway_revision_weight_percent{service=\"");
	label(out, service);
	strbuf_addstr(out, "\",env=\"");
	label(out, env);
	strbuf_addstr(out, "\",version=\"");
	label(out, version);
	strbuf_addf(out, "\",role=\"%s\"} %.6g\n", role, w);
}

int api_metrics_render(struct store *st, const struct api_tick *t, struct strbuf *out, struct strbuf *err)
{
	_cleanup_sql_ struct sql_stmt *q = NULL, *w = NULL, *v = NULL, *n = NULL;
	int64_t counts[DS_COUNT] = { 0 };
	int r;

	if ((r = sql_prepare(st, &q, "SELECT state, COUNT(*) FROM deployments GROUP BY state", err)) < 0 ||
	    (r = sql_prepare(st, &w, "SELECT service, env, version, COALESCE(from_version, ''), weight, state "
			       "FROM deployments WHERE id IN (SELECT MAX(id) FROM deployments GROUP BY service, env) "
			       "ORDER BY service, env", err)) < 0 ||
	    (r = sql_prepare(st, &v, "SELECT verdict, COUNT(*) FROM analysis_results GROUP BY verdict ORDER BY verdict",
			       err)) < 0 ||
	    (r = sql_prepare(st, &n, "SELECT COALESCE(SUM(CASE WHEN state = 'queued' THEN 1 ELSE 0 END), 0),"
			       " COALESCE(SUM(CASE WHEN state = 'gave_up' THEN 1 ELSE 0 END), 0), "
			       "COALESCE(SUM(CASE WHEN state = 'sent' THEN attempts - 1 ELSE attempts END), 0) "
			       "FROM notify_deliveries", err)) < 0)
		return r;

	head(out, "slipway_deployments", "gauge", "Deployments in the store by state.");
	while (sql_step(q, NULL) == SQL_ROW) {
		enum deploy_state s;
		if (deployment_state_parse(sql_column_text(q, 0), &s) == 0)
			counts[s] = sql_column_int64(q, 1);
	}
	for (int i = 0; i < DS_COUNT; i++)
		strbuf_addf(out, "slipway_deployments{state=\"%s\"} %lld\n", deployment_state_name((enum deploy_state)i),
			    (long long)counts[i]);

	head(out, "slipway_revision_weight_percent", "gauge",
	     "Traffic weight of each revision of a service and environment (percent), from its latest deployment.");
	while (sql_step(w, NULL) == SQL_ROW) {
		const char *svc = sql_column_text(w, 0), *env = sql_column_text(w, 1),
			   *ver = sql_column_text(w, 2), *from = sql_column_text(w, 3),
			   *state = sql_column_text(w, 5);
		double wt = sql_column_double(w, 4);
		if (!strcmp(state, "succeeded")) {
			weight_line(out, svc, env, ver, "stable", 100);
		} else if (!strcmp(state, "rolled_back") || !strcmp(state, "failed")) {
			if (*from)
				weight_line(out, svc, env, from, "stable", 100);
		} else {
			weight_line(out, svc, env, ver, "canary", wt);
			if (*from)
				weight_line(out, svc, env, from, "stable", 100 - wt);
		}
	}

	head(out, "slipway_analysis_verdicts_total", "counter", "Analysis results recorded, by verdict.");
	while (sql_step(v, NULL) == SQL_ROW) {
		strbuf_addstr(out, "slipway_analysis_verdicts_total{verdict=\"");
		label(out, sql_column_text(v, 0));
		strbuf_addf(out, "\"} %lld\n", (long long)sql_column_int64(v, 1));
	}

	if (sql_step(n, NULL) == SQL_ROW) {
		head(out, "slipway_notification_queue_depth", "gauge", "Notification deliveries waiting to be sent.");
		strbuf_addf(out, "slipway_notification_queue_depth %lld\n", (long long)sql_column_int64(n, 0));
		head(out, "slipway_notification_delivery_failures_total", "counter",
		     "Failed notification delivery attempts (a retried delivery counts each failure).");
		strbuf_addf(out, "slipway_notification_delivery_failures_total %lld\n", (long long)sql_column_int64(n, 2));
		head(out, "slipway_notification_deliveries_given_up_total", "counter",
		     "Notification deliveries given up after their last retry.");
		strbuf_addf(out, "slipway_notification_deliveries_given_up_total %lld\n", (long long)sql_column_int64(n, 1));
	}

	if (t->have) {
		head(out, "slipway_tick_duration_seconds", "gauge", "Duration of the controller's last tick.");
		strbuf_addf(out, "slipway_tick_duration_seconds %.3f\n", (double)t->tick_ms / 1000.0);
		head(out, "slipway_ticks_total", "counter", "Ticks the controller has reported (it acted: it holds the lease).");
		strbuf_addf(out, "slipway_ticks_total %llu\n", (unsigned long long)t->ticks);
		head(out, "slipway_tick_seconds_total", "counter", "The durations of those ticks added up.");
		strbuf_addf(out, "slipway_tick_seconds_total %.3f\n", (double)t->ticks_ms / 1000.0);
	}
	if (t->last_ok_ms) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		head(out, "slipway_last_successful_tick_timestamp_seconds", "gauge",
		     "When the controller's last successful tick ended (Unix time); age = time() - this.");
		strbuf_addf(out, "slipway_last_successful_tick_timestamp_seconds %.3f\n", (double)t->last_ok_ms / 1000.0);
		head(out, "slipway_last_successful_tick_age_seconds", "gauge",
		     "Seconds since the controller's last successful tick, at this scrape.");
		strbuf_addf(out, "slipway_last_successful_tick_age_seconds %.3f\n",
			    ((double)ts.tv_sec * 1000.0 + (double)(ts.tv_nsec / 1000000) - (double)t->last_ok_ms) / 1000.0);
	}

	{
		static const char *const slots[API_STATUS_SLOTS] = { "2xx", "3xx", "401", "403", "4xx", "5xx" };
		head(out, "slipway_api_responses_total", "counter",
		     "Responses of this process's HTTP API by status (401 and 403 apart from other 4xx).");
		for (int i = 0; i < API_STATUS_SLOTS; i++)
			strbuf_addf(out, "slipway_api_responses_total{code=\"%s\"} %llu\n", slots[i],
				    (unsigned long long)t->responses[i]);
	}
	head(out, "slipway_build_info", "gauge", "slipway's version.");
	strbuf_addf(out, "slipway_build_info{version=\"%s\"} 1\n", SLIPWAY_VERSION);
	return 0;
}

int api_ready(struct store *st, const struct api_tick *t, int64_t now_ms, char *why, size_t whysz, struct strbuf *err)
{
	_cleanup_sql_ struct sql_stmt *q = NULL;
	if (!st) {
		snprintf(why, whysz, "the store cannot be opened: %s", err->len ? err->buf : "unknown error");
		return -1;
	}
	if (sql_prepare(st, &q, "SELECT COUNT(*) FROM deployments", err) < 0 || sql_step(q, NULL) != SQL_ROW) {
		snprintf(why, whysz, "the store does not answer: %s", err->len ? err->buf : sql_errmsg(st));
		return -1;
	}
	if (t->have && (!t->last_ok_ms || now_ms - t->last_ok_ms > API_READY_TICK_AGE_MS)) {
		snprintf(why, whysz, "the controller's last successful tick is %s", t->last_ok_ms ? "older than 30 s" : "yet to come");
		return -1;
	}
	return 0;
}
