/* assets.h — files compiled into the binary by scripts/embed_assets.py:
 * the SQL migrations (migrations/) and the static pages (static/). */
#ifndef FD_UTIL_ASSETS_H
#define FD_UTIL_ASSETS_H

#include <stddef.h>

struct fd_migration {
  int version;      /* the leading number of the file name */
  const char *name; /* e.g. "0001_initial.sql" */
  const char *sql;  /* NUL-terminated */
};

struct fd_asset {
  const char *path; /* served path, e.g. "/widget/feedbackd.js" */
  const char *content_type;
  const unsigned char *data;
  size_t len;
};

/* Sorted by version; a {0} sentinel follows the last. */
extern const struct fd_migration fd_migrations[];
extern const size_t fd_migrations_count;
extern const struct fd_asset fd_static_assets[];
extern const size_t fd_static_assets_count;

#endif
