/*
 * cmd_simulate.c - `slipway simulate`: how long will a rollout take, and
 * how likely is it to catch a regression, at a given traffic?  Many seeded
 * runs of the real engine and judge against a traffic model
 * (controller/simulate.h, adapters/metrics_sim.h), summarised, beside the
 * statistical limit for the same question (docs/simulate.md).
 */
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/vocab.h"
#include "cli/cli_policy.h"
#include "controller/simulate.h"
#include "core/deployment.h"
#include "core/judge.h"
#include "core/rollout_config.h"
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

const char usage_simulate[] =
	"usage: slipway simulate --rpm R --stable-error-rate P [--canary-error-rate Q]\n"
	"                        [--config FILE] [--type TYPE] [--latency-ratio X]\n"
	"                        [--latency-median-ms MS] [--latency-p99-ms MS] [--runs N] [--seed S]\n"
	"                        [--max-minutes M] [--rules all|checks] [--judge NAME] [--min-requests N]\n"
	"                        [--through-monitoring] [--intervals] [-o json]\n"
	"\n"
	"Run the rollout engine and its judge many times against simulated traffic on a\n"
	"simulated clock: how long will the rollout take, and how likely is it to catch a\n"
	"regression (or to halt a healthy release), at this traffic?  Each run is one seed;\n"
	"requests/min are split by the weights the engine sets (Poisson arrivals), errors are\n"
	"Binomial with each revision's rate, latencies lognormal.  Nothing is stored or\n"
	"contacted.\n"
	"\n"
	"  --rpm R                 requests per minute to the service (all revisions)\n"
	"  --stable-error-rate P   the stable revision's error rate, a fraction (0.01 = 1%)\n"
	"  --canary-error-rate Q   the canary's error rate, a fraction (default: P)\n"
	"  --config FILE           a Flagger Canary, Kubernetes Deployment, slipway/v1 Strategy\n"
	"                          or service file (services/NAME.yaml: the strategy deploy\n"
	"                          uses for it); default: the type's strategy, as deploy uses\n"
	"  --type TYPE             deployment type whose rules apply (default standard)\n"
	"  --latency-ratio X       canary latencies are the stable's times X (default 1)\n"
	"  --latency-median-ms MS  the stable's median latency (default 45)\n"
	"  --latency-p99-ms MS     the stable's p99 latency (default 200)\n"
	"  --runs N                runs (seeds S, S+1, ...; default 200)\n"
	"  --seed S                the first seed (default 1)\n"
	"  --max-minutes M         stop a run that has not decided after M simulated minutes\n"
	"                          (outcome unfinished; default 1440)\n"
	"  --rules all|checks      judge by every rule (default), or by the config's own\n"
	"                          analysis checks only, still with the judge below (Flagger's\n"
	"                          rule: --rules checks --judge threshold)\n"
	"  --judge NAME            sequential (the policy's default), threshold (Flagger's failed-\n"
	"                          check counting) or observed (each interval's value); docs/judge.md;\n"
	"                          default: a service file's judge:, else the policy's\n"
	"  --min-requests N        canary requests below which an interval is inconclusive\n"
	"                          (default: the config's, else 50)\n"
	"  --through-monitoring    after promotion, go on through the type's monitoring period\n"
	"                          (outcome succeeded, or rolled_back/paused at 100%)\n"
	"  --intervals             list every analysed interval of every run (with -o json)\n"
	"  -o, --output FORMAT     text (default) or json\n"
	"\n"
	"Outcomes: promoted, rolled_back, paused (by a criterion), insufficient_traffic\n"
	"(paused for lack of traffic), failed, unfinished, succeeded.  Times are from the\n"
	"first step.\n"
	"Exit status: 0 the simulation ran (whatever the outcomes), 2 invalid input,\n"
	"3 the engine refused the strategy (or stdout could not be written).\n";

struct cell_stats {
	int n;
	double at_median, at_p90, req_median, req_p90;	/* NAN when n == 0 */
};

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* nearest-rank percentile of sorted v[0..n): the value at rank ceil(q n) */
static double rank_pct(const int64_t *v, int n, double q)
{
	int k;
	if (n <= 0)
		return NAN;
	k = (int)ceil(q * n - 1e-9);
	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return (double)v[k - 1];
}

