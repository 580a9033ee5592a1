/*
 * suggest.h - "did you mean": the valid word nearest to a misspelt one.
 *
 * Used by every place that refuses a name from outside input (YAML keys and
 * enum values in src/core/yaml_walk.c, deployment types on the command
 * line) so that the hint is chosen by one rule everywhere: the smallest
 * Levenshtein edit distance (case-insensitive), where a prefix of at least
 * three letters ("monitor" for "monitoring") counts as distance 2, accepted
 * when it is at most max(2, strlen(word) / 3).  Pure: no I/O.
 */
#ifndef SLIPWAY_BASE_SUGGEST_H
#define SLIPWAY_BASE_SUGGEST_H

#include <stddef.h>

/*
 * The entry of valid[0..n) nearest to word, or NULL when none is near
 * enough to be a plausible typo.  NULL entries of valid[] are skipped.
 * Words longer than 64 bytes are never near.  Borrowed from valid[].
 */
const char *suggest_nearest(const char *word, const char *const *valid, size_t n);

/* The same for a NULL-terminated valid[]. */
const char *suggest_nearest0(const char *word, const char *const *valid);

#endif
