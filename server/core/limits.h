/* limits.h — the configurable size limits of ingestion (docs/api.md "Limits").
 *
 * Every bound is inclusive and every length is in bytes of UTF-8 (never code points),
 * so a 128-byte id of ASCII passes while 43 three-byte characters (129 bytes) do not.
 * The defaults are exactly those of docs/api.md; configuration may change them at start-up,
 * and the validators read them through a const pointer, so one struct serves all threads. */
#ifndef FD_CORE_LIMITS_H
#define FD_CORE_LIMITS_H

#include <stddef.h>

/* Compile-time ceilings that size fixed buffers: a configured id limit can be lowered,
 * never raised above FD_ID_MAX_BYTES (the row structs hold ids in char arrays). */
#define FD_ID_MAX_BYTES 128

struct fd_limits {
  size_t body_max_bytes;           /* 1 MiB: whole request body */
  size_t batch_max_items;          /* 1000: events[] / messages[] items */
  size_t content_max_bytes;        /* 256 KiB: message content, inline message/context content */
  size_t edited_content_max_bytes; /* 256 KiB */
  size_t comment_max_bytes;        /* 256 KiB */
  size_t id_min_bytes;             /* 1 */
  size_t id_max_bytes;             /* 128 (<= FD_ID_MAX_BYTES) */
  size_t tags_max_items;           /* 32 */
  size_t tag_min_bytes;            /* 1 */
  size_t tag_max_bytes;            /* 64 */
  size_t user_max_bytes;           /* 128 (minimum 1: an empty rater id is rejected) */
  size_t model_max_bytes;          /* 128 (minimum 1) */
  size_t metadata_max_bytes;       /* 16 KiB: compact serialisation (json_dumps JSON_COMPACT) */
  size_t metadata_max_depth;       /* 16: the metadata object itself is level 1 */
};

/* The defaults of docs/api.md. */
struct fd_limits fd_limits_default(void);

#endif
