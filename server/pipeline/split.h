/* split.h — a job larger than a writer transaction, cut into parts (private to pipeline/;
 * see pipeline.h and docs/architecture.md "The write path"). */
#ifndef FD_PIPELINE_SPLIT_H
#define FD_PIPELINE_SPLIT_H

#include <stddef.h>

#include "pipeline/pipeline.h"

/* How many parts fd_job_split may make of a job of `rows` rows (room to allocate). */
size_t fd_job_parts_max(long rows, long max_rows);

/* Cut job into parts of at most max_rows rows each (every part but the last exactly
 * max_rows), in the order one transaction would write them: the messages, then each event
 * after its inline turns, an event's turns running over into the next part when they do
 * not fit (pipeline.h: turn_from_, turn_to_, event_open_). The parts point into the job's
 * arrays (rows and status slots: what a part's writer sets is the job's answer); each
 * detected row goes with the part that stores its turn (the database keeps a detected row
 * only when its turn was stored by the same transaction, docs/detection.md). Writes the
 * parts to `parts` (fd_job_parts_max entries); returns how many. done/done_arg are left
 * NULL for the caller. */
size_t fd_job_split(const struct fd_ingest_job *job, long max_rows, struct fd_ingest_job *parts);

#endif
