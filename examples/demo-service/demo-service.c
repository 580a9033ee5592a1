/*
 * demo-service - a small HTTP service to deploy with slipway (tools/demo.sh).
 *
 *   demo-service --port PORT [--version V] [--bind ADDRESS]
 *
 * It listens on 127.0.0.1, or on --bind's IPv4 address (0.0.0.0 on a fleet
 * host, where HAProxy connects from another machine: docs/fleet.md).
 *
 * GET /health answers 200 "ok".  Any other path (the API, e.g. /api/hello)
 * answers 200 with {"version":V,"instance":...} and the header X-Version, or
 * 500 for the injected share of requests.  The release decides its own
 * behaviour: files in the working directory (slipway starts instances in
 * the release directory) or, overriding them, the environment:
 *   error_rate   / DEMO_ERROR_RATE   percent of API requests answered 500
 *                                    (exactly: request n fails when
 *                                    floor(n * rate / 100) grows)
 *   latency_ms   / DEMO_LATENCY_MS   milliseconds added to every API request
 *   start_delay_ms / DEMO_START_DELAY_MS  wait before listening (a slow start,
 *                                    for readiness and adoption tests)
 * A flag-guarded code path (docs/flags.md "Metrics per variant"): with
 *   DEMO_FLAG=FLAG and DEMO_OFREP_URL=http://HOST:PORT (`slipway serve` or
 *   `slipway api`; DEMO_OFREP_TOKEN its API token, DEMO_OFREP_ENV the
 *   environment, production by default), every API request evaluates FLAG
 *   over OFREP (POST /ofrep/v1/evaluate/flags/FLAG) for the targeting key of
 *   its `X-User` header (or `?user=`; else one key per request), answers
 *   with `X-Flag-Variant: FLAG=VARIANT`, and when the value is true takes
 *   the "enabled" path, which fails flag_error_rate / DEMO_FLAG_ERROR_RATE
 *   percent of its requests (exactly, like error_rate).  An evaluation that
 *   fails (slipway down, an OFREP error) takes the disabled path and sends
 *   no X-Flag-Variant: the request is in neither cohort.
 * GET /metrics answers the Prometheus text format (exposition format 0.0.4)
 * with the names client libraries use: http_requests_total{version,code}
 * and the histogram http_request_duration_seconds{version} of the API
 * requests (not /health, not /metrics), for the `prometheus` provider's
 * `app` templates (docs/prometheus.md); with DEMO_FLAG, the same per flag
 * variant that served (the first 4 variants seen): flag_requests_total
 * {flag,variant,code} and flag_request_duration_seconds{flag,variant}, for
 * its cohort templates (docs/prometheus.md "Per flag variant").
 * The example database (examples/db, docs/databases.md "The demo service and
 * the database"): with DEMO_DATABASE_URL (a libpq connection URL; without
 * it the path is like any other, so no other test needs PostgreSQL),
 * /api/items is the `items` table:
 *   GET/HEAD  200 {"version","instance","traffic","items":[the rows as JSON]}
 *             (every column: a column a migration adds shows up), 404 while
 *             the table does not exist yet, 503 when the database fails
 *   POST      inserts a row (?name=NAME, else "item-N"), 201 with the row
 *   other     405
 * One connection per request (connect_timeout 5 s), one thread per
 * connection, so a read waiting on a migration's lock holds only its own.
 * "traffic" is the router's mode as HAProxy passes it in X-Slipway-Traffic
 * (docs/haproxy.md): "read-only" while a migration holds writes, else
 * "normal"; writes then never reach the service (HAProxy answers 405 with
 * the mode's message), and under maintenance nothing does (503).
 * SIGTERM: stop accepting, let in-flight requests finish, exit 0.
 */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <jansson.h>
