/*
 * inventory.h - the hosts of a fleet (docs/fleet.md "Inventory"): the
 * project's hosts.yaml, read by the `ssh` target.
 *
 *   ssh:                          # how slipway reaches every host
 *     user: root                  # default root
 *     port: 22
 *     identity: ssh/id_ed25519    # private key, relative to the project
 *     known_hosts: ssh/known_hosts  # required: host keys are checked, never accepted blindly
 *     connect_timeout: 5s         # ConnectTimeout; also the budget of one command (x4)
 *   ports: {base: 9100}           # instances listen on base, base+1, ... of their host
 *   hosts:
 *     - name: web-1               # unique, 1-64 of A-Z a-z 0-9 . _ -
 *       address: 10.0.0.11        # what ssh and HAProxy connect to (IPv4 literal or name)
 *       region: eu-west           # the region group (strategy groups); default "default"
 *       labels: {tier: web}       # free-form, shown, not interpreted yet
 *       dir: /var/lib/slipway     # remote directory for releases, pid files and logs
 *
 * Pure: the caller reads the file (bounded by INVENTORY_FILE_MAX) and hands
 * over bytes; every fault is one "FILE:LINE:COL: message" (core/yaml_walk.h).
 */
#ifndef SLIPWAY_CORE_INVENTORY_H
#define SLIPWAY_CORE_INVENTORY_H

#include <stddef.h>
#include <stdint.h>

#include "core/yaml_walk.h"	/* struct yaml_pos */

struct strbuf;

#define INVENTORY_FILE_MAX (256 * 1024)
#define INVENTORY_MAX_HOSTS 256
#define INVENTORY_MAX_LABELS 16

struct inventory_label {
	char key[64];
	char value[128];
};

struct inventory_host {
	char name[65];
	char address[64];
	char region[32];		/* matches a region-by-region strategy's group names */
	char dir[512];			/* absolute remote directory */
	int n_labels;
	struct inventory_label labels[INVENTORY_MAX_LABELS];
};

struct inventory {
	char user[64];
	int ssh_port;
	char identity[512];		/* as written (relative to the project, or absolute); "" = ssh's default */
	char known_hosts[512];		/* as written; required */
	int64_t connect_timeout_ms;
	int port_base;			/* first instance port on a host */
	size_t n_hosts;
	struct inventory_host *hosts;	/* owned */
	struct yaml_pos hosts_at;	/* where 'hosts' was written (line 0: absent) */
};

/*
 * Parse buf[0..len) named file into *inv.  Defaults: user root, port 22,
 * connect_timeout 5s, ports.base 9100, region "default", dir
 * /var/lib/slipway.  Refused (SW_ECONFIG, "FILE:LINE:COL: ..."): unknown
 * keys, no hosts (an empty list named at its place), a duplicate host name
 * or address, a bad name, a relative dir, an address that is not an IPv4
 * address (four numbers 0-255), an IPv6 address (RFC 4291 2.2) or a host
 * name (RFC 1123 2.1), no known_hosts.  On failure *inv is untouched.
 */
int inventory_parse(struct inventory *inv, const char *file, const char *buf, size_t len, struct strbuf *err);
void inventory_release(struct inventory *inv);

/* The host called name, or NULL. */
const struct inventory_host *inventory_find(const struct inventory *inv, const char *name);

#endif
