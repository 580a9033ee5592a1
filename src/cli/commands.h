/*
 * commands.h - every command's entry function and usage text.  The table in
 * main.c lists them; one cmd_*.c file per command group.
 */
#ifndef SLIPWAY_CLI_COMMANDS_H
#define SLIPWAY_CLI_COMMANDS_H

#include "cli/cli.h"

int cmd_analyze(int argc, char **argv, struct cli_ctx *ctx);
extern const char usage_analyze[];

int cmd_version(int argc, char **argv, struct cli_ctx *ctx);
extern const char usage_version[];

#endif
