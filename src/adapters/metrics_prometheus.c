/*
 * metrics_prometheus.c - the `prometheus` metrics provider; see
 * metrics_prometheus.h and docs/prometheus.md.
 *
 * One query() is five instant queries at `to` over a range of (to - from):
 * requests, errors, and the p50, p90 and p99 by histogram_quantile();
 * query_over() is one more, the histogram's buckets summed by `le`, from
 * which every threshold is counted locally.  Each HTTP request is retried
 * on a connection failure, a timeout, HTTP 429 or 5xx, with a doubling
 * backoff; a 4xx (a bad query) is reported at once with Prometheus's own
 * message.  The bearer token is held in memory only, sent in the
 * Authorization header, and appears in no message.
 */
#include "adapters/metrics_prometheus.h"
#include "adapters/http_sink.h"
#include "base/alloc.h"
#include "base/err.h"
#include "base/placeholder.h"
#include "base/strbuf.h"
#include "core/flag_rollout.h"

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- the JSON reader ---- */

void prom_result_release(struct prom_result *r)
{
	if (!r)
		return;
	free(r->v);
	memset(r, 0, sizeof(*r));
}

/* "1.5", "NaN", "+Inf", "-Inf" as Prometheus writes sample values */
static int parse_value(json_t *s, double *v)
{
	const char *t = json_string_value(s);
	char *end;
	if (!t)
		return -1;
	if (!strcmp(t, "NaN")) {
		*v = NAN;
		return 0;
	}
	if (!strcmp(t, "+Inf") || !strcmp(t, "Inf")) {
		*v = INFINITY;
		return 0;
	}
	if (!strcmp(t, "-Inf")) {
		*v = -INFINITY;
		return 0;
	}
	errno = 0;
	*v = strtod(t, &end);
	return errno || end == t || *end ? -1 : 0;
}

/* [T, "V"] */
static int parse_pair(json_t *p, double *t, double *v)
{
	if (!json_is_array(p) || json_array_size(p) != 2 || !json_is_number(json_array_get(p, 0)))
		return -1;
	*t = json_number_value(json_array_get(p, 0));
	return parse_value(json_array_get(p, 1), v);
}

static int add_point(struct prom_result *r, size_t *alloc, size_t series, double t, double v, double le)
{
	if (r->n >= PROM_MAX_POINTS)
		return -1;
	ALLOC_GROW(r->v, r->n + 1, *alloc);
	r->v[r->n++] = (struct prom_point){ .series = series, .t = t, .v = v, .le = le };
	return 0;
}

static double series_le(json_t *metric)
{
	double le = NAN;
	json_t *l = json_object_get(metric, "le");
	if (l && parse_value(l, &le) < 0)
		le = NAN;
	return le;
}

