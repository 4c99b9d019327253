/* export_cmd.c — `feedbackd export`: the preference export of GET /v1/export, straight from
 * the database, to one NDJSON file (-o FILE, "-" = stdout, the default) or to a directory
 * (--out DIR: train.jsonl, test.jsonl, manifest.json and a Hugging Face dataset card
 * README.md). Recorded in the exports table like an HTTP export; a progress bar on stderr
 * when stderr is a terminal.
 *
 * sha256 with --out: the manifest's "sha256" covers every line in emission order (the
 * concatenation of all lines as the export produced them, train and test interleaved —
 * the same bytes an HTTP export of these parameters sends); "files" gives each file's own
 * sha256 and record count. */
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api/export_job.h"
#include "cli/cli.h"
#include "db/export_db.h"
#include "db/projects_db.h"
#include "util/clock.h"
#include "util/crypto.h"
#include "util/rfc3339.h"

static const char usage_text[] =
    "usage: feedbackd export [--project <slug>] [--format trl|trl-text|kto|openai|hh|sft]\n"
    "                        [-o FILE | --out DIR] [--since T] [--until T] [--model M]\n"
    "                        [--split all|train|test] [--test-fraction F] [--min-margin M]\n"
    "                        [--after WATERMARK] [--include-meta]\n"
    "  -o FILE    one NDJSON file (\"-\" = stdout, the default)\n"
    "  --out DIR  DIR/train.jsonl, DIR/test.jsonl, DIR/manifest.json, DIR/README.md\n";

/* The flags, by the docs/api.md parameter they carry. */
static const struct {
  const char *flag, *param;
} flags[] = {
    {"project", NULL},
    {"format", "format"},
    {"since", "since"},
    {"until", "until"},
    {"model", "model"},
    {"split", "split"},
    {"test-fraction", "test_fraction"},
    {"min-margin", "min_margin"},
    {"after", "after"},
    {"include-meta", "include_meta"},
    {"out", NULL},
    {"o", NULL},
};
#define N_FLAGS (sizeof flags / sizeof flags[0])

struct cli_args {
  const char *v[N_FLAGS];
};

static int flag_index(const char *name) {
  for (size_t i = 0; i < N_FLAGS; i++)
    if (strcmp(flags[i].flag, name) == 0) return (int)i;
  return -1;
}

static const char *arg(const struct cli_args *a, const char *flag) { return a->v[flag_index(flag)]; }

/* --name VALUE, --name=VALUE, -o FILE; --include-meta alone means true. */
static bool parse_args(int argc, char **argv, struct cli_args *a) {
  memset(a, 0, sizeof *a);
  for (int i = 2; i < argc; i++) {
    const char *s = argv[i], *name, *eq;
    char buf[64];
    if (strcmp(s, "-o") == 0) {
      name = "o";
      eq = NULL;
    } else if (strncmp(s, "--", 2) == 0) {
      eq = strchr(s + 2, '=');
      size_t n = eq ? (size_t)(eq - s - 2) : strlen(s + 2);
      if (n >= sizeof buf) goto bad;
      memcpy(buf, s + 2, n);
      buf[n] = '\0';
      name = buf;
    } else {
      goto bad;
    }
    int k = flag_index(name);
    if (k < 0) goto bad;
    if (eq)
      a->v[k] = eq + 1;
    else if (strcmp(name, "include-meta") == 0)
      a->v[k] = "true";
    else if (i + 1 < argc)
      a->v[k] = argv[++i];
    else
      goto bad;
    continue;
  bad:
    fprintf(stderr, "feedbackd export: unknown or incomplete argument '%s'\n\n%s", s, usage_text);
    return false;
  }
  return true;
}

static const char *param_get(void *cls, const char *param) {
  const struct cli_args *a = cls;
  for (size_t i = 0; i < N_FLAGS; i++)
    if (flags[i].param && strcmp(flags[i].param, param) == 0) return a->v[i];
  return NULL;
}

