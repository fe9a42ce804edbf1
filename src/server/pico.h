/*
 * pico.h: the declarations of picohttpparser, the HTTP/1 parser that
 * libh2o-evloop (Debian's h2o 2.2.5) carries and exports (phr_*), whose
 * header Debian does not install. These are that version's declarations,
 * unchanged; the structs are part of its ABI and must match it. holdfast
 * writes no HTTP parser of its own: httpd.c frames requests with these.
 *
 * phr_parse_request: bytes consumed when the request line and headers are
 * complete, -2 when they are partial, -1 when they are malformed (also when
 * there are more headers than *num_headers). last_len: the length of buf at
 * the previous call (0 the first time), so a partial request is not
 * scanned again from the start.
 *
 * phr_decode_chunked: decodes in place; returns the bytes left after the
 * chunked body (>= 0) when it is complete (*bufsz is then the decoded
 * length), -2 when more is needed (*bufsz decoded so far), -1 on error.
 */
#ifndef HF_SERVER_PICO_H
#define HF_SERVER_PICO_H

#include <sys/types.h>

struct phr_header {
	const char *name; /* NULL for a continuation line (obs-fold) */
	size_t name_len;
	const char *value;
	size_t value_len;
};

int phr_parse_request(const char *buf, size_t len, const char **method, size_t *method_len,
		      const char **path, size_t *path_len, int *minor_version,
		      struct phr_header *headers, size_t *num_headers, size_t last_len);

/* zero-filled before the first call */
struct phr_chunked_decoder {
	size_t bytes_left_in_chunk;
	char consume_trailer;
	char _hex_count;
	char _state;
};

ssize_t phr_decode_chunked(struct phr_chunked_decoder *decoder, char *buf, size_t *bufsz);

#endif
