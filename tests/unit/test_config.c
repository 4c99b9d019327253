/* test_config.c — settings precedence (flags > environment > file > defaults), parsing of
 * values, and what stays in argv for the subcommand. */
#include <stdlib.h>
#include <unistd.h>

#include "unit.h"
#include "util/config.h"

static char *write_conf(const char *text) {
  static char path[] = "/tmp/fd-test-config-XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) return NULL;
  ssize_t n = write(fd, text, strlen(text));
  close(fd);
  return n < 0 ? NULL : path;
}

static void test_defaults(void) {
  struct fd_config c;
  fd_config_defaults(&c);
  CHECK_STR(c.listen, "127.0.0.1:8080");
  CHECK_STR(c.data_dir, "./var");
  CHECK(c.batch_size == 500);
  CHECK(c.migrate == true);
  CHECK(c.max_body_bytes == 1048576);
  CHECK(c.max_batch_items == 1000);
  CHECK(c.max_text_bytes == 262144);
  CHECK(c.max_metadata_bytes == 16384 && c.max_metadata_depth == 16);
  CHECK(c.max_tags == 32 && c.max_tag_bytes == 64 && c.max_user_bytes == 128 && c.max_model_bytes == 128);
  CHECK(c.per_ip_connection_limit == 64);
  CHECK_STR(c.trusted_proxies, "");
  CHECK(c.request_head_timeout == 10 && c.request_body_min_rate == 1024);
  fd_config_free(&c);
}

static void test_precedence(void) {
  char *path = write_conf("# comment\nlisten = 127.0.0.1:1111\nthreads = 3\nbatch_size=7\nlog_level = \"warn\"\n");
  CHECK(path != NULL);
  setenv("FEEDBACKD_LISTEN", "127.0.0.1:2222", 1);
  setenv("FEEDBACKD_THREADS", "5", 1);
  char a0[] = "feedbackd", a1[] = "--config", a3[] = "--listen=127.0.0.1:3333", a4[] = "serve", a5[] = "--name",
       a6[] = "x";
  char *argv[] = {a0, a1, path, a3, a4, a5, a6, NULL};
  int argc = 7;
  struct fd_config c;
  CHECK(fd_config_load(&c, &argc, argv) == FD_CONFIG_OK);
  CHECK_STR(c.listen, "127.0.0.1:3333"); /* flag beats env and file */
  CHECK(c.threads == 5);                 /* env beats file */
  CHECK(c.batch_size == 7);              /* file beats default */
  CHECK_STR(c.log_level, "warn");        /* quotes stripped */
  CHECK(c.writers == 2);                 /* default */
  /* settings are consumed; the subcommand and its own flags stay, in order */
  CHECK(argc == 4);
  CHECK_STR(argv[1], "serve");
  CHECK_STR(argv[2], "--name");
  CHECK_STR(argv[3], "x");
  fd_config_free(&c);
  unsetenv("FEEDBACKD_LISTEN");
  unsetenv("FEEDBACKD_THREADS");
  unlink(path);
}

