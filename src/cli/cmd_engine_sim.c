/*
 * cmd_engine_sim.c - `slipway engine-sim`: the real controller over a store
 * on a stepped simulated clock that is itself kept in the store, with trace
 * providers and the simulated router/target.  For the crash-safety test
 * (tests/cli/engine-crash.sh; docs/engine.md): the process may be SIGKILLed
 * at any instant and restarted; the clock and every deployment resume from
 * the store.
 *
 *   engine-sim setup --fleet FILE [--copies N]   create the deployments
 *   engine-sim run [--step-ms MS] [--max-ticks N] tick until all are final
 *   engine-sim dump                               transitions, intents, outcomes
 *
 * A fleet file has one deployment per line: SERVICE CONFIG TRACE TYPE
 * [T_S:KIND[:ARG]]... (paths relative to the file; '#' comments).
 */
#include "cli/cli.h"
#include "cli/commands.h"
#include "adapters/deployment_store.h"
#include "adapters/metrics_trace.h"
#include "adapters/sim_infra.h"
#include "adapters/sql.h"
#include "adapters/store.h"
#include "controller/controller.h"
#include "core/rollout_config.h"
#include "core/rules.h"
#include "base/alloc.h"
#include "base/err.h"
#include "base/limits.h"
#include "base/strbuf.h"

#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>

const char usage_engine_sim[] =
	"usage: slipway engine-sim setup --fleet FILE [--copies N] [--start-ms MS]\n"
	"       slipway engine-sim run [--step-ms MS] [--max-ticks N] [--crash-after-ticks N]\n"
	"       slipway engine-sim dump\n"
	"\n"
	"Testing aid: run the rollout controller over the store with a simulated clock kept in\n"
	"the store, metric traces and a simulated router and target.  'run' may be killed at any\n"
	"point and started again; it exits 0 once every deployment is final.\n";

static const char *const sim_migrations[] = {
	"CREATE TABLE sim_clock (id INTEGER PRIMARY KEY CHECK (id = 1), now_ms INTEGER NOT NULL);"
	"INSERT INTO sim_clock VALUES (1, 0);"
	"CREATE TABLE sim_traces (service TEXT PRIMARY KEY, path TEXT NOT NULL);",
};

/* The store (cli_store()) plus this testing aid's own tables. */
static int open_sim(struct cli_ctx *ctx, struct store **st)
{
	struct strbuf err = STRBUF_INIT;
	int rc = cli_store(ctx, st), r;
	if (rc != EXIT_OK)
		return rc;
	if ((r = store_migrate_ported(*st, "engine-sim", sim_migrations, NULL, 1, &err)) < 0) {
		cli_error("%s", err.buf);
		rc = cli_exit(r);
	}
	strbuf_release(&err);
	return rc;
}

static int parse_intent_spec(const char *spec, struct intent *it)
{
	char *end;
	long long t;
	char kind[32];
	const char *colon;

	memset(it, 0, sizeof(*it));
	errno = 0;
	t = strtoll(spec, &end, 10);
	if (errno || end == spec || *end != ':' || t < 0)
		return -1;
	spec = end + 1;
	colon = strchr(spec, ':');
	snprintf(kind, sizeof(kind), "%.*s", colon ? (int)(colon - spec) : (int)strlen(spec), spec);
	if (intent_kind_parse(kind, &it->kind) < 0)
		return -1;
	if (colon && !strcmp(colon + 1, "full"))
		it->full = 1;
	else if (colon)
		it->to_revision = (int)strtol(colon + 1, NULL, 10);
	it->created_ms = t * 1000;
	snprintf(it->requested_by, sizeof(it->requested_by), "engine-sim");
	return 0;
}

