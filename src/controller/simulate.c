/*
 * simulate.c - one closed-loop run of the rollout engine against simulated
 * traffic, and the reference numbers; see simulate.h.
 *
 * The loop is the controller's without a store or a router, like the replay
 * of `slipway analyze`: measure_interval() over the provider, then
 * deployment_advance(), then make the "router" match deployment_desired()
 * by telling the traffic model the canary's new share.  So the traffic a
 * step gets is exactly the weight the engine set, and whatever the judge
 * needs from a provider (query, query_over) it asks the model for.
 */
#include "controller/simulate.h"
#include "controller/measure.h"
#include "base/alloc.h"
#include "base/err.h"
#include "base/fmt.h"
#include "base/rng.h"
#include "base/strbuf.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>


const char *simulate_outcome_name(enum simulate_outcome o)
{
	switch (o) {
	case SIM_PROMOTED: return "promoted";
	case SIM_ROLLED_BACK: return "rolled_back";
	case SIM_PAUSED: return "paused";
	case SIM_INSUFFICIENT: return "insufficient_traffic";
	case SIM_FAILED: return "failed";
	case SIM_UNFINISHED: return "unfinished";
	case SIM_SUCCEEDED: return "succeeded";
	}
	return "unknown";
}

/* the canary's share of the service's requests when the router shows what d wants */
static double desired_share(const struct deployment *d, const struct strategy *s)
{
	struct desired_state ds;
	double sum = 0;

	deployment_desired(d, s, &ds);
	if (!ds.canary_up)
		return 0;
	if (!ds.stable_up)
		return 1;
	for (int g = 0; g < ds.n_groups; g++)
		sum += ds.group_weight[g];
	/* groups are taken to carry equal traffic */
	return sum / (ds.n_groups > 0 ? ds.n_groups : 1) / 100.0;
}

static void keep_interval(struct simulate_run *out, const struct analysis_input *ai, const struct metrics_sim *m,
			  const struct decision *dec, int group)
{
	struct simulate_interval *iv;

	ALLOC_GROW(out->intervals, out->n_intervals + 1, out->alloc);
	iv = &out->intervals[out->n_intervals++];
	memset(iv, 0, sizeof(*iv));
	iv->from_ms = ai->from_ms;
	iv->to_ms = ai->to_ms;
	iv->weight = ai->weight;
	iv->group = group;
	iv->share = metrics_sim_mean_share(m, ai->from_ms, ai->to_ms);
	iv->canary_requests = ai->canary.requests;
	iv->canary_errors = ai->canary.errors;
	iv->stable_requests = ai->stable.requests;
	iv->stable_errors = ai->stable.errors;
	iv->canary_p99_ms = ai->canary.requests ? ai->canary.p99_ms : NAN;
	iv->stable_p99_ms = ai->stable.requests ? ai->stable.p99_ms : NAN;
	bprintf(iv->verdict, sizeof(iv->verdict), "%s",
		dec->has_analysis ? analysis_verdict_name(dec->analysis.verdict) : "warm-up");
	iv->stored = dec->has_analysis && !(dec->analysis_quiet && !dec->n_transitions);
}

static int is_insufficient(const char *rule, const char *reason)
{
	return !strcmp(rule, SIM_RULE_INSUFFICIENT) || !strncmp(reason, "insufficient traffic", 20);
}

static int64_t gcd_ms(int64_t a, int64_t b)
{
	while (b > 0) {
		int64_t t = a % b;
		a = b;
		b = t;
	}
	return a > 0 ? a : 1;
}

