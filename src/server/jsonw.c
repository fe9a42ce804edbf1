/*
 * jsonw.c: see jsonw.h. Dates use the proleptic Gregorian calendar through
 * Howard Hinnant's days_from_civil / civil_from_days, so no libc time zone
 * state is touched (gmtime is not needed and the output cannot depend on
 * TZ).
 */
#include "server/jsonw.h"

#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "base/limits.h"

void hf_jw_init(struct hf_jw *jw, struct hf_arena *arena)
{
	memset(jw, 0, sizeof(*jw));
	jw->arena = arena;
	jw->first[0] = true;
}

bool hf_jw_reserve(struct hf_jw *jw, size_t n)
{
	if (jw->oom)
		return false;
	if (jw->len + n <= jw->cap)
		return true;
	size_t cap = jw->cap ? jw->cap * 2 : 1024;
	while (cap < jw->len + n)
		cap *= 2;
	char *nb;
	if (jw->arena) {
		nb = hf_arena_alloc_raw(jw->arena, cap);
		if (nb && jw->len)
			memcpy(nb, jw->buf, jw->len);
	} else {
		nb = realloc(jw->buf, cap);
	}
	if (!nb) {
		jw->oom = true;
		return false;
	}
	jw->buf = nb;
	jw->cap = cap;
	return true;
}

void hf_jw_raw(struct hf_jw *jw, const char *s, size_t n)
{
	if ((jw->oom || jw->len + n + 1 > jw->cap) && !hf_jw_reserve(jw, n + 1))
		return;
	if (n)
		memcpy(jw->buf + jw->len, s, n);
	jw->len += n;
	jw->buf[jw->len] = 0; /* keeps buf a C string for logs and tests */
}

/* Before a value or a key: a comma unless first at this depth. */
static void jw_sep(struct hf_jw *jw)
{
	if (jw->after_key) {
		jw->after_key = false;
		return;
	}
	if (!jw->first[jw->depth])
		hf_jw_raw(jw, ",", 1);
	jw->first[jw->depth] = false;
}

void hf_jw_json(struct hf_jw *jw, const char *s, size_t n)
{
	jw_sep(jw);
	hf_jw_raw(jw, s, n);
}

static void jw_open(struct hf_jw *jw, const char *c)
{
	jw_sep(jw);
	hf_jw_raw(jw, c, 1);
	HF_ASSERT(jw->depth + 1 < HF_JW_DEPTH_MAX);
	jw->depth++;
	jw->first[jw->depth] = true;
}

static void jw_close(struct hf_jw *jw, const char *c)
{
	HF_ASSERT(jw->depth > 0 && !jw->after_key);
	jw->depth--;
	hf_jw_raw(jw, c, 1);
}

void hf_jw_obj(struct hf_jw *jw) { jw_open(jw, "{"); }
void hf_jw_obj_end(struct hf_jw *jw) { jw_close(jw, "}"); }
void hf_jw_arr(struct hf_jw *jw) { jw_open(jw, "["); }
void hf_jw_arr_end(struct hf_jw *jw) { jw_close(jw, "]"); }

/* Bytes that need an escape inside a JSON string. */
static bool needs_escape(unsigned char c) { return c < 0x20 || c == '"' || c == '\\'; }

/* The length of the well-formed UTF-8 sequence at s[0..n) (RFC 3629: no
 * overlong forms, no surrogates, nothing past U+10FFFF), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len;
	unsigned char lo = 0x80, hi = 0xbf; /* the second byte's range */
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else {
		return 0;
	}
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t k = 2; k < len; k++)
		if (s[k] < 0x80 || s[k] > 0xbf)
			return 0;
	return len;
}

/* "s" (then `after`, 0 for none), for s known to need no escape: one
 * reservation and one copy. */
static void jw_quoted_plain(struct hf_jw *jw, const char *s, size_t n, char after)
{
	size_t extra = after ? 3 : 2;
	if (!hf_jw_reserve(jw, n + extra + 1))
		return;
	char *o = jw->buf + jw->len;
	o[0] = '"';
	if (n)
		memcpy(o + 1, s, n);
	o[n + 1] = '"';
	o[n + 2] = after;
	o[n + extra] = 0;
	jw->len += n + extra;
}

/* Writes s as a JSON string. Text that is not UTF-8 (a URL's bytes
 * echoed in a message, a name cut at a byte count) gets U+FFFD for each
 * bad byte: every answer stays JSON that strict decoders accept. */
static void jw_escaped(struct hf_jw *jw, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;
	while (i < n && !needs_escape(u[i]) && u[i] < 0x80)
		i++;
	if (i == n) { /* the common case: ASCII, one copy */
		jw_quoted_plain(jw, s, n, 0);
		return;
	}
	hf_jw_raw(jw, "\"", 1);
	size_t run = 0; /* start of the pending run of bytes written as they are */
	while (i < n) {
		unsigned char c = u[i];
		if (c >= 0x80) {
			size_t len = utf8_len(u + i, n - i);
			if (len) {
				i += len;
				continue;
			}
			hf_jw_raw(jw, s + run, i - run);
			hf_jw_raw(jw, "\\ufffd", 6);
			run = ++i;
			continue;
		}
		if (!needs_escape(c)) {
			i++;
			continue;
		}
		hf_jw_raw(jw, s + run, i - run);
		run = ++i;
		char esc[7] = {'\\', 0};
		size_t k = 2;
		switch (c) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		default:
			esc[1] = 'u';
			esc[2] = '0';
			esc[3] = '0';
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			k = 6;
		}
		hf_jw_raw(jw, esc, k);
	}
	hf_jw_raw(jw, s + run, n - run);
	hf_jw_raw(jw, "\"", 1);
}

