/*
 * yaml_text.h - the bytes every YAML file of slipway's must be before
 * libfyaml sees them (policy, rollout files, service files, notifications).
 *
 * libfyaml 0.7.12 (Debian 12) mishandles some input that no slipway file
 * needs, all found by the fuzz targets in tests/fuzz/: it loops forever on
 * invalid UTF-8 or a NUL inside a directive line ("%\xb5"), and crashes on
 * "? c:<TAB>? e:".  So slipway's files are UTF-8 text without control
 * characters or tabs, with no directive other than "%YAML 1.x".  Each is a
 * rule a person can follow, and the error says which line and column broke it.
 */
#ifndef SLIPWAY_CORE_YAML_TEXT_H
#define SLIPWAY_CORE_YAML_TEXT_H

#include <stddef.h>

struct yaml_text_error {
	int line, col;		/* 1-based position of the first offence */
	char msg[128];		/* what is wrong and what would be valid, lowercase */
};

/*
 * Check buf[0..len).  Returns 0, or -1 with *e filled: a NUL or other
 * control character (other than newline and carriage return), a tab, bytes
 * that are not UTF-8, or a directive line other than "%YAML 1.x".
 */
int yaml_text_check(const char *buf, size_t len, struct yaml_text_error *e);

struct strbuf;

/*
 * Append s (NULL: the empty string) to out as a YAML double-quoted scalar:
 * '"' and '\\' escaped, control characters as \xNN, so what slipway prints
 * (`policy show`) loads back through yaml_text_check() and libfyaml unchanged.
 */
void yaml_text_add_quoted(struct strbuf *out, const char *s);

#endif
