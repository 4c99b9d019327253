/* test_query_params.c — the query-parameter parsers of GET /v1/feedback, /v1/stats and
 * /v1/export on input a client controls: text that is not UTF-8 and cursors that overflow
 * are 400 invalid_parameter on the parameter, never a database error (5xx). */
#include <stdlib.h>

#include "api/export_job.h"
#include "api/feedback_list_params.h"
#include "api/stats_params.h"
#include "unit.h"

/* cls: a NULL-terminated array of name, value pairs */
static const char *get(void *cls, const char *name) {
  for (const char *const *p = cls; *p; p += 2)
    if (strcmp(p[0], name) == 0) return p[1];
  return NULL;
}

static bool feedback(const char *name, const char *value, struct fd_feedback_filter *f, struct fd_error *err) {
  const char *q[] = {name, value, NULL};
  return fd_feedback_filter_parse(get, (void *)q, f, err);
}

static void test_feedback_cursor(void) {
  struct fd_feedback_filter f;
  struct fd_error err;
  CHECK(feedback("cursor", "1764064800000000.42", &f, &err));
  CHECK(f.has_cursor && f.cursor_received_us == 1764064800000000LL && f.cursor_seq == 42);
  /* the last microsecond of 9999 and INT64_MAX for the sequence fit */
  CHECK(feedback("cursor", "253402300799999999.9223372036854775807", &f, &err));
  CHECK(f.cursor_received_us == 253402300799999999LL && f.cursor_seq == 9223372036854775807LL);
  const char *bad[] = {"99999999999999999999.1",
                       "1.9223372036854775808",
                       "253402300800000000.1",  /* year 10000 */
                       "9223372036854775807.1", /* fits int64; the database's interval overflows */
                       "-1.2",
                       "1.",
                       ".1",
                       "1.2x",
                       "1",
                       "+1.2",
                       " 1.2",
                       "1.2 "};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    err.code = FD_ERR_NONE;
    CHECK(!feedback("cursor", bad[i], &f, &err));
    CHECK(err.code == FD_ERR_INVALID_PARAMETER);
    CHECK_STR(err.field, "cursor");
  }
}

static void test_feedback_text_filters(void) {
  struct fd_feedback_filter f;
  struct fd_error err;
  static const char *const names[] = {"model", "tag", "user"};
  for (int i = 0; i < 3; i++) {
    CHECK(!feedback(names[i], "a\xFF", &f, &err));
    CHECK(err.code == FD_ERR_INVALID_PARAMETER);
    CHECK_STR(err.field, names[i]);
    CHECK(feedback(names[i], "caf\xC3\xA9", &f, &err));
  }
  CHECK(feedback("limit", "7", &f, &err) && f.limit == 7);
  CHECK(feedback("kind", "edit", &f, &err) && f.limit == 50);
}

static void test_stats_model(void) {
  struct fd_stats_params sp;
  struct fd_error err;
  const char *bad[] = {"model", "gpt\xFF", NULL};
  CHECK(!fd_stats_params_parse(get, (void *)bad, 1795600000000000LL, 200, &sp, &err));
  CHECK(err.code == FD_ERR_INVALID_PARAMETER);
  CHECK_STR(err.field, "model");
  const char *good[] = {"model", "gpt-4o", "bucket", "hour", "since", "2026-11-24T00:00:00Z", NULL};
  CHECK(fd_stats_params_parse(get, (void *)good, 1795600000000000LL, 200, &sp, &err));
  CHECK_STR(sp.model, "gpt-4o");
  CHECK_STR(sp.since, "2026-11-24T00:00:00Z");
}

static void test_export_text_params(void) {
  struct fd_export_request rq;
  struct fd_error err;
  const char *model[] = {"model", "\xFF", NULL}, *after[] = {"after", "2026-11-25T10:00:00Z\xC3", NULL};
  CHECK(!fd_export_request_parse(get, (void *)model, "p", &rq, &err));
  CHECK(err.code == FD_ERR_INVALID_PARAMETER); /* was 500 "out of memory" (json_pack refused it) */
  CHECK_STR(err.field, "model");
  CHECK(!fd_export_request_parse(get, (void *)after, "p", &rq, &err));
  CHECK(err.code == FD_ERR_INVALID_PARAMETER);
  CHECK_STR(err.field, "after");
  const char *good[] = {"model", "caf\xC3\xA9", NULL};
  CHECK(fd_export_request_parse(get, (void *)good, "p", &rq, &err));
  CHECK_STR(json_string_value(json_object_get(rq.params_json, "model")), "caf\xC3\xA9");
  fd_export_request_clear(&rq);
}

int main(void) {
  RUN(test_feedback_cursor);
  RUN(test_feedback_text_filters);
  RUN(test_stats_model);
  RUN(test_export_text_params);
  return unit_report();
}
