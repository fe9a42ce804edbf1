/*
 * test_auth.c: admin key comparison, token mint/verify, tampering, expiry,
 * the secret kept in the data directory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/auth.h"

static char dir[] = "/tmp/hf-test-auth-XXXXXX";

static void test_admin_and_tokens(void **state)
{
	(void)state;
	struct hf_auth a, b;
	char err[256];
	assert_int_equal(hf_auth_init(&a, "k", 0, dir, err, sizeof(err)), -1);
	assert_int_equal(hf_auth_init(&a, "secret-admin-key", 16, dir, err, sizeof(err)), 0);
	assert_true(hf_auth_is_admin(&a, "secret-admin-key", 16));
	assert_false(hf_auth_is_admin(&a, "secret-admin-kez", 16));
	assert_false(hf_auth_is_admin(&a, "secret-admin-key ", 17));
	assert_false(hf_auth_is_admin(&a, "", 0));

	char tok[HF_TOKEN_TEXT_MAX], cust[HF_ID_LEN_MAX + 1];
	size_t cl = 0;
	size_t n = hf_auth_token_mint(&a, "alice", 5, 10000, tok);
	assert_int_equal(strlen(tok), n);
	assert_true(hf_auth_token_verify(&a, tok, n, 9999, cust, &cl));
	assert_string_equal(cust, "alice");
	assert_int_equal(cl, 5);
	assert_false(hf_auth_token_verify(&a, tok, n, 10000, cust, &cl)); /* expired */
	/* every single-character change is refused */
	for (size_t i = 0; i < n; i++) {
		char t2[HF_TOKEN_TEXT_MAX];
		memcpy(t2, tok, n + 1);
		t2[i] = t2[i] == 'A' ? 'B' : 'A';
		assert_false(hf_auth_token_verify(&a, t2, n, 0, cust, &cl));
	}
	assert_false(hf_auth_token_verify(&a, tok, n - 1, 0, cust, &cl));
	assert_false(hf_auth_token_verify(&a, "hft1.", 5, 0, cust, &cl));
	assert_false(hf_auth_token_verify(&a, "secret-admin-key", 16, 0, cust, &cl));
	/* the secret is kept: a second init verifies the first's tokens */
	assert_int_equal(hf_auth_init(&b, "another-admin-key", 17, dir, err, sizeof(err)), 0);
	assert_true(hf_auth_token_verify(&b, tok, n, 0, cust, &cl));
	/* ids with every allowed character */
	n = hf_auth_token_mint(&a, "a.b_c:d-E9", 10, 5, tok);
	assert_true(hf_auth_token_verify(&a, tok, n, 0, cust, &cl));
	assert_string_equal(cust, "a.b_c:d-E9");
	/* a secret of the wrong size is refused */
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, HF_TOKEN_SECRET_FILE);
	FILE *f = fopen(path, "ab");
	fputc('x', f);
	fclose(f);
	assert_int_equal(hf_auth_init(&b, "another-admin-key", 17, dir, err, sizeof(err)), -1);
	unlink(path);
}

int main(void)
{
	if (!mkdtemp(dir))
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_admin_and_tokens),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	rmdir(dir);
	return rc;
}
