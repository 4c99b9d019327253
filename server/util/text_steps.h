/* text_steps.h — the text arithmetic of fine-grained feedback (docs/api.md "Span feedback",
 * "Step feedback"), shared by ingest validation and exports: code-point offsets and the
 * steps of a message.
 *
 * Offsets are Unicode code points of the content (what Python's str indexes and what a
 * browser's Array.from(text) counts), not bytes or UTF-16 units: a span means the same text
 * whatever language cuts it. */
#ifndef FD_UTIL_TEXT_STEPS_H
#define FD_UTIL_TEXT_STEPS_H

#include <stdbool.h>
#include <stddef.h>

/* Byte offset of code point `cp` in valid UTF-8 s[0..len) (cp may equal the number of code
 * points: then len). False when s has fewer code points. */
bool fd_utf8_cp_to_byte(const char *s, size_t len, long long cp, size_t *byte) __attribute__((warn_unused_result));

/* The steps of a message: its content split on "\n", lines that are empty or only ASCII
 * whitespace (space, tab, CR, VT, FF) dropped. Calls each(i, line, line_len, arg) for step
 * i = 0, 1, ... (stops early when it returns false) and returns the number of steps seen. */
size_t fd_steps_each(const char *s, size_t len, bool (*each)(size_t i, const char *line, size_t n, void *arg),
                     void *arg);

/* The number of code points of valid UTF-8 s[0..len). */
size_t fd_utf8_cp_count(const char *s, size_t len);

#endif
