/*
 * strategy.c - built-in strategies and the rolling-update arithmetic; see
 * strategy.h.  Everything here is data in, data out: the state machine never
 * needs to know which strategy produced its step list.
 */
#include "core/strategy.h"
#include "base/err.h"
#include "base/strbuf.h"
#include "base/timeutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const strategy_kind_names[] = {
	[STRATEGY_CANARY] = "canary",
	[STRATEGY_FAST_PROGRESSIVE] = "fast-progressive",
	[STRATEGY_FULL] = "full",
	[STRATEGY_BLUE_GREEN] = "blue-green",
	[STRATEGY_ROLLING] = "rolling",
	[STRATEGY_REGION_BY_REGION] = "region-by-region",
	NULL,
};
#define N_KINDS (STRATEGY_REGION_BY_REGION + 1)

const char *strategy_kind_name(enum strategy_kind k)
{
	if ((unsigned)k < N_KINDS)
		return strategy_kind_names[k];
	return "unknown";
}

int strategy_kind_parse(const char *name, enum strategy_kind *out, struct strbuf *err)
{
	for (size_t i = 0; i < N_KINDS; i++) {
		if (!strcmp(strategy_kind_names[i], name)) {
			*out = (enum strategy_kind)i;
			return 0;
		}
	}
	strbuf_errf(err, "unknown strategy '%s'; valid: ", name);
	for (size_t i = 0; err && i < N_KINDS; i++)
		strbuf_addf(err, "%s%s", i ? ", " : "", strategy_kind_names[i]);
	return SW_EPARSE;
}

static const char *const webhook_names[] = {
	[WEBHOOK_ROLLOUT] = "rollout",
	[WEBHOOK_PRE_ROLLOUT] = "pre-rollout",
	[WEBHOOK_CONFIRM_ROLLOUT] = "confirm-rollout",
	[WEBHOOK_CONFIRM_PROMOTION] = "confirm-promotion",
	[WEBHOOK_POST_ROLLOUT] = "post-rollout",
	[WEBHOOK_ROLLBACK] = "rollback",
	[WEBHOOK_EVENT] = "event",
};

const char *webhook_type_name(enum webhook_type t)
{
	if ((unsigned)t < sizeof(webhook_names) / sizeof(webhook_names[0]))
		return webhook_names[t];
	return "unknown";
}

int webhook_type_parse(const char *name, enum webhook_type *out)
{
	for (size_t i = 0; i < sizeof(webhook_names) / sizeof(webhook_names[0]); i++) {
		if (!strcmp(webhook_names[i], name)) {
			*out = (enum webhook_type)i;
			return 0;
		}
	}
	return SW_EPARSE;
}

void strategy_analysis_defaults(struct strategy *s)
{
	s->interval_ms = STRATEGY_DEFAULT_INTERVAL_MS;
	s->threshold = 1;
	s->progress_deadline_ms = STRATEGY_DEFAULT_DEADLINE_MS;
	s->min_requests = STRATEGY_DEFAULT_MIN_REQUESTS;
	s->n_checks = 0;
	s->n_webhooks = 0;
}

int strategy_add_step(struct strategy *s, int group, double weight, int64_t hold_ms,
		      struct strbuf *err)
{
	struct rollout_step *st;

	if (s->n_steps >= STRATEGY_MAX_STEPS) {
		strbuf_errf(err, "more than %d rollout steps", STRATEGY_MAX_STEPS);
		return SW_ETOOBIG;
	}
	st = &s->steps[s->n_steps++];
	memset(st, 0, sizeof(*st));
	st->group = group;
	st->weight = weight;
	st->hold_ms = hold_ms;
	return 0;
}

/* The runbook's canary: 1% 5m, 10% 15m, 50% 15m, then 100% (Rollout Strategy). */
static void add_runbook_canary(struct strategy *s, int group)
{
	strategy_add_step(s, group, 1, 5 * MS_PER_MIN, NULL);
	strategy_add_step(s, group, 10, 15 * MS_PER_MIN, NULL);
	strategy_add_step(s, group, 50, 15 * MS_PER_MIN, NULL);
}

/*
 * fast-progressive (hotfix): the same shape, compressed to fit inside the
 * hotfix's 15-minute monitoring habit: 10% for 2m, 50% for 3m, then 100%.
 * No 1% step: a hotfix fixes a live problem, so delaying the fix for most
 * users costs more than the smaller first exposure saves.
 */
static void add_fast_progressive(struct strategy *s, int group)
{
	strategy_add_step(s, group, 10, 2 * MS_PER_MIN, NULL);
	strategy_add_step(s, group, 50, 3 * MS_PER_MIN, NULL);
}

void strategy_default(struct strategy *s, enum strategy_kind kind)
{
	memset(s, 0, sizeof(*s));
	s->kind = kind;
	strategy_analysis_defaults(s);
	switch (kind) {
	case STRATEGY_CANARY:
		add_runbook_canary(s, 0);
		break;
	case STRATEGY_FAST_PROGRESSIVE:
		add_fast_progressive(s, 0);
		break;
	case STRATEGY_FULL:
		break;
	case STRATEGY_BLUE_GREEN:
		strategy_add_step(s, 0, 0, s->interval_ms, NULL);
		s->steps[0].idle = 1;
		break;
	case STRATEGY_ROLLING:
		s->replicas = 10;
		strategy_rolling(s, 10, 3, 2, s->interval_ms, NULL);
		break;
	case STRATEGY_REGION_BY_REGION:
		s->n_groups = 1;
		snprintf(s->groups[0], sizeof(s->groups[0]), "all");
		s->group_hold_ms = 0;
		add_runbook_canary(s, 0);
		break;
	}
}

