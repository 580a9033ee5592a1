/*
 * pack_file.h - an agent pack's definition, packs/NAME.yaml (docs/flags.md
 * "Agent packs"): what `slipway pack deploy` needs to ship a pack the way
 * the runbook does (deploy to staging, run the pack's tests, deploy to
 * production disabled, enable `agent:NAME:enabled` for a segment, then the
 * guarded gradual rollout):
 *
 *   service: billing-api          # required: the service that ships the pack
 *   tests: ./packs/billing/test.sh   # required: run in the project directory
 *   flag: agent:billing:enabled   # default agent:NAME:enabled
 *   segment: canary-users         # default canary-users
 *   steps: [5, 25, 50, 100]       # percents, default 5, 25, 50, 100
 *   interval: 30m                 # each step's hold, default 30m, at least 10s
 *   tests_timeout: 10m            # default 10m
 *
 * Read by the one YAML walker (docs/yaml.md): faults are "FILE:LINE:COL:
 * message" at the value at fault, a misspelt key with the nearest valid one.
 * Pure: the caller reads the file (bounded) and hands over its bytes.
 */
#ifndef SLIPWAY_CORE_PACK_FILE_H
#define SLIPWAY_CORE_PACK_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "base/limits.h"
#include "core/flag.h"
#include "core/yaml_walk.h"

struct strbuf;

#define PACK_FILE_MAX (64 * 1024)	/* bytes of a pack file */
#define PACK_STEPS_MAX 20
#define PACK_TESTS_MAX 4096		/* bytes of the tests command */

struct pack_def {
	char name[SW_NAME_MAX + 1];		/* the pack's name (the file's, given by the caller) */
	char service[SW_NAME_MAX + 1];
	char flag[FLAG_KEY_MAX + 1];
	char segment[FLAG_KEY_MAX + 1];
	char *tests;				/* the command, run by /bin/sh -c (owned) */
	double steps[PACK_STEPS_MAX];		/* percents, strictly increasing, in (0, 100] */
	int nsteps;
	int64_t interval_ms;
	int64_t tests_timeout_ms;
	struct yaml_pos at_service, at_flag, at_segment, at_steps;	/* where each was given (line 0: not) */
};

/*
 * Parse buf[0..len) (named `file` in messages) as pack `name`'s definition
 * into *out (defaults filled in).  name must be a valid service-style name
 * (the caller checks it, as it names the file).  Returns 0, or SW_ECONFIG
 * with one line "FILE:LINE:COL: message" in err; on failure *out holds
 * nothing to release.  Release with pack_def_release().
 */
int pack_file_parse(const char *file, const char *name, const char *buf, size_t len, struct pack_def *out,
		    struct strbuf *err);
void pack_def_release(struct pack_def *d);

/* "5%,25%,50%,100%": d's steps as `rollout flag --steps` takes them, into out (n bytes). */
void pack_steps_format(const struct pack_def *d, char *out, size_t n);

#endif
