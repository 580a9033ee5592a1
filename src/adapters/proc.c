/*
 * proc.c - spawn, identify and stop processes; free ports; HTTP probes.
 * See proc.h.  Linux-specific (/proc).
 */
#include "adapters/proc.h"
#include "base/alloc.h"
#include "base/err.h"
#include "base/strbuf.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

int64_t proc_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t proc_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void proc_sleep_ms(int64_t ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000 };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int proc_start_time(pid_t pid, uint64_t *start)
{
	char path[64], buf[1024], *p;
	unsigned long long st = 0;
	ssize_t n;
	int fd;
	char state;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -ESRCH;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -ESRCH;
	buf[n] = '\0';
	/* comm may hold spaces and parentheses: fields restart after the last ')' */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
			  &state, &st) != 2)
		return -ESRCH;
	if (state == 'Z' || state == 'X')
		return -ESRCH;
	*start = st;
	return 0;
}

int proc_same(pid_t pid, uint64_t start_time)
{
	uint64_t st;
	if (pid <= 0)
		return 0;
	return proc_start_time(pid, &st) == 0 && st == start_time;
}

void proc_reap(void)
{
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

static void write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;	/* a full disk: the chunk is dropped, the instance is never held up */
		p += w;
		n -= (size_t)w;
	}
}

/* names[0] -> names[1] -> ... -> names[keep-1] (dropped), and a fresh names[0] as fd 1 */
static void rotate(char *const *names, int keep)
{
	int fd;
	if (keep <= 1) {	/* nothing kept but the log itself: start it again */
		int r = ftruncate(1, 0);
		(void)r;
		return;
	}
	for (int i = keep - 1; i >= 1; i--)
		rename(names[i - 1], names[i]);
	fd = open(names[0], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd >= 0) {
		dup2(fd, 1);
		close(fd);
	}
}

/*
 * The log writer (a process of its own, forked before exec, only
 * async-signal-safe calls): the instance's stdout and stderr arrive on fd 0
 * (a pipe), go to the log on fd 1.  A log never passes max bytes but by one
 * line: the whole lines that fit are written, then the log is rotated and the
 * rest goes to the fresh one, so no line is cut in two or lost.  The
 * exceptions are a single line longer than max (written whole, alone) and the
 * end of a line that an earlier read left unfinished (finished before the
 * rotation).  It ends when every writer has closed the pipe (the instance and
 * its children are gone) and everything read is written.
 */
static void log_writer(char *const *names, int keep, int64_t max)
{
	static char buf[1 << 16];
	struct stat sb;
	int64_t size = fstat(1, &sb) == 0 ? (int64_t)sb.st_size : 0;
	int midline = 0;	/* the last byte written was not a newline */
	for (;;) {
		ssize_t n = read(0, buf, sizeof(buf));
		const char *p = buf;
		size_t left;
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		left = (size_t)n;
		while (left > 0) {
			size_t room = size < max ? (size_t)(max - size) : 0, k;
			const char *nl;
			if (left <= room) {
				write_all(1, p, left);
				size += (int64_t)left;
				midline = p[left - 1] != '\n';
				break;
			}
			/* the whole lines that fit; else finish a started line, or write an overlong one alone */
			nl = room ? memrchr(p, '\n', room) : NULL;
			if (!nl && (midline || size == 0) && !(nl = memchr(p, '\n', left))) {
				write_all(1, p, left);
				size += (int64_t)left;
				midline = 1;
				break;
			}
			if (nl) {
				k = (size_t)(nl - p) + 1;
				write_all(1, p, k);
				p += k;
				left -= k;
			}
			rotate(names, keep);
			size = 0;
			midline = 0;
		}
	}
}

static void close_from(int lowfd)
{
	if (close_range((unsigned)lowfd, ~0U, 0) < 0)
		for (int fd = lowfd; fd < 4096; fd++)
			close(fd);
}

int proc_spawn(char *const argv[], char *const envp[], const char *cwd, const char *log_path, pid_t *pidp,
	       uint64_t *start_time, struct strbuf *err)
{
	return proc_spawn_rotated(argv, envp, cwd, log_path, NULL, pidp, start_time, err);
}