static const char *flag_of_param(const char *param) {
  for (size_t i = 0; i < N_FLAGS; i++)
    if (flags[i].param && strcmp(flags[i].param, param) == 0) return flags[i].flag;
  return param;
}

/* ---- output ----------------------------------------------------------------------------- */

struct out_file {
  FILE *f;
  char *path;
  EVP_MD_CTX *hash;
  uint64_t records;
};

struct cli_export {
  struct out_file one;      /* -o */
  struct out_file split[2]; /* --out: [FD_SPLIT_TRAIN], [FD_SPLIT_TEST] */
  bool dir;
  bool io_error;
  uint64_t records;
  /* progress */
  bool progress;
  long total;
  long done;
  int pass, n_passes;
  double t0, last_draw;
};

static double now_s(void) { return (double)fd_now_us() / 1e6; }

static bool out_open(struct out_file *o, const char *path, bool is_stdout) {
  o->path = strdup(path);
  o->hash = EVP_MD_CTX_new();
  if (!o->path || !o->hash || EVP_DigestInit_ex(o->hash, EVP_sha256(), NULL) != 1) return false;
  o->f = is_stdout ? stdout : fopen(path, "w");
  if (!o->f) fprintf(stderr, "feedbackd export: cannot write %s: %s\n", path, strerror(errno));
  return o->f != NULL;
}

/* Close (flushing), true when every byte reached the file. */
static bool out_close(struct out_file *o) {
  bool ok = true;
  if (o->f) ok = o->f == stdout ? fflush(o->f) == 0 : fclose(o->f) == 0;
  if (!ok) fprintf(stderr, "feedbackd export: writing %s failed: %s\n", o->path, strerror(errno));
  o->f = NULL;
  return ok;
}

static void out_free(struct out_file *o) {
  if (o->f && o->f != stdout) fclose(o->f);
  free(o->path);
  EVP_MD_CTX_free(o->hash);
}

static void out_hex(struct out_file *o, char hex[FD_SHA256_HEX_LEN + 1]) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  if (EVP_DigestFinal_ex(o->hash, md, &len) != 1) len = 0;
  fd_hex_encode(md, len, hex);
}

static void draw_progress(struct cli_export *c, bool final) {
  double t = now_s();
  if (!c->progress || (!final && t - c->last_draw < 0.1)) return;
  c->last_draw = t;
  double frac = c->total > 0 ? (double)c->done / (double)c->total : 1.0;
  if (frac > 1) frac = 1;
  char bar[31];
  int filled = (int)(frac * 30);
  for (int i = 0; i < 30; i++) bar[i] = i < filled ? '#' : '.';
  bar[30] = '\0';
  double el = t - c->t0;
  fprintf(stderr, "\r%s[%s] %3.0f%% %ld/%ld conversations, %llu records, %.0f records/s  ",
          c->n_passes > 1 ? (c->pass == 1 ? "pass 1/2 " : "pass 2/2 ") : "", bar, frac * 100, c->done, c->total,
          (unsigned long long)c->records, el > 0 ? (double)c->records / el : 0.0);
  if (final) fputc('\n', stderr);
  fflush(stderr);
}

static bool cli_write(void *cls, enum fd_split split, const char *line, size_t len) {
  struct cli_export *c = cls;
  struct out_file *o = c->dir ? &c->split[split] : &c->one;
  if (fwrite(line, 1, len, o->f) != len || EVP_DigestUpdate(o->hash, line, len) != 1) {
    c->io_error = true;
    return false;
  }
  o->records++;
  c->records++;
  return true;
}

/* ---- the dataset card ------------------------------------------------------------------- */

static void yaml_messages(FILE *f, const char *indent) {
  fprintf(f, "%s  list:\n%s  - name: role\n%s    dtype: string\n%s  - name: content\n%s    dtype: string\n", indent,
          indent, indent, indent, indent);
}

static void card_features(FILE *f, enum fd_export_format fmt, bool meta) {
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
  if (fam == FD_FAMILY_UNPAIRED) fprintf(f, "    - name: model\n      dtype: string\n");
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
  }
  return "";
}

