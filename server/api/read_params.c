/* read_params.c — see read_params.h. */
#include "api/read_params.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static bool bound(fd_param_get_fn get, void *cls, const char *name, char buf[FD_RFC3339_BUF], const char **out,
                  int64_t *us, struct fd_error *err) {
  const char *s = get(cls, name);
  *out = NULL;
  if (!s) return true;
  if (!fd_rfc3339_parse(s, strlen(s), us) || !fd_rfc3339_format(*us, buf))
    return fd_error_set(err, FD_ERR_INVALID_PARAMETER, name, "%s must be an RFC 3339 time with a zone", name);
  *out = buf;
  return true;
}

bool fd_api_parse_window(fd_param_get_fn get, void *cls, struct fd_api_window *w, struct fd_error *err) {
  int64_t since = 0, until = 0;
  if (!bound(get, cls, "since", w->since_buf, &w->since, &since, err) ||
      !bound(get, cls, "until", w->until_buf, &w->until, &until, err))
    return false;
  if (w->since && w->until && since >= until)
    return fd_error_set(err, FD_ERR_INVALID_PARAMETER, "since",
                        "since must be before until (the window is [since, until))");
  return true;
}

bool fd_api_parse_count(fd_param_get_fn get, void *cls, const char *name, long max, long *out, struct fd_error *err) {
  const char *s = get(cls, name);
  if (!s) return true;
  bool digits = *s != '\0';
  for (const char *p = s; *p; p++) digits = digits && isdigit((unsigned char)*p);
  errno = 0;
  long v = digits ? strtol(s, NULL, 10) : -1;
  if (!digits || errno == ERANGE || v > max)
    return fd_error_set(err, FD_ERR_INVALID_PARAMETER, name, "%s must be an integer from 0 to %ld", name, max);
  *out = v;
  return true;
}
