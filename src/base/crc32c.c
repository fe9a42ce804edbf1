/* crc32c.c: CRC-32C (reflected polynomial 0x82F63B78). On x86-64 with
 * SSE4.2 (detected at run time) the crc32 instruction does 8 bytes per
 * step, ~8x the table version: the log CRCs every record on the sequencer
 * and during replay, and every snapshot body (hundreds of MB). Elsewhere a
 * slicing-by-8 table implementation; tables are built once, on first use.
 * Both give identical results (tests/unit checks the known vector). */
#include "base/crc32c.h"

#include <pthread.h>
#include <string.h>

static uint32_t table[8][256];
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static void table_build(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
		table[0][i] = c;
	}
	for (uint32_t i = 0; i < 256; i++)
		for (int t = 1; t < 8; t++)
			table[t][i] = (table[t - 1][i] >> 8) ^ table[0][table[t - 1][i] & 0xff];
}

static uint32_t crc32c_table(uint32_t crc, const void *p, size_t len)
{
	pthread_once(&table_once, table_build);
	const unsigned char *s = p;
	crc = ~crc;
	while (len >= 8) {
		uint32_t lo = crc ^ ((uint32_t)s[0] | (uint32_t)s[1] << 8 | (uint32_t)s[2] << 16 |
				     (uint32_t)s[3] << 24);
		crc = table[7][lo & 0xff] ^ table[6][(lo >> 8) & 0xff] ^ table[5][(lo >> 16) & 0xff] ^
		      table[4][lo >> 24] ^ table[3][s[4]] ^ table[2][s[5]] ^ table[1][s[6]] ^
		      table[0][s[7]];
		s += 8;
		len -= 8;
	}
	while (len--)
		crc = (crc >> 8) ^ table[0][(crc ^ *s++) & 0xff];
	return ~crc;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
__attribute__((target("sse4.2"))) static uint32_t crc32c_hw(uint32_t crc, const void *p, size_t len)
{
	const unsigned char *s = p;
	uint64_t c = ~crc;
	while (len >= 8) {
		uint64_t w;
		memcpy(&w, s, 8);
		c = __builtin_ia32_crc32di(c, w);
		s += 8;
		len -= 8;
	}
	uint32_t c32 = (uint32_t)c;
	while (len--)
		c32 = __builtin_ia32_crc32qi(c32, *s++);
	return ~c32;
}

static uint32_t (*crc32c_impl)(uint32_t, const void *, size_t);
static pthread_once_t impl_once = PTHREAD_ONCE_INIT;

static void impl_pick(void)
{
	__builtin_cpu_init();
	crc32c_impl = __builtin_cpu_supports("sse4.2") ? crc32c_hw : crc32c_table;
}

uint32_t hf_crc32c(uint32_t crc, const void *p, size_t len)
{
	pthread_once(&impl_once, impl_pick);
	return crc32c_impl(crc, p, len);
}
#else
uint32_t hf_crc32c(uint32_t crc, const void *p, size_t len)
{
	return crc32c_table(crc, p, len);
}
#endif
