/*
 * memfs.h: an in-memory file layer (struct hf_vfs, wal/vfs.h) for the
 * fuzz targets of the log: one directory, files as byte arrays, every
 * call succeeds (no faults: the fuzzer supplies the damage as file
 * contents). Lets a target hand arbitrary bytes to hf_wal_open as if they
 * were files on disk, with no disk and no cleanup.
 *
 * Paths: only the part after the last '/' is used (the log uses one
 * directory), so any directory name works. Durability is not modelled:
 * sync and sync_dir do nothing, writes are visible at once.
 *
 * Ownership: memfs_new allocates; memfs_free frees every file and handle.
 * memfs_file returns a pointer into the file, valid until the next call
 * that writes, truncates or removes it.
 */
#ifndef HF_TESTS_FUZZ_MEMFS_H
#define HF_TESTS_FUZZ_MEMFS_H

#include <stddef.h>
#include <stdint.h>

#include "wal/vfs.h"

struct memfs;

struct memfs *memfs_new(void);
void memfs_free(struct memfs *m);
struct hf_vfs *memfs_vfs(struct memfs *m);

/* Creates or replaces the file name with a copy of len bytes of p. */
void memfs_put(struct memfs *m, const char *name, const void *p, size_t len);
/* The bytes of name, or NULL if there is no such file. */
const uint8_t *memfs_file(struct memfs *m, const char *name, size_t *len /* out */);
/* Calls fn with the name of each file, in creation order. */
void memfs_each(struct memfs *m, void (*fn)(void *arg, const char *name), void *arg);

#endif
