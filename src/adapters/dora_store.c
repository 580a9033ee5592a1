/*
 * dora_store.c - the DORA inputs from the store, and commit times from git;
 * see dora_store.h.  One query per table: at 100,000 deployments the scan
 * and the correlated lookups of the rolled-back ones' transitions (indexed
 * by transitions_deployment) stay within a few tens of milliseconds.
 */
#include "adapters/dora_store.h"
#include "adapters/sql.h"
#include "adapters/store.h"
#include "base/alloc.h"
#include "base/err.h"
#include "base/strbuf.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int dora_load(struct store *st, const char *service, const char *env, int64_t from_ms, int64_t to_ms,
	      struct dora_deploy **deploys, size_t *n, struct dora_incident **incidents, size_t *n_inc,
	      struct strbuf *err)
{
	_cleanup_sql_ struct sql_stmt *q = NULL, *qi = NULL;
	struct dora_deploy *v = NULL;
	struct dora_incident *vi = NULL;
	size_t nr = 0, alloc = 0, ni = 0, ialloc = 0;
	int r, rc, with_att;

	/* a deployment without a commit time of its own takes the earliest one CI reported with an
	 * attestation for it or its version (docs/checklists.md), when the store has attestations */
	r = sql_prepare(st, &q, st->backend == STORE_BACKEND_PG ?
			"SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema()"
			" AND table_name = 'attestations' AND column_name = 'commit_time_ms'" :
			"SELECT 1 FROM pragma_table_info('attestations') WHERE name = 'commit_time_ms'", err);
	if (r)
		return r;
	with_att = sql_step(q, NULL) == SQL_ROW;
	sql_finalize(q);
	q = NULL;
	r = sql_prepare(st, &q,
			  with_att ? "SELECT d.id, d.state, d.finished_ms, COALESCE(d.commit_time_ms, (SELECT MIN(a.commit_time_ms)"
			  "   FROM attestations a WHERE a.commit_time_ms IS NOT NULL AND (a.deployment_id = d.id OR"
			  "   (a.version = d.version AND (a.service IS NULL OR a.service = d.service))))),"
			  " CASE WHEN d.state = 'rolled_back' THEN (SELECT MIN(t.at_ms) FROM transitions t"
			  "   WHERE t.deployment_id = d.id AND t.to_state = 'rolling_back') END,"
			  " CASE WHEN d.state = 'rolled_back' THEN COALESCE((SELECT MAX(t.at_ms) FROM transitions t"
			  "   WHERE t.deployment_id = d.id AND t.to_state = 'rolled_back'), d.finished_ms) END,"
			  " EXISTS (SELECT 1 FROM incidents i WHERE i.deployment_id = d.id)"
			  " FROM deployments d"
			  " WHERE d.env = ?1 AND (?2 IS NULL OR d.service = ?2)"
			  " AND d.state IN ('succeeded', 'rolled_back', 'failed')"
			  " AND d.finished_ms >= ?3 AND d.finished_ms < ?4" :
			  "SELECT d.id, d.state, d.finished_ms, d.commit_time_ms,"
			  " CASE WHEN d.state = 'rolled_back' THEN (SELECT MIN(t.at_ms) FROM transitions t"
			  "   WHERE t.deployment_id = d.id AND t.to_state = 'rolling_back') END,"
			  " CASE WHEN d.state = 'rolled_back' THEN COALESCE((SELECT MAX(t.at_ms) FROM transitions t"
			  "   WHERE t.deployment_id = d.id AND t.to_state = 'rolled_back'), d.finished_ms) END,"
			  " EXISTS (SELECT 1 FROM incidents i WHERE i.deployment_id = d.id)"
			  " FROM deployments d"
			  " WHERE d.env = ?1 AND (?2 IS NULL OR d.service = ?2)"
			  " AND d.state IN ('succeeded', 'rolled_back', 'failed')"
			  " AND d.finished_ms >= ?3 AND d.finished_ms < ?4", err);
	if (r)
		return r;
	sql_bind_text(q, 1, env);
	if (service)
		sql_bind_text(q, 2, service);
	sql_bind_int64(q, 3, from_ms);
	sql_bind_int64(q, 4, to_ms);
	while ((rc = sql_step(q, NULL)) == SQL_ROW) {
		struct dora_deploy *x;
		const char *state = sql_column_text(q, 1);
		ALLOC_GROW(v, nr + 1, alloc);
		x = &v[nr++];
		x->id = sql_column_int64(q, 0);
		x->outcome = !strcmp(state, "succeeded") ? DORA_SUCCEEDED
			     : !strcmp(state, "rolled_back") ? DORA_ROLLED_BACK : DORA_FAILED;
		x->finished_ms = sql_column_int64(q, 2);
		x->commit_time_ms = sql_column_is_null(q, 3) ? DORA_NONE : sql_column_int64(q, 3);
		x->detected_ms = sql_column_is_null(q, 4) ? DORA_NONE : sql_column_int64(q, 4);
		x->recovered_ms = sql_column_is_null(q, 5) ? DORA_NONE : sql_column_int64(q, 5);
		x->incident_linked = (int)sql_column_int64(q, 6);
	}
	if (rc != SQL_DONE)
		goto sqlfail;

