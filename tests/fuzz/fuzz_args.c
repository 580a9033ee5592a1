/*
 * fuzz_args.c - libFuzzer target for the option parser (src/cli/args.c):
 * a command line is outside input.  The input is split at NUL bytes into
 * argv for a command with string, flag and repeatable options and 0..2
 * arguments; cli_parse() must answer EXIT_OK or EXIT_USAGE and never crash,
 * read out of bounds or write past a repeatable option's array.
 */
#include "cli/cli.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* the defaults read the environment and the file system: not under test here */
void cli_ctx_defaults(struct cli_ctx *ctx)
{
	if (!ctx->state_dir)
		ctx->state_dir = ".slipway";
}

static int fuzz_cmd(int argc, char **argv, struct cli_ctx *ctx)
{
	return 0;
}

static const struct command cmd = { "fuzz", fuzz_cmd, HAS_JSON, 0, 2, "fuzz", "usage: slipway fuzz [A [B]]\n" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int quiet;
	struct cli_ctx ctx = { .progname = "slipway", .cmd = &cmd, .log_level = LOG_INFO };
	const char *env = NULL, *list[3];
	int flag = 0, n = 0, argc = 1, nargs = -1, rc;
	const struct cli_option opts[] = {
		CLI_STRING("env", 'e', &env),
		CLI_FLAG("wait", 'w', &flag),
		CLI_LIST("intent", 0, list, &n, 3),
		CLI_OPTIONS_END,
	};
	char *buf, **argv, **args = NULL;

	if (!quiet) { /* errors go to stderr: keep the fuzzer's output readable */
		quiet = 1;
		if (!freopen("/dev/null", "w", stderr))
			return 0;
	}
	buf = malloc(size + 1);
	memcpy(buf, data, size);
	buf[size] = '\0';
	for (size_t i = 0; i < size; i++)
		argc += buf[i] == '\0';
	argc++;
	argv = calloc((size_t)argc + 1, sizeof(*argv));
	argv[0] = "fuzz";
	argc = 1;
	for (char *p = buf; p <= buf + size; p += strlen(p) + 1)
		argv[argc++] = p;
	rc = cli_parse(&ctx, argc, argv, opts, &args, &nargs);
	if (rc != EXIT_OK && rc != EXIT_USAGE)
		abort();
	if (rc == EXIT_OK && (nargs < 0 || nargs > 2 || n > 3))
		abort();
	free(argv);
	free(buf);
	return 0;
}