#include <errno.h>
#include <netinet/in.h>
#include <libpq-fe.h>
#include <microhttpd.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double error_rate;
static long latency_ms;
static const char *version = "unknown";
static const char *instance = "";
static const char *bind_addr = "127.0.0.1";
static atomic_ulong api_count, api_errors;
static const char *flag_name, *ofrep_url, *ofrep_token, *ofrep_env;
static double flag_error_rate;
static atomic_ulong flag_count, flag_errors, anon_users;
static volatile sig_atomic_t stop;
static const char *database_url;	/* DEMO_DATABASE_URL: /api/items is the items table */
static atomic_ulong item_seq;

/* the latency histogram's upper bounds, seconds (client libraries' defaults, plus 2 ms) */
static const double bucket_le[] = { 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 };
#define NBUCKETS (sizeof(bucket_le) / sizeof(bucket_le[0]))
static atomic_ulong bucket_n[NBUCKETS];		/* requests at or below bucket_le[i] (not cumulative) */
static atomic_ulong sum_us;

/* per flag variant (DEMO_FLAG): the first VARIANTS_MAX variant names seen, each with its counts */
#define VARIANTS_MAX 4
static struct variant_stats {
	char name[201];
	atomic_ulong ok, errors, bucket_n[NBUCKETS], sum_us;
} variants[VARIANTS_MAX];
static atomic_int nvariants;
static pthread_mutex_t variants_lock = PTHREAD_MUTEX_INITIALIZER;

/* The slot of variant name (claimed on first sight), or NULL when every slot is taken. */
static struct variant_stats *variant_slot(const char *name)
{
	struct variant_stats *v = NULL;
	int n;
	pthread_mutex_lock(&variants_lock);
	n = atomic_load(&nvariants);
	for (int i = 0; i < n && !v; i++)
		if (!strcmp(variants[i].name, name))
			v = &variants[i];
	if (!v && n < VARIANTS_MAX) {
		v = &variants[n];
		snprintf(v->name, sizeof(v->name), "%s", name);
		atomic_store(&nvariants, n + 1);
	}
	pthread_mutex_unlock(&variants_lock);
	return v;
}

