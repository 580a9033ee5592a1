/*
 * release_manifest.h - what a release declares about itself for the
 * pre-deployment checklist (runbook: Pre-Deployment Checklist, "Feature
 * flags in place for new features", "Migration scripts tested in
 * staging"): the file `slipway-release.yaml` in the release directory
 * (PROJECT/releases/SERVICE/VERSION/, docs/services.md), written by the CI
 * job that builds the release.  Format and the decisions: docs/checklists.md
 * "What a release declares".
 *
 *     flags: [agent:billing:enabled, checkout-v2]   # must exist in the target environment
 *     migrations:                                   # database -> the sqitch change it needs
 *       app: items
 *
 * An absent key means "not declared" (the checklist item stays unchecked),
 * an empty one (`flags: []`, `migrations: {}`) means "none".
 *
 * Pure: no I/O; the caller reads the file (at most RELEASE_MANIFEST_MAX bytes).
 */
#ifndef SLIPWAY_CORE_RELEASE_MANIFEST_H
#define SLIPWAY_CORE_RELEASE_MANIFEST_H

#include <stddef.h>

#include "core/yaml_walk.h"

struct strbuf;

#define RELEASE_MANIFEST_FILE "slipway-release.yaml"
#define RELEASE_MANIFEST_MAX (64 * 1024)	/* bytes */
#define RELEASE_MANIFEST_ITEMS_MAX 256		/* flags, migrations */
#define RELEASE_CHANGE_MAX 255			/* bytes in a sqitch change name */

struct release_migration {
	char *database;		/* a databases/NAME.yaml name (owned) */
	char *change;		/* the sqitch change the release needs deployed (owned) */
};

struct release_manifest {
	char **flags;		/* flag names (core/flag.h flag_name_ok()), owned */
	size_t nflags;
	struct release_migration *migrations;
	size_t nmigrations;
	struct yaml_pos flags_at, migrations_at;	/* line > 0: the key was given (even empty) */
};

/*
 * Parse buf[0..len) named file (for messages) into *out.  0, or SW_ECONFIG
 * with "FILE:LINE:COL: message" in err (an unknown key, a flag name that is
 * not one, a database name that is not a name, a change that is empty or
 * has spaces, a name listed twice); *out is untouched on failure.  An empty
 * file declares nothing.  Release with release_manifest_release().
 */
int release_manifest_parse(struct release_manifest *out, const char *file, const char *buf, size_t len,
			   struct strbuf *err);
void release_manifest_release(struct release_manifest *m);

#endif
