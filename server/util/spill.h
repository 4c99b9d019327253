/* spill.h — an anonymous temporary file, written once from start to end and then read back
 * once in the same order: the body of an include_meta export (docs/export.md) waits in one
 * while its records are derived, so that it costs disk, not memory.
 *
 * The file lives in $TMPDIR (else /tmp) and has no name (O_TMPFILE, or unlinked at once): it
 * disappears with the process or fd_spill_free, whatever happens. Reads and writes go through
 * a buffer of 256 KiB. */
#ifndef FD_UTIL_SPILL_H
#define FD_UTIL_SPILL_H

#include <stdbool.h>
#include <stddef.h>

struct fd_spill;

/* NULL when no file can be created (errno tells why) or out of memory. */
struct fd_spill *fd_spill_new(void) __attribute__((warn_unused_result));

/* Append n bytes. False on an I/O error (a full disk) or after fd_spill_rewind. */
bool fd_spill_write(struct fd_spill *s, const void *data, size_t n) __attribute__((warn_unused_result));

/* Done writing: the next reads start at the first byte written. False on an I/O error. */
bool fd_spill_rewind(struct fd_spill *s) __attribute__((warn_unused_result));

/* Read exactly n bytes: 1 read, 0 at the end of the file (nothing read), -1 an I/O error or a
 * file that ends within the n bytes. */
int fd_spill_read(struct fd_spill *s, void *data, size_t n) __attribute__((warn_unused_result));

/* Bytes written so far. */
size_t fd_spill_size(const struct fd_spill *s);

/* Close and free (the file goes with it). NULL ok. */
void fd_spill_free(struct fd_spill *s);

#endif
