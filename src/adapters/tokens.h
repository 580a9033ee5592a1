/*
 * tokens.h - the HTTP API's bearer tokens in the store (module "tokens";
 * docs/api.md "Tokens").
 *
 * A token is "swt_" and 64 lowercase hex digits (32 random bytes from
 * OpenSSL's RAND_bytes()).  It is shown once, when created; the store keeps
 * only its SHA-256 (hex) and its first 12 characters, to name it in lists.
 * Table api_tokens(id, user, role, hash, prefix, created_ms, created_by,
 * revoked_ms, revoked_by):
 *   user   the identity the API records for calls made with it
 *   role   NULL: the token acts with every role the policy's roles: map
 *          gives user; a role name: with that role only (when user holds it)
 * Creating and revoking are audit entries ("token.created",
 * "token.revoked", subject "token:ID"), committed with the change.
 */
#ifndef SLIPWAY_ADAPTERS_TOKENS_H
#define SLIPWAY_ADAPTERS_TOKENS_H

#include <stddef.h>
#include <stdint.h>

struct store;
struct strbuf;

#define TOKEN_PREFIX "swt_"
#define TOKEN_CHARS (4 + 64)		/* the token's length */
#define TOKEN_SHOWN_CHARS 12		/* what lists show of it */

struct api_token {
	int64_t id;
	char *user, *role;		/* owned; role may be NULL */
	char prefix[TOKEN_SHOWN_CHARS + 1];
	int64_t created_ms, revoked_ms;	/* revoked_ms 0: in force */
	char *created_by, *revoked_by;	/* owned; revoked_by NULL while in force */
};

/* Create or upgrade the module's table (and the audit's).  0 or SW_ESTORE. */
int tokens_migrate(struct store *st, struct strbuf *err);

/*
 * Make a token for user (role NULL: every role the policy gives user),
 * created by `by` at now_ms; writes its text into out (TOKEN_CHARS + 1
 * bytes) and returns its id (> 0), or SW_ESTORE / SW_EEXTERNAL (no random
 * bytes) with err.  The text is never stored.
 */
int64_t token_create(struct store *st, const char *user, const char *role, const char *by, int64_t now_ms,
		     char out[TOKEN_CHARS + 1], struct strbuf *err);

/* Every token, oldest first (revoked ones too).  0 or SW_ESTORE.  Free with api_tokens_free(). */
int token_list(struct store *st, struct api_token **out, size_t *n, struct strbuf *err);
void api_tokens_free(struct api_token *v, size_t n);
void api_token_release(struct api_token *t);

/* Revoke token id.  0, SW_ENOTFOUND (no such token), SW_ESTATE (revoked already) or SW_ESTORE. */
int token_revoke(struct store *st, int64_t id, const char *by, int64_t now_ms, struct strbuf *err);

/*
 * The token whose text is `text` (its SHA-256 looked up): 0 with *out
 * filled (release with api_token_release()), SW_EDENIED when no token in
 * force has that text (unknown or revoked: err says which), or SW_ESTORE.
 */
int token_lookup(struct store *st, const char *text, struct api_token *out, struct strbuf *err);

#endif
