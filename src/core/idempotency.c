/*
 * idempotency.c: the table of first replies, so that a retried command
 * (same customer, same Idempotency-Key, same fingerprint) gets its first
 * reply back instead of being applied twice, across restarts (the table is
 * part of the state: logged commands rebuild it, snapshots carry it).
 *
 * Layout: a FIFO ring of entries in storing order over a ring of bytes;
 * each entry's bytes are [customer][idem key][encoded hf_reply]. Entries
 * leave only from the front, when older than idem_retention_ms, so the
 * live bytes are one contiguous run that may wrap once. A store needs room
 * for the worst-case reply, checked before the command is applied, so a
 * full table refuses (HF_CAPACITY_FULL) instead of forgetting a reply early.
 *
 * Map key: a 64-bit hash of (customer, key). Two different pairs with one
 * hash are told apart by comparing bytes; the later one is then simply not
 * deduplicated against the earlier (never confused with it).
 */
#include <string.h>

#include "core/internal.h"

static uint64_t idem_key_hash(struct hf_str customer, struct hf_str key)
{
	uint64_t h = hf_hash_bytes(key.ptr, key.len, hf_hash_bytes(customer.ptr, customer.len, 0x1de));
	return h ? h : 1;
}

static uint32_t entry_pos(const struct hf_sm *sm, uint32_t k)
{
	return (sm->idem_head + k) % sm->cfg.idem_entries;
}

/* Where len contiguous bytes fit, or UINT32_MAX. */
static uint32_t data_place(const struct hf_sm *sm, uint32_t len)
{
	uint32_t cap = sm->cfg.idem_bytes;
	if (sm->idem_count == 0)
		return len <= cap ? 0 : UINT32_MAX;
	const struct hf_idem_entry *oldest = &sm->idem[sm->idem_head];
	const struct hf_idem_entry *newest = &sm->idem[entry_pos(sm, sm->idem_count - 1)];
	uint32_t start = oldest->data_off, end = newest->data_off + newest->data_len;
	if (end > start) { /* not wrapped: free at [end, cap) and [0, start) */
		if (cap - end >= len)
			return end;
		return start >= len ? 0 : UINT32_MAX;
	}
	return start - end >= len ? end : UINT32_MAX;
}

static bool entry_matches(const struct hf_sm *sm, const struct hf_idem_entry *e,
			  struct hf_str customer, struct hf_str key)
{
	const uint8_t *d = sm->idem_data + e->data_off;
	/* an empty hf_str may have a NULL ptr: never hand it to memcmp */
	return e->customer_len == customer.len && e->key_len == key.len &&
	       (customer.len == 0 || memcmp(d, customer.ptr, customer.len) == 0) &&
	       memcmp(d + customer.len, key.ptr, key.len) == 0;
}

enum hf_idem_lookup hf_idem_lookup(struct hf_sm *sm, const struct hf_cmd *cmd, struct hf_reply *r)
{
	uint64_t key = idem_key_hash(cmd->customer, cmd->idem_key);
	uint32_t pos = hf_map_get(&sm->idem_by_key, key);
	if (pos != NIL && entry_matches(sm, &sm->idem[pos], cmd->customer, cmd->idem_key)) {
		const struct hf_idem_entry *e = &sm->idem[pos];
		if (e->fingerprint != cmd->idem_fingerprint)
			return HF_IDEM_REUSED;
		uint32_t skip = e->customer_len + e->key_len;
		int64_t n = hf_reply_decode(sm->idem_data + e->data_off + skip, e->data_len - skip, r);
		HF_ASSERT(n == (int64_t)(e->data_len - skip));
		r->replayed = true;
		return HF_IDEM_REPLAY;
	}
	uint32_t need = cmd->customer.len + cmd->idem_key.len + HF_REPLY_BYTES_MAX;
	if (sm->idem_count >= sm->cfg.idem_entries || data_place(sm, need) == UINT32_MAX)
		return HF_IDEM_FULL;
	return HF_IDEM_NEW;
}

void hf_idem_store(struct hf_sm *sm, const struct hf_cmd *cmd, const struct hf_reply *r)
{
	uint8_t buf[HF_REPLY_BYTES_MAX];
	int64_t n = hf_reply_encode(r, buf, sizeof(buf));
	HF_ASSERT(n > 0);
	uint32_t len = cmd->customer.len + cmd->idem_key.len + (uint32_t)n;
	uint32_t off = data_place(sm, len);
	HF_ASSERT(off != UINT32_MAX && sm->idem_count < sm->cfg.idem_entries);
	uint8_t *d = sm->idem_data + off;
	if (cmd->customer.len)
		memcpy(d, cmd->customer.ptr, cmd->customer.len);
	memcpy(d + cmd->customer.len, cmd->idem_key.ptr, cmd->idem_key.len);
	memcpy(d + cmd->customer.len + cmd->idem_key.len, buf, (size_t)n);
	uint32_t pos = entry_pos(sm, sm->idem_count);
	struct hf_idem_entry *e = &sm->idem[pos];
	e->key = idem_key_hash(cmd->customer, cmd->idem_key);
	e->fingerprint = cmd->idem_fingerprint;
	e->stored_at_ms = sm->now_ms;
	e->data_off = off;
	e->data_len = len;
	e->customer_len = (uint16_t)cmd->customer.len;
	e->key_len = (uint16_t)cmd->idem_key.len;
	sm->idem_count++;
	hf_map_put(&sm->idem_by_key, e->key, pos);
}

void hf_idem_expire(struct hf_sm *sm, int64_t now_ms)
{
	while (sm->idem_count > 0) {
		const struct hf_idem_entry *e = &sm->idem[sm->idem_head];
		if (e->stored_at_ms > now_ms - sm->cfg.idem_retention_ms)
			break;
		if (hf_map_get(&sm->idem_by_key, e->key) == sm->idem_head)
			hf_map_del(&sm->idem_by_key, e->key);
		sm->idem_head = (sm->idem_head + 1) % sm->cfg.idem_entries;
		sm->idem_count--;
	}
	if (sm->idem_count == 0)
		sm->idem_head = 0;
}
