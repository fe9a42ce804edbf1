/*
 * log.h: one structured line per event worth a human's attention: start,
 * stop, every error response, every connection cut off. Format is logfmt
 * ("ts=... level=... msg=... key=value ..."), one write(2) per line so lines
 * from many threads never interleave. Goes to stderr.
 */
#ifndef HF_SERVER_LOG_H
#define HF_SERVER_LOG_H

/* level: "info", "warn", "error". fmt continues the line with
 * " key=value" pairs (values with spaces must be quoted by the caller). */
__attribute__((format(printf, 3, 4))) void hf_log(const char *level, const char *msg,
						    const char *fmt, ...);

#endif
