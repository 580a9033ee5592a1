/*
 * db_tools.c - running sqitch and PostgreSQL's client programs for a
 * migration, and reading back what they leave (db_tools.h).
 */
#include "adapters/db_tools.h"
#include "adapters/proc.h"
#include "base/alloc.h"
#include "base/err.h"
#include "base/strbuf.h"
#include "core/database.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int db_url(const struct database *db, const char *env, const char *project_dir, struct strbuf *url,
	   struct strbuf *err)
{
	const struct database_target *t = database_target(db, env);
	struct strbuf buf = STRBUF_INIT, path = STRBUF_INIT, e = STRBUF_INIT;
	const char *v;
	size_t n;
	int r = 0;

	if (!t) {
		strbuf_errf(err, "database '%s' has no target '%s' (databases/%s.yaml 'targets')", db->name, env, db->name);
		return SW_ENOTFOUND;
	}
	if (t->url_env) {
		v = getenv(t->url_env);
		if (!v || !*v) {
			strbuf_errf(err, "database '%s' %s: $%s is not set (it holds the connection URL, "
				    "postgresql://...)", db->name, env, t->url_env);
			return SW_ECONFIG;
		}
		strbuf_addstr(&buf, v);
	} else {
		if (t->url_file[0] == '/')
			strbuf_addstr(&path, t->url_file);
		else
			strbuf_addf(&path, "%s/%s", project_dir && *project_dir ? project_dir : ".", t->url_file);
		if (strbuf_read_file_max(&buf, path.buf, 8192, &e) < 0) {
			strbuf_errf(err, "database '%s' %s: cannot read the connection file '%s': %s", db->name, env,
				    path.buf, e.buf);
			r = SW_ECONFIG;
			goto out;
		}
	}
	n = strcspn(buf.buf, "\r\n");
	if (!n || (strncmp(buf.buf, "postgresql://", 13) && strncmp(buf.buf, "postgres://", 11))) {
		strbuf_errf(err, "database '%s' %s: the connection %s%s%s is not a postgresql:// URL", db->name, env,
			    t->url_env ? "in $" : "in '", t->url_env ? t->url_env : path.buf, t->url_env ? "" : "'");
		r = SW_ECONFIG;
		goto out;
	}
	strbuf_add(url, buf.buf, n);
out:
	/* the value may hold a password: wipe it */
	if (buf.buf)
		memset(buf.buf, 0, buf.len);
	strbuf_release(&buf);
	strbuf_release(&path);
	strbuf_release(&e);
	return r;
}

int db_run(char *const argv[], char *const env_add[], const char *cwd, const char *log_path, int *status,
	   struct strbuf *err)
{
	struct strbuf pidf = STRBUF_INIT;
	pid_t pid, w;
	uint64_t start;
	FILE *f;
	int st = 0, r;

	if ((r = proc_spawn(argv, env_add, cwd, log_path, &pid, &start, err)) < 0)
		return r;
	strbuf_addf(&pidf, "%s.pid", log_path);
	if ((f = fopen(pidf.buf, "w"))) {
		fprintf(f, "%d %llu\n", (int)pid, (unsigned long long)start);
		fclose(f);
	}
	do
		w = waitpid(pid, &st, 0);
	while (w < 0 && errno == EINTR);
	unlink(pidf.buf);
	strbuf_release(&pidf);
	if (w < 0) {
		strbuf_errf(err, "waiting for %s: %s", argv[0], strerror(errno));
		return -errno;
	}
	*status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	return 0;
}

static void hex_of(const unsigned char *md, unsigned len, char hex[65])
{
	static const char digits[] = "0123456789abcdef";
	for (unsigned i = 0; i < len && i < 32; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[64] = 0;
}

/* Feed the file at path into ctx; a missing file is empty when missing_ok.  Adds its size to *size. */
static int digest_file(EVP_MD_CTX *ctx, const char *path, int missing_ok, int64_t *size, struct strbuf *err)
{
	char buf[65536];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (missing_ok && errno == ENOENT)
			return 0;
		strbuf_errf(err, "cannot open '%s': %s", path, strerror(errno));
		return -errno;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		EVP_DigestUpdate(ctx, buf, (size_t)n);
		if (size)
			*size += n;
	}
	if (n < 0) {
		int e = errno;
		strbuf_errf(err, "cannot read '%s': %s", path, strerror(e));
		close(fd);
		return -e;
	}
	close(fd);
	return 0;
}

