/*
 * target_ssh.c - hosts over OpenSSH; see target_ssh.h.
 *
 * Each operation is one shell script run on the host by `ssh ... HOST --
 * SCRIPT`: what it reports comes back as lines "SW WORD ..." (anything else
 * is the host's own chatter, quoted in errors).  Everything put into a
 * script is either validated by its parser (names, versions, directories:
 * core/inventory.h, core/service.h) or single-quoted.
 */
#include "adapters/target_ssh.h"
#include "adapters/proc.h"
#include "base/alloc.h"
#include "base/err.h"
#include "base/strbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define OUT_MAX (64 * 1024)

void ssh_instance_list_release(struct ssh_instance_list *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static char *project_path(const char *project_dir, const char *p)
{
	struct strbuf sb = STRBUF_INIT;
	if (p[0] != '/') {
		if (project_dir[0] != '/') {
			char cwd[4096];
			if (getcwd(cwd, sizeof(cwd)))
				strbuf_addf(&sb, "%s/", cwd);
		}
		strbuf_addf(&sb, "%s/", project_dir);
	}
	strbuf_addstr(&sb, p);
	return strbuf_detach(&sb, NULL);
}

/* ssh's host patterns (ssh_config(5) PATTERNS): '*' any run, '?' one character, nothing else special
 * (so "[10.0.0.11]:2222" is literal). */
static int kh_glob(const char *p, const char *s)
{
	for (; *p; p++, s++) {
		if (*p == '*') {
			for (const char *t = s;; t++) {
				if (kh_glob(p + 1, t))
					return 1;
				if (!*t)
					return 0;
			}
		}
		if (!*s || (*p != '?' && *p != *s))
			return 0;
	}
	return !*s;
}

/* A known_hosts host pattern (sshd(8) SSH_KNOWN_HOSTS FILE FORMAT) against "name": a hashed
 * "|1|salt|hash" (base64 of HMAC-SHA1(salt, name)), a wildcard pattern, or the name itself. */
static int kh_pattern_matches(const char *pat, size_t len, const char *name)
{
	char p[512];

	if (len >= sizeof(p))
		return 0;
	memcpy(p, pat, len);
	p[len] = 0;
	if (!strncmp(p, "|1|", 3)) {
		unsigned char salt[64], want[64], got[EVP_MAX_MD_SIZE];
		unsigned int got_len = 0;
		char *bar = strchr(p + 3, '|');
		int ns, nw;
		if (!bar || strlen(p + 3) > 200)
			return 0;
		*bar = 0;
		ns = EVP_DecodeBlock(salt, (const unsigned char *)p + 3, (int)strlen(p + 3));
		nw = EVP_DecodeBlock(want, (const unsigned char *)bar + 1, (int)strlen(bar + 1));
		if (ns < 20 || nw < 20)
			return 0;
		if (!HMAC(EVP_sha1(), salt, 20, (const unsigned char *)name, strlen(name), got, &got_len))
			return 0;
		return got_len == 20 && !memcmp(got, want, 20);
	}
	if (p[0] == '!')
		return 0;	/* a negation never makes a host known */
	return kh_glob(p, name);
}

/*
 * Every host of the inventory has a key in the known_hosts file (ssh runs with
 * StrictHostKeyChecking=yes: a host without one would be refused at its first
 * command, in the middle of a rollout).  0, or SW_ECONFIG naming the first host
 * without a key and how to add it.
 */
static int known_hosts_check(const struct target_ssh *t, struct strbuf *err)
{
	struct strbuf kh = STRBUF_INIT, e = STRBUF_INIT;
	int r = strbuf_read_file_max(&kh, t->known_hosts, 16 * 1024 * 1024, &e);

	if (r < 0) {
		strbuf_errf(err, "hosts.yaml: known_hosts '%s' cannot be read: %s; host keys are always checked (docs/fleet.md)",
			    t->known_hosts, e.buf);
		strbuf_release(&kh);
		strbuf_release(&e);
		return SW_ECONFIG;
	}
	strbuf_release(&e);
	r = 0;
	for (size_t i = 0; i < t->inv.n_hosts && !r; i++) {
		const struct inventory_host *h = &t->inv.hosts[i];
		char name[128];
		const char *line = kh.buf;
		int found = 0;
		if (t->inv.ssh_port == 22)
			snprintf(name, sizeof(name), "%s", h->address);
		else
			snprintf(name, sizeof(name), "[%s]:%d", h->address, t->inv.ssh_port);
		while (line && *line && !found) {
			const char *end = strchr(line, '\n'), *f = line;
			size_t n = end ? (size_t)(end - line) : strlen(line);
			while (f < line + n && (*f == ' ' || *f == '\t'))
				f++;
			if (f < line + n && *f == '@') {	/* @cert-authority / @revoked: a marker, then the hosts */
				int revoked = !strncmp(f, "@revoked", 8);
				while (f < line + n && *f != ' ' && *f != '\t')
					f++;
				while (f < line + n && (*f == ' ' || *f == '\t'))
					f++;
				if (revoked)
					f = line + n;
			}
			if (f < line + n && *f != '#') {
				const char *hosts = f;
				while (f < line + n && *f != ' ' && *f != '\t')
					f++;
				for (const char *p = hosts; p < f && !found;) {
					const char *c = memchr(p, ',', (size_t)(f - p));
					size_t pl = c ? (size_t)(c - p) : (size_t)(f - p);
					found = kh_pattern_matches(p, pl, name);
					p += pl + 1;
				}
			}
			line = end ? end + 1 : NULL;
		}
		if (!found) {
			strbuf_errf(err, "hosts.yaml: host '%s' (%s) has no key in known_hosts '%s': ssh would refuse it "
				    "(StrictHostKeyChecking=yes); check its fingerprint and add it, for example with "
				    "'ssh-keyscan -p %d %s >> %s' (docs/fleet.md)", h->name, name, t->known_hosts,
				    t->inv.ssh_port, h->address, t->known_hosts);
			r = SW_ECONFIG;
		}
	}
	strbuf_release(&kh);
	return r;
}

int target_ssh_load_inventory(const char *project_dir, struct inventory *inv, struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT, buf = STRBUF_INIT, e = STRBUF_INIT;
	int r;
	memset(inv, 0, sizeof(*inv));
	strbuf_addf(&path, "%s/hosts.yaml", project_dir);
	r = strbuf_read_file_max(&buf, path.buf, INVENTORY_FILE_MAX, &e);
	if (r == -ENOENT) {
		strbuf_errf(err, "the ssh target needs an inventory: '%s' does not exist (docs/fleet.md)", path.buf);
		r = SW_ENOTFOUND;
	} else if (r == -EFBIG) {
		strbuf_errf(err, "%s", e.buf);
		r = SW_ECONFIG;
	} else if (r < 0) {
		strbuf_errf(err, "%s", e.buf);
	} else {
		r = inventory_parse(inv, path.buf, buf.buf, buf.len, err);
	}
	strbuf_release(&path);
	strbuf_release(&buf);
	strbuf_release(&e);
	return r;
}

int target_ssh_init(struct target_ssh *t, const char *state_dir, const char *project_dir, struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT;
	int r;
	memset(t, 0, sizeof(*t));
	if ((r = target_ssh_load_inventory(project_dir, &t->inv, err)) < 0)
		return r;
	t->state_dir = xstrdup(state_dir);
	t->project_dir = xstrdup(project_dir);
	t->known_hosts = project_path(project_dir, t->inv.known_hosts);
	t->identity = t->inv.identity[0] ? project_path(project_dir, t->inv.identity) : NULL;
	if ((r = known_hosts_check(t, err)) < 0) {
		target_ssh_release(t);
		return r;
	}
	t->down = xcalloc(t->inv.n_hosts, sizeof(*t->down));
	strbuf_addf(&path, "%s/ssh", state_dir);
	t->ctl_dir = strbuf_detach(&path, NULL);
	if ((r = mkdir_p(t->ctl_dir, err)) < 0) {
		target_ssh_release(t);
		return r;
	}
	return 0;
}

/* The ssh options every command uses (docs/fleet.md "SSH options"), into argv from *n. */
static void ssh_options(struct target_ssh *t, char **argv, size_t *n, struct strbuf *hold)
{
	/* hold keeps the strings; each is NUL-separated, pointers fixed up by the caller */
	strbuf_addf(hold, "-F%c/dev/null%c", 0, 0);
	strbuf_addf(hold, "-oBatchMode=yes%c", 0);
	strbuf_addf(hold, "-oStrictHostKeyChecking=yes%c", 0);
	strbuf_addf(hold, "-oUserKnownHostsFile=%s%c", t->known_hosts, 0);
	strbuf_addf(hold, "-oGlobalKnownHostsFile=/dev/null%c", 0);
	strbuf_addf(hold, "-oControlMaster=auto%c", 0);
	strbuf_addf(hold, "-oControlPath=%s/%%C%c", t->ctl_dir, 0);
	strbuf_addf(hold, "-oControlPersist=60%c", 0);
	strbuf_addf(hold, "-oConnectTimeout=%lld%c", (long long)(t->inv.connect_timeout_ms + 999) / 1000, 0);
	strbuf_addf(hold, "-oServerAliveInterval=2%c", 0);
	strbuf_addf(hold, "-oServerAliveCountMax=2%c", 0);
	strbuf_addf(hold, "-oLogLevel=ERROR%c", 0);
	strbuf_addf(hold, "-oUser=%s%c", t->inv.user, 0);
	strbuf_addf(hold, "-oPort=%d%c", t->inv.ssh_port, 0);
	if (t->identity)
		strbuf_addf(hold, "-oIdentitiesOnly=yes%c-i%c%s%c", 0, 0, t->identity, 0);
	for (const char *p = hold->buf; p < hold->buf + hold->len; p += strlen(p) + 1)
		argv[(*n)++] = (char *)p;
}

/*
 * Run argv (argv[0] from PATH), output into *out, at most until deadline_ms
 * (monotonic).  Done when the process exits, not at end of file: the
 * ControlPersist master ssh leaves behind inherits the pipe (its stderr) and
 * keeps it open for as long as it persists.
 */
static int run_argv(char **argv, struct strbuf *out, int64_t deadline_ms, int *status, struct strbuf *err)
{
	int fd[2];
	pid_t pid;
	int timed_out = 0, exited = 0;
	if (pipe2(fd, O_CLOEXEC) < 0) {
		strbuf_errf(err, "pipe: %s", strerror(errno));
		return -errno;
	}
	pid = fork();
	if (pid < 0) {
		int e = errno;
		close(fd[0]);
		close(fd[1]);
		strbuf_errf(err, "fork: %s", strerror(e));
		return -e;
	}
	if (pid == 0) {
		int nul = open("/dev/null", O_RDONLY);
		if (nul >= 0)
			dup2(nul, 0);
		dup2(fd[1], 1);
		dup2(fd[1], 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(fd[1]);
	for (;;) {
		struct pollfd p = { fd[0], POLLIN, 0 };
		int64_t left = deadline_ms - proc_mono_ms();
		char buf[4096];
		ssize_t k;
		if (!exited && waitpid(pid, status, WNOHANG) == pid)
			exited = 1;	/* read what is left, without waiting for end of file */
		if (left <= 0 && !exited) {
			timed_out = 1;
			break;
		}
		if (poll(&p, 1, exited ? 0 : (int)(left > 5 ? 5 : left)) <= 0) {
			if (exited)
				break;
			continue;
		}
		k = read(fd[0], buf, sizeof(buf));
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			if (exited)
				break;
			/* end of file: only the exit is left to wait for */
			while (waitpid(pid, status, 0) < 0 && errno == EINTR)
				;
			exited = 1;
			break;
		}
		if (out->len < OUT_MAX)
			strbuf_add(out, buf, (size_t)k);
	}
	close(fd[0]);
	if (timed_out)
		kill(pid, SIGKILL);
	if (!exited)
		while (waitpid(pid, status, 0) < 0 && errno == EINTR)
			;
	return timed_out ? SW_ETIMEOUT : 0;
}

/* the last lines of text, on one line, for a message */
static void quote_tail(struct strbuf *dst, const char *text)
{
	size_t n = strlen(text), from = n > 300 ? n - 300 : 0;
	struct strbuf sb = STRBUF_INIT;
	strbuf_addstr(&sb, text + from);
	strbuf_rtrim(&sb);
	for (size_t i = 0; i < sb.len; i++)
		if (sb.buf[i] == '\n')
			sb.buf[i] = '|';
	strbuf_addstr(dst, sb.len ? sb.buf : "no output");
	strbuf_release(&sb);
}

int target_ssh_run(struct target_ssh *t, int h, const char *command, struct strbuf *out, struct strbuf *err)
{
	const struct inventory_host *host = &t->inv.hosts[h];
	struct strbuf hold = STRBUF_INIT, msg = STRBUF_INIT;
	char *argv[40];
	size_t n = 0;
	int status = 0, r;

	argv[n++] = "ssh";
	ssh_options(t, argv, &n, &hold);
	argv[n++] = (char *)host->address;
	argv[n++] = "--";
	argv[n++] = (char *)command;
	argv[n] = NULL;
	__atomic_add_fetch(&t->round_trips, 1, __ATOMIC_RELAXED);
	r = run_argv(argv, out, proc_mono_ms() + 4 * t->inv.connect_timeout_ms, &status, &msg);
	if (r == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 255 && !out->len) {
		/* ssh failed without a word (a shared connection closing under it): once more, on
		 * a new one; a host that is really gone fails again with the reason */
		proc_sleep_ms(200);
		__atomic_add_fetch(&t->round_trips, 1, __ATOMIC_RELAXED);
		r = run_argv(argv, out, proc_mono_ms() + 4 * t->inv.connect_timeout_ms, &status, &msg);
	}
	if (r == SW_ETIMEOUT) {
		strbuf_errf(err, "host '%s' (%s): no answer within %lld ms", host->name, host->address,
			    (long long)(4 * t->inv.connect_timeout_ms));
	} else if (r < 0) {
		strbuf_errf(err, "host '%s' (%s): %s", host->name, host->address, msg.buf);
	} else if (!WIFEXITED(status) || WEXITSTATUS(status) == 255) {
		struct strbuf q = STRBUF_INIT;
		quote_tail(&q, out->buf);
		strbuf_errf(err, "host '%s' (%s): ssh: %s", host->name, host->address, q.buf);
		strbuf_release(&q);
		r = SW_EEXTERNAL;
	} else {
		r = WEXITSTATUS(status);
	}
	if (r == SW_ETIMEOUT)
		r = SW_EEXTERNAL;
	if (r < 0)
		snprintf(t->down[h], sizeof(t->down[h]), "%s", err && err->len ? err->buf : "no answer");
	else
		t->down[h][0] = '\0';
	strbuf_release(&hold);
	strbuf_release(&msg);
	return r;
}

void target_ssh_release(struct target_ssh *t)
{
	if (t->ctl_dir && t->inv.hosts) {
		/* end the shared connections this process opened or found */
		for (size_t h = 0; h < t->inv.n_hosts; h++) {
			struct strbuf hold = STRBUF_INIT, out = STRBUF_INIT;
			char *argv[40];
			size_t n = 0;
			int status;
			argv[n++] = "ssh";
			ssh_options(t, argv, &n, &hold);
			argv[n++] = "-Oexit";
			argv[n++] = (char *)t->inv.hosts[h].address;
			argv[n] = NULL;
			run_argv(argv, &out, proc_mono_ms() + 2000, &status, NULL);
			strbuf_release(&hold);
			strbuf_release(&out);
		}
	}
	inventory_release(&t->inv);
	free(t->state_dir);
	free(t->project_dir);
	free(t->identity);
	free(t->known_hosts);
	free(t->ctl_dir);
	free(t->down);
	memset(t, 0, sizeof(*t));
}

/* 'text' for a shell: single quotes, a quote as '\'' */
static void shell_quote(struct strbuf *sb, const char *s)
{
	strbuf_addch(sb, '\'');
	for (; *s; s++) {
		if (*s == '\'')
			strbuf_addstr(sb, "'\\''");
		else
			strbuf_addch(sb, *s);
	}
	strbuf_addch(sb, '\'');
}

/* the digest pipeline, run in the current directory on either end */
#define DIGEST_SH "find . -type f | LC_ALL=C sort | xargs -r sha256sum | sha256sum | cut -d' ' -f1"
/* START_TIME of $pid, field 22 of /proc/PID/stat (the name, field 2, may hold spaces) */
#define START_SH "sed 's/^.*) //' /proc/$pid/stat 2>/dev/null | cut -d' ' -f20"

int target_ssh_list(struct target_ssh *t, int h, const char *service, const char *env, const char *version,
		    struct ssh_instance_list *out, struct strbuf *err)
{
	const struct inventory_host *host = &t->inv.hosts[h];
	struct strbuf cmd = STRBUF_INIT, o = STRBUF_INIT;
	int r;
	strbuf_addf(&cmd,
		    "for f in %s/run/%s.%s/*.pid; do [ -f \"$f\" ] || continue; read pid st port <\"$f\";"
		    " a=0; [ \"$(" START_SH ")\" = \"$st\" ] && a=1;"
		    " n=${f##*/}; echo \"SW inst ${n%%.pid} $pid $st $port $a\"; done; echo SW end",
		    host->dir, service, env);
	r = target_ssh_run(t, h, cmd.buf, &o, err);
	if (r > 0 || (r == 0 && !strstr(o.buf, "SW end"))) {
		struct strbuf q = STRBUF_INIT;
		quote_tail(&q, o.buf);
		strbuf_errf(err, "host '%s' (%s): listing instances failed: %s", host->name, host->address, q.buf);
		snprintf(t->down[h], sizeof(t->down[h]), "%s", err->buf);
		strbuf_release(&q);
		r = SW_EEXTERNAL;
	}
	if (r < 0)
		goto out;
	for (char *line = o.buf; line && *line;) {
		char *nl = strchr(line, '\n');
		char name[2 * SERVICE_NAME_MAX + 2], *dash;	/* "%129s": 129 characters and the NUL */
		long pid;
		unsigned long long st;
		int port, alive;
		if (nl)
			*nl = '\0';
		if (sscanf(line, "SW inst %129s %ld %llu %d %d", name, &pid, &st, &port, &alive) == 5 &&
		    (dash = strrchr(name, '-'))) {
			struct ssh_instance *in;
			*dash = '\0';
			if (strlen(name) <= SERVICE_NAME_MAX && (!version || !strcmp(version, name))) {
				ALLOC_GROW(out->v, out->n + 1, out->alloc);
				in = &out->v[out->n++];
				memset(in, 0, sizeof(*in));
				in->host = h;
				memcpy(in->version, name, strlen(name) + 1);
				in->idx = (int)strtol(dash + 1, NULL, 10);
				in->pid = pid;
				in->start_time = st;
				in->port = port;
				in->alive = alive;
			}
		}
		line = nl ? nl + 1 : NULL;
	}
	r = 0;
out:
	strbuf_release(&cmd);
	strbuf_release(&o);
	return r;
}

/* one host's listing for target_ssh_list_hosts(), in its own thread */
struct list_job {
	struct target_ssh *t;
	int h;
	const char *service, *env, *version;
	struct ssh_instance_list l;
	struct strbuf e;
	int rc, joinable;
	pthread_t th;
};

static void *list_job_run(void *arg)
{
	struct list_job *j = arg;
	j->rc = target_ssh_list(j->t, j->h, j->service, j->env, j->version, &j->l, &j->e);
	return NULL;
}

int target_ssh_list_hosts(struct target_ssh *t, const char *service, const char *env, const char *version,
			  struct ssh_instance_list *out, struct strbuf *why)
{
	size_t n = t->inv.n_hosts;
	struct list_job *j = xcalloc(n ? n : 1, sizeof(*j));
	int down = 0;
	/* each thread writes only its job and t->down[h] (its own host), and counts round trips atomically */
	for (size_t h = 0; h < n; h++) {
		j[h] = (struct list_job){ .t = t, .h = (int)h, .service = service, .env = env, .version = version };
		strbuf_init(&j[h].e, 0);
		if (n > 1 && pthread_create(&j[h].th, NULL, list_job_run, &j[h]) == 0)
			j[h].joinable = 1;
		else
			list_job_run(&j[h]);	/* one host, or no thread to be had: here, in turn */
	}
	for (size_t h = 0; h < n; h++) {
		if (j[h].joinable)
			pthread_join(j[h].th, NULL);
		if (j[h].rc < 0) {
			down++;
			if (why)
				strbuf_addf(why, "%s%s", why->len ? "; " : "", j[h].e.buf);
		}
		for (size_t i = 0; i < j[h].l.n; i++) {
			ALLOC_GROW(out->v, out->n + 1, out->alloc);
			out->v[out->n++] = j[h].l.v[i];
		}
		ssh_instance_list_release(&j[h].l);
		strbuf_release(&j[h].e);
	}
	free(j);
	return down;
}

static void local_release_dir(struct target_ssh *t, const struct service *svc, const char *version, struct strbuf *out)
{
	char *root = project_path(t->project_dir, svc->releases);
	strbuf_addf(out, "%s/%s", root, version);
	free(root);
}

/* the local digest of dir (DIGEST_SH run here) into out (64 hex digits) */
static int local_digest(const char *dir, char out[65], struct strbuf *err)
{
	struct strbuf cmd = STRBUF_INIT, o = STRBUF_INIT;
	char *argv[] = { "sh", "-c", NULL, NULL };
	int status = 0, r;
	strbuf_addstr(&cmd, "cd ");
	shell_quote(&cmd, dir);
	strbuf_addstr(&cmd, " && " DIGEST_SH);
	argv[2] = cmd.buf;
	r = run_argv(argv, &o, proc_mono_ms() + 60000, &status, err);
	strbuf_rtrim(&o);
	if (r >= 0 && (!WIFEXITED(status) || WEXITSTATUS(status) || o.len != 64)) {
		strbuf_errf(err, "cannot compute the digest of '%s': %s", dir, o.buf);
		r = SW_EEXTERNAL;
	}
	if (r >= 0)
		memcpy(out, o.buf, 65);
	strbuf_release(&cmd);
	strbuf_release(&o);
	return r < 0 ? r : 0;
}

int target_ssh_push(struct target_ssh *t, int h, const struct service *svc, const char *version, struct strbuf *err)
{
	const struct inventory_host *host = &t->inv.hosts[h];
	struct strbuf dir = STRBUF_INIT, cmd = STRBUF_INIT, o = STRBUF_INIT, hold = STRBUF_INIT, e = STRBUF_INIT,
		      dest = STRBUF_INIT, src = STRBUF_INIT;
	char digest[65];
	struct stat sb;
	int r;

	local_release_dir(t, svc, version, &dir);
	if (stat(dir.buf, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
		strbuf_errf(err, "release directory '%s' does not exist; put release '%s' of '%s' there first", dir.buf,
			    version, svc->name);
		r = SW_ENOTFOUND;
		goto out;
	}
	if ((r = local_digest(dir.buf, digest, err)) < 0)
		goto out;
	/* present and verified already? (one round trip) */
	strbuf_addf(&cmd, "cat %s/releases/%s/%s.sha256 2>/dev/null; mkdir -p %s/releases/%s/%s", host->dir, svc->name,
		    version, host->dir, svc->name, version);
	if ((r = target_ssh_run(t, h, cmd.buf, &o, err)) < 0)
		goto out;
	if (o.len >= 64 && !memcmp(o.buf, digest, 64)) {
		r = 0;
		goto out;
	}
	{
		/* rsync over the same shared connection: -e is the ssh command line */
		char *argv[48], *sshv[40];
		size_t n = 0, k = 0;
		int status = 0;
		struct strbuf e_opt = STRBUF_INIT;
		sshv[k++] = "ssh";
		ssh_options(t, sshv, &k, &hold);
		for (size_t i = 0; i < k; i++)
			strbuf_addf(&e_opt, "%s%s", i ? " " : "", sshv[i]);
		strbuf_addf(&src, "%s/", dir.buf);
		strbuf_addf(&dest, "%s:%s/releases/%s/%s/", host->address, host->dir, svc->name, version);
		argv[n++] = "rsync";
		argv[n++] = "-a";
		argv[n++] = "--delete";
		argv[n++] = "-e";
		argv[n++] = e_opt.buf;
		argv[n++] = src.buf;
		argv[n++] = dest.buf;
		argv[n] = NULL;
		strbuf_reset(&o);
		__atomic_add_fetch(&t->round_trips, 1, __ATOMIC_RELAXED);
		r = run_argv(argv, &o, proc_mono_ms() + 20 * t->inv.connect_timeout_ms, &status, &e);
		if (r >= 0 && (!WIFEXITED(status) || WEXITSTATUS(status))) {
			struct strbuf q = STRBUF_INIT;
			quote_tail(&q, o.buf);
			strbuf_errf(err, "host '%s' (%s): copying release '%s' failed: %s", host->name, host->address,
				    version, q.buf);
			strbuf_release(&q);
			r = SW_EEXTERNAL;
		} else if (r < 0) {
			strbuf_errf(err, "host '%s' (%s): copying release '%s' failed: %s", host->name, host->address,
				    version, e.buf);
			r = SW_EEXTERNAL;
		}
		strbuf_release(&e_opt);
		if (r < 0)
			goto out;
	}
	/* verified on the host, then recorded there */
	strbuf_reset(&cmd);
	strbuf_reset(&o);
	strbuf_addf(&cmd, "cd %s/releases/%s/%s && d=$(" DIGEST_SH ") && [ \"$d\" = %s ] && echo $d > ../%s.sha256"
		    " && echo SW verified || echo \"SW digest $d\"", host->dir, svc->name, version, digest, version);
	if ((r = target_ssh_run(t, h, cmd.buf, &o, err)) < 0)
		goto out;
	if (!strstr(o.buf, "SW verified")) {
		strbuf_rtrim(&o);
		strbuf_errf(err, "host '%s' (%s): release '%s' differs after the copy (%s, expected %s)", host->name,
			    host->address, version, o.buf, digest);
		r = SW_EEXTERNAL;
		goto out;
	}
	r = 0;
out:
	strbuf_release(&dir);
	strbuf_release(&cmd);
	strbuf_release(&o);
	strbuf_release(&hold);
	strbuf_release(&e);
	strbuf_release(&dest);
	strbuf_release(&src);
	return r;
}

int target_ssh_start(struct target_ssh *t, int h, const struct service *svc, const char *env, const char *version,
		     int idx, int port, struct ssh_instance *out, struct strbuf *err)
{
	const struct inventory_host *host = &t->inv.hosts[h];
	struct strbuf cmd = STRBUF_INIT, o = STRBUF_INIT, rel = STRBUF_INIT, arg = STRBUF_INIT, run = STRBUF_INIT;
	struct service_vars v = { 0 };
	long pid = 0;
	unsigned long long st = 0;
	int r;

	strbuf_addf(&rel, "%s/releases/%s/%s", host->dir, svc->name, version);
	strbuf_addf(&run, "%s/run/%s.%s", host->dir, svc->name, env);
	v.port = port;
	v.version = version;
	v.release = rel.buf;
	v.service = svc->name;
	v.env = env;
	v.instance = idx;
	strbuf_addf(&cmd, "set -e; mkdir -p %s; cd %s; d=$(" DIGEST_SH "); w=$(cat ../%s.sha256 2>/dev/null || true);"
		    " if [ \"$d\" != \"$w\" ]; then echo \"SW digest $d, expected $w\"; exit 3; fi;",
		    run.buf, rel.buf, version);
	strbuf_addf(&cmd, " setsid env PORT=%d SLIPWAY_INSTANCE=%s.%s/%s-%d", port, svc->name, env, version, idx);
	for (size_t i = 0; i < svc->envc; i++) {
		strbuf_reset(&arg);
		if ((r = service_expand(&arg, svc->env[i], &v, err)) < 0)
			goto out;
		strbuf_addch(&cmd, ' ');
		shell_quote(&cmd, arg.buf);
	}
	for (size_t i = 0; i < svc->argc; i++) {
		strbuf_reset(&arg);
		if ((r = service_expand(&arg, svc->argv[i], &v, err)) < 0)
			goto out;
		strbuf_addch(&cmd, ' ');
		shell_quote(&cmd, arg.buf);
	}
	strbuf_addf(&cmd, " >>%s/%s-%d.log 2>&1 </dev/null & pid=$!; st=$(" START_SH ");"
		    " echo \"$pid $st %d\" >%s/%s-%d.pid; echo \"SW started $pid $st\"",
		    run.buf, version, idx, port, run.buf, version, idx);
	if ((r = target_ssh_run(t, h, cmd.buf, &o, err)) < 0)
		goto out;
	{
		const char *p = strstr(o.buf, "SW started ");
		if (r != 0 || !p || sscanf(p, "SW started %ld %llu", &pid, &st) != 2 || pid <= 0) {
			struct strbuf q = STRBUF_INIT;
			quote_tail(&q, o.buf);
			strbuf_errf(err, "host '%s' (%s): starting %s-%d failed (exit %d): %s", host->name, host->address,
				    version, idx, r, q.buf);
			strbuf_release(&q);
			r = SW_EEXTERNAL;
			goto out;
		}
	}
	memset(out, 0, sizeof(*out));
	out->host = h;
	snprintf(out->version, sizeof(out->version), "%s", version);
	out->idx = idx;
	out->pid = pid;
	out->start_time = st;
	out->port = port;
	out->alive = 1;
	r = 0;
out:
	strbuf_release(&cmd);
	strbuf_release(&o);
	strbuf_release(&rel);
	strbuf_release(&arg);
	strbuf_release(&run);
	return r;
}

int target_ssh_stop(struct target_ssh *t, int h, const struct service *svc, const char *env, const char *names,
		    struct strbuf *err)
{
	const struct inventory_host *host = &t->inv.hosts[h];
	struct strbuf cmd = STRBUF_INIT, o = STRBUF_INIT;
	long long grace_tenths = (svc->stop_grace_ms + 99) / 100;
	int r;
	/* SIGTERM to every group first, then one wait: they stop in parallel */
	strbuf_addf(&cmd,
		    "cd %s/run/%s.%s 2>/dev/null || { echo SW done; exit 0; }; live=;"
		    " for n in %s; do [ -f $n.pid ] || continue; read pid st port <$n.pid;"
		    " if [ \"$(" START_SH ")\" = \"$st\" ]; then kill -TERM -$pid 2>/dev/null || kill -TERM $pid; live=\"$live $n:$pid:$st\";"
		    " else rm -f $n.pid; fi; done;"
		    " i=0; while [ $i -lt %lld ]; do left=; for x in $live; do pid=${x#*:}; st=${pid#*:}; pid=${pid%%:*};"
		    " [ \"$(" START_SH ")\" = \"$st\" ] && left=\"$left $x\"; done; live=$left; [ -z \"$live\" ] && break;"
		    " sleep 0.1; i=$((i+1)); done;"
		    " for x in $live; do pid=${x#*:}; pid=${pid%%:*}; kill -KILL -$pid 2>/dev/null || kill -KILL $pid; done;"
		    " for n in %s; do rm -f $n.pid; done; echo SW done",
		    host->dir, svc->name, env, names, grace_tenths, names);
	r = target_ssh_run(t, h, cmd.buf, &o, err);
	if (r >= 0 && !strstr(o.buf, "SW done")) {
		struct strbuf q = STRBUF_INIT;
		quote_tail(&q, o.buf);
		strbuf_errf(err, "host '%s' (%s): stopping %s failed: %s", host->name, host->address, names, q.buf);
		strbuf_release(&q);
		r = SW_EEXTERNAL;
	}
	strbuf_release(&cmd);
	strbuf_release(&o);
	return r < 0 ? r : 0;
}

int target_ssh_probe(struct target_ssh *t, const struct ssh_instance *in, const char *path, int64_t timeout_ms)
{
	char url[600];
	int status = 0;
	snprintf(url, sizeof(url), "http://%s:%d%s", t->inv.hosts[in->host].address, in->port, path);
	if (http_request("GET", url, timeout_ms, &status, NULL, NULL) < 0)
		return 0;
	return status >= 200 && status < 300;
}
