/* static_files.c — the embedded pages (static/ compiled into the binary). "/demo" and
 * "/demo/" serve demo/index.html; likewise every folder with an index.html. */
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "http/reply.h"
#include "util/assets.h"

static const struct fd_asset *find_asset(const char *path) {
  for (size_t i = 0; i < fd_static_assets_count; i++)
    if (strcmp(fd_static_assets[i].path, path) == 0) return &fd_static_assets[i];
  return NULL;
}

void fd_api_static(struct fd_request *req) {
  const struct fd_asset *a = find_asset(req->path);
  if (!a) {
    char index[512];
    size_t n = strlen(req->path);
    snprintf(index, sizeof index, "%s%sindex.html", req->path, n && req->path[n - 1] == '/' ? "" : "/");
    a = find_asset(index);
  }
  if (!a) {
    fd_reply_error(req, FD_ERR_NOT_FOUND, NULL, "no such page: %s", req->path);
    return;
  }
  req->reply_bytes = a->len;
  struct MHD_Response *r = MHD_create_response_from_buffer(a->len, (void *)a->data, MHD_RESPMEM_PERSISTENT);
  MHD_add_response_header(r, "Content-Type", a->content_type);
  MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
  /* embedded in the binary: a short cache, revalidated after an upgrade within minutes */
  MHD_add_response_header(r, "Cache-Control", "public, max-age=300");
  fd_reply_response(req, 200, r);
}