int prom_parse(const char *buf, size_t len, struct prom_result *out, struct strbuf *err)
{
	json_error_t je;
	json_t *j = NULL, *data, *result, *it;
	const char *status, *rtype;
	struct prom_result r = { 0 };
	size_t alloc = 0, i;
	int rc = SW_EPARSE;

	if (len > PROM_BODY_MAX) {
		strbuf_errf(err, "bad JSON: the answer is larger than %u bytes", PROM_BODY_MAX);
		return SW_EPARSE;
	}
	j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	if (!j) {
		strbuf_errf(err, "bad JSON: %s at byte %d", je.text, je.position);
		return SW_EPARSE;
	}
	status = json_string_value(json_object_get(j, "status"));
	if (status && !strcmp(status, "error")) {
		const char *et = json_string_value(json_object_get(j, "errorType"));
		const char *e = json_string_value(json_object_get(j, "error"));
		strbuf_errf(err, "Prometheus says %s: %.300s", et ? et : "error", e ? e : "(no message)");
		rc = SW_EEXTERNAL;
		goto out;
	}
	if (!status || strcmp(status, "success")) {
		strbuf_errf(err, "bad JSON: no \"status\": \"success\" (not a Prometheus API answer?)");
		goto out;
	}
	data = json_object_get(j, "data");
	rtype = json_string_value(json_object_get(data, "resultType"));
	result = json_object_get(data, "result");
	if (!rtype || !result) {
		strbuf_errf(err, "bad JSON: \"data\" needs \"resultType\" and \"result\"");
		goto out;
	}
	if (!strcmp(rtype, "scalar")) {
		double t, v;
		r.type = PROM_SCALAR;
		if (parse_pair(result, &t, &v) < 0 || add_point(&r, &alloc, 0, t, v, NAN) < 0) {
			strbuf_errf(err, "bad JSON: a scalar must be [time, \"value\"]");
			goto out;
		}
		r.nseries = 1;
	} else if (!strcmp(rtype, "vector") || !strcmp(rtype, "matrix")) {
		int matrix = !strcmp(rtype, "matrix");
		r.type = matrix ? PROM_MATRIX : PROM_VECTOR;
		if (!json_is_array(result)) {
			strbuf_errf(err, "bad JSON: a %s's \"result\" must be a list", rtype);
			goto out;
		}
		json_array_foreach(result, i, it) {
			json_t *metric = json_object_get(it, "metric");
			double le, t, v;
			if (!json_is_object(it) || (metric && !json_is_object(metric))) {
				strbuf_errf(err, "bad JSON: series %zu is not {\"metric\": {...}, ...}", i);
				goto out;
			}
			le = series_le(metric);
			if (!matrix) {
				if (parse_pair(json_object_get(it, "value"), &t, &v) < 0 ||
				    add_point(&r, &alloc, i, t, v, le) < 0) {
					strbuf_errf(err, "bad JSON: series %zu needs \"value\": [time, \"number\"]", i);
					goto out;
				}
			} else {
				json_t *vals = json_object_get(it, "values"), *p;
				size_t k;
				if (!json_is_array(vals)) {
					strbuf_errf(err, "bad JSON: series %zu needs \"values\": [[time, \"number\"], ...]", i);
					goto out;
				}
				json_array_foreach(vals, k, p) {
					if (parse_pair(p, &t, &v) < 0 || add_point(&r, &alloc, i, t, v, le) < 0) {
						strbuf_errf(err, "bad JSON: series %zu, sample %zu is not [time, \"number\"]"
							    " (or more than %d samples)", i, k, PROM_MAX_POINTS);
						goto out;
					}
				}
			}
		}
		r.nseries = json_array_size(result);
	} else {
		strbuf_errf(err, "bad JSON: resultType '%.40s' (slipway reads vector, scalar and matrix)", rtype);
		goto out;
	}
	*out = r;
	memset(&r, 0, sizeof(r));
	rc = 0;
out:
	prom_result_release(&r);
	json_decref(j);
	return rc;
}

/* ---- templates ---- */

#define APP_SEL "service=\"{service}\",env=\"{env}\",version=\"{version}\""
#define APP_BUCKETS "sum by (le) (increase(http_request_duration_seconds_bucket{" APP_SEL "}[{window}]))"
#define HAP_SEL "proxy=\"{service}.{env}\",server=~\"{version}-[0-9]+\""
/* a flag's cohort: the service's own per-variant series, whatever the set (HAProxy knows no variant) */
#define FLAG_SEL "service=\"{service}\",env=\"{env}\",flag=\"{flag}\",variant=\"{variant}\""
#define FLAG_BUCKETS "sum by (le) (increase(flag_request_duration_seconds_bucket{" FLAG_SEL "}[{window}]))"
#define FLAG_TEMPLATES                                                                                  \
	"sum(increase(flag_requests_total{" FLAG_SEL "}[{window}]))",                                     \
	"sum(increase(flag_requests_total{" FLAG_SEL ",code=~\"5..\"}[{window}])) or vector(0)",           \
	FLAG_BUCKETS, "histogram_quantile({q}, " FLAG_BUCKETS ")"

enum { Q_REQUESTS, Q_ERRORS, Q_BUCKETS, Q_QUANTILE, Q_FLAG = 4, Q_N = 8 };

static const char *const templates[][Q_N] = {
	[PROM_SET_APP] = {
		"sum(increase(http_requests_total{" APP_SEL "}[{window}]))",
		"sum(increase(http_requests_total{" APP_SEL ",code=~\"5..\"}[{window}])) or vector(0)",
		APP_BUCKETS,
		"histogram_quantile({q}, " APP_BUCKETS ")",
		FLAG_TEMPLATES,
	},
	[PROM_SET_HAPROXY] = {
		"sum(increase(haproxy_server_http_responses_total{" HAP_SEL "}[{window}]))",
		"sum(increase(haproxy_server_http_responses_total{" HAP_SEL ",code=\"5xx\"}[{window}])) or vector(0)",
		APP_BUCKETS,
		"histogram_quantile({q}, " APP_BUCKETS ")",
		FLAG_TEMPLATES,
	},
};
static const char *const template_names[Q_N] = { "requests", "errors", "buckets", "quantile", "flag_requests",
						 "flag_errors", "flag_buckets", "flag_quantile" };