void hf_jw_key(struct hf_jw *jw, const char *key)
{
	jw_sep(jw);
	/* Keys are the API's own names: plain ASCII, written as they are. */
	jw_quoted_plain(jw, key, strlen(key), ':');
	jw->after_key = true;
}

void hf_jw_str(struct hf_jw *jw, const char *s, size_t n)
{
	jw_sep(jw);
	jw_escaped(jw, s, n);
}

void hf_jw_cstr(struct hf_jw *jw, const char *s) { hf_jw_str(jw, s, strlen(s)); }

/* v in decimal at the end of tmp[24]; returns where it starts. */
static size_t u64_digits(char tmp[24], uint64_t v)
{
	size_t i = 24;
	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return i;
}

void hf_jw_u64(struct hf_jw *jw, uint64_t v)
{
	char tmp[24];
	size_t i = u64_digits(tmp, v);
	jw_sep(jw);
	hf_jw_raw(jw, tmp + i, sizeof(tmp) - i);
}

void hf_jw_prefixed_u64(struct hf_jw *jw, char prefix, uint64_t v)
{
	char tmp[24 + 4];
	size_t i = u64_digits(tmp + 4, v) + 4;
	tmp[--i] = '-';
	tmp[--i] = prefix;
	tmp[--i] = '"';
	jw_sep(jw);
	hf_jw_raw(jw, tmp + i, sizeof(tmp) - i);
	hf_jw_raw(jw, "\"", 1);
}

void hf_jw_i64(struct hf_jw *jw, int64_t v)
{
	if (v >= 0) {
		hf_jw_u64(jw, (uint64_t)v);
		return;
	}
	jw_sep(jw);
	hf_jw_raw(jw, "-", 1);
	jw->after_key = true; /* the digits continue this value: no comma */
	hf_jw_u64(jw, (uint64_t)0 - (uint64_t)v);
}

void hf_jw_bool(struct hf_jw *jw, bool v)
{
	jw_sep(jw);
	if (v)
		hf_jw_raw(jw, "true", 4);
	else
		hf_jw_raw(jw, "false", 5);
}

void hf_jw_null(struct hf_jw *jw)
{
	jw_sep(jw);
	hf_jw_raw(jw, "null", 4);
}

void hf_jw_time(struct hf_jw *jw, int64_t ms)
{
	char t[HF_TIME_TEXT_MAX];
	size_t n = hf_time_format(ms, t);
	hf_jw_str(jw, t, n);
}

/* ---- RFC 3339 ---------------------------------------------------------- */

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static void put2(char *p, unsigned v)
{
	p[0] = (char)('0' + v / 10 % 10);
	p[1] = (char)('0' + v % 10);
}

size_t hf_time_format(int64_t ms, char *out)
{
	HF_ASSERT(ms >= 0 && ms <= HF_TIME_MS_MAX);
	int64_t s = ms / 1000, days = s / 86400, sod = s % 86400;
	int64_t y;
	unsigned m, d;
	civil_from_days(days, &y, &m, &d);
	put2(out, (unsigned)(y / 100));
	put2(out + 2, (unsigned)(y % 100));
	out[4] = '-';
	put2(out + 5, m);
	out[7] = '-';
	put2(out + 8, d);
	out[10] = 'T';
	put2(out + 11, (unsigned)(sod / 3600));
	out[13] = ':';
	put2(out + 14, (unsigned)(sod / 60 % 60));
	out[16] = ':';
	put2(out + 17, (unsigned)(sod % 60));
	size_t n = 19;
	unsigned frac = (unsigned)(ms % 1000);
	if (frac) {
		out[n++] = '.';
		out[n++] = (char)('0' + frac / 100);
		put2(out + n, frac % 100);
		n += 2;
	}
	out[n++] = 'Z';
	out[n] = 0;
	return n;
}

/* n decimal digits at s, or -1. */
static int64_t digits(const char *s, size_t n)
{
	int64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

int64_t hf_time_parse(const char *s, size_t len, int64_t *ms)
{
	static const unsigned mdays[13] = {0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (len < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':')
		return -1;
	int64_t y = digits(s, 4), mo = digits(s + 5, 2), d = digits(s + 8, 2);
	int64_t h = digits(s + 11, 2), mi = digits(s + 14, 2), se = digits(s + 17, 2);
	if (y < 0 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 ||
	    se < 0 || se > 59)
		return -1;
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if ((unsigned)d > mdays[mo] || (mo == 2 && d == 29 && !leap))
		return -1;
	size_t i = 19;
	int64_t frac_ms = 0;
	if (s[i] == '.') {
		size_t start = ++i;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
		size_t nd = i - start;
		if (nd == 0 || nd > 9)
			return -1;
		for (size_t k = 0; k < 3; k++)
			frac_ms = frac_ms * 10 + (k < nd ? s[start + k] - '0' : 0);
	}
	int64_t offset_min = 0;
	if (i < len && s[i] == 'Z') {
		i++;
	} else if (i + 6 == len && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
		int64_t oh = digits(s + i + 1, 2), om = digits(s + i + 4, 2);
		if (oh < 0 || oh > 23 || om < 0 || om > 59)
			return -1;
		offset_min = (oh * 60 + om) * (s[i] == '-' ? -1 : 1);
		i += 6;
	} else {
		return -1;
	}
	if (i != len)
		return -1;
	int64_t t = (days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 +
		     se - offset_min * 60) * 1000 + frac_ms;
	if (t < 0 || t > HF_TIME_MS_MAX)
		return -1;
	*ms = t;
	return (int64_t)len;
}