static void test_bad_values(void) {
  struct fd_config c;
  char err[256];
  fd_config_defaults(&c);
  CHECK(!fd_config_set(&c, "threads", "many", err, sizeof err));
  CHECK(!fd_config_set(&c, "threads", "257", err, sizeof err));
  CHECK(fd_config_set(&c, "threads", "256", err, sizeof err) && c.threads == 256);
  CHECK(!fd_config_set(&c, "migrate", "maybe", err, sizeof err));
  CHECK(fd_config_set(&c, "migrate", "off", err, sizeof err) && !c.migrate);
  CHECK(!fd_config_set(&c, "no_such_setting", "1", err, sizeof err));
  CHECK(strstr(err, "no_such_setting") != NULL);
  CHECK(!fd_config_set(&c, "rate_limit_rps", "-1", err, sizeof err));
  CHECK(!fd_config_set(&c, "rate_limit_rps", "nan", err, sizeof err));
  CHECK(!fd_config_set(&c, "rate_limit_rps", "inf", err, sizeof err));
  CHECK(fd_config_set(&c, "rate_limit_rps", "1e6", err, sizeof err) && c.rate_limit_rps == 1e6); /* no upper bound */
  /* a share of one core: 0..1 */
  CHECK(c.edit_ratio_cpu_share == 0.1);
  CHECK(fd_config_set(&c, "edit_ratio_cpu_share", "0.25", err, sizeof err) && c.edit_ratio_cpu_share == 0.25);
  CHECK(fd_config_set(&c, "edit_ratio_cpu_share", "0", err, sizeof err) && c.edit_ratio_cpu_share == 0);
  CHECK(fd_config_set(&c, "edit_ratio_cpu_share", "1", err, sizeof err) && c.edit_ratio_cpu_share == 1);
  CHECK(!fd_config_set(&c, "edit_ratio_cpu_share", "1.01", err, sizeof err));
  CHECK(strstr(err, "edit_ratio_cpu_share") != NULL);
  CHECK(!fd_config_set(&c, "edit_ratio_cpu_share", "-0.1", err, sizeof err));
  CHECK(!fd_config_set(&c, "edit_ratio_cpu_share", "nan", err, sizeof err));
  CHECK(!fd_config_set(&c, "edit_ratio_cpu_share", "half", err, sizeof err));
  CHECK(c.parse_cpu_share == 0.1);
  CHECK(fd_config_set(&c, "parse_cpu_share", "0.02", err, sizeof err) && c.parse_cpu_share == 0.02);
  CHECK(fd_config_set(&c, "parse_cpu_share", "0", err, sizeof err) && c.parse_cpu_share == 0);
  CHECK(!fd_config_set(&c, "parse_cpu_share", "1.5", err, sizeof err));
  CHECK(strstr(err, "parse_cpu_share") != NULL);
  fd_config_free(&c);
}

/* bulk_share: a fraction, more than 0 and at most 1; a refusal names the setting */
static void test_bulk_share(void) {
  struct fd_config c;
  char err[256];
  fd_config_defaults(&c);
  CHECK(c.bulk_share == 0.25);
  const char *bad[] = {"0", "-0.5", "1.01", "2", "abc", "", "0.5x", "nan", "inf"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    err[0] = '\0';
    CHECK(!fd_config_set(&c, "bulk_share", bad[i], err, sizeof err));
    CHECK(strstr(err, "bulk_share") != NULL && strstr(err, "at most 1") != NULL);
    CHECK(c.bulk_share == 0.25); /* unchanged */
  }
  CHECK(fd_config_set(&c, "bulk_share", "1", err, sizeof err) && c.bulk_share == 1);
  CHECK(fd_config_set(&c, "bulk_share", "0.05", err, sizeof err) && c.bulk_share == 0.05);
  fd_config_free(&c);
}

static void test_no_flag_and_help(void) {
  char a0[] = "feedbackd", a1[] = "--no-migrate", a2[] = "serve";
  char *argv[] = {a0, a1, a2, NULL};
  int argc = 3;
  struct fd_config c;
  CHECK(fd_config_load(&c, &argc, argv) == FD_CONFIG_OK);
  CHECK(!c.migrate);
  CHECK(argc == 2);
  fd_config_free(&c);
  char h1[] = "--help";
  char *argv2[] = {a0, a2, h1, NULL};
  argc = 3;
  CHECK(fd_config_load(&c, &argc, argv2) == FD_CONFIG_HELP);
  fd_config_free(&c);
  char bad[] = "--threads";
  char *argv3[] = {a0, bad, NULL};
  argc = 2;
  CHECK(fd_config_load(&c, &argc, argv3) == FD_CONFIG_ERROR); /* a setting flag without its value */
  fd_config_free(&c);
}

