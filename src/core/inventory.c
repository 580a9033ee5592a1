/*
 * inventory.c - hosts.yaml; see inventory.h.  One table of keys per
 * mapping for the shared walker (core/yaml_walk.h), checks across keys in
 * the maps' check functions, so every message carries a position.
 */
#include "core/inventory.h"
#include "core/yaml_walk.h"
#include "base/alloc.h"
#include "base/strbuf.h"

#include <stddef.h>
#include <string.h>

struct inv_doc {
	struct inventory inv;
	size_t alloc;
	struct yaml_pos host_at[INVENTORY_MAX_HOSTS];
};

static int name_ok(const char *s)
{
	size_t n = strlen(s);
	if (!n || n > 64)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '.' ||
		      *s == '_' || *s == '-'))
			return 0;
	return 1;
}

/* a dotted quad: four decimal numbers 0-255 (RFC 791 notation) */
static int ipv4_ok(const char *s)
{
	int parts = 0;

	while (parts < 4) {
		int v = 0, digits = 0;
		for (; *s >= '0' && *s <= '9'; s++, digits++) {
			v = v * 10 + (*s - '0');
			if (digits >= 3 || v > 255)
				return 0;
		}
		if (!digits)
			return 0;
		parts++;
		if (parts < 4 && *s++ != '.')
			return 0;
	}
	return !*s;
}

static int hexdig(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* RFC 4291 2.2 text forms: eight groups of 1-4 hex digits, one "::" for a run of zeros, an optional dotted quad last */
static int ipv6_ok(const char *s)
{
	int groups = 0, gap = 0;

	if (s[0] == ':' && s[1] != ':')
		return 0;
	while (*s) {
		int n = 0;
		if (s[0] == ':' && s[1] == ':') {
			if (gap++ || s[2] == ':')
				return 0;
			s += 2;
			if (!*s)
				break;
			continue;
		}
		if (groups && *s == ':')
			s++;
		if (strchr(s, '.') && !strchr(s, ':')) {	/* the last 32 bits as a dotted quad */
			if (!ipv4_ok(s))
				return 0;
			groups += 2;
			break;
		}
		for (; hexdig(*s); s++)
			if (++n > 4)
				return 0;
		if (!n || (*s && *s != ':'))
			return 0;
		if (*s == ':' && !s[1])
			return 0;	/* a trailing single ':' */
		groups++;
	}
	return gap ? groups <= 7 : groups == 8;
}

/* RFC 1123 2.1 host name: dot-separated labels of 1-63 letters, digits and '-', not
 * starting or ending with '-', at most 253 bytes, and not all digits and dots (an IPv4 address) */
static int hostname_ok(const char *s)
{
	size_t len = strlen(s), label = 0;
	int alpha = 0;

	if (!len || len > 253 || *s == '-' || *s == '.')
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c == '.') {
			if (!label || s[i - 1] == '-')
				return 0;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-'))
			return 0;
		if (++label > 63)
			return 0;
		if (!(c >= '0' && c <= '9'))
			alpha = 1;
	}
	return alpha && s[len - 1] != '-';
}

/* an IPv4 address, an IPv6 address or a host name (never a leading '-': ssh would read an option) */
static int address_ok(const char *s)
{
	if (!*s || *s == '-')
		return 0;
	if (strchr(s, ':'))
		return ipv6_ok(s);
	if (strspn(s, "0123456789.") == strlen(s))
		return ipv4_ok(s);
	return hostname_ok(s);
}

static int add_label(struct yaml_walk *w, const char *name, struct yaml_pos at, struct fy_node *v, void *dst)
{
	struct inventory_host *h = dst;
	struct inventory_label *l;
	char *val = NULL;
	int r;
	if (h->n_labels >= INVENTORY_MAX_LABELS)
		return yaml_walk_fail(w, at, "at most %d labels per host", INVENTORY_MAX_LABELS);
	if (strlen(name) >= sizeof(l->key))
		return yaml_walk_fail(w, at, "label '%.20s...' is longer than %zu bytes", name, sizeof(l->key) - 1);
	if ((r = yaml_walk_scalar(w, v, yaml_walk_pos(v, at), "a label's value", sizeof(l->value) - 1, &val)) < 0)
		return r;
	l = &h->labels[h->n_labels++];
	memcpy(l->key, name, strlen(name) + 1);
	memcpy(l->value, val, strlen(val) + 1);
	free(val);
	return 0;
}

