/*
 * haproxy_cfg.h - the text of the files slipway writes for the HAProxy it
 * runs per service environment (docs/haproxy.md): haproxy.cfg and the
 * frontend's flags.map, rendered from a description of the router's state.
 * Pure: no I/O, so what slipway writes is tested byte for byte against
 * golden files (tests/data/haproxy-cfg/NAME.json -> NAME.cfg, NAME.map;
 * tests/unit/test_haproxy_cfg.c).  adapters/router_haproxy.c fills the
 * description from the store, writes the files and talks to the runtime
 * API.
 *
 * HAProxy 2.6 configuration manual: sections global, ring, defaults,
 * frontend, backend; `log-format` variables %Ts %ms %Tt %b %s %ST %Tr %Ta
 * %HM %hs (the request line core/reqlog.h parses; %hs is the X-Flag-Variant
 * response header, `capture response header`, section 4.2); map files are "key value"
 * lines read by the map() converter.
 */
#ifndef SLIPWAY_CORE_HAPROXY_CFG_H
#define SLIPWAY_CORE_HAPROXY_CFG_H

#include <stddef.h>

struct strbuf;

/* The runbook's traffic-control.sh / maintenance-mode.sh modes. */
enum traffic_mode {
	TRAFFIC_NORMAL = 0,
	TRAFFIC_READ_ONLY,	/* methods other than GET and HEAD answered 405 by HAProxy */
	TRAFFIC_MAINTENANCE,	/* every request answered 503 with the message */
};
/* "normal", "read-only", "maintenance"; parse returns 0 or SW_EUSAGE. */
const char *traffic_mode_name(enum traffic_mode m);
int traffic_mode_parse(const char *s, enum traffic_mode *m);

/* The maintenance message when none was set. */
#define HAPROXY_DEFAULT_MESSAGE "Service under maintenance"

/* One server of the backend, as slipway recorded it. */
struct haproxy_cfg_server {
	const char *name;	/* VERSION-N */
	int port;		/* on addr */
	const char *addr;	/* IPv4 literal or host name; NULL or "" = 127.0.0.1 */
	int weight;		/* HAProxy weight 0-256 */
	const char *state;	/* "ready", "drain" (written at weight 0, commented) or "maint" (disabled) */
};

/*
 * Health checks on servers on other hosts (the `ssh` target, docs/fleet.md
 * "Host failures"): a TCP connect every second, DOWN after 2 failures, UP
 * after 2 successes (HAProxy 2.6 configuration manual 5.2: check, inter,
 * fall, rise).  A host cut off mid-rollout stops getting requests within
 * about 2 s plus the connect timeout, before the controller's own listing
 * notices.  Local instances (127.0.0.1) have none: the controller watches
 * their processes directly.
 */
#define HAPROXY_FLEET_CHECK "check inter 1s fall 2 rise 2"
/* 1 when a server at addr gets HAPROXY_FLEET_CHECK (not "", NULL or 127.0.0.1). */
int haproxy_server_checked(const char *addr);

/* Everything the two files say. */
struct haproxy_cfg {
	const char *backend;		/* frontend and backend name, "SERVICE.ENV" */
	const char *listen_host;	/* frontend bind address, IPv4 literal */
	int listen_port;
	const char *sock_path;		/* admin socket (`stats socket ... level admin`) */
	const char *map_path;		/* flags.map, read by the frontend's rules */
	const char *log_sock;		/* unix stream of the log receiver (the relay forwards to it) */
	const char *relay_dir;		/* where logs.sock (the relay's socket) and wait-receiver.lua are */
	const char *relay_sock;		/* the relay's socket when not RELAY_DIR/logs.sock (a path too long
					   for HAProxy's unix@ bind, 97 bytes); NULL: RELAY_DIR/logs.sock */
	int maxconn;			/* global maxconn */
	long ring_bytes;		/* size of the request log ring, bytes */
	enum traffic_mode mode;
	const char *message;		/* maintenance text (NULL: HAPROXY_DEFAULT_MESSAGE) */
	const struct haproxy_cfg_server *servers;
	size_t n_servers;
	/* HAProxy's Prometheus exporter (`prometheus-exporter` service, built in
	 * with USE_PROMEX): a frontend on this address answering /metrics;
	 * metrics_port 0: none (docs/prometheus.md) */
	const char *metrics_host;
	int metrics_port;
	const char *service, *env;	/* the labels of haproxy_targets_render() */
};

/* Append the haproxy.cfg text for c to out. */
void haproxy_cfg_render(const struct haproxy_cfg *c, struct strbuf *out);

/*
 * Append wait-receiver.lua for c: the relay's Lua action, which holds a
 * connection of the ring until the receiver's socket (c->log_sock) accepts
 * one (docs/haproxy.md "Failure paths").
 */
void haproxy_relay_lua_render(const struct haproxy_cfg *c, struct strbuf *out);

/*
 * Append the servers of c as a Prometheus file_sd target file (JSON: one
 * group per revision, {"targets": ["127.0.0.1:PORT", ...], "labels":
 * {"service": S, "env": E, "version": V}}), so a Prometheus scrapes every
 * instance slipway runs (prometheus.io docs, file_sd_config).  A server's
 * revision is its name without the trailing "-N".
 */
void haproxy_targets_render(const struct haproxy_cfg *c, struct strbuf *out);

/* Append the flags.map text for c (maint, readonly, message) to out. */
void haproxy_flags_render(const struct haproxy_cfg *c, struct strbuf *out);

/*
 * The HAProxy weight of each of k servers of a revision given pct percent
 * (0-100) of the traffic: round(2 pct / k), at least 1 when pct > 0, at
 * most 256 (HAProxy's maximum); 200 in total means 100%.
 */
int haproxy_server_weight(double pct, int k);

#endif
