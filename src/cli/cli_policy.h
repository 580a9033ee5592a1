/*
 * cli_policy.h - the effective policy for one command: the file named by
 * --policy / $SLIPWAY_POLICY / ./slipway.yaml merged over the built-in
 * runbook v1.0 default (docs/policy.md), with its time zone opened.
 * Every command that applies policy (check, calendar, analyze, deploy, the
 * controller) loads it through here, so they all answer from the same rules.
 */
#ifndef SLIPWAY_CLI_CLI_POLICY_H
#define SLIPWAY_CLI_CLI_POLICY_H

#include "adapters/tz.h"
#include "core/policy.h"

struct type_rules;
struct strbuf;

struct cli_policy {
	struct policy p;
	struct tz_system tz;	/* p.timezone, opened; pass &tz.zone to the calendar */
	int have_policy;
};

/*
 * Load path (NULL: the built-in default) into *l.  Errors are printed
 * (FILE:LINE:COL for a bad file).  Returns EXIT_OK or EXIT_USAGE; on
 * success release with cli_policy_release().
 */
int cli_policy_load(const char *path, struct cli_policy *l);
void cli_policy_release(struct cli_policy *l);

/*
 * A controller_hooks.rules-shaped function: ctx is a `struct cli_policy *`;
 * fills the type's rules from the policy (policy_type_rules()).
 */
int cli_policy_rules(void *ctx, const char *type, struct type_rules *out, struct strbuf *err);

#endif
