/*
 * fuzz_token_verify.c: customer tokens and the admin key check
 * (server/auth.h) on arbitrary credentials.
 *
 * Why: the Authorization header is the first thing the server reads from
 * a request, before anything else is checked; a credential must never
 * crash it, and only a token the server signed may act for a customer.
 *
 * Input: u8 flags, then the credential's bytes (what follows "Bearer ").
 *   flags bit0: repair the MAC. A token is "hft1.<payload>.<mac>" and the
 *   mac is an HMAC-SHA256 nobody can forge, so a mutated token would
 *   always stop at the MAC check and the payload parser behind it would
 *   never run. With bit0 the harness re-signs "hft1.<payload>" with the
 *   fixture's secret (as hf_auth_token_mint does) before verifying: the
 *   payload then reaches the parser as if the server had signed it.
 * The secret and the admin key are fixed (not hf_auth_init's random
 * secret), so every input behaves the same in every run.
 *
 * Properties:
 *   - hf_auth_is_admin is true only for the admin key itself;
 *   - when hf_auth_token_verify says yes: the customer is a valid id,
 *     NUL-terminated at the length given, the payload's expiry (decoded
 *     here independently) is after now, and a token minted for that
 *     customer and expiry verifies too.
 */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "server/auth.h"
#include "server/jsonin.h"

#define ADMIN_KEY "fuzz-admin-key"

static const char b64u[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static const struct hf_auth *fixture_auth(void)
{
	static struct hf_auth a;
	static bool ready;
	if (!ready) {
		SHA256((const unsigned char *)ADMIN_KEY, strlen(ADMIN_KEY), a.admin_sha256);
		for (size_t i = 0; i < sizeof(a.secret); i++)
			a.secret[i] = (uint8_t)(7 * i + 1);
		ready = true;
	}
	return &a;
}

/* base64url without padding, as auth.c writes it. */
static size_t b64u_encode(const uint8_t *in, size_t n, char *out)
{
	size_t o = 0;
	uint32_t acc = 0;
	int bits = 0;
	for (size_t i = 0; i < n; i++) {
		acc = acc << 8 | in[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			out[o++] = b64u[(acc >> bits) & 63];
		}
	}
	if (bits)
		out[o++] = b64u[(acc << (6 - bits)) & 63];
	return o;
}

/* Decodes base64url (no padding); -1 on a character outside the alphabet. */
static long b64u_decode(const char *in, size_t n, uint8_t *out, size_t cap)
{
	size_t o = 0;
	uint32_t acc = 0;
	int bits = 0;
	for (size_t i = 0; i < n; i++) {
		const char *p = in[i] ? memchr(b64u, in[i], 64) : NULL;
		if (!p)
			return -1;
		acc = acc << 6 | (uint32_t)(p - b64u);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o == cap)
				return -1;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	return (long)o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct hf_auth *a = fixture_auth();
	if (size == 0)
		return 0;
	bool repair = data[0] & 1;
	size_t n = size - 1;
	/* Room for a re-signed token: the signed part plus '.' and 43 chars. */
	char *tok = malloc(n + 64);
	if (!tok)
		hf_fuzz_fail("out of memory");
	if (n)
		memcpy(tok, data + 1, n);
	if (repair && n > 5 && !memcmp(tok, "hft1.", 5)) {
		const char *dot = memchr(tok + 5, '.', n - 5);
		if (dot) {
			size_t signed_len = (size_t)(dot - tok);
			uint8_t mac[32];
			unsigned int mac_len = 32;
			if (!HMAC(EVP_sha256(), a->secret, (int)sizeof(a->secret),
				  (const unsigned char *)tok, signed_len, mac, &mac_len))
				hf_fuzz_fail("HMAC failed");
			n = signed_len + 1 + b64u_encode(mac, sizeof(mac), tok + signed_len + 1);
		}
	}

	bool admin = hf_auth_is_admin(a, tok, n);
	if (admin != (n == strlen(ADMIN_KEY) && !memcmp(tok, ADMIN_KEY, n)))
		hf_fuzz_fail("hf_auth_is_admin says %d for a credential of %zu bytes", admin, n);

	char customer[HF_ID_LEN_MAX + 1 + 16];
	memset(customer, 0x5a, sizeof(customer));
	size_t cl = 12345;
	if (hf_auth_token_verify(a, tok, n, HF_FUZZ_T0, customer, &cl)) {
		if (cl < 1 || cl > HF_ID_LEN_MAX || customer[cl] != 0 || strlen(customer) != cl ||
		    !hf_jsonin_id_ok(customer, cl))
			hf_fuzz_fail("a verified token gives a bad customer (length %zu)", cl);
		/* The expiry, read independently: digits after the last '|'. */
		const char *dot = memchr(tok + 5, '.', n - 5);
		uint8_t payload[256];
		long pn = dot ? b64u_decode(tok + 5, (size_t)(dot - tok - 5), payload, sizeof(payload))
			      : -1;
		const uint8_t *bar = pn > 0 ? memchr(payload, '|', (size_t)pn) : NULL;
		if (!bar)
			hf_fuzz_fail("a verified token has no '|' in its payload");
		int64_t exp = 0;
		for (const uint8_t *p = bar + 1; p < payload + pn; p++) {
			if (*p < '0' || *p > '9' || exp > (INT64_MAX - 9) / 10)
				hf_fuzz_fail("a verified token's expiry is not a small number");
			exp = exp * 10 + (*p - '0');
		}
		if (exp <= HF_FUZZ_T0)
			hf_fuzz_fail("an expired token verified (expiry %lld)", (long long)exp);
		char again[HF_TOKEN_TEXT_MAX];
		size_t m = hf_auth_token_mint(a, customer, cl, exp, again);
		char c2[HF_ID_LEN_MAX + 1];
		size_t cl2 = 0;
		if (!hf_auth_token_verify(a, again, m, HF_FUZZ_T0, c2, &cl2) || cl2 != cl ||
		    memcmp(c2, customer, cl))
			hf_fuzz_fail("a token minted for a verified customer does not verify");
	}
	free(tok);
	return 0;
}
