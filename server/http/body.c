/* body.c — parsing the request body (the ingest validators share the same rules). */
#include "http/body.h"

#include "http/reply.h"

json_t *fd_body_object(struct fd_request *req) {
  json_error_t jerr;
  /* jansson rejects invalid UTF-8 and \u0000 (without JSON_ALLOW_NUL) on its own */
  json_t *v = req->body ? json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr) : NULL;
  if (!v || !json_is_object(v)) {
    json_decref(v);
    fd_reply_error(req, FD_ERR_INVALID_JSON, NULL, "the body must be a JSON object%s%s", v || !req->body ? "" : ": ",
                   v || !req->body ? "" : jerr.text);
    return NULL;
  }
  return v;
}
