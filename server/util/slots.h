/* slots.h — counted admission: at most `total` holders at a time, and at most `per_key`
 * holders with the same key (a project id). For work that holds a scarce resource for long
 * (an HTTP export holds a database connection and a snapshot). Thread-safe. */
#ifndef FD_UTIL_SLOTS_H
#define FD_UTIL_SLOTS_H

#include <stdbool.h>
#include <stdint.h>

struct fd_slots;

/* total >= 1, per_key >= 1. NULL when out of memory. */
struct fd_slots *fd_slots_new(int total, int per_key) __attribute__((warn_unused_result));
void fd_slots_free(struct fd_slots *s);

/* Take a slot for key: false (nothing taken) when either limit is reached. */
bool fd_slots_take(struct fd_slots *s, int64_t key) __attribute__((warn_unused_result));

/* Give back a slot taken for key. */
void fd_slots_give(struct fd_slots *s, int64_t key);

#endif
