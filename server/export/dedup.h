/* dedup.h — the one piece of export state that grows with the export: the set of records
 * already seen, for rule 4 (dedup across the whole export).
 *
 * Each record is represented by a 16-byte digest (the first half of the SHA-256 of its
 * canonical JSON without meta; collisions need ~2^64 records) in an open-addressing table with
 * linear probing, kept at most 70% full: about 35 bytes per distinct record. Per record it
 * keeps a few bits (seen more than once, already emitted, origins) and, with include_meta
 * only (export.h "SPILL"), a list of the feedback ids of its *later* occurrences — so memory
 * is proportional to distinct records plus the evidence of duplicates, never to the texts. */
#ifndef FD_EXPORT_DEDUP_H
#define FD_EXPORT_DEDUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FD_DIGEST_LEN 16

struct fd_dedup_entry {
  unsigned char key[FD_DIGEST_LEN];
  uint32_t evidence;          /* private: head of the extra-evidence list, 0 = empty */
  uint8_t used : 1;           /* private: slot occupied */
  uint8_t dup : 1;            /* seen more than once (set with include_meta) */
  uint8_t emitted : 1;        /* the kept occurrence has been handled */
  uint8_t counted : 1;        /* it was written, and counted under counted_origin */
  uint8_t origin : 2;         /* the first origin (edit < comparison < ratings < both_bad) over occurrences */
  uint8_t counted_origin : 2; /* the origin it is counted under in by_origin */
};

struct fd_dedup;

/* NULL when out of memory. */
struct fd_dedup *fd_dedup_new(void) __attribute__((warn_unused_result));
/* Frees the table and its evidence lists; accepts NULL. */
void fd_dedup_free(struct fd_dedup *d);

/* The entry of key, inserting a zeroed one (apart from the key) if absent; *inserted tells
 * which. The pointer is valid until the next fd_dedup_upsert. NULL when out of memory. */
struct fd_dedup_entry *fd_dedup_upsert(struct fd_dedup *d, const unsigned char key[FD_DIGEST_LEN], bool *inserted)
    __attribute__((warn_unused_result));

/* The entry of key, or NULL. */
struct fd_dedup_entry *fd_dedup_find(struct fd_dedup *d, const unsigned char key[FD_DIGEST_LEN]);

/* Remember a copy of feedback id `id` as evidence of e's record. False when out of memory. */
bool fd_dedup_add_evidence(struct fd_dedup *d, struct fd_dedup_entry *e, const char *id)
    __attribute__((warn_unused_result));

/* Iterate e's remembered evidence: start with `uint32_t cur = fd_dedup_evidence_first(e)`,
 * then call fd_dedup_evidence_next until it returns NULL. Order unspecified. */
uint32_t fd_dedup_evidence_first(const struct fd_dedup_entry *e);
const char *fd_dedup_evidence_next(const struct fd_dedup *d, uint32_t *cur);

/* Number of distinct digests. */
size_t fd_dedup_count(const struct fd_dedup *d);

#endif
