/* faultfs.c: see faultfs.h for the model. */
#include "faultfs.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"

#define FF_FILES_MAX 256
#define FF_FDS_MAX 64
#define FF_NAME_MAX 96
#define FF_SECTOR 512

enum op_kind { OP_WRITE, OP_TRUNCATE };

struct data_op {
	enum op_kind kind;
	uint64_t off, len; /* WRITE: range; TRUNCATE: new size (len) */
	uint8_t *bytes;
};

struct ffile {
	bool used;
	uint8_t *cur, *dur;
	size_t cur_len, dur_len;
	struct data_op *ops;
	uint32_t n_ops, cap_ops;
};

enum dir_kind { DIR_LINK, DIR_UNLINK };

/* Directory operations as (name -> file) changes: a rename is an unlink of
 * the old name followed by a link of the new one, as one entry applied
 * together (a rename is atomic even when not yet durable). */
struct dir_op {
	char name[FF_NAME_MAX], from[FF_NAME_MAX]; /* from[0]: rename source */
	int file;
	bool is_unlink;
};

struct dentry {
	char name[FF_NAME_MAX];
	int file; /* -1: free slot */
};

struct faultfs {
	struct hf_vfs vfs;
	pthread_mutex_t mu;
	uint64_t rng;
	struct ffile files[FF_FILES_MAX];
	struct dentry cur[FF_FILES_MAX], dur[FF_FILES_MAX];
	struct dir_op *dops;
	uint32_t n_dops, cap_dops;
	int fds[FF_FDS_MAX]; /* fd -> file, -1 free */
	uint64_t syncs, crash_at;
	bool crashed;
};

