/*
 * notify.c - the notification queue and its bounded delivery; see notify.h
 * for the tables and the retry policy.
 *
 * Design: enqueue is a pure store write, so a rollout never waits on a
 * network.  notify_deliver() picks the due deliveries, runs the HTTP ones in
 * parallel on one curl multi handle until they finish or the budget ends
 * (whatever is left is aborted and rescheduled as a timeout), then writes
 * every outcome in one transaction.  The URL of a webhook is read from the
 * environment or its file only when sending, and never leaves this file:
 * errors are libcurl's generic texts (curl_easy_strerror), not its error
 * buffer (which names hosts), and response snippets are redacted.
 */
#include "config.h"
#include "adapters/notify.h"
#include "adapters/audit.h"
#include "adapters/emergency.h"
#include "adapters/records.h"
#include "adapters/sql.h"
#include "adapters/store.h"
#include "base/alloc.h"
#include "base/err.h"
#include "base/strbuf.h"
#include "base/timeutil.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define DELIVER_BATCH 64
#define RESPONSE_MAX (16 * 1024)
#define RETRY_AFTER_MAX_MS (24LL * MS_PER_HOUR)

static const char *const migrations[] = {
	/* 1 */
	"CREATE TABLE notify_messages ("
	"  id INTEGER PRIMARY KEY,"
	"  deployment_id INTEGER,"
	"  kind TEXT NOT NULL,"
	"  channels TEXT NOT NULL,"
	"  event_json TEXT NOT NULL,"
	"  text TEXT NOT NULL,"
	"  created_ms INTEGER NOT NULL);"
	"CREATE INDEX notify_messages_deployment ON notify_messages(deployment_id);"
	"CREATE TABLE notify_deliveries ("
	"  id INTEGER PRIMARY KEY,"
	"  message_id INTEGER NOT NULL REFERENCES notify_messages(id),"
	"  sink TEXT NOT NULL,"
	"  state TEXT NOT NULL CHECK (state IN ('queued', 'sent', 'gave_up')),"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  next_attempt_ms INTEGER NOT NULL,"
	"  last_status INTEGER,"
	"  last_error TEXT,"
	"  sent_ms INTEGER,"
	"  updated_ms INTEGER NOT NULL);"
	"CREATE INDEX notify_due ON notify_deliveries(state, next_attempt_ms);"
	"CREATE INDEX notify_deliveries_message ON notify_deliveries(message_id);",
};

int notify_migrate(struct store *st, struct strbuf *err)
{
	int r = audit_migrate(st, err);
	if (r)
		return r;
	return store_migrate_ported(st, "notify", migrations, NULL, (int)ARRAY_SIZE(migrations), err);
}

static int once_curl_init;

static void curl_init_once(void)
{
	if (!once_curl_init) {
		curl_global_init(CURL_GLOBAL_DEFAULT);
		once_curl_init = 1;
		atexit(curl_global_cleanup);
	}
}

/* ---- enqueue ----------------------------------------------------------- */

