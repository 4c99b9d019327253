/* crypto.h — the OpenSSL primitives feedbackd uses: SHA-256, random ids, constant-time
 * comparison. Thin wrappers so callers never handle EVP contexts themselves. */
#ifndef FD_UTIL_CRYPTO_H
#define FD_UTIL_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FD_SHA256_LEN 32
#define FD_SHA256_HEX_LEN 64

/* SHA-256 of data[0..len) into out[32]. */
void fd_sha256(const void *data, size_t len, unsigned char out[FD_SHA256_LEN]);

/* SHA-256 as 64 lowercase hex digits plus NUL into hex[65]. */
void fd_sha256_hex(const void *data, size_t len, char hex[FD_SHA256_HEX_LEN + 1]);

/* bytes as lowercase hex; hex must hold 2*len+1. */
void fd_hex_encode(const unsigned char *bytes, size_t len, char *hex);

/* Cryptographically random bytes; false only if OpenSSL's RNG failed. */
bool fd_random_bytes(void *out, size_t len) __attribute__((warn_unused_result));

/* 64 unpredictable-looking bits for ids that must be unique, not secret (request ids):
 * a per-thread splitmix64 sequence seeded once from OpenSSL, so it costs a few
 * instructions instead of a DRBG call (which also makes a getpid() syscall each time).
 * Distinct within a thread (splitmix64 is a bijection of its counter); threads start
 * from independent random seeds. Never use it for keys, tokens or anything secret. */
uint64_t fd_fast_random_u64(void);

/* A random RFC 4122 version 4 UUID, lowercase, into out[37]. */
bool fd_uuid_v4(char out[37]) __attribute__((warn_unused_result));

/* Compare two equal-length buffers in time independent of their content. */
bool fd_const_time_eq(const void *a, const void *b, size_t len);

#endif
