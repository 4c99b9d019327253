/* clock.h — the time readings and timed-wait deadlines the threads share. */
#ifndef FD_UTIL_CLOCK_H
#define FD_UTIL_CLOCK_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

/* CLOCK_MONOTONIC in microseconds: durations, never dates. */
uint64_t fd_now_us(void);

/* CLOCK_REALTIME in microseconds since the epoch: dates (created_at defaults, "now"). */
int64_t fd_wall_us(void);

/* A condition variable whose timed waits are measured on CLOCK_MONOTONIC (a wall-clock
 * jump then neither cuts a wait short nor stretches it). */
void fd_cond_init_monotonic(pthread_cond_t *cond);

/* Now + ms on `clock`, as pthread_cond_timedwait wants it: CLOCK_MONOTONIC for conditions
 * made by fd_cond_init_monotonic, CLOCK_REALTIME for default ones. */
struct timespec fd_deadline_ms(clockid_t clock, long ms);

#endif
