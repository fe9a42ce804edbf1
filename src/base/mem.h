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
 */
#ifndef HF_BASE_MEM_H
#define HF_BASE_MEM_H

#include <stddef.h>

void *hf_mem_table(size_t count, size_t size);

#endif
