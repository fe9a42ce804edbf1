/*
 * rows.c: an event's seats as rows, the free-run index of each row, and
 * the two rules of SPEC section 9 that read it: choosing seats (best
 * available) and the orphan rule. sm.h's SEMANTICS ("Rows", "Choosing
 * seats", "Orphan rule") is the contract, in words; this file is one way
 * to compute it fast, tests/sim/model.c another, naive, one.
 *
 * Owns: sm->event_rows, sm->rows, sm->row_tree, sm->row_max, sm->row_seat,
 * sm->seat_at (and the sort scratch). All of it is derived from the
 * seats, and made only when first needed: an event's rows are laid out
 * (rows_layout, O(n log n)) the first time the orphan rule or best
 * available looks at them, its trees (below) built (rows_index, O(n)) the
 * first time best available chooses in it, and from then on every change
 * of a seat between FREE and not FREE keeps them (hf_catalog_seat_set
 * calls hf_rows_seat_free). An event nobody asks to choose costs nothing
 * per seat change and no memory (a tree update is O(log row length): ~14
 * levels for a 10,000-seat general-admission row). Made or not, they are a
 * function of the seats, so replay and snapshots are unaffected (a loaded
 * snapshot makes them again when first needed). Each event owns fixed
 * ranges of the tables (internal.h, struct hf_event_rows), so nothing is
 * allocated or counted globally.
 *
 * Layout. An event's rows are laid out one after the other in row_seat[],
 * in the order best available prefers them (by the seat-list index of
 * each row's first-listed seat), each row left to right (by number). So
 * "the next row" is the next entry of sm->rows, and a seat's neighbours
 * are the positions beside it inside its row.
 *
 * The free-run tree of a row is a segment tree over its positions (cap =
 * the power of two >= len leaves, padding leaves not free), each node
 * holding the free run at the start of its range, at its end and the
 * longest inside (struct hf_run). Updating one seat is O(log len); the
 * longest free run of the row is the root's `best` (kept in row->longest).
 * Above the rows, each event has a max tree over its rows' longest runs
 * (row_max), so "the next row, in preference order, with a free run of at
 * least c" is O(log rows). Choosing side by side costs that, plus
 * O(seats of the row found) to place the group in it (and again for each
 * row passed over because a section, category or the orphan rule rules
 * its runs out), plus O(count). Only when no row has room (the fallback:
 * an event nearly full) does it walk every row: O(rows + seats walked).
 *
 * While choosing, the seats the request names itself (and, in the
 * fallback, the seats already chosen) are taken out of the trees and put
 * back before returning: "free" below means free and not being taken by
 * this command.
 */
#include <stdio.h>
#include <string.h>

#include "core/internal.h"

/* ---- sorting (heapsort: no allocation, deterministic) ------------------ */

typedef bool (*less_fn)(const struct hf_sm *sm, uint32_t a, uint32_t b);

static void sift(const struct hf_sm *sm, uint32_t *a, uint32_t root, uint32_t n, less_fn less)
{
	for (;;) {
		uint32_t child = 2 * root + 1;
		if (child >= n)
			return;
		if (child + 1 < n && less(sm, a[child], a[child + 1]))
			child++;
		if (!less(sm, a[root], a[child]))
			return;
		uint32_t t = a[root];
		a[root] = a[child];
		a[child] = t;
		root = child;
	}
}

static void heapsort_u32(const struct hf_sm *sm, uint32_t *a, uint32_t n, less_fn less)
{
	/* Seat lists usually come row by row already: then one pass is all. */
	uint32_t k = 1;
	while (k < n && less(sm, a[k - 1], a[k]))
		k++;
	if (k >= n)
		return;
	for (uint32_t i = n / 2; i-- > 0;)
		sift(sm, a, i, n, less);
	for (uint32_t end = n; end-- > 1;) {
		uint32_t t = a[0];
		a[0] = a[end];
		a[end] = t;
		sift(sm, a, 0, end, less);
	}
}

