/* body.h — the request body as JSON. */
#ifndef FD_API_BODY_H
#define FD_API_BODY_H

#include <jansson.h>

#include "http/request.h"

/* Parse req->body as a JSON object. NULL after replying 400 invalid_json. New reference. */
json_t *fd_body_object(struct fd_request *req);

#endif
