/* export_job.c — export parameters, the pass loop and the manifest, shared by GET
 * /v1/export and the `feedbackd export` command (see export_job.h). */
#include "api/export_job.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "export/exclude.h"
#include "fd_config.h"
#include "util/clock.h"
#include "util/rfc3339.h"

#define AFTER_INVALID "after must be an X-Export-Watermark value of an earlier export"

static bool parse_real(const char *s, double lo, double hi, double *out) {
  char *end;
  double v = strtod(s, &end);
  if (!*s || *end || !isfinite(v) || v < lo || v > hi) return false;
  *out = v;
  return true;
}

static bool parse_time(const char *s, int64_t *out, char norm[FD_RFC3339_BUF]) {
  return fd_rfc3339_parse(s, strlen(s), out) && fd_rfc3339_format(*out, norm);
}

/* exclude_users as the manifest records it: the ids sorted, without repeats. NULL with *err
 * set when the list is not user ids separated by commas. */
static json_t *excluded_json(const char *list, struct fd_error *err) {
  struct fd_user_set set;
  bool oom = false;
  if (!fd_param_text_ok(list) || !fd_user_set_parse(list, &set, &oom)) {
    if (oom)
      fd_error_set(err, FD_ERR_INTERNAL, NULL, "out of memory");
    else
      fd_error_set(err, FD_ERR_INVALID_PARAMETER, "exclude_users",
                   "exclude_users must be user ids separated by commas (u1,u2)");
    return NULL;
  }
  json_t *a = json_array();
  for (size_t i = 0; a && i < set.n; i++) json_array_append_new(a, json_string(set.users[i]));
  fd_user_set_free(&set);
  if (!a) fd_error_set(err, FD_ERR_INTERNAL, NULL, "out of memory");
  return a;
}

/* A true|false parameter into *out (absent: unchanged). False with *err when it is neither. */
static bool parse_bool(const char *name, const char *v, bool *out, struct fd_error *err) {
  if (!v) return true;
  if (strcmp(v, "true") == 0)
    *out = true;
  else if (strcmp(v, "false") == 0)
    *out = false;
  else
    return fd_error_set(err, FD_ERR_INVALID_PARAMETER, name, "%s must be true or false", name);
  return true;
}

bool fd_export_request_parse(fd_param_get_fn get, void *cls, const char *project_slug, struct fd_export_request *out,
                             struct fd_error *err) {
  memset(out, 0, sizeof *out);
  struct fd_export_params *p = &out->p;
  fd_export_params_default(p);
  p->project_slug = project_slug;
  const char *format = get(cls, "format"), *split = get(cls, "split"), *tf = get(cls, "test_fraction"),
             *mm = get(cls, "min_margin"), *since = get(cls, "since"), *until = get(cls, "until"),
             *meta = get(cls, "include_meta");
  char since_n[FD_RFC3339_BUF] = "", until_n[FD_RFC3339_BUF] = "";
  if (format && !fd_export_format_parse(format, &p->format))
    return fd_error_set(err, FD_ERR_INVALID_PARAMETER, "format",
                        "format must be trl, trl-text, kto, openai, hh, sft, prm, spans or reward");
  if (split && !fd_split_select_parse(split, &p->split))
    return fd_error_set(err, FD_ERR_INVALID_PARAMETER, "split", "split must be all, train or test");
  if (tf && !parse_real(tf, 0, 1, &p->test_fraction))
    return fd_error_set(err, FD_ERR_INVALID_PARAMETER, "test_fraction", "test_fraction must be a number from 0 to 1");
  if (mm && !parse_real(mm, 0, HUGE_VAL, &p->min_margin))
    return fd_error_set(err, FD_ERR_INVALID_PARAMETER, "min_margin", "min_margin must be a number >= 0");
  if (since && !(p->has_since = parse_time(since, &p->since, since_n)))
    return fd_error_set(err, FD_ERR_INVALID_PARAMETER, "since", "since must be an RFC 3339 time with a zone");
  if (until && !(p->has_until = parse_time(until, &p->until, until_n)))
    return fd_error_set(err, FD_ERR_INVALID_PARAMETER, "until", "until must be an RFC 3339 time with a zone");
  if (!parse_bool("include_meta", meta, &p->include_meta, err) ||
      !parse_bool("reactions", get(cls, "reactions"), &p->reactions, err) ||
      !parse_bool("signals", get(cls, "signals"), &p->signals, err))
    return false;
  if (p->reactions && !fd_export_reactions_allowed(p->format))
    return fd_error_set(err, FD_ERR_INVALID_PARAMETER, "reactions",
                        "reactions=true goes with format trl, trl-text, openai, hh, kto or reward");
  if (p->signals && !fd_export_signals_allowed(p->format))
    return fd_error_set(err, FD_ERR_INVALID_PARAMETER, "signals", "signals=true goes with format kto or reward");
  p->model = get(cls, "model");
  if (p->model && (!*p->model || !fd_param_text_ok(p->model)))
    return fd_error_set(err, FD_ERR_INVALID_PARAMETER, "model", "model must be non-empty UTF-8");
  out->after = get(cls, "after");
  if (out->after && (!*out->after || !fd_param_text_ok(out->after)))
    return fd_error_set(err, FD_ERR_INVALID_PARAMETER, "after", AFTER_INVALID);
  json_t *excluded = NULL;
  p->exclude_users = get(cls, "exclude_users");
  if (p->exclude_users && !(excluded = excluded_json(p->exclude_users, err))) return false;
  static const char *const split_names[] = {"all", "train", "test"};
  out->params_json = json_pack(
      "{s:s, s:s, s:f, s:f, s:b, s:s?, s:s?, s:s?, s:s?, s:o, s:b, s:b}", "format", fd_export_format_name(p->format),
      "split", split_names[p->split], "test_fraction", p->test_fraction, "min_margin", p->min_margin, "include_meta",
      p->include_meta, "since", since ? since_n : NULL, "until", until ? until_n : NULL, "model", p->model, "after",
      out->after, "exclude_users", excluded ? excluded : json_null(), "reactions", p->reactions, "signals", p->signals);
  if (!out->params_json) return fd_error_set(err, FD_ERR_INTERNAL, NULL, "out of memory");
  /* s? writes null for an absent filter, so every manifest has the same keys. */
  return true;
}

