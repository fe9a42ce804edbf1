/*
 * stats.c: the latency histogram and the per-phase counts of holdfast-bench
 * (bench.h). Each worker keeps its own per phase; main.c merges them once
 * the workers are done, so nothing here is shared while the run lasts.
 */
#include <stdint.h>

#include "bench.h"

static uint32_t hist_index(uint64_t us)
{
	if (us < 256)
		return (uint32_t)us;
	int e = 63 - __builtin_clzll(us); /* >= 8 */
	if (e > 40)
		return HIST_N - 1;
	uint32_t sub = (uint32_t)(us >> (e - 7)) & (HIST_SUB - 1);
	return 256 + (uint32_t)(e - 8) * HIST_SUB + sub;
}

static double hist_value(uint32_t i)
{
	if (i < 256)
		return i;
	uint32_t e = (i - 256) / HIST_SUB + 8, sub = (i - 256) % HIST_SUB;
	double lo = (double)((uint64_t)(HIST_SUB + sub) << (e - 7));
	return lo + (double)(1ull << (e - 7)) / 2; /* the bucket's middle */
}

void hist_add(struct hist *h, uint64_t us)
{
	h->n[hist_index(us)]++;
	h->count++;
	h->sum_us += (double)us;
	if (us > h->max_us)
		h->max_us = us;
}

static void hist_merge(struct hist *to, const struct hist *from)
{
	for (uint32_t i = 0; i < HIST_N; i++)
		to->n[i] += from->n[i];
	to->count += from->count;
	to->sum_us += from->sum_us;
	if (from->max_us > to->max_us)
		to->max_us = from->max_us;
}

/* The q-quantile in milliseconds (0 when empty). */
double hist_ms(const struct hist *h, double q)
{
	if (!h->count)
		return 0;
	uint64_t want = (uint64_t)(q * (double)h->count + 0.999999);
	if (want < 1)
		want = 1;
	uint64_t cum = 0;
	for (uint32_t i = 0; i < HIST_N; i++) {
		cum += h->n[i];
		if (cum >= want) {
			double v = hist_value(i);
			return (v > (double)h->max_us ? (double)h->max_us : v) / 1000.0;
		}
	}
	return (double)h->max_us / 1000.0;
}

void stats_merge(struct stats *to, const struct stats *from)
{
	to->answers += from->answers;
	to->ok += from->ok;
	to->rejected += from->rejected;
	to->other += from->other;
	to->ops_done += from->ops_done;
	for (int i = 0; i <= STATUS_MAX; i++)
		to->status[i] += from->status[i];
	for (int o = 0; o < N_OPS; o++) {
		for (int i = 0; i <= STATUS_MAX; i++)
			to->op_status[o][i] += from->op_status[o][i];
		for (int k = 0; k < 3; k++)
			to->op_cls[o][k] += from->op_cls[o][k];
	}
	hist_merge(&to->h, &from->h);
}
