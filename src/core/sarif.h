/*
 * sarif.h - the findings of a SARIF 2.1.0 log (OASIS Static Analysis
 * Results Interchange Format, version 2.1.0) for the checklist item "No
 * unresolved security vulnerabilities" (runbook: Pre-Deployment Checklist,
 * Code Readiness; docs/checklists.md).
 *
 * A result counts as an unresolved finding unless its kind is other than
 * "fail" (SARIF 3.27.9), its baselineState is "absent" (3.27.24: fixed), or
 * it carries an accepted suppression (3.27.23, 3.35.3).  Its severity is
 * the numeric `security-severity` property of the result or of its rule
 * (the convention GitHub code scanning reads: >= 9.0 critical, >= 7.0
 * high, >= 4.0 medium, > 0 low), else its level (3.27.10; the rule's
 * defaultConfiguration.level, then "warning"): error high, warning medium,
 * note low, none none.
 *
 * Pure: the caller reads the file (bounded by SARIF_MAX_BYTES).
 */
#ifndef SLIPWAY_CORE_SARIF_H
#define SLIPWAY_CORE_SARIF_H

#include <stddef.h>

#include "core/checklist-t.h"

struct strbuf;

/* "none", "low", "medium", "high", "critical" (static), indexed by the enum,
 * NULL-terminated; parse: the enum value, or -1 for an unknown name. */
extern const char *const sarif_severity_names[];
const char *sarif_severity_name(enum sarif_severity s);
int sarif_severity_parse(const char *s);

#define SARIF_MAX_BYTES (16u * 1024 * 1024)	/* bytes of a SARIF file slipway reads */

struct sarif_finding {
	enum sarif_severity severity;
	char rule[128];			/* ruleId, or "" */
	char message[256];		/* message.text, cut */
	char location[256];		/* "uri:line" of the first location, or "" */
};

struct sarif_report {
	size_t results;			/* results read, findings or not */
	size_t findings[SARIF_SEV_CRITICAL + 1];	/* unresolved findings by severity */
	size_t failing;			/* findings at or above fail_at */
	struct sarif_finding worst;	/* the first finding of the highest severity */
	int has_worst;
};

/*
 * Read the SARIF 2.1.0 log buf[0..len) (need not be NUL-terminated) named
 * `file` in messages, counting findings at or above fail_at into
 * out->failing (fail_at SARIF_SEV_NONE: none is counted, the log is
 * reported only; docs/checklists.md).  Returns 0 and fills *out, or SW_EPARSE with one line in
 * err naming the file and the JSON path at fault ("FILE: runs[0].results[3]:
 * level 'fatal' is not one of none, note, warning, error") and leaves *out
 * untouched.  Never crashes on any input (fuzzed: tests/fuzz/fuzz_sarif.c).
 */
int sarif_read(const char *buf, size_t len, const char *file, enum sarif_severity fail_at, struct sarif_report *out,
	       struct strbuf *err);

/* "2 findings at or above high: critical 'js/sql-injection' at src/db.js:14: ..." or "no findings at or
 * above high (3 results)", appended to out. */
void sarif_describe(const struct sarif_report *r, enum sarif_severity fail_at, struct strbuf *out);

#endif
