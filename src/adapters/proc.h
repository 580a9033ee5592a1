/*
 * proc.h - processes, ports and HTTP probes on this machine: what the local
 * target and the HAProxy router share (docs/services.md, docs/haproxy.md).
 *
 * A process slipway starts runs in its own process group (setpgid), so a
 * stop signals the program and everything it forked, and a Ctrl-C aimed at
 * slipway's terminal does not reach it.  A process is identified by its pid
 * plus its start time (field 22 of /proc/PID/stat, clock ticks since boot):
 * a pid alone may have been reused after a reboot or a long time.
 */
#ifndef SLIPWAY_ADAPTERS_PROC_H
#define SLIPWAY_ADAPTERS_PROC_H

#include <stdint.h>
#include <sys/types.h>

struct strbuf;

/* Wall clock, ms since the epoch, UTC; and a monotonic clock in ms. */
int64_t proc_now_ms(void);
int64_t proc_mono_ms(void);
/* Sleep ms milliseconds (restarting after signals). */
void proc_sleep_ms(int64_t ms);

/*
 * Start time of pid (ticks since boot, /proc/PID/stat field 22).  Returns 0,
 * or -ESRCH when there is no such process or it is a zombie.
 */
int proc_start_time(pid_t pid, uint64_t *start);
/* 1 if pid runs and started at start_time (the same process), else 0. */
int proc_same(pid_t pid, uint64_t start_time);

/*
 * Fork and exec argv[0] (PATH searched when it has no '/') with envp added
 * to slipway's environment, in directory cwd, stdin from /dev/null, stdout
 * and stderr appended to log_path (created 0644), in a new process group
 * (and a new session, so it outlives slipway's terminal).  Returns 0 with
 * *pid and *start_time, or -errno with the failing step in err.  An exec
 * failure is reported through a close-on-exec pipe, so "no such program"
 * is an error here rather than a silent exit 127.
 */
int proc_spawn(char *const argv[], char *const envp[], const char *cwd, const char *log_path, pid_t *pid,
	       uint64_t *start_time, struct strbuf *err);

/* How an instance's log is rotated (a service file's `logs:`, docs/services.md). */
struct proc_log_rotation {
	int64_t max_bytes;	/* rotate when the log would pass this many bytes; 0: never */
	int keep;		/* files kept, the log itself included: LOG, LOG.1 ... LOG.(keep-1) */
};

/*
 * proc_spawn(), with stdout and stderr going through a pipe to a log
 * writer process (when rot->max_bytes > 0) that appends to log_path and
 * rotates it (log_path -> log_path.1 -> ... ; the oldest is dropped) at the
 * end of a whole line once it would pass rot->max_bytes, so a chatty
 * instance fills at most about max_bytes x keep.  The writer is not the
 * instance's child nor in its process group: stopping the instance leaves
 * it to write what is still in the pipe, and it ends when the pipe's last
 * writer is gone.  The pipe holds up to 1 MB, so the instance never waits
 * for the disk unless the writer falls that far behind; a write the disk
 * refuses (full) is dropped, never retried against the instance.  The log
 * writer ignoring SIGTERM, only SIGKILL ends it early.  rot NULL: as
 * proc_spawn().  Errors as proc_spawn().
 */
int proc_spawn_rotated(char *const argv[], char *const envp[], const char *cwd, const char *log_path,
		       const struct proc_log_rotation *rot, pid_t *pid, uint64_t *start_time, struct strbuf *err);

/*
 * Stop the process group of pid (pid must be the leader, as proc_spawn makes
 * it): SIGTERM, wait up to grace_ms, then SIGKILL and wait up to 2 s.
 * Reaps it if it is our child.  Returns 0 (stopped or already gone; *killed
 * set to 1 when SIGKILL was needed), or SW_ETIMEOUT.
 */
int proc_stop(pid_t pid, uint64_t start_time, int64_t grace_ms, int *killed, struct strbuf *err);

/* Reap any exited children without blocking (zombies otherwise look alive). */
void proc_reap(void);

/*
 * A free TCP port on 127.0.0.1, chosen by the kernel (bind port 0).  The
 * port is free when returned; another process could take it before use, so
 * callers check readiness.  Returns the port (> 0) or -errno.
 */
int proc_free_port(void);

/*
 * HTTP request to url with a timeout; *status gets the status code (0 when
 * no response).  body may be NULL; at most 64 KiB of it is kept.  Returns 0
 * when a response arrived, SW_EEXTERNAL otherwise (message in err).
 */
int http_request(const char *method, const char *url, int64_t timeout_ms, int *status, struct strbuf *body,
		 struct strbuf *err);

/*
 * Can a TCP listener bind host:port (IPv4 dotted quad or "localhost" /
 * "*" / "")?  Binds and closes at once (SO_REUSEADDR, as HAProxy binds).
 * Returns 0, -EADDRINUSE when another process listens there, or -errno.
 */
int proc_port_bindable(const char *host, int port);

/* Create dir and its parents with mode 0700 (like mkdir -p).  0 or -errno. */
int mkdir_p(const char *dir, struct strbuf *err);

#endif