static bool write_card(const char *path, const char *slug, const json_t *manifest, enum fd_export_format fmt,
                       bool meta) {
  FILE *f = fopen(path, "w");
  if (!f) return false;
  json_t *files = json_object_get(manifest, "files");
  json_int_t n_train = json_integer_value(json_object_get(json_object_get(files, "train.jsonl"), "records"));
  json_int_t n_test = json_integer_value(json_object_get(json_object_get(files, "test.jsonl"), "records"));
  const json_t *params = json_object_get(manifest, "params");
  char *params_text = json_dumps(params, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_REAL_PRECISION(15));
  char *skipped = json_dumps(json_object_get(manifest, "skipped"), JSON_INDENT(2) | JSON_REAL_PRECISION(15));
  char *by = json_dumps(json_object_get(manifest, fmt == FD_FORMAT_KTO ? "by_label" : "by_origin"), JSON_COMPACT);
  fprintf(f,
          "---\n"
          "configs:\n"
          "- config_name: default\n"
          "  data_files:\n"
          "  - split: train\n"
          "    path: train.jsonl\n"
          "  - split: test\n"
          "    path: test.jsonl\n"
          "dataset_info:\n");
  card_features(f, fmt, meta);
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
          (long long)n_train, (long long)n_test,
          fmt == FD_FORMAT_SFT ? "sft" : (fmt == FD_FORMAT_KTO ? "kto" : "preference"));
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
          by && fmt != FD_FORMAT_SFT ? (fmt == FD_FORMAT_KTO ? ", by label " : ", by origin ") : "",
          by && fmt != FD_FORMAT_SFT ? by : "");
  fprintf(f,
          "## How the data was derived\n\n"
          "Records are derived deterministically from logged conversation turns and feedback events\n"
          "(thumbs and scale ratings, in-place edits, A/B comparisons), following the rules of\n"
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
  free(by);
  return fclose(f) == 0;
}

/* ---- the command ------------------------------------------------------------------------ */

static bool write_file(const char *path, const char *mode, const char *text) {
  FILE *f = fopen(path, mode);
  if (!f) return false;
  bool ok = fputs(text, f) >= 0;
  return fclose(f) == 0 && ok;
}

static bool write_text(const char *path, const char *text) { return write_file(path, "w", text); }
static bool write_text_append(const char *path, const char *text) { return write_file(path, "a", text); }

static char *path_join(const char *dir, const char *name) {
  size_t n = strlen(dir) + strlen(name) + 2;
  char *p = malloc(n);
  if (p) snprintf(p, n, "%s/%s", dir, name);
  return p;
}

/* The project: --project, or the only one there is. Its id (>0), else 0 after a message. */
static int64_t resolve_project(struct fd_db *db, const char *slug, char *slug_out, size_t len) {
  if (slug) {
    int64_t id = 0;
    enum fd_db_status st = fd_projects_id_by_slug(db, slug, &id);
    if (st == FD_DB_NONE) fprintf(stderr, "feedbackd export: no project '%s'\n", slug);
    if (fd_db_failed(st)) fprintf(stderr, "feedbackd export: database error\n");
    snprintf(slug_out, len, "%s", slug);
    return st == FD_DB_ONE ? id : 0;
  }
  json_t *all = NULL;
  int64_t id = 0;
  if (fd_db_failed(fd_projects_list(db, &all)))
    fprintf(stderr, "feedbackd export: database error\n");
  else if (json_array_size(all) != 1)
    fprintf(stderr, "feedbackd export: --project <slug> is required (%zu projects exist)\n", json_array_size(all));
  else {
    json_t *p = json_array_get(all, 0);
    id = json_integer_value(json_object_get(p, "id"));
    snprintf(slug_out, len, "%s", json_string_value(json_object_get(p, "slug")));
  }
  json_decref(all);
  return id;
}

