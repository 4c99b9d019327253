/* sql_time.h — SQL text shared by the queries that hand timestamps to clients. */
#ifndef FD_DB_SQL_TIME_H
#define FD_DB_SQL_TIME_H

/* A timestamptz column as RFC 3339 text in UTC with microseconds ("2024-05-01T12:00:00.000000Z");
 * NULL stays NULL. The connection's time zone is UTC anyway (pool.c), AT TIME ZONE makes the
 * text independent of it. */
#define TS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"

#endif
