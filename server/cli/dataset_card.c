/* dataset_card.c — the dataset card of an export directory (see dataset_card.h). */
#include "cli/dataset_card.h"

#include <stdio.h>
#include <stdlib.h>

static void yaml_messages(FILE *f, const char *indent) {
  fprintf(f, "%s  list:\n%s  - name: role\n%s    dtype: string\n%s  - name: content\n%s    dtype: string\n", indent,
          indent, indent, indent, indent);
}

static void card_features(FILE *f, enum fd_export_format fmt, bool meta, const struct fd_export_reaction *set,
                          size_t n_set) {
  fprintf(f, "  features:\n");
  switch (fmt) {
    case FD_FORMAT_TRL:
      fprintf(f, "  - name: prompt\n");
      yaml_messages(f, "  ");
      fprintf(f, "  - name: chosen\n");
      yaml_messages(f, "  ");
      fprintf(f, "  - name: rejected\n");
      yaml_messages(f, "  ");
      break;
    case FD_FORMAT_TRL_TEXT:
      fprintf(f,
              "  - name: prompt\n    dtype: string\n  - name: chosen\n    dtype: string\n"
              "  - name: rejected\n    dtype: string\n");
      break;
    case FD_FORMAT_KTO:
      fprintf(f, "  - name: prompt\n");
      yaml_messages(f, "  ");
      fprintf(f, "  - name: completion\n");
      yaml_messages(f, "  ");
      fprintf(f, "  - name: label\n    dtype: bool\n");
      break;
    case FD_FORMAT_OPENAI:
      fprintf(f, "  - name: input\n    struct:\n    - name: messages\n");
      yaml_messages(f, "    ");
      fprintf(f, "  - name: preferred_output\n");
      yaml_messages(f, "  ");
      fprintf(f, "  - name: non_preferred_output\n");
      yaml_messages(f, "  ");
      break;
    case FD_FORMAT_HH:
      fprintf(f, "  - name: chosen\n    dtype: string\n  - name: rejected\n    dtype: string\n");
      break;
    case FD_FORMAT_SFT:
      fprintf(f, "  - name: messages\n");
      yaml_messages(f, "  ");
      break;
    case FD_FORMAT_PRM:
      fprintf(f,
              "  - name: prompt\n    dtype: string\n  - name: completions\n    sequence: string\n"
              "  - name: labels\n    sequence: bool\n");
      break;
    case FD_FORMAT_SPANS:
      fprintf(f, "  - name: prompt\n");
      yaml_messages(f, "  ");
      fprintf(f,
              "  - name: completion\n    dtype: string\n  - name: spans\n    list:\n"
              "    - name: start\n      dtype: int64\n    - name: end\n      dtype: int64\n"
              "    - name: label\n      dtype: string\n    - name: value\n      dtype: float64\n"
              "    - name: n\n      dtype: int64\n");
      break;
    case FD_FORMAT_REWARD:
      fprintf(f, "  - name: prompt\n");
      yaml_messages(f, "  ");
      fprintf(f, "  - name: completion\n");
      yaml_messages(f, "  ");
      fprintf(f,
              "  - name: reward\n    dtype: float64\n  - name: n\n    dtype: int64\n"
              "  - name: reactions\n    struct:\n");
      for (size_t i = 0; i < n_set; i++) fprintf(f, "    - name: %s\n      dtype: int64\n", set[i].name);
      break;
  }
  if (!meta) return;
  enum fd_family fam = fd_export_format_family(fmt);
  fprintf(f, "  - name: meta\n    struct:\n");
  static const char *const strs[] = {"prompt_id", "conversation_id", "parent_id", "origin", "split"};
  for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
    fprintf(f, "    - name: %s\n      dtype: string\n", strs[i]);
  fprintf(f, "    - name: feedback_ids\n      sequence: string\n");
  if (fam == FD_FAMILY_PAIRS)
    fprintf(f,
            "    - name: pair_id\n      dtype: string\n    - name: margin\n      dtype: float64\n"
            "    - name: n_votes\n      dtype: int64\n    - name: agreement\n      dtype: float64\n"
            "    - name: models\n      struct:\n      - name: chosen\n        dtype: string\n"
            "      - name: rejected\n        dtype: string\n");
  if (fam == FD_FAMILY_UNPAIRED || fam == FD_FAMILY_STEPS || fam == FD_FAMILY_SPANS || fam == FD_FAMILY_REWARD)
    fprintf(f, "    - name: model\n      dtype: string\n");
}

