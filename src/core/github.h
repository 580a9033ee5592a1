/*
 * github.h - GitHub's REST API answers judged for the pre-deployment
 * checklist (runbook: Pre-Deployment Checklist, "All tests passing in CI",
 * "Code review approved by required reviewers"; docs/checklists.md "Live
 * checks against GitHub").  The answers' shapes are GitHub's REST API
 * documentation's:
 *   - "Get the combined status for a specific reference"
 *     (GET /repos/OWNER/REPO/commits/REF/status: state, statuses[].state, context),
 *   - "List check runs for a Git reference"
 *     (GET /repos/OWNER/REPO/commits/REF/check-runs: total_count, check_runs[].status, conclusion, name),
 *   - "List pull requests associated with a commit"
 *     (GET /repos/OWNER/REPO/commits/SHA/pulls: [].number, state, merged_at),
 *   - "List reviews for a pull request"
 *     (GET /repos/OWNER/REPO/pulls/N/reviews: [].user.login, state).
 * adapters/github.h fetches them; the decisions are here.
 *
 * Pure: no I/O.  Every function takes the body as bytes (at most
 * GITHUB_BODY_MAX) and returns SW_EPARSE with the fault in err for a body
 * that is not JSON of the documented shape.
 */
#ifndef SLIPWAY_CORE_GITHUB_H
#define SLIPWAY_CORE_GITHUB_H

#include <stddef.h>
#include <stdint.h>

#include "core/checklist.h"

struct strbuf;

#define GITHUB_BODY_MAX (4 * 1024 * 1024)	/* bytes of one answer */
#define GITHUB_PULLS_MAX 5			/* pull requests of a commit whose reviews are read */

/*
 * "All tests passing in CI" for commit sha from the combined status and the
 * check runs (either body may be NULL: not asked).  CL_FAILED when a status
 * is failure or error, or a completed check run concluded failure,
 * timed_out, cancelled, action_required or stale (each named in ev);
 * CL_MISSING while a status is pending or a check run is not completed, or
 * when the commit has neither (ev says which); CL_UNCHECKED when the check
 * runs are more than one page (total_count above those listed): never a pass
 * on what was not read; else CL_SATISFIED (neutral and skipped runs do not
 * fail).  Returns the state (>= 0) or SW_EPARSE.
 */
int github_judge_ci(const char *status_json, size_t status_len, const char *checks_json, size_t checks_len,
		    const char *sha, struct strbuf *ev, struct strbuf *err);

/* The numbers of the pull requests in a "pulls of a commit" answer, in its
 * order, at most max into nums.  Returns how many (>= 0) or SW_EPARSE. */
int github_pull_numbers(const char *pulls_json, size_t len, int64_t *nums, size_t max, struct strbuf *err);

/*
 * "Code review approved" for commit sha: reviews[i] (len[i] bytes) is the
 * reviews answer of pull request nums[i] (i < n; n 0: the commit is in no
 * pull request, CL_MISSING).  A reviewer's latest APPROVED,
 * CHANGES_REQUESTED or DISMISSED review is their word (COMMENTED and
 * PENDING do not change it), as GitHub counts them.  CL_SATISFIED when a
 * pull request has an approval and no reviewer asking for changes (ev: the
 * pull request and who approved); CL_FAILED when changes are requested and
 * no pull request is approved (who asked); CL_MISSING when nobody approved
 * yet.  Returns the state (>= 0) or SW_EPARSE.
 */
int github_judge_review(const int64_t *nums, const char *const *reviews, const size_t *len, size_t n, const char *sha,
			struct strbuf *ev, struct strbuf *err);

#endif
