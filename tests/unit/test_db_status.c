/* test_db_status.c — the SQLSTATE classifier of db/status.h.
 *
 * Expected classes come from PostgreSQL's errcodes table (Appendix A of its manual), not
 * from the code: class 08 and 57P01-57P05 mean the database is not there, 40001 and 40P01
 * may be retried, everything else is a bug. */
#include "db/status.h"
#include "unit.h"

static void test_connection_class_is_unavailable(void) {
  CHECK(fd_db_classify("08000", true) == FD_DB_UNAVAILABLE); /* connection_exception */
  CHECK(fd_db_classify("08003", true) == FD_DB_UNAVAILABLE); /* connection_does_not_exist */
  CHECK(fd_db_classify("08006", true) == FD_DB_UNAVAILABLE); /* connection_failure */
  CHECK(fd_db_classify("08P01", true) == FD_DB_UNAVAILABLE); /* protocol_violation */
  CHECK(fd_db_classify("57P01", true) == FD_DB_UNAVAILABLE); /* admin_shutdown */
  CHECK(fd_db_classify("57P02", true) == FD_DB_UNAVAILABLE); /* crash_shutdown */
  CHECK(fd_db_classify("57P03", true) == FD_DB_UNAVAILABLE); /* cannot_connect_now */
}

static void test_lost_connection_is_unavailable_whatever_the_state(void) {
  CHECK(fd_db_classify(NULL, false) == FD_DB_UNAVAILABLE);
  CHECK(fd_db_classify("", false) == FD_DB_UNAVAILABLE);
  CHECK(fd_db_classify("42601", false) == FD_DB_UNAVAILABLE);
  CHECK(fd_db_classify("40001", false) == FD_DB_UNAVAILABLE);
}

static void test_serialization_and_deadlock_are_soft(void) {
  CHECK(fd_db_classify("40001", true) == FD_DB_SOFT_ERROR); /* serialization_failure */
  CHECK(fd_db_classify("40P01", true) == FD_DB_SOFT_ERROR); /* deadlock_detected */
}

static void test_everything_else_is_hard(void) {
  CHECK(fd_db_classify("42601", true) == FD_DB_HARD_ERROR); /* syntax_error */
  CHECK(fd_db_classify("23505", true) == FD_DB_HARD_ERROR); /* unique_violation */
  CHECK(fd_db_classify("22021", true) == FD_DB_HARD_ERROR); /* character_not_in_repertoire */
  CHECK(fd_db_classify("40002", true) ==
        FD_DB_HARD_ERROR); /* transaction_integrity_constraint_violation: class 40 too */
  CHECK(fd_db_classify("40003", true) == FD_DB_HARD_ERROR); /* statement_completion_unknown */
  CHECK(fd_db_classify("57014", true) == FD_DB_HARD_ERROR); /* query_canceled: class 57, not 57P0x */
  CHECK(fd_db_classify("25P02", true) == FD_DB_HARD_ERROR); /* in_failed_sql_transaction */
  CHECK(fd_db_classify("XX000", true) == FD_DB_HARD_ERROR); /* internal_error */
  /* no SQLSTATE on a live connection (libpq out of memory): nothing to retry against */
  CHECK(fd_db_classify(NULL, true) == FD_DB_HARD_ERROR);
  CHECK(fd_db_classify("", true) == FD_DB_HARD_ERROR);
  /* not five characters: not a SQLSTATE, so not matched by its prefix */
  CHECK(fd_db_classify("08", true) == FD_DB_HARD_ERROR);
  CHECK(fd_db_classify("400010", true) == FD_DB_HARD_ERROR);
}

static void test_failed_is_exactly_the_negative_values(void) {
  CHECK(fd_db_failed(FD_DB_UNAVAILABLE));
  CHECK(fd_db_failed(FD_DB_HARD_ERROR));
  CHECK(fd_db_failed(FD_DB_SOFT_ERROR));
  CHECK(!fd_db_failed(FD_DB_NONE));
  CHECK(!fd_db_failed(FD_DB_ONE));
  CHECK(!fd_db_failed((enum fd_db_status)42)); /* a row count */
}

int main(void) {
  RUN(test_connection_class_is_unavailable);
  RUN(test_lost_connection_is_unavailable_whatever_the_state);
  RUN(test_serialization_and_deadlock_are_soft);
  RUN(test_everything_else_is_hard);
  RUN(test_failed_is_exactly_the_negative_values);
  return unit_report();
}