static const char *trainer_of(enum fd_export_format f) {
  switch (f) {
    case FD_FORMAT_TRL:
      return "TRL conversational preference data with an explicit prompt (DPOTrainer, RewardTrainer, ORPO/CPO)";
    case FD_FORMAT_TRL_TEXT: return "TRL standard (plain text) preference data; only single-user-turn prompts";
    case FD_FORMAT_KTO: return "TRL unpaired preference data (KTOTrainer, BCO)";
    case FD_FORMAT_OPENAI: return "OpenAI preference fine-tuning (DPO) data";
    case FD_FORMAT_HH: return "Anthropic HH-RLHF style transcripts (chosen / rejected)";
    case FD_FORMAT_SFT: return "chat SFT data (messages ending with the assistant response)";
    case FD_FORMAT_PRM:
      return "TRL stepwise supervision data for process reward models (PRMTrainer); only single-user-turn prompts";
    case FD_FORMAT_SPANS:
      return "fine-grained reward data: responses with labelled passages (offsets in Unicode code points)";
    case FD_FORMAT_REWARD:
      return "reward data: one response per record with its mean human score (ratings and emoji reactions)";
  }
  return "";
}

static const char *card_tag(enum fd_export_format fmt) {
  switch (fmt) {
    case FD_FORMAT_SFT: return "sft";
    case FD_FORMAT_KTO: return "kto";
    case FD_FORMAT_PRM: return "process-supervision";
    case FD_FORMAT_SPANS: return "fine-grained-feedback";
    case FD_FORMAT_REWARD: return "reward-modeling";
    default: return "preference";
  }
}

/* The YAML front matter the Hub reads: the licence (when the project set one), the two
 * splits, the features of the format, tags. */
static void write_front_matter(FILE *f, const char *license, enum fd_export_format fmt, bool meta,
                               const struct fd_dataset_card_facts *facts, json_int_t n_train, json_int_t n_test) {
  fprintf(f, "---\n");
  /* An SPDX identifier is a YAML plain scalar ([A-Za-z0-9.+-], " WITH ", " AND ", "OR", parentheses). */
  if (license) fprintf(f, "license: %s\n", license);
  fprintf(f,
          "configs:\n"
          "- config_name: default\n"
          "  data_files:\n"
          "  - split: train\n"
          "    path: train.jsonl\n"
          "  - split: test\n"
          "    path: test.jsonl\n"
          "dataset_info:\n");
  card_features(f, fmt, meta, facts->set, facts->n_set);
  fprintf(f,
          "  splits:\n"
          "  - name: train\n"
          "    num_examples: %lld\n"
          "  - name: test\n"
          "    num_examples: %lld\n"
          "tags:\n"
          "- %s\n"
          "- human-feedback\n"
          "- feedbackd\n"
          "---\n\n",
          (long long)n_train, (long long)n_test, card_tag(fmt));
}

/* The title and the facts of this export, from its manifest. */
static void write_summary(FILE *f, const char *slug, const json_t *manifest, enum fd_export_format fmt,
                          json_int_t n_train, json_int_t n_test) {
  char *by = json_dumps(json_object_get(manifest, fmt == FD_FORMAT_KTO ? "by_label" : "by_origin"), JSON_COMPACT);
  bool has_by = fd_export_format_family(fmt) == FD_FAMILY_PAIRS || fmt == FD_FORMAT_KTO;
  fprintf(f,
          "# %s — %s export\n\n"
          "%s, exported by feedbackd %s from the human feedback of project `%s`.\n\n"
          "- export id: `%s`\n- started: %s, finished: %s\n- watermark (for `--after`): `%s`\n"
          "- records: %lld (train %lld, test %lld)%s%s\n\n",
          slug, json_string_value(json_object_get(manifest, "format")), trainer_of(fmt),
          json_string_value(json_object_get(manifest, "exporter_version")), slug,
          json_string_value(json_object_get(manifest, "id")),
          json_string_value(json_object_get(manifest, "started_at")),
          json_string_value(json_object_get(manifest, "finished_at")),
          json_string_value(json_object_get(manifest, "watermark")),
          (long long)json_integer_value(json_object_get(manifest, "records")), (long long)n_train, (long long)n_test,
          by && has_by ? (fmt == FD_FORMAT_KTO ? ", by label " : ", by origin ") : "", by && has_by ? by : "");
  free(by);
}

/* Whose feedback is in the data, and under which licence (docs/export.md "Consent and licence"). */
static void write_consent(FILE *f, const json_t *manifest, bool default_train) {
  const char *license = json_string_value(json_object_get(manifest, "license"));
  json_int_t lost = json_integer_value(json_object_get(json_object_get(manifest, "skipped"), "no_consent"));
  fprintf(f,
          "## Consent and licence\n\n"
          "Only feedback of raters who consented to its use for training is included: raters who said\n"
          "so, and raters who did not opt out while the project's default consent is `train`; feedback\n"
          "without a rater follows that default. The project's default consent was `%s` at the time of\n"
          "the export. %lld candidate record(s) lost all of their evidence to this rule and were left out\n"
          "(`skipped.no_consent`).\n\n",
          default_train ? "train" : "none", (long long)lost);
  if (license)
    fprintf(f, "The data is released under the licence `%s` (SPDX), the project's `dataset_license`.\n\n", license);
  else
    fprintf(f, "The project set no licence (`dataset_license`): ask its owners before redistributing the data.\n\n");
}

