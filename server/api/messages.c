/* messages.c — POST /v1/messages: conversation turns, per-item results. */
#include "api/api.h"
#include "api/ingest_request.h"

void fd_api_messages_post(struct fd_request *req) { fd_ingest_batch(req, "messages"); }
