/*
 * api_stream.c - GET /api/v1/stream: deployment transitions as
 * Server-Sent Events (the WHATWG HTML standard, "Server-sent events";
 * docs/api.md "Live events").
 *
 * A stream is a libmicrohttpd response whose body comes from a content
 * reader callback (MHD_create_response_from_callback, chunked).  When the
 * reader has nothing to send it suspends its connection
 * (MHD_suspend_connection, allowed from a content reader per
 * microhttpd.h) and returns 0, so a waiting client holds neither a pool
 * thread nor a place in the poll loop: 100 clients cost 100 sockets and
 * 100 small structs.  One notifier thread per server polls the store's
 * highest transition id every STREAM_POLL_MS (one cheap query, whatever
 * the number of clients; the transitions may be written by any process:
 * `slipway serve`, an in-process `deploy`) and resumes the streams that
 * have not looked at the newest transitions yet, or owe a keepalive.
 * Nothing busy-waits.
 *
 * Locking: st->mu guards the list of suspended streams and `stopping`.  A
 * stream suspends itself and joins the list under the lock, and the
 * notifier resumes it and takes it off the list under the lock, so a
 * connection is resumed only while it is suspended (MHD_resume_connection
 * on one that is not is undefined).  Before the daemon stops every
 * suspended stream is resumed and ends (microhttpd.h: stopping a daemon
 * with suspended connections is an API violation).
 */
#include "server/api_internal.h"
#include "server/vocab.h"
#include "adapters/records.h"
#include "adapters/store.h"
#include "adapters/store_all.h"
#include "base/alloc.h"
#include "base/strbuf.h"

#include <microhttpd.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define STREAM_POLL_MS 200		/* how often the notifier looks at the store */
#define STREAM_KEEPALIVE_MS 15000	/* ": keepalive" after this long without a write */
#define STREAM_BATCH 200		/* transitions read at once */

struct stream {
	struct api_streams *ss;
	struct api_server *srv;
	struct MHD_Connection *conn;
	int64_t deployment_id;
	char *service, *env;
	int64_t after;		/* the last transition id sent (or skipped by the filter) */
	int64_t checked;	/* the store's highest transition id when the stream last looked */
	int64_t last_write_ms;	/* monotonic */
	struct strbuf out;	/* bytes not yet handed to libmicrohttpd */
	size_t off;
	int started, failed;
	struct stream *next;	/* in ss->suspended */
};

struct api_streams {
	char *state_dir;
	pthread_t notifier;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stopping, running;
	struct stream *suspended;
	int live;		/* streams not yet freed */
};

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Take every stream that should look again off the list and resume it; under ss->mu. */
static void resume_due(struct api_streams *ss, int64_t last_id, int all)
{
	struct stream **pp = &ss->suspended, *x;
	int64_t now = mono_ms();
	while ((x = *pp)) {
		if (all || x->checked < last_id || now - x->last_write_ms >= STREAM_KEEPALIVE_MS) {
			*pp = x->next;
			x->next = NULL;
			MHD_resume_connection(x->conn);
		} else {
			pp = &x->next;
		}
	}
}

static void *notifier_main(void *arg)
{
	struct api_streams *ss = arg;
	struct store st;
	struct strbuf err = STRBUF_INIT;
	int open = 0;
	int64_t last = 0;

	pthread_mutex_lock(&ss->mu);
	while (!ss->stopping) {
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += STREAM_POLL_MS * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&ss->cv, &ss->mu, &until);
		if (ss->stopping || !ss->suspended)
			continue;
		pthread_mutex_unlock(&ss->mu);
		strbuf_reset(&err);
		if (!open)
			open = store_open_all(&st, ss->state_dir, &err) == 0;
		if (open && records_transitions_last_id(&st, &last, &err) < 0)
			last = INT64_MAX;	/* let the streams look (and report) themselves */
		pthread_mutex_lock(&ss->mu);
		resume_due(ss, last, 0);
	}
	pthread_mutex_unlock(&ss->mu);
	if (open)
		store_close(&st);
	strbuf_release(&err);
	return NULL;
}

struct api_streams *api_streams_start(const char *state_dir)
{
	struct api_streams *ss = xcalloc(1, sizeof(*ss));
	ss->state_dir = xstrdup(state_dir);
	pthread_mutex_init(&ss->mu, NULL);
	pthread_cond_init(&ss->cv, NULL);
	ss->running = pthread_create(&ss->notifier, NULL, notifier_main, ss) == 0;
	return ss;
}

void api_streams_quiesce(struct api_streams *ss)
{
	int64_t until = mono_ms() + 2000;
	if (!ss)
		return;
	pthread_mutex_lock(&ss->mu);
	ss->stopping = 1;
	pthread_cond_broadcast(&ss->cv);
	pthread_mutex_unlock(&ss->mu);
	if (ss->running)
		pthread_join(ss->notifier, NULL);
	ss->running = 0;
	/* every stream ends: resumed, its reader sees `stopping` and ends the body */
	for (;;) {
		int live;
		pthread_mutex_lock(&ss->mu);
		resume_due(ss, 0, 1);
		live = ss->live;
		pthread_mutex_unlock(&ss->mu);
		if (!live || mono_ms() >= until)
			break;
		{
			struct timespec ts = { 0, 20 * 1000000L };
			nanosleep(&ts, NULL);
		}
	}
}