int db_run_wait_orphan(const char *log_path, int64_t max_ms)
{
	struct strbuf pidf = STRBUF_INIT, buf = STRBUF_INIT, e = STRBUF_INIT;
	unsigned long long start = 0;
	int pid = 0, waited = 0;
	int64_t until = proc_mono_ms() + max_ms;

	strbuf_addf(&pidf, "%s.pid", log_path);
	if (strbuf_read_file_max(&buf, pidf.buf, 256, &e) >= 0 && sscanf(buf.buf, "%d %llu", &pid, &start) == 2 &&
	    pid > 0) {
		while (proc_same((pid_t)pid, start) && proc_mono_ms() < until) {
			waited = 1;
			proc_sleep_ms(100);
		}
		if (proc_same((pid_t)pid, start))
			waited = -1;
	}
	if (waited >= 0)
		unlink(pidf.buf);
	strbuf_release(&pidf);
	strbuf_release(&buf);
	strbuf_release(&e);
	return waited < 0 ? SW_ETIMEOUT : waited;
}

int db_sha256_file(const char *path, char hex[65], int64_t *size, struct strbuf *err)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned len = 0;
	int64_t sz = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int r;
	if (!ctx)
		abort();
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	r = digest_file(ctx, path, 0, &sz, err);
	EVP_DigestFinal_ex(ctx, md, &len);
	EVP_MD_CTX_free(ctx);
	if (r < 0)
		return r;
	hex_of(md, len, hex);
	*size = sz;
	return 0;
}

/* The changes of a plan, in order: the first word of each line that is not blank, a pragma (%), a tag (@) or a comment (#). */
static int plan_changes(const char *sqitch_dir, char ***names, size_t *n, struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT, buf = STRBUF_INIT, e = STRBUF_INIT;
	char **v = NULL;
	size_t cnt = 0, alloc = 0;
	int r;

	strbuf_addf(&path, "%s/sqitch.plan", sqitch_dir);
	if ((r = strbuf_read_file_max(&buf, path.buf, 16 << 20, &e)) < 0) {
		strbuf_errf(err, "cannot read the sqitch plan '%s': %s", path.buf, e.buf);
		goto out;
	}
	r = 0;
	for (const char *p = buf.buf; p && *p;) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		size_t w = 0;
		while (w < len && p[w] == ' ')
			w++;
		if (w < len && p[w] != '%' && p[w] != '@' && p[w] != '#' && p[w] != '\r') {
			size_t s = w;
			while (w < len && p[w] != ' ' && p[w] != '\t' && p[w] != '\r')
				w++;
			ALLOC_GROW(v, cnt + 1, alloc);
			v[cnt++] = xstrndup(p + s, w - s);
		}
		p = eol ? eol + 1 : NULL;
	}
	*names = v;
	*n = cnt;
out:
	strbuf_release(&path);
	strbuf_release(&buf);
	strbuf_release(&e);
	return r;
}

