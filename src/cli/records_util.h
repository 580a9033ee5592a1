/*
 * records_util.h - what the record commands (approve, reject, approvals,
 * audit, notify, history, log, show, incident, dora) share: time and id
 * arguments, the detail document of a deployment, and the interim sources of the roles map and notification
 * configuration (until the policy file carries them; docs/records.md).
 */
#ifndef SLIPWAY_CLI_RECORDS_UTIL_H
#define SLIPWAY_CLI_RECORDS_UTIL_H

#include "cli/cli.h"
#include "adapters/store.h"
#include "adapters/notify_config.h"
#include "core/approval.h"

#include <stdint.h>

struct strbuf;

/* "2026-12-03", "2026-12-03T15:00:00Z" -> ms.  0, or prints an error naming
 * the option and returns -1. */
int records_parse_time(const char *option, const char *s, int64_t *ms);

/* Parse a positive id ("12").  0 or -1 (prints the error). */
int records_parse_id(const char *what, const char *s, int64_t *id);

struct policy_file;
/* Load the effective policy into *pol and its roles map into *m (names
 * borrowed from pol: release m first, then pol).  0, or prints the error
 * and returns -1. */
int records_roles(const struct cli_ctx *ctx, struct policy_file *pol, struct roles_map *m);

/*
 * The notification configuration: the file $SLIPWAY_NOTIFICATIONS, else the
 * `notifications:` section of the policy file (ctx->policy_path), else
 * ./notifications.yaml, else notify_config_default().  0, or prints the
 * error (FILE:LINE:COL) and returns -1.
 */
int records_notify_config(const struct cli_ctx *ctx, struct notify_config *cfg);

/* Format ms as RFC 3339, or "-" for RECORD_TIME_NONE / 0. */
const char *records_time(int64_t ms, char buf[32]);

#endif
