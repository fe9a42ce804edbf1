/*
 * hash.h: 64-bit hashing of bytes and integers for the in-memory indexes
 * and the state digest. Not cryptographic; stable across runs and machines
 * (the digest of a state must not depend on where it was computed).
 */
#ifndef HF_BASE_HASH_H
#define HF_BASE_HASH_H

#include <stddef.h>
#include <stdint.h>

/* A strong 64-bit finaliser (splitmix64): every input bit moves every
 * output bit. */
static inline uint64_t hf_hash_u64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

/* Hash of len bytes, continuing from seed (0 to start). */
uint64_t hf_hash_bytes(const void *p, size_t len, uint64_t seed);

/* Folds v into a running digest. */
static inline uint64_t hf_hash_mix(uint64_t h, uint64_t v)
{
	return hf_hash_u64(h ^ (v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2)));
}

#endif
