/* reaction_sets.c — the per-process cache of reaction sets (see reaction_sets.h). */
#include "api/reaction_sets.h"

#include <pthread.h>
#include <stdlib.h>

#include "api/app.h"
#include "db/projects_db.h"
#include "http/reply.h"

struct entry {
  int64_t project_id;
  struct fd_reaction_set set;
  struct entry *next;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct entry *entries; /* one per project used since start; few, so a list */

static bool cached(int64_t project_id, struct fd_reaction_set *out) {
  bool found = false;
  pthread_mutex_lock(&lock);
  for (struct entry *e = entries; e && !found; e = e->next)
    if (e->project_id == project_id) {
      *out = e->set;
      found = true;
    }
  pthread_mutex_unlock(&lock);
  return found;
}

static void remember(int64_t project_id, const struct fd_reaction_set *set) {
  struct entry *e = malloc(sizeof *e);
  if (!e) return; /* not cached: the next request reads the database again */
  e->project_id = project_id;
  e->set = *set;
  pthread_mutex_lock(&lock);
  e->next = entries;
  entries = e;
  pthread_mutex_unlock(&lock);
}

bool fd_api_reaction_set(struct fd_request *req, struct fd_reaction_set *out) {
  int64_t pid = req->auth.project_id;
  if (cached(pid, out)) return true;
  struct fd_db *db = fd_api_db_get(req);
  if (!db) return false;
  json_t *project = NULL;
  enum fd_db_status st = fd_projects_get(db, pid, &project);
  fd_api_db_put(req, db);
  struct fd_error err;
  /* The stored set was validated by PATCH /v1/project; the default is always valid. */
  bool ok = st == FD_DB_ONE && fd_reaction_set_parse(json_object_get(project, "reactions"), out, &err);
  json_decref(project);
  if (!ok) {
    fd_reply_db_failure(req, fd_db_failed(st) ? st : FD_DB_HARD_ERROR);
    return false;
  }
  remember(pid, out);
  return true;
}

void fd_api_reaction_set_forget(int64_t project_id) {
  pthread_mutex_lock(&lock);
  for (struct entry **p = &entries; *p;) {
    if ((*p)->project_id == project_id) {
      struct entry *gone = *p;
      *p = gone->next;
      free(gone);
    } else {
      p = &(*p)->next;
    }
  }
  pthread_mutex_unlock(&lock);
}