static int host_check(struct yaml_walk *w, void *obj, struct yaml_pos at)
{
	struct inventory_host *h = obj;
	if (!name_ok(h->name))
		return yaml_walk_fail(w, at, "host name '%s' must be 1 to 64 of A-Z a-z 0-9 . _ -", h->name);
	if (!address_ok(h->address))
		return yaml_walk_fail(w, at, "host '%s': address '%s' is not an IPv4 address (four numbers 0-255, "
				      "10.0.0.11), an IPv6 address (fd00::11) or a host name (web-1.example.net)", h->name,
				      h->address);
	if (!name_ok(h->region))
		return yaml_walk_fail(w, at, "host '%s': region '%s' must be 1 to 31 of A-Z a-z 0-9 . _ -", h->name,
				      h->region);
	if (h->dir[0] != '/' || strstr(h->dir, "..") || strpbrk(h->dir, " '\"\\$`;&|<>\n"))
		return yaml_walk_fail(w, at, "host '%s': dir '%s' must be an absolute path without '..', spaces or "
				      "shell characters", h->name, h->dir);
	return 0;
}

static const struct yaml_map host_map = {
	.where = "a host",
	.check = host_check,
	.keys = (const struct yaml_key[]){
		{ "name", yaml_parse_buf, offsetof(struct inventory_host, name), .size = 65, .flags = YAML_REQUIRED,
		  .hint = "(name: web-1)" },
		{ "address", yaml_parse_buf, offsetof(struct inventory_host, address), .size = 64,
		  .flags = YAML_REQUIRED, .hint = "(address: 10.0.0.11)" },
		{ "region", yaml_parse_buf, offsetof(struct inventory_host, region), .size = 32 },
		{ "dir", yaml_parse_buf, offsetof(struct inventory_host, dir), .size = 512 },
		{ "labels", yaml_parse_entries, 0, .max = INVENTORY_MAX_LABELS, .entry = add_label },
		{ NULL },
	},
};

static int add_host(struct yaml_walk *w, struct fy_node *item, struct yaml_pos at, void *ctx)
{
	struct inv_doc *d = w->user;
	struct inventory_host *h;
	struct yaml_pos pos = yaml_walk_pos(item, at), kat = { 0, 0 };
	int r;
	(void)ctx;
	/* a host is reported where its name is (the walker puts a mapping item at its list) */
	if (yaml_walk_is_mapping(item) && yaml_walk_lookup(item, "name", &kat) && kat.line > 0)
		pos = kat;
	if (d->inv.n_hosts >= INVENTORY_MAX_HOSTS)
		return yaml_walk_fail(w, at, "at most %d hosts", INVENTORY_MAX_HOSTS);
	ALLOC_GROW(d->inv.hosts, d->inv.n_hosts + 1, d->alloc);
	h = &d->inv.hosts[d->inv.n_hosts];
	memset(h, 0, sizeof(*h));
	memcpy(h->region, "default", 8);
	memcpy(h->dir, "/var/lib/slipway", 17);
	if ((r = yaml_walk_map(w, item, pos, &host_map, NULL, h)) < 0)
		return r;
	for (size_t i = 0; i < d->inv.n_hosts; i++) {
		if (!strcmp(d->inv.hosts[i].name, h->name))
			return yaml_walk_fail(w, pos, "host name '%s' is given twice (first at line %d)", h->name,
					      d->host_at[i].line);
		if (!strcmp(d->inv.hosts[i].address, h->address) && !strcmp(d->inv.hosts[i].dir, h->dir))
			return yaml_walk_fail(w, pos, "hosts '%s' and '%s' have the same address and dir: their "
					      "instances would overwrite each other's files", d->inv.hosts[i].name, h->name);
	}
	d->host_at[d->inv.n_hosts++] = pos;
	return 0;
}