static void free_names(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

int db_plan_sha256(const char *sqitch_dir, char hex[65], struct strbuf *err)
{
	static const char *const dirs[] = { "deploy", "revert", "verify" };
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned len = 0;
	struct strbuf path = STRBUF_INIT;
	char **names = NULL;
	size_t n = 0;
	EVP_MD_CTX *ctx;
	int r;

	if ((r = plan_changes(sqitch_dir, &names, &n, err)) < 0)
		return r;
	if (!(ctx = EVP_MD_CTX_new()))
		abort();
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	strbuf_addf(&path, "%s/sqitch.plan", sqitch_dir);
	r = digest_file(ctx, path.buf, 0, NULL, err);
	for (size_t i = 0; r >= 0 && i < n; i++)
		for (size_t d = 0; r >= 0 && d < 3; d++) {
			strbuf_reset(&path);
			strbuf_addf(&path, "%s/%s/%s.sql", sqitch_dir, dirs[d], names[i]);
			EVP_DigestUpdate(ctx, path.buf + strlen(sqitch_dir), path.len - strlen(sqitch_dir) + 1);
			r = digest_file(ctx, path.buf, 1, NULL, err);
		}
	EVP_DigestFinal_ex(ctx, md, &len);
	EVP_MD_CTX_free(ctx);
	free_names(names, n);
	strbuf_release(&path);
	if (r < 0)
		return r;
	hex_of(md, len, hex);
	return 0;
}

int db_plan_find(const char *sqitch_dir, const char *change, char *prev, size_t prev_size, struct strbuf *err)
{
	char **names = NULL;
	size_t n = 0;
	int r;

	if ((r = plan_changes(sqitch_dir, &names, &n, err)) < 0)
		return r;
	r = 0;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(names[i], change)) {
			snprintf(prev, prev_size, "%s", i ? names[i - 1] : "");
			r = 1;
			break;
		}
	if (!r) {
		strbuf_errf(err, "no change '%s' in the plan '%s/sqitch.plan'; valid: ", change, sqitch_dir);
		for (size_t i = 0; i < n; i++)
			strbuf_addf(err, "%s%s", i ? ", " : "", names[i]);
		if (!n)
			strbuf_addstr(err, "(the plan has no changes)");
	}
	free_names(names, n);
	return r;
}

void db_log_tail(const char *path, size_t n, struct strbuf *out)
{
	struct strbuf buf = STRBUF_INIT, e = STRBUF_INIT;
	if (strbuf_read_file_max(&buf, path, 16 << 20, &e) >= 0 && buf.len) {
		size_t from = buf.len > n ? buf.len - n : 0;
		while (buf.len > n && from < buf.len && buf.buf[from - 1] != '\n')
			from++;
		while (buf.len && (buf.buf[buf.len - 1] == '\n'))
			buf.buf[--buf.len] = 0;
		for (size_t i = from; i < buf.len; i++)
			strbuf_addch(out, buf.buf[i] == '\n' ? ' ' : buf.buf[i] == '\t' ? ' ' : buf.buf[i]);
	}
	strbuf_release(&buf);
	strbuf_release(&e);
}

int db_sqitch(const char *sqitch_dir, const char *url, const char *verb, const char *to, const char *log_path,
	      int *status, struct strbuf *err)
{
	struct strbuf target = STRBUF_INIT;
	char *argv[8], *env[2];
	int a = 0, r;

	strbuf_addstr(&target, "SQITCH_TARGET=");
	if (database_sqitch_target(url, &target) < 0) {
		strbuf_errf(err, "the connection is not a postgresql:// URL");
		strbuf_release(&target);
		return SW_ECONFIG;
	}
	argv[a++] = (char *)"sqitch";
	argv[a++] = (char *)verb;
	if (!strcmp(verb, "revert"))
		argv[a++] = (char *)"-y";
	if (to && *to) {
		argv[a++] = (char *)"--to";
		argv[a++] = (char *)to;
	}
	argv[a] = NULL;
	env[0] = target.buf;
	env[1] = NULL;
	r = db_run(argv, env, sqitch_dir, log_path, status, err);
	memset(target.buf, 0, target.len);
	strbuf_release(&target);
	return r;
}

int db_sqitch_current(const char *sqitch_dir, const char *url, const char *log_path, char *change, size_t size,
		      struct strbuf *err)
{
	struct strbuf out = STRBUF_INIT, e = STRBUF_INIT, tmp = STRBUF_INIT;
	int status = 0, r;
	const char *p;

