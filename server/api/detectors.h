/* detectors.h — each project's feedback detector (docs/detection.md), cached in the process
 * for the ingest handlers: user turns are classified on the request thread, never on the
 * writer's, and reading the project's settings for every logged turn would cost a database
 * round trip. Loaded on first use; dropped by PATCH /v1/project here, and reloaded after
 * FD_API_DETECTOR_TTL_US anyway, so a PATCH answered by another replica takes effect too. */
#ifndef FD_API_DETECTORS_H
#define FD_API_DETECTORS_H

#include <stdbool.h>
#include <stdint.h>

#include "http/request.h"
#include "ingest/detect.h"

#define FD_API_DETECTOR_TTL_US (10 * 1000000LL)

struct fd_api_detector;

/* *out = a reference to the request's project detector. False after replying 503 (the
 * database could not be read) or 500: the handler just returns. Release it with
 * fd_api_detector_release once the turns are classified. */
bool fd_api_detector_get(struct fd_request *req, struct fd_api_detector **out) __attribute__((warn_unused_result));

/* The detector, or NULL when the project turned detection off (detect_feedback false). */
const struct fd_detector *fd_api_detector_of(const struct fd_api_detector *ref);

void fd_api_detector_release(struct fd_api_detector *ref);

/* The project's settings changed: the next use reloads its detector. */
void fd_api_detector_forget(int64_t project_id);

#endif
