/* fuzz_ingest.c — libFuzzer target for the ingestion request path without HTTP or SQL:
 * body bytes -> fd_json_parse_object_new -> single-event validation, the batch envelopes
 * of /v1/feedback/batch and /v1/messages with every item validated, and the messages
 * endpoint's items. Also exercises the row contents (hashes, turns, edit ratio) so a
 * dangling borrowed pointer shows up under ASan.
 *
 * Invariants checked (abort = finding): a failure always carries a client code (never
 * FD_ERR_INTERNAL or FD_ERR_NONE), an error field is valid UTF-8, and every row string
 * is valid UTF-8 within its limit. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/edit_ratio.h"
#include "ingest/rows.h"
#include "ingest/validate_common.h"

static struct fd_limits lim;

static void check_error(const struct fd_error *err) {
  if (err->code == FD_ERR_NONE || err->code == FD_ERR_INTERNAL) abort();
  if (!fd_utf8_valid(err->field, strlen(err->field))) abort();
  if (!fd_utf8_valid(err->message, strlen(err->message))) abort();
}

static void check_str(const char *s, size_t max) {
  if (!s) return;
  size_t n = strlen(s);
  if (n > max || !fd_utf8_valid(s, n)) abort();
}

static void touch_message(const struct fd_message_row *m) {
  if (!m->conversation_id || !m->role || !m->content) abort();
  if (m->id[0] == '\0' || !fd_id_chars_ok(m->id, strlen(m->id))) abort();
  if (m->parent_id[0] && !fd_id_chars_ok(m->parent_id, strlen(m->parent_id))) abort();
  if (strlen(m->content) != m->content_len) abort();
  check_str(m->content, lim.content_max_bytes);
  check_str(m->model, lim.model_max_bytes);
  check_str(m->user, lim.user_max_bytes);
  check_str(m->metadata_json, lim.metadata_max_bytes);
}

/* The edit ratio (computed after COMMIT in the server) of an edit against its inline
 * original, with a small budget so every level runs: 0 <= lower <= ratio <= 1. */
static void check_edit_ratio(const struct fd_feedback_row *row) {
  for (size_t i = 0; i < row->n_turns; i++) {
    const struct fd_message_row *m = &row->turns[i];
    if (strcmp(m->id, row->message_id) != 0) continue;
    double r = -1;
    struct fd_edit_ratio_work w;
    if (!fd_edit_ratio_budget(m->content, m->content_len, row->edited_content, strlen(row->edited_content), 4096, &r,
                              &w))
      return; /* out of memory only */
    if (!(w.lower >= 0.0 && w.lower <= r && r <= 1.0)) abort();
  }
}

static void feedback(const json_t *ev, const char *path) {
  struct fd_error err = {0};
  struct fd_feedback_row *row = fd_feedback_row_new(ev, &lim, path, &err);
  if (!row) {
    check_error(&err);
    return;
  }
  check_str(row->user, lim.user_max_bytes);
  check_str(row->comment, lim.comment_max_bytes);
  check_str(row->edited_content, lim.edited_content_max_bytes);
  check_str(row->metadata_json, lim.metadata_max_bytes);
  for (size_t i = 0; i < row->n_tags; i++) check_str(row->tags[i], lim.tag_max_bytes);
  for (size_t i = 0; i < row->n_turns; i++) touch_message(&row->turns[i]);
  if (row->kind == FD_KIND_EDIT) check_edit_ratio(row);
  if (row->kind == FD_KIND_RATING && !row->has_value) abort();
  if (row->kind == FD_KIND_COMPARISON && (!row->other_message_id || !row->outcome)) abort();
  fd_feedback_row_free(row);
}

static void message(const json_t *item, const char *path) {
  struct fd_error err = {0};
  struct fd_message_row *row = fd_message_row_new(item, &lim, path, &err);
  if (!row) {
    check_error(&err);
    return;
  }
  touch_message(row);
  fd_message_row_free(row);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int init;
  if (!init) {
    lim = fd_limits_default();
    init = 1;
  }
  struct fd_error err = {0};
  json_t *body = fd_json_parse_object_new(data, size, &lim, &err);
  if (!body) {
    check_error(&err);
    return 0;
  }
  feedback(body, NULL);
  message(body, NULL);

  static const char *const keys[] = {"events", "messages"};
  for (int k = 0; k < 2; k++) {
    json_t *items = NULL;
    struct fd_error berr = {0};
    if (!fd_batch_items(body, keys[k], &lim, &items, &berr)) {
      check_error(&berr);
      continue;
    }
    for (size_t i = 0; i < json_array_size(items); i++) {
      char path[FD_PATH_MAX];
      fd_path_index(path, keys[k], i);
      if (k == 0)
        feedback(json_array_get(items, i), path);
      else
        message(json_array_get(items, i), path);
    }
  }
  json_decref(body);
  return 0;
}
