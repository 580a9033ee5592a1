/*
 * localstack.c - a service environment on this machine; see localstack.h.
 */
#include "controller/localstack.h"
#include "adapters/store_all.h"
#include "adapters/proc.h"
#include "base/alloc.h"
#include "base/err.h"
#include "base/strbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
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
	if (flags & LOCALSTACK_READONLY)
		goto opened;
	ls->lock_fd = open(lp.buf, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (ls->lock_fd < 0) {
		rc = -errno;
		strbuf_errf(err, "cannot open '%s': %s", lp.buf, strerror(errno));
		goto fail;
	}
	until = proc_mono_ms() + 30000;
	while (flock(ls->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		if (proc_mono_ms() > until) {
			strbuf_errf(err, "another slipway is changing '%s' in '%s' (lock '%s'); try again", service, env, lp.buf);
			rc = SW_ESTATE;
			goto fail;
		}
		proc_sleep_ms(50);
	}
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
	for (size_t i = 0; i < nw; i++) {
		if (!strcmp(w[i].version, version))
			w[i].weight = weight;
		else if (weight >= 100)
			w[i].weight = 0;
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

int localstack_down(struct localstack *ls, struct strbuf *err)
{
	struct instance_list l = { 0 };
	int rc = router_haproxy_down(&ls->router, err);
	if (rc < 0)
		return rc;
	if ((rc = target_local_list(&ls->target, ls->svc.name, ls->env, NULL, &l, err)) < 0)
		return rc;
	for (size_t i = 0; i < l.n; i++) {
		size_t j;
		for (j = 0; j < i; j++)
			if (!strcmp(l.v[j].version, l.v[i].version))
				break;
		if (j == i && (rc = target_local_stop(&ls->target, &ls->svc, ls->env, l.v[i].version, err)) < 0)
			break;
	}
	instance_list_release(&l);
	return rc < 0 ? rc : 0;
}
