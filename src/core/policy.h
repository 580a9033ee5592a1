/*
 * policy.h - the deployment policy: the built-in default (the runbook v1.0,
 * all of it), loading `slipway.yaml` over it, and the questions other
 * modules ask (type rules, required approvals, who holds a role, how long an
 * approval lasts).  Types: policy-t.h.  Format and defaults: docs/policy.md.
 *
 * Pure: the caller reads the file (strbuf_read_file_max) and hands over the
 * bytes; a zone database (struct tz_db, src/adapters/tz.c) answers whether a
 * `timezone:` exists.
 */
#ifndef SLIPWAY_CORE_POLICY_H
#define SLIPWAY_CORE_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "core/policy-t.h"
#include "core/rules-t.h"
#include "core/tz.h"

struct strbuf;

/* Limits on a policy file (bounded input; docs/policy.md). */
#define POLICY_NAME_MAX		63	/* bytes in a role, window, freeze, type, class name */
#define POLICY_TEXT_MAX		1024	/* bytes in a description, reason, testing text */
#define POLICY_LIST_MAX		64	/* entries in one list (approvals, admits, people, ...) */
#define POLICY_ENTRIES_MAX	256	/* entries in one section (windows, freezes, types, ...) */
#define POLICY_FILE_MAX		(1024 * 1024)	/* bytes the CLI reads from a policy file */

/* The source string of the built-in policy. */
#define POLICY_BUILTIN_SOURCE "built-in (runbook v1.0)"

/*
 * Fill p with the built-in default: the runbook v1.0 (Deployment Windows,
 * Freeze Calendar, Deployment Types, Rollback Decision Criteria, Deployment
 * Metrics to Track) plus DESIGN.md's decisions where the runbook is silent.
 * p is overwritten (not released first).  Release with policy_release().
 */
void policy_init_default(struct policy *p);

/* Free everything p owns and zero it.  NULL and zeroed policies accepted. */
void policy_release(struct policy *p);

/*
 * Load a policy file from the bytes buf[0..len) (need not be NUL-terminated);
 * filename is only used in messages.  The file is merged over the built-in
 * default: each section's entries are matched by name, the keys given replace
 * those of the default entry, new names add entries, and `name: ~` (null)
 * removes an entry.  `base: none` at the top starts from an empty policy
 * instead (then the file must define everything).  See docs/policy.md.
 *
 * db, if not NULL, decides whether `timezone:` names an existing zone
 * (without it, any well-formed name is accepted).
 *
 * On success fills *out (caller releases with policy_release()) and returns
 * 0.  On failure returns SW_ECONFIG (every fault of every YAML file:
 * core/yaml_walk.h), leaves *out untouched and appends one
 * line "FILE:LINE:COL: what is wrong; what would be valid" to err (for
 * example "slipway.yaml:7:5: unknown key 'monitor' in type 'standard'; did
 * you mean 'monitoring'?").  Never crashes on any input (fuzzed:
 * tests/fuzz/fuzz_policy.c).
 */
int policy_load(struct policy *out, const char *buf, size_t len, const char *filename,
		const struct tz_db *db, struct strbuf *err);

/* Lookups by name; NULL when absent.  Pointers into p, valid while p lives. */
const struct policy_type *policy_find_type(const struct policy *p, const char *name);
const struct policy_window *policy_find_window(const struct policy *p, const char *name);
const struct policy_freeze *policy_find_freeze(const struct policy *p, const char *name);
const struct policy_role *policy_find_role(const struct policy *p, const char *name);
const struct policy_class *policy_find_class(const struct policy *p, const char *name);

/*
 * Fill *out with the rollout rules of deployment type `type` (runbook:
 * Deployment Types; Rollback Decision Criteria for the immediate/consider
 * numbers).  Returns 0, or SW_ENOTFOUND with "unknown deployment type 'x';
 * valid: ..." in err (out untouched).  A strategy name longer than
 * type_rules.strategy holds cannot occur: the loader bounds it.
 */
int policy_type_rules(const struct policy *p, const char *type, struct type_rules *out,
		      struct strbuf *err);

/*
 * The roles whose approval a deployment of `type` needs when it starts in
 * window `window` (NULL: none, the type's own roles only): the type's roles,
 * then the roles the window adds, without duplicates (a hotfix in the
 * extended window needs engineering-manager once).  Writes at most max
 * borrowed names into out[]; returns the count (which may exceed max: call
 * again with more room), or SW_ENOTFOUND with a message in err for an
 * unknown type or window.  POLICY_LIST_MAX * 2 entries always suffice.
 */
int policy_required_approvals(const struct policy *p, const char *type, const char *window,
			      const char **out, size_t max, struct strbuf *err);

/* The people holding role `role` (the `roles:` map), or NULL for an unknown
 * role.  Borrowed from p.  An empty list means nobody is named yet. */
const struct policy_names *policy_role_people(const struct policy *p, const char *role);

/* Whether `person` holds `role`.  1 yes, 0 no (also for unknown roles). */
int policy_person_has_role(const struct policy *p, const char *role, const char *person);

/* How long an approval stays valid after it is given, ms (default 24h). */
int64_t policy_approval_ttl_ms(const struct policy *p);

/* Whether freeze f admits change class `cls` (by name). */
int policy_freeze_admits(const struct policy_freeze *f, const char *cls);

/*
 * The effective policy p as YAML text appended to out, commented where the
 * runbook was silent and slipway decided.  It starts with `base: none`, so
 * it loads back through policy_load() to the same policy.
 */
void policy_format_yaml(const struct policy *p, struct strbuf *out);

/* Names for enums, as the policy file spells them (static strings). */
const char *policy_criterion_name(enum type_criterion c);
const char *policy_freeze_kind_name(enum freeze_kind k);
const char *policy_window_close_name(enum window_close_action a);
/* "rollback" or "pause" (policy `fleet.on_host_lost`). */
const char *policy_host_lost_name(enum host_lost_action a);
/* Weekday abbreviation "sun".."sat" for 0..6. */
const char *policy_day_name(int wday);

#endif