int64_t notify_enqueue_channels(struct store *st, const struct notify_config *cfg,
				const struct notify_event *ev, const char *const *channels, size_t n,
				int64_t now_ms, struct strbuf *err)
{
	_cleanup_sql_ struct sql_stmt *msg = NULL, *del = NULL;
	struct strbuf chans = STRBUF_INIT, text = STRBUF_INIT;
	const char **sinks = NULL;
	size_t n_sinks = 0, alloc = 0;
	int own_tx = 0;
	char *event_json = NULL;
	int64_t id = 0;
	int r;

	for (size_t i = 0; i < n; i++) {
		const struct notify_channel *c = notify_config_channel(cfg, channels[i]);
		strbuf_addf(&chans, "%s%s", i ? "," : "", channels[i]);
		for (size_t j = 0; c && j < c->n_sinks; j++) {
			int dup = 0;
			for (size_t k = 0; k < n_sinks; k++)
				dup |= !strcmp(sinks[k], c->sinks[j]);
			if (!dup) {
				ALLOC_GROW(sinks, n_sinks + 1, alloc);
				sinks[n_sinks++] = c->sinks[j];
			}
		}
	}
	{
		json_t *j = notify_event_to_json(ev);
		event_json = json_dumps(j, JSON_COMPACT);
		json_decref(j);
	}
	notify_msg_text(ev, &text);
	if ((own_tx = r = store_tx_begin(st, err)) < 0)
		goto out;
	r = sql_prepare(st, &msg,
			  "INSERT INTO notify_messages(deployment_id, kind, channels, event_json, text, created_ms)"
			  " VALUES (?1, ?2, ?3, ?4, ?5, ?6)", err);
	if (r)
		goto fail;
	if (ev->deployment_id > 0)
		sql_bind_int64(msg, 1, ev->deployment_id);
	sql_bind_text(msg, 2, notify_kind_name(ev->kind));
	sql_bind_text(msg, 3, chans.buf);
	sql_bind_text(msg, 4, event_json);
	sql_bind_text(msg, 5, text.buf);
	sql_bind_int64(msg, 6, now_ms);
	if (sql_step(msg, NULL) != SQL_DONE)
		goto sqlfail;
	id = sql_last_insert_id(st);
	r = sql_prepare(st, &del,
			  "INSERT INTO notify_deliveries(message_id, sink, state, next_attempt_ms, updated_ms)"
			  " VALUES (?1, ?2, 'queued', ?3, ?3)", err);
	if (r)
		goto fail;
	for (size_t i = 0; i < n_sinks; i++) {
		sql_reset(del);
		sql_bind_int64(del, 1, id);
		sql_bind_text(del, 2, sinks[i]);
		sql_bind_int64(del, 3, now_ms);
		if (sql_step(del, NULL) != SQL_DONE)
			goto sqlfail;
	}
	r = 0;
	goto fail;
sqlfail:
	strbuf_errf(err, "store '%s': %s", st->path, sql_errmsg(st));
	r = SW_ESTORE;
fail:
	r = store_tx_end(st, own_tx, r, err);
out:
	free(sinks);
	free(event_json);
	strbuf_release(&chans);
	strbuf_release(&text);
	return r < 0 ? r : id;
}

int64_t notify_enqueue(struct store *st, const struct notify_config *cfg, const struct notify_event *ev,
		       int64_t now_ms, struct strbuf *err)
{
	static const char *const dep[] = { "deployments" };
	static const char *const both[] = { "deployments", "all-engineering" };

	if (ev->kind == NOTIFY_EMERGENCY)
		return notify_enqueue_channels(st, cfg, ev, both, 2, now_ms, err);
	return notify_enqueue_channels(st, cfg, ev, dep, 1, now_ms, err);
}

void notify_event_from_record(struct notify_event *ev, const struct deployment_record *d,
			      const struct emergency_record *em)
{
	int64_t start = d->started_ms != RECORD_TIME_NONE ? d->started_ms : d->created_ms;

	ev->deployment_id = d->id;
	ev->service = d->service;
	ev->env = d->env;
	ev->version = d->version;
	ev->from_version = d->from_version;
	ev->owner = d->requested_by;
	ev->reason = d->reason;
	if (ev->kind == NOTIFY_EMERGENCY) {
		if (d->emergency_reason)
			ev->reason = d->emergency_reason;
		if (em && em->reason)
			ev->reason = em->reason;
	}
	if (em)
		ev->approver = em->approver;
	ev->duration_ms = -1;
	if (d->finished_ms != RECORD_TIME_NONE && start != RECORD_TIME_NONE)
		ev->duration_ms = d->finished_ms - start;
}

/* ---- delivery ---------------------------------------------------------- */

int64_t notify_parse_retry_after(const char *value, int64_t wall_now_ms)
{
	const char *p = value;
	int64_t secs = 0;

	if (!value)
		return -1;
	while (isspace((unsigned char)*p))
		p++;
	if (isdigit((unsigned char)*p)) {
		while (isdigit((unsigned char)*p)) {
			if (secs > RETRY_AFTER_MAX_MS / 1000)
				return RETRY_AFTER_MAX_MS;
			secs = secs * 10 + (*p++ - '0');
		}
		while (isspace((unsigned char)*p))
			p++;
		if (*p)
			return -1;
		return secs * 1000 > RETRY_AFTER_MAX_MS ? RETRY_AFTER_MAX_MS : secs * 1000;
	}
	{
		time_t t = curl_getdate(p, NULL);	/* RFC 9110 HTTP-date, and its obsolete forms */
		int64_t d;
		if (t == (time_t)-1)
			return -1;
		d = (int64_t)t * 1000 - wall_now_ms;
		if (d < 0)
			d = 0;
		return d > RETRY_AFTER_MAX_MS ? RETRY_AFTER_MAX_MS : d;
	}
}

