/* export_db.h — the SQL of the preference export: the exports audit rows and the snapshot
 * reader that streams a project's conversations, one at a time, into the export core
 * (export/export.h).
 *
 * SNAPSHOT. A reader runs on a dedicated connection (an export can take minutes and must not
 * hold a pool slot) inside one REPEATABLE READ READ ONLY transaction: every pass sees the
 * same data, and pg_current_snapshot() taken at its start is the export's watermark.
 *
 * STREAMING. Two server-side cursors, both ordered by conversation id COLLATE "C" (bytewise,
 * the order the export core requires), are merge-joined here: one over the project's
 * messages, one over its feedback events keyed by the conversation(s) of the message(s) they
 * name (a comparison across two conversations appears under both). Rows are FETCHed in
 * bounded chunks and copied into the conversation; memory is one chunk of each cursor plus
 * the largest conversation. Each event row carries its rater's consent (the consents row,
 * else the project's default_consent), joined in the same scan.
 *
 * PARALLEL. A full export (no after=, include_meta or not) reads its two queries as
 * `COPY (query) TO STDOUT` (text rows, unescaped here) instead of cursors, each on a
 * connection of its own: the messages query on the reader's connection, the feedback query
 * on a second connection the reader opens (same parameters) and whose REPEATABLE READ
 * transaction imports the first's snapshot (pg_export_snapshot, SET TRANSACTION SNAPSHOT, as
 * pg_dump does), so both see the watermark's data. Both are sent at once, so their scans,
 * joins and sorts run side by side, and a COPY of a query may use parallel workers where
 * DECLARE CURSOR may not (bench/README.md "export"); COPY rather than a plain query in
 * single-row mode, where libpq builds a whole PGresult per row. Such an export holds two
 * connections (docs/operations.md). Memory stays one row of each query plus the largest
 * conversation. Closing the reader mid-pass cancels what is still running.
 *
 * INCREMENTAL (after=<watermark>). Rows carry the xid8 of the transaction that wrote them
 * (migrations/0001_initial.sql). Changes after the watermark are the rows whose txid (or a
 * feedback row's retracted_txid, or an erasure's txid) is not visible in the watermark
 * snapshot. A third cursor lists their touches per conversation (docs/export.md "Incremental
 * exports": events and retractions the messages they name, erasures erasures.message_ids, a
 * rater's consent change (consents.txid) every message that rater's events name, a new turn
 * its own group and every group below it); only conversations with a touch are streamed. */
#ifndef FD_DB_EXPORT_DB_H
#define FD_DB_EXPORT_DB_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db/pool.h"
#include "db/status.h"
#include "export/export.h"
#include "export/model.h"

/* Statuses: db/status.h (the reader's two accessors and fd_export_reader_free cannot fail). */

/* ---- the exports table (any connection outside a read-only transaction) ---------------- */

/* Insert the audit row of a starting export. FD_DB_ONE: id_out holds its uuid, started_at its
 * start time (RFC 3339, UTC). params is borrowed. */
enum fd_db_status fd_export_db_insert(struct fd_db *db, int64_t project_id, const char *format, const json_t *params,
                                      char id_out[37], char *started_at, size_t started_len)
    __attribute__((warn_unused_result));

/* Record a finished export: finished_at, rows, sha256, watermark and the manifest (borrowed;
 * its "finished_at" must hold the RFC 3339 finish time). FD_DB_ONE: recorded; FD_DB_NONE: no
 * such export. */
enum fd_db_status fd_export_db_finish(struct fd_db *db, int64_t project_id, const char *id, const json_t *manifest)
    __attribute__((warn_unused_result));

/* The manifest of export `id` of the project into *manifest (the caller's): the stored
 * manifest of a finished export, or what is known of an unfinished one (finished_at null).
 * FD_DB_NONE: no such export (an id that is not a uuid included). */
enum fd_db_status fd_export_db_get(struct fd_db *db, int64_t project_id, const char *id, json_t **manifest)
    __attribute__((warn_unused_result));

/* ---- the snapshot reader ---------------------------------------------------------------- */

struct fd_export_reader;

/* Open a reader on db (borrowed; it must not be used for anything else until the reader is
 * freed): validates `after` (NULL: a full export), then BEGIN ISOLATION LEVEL REPEATABLE READ
 * READ ONLY and takes the watermark. FD_DB_ONE: *reader is the caller's (free it with
 * fd_export_reader_free); FD_DB_NONE: `after` is not a snapshot (what that means for a client
 * is the caller's business); a failure otherwise (out of memory is HARD). */
enum fd_db_status fd_export_reader_new(struct fd_db *db, int64_t project_id, const char *after,
                                       struct fd_export_reader **reader) __attribute__((warn_unused_result));

/* The watermark of this export (pg_snapshot text). Owned by the reader. */
const char *fd_export_reader_watermark(const struct fd_export_reader *r);

/* The project's settings as of the snapshot (docs/export.md "Consent and licence"):
 * dataset_license (NULL when none; owned by the reader), whether default_consent is `train`,
 * and the current reaction set (owned by the reader, *n entries). */
const char *fd_export_reader_license(const struct fd_export_reader *r);
bool fd_export_reader_default_train(const struct fd_export_reader *r);
const struct fd_export_reaction *fd_export_reader_reactions(const struct fd_export_reader *r, size_t *n);

/* Which of the kinds only some exports read to load from the rewind on: reactions
 * (reactions=true, format=reward, signals=true) and signals (signals=true). Both off by
 * default. */
void fd_export_reader_load(struct fd_export_reader *r, bool reactions, bool signals);

/* FD_DB_ONE with *count the number of conversations a pass will stream (for a progress bar). */
enum fd_db_status fd_export_reader_count(struct fd_export_reader *r, long *count) __attribute__((warn_unused_result));

/* Start the export's one pass over the snapshot, once: send the two queries of a full export
 * ("PARALLEL"; cursors when it cannot have its second connection), or declare the cursors of
 * an incremental one. FD_DB_ONE or a failure. */
enum fd_db_status fd_export_reader_rewind(struct fd_export_reader *r) __attribute__((warn_unused_result));

/* A cancel handle (the caller's, PQfreeCancel) for the query on the reader's second connection,
 * which a pass started by rewind may have opened ("PARALLEL"); NULL when it has none. A
 * caller that cancels the reader's connection's query (shutdown) cancels this one too. */
PGcancel *fd_export_reader_cancel_second(struct fd_export_reader *r) __attribute__((warn_unused_result));

/* Load the next conversation of the pass. FD_DB_ONE: *conv (and, for an incremental export,
 * *touches[0..*n_touches)) are set and owned by the reader until the next call; FD_DB_NONE:
 * the pass is over; a failure (out of memory or bad rows are HARD) otherwise, described by
 * fd_export_reader_error. touches is NULL for a full export. */
enum fd_db_status fd_export_reader_next(struct fd_export_reader *r, const struct fd_conversation **conv,
                                        const struct fd_touch **touches, size_t *n_touches)
    __attribute__((warn_unused_result));

/* A human sentence about the last failure, "" when none. Owned by the reader. */
const char *fd_export_reader_error(const struct fd_export_reader *r);

/* Close the cursors and end the transaction (the connection stays open and idle). NULL ok. */
void fd_export_reader_free(struct fd_export_reader *r);

#endif