	r = sql_prepare(st, &qi,
			  "SELECT opened_ms, resolved_ms FROM incidents"
			  " WHERE env = ?1 AND (?2 IS NULL OR service = ?2)"
			  " AND resolved_ms >= ?3 AND resolved_ms < ?4", err);
	if (r)
		goto fail;
	sql_bind_text(qi, 1, env);
	if (service)
		sql_bind_text(qi, 2, service);
	sql_bind_int64(qi, 3, from_ms);
	sql_bind_int64(qi, 4, to_ms);
	while ((rc = sql_step(qi, NULL)) == SQL_ROW) {
		ALLOC_GROW(vi, ni + 1, ialloc);
		vi[ni].opened_ms = sql_column_int64(qi, 0);
		vi[ni].resolved_ms = sql_column_int64(qi, 1);
		ni++;
	}
	if (rc != SQL_DONE)
		goto sqlfail;
	*deploys = v;
	*n = nr;
	*incidents = vi;
	*n_inc = ni;
	return 0;
sqlfail:
	strbuf_errf(err, "store '%s': %s", st->path, sql_errmsg(st));
	r = SW_ESTORE;
fail:
	free(v);
	free(vi);
	return r;
}

static int valid_rev(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > 200 || s[0] == '-')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("._/-", s[i]))
			return 0;
	return !strstr(s, "..");
}

int commit_time_resolve(const char *repo, const char *sha, int64_t *ms, struct strbuf *err)
{
	int out[2], errp[2], status = 0;
	struct strbuf so = STRBUF_INIT, se = STRBUF_INIT;
	char buf[512];
	ssize_t k;
	pid_t pid;
	char *end;
	long long secs;

	if (!valid_rev(sha)) {
		strbuf_errf(err, "'%s' is not a commit: give a SHA (hex digits) or a ref name", sha ? sha : "");
		return SW_EUSAGE;
	}
	if (pipe2(out, O_CLOEXEC) || pipe2(errp, O_CLOEXEC)) {
		strbuf_errf(err, "cannot run git: %s", strerror(errno));
		return -errno;
	}
	pid = fork();
	if (pid < 0) {
		int e = errno;
		close(out[0]); close(out[1]); close(errp[0]); close(errp[1]);
		strbuf_errf(err, "cannot run git: %s", strerror(e));
		return -e;
	}
	if (pid == 0) {
		dup2(out[1], 1);
		dup2(errp[1], 2);
		execlp("git", "git", "-C", repo, "show", "-s", "--format=%ct", sha, "--", (char *)NULL);
		_exit(127);
	}
	close(out[1]);
	close(errp[1]);
	while ((k = read(out[0], buf, sizeof(buf))) > 0)
		if (so.len < 4096)
			strbuf_add(&so, buf, (size_t)k);
	while ((k = read(errp[0], buf, sizeof(buf))) > 0)
		if (se.len < 4096)
			strbuf_add(&se, buf, (size_t)k);
	close(out[0]);
	close(errp[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	strbuf_rtrim(&so);
	strbuf_rtrim(&se);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		strbuf_errf(err, "git -C '%s' show '%s' failed%s%s", repo, sha, se.len ? ": " : "",
			    se.len ? se.buf : (WIFEXITED(status) && WEXITSTATUS(status) == 127 ? " (is git installed?)" : ""));
		strbuf_release(&so);
		strbuf_release(&se);
		return SW_EEXTERNAL;
	}
	errno = 0;
	secs = strtoll(so.buf, &end, 10);
	if (errno || end == so.buf || *end) {
		strbuf_errf(err, "git -C '%s' show '%s' gave no commit time", repo, sha);
		strbuf_release(&so);
		strbuf_release(&se);
		return SW_EEXTERNAL;
	}
	strbuf_release(&so);
	strbuf_release(&se);
	*ms = (int64_t)secs * 1000;
	return 0;
}
