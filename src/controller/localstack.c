/*
 * localstack.c - a service environment on this machine; see localstack.h.
 */
#include "controller/localstack.h"
#include "adapters/store_all.h"
#include "adapters/proc.h"
#include "base/alloc.h"
#include "base/err.h"
#include "base/strbuf.h"
#include "base/fmt.h"
#include "base/timeutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

const char *localstack_project_dir(const char *project_dir)
{
	const char *e;
	if (project_dir && *project_dir)
		return project_dir;
	e = getenv("SLIPWAY_PROJECT");
	return e && *e ? e : ".";
}

int service_load(struct service *svc, const char *project_dir, const char *name, struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT, buf = STRBUF_INIT, e = STRBUF_INIT;
	int rc;
	if (!service_name_valid(name)) {
		strbuf_errf(err, "'%s' is not a service name (1 to 64 of A-Z a-z 0-9 . _ -)", name);
		return SW_EUSAGE;
	}
	strbuf_addf(&path, "%s/services/%s.yaml", localstack_project_dir(project_dir), name);
	rc = strbuf_read_file_max(&buf, path.buf, SERVICE_FILE_MAX, &e);
	if (rc == -ENOENT) {
		strbuf_errf(err, "no service '%s': '%s' does not exist (set $SLIPWAY_PROJECT or run from the project directory)",
			    name, path.buf);
		rc = SW_ENOTFOUND;
	} else if (rc == -EFBIG) {
		strbuf_errf(err, "%s", e.buf);
		rc = SW_ECONFIG;	/* bad input, exit 2, as for every file slipway reads */
	} else if (rc < 0) {
		strbuf_errf(err, "%s", e.buf);
	} else {
		rc = service_parse(svc, path.buf, buf.buf, buf.len, name, err);
	}
	strbuf_release(&path);
	strbuf_release(&buf);
	strbuf_release(&e);
	return rc;
}

void (*localstack_on_wait)(const char *msg);

