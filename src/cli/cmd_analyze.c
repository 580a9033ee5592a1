/*
 * cmd_analyze.c - `slipway analyze`: replay a recorded metrics trace through
 * the real rollout engine on a simulated clock and print the decision
 * timeline (docs/engine.md, docs/trace-format.md).  Nothing is stored and nothing is contacted:
 * webhooks are listed, not called.
 */
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/vocab.h"
#include "adapters/metrics_trace.h"
#include "controller/replay.h"
#include "core/rollout_config.h"
#include "cli/cli_policy.h"
#include "core/rules.h"
#include "base/alloc.h"
#include "base/err.h"
#include "base/strbuf.h"
#include "base/timeutil.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char usage_analyze[] =
	"usage: slipway analyze --config FILE --trace TRACE [--type TYPE] [--min-requests N]\n"
	"                       [--judge NAME] [--through-monitoring] [--intent T_S:KIND[:ARG]]...\n"
	"                       [-o json]\n"
	"\n"
	"Replay a recorded metrics trace through the rollout engine on a simulated clock and\n"
	"print the decision timeline: each step and weight, each analysis with its numbers,\n"
	"and the outcome with its reason.  Each look is one line; its criteria are shown at\n"
	"the first look, where the verdict or the state changes and at the last look (every\n"
	"look's with -v; -o json has them all).\n"
	"\n"
	"  --config FILE         a Flagger Canary, a Kubernetes Deployment (rolling), a\n"
	"                        slipway/v1 Strategy or a service file (services/NAME.yaml:\n"
	"                        the strategy deploy uses for it)\n"
	"  --trace TRACE         CSV t_s,revision,requests,errors,p50_ms,p99_ms (docs/trace-format.md)\n"
	"  --type TYPE           deployment type whose rules apply: standard (default), hotfix,\n"
	"                        emergency, database-migration, infrastructure-change\n"
	"  --min-requests N      canary requests below which an interval is inconclusive\n"
	"                        (default: the config's, else 50)\n"
	"  --judge NAME          sequential (the policy's default), threshold (Flagger's failed-check\n"
	"                        counting) or observed (each interval's value); docs/judge.md;\n"
	"                        default: a service file's judge:, else the policy's\n"
	"  --through-monitoring  after promotion, continue through the monitoring period\n"
	"  --intent T_S:KIND[:ARG]  a person's control at T_S seconds: promote, promote:full,\n"
	"                        pause, resume, abort, retry, undo, undo:N (repeatable)\n"
	"  -o, --output FORMAT   text (default) or json\n"
	"\n"
	"Exit status: 0 promoted or succeeded, 1 rolled back, failed or the trace ended first,\n"
	"2 invalid input, 4 paused (waiting for a person).\n";

/* weights are whole percents in practice: print 10, not 10.0 */
static json_t *json_weight(double w)
{
	if (w == floor(w) && fabs(w) < 1e9)
		return json_integer((json_int_t)w);
	return json_real(w);
}

static void print_checks_line(const struct analysis_result *a)
{
	for (int i = 0; i < a->n_checks; i++) {
		const struct check_result *c = &a->checks[i];
		char v[32], l[32], ev[160];
		int pct;
		if (!isnan(c->log_e)) {
			/* the sequential judge's evidence (docs/judge.md) */
			analysis_check_evidence(c, ev, sizeof(ev));
			/* a test with no canary request has nothing to pass on (docs/judge.md: never a pass) */
			printf("         %-34s %s: %s\n", c->name,
			       !c->requests && c->outcome == JUDGE_PASS ? "no data" : judge_outcome_name(c->outcome), ev);
			continue;
		}
		pct = strstr(c->name, "error-rate") || strstr(c->name, "success-rate") ||
			  !strcmp(c->name, "type:any-error") || !strcmp(c->name, "type:availability") ||
			  !strcmp(c->name, "type:worse-than-baseline");
		if (isnan(c->value))
			snprintf(v, sizeof(v), "no data");
		else
			snprintf(v, sizeof(v), pct ? "%.2f%%" : "%.0fms", c->value);
		snprintf(l, sizeof(l), pct ? "%.4g%%" : "%.0fms", c->limit);
		printf("         %-34s %-9s %s limit %s: %s\n", c->name, v, c->op == '<' ? "min" : "max", l,
		       judge_outcome_name(c->outcome));
	}
}

/*
 * Whether the look events[i] gets its criteria in text: the first look, a
 * verdict other than the look before's, a look the state changes after
 * (a halt, a promotion: not a step's advance) and the last look.
 */
static int show_details(const struct replay_result *res, size_t i, size_t last_look, int prev_verdict)
{
	const struct replay_event *e = &res->events[i];

	if (i == last_look || prev_verdict < 0 || prev_verdict != (int)e->a.verdict)
		return 1;
	for (size_t k = i + 1; k < res->n_events && res->events[k].at_ms == e->at_ms; k++)
		if (!res->events[k].is_analysis && res->events[k].t.from != res->events[k].t.to)
			return 1;
	return 0;
}

