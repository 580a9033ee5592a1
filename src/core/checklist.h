/*
 * checklist.h - the runbook's checklists as data in the policy: the
 * built-in lists (runbook v1.0: Pre-Deployment Checklist, Emergency
 * Deployment Checklist, Post-Deployment Activities), the `checklists:`
 * section of slipway.yaml merged over them, and the pure evaluation the
 * gate and `slipway checklist` share.  Types: checklist-t.h.  Format and
 * the decisions on what blocks by default: docs/checklists.md.
 *
 * Pure: no I/O, no clock.
 */
#ifndef SLIPWAY_CORE_CHECKLIST_H
#define SLIPWAY_CORE_CHECKLIST_H

#include <stddef.h>
#include <stdint.h>

#include "core/checklist-t.h"
#include "core/yaml_walk.h"

struct strbuf;
struct policy;

#define CHECKLIST_ID_MAX	63	/* bytes in an item id */
#define CHECKLIST_ITEMS_MAX	256	/* items in a policy */

/* Fill s with the built-in items (runbook v1.0; docs/checklists.md lists
 * them with what blocks by default).  s is overwritten, not released. */
void checklist_init_default(struct checklist_set *s);

/* Free everything s owns and zero it.  NULL accepted. */
void checklist_release(struct checklist_set *s);

/* The item called id, or NULL.  Borrowed from s. */
const struct checklist_item *checklist_find(const struct checklist_set *s, const char *id);

/* Whether item applies to a deployment of `type`: pre-deployment and
 * post-deployment items apply to every type, emergency items to the type
 * named "emergency" only.  1 or 0. */
int checklist_applies(const struct checklist_item *it, const char *type);

/* Whether an unsatisfied item keeps a deployment of `type` pending (it
 * applies, and its blocks: list names the type or is `all`).  1 or 0. */
int checklist_blocks(const struct checklist_item *it, const char *type);

/* Names as the policy file spells them (static strings); the parse
 * functions return the enum value or -1 for an unknown name. */
const char *checklist_list_name(enum checklist_list l);
const char *checklist_check_name(enum checklist_check c);
/* NULL-terminated tables of the names above, indexed by the enum. */
extern const char *const checklist_list_names[];
extern const char *const checklist_check_names[];

/*
 * The state of one item for one deployment, as the gate and `slipway
 * checklist` report it.  CL_SATISFIED: proved or attested pass;
 * CL_FAILED: attested fail, or proved false (a reason says why);
 * CL_MISSING: nothing yet; CL_UNCHECKED: an item slipway would prove but
 * does not check at this point (reported, never blocking).
 */
enum checklist_state {
	CL_MISSING = 0,
	CL_SATISFIED,
	CL_FAILED,
	CL_UNCHECKED,
};
const char *checklist_state_name(enum checklist_state s);

/*
 * Warnings about a merged set (one line each, "warning: ...\n", appended to
 * out; nothing when all is well): an item the gate has always enforced
 * (no-incidents, window-confirmed, vp-approval) that the policy removed.
 * The rule itself still holds at the gate (docs/checklists.md "What blocks
 * by default"); only its line in `slipway checklist` and its evidence are
 * gone, which a team rarely means.  Returns the number of warnings.
 */
int checklist_warnings(const struct checklist_set *s, struct strbuf *out);

/* ---- for the policy loader (policy_load.c, policy_show.c) -------------- */

/* The `checklists:` key of the policy's root map: items by id, each a
 * mapping of list, text, who, check, blocks, fail_at; `ID: ~` removes one.
 * dst is the struct checklist_set.  0 or YAML_WALK_ERR (FILE:LINE:COL). */
yaml_parse_fn checklist__parse_section;
/* Cross references once the whole policy is merged: `who` names a role of
 * p (or automation/anyone), `blocks` names types of p.  0 or YAML_WALK_ERR. */
int checklist__validate(struct yaml_walk *w, const struct policy *p);
/* The `checklists:` section as YAML (loads back to the same items). */
void checklist__format_yaml(const struct checklist_set *s, struct strbuf *out);

#endif
