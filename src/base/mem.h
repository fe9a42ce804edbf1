/*
 * mem.h: allocation of the big tables, once, at init.
 *
 * hf_mem_table returns zeroed memory like calloc and asks the kernel for
 * transparent huge pages on it. The tables grow into fresh pages for hours
 * (orders, lines) or are touched at random (hash slots), and 4 KiB page
 * faults were the top cost: ~45% of the hot-item apply time (bench-core
 * hot 4.9M -> 9.0M commands/s), and 40% of log replay with the default
 * config (each new name probed a fresh random page of the string table).
 * The price: a sparse table becomes resident 2 MiB at a time, so size the
 * config to the deployment (bench-core's memory figures use sized configs).
 * Free with free().
 *
 * hf_mem_unshared returns bytes (a multiple of HF_MEM_PAGE) of page-aligned
 * memory kept out of fork()ed children (MADV_DONTFORK): buffers the
 * process keeps writing while a snapshot child runs (request arenas, log
 * buffers). Every page shared with the child is copied on the parent's
 * first write after the fork, with a TLB shootdown on every core; the
 * child writes only the core's state and never needs these. Free with
 * hf_mem_unshared_free, which makes the pages inheritable again before
 * malloc may hand them to state the child must see.
 */
#ifndef HF_BASE_MEM_H
#define HF_BASE_MEM_H

#include <stddef.h>

void *hf_mem_table(size_t count, size_t size);

#define HF_MEM_PAGE 4096u
void *hf_mem_unshared(size_t bytes);
void hf_mem_unshared_free(void *p, size_t bytes);

#endif
