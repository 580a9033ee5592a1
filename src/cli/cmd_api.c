/*
 * cmd_api.c - `slipway api` (the HTTP API without a controller: a
 * read-and-intents API beside an in-process deploy; `slipway serve` runs
 * the same server with its controller) and `slipway token` (the API's
 * bearer tokens).  docs/api.md.
 */
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/cli_policy.h"
#include "cli/records_util.h"
#include "server/api.h"
#include "server/vocab.h"
#include "adapters/tokens.h"
#include "base/err.h"
#include "base/limits.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "core/policy.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

const char usage_api[] =
	"usage: slipway api [--listen HOST:PORT] [--tls-cert FILE --tls-key FILE]\n"
	"\n"
	"Serve slipway's HTTP API (docs/api.md, docs/openapi.json) on HOST:PORT\n"
	"(default 127.0.0.1:8480; port 0 takes a free one, named in the first log\n"
	"line) until SIGINT or SIGTERM: deployments, events, intents, approvals,\n"
	"policy check and calendar, traffic modes, incidents, DORA, audit and\n"
	"metrics under /api/v1, slipway's metrics at /metrics, /healthz and\n"
	"/readyz.  Calls need 'Authorization: Bearer TOKEN' ('slipway token\n"
	"create').  It runs no controller: intents and approvals are recorded for\n"
	"the controller of 'slipway deploy' or 'slipway serve' to apply.  With\n"
	"--tls-cert and --tls-key (PEM) it serves HTTPS only.\n";

const char usage_token[] =
	"usage: slipway token create --user NAME [--role ROLE] [-o json]\n"
	"       slipway token list [-o json]\n"
	"       slipway token revoke ID [-o json]\n"
	"\n"
	"Bearer tokens of the HTTP API (docs/api.md).  'create' prints a new token\n"
	"once; the store keeps only its SHA-256.  Calls made with it are recorded\n"
	"as NAME, with the roles the policy's roles: map gives NAME, or with ROLE\n"
	"alone when --role limits it.  'list' shows every token (never the token\n"
	"itself), 'revoke' ends one at once.  Creating and revoking are audit entries.\n";

static volatile sig_atomic_t stop_signal;
static void on_stop(int sig) { stop_signal = sig; }

int cmd_api(int argc, char **argv, struct cli_ctx *ctx)
{
	const char *listen = "127.0.0.1:8480", *cert = NULL, *key = NULL;
	const struct cli_option opts[] = {
		CLI_STRING("listen", 0, &listen),
		CLI_STRING("tls-cert", 0, &cert),
		CLI_STRING("tls-key", 0, &key),
		CLI_OPTIONS_END,
	};
	struct api_options o = { 0 };
	struct api_server *s = NULL;
	struct strbuf err = STRBUF_INIT;
	struct sigaction sa;
	sigset_t stop_set, old_set;
	struct policy_file pol;
	int rc, r;

	if ((rc = cli_parse(ctx, argc, argv, opts, NULL, NULL)) != EXIT_OK)
		return rc;
	/* a bad policy is reported now, not at the first call */
	if ((rc = cli_policy_load(ctx->policy_path, &pol)) != EXIT_OK)
		return rc;
	cli_policy_release(&pol);
	signal(SIGPIPE, SIG_IGN);	/* a client hanging up mid-answer is no reason to stop */
	/* SIGINT and SIGTERM blocked before the server's threads start (they
	 * inherit the mask, so the signals come to this thread), and taken
	 * only inside sigsuspend(): one that arrives before the wait is not lost */
	sigemptyset(&stop_set);
	sigaddset(&stop_set, SIGINT);
	sigaddset(&stop_set, SIGTERM);
	sigprocmask(SIG_BLOCK, &stop_set, &old_set);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	o.listen = listen;
	o.project_dir = ctx->project_dir;
	o.store_path = ctx->state_dir;
	o.tls_cert = cert;
	o.tls_key = key;
	o.policy_path = ctx->policy_path;
	if ((r = api_server_start(&o, &s, &err)) < 0) {
		cli_error("%s", err.buf);
		strbuf_release(&err);
		sigprocmask(SIG_SETMASK, &old_set, NULL);
		return r == -EADDRINUSE ? EXIT_RUNTIME : cli_exit(r);
	}
	{
		/* the address with the port it got (port 0: a free one) */
		char host[300];
		const char *colon = strrchr(listen, ':');
		snprintf(host, sizeof(host), "%.*s", (int)(colon - listen), listen);
		cli_log(ctx, LOG_INFO, "api: listening on %s://%s:%d (policy %s, state %s)", cert ? "https" : "http", host,
			api_server_port(s), ctx->policy_path ? ctx->policy_path : "built-in", ctx->state_dir);
	}
	while (!stop_signal)
		sigsuspend(&old_set);
	cli_log(ctx, LOG_INFO, "api: stopping (signal %d)", (int)stop_signal);
	api_server_stop(s);
	sigprocmask(SIG_SETMASK, &old_set, NULL);
	strbuf_release(&err);
	return EXIT_OK;
}

static json_t *token_json(const struct api_token *t)
{
	json_t *o = json_object();
	json_object_set_new(o, "id", json_integer(t->id));
	vocab_json_str(o, "user", t->user);
	vocab_json_str(o, "role", t->role);
	vocab_json_str(o, "prefix", t->prefix);
	vocab_json_str(o, "created_by", t->created_by);
	vocab_json_time(o, "created_at", t->created_ms);
	vocab_json_str(o, "revoked_by", t->revoked_by);
	vocab_json_time(o, "revoked_at", t->revoked_ms);
	return o;
}

