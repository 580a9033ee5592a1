/*
 * sarif.c - unresolved findings of a SARIF 2.1.0 log; see sarif.h.
 *
 * Design: jansson reads the document (json_loadb, bounded by the caller);
 * the walk checks only what the severity needs (version, runs[], results[],
 * level, kind, properties, the rule a result points at) and ignores the
 * rest of the large format, so a log from any producer that follows the
 * spec reads.  Errors name the JSON path.
 */
#include "core/sarif.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/err.h"
#include "base/strbuf.h"

const char *const sarif_severity_names[] = {
	[SARIF_SEV_NONE] = "none",
	[SARIF_SEV_LOW] = "low",
	[SARIF_SEV_MEDIUM] = "medium",
	[SARIF_SEV_HIGH] = "high",
	[SARIF_SEV_CRITICAL] = "critical",
	NULL,
};

const char *sarif_severity_name(enum sarif_severity s)
{
	return (unsigned)s <= SARIF_SEV_CRITICAL ? sarif_severity_names[s] : "?";
}

int sarif_severity_parse(const char *s)
{
	for (int i = 0; sarif_severity_names[i]; i++)
		if (!strcasecmp(s, sarif_severity_names[i]))
			return i;
	return -1;
}

static const char *const levels[] = { "none", "note", "warning", "error", NULL };
static const enum sarif_severity level_sev[] = { SARIF_SEV_NONE, SARIF_SEV_LOW, SARIF_SEV_MEDIUM, SARIF_SEV_HIGH };