/* statistics of the runs r[] for which pick(outcome) holds */
static void stats_of(const struct simulate_run *r, int n, int (*pick)(enum simulate_outcome), struct cell_stats *st)
{
	int64_t *at = xcalloc((size_t)n + 1, sizeof(*at)), *req = xcalloc((size_t)n + 1, sizeof(*req));
	int k = 0;

	for (int i = 0; i < n; i++) {
		if (!pick(r[i].outcome))
			continue;
		at[k] = r[i].at_ms / 1000;
		req[k] = (int64_t)r[i].canary_requests;
		k++;
	}
	qsort(at, (size_t)k, sizeof(*at), cmp_i64);
	qsort(req, (size_t)k, sizeof(*req), cmp_i64);
	st->n = k;
	st->at_median = rank_pct(at, k, 0.5);
	st->at_p90 = rank_pct(at, k, 0.9);
	st->req_median = rank_pct(req, k, 0.5);
	st->req_p90 = rank_pct(req, k, 0.9);
	free(at);
	free(req);
}

static int pick_decided(enum simulate_outcome o) { return o != SIM_UNFINISHED; }
static int pick_halted(enum simulate_outcome o) { return o == SIM_ROLLED_BACK || o == SIM_PAUSED; }
static int pick_promoted(enum simulate_outcome o) { return o == SIM_PROMOTED; }
static int pick_rolled_back(enum simulate_outcome o) { return o == SIM_ROLLED_BACK; }
static int pick_paused(enum simulate_outcome o) { return o == SIM_PAUSED; }
static int pick_insufficient(enum simulate_outcome o) { return o == SIM_INSUFFICIENT; }
static int pick_succeeded(enum simulate_outcome o) { return o == SIM_SUCCEEDED; }

static json_t *num_or_null(double v)
{
	if (isnan(v) || isinf(v))
		return json_null();
	if (v == floor(v) && fabs(v) < 1e15)
		return json_integer((json_int_t)v);
	return json_real(v);
}

static json_t *stats_json(const struct cell_stats *st, int with_requests)
{
	json_t *o = json_object();
	json_object_set_new(o, "runs", json_integer(st->n));
	json_object_set_new(o, "at_s", json_pack("{s:o,s:o}", "median", num_or_null(st->at_median), "p90",
						 num_or_null(st->at_p90)));
	if (with_requests)
		json_object_set_new(o, "canary_requests", json_pack("{s:o,s:o}", "median", num_or_null(st->req_median),
								    "p90", num_or_null(st->req_p90)));
	return o;
}

/* a number option within [lo, hi]; 0 or a usage error */
static int opt_number(const struct cli_ctx *ctx, const char *name, const char *arg, double lo, double hi,
		      const char *what, double *out)
{
	char *end;
	double v;
	errno = 0;
	v = strtod(arg, &end);
	if (errno || end == arg || *end || !isfinite(v) || v < lo || v > hi)
		return cli_usage_error(ctx, "simulate", "--%s must be %s, not '%s'", name, what, arg);
	*out = v;
	return 0;
}

static void steps_text(const struct rollout_config *cfg, struct strbuf *sb)
{
	const struct strategy *s = &cfg->strategy;
	char hold[64];
	/* "10% 30s": the hold alone, but a pause for a person and no hold in words (cli_step_hold()) */
	for (int k = 0; k < s->n_steps && k < 12; k++) {
		const char *h = cli_step_hold(cfg, k, hold, sizeof(hold));
		strbuf_addf(sb, "%s%.4g%% %s", k ? ", " : "", s->steps[k].weight, strncmp(h, "hold ", 5) ? h : h + 5);
	}
	if (s->n_steps > 12)
		strbuf_addf(sb, ", ... (%d steps)", s->n_steps);
	if (!s->n_steps)
		strbuf_addstr(sb, "no steps");
}

struct reference_choice {
	const char *metric;		/* "error-rate" or "latency-over-2x-p99" */
	const char *alternative;	/* "scenario" or "doubling" */
	struct simulate_reference ref;
	double effect;			/* "doubling": the policy's judge.effect (2 built in) */
	int have;
};

/*
 * The question the reference answers: the scenario's error-rate regression;
 * else its latency regression as the share of requests slower than twice
 * the stable's p99 (the runbook's consider criterion); else (a healthy
 * canary) what catching a doubling of the error rate would need.
 */