/* Seats by (section, row, number, index): sids compare as numbers, which
 * only has to group equal names together. */
static bool seat_less(const struct hf_sm *sm, uint32_t a, uint32_t b)
{
	const struct hf_seat *x = &sm->seats[a], *y = &sm->seats[b];
	if (x->section != y->section)
		return x->section < y->section;
	if (x->row != y->row)
		return x->row < y->row;
	if (x->number != y->number)
		return x->number < y->number;
	return a < b;
}

/* Blocks (indices into sort_b/sort_c) by their first-listed seat. */
static bool block_less(const struct hf_sm *sm, uint32_t a, uint32_t b)
{
	return sm->sort_c[a] < sm->sort_c[b];
}

/* ---- the free-run tree ------------------------------------------------- */

static struct hf_run run_combine(struct hf_run l, struct hf_run r, uint32_t half)
{
	struct hf_run n;
	n.pre = l.pre == half ? half + r.pre : l.pre;
	n.suf = r.suf == half ? half + l.suf : r.suf;
	n.best = l.best > r.best ? l.best : r.best;
	if (l.suf + r.pre > n.best)
		n.best = l.suf + r.pre;
	return n;
}

/* ---- the event's max tree over its rows -------------------------------- */

static void max_set(struct hf_sm *sm, const struct hf_row *row, uint32_t r)
{
	const struct hf_event_rows *ev = &sm->event_rows[row->event];
	uint32_t *t = &sm->row_max[ev->rows_tree];
	uint32_t k = ev->rows_cap + (r - ev->first_row);
	t[k] = row->longest;
	for (k /= 2; k >= 1; k /= 2) {
		uint32_t m = t[2 * k] > t[2 * k + 1] ? t[2 * k] : t[2 * k + 1];
		if (t[k] == m)
			break; /* nothing above changes */
		t[k] = m;
	}
}

static void max_build(struct hf_sm *sm, const struct hf_event_rows *ev)
{
	uint32_t *t = &sm->row_max[ev->rows_tree];
	for (uint32_t i = 0; i < ev->rows_cap; i++)
		t[ev->rows_cap + i] = i < ev->n_rows ? sm->rows[ev->first_row + i].longest : 0;
	for (uint32_t k = ev->rows_cap; k-- > 1;)
		t[k] = t[2 * k] > t[2 * k + 1] ? t[2 * k] : t[2 * k + 1];
}

/* The first row index >= from (of the event's rows, 0-based) whose longest
 * free run is at least c, or n_rows. */
static uint32_t max_first(const struct hf_sm *sm, const struct hf_event_rows *ev, uint32_t node,
			  uint32_t lo, uint32_t width, uint32_t from, uint32_t c)
{
	const uint32_t *t = &sm->row_max[ev->rows_tree];
	if (lo + width <= from || t[node] < c || lo >= ev->n_rows)
		return ev->n_rows;
	if (width == 1)
		return lo;
	uint32_t half = width / 2;
	uint32_t r = max_first(sm, ev, 2 * node, lo, half, from, c);
	return r < ev->n_rows ? r : max_first(sm, ev, 2 * node + 1, lo + half, half, from, c);
}

static uint32_t next_row_with(const struct hf_sm *sm, const struct hf_event_rows *ev, uint32_t from,
			      uint32_t c)
{
	return max_first(sm, ev, 1, 0, ev->rows_cap, from, c);
}

static void tree_set(struct hf_sm *sm, struct hf_row *row, uint32_t i, bool free)
{
	struct hf_run *t = &sm->row_tree[row->tree];
	uint32_t v = free ? 1 : 0;
	uint32_t k = row->cap + i;
	t[k] = (struct hf_run){v, v, v};
	for (uint32_t half = 1; k > 1; half *= 2) {
		k /= 2;
		struct hf_run n = run_combine(t[2 * k], t[2 * k + 1], half);
		if (n.pre == t[k].pre && n.suf == t[k].suf && n.best == t[k].best)
			break; /* nothing above changes */
		t[k] = n;
	}
	if (row->longest != t[1].best) {
		row->longest = t[1].best;
		max_set(sm, row, (uint32_t)(row - sm->rows));
	}
}

