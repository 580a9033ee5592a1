/*
 * analysis_plan.c - the rollout file's queries, from the files to the
 * plan, and their measurements through Prometheus; see analysis_plan.h.
 *
 * The templates are read when the deployment starts (and again by a
 * controller that resumes it): a template edited meanwhile is the one the
 * resumed deployment runs, as a Kubernetes controller reads the
 * AnalysisTemplate when it creates the run.
 */
#include "controller/analysis_plan.h"
#include "adapters/analysis_files.h"
#include "adapters/metrics_prometheus.h"
#include "base/alloc.h"
#include "base/err.h"
#include "base/fmt.h"
#include "base/strbuf.h"
#include "core/deployment.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int add_metric(struct query_plan *plan, struct strbuf *err)
{
	if (plan->n_metrics >= QUERY_MAX_METRICS) {
		strbuf_errf(err, "more than %d analysis metrics in one rollout file", QUERY_MAX_METRICS);
		return SW_ECONFIG;
	}
	return plan->n_metrics++;
}

static int check_address(const struct query_metric *m, const struct service *svc, const char *what,
			 struct strbuf *err)
{
	if (m->address[0] || (svc && svc->prom.address))
		return 0;
	strbuf_errf(err, "%s metric '%s' has no Prometheus to ask: give the template's provider address, or a "
		    "'prometheus:' section in services/%s.yaml (docs/prometheus.md)", what, m->name,
		    svc ? svc->name : "SERVICE");
	return SW_ECONFIG;
}

static int load_flagger(struct query_plan *plan, const struct rollout_config *cfg, const char *dir,
			const struct service *svc, struct strbuf *err)
{
	struct query_run_def *def;
	int r;

	if (!cfg->n_template_refs)
		return 0;
	def = &plan->runs[plan->n_runs++];
	bprintf(def->name, sizeof(def->name), "flagger");
	def->step = QUERY_RUN_FLAGGER;
	def->first = plan->n_metrics;
	plan->flagger_interval_ms = cfg->strategy.interval_ms;
	for (int k = 0; k < cfg->n_template_refs; k++) {
		const struct flagger_template_ref *ref = &cfg->template_refs[k];
		struct metric_template mt;
		struct query_metric *m;
		char *q = NULL, lo[32] = "-", hi[32] = "-";
		int i;

		if ((i = add_metric(plan, err)) < 0)
			return i;
		m = &plan->metrics[i];
		if ((r = analysis_files_metric_template(dir, ref, cfg->namespace_, &mt, NULL, err)) < 0)
			return r;
		r = metric_template_render(&mt, ref, cfg->namespace_, cfg->target, &q, err);
		if (r >= 0) {
			m->kind = QUERY_FLAGGER;
			m->run = plan->n_runs - 1;
			bprintf(m->name, sizeof(m->name), "%s", ref->metric);
			bprintf(m->address, sizeof(m->address), "%s", mt.address);
			m->query = q;
			m->ref = *ref;
			if (ref->has_min)
				bprintf(lo, sizeof(lo), "%g", ref->min);
			if (ref->has_max)
				bprintf(hi, sizeof(hi), "%g", ref->max);
			bprintf(m->condition, sizeof(m->condition), "thresholdRange min %s max %s", lo, hi);
			def->n++;
			r = check_address(m, svc, "Canary", err);
		}
		metric_template_release(&mt);
		if (r < 0)
			return r;
	}
	return 0;
}