static void choose_reference(const struct strategy *s, const struct metrics_sim_params *tp,
			     const struct judge_settings *js, struct reference_choice *rc)
{
	/* the policy's judge settings (docs/judge.md "Choosing a judge; settings"): alpha,
	   power and the smallest effect worth catching; built-in 0.05, 0.8 and 2 */
	double alpha = js && js->alpha > 0 && js->alpha < 1 ? js->alpha : 0.05;
	double beta = js && js->power > 0 && js->power < 1 ? 1 - js->power : 0.2;
	double effect = js && js->effect > 1 ? js->effect : 2;
	memset(rc, 0, sizeof(*rc));
	rc->effect = effect;
	if (tp->canary_error_rate > tp->stable_error_rate) {
		rc->metric = "error-rate";
		rc->alternative = "scenario";
		simulate_reference(s, tp->rpm, tp->stable_error_rate, tp->canary_error_rate, alpha, beta, &rc->ref);
	} else if (tp->latency_ratio > 1) {
		struct metrics_sim m;
		double t;
		metrics_sim_init(&m, tp, 0);
		t = 2 * tp->latency_p99_ms;
		rc->metric = "latency-over-2x-p99";
		rc->alternative = "scenario";
		simulate_reference(s, tp->rpm, metrics_sim_exceedance(&m, ROLE_STABLE, t),
				   metrics_sim_exceedance(&m, ROLE_CANARY, t), alpha, beta, &rc->ref);
		metrics_sim_release(&m);
	} else {
		double p1 = effect * tp->stable_error_rate;
		rc->metric = "error-rate";
		rc->alternative = "doubling";
		simulate_reference(s, tp->rpm, tp->stable_error_rate, p1 > 1 ? 1 : p1, alpha, beta, &rc->ref);
	}
	rc->have = rc->ref.valid;
}

static json_t *reference_json(const struct reference_choice *rc, const struct cell_stats *halted, double rpm,
			      int64_t interval_ms)
{
	const struct simulate_reference *r = &rc->ref;
	json_t *o = json_object(), *w = json_object(), *steps = json_array(), *f = json_object();

	json_object_set_new(o, "metric", json_string(rc->metric));
	json_object_set_new(o, "alternative", json_string(rc->alternative));
	json_object_set_new(o, "p0", num_or_null(r->p0));
	json_object_set_new(o, "p1", num_or_null(r->p1));
	json_object_set_new(o, "relative_risk", num_or_null(r->relative_risk));
	json_object_set_new(o, "alpha", json_real(r->alpha));
	json_object_set_new(o, "beta", json_real(r->beta));
	json_object_set_new(w, "canary_requests", num_or_null(r->valid ? round(r->wald_canary_requests * 10) / 10 : NAN));
	json_object_set_new(w, "at_s", num_or_null(r->valid ? round(r->wald_at_s * 10) / 10 : NAN));
	for (int k = 0; k < r->n_steps; k++)
		json_array_append_new(steps, json_pack("{s:o,s:o,s:o}", "weight", num_or_null(r->step_weight[k]), "share",
						       json_real(r->step_share[k]), "canary_requests",
						       num_or_null(round(r->step_wald[k] * 10) / 10)));
	json_object_set_new(w, "steps", steps);
	/* a judge decides at its looks: one look's canary requests at that split is its floor */
	json_object_set_new(w, "share_at_bound", r->valid ? json_real(r->wald_share) : json_null());
	json_object_set_new(w, "interval_canary_requests",
			    num_or_null(r->valid ? round(rpm * r->wald_share * (double)interval_ms / 60000.0 * 10) / 10 : NAN));
	json_object_set_new(o, "wald", w);
	json_object_set_new(f, "per_arm_one_sided", num_or_null(r->fixed_one_sided));
	json_object_set_new(f, "per_arm_two_sided", num_or_null(r->fixed_two_sided));
	json_object_set_new(o, "fixed_sample", f);
	json_object_set_new(o, "halted_median_over_wald",
			    r->valid && halted->n && !strcmp(rc->alternative, "scenario") ?
				    json_real(halted->req_median / r->wald_canary_requests) : json_null());
	return o;
}

static void fmt_num(char *buf, size_t n, double v, const char *unit)
{
	if (isnan(v))
		snprintf(buf, n, "-");
	else
		snprintf(buf, n, "%.0f%s", v, unit);
}