/* Write who holds the lock into the lock file: pid, since when (UTC), command line. */
static void lock_claim(int fd)
{
	char cmd[256] = "", line[400], ts[RFC3339_BUFSZ];
	int cf = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
	ssize_t n = cf >= 0 ? read(cf, cmd, sizeof(cmd) - 1) : -1;
	struct timespec now;
	int len;

	if (cf >= 0)
		close(cf);
	for (ssize_t i = 0; i < n; i++)
		if (cmd[i] == '\0' || (unsigned char)cmd[i] < 0x20)
			cmd[i] = ' ';
	cmd[n > 0 ? n : 0] = '\0';
	while (n > 0 && cmd[n - 1] == ' ')
		cmd[--n] = '\0';
	clock_gettime(CLOCK_REALTIME, &now);
	time_format_rfc3339((int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000, ts);
	len = snprintf(line, sizeof(line), "pid %ld since %s: %s\n", (long)getpid(), ts, cmd);
	if (len > (int)sizeof(line) - 1)
		len = (int)sizeof(line) - 1;
	if (ftruncate(fd, 0) == 0 && pwrite(fd, line, (size_t)len, 0) < 0)
		return;	/* the note is a courtesy: the lock holds without it */
}

/* Who holds the lock, as lock_claim() wrote it ("held by pid N since T: CMD"). */
static void lock_holder(int fd, char *buf, size_t size)
{
	char line[400];
	ssize_t n = pread(fd, line, sizeof(line) - 1, 0);

	if (n <= 0) {
		snprintf(buf, size, "held by a process that did not say who it is");
		return;
	}
	line[n] = '\0';
	line[strcspn(line, "\n")] = '\0';
	bprintf(buf, size, "held by %s", line);
}

int localstack_open(struct localstack *ls, const char *state_dir, const char *project_dir, const char *service,
		    const char *env, unsigned flags, struct strbuf *err)
{
	struct strbuf lp = STRBUF_INIT;
	int rc;
	int64_t until;

	memset(ls, 0, sizeof(*ls));
	ls->lock_fd = -1;
	if ((rc = service_load(&ls->svc, project_dir, service, err)) < 0)
		return rc;
	if (!service_find_env(&ls->svc, env)) {
		strbuf_errf(err, "service '%s' has no environment '%s'", service, env);
		service_release(&ls->svc);
		return SW_ENOTFOUND;
	}
	snprintf(ls->env, sizeof(ls->env), "%s", env);
	ls->state_dir = xstrdup(state_dir);
	if ((rc = mkdir_p(state_dir, err)) < 0)
		goto fail;
	strbuf_addf(&lp, "%s/routers", state_dir);
	if ((rc = mkdir_p(lp.buf, err)) < 0)
		goto fail;
	strbuf_addf(&lp, "/%s.%s.lock", service, env);
	if (flags & (LOCALSTACK_READONLY | LOCALSTACK_NOLOCK))
		goto opened;
	ls->lock_fd = open(lp.buf, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (ls->lock_fd < 0) {
		rc = -errno;
		strbuf_errf(err, "cannot open '%s': %s", lp.buf, strerror(errno));
		goto fail;
	}
	until = proc_mono_ms() + 30000;
	while (flock(ls->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		char holder[400];

		lock_holder(ls->lock_fd, holder, sizeof(holder));
		if ((flags & LOCALSTACK_TRYLOCK) || proc_mono_ms() > until) {
			strbuf_errf(err, "another slipway is changing '%s' in '%s' (%s; lock '%s'); try again when it is done",
				    service, env, holder, lp.buf);
			rc = SW_ESTATE;
			goto fail;
		}
		if (localstack_on_wait && until - proc_mono_ms() >= 29950) {
			char msg[600];
			bprintf(msg, sizeof(msg), "another slipway is changing '%s' in '%s' (%s); waiting up to 30 s",
				 service, env, holder);
			localstack_on_wait(msg);
		}
		proc_sleep_ms(50);
	}
	lock_claim(ls->lock_fd);
opened:
	/* the one store opening, every module migrated (adapters/store_all.h); a reader never
	 * creates the store (store_open_reader()) */
	if ((rc = (flags & LOCALSTACK_READONLY) ? store_open_all_reader(&ls->st, state_dir, err) :
		   store_open_all(&ls->st, state_dir, err)) < 0)
		goto fail;
	if ((rc = target_local_init(&ls->target, &ls->st, state_dir, localstack_project_dir(project_dir), err)) < 0)
		goto fail_store;
	if ((rc = router_haproxy_open(&ls->router, &ls->st, state_dir, &ls->svc, env, err)) < 0) {
		target_local_release(&ls->target);
		goto fail_store;
	}
	strbuf_release(&lp);
	return 0;
fail_store:
	store_close(&ls->st);
fail:
	if (ls->lock_fd >= 0)
		close(ls->lock_fd);
	service_release(&ls->svc);
	free(ls->state_dir);
	strbuf_release(&lp);
	memset(ls, 0, sizeof(*ls));
	return rc;
}

void localstack_close(struct localstack *ls)
{
	if (!ls->state_dir)
		return;
	router_haproxy_close(&ls->router);
	target_local_release(&ls->target);
	store_close(&ls->st);
	service_release(&ls->svc);
	if (ls->lock_fd >= 0)
		close(ls->lock_fd);
	free(ls->state_dir);
	memset(ls, 0, sizeof(*ls));
}

int localstack_start_revision(struct localstack *ls, const char *version, double weight, struct instance_list *out,
			      struct strbuf *err)
{
	struct revision_weight *w = NULL;
	size_t nw = 0;
	int rc, started;

	if ((rc = target_local_start(&ls->target, &ls->svc, ls->env, version, out, err)) < 0)
		return rc;
	if ((rc = router_haproxy_up(&ls->router, &started, err)) < 0)
		return rc;
	if ((rc = router_haproxy_add(&ls->router, out->v, out->n, err)) < 0)
		return rc;
	if ((rc = router_haproxy_get_weights(&ls->router, &w, &nw, err)) < 0)
		return rc;
	if (weight < 0) {
		double others = 0;
		for (size_t i = 0; i < nw; i++)
			if (strcmp(w[i].version, version))
				others += w[i].weight;
		if (others <= 0) {
			weight = 100;
		} else {
			free(w);
			return 0;
		}
	}
	{
		/* the others keep their proportions in what is left, so the shares add up to 100
		 * (core/share.h); with no other share, version has all of it or nothing */
		double others = 0;
		for (size_t i = 0; i < nw; i++)
			if (strcmp(w[i].version, version))
				others += w[i].weight;
		for (size_t i = 0; i < nw; i++) {
			if (!strcmp(w[i].version, version))
				w[i].weight = others > 0 || weight <= 0 ? weight : 100;
			else
				w[i].weight = others > 0 ? w[i].weight * (100 - weight) / others : 0;
		}
	}
	rc = router_haproxy_set_weights(&ls->router, w, nw, err);
	free(w);
	return rc;
}

int localstack_stop_revision(struct localstack *ls, const char *version, struct strbuf *err)
{
	int rc;
	if (router_haproxy_pid(&ls->router) > 0 || ls->router.attached) {
		if ((rc = router_haproxy_drain(&ls->router, version, err)) < 0)
			return rc;
		if ((rc = router_haproxy_remove(&ls->router, version, err)) < 0)
			return rc;
	}
	rc = target_local_stop(&ls->target, &ls->svc, ls->env, version, err);
	return rc < 0 ? rc : 0;
}

int localstack_down(struct localstack *ls, struct strbuf *found, struct strbuf *err)
{
	struct instance_list l = { 0 };
	struct strbuf serr = STRBUF_INIT;
	int rc, swept = 0;
	/* what the store does not know (deleted or replaced under a running slipway):
	 * found from the state directory, the admin socket and the pid files; the
	 * socket first (stopping the recorded HAProxy removes its file) */
	if (router_haproxy_pid(&ls->router) <= 0 &&
	    (swept = router_haproxy_sweep(&ls->router, found, &serr)) < 0 && swept != SW_ESTATE) {
		strbuf_errf(err, "%s", serr.buf);
		strbuf_release(&serr);
		return swept;
	}
	if ((rc = router_haproxy_down(&ls->router, err)) < 0) {
		strbuf_release(&serr);
		return rc;
	}
	if ((rc = target_local_list(&ls->target, ls->svc.name, ls->env, NULL, &l, err)) < 0)
		goto out;
	for (size_t i = 0; i < l.n; i++) {
		size_t j;
		for (j = 0; j < i; j++)
			if (!strcmp(l.v[j].version, l.v[i].version))
				break;
		if (j == i && (rc = target_local_stop(&ls->target, &ls->svc, ls->env, l.v[i].version, err)) < 0)
			goto out;
	}
	if ((rc = target_local_sweep(&ls->target, &ls->svc, ls->env, found, err)) < 0)
		goto out;
	rc = 0;
	if (swept == SW_ESTATE) {
		strbuf_errf(err, "%s", serr.buf);
		rc = SW_ESTATE;
	}
out:
	instance_list_release(&l);
	strbuf_release(&serr);
	return rc;
}