static int load_argo_metric(struct query_plan *plan, const struct argo_template *t, const struct argo_metric *am,
			    const struct argo_analysis_ref *ref, const struct service *svc, struct strbuf *err)
{
	struct query_metric *m;
	char *q = NULL;
	int i, r;

	if ((i = add_metric(plan, err)) < 0)
		return i;
	if ((r = argo_render(am->query, t, ref->args, ref->n_args, &q, err)) < 0) {
		struct strbuf e2 = STRBUF_INIT;
		strbuf_addf(&e2, "AnalysisTemplate '%s' metric '%s': %s", t->name, am->name, err->buf);
		strbuf_reset(err);
		strbuf_addstr(err, e2.buf);
		strbuf_release(&e2);
		return r;
	}
	m = &plan->metrics[i];
	m->kind = QUERY_ARGO;
	m->run = plan->n_runs - 1;
	bprintf(m->name, sizeof(m->name), "%s", am->name);
	bprintf(m->address, sizeof(m->address), "%s", am->address);
	m->query = q;
	m->timeout_ms = am->timeout_ms;
	m->interval_ms = am->interval_ms;
	m->initial_delay_ms = am->initial_delay_ms;
	m->limits = am->limits;
	if (m->limits.count == 0 && m->interval_ms == 0)
		m->limits.count = 1;	/* Argo: without count and interval, one measurement */
	m->success = am->success_e;
	m->failure = am->failure_e;
	if (am->success && am->failure)
		bprintf(m->condition, sizeof(m->condition), "success: %s; failure: %s", am->success, am->failure);
	else if (am->success)
		bprintf(m->condition, sizeof(m->condition), "success: %s", am->success);
	else if (am->failure)
		bprintf(m->condition, sizeof(m->condition), "failure: %s", am->failure);
	else
		bprintf(m->condition, sizeof(m->condition), "(none: Successful unless Error)");
	for (int k = 0; k < ref->n_args; k++) {
		const struct argo_arg *a = &ref->args[k];
		if (!a->from_ref)
			continue;
		if (a->from_ref == ARGO_FROM_OTHER) {
			strbuf_errf(err, "analysis argument '%s': valueFrom other than podTemplateHashValue (fieldRef, "
				    "secretKeyRef) has no Kubernetes to read from; give it a value (docs/argo.md)", a->name);
			return SW_ECONFIG;
		}
		bprintf(m->from_name[m->n_from], sizeof(m->from_name[0]), "%s", a->name);
		m->from_kind[m->n_from++] = a->from_ref;
	}
	plan->runs[plan->n_runs - 1].n++;
	return check_address(m, svc, "AnalysisTemplate", err);
}

static int load_argo(struct query_plan *plan, const struct rollout_config *cfg, const char *dir,
		     const struct service *svc, struct strbuf *err)
{
	int r, cap = 0;

	for (int k = 0; k < cfg->argo.n_analyses; k++)
		cap += cfg->argo.analyses[k].n_templates;
	if (!cap)
		return 0;
	plan->templates = xcalloc((size_t)cap, sizeof(*plan->templates));
	for (int k = 0; k < cfg->argo.n_analyses; k++) {
		const struct argo_analysis_ref *ref = &cfg->argo.analyses[k];
		struct query_run_def *def;
		if (plan->n_runs >= QUERY_MAX_RUNS) {
			strbuf_errf(err, "more than %d analyses in one rollout file", QUERY_MAX_RUNS);
			return SW_ECONFIG;
		}
		def = &plan->runs[plan->n_runs++];
		def->step = ref->step >= 0 ? ref->step : QUERY_RUN_BACKGROUND;
		def->first = plan->n_metrics;
		for (int t = 0; t < ref->n_templates; t++) {
			struct argo_template *tpl = &plan->templates[plan->n_templates];
			size_t used = strlen(def->name);
			if ((r = analysis_files_argo_template(dir, ref->templates[t], ref->cluster[t], tpl, NULL, err)) < 0)
				return r;
			plan->n_templates++;
			bprintf(def->name + used, sizeof(def->name) - used, "%s%s", t ? "+" : "", ref->templates[t]);
			for (int i = 0; i < tpl->n_metrics; i++)
				if ((r = load_argo_metric(plan, tpl, &tpl->metrics[i], ref, svc, err)) < 0)
					return r;
		}
	}
	return 0;
}

int analysis_plan_load(struct query_plan *plan, const struct rollout_config *cfg, const char *dir,
		       const struct service *svc, struct strbuf *err)
{
	int r;
	memset(plan, 0, sizeof(*plan));
	if ((r = load_flagger(plan, cfg, dir, svc, err)) < 0 || (r = load_argo(plan, cfg, dir, svc, err)) < 0) {
		query_plan_release(plan);
		return r;
	}
	return 0;
}

int analysis_plan_load_file(struct query_plan *plan, const char *path, const struct service *svc,
			    struct strbuf *err)
{
	struct strbuf buf = STRBUF_INIT;
	struct rollout_config *cfg = xcalloc(1, sizeof(*cfg));
	char dir[4096];
	int r;

	memset(plan, 0, sizeof(*plan));
	analysis_files_dir_of(path, dir, sizeof(dir));
	r = strbuf_read_file_max(&buf, path, ROLLOUT_CONFIG_MAX_BYTES, err);
	if (r >= 0)
		r = rollout_config_parse(buf.buf, buf.len, path, cfg, err);
	if (r >= 0)
		r = analysis_plan_load(plan, cfg, dir, svc, err);
	strbuf_release(&buf);
	free(cfg);
	return r;
}

