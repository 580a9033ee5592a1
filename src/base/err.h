/*
 * err.h - the one error convention (docs/ARCHITECTURE.md; after systemd and libuv).
 *
 * Functions return int: >= 0 success, negative failure.  A failure is either
 * -errno or one of the slipway errors below (all <= -1000, so they never
 * collide with errno values).  Detail for a person goes into a
 * `struct strbuf *err` supplied by the caller.
 */
#ifndef SLIPWAY_BASE_ERR_H
#define SLIPWAY_BASE_ERR_H

#define SLIPWAY_ERRORS(X)                                                   \
	X(SW_EUSAGE,     -1000, "bad usage")                                \
	X(SW_EPARSE,     -1001, "cannot parse input")                       \
	X(SW_EPOLICY,    -1002, "invalid policy")                           \
	X(SW_ENOTFOUND,  -1003, "not found")                                \
	X(SW_ESTATE,     -1004, "not allowed in the current state")         \
	X(SW_ESTORE,     -1005, "store error")                              \
	X(SW_ETIMEOUT,   -1006, "timed out")                                \
	X(SW_EDENIED,    -1007, "denied by policy")                         \
	X(SW_ECONFIG,    -1008, "invalid configuration")                    \
	X(SW_EEXTERNAL,  -1009, "external command or service failed")       \
	X(SW_ETOOBIG,    -1010, "input larger than its limit")

enum slipway_error {
#define SW_ERR_ENUM_(name, value, text) name = value,
	SLIPWAY_ERRORS(SW_ERR_ENUM_)
#undef SW_ERR_ENUM_
};

/* Text for r: a slipway error, or -errno (strerror).  Never NULL; static storage. */
const char *slipway_strerror(int r);

#endif
