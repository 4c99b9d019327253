/* test_webhook_sign.c — Standard Webhooks signatures against the specification's published
 * example, secret validation, the delivery URL parser, the internal-address test behind the
 * SSRF guard, and the retry delay's bounds. */
#include <stdint.h>
#include <string.h>

#include "pipeline/webhooks.h"
#include "unit.h"
#include "util/http_client.h"
#include "util/netaddr.h"
#include "util/webhook_sign.h"

static void test_spec_example(void) {
  /* the example of the Standard Webhooks specification (and of its reference libraries) */
  unsigned char key[FD_WEBHOOK_KEY_MAX];
  size_t key_len = 0;
  CHECK(fd_webhook_secret_decode("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", key, &key_len));
  CHECK(key_len == 24);
  char sig[FD_WEBHOOK_SIGNATURE_BUF];
  const char *body = "{\"test\": 2432232314}";
  fd_webhook_sign(key, key_len, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body, strlen(body), sig);
  CHECK_STR(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
  /* any change of id, time or body changes it */
  fd_webhook_sign(key, key_len, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265331, body, strlen(body), sig);
  CHECK(strcmp(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=") != 0);
}

static void test_secrets(void) {
  unsigned char key[FD_WEBHOOK_KEY_MAX];
  size_t n;
  CHECK(!fd_webhook_secret_decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", key, &n)); /* no prefix */
  CHECK(!fd_webhook_secret_decode("whsec_", key, &n));
  CHECK(!fd_webhook_secret_decode("whsec_AAAAAAAAAAAAAAAAAAAAAA==", key, &n));         /* 16 bytes */
  CHECK(!fd_webhook_secret_decode("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS", key, &n));  /* not a multiple of 4 */
  CHECK(!fd_webhook_secret_decode("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLa-w", key, &n)); /* base64url */
  CHECK(!fd_webhook_secret_decode("whsec_MfKQ9r8GKYqr=wjUPD8ILPZIo2LaLaSw", key, &n)); /* inner '=' */
  char s[FD_WEBHOOK_SECRET_BUF];
  CHECK(fd_webhook_secret_new(s));
  CHECK(strncmp(s, "whsec_", 6) == 0 && strlen(s) == 6 + 44);
  CHECK(fd_webhook_secret_decode(s, key, &n) && n == 32);
  /* 64 bytes is the most */
  char big[FD_WEBHOOK_SECRET_BUF] = "whsec_";
  for (int i = 0; i < 84; i++) strcat(big, "A");
  strcat(big, "AAA="); /* 88 characters: 65 bytes */
  CHECK(!fd_webhook_secret_decode(big, key, &n));
  big[6 + 84] = 0;
  strcat(big, "AA=="); /* 64 bytes */
  CHECK(fd_webhook_secret_decode(big, key, &n) && n == 64);
}

static void test_urls(void) {
  struct fd_url u;
  const char *why;
  CHECK(fd_url_parse("https://hooks.example.com/a/b?x=1", &u, &why));
  CHECK(u.https && !u.host_is_literal);
  CHECK_STR(u.host, "hooks.example.com");
  CHECK_STR(u.port, "443");
  CHECK_STR(u.target, "/a/b?x=1");
  CHECK(fd_url_parse("http://[2001:db8::1]:8080", &u, &why));
  CHECK_STR(u.host, "2001:db8::1");
  CHECK_STR(u.port, "8080");
  CHECK_STR(u.target, "/");
  CHECK(u.host_is_literal);
  CHECK(fd_url_parse("http://h?q", &u, &why));
  CHECK_STR(u.target, "/?q");
  const char *bad[] = {"ftp://h/",        "HTTP2://h/",   "http://",     "http://u@h/", "http://h:0/",
                       "http://h:99999/", "http://h:8x/", "http://h/#f", "http://h/ x", "http://[::1/",
                       "http://[zz]/",    "http://h%41/", "file:///x",   "http://h:/"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    why = NULL;
    CHECK(!fd_url_parse(bad[i], &u, &why) && why);
  }
}

static void test_internal_addresses(void) {
  const char *internal[] = {
      "127.0.0.1", "10.255.0.1", "172.31.1.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0",
      "::1",       "::",         "fd12::1",    "fe80::1",     "::ffff:10.0.0.1", "224.0.0.1",  "255.255.255.255"};
  const char *public[] = {"8.8.8.8", "172.32.0.1", "192.169.0.1", "100.128.0.1", "2001:4860:4860::8888", "1.1.1.1"};
  struct fd_netaddr a;
  for (size_t i = 0; i < sizeof internal / sizeof *internal; i++)
    CHECK(fd_netaddr_parse(internal[i], &a) && fd_netaddr_is_internal(&a));
  for (size_t i = 0; i < sizeof public / sizeof *public; i++)
    CHECK(fd_netaddr_parse(public[i], &a) && !fd_netaddr_is_internal(&a));
}

static void test_retry_delay(void) {
  /* attempt n waits within [half, all] of min(base * 2^(n-1), max) */
  for (int n = 1; n <= 40; n++) {
    long full = 1000;
    for (int i = 1; i < n && full < 3600000; i++) full *= 2;
    if (full > 3600000) full = 3600000;
    CHECK(fd_webhook_retry_delay_ms(n, 1000, 3600000, 0) == full / 2);
    CHECK(fd_webhook_retry_delay_ms(n, 1000, 3600000, UINT64_MAX) >= full / 2);
    CHECK(fd_webhook_retry_delay_ms(n, 1000, 3600000, UINT64_MAX) <= full);
    CHECK(fd_webhook_retry_delay_ms(n, 1000, 3600000, (uint64_t)(full - full / 2)) == full);
  }
}

int main(void) {
  RUN(test_spec_example);
  RUN(test_secrets);
  RUN(test_urls);
  RUN(test_internal_addresses);
  RUN(test_retry_delay);
  return unit_report();
}
