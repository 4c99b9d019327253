/* validate_common.h — the building blocks shared by the feedback and message validators:
 * parsing a request body, the standard batch envelope, JSON paths for error fields, and
 * checks for ids, bounded strings, tags, metadata and timestamps.
 *
 * Conventions of every fd_check_* function:
 * - `v` is the member's value, already known to be present and not JSON null (callers
 *   treat null exactly like an absent optional member);
 * - `path` is the member's full JSON path ("tags", "events[7].context[1].role"), used
 *   verbatim as the error's `field`;
 * - on failure it fills *err (code + field + a sentence that never echoes client data)
 *   and returns false; on success it leaves *err untouched.
 * Strings from jansson are valid UTF-8 without NUL (fd_json_parse_object_new guarantees
 * that); the checks re-verify both anyway so a json_t built any other way cannot slip
 * a NUL or broken UTF-8 into a row. */
#ifndef FD_INGEST_VALIDATE_COMMON_H
#define FD_INGEST_VALIDATE_COMMON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/errors.h"
#include "core/limits.h"
#include "util/utf8.h"

/* Size of a JSON path buffer: the same as struct fd_error.field, so a path always fits. */
#define FD_PATH_MAX 192

/* Body bytes -> a new JSON object (caller json_decref()s it), or NULL with *err set:
 * - payload_too_large when len > lim->body_max_bytes (the HTTP layer normally stops the
 *   upload earlier; this keeps the function safe on its own);
 * - invalid_json when the body is not one complete JSON value, is not UTF-8, contains
 *   \u0000 (jansson rejects it without JSON_ALLOW_NUL, in strings and in keys), contains
 *   a number jansson cannot represent (integer beyond int64, real overflow), repeats a
 *   key within one object (JSON_REJECT_DUPLICATES: with duplicates "the fields the
 *   client sent" would be ambiguous, and different JSON parsers pick different values,
 *   so we refuse rather than guess), or is not an object.
 * The error's field is null (""); the message never quotes the body. */
json_t *fd_json_parse_object_new(const void *body, size_t len, const struct fd_limits *lim, struct fd_error *err)
    __attribute__((warn_unused_result));

/* The batch envelope {"<key>": [ ... ]} of POST /v1/feedback/batch (key "events") and
 * POST /v1/messages (key "messages"). On success *items is the array (borrowed from
 * body). Errors, all about the request as a whole:
 * invalid_json (body not an object), missing_field <key>, invalid_field <key> (not an
 * array), unknown_field <other member>, payload_too_large <key> (more than
 * lim->batch_max_items items). An empty array is accepted (the answer is an empty
 * results list). */
bool fd_batch_items(const json_t *body, const char *key, const struct fd_limits *lim, json_t **items,
                    struct fd_error *err) __attribute__((warn_unused_result));

/* Paths: base "" (or NULL) + key -> "key"; base "a" -> "a.key"; index -> "a[3]".
 * Always NUL-terminated; truncated at a UTF-8 character boundary when too long (an
 * unknown key may be long client text and the error body must stay valid UTF-8). */
void fd_path_key(char out[FD_PATH_MAX], const char *base, const char *key);
void fd_path_index(char out[FD_PATH_MAX], const char *base, size_t index);

/* True when v is present and not JSON null. */
static inline bool fd_json_given(const json_t *v) { return v && !json_is_null(v); }

/* The member `key` of obj when present and not null (null is treated as absent), else NULL. */
json_t *fd_json_member(const json_t *obj, const char *key);

/* A role name ("system", "user", "assistant", "tool") -> the same text as a static string
 * (rows keep it beyond the request), or NULL for any other name. */
const char *fd_role_static(const char *s);

/* First member of obj whose key is not in `known` (a NULL-terminated list), or NULL.
 * Members are visited in document order (jansson keeps insertion order), so the error
 * names the first offending key the client wrote. */
const char *fd_first_unknown_key(const json_t *obj, const char *const *known);

/* A string of min..max bytes, valid UTF-8 without NUL. invalid_field otherwise. */
bool fd_check_string(const json_t *v, size_t min_bytes, size_t max_bytes, const char *path, struct fd_error *err)
    __attribute__((warn_unused_result));

/* An id: a string of lim->id_min_bytes..lim->id_max_bytes of [A-Za-z0-9._:-]. */
bool fd_check_id(const json_t *v, const struct fd_limits *lim, const char *path, struct fd_error *err)
    __attribute__((warn_unused_result));
bool fd_id_chars_ok(const char *s, size_t len);

/* tags: an array of <= lim->tags_max_items strings of lim->tag_min..tag_max bytes.
 * Errors name the array ("tags") for a wrong type or too many items, and the item
 * ("tags[3]") for a bad item. On success *out is a new array (caller free()s it; the
 * strings are borrowed from v) of the distinct tags in first-seen order and *n its
 * length: a repeated tag is dropped rather than rejected, so "top tags" never count one
 * event twice. false with FD_ERR_INTERNAL only if malloc fails. */
bool fd_check_tags(const json_t *v, const struct fd_limits *lim, const char *path, const char ***out, size_t *n,
                   struct fd_error *err) __attribute__((warn_unused_result));

/* metadata: an object nested at most lim->metadata_max_depth levels (the object itself
 * is level 1; every nested object or array adds one), whose compact serialisation
 * (json_dumps JSON_COMPACT, UTF-8 unescaped, no spaces) is at most
 * lim->metadata_max_bytes. On success *compact_new is that serialisation with sorted
 * keys (a new string the caller free()s), ready for a jsonb parameter. */
bool fd_check_metadata(const json_t *v, const struct fd_limits *lim, const char *path, char **compact_new,
                       struct fd_error *err) __attribute__((warn_unused_result));

/* created_at: an RFC 3339 string with zone (util/rfc3339.h) -> microseconds. */
bool fd_check_timestamp(const json_t *v, const char *path, int64_t *out_us, struct fd_error *err)
    __attribute__((warn_unused_result));

/* A JSON integer in lo..hi into *out (reals such as 1.0, booleans and strings are
 * rejected: docs/api.md asks for integers). */
bool fd_check_int_range(const json_t *v, long long lo, long long hi, const char *path, long long *out,
                        struct fd_error *err) __attribute__((warn_unused_result));

#endif