static const char *tbuf(int64_t ms, char buf[32])
{
	/* a look shortened for high traffic (docs/judge.md, "Looks") can end between seconds */
	if (ms % 1000) {
		int n = snprintf(buf, 32, "t=%lld.%03lld", (long long)(ms / 1000), (long long)(ms % 1000));
		while (n > 0 && buf[n - 1] == '0')
			buf[--n] = '\0';
		snprintf(buf + n, 32 - (size_t)n, "s");
	} else
		snprintf(buf, 32, "t=%llds", (long long)(ms / 1000));
	return buf;
}

#define MAX_INTENTS 64

static int parse_intent(const char *spec, struct intent *it)
{
	char kind[32] = "", arg[32] = "";
	long long t;
	char *end;

	memset(it, 0, sizeof(*it));
	errno = 0;
	t = strtoll(spec, &end, 10);
	if (errno || end == spec || *end != ':' || t < 0 || t > 100LL * 365 * 86400)
		return -1;
	spec = end + 1;
	end = strchr(spec, ':');
	if (end) {
		if ((size_t)(end - spec) >= sizeof(kind) || strlen(end + 1) >= sizeof(arg))
			return -1;
		memcpy(kind, spec, (size_t)(end - spec));
		snprintf(arg, sizeof(arg), "%s", end + 1);
	} else {
		if (strlen(spec) >= sizeof(kind))
			return -1;
		snprintf(kind, sizeof(kind), "%s", spec);
	}
	if (intent_kind_parse(kind, &it->kind) < 0)
		return -1;
	it->created_ms = t * 1000;
	snprintf(it->requested_by, sizeof(it->requested_by), "analyze");
	if (arg[0]) {
		if (it->kind == INTENT_PROMOTE && !strcmp(arg, "full")) {
			it->full = 1;
		} else if (it->kind == INTENT_UNDO) {
			long n = strtol(arg, &end, 10);
			if (*end || n < 1 || n > 1000000)
				return -1;
			it->to_revision = (int)n;
		} else {
			return -1;
		}
	}
	return 0;
}

