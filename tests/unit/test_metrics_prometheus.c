/*
 * test_metrics_prometheus.c - the prometheus provider (adapters/
 * metrics_prometheus.h): its JSON reader on recorded answers
 * (tests/data/prometheus/), its templates, the exceedance count from
 * buckets, and each outage case against tests/helpers/prom_stub.py, which
 * answers like Prometheus: every outage gives its own reason and an error,
 * never numbers.
 */
#include "tap.h"
#include "adapters/metrics_prometheus.h"
#include "base/err.h"
#include "base/strbuf.h"
#include "core/service.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *src_dir(void)
{
	const char *s = getenv("SLIPWAY_SRC");
	return s ? s : SLIPWAY_SRC_DIR;
}

static int parse_file(const char *name, struct prom_result *r, struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT, body = STRBUF_INIT;
	int rc;
	strbuf_addf(&path, "%s/tests/data/prometheus/%s", src_dir(), name);
	rc = strbuf_read_file_max(&body, path.buf, 1 << 20, err);
	if (rc >= 0)
		rc = prom_parse(body.buf ? body.buf : "", body.len, r, err);
	strbuf_release(&path);
	strbuf_release(&body);
	return rc;
}

static void reader(void)
{
	struct prom_result r = { 0 };
	struct strbuf err = STRBUF_INIT;
	uint64_t over[3];
	double th[3] = { 5, 7, 100 };

	is_int(parse_file("vector-sum.json", &r, &err), 0, "a one-series vector reads");
	ok(r.type == PROM_VECTOR && r.n == 1 && fabs(r.v[0].v - 1234.6) < 1e-9 && isnan(r.v[0].le),
	   "  its value 1234.6, no le");
	prom_result_release(&r);
	is_int(parse_file("scalar.json", &r, &err), 0, "a scalar reads");
	ok(r.type == PROM_SCALAR && r.n == 1 && r.v[0].v == 0.25, "  its value 0.25");
	prom_result_release(&r);
	is_int(parse_file("matrix.json", &r, &err), 0, "a matrix reads");
	ok(r.type == PROM_MATRIX && r.n == 4 && r.nseries == 2 && r.v[3].series == 1 && isnan(r.v[2].v) &&
		   isinf(r.v[3].v), "  4 points of 2 series, NaN and +Inf as sent");
	prom_result_release(&r);
	is_int(parse_file("nan.json", &r, &err), 0, "NaN reads as a value");
	ok(r.n == 1 && isnan(r.v[0].v), "  NaN");
	prom_result_release(&r);
	strbuf_reset(&err);
	is_int(parse_file("error.json", &r, &err), SW_EEXTERNAL, "Prometheus's error answer is an error");
	ok(strstr(err.buf, "bad_data") && strstr(err.buf, "parse error"), "  with its type and message: %s", err.buf);
	strbuf_reset(&err);
	is_int(parse_file("truncated.json", &r, &err), SW_EPARSE, "a truncated answer is bad JSON");
	ok(!strncmp(err.buf, "bad JSON", 8), "  says so: %s", err.buf);
	strbuf_reset(&err);
	is_int(prom_parse("{\"status\":\"success\",\"data\":{\"resultType\":\"string\",\"result\":[1,\"x\"]}}", 70,
			  &r, &err), SW_EPARSE, "a string result is refused");

	is_int(parse_file("buckets.json", &r, &err), 0, "histogram buckets read");
	is_int(prom_over_from_buckets(&r, th, 3, over, &err), 0, "exceedances from buckets");
	ok(over[0] == 300, "  slower than 5 ms: above le=0.005 (%llu)", (unsigned long long)over[0]);
	ok(over[1] == 100, "  slower than 7 ms: above le=0.01, the bucket just above (%llu)", (unsigned long long)over[1]);
	ok(over[2] == 0, "  slower than 100 ms, above every finite bucket: 0 (%llu)", (unsigned long long)over[2]);
	prom_result_release(&r);
	strbuf_release(&err);
}

