/*
 * limits.h - the sizes of identity fields, shared by the parsers that accept
 * them and the structs that hold them, so that what a parser accepts always
 * fits (fixed arrays are sized NAME_MAX + 1 and filled with xsnprintf(),
 * base/fmt.h, which fails loudly instead of cutting a name).
 */
#ifndef SLIPWAY_BASE_LIMITS_H
#define SLIPWAY_BASE_LIMITS_H

/* Bytes in a service, environment or version name ([A-Za-z0-9._-], 1..64;
 * core/service.h service_name_valid()), and in a deployment type or change
 * class name (policy names, at most 63: core/policy.h POLICY_NAME_MAX). */
#define SW_NAME_MAX 64
/* Bytes in a person's name: a requester, an approver ($SLIPWAY_USER or the
 * OS user; checked by the CLI's identity rule). */
#define SW_USER_MAX 64

#endif