static void print_text(const char *config, const struct rollout_config *cfg, const struct type_rules *rules,
		       const struct metrics_sim_params *tp, int runs, uint64_t seed, const char *rules_name,
		       const char *judge_name, int64_t max_ms,
		       const int *counts, const struct simulate_run *res, const struct reference_choice *rc)
{
	static const struct {
		const char *label;
		int (*pick)(enum simulate_outcome);
	} rows[] = {
		{ "promoted", pick_promoted },
		{ "rolled_back", pick_rolled_back },
		{ "paused", pick_paused },
		{ "insufficient_traffic", pick_insufficient },
		{ "succeeded", pick_succeeded },
		{ "halted (rolled back or paused)", pick_halted },
		{ "all decided", pick_decided },
	};
	struct strbuf sb = STRBUF_INIT;
	char a[32], b[32], c[32];

	steps_text(cfg, &sb);
	printf("simulate %s: type %s, strategy %s (%s), interval %llds, threshold %d\n",
	       config ? config : "(the type's default strategy)", rules->type, strategy_kind_name(cfg->strategy.kind),
	       sb.buf, (long long)(cfg->strategy.interval_ms / 1000), cfg->strategy.threshold);
	printf("traffic: %.6g requests/min; error rate stable %.4g%%, canary %.4g%%; latency median %.4gms, "
	       "p99 %.4gms, canary x%.4g\n", tp->rpm, tp->stable_error_rate * 100, tp->canary_error_rate * 100,
	       tp->latency_median_ms, tp->latency_p99_ms, tp->latency_ratio);
	if (runs == 1)
		printf("1 run (seed %llu)", (unsigned long long)seed);
	else
		printf("%d runs (seeds %llu-%llu)", runs, (unsigned long long)seed,
		       (unsigned long long)(seed + (uint64_t)runs - 1));
	printf(", rules: %s, judge: %s; times from the first step\n\n", rules_name, judge_name);
	printf("%-32s %6s %7s %10s %10s %16s\n", "outcome", "runs", "share", "median", "p90", "canary requests");
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		struct cell_stats st;
		stats_of(res, runs, rows[i].pick, &st);
		if (!st.n && i >= 1 && i <= 4)
			continue;
		fmt_num(a, sizeof(a), st.at_median, "s");
		fmt_num(b, sizeof(b), st.at_p90, "s");
		fmt_num(c, sizeof(c), st.req_median, "");
		printf("%-32s %6d %6.1f%% %10s %10s %16s\n", rows[i].label, st.n, 100.0 * st.n / runs, a, b, c);
	}
	if (counts[SIM_FAILED])
		printf("%-32s %6d\n", "failed", counts[SIM_FAILED]);
	if (counts[SIM_UNFINISHED]) {
		int manual = 0, step = 0, monitoring = 0;
		double weight = 0;
		printf("%-32s %6d %6.1f%%  (still running at --max-minutes)\n", "unfinished", counts[SIM_UNFINISHED],
		       100.0 * counts[SIM_UNFINISHED] / runs);
		/* why: a pause for a person nobody promotes, or a schedule longer than --max-minutes */
		for (int i = 0; i < runs; i++)
			if (res[i].outcome == SIM_UNFINISHED && res[i].promoted_ms < 0 && res[i].step >= 1 &&
			    cli_step_is_manual(cfg, res[i].step - 1)) {
				if (!manual++ || res[i].step < step)
					step = res[i].step, weight = res[i].weight;
			}
		if (manual)
			printf("  %d of them wait%s at step %d (%.4g%%) for a person's promote (pause: {}): nobody promotes "
			       "in a simulation; to simulate past it, give the pause a duration in a copy of the file "
			       "(pause: {duration: 10m})\n", manual, manual == 1 ? "s" : "", step, weight);
		for (int i = 0; i < runs; i++)
			if (res[i].outcome == SIM_UNFINISHED && res[i].promoted_ms >= 0)
				monitoring++;
		if (monitoring && rules->monitoring_ms == MONITORING_CONTINUOUS)
			printf("  %d monitoring continuously (%s): only a person's promote ends it, which nobody gives in a "
			       "simulation\n", monitoring, rules->type);
		else if (monitoring)
			printf("  %d still monitoring when --max-minutes ran out: raise --max-minutes (now %.0f)\n",
			       monitoring, (double)max_ms / 60000.0);
		if (counts[SIM_UNFINISHED] > manual + monitoring)
			printf("  %d still progressing when --max-minutes ran out: raise --max-minutes (now %.0f)\n",
			       counts[SIM_UNFINISHED] - manual - monitoring, (double)max_ms / 60000.0);
	}
	{
		/* which rules decided the halts and pauses, most frequent first; waiting for
		   traffic is not a halt (docs/simulate.md "Outcomes and times"): its own line */
		const char *names[64];
		int cnt[64], nn = 0;
		for (int i = 0; i < runs; i++) {
			const char *k = res[i].rule[0] ? res[i].rule : "(no rule)";
			int j;
			if (res[i].outcome != SIM_ROLLED_BACK && res[i].outcome != SIM_PAUSED)
				continue;
			for (j = 0; j < nn && strcmp(names[j], k); j++)
				;
			if (j == nn && nn < 64) {
				names[nn] = k;
				cnt[nn++] = 0;
			}
			if (j < nn)
				cnt[j]++;
		}
		for (int i = 1; i < nn; i++)
			for (int j = i; j > 0 && cnt[j - 1] < cnt[j]; j--) {
				const char *tn = names[j];
				int tc = cnt[j];
				names[j] = names[j - 1], cnt[j] = cnt[j - 1];
				names[j - 1] = tn, cnt[j - 1] = tc;
			}
		if (nn) {
			printf("halts and pauses by rule:");
			for (int i = 0; i < nn; i++)
				printf("%s %s %d", i ? "," : "", names[i], cnt[i]);
			printf("\n");
		}
		if (counts[SIM_INSUFFICIENT])
			printf("waiting for traffic: %d (rule insufficient-traffic, not a halt)\n", counts[SIM_INSUFFICIENT]);
	}
	if (rc->have) {
		const struct simulate_reference *r = &rc->ref;
		printf("\nreference (alpha %.2g, power %.2g): %s %.4g%% vs %.4g%%%s\n", r->alpha, 1 - r->beta,
		       !strcmp(rc->metric, "error-rate") ? "error rate" : "requests slower than 2x the stable p99",
		       r->p0 * 100, r->p1 * 100, !strcmp(rc->alternative, "doubling") ?
		       (rc->effect == 2 ? " (a doubling)" : " (judge.effect x the stable's)") : "");
		printf("  Wald's expected sample size on this schedule: %.*f canary requests, reached after about %.*fs\n",
		       r->wald_canary_requests < 10 ? 1 : 0, r->wald_canary_requests, r->wald_at_s < 10 ? 1 : 0, r->wald_at_s);
		printf("  fixed-sample two-sample test: %.0f requests per arm (two-sided), %.0f (one-sided)\n",
		       r->fixed_two_sided, r->fixed_one_sided);
	}
	strbuf_release(&sb);
}

