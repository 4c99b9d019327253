/* consent_db.h — raters' training consent (table consents, docs/api.md "Consent and
 * licence"). */
#ifndef FD_DB_CONSENT_DB_H
#define FD_DB_CONSENT_DB_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "db/pool.h"
#include "db/status.h"

/* Record the rater's consent. FD_DB_ONE: *out is {"user", "train", "updated_at"}. */
enum fd_db_status fd_consent_put(struct fd_db *db, int64_t project_id, const char *user, bool train, json_t **out)
    __attribute__((warn_unused_result));

/* The rater's consent, or the project's default_consent when none was recorded (then
 * updated_at is null). FD_DB_ONE: *out is {"user", "train", "updated_at"}. */
enum fd_db_status fd_consent_get(struct fd_db *db, int64_t project_id, const char *user, json_t **out)
    __attribute__((warn_unused_result));

#endif
