/*
 * fuzz_reply_decode.c: hf_reply_decode on arbitrary bytes.
 *
 * Why: replies are stored encoded in the idempotency table, which a
 * snapshot brings back from disk, and replayed to clients; the decoder
 * must never read past its input or write past the fixed arrays of
 * struct hf_reply, whatever counts the bytes claim.
 *
 * Input: one encoded reply (cmd.h's layout); bytes after it are ignored,
 * as the decoder ignores them. Properties:
 *   - the answer is -1 or the bytes consumed, in 4..len (the header alone
 *     is 4 bytes), and on -1 the struct is left zeroed (cmd.c promises it);
 *   - the round trip is exact: hf_reply_encode gives back the bytes
 *     consumed (the encoding is canonical, a function of the used part of
 *     the arrays only), refuses a buffer one byte short, and the consumed
 *     bytes minus the last one do not decode;
 *   - a decoded reply fits HF_REPLY_BYTES_MAX (the bound the idempotency
 *     table and the log size their buffers by).
 * Every decode runs on a buffer of exactly the size it is told, so ASan
 * sees any read past len.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "base/limits.h"
#include "fuzz.h"

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		hf_fuzz_fail("out of memory (%zu bytes)", n);
	return p;
}

static bool all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct hf_reply reply, again;
	int64_t n = hf_reply_decode(data, size, &reply);
	if (n == -1) {
		if (!all_zero(&reply, sizeof(reply)))
			hf_fuzz_fail("hf_reply_decode failed but left the reply written");
		return 0;
	}
	if (n < 4 || (uint64_t)n > size)
		hf_fuzz_fail("hf_reply_decode returned %" PRId64 " for %zu bytes", n, size);
	if ((uint64_t)n > HF_REPLY_BYTES_MAX)
		hf_fuzz_fail("a decoded reply of %" PRId64 " bytes, above HF_REPLY_BYTES_MAX", n);

	uint8_t *enc = xmalloc((size_t)n);
	if (hf_reply_encode(&reply, enc, (size_t)n - 1) != -1)
		hf_fuzz_fail("the reply encodes into %" PRId64 " - 1 bytes", n);
	int64_t m = hf_reply_encode(&reply, enc, (size_t)n);
	if (m != n || memcmp(enc, data, (size_t)n) != 0)
		hf_fuzz_fail("re-encoding gives %" PRId64 " other bytes for %" PRId64, m, n);
	if (hf_reply_decode(enc, (size_t)n, &again) != n)
		hf_fuzz_fail("the re-encoded %" PRId64 " bytes do not decode", n);
	uint8_t *shorter = xmalloc((size_t)n - 1);
	memcpy(shorter, data, (size_t)n - 1);
	if (hf_reply_decode(shorter, (size_t)n - 1, &again) != -1)
		hf_fuzz_fail("the first %" PRId64 " - 1 bytes decode too", n);
	free(shorter);
	free(enc);
	hf_fuzz_check_reply(&reply, "the decoded reply");
	return 0;
}