int cmd_simulate(int argc, char **argv, struct cli_ctx *ctx)
{
	const char *config = NULL, *type = "standard", *rules_name = NULL, *rpm_s = NULL, *p_s = NULL, *q_s = NULL,
		   *ratio_s = NULL, *median_s = NULL, *p99_s = NULL, *runs_s = NULL, *seed_s = NULL, *max_s = NULL,
		   *min_s = NULL, *judge_name = NULL;
	char svc_judge[64] = "";	/* a service file's judge: (cli_read_strategy_file) */
	int rc = EXIT_OK, runs, intervals = 0, through = 0, counts[SIM_OUTCOMES] = { 0 };
	const struct cli_option opts[] = {
		CLI_STRING("config", 0, &config),
		CLI_STRING("type", 0, &type),
		CLI_STRING("rpm", 0, &rpm_s),
		CLI_STRING("stable-error-rate", 0, &p_s),
		CLI_STRING("canary-error-rate", 0, &q_s),
		CLI_STRING("latency-ratio", 0, &ratio_s),
		CLI_STRING("latency-median-ms", 0, &median_s),
		CLI_STRING("latency-p99-ms", 0, &p99_s),
		CLI_STRING("runs", 0, &runs_s),
		CLI_STRING("seed", 0, &seed_s),
		CLI_STRING("max-minutes", 0, &max_s),
		CLI_STRING("rules", 0, &rules_name),
		CLI_STRING("min-requests", 0, &min_s),
		CLI_STRING("judge", 0, &judge_name),
		CLI_FLAG("intervals", 0, &intervals),
		CLI_FLAG("through-monitoring", 0, &through),
		CLI_OPTIONS_END,
	};
	double rpm = NAN, p = NAN, q = NAN, ratio = 1, median = 45, p99 = 200, runs_d = 200, seed_d = 1,
	       max_min = 1440, min_req = 0;
	uint64_t seed;
	struct rollout_config *cfg = NULL;
	struct type_rules rules;
	struct simulate_options so;
	struct simulate_run *res = NULL;
	struct reference_choice ref;
	struct cell_stats all, halted;
	struct strbuf err = STRBUF_INIT;

	if ((rc = cli_parse(ctx, argc, argv, opts, NULL, NULL)) != EXIT_OK)
		return rc;
	if ((rpm_s && opt_number(ctx, "rpm", rpm_s, 1e-6, 1e7, "requests per minute, > 0 and <= 10000000", &rpm)) ||
	    (p_s && opt_number(ctx, "stable-error-rate", p_s, 0, 1, "a fraction from 0 to 1 (0.01 = 1%)", &p)) ||
	    (q_s && opt_number(ctx, "canary-error-rate", q_s, 0, 1, "a fraction from 0 to 1 (0.01 = 1%)", &q)) ||
	    (ratio_s && opt_number(ctx, "latency-ratio", ratio_s, 0.001, 1000, "a factor from 0.001 to 1000", &ratio)) ||
	    (median_s && opt_number(ctx, "latency-median-ms", median_s, 0.001, 1e7, "milliseconds from 0.001 to 10000000", &median)) ||
	    (p99_s && opt_number(ctx, "latency-p99-ms", p99_s, 0.001, 1e8, "milliseconds from 0.001 to 100000000", &p99)) ||
	    (runs_s && opt_number(ctx, "runs", runs_s, 1, 100000, "a whole number from 1 to 100000", &runs_d)) ||
	    (seed_s && opt_number(ctx, "seed", seed_s, 0, 1e15, "a whole number from 0 to 1000000000000000", &seed_d)) ||
	    (max_s && opt_number(ctx, "max-minutes", max_s, 1, 525600, "minutes from 1 to 525600", &max_min)) ||
	    (min_s && opt_number(ctx, "min-requests", min_s, 1, 1e9, "a whole number from 1 to 1000000000", &min_req)))
		return EXIT_USAGE;
	if (!rules_name)
		rules_name = "all";
	if (strcmp(rules_name, "all") && strcmp(rules_name, "checks"))
		return cli_usage_error(ctx, "simulate", "--rules must be all or checks, not '%s'", rules_name);
	if (isnan(rpm) || isnan(p))
		return cli_usage_error(ctx, "simulate", "%s required", isnan(rpm) && isnan(p) ?
				       "--rpm and --stable-error-rate are" : isnan(rpm) ? "--rpm is" : "--stable-error-rate is");
	if (isnan(q))
		q = p;
	if (runs_d != floor(runs_d) || seed_d != floor(seed_d) || min_req != floor(min_req))
		return cli_usage_error(ctx, "simulate", "--runs, --seed and --min-requests take whole numbers");
	if (!(p99 > median))
		return cli_usage_error(ctx, "simulate", "--latency-p99-ms (%g) must be above --latency-median-ms (%g)",
				       p99, median);
	runs = (int)runs_d;
	seed = (uint64_t)seed_d;
	/* the type's rules come from the effective policy, as in a real deployment */
	if (judge_name && !judge_impl_find(judge_name))
		return cli_usage_error(ctx, "simulate", "unknown judge '%s'; valid: sequential, threshold, observed",
				       judge_name);
	if ((rc = cli_type_rules(ctx->policy_path, type, &rules)) != EXIT_OK)
		return rc;
	cfg = xcalloc(1, sizeof(*cfg));
	if (config) {
		if (cli_read_strategy_file(config, &rules, cfg, svc_judge, sizeof(svc_judge)) < 0) {
			free(cfg);
			return EXIT_USAGE;
		}
	} else {
		/* what `deploy` uses: the type's strategy with its built-in steps */
		enum strategy_kind kind;
		if (strategy_kind_parse(rules.strategy, &kind, &err) < 0) {
			cli_error("type '%s': %s", rules.type, err.buf);
			strbuf_release(&err);
			free(cfg);
			return EXIT_USAGE;
		}
		strategy_default(&cfg->strategy, kind);
		snprintf(cfg->format, sizeof(cfg->format), "default");
	}
	cli_apply_service_judge(&rules, judge_name, svc_judge);
	if (cfg->n_template_refs || cfg->argo.n_analyses)
		cli_warning("%s: its %s query Prometheus, which a simulation cannot; only slipway's own "
			    "rules judge here (docs/simulate.md)", config,
			    cfg->n_template_refs ? "metrics with templateRef" : "Argo analyses");
	for (int k = 0; k < cfg->strategy.n_steps; k++)
		if (cli_step_is_manual(cfg, k)) {
			cli_warning("%s: step %d (%.4g%%) waits for a person's promote (pause: {}), which nobody gives in a "
				    "simulation: runs that reach it end unfinished at --max-minutes (docs/simulate.md)",
				    config, k + 1, cfg->strategy.steps[k].weight);
			break;
		}
	cli_warn_unjudged(config, cfg, &rules, through);
	if (intervals && ctx->output != OUTPUT_JSON)
		cli_warning("--intervals lists the intervals in -o json only; the text summary has none");
	if (min_req > 0)
		cfg->strategy.min_requests = (uint64_t)min_req;
	if (!strcmp(rules_name, "checks") && !cfg->strategy.n_checks)
		cli_warning("--rules checks: %s has no analysis checks, so nothing is judged but traffic minimums",
			    config ? config : "the type's default strategy");

	memset(&so, 0, sizeof(so));
	so.rules = &rules;
	so.strategy = &cfg->strategy;
	so.traffic = (struct metrics_sim_params){ .rpm = rpm, .stable_error_rate = p, .canary_error_rate = q,
						  .latency_median_ms = median, .latency_p99_ms = p99,
						  .latency_ratio = ratio };
	so.rules_mask = !strcmp(rules_name, "checks") ? ANALYSIS_RULE_CHECKS : 0;
	so.max_ms = (int64_t)(max_min * 60000.0);
	so.keep_intervals = intervals;
	so.through_monitoring = through;
	res = xcalloc((size_t)runs, sizeof(*res));
	for (int i = 0; i < runs; i++) {
		if (simulate_run(&so, seed + (uint64_t)i, &res[i], &err) < 0) {
			cli_error("seed %llu: %s", (unsigned long long)(seed + (uint64_t)i), err.buf);
			rc = EXIT_RUNTIME;
			runs = i + 1;
			goto out;
		}
		counts[res[i].outcome]++;
	}
	choose_reference(&cfg->strategy, &so.traffic, &rules.judge, &ref);
	stats_of(res, runs, pick_decided, &all);
	stats_of(res, runs, pick_halted, &halted);

	if (ctx->output == OUTPUT_JSON) {
		json_t *j = cli_doc("Simulation"), *oc = json_object(), *by = json_object(), *rl = json_object(),
		       *results = json_array(), *steps = json_array();
		for (int o = 0; o < SIM_OUTCOMES; o++)
			json_object_set_new(oc, simulate_outcome_name((enum simulate_outcome)o), json_integer(counts[o]));
		{
			static int (*const picks[])(enum simulate_outcome) = { pick_promoted, pick_rolled_back, pick_paused,
									       pick_insufficient, pick_succeeded };
			static const char *const names[] = { "promoted", "rolled_back", "paused", "insufficient_traffic",
							     "succeeded" };
			for (size_t k = 0; k < ARRAY_SIZE(picks); k++) {
				struct cell_stats st;
				stats_of(res, runs, picks[k], &st);
				json_object_set_new(by, names[k], stats_json(&st, 1));
			}
			json_object_set_new(by, "halted", stats_json(&halted, 1));
		}
		for (int i = 0; i < runs; i++) {
			const struct simulate_run *r = &res[i];
			json_t *o;
			if (r->outcome == SIM_ROLLED_BACK || r->outcome == SIM_PAUSED) {
				const char *k = r->rule[0] ? r->rule : "(no rule)";
				json_object_set_new(rl, k, json_integer(json_integer_value(json_object_get(rl, k)) + 1));
			}
			o = json_pack("{s:I,s:s,s:I,s:s,s:s,s:I,s:i,s:o}", "seed", (json_int_t)r->seed, "outcome",
				      simulate_outcome_name(r->outcome), "at_s", (json_int_t)(r->at_ms / 1000), "reason",
				      r->reason, "rule", r->rule, "canary_requests", (json_int_t)r->canary_requests, "step",
				      r->step, "weight", num_or_null(r->weight));
			if (through)
				json_object_set_new(o, "promoted_s", r->promoted_ms >= 0 ?
						    json_integer((json_int_t)(r->promoted_ms / 1000)) : json_null());
			if (intervals) {
				json_t *iv = json_array();
				for (size_t k = 0; k < r->n_intervals; k++) {
					const struct simulate_interval *x = &r->intervals[k];
					json_array_append_new(iv, json_pack(
						"{s:I,s:I,s:o,s:i,s:f,s:I,s:I,s:I,s:I,s:o,s:o,s:s}", "from_s",
						(json_int_t)(x->from_ms / 1000), "to_s", (json_int_t)(x->to_ms / 1000), "weight",
						num_or_null(x->weight), "group", x->group, "share", x->share, "canary_requests",
						(json_int_t)x->canary_requests, "canary_errors", (json_int_t)x->canary_errors,
						"stable_requests", (json_int_t)x->stable_requests, "stable_errors",
						(json_int_t)x->stable_errors, "canary_p99_ms", num_or_null(round(x->canary_p99_ms * 10) / 10),
						"stable_p99_ms", num_or_null(round(x->stable_p99_ms * 10) / 10), "verdict", x->verdict));
				}
				json_object_set_new(o, "intervals", iv);
			}
			json_array_append_new(results, o);
		}
		for (int k = 0; k < cfg->strategy.n_steps; k++)
			json_array_append_new(steps, json_pack("{s:o,s:I}", "weight", num_or_null(cfg->strategy.steps[k].weight),
							       "hold_s", (json_int_t)(cfg->strategy.steps[k].hold_ms / 1000)));
		json_object_set_new(j, "runs", json_integer(runs));
		json_object_set_new(j, "seed", json_integer((json_int_t)seed));
		json_object_set_new(j, "type", json_string(rules.type));
		json_object_set_new(j, "config", config ? json_string(config) : json_null());
		json_object_set_new(j, "strategy", json_string(strategy_kind_name(cfg->strategy.kind)));
		json_object_set_new(j, "steps", steps);
		json_object_set_new(j, "interval_s", json_integer((json_int_t)(cfg->strategy.interval_ms / 1000)));
		json_object_set_new(j, "rules", json_string(rules_name));
		json_object_set_new(j, "judge", rules.judge.name[0] ? json_string(rules.judge.name) : json_null());
		json_object_set_new(j, "rpm", num_or_null(rpm));
		json_object_set_new(j, "stable_error_rate", json_real(p));
		json_object_set_new(j, "canary_error_rate", json_real(q));
		json_object_set_new(j, "latency_ratio", json_real(ratio));
		json_object_set_new(j, "outcomes", oc);
		json_object_set_new(j, "at_s", json_pack("{s:o,s:o}", "median", num_or_null(all.at_median), "p90",
							 num_or_null(all.at_p90)));
		json_object_set_new(j, "canary_requests", json_pack("{s:o,s:o}", "median", num_or_null(all.req_median),
								    "p90", num_or_null(all.req_p90)));
		json_object_set_new(j, "by_outcome", by);
		json_object_set_new(j, "halt_rules", rl);
		json_object_set_new(j, "look_s", json_real((double)deployment_look_ms(&rules, &cfg->strategy, so.judge) / 1000.0));
		/* the look at the split where Wald's bound is reached (looks follow the canary's traffic) */
		json_object_set_new(j, "reference",
				    reference_json(&ref, &halted, rpm,
						   deployment_look_at_ms(&rules, &cfg->strategy, so.judge,
									 ref.ref.valid ? rpm * ref.ref.wald_share : 0)));
		json_object_set_new(j, "results", results);
		cli_print_json(j);
	} else {
		print_text(config, cfg, &rules, &so.traffic, runs, seed, rules_name,
			   rules.judge.name[0] ? rules.judge.name : "the policy's default", so.max_ms, counts, res, &ref);
	}
out:
	for (int i = 0; i < runs; i++)
		simulate_run_release(&res[i]);
	free(res);
	free(cfg);
	strbuf_release(&err);
	return rc;
}
