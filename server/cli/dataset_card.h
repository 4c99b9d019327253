/* dataset_card.h — the Hugging Face dataset card (README.md) that `feedbackd export --out DIR`
 * writes beside train.jsonl and test.jsonl: YAML front matter (configs, features of the
 * format, split sizes, tags; `license:` when the project set dataset_license), then what the
 * data is, whose feedback it holds (consent) and the licence, how it was derived, the parameters, the
 * skipped candidates and what the checksums cover. */
#ifndef FD_CLI_DATASET_CARD_H
#define FD_CLI_DATASET_CARD_H

#include <jansson.h>
#include <stdbool.h>

#include "export/format.h"
#include "export/model.h"

/* What the card says beyond the manifest: the project's settings as of the export. */
struct fd_dataset_card_facts {
  bool default_train;                   /* default_consent is train (the sentence on consent) */
  const struct fd_export_reaction *set; /* the reaction set (reward's `reactions` feature) */
  size_t n_set;
};

/* Write the card of the export whose manifest (borrowed) is given, for project `slug`, to
 * path. meta: the records carry "meta" (include_meta). The licence comes from the manifest's
 * "license". False when the file could not be written. */
bool fd_dataset_card_write(const char *path, const char *slug, const json_t *manifest, enum fd_export_format fmt,
                           bool meta, const struct fd_dataset_card_facts *facts);

#endif
