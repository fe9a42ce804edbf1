/*
 * test_kill9.c: kill -9 of a real process running the embedded engine
 * under concurrent load (the engine-level twin of
 * tests/integration/test_kill9.py).
 *
 * Each round forks a child that opens the data directory (recovering what
 * the previous rounds left) and runs SUBMITTERS threads of buy-now orders
 * of random seats (with item lines), cancels of its own acknowledged
 * orders, and hold/release pairs, with small segments and frequent fork()
 * snapshots, all with fsync on. After a request is acknowledged (done
 * called, status OK) the child writes it to a pipe. The parent SIGKILLs the
 * child at a random moment, reads the pipe, recovers the directory
 * in-process and checks:
 *   - every acknowledged order exists, for its customer, with its seat,
 *     and is SOLD/UNDER_REVIEW unless a cancel of it may have happened;
 *   - every acknowledged cancel is CANCELED;
 *   - hf_sm_check: no seat owned twice, item counters = sums of lines;
 *   - close + reopen gives the same digest (replay is exact).
 * Usage: crash-kill9 [ROUNDS]; HF_SEED=s fixes the random kill moments.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/assert.h"
#include "engine/embedded.h"
#include "engine/engine.h"
#include "workload.h"
#include "wtest.h"

#define SUBMITTERS 6
#define EVENTS 4
#define SEATS 64
#define ITEMS 3

enum ack_kind { ACK_ORDER = 1, ACK_CANCEL = 2 };

struct ack {
	uint32_t kind;
	uint32_t event, seat, customer;
	uint64_t order;
};

static uint64_t seed;
static int ack_fd;
static atomic_bool stop_child;

static void kill9_config(struct hf_engine_config *cfg, const char *dir)
{
	hf_engine_config_default(cfg);
	cfg->data_dir = dir;
	wl_config(&cfg->sm);
	cfg->sm.max_customers = 256;
	cfg->sm.max_orders = 1u << 16;
	cfg->sm.max_lines = 1u << 18;
	cfg->sm.max_holds = 1024;
	cfg->fsync = HF_FSYNC_ALWAYS;
	cfg->segment_bytes = 256 << 10;
	cfg->snapshot_every_s = 0;
	cfg->snapshot_every_records = 200;
}

static void fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "crash-kill9: FAILED (seed %" PRIu64 ", rerun: HF_SEED=%" PRIu64 "): ", seed,
		seed);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

/* ---- the child ---------------------------------------------------------- */

struct sub {
	struct hf_engine *e;
	uint32_t id;
	uint64_t rng;
	uint64_t mine[256]; /* own acknowledged orders, to cancel some */
	uint32_t n_mine;
};

static void ack_write(const struct ack *a)
{
	ssize_t n = write(ack_fd, a, sizeof *a); /* <= PIPE_BUF: atomic */
	HF_ASSERT(n == (ssize_t)sizeof *a);
}

static void *submitter(void *arg)
{
	struct sub *s = arg;
	struct wt_sync *x = malloc(sizeof *x);
	HF_ASSERT(x);
	while (!atomic_load(&stop_child)) {
		uint32_t r = (uint32_t)(wl_next(&s->rng) % 100);
		uint32_t cust = s->id * 40 + (uint32_t)(wl_next(&s->rng) % 40);
		wt_sync_init(x);
		struct ack a = {0};
		if (r < 70 || s->n_mine == 0) {
			a.kind = ACK_ORDER;
			a.event = (uint32_t)(wl_next(&s->rng) % EVENTS);
			a.seat = (uint32_t)(wl_next(&s->rng) % SEATS);
			a.customer = cust;
			wl_order_seat_cmd(&x->wc, a.event, a.seat, cust);
			if (r % 3 == 0) {
				x->wc.items[0].item = (struct hf_str){"I1", 2};
				x->wc.items[0].quantity = 1;
				x->wc.items[0].partial = false;
				x->wc.cmd.u.lines.n_items = 1;
				x->wc.cmd.u.lines.items = x->wc.items;
			}
		} else if (r < 85) {
			a.kind = ACK_CANCEL;
			uint32_t k = (uint32_t)(wl_next(&s->rng) % s->n_mine);
			a.order = s->mine[k];
			s->mine[k] = s->mine[--s->n_mine];
			memset(&x->wc.cmd, 0, sizeof x->wc.cmd);
			x->wc.cmd.type = HF_CMD_ORDER_CANCEL;
			x->wc.cmd.admin = true;
			x->wc.cmd.u.order_op.order = a.order;
		} else {
			/* a hold and, later, maybe nothing: it expires or stays */
			wl_order_seat_cmd(&x->wc, (uint32_t)(wl_next(&s->rng) % EVENTS),
					  (uint32_t)(wl_next(&s->rng) % SEATS), cust);
			x->wc.cmd.type = HF_CMD_HOLD_CREATE;
			x->wc.cmd.u.lines.ttl_s = 1 + (uint32_t)(wl_next(&s->rng) % 3);
		}
		x->req.cmd = x->wc.cmd;
		wt_submit_wait(s->e, x);
		if (x->req.status != HF_ENGINE_OK || x->req.reply.result != HF_OK)
			continue;
		if (a.kind == ACK_ORDER) {
			a.order = x->req.reply.booking.id;
			if (s->n_mine < 256)
				s->mine[s->n_mine++] = a.order;
			ack_write(&a);
		} else if (a.kind == ACK_CANCEL) {
			ack_write(&a);
		}
	}
	free(x);
	return NULL;
}

