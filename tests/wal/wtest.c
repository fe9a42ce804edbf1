/* wtest.c: see wtest.h. */
#define _XOPEN_SOURCE 700
#include "wtest.h"

#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/assert.h"

static void sync_done(struct hf_request *req)
{
	struct wt_sync *s = req->ctx;
	pthread_mutex_lock(&s->mu);
	s->done = true;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

void wt_sync_init(struct wt_sync *s)
{
	memset(&s->req, 0, sizeof s->req);
	s->req.done = sync_done;
	s->req.ctx = s;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	s->done = false;
}

void wt_submit_wait(struct hf_engine *e, struct wt_sync *s)
{
	s->req.ctx = s;
	int rc;
	while ((rc = hf_engine_submit(e, &s->req)) == HF_ENGINE_FULL)
		usleep(100);
	HF_ASSERT(rc == HF_ENGINE_OK);
	pthread_mutex_lock(&s->mu);
	while (!s->done)
		pthread_cond_wait(&s->cv, &s->mu);
	pthread_mutex_unlock(&s->mu);
}

char *wt_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char *p = malloc(4096);
	HF_ASSERT(p);
	snprintf(p, 4096, "%s/holdfast-wal-XXXXXX", base && *base ? base : "/tmp");
	HF_ASSERT(mkdtemp(p));
	return p;
}

static int rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

void wt_rmtree(char *dir)
{
	nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
}

void wt_remove_matching(const char *dir, const char *suffix)
{
	DIR *d = opendir(dir);
	HF_ASSERT(d);
	struct dirent *de;
	size_t ls = strlen(suffix);
	char path[8192];
	while ((de = readdir(d)) != NULL) {
		size_t ln = strlen(de->d_name);
		if (ln >= ls && !strcmp(de->d_name + ln - ls, suffix)) {
			snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
			unlink(path);
		}
	}
	closedir(d);
}

void wt_copydir(const char *from, const char *to)
{
	DIR *d = opendir(from);
	HF_ASSERT(d);
	struct dirent *de;
	char a[8192], b[8192];
	static char buf[1 << 16];
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || !strcmp(de->d_name, "lock"))
			continue;
		snprintf(a, sizeof a, "%s/%s", from, de->d_name);
		snprintf(b, sizeof b, "%s/%s", to, de->d_name);
		FILE *in = fopen(a, "rb"), *out = fopen(b, "wb");
		HF_ASSERT(in && out);
		size_t n;
		while ((n = fread(buf, 1, sizeof buf, in)) > 0)
			HF_ASSERT(fwrite(buf, 1, n, out) == n);
		fclose(in);
		fclose(out);
	}
	closedir(d);
}