static const struct yaml_map ssh_map = {
	.where = "'ssh'",
	.keys = (const struct yaml_key[]){
		{ "user", yaml_parse_buf, offsetof(struct inventory, user), .size = 64 },
		{ "port", yaml_parse_int, offsetof(struct inventory, ssh_port), 1, 65535 },
		{ "identity", yaml_parse_buf, offsetof(struct inventory, identity), .size = 512 },
		{ "known_hosts", yaml_parse_buf, offsetof(struct inventory, known_hosts), .size = 512,
		  .flags = YAML_REQUIRED, .hint = "(known_hosts: ssh/known_hosts; host keys are always checked)" },
		{ "connect_timeout", yaml_parse_duration, offsetof(struct inventory, connect_timeout_ms), 1000, 300000 },
		{ NULL },
	},
};

static const struct yaml_map ports_map = {
	.where = "'ports'",
	.keys = (const struct yaml_key[]){
		{ "base", yaml_parse_int, offsetof(struct inventory, port_base), 1024, 65000 },
		{ NULL },
	},
};

static int root_check(struct yaml_walk *w, void *obj, struct yaml_pos at)
{
	struct inventory *inv = obj;
	if (!inv->n_hosts)
		return inv->hosts_at.line
			       ? yaml_walk_fail(w, inv->hosts_at, "the inventory's 'hosts' is empty: it needs at least one "
						"host, such as - {name: web-1, address: 10.0.0.11}")
			       : yaml_walk_fail(w, at, "the inventory needs 'hosts' (a list such as - {name: web-1, address: "
						"10.0.0.11})");
	if (!inv->known_hosts[0])
		return yaml_walk_fail(w, at, "the inventory needs 'ssh' with 'known_hosts' (host keys are always "
				      "checked)");
	if (!name_ok(inv->user))
		return yaml_walk_fail(w, at, "ssh user '%s' must be 1 to 63 of A-Z a-z 0-9 . _ -", inv->user);
	return 0;
}

static const struct yaml_map root_map = {
	.where = "the inventory",
	.check = root_check,
	.keys = (const struct yaml_key[]){
		{ "ssh", yaml_parse_map, 0, .map = &ssh_map },
		{ "ports", yaml_parse_map, 0, .map = &ports_map },
		{ "hosts", yaml_parse_list, 0, .max = INVENTORY_MAX_HOSTS, .item = add_host,
		  .at = YAML_AT(struct inventory, hosts_at) },
		{ NULL },
	},
};

int inventory_parse(struct inventory *inv, const char *file, const char *buf, size_t len, struct strbuf *err)
{
	struct yaml_walk w = { 0 };
	struct fy_node *root;
	struct inv_doc *d = xcalloc(1, sizeof(*d));
	int r;
	memcpy(d->inv.user, "root", 5);
	d->inv.ssh_port = 22;
	d->inv.connect_timeout_ms = 5000;
	d->inv.port_base = 9100;
	if ((r = yaml_walk_open(&w, file, "an inventory", buf, len, INVENTORY_FILE_MAX, err, &root)) < 0) {
		free(d);
		return r;
	}
	w.user = d;
	r = yaml_walk_map(&w, root, YAML_ROOT_POS, &root_map, NULL, &d->inv);
	yaml_walk_close(&w);
	if (r < 0) {
		inventory_release(&d->inv);
		free(d);
		return r;
	}
	*inv = d->inv;
	free(d);
	return 0;
}

void inventory_release(struct inventory *inv)
{
	if (!inv)
		return;
	free(inv->hosts);
	memset(inv, 0, sizeof(*inv));
}

const struct inventory_host *inventory_find(const struct inventory *inv, const char *name)
{
	for (size_t i = 0; i < inv->n_hosts; i++)
		if (!strcmp(inv->hosts[i].name, name))
			return &inv->hosts[i];
	return NULL;
}
