/*
 * haproxy_cfg.c - haproxy.cfg and flags.map as text; see haproxy_cfg.h.
 * Any change here changes what every slipway-run HAProxy reads: the golden
 * files in tests/data/haproxy-cfg/ must change with it.
 */
#include "core/haproxy_cfg.h"
#include "base/err.h"
#include "base/strbuf.h"

#include <math.h>
#include <string.h>

const char *traffic_mode_name(enum traffic_mode m)
{
	switch (m) {
	case TRAFFIC_READ_ONLY: return "read-only";
	case TRAFFIC_MAINTENANCE: return "maintenance";
	default: return "normal";
	}
}

int traffic_mode_parse(const char *s, enum traffic_mode *m)
{
	if (!strcmp(s, "normal"))
		*m = TRAFFIC_NORMAL;
	else if (!strcmp(s, "read-only"))
		*m = TRAFFIC_READ_ONLY;
	else if (!strcmp(s, "maintenance"))
		*m = TRAFFIC_MAINTENANCE;
	else
		return SW_EUSAGE;
	return 0;
}

void haproxy_flags_render(const struct haproxy_cfg *c, struct strbuf *out)
{
	strbuf_addf(out, "# written by slipway: the traffic mode of %s (slipway traffic)\n", c->backend);
	strbuf_addf(out, "maint %s\nreadonly %s\nmessage %s\n", c->mode == TRAFFIC_MAINTENANCE ? "on" : "off",
		    c->mode == TRAFFIC_READ_ONLY ? "on" : "off", c->message ? c->message : HAPROXY_DEFAULT_MESSAGE);
}

void haproxy_cfg_render(const struct haproxy_cfg *c, struct strbuf *out)
{
	strbuf_addf(out,
		    "# written by slipway from its store; runtime changes are mirrored here, edits are lost\n"
		    "global\n"
		    "    stats socket %s mode 600 level admin\n"
		    "    stats timeout 30s\n"
		    "    log ring@slipway len 1024 format raw local0 info\n"
		    "    lua-load %s/wait-receiver.lua\n"
		    "    maxconn %d\n"
		    "\n"
		    "# request lines wait in this ring until the receiver reads them over a\n"
		    "# unix stream: a slow receiver delays lines instead of losing them.  The\n"
		    "# ring forwards through logrelay, never straight to the receiver: HAProxy\n"
		    "# 2.6 reconnects a ring's server at once when the connection fails, which\n"
		    "# spins a core whenever no receiver runs (docs/haproxy.md)\n"
		    "ring slipway\n"
		    "    format raw\n"
		    "    maxlen 1024\n"
		    "    size %ld\n"
		    "    timeout connect 2s\n"
		    "    timeout server 1d\n"
		    "    server relay unix@%s%s\n"
		    "\n"
		    "# holds each connection from the ring (wait-receiver.lua sleeps until the\n"
		    "# receiver's socket accepts) before it connects on: meanwhile the ring keeps\n"
		    "# the lines, and nothing spins\n"
		    "listen logrelay\n"
		    "    mode tcp\n"
		    "    bind unix@%s%s mode 600\n"
		    "    no log\n"
		    "    timeout connect 2s\n"
		    "    timeout client 1d\n"
		    "    timeout server 1d\n"
		    "    tcp-request inspect-delay 1d\n"
		    "    tcp-request content lua.slipway_wait_receiver\n"
		    "    server receiver unix@%s\n"
		    "\n"
		    "defaults\n"
		    "    mode http\n"
		    "    log global\n"
		    "    option dontlognull\n"
		    "    timeout connect 2s\n"
		    "    timeout client 30s\n"
		    "    timeout server 30s\n"
		    "    timeout http-request 10s\n"
		    "    timeout http-keep-alive 10s\n"
		    "    retries 3\n"
		    "    option redispatch 1\n"
		    "    retry-on conn-failure empty-response\n"
		    "\n"
		    "frontend %s\n"
		    "    bind %s:%d\n"
		    "    # the service names the flag variant that served the request (docs/flags.md)\n"
		    "    capture response header X-Flag-Variant len 400\n"
		    "    log-format \"slipway2 %%Ts.%%ms %%Tt %%b %%s %%ST %%Tr %%Ta %%HM %%hs\"\n"
		    "    http-request return status 503 content-type text/plain lf-string \"%%[str(message),map(%s)]\" "
		    "hdr Retry-After 60 if { str(maint),map(%s) -m str on }\n"
		    "    # read-only: the service sees the mode in a header a client cannot set; writes get the message\n"
		    "    http-request del-header X-Slipway-Traffic\n"
		    "    http-request set-header X-Slipway-Traffic read-only if { str(readonly),map(%s) -m str on }\n"
		    "    http-request return status 405 content-type text/plain lf-string \"%%[str(message),map(%s)]\" "
		    "hdr Allow \"GET, HEAD\" if !METH_GET { str(readonly),map(%s) -m str on }\n"
		    "    default_backend %s\n"
		    "\n"
		    "backend %s\n"
		    "    balance roundrobin\n"
		    "    http-request disable-l7-retry unless METH_GET\n",
		    c->sock_path, c->relay_dir, c->maxconn, c->ring_bytes, c->relay_sock ? c->relay_sock : c->relay_dir,
		    c->relay_sock ? "" : "/logs.sock", c->relay_sock ? c->relay_sock : c->relay_dir,
		    c->relay_sock ? "" : "/logs.sock", c->log_sock, c->backend, c->listen_host, c->listen_port,
		    c->map_path, c->map_path, c->map_path, c->map_path, c->map_path, c->backend, c->backend);
	for (size_t i = 0; i < c->n_servers; i++) {
		const struct haproxy_cfg_server *s = &c->servers[i];
		strbuf_addf(out, "    server %s %s:%d weight %d%s%s%s\n", s->name,
			    s->addr && *s->addr ? s->addr : "127.0.0.1", s->port,
			    !strcmp(s->state, "ready") ? s->weight : 0,
			    haproxy_server_checked(s->addr) ? " " HAPROXY_FLEET_CHECK : "",
			    !strcmp(s->state, "maint") ? " disabled" : "", !strcmp(s->state, "drain") ? "  # drain" : "");
	}	if (c->metrics_port > 0)
		strbuf_addf(out,
			    "\n"
			    "# HAProxy's own Prometheus exporter (docs/prometheus.md)\n"
			    "frontend prometheus-exporter\n"
			    "    bind %s:%d\n"
			    "    no log\n"
			    "    http-request use-service prometheus-exporter if { path /metrics }\n",
			    c->metrics_host && *c->metrics_host ? c->metrics_host : "127.0.0.1", c->metrics_port);
}

