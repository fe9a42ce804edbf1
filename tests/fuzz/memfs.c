/*
 * memfs.c: see memfs.h. Owns its files (malloc'd byte arrays) and a small
 * handle table; a handle names a file slot, and a slot is never reused
 * while the memfs lives, so a handle to an unlinked file stays harmless
 * (reads see the old bytes, as on POSIX).
 *
 * Bounds: MEMFS_FILES files over the memfs's life and MEMFS_HANDLES open
 * handles; past them calls fail with -ENOSPC / -EMFILE, which the log
 * must handle like any I/O error. A file may not grow past MEMFS_FILE_MAX
 * (-EFBIG): a fuzzed header can ask for any preallocation size.
 */
#include "memfs.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define MEMFS_FILES 128
#define MEMFS_HANDLES 64
#define MEMFS_NAME_MAX 96
#define MEMFS_FILE_MAX (64u << 20)

struct mfile {
	char name[MEMFS_NAME_MAX];
	uint8_t *data;
	size_t len, cap;
	bool live; /* false: unlinked or renamed away */
};

struct memfs {
	struct hf_vfs vfs; /* first: memfs_of casts back */
	struct mfile files[MEMFS_FILES];
	int n_files;
	int handles[MEMFS_HANDLES]; /* file slot, or -1 */
};

