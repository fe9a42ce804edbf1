/*
 * arena.c: see arena.h. Chunks (whole pages, header included) double from
 * HF_ARENA_CHUNK_MIN; a request bigger than a chunk gets a chunk of its own
 * size.
 */
#include "server/arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "base/mem.h"

#define HF_ARENA_CHUNK_MIN (16u * 1024u)
/* The largest chunk a connection keeps between requests: a POST /batch of
 * HF_BATCH_OPS_MAX buy-now operations fits in 1 MiB. */
#define HF_ARENA_KEEP_MAX (1024u * 1024u)

struct hf_arena_chunk {
	struct hf_arena_chunk *next;
	size_t cap;
	max_align_t data[];
};

/* Chunks are kept out of the snapshot child (hf_mem_unshared): requests
 * live in them and the engine's threads write each parked request's reply
 * and status, so shared pages stalled the log pipeline after each fork
 * for a copy fault per parked request (~0.5 s at 6,400 in flight). */
static struct hf_arena_chunk *chunk_new(size_t bytes)
{
	HF_ASSERT(bytes % HF_MEM_PAGE == 0);
	struct hf_arena_chunk *c = hf_mem_unshared(bytes);
	if (!c)
		return NULL;
	c->cap = bytes - sizeof(struct hf_arena_chunk);
	c->next = NULL;
	return c;
}

static size_t chunk_bytes(const struct hf_arena_chunk *c)
{
	return sizeof(*c) + c->cap;
}

/* The chunks of connections that went idle, kept for the next request on
 * this thread (hf_arena_release): an idle keep-alive connection holds no
 * chunk, yet a busy one does not pay an allocation (and the madvise of
 * hf_mem_unshared) per request. Per thread, because each HTTP loop is one
 * and its connections never leave it; bounded in chunks and bytes. */
#define HF_ARENA_POOL_CHUNKS 256u
#define HF_ARENA_POOL_BYTES (64u * 1024u * 1024u)
static _Thread_local struct {
	struct hf_arena_chunk *head;
	unsigned n;
	size_t bytes;
} pool;

/* A pooled chunk of at least `bytes` (any, when bytes is 0), or NULL. */
static struct hf_arena_chunk *pool_take(size_t bytes)
{
	struct hf_arena_chunk **p = &pool.head;
	while (*p && chunk_bytes(*p) < bytes)
		p = &(*p)->next;
	struct hf_arena_chunk *c = *p;
	if (c) {
		*p = c->next;
		c->next = NULL;
		pool.n--;
		pool.bytes -= chunk_bytes(c);
	}
	return c;
}

static void chunk_free(struct hf_arena_chunk *c)
{
	hf_mem_unshared_free(c, chunk_bytes(c));
}

void *hf_arena_alloc(struct hf_arena *a, size_t n)
{
	void *p = hf_arena_alloc_raw(a, n);
	if (p)
		memset(p, 0, n);
	return p;
}

void *hf_arena_alloc_raw(struct hf_arena *a, size_t n)
{
	n = (n + 15u) & ~(size_t)15u;
	if (n == 0)
		n = 16;
	if (!a->head || a->used + n > a->head->cap) {
		size_t bytes = a->head ? chunk_bytes(a->head) * 2 : HF_ARENA_CHUNK_MIN;
		if (bytes < sizeof(struct hf_arena_chunk) + n)
			bytes = (sizeof(struct hf_arena_chunk) + n + HF_MEM_PAGE - 1) &
				~(size_t)(HF_MEM_PAGE - 1);
		struct hf_arena_chunk *c = pool_take(a->head ? bytes : sizeof(struct hf_arena_chunk) + n);
		if (!c)
			c = chunk_new(bytes);
		if (!c)
			return NULL;
		c->next = a->head;
		a->head = c;
		a->used = 0;
	}
	void *p = (char *)a->head->data + a->used;
	a->used += n;
	a->total += n;
	return p;
}

char *hf_arena_strndup(struct hf_arena *a, const char *s, size_t n)
{
	char *p = hf_arena_alloc_raw(a, n + 1);
	if (!p)
		return NULL;
	memcpy(p, s, n);
	p[n] = 0;
	return p;
}

/* Keeps one chunk for the next request: the newest (the largest, chunks
 * double) when it is at most HF_ARENA_KEEP_MAX, so a connection that
 * sends batches does not malloc and fault in a large chunk for each one;
 * else the first (a single large request does not pin its memory). */
void hf_arena_reset(struct hf_arena *a)
{
	struct hf_arena_chunk *c = a->head, *keep = NULL;
	if (!c)
		return;
	if (chunk_bytes(c) <= HF_ARENA_KEEP_MAX)
		keep = c;
	while (c) {
		struct hf_arena_chunk *next = c->next;
		if (!keep && !next)
			keep = c;
		if (c != keep)
			chunk_free(c);
		c = next;
	}
	keep->next = NULL;
	a->head = keep;
	a->used = 0;
	a->total = 0;
}

void hf_arena_release(struct hf_arena *a)
{
	hf_arena_reset(a);
	struct hf_arena_chunk *c = a->head;
	if (!c)
		return;
	a->head = NULL;
	if (pool.n < HF_ARENA_POOL_CHUNKS && pool.bytes + chunk_bytes(c) <= HF_ARENA_POOL_BYTES) {
		c->next = pool.head;
		pool.head = c;
		pool.n++;
		pool.bytes += chunk_bytes(c);
	} else {
		chunk_free(c);
	}
}

void hf_arena_pool_drain(void)
{
	struct hf_arena_chunk *c;
	while ((c = pool_take(0)))
		chunk_free(c);
}

void hf_arena_free(struct hf_arena *a)
{
	struct hf_arena_chunk *c = a->head;
	while (c) {
		struct hf_arena_chunk *next = c->next;
		chunk_free(c);
		c = next;
	}
	a->head = NULL;
	a->used = 0;
	a->total = 0;
}
