/* body.c — parsing the request body with the ingest rules (validate_common.c), so every
 * endpoint treats bad JSON, NUL, invalid UTF-8 and duplicate keys alike. */
#include "api/body.h"

#include "api/app.h"
#include "http/reply.h"
#include "ingest/validate_common.h"

json_t *fd_body_object(struct fd_request *req) {
  struct fd_error err;
  json_t *v = fd_json_parse_object_new(req->body ? req->body : "", req->body_len, &fd_api_app_of(req)->limits, &err);
  if (!v) fd_reply_fd_error(req, &err);
  return v;
}
