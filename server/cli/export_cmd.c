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
#include <unistd.h>

#include "api/export_job.h"
#include "cli/cli.h"
#include "cli/dataset_card.h"
#include "cli/progress.h"
#include "db/export_db.h"
#include "db/projects_db.h"
#include "util/crypto.h"
#include "util/rfc3339.h"

static const char usage_text[] =
    "usage: feedbackd export [--project <slug>] [--format trl|trl-text|kto|openai|hh|sft|prm|spans|reward]\n"
    "                        [-o FILE | --out DIR] [--since T] [--until T] [--model M]\n"
    "                        [--split all|train|test] [--test-fraction F] [--min-margin M]\n"
    "                        [--after WATERMARK] [--include-meta] [--exclude-users U1,U2]\n"
    "                        [--reactions] [--signals]\n"
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
    {"exclude-users", "exclude_users"},
    {"split", "split"},
    {"test-fraction", "test_fraction"},
    {"min-margin", "min_margin"},
    {"after", "after"},
    {"include-meta", "include_meta"},
    {"reactions", "reactions"},
    {"signals", "signals"},
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

/* The flags that mean true when given without a value. */
static bool boolean_flag(const char *name) {
  return strcmp(name, "include-meta") == 0 || strcmp(name, "reactions") == 0 || strcmp(name, "signals") == 0;
}

/* --name VALUE, --name=VALUE, -o FILE; --include-meta, --reactions, --signals alone mean true. */
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
    else if (boolean_flag(name))
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

#define OUT_BUFFER (256 * 1024)

struct out_file {
  FILE *f;
  char *path;
  char *buf; /* stdio's buffer of a file (OUT_BUFFER bytes), freed once the file is closed */
  EVP_MD_CTX *hash;
  uint64_t records;
};

/* Where the lines go: one file (-o), or train.jsonl and test.jsonl (--out). */
struct outputs {
  struct out_file one;      /* -o */
  struct out_file split[2]; /* --out: [FD_SPLIT_TRAIN], [FD_SPLIT_TEST] */
  bool dir;
  bool io_error;
  uint64_t records;
};

/* stdout's buffer lives as long as stdout: the process. */
static char stdout_buf[OUT_BUFFER];

static bool out_open(struct out_file *o, const char *path, bool is_stdout) {
  o->path = strdup(path);
  o->hash = EVP_MD_CTX_new();
  o->buf = is_stdout ? NULL : malloc(OUT_BUFFER);
  if (!o->path || !o->hash || (!is_stdout && !o->buf) || EVP_DigestInit_ex(o->hash, EVP_sha256(), NULL) != 1)
    return false;
  o->f = is_stdout ? stdout : fopen(path, "w");
  if (!o->f) {
    fprintf(stderr, "feedbackd export: cannot write %s: %s\n", path, strerror(errno));
    return false;
  }
  /* glibc's default is st_blksize (4 KiB on ext4): ~14,000 write(2)s for a 56 MiB kto export
   * of bench/export at CONVS=20000 (bench/README.md "export"). glibc ignores the size
   * without a buffer, hence our own. */
  setvbuf(o->f, is_stdout ? stdout_buf : o->buf, _IOFBF, OUT_BUFFER);
  return true;
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
  free(o->buf);
  EVP_MD_CTX_free(o->hash);
}

static void out_hex(struct out_file *o, char hex[FD_SHA256_HEX_LEN + 1]) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  if (EVP_DigestFinal_ex(o->hash, md, &len) != 1) len = 0;
  fd_hex_encode(md, len, hex);
}

static char *path_join(const char *dir, const char *name) {
  size_t n = strlen(dir) + strlen(name) + 2;
  char *p = malloc(n);
  if (p) snprintf(p, n, "%s/%s", dir, name);
  return p;
}