	strbuf_addf(&tmp, "%s.status", log_path);
	unlink(tmp.buf);
	if ((r = db_sqitch(sqitch_dir, url, "status", NULL, tmp.buf, &status, err)) < 0)
		goto out;
	if (strbuf_read_file_max(&out, tmp.buf, 1 << 20, &e) < 0) {
		strbuf_errf(err, "sqitch status: %s", e.buf);
		r = SW_EEXTERNAL;
		goto out;
	}
	{	/* keep the output with the rest of the log */
		FILE *f = fopen(log_path, "a");
		if (f) {
			fwrite(out.buf, 1, out.len, f);
			fclose(f);
		}
	}
	if ((p = strstr(out.buf, "\n# Name:")) || (p = strncmp(out.buf, "# Name:", 7) ? NULL : out.buf - 1)) {
		p += 8;
		while (*p == ' ')
			p++;
		snprintf(change, size, "%.*s", (int)strcspn(p, " \r\n"), p);
		r = 0;
	} else if (strstr(out.buf, "No changes deployed") || strstr(out.buf, "Database not initialized") ||
		   strstr(out.buf, "has not been initialized")) {
		change[0] = 0;
		r = 0;
	} else {
		strbuf_errf(err, "sqitch status (exit %d) did not say which change is deployed: ", status);
		db_log_tail(tmp.buf, 300, err);
		r = SW_EEXTERNAL;
	}
out:
	unlink(tmp.buf);
	strbuf_release(&out);
	strbuf_release(&e);
	strbuf_release(&tmp);
	return r;
}

/* SHA-1 hex of buf[0..len) (sqitch's script_hash is the SHA-1 of the deploy script's bytes). */
static void sha1_hex(const char *buf, size_t len, char hex[41])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx)
		abort();
	EVP_DigestInit_ex(ctx, EVP_sha1(), NULL);
	EVP_DigestUpdate(ctx, buf, len);
	EVP_DigestFinal_ex(ctx, md, &n);
	EVP_MD_CTX_free(ctx);
	for (unsigned i = 0; i < n && i < 20; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[40] = 0;
}

/*
 * Whether the script's bytes now are the bytes sqitch hashed, up to line
 * endings and a byte-order mark: the normalized text (no BOM, LF) and its
 * variants (with a BOM, with CRLF, both) are hashed, and any match is "not
 * an edit".  *now gets the SHA-1 of the file as it is.
 */
static int script_matches(const char *buf, size_t len, const char *want, char now[41])
{
	struct strbuf norm = STRBUF_INIT, v = STRBUF_INIT;
	char h[41];
	int match = 0;
	size_t i = 0;

	sha1_hex(buf, len, now);
	if (!strcmp(now, want))
		return 1;
	if (len >= 3 && !memcmp(buf, "\xef\xbb\xbf", 3))
		i = 3;
	for (; i < len; i++)
		if (!(buf[i] == '\r' && i + 1 < len && buf[i + 1] == '\n'))
			strbuf_addch(&norm, buf[i]);
	for (int variant = 0; variant < 4 && !match; variant++) {
		strbuf_reset(&v);
		if (variant & 1)
			strbuf_addstr(&v, "\xef\xbb\xbf");
		for (size_t j = 0; j < norm.len; j++) {
			if ((variant & 2) && norm.buf[j] == '\n')
				strbuf_addch(&v, '\r');
			strbuf_addch(&v, norm.buf[j]);
		}
		sha1_hex(v.buf, v.len, h);
		match = !strcmp(h, want);
	}
	strbuf_release(&norm);
	strbuf_release(&v);
	return match;
}

/* psql -At of sql on url into out (rows of "a b"); 0 or SW_EEXTERNAL. */
static int psql_rows(const char *url, const char *sql, const char *log_path, struct strbuf *out, struct strbuf *err)
{
	struct strbuf tmp = STRBUF_INIT, e = STRBUF_INIT;
	int status = 0, r;
	strbuf_addf(&tmp, "%s.psql", log_path);
	unlink(tmp.buf);
	{
		char *argv[] = { "psql", "-X", "-q", "-At", "--no-password", "-v", "ON_ERROR_STOP=1", "-F", " ", "-d",
				 (char *)url, "-c", (char *)sql, "-o", tmp.buf, NULL };
		r = db_run(argv, NULL, NULL, log_path, &status, err);
	}
	if (r >= 0 && status) {
		strbuf_errf(err, "psql exited %d: ", status);
		db_log_tail(log_path, 240, err);
		r = SW_EEXTERNAL;
	}
	if (r >= 0 && strbuf_read_file_max(out, tmp.buf, 16 << 20, &e) < 0) {
		strbuf_errf(err, "psql: %s", e.buf);
		r = SW_EEXTERNAL;
	}
	unlink(tmp.buf);
	strbuf_release(&tmp);
	strbuf_release(&e);
	return r;
}