void fd_export_job_bind(struct fd_export_request *rq, struct fd_export_reader *rd) {
  rq->p.reaction_set = fd_export_reader_reactions(rd, &rq->p.n_reaction_set);
  rq->license = fd_export_reader_license(rd);
  rq->default_train = fd_export_reader_default_train(rd);
  /* Signals need the reactions too: a counting reaction keeps a message out of the signal rule. */
  fd_export_reader_load(rd, rq->p.reactions || rq->p.signals || rq->p.format == FD_FORMAT_REWARD, rq->p.signals);
}

enum fd_export_step fd_export_job_step(struct fd_export_reader *rd, struct fd_export *x, const char *after) {
  const struct fd_conversation *conv;
  const struct fd_touch *touches;
  size_t n_touches;
  enum fd_db_status st = fd_export_reader_next(rd, &conv, &touches, &n_touches);
  if (fd_db_failed(st)) return FD_EXPORT_STEP_READ_FAILED;
  if (st != FD_DB_NONE) {
    bool ok =
        after ? fd_export_add_conversation_touched(x, conv, touches, n_touches) : fd_export_add_conversation(x, conv);
    return ok ? FD_EXPORT_STEP_CONVERSATION : FD_EXPORT_STEP_EXPORT_FAILED;
  }
  int flushed = fd_export_flush(x); /* a spilled body, a piece per step (export.h "SPILL") */
  if (flushed) return flushed > 0 ? FD_EXPORT_STEP_OUTPUT : FD_EXPORT_STEP_EXPORT_FAILED;
  return fd_export_finish(x) ? FD_EXPORT_STEP_DONE : FD_EXPORT_STEP_EXPORT_FAILED;
}

void fd_export_now_rfc3339(char out[32]) {
  if (!fd_rfc3339_format(fd_wall_us(), out)) out[0] = '\0';
}

void fd_export_request_clear(struct fd_export_request *rq) {
  json_decref(rq->params_json);
  rq->params_json = NULL;
}

void fd_export_reader_status_error(enum fd_db_status st, struct fd_error *err) {
  if (st == FD_DB_NONE)
    fd_error_set(err, FD_ERR_INVALID_PARAMETER, "after", AFTER_INVALID);
  else
    fd_error_set(err, FD_ERR_UNAVAILABLE, NULL, "the database is unavailable");
}

json_t *fd_export_manifest_new(const char *id, const struct fd_export_request *rq, const char *started_at,
                               const char *finished_at, const char *watermark, const json_t *counts,
                               const json_t *extra) {
  json_t *m =
      json_pack("{s:s, s:s, s:O, s:s, s:s?, s:s?}", "id", id, "format", fd_export_format_name(rq->p.format), "params",
                rq->params_json, "started_at", started_at, "finished_at", finished_at, "watermark", watermark);
  if (!m) return NULL;
  if (json_object_update(m, (json_t *)counts) != 0 ||
      json_object_set_new(m, "license", rq->license ? json_string(rq->license) : json_null()) != 0 ||
      json_object_set_new(m, "exporter_version", json_string(FEEDBACKD_VERSION)) != 0 ||
      (extra && json_object_update(m, (json_t *)extra) != 0)) {
    json_decref(m);
    return NULL;
  }
  return m;
}
