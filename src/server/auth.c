/*
 * auth.c: see auth.h. base64url without padding (RFC 4648 section 5);
 * decoding is strict (no padding, no other alphabet, no stray bits).
 */
#include "server/auth.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/assert.h"
#include "server/jsonin.h"

static const char b64u[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static size_t b64u_encode(const uint8_t *in, size_t n, char *out)
{
	size_t o = 0, i = 0;
	for (; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = b64u[v >> 18];
		out[o++] = b64u[(v >> 12) & 63];
		out[o++] = b64u[(v >> 6) & 63];
		out[o++] = b64u[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)in[i] << 16;
		out[o++] = b64u[v >> 18];
		out[o++] = b64u[(v >> 12) & 63];
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[o++] = b64u[v >> 18];
		out[o++] = b64u[(v >> 12) & 63];
		out[o++] = b64u[(v >> 6) & 63];
	}
	return o;
}

static int b64u_val(char c)
{
	const char *p = c ? strchr(b64u, c) : NULL;
	return p ? (int)(p - b64u) : -1;
}

/* Returns bytes decoded, or -1 (bad char, bad length, stray bits, > cap). */
static long b64u_decode(const char *in, size_t n, uint8_t *out, size_t cap)
{
	if (n % 4 == 1)
		return -1;
	size_t o = 0;
	uint32_t acc = 0;
	int bits = 0;
	for (size_t i = 0; i < n; i++) {
		int v = b64u_val(in[i]);
		if (v < 0)
			return -1;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o == cap)
				return -1;
			out[o++] = (uint8_t)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	if (acc != 0)
		return -1;
	return (long)o;
}

static int load_secret(struct hf_auth *a, const char *data_dir, char *err, size_t err_cap)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", data_dir, HF_TOKEN_SECRET_FILE);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		uint8_t buf[sizeof(a->secret) + 1];
		ssize_t n = read(fd, buf, sizeof(buf));
		close(fd);
		if (n != (ssize_t)sizeof(a->secret)) {
			snprintf(err, err_cap, "%s: expected %zu bytes", path, sizeof(a->secret));
			return -1;
		}
		memcpy(a->secret, buf, sizeof(a->secret));
		return 0;
	}
	if (errno != ENOENT) {
		snprintf(err, err_cap, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (RAND_bytes(a->secret, sizeof(a->secret)) != 1) {
		snprintf(err, err_cap, "RAND_bytes failed");
		return -1;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, err_cap, "%s: %s", path, strerror(errno));
		return -1;
	}
	bool ok = write(fd, a->secret, sizeof(a->secret)) == (ssize_t)sizeof(a->secret) &&
		  fsync(fd) == 0;
	close(fd);
	if (!ok) {
		unlink(path);
		snprintf(err, err_cap, "%s: cannot write: %s", path, strerror(errno));
		return -1;
	}
	int dfd = open(data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
}

int hf_auth_init(struct hf_auth *a, const char *admin_key, size_t key_len, const char *data_dir,
		 char *err, size_t err_cap)
{
	memset(a, 0, sizeof(*a));
	if (key_len == 0) {
		snprintf(err, err_cap, "the admin key is empty");
		return -1;
	}
	SHA256((const unsigned char *)admin_key, key_len, a->admin_sha256);
	if (!data_dir)
		return 0; /* the engine keeps the secret; the caller copies it in */
	return load_secret(a, data_dir, err, err_cap);
}

bool hf_auth_is_admin(const struct hf_auth *a, const char *cred, size_t n)
{
	uint8_t d[32];
	SHA256((const unsigned char *)cred, n, d);
	return CRYPTO_memcmp(d, a->admin_sha256, sizeof(d)) == 0;
}

bool hf_auth_equal(const void *a, const void *b, size_t n) { return CRYPTO_memcmp(a, b, n) == 0; }

void hf_auth_wipe(void *p, size_t n) { OPENSSL_cleanse(p, n); }

static void mac_of(const struct hf_auth *a, const char *msg, size_t n, uint8_t mac[32])
{
	unsigned int len = 32;
	uint8_t *r = HMAC(EVP_sha256(), a->secret, (int)sizeof(a->secret),
			  (const unsigned char *)msg, n, mac, &len);
	HF_ASSERT(r && len == 32);
}

size_t hf_auth_token_mint(const struct hf_auth *a, const char *customer, size_t customer_len,
			  int64_t expires_at_ms, char *out)
{
	HF_ASSERT(hf_jsonin_id_ok(customer, customer_len) && expires_at_ms >= 0);
	char payload[HF_ID_LEN_MAX + 32];
	int pn = snprintf(payload, sizeof(payload), "%.*s|%lld", (int)customer_len, customer,
			  (long long)expires_at_ms);
	HF_ASSERT(pn > 0 && (size_t)pn < sizeof(payload));
	size_t o = 0;
	memcpy(out, "hft1.", 5);
	o = 5;
	o += b64u_encode((const uint8_t *)payload, (size_t)pn, out + o);
	uint8_t mac[32];
	mac_of(a, out, o, mac);
	out[o++] = '.';
	o += b64u_encode(mac, sizeof(mac), out + o);
	HF_ASSERT(o < HF_TOKEN_TEXT_MAX);
	out[o] = 0;
	return o;
}

bool hf_auth_token_check(const struct hf_auth *a, const char *tok, size_t n, int64_t now_ms,
			 struct hf_token_claims *claims)
{
	if (n < 6 || n >= HF_TOKEN_TEXT_MAX || memcmp(tok, "hft1.", 5))
		return false;
	const char *dot = memchr(tok + 5, '.', n - 5);
	if (!dot)
		return false;
	size_t signed_len = (size_t)(dot - tok);
	uint8_t mac[33], want[32];
	if (b64u_decode(dot + 1, n - signed_len - 1, mac, sizeof(mac)) != 32)
		return false;
	mac_of(a, tok, signed_len, want);
	if (CRYPTO_memcmp(mac, want, sizeof(want)) != 0)
		return false;
	/* Authentic from here on: the payload is one we wrote. */
	uint8_t payload[HF_ID_LEN_MAX + 32];
	long pn = b64u_decode(tok + 5, signed_len - 5, payload, sizeof(payload) - 1);
	if (pn < 0)
		return false;
	const uint8_t *bar = memchr(payload, '|', (size_t)pn);
	if (!bar)
		return false;
	size_t cl = (size_t)(bar - payload);
	if (!hf_jsonin_id_ok((const char *)payload, cl))
		return false;
	int64_t exp = 0;
	size_t digits = (size_t)pn - cl - 1;
	if (digits == 0 || digits > 18)
		return false;
	for (size_t i = cl + 1; i < (size_t)pn; i++) {
		if (payload[i] < '0' || payload[i] > '9')
			return false;
		exp = exp * 10 + (payload[i] - '0');
	}
	if (now_ms >= exp)
		return false;
	memcpy(claims->customer, payload, cl);
	claims->customer[cl] = 0;
	claims->customer_len = cl;
	claims->expires_at_ms = exp;
	return true;
}

bool hf_auth_token_verify(const struct hf_auth *a, const char *tok, size_t n, int64_t now_ms,
			  char *customer, size_t *customer_len)
{
	struct hf_token_claims c;
	if (!hf_auth_token_check(a, tok, n, now_ms, &c))
		return false;
	memcpy(customer, c.customer, c.customer_len + 1);
	*customer_len = c.customer_len;
	return true;
}
