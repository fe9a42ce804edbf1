/*
 * vfs_posix.c: the file layer on the real file system. Owns nothing but
 * the directory lock (a flock on DIR/lock, released by the kernel when the
 * process dies, so a kill -9 never leaves a stale lock).
 */
#include "wal/vfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

static int posix_open(struct hf_vfs *v, const char *path, bool create)
{
	(void)v;
	int fd = open(path, O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0), 0600);
	return fd < 0 ? -errno : fd;
}

static int posix_close(struct hf_vfs *v, int fd)
{
	(void)v;
	return close(fd) < 0 ? -errno : 0;
}

static ssize_t posix_pwritev(struct hf_vfs *v, int fd, const struct iovec *iov, int iovcnt,
			     off_t off)
{
	(void)v;
	ssize_t n = pwritev(fd, iov, iovcnt, off);
	return n < 0 ? -errno : n;
}

static ssize_t posix_pread(struct hf_vfs *v, int fd, void *buf, size_t len, off_t off)
{
	(void)v;
	ssize_t n = pread(fd, buf, len, off);
	return n < 0 ? -errno : n;
}

static int64_t posix_size(struct hf_vfs *v, int fd)
{
	(void)v;
	struct stat st;
	return fstat(fd, &st) < 0 ? -errno : (int64_t)st.st_size;
}

static int posix_sync(struct hf_vfs *v, int fd, bool data_only)
{
	(void)v;
	int rc = data_only ? fdatasync(fd) : fsync(fd);
	return rc < 0 ? -errno : 0;
}

static int posix_truncate(struct hf_vfs *v, int fd, off_t len)
{
	(void)v;
	return ftruncate(fd, len) < 0 ? -errno : 0;
}

static int posix_allocate(struct hf_vfs *v, int fd, off_t len)
{
	(void)v;
	/* fallocate reserves the blocks so a full disk shows up when a segment
	 * is made, not in the middle of a commit; file systems without it get
	 * ftruncate (sparse, still zeros). */
	int rc = posix_fallocate(fd, 0, len);
	if (rc == 0)
		return 0;
	if (rc != EOPNOTSUPP && rc != EINVAL)
		return -rc;
	return ftruncate(fd, len) < 0 ? -errno : 0;
}

static int posix_rename(struct hf_vfs *v, const char *from, const char *to)
{
	(void)v;
	return rename(from, to) < 0 ? -errno : 0;
}

static int posix_unlink(struct hf_vfs *v, const char *path)
{
	(void)v;
	return unlink(path) < 0 ? -errno : 0;
}

static int posix_sync_dir(struct hf_vfs *v, const char *dir)
{
	(void)v;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int rc = fsync(fd) < 0 ? -errno : 0;
	close(fd);
	return rc;
}

static int posix_mkdir(struct hf_vfs *v, const char *dir)
{
	(void)v;
	if (mkdir(dir, 0700) == 0 || errno == EEXIST)
		return 0;
	return -errno;
}

static int posix_list(struct hf_vfs *v, const char *dir, hf_vfs_list_fn fn, void *arg)
{
	(void)v;
	DIR *d = opendir(dir);
	if (!d)
		return -errno;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		fn(arg, de->d_name);
	}
	closedir(d);
	return 0;
}

/* Whether the process that took the flock on fd's file is alive, from
 * /proc/locks (which names the process that took a flock, not the ones
 * that inherited it). true when it cannot tell. */