static bool leaf_free(const struct hf_sm *sm, const struct hf_row *row, uint32_t i)
{
	return sm->row_tree[row->tree + row->cap + i].best != 0;
}

static uint32_t row_longest(const struct hf_sm *sm, const struct hf_row *row)
{
	(void)sm;
	return row->longest;
}

static void tree_build(struct hf_sm *sm, struct hf_row *row)
{
	struct hf_run *t = &sm->row_tree[row->tree];
	row->n_free = 0;
	for (uint32_t i = 0; i < row->cap; i++) {
		uint32_t v = i < row->len && sm->seats[sm->row_seat[row->first + i]].state == HF_SEAT_FREE;
		t[row->cap + i] = (struct hf_run){v, v, v};
		row->n_free += v;
	}
	uint32_t half = 1;
	for (uint32_t level = row->cap; level > 1; level /= 2, half *= 2)
		for (uint32_t k = level / 2; k < level; k++)
			t[k] = run_combine(t[2 * k], t[2 * k + 1], half);
	row->longest = t[1].best;
}

static uint32_t pow2_ge(uint32_t n)
{
	uint32_t p = 1;
	while (p < n)
		p *= 2;
	return p;
}

/* ---- building ---------------------------------------------------------- */

/* Lays out the event's rows (first need: best available, or the orphan
 * rule). O(n log n) for n seats, once. */
static void rows_layout(struct hf_sm *sm, uint32_t event)
{
	struct hf_event_rows *ev = &sm->event_rows[event];
	if (ev->built)
		return;
	const struct hf_event *evt = &sm->events[event];
	uint32_t n = evt->n_seats, f = evt->first_seat;
	HF_ASSERT(n <= HF_EVENT_SEATS_MAX && n <= sm->cfg.max_seats); /* the sort scratch's size */
	uint32_t *by_name = sm->sort_a; /* seats by (section, row, number, index) */
	uint32_t *bstart = sm->sort_b;  /* block k starts at by_name[bstart[k]] */
	uint32_t *bmin = sm->sort_c;    /* and its first-listed seat */
	uint32_t *border = sm->sort_d;  /* blocks in preference order */
	for (uint32_t i = 0; i < n; i++)
		by_name[i] = f + i;
	heapsort_u32(sm, by_name, n, seat_less);
	uint32_t nb = 0;
	for (uint32_t i = 0; i < n; i++) {
		const struct hf_seat *s = &sm->seats[by_name[i]];
		const struct hf_seat *p = i ? &sm->seats[by_name[i - 1]] : NULL;
		bool split = !p || p->section != s->section || p->row != s->row ||
			     (int64_t)s->number != (int64_t)p->number + 1;
		if (split) {
			bstart[nb] = i;
			bmin[nb] = by_name[i];
			border[nb] = nb;
			nb++;
		} else if (by_name[i] < bmin[nb - 1]) {
			bmin[nb - 1] = by_name[i];
		}
	}
	heapsort_u32(sm, border, nb, block_less);
	ev->first_row = f;
	ev->n_rows = nb;
	ev->rows_tree = 4 * f;
	ev->rows_cap = pow2_ge(nb);
	uint32_t pos = f, tree = 4 * f;
	for (uint32_t k = 0; k < nb; k++) {
		uint32_t b = border[k];
		uint32_t start = bstart[b], end = b + 1 < nb ? bstart[b + 1] : n;
		struct hf_row *row = &sm->rows[f + k];
		row->first = pos;
		row->len = end - start;
		row->cap = pow2_ge(row->len);
		row->tree = tree;
		tree += 2 * row->cap;
		row->n_free = 0;
		row->longest = 0;
		row->event = event;
		row->section = sm->seats[by_name[start]].section;
		row->category = sm->seats[by_name[start]].category;
		for (uint32_t i = start; i < end; i++) {
			uint32_t s = by_name[i];
			sm->row_seat[pos] = s;
			sm->seat_at[s] = pos;
			if (sm->seats[s].category != row->category)
				row->category = HF_ROW_MIXED;
			pos++;
		}
	}
	HF_ASSERT(pos == f + n && tree <= 4 * (f + n) && 2 * ev->rows_cap <= 4 * n);
	ev->built = true;
	ev->indexed = false;
}