int fd_cli_export(const struct fd_config *cfg, int argc, char **argv) {
  struct cli_args a;
  if (!parse_args(argc, argv, &a)) return 2;
  const char *out_dir = arg(&a, "out"), *out_file = arg(&a, "o");
  if (out_dir && out_file) {
    fprintf(stderr, "feedbackd export: use either -o FILE or --out DIR\n");
    return 2;
  }
  struct fd_export_request rq;
  struct fd_error err = {0};
  if (!fd_export_request_parse(param_get, &a, "-", &rq, &err)) {
    fprintf(stderr, "feedbackd export: --%s: %s\n", flag_of_param(err.field), err.message);
    return 2;
  }
  int rc = 1;
  char conninfo[2048], cerr[256], slug[128], id[37] = "", started[FD_RFC3339_BUF];
  struct fd_embedded *emb = NULL;
  struct fd_db *db = NULL, *sdb = NULL;
  struct fd_export_reader *rd = NULL;
  struct fd_export *x = NULL;
  json_t *counts = NULL, *manifest = NULL;
  struct cli_export c = {0};
  char *mpath = NULL, *cpath = NULL, *mtext = NULL;

  db = fd_cli_connect(cfg, &emb, conninfo, sizeof conninfo, NULL);
  if (!db) goto out;
  int64_t pid = resolve_project(db, arg(&a, "project"), slug, sizeof slug);
  if (pid <= 0) goto out;
  rq.p.project_slug = slug;
  /* The snapshot gets a connection of its own: the audit row is written on `db` meanwhile. */
  sdb = fd_db_connect(conninfo, cfg->prepared_statements, cerr, sizeof cerr);
  if (!sdb) {
    fprintf(stderr, "feedbackd export: cannot connect to the database: %s\n", cerr);
    goto out;
  }
  enum fd_db_status st = fd_export_reader_new(sdb, pid, rq.after, &rd);
  if (st != FD_DB_ONE) {
    fd_export_reader_status_error(st, &err);
    fprintf(stderr, "feedbackd export: %s%s%s%s\n", err.field[0] ? "--" : "",
            err.field[0] ? flag_of_param(err.field) : "", err.field[0] ? ": " : "", err.message);
    rc = err.code == FD_ERR_INVALID_PARAMETER ? 2 : 1;
    goto out;
  }
  /* outputs */
  if (out_dir) {
    if (mkdir(out_dir, 0777) != 0 && errno != EEXIST) {
      fprintf(stderr, "feedbackd export: cannot create %s: %s\n", out_dir, strerror(errno));
      goto out;
    }
    c.dir = true;
    char *tr = path_join(out_dir, "train.jsonl"), *te = path_join(out_dir, "test.jsonl");
    bool ok = tr && te && out_open(&c.split[FD_SPLIT_TRAIN], tr, false) && out_open(&c.split[FD_SPLIT_TEST], te, false);
    free(tr);
    free(te);
    if (!ok) goto out;
  } else {
    bool is_stdout = !out_file || strcmp(out_file, "-") == 0;
    if (!out_open(&c.one, is_stdout ? "<stdout>" : out_file, is_stdout)) goto out;
  }
  x = fd_export_new(&rq.p, cli_write, &c, &err);
  if (!x) {
    fprintf(stderr, "feedbackd export: %s\n", err.message);
    goto out;
  }
  if (fd_export_db_insert(db, pid, fd_export_format_name(rq.p.format), rq.params_json, id, started, sizeof started) !=
      FD_DB_ONE) {
    fprintf(stderr, "feedbackd export: cannot record the export (database error)\n");
    goto out;
  }
  c.progress = isatty(STDERR_FILENO);
  c.n_passes = rq.p.include_meta ? 2 : 1;
  c.t0 = now_s();
  if (c.progress && fd_db_failed(fd_export_reader_count(rd, &c.total))) goto db_fail;
  c.pass = 1;
  do {
    if (fd_db_failed(fd_export_reader_rewind(rd))) goto db_fail;
    c.done = 0;
    for (;;) {
      const struct fd_conversation *conv;
      const struct fd_touch *touches;
      size_t n_touches;
      enum fd_db_status k = fd_export_reader_next(rd, &conv, &touches, &n_touches);
      if (fd_db_failed(k)) goto db_fail;
      if (k == FD_DB_NONE) break;
      bool ok = rq.after ? fd_export_add_conversation_touched(x, conv, touches, n_touches)
                         : fd_export_add_conversation(x, conv);
      if (!ok) {
        fprintf(stderr, "\nfeedbackd export: %s\n", c.io_error ? strerror(errno) : fd_export_error(x));
        goto out;
      }
      c.done++;
      draw_progress(&c, false);
    }
    c.pass++;
  } while (fd_export_next_pass(x));
  draw_progress(&c, true);
  if (!fd_export_finish(x)) {
    fprintf(stderr, "feedbackd export: %s\n", fd_export_error(x));
    goto out;
  }
  bool closed = c.dir ? out_close(&c.split[0]) : out_close(&c.one);
  if (c.dir && !out_close(&c.split[1])) closed = false;
  if (!closed) goto out;
  char finished[32];
  fd_export_now_rfc3339(finished);
  counts = fd_export_counts_new(x);
  json_t *extra = NULL;
  if (c.dir) {
    char h_train[FD_SHA256_HEX_LEN + 1], h_test[FD_SHA256_HEX_LEN + 1];
    out_hex(&c.split[FD_SPLIT_TRAIN], h_train);
    out_hex(&c.split[FD_SPLIT_TEST], h_test);
    extra = json_pack("{s:{s:{s:I, s:s}, s:{s:I, s:s}}, s:s}", "files", "train.jsonl", "records",
                      (json_int_t)c.split[0].records, "sha256", h_train, "test.jsonl", "records",
                      (json_int_t)c.split[1].records, "sha256", h_test, "sha256_covers",
                      "every line in emission order (train and test interleaved), as an HTTP export sends them; "
                      "files.*.sha256 cover each file");
  }
  manifest =
      counts ? fd_export_manifest_new(id, &rq, started, finished, fd_export_reader_watermark(rd), counts, extra) : NULL;
  json_decref(extra);
  if (!manifest) {
    fprintf(stderr, "feedbackd export: out of memory\n");
    goto out;
  }
  fd_export_reader_free(rd);
  rd = NULL;
  if (fd_export_db_finish(db, pid, id, manifest) != FD_DB_ONE) {
    fprintf(stderr, "feedbackd export: cannot record the manifest (database error)\n");
    goto out;
  }
  if (c.dir) {
    mpath = path_join(out_dir, "manifest.json");
    cpath = path_join(out_dir, "README.md");
    mtext = json_dumps(manifest, JSON_INDENT(2) | JSON_REAL_PRECISION(15));
    bool ok = mpath && cpath && mtext && write_text(mpath, mtext) && write_text_append(mpath, "\n") &&
              write_card(cpath, slug, manifest, rq.p.format, rq.p.include_meta);
    if (!ok) {
      fprintf(stderr, "feedbackd export: cannot write the manifest or the dataset card in %s\n", out_dir);
      goto out;
    }
  }
  fprintf(stderr, "feedbackd export: %lld records (%s), export %s, watermark %s\n",
          (long long)json_integer_value(json_object_get(manifest, "records")), fd_export_format_name(rq.p.format), id,
          json_string_value(json_object_get(manifest, "watermark")));
  rc = 0;
  goto out;
db_fail:
  fprintf(stderr, "\nfeedbackd export: database error: %s\n", fd_export_reader_error(rd));
out:
  free(mpath);
  free(cpath);
  free(mtext);
  json_decref(counts);
  json_decref(manifest);
  fd_export_free(x);
  fd_export_reader_free(rd);
  out_free(&c.one);
  out_free(&c.split[0]);
  out_free(&c.split[1]);
  fd_db_close(sdb);
  fd_db_close(db);
  fd_embedded_stop(emb);
  fd_export_request_clear(&rq);
  return rc;
}
