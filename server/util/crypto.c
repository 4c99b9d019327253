/* crypto.c — SHA-256, random ids and constant-time compares on top of OpenSSL. */
#include "util/crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <time.h>

static EVP_MD *sha256_md;
static pthread_key_t sha256_ctx_key;
static bool sha256_ctx_key_ok;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void sha256_ctx_free(void *ctx) { EVP_MD_CTX_free(ctx); }

static void sha256_init(void) {
  sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
  sha256_ctx_key_ok = pthread_key_create(&sha256_ctx_key, sha256_ctx_free) == 0;
}

/* This thread's digest context (freed when the thread exits), or NULL. */
static EVP_MD_CTX *thread_ctx(void) {
  if (!sha256_ctx_key_ok) return NULL;
  EVP_MD_CTX *ctx = pthread_getspecific(sha256_ctx_key);
  if (ctx) return ctx;
  ctx = EVP_MD_CTX_new();
  if (ctx && pthread_setspecific(sha256_ctx_key, ctx) != 0) {
    EVP_MD_CTX_free(ctx);
    ctx = NULL;
  }
  return ctx;
}

void fd_sha256(const void *data, size_t len, unsigned char out[FD_SHA256_LEN]) {
  /* Two hashes run per ingest request (key and content). EVP_Digest(EVP_sha256()) looks
   * the implementation up in the provider store (under a lock) and allocates a context on
   * every call: ~360 ns for a short input, against ~90 ns with the implementation fetched
   * once (it lives as long as the process) and one context per thread reused. */
  pthread_once(&sha256_once, sha256_init);
  unsigned int n = 0;
  EVP_MD_CTX *ctx = sha256_md ? thread_ctx() : NULL;
  if (ctx && EVP_DigestInit_ex2(ctx, sha256_md, NULL) && EVP_DigestUpdate(ctx, data, len) &&
      EVP_DigestFinal_ex(ctx, out, &n))
    return;
  /* EVP_Digest with SHA-256 cannot fail for in-memory input short of allocation failure,
   * in which case OpenSSL leaves out unchanged; zero it so the result is deterministic. */
  if (!EVP_Digest(data, len, out, &n, sha256_md ? sha256_md : EVP_sha256(), NULL)) OPENSSL_cleanse(out, FD_SHA256_LEN);
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

bool fd_random_bytes(void *out, size_t len) { return RAND_bytes(out, (int)len) == 1; }

uint64_t fd_fast_random_u64(void) {
  static __thread uint64_t state;
  static __thread bool seeded;
  if (!seeded) {
    if (!fd_random_bytes(&state, sizeof state)) {
      /* the RNG failed: ids stay distinct within this thread; mix in the clock and the
       * thread-local's address so threads differ too */
      struct timespec ts;
      clock_gettime(CLOCK_REALTIME, &ts);
      state = ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)ts.tv_nsec ^ (uint64_t)(uintptr_t)&state;
    }
    seeded = true;
  }
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

bool fd_uuid_v4(char out[37]) {
  unsigned char b[16];
  if (!fd_random_bytes(b, sizeof b)) return false;
  b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
  b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
  snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3],
           b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
  return true;
}

bool fd_const_time_eq(const void *a, const void *b, size_t len) { return CRYPTO_memcmp(a, b, len) == 0; }
