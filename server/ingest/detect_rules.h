/* detect_rules.h — the built-in rule set of the detector as a table, generated at build
 * time from server/ingest/detect_rules.txt by scripts/gen_detect_rules.py (format:
 * docs/detection.md). */
#ifndef FD_INGEST_DETECT_RULES_H
#define FD_INGEST_DETECT_RULES_H

#include <stddef.h>

struct fd_detect_rule_src {
  const char *id;      /* "<lang>.<class>.<name>", reported as the match's rule */
  const char *lang;    /* en, de, fr, es, pt */
  const char *cls;     /* praise, complaint, correction, none, other, opener, fact, negator */
  const char *pattern; /* words and operators, see docs/detection.md */
};

extern const struct fd_detect_rule_src fd_detect_rules[];
extern const size_t fd_detect_rules_count;

#endif
