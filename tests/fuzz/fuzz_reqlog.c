/*
 * fuzz_reqlog.c - libFuzzer target for HAProxy request-log datagrams and the
 * stored histogram text (core/reqlog.c): both come from outside (a socket,
 * the store) and must never crash or read out of bounds.
 */
#include "base/strbuf.h"
#include "core/reqlog.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct reqlog_line l;
	struct hist h;
	char *copy;
	if (reqlog_parse((const char *)data, size, &l) == 0) {
		memset(&h, 0, sizeof(h));
		hist_add(&h, (uint32_t)l.latency_ms);
		(void)hist_quantile(&h, 0.99);
	}
	copy = malloc(size + 1);
	memcpy(copy, data, size);
	copy[size] = '\0';
	if (hist_decode(&h, copy) == 0) {
		struct strbuf sb = STRBUF_INIT;
		(void)hist_quantile(&h, 0.5);
		hist_encode(&h, &sb);
		strbuf_release(&sb);
	}
	free(copy);
	return 0;
}