static uint64_t rnd(struct faultfs *f)
{
	uint64_t z = (f->rng += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static struct faultfs *of(struct hf_vfs *v)
{
	return (struct faultfs *)v;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

static int lookup(struct dentry *d, const char *name)
{
	for (int i = 0; i < FF_FILES_MAX; i++)
		if (d[i].file >= 0 && !strcmp(d[i].name, name))
			return i;
	return -1;
}

static void dentry_set(struct dentry *d, const char *name, int file)
{
	int i = lookup(d, name);
	if (i < 0)
		for (i = 0; i < FF_FILES_MAX && d[i].file >= 0; i++)
			;
	HF_ASSERT(i < FF_FILES_MAX);
	snprintf(d[i].name, FF_NAME_MAX, "%s", name);
	d[i].file = file;
}

static void dentry_del(struct dentry *d, const char *name)
{
	int i = lookup(d, name);
	if (i >= 0)
		d[i].file = -1;
}

static void grow(uint8_t **buf, size_t *len, size_t need)
{
	if (need <= *len)
		return;
	uint8_t *n = realloc(*buf, need);
	HF_ASSERT(n);
	memset(n + *len, 0, need - *len);
	*buf = n;
	*len = need;
}

static void set_len(uint8_t **buf, size_t *len, size_t want)
{
	if (want > *len)
		grow(buf, len, want);
	else
		*len = want;
}

static void op_push(struct ffile *fl, struct data_op op)
{
	if (fl->n_ops == fl->cap_ops) {
		fl->cap_ops = fl->cap_ops ? fl->cap_ops * 2 : 8;
		fl->ops = realloc(fl->ops, fl->cap_ops * sizeof *fl->ops);
		HF_ASSERT(fl->ops);
	}
	fl->ops[fl->n_ops++] = op;
}

static void ops_clear(struct ffile *fl)
{
	for (uint32_t i = 0; i < fl->n_ops; i++)
		free(fl->ops[i].bytes);
	fl->n_ops = 0;
}

static void dop_push(struct faultfs *f, struct dir_op op)
{
	if (f->n_dops == f->cap_dops) {
		f->cap_dops = f->cap_dops ? f->cap_dops * 2 : 16;
		f->dops = realloc(f->dops, f->cap_dops * sizeof *f->dops);
		HF_ASSERT(f->dops);
	}
	f->dops[f->n_dops++] = op;
}

static void dop_apply(struct dentry *d, const struct dir_op *op)
{
	if (op->from[0])
		dentry_del(d, op->from);
	if (op->is_unlink)
		dentry_del(d, op->name);
	else
		dentry_set(d, op->name, op->file);
}

/* The power goes: pending operations meet their fate. */
static void crash_locked(struct faultfs *f)
{
	if (f->crashed)
		return;
	for (int i = 0; i < FF_FILES_MAX; i++) {
		struct ffile *fl = &f->files[i];
		if (!fl->used)
			continue;
		for (uint32_t k = 0; k < fl->n_ops; k++) {
			struct data_op *op = &fl->ops[k];
			uint32_t fate = (uint32_t)(rnd(f) % 10); /* 0-3 keep, 4-6 drop, 7-9 garble */
			if (op->kind == OP_TRUNCATE) {
				if (fate < 6)
					set_len(&fl->dur, &fl->dur_len, op->len);
				continue;
			}
			if (fate >= 4 && fate < 7)
				continue;
			grow(&fl->dur, &fl->dur_len, op->off + op->len);
			for (uint64_t s = 0; s < op->len; s += FF_SECTOR) {
				uint64_t n = op->len - s < FF_SECTOR ? op->len - s : FF_SECTOR;
				uint32_t sf = fate < 4 ? 0 : (uint32_t)(rnd(f) % 3);
				if (sf == 0)
					memcpy(fl->dur + op->off + s, op->bytes + s, n);
				else if (sf == 2)
					for (uint64_t b = 0; b < n; b++)
						fl->dur[op->off + s + b] = (uint8_t)rnd(f);
			}
		}
		ops_clear(fl);
	}
	uint32_t keep = f->n_dops ? (uint32_t)(rnd(f) % (f->n_dops + 1)) : 0;
	for (uint32_t k = 0; k < keep; k++)
		dop_apply(f->dur, &f->dops[k]);
	f->n_dops = 0;
	f->crashed = true;
}

/* Counts a sync; true when this one is the crash. */
static bool sync_is_crash(struct faultfs *f)
{
	f->syncs++;
	if (f->crash_at && f->syncs >= f->crash_at) {
		crash_locked(f);
		return true;
	}
	return false;
}

static bool referenced(struct faultfs *f, int file)
{
	for (int d = 0; d < FF_FILES_MAX; d++)
		if (f->cur[d].file == file || f->dur[d].file == file)
			return true;
	for (int k = 0; k < FF_FDS_MAX; k++)
		if (f->fds[k] == file)
			return true;
	for (uint32_t k = 0; k < f->n_dops; k++)
		if (f->dops[k].file == file)
			return true;
	return false;
}

/* Frees files no name, handle or pending operation refers to; returns a
 * free slot (FF_FILES_MAX if none). */
static int gc(struct faultfs *f)
{
	int slot = FF_FILES_MAX;
	for (int i = 0; i < FF_FILES_MAX; i++) {
		struct ffile *fl = &f->files[i];
		if (!fl->used || referenced(f, i))
			continue;
		ops_clear(fl);
		free(fl->ops);
		free(fl->cur);
		free(fl->dur);
		memset(fl, 0, sizeof *fl);
		if (slot == FF_FILES_MAX)
			slot = i;
	}
	return slot;
}

static int ff_open(struct hf_vfs *v, const char *path, bool create)
{
	struct faultfs *f = of(v);
	pthread_mutex_lock(&f->mu);
	int rc = -EIO;
	if (f->crashed)
		goto out;
	const char *name = base_name(path);
	int d = lookup(f->cur, name);
	int file;
	if (d >= 0) {
		file = f->cur[d].file;
	} else {
		rc = -ENOENT;
		if (!create)
			goto out;
		for (file = 0; file < FF_FILES_MAX && f->files[file].used; file++)
			;
		if (file == FF_FILES_MAX)
			file = gc(f);
		HF_ASSERT(file < FF_FILES_MAX);
		memset(&f->files[file], 0, sizeof f->files[file]);
		f->files[file].used = true;
		dentry_set(f->cur, name, file);
		struct dir_op op = {.file = file};
		snprintf(op.name, FF_NAME_MAX, "%s", name);
		dop_push(f, op);
	}
	int fd;
	for (fd = 0; fd < FF_FDS_MAX && f->fds[fd] >= 0; fd++)
		;
	HF_ASSERT(fd < FF_FDS_MAX);
	f->fds[fd] = file;
	rc = fd;
out:
	pthread_mutex_unlock(&f->mu);
	return rc;
}

static struct ffile *file_of(struct faultfs *f, int fd)
{
	HF_ASSERT(fd >= 0 && fd < FF_FDS_MAX && f->fds[fd] >= 0);
	return &f->files[f->fds[fd]];
}

static int ff_close(struct hf_vfs *v, int fd)
{
	struct faultfs *f = of(v);
	pthread_mutex_lock(&f->mu);
	if (fd >= 0 && fd < FF_FDS_MAX)
		f->fds[fd] = -1;
	pthread_mutex_unlock(&f->mu);
	return 0;
}

static ssize_t ff_pwritev(struct hf_vfs *v, int fd, const struct iovec *iov, int iovcnt,
			  off_t off)
{
	struct faultfs *f = of(v);
	pthread_mutex_lock(&f->mu);
	ssize_t total = -EIO;
	if (!f->crashed) {
		struct ffile *fl = file_of(f, fd);
		total = 0;
		for (int i = 0; i < iovcnt; i++) {
			size_t n = iov[i].iov_len;
			grow(&fl->cur, &fl->cur_len, (size_t)off + total + n);
			memcpy(fl->cur + off + total, iov[i].iov_base, n);
			struct data_op op = {.kind = OP_WRITE, .off = (uint64_t)off + total, .len = n,
					     .bytes = malloc(n ? n : 1)};
			HF_ASSERT(op.bytes);
			memcpy(op.bytes, iov[i].iov_base, n);
			op_push(fl, op);
			total += n;
		}
	}
	pthread_mutex_unlock(&f->mu);
	return total;
}

static ssize_t ff_pread(struct hf_vfs *v, int fd, void *buf, size_t len, off_t off)
{
	struct faultfs *f = of(v);
	pthread_mutex_lock(&f->mu);
	ssize_t n = -EIO;
	if (!f->crashed) {
		struct ffile *fl = file_of(f, fd);
		n = 0;
		if ((size_t)off < fl->cur_len) {
			n = (ssize_t)(fl->cur_len - (size_t)off < len ? fl->cur_len - (size_t)off : len);
			memcpy(buf, fl->cur + off, (size_t)n);
		}
	}
	pthread_mutex_unlock(&f->mu);
	return n;
}

static int64_t ff_size(struct hf_vfs *v, int fd)
{
	struct faultfs *f = of(v);
	pthread_mutex_lock(&f->mu);
	int64_t n = f->crashed ? -EIO : (int64_t)file_of(f, fd)->cur_len;
	pthread_mutex_unlock(&f->mu);
	return n;
}

static int ff_sync(struct hf_vfs *v, int fd, bool data_only)
{
	(void)data_only;
	struct faultfs *f = of(v);
	pthread_mutex_lock(&f->mu);
	int rc = -EIO;
	if (!f->crashed && !sync_is_crash(f)) {
		struct ffile *fl = file_of(f, fd);
		set_len(&fl->dur, &fl->dur_len, fl->cur_len);
		memcpy(fl->dur, fl->cur, fl->cur_len);
		ops_clear(fl);
		rc = 0;
	}
	pthread_mutex_unlock(&f->mu);
	return rc;
}

static int ff_truncate(struct hf_vfs *v, int fd, off_t len)
{
	struct faultfs *f = of(v);
	pthread_mutex_lock(&f->mu);
	int rc = -EIO;
	if (!f->crashed) {
		struct ffile *fl = file_of(f, fd);
		set_len(&fl->cur, &fl->cur_len, (size_t)len);
		op_push(fl, (struct data_op){.kind = OP_TRUNCATE, .len = (uint64_t)len});
		rc = 0;
	}
	pthread_mutex_unlock(&f->mu);
	return rc;
}

static int ff_allocate(struct hf_vfs *v, int fd, off_t len)
{
	struct faultfs *f = of(v);
	pthread_mutex_lock(&f->mu);
	int rc = -EIO;
	if (!f->crashed) {
		struct ffile *fl = file_of(f, fd);
		if ((size_t)len > fl->cur_len) {
			set_len(&fl->cur, &fl->cur_len, (size_t)len);
			op_push(fl, (struct data_op){.kind = OP_TRUNCATE, .len = (uint64_t)len});
		}
		rc = 0;
	}
	pthread_mutex_unlock(&f->mu);
	return rc;
}

static int ff_rename(struct hf_vfs *v, const char *from, const char *to)
{
	struct faultfs *f = of(v);
	pthread_mutex_lock(&f->mu);
	int rc = -EIO;
	if (!f->crashed) {
		int d = lookup(f->cur, base_name(from));
		rc = -ENOENT;
		if (d >= 0) {
			int file = f->cur[d].file;
			struct dir_op op = {.file = file};
			snprintf(op.name, FF_NAME_MAX, "%s", base_name(to));
			snprintf(op.from, FF_NAME_MAX, "%s", base_name(from));
			dop_apply(f->cur, &op);
			dop_push(f, op);
			rc = 0;
		}
	}
	pthread_mutex_unlock(&f->mu);
	return rc;
}

static int ff_unlink(struct hf_vfs *v, const char *path)
{
	struct faultfs *f = of(v);
	pthread_mutex_lock(&f->mu);
	int rc = -EIO;
	if (!f->crashed) {
		int d = lookup(f->cur, base_name(path));
		rc = -ENOENT;
		if (d >= 0) {
			struct dir_op op = {.file = f->cur[d].file, .is_unlink = true};
			snprintf(op.name, FF_NAME_MAX, "%s", base_name(path));
			dop_apply(f->cur, &op);
			dop_push(f, op);
			rc = 0;
		}
	}
	pthread_mutex_unlock(&f->mu);
	return rc;
}

static int ff_sync_dir(struct hf_vfs *v, const char *dir)
{
	(void)dir;
	struct faultfs *f = of(v);
	pthread_mutex_lock(&f->mu);
	int rc = -EIO;
	if (!f->crashed && !sync_is_crash(f)) {
		memcpy(f->dur, f->cur, sizeof f->dur);
		f->n_dops = 0;
		rc = 0;
	}
	pthread_mutex_unlock(&f->mu);
	return rc;
}

static int ff_mkdir(struct hf_vfs *v, const char *dir)
{
	(void)dir;
	return of(v)->crashed ? -EIO : 0;
}

static int ff_list_dir(struct hf_vfs *v, const char *dir, hf_vfs_list_fn fn, void *arg)
{
	(void)dir;
	struct faultfs *f = of(v);
	pthread_mutex_lock(&f->mu);
	if (f->crashed) {
		pthread_mutex_unlock(&f->mu);
		return -EIO;
	}
	char names[FF_FILES_MAX][FF_NAME_MAX];
	int n = 0;
	for (int i = 0; i < FF_FILES_MAX; i++)
		if (f->cur[i].file >= 0)
			memcpy(names[n++], f->cur[i].name, FF_NAME_MAX);
	pthread_mutex_unlock(&f->mu);
	for (int i = 0; i < n; i++)
		fn(arg, names[i]);
	return 0;
}

static const struct hf_vfs_ops ff_ops = {
	.open = ff_open,
	.close = ff_close,
	.pwritev = ff_pwritev,
	.pread = ff_pread,
	.size = ff_size,
	.sync = ff_sync,
	.truncate = ff_truncate,
	.allocate = ff_allocate,
	.rename = ff_rename,
	.unlink = ff_unlink,
	.sync_dir = ff_sync_dir,
	.mkdir = ff_mkdir,
	.list = ff_list_dir,
	.lock_dir = NULL,
	.unlock_dir = NULL,
};

struct faultfs *ff_new(uint64_t seed)
{
	struct faultfs *f = calloc(1, sizeof *f);
	HF_ASSERT(f);
	f->vfs.ops = &ff_ops;
	f->vfs.real_fds = false;
	f->vfs.lock_fd = -1;
	f->rng = seed ^ 0x5deece66dULL;
	pthread_mutex_init(&f->mu, NULL);
	for (int i = 0; i < FF_FILES_MAX; i++)
		f->cur[i].file = f->dur[i].file = -1;
	for (int i = 0; i < FF_FDS_MAX; i++)
		f->fds[i] = -1;
	return f;
}

void ff_free(struct faultfs *f)
{
	for (int i = 0; i < FF_FILES_MAX; i++) {
		ops_clear(&f->files[i]);
		free(f->files[i].ops);
		free(f->files[i].cur);
		free(f->files[i].dur);
	}
	free(f->dops);
	pthread_mutex_destroy(&f->mu);
	free(f);
}

struct hf_vfs *ff_vfs(struct faultfs *f)
{
	return &f->vfs;
}

void ff_crash_at(struct faultfs *f, uint64_t n)
{
	pthread_mutex_lock(&f->mu);
	f->crash_at = n ? f->syncs + n : 0;
	pthread_mutex_unlock(&f->mu);
}

void ff_crash(struct faultfs *f)
{
	pthread_mutex_lock(&f->mu);
	crash_locked(f);
	pthread_mutex_unlock(&f->mu);
}

bool ff_crashed(struct faultfs *f)
{
	pthread_mutex_lock(&f->mu);
	bool c = f->crashed;
	pthread_mutex_unlock(&f->mu);
	return c;
}

uint64_t ff_syncs(struct faultfs *f)
{
	pthread_mutex_lock(&f->mu);
	uint64_t n = f->syncs;
	pthread_mutex_unlock(&f->mu);
	return n;
}

void ff_reboot(struct faultfs *f)
{
	pthread_mutex_lock(&f->mu);
	HF_ASSERT(f->crashed);
	memcpy(f->cur, f->dur, sizeof f->cur);
	for (int i = 0; i < FF_FDS_MAX; i++)
		f->fds[i] = -1;
	for (int i = 0; i < FF_FILES_MAX; i++) {
		struct ffile *fl = &f->files[i];
		if (!fl->used)
			continue;
		bool linked = false;
		for (int d = 0; d < FF_FILES_MAX; d++)
			if (f->cur[d].file == i)
				linked = true;
		ops_clear(fl);
		if (!linked) {
			free(fl->ops);
			free(fl->cur);
			free(fl->dur);
			memset(fl, 0, sizeof *fl);
			continue;
		}
		set_len(&fl->cur, &fl->cur_len, fl->dur_len);
		if (fl->dur_len)
			memcpy(fl->cur, fl->dur, fl->dur_len);
	}
	f->n_dops = 0;
	f->crash_at = 0;
	f->crashed = false;
	pthread_mutex_unlock(&f->mu);
}

uint8_t *ff_file_bytes(struct faultfs *f, const char *name, size_t *len)
{
	pthread_mutex_lock(&f->mu);
	int d = lookup(f->cur, name);
	uint8_t *p = NULL;
	if (d >= 0) {
		struct ffile *fl = &f->files[f->cur[d].file];
		p = fl->cur;
		*len = fl->cur_len;
	}
	pthread_mutex_unlock(&f->mu);
	return p;
}

void ff_list(struct faultfs *f, void (*fn)(void *arg, const char *name), void *arg)
{
	ff_list_dir(&f->vfs, "", fn, arg);
}