static void child_main(const char *dir, uint64_t child_seed)
{
	struct hf_engine_config cfg;
	kill9_config(&cfg, dir);
	char err[1024];
	struct hf_engine *e = hf_engine_open(&cfg, err, sizeof err);
	if (!e) {
		fprintf(stderr, "crash-kill9 child: open: %s\n", err);
		_exit(2);
	}
	/* The catalog, idempotently (ALREADY_EXISTS after the first round). */
	struct wl w;
	wl_init(&w, 1, EVENTS, SEATS, ITEMS, 8);
	w.stock = 100000;
	struct wt_sync *x = malloc(sizeof *x);
	for (uint32_t i = 0; i < wl_setup_count(&w); i++) {
		wt_sync_init(x);
		wl_setup_cmd(&w, i, &x->wc);
		x->req.cmd = x->wc.cmd;
		wt_submit_wait(e, x);
	}
	free(x);
	HF_ASSERT(write(ack_fd, "R", 1) == 1); /* ready: load starts now */
	pthread_t t[SUBMITTERS];
	struct sub subs[SUBMITTERS];
	for (uint32_t i = 0; i < SUBMITTERS; i++) {
		memset(&subs[i], 0, sizeof subs[i]);
		subs[i].e = e;
		subs[i].id = i;
		subs[i].rng = child_seed * 977 + i;
		pthread_create(&t[i], NULL, submitter, &subs[i]);
	}
	for (uint32_t i = 0; i < SUBMITTERS; i++)
		pthread_join(t[i], NULL); /* never: SIGKILL comes first */
	_exit(0);
}

/* ---- the parent -------------------------------------------------------- */

static struct ack *acks;
static size_t n_acks, cap_acks;

static void read_acks(int fd)
{
	struct ack a;
	for (;;) {
		ssize_t n = read(fd, &a, sizeof a);
		if (n == 0)
			return;
		if (n < 0 && errno == EINTR)
			continue;
		HF_ASSERT(n == (ssize_t)sizeof a);
		if (n_acks == cap_acks) {
			cap_acks = cap_acks ? cap_acks * 2 : 1024;
			acks = realloc(acks, cap_acks * sizeof *acks);
			HF_ASSERT(acks);
		}
		acks[n_acks++] = a;
	}
}

struct verify_ctx {
	uint64_t digest;
	uint64_t checked_orders, checked_cancels;
};

