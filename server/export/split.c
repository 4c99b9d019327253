/* split.c — the train/test bucket of a conversation (see split.h). */
#include "export/split.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/crypto.h"

bool fd_split_bucket64(const char *project_slug, const char *conversation_id, uint64_t *out) {
  size_t ls = strlen(project_slug), lc = strlen(conversation_id);
  unsigned char digest[FD_SHA256_LEN];
  /* Hash the three pieces in one buffer; ids are short, so a small stack buffer usually does. */
  char small[512];
  char *buf = ls + lc + 1 <= sizeof small ? small : malloc(ls + lc + 1);
  if (!buf) return false;
  memcpy(buf, project_slug, ls);
  buf[ls] = ':';
  memcpy(buf + ls + 1, conversation_id, lc);
  fd_sha256(buf, ls + lc + 1, digest);
  if (buf != small) free(buf);
  uint64_t v = 0;
  for (int i = 0; i < 8; i++) v = (v << 8) | digest[i];
  *out = v;
  return true;
}

bool fd_split_of(const char *project_slug, const char *conversation_id, double test_fraction, enum fd_split *out) {
  uint64_t v;
  if (!fd_split_bucket64(project_slug, conversation_id, &v)) return false;
  if (!(test_fraction > 0)) { /* also NaN */
    *out = FD_SPLIT_TRAIN;
    return true;
  }
  if (test_fraction >= 1) {
    *out = FD_SPLIT_TEST;
    return true;
  }
  /* v / 2^64 < f  <=>  v < f * 2^64 = t. t is an exact double below 2^64, and for an integer v,
   * v < t <=> v < ceil(t). */
  double t = ceil(ldexp(test_fraction, 64));
  uint64_t limit = (uint64_t)t;
  *out = v < limit ? FD_SPLIT_TEST : FD_SPLIT_TRAIN;
  return true;
}

const char *fd_split_name(enum fd_split s) { return s == FD_SPLIT_TEST ? "test" : "train"; }