static void templates(void)
{
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	struct prom_vars v = { "api", "production", "v2", 60000, 0.99 };
	is_int(prom_expand(&out, prom_template(PROM_SET_APP, "quantile"), &v, &err), 0, "the app quantile expands");
	ok(!strcmp(out.buf, "histogram_quantile(0.99, sum by (le) (increase(http_request_duration_seconds_bucket"
			     "{service=\"api\",env=\"production\",version=\"v2\"}[60000ms])))"), "  %s", out.buf);
	strbuf_reset(&out);
	is_int(prom_expand(&out, prom_template(PROM_SET_HAPROXY, "errors"), &v, &err), 0, "the haproxy errors expand");
	ok(strstr(out.buf, "haproxy_server_http_responses_total{proxy=\"api.production\",server=~\"v2-[0-9]+\",code=\"5xx\"}"
			   "[60000ms]"), "  %s", out.buf);
	strbuf_reset(&out);
	{
		/* a flag's cohort: the cohort templates, with the flag and variant labels (docs/prometheus.md) */
		struct prom_vars fv = { "api", "production", "flag:agent:billing:enabled=on", 60000, 0.5,
					"agent:billing:enabled", "on" };
		for (int set = PROM_SET_APP; set <= PROM_SET_HAPROXY; set++) {
			strbuf_reset(&out);
			is_int(prom_expand(&out, prom_template(set, "flag_errors"), &fv, &err), 0,
			       "set %d: the cohort's errors expand", set);
			ok(!strcmp(out.buf, "sum(increase(flag_requests_total{service=\"api\",env=\"production\","
					    "flag=\"agent:billing:enabled\",variant=\"on\",code=~\"5..\"}[60000ms])) or vector(0)"),
			   "  %s", out.buf);
		}
		strbuf_reset(&out);
		is_int(prom_expand(&out, prom_template(PROM_SET_APP, "flag_buckets"), &fv, &err), 0,
		       "the cohort's buckets expand");
		ok(strstr(out.buf, "flag_request_duration_seconds_bucket{service=\"api\",env=\"production\","
				   "flag=\"agent:billing:enabled\",variant=\"on\"}") != NULL, "  %s", out.buf);
		ok(prom_template(PROM_SET_APP, "flag_requests") && prom_template(PROM_SET_APP, "flag_quantile") &&
		   !prom_template(PROM_SET_APP, "flag_nothing"), "the four cohort templates are named");
		strbuf_reset(&out);
		is_int(prom_expand(&out, "x{flag=\"{flag}\",variant=\"{variant}\"}", &v, &err), 0,
		       "{flag} and {variant} of a revision");
		ok(!strcmp(out.buf, "x{flag=\"\",variant=\"\"}"), "  are empty: %s", out.buf);
		strbuf_reset(&out);
	}
	is_int(prom_expand(&out, "rate(x{job=\"a\"}[{windw}])", &v, &err), SW_ECONFIG, "an unknown placeholder is refused");
	ok(strstr(err.buf, "{windw}") && strstr(err.buf, "{window}"), "  named, with the valid ones: %s", err.buf);
	strbuf_release(&out);
	strbuf_release(&err);
}

/* the service file of a provider pointed at the stub's MODE */
static int open_at(const char *base, const char *mode, const char *extra, struct service *svc,
		   struct metrics_prometheus **mp, struct metrics_provider *p, struct strbuf *err)
{
	struct strbuf y = STRBUF_INIT;
	int rc;
	strbuf_addf(&y, "command: [x]\nprovider: prometheus\nprometheus:\n  address: %s/%s\n  timeout: 500ms\n"
		    "  retries: 2\n  backoff: 10ms\n%senvironments:\n  production: {listen: 127.0.0.1:1}\n",
		    base, mode, extra ? extra : "");
	rc = service_parse(svc, "api.yaml", y.buf, y.len, "api", err);
	strbuf_release(&y);
	if (rc < 0)
		return rc;
	return metrics_prometheus_open(mp, svc, "production", p, err);
}

static void outage(const char *base, const char *mode, int want_rc, const char *want_reason)
{
	struct service svc = { 0 };
	struct metrics_prometheus *mp = NULL;
	struct metrics_provider p;
	struct metrics_sample s;
	struct strbuf err = STRBUF_INIT;
	int rc;

	if (open_at(base, mode, NULL, &svc, &mp, &p, &err) < 0) {
		ok(0, "%s: the provider opens: %s", mode, err.buf);
		goto out;
	}
	memset(&s, 0, sizeof(s));
	rc = p.query(p.ctx, "api", ROLE_CANARY, "v2", 1764484800000, 1764484860000, &s, &err);
	if (want_rc == 0) {
		is_int(rc, 0, "%s: answered", mode);
		ok(s.requests == 100 && s.errors == 0 && fabs(s.p99_ms - 50) < 1e-6, "  100 requests, 0 errors, p99 50 ms "
		   "(%llu, %llu, %g)", (unsigned long long)s.requests, (unsigned long long)s.errors, s.p99_ms);
	} else {
		is_int(rc, want_rc, "%s: an error, not numbers", mode);
		ok(strstr(err.buf, want_reason) == err.buf, "  reason '%s...': %s", want_reason, err.buf);
	}
out:
	metrics_prometheus_free(mp);
	service_release(&svc);
	strbuf_release(&err);
}