int simulate_run(const struct simulate_options *o, uint64_t seed, struct simulate_run *out, struct strbuf *err)
{
	const struct strategy *s = o->strategy;
	struct metrics_sim_params tp = o->traffic;
	struct metrics_sim m;
	struct metrics_provider prov;
	struct deployment d;
	struct decision *dec = xcalloc(1, sizeof(*dec));
	struct analysis_input *ai = xcalloc(1, sizeof(*ai));
	int64_t now = 0;
	long guard = 0;
	int rc = 0, done = 0;

	memset(out, 0, sizeof(*out));
	out->seed = seed;
	out->first_step_ms = -1;
	out->promoted_ms = -1;
	out->outcome = SIM_UNFINISHED;
	/* traffic is drawn on the grid the analysis looks at (a look is a whole cell, the
	   warm-up's interval a sum of cells), so repeated and adjacent queries agree */
	tp.cell_ms = s->interval_ms > 0 ? deployment_look_ms(o->rules, s, o->judge) : STRATEGY_DEFAULT_INTERVAL_MS;
	if (tp.cell_ms <= 0)
		tp.cell_ms = STRATEGY_DEFAULT_INTERVAL_MS;
	/* the sequential judge's looks shorten at high traffic, in whole JUDGE_LOOK_MIN_MS
	   (core/judge.h): draw on the grid both fall on */
	if (deployment_look_at_ms(o->rules, s, o->judge, 1e12) < tp.cell_ms)
		tp.cell_ms = gcd_ms(tp.cell_ms, JUDGE_LOOK_MIN_MS);
	metrics_sim_init(&m, &tp, seed);
	metrics_sim_provider(&m, &prov);
	metrics_sim_set_share(&m, 0, 0);
	deployment_init(&d, "service", "simulation", "canary", "stable", o->rules->type, 0);

	while (!done) {
		struct tick_input in = { .gate = GATE_ALLOW, .canary_ready = 1, .judge = o->judge };
		int64_t from, to, next;
		double w;
		int idle;

		if (++guard > 10000000) {
			strbuf_errf(err, "the simulation did not finish after %ld ticks", guard);
			rc = SW_ESTATE;
			break;
		}
		if (deployment_analysis_due(&d, s, now, &from, &to, &w, &idle)) {
			measure_interval(&prov, &d, from, to, s->interval_ms, w, idle, ai);
			if (o->rules_mask)
				ai->rules_mask = o->rules_mask;
			in.analysis = ai;
		}
		rc = deployment_advance(&d, o->rules, s, &in, NULL, 0, now, dec);
		if (rc < 0) {
			strbuf_errf(err, "the state machine refused the strategy");
			break;
		}
		if (in.analysis) {
			/* the warm-up interval has no canary traffic; later ones are evidence */
			out->canary_requests += ai->canary.requests;
			if (o->keep_intervals)
				keep_interval(out, ai, &m, dec, d.group);
		}
		d = dec->next;
		metrics_sim_set_share(&m, now, desired_share(&d, s));
		if (out->first_step_ms < 0 && d.state != DS_PENDING && (d.step >= 1 || d.state == DS_PROMOTING))
			out->first_step_ms = now;
		for (int i = 0; i < dec->n_transitions && !done; i++) {
			const struct transition *t = &dec->transitions[i];
			const char *rule = dec->has_analysis ? dec->analysis.rule : "";
			switch (t->to) {
			case DS_PROMOTING:
				if (o->through_monitoring) {
					out->promoted_ms = now;
					continue;
				}
				out->outcome = SIM_PROMOTED;
				rule = "";
				break;
			case DS_SUCCEEDED:
				out->outcome = SIM_SUCCEEDED;
				rule = "";
				break;
			case DS_ROLLING_BACK:
				out->outcome = SIM_ROLLED_BACK;
				break;
			case DS_PAUSED:
				out->outcome = is_insufficient(rule, t->reason) ? SIM_INSUFFICIENT : SIM_PAUSED;
				break;
			case DS_FAILED:
				out->outcome = SIM_FAILED;
				break;
			default:
				continue;
			}
			done = 1;
			out->at_ms = now;
			out->step = t->step;
			out->weight = t->weight;
			bprintf(out->rule, sizeof(out->rule), "%s", rule);
			bprintf(out->reason, sizeof(out->reason), "%s", t->reason);
		}
		if (done || deployment_state_is_final(d.state))
			break;
		/* the next event: an analysis boundary, or the tick after a one-tick state */
		next = INT64_MAX;
		if (d.state == DS_PROMOTING || d.state == DS_ROLLING_BACK)
			next = d.state_since_ms + 1000;
		else if (d.state == DS_PENDING)
			next = now + 1000;
		else if (d.next_analysis_ms > now)
			next = d.next_analysis_ms;
		if (next == INT64_MAX || next > o->max_ms) {
			out->at_ms = next == INT64_MAX ? now : o->max_ms;
			out->step = d.step;
			out->weight = d.weight;
			bprintf(out->reason, sizeof(out->reason), "still %s at step %d (weight %.4g%%) after %llds: %s",
				deployment_state_name(d.state), d.step, d.weight, (long long)(o->max_ms / 1000), d.reason);
			break;
		}
		now = next;
	}
	if (out->first_step_ms >= 0) {
		out->at_ms -= out->first_step_ms;
		if (out->promoted_ms >= 0)
			out->promoted_ms -= out->first_step_ms;
	} else {
		out->at_ms = 0;
	}
	if (out->at_ms < 0)
		out->at_ms = 0;
	metrics_sim_release(&m);
	free(dec);
	free(ai);
	return rc < 0 ? rc : 0;
}

