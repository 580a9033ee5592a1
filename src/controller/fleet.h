/*
 * fleet.h - the `ssh` target (core/target-t.h) over a fleet of hosts
 * (adapters/target_ssh.h) and this environment's HAProxy (docs/fleet.md).
 *
 * Instance N of a revision runs on host N mod hosts (hosts in inventory
 * order, skipping a host that does not answer), on the first port from the
 * inventory's ports.base that no live instance of the service uses on that
 * host.  Ordering rules, as on the local target (controller/localstack.h):
 *   up    = release copied and verified, instances started, each answering
 *           its readiness probe from this machine, THEN added to HAProxy at
 *           weight 0 (servers at HOST_ADDRESS:PORT): no request reaches an
 *           instance before it is ready;
 *   down  = servers drained and removed, THEN SIGTERM/SIGKILL over ssh.
 * ensure() honours the count the engine asks for (a rolling step's
 * maxSurge/maxUnavailable arithmetic, core/strategy.h): instances N >=
 * count are drained one by one (router_haproxy_retire()) and stopped.
 * Adoption after a controller restart reads the hosts' pid files: a live
 * instance answering its probe is kept and re-added to HAProxy.
 * Region by region (docs/fleet.md "Region by region"): regions() limits a
 * revision to the hosts of the named inventory regions (instance N runs only
 * when host N mod hosts is one of them); a host that does not answer is
 * replaced only by a host of its own region.
 * Host failures (docs/fleet.md "Host failures"): ready() answers
 * SW_EEXTERNAL, naming the hosts, when the only missing instances are on
 * hosts that do not answer (the controller holds); after an actuation,
 * every listing stops live instances of revisions not ensured up (a
 * partitioned host back with a revision stopped meanwhile).
 */
#ifndef SLIPWAY_CONTROLLER_FLEET_H
#define SLIPWAY_CONTROLLER_FLEET_H

#include "controller/registry.h"

/* registry.h's open()/close() for { PLUGIN_TARGET, "ssh" }: needs h->ls (the HAProxy). */
int fleet_target_open(const struct plugin_host *h, void **out, struct strbuf *err);
void fleet_target_close(void *obj);

/* SSH commands run by the target opened as obj so far (bench/fleet: round trips per tick). */
unsigned long fleet_target_round_trips(void *obj);

#endif