int cmd_analyze(int argc, char **argv, struct cli_ctx *ctx)
{
	const char *config = NULL, *trace_path = NULL, *type = "standard", *min_s = NULL, *judge_name = NULL;
	char svc_judge[64] = "";	/* a service file's judge: (cli_read_strategy_file) */
	const char *judge_shown;	/* the judge the replay uses (analysis_judge()) */
	const char *intent_s[MAX_INTENTS];
	long min_requests = 0;
	int through = 0, rc, n_intent_s = 0, n_intents = 0;
	const struct cli_option opts[] = {
		CLI_STRING("config", 0, &config),
		CLI_STRING("trace", 0, &trace_path),
		CLI_STRING("type", 0, &type),
		CLI_STRING("min-requests", 0, &min_s),
		CLI_STRING("judge", 0, &judge_name),
		CLI_FLAG("through-monitoring", 0, &through),
		CLI_LIST("intent", 0, intent_s, &n_intent_s, MAX_INTENTS),
		CLI_OPTIONS_END,
	};
	struct intent intents[MAX_INTENTS];
	struct rollout_config *cfg = NULL;
	struct metrics_trace trace = METRICS_TRACE_INIT;
	struct metrics_provider prov;
	struct type_rules rules;
	struct deployment d;
	struct replay_options ro = { 0 };
	struct replay_result res;
	struct strbuf err = STRBUF_INIT;

	if ((rc = cli_parse(ctx, argc, argv, opts, NULL, NULL)) != EXIT_OK)
		return rc;
	for (int i = 0; i < n_intent_s; i++) {
		if (parse_intent(intent_s[i], &intents[n_intents]) < 0)
			return cli_usage_error(ctx, "analyze", "--intent '%s' is not T_S:KIND[:ARG]; kinds: promote, "
					       "promote:full, pause, resume, abort, retry, undo, undo:N", intent_s[i]);
		intents[n_intents].id = n_intents + 1;
		/* keep them in time order (insertion sort: few, and stable) */
		for (int k = n_intents; k > 0 && intents[k - 1].created_ms > intents[k].created_ms; k--) {
			struct intent tmp = intents[k];
			intents[k] = intents[k - 1];
			intents[k - 1] = tmp;
		}
		n_intents++;
	}
	if (min_s) {
		char *end;
		errno = 0;
		min_requests = strtol(min_s, &end, 10);
		if (errno || *end || end == min_s || min_requests < 1 || min_requests > 1000000000L)
			return cli_usage_error(ctx, "analyze", "--min-requests must be a whole number >= 1, not '%s'", min_s);
	}
	if (judge_name && !judge_impl_find(judge_name))
		return cli_usage_error(ctx, "analyze", "unknown judge '%s'; valid: sequential, threshold, observed",
				       judge_name);
	if (!config || !trace_path)
		return cli_usage_error(ctx, "analyze", "--config and --trace are required");
	/* the type's rules come from the effective policy, as in a real deployment */
	if ((rc = cli_type_rules(ctx->policy_path, type, &rules)) != EXIT_OK)
		return rc;
	cfg = xcalloc(1, sizeof(*cfg));
	if (cli_read_strategy_file(config, &rules, cfg, svc_judge, sizeof(svc_judge)) < 0) {
		free(cfg);
		return EXIT_USAGE;
	}
	cli_apply_service_judge(&rules, judge_name, svc_judge);
	cli_warn_unjudged(config, cfg, &rules, through);
	judge_shown = judge_impl_find(rules.judge.name) ? rules.judge.name : judge_sequential_impl.name;
	if (min_requests)
		cfg->strategy.min_requests = (uint64_t)min_requests;
	if (metrics_trace_load(&trace, trace_path, &err) < 0) {
		cli_error("%s", err.buf);
		strbuf_release(&err);
		metrics_trace_release(&trace);
		free(cfg);
		return EXIT_USAGE;
	}
	metrics_trace_provider(&trace, &prov);
	deployment_init(&d, cfg->name[0] ? cfg->name : "service", "replay", "canary", "stable", type, 0);
	ro.end_ms = metrics_trace_end_ms(&trace);
	ro.through_monitoring = through;
	ro.intents = intents;
	ro.n_intents = n_intents;
	if (replay_run(&d, &rules, &cfg->strategy, &prov, &ro, &res, &err) < 0) {
		cli_error("%s", err.buf);
		strbuf_release(&err);
		metrics_trace_release(&trace);
		free(cfg);
		return EXIT_RUNTIME;
	}

	{
		/* intents are applied in time order: those after the replay's end never were */
		size_t seen = 0;
		for (size_t i = 0; i < res.n_events; i++)
			seen += res.events[i].is_analysis == 2;
		for (int k = (int)seen; k < n_intents; k++) {
			long long at = (long long)(intents[k].created_ms / 1000), end = (long long)(res.at_ms / 1000);
			if (res.at_ms >= ro.end_ms)
				cli_warning("--intent '%s' not applied: %llds is after the trace's last row (%llds); give a "
					    "time within the trace", intent_s[intents[k].id - 1], at, end);
			else
				cli_warning("--intent '%s' not applied: the replay ended at %llds (%s), before %llds",
					    intent_s[intents[k].id - 1], end, replay_outcome_name(res.outcome), at);
		}
	}
	if (ctx->output == OUTPUT_JSON) {
		json_t *j = cli_doc("AnalysisReplay"), *steps = json_array(), *tl = json_array();
		int last_step = -1;
		double last_weight = -1;
		const struct analysis_result *last = NULL;
		for (size_t i = 0; i < res.n_events; i++) {
			const struct replay_event *e = &res.events[i];
			json_t *o = json_object();
			json_object_set_new(o, "t_s", json_integer(e->at_ms / 1000));
			json_object_set_new(o, "t_ms", json_integer(e->at_ms));
			if (e->is_analysis == 2) {
				json_object_set_new(o, "event", json_string("intent"));
				json_object_set_new(o, "intent", json_string(e->intent));
				json_object_set_new(o, "applied", json_boolean(e->ir.applied));
				json_object_set_new(o, "result", json_string(e->ir.result));
			} else if (e->is_analysis) {
				last = &e->a;
				json_object_set_new(o, "event", json_string("analysis"));
				json_object_set_new(o, "weight", json_weight(e->weight));
				/* the analysis result as every command shows one (vocab.h) */
				json_object_update_new(o, analysis_result_to_json(&e->a));
			} else {
				json_object_set_new(o, "event", json_string("transition"));
				json_object_set_new(o, "from", json_string(deployment_state_name(e->t.from)));
				json_object_set_new(o, "to", json_string(deployment_state_name(e->t.to)));
				json_object_set_new(o, "step", json_integer(e->t.step));
				json_object_set_new(o, "weight", json_weight(e->t.weight));
				json_object_set_new(o, "reason", json_string(e->t.reason));
				if (e->t.to == DS_PROGRESSING && e->t.step >= 1 &&
				    (e->t.step != last_step || e->t.weight != last_weight)) {
					last_step = e->t.step;
					last_weight = e->t.weight;
					json_t *s = json_object();
					json_object_set_new(s, "t_s", json_integer(e->at_ms / 1000));
					json_object_set_new(s, "weight", json_weight(e->t.weight));
					json_array_append_new(steps, s);
				}
			}
			json_array_append_new(tl, o);
		}
		json_object_set_new(j, "outcome", json_string(replay_outcome_name(res.outcome)));
		json_object_set_new(j, "at_s", json_integer(res.at_ms / 1000));
		json_object_set_new(j, "reason", json_string(res.reason));
		json_object_set_new(j, "rule", json_string(res.rule));
		json_object_set_new(j, "type", json_string(rules.type));
		json_object_set_new(j, "judge", json_string(judge_shown));
		json_object_set_new(j, "strategy", json_string(strategy_kind_name(cfg->strategy.kind)));
		json_object_set_new(j, "steps", steps);
		json_object_set_new(j, "failed_checks", json_integer(res.final.failed_checks));
		if (last) {
			json_t *a = analysis_result_to_json(last);
			json_object_set(j, "table", json_object_get(a, "table"));
			json_decref(a);
		} else {
			json_object_set_new(j, "table", json_array());
		}
		json_object_set_new(j, "timeline", tl);
		cli_print_json(j);
	} else {
		const struct analysis_result *last = NULL;
		size_t last_look = res.n_events;
		int verbose = ctx->log_level >= LOG_DEBUG, prev_verdict = -1, hidden = 0;
		char ts[32];
		printf("analyze %s (%s, %s) over %s, type %s, judge %s\n", config, cfg->format,
		       strategy_kind_name(cfg->strategy.kind), trace_path, rules.type, judge_shown);
		for (size_t i = 0; i < res.n_events; i++)
			if (res.events[i].is_analysis == 1)
				last_look = i;
		for (size_t i = 0; i < res.n_events; i++) {
			const struct replay_event *e = &res.events[i];
			if (e->is_analysis == 2) {
				printf("%-8s intent %s: %s\n", tbuf(e->at_ms, ts), e->intent, e->ir.result);
			} else if (e->is_analysis) {
				const char *vn = analysis_verdict_name(e->a.verdict);
				size_t vl = strlen(vn);

				last = &e->a;
				/* a reason that opens with its verdict ("inconclusive: ...") is not prefixed twice */
				if (!strncmp(e->a.reason, vn, vl) && e->a.reason[vl] == ':')
					printf("%-8s analysis at %.4g%%: %s\n", tbuf(e->at_ms, ts), e->weight, e->a.reason);
				else
					printf("%-8s analysis at %.4g%%: %s: %s\n", tbuf(e->at_ms, ts), e->weight, vn,
					       e->a.reason);
				/* A timeline: each look is one line; its criteria where they
				   matter (the first look, a changed verdict, a look the state
				   changes after, the last look), every look's with -v */
				if (verbose || show_details(&res, i, last_look, prev_verdict)) {
					print_checks_line(&e->a);
					if (e->a.step_answered >= 0)
						printf("         step question: %s\n", e->a.step_question);
				} else {
					hidden++;
				}
				prev_verdict = (int)e->a.verdict;
			} else {
				printf("%-8s %s -> %s (step %d, weight %.4g%%): %s\n", tbuf(e->at_ms, ts),
				       deployment_state_name(e->t.from), deployment_state_name(e->t.to), e->t.step,
				       e->t.weight, e->t.reason);
			}
		}
		printf("outcome: %s at %llds: %s\n", replay_outcome_name(res.outcome), (long long)(res.at_ms / 1000),
		       res.reason);
		printf("failed checks: %d of threshold %d\n", res.final.failed_checks, cfg->strategy.threshold);
		if (res.outcome == REPLAY_INCOMPLETE && res.final.step >= 1 && res.final.step <= cfg->strategy.n_steps &&
		    cli_step_is_manual(cfg, res.final.step - 1))
			printf("step %d (%.4g%%) waits for a person's promote (pause: {}): replay one with --intent "
			       "T_S:promote (a time within the trace)\n", res.final.step,
			       cfg->strategy.steps[res.final.step - 1].weight);
		if (hidden)
			printf("criteria shown at the first look, where the verdict or the state changed and at the last "
			       "look; -v shows them at the other %d look%s too (-o json has them all)\n", hidden,
			       hidden == 1 ? "" : "s");
		if (last) {
			json_t *a = analysis_result_to_json(last);
			printf("last analysis (runbook Performance Verification):\n");
			cli_print_comparison(json_object_get(a, "table"), "  ");
			json_decref(a);
		}
	}
	switch (res.outcome) {
	case REPLAY_PROMOTED:
	case REPLAY_SUCCEEDED:
		rc = EXIT_OK;
		break;
	case REPLAY_PAUSED:
		rc = EXIT_WAITING;
		break;
	default:
		rc = EXIT_NO;
	}
	replay_result_release(&res);
	metrics_trace_release(&trace);
	strbuf_release(&err);
	free(cfg);
	return rc;
}