static void provider(void)
{
	struct strbuf cmd = STRBUF_INIT, err = STRBUF_INIT, base = STRBUF_INIT;
	struct service svc = { 0 };
	struct metrics_prometheus *mp = NULL;
	struct metrics_provider p;
	char line[64] = "";
	FILE *stub;
	int port;

	strbuf_addf(&cmd, "exec python3 %s/tests/helpers/prom_stub.py", src_dir());
	stub = popen(cmd.buf, "r");
	if (!stub || !fgets(line, sizeof(line), stub) || (port = (int)strtol(line, NULL, 10)) <= 0) {
		ok(0, "the Prometheus stub starts (%s)", cmd.buf);
		return;
	}
	strbuf_addf(&base, "http://127.0.0.1:%d", port);
	outage(base.buf, "ok", 0, NULL);
	outage(base.buf, "flaky", 0, NULL);
	outage(base.buf, "empty", SW_EEXTERNAL, "no data: ");
	outage(base.buf, "nan", SW_EEXTERNAL, "undefined: 0/0");
	outage(base.buf, "503", SW_EEXTERNAL, "provider error: HTTP 503");
	outage(base.buf, "slow", SW_EEXTERNAL, "provider error: timeout after 500 ms");
	outage(base.buf, "badjson", SW_EPARSE, "provider error: bad JSON");
	outage(base.buf, "promerr", SW_EEXTERNAL, "provider error: HTTP 400: Prometheus says bad_data");
	{
		/* 503 retried: 1 + retries attempts for the first query, then given up */
		struct strbuf u = STRBUF_INIT, body = STRBUF_INIT;
		strbuf_addf(&u, "python3 -c \"import urllib.request as u; print(u.urlopen('%s/hits/503').read().decode())\"",
			    base.buf);
		FILE *f = popen(u.buf, "r");
		char hits[32] = "";
		if (f && fgets(hits, sizeof(hits), f))
			strbuf_addstr(&body, hits);
		strbuf_rtrim(&body);
		if (f)
			pclose(f);
		ok(strtol(body.buf ? body.buf : "0", NULL, 10) == 3, "503: asked 3 times (1 + retries 2), then given up (%s)",
		   body.buf ? body.buf : "");
		strbuf_release(&u);
		strbuf_release(&body);
	}
	/* the token: from a variable, never in a message */
	setenv("SLIPWAY_TEST_PROM_TOKEN", "s3cr3t-token", 1);
	if (open_at(base.buf, "503", "  token_env: SLIPWAY_TEST_PROM_TOKEN\n", &svc, &mp, &p, &err) == 0) {
		struct metrics_sample s;
		p.query(p.ctx, "api", ROLE_CANARY, "v2", 1764484800000, 1764484860000, &s, &err);
		ok(!strstr(err.buf, "s3cr3t"), "the bearer token is in no message: %s", err.buf);
	} else
		ok(0, "opens with token_env: %s", err.buf);
	metrics_prometheus_free(mp);
	service_release(&svc);
	strbuf_reset(&err);
	mp = NULL;
	unsetenv("SLIPWAY_TEST_PROM_UNSET");
	is_int(open_at(base.buf, "ok", "  token_env: SLIPWAY_TEST_PROM_UNSET\n", &svc, &mp, &p, &err), SW_ECONFIG,
	       "an unset token variable is refused");
	ok(strstr(err.buf, "SLIPWAY_TEST_PROM_UNSET") != NULL, "  naming it: %s", err.buf);
	service_release(&svc);
	strbuf_reset(&err);
	is_int(open_at(base.buf, "ok", "  queries:\n    flag_requests: 'x{variant=\"{varaint}\"}'\n", &svc, &mp, &p, &err),
	       SW_ECONFIG, "a cohort template with an unknown placeholder is refused");
	ok(strstr(err.buf, "prometheus.queries.flag_requests") && strstr(err.buf, "{variant}"),
	   "  naming the key and the valid placeholders: %s", err.buf);
	service_release(&svc);
	strbuf_release(&cmd);
	strbuf_release(&err);
	strbuf_release(&base);
	/* not pclose()d: the stub serves forever and exits once this process is gone */
	(void)stub;
}

int main(void)
{
	reader();
	templates();
	provider();
	return tap_done();
}
