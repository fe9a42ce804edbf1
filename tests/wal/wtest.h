/*
 * wtest.h: helpers shared by the wal and crash tests: temporary
 * directories, and a synchronous submit (a request with its own wait).
 */
#ifndef HF_TESTS_WAL_WTEST_H
#define HF_TESTS_WAL_WTEST_H

#include <pthread.h>
#include <stdbool.h>

#include "engine/engine.h"
#include "workload.h"

/* A request and what waits for it. Fill req (cmd from wc) after
 * wt_sync_init. req.ctx is the wt_sync itself (req is its first member):
 * a read callback finds its own data in user. */
struct wt_sync {
	struct hf_request req;
	void *user;
	struct wl_cmd wc;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool done;
};

void wt_sync_init(struct wt_sync *s);
/* Submits (retrying while the queue is full) and waits for done. */
void wt_submit_wait(struct hf_engine *e, struct wt_sync *s);

/* A fresh directory under $TMPDIR (or /tmp); the caller frees the string
 * with wt_rmtree. */
char *wt_tmpdir(void);
void wt_rmtree(char *dir);
/* Removes the files of dir whose name ends with suffix. */
void wt_remove_matching(const char *dir, const char *suffix);

/* Copies the regular files of from into to (a running engine's directory,
 * as a crash would leave it: every acknowledged record is in the copy). */
void wt_copydir(const char *from, const char *to);

#endif
