/*
 * faultfs.h: a fault-injecting file layer (struct hf_vfs) for simulated
 * power loss. One directory, all in memory.
 *
 * Model: every file has the bytes reads see and the bytes a power loss
 * would leave (durable). Writes, truncates and allocations since the
 * file's last sync are pending; creations, renames and unlinks since the
 * directory's last sync are pending. At the chosen sync (the crash_at-th
 * call of sync or sync_dir, counting from 1) the power goes: each pending
 * data operation is kept, dropped, or garbled (each 512-byte sector of a
 * write kept, dropped or replaced by random bytes), a random prefix of the
 * pending directory operations survives, and every later call fails with
 * -EIO. ff_reboot then makes the durable image the current one.
 *
 * Thread-safe (one mutex): the engine's writer and snapshotter use it at
 * once. Decisions come from the seed, so a failure reproduces from it
 * (thread timing aside: the seed also fixes the workload and crash point).
 */
#ifndef HF_TESTS_CRASH_FAULTFS_H
#define HF_TESTS_CRASH_FAULTFS_H

#include <stdbool.h>
#include <stdint.h>

#include "wal/vfs.h"

struct faultfs;

struct faultfs *ff_new(uint64_t seed);
void ff_free(struct faultfs *f);
struct hf_vfs *ff_vfs(struct faultfs *f);

/* Crash at the n-th sync from now (0: never). */
void ff_crash_at(struct faultfs *f, uint64_t n);
/* Crash now (pending operations meet their random fate). */
void ff_crash(struct faultfs *f);
bool ff_crashed(struct faultfs *f);
uint64_t ff_syncs(struct faultfs *f);
/* After a crash: the durable image becomes what reads see; every handle
 * is closed; calls work again. */
void ff_reboot(struct faultfs *f);

/* Direct access for corruption tests: the current bytes of name (NULL if
 * absent), which may be modified in place (len is fixed), and their size. */
uint8_t *ff_file_bytes(struct faultfs *f, const char *name, size_t *len /* out */);
/* Names of the current files, one per call of fn. */
void ff_list(struct faultfs *f, void (*fn)(void *arg, const char *name), void *arg);

#endif