static void verify_read(struct hf_request *req, const struct hf_sm *sm, int64_t now)
{
	(void)now;
	struct verify_ctx *v = ((struct wt_sync *)req)->user;
	char msg[512];
	if (hf_sm_check(sm, msg, sizeof msg) < 0)
		fail("hf_sm_check after recovery: %s", msg);
	struct hf_booking *b = malloc(sizeof *b);
	HF_ASSERT(b);
	for (size_t i = 0; i < n_acks; i++) {
		const struct ack *a = &acks[i];
		bool canceled_ack = false, cancel_seen = false;
		for (size_t j = 0; j < n_acks; j++)
			if (acks[j].kind == ACK_CANCEL && acks[j].order == a->order)
				canceled_ack = true;
		(void)cancel_seen;
		if (hf_sm_order_view(sm, a->order, b) != HF_OK)
			fail("acknowledged order %" PRIu64 " is missing after restart", a->order);
		if (a->kind == ACK_CANCEL) {
			if (b->state != HF_ORDER_CANCELED)
				fail("acknowledged cancel of order %" PRIu64 " lost (status %s)", a->order,
				     hf_order_status_name(b->state));
			v->checked_cancels++;
			continue;
		}
		char cname[16];
		snprintf(cname, sizeof cname, "C%u", a->customer);
		struct hf_str cn = hf_sm_customer_name(sm, b->customer);
		if (cn.len != strlen(cname) || memcmp(cn.ptr, cname, cn.len))
			fail("order %" PRIu64 " belongs to another customer", a->order);
		if (b->n_seats != 1)
			fail("order %" PRIu64 " has %u seats", a->order, b->n_seats);
		uint32_t ev;
		struct hf_str sid = hf_sm_seat_id(sm, b->seats[0].seat, &ev);
		char sname[16];
		snprintf(sname, sizeof sname, "S%u", a->seat);
		if (sid.len != strlen(sname) || memcmp(sid.ptr, sname, sid.len))
			fail("order %" PRIu64 " holds another seat", a->order);
		struct hf_seat_info si;
		hf_sm_seat_info(sm, b->seats[0].seat, &si);
		if (b->state != HF_ORDER_CANCELED && si.state != HF_SEAT_SOLD)
			fail("seat of live order %" PRIu64 " is not SOLD", a->order);
		if (b->state == HF_ORDER_CANCELED && !canceled_ack) {
			/* a cancel that was applied but whose ack the kill cut off:
			 * allowed (the child cancels only its own acked orders) */
		}
		v->checked_orders++;
	}
	free(b);
	v->digest = hf_sm_digest(sm);
}

static uint64_t verify(const char *dir, struct verify_ctx *v)
{
	struct hf_engine_config cfg;
	kill9_config(&cfg, dir);
	cfg.test_clock = true; /* no TICK moves the state while we compare digests */
	char err[1024];
	struct hf_engine *e = hf_engine_open(&cfg, err, sizeof err);
	if (!e)
		fail("recovery refused after kill -9: %s", err);
	struct wt_sync *x = malloc(sizeof *x);
	wt_sync_init(x);
	x->req.read = verify_read;
	x->user = v;
	wt_submit_wait(e, x);
	free(x);
	hf_engine_close(e);
	return v->digest;
}

static uint64_t rnd(uint64_t *s)
{
	return wl_next(s);
}

int main(int argc, char **argv)
{
	uint32_t rounds = argc > 1 ? (uint32_t)atoi(argv[1]) : 20;
	const char *env = getenv("HF_SEED");
	seed = env && *env ? strtoull(env, NULL, 10) : (uint64_t)time(NULL);
	uint64_t rng = seed;
	char *dir = wt_tmpdir();
	uint64_t total_orders = 0, total_cancels = 0;
	for (uint32_t round = 0; round < rounds; round++) {
		int p[2];
		HF_ASSERT(pipe(p) == 0);
		pid_t pid = fork();
		HF_ASSERT(pid >= 0);
		if (pid == 0) {
			close(p[0]);
			ack_fd = p[1];
			child_main(dir, seed + round);
		}
		close(p[1]);
		char ready;
		if (read(p[0], &ready, 1) != 1) {
			int st;
			waitpid(pid, &st, 0);
			fail("round %u: the child died before load (status %d)", round, st);
		}
		/* Let the load run a random while, then kill -9. */
		usleep((useconds_t)(30000 + rnd(&rng) % 250000));
		kill(pid, SIGKILL);
		int st;
		waitpid(pid, &st, 0);
		if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGKILL)
			fail("round %u: child ended otherwise than by SIGKILL (status %d)", round, st);
		read_acks(p[0]);
		close(p[0]);
		struct verify_ctx v = {0};
		uint64_t d1 = verify(dir, &v);
		struct verify_ctx v2 = {0};
		uint64_t d2 = verify(dir, &v2); /* from the snapshot written at close */
		if (d1 != d2)
			fail("round %u: digest changed across a clean restart", round);
		total_orders = v.checked_orders;
		total_cancels = v.checked_cancels;
	}
	printf("crash-kill9: %u kill -9 rounds, %zu acknowledged writes, all present after restart "
	       "(%" PRIu64 " orders, %" PRIu64 " cancels checked in the last round)\n",
	       rounds, n_acks, total_orders, total_cancels);
	free(acks);
	wt_rmtree(dir);
	return 0;
}