const char *prom_template(int set, const char *which)
{
	if (set < 0 || set > PROM_SET_HAPROXY)
		return NULL;
	for (int i = 0; i < Q_N; i++)
		if (!strcmp(which, template_names[i]))
			return templates[set][i];
	return NULL;
}

static int prom_var(void *ctx, const char *name, size_t n, struct strbuf *out)
{
	const struct prom_vars *v = ctx;
#define IS(w) (n == sizeof(w) - 1 && !memcmp(name, w, n))
	if (IS("service"))
		strbuf_addstr(out, v->service ? v->service : "");
	else if (IS("env"))
		strbuf_addstr(out, v->env ? v->env : "");
	else if (IS("version"))
		strbuf_addstr(out, v->version ? v->version : "");
	else if (IS("window"))
		strbuf_addf(out, "%lldms", (long long)v->window_ms);
	else if (IS("window_s"))
		strbuf_addf(out, "%.3f", (double)v->window_ms / 1000.0);
	else if (IS("q"))
		strbuf_addf(out, "%g", v->q);
	else if (IS("flag"))
		strbuf_addstr(out, v->flag ? v->flag : "");
	else if (IS("variant"))
		strbuf_addstr(out, v->variant ? v->variant : "");
	else
		return 0;
#undef IS
	return 1;
}

int prom_expand(struct strbuf *out, const char *t, const struct prom_vars *v, struct strbuf *err)
{
	/* PromQL's own braces ({job="x"}) pass: only a {word} of letters is meant as a placeholder */
	return placeholder_expand(out, t, prom_var, (void *)v, 0, "{service} {env} {version} {window} {window_s} {q} {flag} {variant}",
				  err);
}

/* ---- the client ---- */

struct metrics_prometheus {
	struct service_prometheus cfg;	/* address and ca_file owned (a reload may free the service's) */
	char *token;			/* owned; never printed */
	char *q[8];			/* requests, errors, buckets, quantile; the same of a flag's cohort; owned */
	char service[SERVICE_NAME_MAX + 1], env[SERVICE_NAME_MAX + 1];
	CURL *h;
};

