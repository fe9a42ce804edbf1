/*
 * test_arena.c: the per-request arena. Allocations are aligned and zeroed
 * where asked; a reset keeps one chunk; and chunks are not inherited by a
 * fork()ed child, so a snapshot child never makes the parent copy a
 * parked request's pages on write.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "server/arena.h"

static void test_alloc_and_reset(void **state)
{
	(void)state;
	struct hf_arena a = {0};
	uint8_t *p = hf_arena_alloc(&a, 100);
	assert_non_null(p);
	assert_int_equal((uintptr_t)p % 16, 0);
	for (int i = 0; i < 100; i++)
		assert_int_equal(p[i], 0);
	memset(p, 0xab, 100);
	/* Past the first chunk: a second, larger one. */
	uint8_t *big = hf_arena_alloc_raw(&a, 200000);
	assert_non_null(big);
	memset(big, 1, 200000);
	assert_int_equal(a.total, 112 + 200000);
	hf_arena_reset(&a);
	assert_int_equal(a.total, 0);
	uint8_t *q = hf_arena_alloc(&a, 64);
	assert_non_null(q);
	assert_int_equal(q[0], 0);
	char *s = hf_arena_strndup(&a, "holdfast!", 8);
	assert_string_equal(s, "holdfast");
	hf_arena_free(&a);
	assert_null(a.head);
}

/* Whether the page of p is mapped in this process. */
static int mapped(const void *p)
{
	unsigned char vec;
	uintptr_t page = (uintptr_t)p & ~(uintptr_t)4095;
	return mincore((void *)page, 4096, &vec) == 0 ? 1 : (errno == ENOMEM ? 0 : -1);
}

static void test_chunks_not_inherited_by_fork(void **state)
{
	(void)state;
	struct hf_arena a = {0};
	uint8_t *small = hf_arena_alloc(&a, 64);
	uint8_t *big = hf_arena_alloc(&a, 300000);
	assert_non_null(small);
	assert_non_null(big);
	assert_int_equal(mapped(small), 1);
	assert_int_equal(mapped(big + 299999), 1);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(mapped(small) == 0 && mapped(big) == 0 && mapped(big + 299999) == 0 ? 0 : 1);
	int st = 0;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	hf_arena_free(&a);
}

/* A released arena holds no chunk; the next arena on this thread takes
 * the released chunk back instead of allocating one. */
static void test_release_lends_the_chunk_to_the_thread(void **state)
{
	(void)state;
	struct hf_arena a = {0}, b = {0};
	void *p = hf_arena_alloc(&a, 100);
	assert_non_null(p);
	hf_arena_release(&a);
	assert_null(a.head);
	void *q = hf_arena_alloc(&b, 100);
	assert_ptr_equal(p, q);
	/* a request bigger than the pooled chunk gets one of its own */
	hf_arena_release(&b);
	struct hf_arena c = {0};
	uint8_t *big = hf_arena_alloc_raw(&c, 100000);
	assert_non_null(big);
	memset(big, 1, 100000);
	hf_arena_free(&c);
	hf_arena_pool_drain();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alloc_and_reset),
		cmocka_unit_test(test_chunks_not_inherited_by_fork),
		cmocka_unit_test(test_release_lends_the_chunk_to_the_thread),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
