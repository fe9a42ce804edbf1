/* hash.c: see hash.h. Eight bytes at a time, then a finaliser. */
#include "base/hash.h"

#include <string.h>

uint64_t hf_hash_bytes(const void *p, size_t len, uint64_t seed)
{
	const unsigned char *s = p;
	uint64_t h = seed ^ (0x9e3779b97f4a7c15ULL * (len + 1));
	while (len >= 8) {
		uint64_t w;
		memcpy(&w, s, 8);
		h = hf_hash_u64(h ^ w) + 0x632be59bd9b4e019ULL;
		s += 8;
		len -= 8;
	}
	uint64_t tail = 0;
	for (size_t i = 0; i < len; i++)
		tail |= (uint64_t)s[i] << (8 * i);
	return hf_hash_u64(h ^ tail ^ ((uint64_t)len << 56));
}
