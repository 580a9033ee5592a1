/*
 * cmd_rollout_flag.c - `slipway rollout flag FLAG`: a guarded flag rollout,
 * recorded and driven as a deployment of the service whose requests report
 * the flag's variant (docs/flags.md "Guarded flag rollout").  Everything a
 * release has applies: the type's approvals, window and freezes, the
 * records, the notifications, DORA, and pause, resume, promote and abort.
 */
#include "cli/cli.h"
#include "cli/commands.h"
#include "adapters/flag_store.h"
#include "adapters/proc.h"
#include "adapters/store.h"
#include "base/err.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "controller/local_deploy.h"
#include "core/flag_rollout.h"
#include "core/service.h"
#include "core/strategy.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

const char usage_rollout[] =
	"usage: slipway rollout flag FLAG --service SERVICE --steps P1,P2,... --interval DURATION\n"
	"                        [--segment SEGMENT] [--env ENV] [--type TYPE] [--time-scale N]\n"
	"                        [--wait] [-o json]\n"
	"\n"
	"Turn boolean flag FLAG on for more and more users (the runbook's\n"
	"gradual-rollout.sh --steps \"5%,25%,50%,100%\" --interval 30m), guarded:\n"
	"each step sets the flag's percentage and holds DURATION while the judge\n"
	"compares the requests SERVICE answered with the flag enabled against those\n"
	"answered with it disabled, on the same traffic (the service names the\n"
	"variant in its X-Flag-Variant response header; docs/flags.md).  A\n"
	"regression sets the flag back to 0% in the tick that finds it, and says so.\n"
	"With --segment, SEGMENT is served the flag first and keeps it when the\n"
	"rollout is set back.  It is a deployment like a release: TYPE's approvals,\n"
	"window and freezes apply, and 'slipway pause|resume|promote|abort ID' work.\n"
	"Exit codes as deploy: 0 reached 100%, 1 set back, 4 waiting on a person.\n";

int cmd_rollout(int argc, char **argv, struct cli_ctx *ctx)
{
	struct local_deploy_opts o = { 0 };
	const char *service = NULL, *steps = NULL, *interval = NULL, *segment = NULL, *scale = NULL;
	int wait = 0;
	const struct cli_option opts[] = {
		CLI_STRING("service", 0, &service),
		CLI_STRING("steps", 0, &steps),
		CLI_STRING("interval", 0, &interval),
		CLI_STRING("segment", 0, &segment),
		CLI_STRING("env", 0, &o.env),
		CLI_STRING("type", 0, &o.type),
		CLI_STRING("time-scale", 0, &scale),
		CLI_FLAG("wait", 0, &wait),
		CLI_OPTIONS_END,
	};
	static struct strategy strategy;	/* outlives cli_deploy_with() */
	char on_cohort[SW_NAME_MAX + 1], off_cohort[SW_NAME_MAX + 1];
	struct flag_record cur = { 0 };
	struct strbuf err = STRBUF_INIT;
	struct store *st;
	const char *on, *off;
	int64_t interval_ms;
	char **args;
	int nargs, rc;

	o.type = "standard";
	o.env = "production";
	o.time_scale = 1;
	if ((rc = cli_parse(ctx, argc, argv, opts, &args, &nargs)) != EXIT_OK)
		return rc;
	if (strcmp(args[0], "flag"))
		return cli_usage_error(ctx, "rollout", "unknown rollout '%s'; 'slipway rollout flag FLAG ...' is the one "
				       "there is (a release is 'slipway deploy SERVICE VERSION')", args[0]);
	if (!service || !steps || !interval)
		return cli_usage_error(ctx, "rollout", "'rollout flag' needs --service (whose requests report the flag), "
				       "--steps (e.g. 5%%,25%%,50%%,100%%) and --interval (e.g. 30m)");
	if (!service_name_valid(service))
		return cli_usage_error(ctx, "rollout", "--service '%s' is not a service name", service);
	if (!service_name_valid(o.env))
		return cli_usage_error(ctx, "rollout", "--env '%s' is not an environment name", o.env);
	if (scale) {
		char *end;
		errno = 0;
		o.time_scale = strtod(scale, &end);
		if (errno || *end || end == scale || !(o.time_scale >= 1 && o.time_scale <= 3600))
			return cli_usage_error(ctx, "rollout", "--time-scale must be a number from 1 to 3600, not '%s'", scale);
	}
	if (segment && cli_segment_option(NULL, o.env, segment, &err) < 0) {
		cli_usage_error(ctx, "rollout", "%s", err.buf);
		strbuf_release(&err);
		return EXIT_USAGE;
	}
	if (duration_parse(interval, &interval_ms, &err) < 0 ||
	    flag_rollout_strategy(steps, interval_ms, &strategy, &err) < 0) {
		cli_usage_error(ctx, "rollout", "%s", err.buf);
		strbuf_release(&err);
		return EXIT_USAGE;
	}
	if ((rc = cli_store(ctx, &st)) != EXIT_OK)
		return rc;
	if ((rc = flag_store_migrate(st, &err)) < 0 ||
	    (rc = flag_store_get(st, o.env, FLAG_KIND_FLAG, args[1], &cur, &err)) < 0 ||
	    (rc = flag_rollout_variants(cur.def, &on, &off, &err)) < 0)
		goto fail;
	if (flag_cohort_format(on_cohort, sizeof(on_cohort), args[1], on) < 0 ||
	    flag_cohort_format(off_cohort, sizeof(off_cohort), args[1], off) < 0) {
		strbuf_errf(&err, "flag '%s' with variant '%s' is too long to be a deployment's version (%d bytes "
			    "for flag:FLAG=VARIANT)", args[1], strlen(on) > strlen(off) ? on : off, SW_NAME_MAX);
		rc = SW_EUSAGE;
		goto fail;
	}
	if (segment && (rc = cli_segment_option(st, o.env, segment, &err)) < 0)
		goto fail;
	if (segment) {
		/* the segment first, served whatever the percentage: set back means "the segment only" */
		json_t *def = json_deep_copy(cur.def);
		char path[128];
		int changed;
		int64_t v;
		rc = flag_rollout_set(def, flag_rollout_percentage(def), segment, &err);
		if (rc >= 0) {
			v = flag_store_put(st, o.env, FLAG_KIND_FLAG, args[1], def, FLAG_PUT_UPDATE, cli_caller(NULL),
					   "guarded rollout: the segment keeps the flag", proc_now_ms(), &changed, path,
					   sizeof(path), &err);
			rc = v < 0 ? (int)v : 0;
		}
		json_decref(def);
		if (rc < 0)
			goto fail;
	}
	flag_record_release(&cur);
	o.service = service;
	o.version = on_cohort;
	o.flag_stable = off_cohort;
	o.flag_strategy = &strategy;
	return cli_deploy_with(ctx, &o, wait, "rollout");
fail:
	flag_record_release(&cur);
	cli_error("%s", err.buf);
	strbuf_release(&err);
	return rc == SW_ENOTFOUND || rc == SW_EUSAGE || rc == SW_ECONFIG ? EXIT_USAGE : cli_exit(rc);
}