enum outcome { OUT_SENT, OUT_RETRY, OUT_GIVE_UP };

struct job {
	int64_t delivery_id, message_id, deployment_id;
	int attempts;			/* before this one */
	char *sink_name;
	const struct notify_sink *sink;
	const struct notify_sink_impl *impl;	/* notify_sink_impls[sink->type] */
	char *url;			/* secret; freed as soon as the request ends */
	char *body;
	struct curl_slist *headers;
	CURL *easy;
	struct strbuf response;
	char retry_after[128];
	int running;
	/* result */
	enum outcome out;
	int status;
	int64_t retry_after_ms;		/* -1 none */
	struct strbuf error;
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *user)
{
	struct job *j = user;
	size_t n = size * nmemb;
	if (j->response.len < RESPONSE_MAX)
		strbuf_add(&j->response, data, n < RESPONSE_MAX - j->response.len ? n : RESPONSE_MAX - j->response.len);
	return n;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *user)
{
	struct job *j = user;
	size_t n = size * nmemb;
	static const char name[] = "retry-after:";

	if (n > sizeof(name) - 1 && !strncasecmp(data, name, sizeof(name) - 1)) {
		size_t len = n - (sizeof(name) - 1);
		if (len >= sizeof(j->retry_after))
			len = sizeof(j->retry_after) - 1;
		memcpy(j->retry_after, data + sizeof(name) - 1, len);
		j->retry_after[len] = '\0';
		for (char *e = j->retry_after + strlen(j->retry_after); e > j->retry_after && isspace((unsigned char)e[-1]);)
			*--e = '\0';
	}
	return n;
}

/* Replace every occurrence of secret in sb by "<redacted>". */
static void redact(struct strbuf *sb, const char *secret)
{
	struct strbuf out = STRBUF_INIT;
	size_t sl = secret ? strlen(secret) : 0;
	const char *p = sb->buf, *hit;

	if (sl < 4)
		return;
	while ((hit = strstr(p, secret))) {
		strbuf_add(&out, p, (size_t)(hit - p));
		strbuf_addstr(&out, "<redacted>");
		p = hit + sl;
	}
	strbuf_addstr(&out, p);
	strbuf_release(sb);
	*sb = out;
}

static void job_release(struct job *j)
{
	free(j->sink_name);
	if (j->url) {
		memset(j->url, 0, strlen(j->url));
		free(j->url);
	}
	free(j->body);
	curl_slist_free_all(j->headers);
	if (j->easy)
		curl_easy_cleanup(j->easy);
	strbuf_release(&j->response);
	strbuf_release(&j->error);
}

static int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the sinks (notify.h: notify_sink_impls) ---- */

static int stdout_deliver(const struct notify_sink *s, int64_t message_id, const char *text, int64_t now_ms,
			  struct strbuf *err)
{
	(void)s, (void)message_id, (void)now_ms, (void)err;
	fputs(text, stdout);
	fputc('\n', stdout);
	fflush(stdout);
	return 0;
}

static int file_deliver(const struct notify_sink *s, int64_t message_id, const char *text, int64_t now_ms,
			struct strbuf *err)
{
	FILE *f = fopen(s->path, "a");
	char at[RFC3339_BUFSZ];
	int e;
	if (!f) {
		e = errno;
		strbuf_addf(err, "cannot open '%s': %s", s->path, strerror(e));
		return -e;
	}
	fprintf(f, "# %s message %lld\n%s\n", time_format_rfc3339(now_ms, at), (long long)message_id, text);
	if (fclose(f)) {
		e = errno;
		strbuf_addf(err, "cannot write '%s': %s", s->path, strerror(e));
		return -e;
	}
	return 0;
}