static struct memfs *memfs_of(struct hf_vfs *v)
{
	return (struct memfs *)v;
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

static int find(struct memfs *m, const char *name)
{
	for (int i = 0; i < m->n_files; i++)
		if (m->files[i].live && !strcmp(m->files[i].name, name))
			return i;
	return -1;
}

static int create(struct memfs *m, const char *name)
{
	if (m->n_files == MEMFS_FILES || strlen(name) >= MEMFS_NAME_MAX)
		return -ENOSPC;
	struct mfile *f = &m->files[m->n_files];
	memset(f, 0, sizeof(*f));
	strcpy(f->name, name);
	f->live = true;
	return m->n_files++;
}

/* Makes f at least len bytes long, the new bytes zero. */
static int grow(struct mfile *f, size_t len)
{
	if (len > MEMFS_FILE_MAX)
		return -EFBIG;
	if (len > f->cap) {
		size_t cap = f->cap ? f->cap : 256;
		while (cap < len)
			cap *= 2;
		uint8_t *d = realloc(f->data, cap);
		if (!d)
			return -ENOMEM;
		f->data = d;
		f->cap = cap;
	}
	if (len > f->len)
		memset(f->data + f->len, 0, len - f->len);
	if (len > f->len)
		f->len = len;
	return 0;
}

static struct mfile *file_of(struct memfs *m, int fd)
{
	if (fd < 0 || fd >= MEMFS_HANDLES || m->handles[fd] < 0)
		return NULL;
	return &m->files[m->handles[fd]];
}

static int op_open(struct hf_vfs *v, const char *path, bool create_it)
{
	struct memfs *m = memfs_of(v);
	const char *name = base_name(path);
	int i = find(m, name);
	if (i < 0 && !create_it)
		return -ENOENT;
	if (i < 0 && (i = create(m, name)) < 0)
		return i;
	for (int fd = 0; fd < MEMFS_HANDLES; fd++)
		if (m->handles[fd] < 0) {
			m->handles[fd] = i;
			return fd;
		}
	return -EMFILE;
}

static int op_close(struct hf_vfs *v, int fd)
{
	struct memfs *m = memfs_of(v);
	if (!file_of(m, fd))
		return -EBADF;
	m->handles[fd] = -1;
	return 0;
}

static ssize_t op_pwritev(struct hf_vfs *v, int fd, const struct iovec *iov, int iovcnt,
			  off_t off)
{
	struct mfile *f = file_of(memfs_of(v), fd);
	if (!f)
		return -EBADF;
	if (off < 0)
		return -EINVAL;
	size_t pos = (size_t)off, total = 0;
	for (int i = 0; i < iovcnt; i++)
		total += iov[i].iov_len;
	if (total > MEMFS_FILE_MAX || pos > MEMFS_FILE_MAX - total)
		return -EFBIG;
	int rc = grow(f, pos + total);
	if (rc < 0)
		return rc;
	for (int i = 0; i < iovcnt; i++) {
		if (iov[i].iov_len)
			memcpy(f->data + pos, iov[i].iov_base, iov[i].iov_len);
		pos += iov[i].iov_len;
	}
	return (ssize_t)total;
}

static ssize_t op_pread(struct hf_vfs *v, int fd, void *buf, size_t len, off_t off)
{
	struct mfile *f = file_of(memfs_of(v), fd);
	if (!f)
		return -EBADF;
	if (off < 0)
		return -EINVAL;
	if ((size_t)off >= f->len)
		return 0;
	size_t n = f->len - (size_t)off < len ? f->len - (size_t)off : len;
	if (n)
		memcpy(buf, f->data + off, n);
	return (ssize_t)n;
}

static int64_t op_size(struct hf_vfs *v, int fd)
{
	struct mfile *f = file_of(memfs_of(v), fd);
	return f ? (int64_t)f->len : -EBADF;
}

static int op_sync(struct hf_vfs *v, int fd, bool data_only)
{
	(void)data_only;
	return file_of(memfs_of(v), fd) ? 0 : -EBADF;
}

static int op_truncate(struct hf_vfs *v, int fd, off_t len)
{
	struct mfile *f = file_of(memfs_of(v), fd);
	if (!f)
		return -EBADF;
	if (len < 0)
		return -EINVAL;
	if ((size_t)len > f->len)
		return grow(f, (size_t)len);
	f->len = (size_t)len;
	return 0;
}

static int op_allocate(struct hf_vfs *v, int fd, off_t len)
{
	struct mfile *f = file_of(memfs_of(v), fd);
	if (!f)
		return -EBADF;
	if (len < 0)
		return -EINVAL;
	return (size_t)len > f->len ? grow(f, (size_t)len) : 0;
}

static int op_rename(struct hf_vfs *v, const char *from, const char *to)
{
	struct memfs *m = memfs_of(v);
	int i = find(m, base_name(from));
	if (i < 0)
		return -ENOENT;
	const char *name = base_name(to);
	if (strlen(name) >= MEMFS_NAME_MAX)
		return -ENAMETOOLONG;
	int j = find(m, name);
	if (j >= 0 && j != i)
		m->files[j].live = false;
	strcpy(m->files[i].name, name);
	return 0;
}

static int op_unlink(struct hf_vfs *v, const char *path)
{
	struct memfs *m = memfs_of(v);
	int i = find(m, base_name(path));
	if (i < 0)
		return -ENOENT;
	m->files[i].live = false;
	return 0;
}

static int op_sync_dir(struct hf_vfs *v, const char *dir)
{
	(void)v;
	(void)dir;
	return 0;
}

static int op_mkdir(struct hf_vfs *v, const char *dir)
{
	(void)v;
	(void)dir;
	return 0;
}

static int op_list(struct hf_vfs *v, const char *dir, hf_vfs_list_fn fn, void *arg)
{
	(void)dir;
	struct memfs *m = memfs_of(v);
	for (int i = 0; i < m->n_files; i++)
		if (m->files[i].live)
			fn(arg, m->files[i].name);
	return 0;
}

static int op_lock_dir(struct hf_vfs *v, const char *dir)
{
	(void)v;
	(void)dir;
	return 0;
}

static void op_unlock_dir(struct hf_vfs *v)
{
	(void)v;
}

static const struct hf_vfs_ops memfs_ops = {
	.open = op_open,
	.close = op_close,
	.pwritev = op_pwritev,
	.pread = op_pread,
	.size = op_size,
	.sync = op_sync,
	.truncate = op_truncate,
	.allocate = op_allocate,
	.rename = op_rename,
	.unlink = op_unlink,
	.sync_dir = op_sync_dir,
	.mkdir = op_mkdir,
	.list = op_list,
	.lock_dir = op_lock_dir,
	.unlock_dir = op_unlock_dir,
};

struct memfs *memfs_new(void)
{
	struct memfs *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->vfs.ops = &memfs_ops;
	m->vfs.real_fds = false;
	m->vfs.lock_fd = -1;
	for (int fd = 0; fd < MEMFS_HANDLES; fd++)
		m->handles[fd] = -1;
	return m;
}

void memfs_free(struct memfs *m)
{
	if (!m)
		return;
	for (int i = 0; i < m->n_files; i++)
		free(m->files[i].data);
	free(m);
}

struct hf_vfs *memfs_vfs(struct memfs *m)
{
	return &m->vfs;
}

void memfs_put(struct memfs *m, const char *name, const void *p, size_t len)
{
	int i = find(m, name);
	if (i < 0)
		i = create(m, name);
	if (i < 0)
		return;
	struct mfile *f = &m->files[i];
	f->len = 0;
	if (grow(f, len) == 0 && len)
		memcpy(f->data, p, len);
}

const uint8_t *memfs_file(struct memfs *m, const char *name, size_t *len /* out */)
{
	int i = find(m, name);
	if (i < 0)
		return NULL;
	*len = m->files[i].len;
	return m->files[i].data ? m->files[i].data : (const uint8_t *)"";
}

void memfs_each(struct memfs *m, void (*fn)(void *arg, const char *name), void *arg)
{
	for (int i = 0; i < m->n_files; i++)
		if (m->files[i].live)
			fn(arg, m->files[i].name);
}
