/* errors.c — names and statuses of the error codes of docs/api.md. */
#include "core/errors.h"

#include <stdio.h>
#include <string.h>

static const struct {
  const char *name;
  unsigned int status;
} error_table[] = {
    [FD_ERR_NONE] = {"none", 200},
    [FD_ERR_INVALID_JSON] = {"invalid_json", 400},
    [FD_ERR_MISSING_FIELD] = {"missing_field", 400},
    [FD_ERR_INVALID_FIELD] = {"invalid_field", 400},
    [FD_ERR_UNKNOWN_FIELD] = {"unknown_field", 400},
    [FD_ERR_INVALID_PARAMETER] = {"invalid_parameter", 400},
    [FD_ERR_UNAUTHORIZED] = {"unauthorized", 401},
    [FD_ERR_FORBIDDEN] = {"forbidden", 403},
    [FD_ERR_NOT_FOUND] = {"not_found", 404},
    [FD_ERR_METHOD_NOT_ALLOWED] = {"method_not_allowed", 405},
    [FD_ERR_CONFLICT] = {"conflict", 409},
    [FD_ERR_PAYLOAD_TOO_LARGE] = {"payload_too_large", 413},
    [FD_ERR_UNSUPPORTED_MEDIA_TYPE] = {"unsupported_media_type", 415},
    [FD_ERR_RATE_LIMITED] = {"rate_limited", 429},
    [FD_ERR_INTERNAL] = {"internal", 500},
    [FD_ERR_UNAVAILABLE] = {"unavailable", 503},
};

const char *fd_error_code_name(enum fd_error_code code) {
  if ((unsigned)code >= sizeof error_table / sizeof error_table[0]) return "internal";
  return error_table[code].name;
}

unsigned int fd_error_http_status(enum fd_error_code code) {
  if ((unsigned)code >= sizeof error_table / sizeof error_table[0]) return 500;
  return error_table[code].status;
}

bool fd_error_set(struct fd_error *err, enum fd_error_code code, const char *field, const char *fmt, ...) {
  if (!err) return false;
  err->code = code;
  snprintf(err->field, sizeof err->field, "%s", field ? field : "");
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err->message, sizeof err->message, fmt, ap);
  va_end(ap);
  return false;
}