int db_plan_audit(const char *sqitch_dir, const char *url, const char *env, const char *log_path,
		  struct strbuf *problems, struct strbuf *err)
{
	struct strbuf rows = STRBUF_INIT, sql = STRBUF_INIT, path = STRBUF_INIT, buf = STRBUF_INIT, e = STRBUF_INIT,
		      project = STRBUF_INIT;
	char **names = NULL;
	size_t n = 0, k = 0;
	int r;

	if ((r = plan_changes(sqitch_dir, &names, &n, err)) < 0)
		return r;
	strbuf_addf(&path, "%s/sqitch.plan", sqitch_dir);
	if ((r = strbuf_read_file_max(&buf, path.buf, 16 << 20, &e)) < 0) {
		strbuf_errf(err, "%s", e.buf);
		goto out;
	}
	{
		const char *p = strstr(buf.buf, "%project=");
		if (p) {
			p += 9;
			strbuf_add(&project, p, strcspn(p, " \r\n"));
		}
	}
	for (size_t i = 0; i < project.len; i++)
		if (!(isalnum((unsigned char)project.buf[i]) || strchr("_-.", project.buf[i]))) {
			strbuf_errf(err, "the plan's %%project '%s' is not a name slipway can look up", project.buf);
			r = SW_ECONFIG;
			goto out;
		}
	if ((r = psql_rows(url, "SELECT to_regclass('sqitch.changes') IS NOT NULL", log_path, &rows, err)) < 0)
		goto out;
	if (rows.buf[0] != 't') {
		r = 0;	/* no registry yet: nothing deployed */
		goto out;
	}
	strbuf_reset(&rows);
	strbuf_addf(&sql, "SELECT change, COALESCE(script_hash, '-') FROM sqitch.changes WHERE project = '%s' "
		    "ORDER BY committed_at, change_id", project.buf);
	if ((r = psql_rows(url, sql.buf, log_path, &rows, err)) < 0)
		goto out;
	for (char *line = rows.buf; line && *line; k++) {
		char *eol = strchr(line, '\n'), *sp;
		char now[41];
		if (eol)
			*eol = 0;
		sp = strchr(line, ' ');
		if (sp) {
			*sp = 0;
			if (k >= n || strcmp(names[k], line)) {
				int later = 0;
				for (size_t j = k; j < n; j++)
					if (!strcmp(names[j], line))
						later = 1;
				if (later)
					strbuf_addf(problems, "%schange '%s' was added to the plan before '%s', which already ran "
						    "in %s: out of order; add new changes at the end of sqitch.plan",
						    problems->len ? "; " : "", names[k], line, env);
				else
					strbuf_addf(problems, "%schange '%s' ran in %s but is not in the plan at that place",
						    problems->len ? "; " : "", line, env);
				break;
			}
			if (strcmp(sp + 1, "-")) {
				strbuf_reset(&path);
				strbuf_reset(&buf);
				strbuf_addf(&path, "%s/deploy/%s.sql", sqitch_dir, line);
				if (strbuf_read_file_max(&buf, path.buf, 64 << 20, &e) < 0)
					strbuf_addf(problems, "%sdeploy/%s.sql, which ran in %s, is missing", problems->len ? "; " : "",
						    line, env);
				else if (!script_matches(buf.buf, buf.len, sp + 1, now))
					strbuf_addf(problems, "%sdeploy/%s.sql was edited after it ran in %s: sha1 %s then, %s now "
						    "(line endings and a byte-order mark alone are not an edit); add a new change "
						    "or rework it (sqitch rework)", problems->len ? "; " : "", line, env, sp + 1, now);
			}
		}
		line = eol ? eol + 1 : NULL;
	}
	r = 0;
out:
	free_names(names, n);
	strbuf_release(&rows);
	strbuf_release(&sql);
	strbuf_release(&path);
	strbuf_release(&buf);
	strbuf_release(&e);
	strbuf_release(&project);
	return r;
}
