/*
 * cmd_audit.c - `slipway audit`: list the audit log and verify its hash
 * chain (adapters/audit.h).
 */
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/records_util.h"
#include "cli/vocab.h"
#include "server/documents.h"
#include "adapters/audit.h"
#include "base/strbuf.h"
#include "base/timeutil.h"

#include <stdio.h>
#include <string.h>

const char usage_audit[] =
	"usage: slipway audit [--since DATE] [--verify] [-o json]\n"
	"\n"
	"List the audit log (approvals, rejections, expiries, emergency records,\n"
	"incidents, notifications given up), oldest first.  --since takes\n"
	"YYYY-MM-DD or an RFC 3339 time.  --verify recomputes the hash chain from\n"
	"the first entry and exits 1 naming the first entry that was changed or\n"
	"whose predecessor was deleted; it prints the head hash, which you can\n"
	"keep elsewhere to detect removal of the newest entries.\n";

int cmd_audit(int argc, char **argv, struct cli_ctx *ctx)
{
	int verify = 0;
	const char *since_s = NULL;
	const struct cli_option opts[] = {
		CLI_STRING("since", 0, &since_s),
		CLI_FLAG("verify", 0, &verify),
		CLI_OPTIONS_END,
	};
	struct store *st;
	struct strbuf err = STRBUF_INIT;
	int64_t since = INT64_MIN;
	int rc, r;

	if ((rc = cli_parse(ctx, argc, argv, opts, NULL, NULL)) != EXIT_OK)
		return rc;
	if (since_s && records_parse_time("--since", since_s, &since))
		return EXIT_USAGE;
	if ((rc = cli_store(ctx, &st)) != EXIT_OK)
		return rc;

	if (verify) {
		struct audit_verify_result v;
		if ((r = audit_verify(st, &v, &err))) {
			cli_error("%s", err.buf);
			rc = cli_exit(r);
		} else {
			rc = v.bad_id ? EXIT_NO : EXIT_OK;
			if (ctx->output == OUTPUT_JSON) {
				cli_print_json(doc_audit_verification(&v));
			} else if (v.bad_id) {
				printf("audit chain broken at entry %lld: %s\n", (long long)v.bad_id, v.why);
			} else {
				printf("audit chain intact: %lld entries, head %s\n", (long long)v.entries, v.head);
			}
			if (v.bad_id)
				cli_error("audit log tampered with: entry %lld: %s", (long long)v.bad_id, v.why);
		}
		strbuf_release(&err);
		return rc;
	}

	{
		struct audit_entry *e = NULL;
		size_t n = 0;
		if ((r = audit_list(st, since, &e, &n, &err))) {
			cli_error("%s", err.buf);
			rc = cli_exit(r);
		} else if (ctx->output == OUTPUT_JSON) {
			cli_print_json(doc_audit_entries(e, n));
		} else {
			char at[RFC3339_BUFSZ];
			if (n == 0)
				printf("no audit entries\n");
			else
				printf("%-5s %-20s %-16s %-20s %-16s %s\n", "ID", "AT", "ACTOR", "ACTION", "SUBJECT", "DETAIL");
			for (size_t i = 0; i < n; i++)
				printf("%-5lld %-20s %-16s %-20s %-16s %s\n", (long long)e[i].id,
				       time_format_rfc3339(e[i].at_ms, at), e[i].actor, e[i].action, e[i].subject,
				       e[i].detail);
		}
		audit_entries_free(e, n);
	}
	strbuf_release(&err);
	return rc;
}
