/* content_hash.h — the idempotency fingerprint of an event or message item.
 *
 * docs/api.md: a retry with "the same content" is a duplicate, "equal JSON values of the
 * fields the client sent (key order and spacing do not matter; a created_at the server
 * defaulted is not compared)". We hash a canonical form of exactly what the client sent:
 * SHA-256 of json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS) (keys sorted at every level,
 * no whitespace, strings re-encoded by jansson so "\u00e9" and "é" are the same).
 * Fields the server fills in (a generated id, a defaulted created_at) are simply not in
 * the object, so they never take part.
 *
 * One normalisation on top: a member whose value is JSON null is dropped, at the top
 * level and inside the inline "message"/"other_message" objects, because the validators
 * treat null like an absent optional field ("parent_id": null is the same as no
 * parent_id). Nulls inside metadata and arrays are data and are kept.
 *
 * Numbers are compared as jansson prints them: 1 and 1.0 differ (integer vs real), which
 * can only matter inside metadata since every numeric field of the API is an integer. */
#ifndef FD_INGEST_CONTENT_HASH_H
#define FD_INGEST_CONTENT_HASH_H

#include <jansson.h>
#include <stdbool.h>

#include "util/crypto.h"

/* The fingerprint of a feedback event or a /v1/messages item (any JSON object).
 * false only when memory runs out. */
bool fd_content_hash(const json_t *obj, unsigned char out[FD_SHA256_LEN]) __attribute__((warn_unused_result));

#endif