/* --out DIR (created if need be): DIR/train.jsonl and DIR/test.jsonl; else -o FILE or stdout. */
static bool outputs_open(struct outputs *o, const char *out_dir, const char *out_file) {
  if (!out_dir) {
    bool is_stdout = !out_file || strcmp(out_file, "-") == 0;
    return out_open(&o->one, is_stdout ? "<stdout>" : out_file, is_stdout);
  }
  if (mkdir(out_dir, 0777) != 0 && errno != EEXIST) {
    fprintf(stderr, "feedbackd export: cannot create %s: %s\n", out_dir, strerror(errno));
    return false;
  }
  o->dir = true;
  char *tr = path_join(out_dir, "train.jsonl"), *te = path_join(out_dir, "test.jsonl");
  bool ok = tr && te && out_open(&o->split[FD_SPLIT_TRAIN], tr, false) && out_open(&o->split[FD_SPLIT_TEST], te, false);
  free(tr);
  free(te);
  return ok;
}

/* The export core's write callback. */
static bool outputs_write(void *cls, enum fd_split split, const char *line, size_t len) {
  struct outputs *o = cls;
  struct out_file *f = o->dir ? &o->split[split] : &o->one;
  if (fwrite(line, 1, len, f->f) != len || EVP_DigestUpdate(f->hash, line, len) != 1) {
    o->io_error = true;
    return false;
  }
  f->records++;
  o->records++;
  return true;
}

/* Close every file, true when all of them were written completely. */
static bool outputs_close(struct outputs *o) {
  if (!o->dir) return out_close(&o->one);
  bool train = out_close(&o->split[FD_SPLIT_TRAIN]);
  return out_close(&o->split[FD_SPLIT_TEST]) && train;
}

/* What --out adds to the manifest: each file's record count and sha256. NULL for -o (or
 * when out of memory). New reference. */
static json_t *outputs_manifest_files(struct outputs *o) {
  if (!o->dir) return NULL;
  char h_train[FD_SHA256_HEX_LEN + 1], h_test[FD_SHA256_HEX_LEN + 1];
  out_hex(&o->split[FD_SPLIT_TRAIN], h_train);
  out_hex(&o->split[FD_SPLIT_TEST], h_test);
  return json_pack("{s:{s:{s:I, s:s}, s:{s:I, s:s}}, s:s}", "files", "train.jsonl", "records",
                   (json_int_t)o->split[FD_SPLIT_TRAIN].records, "sha256", h_train, "test.jsonl", "records",
                   (json_int_t)o->split[FD_SPLIT_TEST].records, "sha256", h_test, "sha256_covers",
                   "every line in emission order (train and test interleaved), as an HTTP export sends them; "
                   "files.*.sha256 cover each file");
}

static void outputs_free(struct outputs *o) {
  out_free(&o->one);
  out_free(&o->split[FD_SPLIT_TRAIN]);
  out_free(&o->split[FD_SPLIT_TEST]);
}

static bool write_file(const char *path, const char *mode, const char *text) {
  FILE *f = fopen(path, mode);
  if (!f) return false;
  bool ok = fputs(text, f) >= 0;
  return fclose(f) == 0 && ok;
}

/* --out: DIR/manifest.json and the dataset card DIR/README.md. */
static bool write_dir_files(const char *out_dir, const char *slug, const json_t *manifest,
                            const struct fd_export_request *rq, const struct fd_dataset_card_facts *facts) {
  char *mpath = path_join(out_dir, "manifest.json"), *cpath = path_join(out_dir, "README.md");
  char *mtext = json_dumps(manifest, JSON_INDENT(2) | JSON_REAL_PRECISION(15));
  bool ok = mpath && cpath && mtext && write_file(mpath, "w", mtext) && write_file(mpath, "a", "\n") &&
            fd_dataset_card_write(cpath, slug, manifest, rq->p.format, rq->p.include_meta, facts);
  if (!ok) fprintf(stderr, "feedbackd export: cannot write the manifest or the dataset card in %s\n", out_dir);
  free(mpath);
  free(cpath);
  free(mtext);
  return ok;
}

