/* fine_targets.c — span and step events checked against the project's span labels and the
 * judged message (docs/api.md "Span feedback", "Step feedback"), before the job is queued.
 *
 * Why here and not in the writer: the answer to a bad offset is a 400 of this request, and
 * the writer only reports stored/duplicate/conflict. One query per request fetches the
 * labels and every stored judged message at once; an inline message is used as sent. A
 * message stored by a concurrent request after this query is "not known yet" (the event is
 * kept; exports skip it when it does not fit). */
#include <stdlib.h>
#include <string.h>

#include "api/app.h"
#include "api/ingest_request.h"
#include "db/projects_db.h"
#include "http/reply.h"
#include "ingest/validate_common.h"

static bool is_fine(const struct fd_feedback_row *f) { return f->kind == FD_KIND_SPAN || f->kind == FD_KIND_STEP; }

/* Drop event k from the job (its row freed), keeping the order of the others. */
static void drop_event(struct fd_ingest_job *job, size_t *row_index, size_t k) {
  fd_feedback_row_free(job->events[k]);
  memmove(&job->events[k], &job->events[k + 1], (job->n_events - k - 1) * sizeof *job->events);
  memmove(&row_index[k], &row_index[k + 1], (job->n_events - k - 1) * sizeof *row_index);
  job->n_events--;
}

bool fd_ingest_check_fine(struct fd_ingest_request *ir, bool batch) {
  struct fd_ingest_job *job = &ir->job;
  size_t n = 0;
  for (size_t k = 0; k < job->n_events; k++) n += is_fine(job->events[k]);
  if (n == 0) return true;
  const char **ids = calloc(n, sizeof *ids);
  char **contents = calloc(n, sizeof *contents);
  if (!ids || !contents) {
    free(ids);
    free(contents);
    fd_reply_error(ir->req, FD_ERR_INTERNAL, NULL, "out of memory");
    return false;
  }
  for (size_t k = 0, j = 0; k < job->n_events; k++)
    if (is_fine(job->events[k])) ids[j++] = job->events[k]->message_id;
  struct fd_db *db = fd_api_db_get(ir->req);
  json_t *labels = NULL;
  enum fd_db_status st = db ? fd_projects_fine_targets(db, job->project_id, ids, n, &labels, contents) : FD_DB_NONE;
  if (db) fd_api_db_put(ir->req, db);
  bool ok = db && !fd_db_failed(st);
  if (db && !ok) fd_reply_db_failure(ir->req, st);
  /* j counts the span/step rows seen, in the order ids[] was built */
  for (size_t k = 0, j = 0; ok && k < job->n_events;) {
    struct fd_feedback_row *f = job->events[k];
    if (!is_fine(f)) {
      k++;
      continue;
    }
    const struct fd_message_row *m = fd_feedback_inline_message(f);
    const char *content = m ? m->content : contents[j];
    size_t len = m ? m->content_len : contents[j] ? strlen(contents[j]) : 0;
    j++;
    char path[FD_PATH_MAX] = "";
    if (batch) fd_path_index(path, "events", ir->row_index[k]);
    struct fd_error err;
    if (fd_feedback_check_target(f, labels, content, len, path, &err)) {
      k++;
    } else if (batch) {
      size_t index = ir->row_index[k];
      json_array_set_new(ir->results, index, fd_item_error(index, f->id, &err));
      drop_event(job, ir->row_index, k);
    } else {
      fd_reply_fd_error(ir->req, &err);
      ok = false;
    }
  }
  for (size_t j = 0; j < n; j++) free(contents[j]);
  free(contents);
  free(ids);
  json_decref(labels);
  return ok;
}