static void observe_variant(struct variant_stats *v, double seconds, int failed)
{
	size_t i = 0;
	if (!v)
		return;
	while (i < NBUCKETS && seconds > bucket_le[i])
		i++;
	if (i < NBUCKETS)
		atomic_fetch_add(&v->bucket_n[i], 1);
	atomic_fetch_add(&v->sum_us, (unsigned long)(seconds * 1e6));
	atomic_fetch_add(failed ? &v->errors : &v->ok, 1);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void observe(double seconds, int failed)
{
	size_t i = 0;
	while (i < NBUCKETS && seconds > bucket_le[i])
		i++;
	if (i < NBUCKETS)
		atomic_fetch_add(&bucket_n[i], 1);
	atomic_fetch_add(&sum_us, (unsigned long)(seconds * 1e6));
	(void)failed;	/* the status is counted in http_requests_total */
}

/* observed requests: every API request once its answer is decided */
static unsigned long observed(void)
{
	return atomic_load(&api_count);
}

static void metrics_text(char *buf, size_t size)
{
	size_t n = 0;
	unsigned long cum = 0, total = observed(), errs = atomic_load(&api_errors);
#define OUT(...) (n += (size_t)snprintf(buf + n, n < size ? size - n : 0, __VA_ARGS__))
	OUT("# HELP http_requests_total API requests answered, by status code.\n"
	    "# TYPE http_requests_total counter\n"
	    "http_requests_total{version=\"%s\",code=\"200\"} %lu\n"
	    "http_requests_total{version=\"%s\",code=\"500\"} %lu\n",
	    version, total - errs, version, errs);
	OUT("# HELP http_request_duration_seconds API request latency.\n"
	    "# TYPE http_request_duration_seconds histogram\n");
	for (size_t i = 0; i < NBUCKETS; i++) {
		cum += atomic_load(&bucket_n[i]);
		OUT("http_request_duration_seconds_bucket{version=\"%s\",le=\"%g\"} %lu\n", version, bucket_le[i], cum);
	}
	OUT("http_request_duration_seconds_bucket{version=\"%s\",le=\"+Inf\"} %lu\n", version, total);
	OUT("http_request_duration_seconds_sum{version=\"%s\"} %.6f\n", version, (double)atomic_load(&sum_us) / 1e6);
	OUT("http_request_duration_seconds_count{version=\"%s\"} %lu\n", version, total);
	if (flag_name && atomic_load(&nvariants)) {
		int nv = atomic_load(&nvariants);
		OUT("# HELP flag_requests_total API requests by the flag variant that served them, by status code.\n"
		    "# TYPE flag_requests_total counter\n");
		for (int k = 0; k < nv; k++)
			OUT("flag_requests_total{version=\"%s\",flag=\"%s\",variant=\"%s\",code=\"200\"} %lu\n"
			    "flag_requests_total{version=\"%s\",flag=\"%s\",variant=\"%s\",code=\"500\"} %lu\n",
			    version, flag_name, variants[k].name, atomic_load(&variants[k].ok), version, flag_name,
			    variants[k].name, atomic_load(&variants[k].errors));
		OUT("# HELP flag_request_duration_seconds API request latency by the flag variant that served them.\n"
		    "# TYPE flag_request_duration_seconds histogram\n");
		for (int k = 0; k < nv; k++) {
			unsigned long vt = atomic_load(&variants[k].ok) + atomic_load(&variants[k].errors), vc = 0;
			for (size_t i = 0; i < NBUCKETS; i++) {
				vc += atomic_load(&variants[k].bucket_n[i]);
				OUT("flag_request_duration_seconds_bucket{version=\"%s\",flag=\"%s\",variant=\"%s\","
				    "le=\"%g\"} %lu\n", version, flag_name, variants[k].name, bucket_le[i], vc);
			}
			OUT("flag_request_duration_seconds_bucket{version=\"%s\",flag=\"%s\",variant=\"%s\",le=\"+Inf\"} "
			    "%lu\n", version, flag_name, variants[k].name, vt);
			OUT("flag_request_duration_seconds_sum{version=\"%s\",flag=\"%s\",variant=\"%s\"} %.6f\n", version,
			    flag_name, variants[k].name, (double)atomic_load(&variants[k].sum_us) / 1e6);
			OUT("flag_request_duration_seconds_count{version=\"%s\",flag=\"%s\",variant=\"%s\"} %lu\n",
			    version, flag_name, variants[k].name, vt);
		}
	}
#undef OUT
}

static void on_term(int sig) { stop = sig; }

static double read_number(const char *file, const char *env)
{
	const char *e = getenv(env);
	char buf[64] = "";
	FILE *f;
	if (e && *e)
		return strtod(e, NULL);
	f = fopen(file, "r");
	if (!f)
		return 0;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	return strtod(buf, NULL);
}

static enum MHD_Result reply_v(struct MHD_Connection *c, unsigned status, const char *body, const char *type,
			       const char *variant_hdr)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;
	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "X-Version", version);
	if (variant_hdr && *variant_hdr)
		MHD_add_response_header(r, "X-Flag-Variant", variant_hdr);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *body, const char *type)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;
	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "X-Version", version);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static size_t collect(char *p, size_t size, size_t n, void *ud)
{
	char *buf = ud;
	size_t have = strlen(buf), add = size * n;
	if (have + add >= 4096)
		return 0;	/* an answer this large is not one flag's */
	memcpy(buf + have, p, add);
	buf[have + add] = '\0';
	return add;
}

/*
 * Evaluate flag_name for user over OFREP.  1: the value is true (the
 * enabled path), 0: anything else; *variant gets the variant's name, or ""
 * when the evaluation failed.
 */
