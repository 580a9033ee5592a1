/*
 * records_util.h - what the record commands (approve, reject, approvals,
 * audit, notify, history, log, show, incident, dora) share: opening the store
 * with every records module migrated, the caller's identity, the clock, time
 * arguments, and the interim sources of the roles map and notification
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

/* Open ctx->state_dir's store and migrate deployments, audit, approvals,
 * emergency, incidents, notify.  EXIT_OK, or prints the error and returns
 * EXIT_RUNTIME. */
int records_store_open(const struct cli_ctx *ctx, struct store *st);
/* The same for commands that only read: never creates a store (store_open_reader()). */
int records_store_open_reader(const struct cli_ctx *ctx, struct store *st);

/*
 * Who is calling: $SLIPWAY_USER when set (a test/automation override; the
 * identity note then says so and names the OS user, and it is recorded in
 * the audit entry), else the OS user of the effective uid.  *identity gets
 * "os" or "env:SLIPWAY_USER (os user NAME)".  Returns a static string.
 */
const char *records_caller(const char **identity);

/* Now, ms since the epoch UTC (the one clock read of the record commands). */
int64_t records_now_ms(void);

/* "2026-12-03", "2026-12-03T15:00:00Z" -> ms.  0, or prints an error naming
 * the option and returns -1. */
int records_parse_time(const char *option, const char *s, int64_t *ms);

/* Parse a positive id ("12").  0 or -1 (prints the error). */
int records_parse_id(const char *what, const char *s, int64_t *id);

struct cli_policy;
/* Load the effective policy into *pol and its roles map into *m (names
 * borrowed from pol: release m first, then pol).  0, or prints the error
 * and returns -1. */
int records_roles(const struct cli_ctx *ctx, struct cli_policy *pol, struct roles_map *m);

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
