/*
 * auth.h: who is asking. Two kinds of credential travel as
 * "Authorization: Bearer <credential>":
 *
 *   the admin key: compared in constant time (SHA-256 of both sides, then
 *     CRYPTO_memcmp, so neither the content nor the length leaks through
 *     timing);
 *   a customer token: "hft1.<payload>.<mac>", payload = base64url of
 *     "<customer>|<expires_at_ms>", mac = base64url of
 *     HMAC-SHA256(secret, "hft1.<payload>"). The customer id cannot
 *     contain '|', so the payload splits one way only. The secret is 32
 *     random bytes in <data dir>/token.secret, made on first start (0600)
 *     and kept, so tokens survive restarts; deleting the file revokes every
 *     token. All cryptography is OpenSSL's libcrypto.
 *
 * A token is valid when its mac verifies, it parses, its customer is a
 * valid id and now < expires_at. Invalid and expired tokens are both 401.
 */
#ifndef HF_SERVER_AUTH_H
#define HF_SERVER_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/limits.h"

#define HF_TOKEN_SECRET_FILE "token.secret"
#define HF_TOKEN_TEXT_MAX 256

struct hf_auth {
	uint8_t admin_sha256[32];
	uint8_t secret[32];
};

/* Keeps a digest of the admin key (key_len >= 1) and loads the token secret
 * from data_dir, making it when absent; data_dir NULL: the secret is left
 * zero for the caller to copy in (an engine that keeps it, engine.h).
 * -1 with a message in err. */
int hf_auth_init(struct hf_auth *a /* out */, const char *admin_key, size_t key_len,
		 const char *data_dir, char *err, size_t err_cap);

bool hf_auth_is_admin(const struct hf_auth *a, const char *cred, size_t n);

/* a[0..n) == b[0..n) in time independent of the bytes (credentials). */
bool hf_auth_equal(const void *a, const void *b, size_t n);
/* Overwrites a secret (a remembered credential) before its memory goes. */
void hf_auth_wipe(void *p, size_t n);

/* Writes a NUL-terminated token for customer (a valid id) into out
 * (HF_TOKEN_TEXT_MAX bytes). Returns its length. */
size_t hf_auth_token_mint(const struct hf_auth *a, const char *customer, size_t customer_len,
			  int64_t expires_at_ms, char *out /* out */);

/* What a verified token says. */
struct hf_token_claims {
	char customer[HF_ID_LEN_MAX + 1]; /* NUL-terminated */
	size_t customer_len;
	int64_t expires_at_ms;
};

/* Verifies a token at now_ms. true: claims are filled. */
bool hf_auth_token_check(const struct hf_auth *a, const char *tok, size_t n, int64_t now_ms,
			 struct hf_token_claims *claims /* out */);

/* hf_auth_token_check for callers that need only the customer (HF_ID_LEN_MAX
 * + 1 bytes, NUL-terminated) and its length. */
bool hf_auth_token_verify(const struct hf_auth *a, const char *tok, size_t n, int64_t now_ms,
			  char *customer /* out */, size_t *customer_len /* out */);

#endif