/* ---- the command ------------------------------------------------------------------------ */

/* One run of the command: what it opened, in the order it opens them. */
struct export_run {
  struct cli_args a;
  struct fd_export_request rq;
  struct fd_embedded *emb;
  struct fd_db *db;  /* the audit row */
  struct fd_db *sdb; /* the snapshot */
  struct fd_export_reader *rd;
  struct fd_export *x;
  struct outputs out;
  int64_t project_id;
  char slug[128];
  char id[37];
  char started[FD_RFC3339_BUF];
  json_t *manifest;
  struct fd_export_reaction set[32]; /* the reader's, kept for the dataset card */
  struct fd_dataset_card_facts facts;
};

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

/* The flags and the export parameters. 0, or the exit status of a usage error. */
static int parse_request(struct export_run *r, int argc, char **argv) {
  if (!parse_args(argc, argv, &r->a)) return 2;
  if (arg(&r->a, "out") && arg(&r->a, "o")) {
    fprintf(stderr, "feedbackd export: use either -o FILE or --out DIR\n");
    return 2;
  }
  struct fd_error err = {0};
  if (!fd_export_request_parse(param_get, &r->a, "-", &r->rq, &err)) {
    fprintf(stderr, "feedbackd export: --%s: %s\n", flag_of_param(err.field), err.message);
    return 2;
  }
  return 0;
}

/* The database, the project and the snapshot reader. 0, or an exit status after a message. */
static int open_source(struct export_run *r, const struct fd_config *cfg) {
  char conninfo[2048], cerr[256];
  r->db = fd_cli_connect(cfg, &r->emb, conninfo, sizeof conninfo, NULL);
  if (!r->db) return 1;
  r->project_id = resolve_project(r->db, arg(&r->a, "project"), r->slug, sizeof r->slug);
  if (r->project_id <= 0) return 1;
  r->rq.p.project_slug = r->slug;
  /* The snapshot gets a connection of its own: the audit row is written on `db` meanwhile. */
  r->sdb = fd_db_connect(conninfo, cfg->prepared_statements, cerr, sizeof cerr);
  if (!r->sdb) {
    fprintf(stderr, "feedbackd export: cannot connect to the database: %s\n", cerr);
    return 1;
  }
  enum fd_db_status st = fd_export_reader_new(r->sdb, r->project_id, r->rq.after, &r->rd);
  if (st != FD_DB_ONE) {
    struct fd_error err = {0};
    fd_export_reader_status_error(st, &err);
    fprintf(stderr, "feedbackd export: %s%s%s%s\n", err.field[0] ? "--" : "",
            err.field[0] ? flag_of_param(err.field) : "", err.field[0] ? ": " : "", err.message);
    return err.code == FD_ERR_INVALID_PARAMETER ? 2 : 1;
  }
  fd_export_job_bind(&r->rq, r->rd);
  size_t n = r->rq.p.n_reaction_set < 32 ? r->rq.p.n_reaction_set : 32;
  if (n) memcpy(r->set, r->rq.p.reaction_set, n * sizeof *r->set);
  r->facts = (struct fd_dataset_card_facts){.default_train = r->rq.default_train, .set = r->set, .n_set = n};
  return 0;
}

/* The export core and its audit row. */
static bool start_export(struct export_run *r) {
  struct fd_error err = {0};
  r->x = fd_export_new(&r->rq.p, outputs_write, &r->out, &err);
  if (!r->x) {
    fprintf(stderr, "feedbackd export: %s\n", err.message);
    return false;
  }
  if (fd_export_db_insert(r->db, r->project_id, fd_export_format_name(r->rq.p.format), r->rq.params_json, r->id,
                          r->started, sizeof r->started) != FD_DB_ONE) {
    fprintf(stderr, "feedbackd export: cannot record the export (database error)\n");
    return false;
  }
  return true;
}

