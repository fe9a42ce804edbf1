/*
 * workload.h: seeded random booking commands for the wal and crash tests.
 * A catalog (events E0.. with seats S0.., items I0..) and then a stream of
 * holds, orders, confirms, releases, cancels, extends and restocks from
 * customers C0.., many of them refused (seats taken, unknown holds): the
 * refusals are logged too and must replay the same.
 *
 * Ownership: a struct wl_cmd owns every byte its cmd points at; fill it in
 * place (wl_*_cmd) and never copy it by value while cmd is in use.
 */
#ifndef HF_TESTS_WAL_WORKLOAD_H
#define HF_TESTS_WAL_WORKLOAD_H

#include <stdbool.h>
#include <stdint.h>

#include "core/cmd.h"
#include "core/sm.h"

#define WL_SEATS_PER_CMD 4
#define WL_EVENT_SEATS_MAX 64

struct wl {
	uint64_t rng;
	uint32_t events, seats_per_event, items, customers;
	uint32_t stock;
	uint64_t ids_seen; /* hold/order ids are guessed in 1..ids_seen+2 */
};

struct wl_cmd {
	struct hf_cmd cmd;
	char strs[2048];
	uint32_t strs_used;
	struct hf_seat_ref seats[WL_SEATS_PER_CMD];
	struct hf_item_ref items[2];
	struct hf_seat_spec specs[WL_EVENT_SEATS_MAX];
};

/* A small sm config that the workload fits in (some tables fill up, on
 * purpose: CAPACITY_FULL must replay too). */
void wl_config(struct hf_sm_config *cfg /* out */);
void wl_init(struct wl *w, uint64_t seed, uint32_t events, uint32_t seats_per_event,
	     uint32_t items, uint32_t customers);
/* Commands that make the catalog: events first, then items. */
uint32_t wl_setup_count(const struct wl *w);
void wl_setup_cmd(struct wl *w, uint32_t i, struct wl_cmd *out);
/* One random command. */
void wl_random_cmd(struct wl *w, struct wl_cmd *out);
/* A buy-now order of one seat of one event for customer `customer` (the
 * kill -9 test: an acknowledged OK must be present after restart). */
void wl_order_seat_cmd(struct wl_cmd *out, uint32_t event, uint32_t seat, uint32_t customer);
uint64_t wl_next(uint64_t *rng);

#endif