/* ---- measuring through Prometheus ---- */

struct prom_client {
	char address[256];
	int64_t timeout_ms;
	struct metrics_prometheus *mp;
	struct metrics_provider p;
};

struct analysis_prom {
	int n;
	struct prom_client c[QUERY_MAX_METRICS];
	int of_metric[QUERY_MAX_METRICS];	/* metric -> client */
};

int analysis_prom_open(struct analysis_prom **out, const struct query_plan *plan, const struct service *svc,
		       struct strbuf *err)
{
	struct analysis_prom *ap = xcalloc(1, sizeof(*ap));
	struct service *tmp = xcalloc(1, sizeof(*tmp));
	int r = 0;

	for (int i = 0; i < plan->n_metrics && r >= 0; i++) {
		const struct query_metric *m = &plan->metrics[i];
		/* the service file says where Prometheus is on this machine; a template's address
		   (written for a cluster) is used when it says nothing (docs/argo.md) */
		const char *addr = svc->prom.address ? svc->prom.address : m->address;
		int64_t to = m->timeout_ms > 0 ? m->timeout_ms : 0;
		int found = -1;
		for (int k = 0; k < ap->n && found < 0; k++)
			if (!strcmp(ap->c[k].address, addr) && ap->c[k].timeout_ms == to)
				found = k;
		if (found < 0) {
			struct prom_client *c = &ap->c[ap->n];
			/* the service's settings (token, CA, retries), the template's address */
			*tmp = *svc;
			tmp->prom.address = (char *)addr;
			if (!svc->prom.address) {
				tmp->prom.timeout_ms = 5000;
				tmp->prom.retries = 2;
				tmp->prom.backoff_ms = 200;
			}
			if (to > 0)
				tmp->prom.timeout_ms = to;
			tmp->prom.q_requests = tmp->prom.q_errors = tmp->prom.q_buckets = tmp->prom.q_quantile = NULL;
			tmp->prom.q_flag_requests = tmp->prom.q_flag_errors = NULL;
			tmp->prom.q_flag_buckets = tmp->prom.q_flag_quantile = NULL;
			bprintf(c->address, sizeof(c->address), "%s", addr);
			c->timeout_ms = to;
			r = metrics_prometheus_open(&c->mp, tmp, "analysis", &c->p, err);
			if (r < 0)
				break;
			found = ap->n++;
		}
		ap->of_metric[i] = found;
	}
	free(tmp);
	if (r < 0) {
		analysis_prom_free(ap);
		return r;
	}
	*out = ap;
	return 0;
}

void analysis_prom_free(struct analysis_prom *ap)
{
	if (!ap)
		return;
	for (int k = 0; k < ap->n; k++)
		metrics_prometheus_free(ap->c[k].mp);
	free(ap);
}

void analysis_prom_measure(void *ctx, const struct query_plan *plan, int i, const struct deployment *d,
			   int64_t at_ms, struct query_answer *a)
{
	struct analysis_prom *ap = ctx;
	struct strbuf q = STRBUF_INIT, err = STRBUF_INIT;
	struct prom_result res = { 0 };

	query_metric_render(&plan->metrics[i], d, &q);
	if (metrics_prometheus_instant(ap->c[ap->of_metric[i]].mp, q.buf, at_ms, &res, &err) < 0) {
		struct strbuf e2 = STRBUF_INIT;
		if (strncmp(err.buf, "provider error", 14))
			strbuf_addstr(&e2, "provider error: ");
		strbuf_addstr(&e2, err.buf);
		query_answer_error(a, e2.buf);
		strbuf_release(&e2);
	} else if (res.type == PROM_MATRIX) {
		query_answer_error(a, "provider error: a matrix answer; the query must give an instant vector or a "
				   "scalar");
	} else {
		double v[QUERY_MAX_VALUES];
		size_t n = res.n < QUERY_MAX_VALUES ? res.n : QUERY_MAX_VALUES;
		for (size_t k = 0; k < n; k++)
			v[k] = res.v[k].v;
		if (res.n > QUERY_MAX_VALUES)
			query_answer_values(a, 1, v, res.n);	/* refused there with the reason */
		else
			query_answer_values(a, res.type == PROM_VECTOR, v, n);
	}
	prom_result_release(&res);
	strbuf_release(&q);
	strbuf_release(&err);
}
