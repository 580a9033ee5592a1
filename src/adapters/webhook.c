/*
 * webhook.c - webhook preflight (resolve and connect, with a deadline) and
 * calls (libcurl POST); see webhook.h.  Non-blocking connect + poll so a
 * black-holed host costs at most the timeout, never the kernel's minutes.
 */
#include "adapters/webhook.h"
#include "base/err.h"
#include "base/strbuf.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int try_connect(const struct addrinfo *ai, int64_t deadline, int *err_out)
{
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
	int r;

	if (fd < 0) {
		*err_out = errno;
		return -1;
	}
	r = connect(fd, ai->ai_addr, ai->ai_addrlen);
	if (r < 0 && errno == EINPROGRESS) {
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		int64_t left = deadline - mono_ms();
		int e = 0;
		socklen_t len = sizeof(e);
		r = left > 0 ? poll(&p, 1, (int)left) : 0;
		if (r == 0) {
			*err_out = ETIMEDOUT;
			close(fd);
			return -1;
		}
		if (r < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) < 0 || e) {
			*err_out = e ? e : errno;
			close(fd);
			return -1;
		}
		r = 0;
	} else if (r < 0) {
		*err_out = errno;
	}
	close(fd);
	return r;
}

int webhook_check_reachable(const char *url, int64_t timeout_ms, struct strbuf *err)
{
	char host[256], port[8];
	const char *p, *end;
	size_t hl;
	struct addrinfo hints, *res = NULL, *ai;
	int64_t deadline = mono_ms() + (timeout_ms > 0 ? timeout_ms : 2000);
	int r, e = 0;

	if (!strncmp(url, "http://", 7)) {
		p = url + 7;
		snprintf(port, sizeof(port), "80");
	} else if (!strncmp(url, "https://", 8)) {
		p = url + 8;
		snprintf(port, sizeof(port), "443");
	} else {
		goto bad;
	}
	end = p + strcspn(p, "/?#");
	if (*p == '[') {	/* [v6]:port */
		const char *rb = memchr(p, ']', (size_t)(end - p));
		if (!rb)
			goto bad;
		hl = (size_t)(rb - p - 1);
		if (hl == 0 || hl >= sizeof(host))
			goto bad;
		memcpy(host, p + 1, hl);
		host[hl] = '\0';
		p = rb + 1;
	} else {
		const char *colon = memchr(p, ':', (size_t)(end - p));
		hl = (size_t)((colon ? colon : end) - p);
		if (hl == 0 || hl >= sizeof(host))
			goto bad;
		memcpy(host, p, hl);
		host[hl] = '\0';
		p = colon ? colon : end;
	}
	if (*p == ':') {
		size_t pl = (size_t)(end - p - 1);
		if (pl == 0 || pl >= sizeof(port) || strspn(p + 1, "0123456789") < pl)
			goto bad;
		memcpy(port, p + 1, pl);
		port[pl] = '\0';
	} else if (p != end) {
		goto bad;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	r = getaddrinfo(host, port, &hints, &res);
	if (r) {
		strbuf_errf(err, "host '%s' cannot be resolved: %s", host, gai_strerror(r));
		return SW_EEXTERNAL;
	}
	for (ai = res; ai; ai = ai->ai_next)
		if (try_connect(ai, deadline, &e) == 0) {
			freeaddrinfo(res);
			return 0;
		}
	freeaddrinfo(res);
	strbuf_errf(err, "cannot connect to %s:%s: %s", host, port, strerror(e ? e : ECONNREFUSED));
	return SW_EEXTERNAL;
bad:
	strbuf_errf(err, "'%s' is not an http(s)://HOST[:PORT][/PATH] URL", url);
	return SW_EPARSE;
}

static size_t discard(char *ptr, size_t size, size_t nmemb, void *ud)
{
	return size * nmemb;
}

int webhook_call(const struct webhook *w, const char *payload, long *status, struct strbuf *err)
{
	CURL *h = curl_easy_init();
	struct curl_slist *hdr = NULL;
	CURLcode rc;

	if (!h) {
		strbuf_errf(err, "webhook '%s': cannot set up the HTTP client", w->name);
		return SW_EEXTERNAL;
	}
	hdr = curl_slist_append(hdr, "Content-Type: application/json");
	curl_easy_setopt(h, CURLOPT_URL, w->url);
	curl_easy_setopt(h, CURLOPT_POST, 1L);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, payload);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)(w->timeout_ms > 0 ? w->timeout_ms : 10000));
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	rc = curl_easy_perform(h);
	if (rc == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	else
		strbuf_errf(err, "webhook '%s' (%s): %s", w->name, w->url, curl_easy_strerror(rc));
	curl_slist_free_all(hdr);
	curl_easy_cleanup(h);
	return rc == CURLE_OK ? 0 : SW_EEXTERNAL;
}
