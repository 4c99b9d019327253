/* reactions.c — the project's reaction set (see reactions.h). */
#include "ingest/reactions.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ingest/validate_common.h"

static bool name_ok(const char *s, size_t len) {
  if (len < 1 || len > FD_REACTION_NAME_MAX) return false;
  for (size_t i = 0; i < len; i++)
    if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_')) return false;
  return true;
}

static bool bad(struct fd_error *err, size_t i, const char *member, const char *msg) {
  char p[FD_PATH_MAX], q[FD_PATH_MAX];
  fd_path_index(p, "reactions", i);
  if (member) fd_path_key(q, p, member);
  return fd_error_set(err, FD_ERR_INVALID_FIELD, member ? q : p, "%s", msg);
}

static bool parse_one(const json_t *it, size_t i, struct fd_reaction_set *out, struct fd_error *err) {
  static const char *const members[] = {"name", "emoji", "value", NULL};
  if (!json_is_object(it)) return bad(err, i, NULL, "A reaction is an object {name, emoji, value}.");
  const char *unknown = fd_first_unknown_key(it, members);
  if (unknown) return bad(err, i, unknown, "A reaction has only name, emoji and value.");
  json_t *name = json_object_get(it, "name"), *emoji = json_object_get(it, "emoji"),
         *value = json_object_get(it, "value");
  if (!json_is_string(name) || !name_ok(json_string_value(name), json_string_length(name)))
    return bad(err, i, "name", "name must match [a-z0-9_]{1,32}.");
  if (!json_is_string(emoji) || json_string_length(emoji) < 1 || json_string_length(emoji) > FD_REACTION_EMOJI_MAX ||
      strlen(json_string_value(emoji)) != json_string_length(emoji))
    return bad(err, i, "emoji", "emoji must be a string of 1 to 32 bytes.");
  double v = json_is_number(value) ? json_number_value(value) : (double)NAN;
  if (!(v >= -1.0 && v <= 1.0)) return bad(err, i, "value", "value must be a number from -1 to 1.");
  for (size_t k = 0; k < out->n; k++) {
    if (strcmp(out->r[k].name, json_string_value(name)) == 0)
      return bad(err, i, "name", "Two reactions have this name.");
    if (strcmp(out->r[k].emoji, json_string_value(emoji)) == 0)
      return bad(err, i, "emoji", "Two reactions have this emoji.");
  }
  struct fd_reaction *r = &out->r[out->n++];
  snprintf(r->name, sizeof r->name, "%s", json_string_value(name));
  snprintf(r->emoji, sizeof r->emoji, "%s", json_string_value(emoji));
  r->value = v;
  return true;
}

bool fd_reaction_set_parse(const json_t *list, struct fd_reaction_set *out, struct fd_error *err) {
  out->n = 0;
  if (!json_is_array(list) || json_array_size(list) < 1 || json_array_size(list) > FD_REACTIONS_MAX)
    return fd_error_set(err, FD_ERR_INVALID_FIELD, "reactions",
                        "reactions must be a list of 1 to 32 objects {name, emoji, value}.");
  for (size_t i = 0; i < json_array_size(list); i++)
    if (!parse_one(json_array_get(list, i), i, out, err)) return false;
  return true;
}

void fd_reaction_set_default(struct fd_reaction_set *out) {
  json_t *list = json_loads(FD_REACTIONS_DEFAULT_JSON, 0, NULL);
  struct fd_error err;
  /* The literal is a valid set (tests/unit/test_reactions.c); an empty set only if memory ran out. */
  if (!list || !fd_reaction_set_parse(list, out, &err)) out->n = 0;
  json_decref(list);
}

const struct fd_reaction *fd_reaction_find(const struct fd_reaction_set *set, const char *text) {
  for (size_t i = 0; i < set->n; i++)
    if (strcmp(set->r[i].name, text) == 0) return &set->r[i];
  for (size_t i = 0; i < set->n; i++)
    if (strcmp(set->r[i].emoji, text) == 0) return &set->r[i];
  return NULL;
}
