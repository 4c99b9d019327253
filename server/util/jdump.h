/* jdump.h — compact JSON text of a jansson value into an fd_buf, byte for byte what
 * json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY [| JSON_SORT_KEYS]) writes, without its costs
 * per call (a loop-detection hashtable, a callback per escaped piece, a UTF-8 decode of every
 * character, a strdup of the result). The export writes every record twice this way (its
 * canonical form for pair_id and dedup, its line), so this is on its hot path.
 *
 * Escapes as jansson without JSON_ENSURE_ASCII / JSON_ESCAPE_SLASH: `"` `\` and the control
 * characters below 0x20 (\b \f \n \r \t, others \u00XX uppercase); every other byte as is.
 * Strings of jansson values are valid UTF-8 (json_string checks), so bytes need no decoding.
 * Sorted keys compare bytewise (memcmp, then the shorter first), as jansson does. Reals go
 * through jansson itself (its own shortest-round-trip formatting; rare in records). Values
 * must not contain themselves (jansson's values built by the export never do). */
#ifndef FD_UTIL_JDUMP_H
#define FD_UTIL_JDUMP_H

#include <jansson.h>
#include <stdbool.h>

#include "util/buf.h"

/* Append the text of j to b. False when out of memory (b->oom) or j is NULL. */
bool fd_jdump(const json_t *j, bool sort_keys, struct fd_buf *b) __attribute__((warn_unused_result));

/* Append s[0..len) as a JSON string (quoted, escaped as above), what fd_jdump writes for a
 * jansson string of these bytes; b->oom says whether it failed. s must be valid UTF-8
 * (util/utf8.h) for the result to be what jansson would write. */
void fd_jdump_string(const char *s, size_t len, struct fd_buf *b);

#endif