static int flag_eval(const char *user, char *variant, size_t n)
{
	char url[512], body[4096] = "", hdr[300];
	struct curl_slist *h = NULL;
	json_t *req, *ans = NULL;
	char *payload;
	long status = 0;
	int on = 0;
	CURL *c = curl_easy_init();
	variant[0] = '\0';
	if (!c)
		return 0;
	snprintf(url, sizeof(url), "%s/ofrep/v1/evaluate/flags/%s", ofrep_url, flag_name);
	req = json_pack("{s:{s:s}}", "context", "targetingKey", user);
	payload = json_dumps(req, JSON_COMPACT);
	h = curl_slist_append(h, "Content-Type: application/json");
	if (ofrep_token && *ofrep_token) {
		snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s", ofrep_token);
		h = curl_slist_append(h, hdr);
	}
	snprintf(hdr, sizeof(hdr), "X-Slipway-Environment: %s", ofrep_env && *ofrep_env ? ofrep_env : "production");
	h = curl_slist_append(h, hdr);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, payload);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, (void *)body);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 2000L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (curl_easy_perform(c) == CURLE_OK && curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK &&
	    status == 200 && (ans = json_loads(body, 0, NULL))) {
		const char *v = json_string_value(json_object_get(ans, "variant"));
		if (v) {
			snprintf(variant, n, "%s", v);
			on = json_is_true(json_object_get(ans, "value"));
		}
	}
	json_decref(ans);
	json_decref(req);
	free(payload);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return on;
}

/* The answer to one request of /api/items from the database (see the top). */
static enum MHD_Result items(struct MHD_Connection *c, const char *method, double t0)
{
	const char *traffic = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Slipway-Traffic");
	int is_read = !strcmp(method, "GET") || !strcmp(method, "HEAD");
	const char *kw[] = { "dbname", "connect_timeout", "application_name", NULL };
	const char *val[] = { database_url, "5", "demo-service", NULL };
	PGconn *db;
	PGresult *res = NULL;
	unsigned status = 200;
	char *body = NULL, *msg = NULL;
	enum MHD_Result ret;

	if (!traffic || !*traffic)
		traffic = "normal";
	if (!is_read && strcmp(method, "POST"))
		return reply(c, 405, "{\"error\":\"GET, HEAD or POST\"}\n", "application/json");
	atomic_fetch_add(&api_count, 1);
	db = PQconnectdbParams(kw, val, 1);
	if (PQstatus(db) != CONNECTION_OK) {
		status = 503;
		msg = strdup(PQerrorMessage(db));
		goto answer;
	}
	if (is_read) {
		res = PQexec(db, "SELECT coalesce(json_agg(i ORDER BY i.id), '[]'::json) FROM items i");
	} else {
		const char *name = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "name");
		char gen[64];
		const char *params[1];
		if (!name || !*name) {
			snprintf(gen, sizeof(gen), "item-%lu", (unsigned long)atomic_fetch_add(&item_seq, 1) + 1);
			name = gen;
		}
		params[0] = name;
		/* the next id under a lock: concurrent writers queue instead of colliding */
		PQclear(PQexec(db, "BEGIN"));
		PQclear(PQexec(db, "LOCK TABLE items IN SHARE ROW EXCLUSIVE MODE"));
		res = PQexecParams(db,
				   "INSERT INTO items (id, name) SELECT coalesce(max(id), 0) + 1, $1 FROM items "
				   "RETURNING row_to_json(items)",
				   1, NULL, params, NULL, NULL, 0);
		if (PQresultStatus(res) == PGRES_TUPLES_OK) {
			PGresult *cr = PQexec(db, "COMMIT");
			if (PQresultStatus(cr) != PGRES_COMMAND_OK) {
				PQclear(res);
				res = cr;
			} else {
				PQclear(cr);
				status = 201;
			}
		}
	}
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		/* 42P01 undefined_table: before the first migration, a 4xx (not the service failing) */
		status = state && !strcmp(state, "42P01") ? 404 : 503;
		msg = strdup(PQresultErrorMessage(res));
	}
