/* detectors.c — the per-process cache of project detectors (see detectors.h). */
#include "api/detectors.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "api/app.h"
#include "db/projects_db.h"
#include "http/reply.h"
#include "util/clock.h"
#include "util/log.h"

struct fd_api_detector {
  int64_t project_id;
  uint64_t loaded_us;
  struct fd_detector *d; /* NULL: detection off */
  bool own;              /* d is this entry's (project phrases), else the shared built-in one */
  bool gone;             /* out of the list: freed by the last release */
  char *settings;        /* detect_feedback and detect_phrases as loaded (compact JSON) */
  int refs;
  struct fd_api_detector *next;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct fd_api_detector *entries; /* one per project used recently; few, so a list */

/* The built-in rules alone, shared by every project without phrases of its own (building
 * a detector compiles the whole rule set); never freed. */
static struct fd_detector *builtin;
static pthread_once_t builtin_once = PTHREAD_ONCE_INIT;
static void builtin_init(void) { builtin = fd_detector_new(NULL, NULL, 0); }

static void entry_free(struct fd_api_detector *e) {
  if (e->own) fd_detector_free(e->d);
  free(e->settings);
  free(e);
}

/* Unlink e (lock held); freed now or by its last holder. */
static void unlink_entry(struct fd_api_detector **link) {
  struct fd_api_detector *e = *link;
  *link = e->next;
  e->gone = true;
  if (e->refs == 0) entry_free(e);
}

/* Every entry of the project out of the list (lock held). */
static void unlink_project(int64_t project_id) {
  for (struct fd_api_detector **p = &entries; *p;) {
    if ((*p)->project_id == project_id)
      unlink_entry(p);
    else
      p = &(*p)->next;
  }
}

/* A fresh entry of the project (referenced), or NULL; *expired = its expired entry
 * (referenced too), which the caller keeps if the settings did not change. */
static struct fd_api_detector *cached(int64_t project_id, struct fd_api_detector **expired) {
  uint64_t now = fd_now_us();
  struct fd_api_detector *found = NULL;
  *expired = NULL;
  pthread_mutex_lock(&lock);
  for (struct fd_api_detector *e = entries; e; e = e->next) {
    if (e->project_id != project_id) continue;
    e->refs++;
    if (now - e->loaded_us > (uint64_t)FD_API_DETECTOR_TTL_US)
      *expired = e;
    else
      found = e;
    break;
  }
  pthread_mutex_unlock(&lock);
  return found;
}

/* The settings the detector is built from, compact JSON (NULL: out of memory). */
static char *detect_settings(const json_t *project) {
  json_t *o = json_pack("{s:O?, s:O?}", "detect_feedback", json_object_get(project, "detect_feedback"),
                        "detect_phrases", json_object_get(project, "detect_phrases"));
  char *text = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
  json_decref(o);
  return text;
}

/* Phrases of one class from the stored detect_phrases (validated by PATCH /v1/project). */
static const char **phrase_list(const json_t *phrases, const char *cls, size_t *n) {
  const json_t *list = json_object_get(phrases, cls);
  *n = json_array_size(list);
  const char **out = calloc(*n + 1, sizeof *out);
  for (size_t i = 0; out && i < *n; i++) out[i] = json_string_value(json_array_get(list, i));
  return out;
}

/* A new entry from the project's settings (GET /v1/project shape), or NULL. */
static struct fd_api_detector *build(int64_t project_id, const json_t *project, char *settings) {
  struct fd_api_detector *e = calloc(1, sizeof *e);
  if (!e) {
    free(settings);
    return NULL;
  }
  e->settings = settings;
  e->project_id = project_id;
  e->loaded_us = fd_now_us();
  if (!json_is_true(json_object_get(project, "detect_feedback"))) return e;
  const json_t *phrases = json_object_get(project, "detect_phrases");
  struct fd_detect_phrases extra = {0};
  extra.praise = phrase_list(phrases, "praise", &extra.n_praise);
  extra.complaint = phrase_list(phrases, "complaint", &extra.n_complaint);
  extra.correction = phrase_list(phrases, "correction", &extra.n_correction);
  bool ok = extra.praise && extra.complaint && extra.correction;
  if (ok && extra.n_praise + extra.n_complaint + extra.n_correction == 0) {
    pthread_once(&builtin_once, builtin_init);
    e->d = builtin;
    ok = builtin != NULL;
  } else if (ok) {
    char err[256];
    e->own = true;
    e->d = fd_detector_new(&extra, err, sizeof err);
    if (!e->d)
      fd_log(FD_LOG_ERROR, "msg=\"project detector not built\" project=%lld error=\"%s\"", (long long)project_id, err);
    ok = e->d != NULL;
  }
  free((void *)extra.praise);
  free((void *)extra.complaint);
  free((void *)extra.correction);
  if (!ok) {
    entry_free(e);
    return NULL;
  }
  return e;
}

bool fd_api_detector_get(struct fd_request *req, struct fd_api_detector **out) {
  int64_t pid = req->auth.project_id;
  struct fd_api_detector *expired;
  if ((*out = cached(pid, &expired))) return true;
  struct fd_db *db = fd_api_db_get(req);
  if (!db) {
    fd_api_detector_release(expired);
    return false;
  }
  json_t *project = NULL;
  enum fd_db_status st = fd_projects_get(db, pid, &project);
  fd_api_db_put(req, db);
  char *settings = st == FD_DB_ONE ? detect_settings(project) : NULL;
  /* Settings unchanged since the expired entry was built (the usual case): keep its
   * detector, building one with a project's phrases costs milliseconds. */
  if (expired && settings && strcmp(settings, expired->settings) == 0) {
    pthread_mutex_lock(&lock);
    bool kept = !expired->gone;
    if (kept) expired->loaded_us = fd_now_us();
    pthread_mutex_unlock(&lock);
    if (kept) {
      free(settings);
      json_decref(project);
      *out = expired;
      return true;
    }
  }
  fd_api_detector_release(expired);
  struct fd_api_detector *e = settings ? build(pid, project, settings) : NULL;
  json_decref(project);
  if (!e) {
    if (fd_db_failed(st))
      fd_reply_db_failure(req, st);
    else
      fd_reply_error(req, FD_ERR_INTERNAL, NULL, "the project's feedback detector could not be built");
    return false;
  }
  e->refs = 1;
  pthread_mutex_lock(&lock);
  unlink_project(pid); /* one entry per project: a concurrent load's entry gives way to this one */
  e->next = entries;
  entries = e;
  pthread_mutex_unlock(&lock);
  *out = e;
  return true;
}

const struct fd_detector *fd_api_detector_of(const struct fd_api_detector *ref) { return ref ? ref->d : NULL; }

void fd_api_detector_release(struct fd_api_detector *ref) {
  if (!ref) return;
  pthread_mutex_lock(&lock);
  bool last = --ref->refs == 0 && ref->gone;
  pthread_mutex_unlock(&lock);
  if (last) entry_free(ref);
}

void fd_api_detector_forget(int64_t project_id) {
  pthread_mutex_lock(&lock);
  unlink_project(project_id);
  pthread_mutex_unlock(&lock);
}