void simulate_run_release(struct simulate_run *r)
{
	free(r->intervals);
	r->intervals = NULL;
	r->n_intervals = r->alloc = 0;
}

/* ---- reference numbers ---- */

/* expected log-likelihood ratio per canary request at canary share rho (nats) */
static double drift_per_canary_request(double rho, double p0, double p1)
{
	double rate = rho * p1 + (1 - rho) * p0;	/* events per request of the service */
	double th, kl;

	if (!(rho > 0 && rho < 1) || !(rate > 0))
		return 0;
	th = rho * p1 / rate;
	kl = (th > 0 ? th * log(th / rho) : 0) + (th < 1 ? (1 - th) * log((1 - th) / (1 - rho)) : 0);
	/* events per canary request: rate / rho */
	return kl * rate / rho;
}

void simulate_reference(const struct strategy *s, double rpm, double p0, double p1, double alpha, double beta,
			struct simulate_reference *out)
{
	double a, left, n = 0, t_ms = 0, last_drift = 0, last_rate = 0, last_share = 0;
	struct deployment d;

	memset(out, 0, sizeof(*out));
	out->alpha = alpha;
	out->beta = beta;
	out->p0 = p0;
	out->p1 = p1;
	out->relative_risk = p0 > 0 ? p1 / p0 : INFINITY;
	out->wald_canary_requests = out->wald_at_s = NAN;
	out->fixed_one_sided = out->fixed_two_sided = NAN;
	if (!(p1 > p0) || !(p1 <= 1) || !(p0 >= 0) || !(rpm > 0))
		return;
	{
		/* R power.prop.test, n per arm */
		double pbar = (p0 + p1) / 2, zb = normal_quantile(1 - beta);
		double sd0 = sqrt(2 * pbar * (1 - pbar)), sd1 = sqrt(p0 * (1 - p0) + p1 * (1 - p1));
		double d2 = (p1 - p0) * (p1 - p0);
		double z1 = normal_quantile(1 - alpha), z2 = normal_quantile(1 - alpha / 2);
		out->fixed_one_sided = ceil((z1 * sd0 + zb * sd1) * (z1 * sd0 + zb * sd1) / d2);
		out->fixed_two_sided = ceil((z2 * sd0 + zb * sd1) * (z2 * sd0 + zb * sd1) / d2);
	}
	a = (1 - beta) * log((1 - beta) / alpha) + beta * log(beta / (1 - alpha));
	left = a;
	deployment_init(&d, "service", "simulation", "canary", "stable", "standard", 0);
	d.state = DS_PROGRESSING;
	for (int k = 0; k < s->n_steps; k++) {
		double rho, drift, rate, step_n;
		d.step = k + 1;
		d.weight = s->steps[k].weight;
		d.group = s->steps[k].group;
		rho = s->steps[k].idle ? 0 : desired_share(&d, s);
		drift = drift_per_canary_request(rho, p0, p1);
		rate = rpm / 60000.0 * rho;	/* canary requests per ms */
		if (drift > 0 && out->n_steps < SIM_REF_MAX_STEPS) {
			out->step_weight[out->n_steps] = s->steps[k].weight;
			out->step_share[out->n_steps] = rho;
			out->step_wald[out->n_steps] = a / drift;
			out->n_steps++;
		}
		if (left <= 0)
			continue;
		step_n = rate * (double)s->steps[k].hold_ms;
		if (drift > 0 && step_n * drift >= left) {
			out->wald_share = rho;
			n += left / drift;
			t_ms += left / drift / rate;
			left = 0;
			continue;
		}
		n += step_n;
		left -= step_n * drift;
		t_ms += (double)s->steps[k].hold_ms;
		if (drift > 0) {
			last_drift = drift;
			last_rate = rate;
			last_share = rho;
		}
	}
	if (left > 0) {
		/* the schedule ended first: as if the last step with a split were held until the evidence is in */
		if (!(last_drift > 0))
			return;
		n += left / last_drift;
		t_ms += left / last_drift / last_rate;
		out->wald_share = last_share;
	}
	out->valid = 1;
	out->wald_canary_requests = n;
	out->wald_at_s = t_ms / 1000.0;
}
