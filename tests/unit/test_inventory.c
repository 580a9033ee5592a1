/*
 * test_inventory.c - fleet inventories (core/inventory.c, docs/fleet.md):
 * every file in tests/data/inventory/ is one case; its first line says
 * "# expect: ok" or "# expect: " and the beginning of the error message
 * (FILE:LINE:COL ...).
 */
#include "tap.h"
#include "base/strbuf.h"
#include "core/inventory.h"
#include "adapters/target_ssh.h"
#include "base/err.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void put(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

/* A host without a key in known_hosts is refused when the ssh target loads (adapters/target_ssh.c),
 * not at its first command; plain, wildcard and hashed entries (sshd(8)) all count. */
static void test_known_hosts(void)
{
	char dir[] = "/tmp/slipway-kh.XXXXXX", state[600];
	struct target_ssh t;
	struct strbuf err = STRBUF_INIT;
	/* |1|salt|HMAC-SHA1(salt, "10.0.0.13"), made with ssh-keygen -H */
	static const char kh[] =
		"# comment\n"
		"10.0.0.11,web-1 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA\n"
		"10.0.0.1? ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA\n"
		"@revoked 10.0.0.24 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA\n"
		"|1|RPlYvt1cLFGP9GH6jiYn/1bGUd4=|bGhsIj09BaGCFP0i9OWBzq2BKkg= ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA\n";
	int r;

	if (!mkdtemp(dir)) {
		ok(0, "known_hosts: temporary directory");
		return;
	}
	snprintf(state, sizeof(state), "%s/state", dir);
	put(dir, "known_hosts", kh);
	put(dir, "hosts.yaml", "ssh: {known_hosts: known_hosts}\nhosts:\n  - {name: h1, address: 10.0.0.11}\n"
			       "  - {name: h2, address: 10.0.0.12}\n  - {name: h3, address: 10.0.0.13}\n");
	r = target_ssh_init(&t, state, dir, &err);
	is_int(r, 0, "known_hosts: a plain, a wildcard and a hashed entry: %s", err.buf);
	if (!r)
		target_ssh_release(&t);
	strbuf_reset(&err);
	put(dir, "hosts.yaml", "ssh: {known_hosts: known_hosts}\nhosts:\n  - {name: h1, address: 10.0.0.11}\n"
			       "  - {name: h4, address: 10.0.0.24}\n");
	put(dir, "known_hosts", kh);
	r = target_ssh_init(&t, state, dir, &err);
	is_int(r, SW_ECONFIG, "known_hosts: a host whose only key is revoked is refused at load");
	ok(strstr(err.buf, "host 'h4' (10.0.0.24) has no key in known_hosts") != NULL, "and named: %s", err.buf);
	strbuf_reset(&err);
	put(dir, "hosts.yaml", "ssh: {known_hosts: known_hosts, port: 2222}\nhosts:\n  - {name: h1, address: 10.0.0.11}\n");
	r = target_ssh_init(&t, state, dir, &err);
	is_int(r, SW_ECONFIG, "known_hosts: on port 2222 a host is known as [address]:2222");
	ok(strstr(err.buf, "ssh-keyscan -p 2222 10.0.0.11") != NULL, "and told how to add it: %s", err.buf);
	strbuf_reset(&err);
	put(dir, "known_hosts", "[10.0.0.11]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA\n");
	r = target_ssh_init(&t, state, dir, &err);
	is_int(r, 0, "known_hosts: the [address]:2222 entry is taken literally: %s", err.buf);
	if (!r)
		target_ssh_release(&t);
	strbuf_reset(&err);
	{
		char p[600];
		snprintf(p, sizeof(p), "%s/known_hosts", dir);
		unlink(p);
	}
	put(dir, "hosts.yaml", "ssh: {known_hosts: known_hosts}\nhosts:\n  - {name: h1, address: 10.0.0.11}\n");
	r = target_ssh_init(&t, state, dir, &err);
	is_int(r, SW_ECONFIG, "known_hosts: a missing file is refused at load");
	ok(strstr(err.buf, "cannot be read") != NULL, "and said: %s", err.buf);
	strbuf_release(&err);
	{
		char cmd[700];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			printf("# could not remove %s\n", dir);
	}
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void check_two_regions(const struct inventory *inv)
{
	const struct inventory_host *h1 = inventory_find(inv, "h1"), *h2 = inventory_find(inv, "h2");
	is_int((int)inv->n_hosts, 2, "ok-two-regions: two hosts");
	is_str(inv->user, "root", "ok-two-regions: user");
	is_int(inv->ssh_port, 22, "ok-two-regions: ssh port 22 by default");
	is_int((int)inv->connect_timeout_ms, 3000, "ok-two-regions: connect timeout 3 s");
	is_str(inv->known_hosts, "ssh/known_hosts", "ok-two-regions: known_hosts");
	ok(h1 && !strcmp(h1->region, "eu") && !strcmp(h1->dir, "/var/lib/slipway") && h1->n_labels == 1 &&
		   !strcmp(h1->labels[0].key, "tier") && !strcmp(h1->labels[0].value, "web"),
	   "ok-two-regions: h1 in eu, default dir, label tier=web");
	ok(h2 && !strcmp(h2->region, "us") && !strcmp(h2->dir, "/srv/slipway"), "ok-two-regions: h2 in us, own dir");
	ok(inventory_find(inv, "h3") == NULL, "ok-two-regions: no h3");
}

int main(void)
{
	struct strbuf dir = STRBUF_INIT;
	char **names = NULL;
	size_t n = 0;
	DIR *d;
	struct dirent *de;

	strbuf_addf(&dir, "%s/tests/data/inventory", SLIPWAY_SRC_DIR);
	d = opendir(dir.buf);
	ok(d != NULL, "open %s", dir.buf);
	if (!d)
		return tap_done();
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		if (l > 5 && !strcmp(de->d_name + l - 5, ".yaml")) {
			names = realloc(names, (n + 1) * sizeof(*names));
			names[n++] = strdup(de->d_name);
		}
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp);
	for (size_t i = 0; i < n; i++) {
		struct strbuf path = STRBUF_INIT, buf = STRBUF_INIT, err = STRBUF_INIT;
		struct inventory inv = { 0 };
		const char *expect;
		char *nl;
		int r;
		strbuf_addf(&path, "%s/%s", dir.buf, names[i]);
		strbuf_read_file_max(&buf, path.buf, 1 << 20, NULL);
		expect = strstr(buf.buf, "# expect: ");
		nl = expect ? strchr(expect, '\n') : NULL;
		ok(expect && nl, "%s: has an '# expect:' line", names[i]);
		if (expect && nl) {
			expect += 10;
			r = inventory_parse(&inv, names[i], buf.buf, buf.len, &err);
			if (!strncmp(expect, "ok\n", 3)) {
				ok(r == 0, "%s: parses", names[i]);
				if (r)
					printf("#   %s\n", err.buf);
				else if (!strcmp(names[i], "ok-two-regions.yaml"))
					check_two_regions(&inv);
			} else {
				int match = r < 0 && !strncmp(err.buf, expect, (size_t)(nl - expect));
				ok(match, "%s: refused with the expected message", names[i]);
				if (!match)
					printf("#   got '%s'\n#   want '%.*s'\n", err.buf, (int)(nl - expect), expect);
			}
		}
		inventory_release(&inv);
		strbuf_release(&path);
		strbuf_release(&buf);
		strbuf_release(&err);
		free(names[i]);
	}
	free(names);
	strbuf_release(&dir);
	test_known_hosts();
	return tap_done();
}
