/*
 * placeholder.h - expand {name} placeholders in a text: the one expander
 * behind a service file's command and env (core/service.h service_expand())
 * and the prometheus provider's query templates (adapters/metrics_prometheus.h
 * prom_expand()).
 *
 * "{{" is a literal "{".  "{name}" is looked up with the caller's function;
 * what it appends replaces the placeholder.  An unknown name is refused
 * (strict), or, when not strict, refused only when it is a word of lower-case
 * letters and '_' (so PromQL's own braces, {job="api"}, pass as they are).
 */
#ifndef SLIPWAY_BASE_PLACEHOLDER_H
#define SLIPWAY_BASE_PLACEHOLDER_H

#include <stddef.h>

struct strbuf;

/* Append the value of the placeholder name[0..n) (not NUL-terminated) to
 * out: 1, or 0 when name is not one the caller knows. */
typedef int (*placeholder_fn)(void *ctx, const char *name, size_t n, struct strbuf *out);

/*
 * Append tmpl to out with its placeholders expanded by lookup(ctx, ...).
 * Returns 0, or SW_ECONFIG with "unknown placeholder '{x}' (valid: VALID)"
 * in err (out then holds a part of the text).
 */
int placeholder_expand(struct strbuf *out, const char *tmpl, placeholder_fn lookup, void *ctx, int strict,
		       const char *valid, struct strbuf *err);

#endif