int haproxy_server_checked(const char *addr)
{
	return addr && *addr && strcmp(addr, "127.0.0.1") != 0;
}

/* the revision of server name "VERSION-N": its length */
static size_t version_len(const char *name)
{
	const char *dash = strrchr(name, '-');
	return dash ? (size_t)(dash - name) : strlen(name);
}

void haproxy_targets_render(const struct haproxy_cfg *c, struct strbuf *out)
{
	int first_group = 1;
	strbuf_addstr(out, "[");
	for (size_t i = 0; i < c->n_servers; i++) {
		const char *name = c->servers[i].name;
		size_t vl = version_len(name);
		int seen = 0, first = 1;
		for (size_t j = 0; j < i && !seen; j++)
			seen = version_len(c->servers[j].name) == vl && !memcmp(c->servers[j].name, name, vl);
		if (seen)
			continue;
		/* names are [A-Za-z0-9._-]: nothing to escape in JSON */
		strbuf_addf(out, "%s\n  {\"targets\": [", first_group ? "" : ",");
		first_group = 0;
		for (size_t j = i; j < c->n_servers; j++)
			if (version_len(c->servers[j].name) == vl && !memcmp(c->servers[j].name, name, vl)) {
				strbuf_addf(out, "%s\"127.0.0.1:%d\"", first ? "" : ", ", c->servers[j].port);
				first = 0;
			}
		strbuf_addf(out, "], \"labels\": {\"service\": \"%s\", \"env\": \"%s\", \"version\": \"%.*s\"}}",
			    c->service ? c->service : "", c->env ? c->env : "", (int)vl, name);
	}
	strbuf_addstr(out, "\n]\n");
}

void haproxy_relay_lua_render(const struct haproxy_cfg *c, struct strbuf *out)
{
	/* a health check is not enough: its state lags the receiver by an interval, and a relay
	 * that connects to an absent receiver loses the lines it holds; the sleep does not count
	 * against tune.lua.session-timeout */
	strbuf_addf(out,
		    "-- written by slipway (docs/haproxy.md \"Failure paths\"): hold a connection of the\n"
		    "-- ring until the log receiver's socket accepts one\n"
		    "core.register_action(\"slipway_wait_receiver\", { \"tcp-req\" }, function(txn)\n"
		    "    while true do\n"
		    "        local s = core.tcp()\n"
		    "        s:settimeout(1)\n"
		    "        local ok = s:connect([==[unix@%s]==])\n"
		    "        s:close()\n"
		    "        if ok then return end\n"
		    "        core.msleep(250)\n"
		    "    end\n"
		    "end)\n", c->log_sock);
}

int haproxy_server_weight(double pct, int k)
{
	int hw;
	if (k <= 0 || !(pct > 0))
		return 0;
	hw = (int)lround(2.0 * pct / k);
	if (hw < 1)
		hw = 1;
	return hw > 256 ? 256 : hw;
}