static int user_name_ok(const char *u)
{
	if (!u || !*u || strlen(u) > SW_USER_MAX)
		return 0;
	for (const unsigned char *p = (const unsigned char *)u; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return 0;
	return 1;
}

int cmd_token(int argc, char **argv, struct cli_ctx *ctx)
{
	const char *user = NULL, *role = NULL, *sub;
	const struct cli_option opts[] = {
		CLI_STRING("user", 0, &user),
		CLI_STRING("role", 0, &role),
		CLI_OPTIONS_END,
	};
	struct strbuf err = STRBUF_INIT;
	struct store *st;
	char **args;
	int nargs, rc, r;

	if ((rc = cli_parse(ctx, argc, argv, opts, &args, &nargs)) != EXIT_OK)
		return rc;
	sub = args[0];
	if (strcmp(sub, "create") && strcmp(sub, "list") && strcmp(sub, "revoke"))
		return cli_usage_error(ctx, "token", "unknown subcommand '%s'; valid: create, list, revoke", sub);
	if (!strcmp(sub, "revoke") != (nargs == 2))
		return cli_usage_error(ctx, "token", "'token %s' %s", sub,
				       !strcmp(sub, "revoke") ? "takes one token ID" : "takes no argument");
	if ((user || role) && strcmp(sub, "create"))
		return cli_usage_error(ctx, "token", "--user and --role go with 'token create'");
	if (!strcmp(sub, "create")) {
		struct policy_file pol;
		char text[TOKEN_CHARS + 1];
		const char *identity = NULL, *by = cli_caller(&identity);
		int64_t id, now = cli_now_ms();
		if (!user)
			return cli_usage_error(ctx, "token", "--user NAME is required: who the token's calls are recorded as");
		if (!user_name_ok(user))
			return cli_usage_error(ctx, "token", "--user must be 1 to %d bytes without control characters",
					       SW_USER_MAX);
		if (role) {
			if ((rc = cli_policy_load(ctx->policy_path, &pol)) != EXIT_OK)
				return rc;
			if (!policy_find_role(&pol.p, role)) {
				struct strbuf valid = STRBUF_INIT;
				for (size_t i = 0; i < pol.p.roles_nr; i++)
					strbuf_addf(&valid, "%s%s", i ? ", " : "", pol.p.roles[i].name);
				cli_usage_error(ctx, "token", "unknown role '%s'; valid: %s", role, valid.buf);
				strbuf_release(&valid);
				cli_policy_release(&pol);
				return EXIT_USAGE;
			}
			cli_policy_release(&pol);
		}
		if ((rc = cli_store(ctx, &st)) != EXIT_OK)
			return rc;
		if ((id = token_create(st, user, role, by, now, text, &err)) < 0) {
			cli_error("%s", err.buf);
			strbuf_release(&err);
			return cli_exit((int)id);
		}
		if (ctx->output == OUTPUT_JSON) {
			struct api_token t = { .id = id, .user = (char *)user, .role = (char *)role, .created_ms = now,
					       .created_by = (char *)by };
			json_t *j = vocab_doc("Token");
			snprintf(t.prefix, sizeof(t.prefix), "%.*s", TOKEN_SHOWN_CHARS, text);
			json_object_update_new(j, token_json(&t));
			json_object_set_new(j, "token", json_string(text));
			cli_print_json(j);
		} else {
			printf("%s\n", text);
			fprintf(stderr, "token %lld for '%s'%s%s%s: shown this once, keep it secret; "
				"'slipway token revoke %lld' ends it\n", (long long)id, user, role ? " (role '" : "",
				role ? role : "", role ? "' only)" : "", (long long)id);
		}
		return EXIT_OK;
	}
	if ((rc = !strcmp(sub, "list") ? cli_store_read(ctx, &st) : cli_store(ctx, &st)) != EXIT_OK)
		return rc;
	if (!strcmp(sub, "list")) {
		struct api_token *v = NULL;
		size_t n = 0;
		if ((r = token_list(st, &v, &n, &err)) < 0) {
			cli_error("%s", err.buf);
			rc = cli_exit(r);
		} else if (ctx->output == OUTPUT_JSON) {
			json_t *a = json_array();
			for (size_t i = 0; i < n; i++)
				json_array_append_new(a, token_json(&v[i]));
			cli_print_json(vocab_list_doc("TokenList", a));
		} else {
			char at[RFC3339_BUFSZ];
			if (!n)
				printf("no tokens\n");
			else
				printf("%-4s %-13s %-16s %-20s %-20s %s\n", "ID", "TOKEN", "USER", "ROLE", "CREATED", "STATE");
			for (size_t i = 0; i < n; i++)
				printf("%-4lld %-13s %-16s %-20s %-20s %s\n", (long long)v[i].id, v[i].prefix, v[i].user,
				       v[i].role ? v[i].role : "(policy's)", time_format_rfc3339(v[i].created_ms, at),
				       v[i].revoked_ms ? "revoked" : "in force");
		}
		api_tokens_free(v, n);
	} else {
		int64_t id;
		const char *by = cli_caller(NULL);
		if (records_parse_id("token", args[1], &id))
			return EXIT_USAGE;
		if ((r = token_revoke(st, id, by, cli_now_ms(), &err)) < 0) {
			cli_error("%s", err.buf);
			rc = cli_exit(r);
		} else {
			struct api_token *v = NULL;
			size_t n = 0;
			if (ctx->output == OUTPUT_JSON && token_list(st, &v, &n, &err) == 0) {
				for (size_t i = 0; i < n; i++)
					if (v[i].id == id) {
						json_t *j = vocab_doc("Token");
						json_object_update_new(j, token_json(&v[i]));
						cli_print_json(j);
					}
			} else if (ctx->output != OUTPUT_JSON) {
				printf("revoked token %lld\n", (long long)id);
			}
			api_tokens_free(v, n);
		}
	}
	strbuf_release(&err);
	return rc;
}