/* The export over the snapshot, with the progress bar when stderr is a terminal. */
static bool run_export(struct export_run *r) {
  struct fd_progress bar;
  bool on = isatty(STDERR_FILENO);
  long total = 0;
  bool counted = !on || !fd_db_failed(fd_export_reader_count(r->rd, &total));
  fd_progress_start(&bar, on, total);
  if (!counted || fd_db_failed(fd_export_reader_rewind(r->rd))) {
    fprintf(stderr, "\nfeedbackd export: database error: %s\n", fd_export_reader_error(r->rd));
    return false;
  }
  for (;;) {
    switch (fd_export_job_step(r->rd, r->x, r->rq.after)) {
      case FD_EXPORT_STEP_CONVERSATION:
        bar.done++;
        fd_progress_draw(&bar, r->out.records, false);
        break;
      case FD_EXPORT_STEP_OUTPUT: fd_progress_draw(&bar, r->out.records, false); break;
      case FD_EXPORT_STEP_DONE: fd_progress_draw(&bar, r->out.records, true); return true;
      case FD_EXPORT_STEP_READ_FAILED:
        fprintf(stderr, "\nfeedbackd export: database error: %s\n", fd_export_reader_error(r->rd));
        return false;
      case FD_EXPORT_STEP_EXPORT_FAILED:
        fprintf(stderr, "\nfeedbackd export: %s\n", r->out.io_error ? strerror(errno) : fd_export_error(r->x));
        return false;
    }
  }
}

/* The manifest (with the files of --out), recorded in the export's audit row. */
static bool record_manifest(struct export_run *r) {
  char finished[FD_RFC3339_BUF];
  fd_export_now_rfc3339(finished);
  json_t *counts = fd_export_counts_new(r->x), *files = outputs_manifest_files(&r->out);
  if (counts && (files || !r->out.dir))
    r->manifest =
        fd_export_manifest_new(r->id, &r->rq, r->started, finished, fd_export_reader_watermark(r->rd), counts, files);
  json_decref(counts);
  json_decref(files);
  if (!r->manifest) {
    fprintf(stderr, "feedbackd export: out of memory\n");
    return false;
  }
  /* End the snapshot first; the audit row is written on the other connection. */
  fd_export_reader_free(r->rd);
  r->rd = NULL;
  if (fd_export_db_finish(r->db, r->project_id, r->id, r->manifest) != FD_DB_ONE) {
    fprintf(stderr, "feedbackd export: cannot record the manifest (database error)\n");
    return false;
  }
  return true;
}

static void export_run_clear(struct export_run *r) {
  json_decref(r->manifest);
  fd_export_free(r->x);
  fd_export_reader_free(r->rd);
  outputs_free(&r->out);
  fd_db_close(r->sdb);
  fd_db_close(r->db);
  fd_embedded_stop(r->emb);
  fd_export_request_clear(&r->rq);
}

int fd_cli_export(const struct fd_config *cfg, int argc, char **argv) {
  struct export_run r = {0};
  int rc = parse_request(&r, argc, argv);
  if (rc != 0) return rc;
  const char *out_dir = arg(&r.a, "out");
  rc = open_source(&r, cfg);
  if (rc == 0) {
    bool ok = outputs_open(&r.out, out_dir, arg(&r.a, "o")) && start_export(&r) && run_export(&r) &&
              outputs_close(&r.out) && record_manifest(&r) &&
              (!out_dir || write_dir_files(out_dir, r.slug, r.manifest, &r.rq, &r.facts));
    rc = ok ? 0 : 1;
  }
  if (rc == 0)
    fprintf(stderr, "feedbackd export: %lld records (%s), export %s, watermark %s\n",
            (long long)json_integer_value(json_object_get(r.manifest, "records")), fd_export_format_name(r.rq.p.format),
            r.id, json_string_value(json_object_get(r.manifest, "watermark")));
  export_run_clear(&r);
  return rc;
}