static bool lock_taker_alive(int fd)
{
	struct stat st;
	FILE *f = fopen("/proc/locks", "re");
	if (!f || fstat(fd, &st) < 0) {
		if (f)
			fclose(f);
		return true;
	}
	bool alive = false;
	char line[256];
	while (fgets(line, sizeof line, f)) {
		char type[16];
		int pid;
		unsigned maj, min;
		unsigned long long ino;
		if (strstr(line, "->") || /* a waiter, not a holder */
		    sscanf(line, "%*d: %15s %*s %*s %d %x:%x:%llu", type, &pid, &maj, &min, &ino) != 5 ||
		    strcmp(type, "FLOCK") || ino != (unsigned long long)st.st_ino ||
		    makedev(maj, min) != st.st_dev)
			continue;
		/* 0: a process outside this PID namespace. */
		if (pid <= 0 || kill(pid, 0) == 0 || errno == EPERM)
			alive = true;
	}
	fclose(f);
	return alive;
}

/* A snapshot child forked just before its parent died holds the lock
 * (its copy of the descriptor) until it is scheduled and exits, which on
 * a loaded machine can be after a supervisor restarts the server. So a
 * lock whose taker is dead is waited for, up to LOCK_ORPHAN_WAIT_MS; one
 * whose taker lives is refused at once. */
#define LOCK_ORPHAN_WAIT_MS 5000

static int posix_lock_dir(struct hf_vfs *v, const char *dir)
{
	char path[4096];
	if ((size_t)snprintf(path, sizeof path, "%s/lock", dir) >= sizeof path)
		return -ENAMETOOLONG;
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	for (int waited_ms = 0; flock(fd, LOCK_EX | LOCK_NB) < 0; waited_ms += 5) {
		int e = errno;
		if (e != EWOULDBLOCK || waited_ms >= LOCK_ORPHAN_WAIT_MS || lock_taker_alive(fd)) {
			close(fd);
			return -e;
		}
		struct timespec ts = {0, 5 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	v->lock_fd = fd;
	return 0;
}

static void posix_unlock_dir(struct hf_vfs *v)
{
	if (v->lock_fd >= 0)
		close(v->lock_fd);
	v->lock_fd = -1;
}

static const void *posix_map(struct hf_vfs *v, int fd, size_t len)
{
	(void)v;
	if (len == 0)
		return NULL;
	void *p = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED)
		return NULL;
	madvise(p, len, MADV_SEQUENTIAL);
	return p;
}

static void posix_unmap(struct hf_vfs *v, const void *p, size_t len)
{
	(void)v;
	munmap((void *)p, len);
}

static const struct hf_vfs_ops posix_ops = {
	.open = posix_open,
	.close = posix_close,
	.pwritev = posix_pwritev,
	.pread = posix_pread,
	.size = posix_size,
	.sync = posix_sync,
	.truncate = posix_truncate,
	.allocate = posix_allocate,
	.rename = posix_rename,
	.unlink = posix_unlink,
	.sync_dir = posix_sync_dir,
	.mkdir = posix_mkdir,
	.list = posix_list,
	.lock_dir = posix_lock_dir,
	.unlock_dir = posix_unlock_dir,
	.map = posix_map,
	.unmap = posix_unmap,
};

struct hf_vfs *hf_vfs_posix_new(void)
{
	struct hf_vfs *v = calloc(1, sizeof *v);
	if (!v)
		return NULL;
	v->ops = &posix_ops;
	v->real_fds = true;
	v->lock_fd = -1;
	return v;
}

void hf_vfs_posix_free(struct hf_vfs *v)
{
	if (!v)
		return;
	posix_unlock_dir(v);
	free(v);
}

int hf_vfs_write_all(struct hf_vfs *v, int fd, const void *buf, size_t len, off_t off)
{
	const char *p = buf;
	while (len > 0) {
		struct iovec iov = {(void *)p, len};
		ssize_t n = v->ops->pwritev(v, fd, &iov, 1, off);
		if (n < 0)
			return (int)n;
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

int hf_vfs_read_all(struct hf_vfs *v, int fd, void *buf, size_t len, off_t off)
{
	char *p = buf;
	while (len > 0) {
		ssize_t n = v->ops->pread(v, fd, p, len, off);
		if (n < 0)
			return (int)n;
		if (n == 0)
			return -ENODATA;
		p += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}