static json_t *slack_body(const struct notify_sink *s, const struct notify_event *ev, int64_t message_id)
{
	(void)s, (void)message_id;
	return notify_msg_slack(ev);
}

static json_t *cloudevents_body(const struct notify_sink *s, const struct notify_event *ev, int64_t message_id)
{
	char id[48];
	snprintf(id, sizeof(id), "slipway-msg-%lld", (long long)message_id);
	return notify_msg_cloudevent(ev, id, s->source);
}

const struct notify_sink_impl notify_sink_impls[SINK_TYPE_COUNT] = {
	[SINK_STDOUT] = { "stdout", stdout_deliver, NULL, NULL },
	[SINK_FILE] = { "file", file_deliver, NULL, NULL },
	[SINK_SLACK] = { "slack", NULL, slack_body, "Content-Type: application/json" },
	[SINK_CLOUDEVENTS] = { "cloudevents", NULL, cloudevents_body,
			       "Content-Type: application/cloudevents+json; charset=utf-8" },
};

const struct notify_sink_impl *notify_sink_impl_find(const char *name)
{
	for (int t = 0; t < SINK_TYPE_COUNT; t++)
		if (name && !strcmp(notify_sink_impls[t].name, name))
			return &notify_sink_impls[t];
	return NULL;
}

/* Local sinks: done at once. */
static void deliver_local(struct job *j, const char *text, int64_t now_ms)
{
	j->out = j->impl->deliver(j->sink, j->message_id, text, now_ms, &j->error) < 0 ? OUT_RETRY : OUT_SENT;
}

