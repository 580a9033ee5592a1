/*
 * policy_file.h - the effective policy of a process: the file at a path
 * merged over the built-in runbook v1.0 default (docs/policy.md), with its
 * time zone opened.  The CLI (cli/cli_policy.h) and the HTTP API
 * (server/api.h) load it through here, so both answer from the same rules
 * with the same messages.
 */
#ifndef SLIPWAY_CONTROLLER_POLICY_FILE_H
#define SLIPWAY_CONTROLLER_POLICY_FILE_H

#include "adapters/tz.h"
#include "core/policy.h"

#include <stddef.h>
#include <stdint.h>

struct strbuf;

struct policy_file {
	struct policy p;
	struct tz_system tz;	/* p.timezone, opened; pass &tz.zone to the calendar */
	int have_policy;
};

/*
 * Load path (NULL: the built-in default) into *l.  Returns 0, or on failure
 * (nothing to release): SW_EPOLICY with "FILE:LINE:COL: what is wrong" in
 * err for a bad file (*positional set to 1: the message names its place
 * itself), -errno with "cannot read the policy: ..." for a file that cannot
 * be read, SW_EPOLICY with the zone's error for an unknown time zone.
 * positional may be NULL.  Release with policy_file_release().
 */
int policy_file_load(const char *path, struct policy_file *l, int *positional, struct strbuf *err);
void policy_file_release(struct policy_file *l);

/*
 * The approvals a deployment of `type` and change class `cls` needs at
 * at_ms: the type's roles plus those of the window open then (runbook:
 * Deployment Types "Approval Required"; Deployment Windows "Extended:
 * Manager approval"), or the type's alone outside every window.  Fills
 * out[0..max) with role names borrowed from l; returns their count, or
 * < 0 with err (an unknown type or class).
 */
int policy_approvals_at(const struct policy_file *l, const char *type, const char *cls, int64_t at_ms,
			const char **out, size_t max, struct strbuf *err);

#endif