static void test_connection_settings(void) {
  struct fd_config c;
  char err[256];
  fd_config_defaults(&c);
  CHECK(fd_config_set(&c, "trusted_proxies", " 127.0.0.1, 10.0.0.0/8,::1 , fd00::/8", err, sizeof err));
  CHECK_STR(c.trusted_proxies, " 127.0.0.1, 10.0.0.0/8,::1 , fd00::/8");
  CHECK(!fd_config_set(&c, "trusted_proxies", "10.0.0.1/8", err, sizeof err)); /* host bits set */
  CHECK(strstr(err, "10.0.0.1/8") != NULL);
  CHECK_STR(c.trusted_proxies, " 127.0.0.1, 10.0.0.0/8,::1 , fd00::/8"); /* unchanged on error */
  CHECK(!fd_config_set(&c, "trusted_proxies", "10.0.0.0/33", err, sizeof err));
  CHECK(!fd_config_set(&c, "trusted_proxies", "lb.example.com", err, sizeof err));
  CHECK(!fd_config_set(&c, "trusted_proxies", "127.0.0.1,,10.0.0.0/8", err, sizeof err));
  CHECK(!fd_config_set(&c, "trusted_proxies", "10.0.0.0/", err, sizeof err));
  CHECK(fd_config_set(&c, "trusted_proxies", "", err, sizeof err));
  CHECK(!fd_config_set(&c, "request_head_timeout", "0", err, sizeof err));
  CHECK(!fd_config_set(&c, "request_head_timeout", "3601", err, sizeof err));
  CHECK(fd_config_set(&c, "request_head_timeout", "1", err, sizeof err) && c.request_head_timeout == 1);
  CHECK(!fd_config_set(&c, "request_body_min_rate", "-1", err, sizeof err));
  CHECK(fd_config_set(&c, "request_body_min_rate", "0", err, sizeof err) && c.request_body_min_rate == 0);
  CHECK(!fd_config_set(&c, "per_ip_connection_limit", "-1", err, sizeof err));
  CHECK(fd_config_set(&c, "per_ip_connection_limit", "0", err, sizeof err) && c.per_ip_connection_limit == 0);
  fd_config_free(&c);
  /* environment and flag spellings, like every other setting */
  setenv("FEEDBACKD_TRUSTED_PROXIES", "192.0.2.0/24", 1);
  setenv("FEEDBACKD_REQUEST_BODY_MIN_RATE", "512", 1);
  char a0[] = "feedbackd", a1[] = "--request-head-timeout=7", a2[] = "serve";
  char *argv[] = {a0, a1, a2, NULL};
  int argc = 3;
  CHECK(fd_config_load(&c, &argc, argv) == FD_CONFIG_OK);
  CHECK_STR(c.trusted_proxies, "192.0.2.0/24");
  CHECK(c.request_body_min_rate == 512 && c.request_head_timeout == 7);
  fd_config_free(&c);
  setenv("FEEDBACKD_TRUSTED_PROXIES", "192.0.2.1/24", 1);
  char *argv2[] = {a0, a2, NULL};
  argc = 2;
  CHECK(fd_config_load(&c, &argc, argv2) == FD_CONFIG_ERROR);
  fd_config_free(&c);
  unsetenv("FEEDBACKD_TRUSTED_PROXIES");
  unsetenv("FEEDBACKD_REQUEST_BODY_MIN_RATE");
}

static void test_limits_follow_settings(void) {
  struct fd_config c;
  char err[256];
  fd_config_defaults(&c);
  CHECK(fd_config_set(&c, "max_tags", "3", err, sizeof err));
  CHECK(fd_config_set(&c, "max_text_bytes", "10", err, sizeof err));
  struct fd_limits l = fd_config_limits(&c);
  CHECK(l.tags_max_items == 3);
  CHECK(l.content_max_bytes == 10 && l.comment_max_bytes == 10 && l.edited_content_max_bytes == 10);
  CHECK(l.id_max_bytes == 128);
  fd_config_free(&c);
}

int main(void) {
  RUN(test_defaults);
  RUN(test_precedence);
  RUN(test_bad_values);
  RUN(test_bulk_share);
  RUN(test_no_flag_and_help);
  RUN(test_connection_settings);
  RUN(test_limits_follow_settings);
  return unit_report();
}
