/* utf8.h — UTF-8 well-formedness, as ingest validates texts and as jansson's json_string
 * accepts them (the export's text records check what json_string would). */
#ifndef FD_UTIL_UTF8_H
#define FD_UTIL_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* True when s[0..len) is well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF). */
bool fd_utf8_valid(const char *s, size_t len);

#endif
