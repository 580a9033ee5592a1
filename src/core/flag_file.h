/*
 * flag_file.h - flags and segments declared in a YAML file (flags/NAME.yaml),
 * read with the one YAML walker (core/yaml_walk.h, docs/yaml.md) and
 * checked with flag_validate()/segment_validate(), so a fault in a rule is
 * reported at its FILE:LINE:COL.  Format: docs/flags.md ("Flag files").
 *
 *   environment: production        optional; the command's --env otherwise
 *   segments:
 *     canary-users: {user_ids: [...], conditions: [...]}
 *   flags:
 *     agent:billing:enabled: {type: boolean, default: off, rules: [...]}
 *
 * Pure: the caller reads the file (at most FLAG_FILE_MAX bytes).
 */
#ifndef SLIPWAY_CORE_FLAG_FILE_H
#define SLIPWAY_CORE_FLAG_FILE_H

#include <jansson.h>
#include <stddef.h>

struct strbuf;

#define FLAG_FILE_MAX (1024 * 1024)

struct flag_file {
	char *environment;	/* NULL when the file names none (owned) */
	json_t *segments;	/* name -> validated definition, in file order (owned) */
	json_t *flags;		/* name -> validated definition, in file order (owned) */
	json_t *positions;	/* "flag NAME" / "segment NAME" -> {PATH: [line, col]}, "" the name's key (owned) */
};

/*
 * Where the value at path (as flag_validate() names it, e.g.
 * "rules[0].segments[0]") of kind ("flag" or "segment") name was written:
 * the path's own position, else its nearest recorded parent's, else the
 * name's.  0 when found (line, col set), -1 when f has no such name.
 */
int flag_file_pos(const struct flag_file *f, const char *kind, const char *name, const char *path, int *line,
		  int *col);

/*
 * Parse buf[0..len) named file.  0, or SW_ECONFIG with one line
 * "FILE:LINE:COL: message" in err (nothing to release); a file that
 * declares no flag and no segment (empty, only comments, only
 * environment:, or empty mappings) is SW_ECONFIG at FILE:1:1.  A flag's rule may
 * name a segment of the same file or one already in the store (the store
 * checks that when applying).  Release with flag_file_release().
 */
int flag_file_parse(const char *file, const char *buf, size_t len, struct flag_file *out, struct strbuf *err);
void flag_file_release(struct flag_file *f);

#endif
