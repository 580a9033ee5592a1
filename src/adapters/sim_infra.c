/*
 * sim_infra.c - the simulated router and target; see sim_infra.h.  Linear
 * searches: a simulation holds a few thousand entries at most.
 */
#include "adapters/sim_infra.h"
#include "base/alloc.h"
#include "base/err.h"
#include "base/strbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sim_infra_init(struct sim_infra *s)
{
	memset(s, 0, sizeof(*s));
	s->never_ready_suffix = "";
}

void sim_infra_release(struct sim_infra *s)
{
	free(s->routes);
	free(s->instances);
	memset(s, 0, sizeof(*s));
}

static int injected_failure(struct sim_infra *s, struct strbuf *err)
{
	s->calls++;
	if (s->fail_calls > 0) {
		s->fail_calls--;
		strbuf_errf(err, "simulated failure");
		return SW_EEXTERNAL;
	}
	return 0;
}

static int sim_set_weight(void *ctx, const char *service, const char *group, const char *stable,
			  const char *canary, double weight, struct strbuf *err)
{
	struct sim_infra *s = ctx;
	struct sim_route *r = NULL;

	if (injected_failure(s, err) < 0)
		return SW_EEXTERNAL;
	for (size_t i = 0; i < s->n_routes; i++)
		if (!strcmp(s->routes[i].service, service) && !strcmp(s->routes[i].group, group))
			r = &s->routes[i];
	if (!r) {
		ALLOC_GROW(s->routes, s->n_routes + 1, s->alloc_routes);
		r = &s->routes[s->n_routes++];
		memset(r, 0, sizeof(*r));
		snprintf(r->service, sizeof(r->service), "%s", service);
		snprintf(r->group, sizeof(r->group), "%s", group);
	}
	snprintf(r->stable, sizeof(r->stable), "%s", stable ? stable : "");
	snprintf(r->canary, sizeof(r->canary), "%s", canary ? canary : "");
	r->weight = weight;
	return 0;
}

static struct sim_instance *find_instance(struct sim_infra *s, const char *service, const char *version, int create)
{
	for (size_t i = 0; i < s->n_instances; i++)
		if (!strcmp(s->instances[i].service, service) && !strcmp(s->instances[i].version, version))
			return &s->instances[i];
	if (!create)
		return NULL;
	ALLOC_GROW(s->instances, s->n_instances + 1, s->alloc_instances);
	struct sim_instance *in = &s->instances[s->n_instances++];
	memset(in, 0, sizeof(*in));
	snprintf(in->service, sizeof(in->service), "%s", service);
	snprintf(in->version, sizeof(in->version), "%s", version);
	return in;
}

static int sim_ensure(void *ctx, const char *service, const char *version, enum revision_role role, int up,
		      int count, struct strbuf *err)
{
	struct sim_infra *s = ctx;
	struct sim_instance *in;

	if (injected_failure(s, err) < 0)
		return SW_EEXTERNAL;
	in = find_instance(s, service, version, up);
	if (in)
		in->count = up ? (count > 0 ? count : 1) : 0;
	return 0;
}

static int sim_ready(void *ctx, const char *service, const char *version, struct strbuf *err)
{
	struct sim_infra *s = ctx;
	struct sim_instance *in = find_instance(s, service, version, 0);

	if (s->never_ready_suffix[0] && strstr(service, s->never_ready_suffix))
		return 0;
	return in && in->count > 0;
}

void sim_infra_router(struct sim_infra *s, struct router *out)
{
	memset(out, 0, sizeof(*out));
	out->ctx = s;
	out->set_weight = sim_set_weight;
}

void sim_infra_target(struct sim_infra *s, struct target *out)
{
	memset(out, 0, sizeof(*out));
	out->ctx = s;
	out->ensure = sim_ensure;
	out->ready = sim_ready;
}

double sim_infra_weight(const struct sim_infra *s, const char *service, const char *group)
{
	for (size_t i = 0; i < s->n_routes; i++)
		if (!strcmp(s->routes[i].service, service) && !strcmp(s->routes[i].group, group))
			return s->routes[i].weight;
	return -1;
}

int sim_infra_running(const struct sim_infra *s, const char *service, const char *version)
{
	for (size_t i = 0; i < s->n_instances; i++)
		if (!strcmp(s->instances[i].service, service) && !strcmp(s->instances[i].version, version))
			return s->instances[i].count;
	return 0;
}
