/*
 * index.c: the string pool and the u64 -> u32 maps of the state.
 *
 * Both are open-addressing tables sized at init to at most half full at
 * capacity, so a probe sequence stays short and no insert ever allocates.
 * Maps delete by backward shift (no tombstones), so a long-lived table
 * never degrades.
 */
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "core/internal.h"

static uint32_t pow2_at_least(uint64_t n)
{
	uint64_t p = 16;
	while (p < n)
		p <<= 1;
	HF_ASSERT(p <= (1ull << 31));
	return (uint32_t)p;
}

/* ---- string pool -------------------------------------------------------- */

int hf_strpool_init(struct hf_strpool *p, uint32_t cap_bytes)
{
	memset(p, 0, sizeof(*p));
	p->cap = cap_bytes + 1;
	p->bytes = hf_mem_table(p->cap, 1);
	/* Room for a string per 8 bytes of pool at half load: ids like
	 * "A-12" cost 6 bytes, names more; hf_strpool_room refuses beyond. */
	uint32_t nslots = pow2_at_least((uint64_t)cap_bytes / 8 * 2 + 16);
	p->slots = hf_mem_table(nslots, sizeof(uint32_t));
	p->mask = nslots - 1;
	p->used = 1;
	return p->bytes && p->slots ? 0 : -1;
}

void hf_strpool_free(struct hf_strpool *p)
{
	free(p->bytes);
	free(p->slots);
	memset(p, 0, sizeof(*p));
}

struct hf_str hf_strpool_get(const struct hf_strpool *p, uint32_t sid)
{
	struct hf_str s = {"", 0};
	if (sid == 0)
		return s;
	const uint8_t *at = p->bytes + sid - 1;
	s.len = (uint32_t)at[0] | (uint32_t)at[1] << 8;
	s.ptr = (const char *)at + 2;
	return s;
}

static uint32_t strpool_slot(const struct hf_strpool *p, struct hf_str s)
{
	uint32_t i = (uint32_t)hf_hash_bytes(s.ptr, s.len, 0) & p->mask;
	for (;;) {
		uint32_t sid = p->slots[i];
		if (sid == 0)
			return i;
		struct hf_str t = hf_strpool_get(p, sid);
		if (t.len == s.len && memcmp(t.ptr, s.ptr, s.len) == 0)
			return i;
		i = (i + 1) & p->mask;
	}
}

uint32_t hf_strpool_find(const struct hf_strpool *p, struct hf_str s)
{
	if (s.len == 0)
		return 0;
	return p->slots[strpool_slot(p, s)];
}

bool hf_strpool_room(const struct hf_strpool *p, uint64_t bytes, uint32_t strings)
{
	return (uint64_t)p->used + bytes <= p->cap && (uint64_t)p->count + strings <= p->mask / 2;
}

uint32_t hf_strpool_intern(struct hf_strpool *p, struct hf_str s)
{
	if (s.len == 0)
		return 0;
	HF_ASSERT(s.len <= UINT16_MAX);
	uint32_t i = strpool_slot(p, s);
	if (p->slots[i])
		return p->slots[i];
	HF_ASSERT(hf_strpool_room(p, hf_strpool_cost(s), 1));
	uint32_t sid = p->used + 1;
	uint8_t *at = p->bytes + p->used;
	at[0] = (uint8_t)s.len;
	at[1] = (uint8_t)(s.len >> 8);
	memcpy(at + 2, s.ptr, s.len);
	p->used += 2 + s.len;
	p->slots[i] = sid;
	p->count++;
	return sid;
}

/* ---- maps --------------------------------------------------------------- */

int hf_map_init(struct hf_map *m, uint32_t capacity)
{
	uint32_t n = pow2_at_least((uint64_t)capacity * 2);
	m->keys = hf_mem_table(n, sizeof(uint64_t));
	m->vals = hf_mem_table(n, sizeof(uint32_t));
	m->mask = n - 1;
	m->count = 0;
	return m->keys && m->vals ? 0 : -1;
}

void hf_map_free(struct hf_map *m)
{
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof(*m));
}

