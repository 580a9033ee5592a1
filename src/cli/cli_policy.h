/*
 * cli_policy.h - the effective policy for one command: the file named by
 * --policy / $SLIPWAY_POLICY / ./slipway.yaml merged over the built-in
 * runbook v1.0 default (docs/policy.md), with its time zone opened.
 * Every command that applies policy (check, calendar, analyze, deploy, the
 * controller) loads it through here, so they all answer from the same rules.
 */
#ifndef SLIPWAY_CLI_CLI_POLICY_H
#define SLIPWAY_CLI_CLI_POLICY_H

#include "controller/policy_file.h"
#include "core/policy.h"

#include <stddef.h>
#include <stdint.h>

struct type_rules;
struct strbuf;


/*
 * Print a policy file's errors (policy_file_load()'s err: one per line,
 * "FILE:LINE:COL: what is wrong") to stderr as every other error is, each
 * line "slipway: error: ..."; a line "warning: ..." as "slipway: warning: ...".
 */
void cli_policy_print_errors(const char *msg);

/*
 * Load path (NULL: the built-in default) into *l.  Errors are printed
 * (FILE:LINE:COL for a bad file).  Returns EXIT_OK or EXIT_USAGE; on
 * success release with cli_policy_release().
 */
int cli_policy_load(const char *path, struct policy_file *l);
void cli_policy_release(struct policy_file *l);

/*
 * A controller_hooks.rules-shaped function: ctx is a `struct policy_file *`;
 * fills the type's rules from the policy (policy_type_rules()).
 */
int cli_policy_rules(void *ctx, const char *type, struct type_rules *out, struct strbuf *err);

/*
 * The rules of deployment type `type` (core/rules.h) in the effective policy
 * at path (NULL: the built-in one), for commands that replay or simulate a
 * deployment (`analyze`, `simulate`).  EXIT_OK, or the error printed and
 * EXIT_USAGE (an invalid policy, an unknown type).
 */
int cli_type_rules(const char *path, const char *type, struct type_rules *out);

struct rollout_config;
/*
 * Read and parse a rollout file (a Flagger Canary, an Argo Rollout, a
 * slipway strategy: core/rollout_config.h) at path, bounded to
 * ROLLOUT_CONFIG_MAX_BYTES, into *cfg (`analyze` and `simulate`).  0, or
 * prints FILE:LINE:COL: what is wrong and returns < 0.
 */
int cli_read_rollout_config(const char *path, struct rollout_config *cfg);


struct type_rules;
/*
 * Read the strategy file that `analyze` and `simulate --config` take: a
 * rollout file as cli_read_rollout_config() reads, or a service file
 * (services/NAME.yaml, docs/services.md), whose strategy is the one `deploy`
 * uses: its `analysis.canary` file (relative to the service file's directory),
 * else the type's strategy kind from rules with the service's `analysis.steps`
 * (core/service.h service_strategy()).  A file is a service file when a line
 * starts with `command:`.  0 with cfg->format "service" for a service file's
 * own steps, or prints FILE:LINE:COL: what is wrong and returns < 0.
 * judge (judge_n bytes, may be NULL) gets a service file's `judge:` (its
 * default, "sequential", when the file names none), "" for a rollout file:
 * see cli_apply_service_judge().
 */
int cli_read_strategy_file(const char *path, const struct type_rules *rules, struct rollout_config *cfg, char *judge,
			   size_t judge_n);

/* Whether step i (0-based) of cfg waits for a person's promote: an Argo
 * Rollout's indefinite pause (`pause: {}`, core/argo.h manual[]). */
int cli_step_is_manual(const struct rollout_config *cfg, int i);
/*
 * Warn (cli_warning) when what `simulate` or `analyze` would replay judges
 * nothing: no step of cfg puts traffic on the new revision before promotion
 * (a blue-green switch, the full strategy) and through_monitoring is 0, or
 * the type monitors continuously (emergency) and through_monitoring is 1, so
 * nobody ends the monitoring in a replay.  what names the file, or NULL for
 * the type's default strategy.  Returns 1 when it warned.
 */
int cli_warn_unjudged(const char *what, const struct rollout_config *cfg, const struct type_rules *rules,
		      int through_monitoring);
/*
 * How step i (0-based) of cfg holds, as `inspect` and `simulate` show it:
 * "wait for a person's promote" (cli_step_is_manual()), "no hold" (0 ms,
 * e.g. a setWeight followed by an analysis), else "hold 30s"
 * (duration_format()).  Written into buf (n bytes, 64 is enough), returned.
 */
const char *cli_step_hold(const struct rollout_config *cfg, int i, char *buf, size_t n);

/*
 * The judge `deploy` would use, into rules->judge.name: an explicit
 * --judge flag (flag, NULL when not given) wins; else a service file's
 * `judge:` other than the catalogue's default (sequential); else the
 * policy's `judge: name` already in rules (controller/registry.c
 * judge_open_impl() is the same order for a deployment; docs/simulate.md).
 */
void cli_apply_service_judge(struct type_rules *rules, const char *flag, const char *svc_judge);

#endif