int proc_spawn_rotated(char *const argv[], char *const envp[], const char *cwd, const char *log_path,
		       const struct proc_log_rotation *rot, pid_t *pidp, uint64_t *start_time, struct strbuf *err)
{
	int pfd[2], lp[2] = { -1, -1 }, dn[2] = { -1, -1 }, logfd, e = 0, keep = 0;
	pid_t pid;
	ssize_t n;
	_cleanup_free_ char **merged = NULL;
	char **names = NULL;
	size_t nm = 0, ne = 0;

	/* the environment is built before fork: the child may only call async-signal-safe functions */
	while (environ[ne])
		ne++;
	merged = xcalloc(ne + 1 + (envp ? 64 : 0) + 1, sizeof(char *));
	for (size_t i = 0; envp && envp[i]; i++)
		if (i < 64)
			merged[nm++] = envp[i];
	for (size_t i = 0; i < ne; i++) {
		const char *eq = strchr(environ[i], '=');
		size_t kl = eq ? (size_t)(eq - environ[i]) : strlen(environ[i]);
		int over = 0;
		for (size_t j = 0; envp && envp[j] && j < 64; j++)
			if (!strncmp(envp[j], environ[i], kl) && envp[j][kl] == '=')
				over = 1;
		if (!over)
			merged[nm++] = environ[i];
	}
	merged[nm] = NULL;
	if (rot && rot->max_bytes > 0) {
		/* the rotated files' names, before fork too: LOG, LOG.1, ... LOG.(keep-1) */
		keep = rot->keep > 0 ? rot->keep : 1;
		names = xcalloc((size_t)keep + 1, sizeof(*names));
		names[0] = xstrdup(log_path);
		for (int i = 1; i < keep; i++) {
			struct strbuf sb = STRBUF_INIT;
			strbuf_addf(&sb, "%s.%d", log_path, i);
			names[i] = strbuf_detach(&sb, NULL);
		}
	}

	logfd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (logfd < 0) {
		e = -errno;
		strbuf_errf(err, "cannot open log file '%s': %s", log_path, strerror(errno));
		goto out;
	}
	if (pipe2(pfd, O_CLOEXEC) < 0 || (names && (pipe2(lp, O_CLOEXEC) < 0 || pipe2(dn, O_CLOEXEC) < 0))) {
		e = -errno;
		close(logfd);
		strbuf_errf(err, "pipe: %s", strerror(errno));
		goto out;
	}
	if (names)	/* room for bursts: the instance never waits for the disk (best effort) */
		fcntl(lp[1], F_SETPIPE_SZ, 1 << 20);
	pid = fork();
	if (pid < 0) {
		e = -errno;
		close(logfd);
		close(pfd[0]);
		close(pfd[1]);
		strbuf_errf(err, "fork: %s", strerror(errno));
		goto out;
	}
	if (pid == 0) {
		int devnull, step = 0, out = logfd;
		sigset_t none;
		/* only async-signal-safe calls from here to exec */
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		if (setsid() < 0)
			goto fail;
		step = 2;
		if (names) {
			/* the log writer, orphaned at once (a double fork) and in a process group of
			 * its own, so stopping the instance's group leaves it to write what is left */
			pid_t mid = fork(), w;
			if (mid < 0)
				goto fail;
			if (mid == 0) {
				if (fork() != 0)
					_exit(0);
				setpgid(0, 0);
				signal(SIGTERM, SIG_IGN);
				signal(SIGINT, SIG_IGN);
				signal(SIGHUP, SIG_IGN);
				signal(SIGPIPE, SIG_IGN);
				if (dup2(lp[0], 0) < 0 || dup2(logfd, 1) < 0 || dup2(dn[1], 2) < 0)
					_exit(1);
				close_from(3);
				log_writer(names, keep, rot->max_bytes);
				_exit(0);
			}
			while ((w = waitpid(mid, NULL, 0)) < 0 && errno == EINTR)
				;
			out = lp[1];
		}
		step = 1;
		if (cwd && chdir(cwd) < 0)
			goto fail;
		step = 2;
		devnull = open("/dev/null", O_RDONLY);
		if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
			goto fail;
		step = 3;
		execvpe(argv[0], argv, merged);
	fail:
		{
			int msg[2] = { step, errno };
			ssize_t w = write(pfd[1], msg, sizeof(msg));
			(void)w;
		}
		_exit(127);
	}
	close(logfd);
	close(pfd[1]);
	if (names) {
		close(lp[0]);
		close(lp[1]);
		close(dn[1]);
		lp[0] = lp[1] = dn[1] = -1;
	}
	{
		int msg[2];
		do
			n = read(pfd[0], msg, sizeof(msg));
		while (n < 0 && errno == EINTR);
		close(pfd[0]);
		if (n == (ssize_t)sizeof(msg)) {
			static const char *const what[] = { "new session", "working directory", "log file", "exec" };
			waitpid(pid, NULL, 0);
			strbuf_errf(err, "cannot start '%s' (%s%s%s): %s", argv[0], what[msg[0] & 3],
				    msg[0] == 1 ? " " : "", msg[0] == 1 ? cwd : "", strerror(msg[1]));
			e = -msg[1];
			goto out;
		}
	}
	if (proc_start_time(pid, start_time) < 0) {
		/* it exited already; its log says why, once the log writer has written it all
		 * (it holds dn[1] until it ends) */
		waitpid(pid, NULL, 0);
		if (dn[0] >= 0) {
			struct pollfd pf = { .fd = dn[0], .events = POLLIN };
			while (poll(&pf, 1, 2000) < 0 && errno == EINTR)
				;
		}
		strbuf_errf(err, "'%s' exited at once; see '%s'", argv[0], log_path);
		e = SW_EEXTERNAL;
		goto out;
	}
	*pidp = pid;
out:
	if (dn[0] >= 0)
		close(dn[0]);
	if (lp[0] >= 0)
		close(lp[0]);
	if (lp[1] >= 0)
		close(lp[1]);
	if (dn[1] >= 0)
		close(dn[1]);
	for (int i = 0; names && i < keep; i++)
		free(names[i]);
	free(names);
	return e;
}

