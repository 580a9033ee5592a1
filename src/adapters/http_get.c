/*
 * http_get.c - one bounded HTTP GET; see http_get.h.
 */
#include "adapters/http_get.h"

#include <curl/curl.h>

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

int http_get(const char *url, const char *const *headers, int64_t timeout_ms, size_t max_body, long *status,
	     struct strbuf *body, struct strbuf *err)
{
	CURL *h = curl_easy_init();
	struct curl_slist *hdr = NULL;
	struct sink s = { body, max_body, 0 };
	CURLcode rc;

	if (!h) {
		strbuf_errf(err, "%s: cannot set up the HTTP client", url);
		return SW_EEXTERNAL;
	}
	for (size_t i = 0; headers && headers[i]; i++)
		hdr = curl_slist_append(hdr, headers[i]);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)(timeout_ms > 0 ? timeout_ms : 5000));
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, take);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "slipway");
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	rc = curl_easy_perform(h);
	if (rc == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	else if (rc == CURLE_WRITE_ERROR)
		strbuf_errf(err, "%s: the answer is larger than %zu bytes", url, max_body);
	else
		strbuf_errf(err, "%s: %s", url, curl_easy_strerror(rc));
	curl_slist_free_all(hdr);
	curl_easy_cleanup(h);
	return rc == CURLE_OK ? 0 : SW_EEXTERNAL;
}
