/* mem.c: see mem.h. */
#include "base/mem.h"

#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#define HUGE_PAGE (2u << 20)

void *hf_mem_table(size_t count, size_t size)
{
	if (size && count > SIZE_MAX / size)
		return NULL;
	void *p = calloc(count ? count : 1, size ? size : 1);
	size_t bytes = count * size;
	if (p && bytes >= 2 * HUGE_PAGE) {
		/* Only whole, aligned huge pages inside the block can be huge. */
		uintptr_t start = ((uintptr_t)p + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1);
		uintptr_t end = ((uintptr_t)p + bytes) & ~(uintptr_t)(HUGE_PAGE - 1);
		if (end > start)
			(void)madvise((void *)start, end - start, MADV_HUGEPAGE); /* a hint */
	}
	return p;
}

void *hf_mem_unshared(size_t bytes)
{
	void *p = NULL;
	if (bytes % HF_MEM_PAGE || posix_memalign(&p, HF_MEM_PAGE, bytes) != 0)
		return NULL;
	(void)madvise(p, bytes, MADV_DONTFORK); /* best effort: only costs copies if refused */
	return p;
}

void hf_mem_unshared_free(void *p, size_t bytes)
{
	if (!p)
		return;
	(void)madvise(p, bytes, MADV_DOFORK);
	free(p);
}