answer:
	{
		/* one line of compact JSON (json_agg's own text has newlines between rows) */
		json_t *o = json_pack("{s:s,s:s,s:s}", "version", version, "instance", instance, "traffic", traffic);
		json_t *rows = msg ? NULL : json_loads(PQgetvalue(res, 0, 0), JSON_DECODE_ANY, NULL);
		if (o && msg)
			json_object_set_new(o, "error", json_string(msg));
		else if (o)
			json_object_set_new(o, is_read ? "items" : "item", rows ? rows : json_null());
		body = o ? json_dumps(o, JSON_COMPACT) : NULL;
		json_decref(o);
		if (body) {
			size_t n = strlen(body);
			char *nl = realloc(body, n + 2);
			if (nl) {
				body = nl;
				memcpy(body + n, "\n", 2);
			}
		}
	}
	PQclear(res);
	PQfinish(db);
	free(msg);
	if (status >= 500)
		atomic_fetch_add(&api_errors, 1);
	observe(now_s() - t0, status >= 500);
	ret = reply(c, status, body ? body : "{}\n", "application/json");
	free(body);
	return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
			      const char *ver, const char *upload, size_t *upload_size, void **state)
{
	char body[256];
	unsigned long n, due;
	if (!*state) {
		/* first call: headers only; answer once the body (if any) is read */
		*state = (void *)1;
		return MHD_YES;
	}
	if (*upload_size) {
		*upload_size = 0;	/* the demo ignores request bodies */
		return MHD_YES;
	}
	if (!strcmp(url, "/health"))
		return reply(c, 200, "ok\n", "text/plain");
	if (!strcmp(url, "/metrics")) {
		char text[32768];
		metrics_text(text, sizeof(text));
		return reply(c, 200, text, "text/plain; version=0.0.4");
	}
	double t0 = now_s();
	if (latency_ms > 0) {
		struct timespec ts = { latency_ms / 1000, (latency_ms % 1000) * 1000000L };
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
	}
	if (database_url && !strcmp(url, "/api/items"))
		return items(c, method, t0);
	if (flag_name && ofrep_url) {
		char user[128], variant[201], hdr[420];
		const char *u = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-User");
		int on;
		struct variant_stats *vs = NULL;
		if (!u)
			u = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "user");
		if (u && *u)
			snprintf(user, sizeof(user), "%s", u);
		else
			snprintf(user, sizeof(user), "anon-%s-%lu", instance, (unsigned long)atomic_fetch_add(&anon_users, 1));
		on = flag_eval(user, variant, sizeof(variant));
		hdr[0] = '\0';
		if (variant[0]) {
			snprintf(hdr, sizeof(hdr), "%s=%s", flag_name, variant);
			vs = variant_slot(variant);
		}
		atomic_fetch_add(&api_count, 1);
		if (on) {
			n = atomic_fetch_add(&flag_count, 1) + 1;
			due = (unsigned long)((double)n * flag_error_rate / 100.0);
			if (due > atomic_load(&flag_errors)) {
				atomic_fetch_add(&flag_errors, 1);
				atomic_fetch_add(&api_errors, 1);
				snprintf(body, sizeof(body), "{\"version\":\"%s\",\"flag\":\"on\",\"error\":\"injected\"}\n",
					 version);
				observe(now_s() - t0, 1);
				observe_variant(vs, now_s() - t0, 1);
				return reply_v(c, 500, body, "application/json", hdr);
			}
		}
		snprintf(body, sizeof(body), "{\"version\":\"%s\",\"instance\":\"%s\",\"flag\":\"%s\"}\n", version,
			 instance, on ? "on" : "off");
		observe(now_s() - t0, 0);
		observe_variant(vs, now_s() - t0, 0);
		return reply_v(c, 200, body, "application/json", hdr);
	}
	n = atomic_fetch_add(&api_count, 1) + 1;
	due = (unsigned long)((double)n * error_rate / 100.0);
	if (due > atomic_load(&api_errors)) {
		atomic_fetch_add(&api_errors, 1);
		snprintf(body, sizeof(body), "{\"version\":\"%s\",\"instance\":\"%s\",\"error\":\"injected\"}\n", version,
			 instance);
		observe(now_s() - t0, 1);
		return reply(c, 500, body, "application/json");
	}
	snprintf(body, sizeof(body), "{\"version\":\"%s\",\"instance\":\"%s\",\"method\":\"%s\",\"path\":\"%.100s\"}\n",
		 version, instance, method, url);
	observe(now_s() - t0, 0);
	return reply(c, 200, body, "application/json");
}

