/*
 * http_get.c - bounded HTTP GETs; see http_get.h.
 */
#include "adapters/http_get.h"

#include <curl/curl.h>
#include <stdlib.h>

#include "base/alloc.h"
#include "base/err.h"
#include "base/strbuf.h"

struct sink {
	struct strbuf *body;
	size_t max, got;
};

static size_t take(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct sink *s = ud;
	size_t n = size * nmemb;

	if (s->got + n > s->max)
		return 0;	/* too large: curl fails the transfer (CURLE_WRITE_ERROR) */
	s->got += n;
	if (s->body)
		strbuf_add(s->body, ptr, n);
	return n;
}

static CURL *setup(const char *url, struct curl_slist *hdr, int64_t timeout_ms, struct sink *s)
{
	CURL *h = curl_easy_init();
	long t = (long)(timeout_ms > 0 ? timeout_ms : 5000);

	if (!h)
		return NULL;
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, t);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, t < HTTP_GET_CONNECT_MAX_MS ? t : (long)HTTP_GET_CONNECT_MAX_MS);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, take);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "slipway");
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	return h;
}

/* The result of a finished transfer: 0 with *status, or the error in err. */
static int outcome(CURL *h, CURLcode rc, const char *url, int64_t timeout_ms, size_t max_body, long *status,
		   struct strbuf *err)
{
	if (rc == CURLE_OK) {
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
		return 0;
	}
	if (rc == CURLE_WRITE_ERROR) {
		strbuf_errf(err, "%s: the answer is larger than %zu bytes", url, max_body);
	} else if (rc == CURLE_OPERATION_TIMEDOUT) {
		strbuf_errf(err, "%s: no answer within %lldms", url, (long long)timeout_ms);
		return SW_ETIMEOUT;
	} else {
		strbuf_errf(err, "%s: %s", url, curl_easy_strerror(rc));
	}
	return SW_EEXTERNAL;
}

int http_get(const char *url, const char *const *headers, int64_t timeout_ms, size_t max_body, long *status,
	     struct strbuf *body, struct strbuf *err)
{
	struct curl_slist *hdr = NULL;
	struct sink s = { body, max_body, 0 };
	CURL *h;
	int r;

	for (size_t i = 0; headers && headers[i]; i++)
		hdr = curl_slist_append(hdr, headers[i]);
	if (!(h = setup(url, hdr, timeout_ms, &s))) {
		strbuf_errf(err, "%s: cannot set up the HTTP client", url);
		curl_slist_free_all(hdr);
		return SW_EEXTERNAL;
	}
	r = outcome(h, curl_easy_perform(h), url, timeout_ms, max_body, status, err);
	curl_slist_free_all(hdr);
	curl_easy_cleanup(h);
	return r;
}

int http_get_each(const char *const *urls, size_t n, int64_t timeout_ms, size_t max_body, int *rc, long *status,
		  struct strbuf *errs)
{
	CURLM *m = curl_multi_init();
	CURL **h = xcalloc(n ? n : 1, sizeof(*h));
	struct sink *s = xcalloc(n ? n : 1, sizeof(*s));
	int running = 0, left = 0;
	CURLMcode mc = CURLM_OK;
	CURLMsg *msg;

	for (size_t i = 0; i < n; i++) {
		rc[i] = SW_EEXTERNAL;	/* until its transfer is done */
		status[i] = 0;
		s[i].max = max_body;
		if (m && (h[i] = setup(urls[i], NULL, timeout_ms, &s[i])) != NULL) {
			curl_easy_setopt(h[i], CURLOPT_PRIVATE, (void *)&rc[i]);
			if (curl_multi_add_handle(m, h[i]) != CURLM_OK) {
				curl_easy_cleanup(h[i]);
				h[i] = NULL;
			}
		}
		if (!h[i])
			strbuf_errf(&errs[i], "%s: cannot set up the HTTP client", urls[i]);
	}
	/* every transfer ends by its own CURLOPT_TIMEOUT_MS, so this loop does too */
	while (m && mc == CURLM_OK) {
		mc = curl_multi_perform(m, &running);
		if (mc != CURLM_OK || !running)
			break;
		mc = curl_multi_poll(m, NULL, 0, 1000, NULL);
	}
	while (m && (msg = curl_multi_info_read(m, &left)) != NULL) {
		int *slot = NULL;
		size_t i;
		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&slot);
		if (!slot || slot < rc || slot >= rc + n)
			continue;
		i = (size_t)(slot - rc);
		rc[i] = outcome(msg->easy_handle, msg->data.result, urls[i], timeout_ms, max_body, &status[i], &errs[i]);
	}
	for (size_t i = 0; i < n; i++) {
		if (!h[i])
			continue;
		if (rc[i] == SW_EEXTERNAL && !errs[i].len)
			strbuf_errf(&errs[i], "%s: %s", urls[i],
				    mc != CURLM_OK ? curl_multi_strerror(mc) : "the transfer did not finish");
		curl_multi_remove_handle(m, h[i]);
		curl_easy_cleanup(h[i]);
	}
	if (m)
		curl_multi_cleanup(m);
	free(h);
	free(s);
	return m ? 0 : SW_EEXTERNAL;
}
