/*
 * cmd_serve.c - `slipway serve`: the long-running controller of a project
 * and its store (controller/serve.h, docs/serve.md), with its readiness
 * told to systemd (sd_notify(3) from libsystemd, when built with it) and
 * the HTTP API started beside it (--listen; src/server/api.h).
 */
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/cli_policy.h"
#include "cli/api_client.h"
#include "cli/records_util.h"
#include "cli/vocab.h"
#include "adapters/lease.h"
#include "adapters/notify_config.h"
#include "adapters/proc.h"
#include "base/alloc.h"
#include "base/err.h"
#include "base/strbuf.h"
#include "controller/serve.h"
#include "server/api.h"
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif


const char usage_serve[] =
	"usage: slipway serve [--lease SECONDS] [--listen ADDR:PORT] [--tls-cert FILE --tls-key FILE]\n"
	"                     [--socket PATH]\n"
	"       slipway serve --status [-o json]\n"
	"\n"
	"Run the controller of this project and its store until SIGTERM: every tick\n"
	"(100 ms) it drives every deployment of every service environment that has\n"
	"work: gates, steps, analysis, promotions, rollbacks, monitoring periods,\n"
	"notifications.  Intents recorded by anyone ('slipway abort|promote|pause|\n"
	"resume|retry|undo', the API) take effect within one tick.  'slipway deploy'\n"
	"beside it records the deployment and returns (--wait follows it).\n"
	"\n"
	"One controller acts per store: it holds the store's controller lease,\n"
	"renewed every second.  A second 'slipway serve' waits and says who holds it;\n"
	"when the holder dies it takes over once the lease expires (--lease, default\n"
	"15 s after the holder's last renewal) and resumes every deployment.\n"
	"SIGTERM or SIGINT: the tick in progress finishes (no router change is left\n"
	"half-applied), the lease is given up, exit 0.  SIGHUP: reload the policy,\n"
	"the notifications and the service files; a file that does not load is\n"
	"reported and the one in force kept.  --listen starts the HTTP API on\n"
	"ADDR:PORT.  The API always answers the local CLI on the unix socket\n"
	"<state dir>/serve.sock (--socket PATH), naming each caller by its uid\n"
	"(SO_PEERCRED): intents, approvals and deploy's record go through it.\n"
	"--status: who holds the lease now (exit 0 held, 1 none).\n"
	"See docs/serve.md; examples/slipway.service runs it under systemd.\n";

/* ---- what SIGHUP reloads ---- */

struct loaded {
	struct policy_file pol;
	struct notify_config ncfg;
	int have_ncfg;
};

static int serve_load(void *ctx_, struct serve_config *out, struct strbuf *err)
{
	struct cli_ctx *ctx = ctx_;
	struct loaded *l = xcalloc(1, sizeof(*l));

	/* both print what is wrong (FILE:LINE:COL) */
	if (cli_policy_load(ctx->policy_path, &l->pol) != EXIT_OK) {
		free(l);
		strbuf_errf(err, "the policy '%s' did not load", ctx->policy_path ? ctx->policy_path : "(built-in)");
		return SW_EPOLICY;
	}
	if (records_notify_config(ctx, &l->ncfg) < 0) {
		cli_policy_release(&l->pol);
		free(l);
		strbuf_errf(err, "the notifications did not load");
		return SW_ECONFIG;
	}
	l->have_ncfg = 1;
	out->policy = &l->pol.p;
	out->zone = &l->pol.tz.zone;
	out->notify = &l->ncfg;
	out->owner = l;
	return 0;
}

static void serve_unload(void *ctx, struct serve_config *cfg)
{
	struct loaded *l = cfg->owner;
	(void)ctx;
	if (!l)
		return;
	if (l->have_ncfg)
		notify_config_release(&l->ncfg);
	cli_policy_release(&l->pol);
	free(l);
}

static void serve_manager(void *ctx, const char *state)
{
	(void)ctx;
#ifdef HAVE_LIBSYSTEMD
	sd_notify(0, state);
#else
	(void)state;
#endif
}

/* after each tick: the API's /metrics and /readyz learn its duration and when it last succeeded */
static struct cli_ctx *ticked_cli;	/* for serve_ticked()'s log line */

/* after each tick this controller acted in (it holds the lease) */
static void serve_ticked(void *ctx, int64_t tick_ms, int64_t last_ok_wall_ms)
{
	struct strbuf err = STRBUF_INIT;
	api_server_set_tick(ctx, tick_ms, last_ok_wall_ms);
	/* a standby that took over: the local socket is this controller's now */
	if (api_server_take_socket(ctx, &err) > 0 && ticked_cli)
		cli_log(ticked_cli, LOG_INFO, "the API answers the local CLI on the unix socket %s (taken over)",
			api_server_socket(ctx));
	strbuf_release(&err);
}

/* ---- --status ---- */