static uint32_t map_slot(const struct hf_map *m, uint64_t key)
{
	uint32_t i = (uint32_t)hf_hash_u64(key) & m->mask;
	while (m->keys[i] != 0 && m->keys[i] != key)
		i = (i + 1) & m->mask;
	return i;
}

uint32_t hf_map_get(const struct hf_map *m, uint64_t key)
{
	HF_ASSERT(key != 0);
	uint32_t i = map_slot(m, key);
	return m->keys[i] ? m->vals[i] : NIL;
}

uint32_t *hf_map_ref(struct hf_map *m, uint64_t key)
{
	HF_ASSERT(key != 0);
	uint32_t i = map_slot(m, key);
	return m->keys[i] ? &m->vals[i] : NULL;
}

void hf_map_put(struct hf_map *m, uint64_t key, uint32_t val)
{
	HF_ASSERT(key != 0);
	uint32_t i = map_slot(m, key);
	if (m->keys[i] == 0) {
		/* Sized at init for twice the capacity of what it indexes. */
		HF_ASSERT(m->count < m->mask / 2 + 1);
		m->keys[i] = key;
		m->count++;
	}
	m->vals[i] = val;
}

void hf_map_del(struct hf_map *m, uint64_t key)
{
	uint32_t i = map_slot(m, key);
	if (m->keys[i] == 0)
		return;
	m->count--;
	/* Backward shift: pull later members of the probe run into the hole
	 * unless their home slot lies cyclically in (hole, j]. */
	uint32_t hole = i, j = i;
	for (;;) {
		j = (j + 1) & m->mask;
		if (m->keys[j] == 0)
			break;
		uint32_t home = (uint32_t)hf_hash_u64(m->keys[j]) & m->mask;
		bool stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
		if (stays)
			continue;
		m->keys[hole] = m->keys[j];
		m->vals[hole] = m->vals[j];
		hole = j;
	}
	m->keys[hole] = 0;
}

/* ---- ids ---------------------------------------------------------------- */

/* [A-Za-z0-9._:-]{1,64}, as one 256-entry table. */
static const uint8_t id_char[256] = {
	['.'] = 1, [':'] = 1, ['-'] = 1, ['_'] = 1,
	['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,
	['8'] = 1, ['9'] = 1,
	['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1,
	['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1,
	['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
	['Y'] = 1, ['Z'] = 1,
	['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1,
	['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1,
	['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
	['y'] = 1, ['z'] = 1,
};

bool hf_id_valid(struct hf_str s)
{
	if (s.len < 1 || s.len > HF_ID_LEN_MAX || !s.ptr)
		return false;
	for (uint32_t i = 0; i < s.len; i++)
		if (!id_char[(uint8_t)s.ptr[i]])
			return false;
	return true;
}

bool hf_strpool_valid(const struct hf_strpool *p, uint32_t sid)
{
	if (sid == 0 || sid > p->used || p->used - (sid - 1) < 2)
		return false;
	const uint8_t *at = p->bytes + sid - 1;
	uint32_t len = (uint32_t)at[0] | (uint32_t)at[1] << 8;
	if (len == 0 || len > p->used - (sid - 1) - 2)
		return false;
	return hf_strpool_find(p, hf_strpool_get(p, sid)) == sid;
}

/* Re-creates the intern table from the pool bytes (snapshot load). Returns
 * -1 if the bytes are not a sequence of well-formed, distinct strings. */
int hf_strpool_rebuild(struct hf_strpool *p)
{
	HF_ASSERT(p->count == 0); /* a fresh pool: the slots are all zero */
	uint32_t pos = 1;
	while (pos < p->used) {
		if (p->used - pos < 2)
			return -1;
		uint32_t len = (uint32_t)p->bytes[pos] | (uint32_t)p->bytes[pos + 1] << 8;
		if (len == 0 || len > p->used - pos - 2 || p->count >= p->mask / 2)
			return -1;
		struct hf_str s = {(const char *)p->bytes + pos + 2, len};
		uint32_t i = strpool_slot(p, s);
		if (p->slots[i])
			return -1;
		p->slots[i] = pos + 1;
		p->count++;
		pos += 2 + len;
	}
	return 0;
}
