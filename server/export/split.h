/* split.h — the train/test split of docs/export.md: a pure function of (project slug,
 * conversation id), so it is stable across re-exports and replicas and no conversation
 * straddles the split.
 *
 *   bucket = first 8 bytes of SHA-256(project_slug + ":" + conversation_id), read as an
 *            unsigned big-endian integer, divided by 2^64
 *   test  <=>  bucket < test_fraction */
#ifndef FD_EXPORT_SPLIT_H
#define FD_EXPORT_SPLIT_H

#include <stdbool.h>
#include <stdint.h>

enum fd_split { FD_SPLIT_TRAIN, FD_SPLIT_TEST };

/* The first 8 bytes of SHA-256(slug ":" conversation_id), big-endian, into *out. False only
 * when out of memory (very long ids need a heap buffer). */
bool fd_split_bucket64(const char *project_slug, const char *conversation_id, uint64_t *out)
    __attribute__((warn_unused_result));

/* The conversation's split into *out. The comparison bucket/2^64 < test_fraction is exact
 * (done in integers), so a fraction of 0 gives no test records and 1 gives only test records.
 * False only when out of memory. */
bool fd_split_of(const char *project_slug, const char *conversation_id, double test_fraction, enum fd_split *out)
    __attribute__((warn_unused_result));

/* "train" / "test". */
const char *fd_split_name(enum fd_split s);

#endif
