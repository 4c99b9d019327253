/* split.c — cutting an oversized job into writer-transaction-sized parts (see split.h). */
#include "pipeline/split.h"

size_t fd_job_parts_max(long rows, long max_rows) { return (size_t)((rows + max_rows - 1) / max_rows) + 1; }

/* Whether part stores this turn (a message of the job or an inline turn of an event). */
static bool stores_turn(const struct fd_ingest_job *part, const struct fd_message_row *turn) {
  for (size_t i = 0; i < part->n_messages; i++)
    if (part->messages[i] == turn) return true;
  for (size_t e = 0; e < part->n_events; e++) {
    const struct fd_feedback_row *row = part->events[e];
    size_t from = e == 0 ? part->turn_from_ : 0;
    size_t to = part->event_open_ && e + 1 == part->n_events ? part->turn_to_ : row->n_turns;
    if (turn >= row->turns + from && turn < row->turns + to) return true;
  }
  return false;
}

size_t fd_job_split(const struct fd_ingest_job *job, long max_rows, struct fd_ingest_job *parts) {
  size_t n = 0, m = 0, e = 0, t = 0;
  struct fd_ingest_job *cur = NULL;
  long room = 0;
  while (m < job->n_messages || e < job->n_events) {
    if (!cur || room == 0) { /* start a part at the current position */
      cur = &parts[n++];
      *cur = (struct fd_ingest_job){.project_id = job->project_id,
                                    .received_us = job->received_us,
                                    .messages = job->messages + m,
                                    .message_status = job->message_status + m,
                                    .events = job->events + e,
                                    .event_status = job->event_status + e,
                                    .turn_from_ = t,
                                    .part_ = true};
      room = max_rows;
    }
    if (m < job->n_messages) {
      long take = (long)(job->n_messages - m) < room ? (long)(job->n_messages - m) : room;
      cur->n_messages += (size_t)take;
      m += (size_t)take;
      room -= take;
      continue;
    }
    long left = (long)(job->events[e]->n_turns - t) + 1; /* its turns still to write, and its row */
    cur->n_events++;
    if (left <= room) {
      room -= left;
      e++;
      t = 0;
    } else { /* the event continues in the next part */
      t += (size_t)room;
      cur->event_open_ = true;
      cur->turn_to_ = t;
      room = 0;
    }
  }
  /* detected rows come in the order of their turns (api/ingest_request.c detects messages,
   * then each event's turns): each part takes the run whose turns it stores */
  size_t d = 0;
  for (size_t p = 0; p < n; p++) {
    parts[p].detected = job->detected + d;
    while (d < job->n_detected && stores_turn(&parts[p], job->detected[d].turn)) d++;
    parts[p].n_detected = (size_t)(job->detected + d - parts[p].detected);
  }
  if (n && d < job->n_detected) parts[n - 1].n_detected += job->n_detected - d; /* never: kept, not lost */
  return n;
}