static void sleep_ms(int64_t ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* GET address+path_query; the answer parsed into *out */
static int get(struct metrics_prometheus *mp, const char *path_query, struct prom_result *out, struct strbuf *err)
{
	struct strbuf url = STRBUF_INIT, auth = STRBUF_INIT, why = STRBUF_INIT;
	struct curl_slist *hdr = NULL;
	int64_t backoff = mp->cfg.backoff_ms;
	int rc = SW_EEXTERNAL, attempts = 0;
	const char *a = mp->cfg.address;
	size_t alen = strlen(a);

	strbuf_add(&url, a, alen && a[alen - 1] == '/' ? alen - 1 : alen);
	strbuf_addstr(&url, path_query);
	if (mp->token) {
		strbuf_addf(&auth, "Authorization: Bearer %s", mp->token);
		hdr = curl_slist_append(hdr, auth.buf);
	}
	hdr = curl_slist_append(hdr, "Accept: application/json");
	for (;;) {
		struct http_sink b = HTTP_SINK_INIT(PROM_BODY_MAX);
		long status = 0;
		CURLcode cc;
		int retry = 0;

		attempts++;
		strbuf_reset(&why);
		curl_easy_reset(mp->h);
		curl_easy_setopt(mp->h, CURLOPT_URL, url.buf);
		curl_easy_setopt(mp->h, CURLOPT_HTTPHEADER, hdr);
		curl_easy_setopt(mp->h, CURLOPT_TIMEOUT_MS, (long)mp->cfg.timeout_ms);
		curl_easy_setopt(mp->h, CURLOPT_CONNECTTIMEOUT_MS, (long)mp->cfg.timeout_ms);
		curl_easy_setopt(mp->h, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(mp->h, CURLOPT_PROTOCOLS_STR, "http,https");
		curl_easy_setopt(mp->h, CURLOPT_WRITEFUNCTION, http_sink_write);
		curl_easy_setopt(mp->h, CURLOPT_WRITEDATA, &b);
		if (mp->cfg.ca_file)
			curl_easy_setopt(mp->h, CURLOPT_CAINFO, mp->cfg.ca_file);
		cc = curl_easy_perform(mp->h);
		if (cc == CURLE_OK)
			curl_easy_getinfo(mp->h, CURLINFO_RESPONSE_CODE, &status);
		if (cc == CURLE_OPERATION_TIMEDOUT) {
			strbuf_addf(&why, "timeout after %lld ms", (long long)mp->cfg.timeout_ms);
			retry = 1;
		} else if (b.too_big) {
			strbuf_addf(&why, "the answer is larger than %u bytes", PROM_BODY_MAX);
		} else if (cc != CURLE_OK) {
			strbuf_addf(&why, "%s", curl_easy_strerror(cc));
			retry = 1;
		} else if (status == 200 || (status >= 400 && status < 500 && status != 429 && b.buf.len)) {
			/* 400/422 carry Prometheus's {"status":"error"} answer */
			struct strbuf perr = STRBUF_INIT;
			rc = prom_parse(b.buf.buf ? b.buf.buf : "", b.buf.len, out, &perr);
			if (rc == 0) {
				strbuf_release(&b.buf);
				break;
			}
			if (rc == SW_EPARSE && status == 200)
				strbuf_addf(&why, "%s", perr.buf);
			else
				strbuf_addf(&why, "HTTP %ld: %s", status, perr.buf);
			strbuf_release(&perr);
		} else {
			strbuf_addf(&why, "HTTP %ld", status);
			retry = status == 429 || status >= 500;
		}
		strbuf_release(&b.buf);
		if (!retry || attempts > mp->cfg.retries) {
			/* the address never carries the token: it is sent only as a header */
			strbuf_errf(err, "provider error: %s from %s (%d attempt%s)", why.buf, mp->cfg.address, attempts,
				    attempts == 1 ? "" : "s");
			rc = strstr(why.buf, "bad JSON") == why.buf ? SW_EPARSE : SW_EEXTERNAL;
			break;
		}
		sleep_ms(backoff);
		backoff *= 2;
	}
	curl_slist_free_all(hdr);
	if (auth.len)
		memset(auth.buf, 0, auth.len);
	strbuf_release(&auth);
	strbuf_release(&url);
	strbuf_release(&why);
	return rc;
}

static void add_escaped(struct metrics_prometheus *mp, struct strbuf *sb, const char *s)
{
	char *e = curl_easy_escape(mp->h, s, 0);
	strbuf_addstr(sb, e ? e : "");
	curl_free(e);
}

int metrics_prometheus_instant(struct metrics_prometheus *mp, const char *promql, int64_t at_ms,
			       struct prom_result *out, struct strbuf *err)
{
	struct strbuf pq = STRBUF_INIT;
	int rc;
	strbuf_addstr(&pq, "/api/v1/query?query=");
	add_escaped(mp, &pq, promql);
	strbuf_addf(&pq, "&time=%lld.%03lld", (long long)(at_ms / 1000), (long long)(at_ms % 1000));
	rc = get(mp, pq.buf, out, err);
	strbuf_release(&pq);
	return rc;
}

int metrics_prometheus_range(struct metrics_prometheus *mp, const char *promql, int64_t start_ms, int64_t end_ms,
			     int64_t step_ms, struct prom_result *out, struct strbuf *err)
{
	struct strbuf pq = STRBUF_INIT;
	int rc;
	if (step_ms <= 0 || end_ms < start_ms) {
		strbuf_errf(err, "provider error: a range query needs start <= end and a step > 0");
		return SW_EUSAGE;
	}
	strbuf_addstr(&pq, "/api/v1/query_range?query=");
	add_escaped(mp, &pq, promql);
	strbuf_addf(&pq, "&start=%lld.%03lld&end=%lld.%03lld&step=%lld.%03lld", (long long)(start_ms / 1000),
		    (long long)(start_ms % 1000), (long long)(end_ms / 1000), (long long)(end_ms % 1000),
		    (long long)(step_ms / 1000), (long long)(step_ms % 1000));
	rc = get(mp, pq.buf, out, err);
	strbuf_release(&pq);
	return rc;
}

/* ---- the provider ---- */

/*
 * The variables of version: a revision's, or a flag cohort's ("flag:FLAG=VARIANT": flag and variant
 * into fbuf and vbuf, *which moved to the cohort's template).  0, or SW_EUSAGE for a malformed cohort.
 */
static int vars_of(struct metrics_prometheus *mp, const char *version, int64_t window_ms, double q, int *which,
		   char *fbuf, char *vbuf, size_t n, struct prom_vars *pv, struct strbuf *err)
{
	int c = flag_cohort_parse(version, fbuf, n, vbuf, n);
	*pv = (struct prom_vars){ mp->service, mp->env, version, window_ms, q, NULL, NULL };
	if (c < 0) {
		strbuf_errf(err, "provider error: '%s' is not a flag cohort (flag:FLAG=VARIANT)", version);
		return SW_EUSAGE;
	}
	if (c == 1) {
		pv->flag = fbuf;
		pv->variant = vbuf;
		*which += Q_FLAG;
	}
	return 0;
}

/* One query of template `which` for version over [from, to), answered by one number. */
static int one_value(struct metrics_prometheus *mp, int which, const char *version, int64_t from_ms, int64_t to_ms,
		     double q, int nan_ok, double *v, struct strbuf *err)
{
	struct prom_vars pv;
	struct strbuf promql = STRBUF_INIT;
	struct prom_result r = { 0 };
	char fbuf[SW_NAME_MAX + 1], vbuf[SW_NAME_MAX + 1];
	int rc;

	if ((rc = vars_of(mp, version, to_ms - from_ms, q, &which, fbuf, vbuf, sizeof(fbuf), &pv, err)) < 0 ||
	    (rc = prom_expand(&promql, mp->q[which], &pv, err)) < 0)
		goto out;
	if ((rc = metrics_prometheus_instant(mp, promql.buf, to_ms, &r, err)) < 0)
		goto out;
	rc = SW_EEXTERNAL;
	if (r.n == 0)
		strbuf_errf(err, "no data: Prometheus has no series for %s of '%s' (%s)", template_names[which], version,
			    promql.buf);
	else if (r.type == PROM_MATRIX)
		strbuf_errf(err, "provider error: %s of '%s' answered a range vector; it must be one number (%s)",
			    template_names[which], version, promql.buf);
	else if (r.n > 1)
		strbuf_errf(err, "provider error: %s of '%s' answered %zu series; it must be one (sum it: %s)",
			    template_names[which], version, r.n, promql.buf);
	else if (isnan(r.v[0].v) && !nan_ok)
		strbuf_errf(err, "undefined: 0/0 (Prometheus answered NaN for %s of '%s': %s)", template_names[which],
			    version, promql.buf);
	else {
		*v = r.v[0].v;
		rc = 0;
	}
out:
	prom_result_release(&r);
	strbuf_release(&promql);
	return rc;
}

static uint64_t count_of(double v)
{
	return v > 0 && isfinite(v) ? (uint64_t)llround(v) : 0;
}

static int prom_query(void *ctx, const char *service, enum revision_role role, const char *version, int64_t from_ms,
		      int64_t to_ms, struct metrics_sample *out, struct strbuf *err)
{
	struct metrics_prometheus *mp = ctx;
	static const double qs[3] = { 0.5, 0.9, 0.99 };
	double req = 0, errs = 0, p[3] = { NAN, NAN, NAN };
	int rc;
	(void)role;

	if (strcmp(service, mp->service)) {
		strbuf_errf(err, "provider error: this provider answers for '%s', not '%s'", mp->service, service);
		return SW_EUSAGE;
	}
	if (!version || !*version)
		return SW_ENOTFOUND;	/* no such revision (a first release has no stable) */
	if (to_ms <= from_ms) {
		strbuf_errf(err, "provider error: empty window [%lld, %lld)", (long long)from_ms, (long long)to_ms);
		return SW_EUSAGE;
	}
	if ((rc = one_value(mp, Q_REQUESTS, version, from_ms, to_ms, 0, 0, &req, err)) < 0 ||
	    (rc = one_value(mp, Q_ERRORS, version, from_ms, to_ms, 0, 0, &errs, err)) < 0)
		return rc;
	memset(out, 0, sizeof(*out));
	out->from_ms = from_ms;
	out->to_ms = to_ms;
	out->requests = count_of(req);
	out->errors = count_of(errs);
	if (out->errors > out->requests)
		out->errors = out->requests;	/* two extrapolations: errors may round above requests */
	out->max_ms = NAN;
	/* no requests: the quantiles are 0/0 and say nothing; with requests they must exist */
	for (int i = 0; i < 3 && out->requests; i++) {
		if ((rc = one_value(mp, Q_QUANTILE, version, from_ms, to_ms, qs[i], 1, &p[i], err)) < 0)
			return rc;
		if (isnan(p[i])) {
			strbuf_errf(err, "undefined: 0/0 (the latency histogram of '%s' counted no requests in %lld ms "
				    "while the counters saw %llu)", version, (long long)(to_ms - from_ms),
				    (unsigned long long)out->requests);
			return SW_EEXTERNAL;
		}
	}
	out->p50_ms = p[0] * 1000.0;
	out->p90_ms = p[1] * 1000.0;
	out->p99_ms = p[2] * 1000.0;
	return 0;
}

int prom_over_from_buckets(const struct prom_result *r, const double *thresholds_ms, int n, uint64_t *over,
			   struct strbuf *err)
{
	double total = NAN;
	for (size_t i = 0; i < r->n; i++)
		if (isinf(r->v[i].le) && r->v[i].le > 0)
			total = r->v[i].v;
	if (isnan(total)) {
		strbuf_errf(err, "no data: the latency histogram has no le=\"+Inf\" bucket");
		return SW_EEXTERNAL;
	}
	for (int k = 0; k < n; k++) {
		double th_s = thresholds_ms[k] / 1000.0, best_le = INFINITY, best_v = total;
		/* the bucket at or just above the threshold (a relative slack for "0.5" vs 0.4999...) */
		for (size_t i = 0; i < r->n; i++) {
			double le = r->v[i].le;
			if (isfinite(le) && le >= th_s * (1 - 1e-9) && le < best_le) {
				best_le = le;
				best_v = r->v[i].v;
			}
		}
		over[k] = isnan(best_v) ? 0 : count_of(total - best_v);
	}
	return 0;
}

static int prom_query_over(void *ctx, const char *service, enum revision_role role, const char *version,
			   int64_t from_ms, int64_t to_ms, const double *thresholds_ms, int n, uint64_t *over,
			   struct strbuf *err)
{
	struct metrics_prometheus *mp = ctx;
	struct prom_vars pv;
	struct strbuf promql = STRBUF_INIT;
	struct prom_result r = { 0 };
	uint64_t tmp[METRICS_MAX_THRESHOLDS];
	char fbuf[SW_NAME_MAX + 1], vbuf[SW_NAME_MAX + 1];
	int rc, which = Q_BUCKETS;
	(void)role;

	if (strcmp(service, mp->service) || to_ms <= from_ms || n < 0 || n > METRICS_MAX_THRESHOLDS) {
		strbuf_errf(err, "provider error: bad exceedance query for '%s'", service);
		return SW_EUSAGE;
	}
	if ((rc = vars_of(mp, version, to_ms - from_ms, 0, &which, fbuf, vbuf, sizeof(fbuf), &pv, err)) < 0 ||
	    (rc = prom_expand(&promql, mp->q[which], &pv, err)) < 0)
		goto out;
	if ((rc = metrics_prometheus_instant(mp, promql.buf, to_ms, &r, err)) < 0)
		goto out;
	if (r.n == 0) {
		strbuf_errf(err, "no data: Prometheus has no histogram buckets of '%s' (%s)", version, promql.buf);
		rc = SW_EEXTERNAL;
		goto out;
	}
	if ((rc = prom_over_from_buckets(&r, thresholds_ms, n, tmp, err)) < 0)
		goto out;
	memcpy(over, tmp, (size_t)n * sizeof(*over));
out:
	prom_result_release(&r);
	strbuf_release(&promql);
	return rc;
}

static int read_token(struct metrics_prometheus *mp, struct strbuf *err)
{
	if (mp->cfg.token_env) {
		const char *t = getenv(mp->cfg.token_env);
		if (!t || !*t) {
			strbuf_errf(err, "prometheus: the token variable '%s' is not set (token_env)", mp->cfg.token_env);
			return SW_ECONFIG;
		}
		mp->token = xstrdup(t);
	} else if (mp->cfg.token_file) {
		struct strbuf sb = STRBUF_INIT, e = STRBUF_INIT;
		char *nl;
		if (strbuf_read_file_max(&sb, mp->cfg.token_file, 16384, &e) < 0) {
			strbuf_errf(err, "prometheus: cannot read the token file '%s' (token_file)", mp->cfg.token_file);
			strbuf_release(&sb);
			strbuf_release(&e);
			return SW_ECONFIG;
		}
		strbuf_release(&e);
		if ((nl = strchr(sb.buf ? sb.buf : "", '\n')))
			*nl = '\0';
		strbuf_rtrim(&sb);
		if (!sb.buf || !sb.buf[0]) {
			strbuf_errf(err, "prometheus: the token file '%s' is empty (token_file)", mp->cfg.token_file);
			strbuf_release(&sb);
			return SW_ECONFIG;
		}
		mp->token = strbuf_detach(&sb, NULL);
	}
	if (mp->token)
		for (const char *c = mp->token; *c; c++)
			if ((unsigned char)*c < 0x20 || *c == 0x7f) {
				strbuf_errf(err, "prometheus: the bearer token holds a control character");
				return SW_ECONFIG;
			}
	return 0;
}

int metrics_prometheus_open(struct metrics_prometheus **out, const struct service *svc, const char *env,
			    struct metrics_provider *p, struct strbuf *err)
{
	struct metrics_prometheus *mp;
	const char *over[Q_N];
	struct prom_vars probe = { "s", "e", "v", 1000, 0.5, "f", "on" };
	int rc;

	if (!svc->prom.address) {
		strbuf_errf(err, "service '%s' names provider prometheus but has no 'prometheus' section "
			    "(docs/prometheus.md)", svc->name);
		return SW_ECONFIG;
	}
	mp = xcalloc(1, sizeof(*mp));
	mp->cfg = svc->prom;
	/* only these are used after open; the rest of cfg is not kept pointing at the service */
	mp->cfg.address = xstrdup(svc->prom.address);
	mp->cfg.ca_file = xstrdup_or_null(svc->prom.ca_file);
	mp->cfg.q_requests = mp->cfg.q_errors = mp->cfg.q_buckets = mp->cfg.q_quantile = NULL;
	mp->cfg.q_flag_requests = mp->cfg.q_flag_errors = mp->cfg.q_flag_buckets = mp->cfg.q_flag_quantile = NULL;
	snprintf(mp->service, sizeof(mp->service), "%s", svc->name);
	snprintf(mp->env, sizeof(mp->env), "%s", env);
	over[0] = svc->prom.q_requests;
	over[1] = svc->prom.q_errors;
	over[2] = svc->prom.q_buckets;
	over[3] = svc->prom.q_quantile;
	over[4] = svc->prom.q_flag_requests;
	over[5] = svc->prom.q_flag_errors;
	over[6] = svc->prom.q_flag_buckets;
	over[7] = svc->prom.q_flag_quantile;
	for (int i = 0; i < Q_N; i++) {
		struct strbuf sb = STRBUF_INIT, e = STRBUF_INIT;
		mp->q[i] = xstrdup(over[i] ? over[i] : templates[svc->prom.set][i]);
		rc = prom_expand(&sb, mp->q[i], &probe, &e);
		strbuf_release(&sb);
		if (rc < 0) {
			strbuf_errf(err, "prometheus.queries.%s: %s", template_names[i], e.buf);
			strbuf_release(&e);
			metrics_prometheus_free(mp);
			return rc;
		}
		strbuf_release(&e);
	}
	if ((rc = read_token(mp, err)) < 0) {
		metrics_prometheus_free(mp);
		return rc;
	}
	mp->cfg.token_file = mp->cfg.token_env = NULL;	/* the service's strings: not used after open */
	if (!(mp->h = curl_easy_init())) {
		strbuf_errf(err, "prometheus: cannot start libcurl");
		metrics_prometheus_free(mp);
		return SW_EEXTERNAL;
	}
	memset(p, 0, sizeof(*p));
	p->ctx = mp;
	p->query = prom_query;
	p->query_over = prom_query_over;
	*out = mp;
	return 0;
}

void metrics_prometheus_free(struct metrics_prometheus *mp)
{
	if (!mp)
		return;
	if (mp->token) {
		memset(mp->token, 0, strlen(mp->token));
		free(mp->token);
	}
	if (mp->h)
		curl_easy_cleanup(mp->h);
	for (int i = 0; i < Q_N; i++)
		free(mp->q[i]);
	free(mp->cfg.address);
	free(mp->cfg.ca_file);
	free(mp);
}