int main(int argc, char **argv)
{
	struct MHD_Daemon *d;
	const char *p = getenv("PORT");
	long port = p ? strtol(p, NULL, 10) : 0;
	unsigned flags;
	struct sigaction sa = { 0 };

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--port") && i + 1 < argc)
			port = strtol(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--version") && i + 1 < argc)
			version = argv[++i];
		else if (!strcmp(argv[i], "--instance") && i + 1 < argc)
			instance = argv[++i];
		else if (!strcmp(argv[i], "--bind") && i + 1 < argc)
			bind_addr = argv[++i];
		else {
			fprintf(stderr, "usage: demo-service --port PORT [--version V] [--instance N] [--bind ADDRESS]\n");
			return 2;
		}
	}
	if (port <= 0 || port > 65535) {
		fprintf(stderr, "demo-service: --port (or $PORT) is required\n");
		return 2;
	}
	error_rate = read_number("error_rate", "DEMO_ERROR_RATE");
	flag_error_rate = read_number("flag_error_rate", "DEMO_FLAG_ERROR_RATE");
	flag_name = getenv("DEMO_FLAG");
	ofrep_url = getenv("DEMO_OFREP_URL");
	ofrep_token = getenv("DEMO_OFREP_TOKEN");
	ofrep_env = getenv("DEMO_OFREP_ENV");
	if (flag_name && !*flag_name)
		flag_name = NULL;
	database_url = getenv("DEMO_DATABASE_URL");
	if (database_url && !*database_url)
		database_url = NULL;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	latency_ms = (long)read_number("latency_ms", "DEMO_LATENCY_MS");
	{
		long delay = (long)read_number("start_delay_ms", "DEMO_START_DELAY_MS");
		if (delay > 0)
			usleep((useconds_t)delay * 1000);
	}
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* added latency sleeps in the handler, a database query or a flag evaluation over
	   OFREP (an HTTP request to slipway) waits in it: one thread per connection then, or a
	   request queues behind another's wait in a pool of two, and the service's latency is
	   the pool's, not its own */
	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG | MHD_USE_ITC;
	if (latency_ms > 0 || database_url || (flag_name && ofrep_url))
		flags |= MHD_USE_THREAD_PER_CONNECTION;
	else
		flags |= MHD_USE_EPOLL;
	{
		struct sockaddr_in a = { 0 };
		a.sin_family = AF_INET;
		a.sin_port = htons((unsigned short)port);
		if (inet_pton(AF_INET, bind_addr, &a.sin_addr) != 1) {
			fprintf(stderr, "demo-service: --bind '%s' is not an IPv4 address\n", bind_addr);
			return 2;
		}
		if (latency_ms > 0 || database_url || (flag_name && ofrep_url))
			d = MHD_start_daemon(flags, (unsigned short)port, NULL, NULL, handle, NULL, MHD_OPTION_SOCK_ADDR, &a,
					     MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_END);
		else
			d = MHD_start_daemon(flags, (unsigned short)port, NULL, NULL, handle, NULL, MHD_OPTION_SOCK_ADDR, &a,
					     MHD_OPTION_THREAD_POOL_SIZE, 2u, MHD_OPTION_CONNECTION_TIMEOUT, 30u,
					     MHD_OPTION_END);
	}
	if (!d) {
		fprintf(stderr, "demo-service: cannot listen on %s:%ld\n", bind_addr, port);
		return 1;
	}
	fprintf(stderr, "demo-service %s listening on %s:%ld (error rate %.2f%%, added latency %ld ms)\n",
		version, bind_addr, port, error_rate, latency_ms);
	while (!stop)
		pause();
	/* graceful: no new connections, then give in-flight requests a moment */
	MHD_quiesce_daemon(d);
	usleep(200 * 1000);
	MHD_stop_daemon(d);
	fprintf(stderr, "demo-service %s stopped after %lu API requests (%lu injected errors)\n", version,
		(unsigned long)atomic_load(&api_count), (unsigned long)atomic_load(&api_errors));
	return 0;
}
