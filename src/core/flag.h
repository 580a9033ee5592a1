/*
 * flag.h - feature flags: the definition (a JSON object, validated here),
 * segments, and evaluation against a context, pure (no I/O, no clock).
 * Model, file format and evaluation order: docs/flags.md.
 *
 * Bucketing is Unleash's, so that a percentage or a variant split gives a
 * user the answer an Unleash SDK would (Unleash client-specification,
 * specifications 03, 04, 05, 08, 10, 12, 16; tests/data/unleash/):
 *   rollout bucket = MurmurHash3_x86_32("GROUP:VALUE", seed 0) % 100 + 1,
 *     in 1..100; a user is in a rollout of p percent when bucket <= p, so
 *     raising p keeps everyone already in and lowering it removes only
 *     those above the new cut;
 *   variant bucket = MurmurHash3_x86_32("GROUP:VALUE", seed 86028157) %
 *     total_weight + 1; the first variant whose running weight reaches it.
 * The two seeds differ, so a user's variant does not follow from their
 * rollout bucket.  The hash is Debian's libmurmurhash (lmmh_x86_32).
 *
 * Definition (all keys but "type" optional; see docs/flags.md):
 *   {"type": "boolean"|"string"|"number"|"object",
 *    "description": "...", "enabled": true,
 *    "variants": {"on": true, "off": false},      boolean: these by default
 *    "default": "off",                             a variant name
 *    "rules": [{"name": "...",
 *               "segments": ["canary-users"],      all must match
 *               "conditions": [{"attribute": "group", "op": "in"|"not_in",
 *                               "values": ["canary"]}],
 *               "rollout": {"percentage": 0..100, "stickiness": "targetingKey",
 *                           "group": "KEY"},
 *               "serve": "on"                      or
 *               "split": {"variants": [{"variant": "a", "weight": 50}, ...],
 *                         "stickiness": "targetingKey", "group": "KEY"}}]}
 * Segment: {"description": "...", "user_ids": ["u1"],
 *           "conditions": [{"attribute": ..., "op": ..., "values": [...]}]}
 *   matches when the context's user (userId, else targetingKey) is listed
 *   or any one condition holds.
 */
#ifndef SLIPWAY_CORE_FLAG_H
#define SLIPWAY_CORE_FLAG_H

#include <jansson.h>
#include <stdint.h>

struct strbuf;

#define FLAG_KEY_MAX 200		/* bytes of a flag or segment name */
#define FLAG_ROLLOUT_SEED 0u		/* Unleash's normalizedHash default seed */
#define FLAG_VARIANT_SEED 86028157u	/* Unleash's variant seed */

/*
 * Unleash's normalised hash: MurmurHash3_x86_32 of "group:value" (UTF-8
 * bytes) with seed, modulo `modulus`, plus one: 1..modulus.  modulus > 0.
 */
uint32_t flag_bucket(const char *group, const char *value, uint32_t seed, uint32_t modulus);

/* Whether name is a valid flag or segment name: 1..FLAG_KEY_MAX bytes of
 * letters, digits and . _ - : / (e.g. "agent:billing:enabled"). */
int flag_name_ok(const char *name);

/*
 * Check a flag definition, filling defaults in place (boolean variants
 * on/off, default "off" or the first variant, enabled true).  On a fault
 * returns SW_ECONFIG with "PATH: message" in err (PATH as
 * "rules[1].rollout.percentage"), and, when path is not NULL, the path
 * alone in path[0..pathsz) (for a caller that maps it to FILE:LINE:COL).
 */
int flag_validate(json_t *def, struct strbuf *err, char *path, size_t pathsz);
/* The same for a segment definition. */
int segment_validate(json_t *def, struct strbuf *err, char *path, size_t pathsz);

/* The flag types, NULL-terminated: "boolean", "string", "number", "object"
 * (OpenFeature's flag value types; docs/flags.md). */
extern const char *const flag_types[];

/* Whether a JSON value fits a flag type name ("boolean", ...). */
int flag_value_fits(const char *type, const json_t *v);

/* The OpenFeature reasons and error codes (OFREP's spelling). */
enum flag_reason { FLAG_STATIC, FLAG_TARGETING_MATCH, FLAG_SPLIT, FLAG_DEFAULT, FLAG_DISABLED, FLAG_ERROR };
enum flag_error { FLAG_OK, FLAG_TARGETING_KEY_MISSING, FLAG_INVALID_CONTEXT, FLAG_PARSE_ERROR, FLAG_NOT_FOUND,
		  FLAG_GENERAL };
const char *flag_reason_name(enum flag_reason r);
const char *flag_error_name(enum flag_error e);

struct flag_result {
	enum flag_reason reason;
	enum flag_error error;		/* FLAG_OK unless reason is FLAG_ERROR */
	const char *variant;		/* borrowed from the definition; NULL on error */
	const json_t *value;		/* borrowed from the definition; NULL on error */
	int rule;			/* index of the rule that served, -1 for none */
	char detail[200];		/* on error: why */
};

/*
 * Evaluate validated definition def of flag key against context ctx (an
 * object: "targetingKey" and attributes; strings, numbers and booleans
 * compare as text) and segments (an object name -> validated segment, may
 * be NULL).  Rules are tried in order; the first that matches serves.
 * Stickiness values: "targetingKey" the context's key; "default" Unleash's
 * chain (userId, sessionId; remoteAddress for variants); any other name
 * that attribute ("userId" falls back to targetingKey).  A rule that must
 * hash an absent value never hashes an empty string:
 *   - stickiness targetingKey: the evaluation ends with
 *     FLAG_TARGETING_KEY_MISSING (unless the percentage is 0 or 100, or
 *     the split has one variant of positive weight: nothing to hash);
 *   - stickiness "default"/"random": a rollout matches only at 100%, a split
 *     serves only a sole positive-weight variant (Unleash would draw at
 *     random there; slipway does not);
 *   - another attribute: the rule does not match (Unleash's behaviour).
 * A rule naming an unknown segment does not match.  Always fills *out.
 */
void flag_evaluate(const json_t *def, const char *key, const json_t *segments, const json_t *ctx,
		   struct flag_result *out);

#endif
