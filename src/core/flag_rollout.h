/*
 * flag_rollout.h - the pure decisions of a guarded flag rollout
 * (docs/flags.md "Guarded flag rollout"): `slipway rollout flag FLAG --steps
 * 5%,25%,50%,100% --interval 30m [--segment SEG]` is a deployment of the
 * service whose requests report the flag's variant, whose "new revision" is
 * the flag's enabled cohort and whose "stable revision" its disabled cohort
 * (both named "flag:FLAG=VARIANT", the builtin provider's cohorts,
 * adapters/metrics_builtin.h), and whose "router" sets the flag's rollout
 * percentage instead of HAProxy weights.  No I/O, no clock.
 *
 * Sources: the runbook's agent-pack procedure (`gradual-rollout.sh --steps
 * "5%,25%,50%,100%" --interval 30m`, after enabling the canary-users
 * segment); the engine's canary semantics (docs/engine.md).
 */
#ifndef SLIPWAY_CORE_FLAG_ROLLOUT_H
#define SLIPWAY_CORE_FLAG_ROLLOUT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct strbuf;
struct strategy;

#define FLAG_COHORT_PREFIX "flag:"
#define FLAG_ROLLOUT_RULE "rollout"	/* the rule a flag rollout owns (cmd_flag's `set --percentage`) */

/*
 * "flag:FLAG=VARIANT" into out (n bytes).  0, or SW_ETOOBIG when it does
 * not fit (a deployment's version holds SW_NAME_MAX bytes).
 */
int flag_cohort_format(char *out, size_t n, const char *flag, const char *variant);

/*
 * Split version "flag:FLAG=VARIANT" at its last '=' into flag and variant
 * (fn and vn bytes).  1 when it is a cohort, 0 when version is a revision
 * (no "flag:" prefix: a revision's name never holds ':'), SW_EUSAGE when it
 * has the prefix but no non-empty FLAG and VARIANT, or they do not fit.
 */
int flag_cohort_parse(const char *version, char *flag, size_t fn, char *variant, size_t vn);

/*
 * Parse --steps ("5%,25%,50%,100%": whole or decimal percents, '%'
 * optional, each in (0, 100], strictly increasing) and --interval (each
 * step's hold, ms >= 10 s) into a canary strategy: one step per percentage
 * held interval_ms, judged every analysis interval (the engine's default,
 * 1 minute, or the hold when shorter).  0, or SW_EUSAGE with what is wrong
 * and what would be valid in err.
 */
int flag_rollout_strategy(const char *steps, int64_t interval_ms, struct strategy *out, struct strbuf *err);

/*
 * The variants a rollout compares, from a boolean flag's definition (after
 * flag_validate()): the variant whose value is true (enabled) and the one
 * whose value is false (disabled), names borrowed from def.  0, or
 * SW_EUSAGE when the flag is not boolean or lacks either variant.
 */
int flag_rollout_variants(const json_t *def, const char **on, const char **off, struct strbuf *err);

/*
 * Set def (a flag definition, edited in place) to serve its enabled variant
 * to percentage percent (0-100, whole; rounded down) of everyone, sticky on
 * the targeting key (or the rule's own stickiness and group), in the rule
 * flag_rollout_rule() finds (FLAG_ROLLOUT_RULE created last when there is
 * none, so rules before it keep precedence; an unnamed rule keeps having no
 * name; the rule loses its segments and conditions: "of everyone"); with
 * segment non-NULL, the rule flag_segment_rule() finds ("segment:SEGMENT"
 * put first when there is none) serves the enabled variant, so 0% means
 * "the segment only".  This is the flag rollout's
 * router: raising the percentage keeps everyone already enabled, lowering
 * it removes only those above the new cut (docs/flags.md "Bucketing").
 * 0, SW_EUSAGE (not a boolean flag, a percentage out of range), or
 * SW_ESTATE (several unnamed rollout rules: see flag_rollout_rule()).
 */
int flag_rollout_set(json_t *def, double percentage, const char *segment, struct strbuf *err);

/*
 * The index in def's "rules" of the flag's percentage rollout rule, the one
 * `flag set --percentage N` (without --segment), a guarded rollout and the
 * readers (pack list) act on (docs/flags.md "Which rule a percentage
 * sets"): the rule named FLAG_ROLLOUT_RULE when there is one, otherwise the
 * one rule without a "name" that has a "rollout" (a flag file's rule, such
 * as `- rollout: {percentage: 5}`).  -1 when there is neither (the caller
 * appends FLAG_ROLLOUT_RULE); SW_ESTATE (exit 1: the flag must be
 * changed first) when several unnamed rules have a rollout and none is named FLAG_ROLLOUT_RULE, err naming them ("rules[i]",
 * 0-based, as flag_validate() names them) and saying how to name one.
 */
int flag_rollout_rule(const json_t *def, struct strbuf *err);

/*
 * The index in def's "rules" of the rule serving segment to its members:
 * the rule named "segment:SEGMENT" when there is one, otherwise the first
 * unnamed rule whose "segments" is exactly [SEGMENT], with no rollout,
 * split or conditions (a flag file's `- segments: [SEGMENT]`).  -1 when
 * there is none.
 */
int flag_segment_rule(const json_t *def, const char *segment);

/*
 * What a reader shows of a flag's rollout (pack list): *percentage the
 * rollout rule's percentage (flag_rollout_rule(); -1 when there is no such
 * rule or several unnamed ones), *has_segment 1 when segment's rule is there
 * (flag_segment_rule(); 0 when segment is NULL).
 */
void flag_rollout_state(const json_t *def, const char *segment, int *percentage, int *has_segment);

/* The percentage the rollout rule (flag_rollout_rule()) serves now (0 when there is none). */
int flag_rollout_percentage(const json_t *def);

#endif
