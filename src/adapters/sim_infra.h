/*
 * sim_infra.h - a simulated router and target, in memory: they record the
 * weight of each service/group and which revisions run, and answer
 * readiness.  For tests, `slipway analyze`-style simulations and the
 * controller benchmark; the real ones (HAProxy, local processes) implement
 * the same interfaces (core/router-t.h, core/target-t.h).
 */
#ifndef SLIPWAY_ADAPTERS_SIM_INFRA_H
#define SLIPWAY_ADAPTERS_SIM_INFRA_H

#include <stddef.h>
#include <stdint.h>

#include "core/router-t.h"
#include "core/target-t.h"

struct sim_route {
	char service[64], group[32], stable[64], canary[64];
	double weight;
};

struct sim_instance {
	char service[64], version[64];
	int count;	/* 0 = stopped */
};

struct sim_infra {
	struct sim_route *routes;
	size_t n_routes, alloc_routes;
	struct sim_instance *instances;
	size_t n_instances, alloc_instances;
	uint64_t calls;			/* every router/target call */
	int fail_calls;			/* > 0: the next that many calls fail (SW_EEXTERNAL) */
	const char *never_ready_suffix;	/* services whose name contains this never become ready ("" = none) */
};

void sim_infra_init(struct sim_infra *s);
void sim_infra_release(struct sim_infra *s);
void sim_infra_router(struct sim_infra *s, struct router *out);
void sim_infra_target(struct sim_infra *s, struct target *out);

/* The canary weight last set for service/group (-1 if never). */
double sim_infra_weight(const struct sim_infra *s, const char *service, const char *group);
/* Running instances of service at version (0 if stopped or unknown). */
int sim_infra_running(const struct sim_infra *s, const char *service, const char *version);

#endif