static int serve_status(struct cli_ctx *ctx)
{
	struct store *st;
	struct lease l;
	struct strbuf err = STRBUF_INIT;
	int64_t now = proc_now_ms();
	int rc, have, live;

	if ((rc = cli_store_read(ctx, &st)) != EXIT_OK)
		return rc;
	if ((have = lease_read(st, &l, &err)) < 0) {
		cli_error("%s", err.buf);
		strbuf_release(&err);
		return cli_exit(have);
	}
	strbuf_release(&err);
	live = have && lease_live(&l, now);
	if (ctx->output == OUTPUT_JSON) {
		json_t *j = cli_doc("Controller");
		json_object_set_new(j, "held", json_boolean(live));
		if (have) {
			json_t *h = json_object();
			json_object_set_new(h, "holder", json_string(l.holder));
			json_object_set_new(h, "pid", json_integer(l.pid));
			json_object_set_new(h, "host", json_string(l.host));
			cli_json_time(h, "since", l.since_ms);
			cli_json_time(h, "renewed_at", l.renewed_ms);
			cli_json_time(h, "expires_at", l.expires_ms);
			json_object_set_new(j, "lease", h);
		} else {
			json_object_set_new(j, "lease", json_null());
		}
		cli_print_json(j);
	} else if (!have) {
		printf("no controller: no 'slipway serve' holds this store's lease (deploy runs in-process)\n");
	} else {
		char who[400];
		lease_describe(&l, who, sizeof(who));
		printf("%s: %s%s\n", live ? "held" : "expired", who,
		       live ? "" : " (no controller drives this store now; deploy runs in-process)");
	}
	return live ? EXIT_OK : EXIT_NO;
}

int cmd_serve(int argc, char **argv, struct cli_ctx *ctx)
{
	const char *lease = NULL, *listen = NULL, *tls_cert = NULL, *tls_key = NULL, *sock = NULL;
	int status = 0;
	const struct cli_option opts[] = {
		CLI_STRING("lease", 0, &lease),
		CLI_STRING("listen", 0, &listen),
		CLI_STRING("socket", 0, &sock),
		CLI_STRING("tls-cert", 0, &tls_cert),
		CLI_STRING("tls-key", 0, &tls_key),
		CLI_FLAG("status", 0, &status),
		CLI_OPTIONS_END,
	};
	struct serve_opts o;
	struct api_server *api = NULL;
	struct strbuf err = STRBUF_INIT;
	char **args;
	int nargs, rc;

	if ((rc = cli_parse(ctx, argc, argv, opts, &args, &nargs)) != EXIT_OK)
		return rc;
	if (status)
		return serve_status(ctx);
	if (ctx->output == OUTPUT_JSON)
		return cli_usage_error(ctx, "serve", "-o json applies to --status; the controller's lines follow "
				       "--log-format json");
	memset(&o, 0, sizeof(o));
	o.lease_ms = SERVE_LEASE_MS;
	if (lease) {
		char *end;
		double v;
		errno = 0;
		v = strtod(lease, &end);
		if (errno || *end || end == lease || !(v >= 3 && v <= 3600))
			return cli_usage_error(ctx, "serve", "--lease must be a number of seconds from 3 to 3600, not '%s'",
					       lease);
		o.lease_ms = (int64_t)(v * 1000);
	}
	if ((tls_cert != NULL) != (tls_key != NULL))
		return cli_usage_error(ctx, "serve", "--tls-cert and --tls-key go together");
	if (tls_cert && !listen)
		return cli_usage_error(ctx, "serve", "--tls-cert and --tls-key apply to --listen");
	{
		/* the API: always on the local socket (the CLI of this machine, named by its uid), over TCP with --listen */
		struct api_options ao;
		struct strbuf notes = STRBUF_INIT;
		char *sock_default = NULL;
		if (!sock)
			sock = sock_default = cli_serve_socket_path(ctx);
		memset(&ao, 0, sizeof(ao));
		ao.socket_path = sock;
		ao.notes = &notes;
		ao.listen = listen;
		ao.project_dir = ctx->project_dir;
		ao.store_path = ctx->state_dir;
		ao.tls_cert = tls_cert;
		ao.tls_key = tls_key;
		ao.policy_path = ctx->policy_path;
		rc = api_server_start(&ao, &api, &err);
		free(sock_default);
		if (rc < 0) {
			cli_error("%s%s%s", listen ? "--listen " : "", listen ? listen : "", err.len ? err.buf :
				  slipway_strerror(rc));
			strbuf_release(&err);
			strbuf_release(&notes);
			return cli_exit(rc);
		}
		if (notes.len)
			cli_log(ctx, LOG_WARN, "%s", notes.buf);
		strbuf_release(&notes);
		if (api_server_socket(api))
			cli_log(ctx, LOG_INFO, "the API answers the local CLI on the unix socket %s", api_server_socket(api));
		if (listen)
			cli_log(ctx, LOG_INFO, "the HTTP API listens on %s (port %d)", listen, api_server_port(api));
	}
	o.state_dir = ctx->state_dir;
	o.project_dir = ctx->project_dir;
	o.load = serve_load;
	o.unload = serve_unload;
	o.notify_manager = serve_manager;
	o.ctx = ctx;
	if (api) {
		o.ticked = serve_ticked;
		o.ticked_ctx = api;
		ticked_cli = ctx;
	}
	o.log = cli_log_stream(ctx);
	rc = serve_run(&o, &err);
	if (api)
		api_server_stop(api);
	if (o.log)
		fclose(o.log);
	if (rc < 0) {
		if (err.len)
			cli_error("%s", err.buf);
		strbuf_release(&err);
		return cli_exit(rc);
	}
	strbuf_release(&err);
	return EXIT_OK;
}