/* Build the HTTP request; on a configuration problem set the outcome instead. */
static int prepare_http(struct job *j, const struct notify_config *cfg, const struct notify_event *ev)
{
	struct strbuf e = STRBUF_INIT;
	json_t *body;
	long timeout = (long)(cfg->timeout_ms < cfg->budget_ms ? cfg->timeout_ms : cfg->budget_ms);

	if (notify_sink_url(j->sink, &j->url, &e))
		goto fail;
	body = j->impl->body(j->sink, ev, j->message_id);
	j->headers = curl_slist_append(j->headers, j->impl->content_type);
	j->headers = curl_slist_append(j->headers, "User-Agent: slipway/" SLIPWAY_VERSION);
	j->headers = curl_slist_append(j->headers, "Expect:");
	j->body = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	j->easy = curl_easy_init();
	if (!j->easy || !j->body) {
		strbuf_addstr(&e, "cannot create an HTTP request");
		goto fail;
	}
	curl_easy_setopt(j->easy, CURLOPT_URL, j->url);
	curl_easy_setopt(j->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(j->easy, CURLOPT_POST, 1L);
	curl_easy_setopt(j->easy, CURLOPT_POSTFIELDS, j->body);
	curl_easy_setopt(j->easy, CURLOPT_POSTFIELDSIZE, (long)strlen(j->body));
	curl_easy_setopt(j->easy, CURLOPT_HTTPHEADER, j->headers);
	curl_easy_setopt(j->easy, CURLOPT_TIMEOUT_MS, timeout);
	curl_easy_setopt(j->easy, CURLOPT_CONNECTTIMEOUT_MS, timeout);
	curl_easy_setopt(j->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(j->easy, CURLOPT_FOLLOWLOCATION, 0L);	/* CloudEvents webhooks: no redirects */
	curl_easy_setopt(j->easy, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(j->easy, CURLOPT_WRITEDATA, j);
	curl_easy_setopt(j->easy, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(j->easy, CURLOPT_HEADERDATA, j);
	curl_easy_setopt(j->easy, CURLOPT_PRIVATE, j);
	return 0;
fail:
	strbuf_addstr(&j->error, e.buf);
	strbuf_release(&e);
	j->out = OUT_RETRY;	/* the variable or file may be fixed before the limit */
	return -1;
}

static void finish_http(struct job *j, CURLcode code, int64_t wall_now)
{
	long status = 0;

	j->retry_after_ms = -1;
	if (code != CURLE_OK) {
		strbuf_addf(&j->error, "%s", curl_easy_strerror(code));
		j->out = OUT_RETRY;
		return;
	}
	curl_easy_getinfo(j->easy, CURLINFO_RESPONSE_CODE, &status);
	j->status = (int)status;
	if (status >= 200 && status < 300) {
		j->out = OUT_SENT;
		return;
	}
	if (j->retry_after[0])
		j->retry_after_ms = notify_parse_retry_after(j->retry_after, wall_now);
	strbuf_addf(&j->error, "HTTP %ld", status);
	if (j->response.len) {
		struct strbuf snip = STRBUF_INIT;
		strbuf_add(&snip, j->response.buf, j->response.len < 200 ? j->response.len : 200);
		for (size_t i = 0; i < snip.len; i++)
			if (!isprint((unsigned char)snip.buf[i]))
				snip.buf[i] = ' ';
		strbuf_rtrim(&snip);
		redact(&snip, j->url);
		strbuf_addf(&j->error, ": %s", snip.buf);
		strbuf_release(&snip);
	}
	if (status == 429 || status == 408 || status >= 500)
		j->out = OUT_RETRY;
	else
		j->out = OUT_GIVE_UP;	/* 410 Gone (stop sending) and other 4xx will not get better */
}

static int64_t backoff_ms(const struct notify_config *cfg, int attempts)
{
	int64_t d = cfg->initial_backoff_ms;
	for (int i = 1; i < attempts && d < cfg->max_backoff_ms; i++)
		d *= 2;
	return d > cfg->max_backoff_ms ? cfg->max_backoff_ms : d;
}

static int record_outcome(struct store *st, const struct notify_config *cfg, struct job *j, int64_t now_ms,
			  struct notify_deliver_stats *stats, struct strbuf *err)
{
	_cleanup_sql_ struct sql_stmt *upd = NULL;
	int attempts = j->attempts + 1;
	const char *state = "queued";
	int64_t next = now_ms;
	int r;

	if (j->out == OUT_RETRY && attempts >= cfg->max_attempts)
		j->out = OUT_GIVE_UP;
	if (j->out == OUT_SENT) {
		state = "sent";
		stats->sent++;
	} else if (j->out == OUT_RETRY) {
		next = now_ms + (j->retry_after_ms >= 0 ? j->retry_after_ms : backoff_ms(cfg, attempts));
		stats->retrying++;
	} else {
		state = "gave_up";
		stats->gave_up++;
	}
	if (j->url)
		redact(&j->error, j->url);
	r = sql_prepare(st, &upd,
			  "UPDATE notify_deliveries SET state = ?2, attempts = ?3, next_attempt_ms = ?4,"
			  " last_status = ?5, last_error = ?6, sent_ms = ?7, updated_ms = ?8 WHERE id = ?1", err);
	if (r)
		return r;
	sql_bind_int64(upd, 1, j->delivery_id);
	sql_bind_text(upd, 2, state);
	sql_bind_int64(upd, 3, attempts);
	sql_bind_int64(upd, 4, next);
	if (j->status)
		sql_bind_int64(upd, 5, j->status);
	if (j->error.len)
		sql_bind_text(upd, 6, j->error.buf);
	if (j->out == OUT_SENT)
		sql_bind_int64(upd, 7, now_ms);
	sql_bind_int64(upd, 8, now_ms);
	if (sql_step(upd, NULL) != SQL_DONE) {
		strbuf_errf(err, "store '%s': %s", st->path, sql_errmsg(st));
		return SW_ESTORE;
	}
	if (j->out == OUT_GIVE_UP) {
		struct strbuf subject = STRBUF_INIT;
		json_t *det = json_pack("{s:I, s:I, s:s, s:i, s:s}", "delivery_id", (json_int_t)j->delivery_id,
					"message_id", (json_int_t)j->message_id, "sink", j->sink_name, "attempts",
					attempts, "last_error", j->error.len ? j->error.buf : "");
		if (j->deployment_id > 0)
			strbuf_addf(&subject, "deployment:%lld", (long long)j->deployment_id);
		else
			strbuf_addf(&subject, "notification:%lld", (long long)j->message_id);
		r = audit_append_json(st, now_ms, "slipway", "notify.gave_up", subject.buf, det, err) < 0 ? SW_ESTORE : 0;
		strbuf_release(&subject);
		if (r)
			return r;
	}
	return 0;
}

int notify_deliver(struct store *st, const struct notify_config *cfg, int64_t now_ms,
		   struct notify_deliver_stats *stats, struct strbuf *err)
{
	_cleanup_sql_ struct sql_stmt *q = NULL;
	struct notify_deliver_stats s = { 0 };
	struct job *jobs = NULL;
	json_t **events = NULL;
	char **texts = NULL;
	size_t n = 0, alloc = 0, ealloc = 0, talloc = 0;
	CURLM *multi = NULL;
	int r, rc, http = 0;

	r = sql_prepare(st, &q,
			  "SELECT d.id, d.message_id, d.sink, d.attempts, m.event_json, m.text,"
			  " COALESCE(m.deployment_id, 0)"
			  " FROM notify_deliveries d JOIN notify_messages m ON m.id = d.message_id"
			  " WHERE d.state = 'queued' AND d.next_attempt_ms <= ?1"
			  " ORDER BY d.next_attempt_ms, d.id LIMIT ?2", err);
	if (r)
		return r;
	sql_bind_int64(q, 1, now_ms);
	sql_bind_int64(q, 2, DELIVER_BATCH);
	while ((rc = sql_step(q, NULL)) == SQL_ROW) {
		struct job *j;
		ALLOC_GROW(jobs, n + 1, alloc);
		ALLOC_GROW(events, n + 1, ealloc);
		ALLOC_GROW(texts, n + 1, talloc);
		j = &jobs[n];
		memset(j, 0, sizeof(*j));
		strbuf_init(&j->response, 0);
		strbuf_init(&j->error, 0);
		j->delivery_id = sql_column_int64(q, 0);
		j->message_id = sql_column_int64(q, 1);
		j->sink_name = xstrdup(sql_column_text(q, 2));
		j->attempts = (int)sql_column_int64(q, 3);
		events[n] = json_loads(sql_column_text(q, 4), 0, NULL);
		texts[n] = xstrdup(sql_column_text(q, 5));
		j->deployment_id = sql_column_int64(q, 6);
		j->retry_after_ms = -1;
		n++;
	}
	if (rc != SQL_DONE) {
		strbuf_errf(err, "store '%s': %s", st->path, sql_errmsg(st));
		r = SW_ESTORE;
		goto out;
	}
	sql_finalize(q);
	q = NULL;

	for (size_t i = 0; i < n; i++) {
		struct job *j = &jobs[i];
		struct notify_event ev;
		s.attempted++;
		j->sink = notify_config_sink(cfg, j->sink_name);
		if (!j->sink) {
			strbuf_addf(&j->error, "sink '%s' is not in the notification configuration (%s)", j->sink_name,
				    cfg->origin ? cfg->origin : "?");
			j->out = OUT_GIVE_UP;
			continue;
		}
		if (!events[i] || notify_event_from_json(events[i], &ev, NULL)) {
			strbuf_addstr(&j->error, "the queued message cannot be read");
			j->out = OUT_GIVE_UP;
			continue;
		}
		j->impl = &notify_sink_impls[j->sink->type];
		if (j->impl->deliver) {
			deliver_local(j, texts[i], now_ms);
			continue;
		}
		if (prepare_http(j, cfg, &ev))
			continue;
		if (!multi) {
			curl_init_once();
			multi = curl_multi_init();
		}
		curl_multi_add_handle(multi, j->easy);
		j->running = 1;
		http++;
	}

	if (http) {
		int64_t deadline = mono_ms() + cfg->budget_ms;
		int still = 0;
		CURLMsg *m;
		int left;

		do {
			int64_t rest = deadline - mono_ms();
			curl_multi_perform(multi, &still);
			while ((m = curl_multi_info_read(multi, &left))) {
				struct job *j = NULL;
				if (m->msg != CURLMSG_DONE)
					continue;
				curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&j);
				finish_http(j, m->data.result, wall_ms());
				curl_multi_remove_handle(multi, j->easy);
				j->running = 0;
			}
			if (!still || rest <= 0)
				break;
			curl_multi_poll(multi, NULL, 0, (int)(rest < 100 ? rest : 100), NULL);
		} while (1);
		for (size_t i = 0; i < n; i++) {
			if (!jobs[i].running)
				continue;
			curl_multi_remove_handle(multi, jobs[i].easy);
			jobs[i].running = 0;
			strbuf_addf(&jobs[i].error, "no answer within the delivery budget of %lld ms",
				    (long long)cfg->budget_ms);
			jobs[i].out = OUT_RETRY;
		}
	}

	if (n) {
		if ((r = store_begin(st, err)) < 0)
			goto out;
		for (size_t i = 0; i < n; i++) {
			r = record_outcome(st, cfg, &jobs[i], now_ms, &s, err);
			if (r) {
				store_rollback(st);
				goto out;
			}
		}
		if ((r = store_commit(st, err)) < 0)
			goto out;
	}
	r = 0;
	if (stats)
		*stats = s;
out:
	for (size_t i = 0; i < n; i++) {
		job_release(&jobs[i]);
		json_decref(events[i]);
		free(texts[i]);
	}
	free(jobs);
	free(events);
	free(texts);
	if (multi)
		curl_multi_cleanup(multi);
	return r;
}

/* ---- listing ----------------------------------------------------------- */

void notify_delivery_rows_free(struct notify_delivery_row *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].kind);
		free(v[i].channels);
		free(v[i].sink);
		free(v[i].state);
		free(v[i].last_error);
		free(v[i].text);
	}
	free(v);
}

