/* workload.c: see workload.h. */
#include "workload.h"

#include <stdio.h>
#include <string.h>

#include "base/assert.h"

uint64_t wl_next(uint64_t *rng)
{
	uint64_t z = (*rng += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint32_t pick(struct wl *w, uint32_t n)
{
	return (uint32_t)(wl_next(&w->rng) % n);
}

void wl_config(struct hf_sm_config *cfg)
{
	hf_sm_config_default(cfg);
	cfg->max_events = 16;
	cfg->max_seats = 1024;
	cfg->max_items = 16;
	cfg->max_customers = 64;
	cfg->max_holds = 128;
	cfg->max_orders = 1024;
	cfg->max_lines = 4096;
	cfg->string_bytes = 1u << 16;
	cfg->idem_entries = 64;
	cfg->idem_bytes = 1u << 16;
	cfg->idem_retention_ms = 3600 * 1000;
	cfg->shipping_fee = 500;
	cfg->free_shipping_over = 10000;
	cfg->hold_lifetime_max_s = 3600;
}

void wl_init(struct wl *w, uint64_t seed, uint32_t events, uint32_t seats_per_event,
	     uint32_t items, uint32_t customers)
{
	HF_ASSERT(seats_per_event <= WL_EVENT_SEATS_MAX);
	memset(w, 0, sizeof *w);
	w->rng = seed;
	w->events = events;
	w->seats_per_event = seats_per_event;
	w->items = items;
	w->customers = customers;
	w->stock = 20;
}

static struct hf_str str(struct wl_cmd *c, const char *fmt, uint32_t v)
{
	char *p = c->strs + c->strs_used;
	int n = snprintf(p, sizeof c->strs - c->strs_used, fmt, v);
	HF_ASSERT(n > 0 && c->strs_used + (uint32_t)n < sizeof c->strs);
	c->strs_used += (uint32_t)n;
	return (struct hf_str){p, (uint32_t)n};
}

static void reset(struct wl_cmd *c, uint8_t type)
{
	memset(&c->cmd, 0, sizeof c->cmd);
	c->strs_used = 0;
	c->cmd.type = type;
}

uint32_t wl_setup_count(const struct wl *w)
{
	return w->events + w->items;
}

void wl_setup_cmd(struct wl *w, uint32_t i, struct wl_cmd *c)
{
	if (i < w->events) {
		reset(c, HF_CMD_EVENT_CREATE);
		c->cmd.admin = true;
		struct hf_event_create *ev = &c->cmd.u.event_create;
		ev->id = str(c, "E%u", i);
		ev->name = str(c, "show %u", i);
		ev->starts_at_ms = 1900000000000LL;
		ev->hold_ttl_s = 60;
		ev->max_per_customer = i % 2 ? 0 : 6;
		ev->n_seats = w->seats_per_event;
		for (uint32_t s = 0; s < w->seats_per_event; s++) {
			memset(&c->specs[s], 0, sizeof c->specs[s]);
			c->specs[s].id = str(c, "S%u", s);
			c->specs[s].number = (int32_t)s;
			c->specs[s].price = 1000 + 100 * (int64_t)(s % 7);
		}
		ev->seats = c->specs;
		return;
	}
	i -= w->events;
	reset(c, HF_CMD_ITEM_CREATE);
	c->cmd.admin = true;
	struct hf_item_create *it = &c->cmd.u.item_create;
	it->id = str(c, "I%u", i);
	it->name = str(c, "item %u", i);
	it->price = 250 * (int64_t)(i + 1);
	it->stock = w->stock;
}

static void lines(struct wl *w, struct wl_cmd *c, uint32_t n_seats, uint32_t n_items)
{
	struct hf_lines *l = &c->cmd.u.lines;
	uint32_t ev = pick(w, w->events);
	for (uint32_t k = 0; k < n_seats; k++) {
		c->seats[k].event = str(c, "E%u", ev);
		c->seats[k].seat = str(c, "S%u", pick(w, w->seats_per_event + 1)); /* +1: unknown */
	}
	for (uint32_t k = 0; k < n_items; k++) {
		c->items[k].item = str(c, "I%u", pick(w, w->items));
		c->items[k].quantity = 1 + pick(w, 4);
		c->items[k].partial = pick(w, 2);
	}
	l->n_seats = n_seats;
	l->seats = n_seats ? c->seats : NULL;
	l->n_items = n_items;
	l->items = n_items ? c->items : NULL;
}

static uint64_t some_id(struct wl *w)
{
	return 1 + wl_next(&w->rng) % (w->ids_seen + 3);
}

void wl_random_cmd(struct wl *w, struct wl_cmd *c)
{
	uint32_t r = pick(w, 100);
	uint32_t cust = pick(w, w->customers);
	w->ids_seen++;
	if (r < 35) {
		reset(c, HF_CMD_HOLD_CREATE);
		lines(w, c, pick(w, WL_SEATS_PER_CMD), pick(w, 3));
		c->cmd.u.lines.ttl_s = pick(w, 3) ? 0 : 1 + pick(w, 120);
	} else if (r < 50) {
		reset(c, HF_CMD_ORDER_CREATE);
		lines(w, c, 1 + pick(w, 2), pick(w, 2));
	} else if (r < 65) {
		reset(c, HF_CMD_HOLD_CONFIRM);
		c->cmd.u.hold_op.hold = some_id(w);
	} else if (r < 72) {
		reset(c, HF_CMD_HOLD_RELEASE);
		c->cmd.u.hold_op.hold = some_id(w);
	} else if (r < 78) {
		reset(c, HF_CMD_HOLD_EXTEND);
		c->cmd.u.hold_op.hold = some_id(w);
		c->cmd.u.hold_op.ttl_s = 1 + pick(w, 300);
	} else if (r < 84) {
		reset(c, HF_CMD_HOLD_ADD);
		c->cmd.u.lines.hold = some_id(w);
		lines(w, c, 1, pick(w, 2));
	} else if (r < 88) {
		reset(c, HF_CMD_ORDER_CANCEL);
		c->cmd.u.order_op.order = some_id(w);
	} else if (r < 92) {
		reset(c, HF_CMD_ORDER_STATUS);
		c->cmd.admin = true;
		c->cmd.u.order_op.order = some_id(w);
		c->cmd.u.order_op.status = (uint8_t)(1 + pick(w, 4));
		c->cmd.u.order_op.expect = HF_ORDER_STATUS_ANY;
	} else if (r < 96) {
		reset(c, HF_CMD_ITEM_RESTOCK);
		c->cmd.admin = true;
		c->cmd.u.item_restock.item = str(c, "I%u", pick(w, w->items));
		c->cmd.u.item_restock.quantity = 1 + pick(w, 5);
		return;
	} else {
		reset(c, HF_CMD_HOLD_CREATE);
		lines(w, c, 1, 0);
		c->cmd.idem_key = str(c, "K%u", pick(w, 8));
		c->cmd.idem_fingerprint = pick(w, 2);
	}
	c->cmd.customer = str(c, "C%u", cust);
}

void wl_order_seat_cmd(struct wl_cmd *c, uint32_t event, uint32_t seat, uint32_t customer)
{
	reset(c, HF_CMD_ORDER_CREATE);
	c->cmd.customer = str(c, "C%u", customer);
	c->seats[0].event = str(c, "E%u", event);
	c->seats[0].seat = str(c, "S%u", seat);
	c->cmd.u.lines.n_seats = 1;
	c->cmd.u.lines.seats = c->seats;
}