/* How the records were derived (the export rules in brief), the parameters, the skipped
 * candidates and what the checksums cover. */
static void write_derivation(FILE *f, const json_t *manifest) {
  char *params_text =
      json_dumps(json_object_get(manifest, "params"), JSON_INDENT(2) | JSON_SORT_KEYS | JSON_REAL_PRECISION(15));
  char *skipped = json_dumps(json_object_get(manifest, "skipped"), JSON_INDENT(2) | JSON_REAL_PRECISION(15));
  fprintf(f,
          "## How the data was derived\n\n"
          "Records are derived deterministically from logged conversation turns and feedback events\n"
          "(thumbs and scale ratings, in-place edits, A/B comparisons, span and step labels; emoji reactions and\n"
          "implicit signals where the parameters below ask for them), following the rules of\n"
          "feedbackd's export specification:\n\n"
          "- **Counting feedback**: per rater, message and kind (for comparisons: rater and pair) only\n"
          "  the latest event counts; a retracted latest event removes that rater's vote; erased users'\n"
          "  events are gone. Ratings are normalised to a score in [-1, 1] (thumbs ±1; v of n:\n"
          "  2(v-1)/(n-1) - 1), a message's score is the mean of its counting ratings.\n"
          "- **Prompt**: the chain of turns from the conversation's root to the response's parent; it must\n"
          "  end with a user or tool turn. Only siblings (responses to the same prompt) are ever paired.\n"
          "- **Pairs** (preference formats): (1) an in-place edit is preferred to the original (trivial,\n"
          "  whitespace-only edits are skipped); (2) A/B comparisons between siblings by majority, kept when\n"
          "  the winner has at least 2/3 of the votes (ties give nothing); (3) rated siblings whose scores\n"
          "  differ by at least `min_margin`, at most 4 rated pairs per prompt, dropped when they repeat or\n"
          "  contradict an edit or comparison of the same prompt.\n"
          "- **Unpaired** (kto): each rated response with a non-zero score (label = score > 0), both sides\n"
          "  of each non-trivial edit, and both responses of each `both_bad` comparison vote.\n"
          "- **SFT**: edited texts, and responses rated only at the top score.\n"
          "- **prm**: per response to a single user turn, its steps (non-blank lines) with a label per\n"
          "  step from the mean of its counting step votes (true > 0, false < 0), the longest prefix of\n"
          "  labelled steps.\n"
          "- **spans**: per response, its labelled passages (code-point offsets), one entry per (start, end,\n"
          "  label) with the mean label value and the number of counting span events.\n"
          "- **reward**: per response, the mean score of its counting ratings and emoji reactions (each\n"
          "  reaction scores its value in the project's reaction set), how many there are, and its\n"
          "  reactions by name. With `reactions=true` reactions also count as ratings in pair and kto\n"
          "  records; with `signals=true` (kto, reward) responses without explicit feedback get a label\n"
          "  or reward from implicit signals (copy, share, continue, praise +1; regenerate, abandon,\n"
          "  retry, complaint, correction -1).\n"
          "- **Dedup**: identical records appear once, their evidence merged; the first occurrence by\n"
          "  (conversation id, parent id) keeps its conversation's split.\n"
          "- **Split**: by conversation — `test` when the first 8 bytes of SHA-256(project + \":\" +\n"
          "  conversation id), read as a fraction of 2^64, fall below `test_fraction`; no conversation\n"
          "  straddles the split, and the assignment is stable across re-exports.\n\n"
          "## Parameters\n\n```json\n%s\n```\n\n"
          "## Skipped candidates\n\n```json\n%s\n```\n\n"
          "## Files and checksums\n\n"
          "`manifest.json` holds the counts above. Its `sha256` covers every line in emission order (train\n"
          "and test lines interleaved as the export produced them — the bytes an HTTP export with the same\n"
          "parameters sends); `files` gives the sha256 and record count of `train.jsonl` and `test.jsonl`\n"
          "separately.\n",
          params_text ? params_text : "{}", skipped ? skipped : "{}");
  free(params_text);
  free(skipped);
}

bool fd_dataset_card_write(const char *path, const char *slug, const json_t *manifest, enum fd_export_format fmt,
                           bool meta, const struct fd_dataset_card_facts *facts) {
  FILE *f = fopen(path, "w");
  if (!f) return false;
  json_t *files = json_object_get(manifest, "files");
  json_int_t n_train = json_integer_value(json_object_get(json_object_get(files, "train.jsonl"), "records"));
  json_int_t n_test = json_integer_value(json_object_get(json_object_get(files, "test.jsonl"), "records"));
  write_front_matter(f, json_string_value(json_object_get(manifest, "license")), fmt, meta, facts, n_train, n_test);
  write_summary(f, slug, manifest, fmt, n_train, n_test);
  write_consent(f, manifest, facts->default_train);
  write_derivation(f, manifest);
  return fclose(f) == 0;
}
