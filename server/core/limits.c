/* limits.c — the default ingest limits (docs/api.md "Limits"). */
#include "core/limits.h"

struct fd_limits fd_limits_default(void) {
  return (struct fd_limits){
      .body_max_bytes = 1024 * 1024,
      .batch_max_items = 1000,
      .content_max_bytes = 256 * 1024,
      .edited_content_max_bytes = 256 * 1024,
      .comment_max_bytes = 256 * 1024,
      .id_min_bytes = 1,
      .id_max_bytes = FD_ID_MAX_BYTES,
      .tags_max_items = 32,
      .tag_min_bytes = 1,
      .tag_max_bytes = 64,
      .user_max_bytes = 128,
      .model_max_bytes = 128,
      .metadata_max_bytes = 16 * 1024,
      .metadata_max_depth = 16,
  };
}
