/* validate_fine.c — span and step events (see validate_fine.h). */
#include "ingest/validate_fine.h"

#include <string.h>

#include "ingest/validate_common.h"
#include "util/text_steps.h"

bool fd_check_span_fields(const json_t *ev, const struct fd_limits *lim, const char *path, struct fd_feedback_row *row,
                          struct fd_error *err) {
  char p[FD_PATH_MAX];
  json_t *v;
  static const char *const offsets[] = {"start", "end"};
  long long *dst[] = {&row->span_start, &row->span_end};
  for (size_t i = 0; i < 2; i++) {
    fd_path_key(p, path, offsets[i]);
    if (!(v = fd_json_member(ev, offsets[i])))
      return fd_error_set(err, FD_ERR_MISSING_FIELD, p, "A span needs start and end (code point offsets).");
    if (!fd_check_int_range(v, 0, (long long)lim->content_max_bytes, p, dst[i], err)) return false;
  }
  if (row->span_start >= row->span_end)
    return fd_error_set(err, FD_ERR_INVALID_FIELD, p, "end must be greater than start.");
  fd_path_key(p, path, "label");
  if (!(v = fd_json_member(ev, "label")))
    return fd_error_set(err, FD_ERR_MISSING_FIELD, p, "A span needs a label (one of the project's span labels).");
  if (!fd_check_string(v, 1, FD_SPAN_LABEL_MAX_BYTES, p, err)) return false;
  row->span_label = json_string_value(v);
  if ((v = fd_json_member(ev, "quote"))) {
    fd_path_key(p, path, "quote");
    if (!fd_check_string(v, 1, lim->content_max_bytes, p, err)) return false;
    row->quote = json_string_value(v);
  }
  return true;
}

bool fd_check_step_fields(const json_t *ev, const char *path, struct fd_feedback_row *row, struct fd_error *err) {
  char p[FD_PATH_MAX];
  json_t *v;
  long long value;
  fd_path_key(p, path, "step");
  if (!(v = fd_json_member(ev, "step")))
    return fd_error_set(err, FD_ERR_MISSING_FIELD, p, "A step event needs step (the 0-based step index).");
  if (!fd_check_int_range(v, 0, 1LL << 31, p, &row->step_index, err)) return false;
  fd_path_key(p, path, "value");
  if (!(v = fd_json_member(ev, "value")))
    return fd_error_set(err, FD_ERR_MISSING_FIELD, p, "A step event needs a value (-1, 0 or 1).");
  if (!fd_check_int_range(v, -1, 1, p, &value, err)) return false;
  row->has_value = true;
  row->value = (int)value;
  return true;
}

static bool count_only(size_t i, const char *line, size_t n, void *arg) {
  (void)i, (void)line, (void)n, (void)arg;
  return true;
}

/* The value of `label` in the project's labels; false if it is not one of them. */
static bool label_value(const json_t *labels, const char *label, int *value) {
  size_t i;
  json_t *it;
  json_array_foreach(labels, i, it) {
    const char *name = json_string_value(json_object_get(it, "name"));
    if (name && strcmp(name, label) == 0) {
      *value = (int)json_integer_value(json_object_get(it, "value"));
      return true;
    }
  }
  return false;
}

static bool check_span(struct fd_feedback_row *row, const json_t *labels, const char *content, size_t len,
                       const char *path, struct fd_error *err) {
  char p[FD_PATH_MAX];
  fd_path_key(p, path, "label");
  if (!label_value(labels, row->span_label, &row->value))
    return fd_error_set(err, FD_ERR_INVALID_FIELD, p,
                        "label must be one of the project's span labels (GET /v1/project).");
  row->has_value = true;
  if (!content) return true; /* not known yet: stored; an export skips it if it does not fit */
  size_t b0, b1;
  fd_path_key(p, path, "end");
  if (!fd_utf8_cp_to_byte(content, len, row->span_end, &b1))
    return fd_error_set(err, FD_ERR_INVALID_FIELD, p, "end is past the end of the message (in code points).");
  if (!fd_utf8_cp_to_byte(content, len, row->span_start, &b0)) return false; /* start < end: cannot happen */
  fd_path_key(p, path, "quote");
  if (row->quote && (strlen(row->quote) != b1 - b0 || memcmp(row->quote, content + b0, b1 - b0) != 0))
    return fd_error_set(err, FD_ERR_INVALID_FIELD, p, "quote is not the message's text from start to end.");
  return true;
}

bool fd_feedback_check_target(struct fd_feedback_row *row, const json_t *span_labels, const char *content,
                              size_t content_len, const char *path, struct fd_error *err) {
  char p[FD_PATH_MAX];
  if (!path) path = "";
  if (row->kind == FD_KIND_SPAN) return check_span(row, span_labels, content, content_len, path, err);
  if (row->kind != FD_KIND_STEP || !content) return true;
  fd_path_key(p, path, "step");
  if ((size_t)row->step_index >= fd_steps_each(content, content_len, count_only, NULL))
    return fd_error_set(err, FD_ERR_INVALID_FIELD, p, "step is past the last step of the message.");
  return true;
}

const struct fd_message_row *fd_feedback_inline_message(const struct fd_feedback_row *row) {
  for (size_t i = 0; i < row->n_turns; i++)
    if (strcmp(row->turns[i].id, row->message_id) == 0) return &row->turns[i];
  return NULL;
}
