/*
 * fuzz_github.c - libFuzzer target for GitHub's REST API answers as the
 * checklist's live checks read them (core/github.c, docs/checklists.md
 * "Live checks against GitHub"): the first byte picks the reader (commit
 * status, check runs, pull requests, reviews), the rest is the answer; any
 * bytes must give a state or SW_EPARSE, never a crash, a leak or undefined
 * behaviour.  Built and run by tests/cli/fuzz.sh (fuzz_github.sources).
 */
#include "base/strbuf.h"
#include "core/github.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strbuf ev = STRBUF_INIT, err = STRBUF_INIT;
	const char *body = (const char *)data + 1;
	int64_t nums[GITHUB_PULLS_MAX] = { 42 };
	size_t len;

	if (!size)
		return 0;
	len = size - 1;
	switch (data[0] % 4) {
	case 0:
		github_judge_ci(body, len, NULL, 0, "9f2c4e1a7b3d", &ev, &err);
		break;
	case 1:
		github_judge_ci(NULL, 0, body, len, "9f2c4e1a7b3d", &ev, &err);
		break;
	case 2:
		github_pull_numbers(body, len, nums, GITHUB_PULLS_MAX, &err);
		break;
	default:
		github_judge_review(nums, &body, &len, 1, "9f2c4e1a7b3d", &ev, &err);
		break;
	}
	strbuf_release(&ev);
	strbuf_release(&err);
	return 0;
}
