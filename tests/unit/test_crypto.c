/* test_crypto.c — fd_sha256 against published test vectors, and the request-id generator
 * fd_fast_random_u64 (distinct values within a thread, different sequences per thread). */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "util/crypto.h"

static void test_sha256_vectors(void) {
  /* FIPS 180-2 examples */
  char hex[FD_SHA256_HEX_LEN + 1];
  fd_sha256_hex("abc", 3, hex);
  CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  fd_sha256_hex("", 0, hex);
  CHECK_STR(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  fd_sha256_hex(two, strlen(two), hex);
  CHECK_STR(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  /* repeated calls (the digest implementation is fetched once) give the same answer */
  fd_sha256_hex("abc", 3, hex);
  CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

#define N_IDS 100000

static void test_fast_random_distinct(void) {
  uint64_t *v = malloc(N_IDS * sizeof *v);
  CHECK(v != NULL);
  if (!v) return;
  uint64_t or_bits = 0, and_bits = ~(uint64_t)0;
  for (size_t i = 0; i < N_IDS; i++) {
    v[i] = fd_fast_random_u64();
    or_bits |= v[i];
    and_bits &= v[i];
  }
  /* every bit takes both values somewhere */
  CHECK(or_bits == ~(uint64_t)0);
  CHECK(and_bits == 0);
  qsort(v, N_IDS, sizeof *v, cmp_u64);
  size_t dups = 0;
  for (size_t i = 1; i < N_IDS; i++) dups += v[i] == v[i - 1];
  CHECK(dups == 0);
  free(v);
}

static void *first_values(void *out) {
  uint64_t *o = out;
  for (int i = 0; i < 4; i++) o[i] = fd_fast_random_u64();
  return NULL;
}

static void test_fast_random_per_thread(void) {
  uint64_t a[4], b[4];
  pthread_t ta, tb;
  CHECK(pthread_create(&ta, NULL, first_values, a) == 0);
  CHECK(pthread_join(ta, NULL) == 0);
  CHECK(pthread_create(&tb, NULL, first_values, b) == 0);
  CHECK(pthread_join(tb, NULL) == 0);
  /* two threads (seeded separately) do not repeat each other's sequence */
  CHECK(memcmp(a, b, sizeof a) != 0);
  CHECK(a[0] != b[0]);
}

int main(void) {
  RUN(test_sha256_vectors);
  RUN(test_fast_random_distinct);
  RUN(test_fast_random_per_thread);
  return unit_report();
}
