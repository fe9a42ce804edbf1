/*
 * arena.h: per-request memory. Everything a request needs (its body, the
 * command built from it, the engine request, the rendered response) is
 * carved from one arena that belongs to the connection and is reset after
 * each response, so a request never frees anything piecemeal and a
 * keep-alive connection reuses a chunk.
 *
 * Invariants: allocations are 16-byte aligned; a pointer from the arena is
 * valid until the next hf_arena_reset or hf_arena_free; one chunk is kept
 * across resets (the largest up to 1 MiB, see arena.c), the others are
 * returned to malloc. Not thread-safe:
 * one request at a time owns the arena (the engine thread writes into it
 * only while the connection is parked, when nothing else touches it).
 */
#ifndef HF_SERVER_ARENA_H
#define HF_SERVER_ARENA_H

#include <stddef.h>

struct hf_arena_chunk;

struct hf_arena {
	struct hf_arena_chunk *head; /* newest chunk first */
	size_t used;                 /* bytes used in head */
	size_t total;                /* bytes handed out since the last reset */
};

/* A zeroed struct hf_arena is a valid empty arena. */
/* Returns n zeroed bytes, or NULL when malloc fails. */
void *hf_arena_alloc(struct hf_arena *a, size_t n);
/* n bytes, not zeroed: for buffers the caller fills before reading. */
void *hf_arena_alloc_raw(struct hf_arena *a, size_t n);
/* Copies n bytes into the arena and adds a NUL (for strings). */
char *hf_arena_strndup(struct hf_arena *a, const char *s, size_t n);
/* Frees all chunks but one; everything handed out becomes invalid. */
void hf_arena_reset(struct hf_arena *a);
void hf_arena_free(struct hf_arena *a);
/* Frees everything handed out and gives the arena's kept chunk to this
 * thread's pool, from which the next allocation of an empty arena on this
 * thread takes it: an idle connection holds no chunk. */
void hf_arena_release(struct hf_arena *a);
/* Frees this thread's pool (at the end of an HTTP thread). */
void hf_arena_pool_drain(void);

#endif
