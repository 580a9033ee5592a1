/*
 * analysis_files.h - find the template files a rollout file refers to
 * (docs/argo.md, "Where templates are found"): a Flagger Canary's
 * templateRef names a MetricTemplate, an Argo Rollout's analysis step
 * names AnalysisTemplates.  slipway looks in one directory, by default the
 * one holding the rollout file: every *.yaml / *.yml file there whose kind
 * is the one wanted and whose metadata.name (and namespace, when both say
 * one) matches.  Files of other kinds are skipped unread past their kind;
 * a matching file that does not load is an error naming it.
 */
#ifndef SLIPWAY_ADAPTERS_ANALYSIS_FILES_H
#define SLIPWAY_ADAPTERS_ANALYSIS_FILES_H

#include "core/argo.h"
#include "core/metric_template.h"

struct strbuf;

/* Whether YAML text has a top-level "kind: KIND" line (the first one
 * decides): how a file's kind is told before choosing its loader. */
int analysis_files_has_kind(const char *text, const char *kind);

/* The directory part of path ("." when none), into buf of size n. */
void analysis_files_dir_of(const char *path, char *buf, size_t n);

/*
 * The MetricTemplate in `dir` that `ref` names for a Canary in namespace
 * `ns`, into *out (release with metric_template_release()); *path_out
 * (may be NULL) gets its file (caller frees).  0, SW_ENOTFOUND ("no
 * MetricTemplate 'NAME' in DIR"), or SW_ECONFIG with the file's error.
 */
int analysis_files_metric_template(const char *dir, const struct flagger_template_ref *ref, const char *ns,
				   struct metric_template *out, char **path_out, struct strbuf *err);

/* The AnalysisTemplate (cluster 0) or ClusterAnalysisTemplate (cluster 1)
 * named `name` in dir, as above. */
int analysis_files_argo_template(const char *dir, const char *name, int cluster, struct argo_template *out,
				 char **path_out, struct strbuf *err);

#endif
