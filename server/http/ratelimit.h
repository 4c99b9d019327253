/* ratelimit.h — per-key token buckets (docs/api.md: "Rate limits per key (events/s and burst) are
 * off unless configured"). Local to one daemon: with N replicas the effective limit is
 * N times the setting, which is the usual trade-off for not sharing state. */
#ifndef FD_HTTP_RATELIMIT_H
#define FD_HTTP_RATELIMIT_H

#include <stdbool.h>

/* Take `cost` tokens from the bucket of key_id. false when the key is over its limit;
 * *retry_after_s is then how long until enough tokens are back (at least 1). Always true
 * when rate limiting is off (rps <= 0). */
bool fd_ratelimit_take(const char *key_id, double rps, double burst, double cost, int *retry_after_s);

/* The bucket size the settings give (a burst below 1 means "the rate, at least 1");
 * HUGE_VAL (infinity) when rate limiting is off. A request costing more can never be covered. */
double fd_ratelimit_burst(double rps, double burst);

#endif