static int fail(struct strbuf *err, const char *file, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(struct strbuf *err, const char *file, const char *fmt, ...)
{
	va_list ap;
	if (err) {
		strbuf_addf(err, "%s: ", file);
		va_start(ap, fmt);
		strbuf_vaddf(err, fmt, ap);
		va_end(ap);
	}
	return SW_EPARSE;
}

/* security-severity as a number or a numeric string; -1 when absent or not a number */
static double security_severity(json_t *props)
{
	json_t *v = json_is_object(props) ? json_object_get(props, "security-severity") : NULL;
	char *end;
	double d;

	if (json_is_number(v))
		return json_number_value(v);
	if (!json_is_string(v))
		return -1;
	d = strtod(json_string_value(v), &end);
	return end != json_string_value(v) && !*end && d >= 0 && d <= 10 ? d : -1;
}

static enum sarif_severity from_score(double s)
{
	return s >= 9.0 ? SARIF_SEV_CRITICAL : s >= 7.0 ? SARIF_SEV_HIGH : s >= 4.0 ? SARIF_SEV_MEDIUM :
	       s > 0 ? SARIF_SEV_LOW : SARIF_SEV_NONE;
}

static int level_index(json_t *v)
{
	for (int i = 0; levels[i]; i++)
		if (!strcmp(json_string_value(v), levels[i]))
			return i;
	return -1;
}

/* The rule a result names: rules[ruleIndex], else the rule whose id is ruleId. */
static json_t *find_rule(json_t *rules, json_t *result)
{
	json_t *ix = json_object_get(result, "ruleIndex"), *id = json_object_get(result, "ruleId"), *r;
	size_t i;

	if (!json_is_array(rules))
		return NULL;
	if (json_is_integer(ix) && json_integer_value(ix) >= 0 && (size_t)json_integer_value(ix) < json_array_size(rules))
		return json_array_get(rules, (size_t)json_integer_value(ix));
	if (!json_is_string(id))
		return NULL;
	json_array_foreach(rules, i, r) {
		json_t *rid = json_object_get(r, "id");
		if (json_is_string(rid) && !strcmp(json_string_value(rid), json_string_value(id)))
			return r;
	}
	return NULL;
}

static int suppressed(json_t *result)
{
	json_t *s = json_object_get(result, "suppressions"), *x;
	size_t i;

	if (!json_is_array(s))
		return 0;
	json_array_foreach(s, i, x) {
		json_t *st = json_object_get(x, "status");
		/* 3.35.3: a suppression without status is accepted */
		if (!st || (json_is_string(st) && !strcmp(json_string_value(st), "accepted")))
			return 1;
	}
	return 0;
}

static void location_of(json_t *result, char *out, size_t max)
{
	json_t *loc = json_array_get(json_object_get(result, "locations"), 0);
	json_t *phys = json_object_get(loc, "physicalLocation");
	json_t *uri = json_object_get(json_object_get(phys, "artifactLocation"), "uri");
	json_t *line = json_object_get(json_object_get(phys, "region"), "startLine");

	out[0] = 0;
	if (!json_is_string(uri))
		return;
	if (json_is_integer(line))
		snprintf(out, max, "%.200s:%lld", json_string_value(uri), (long long)json_integer_value(line));
	else
		snprintf(out, max, "%.200s", json_string_value(uri));
}

int sarif_read(const char *buf, size_t len, const char *file, enum sarif_severity fail_at, struct sarif_report *out,
	       struct strbuf *err)
{
	struct sarif_report rep = { 0 };
	json_error_t je;
	json_t *doc, *runs, *run;
	char path[64];
	size_t i;
	int r = 0;

	file = file ? file : "<sarif>";
	if (len > SARIF_MAX_BYTES)
		return fail(err, file, "the file is larger than %u bytes; split the log", SARIF_MAX_BYTES);
	doc = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	if (!doc) {
		if (err)
			strbuf_addf(err, "%s:%d:%d: not JSON: %s; expected a SARIF 2.1.0 log", file, je.line, je.column,
				    je.text);
		return SW_EPARSE;
	}
	if (!json_is_object(doc)) {
		r = fail(err, file, "the top level must be an object with version and runs");
		goto out;
	}
	if (!json_is_string(json_object_get(doc, "version")) ||
	    strcmp(json_string_value(json_object_get(doc, "version")), "2.1.0")) {
		r = fail(err, file, "version must be \"2.1.0\" (SARIF 2.1.0 is the version slipway reads)");
		goto out;
	}
	runs = json_object_get(doc, "runs");
	if (!json_is_array(runs) || !json_array_size(runs)) {
		/* an empty log is no scan: it must not satisfy a vulnerability gate */
		r = fail(err, file, json_is_array(runs) ? "runs is empty: the log holds no scan (a scanner that ran writes "
							   "one run, with results: [] when it found nothing)"
							 : "runs must be an array of runs");
		goto out;
	}
	json_array_foreach(runs, i, run) {
		json_t *results = json_object_get(run, "results"), *res;
		json_t *rules = json_object_get(json_object_get(json_object_get(run, "tool"), "driver"), "rules");
		size_t j;

		if (!json_is_object(run)) {
			snprintf(path, sizeof(path), "runs[%zu]", i);
			r = fail(err, file, "%s: a run must be an object", path);
			goto out;
		}
		if (!results || json_is_null(results))
			continue;	/* 3.14.23: null when the tool did not run to the end */
		if (!json_is_array(results)) {
			snprintf(path, sizeof(path), "runs[%zu].results", i);
			r = fail(err, file, "%s must be an array of results", path);
			goto out;
		}
		json_array_foreach(results, j, res) {
			json_t *rule, *lv, *kind, *bs, *msg, *id;
			enum sarif_severity sev;
			double score;

			snprintf(path, sizeof(path), "runs[%zu].results[%zu]", i, j);
			if (!json_is_object(res)) {
				r = fail(err, file, "%s: a result must be an object", path);
				goto out;
			}
			rep.results++;
			rule = find_rule(rules, res);
			kind = json_object_get(res, "kind");
			if (kind && (!json_is_string(kind))) {
				r = fail(err, file, "%s: kind must be a string", path);
				goto out;
			}
			if (kind && strcmp(json_string_value(kind), "fail"))
				continue;
			bs = json_object_get(res, "baselineState");
			if (json_is_string(bs) && !strcmp(json_string_value(bs), "absent"))
				continue;
			if (suppressed(res))
				continue;
			lv = json_object_get(res, "level");
			if (!lv)
				lv = json_object_get(json_object_get(rule, "defaultConfiguration"), "level");
			if (lv && (!json_is_string(lv) || level_index(lv) < 0)) {
				r = fail(err, file, "%s: level '%s' is not one of none, note, warning, error", path,
					 json_is_string(lv) ? json_string_value(lv) : "(not a string)");
				goto out;
			}
			score = security_severity(json_object_get(res, "properties"));
			if (score < 0)
				score = security_severity(json_object_get(rule, "properties"));
			sev = score >= 0 ? from_score(score) : lv ? level_sev[level_index(lv)] : SARIF_SEV_MEDIUM;
			if (sev == SARIF_SEV_NONE)
				continue;
			rep.findings[sev]++;
			if (fail_at != SARIF_SEV_NONE && sev >= fail_at)
				rep.failing++;	/* fail_at none: report only, nothing fails */
			if (!rep.has_worst || sev > rep.worst.severity) {
				rep.has_worst = 1;
				rep.worst.severity = sev;
				id = json_object_get(res, "ruleId");
				if (!json_is_string(id))
					id = json_object_get(rule, "id");
				snprintf(rep.worst.rule, sizeof(rep.worst.rule), "%s", json_is_string(id) ? json_string_value(id) : "");
				msg = json_object_get(json_object_get(res, "message"), "text");
				snprintf(rep.worst.message, sizeof(rep.worst.message), "%s",
					 json_is_string(msg) ? json_string_value(msg) : "");
				location_of(res, rep.worst.location, sizeof(rep.worst.location));
			}
		}
	}
	*out = rep;
out:
	json_decref(doc);
	return r;
}

void sarif_describe(const struct sarif_report *r, enum sarif_severity fail_at, struct strbuf *out)
{
	size_t total = 0;
	for (int s = SARIF_SEV_LOW; s <= SARIF_SEV_CRITICAL; s++)
		total += r->findings[s];
	if (fail_at == SARIF_SEV_NONE) {
		strbuf_addf(out, "fail_at none: %zu finding%s reported, none fails the item (%zu results)", total,
			    total == 1 ? "" : "s", r->results);
		return;
	}
	if (!r->failing) {
		strbuf_addf(out, "no findings at or above %s (%zu results, %zu below)", sarif_severity_name(fail_at),
			    r->results, total);
		return;
	}
	strbuf_addf(out, "%zu finding%s at or above %s", r->failing, r->failing == 1 ? "" : "s",
		    sarif_severity_name(fail_at));
	if (r->has_worst) {
		strbuf_addf(out, ": %s", sarif_severity_name(r->worst.severity));
		if (r->worst.rule[0])
			strbuf_addf(out, " '%s'", r->worst.rule);
		if (r->worst.location[0])
			strbuf_addf(out, " at %s", r->worst.location);
		if (r->worst.message[0])
			strbuf_addf(out, ": %s", r->worst.message);
	}
}
