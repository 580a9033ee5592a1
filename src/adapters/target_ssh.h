/*
 * target_ssh.h - the edge of the `ssh` target (docs/fleet.md): a fleet of
 * hosts from the project's hosts.yaml (core/inventory.h), reached with
 * OpenSSH's client, on which a revision's instances run as plain supervised
 * processes (no systemd: setsid, a pid file, a log file under the host's
 * `dir`).
 *
 * Every command goes through one shared connection per host (ControlMaster
 * auto, ControlPersist 60 s, socket STATE/ssh/%C), so a controller tick
 * costs a round trip on an open connection, not a handshake.  Host keys are
 * checked against the project's known_hosts (StrictHostKeyChecking yes, no
 * global file); BatchMode yes (never a prompt); ConnectTimeout and
 * ServerAlive from the inventory, and every command has a deadline.
 *
 * On a host, under DIR (the host's `dir`):
 *   releases/SERVICE/VERSION/        the release, copied by rsync over ssh
 *   releases/SERVICE/VERSION.sha256  its digest, written once verified
 *   run/SERVICE.ENV/VERSION-N.pid    "PID START_TIME PORT" of instance N
 *   run/SERVICE.ENV/VERSION-N.log    its stdout and stderr
 * The release digest is sha256sum of "sha256sum of every file, sorted by
 * path" (the same shell pipeline on both ends); it is checked on the host
 * right before every start, which refuses to start a release that differs.
 */
#ifndef SLIPWAY_ADAPTERS_TARGET_SSH_H
#define SLIPWAY_ADAPTERS_TARGET_SSH_H

#include <stddef.h>
#include <stdint.h>

#include "core/inventory.h"
#include "core/service.h"

struct strbuf;

/* One instance as its host's pid file says. */
struct ssh_instance {
	int host;			/* index into inventory.hosts */
	char version[SERVICE_NAME_MAX + 1];
	int idx;			/* N of VERSION-N: 0 .. instances-1 across the fleet */
	long pid;
	unsigned long long start_time;	/* /proc/PID/stat field 22 on the host */
	int port;			/* on the host's address */
	int alive;			/* the same process still runs */
};

struct ssh_instance_list {
	struct ssh_instance *v;
	size_t n, alloc;
};
void ssh_instance_list_release(struct ssh_instance_list *l);

struct target_ssh {
	struct inventory inv;
	char *state_dir, *project_dir;		/* owned */
	char *identity, *known_hosts;		/* absolute; owned; identity may be NULL */
	char *ctl_dir;				/* STATE/ssh, 0700 */
	unsigned long round_trips;		/* ssh commands run (bench/fleet); added to atomically */
	char (*down)[400];			/* per host: why the last command failed, "" = answered */
};

/*
 * Read PROJECT/hosts.yaml (bounded to INVENTORY_FILE_MAX) and prepare
 * STATE/ssh.  0, SW_ENOTFOUND (no hosts.yaml: the message says where it
 * looked), SW_ECONFIG ("FILE:LINE:COL: ..."), -errno.
 */
int target_ssh_init(struct target_ssh *t, const char *state_dir, const char *project_dir, struct strbuf *err);
/*
 * Read PROJECT/hosts.yaml (bounded to INVENTORY_FILE_MAX) into *inv (the
 * caller releases it with inventory_release()); errors as target_ssh_init.
 */
int target_ssh_load_inventory(const char *project_dir, struct inventory *inv, struct strbuf *err);
/* Close the shared connections (ssh -O exit) and free.  Accepts a zeroed t. */
void target_ssh_release(struct target_ssh *t);

/*
 * Every instance of service/env (version NULL: all) the pid files on host h
 * name, alive or not, appended to *out.  One round trip.  0, or
 * SW_EEXTERNAL when the host does not answer (err: "host 'h3' (10.0.0.13):
 * ssh: ..."; also kept in t->down[h]).
 */
int target_ssh_list(struct target_ssh *t, int h, const char *service, const char *env, const char *version,
		    struct ssh_instance_list *out, struct strbuf *err);

/*
 * target_ssh_list() on every host of the inventory at once, one thread per
 * host, each on that host's shared connection: a listing of the fleet costs
 * one round trip of wall time, not one per host (0.8-1.3 s each on a loaded
 * machine, docs/fleet.md "Cost per tick").  Instances are appended to *out
 * in inventory order.  Returns the number of hosts that did not answer;
 * their errors go to why (may be NULL), "; "-separated, in inventory order.
 */
int target_ssh_list_hosts(struct target_ssh *t, const char *service, const char *env, const char *version,
			  struct ssh_instance_list *out, struct strbuf *why);

/*
 * Make release VERSION of svc present and verified on host h: rsync over
 * the shared connection unless the host's VERSION.sha256 already matches
 * the local digest.  0, SW_ENOTFOUND (no local release directory),
 * SW_EEXTERNAL (copy or verification failed).
 */
int target_ssh_push(struct target_ssh *t, int h, const struct service *svc, const char *version, struct strbuf *err);

/*
 * Start instance idx of version on host h listening on port: the digest is
 * checked on the host first, then the service's command (placeholders
 * expanded, {release} the host's release directory) runs under setsid with
 * PORT and SLIPWAY_INSTANCE set; its pid file is written.  Not waited for:
 * readiness is target_ssh_probe()'s.  *out is filled.  0 or SW_EEXTERNAL
 * (its message quotes the host's answer), SW_ECONFIG (placeholder).
 */
int target_ssh_start(struct target_ssh *t, int h, const struct service *svc, const char *env, const char *version,
		     int idx, int port, struct ssh_instance *out, struct strbuf *err);

/*
 * Stop the named instances on host h (names "VERSION-N", space-separated):
 * SIGTERM to each process group, SIGKILL after the service's stop grace,
 * pid files removed (also of instances already gone).  One round trip.  0 or
 * SW_EEXTERNAL.  Drain them in the router first.
 */
int target_ssh_stop(struct target_ssh *t, int h, const struct service *svc, const char *env, const char *names,
		    struct strbuf *err);

/* GET http://ADDRESS:PORT/PATH from here; 1 when it answered 2xx, else 0. */
int target_ssh_probe(struct target_ssh *t, const struct ssh_instance *in, const char *path, int64_t timeout_ms);

/*
 * Run `command` (a shell command line) on host h through the shared
 * connection, output (stdout and stderr, at most 64 KiB) into *out.
 * Returns the remote exit status (>= 0), or SW_EEXTERNAL when ssh itself
 * failed (exit 255: unreachable, host key refused ...) or the deadline
 * (4 x connect_timeout) passed, with "host 'NAME' (ADDRESS): ..." in err.
 */
int target_ssh_run(struct target_ssh *t, int h, const char *command, struct strbuf *out, struct strbuf *err);

#endif
