/*
 * calendar.h - may a deployment start now? (runbook: Deployment Windows,
 * Deployment Freeze Calendar, Deployment Types; DESIGN.md "Defaults that the
 * runbook leaves open").  Backs `slipway check` and `slipway calendar`.
 *
 * The rules, evaluated at a UTC instant seen as wall-clock time in the
 * policy's timezone (struct tz_zone):
 *  1. The deployment needs a window its type may use (policy_type.windows,
 *     in order of preference) that is open: days listed, from <= time < to.
 *     The first open one is "the window used".
 *  2. Freezes override windows.  A freeze is in force on whole local days,
 *     inclusive.  Each freeze in force must admit the change class; where two
 *     overlap (Dec 29-31: holiday and quarter-end), both must admit it.
 *  3. Approvals: the type's roles, then the roles the window adds, once each.
 * Allowed = (1) and (2).  Approvals do not affect `allowed`: they are what
 * the deployment still needs (exit 0 of `check` says "you may, with these").
 *
 * Pure: time is a parameter; the zone answers offsets.  Strings in results
 * are borrowed from the policy, which must outlive them.
 */
#ifndef SLIPWAY_CORE_CALENDAR_H
#define SLIPWAY_CORE_CALENDAR_H

#include <stddef.h>
#include <stdint.h>

#include "core/policy.h"
#include "core/tz.h"

struct strbuf;

/* How far ahead next_allowed and "until" are searched (days). */
#define CALENDAR_SEARCH_DAYS 400
/* Longest range calendar_spans() accepts (days). */
#define CALENDAR_RANGE_MAX_DAYS 400
/* Room for every approval: a type's roles plus a window's. */
#define CALENDAR_APPROVALS_MAX (2 * POLICY_LIST_MAX)
/* "until" unknown (not within CALENDAR_SEARCH_DAYS): JSON null. */
#define CALENDAR_NO_TIME INT64_MIN

enum blocker_kind {
	BLOCKER_WINDOW = 0,	/* no window the type may use is open; name = that window */
	BLOCKER_FREEZE,		/* a freeze in force does not admit the class */
};

struct check_blocker {
	enum blocker_kind kind;
	const char *name;	/* the window or freeze (borrowed) */
	int64_t until_ms;	/* when this rule stops blocking (window opens, freeze ends), or CALENDAR_NO_TIME */
};

struct calendar_result {
	int allowed;		/* 1 may start at at_ms (approvals still needed), 0 blocked */
	const char *type;	/* borrowed */
	const char *change_class;
	int64_t at_ms;
	const char *window;	/* the window used, NULL when none is open */
	const char *approvals[CALENDAR_APPROVALS_MAX];
	size_t approvals_nr;
	struct check_blocker *blocked_by;	/* every rule that blocks, windows then freezes */
	size_t blocked_nr, blocked_alloc;
	int has_next;		/* next_* valid: allowed at some instant within the search bound */
	int64_t next_ms;	/* earliest instant >= at_ms when allowed (at_ms itself if allowed) */
	const char *next_window;
	const char *next_approvals[CALENDAR_APPROVALS_MAX];
	size_t next_approvals_nr;
};

/*
 * Evaluate whether a deployment of `type` with change class `cls` (NULL:
 * "normal") may start at at_ms (UTC).  Fills *out (release with
 * calendar_result_release()).  Returns 0 (whether allowed or not), or
 * SW_ENOTFOUND with "unknown deployment type 'x'; valid: ..." or "unknown
 * change class ..." in err, out untouched.
 */
int calendar_check(const struct policy *p, const struct tz_zone *zone, const char *type,
		   const char *cls, int64_t at_ms, struct calendar_result *out, struct strbuf *err);
void calendar_result_release(struct calendar_result *r);

/* A span of time in which the deployment may start. */
struct calendar_span {
	int64_t from_ms, to_ms;		/* half-open, UTC; split at local midnight */
	const char *window;		/* borrowed */
	const char *approvals[CALENDAR_APPROVALS_MAX];
	size_t approvals_nr;
};

/* One occurrence of a freeze that touches the range. */
struct calendar_freeze {
	const struct policy_freeze *freeze;	/* borrowed */
	int64_t from_date, until_date;	/* local dates (days since the epoch), inclusive */
	int64_t from_ms, to_ms;		/* the same as UTC instants, half-open */
	int blocks;			/* 1 if it does not admit the class */
};

struct calendar {
	struct calendar_span *spans;
	size_t spans_nr, spans_alloc;
	struct calendar_freeze *freezes;
	size_t freezes_nr, freezes_alloc;
};

/*
 * The spans of [from_ms, to_ms) in which a deployment of `type`/`cls` may
 * start, ascending, each with its window and approvals, split at local
 * midnight so that a table reads by day; and every freeze occurrence that
 * overlaps the range.  Returns 0, SW_ENOTFOUND for an unknown type or class,
 * or SW_EUSAGE when to <= from or the range exceeds CALENDAR_RANGE_MAX_DAYS.
 * Release *out with calendar_release().
 */
int calendar_spans(const struct policy *p, const struct tz_zone *zone, const char *type,
		   const char *cls, int64_t from_ms, int64_t to_ms, struct calendar *out,
		   struct strbuf *err);
void calendar_release(struct calendar *c);

/* The local date (days since the epoch) of instant utc_ms in zone. */
int64_t calendar_local_date(const struct tz_zone *zone, int64_t utc_ms);
/* The UTC instant at which local date `date` begins (see tz_from_local()). */
int64_t calendar_date_start(const struct tz_zone *zone, int64_t date);

#endif
