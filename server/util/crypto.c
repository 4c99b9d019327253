/* crypto.c — SHA-256, random ids and constant-time compares on top of OpenSSL. */
#include "util/crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>

void fd_sha256(const void *data, size_t len, unsigned char out[FD_SHA256_LEN]) {
  unsigned int n = 0;
  /* EVP_Digest with SHA-256 cannot fail for in-memory input short of allocation failure,
   * in which case OpenSSL leaves out unchanged; zero it so the result is deterministic. */
  if (!EVP_Digest(data, len, out, &n, EVP_sha256(), NULL)) OPENSSL_cleanse(out, FD_SHA256_LEN);
}

void fd_hex_encode(const unsigned char *bytes, size_t len, char *hex) {
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < len; i++) {
    hex[2 * i] = digits[bytes[i] >> 4];
    hex[2 * i + 1] = digits[bytes[i] & 0xf];
  }
  hex[2 * len] = '\0';
}

void fd_sha256_hex(const void *data, size_t len, char hex[FD_SHA256_HEX_LEN + 1]) {
  unsigned char digest[FD_SHA256_LEN];
  fd_sha256(data, len, digest);
  fd_hex_encode(digest, sizeof digest, hex);
}

bool fd_random_bytes(void *out, size_t len) {
  return RAND_bytes(out, (int)len) == 1;
}

bool fd_uuid_v4(char out[37]) {
  unsigned char b[16];
  if (!fd_random_bytes(b, sizeof b)) return false;
  b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
  b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
  snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
           b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
  return true;
}

bool fd_const_time_eq(const void *a, const void *b, size_t len) {
  return CRYPTO_memcmp(a, b, len) == 0;
}