static int gone(pid_t pid, uint64_t start_time)
{
	int status;
	/* our child: reap it, or it stays a zombie */
	if (waitpid(pid, &status, WNOHANG) == pid)
		return 1;
	return !proc_same(pid, start_time);
}

static int wait_gone(pid_t pid, uint64_t start_time, int64_t ms)
{
	int64_t until = proc_mono_ms() + ms;
	int64_t step = 5;
	for (;;) {
		if (gone(pid, start_time))
			return 1;
		if (proc_mono_ms() >= until)
			return 0;
		proc_sleep_ms(step);
		if (step < 50)
			step *= 2;
	}
}

int proc_stop(pid_t pid, uint64_t start_time, int64_t grace_ms, int *killed, struct strbuf *err)
{
	*killed = 0;
	if (gone(pid, start_time))
		return 0;
	kill(-pid, SIGTERM);
	kill(pid, SIGTERM);
	if (wait_gone(pid, start_time, grace_ms))
		return 0;
	*killed = 1;
	kill(-pid, SIGKILL);
	kill(pid, SIGKILL);
	if (wait_gone(pid, start_time, 2000))
		return 0;
	strbuf_errf(err, "process %d did not exit after SIGKILL", (int)pid);
	return SW_ETIMEOUT;
}

int proc_free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port;
	if (fd < 0)
		return -errno;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

int proc_port_bindable(const char *host, int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	int fd, one = 1, e = 0;
	if (!host || !*host || !strcmp(host, "*") || !strcmp(host, "0.0.0.0"))
		a.sin_addr.s_addr = htonl(INADDR_ANY);
	else if (!strcmp(host, "localhost"))
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	else if (inet_pton(AF_INET, host, &a.sin_addr) != 1)
		return 0;	/* not IPv4: HAProxy will say */
	a.sin_port = htons((uint16_t)port);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		e = -errno;
	close(fd);
	return e;
}

struct body_ctx {
	struct strbuf *sb;
};

static size_t body_cb(char *p, size_t sz, size_t n, void *ud)
{
	struct body_ctx *b = ud;
	size_t len = sz * n;
	if (b->sb && b->sb->len < 65536)
		strbuf_add(b->sb, p, len < 65536 - b->sb->len ? len : 65536 - b->sb->len);
	return len;
}

int http_request(const char *method, const char *url, int64_t timeout_ms, int *status, struct strbuf *body,
		 struct strbuf *err)
{
	CURL *c = curl_easy_init();
	struct body_ctx b = { body };
	CURLcode rc;
	long code = 0;
	if (!c) {
		strbuf_errf(err, "cannot initialise libcurl");
		return SW_EEXTERNAL;
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (!strcmp(method, "HEAD"))
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, body_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(c);
	*status = (int)code;
	if (rc != CURLE_OK) {
		strbuf_errf(err, "%s %s: %s", method, url, curl_easy_strerror(rc));
		return SW_EEXTERNAL;
	}
	return 0;
}

int mkdir_p(const char *dir, struct strbuf *err)
{
	struct strbuf sb = STRBUF_INIT;
	int r = 0;
	strbuf_addstr(&sb, dir);
	for (size_t i = 1; i <= sb.len; i++) {
		if (sb.buf[i] != '/' && sb.buf[i] != '\0')
			continue;
		char c = sb.buf[i];
		sb.buf[i] = '\0';
		if (mkdir(sb.buf, 0700) < 0 && errno != EEXIST) {
			r = -errno;
			strbuf_errf(err, "cannot create directory '%s': %s", sb.buf, strerror(errno));
			break;
		}
		sb.buf[i] = c;
	}
	strbuf_release(&sb);
	return r;
}
