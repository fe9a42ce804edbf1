/*
 * mem.h: allocation of the big tables, once, at init.
 *
 * hf_mem_table returns zeroed memory like calloc. Dense tables (arrays
 * filled from the front: orders, lines, seats ...) ask the kernel for
 * transparent huge pages: they grow into fresh pages for hours, and 4 KiB
 * page faults were measured at ~45% of the hot-item apply time (bench-core
 * hot: 4.9M -> 9.0M commands/s). Sparse tables (hash slots, touched at
 * random) do not: a huge page there would make every first touch cost
 * 2 MiB of memory. Free with free().
 */
#ifndef HF_BASE_MEM_H
#define HF_BASE_MEM_H

#include <stddef.h>

enum hf_mem_kind { HF_MEM_DENSE, HF_MEM_SPARSE };

void *hf_mem_table(size_t count, size_t size, enum hf_mem_kind kind);

#endif
