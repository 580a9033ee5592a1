/*
 * commands.h - every command's entry function and usage text.  The table in
 * main.c lists them; one cmd_*.c file per command group.
 */
#ifndef SLIPWAY_CLI_COMMANDS_H
#define SLIPWAY_CLI_COMMANDS_H

#include "cli/cli.h"

int cmd_analyze(int argc, char **argv, struct cli_ctx *ctx);
extern const char usage_analyze[];
/* cmd_simulate.c: the engine against simulated traffic (docs/simulate.md) */
int cmd_simulate(int argc, char **argv, struct cli_ctx *ctx);
extern const char usage_simulate[];
/* cmd_policy.c: the policy gate (docs/policy.md) */
int cmd_calendar(int argc, char **argv, struct cli_ctx *ctx);
extern const char usage_calendar[];
int cmd_check(int argc, char **argv, struct cli_ctx *ctx);
extern const char usage_check[];
int cmd_policy(int argc, char **argv, struct cli_ctx *ctx);
extern const char usage_policy[];

int cmd_promote(int argc, char **argv, struct cli_ctx *ctx);
int cmd_pause(int argc, char **argv, struct cli_ctx *ctx);
int cmd_resume(int argc, char **argv, struct cli_ctx *ctx);
int cmd_abort(int argc, char **argv, struct cli_ctx *ctx);
int cmd_retry(int argc, char **argv, struct cli_ctx *ctx);
int cmd_undo(int argc, char **argv, struct cli_ctx *ctx);
int cmd_status(int argc, char **argv, struct cli_ctx *ctx);
int cmd_engine_sim(int argc, char **argv, struct cli_ctx *ctx);
extern const char usage_promote[], usage_pause[], usage_resume[], usage_abort[], usage_retry[], usage_undo[],
	usage_status[], usage_engine_sim[];

int cmd_version(int argc, char **argv, struct cli_ctx *ctx);
extern const char usage_version[];

/* cmd_inspect.c: rollout and analysis files as slipway reads them (docs/argo.md) */
int cmd_inspect(int argc, char **argv, struct cli_ctx *ctx);
extern const char usage_inspect[];

/* cmd_local.c: a service on this machine (docs/services.md) */
int cmd_cleanup(int argc, char **argv, struct cli_ctx *ctx);
extern const char usage_cleanup[];
int cmd_down(int argc, char **argv, struct cli_ctx *ctx);
extern const char usage_down[];
int cmd_instances(int argc, char **argv, struct cli_ctx *ctx);
extern const char usage_instances[];
int cmd_metrics(int argc, char **argv, struct cli_ctx *ctx);
extern const char usage_metrics[];
int cmd_start(int argc, char **argv, struct cli_ctx *ctx);
extern const char usage_start[];
int cmd_stop(int argc, char **argv, struct cli_ctx *ctx);
extern const char usage_stop[];
int cmd_traffic(int argc, char **argv, struct cli_ctx *ctx);
extern const char usage_traffic[];
int cmd_weight(int argc, char **argv, struct cli_ctx *ctx);
extern const char usage_weight[];
/* cmd_deploy.c: deploy on this machine (docs/services.md) */
int cmd_deploy(int argc, char **argv, struct cli_ctx *ctx);
extern const char usage_deploy[];
/* `deploy` after its arguments, shared with `rollout flag` (cmd_deploy.c) */
struct local_deploy_opts;
int cli_deploy_with(struct cli_ctx *ctx, struct local_deploy_opts *o, int wait, const char *cmd);
/* cmd_rollout_flag.c: a guarded flag rollout as a deployment (docs/flags.md) */
int cmd_rollout(int argc, char **argv, struct cli_ctx *ctx);
extern const char usage_rollout[];
/* cmd_pack.c: the agent-pack procedure (docs/flags.md "Agent packs") */
int cmd_pack(int argc, char **argv, struct cli_ctx *ctx);
extern const char usage_pack[];
/* cmd_serve.c: the long-running controller (docs/serve.md) */
int cmd_serve(int argc, char **argv, struct cli_ctx *ctx);
extern const char usage_serve[];
int cmd_deployments(int argc, char **argv, struct cli_ctx *ctx);
extern const char usage_deployments[];
/* records (docs/records.md): approvals, audit, notifications, records, incidents, DORA */
int cmd_approve(int argc, char **argv, struct cli_ctx *ctx);
int cmd_approvals(int argc, char **argv, struct cli_ctx *ctx);
int cmd_audit(int argc, char **argv, struct cli_ctx *ctx);
int cmd_dora(int argc, char **argv, struct cli_ctx *ctx);
int cmd_history(int argc, char **argv, struct cli_ctx *ctx);
int cmd_incident(int argc, char **argv, struct cli_ctx *ctx);
int cmd_log(int argc, char **argv, struct cli_ctx *ctx);
int cmd_notify(int argc, char **argv, struct cli_ctx *ctx);
int cmd_reject(int argc, char **argv, struct cli_ctx *ctx);
int cmd_show(int argc, char **argv, struct cli_ctx *ctx);
extern const char usage_approve[], usage_approvals[], usage_audit[], usage_dora[], usage_history[],
	usage_incident[], usage_log[], usage_notify[], usage_reject[], usage_show[];
/* cmd_db.c: databases: backup, rehearse, migrate (docs/databases.md) */
int cmd_db(int argc, char **argv, struct cli_ctx *ctx);
extern const char usage_db[];
/* cmd_flag.c: feature flags and segments (docs/flags.md) */
int cmd_flag(int argc, char **argv, struct cli_ctx *ctx);
extern const char usage_flag[];

/* cmd_checklist.c: the runbook's checklists (docs/checklists.md) */
int cmd_attest(int argc, char **argv, struct cli_ctx *ctx);
int cmd_checklist(int argc, char **argv, struct cli_ctx *ctx);
extern const char usage_attest[], usage_checklist[];

/* cmd_api.c: the HTTP API and its tokens (docs/api.md) */
int cmd_api(int argc, char **argv, struct cli_ctx *ctx);
int cmd_token(int argc, char **argv, struct cli_ctx *ctx);
extern const char usage_api[], usage_token[];

#endif