int rolling_resolve(const char *value, int replicas, int round_up, int *out, struct strbuf *err)
{
	char *end;
	long v;
	size_t len = strlen(value);

	if (!len)
		goto bad;
	errno = 0;
	v = strtol(value, &end, 10);
	if (errno || end == value || v < 0 || v > 1000000)
		goto bad;
	if (*end == '%' && end[1] == '\0') {
		if (v > 100)
			goto bad;
		/* Kubernetes intstr.GetScaledValueFromIntOrPercent */
		long long scaled = (long long)v * replicas;
		*out = (int)(round_up ? (scaled + 99) / 100 : scaled / 100);
		return 0;
	}
	if (*end != '\0')
		goto bad;
	*out = (int)v;
	return 0;
bad:
	strbuf_errf(err, "'%s' is not a count (e.g. 2) or a percent 0-100%% (e.g. 25%%)", value);
	return SW_EPARSE;
}

int strategy_rolling(struct strategy *s, int replicas, int max_surge, int max_unavailable,
		     int64_t hold_ms, struct strbuf *err)
{
	int n_new = 0, n_old = replicas;

	if (replicas < 1) {
		strbuf_errf(err, "replicas must be at least 1, not %d", replicas);
		return SW_ECONFIG;
	}
	if (max_surge < 0 || max_unavailable < 0 || (max_surge == 0 && max_unavailable == 0)) {
		strbuf_errf(err, "maxSurge and maxUnavailable cannot both be 0");
		return SW_ECONFIG;
	}
	if (max_unavailable > replicas)
		max_unavailable = replicas;
	s->kind = STRATEGY_ROLLING;
	s->replicas = replicas;
	s->max_surge = max_surge;
	s->max_unavailable = max_unavailable;
	s->n_steps = 0;
	while (n_new < replicas || n_old > 0) {
		int progressed = 0, v;

		/* scale up: total instances stay <= replicas + maxSurge */
		v = replicas + max_surge - n_old;
		if (v > replicas)
			v = replicas;
		if (v > n_new) {
			n_new = v;
			progressed = 1;
			goto step;
		}
		/* scale down once the new are ready: available >= replicas - maxUnavailable */
		v = replicas - max_unavailable - n_new;
		if (v < 0)
			v = 0;
		if (v < n_old) {
			n_old = v;
			progressed = 1;
			goto step;
		}
step:
		if (!progressed) {
			strbuf_errf(err, "rolling update makes no progress with maxSurge %d, maxUnavailable %d",
				    max_surge, max_unavailable);
			return SW_ECONFIG;
		}
		if (s->n_steps >= STRATEGY_MAX_STEPS) {
			strbuf_errf(err, "rolling update of %d instances needs more than %d steps; "
				    "raise maxSurge or maxUnavailable", replicas, STRATEGY_MAX_STEPS);
			return SW_ETOOBIG;
		}
		struct rollout_step *st = &s->steps[s->n_steps++];
		memset(st, 0, sizeof(*st));
		st->new_instances = n_new;
		st->old_instances = n_old;
		st->weight = n_new + n_old ? 100.0 * n_new / (n_new + n_old) : 0;
		st->hold_ms = hold_ms;
	}
	return 0;
}

int strategy_validate(const struct strategy *s, struct strbuf *err)
{
	if (s->interval_ms < STRATEGY_MIN_INTERVAL_MS) {
		strbuf_errf(err, "analysis interval must be at least 10s");
		return SW_ECONFIG;
	}
	if (s->threshold < 1) {
		strbuf_errf(err, "threshold must be at least 1");
		return SW_ECONFIG;
	}
	if (s->n_groups < 0 || s->n_groups > STRATEGY_MAX_GROUPS) {
		strbuf_errf(err, "between 0 and %d region groups", STRATEGY_MAX_GROUPS);
		return SW_ECONFIG;
	}
	for (int i = 0; i < s->n_steps; i++) {
		const struct rollout_step *st = &s->steps[i];
		if (!(st->weight >= 0 && st->weight <= 100)) {
			strbuf_errf(err, "step %d: weight %g is not within 0-100", i + 1, st->weight);
			return SW_ECONFIG;
		}
		if (st->hold_ms < 0) {
			strbuf_errf(err, "step %d: negative hold", i + 1);
			return SW_ECONFIG;
		}
		if (st->group < 0 || st->group >= (s->n_groups ? s->n_groups : 1)) {
			strbuf_errf(err, "step %d: no region group %d", i + 1, st->group);
			return SW_ECONFIG;
		}
		if (i > 0) {
			const struct rollout_step *pr = &s->steps[i - 1];
			if (st->group < pr->group) {
				strbuf_errf(err, "step %d: region groups must come in order", i + 1);
				return SW_ECONFIG;
			}
			if (st->group == pr->group && st->weight < pr->weight) {
				strbuf_errf(err, "step %d: weight %g is below the previous step's %g",
					    i + 1, st->weight, pr->weight);
				return SW_ECONFIG;
			}
		}
	}
	return 0;
}

int strategy_group_last_step(const struct strategy *s, int group)
{
	int last = -1;
	for (int i = 0; i < s->n_steps; i++)
		if (s->steps[i].group == group)
			last = i;
	return last;
}
