/* errors.h — the one enum of client-visible error codes (docs/api.md "Errors").
 *
 * Every 4xx/5xx body the daemon sends is {"error":{"code","message","field"}} built from
 * one of these codes; the code fixes the HTTP status. Validation code fills a struct
 * fd_error and never builds a reply itself, so pure modules (ingest/validate, export
 * parameters) stay free of libmicrohttpd. */
#ifndef FD_CORE_ERRORS_H
#define FD_CORE_ERRORS_H

#include <stdarg.h>
#include <stdbool.h>

enum fd_error_code {
  FD_ERR_NONE = 0,
  FD_ERR_INVALID_JSON,           /* 400 */
  FD_ERR_MISSING_FIELD,          /* 400 */
  FD_ERR_INVALID_FIELD,          /* 400 */
  FD_ERR_UNKNOWN_FIELD,          /* 400 */
  FD_ERR_INVALID_PARAMETER,      /* 400 */
  FD_ERR_UNAUTHORIZED,           /* 401 */
  FD_ERR_FORBIDDEN,              /* 403 */
  FD_ERR_NOT_FOUND,              /* 404 */
  FD_ERR_METHOD_NOT_ALLOWED,     /* 405 */
  FD_ERR_CONFLICT,               /* 409 */
  FD_ERR_PAYLOAD_TOO_LARGE,      /* 413 */
  FD_ERR_UNSUPPORTED_MEDIA_TYPE, /* 415 */
  FD_ERR_RATE_LIMITED,           /* 429 */
  FD_ERR_INTERNAL,               /* 500: a bug or an unexpected database error, never client input */
  FD_ERR_UNAVAILABLE,            /* 503 */
};

/* A client error as data: code, a human sentence, and the JSON path of the field at fault
 * ("" when the error is not about one field; sent as null). */
struct fd_error {
  enum fd_error_code code;
  char message[256];
  char field[192];
};

/* "invalid_json", "missing_field", ... as in docs/api.md. */
const char *fd_error_code_name(enum fd_error_code code);

/* The HTTP status that goes with a code (400, 401, ...). */
unsigned int fd_error_http_status(enum fd_error_code code);

/* Fill *err; `field` may be NULL. Always returns false so validators can
 * `return fd_error_set(err, ...)`. */
bool fd_error_set(struct fd_error *err, enum fd_error_code code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
