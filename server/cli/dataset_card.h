/* dataset_card.h — the Hugging Face dataset card (README.md) that `feedbackd export --out DIR`
 * writes beside train.jsonl and test.jsonl: YAML front matter (configs, features of the
 * format, split sizes, tags), then what the data is, how it was derived, the parameters, the
 * skipped candidates and what the checksums cover. */
#ifndef FD_CLI_DATASET_CARD_H
#define FD_CLI_DATASET_CARD_H

#include <jansson.h>
#include <stdbool.h>

#include "export/format.h"

/* Write the card of the export whose manifest (borrowed) is given, for project `slug`, to
 * path. meta: the records carry "meta" (include_meta). False when the file could not be
 * written. */
bool fd_dataset_card_write(const char *path, const char *slug, const json_t *manifest, enum fd_export_format fmt,
                           bool meta);

#endif
