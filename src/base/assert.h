/*
 * assert.h: assertions that stay on in every build (STYLE.md 7). A failed
 * assertion is a bug in holdfast, never bad input: it prints where and
 * aborts so a core dump or the sanitizer shows the state.
 */
#ifndef HF_BASE_ASSERT_H
#define HF_BASE_ASSERT_H

#include <stdio.h>
#include <stdlib.h>

#define HF_ASSERT(cond)                                                                    \
	do {                                                                                \
		if (__builtin_expect(!(cond), 0)) {                                         \
			fprintf(stderr, "holdfast: assertion failed: %s (%s:%d)\n", #cond,  \
				__FILE__, __LINE__);                                        \
			abort();                                                            \
		}                                                                           \
	} while (0)

#define HF_UNREACHABLE() HF_ASSERT(0 && "unreachable")

#endif
