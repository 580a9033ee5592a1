/*
 * fuzz_argo_expr.c - libFuzzer target for Argo's condition language
 * (src/core/argo_expr.c): any bytes must parse or give "column N: ..."
 * with N inside the text (or one past it); a parsed condition must
 * evaluate on a scalar, an empty vector and a vector holding NaN and
 * infinities without a crash, and give a phase for each.
 */
#include "core/argo_expr.h"
#include "base/strbuf.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	struct argo_expr *e = NULL;
	struct strbuf err = STRBUF_INIT;
	int col = 0;

	memcpy(text, data, size);
	text[size] = '\0';
	if (argo_expr_parse(text, &e, &col, &err) == 0) {
		double v[4] = { 0.5, NAN, INFINITY, -1 };
		struct argo_result rs[3] = { { 0, 0.97, NULL, 0 }, { 1, 0, v, 0 }, { 1, 0, v, 4 } };
		for (int i = 0; i < 3; i++) {
			strbuf_reset(&err);
			int r = argo_expr_eval(e, &rs[i], &err);
			if (r < 0 && !err.len)
				abort();	/* an evaluation error says why */
			strbuf_reset(&err);
			if (argo_measure(e, i == 2 ? e : NULL, &rs[i], &err) > ARGO_FAILED)
				abort();
		}
		argo_expr_free(e);
	} else if (!err.len || col < 1 || (size_t)col > strlen(text) + 1) {
		abort();	/* a refusal names a column inside the text */
	}
	strbuf_release(&err);
	free(text);
	return 0;
}
