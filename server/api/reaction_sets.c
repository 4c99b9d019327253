/* reaction_sets.c — the per-process cache of reaction sets (see reaction_sets.h). */
#include "api/reaction_sets.h"

#include <pthread.h>
#include <stdlib.h>

#include "api/app.h"
#include "db/projects_db.h"
#include "http/reply.h"
#include "util/clock.h"

struct entry {
  int64_t project_id;
  struct fd_reaction_set set;
  uint64_t loaded_us;
  bool reloading; /* one request reads the database; the others use the set meanwhile */
  struct entry *next;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct entry *entries; /* one per project used since start; few, so a list */
static unsigned forgets;      /* PATCHes here: a set read before one must not count as fresh */

/* True: *out is the project's set, fresh, or expired while another request reloads it.
 * False: the caller reads it; *forgets_then = the count of PATCHes here as it starts. */
static bool cached(int64_t project_id, struct fd_reaction_set *out, unsigned *forgets_then) {
  bool found = false;
  uint64_t now = fd_now_us();
  pthread_mutex_lock(&lock);
  *forgets_then = forgets;
  for (struct entry *e = entries; e; e = e->next) {
    if (e->project_id != project_id) continue;
    if (now - e->loaded_us < (uint64_t)FD_API_REACTION_SET_TTL_US || e->reloading) {
      *out = e->set;
      found = true;
    } else {
      e->reloading = true; /* this request reloads it */
    }
    break;
  }
  pthread_mutex_unlock(&lock);
  return found;
}

/* The project's set is *set, read after `forgets_then` PATCHes here (set NULL: the reload
 * failed; the next request tries again). */
static void remember(int64_t project_id, const struct fd_reaction_set *set, unsigned forgets_then) {
  pthread_mutex_lock(&lock);
  struct entry *e = entries;
  while (e && e->project_id != project_id) e = e->next;
  if (!e && set && (e = malloc(sizeof *e))) { /* without memory: not cached, read again next time */
    e->project_id = project_id;
    e->next = entries;
    entries = e;
  }
  if (e) {
    if (set) {
      e->set = *set;
      /* read before a PATCH here finished: usable, but expired (reloaded by the next use) */
      e->loaded_us = forgets == forgets_then ? fd_now_us() : 0;
    }
    e->reloading = false;
  }
  pthread_mutex_unlock(&lock);
}

bool fd_api_reaction_set(struct fd_request *req, struct fd_reaction_set *out) {
  int64_t pid = req->auth.project_id;
  unsigned then;
  if (cached(pid, out, &then)) return true;
  struct fd_db *db = fd_api_db_get(req);
  if (!db) {
    remember(pid, NULL, then);
    return false;
  }
  json_t *project = NULL;
  enum fd_db_status st = fd_projects_get(db, pid, &project);
  fd_api_db_put(req, db);
  struct fd_error err;
  /* The stored set was validated by PATCH /v1/project; the default is always valid. */
  bool ok = st == FD_DB_ONE && fd_reaction_set_parse(json_object_get(project, "reactions"), out, &err);
  json_decref(project);
  remember(pid, ok ? out : NULL, then);
  if (!ok) {
    fd_reply_db_failure(req, fd_db_failed(st) ? st : FD_DB_HARD_ERROR);
    return false;
  }
  return true;
}

void fd_api_reaction_set_forget(int64_t project_id) {
  pthread_mutex_lock(&lock);
  for (struct entry *e = entries; e; e = e->next)
    if (e->project_id == project_id) {
      e->loaded_us = 0;     /* expired: the next use reloads it, */
      e->reloading = false; /* not one begun before the PATCH */
    }
  forgets++;
  pthread_mutex_unlock(&lock);
}
