/*
 * vfs.h: the file layer under the log and the snapshots. Everything wal/
 * and engine/ do to disk goes through one of these tables, so a test can
 * put a fault-injecting layer underneath (tests/crash/faultfs.c keeps
 * unsynced writes in memory and decides, at a chosen sync, which of them
 * a power loss keeps, drops or garbles).
 *
 * The contract the log relies on, which real file systems give and the
 * fault layer models:
 *   - data written to a file is durable only after sync(fd) returns 0;
 *   - a file's creation, a rename or an unlink is durable only after
 *     sync_dir of its directory returns 0;
 *   - any call may fail with a negative errno; a failed sync means nothing
 *     since the last good sync is known to be durable (the engine stops).
 *
 * Handles are small non-negative ints. Paths are full paths (the log uses
 * one directory). Every function returns >= 0 on success, -errno on error.
 */
#ifndef HF_WAL_VFS_H
#define HF_WAL_VFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

struct hf_vfs;

/* Called once per directory entry (name only, no "." or ".."). */
typedef void (*hf_vfs_list_fn)(void *arg, const char *name);

struct hf_vfs_ops {
	/* create: make the file if it does not exist (never truncates). */
	int (*open)(struct hf_vfs *v, const char *path, bool create);
	int (*close)(struct hf_vfs *v, int fd);
	ssize_t (*pwritev)(struct hf_vfs *v, int fd, const struct iovec *iov, int iovcnt,
			   off_t off);
	ssize_t (*pread)(struct hf_vfs *v, int fd, void *buf, size_t len, off_t off);
	int64_t (*size)(struct hf_vfs *v, int fd);
	/* data_only: fdatasync, else fsync. */
	int (*sync)(struct hf_vfs *v, int fd, bool data_only);
	int (*truncate)(struct hf_vfs *v, int fd, off_t len);
	/* Reserves [0, len) (zeros where nothing was written). */
	int (*allocate)(struct hf_vfs *v, int fd, off_t len);
	int (*rename)(struct hf_vfs *v, const char *from, const char *to);
	int (*unlink)(struct hf_vfs *v, const char *path);
	int (*sync_dir)(struct hf_vfs *v, const char *dir);
	int (*mkdir)(struct hf_vfs *v, const char *dir);
	int (*list)(struct hf_vfs *v, const char *dir, hf_vfs_list_fn fn, void *arg);
	/* Exclusive lock on the directory for this process (-EWOULDBLOCK if
	 * another holds it); released by unlock or by the process dying. */
	int (*lock_dir)(struct hf_vfs *v, const char *dir);
	void (*unlock_dir)(struct hf_vfs *v);
	/* Optional (NULL: recovery reads instead): maps len bytes of fd
	 * read-only; NULL on failure. Recovery reads whole segments this way
	 * without copying them. */
	const void *(*map)(struct hf_vfs *v, int fd, size_t len);
	void (*unmap)(struct hf_vfs *v, const void *p, size_t len);
};

struct hf_vfs {
	const struct hf_vfs_ops *ops;
	/* Handles are real file descriptors, so a fork()ed child may write a
	 * snapshot through plain POSIX calls (the fault layer says false and
	 * gets snapshots serialised in-process instead). */
	bool real_fds;
	int lock_fd; /* posix: the lock file's descriptor, -1 when none */
};

/* A POSIX layer (one per engine: it holds that engine's directory lock).
 * NULL when out of memory. Free with hf_vfs_posix_free (unlocks). */
struct hf_vfs *hf_vfs_posix_new(void);
void hf_vfs_posix_free(struct hf_vfs *v);

/* Writes all of len bytes at off (looping on short writes). */
int hf_vfs_write_all(struct hf_vfs *v, int fd, const void *buf, size_t len, off_t off);
/* Reads exactly len bytes at off: 0, or -EIO/-errno (short read: -ENODATA). */
int hf_vfs_read_all(struct hf_vfs *v, int fd, void *buf, size_t len, off_t off);

#endif