static int sim_setup(struct store *st, const char *fleet, int copies, int64_t start_ms)
{
	struct strbuf text = STRBUF_INIT, err = STRBUF_INIT, path = STRBUF_INIT;
	char *dircopy = xstrdup(fleet), *dir = dirname(dircopy), *save = NULL, *line;
	struct rollout_config *cfg = xcalloc(1, sizeof(*cfg));
	int rc = EXIT_OK, lineno = 0;

	if (strbuf_read_file_max(&text, fleet, 1 << 20, &err) < 0) {
		cli_error("%s", err.buf);
		rc = EXIT_USAGE;
		goto out;
	}
	{
		_cleanup_sql_ struct sql_stmt *q = NULL;
		if (sql_prepare(st, &q, "UPDATE sim_clock SET now_ms = ? WHERE id = 1", &err) < 0) {
			cli_error("%s", err.buf);
			rc = EXIT_RUNTIME;
			goto out;
		}
		sql_bind_int64(q, 1, start_ms);
		sql_step(q, NULL);
	}
	for (int c = 0; c < copies && rc == EXIT_OK; c++) {
		struct strbuf copy = STRBUF_INIT;
		strbuf_addstr(&copy, text.buf);
		lineno = 0;
		for (line = strtok_r(copy.buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			char *f[16], *s2 = NULL, *tok;
			int nf = 0;
			struct deployment d;
			struct type_rules rules;
			struct strbuf cfgtext = STRBUF_INIT;

			lineno++;
			if (line[0] == '#' || !line[strspn(line, " \t")])
				continue;
			for (tok = strtok_r(line, " \t", &s2); tok && nf < 16; tok = strtok_r(NULL, " \t", &s2))
				f[nf++] = tok;
			if (nf < 4 || type_rules_default(f[3], &rules, &err) < 0) {
				cli_error("%s:%d: expected SERVICE CONFIG TRACE TYPE [T_S:KIND[:ARG]]... %s", fleet, lineno,
					  err.buf);
				rc = EXIT_USAGE;
				strbuf_release(&copy);
				goto out;
			}
			strbuf_reset(&path);
			if (f[1][0] == '/')
				strbuf_addstr(&path, f[1]);
			else
				strbuf_addf(&path, "%s/%s", dir, f[1]);
			if (strbuf_read_file_max(&cfgtext, path.buf, ROLLOUT_CONFIG_MAX_BYTES, &err) < 0 ||
			    rollout_config_parse(cfgtext.buf, cfgtext.len, path.buf, cfg, &err) < 0) {
				cli_error("%s", err.buf);
				strbuf_release(&cfgtext);
				strbuf_release(&copy);
				rc = EXIT_USAGE;
				goto out;
			}
			strbuf_release(&cfgtext);
			if (strlen(f[3]) > SW_NAME_MAX) {
				cli_error("fleet: type '%s' is longer than %d bytes", f[3], SW_NAME_MAX);
				rc = EXIT_USAGE;
				goto out;
			}
			{
				char svc[SW_NAME_MAX + 1];
				snprintf(svc, sizeof(svc), "%.40s-%d", f[0], c);
				deployment_init(&d, svc, "sim", "v2", "v1", f[3], start_ms);
			}
			snprintf(d.requested_by, sizeof(d.requested_by), "engine-sim");
			if (deployment_store_create(st, &d, &cfg->strategy, &err) < 0) {
				cli_error("%s", err.buf);
				strbuf_release(&copy);
				rc = EXIT_RUNTIME;
				goto out;
			}
			for (int i = 4; i < nf; i++) {
				struct intent it;
				int bad = parse_intent_spec(f[i], &it) < 0;
				it.created_ms += start_ms;
				if (bad || deployment_store_add_intent(st, d.id, &it, NULL, &err) < 0) {
					cli_error("%s:%d: bad intent '%s' %s", fleet, lineno, f[i], err.buf);
					strbuf_release(&copy);
					rc = EXIT_USAGE;
					goto out;
				}
			}
			{
				_cleanup_sql_ struct sql_stmt *q = NULL;
				strbuf_reset(&path);
				if (f[2][0] == '/')
					strbuf_addstr(&path, f[2]);
				else
					strbuf_addf(&path, "%s/%s", dir, f[2]);
				if (sql_prepare(st, &q, "INSERT INTO sim_traces (service, path) VALUES (?, ?)", &err) < 0) {
					cli_error("%s", err.buf);
					strbuf_release(&copy);
					rc = EXIT_RUNTIME;
					goto out;
				}
				sql_bind_text(q, 1, d.service);
				sql_bind_text(q, 2, path.buf);
				if (sql_step(q, NULL) != SQL_DONE) {
					cli_error("store: %s", sql_errmsg(st));
					strbuf_release(&copy);
					rc = EXIT_RUNTIME;
					goto out;
				}
			}
		}
		strbuf_release(&copy);
	}
out:
	free(cfg);
	free(dircopy);
	strbuf_release(&text);
	strbuf_release(&err);
	strbuf_release(&path);
	return rc;
}

static int64_t sim_now(struct store *st)
{
	_cleanup_sql_ struct sql_stmt *q = NULL;
	if (sql_prepare(st, &q, "SELECT now_ms FROM sim_clock WHERE id = 1", NULL) < 0 || sql_step(q, NULL) != SQL_ROW)
		return -1;
	return sql_column_int64(q, 0);
}

static const struct cli_ctx *log_ctx; /* for sim_log: the controller's hook has no room for it */

/* the controller's log hook reports errors it handled (controller.c), with a
 * time and a level like every controller line (cli_log()) */
static void sim_log(void *ctx, const struct deployment *d, const char *msg)
{
	cli_log(log_ctx, LOG_ERROR, "engine-sim: deployment %lld: %s", d ? (long long)d->id : 0LL, msg);
}

static int sim_run(struct store *st, int64_t step_ms, long max_ticks, long crash_after)
{
	struct metrics_trace *traces = NULL;
	size_t n_traces = 0, alloc = 0;
	struct metrics_trace_set set = { 0 };
	struct metrics_provider prov;
	struct sim_infra infra;
	struct router router;
	struct target target;
	struct controller c;
	struct strbuf err = STRBUF_INIT;
	_cleanup_sql_ struct sql_stmt *q = NULL, *adv = NULL;
	int rc = EXIT_OK, r;
	char **services = NULL;

	if (sql_prepare(st, &q, "SELECT t.service, t.path, (SELECT MIN(created_ms) FROM deployments d WHERE "
			  "d.service = t.service) FROM sim_traces t ORDER BY t.service", &err) < 0) {
		cli_error("%s", err.buf);
		return EXIT_RUNTIME;
	}
	while (sql_step(q, NULL) == SQL_ROW) {
		ALLOC_GROW(traces, n_traces + 1, alloc);
		services = xrealloc(services, (n_traces + 1) * sizeof(*services));
		memset(&traces[n_traces], 0, sizeof(traces[0]));
		services[n_traces] = xstrdup(sql_column_text(q, 0));
		if (metrics_trace_load(&traces[n_traces], sql_column_text(q, 1), &err) < 0) {
			cli_error("%s", err.buf);
			metrics_trace_release(&traces[n_traces]);
			free(services[n_traces]);
			rc = EXIT_USAGE;
			goto out;
		}
		traces[n_traces].origin_ms = sql_column_int64(q, 2);	/* t_s = 0 is the deployment's creation */
		n_traces++;
	}
	/* traces must not move once the set points into them */
	for (size_t i = 0; i < n_traces; i++)
		metrics_trace_set_add(&set, services[i], &traces[i]);
	metrics_trace_set_provider(&set, &prov);
	sim_infra_init(&infra);
	infra.never_ready_suffix = "-stuck";
	sim_infra_router(&infra, &router);
	sim_infra_target(&infra, &target);
	controller_init(&c, st);
	c.router = &router;
	c.target = &target;
	c.metrics = &prov;
	c.hooks.log = sim_log;
	c.hooks.webhook_check = NULL;	/* a simulation contacts nothing (webhooks: test_controller) */
	c.hooks.webhook_call = NULL;
	if (sql_prepare(st, &adv, "UPDATE sim_clock SET now_ms = ? WHERE id = 1 AND now_ms = ?", &err) < 0) {
		cli_error("%s", err.buf);
		rc = EXIT_RUNTIME;
		goto done;
	}
	for (long tick = 0; max_ticks <= 0 || tick < max_ticks; tick++) {
		int64_t now = sim_now(st);
		if (now < 0) {
			cli_error("engine-sim: no simulated clock; run 'slipway engine-sim setup' first");
			rc = EXIT_RUNTIME;
			break;
		}
		strbuf_reset(&err);
		r = controller_tick(&c, now, &err);
		if (r < 0) {
			cli_error("%s", err.buf);
			rc = EXIT_RUNTIME;
			break;
		}
		if (r == 0) {
			printf("done at %llds after %llu ticks: %llu commits, %llu transitions\n", (long long)(now / 1000),
			       (unsigned long long)c.stats.ticks, (unsigned long long)c.stats.commits,
			       (unsigned long long)c.stats.transitions);
			break;
		}
		if (crash_after > 0 && tick + 1 == crash_after) {
			/* a deterministic crash point for the crash test: the tick is
			 * committed and acted on, the simulated clock not yet advanced */
			fflush(stdout);
			raise(SIGKILL);
		}
		sql_reset(adv);
		sql_bind_int64(adv, 1, now + step_ms);
		sql_bind_int64(adv, 2, now);
		if (sql_step(adv, NULL) != SQL_DONE) {
			cli_error("store: %s", sql_errmsg(st));
			rc = EXIT_RUNTIME;
			break;
		}
		if (max_ticks > 0 && tick + 1 == max_ticks)
			rc = EXIT_NO;
	}
done:
	controller_release(&c);
	sim_infra_release(&infra);
out:
	for (size_t i = 0; i < n_traces; i++) {
		metrics_trace_release(&traces[i]);
		free(services[i]);
	}
	free(services);
	free(traces);
	metrics_trace_set_release(&set);
	strbuf_release(&err);
	return rc;
}

static int sim_dump(struct store *st)
{
	_cleanup_sql_ struct sql_stmt *q = NULL;
	struct strbuf err = STRBUF_INIT;

	if (sql_prepare(st, &q,
			  "SELECT 'T', deployment_id, at_ms, COALESCE(from_state, '-'), to_state, step, weight, reason "
			  "FROM transitions "
			  "UNION ALL SELECT 'I', deployment_id, id, kind, COALESCE(CAST(applied_ms AS TEXT), 'pending'), 0, 0, "
			  "COALESCE(result, '') FROM intents "
			  "UNION ALL SELECT 'A', deployment_id, at_ms, verdict, CAST(step AS TEXT), 0, weight, reason FROM analysis_results "
			  "UNION ALL SELECT 'D', id, 0, service, state, step, failed_checks, reason FROM deployments "
			  "ORDER BY 1, 2, 3", &err) < 0) {
		cli_error("%s", err.buf);
		strbuf_release(&err);
		return EXIT_RUNTIME;
	}
	while (sql_step(q, NULL) == SQL_ROW) {
		for (int i = 0; i < 8; i++)
			printf("%s%s", i ? "|" : "", sql_column_text(q, i) ? sql_column_text(q, i) : "");
		printf("\n");
	}
	return EXIT_OK;
}

int cmd_engine_sim(int argc, char **argv, struct cli_ctx *ctx)
{
	const char *fleet = NULL, *sub, *copies_s = NULL, *step_s = NULL, *max_s = NULL, *start_s = NULL,
		   *crash_s = NULL;
	const struct cli_option opts[] = {
		CLI_STRING("fleet", 0, &fleet),
		CLI_STRING("copies", 0, &copies_s),
		CLI_STRING("step-ms", 0, &step_s),
		CLI_STRING("max-ticks", 0, &max_s),
		CLI_STRING("start-ms", 0, &start_s),
		CLI_STRING("crash-after-ticks", 0, &crash_s),
		CLI_OPTIONS_END,
	};
	const char *const *counts[] = { &copies_s, &step_s, &max_s, &crash_s };
	long copies = 1, step = 1000, max_ticks = 0, crash_after = 0;
	long *count_out[] = { &copies, &step, &max_ticks, &crash_after };
	long long start_ms = 0;
	struct store *st;
	char **args, *end;
	int nargs, rc;

	if ((rc = cli_parse(ctx, argc, argv, opts, &args, &nargs)) != EXIT_OK)
		return rc;
	sub = args[0];
	if (start_s) {
		errno = 0;
		start_ms = strtoll(start_s, &end, 10);
		if (errno || *end || end == start_s || start_ms < 0)
			return cli_usage_error(ctx, "engine-sim", "--start-ms must be ms since the epoch, not '%s'", start_s);
	}
	for (size_t i = 0; i < ARRAY_SIZE(counts); i++) {
		const char *v = *counts[i];
		long n;
		if (!v)
			continue;
		errno = 0;
		n = strtol(v, &end, 10);
		if (errno || *end || end == v || n < 1 || n > 100000000L)
			return cli_usage_error(ctx, "engine-sim", "'%s' is not a positive whole number", v);
		*count_out[i] = n;
	}
	if (strcmp(sub, "setup") && strcmp(sub, "run") && strcmp(sub, "dump"))
		return cli_usage_error(ctx, "engine-sim", "unknown subcommand '%s'; valid: setup, run, dump", sub);
	if (!strcmp(sub, "setup") && !fleet)
		return cli_usage_error(ctx, "engine-sim", "setup needs --fleet FILE");
	if ((rc = open_sim(ctx, &st)) != EXIT_OK)
		return rc;
	log_ctx = ctx;
	if (!strcmp(sub, "setup"))
		return sim_setup(st, fleet, (int)copies, (int64_t)start_ms);
	if (!strcmp(sub, "run"))
		return sim_run(st, step, max_ticks, crash_after);
	return sim_dump(st);
}
