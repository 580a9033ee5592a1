/*
 * err.h - the one error convention (docs/ARCHITECTURE.md; after systemd and libuv).
 *
 * Functions return int: >= 0 success, negative failure.  A failure is either
 * -errno or one of the slipway errors below (all <= -1000, so they never
 * collide with errno values).  Detail for a person goes into a
 * `struct strbuf *err` supplied by the caller.
 *
 * The third column is the process exit code a command returns for the error
 * (docs/exit-codes.md; the CLI's enum exit_code names the same numbers):
 * 1 the answer is no, 2 bad usage or invalid input (a name that does not
 * exist included), 3 could not do it.  -errno values map to 3.
 */
#ifndef SLIPWAY_BASE_ERR_H
#define SLIPWAY_BASE_ERR_H

#define SLIPWAY_ERRORS(X)                                                      \
	X(SW_EUSAGE,     -1000, 2, "bad usage")                                \
	X(SW_EPARSE,     -1001, 2, "cannot parse input")                       \
	X(SW_EPOLICY,    -1002, 2, "invalid policy")                           \
	X(SW_ENOTFOUND,  -1003, 2, "not found")                                \
	X(SW_ESTATE,     -1004, 1, "not allowed in the current state")         \
	X(SW_ESTORE,     -1005, 3, "store error")                              \
	X(SW_ETIMEOUT,   -1006, 3, "timed out")                                \
	X(SW_EDENIED,    -1007, 1, "denied by policy")                         \
	X(SW_ECONFIG,    -1008, 2, "invalid configuration")                    \
	X(SW_EEXTERNAL,  -1009, 3, "external command or service failed")       \
	X(SW_ETOOBIG,    -1010, 2, "input larger than its limit")

enum slipway_error {
#define SW_ERR_ENUM_(name, value, exit, text) name = value,
	SLIPWAY_ERRORS(SW_ERR_ENUM_)
#undef SW_ERR_ENUM_
};

/* Text for r: a slipway error, or -errno (strerror).  Never NULL; static storage. */
const char *slipway_strerror(int r);

/* The exit code for r (the table's third column): 0 for r >= 0, 3 for -errno
 * and for a value outside the table. */
int slipway_error_exit(int r);

#endif