int notify_list(struct store *st, int64_t deployment_id, size_t limit, struct notify_delivery_row **out,
		size_t *n, struct strbuf *err)
{
	_cleanup_sql_ struct sql_stmt *q = NULL;
	struct notify_delivery_row *v = NULL;
	size_t nr = 0, alloc = 0;
	int r, rc;

	r = sql_prepare(st, &q,
			  "SELECT d.id, d.message_id, COALESCE(m.deployment_id, 0), m.kind, m.channels, d.sink, d.state,"
			  " d.last_error, m.text, d.attempts, COALESCE(d.last_status, 0), m.created_ms,"
			  " d.next_attempt_ms, COALESCE(d.sent_ms, 0), d.updated_ms"
			  " FROM notify_deliveries d JOIN notify_messages m ON m.id = d.message_id"
			  " WHERE (?1 <= 0 OR m.deployment_id = ?1) ORDER BY d.message_id DESC, d.id DESC LIMIT ?2",
			  err);
	if (r)
		return r;
	sql_bind_int64(q, 1, deployment_id);
	sql_bind_int64(q, 2, limit ? (int64_t)limit : INT64_MAX);	/* no limit, on both backends */
	while ((rc = sql_step(q, NULL)) == SQL_ROW) {
		struct notify_delivery_row *d;
		ALLOC_GROW(v, nr + 1, alloc);
		d = &v[nr++];
		d->id = sql_column_int64(q, 0);
		d->message_id = sql_column_int64(q, 1);
		d->deployment_id = sql_column_int64(q, 2);
		d->kind = xstrdup_or_null(sql_column_text(q, 3));
		d->channels = xstrdup_or_null(sql_column_text(q, 4));
		d->sink = xstrdup_or_null(sql_column_text(q, 5));
		d->state = xstrdup_or_null(sql_column_text(q, 6));
		d->last_error = xstrdup_or_null(sql_column_text(q, 7));
		d->text = xstrdup_or_null(sql_column_text(q, 8));
		d->attempts = (int)sql_column_int64(q, 9);
		d->last_status = (int)sql_column_int64(q, 10);
		d->created_ms = sql_column_int64(q, 11);
		d->next_attempt_ms = sql_column_int64(q, 12);
		d->sent_ms = sql_column_int64(q, 13);
		d->updated_ms = sql_column_int64(q, 14);
	}
	if (rc != SQL_DONE) {
		strbuf_errf(err, "store '%s': %s", st->path, sql_errmsg(st));
		notify_delivery_rows_free(v, nr);
		return SW_ESTORE;
	}
	*out = v;
	*n = nr;
	return 0;
}
