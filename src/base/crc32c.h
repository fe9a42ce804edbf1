/*
 * crc32c.h: CRC-32C (Castagnoli), the checksum of log records and
 * snapshots. crc32c("123456789") == 0xE3069283.
 */
#ifndef HF_BASE_CRC32C_H
#define HF_BASE_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Continues crc over len bytes; start with crc = 0. */
uint32_t hf_crc32c(uint32_t crc, const void *p, size_t len);

#endif