void api_streams_free(struct api_streams *ss)
{
	if (!ss)
		return;
	api_streams_quiesce(ss);
	pthread_mutex_destroy(&ss->mu);
	pthread_cond_destroy(&ss->cv);
	free(ss->state_dir);
	free(ss);
}

/* One transition as an event: id (the global sequence), event, data (one line of JSON). */
static void add_event(struct strbuf *out, const struct transition_event *e)
{
	json_t *o = vocab_transition_event_json(e);
	char *txt;
	txt = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
	/* compact JSON has no newline (jansson escapes those in strings): one data: line */
	strbuf_addf(out, "id: %lld\nevent: transition\ndata: %s\n\n", (long long)e->t.id, txt ? txt : "{}");
	free(txt);
	json_decref(o);
}

/* Read what is new for the stream into x->out.  0, or < 0 when the store fails (err). */
static int fill(struct stream *x, struct store *st, struct strbuf *err)
{
	struct transition_event *v = NULL;
	size_t n = 0;
	int64_t last;
	int r;

	if ((r = records_transitions_last_id(st, &last, err)) < 0)
		return r;
	x->checked = last;
	if (last <= x->after)
		return 0;
	if ((r = records_transitions_after(st, x->after, x->deployment_id, x->service, x->env, STREAM_BATCH, &v, &n,
					   err)) < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		add_event(&x->out, &v[i]);
	/* a full batch: more may follow; else every id up to `last` has been looked at */
	if (n == STREAM_BATCH)
		x->after = v[n - 1].t.id, x->checked = x->after;
	else
		x->after = last;
	transition_events_free(v, n);
	return 0;
}

static ssize_t take(struct stream *x, char *buf, size_t max)
{
	size_t k = x->out.len - x->off;
	if (k > max)
		k = max;
	memcpy(buf, x->out.buf + x->off, k);
	x->off += k;
	if (x->off == x->out.len) {
		strbuf_reset(&x->out);
		x->off = 0;
	}
	x->last_write_ms = mono_ms();
	return (ssize_t)k;
}

static ssize_t reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct stream *x = cls;
	struct api_streams *ss = x->ss;
	struct strbuf err = STRBUF_INIT;
	struct store *st;

	(void)pos;
	if (x->off < x->out.len)
		return take(x, buf, max);
	if (x->failed)
		return MHD_CONTENT_READER_END_OF_STREAM;
	pthread_mutex_lock(&ss->mu);
	if (ss->stopping) {
		pthread_mutex_unlock(&ss->mu);
		return MHD_CONTENT_READER_END_OF_STREAM;
	}
	pthread_mutex_unlock(&ss->mu);
	if (!x->started) {
		/* the headers and a first line go out at once, so a client knows it is connected */
		x->started = 1;
		strbuf_addstr(&x->out, ": slipway deployment events\nretry: 2000\n\n");
	}
	if (!(st = api_thread_store(x->srv, &err)) || fill(x, st, &err) < 0) {
		/* tell the client why, then end: it reconnects with Last-Event-ID */
		strbuf_addf(&x->out, ": error: %s\n\n", err.buf);
		strbuf_release(&err);
		x->failed = 1;
		return take(x, buf, max);
	}
	strbuf_release(&err);
	if (x->out.len)
		return take(x, buf, max);
	if (mono_ms() - x->last_write_ms >= STREAM_KEEPALIVE_MS) {
		strbuf_addstr(&x->out, ": keepalive\n\n");
		return take(x, buf, max);
	}
	pthread_mutex_lock(&ss->mu);
	if (ss->stopping) {
		pthread_mutex_unlock(&ss->mu);
		return MHD_CONTENT_READER_END_OF_STREAM;
	}
	MHD_suspend_connection(x->conn);
	x->next = ss->suspended;
	ss->suspended = x;
	pthread_mutex_unlock(&ss->mu);
	return 0;
}

static void reader_free(void *cls)
{
	struct stream *x = cls;
	struct api_streams *ss = x->ss;
	pthread_mutex_lock(&ss->mu);
	ss->live--;
	pthread_mutex_unlock(&ss->mu);
	strbuf_release(&x->out);
	free(x->service);
	free(x->env);
	free(x);
}

struct MHD_Response *api_stream_response(struct api_server *srv, struct api_streams *ss, struct MHD_Connection *conn,
					 const struct api_stream_filter *f)
{
	struct stream *x = xcalloc(1, sizeof(*x));
	struct MHD_Response *resp;

	x->ss = ss;
	x->srv = srv;
	x->conn = conn;
	x->deployment_id = f->deployment_id;
	x->service = f->service ? xstrdup(f->service) : NULL;
	x->env = f->env ? xstrdup(f->env) : NULL;
	x->after = f->after;
	x->checked = f->after;
	x->last_write_ms = mono_ms();
	strbuf_init(&x->out, 0);
	pthread_mutex_lock(&ss->mu);
	ss->live++;	/* reader_free() counts it off */
	pthread_mutex_unlock(&ss->mu);
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, reader, x, reader_free);
	if (!resp) {
		reader_free(x);
		return NULL;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(resp, "X-Accel-Buffering", "no");	/* a proxy in front must not buffer it */
	return resp;
}