/* Builds the event's trees from its seats' states (first use by best
 * available); from then on every seat change keeps them. O(n). */
static void rows_index(struct hf_sm *sm, uint32_t event)
{
	struct hf_event_rows *ev = &sm->event_rows[event];
	rows_layout(sm, event);
	if (ev->indexed)
		return;
	for (uint32_t r = ev->first_row; r < ev->first_row + ev->n_rows; r++)
		tree_build(sm, &sm->rows[r]);
	max_build(sm, ev);
	ev->indexed = true;
}

/* The row of a seat of a laid-out event: the last row starting at or
 * before its position (rows are laid out in position order). */
static uint32_t row_of(const struct hf_sm *sm, uint32_t event, uint32_t seat)
{
	const struct hf_event_rows *ev = &sm->event_rows[event];
	HF_ASSERT(ev->built);
	uint32_t pos = sm->seat_at[seat];
	uint32_t lo = ev->first_row, hi = ev->first_row + ev->n_rows;
	while (hi - lo > 1) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (sm->rows[mid].first <= pos)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

void hf_rows_seat_free(struct hf_sm *sm, uint32_t event, uint32_t seat, bool free)
{
	if (!sm->event_rows[event].indexed)
		return;
	struct hf_row *row = &sm->rows[row_of(sm, event, seat)];
	if (free)
		row->n_free++;
	else
		row->n_free--;
	tree_set(sm, row, sm->seat_at[seat] - row->first, free);
}

/* ---- choosing ---------------------------------------------------------- */

/* What a request asks for, resolved. */
struct want {
	uint32_t section, category; /* sids; 0: any */
	bool none;                  /* a name no seat has: nothing matches */
	uint32_t count;
	bool rule;                  /* the event refuses single gaps */
};

static bool seat_matches(const struct hf_sm *sm, const struct want *w, uint32_t seat)
{
	return !w->category || sm->seats[seat].category == w->category;
}

/* The row can have matching seats at all. */
static bool row_matches(const struct want *w, const struct hf_row *row)
{
	if (w->none || (w->section && row->section != w->section))
		return false;
	return !w->category || row->category == HF_ROW_MIXED || row->category == w->category;
}

/* Position i of row: free (and not being taken), and matching. */
static bool usable(const struct hf_sm *sm, const struct want *w, const struct hf_row *row,
		   uint32_t i)
{
	return leaf_free(sm, row, i) && seat_matches(sm, w, sm->row_seat[row->first + i]);
}

/* Would taking [p, p + c) of row strand the free seat beside it on one
 * side (dir -1: left, +1: right)? That seat strands when its other
 * neighbour is the row's end or not free. */
static bool strands_side(const struct hf_sm *sm, const struct hf_row *row, uint32_t p, uint32_t c,
			 int dir)
{
	int64_t x = dir < 0 ? (int64_t)p - 1 : (int64_t)p + c;
	if (x < 0 || x >= row->len || !leaf_free(sm, row, (uint32_t)x))
		return false;
	int64_t o = x + dir;
	return o < 0 || o >= row->len || !leaf_free(sm, row, (uint32_t)o);
}

static bool strands(const struct hf_sm *sm, const struct hf_row *row, uint32_t p, uint32_t c)
{
	return strands_side(sm, row, p, c, -1) || strands_side(sm, row, p, c, +1);
}

/* A window of a row and its rank (lower is better): (strands, distance
 * from the row's middle in half seats, position). */
struct pick {
	bool found, strands;
	uint32_t row, p;
	uint64_t dist;
};

static uint64_t middle_dist(uint32_t len, uint32_t p, uint32_t c)
{
	int64_t d = 2 * (int64_t)p + c - len;
	return (uint64_t)(d < 0 ? -d : d);
}

static bool pick_better(const struct pick *a, const struct pick *b)
{
	if (!b->found)
		return true;
	if (a->strands != b->strands)
		return !a->strands;
	if (a->dist != b->dist)
		return a->dist < b->dist;
	return a->p < b->p;
}

/* The best window of c seats in row r (rank above), among those that
 * strand nothing when no_strand. Every window inside a run [a, b] with at
 * least two free seats on each side strands nothing, and the one nearest
 * the middle of those is the middle clamped into them; the others are
 * the two at each end: five candidates per run. */
static struct pick row_best(const struct hf_sm *sm, const struct want *w, uint32_t r, uint32_t c,
			    bool no_strand)
{
	const struct hf_row *row = &sm->rows[r];
	struct pick best = {0};
	uint32_t i = 0;
	while (i < row->len) {
		if (!usable(sm, w, row, i)) {
			i++;
			continue;
		}
		uint32_t a = i;
		while (i < row->len && usable(sm, w, row, i))
			i++;
		uint32_t b = i - 1;
		if (b - a + 1 < c)
			continue;
		uint32_t last = b + 1 - c; /* the last window start */
		uint32_t cand[5] = {a, a + 1, last > a ? last - 1 : a, last, a};
		if (last >= a + 4) { /* interior starts: [a + 2, last - 2] */
			uint32_t p0 = (row->len - c) / 2; /* nearest the middle (the left one of two) */
			cand[4] = p0 < a + 2 ? a + 2 : p0 > last - 2 ? last - 2 : p0;
		}
		for (int k = 0; k < 5; k++) {
			if (cand[k] < a || cand[k] > last)
				continue;
			struct pick pk = {true, strands(sm, row, cand[k], c), r, cand[k],
					  middle_dist(row->len, cand[k], c)};
			if (no_strand && pk.strands)
				continue;
			if (pick_better(&pk, &best))
				best = pk;
		}
	}
	return best;
}

/* The first row (in preference order) with a window of c seats, its best
 * window; with no_strand only windows that strand nothing count. */
static struct pick first_row_with(const struct hf_sm *sm, const struct want *w, uint32_t event,
				  uint32_t c, bool no_strand)
{
	const struct hf_event_rows *ev = &sm->event_rows[event];
	for (uint32_t i = next_row_with(sm, ev, 0, c); i < ev->n_rows; i = next_row_with(sm, ev, i + 1, c)) {
		uint32_t r = ev->first_row + i;
		if (!row_matches(w, &sm->rows[r]))
			continue;
		struct pick p = row_best(sm, w, r, c, no_strand);
		if (p.found)
			return p;
	}
	return (struct pick){0};
}

static void take_out(struct hf_sm *sm, uint32_t event, uint32_t seat)
{
	struct hf_row *row = &sm->rows[row_of(sm, event, seat)];
	tree_set(sm, row, sm->seat_at[seat] - row->first, false);
}

static void put_back(struct hf_sm *sm, uint32_t event, uint32_t seat)
{
	struct hf_row *row = &sm->rows[row_of(sm, event, seat)];
	uint32_t i = sm->seat_at[seat] - row->first;
	if (!leaf_free(sm, row, i))
		tree_set(sm, row, i, true);
}

/* Free matching seats of the event (not counting the request's own). */
static uint64_t free_matching(const struct hf_sm *sm, const struct want *w, uint32_t event)
{
	const struct hf_event_rows *ev = &sm->event_rows[event];
	uint64_t n = 0;
	for (uint32_t r = ev->first_row; r < ev->first_row + ev->n_rows; r++) {
		const struct hf_row *row = &sm->rows[r];
		if (!row_matches(w, row))
			continue;
		if (row->category != HF_ROW_MIXED || !w->category) {
			n += row->n_free;
			continue;
		}
		for (uint32_t i = 0; i < row->len; i++)
			n += sm->seats[sm->row_seat[row->first + i]].state == HF_SEAT_FREE &&
			     seat_matches(sm, w, sm->row_seat[row->first + i]);
	}
	return n;
}

/* Appends seat to res; out: and takes it out of its tree (the fallback
 * chooses on, so it must not be seen free again). */
static void add_chosen(struct hf_sm *sm, struct hf_resolved *res, uint32_t event, uint32_t seat,
		       bool out)
{
	HF_ASSERT(res->n_seats < HF_HOLD_SEATS_MAX);
	res->seat[res->n_seats] = seat;
	res->seat_event[res->n_seats] = event;
	res->new_seat[res->n_seats] = true;
	res->n_seats++;
	if (out)
		take_out(sm, event, seat);
}

enum hf_result hf_rows_choose(struct hf_sm *sm, uint32_t event, const struct hf_best *best,
			      struct hf_resolved *res, bool *together, struct hf_reply *r)
{
	rows_index(sm, event);
	struct want w = {0};
	w.count = best->count;
	w.rule = sm->events[event].orphan_rule == HF_ORPHAN_NO_SINGLE_GAPS;
	if (best->section.len) {
		w.section = hf_strpool_find(&sm->strings, best->section);
		w.none |= w.section == 0;
	}
	if (best->category.len) {
		w.category = hf_strpool_find(&sm->strings, best->category);
		w.none |= w.category == 0;
	}
	uint32_t first_new = res->n_seats;
	/* The request's own seats of this event are taken: out of the trees. */
	uint64_t own = 0;
	for (uint32_t i = 0; i < first_new; i++) {
		if (res->seat_event[i] != event || !res->new_seat[i])
			continue;
		uint32_t s = res->seat[i];
		HF_ASSERT(sm->seats[s].state == HF_SEAT_FREE);
		own += row_matches(&w, &sm->rows[row_of(sm, event, s)]) && seat_matches(sm, &w, s);
		take_out(sm, event, s);
	}
	enum hf_result rc = HF_OK;
	*together = false;
	/* Side by side in one row: the first row with room wins. (Found,
	 * there were enough seats: they are counted only when not.) */
	struct pick p = first_row_with(sm, &w, event, w.count, w.rule);
	if (p.found) {
		*together = true;
		const struct hf_row *row = &sm->rows[p.row];
		for (uint32_t i = 0; i < w.count; i++)
			add_chosen(sm, res, event, sm->row_seat[row->first + p.p + i], false);
		goto restore;
	}
	uint64_t avail = free_matching(sm, &w, event) - own;
	if (avail < w.count) {
		hf_reply_reset(r, HF_SEATS_UNAVAILABLE);
		r->available = (uint32_t)avail;
		rc = HF_SEATS_UNAVAILABLE;
		goto restore;
	}
	/* No row has room: whole free runs, rows in order and each left to
	 * right, as long as a run is not longer than what is left to take;
	 * then the rest as one window, chosen as a group of that size. */
	uint32_t rem = w.count;
	const struct hf_event_rows *ev = &sm->event_rows[event];
	for (uint32_t rr = ev->first_row; rem > 0 && rr < ev->first_row + ev->n_rows; rr++) {
		const struct hf_row *row = &sm->rows[rr];
		if (!row_matches(&w, row) || row_longest(sm, row) == 0)
			continue;
		uint32_t i = 0;
		while (i < row->len && rem > 0) {
			if (!usable(sm, &w, row, i)) {
				i++;
				continue;
			}
			uint32_t a = i;
			while (i < row->len && usable(sm, &w, row, i))
				i++;
			if (i - a > rem)
				continue;
			for (uint32_t k = a; k < i; k++)
				add_chosen(sm, res, event, sm->row_seat[row->first + k], true);
			rem -= i - a;
		}
	}
	if (rem > 0) {
		p = first_row_with(sm, &w, event, rem, w.rule);
		if (!p.found)
			p = first_row_with(sm, &w, event, rem, false);
		HF_ASSERT(p.found);
		const struct hf_row *row = &sm->rows[p.row];
		for (uint32_t i = 0; i < rem; i++)
			add_chosen(sm, res, event, sm->row_seat[row->first + p.p + i], false);
	}
	/* The chosen seats in row order, left to right. */
	for (uint32_t i = first_new + 1; i < res->n_seats; i++) {
		uint32_t s = res->seat[i], k = i;
		while (k > first_new && sm->seat_at[res->seat[k - 1]] > sm->seat_at[s]) {
			res->seat[k] = res->seat[k - 1];
			k--;
		}
		res->seat[k] = s;
	}
restore:
	/* What was taken out goes back: the request's own seats, and the
	 * chosen ones that were (each put_back is a no-op on a seat left in). */
	for (uint32_t i = 0; i < res->n_seats; i++)
		if (res->seat_event[i] == event && res->new_seat[i])
			put_back(sm, event, res->seat[i]);
	return rc;
}

/* ---- the orphan rule --------------------------------------------------- */

static bool is_new(const struct hf_resolved *res, uint32_t seat)
{
	for (uint32_t i = 0; i < res->n_seats; i++)
		if (res->new_seat[i] && res->seat[i] == seat)
			return true;
	return false;
}

/* FREE after the command: free now and not one of its new seats. */
static bool free_after(const struct hf_sm *sm, const struct hf_resolved *res, uint32_t seat)
{
	return sm->seats[seat].state == HF_SEAT_FREE && !is_new(res, seat);
}

static void note(struct hf_reply *r, uint32_t seat)
{
	for (uint32_t i = 0; i < r->n_bad_seats; i++)
		if (r->bad_seats[i] == seat)
			return;
	if (r->n_bad_seats < HF_HOLD_SEATS_MAX)
		r->bad_seats[r->n_bad_seats++] = seat;
}

enum hf_result hf_rows_orphan_check(struct hf_sm *sm, const struct hf_resolved *res,
				    struct hf_reply *r)
{
	hf_reply_reset(r, HF_OK);
	for (uint32_t i = 0; i < res->n_seats; i++) {
		if (!res->new_seat[i] ||
		    sm->events[res->seat_event[i]].orphan_rule != HF_ORPHAN_NO_SINGLE_GAPS)
			continue;
		uint32_t seat = res->seat[i], event = res->seat_event[i];
		rows_layout(sm, event);
		const struct hf_row *row = &sm->rows[row_of(sm, event, seat)];
		int64_t at = (int64_t)sm->seat_at[seat] - row->first;
		for (int dir = -1; dir <= 1; dir += 2) {
			int64_t x = at + dir, o = at + 2 * dir;
			if (x < 0 || x >= row->len)
				continue;
			uint32_t xs = sm->row_seat[row->first + (uint32_t)x];
			if (!free_after(sm, res, xs))
				continue;
			if (o < 0 || o >= row->len ||
			    !free_after(sm, res, sm->row_seat[row->first + (uint32_t)o]))
				note(r, xs);
		}
	}
	if (r->n_bad_seats)
		return r->result = HF_ORPHAN_SEAT;
	return HF_OK;
}

/* ---- check ------------------------------------------------------------- */

#define CHECK(cond, ...)                                        \
	do {                                                    \
		if (!(cond)) {                                  \
			if (msg_cap)                            \
				snprintf(msg, msg_cap, __VA_ARGS__); \
			return -1;                              \
		}                                               \
	} while (0)

int hf_rows_check(const struct hf_sm *sm, char *msg, size_t msg_cap)
{
	for (uint32_t e = 0; e < sm->n_events; e++) {
		const struct hf_event *evt = &sm->events[e];
		const struct hf_event_rows *ev = &sm->event_rows[e];
		if (!ev->built) {
			CHECK(!ev->indexed, "event %u has trees but no rows", e);
			continue;
		}
		CHECK(ev->first_row == evt->first_seat && ev->n_rows >= 1 &&
			      ev->n_rows <= evt->n_seats && ev->rows_tree == 4 * evt->first_seat &&
			      ev->rows_cap == pow2_ge(ev->n_rows),
		      "event %u: its rows are out of place", e);
		uint32_t pos = evt->first_seat, tree = 4 * evt->first_seat, prev_min = 0;
		for (uint32_t r = ev->first_row; r < ev->first_row + ev->n_rows; r++) {
			const struct hf_row *row = &sm->rows[r];
			CHECK(row->first == pos && row->len >= 1 &&
				      row->len <= evt->first_seat + evt->n_seats - pos &&
				      row->cap == pow2_ge(row->len) && row->tree == tree && row->event == e,
			      "row %u of event %u is out of place", r, e);
			uint32_t n_free = 0, min = UINT32_MAX;
			bool mixed = false;
			for (uint32_t i = 0; i < row->len; i++) {
				uint32_t s = sm->row_seat[row->first + i];
				CHECK(s >= evt->first_seat && s - evt->first_seat < evt->n_seats &&
					      sm->seat_at[s] == row->first + i,
				      "row %u position %u does not hold its seat", r, i);
				const struct hf_seat *st = &sm->seats[s];
				CHECK(st->section == row->section, "row %u mixes sections", r);
				if (i > 0) {
					const struct hf_seat *pv = &sm->seats[sm->row_seat[row->first + i - 1]];
					CHECK(pv->row == st->row &&
						      (int64_t)st->number == (int64_t)pv->number + 1,
					      "row %u: seats %u and %u are not side by side", r, i - 1, i);
				}
				mixed |= st->category != sm->seats[sm->row_seat[row->first]].category;
				n_free += st->state == HF_SEAT_FREE;
				min = s < min ? s : min;
				CHECK(!ev->indexed || leaf_free(sm, row, i) == (st->state == HF_SEAT_FREE),
				      "row %u: the tree says seat %u is %sfree", r, s,
				      leaf_free(sm, row, i) ? "" : "not ");
			}
			CHECK(row->category ==
				      (mixed ? HF_ROW_MIXED : sm->seats[sm->row_seat[row->first]].category),
			      "row %u has the wrong category", r);
			CHECK(r == ev->first_row || min > prev_min, "rows of event %u are out of order", e);
			prev_min = min;
			pos += row->len;
			tree += 2 * row->cap;
			if (!ev->indexed)
				continue;
			CHECK(n_free == row->n_free, "row %u counts %u free seats, has %u", r,
			      row->n_free, n_free);
			CHECK(row->longest == sm->row_tree[row->tree + 1].best,
			      "row %u: longest run %u, its tree says %u", r, row->longest,
			      sm->row_tree[row->tree + 1].best);
			const struct hf_run *t = &sm->row_tree[row->tree];
			for (uint32_t i = row->len; i < row->cap; i++)
				CHECK(t[row->cap + i].best == 0, "row %u: a padding leaf is free", r);
			uint32_t half = 1;
			for (uint32_t level = row->cap; level > 1; level /= 2, half *= 2)
				for (uint32_t k = level / 2; k < level; k++) {
					struct hf_run c = run_combine(t[2 * k], t[2 * k + 1], half);
					CHECK(c.pre == t[k].pre && c.suf == t[k].suf && c.best == t[k].best,
					      "row %u: tree node %u is stale", r, k);
				}
		}
		CHECK(pos == evt->first_seat + evt->n_seats, "event %u rows do not cover its seats", e);
		if (!ev->indexed)
			continue;
		const uint32_t *t = &sm->row_max[ev->rows_tree];
		for (uint32_t i = 0; i < ev->rows_cap; i++)
			CHECK(t[ev->rows_cap + i] ==
				      (i < ev->n_rows ? sm->rows[ev->first_row + i].longest : 0),
			      "event %u: row tree leaf %u is stale", e, i);
		for (uint32_t k = 1; k < ev->rows_cap; k++)
			CHECK(t[k] == (t[2 * k] > t[2 * k + 1] ? t[2 * k] : t[2 * k + 1]),
			      "event %u: row tree node %u is stale", e, k);
	}
	return 0;
}
