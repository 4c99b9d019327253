/* test_netaddr.c — address and CIDR parsing, range matching, and the client address behind
 * trusted proxies (the right-most untrusted X-Forwarded-For entry). */
#include <arpa/inet.h>
#include <netinet/in.h>

#include "unit.h"
#include "util/netaddr.h"

static struct fd_netaddr addr(const char *text) {
  struct fd_netaddr a = {{0}};
  CHECK(fd_netaddr_parse(text, &a));
  return a;
}

static const char *client(const char *trusted, const char *peer, const char *xff) {
  static char out[64];
  struct fd_netranges r;
  char err[128];
  CHECK(fd_netranges_parse(trusted, &r, err, sizeof err));
  struct fd_netaddr p = addr(peer), c = fd_netaddr_client(&r, &p, xff);
  fd_netaddr_format(&c, out, sizeof out);
  fd_netranges_free(&r);
  return out;
}

static void test_parse_and_format(void) {
  struct fd_netaddr a;
  char out[64];
  CHECK(!fd_netaddr_parse("1.2.3", &a));
  CHECK(!fd_netaddr_parse("1.2.3.4:80", &a));
  CHECK(!fd_netaddr_parse("[::1]", &a));
  CHECK(!fd_netaddr_parse("", &a));
  a = addr("192.0.2.1");
  fd_netaddr_format(&a, out, sizeof out);
  CHECK_STR(out, "192.0.2.1");
  /* an IPv4-mapped IPv6 address is the IPv4 address */
  struct fd_netaddr m = addr("::ffff:192.0.2.1");
  CHECK(memcmp(a.b, m.b, 16) == 0);
  a = addr("2001:DB8::1");
  fd_netaddr_format(&a, out, sizeof out);
  CHECK_STR(out, "2001:db8::1");
  struct sockaddr_in sin = {.sin_family = AF_INET};
  inet_pton(AF_INET, "198.51.100.7", &sin.sin_addr);
  CHECK(fd_netaddr_from_sockaddr((struct sockaddr *)&sin, &a));
  fd_netaddr_format(&a, out, sizeof out);
  CHECK_STR(out, "198.51.100.7");
}

static void test_ranges(void) {
  struct fd_netranges r;
  char err[128];
  CHECK(fd_netranges_parse("10.0.0.0/8, 192.168.1.128/25, ::1, fd00::/8, 0.0.0.0/0", &r, err, sizeof err));
  CHECK(r.n == 5);
  fd_netranges_free(&r);
  CHECK(fd_netranges_parse("10.0.0.0/8, 192.168.1.128/25, ::1, fd00::/8", &r, err, sizeof err));
  struct fd_netaddr a;
  CHECK(fd_netranges_contain(&r, (a = addr("10.255.0.1"), &a)));
  CHECK(!fd_netranges_contain(&r, (a = addr("11.0.0.1"), &a)));
  CHECK(fd_netranges_contain(&r, (a = addr("192.168.1.200"), &a)));
  CHECK(!fd_netranges_contain(&r, (a = addr("192.168.1.127"), &a)));
  CHECK(fd_netranges_contain(&r, (a = addr("::1"), &a)));
  CHECK(!fd_netranges_contain(&r, (a = addr("::2"), &a)));
  CHECK(fd_netranges_contain(&r, (a = addr("fdab::9"), &a)));
  CHECK(!fd_netranges_contain(&r, (a = addr("fe80::1"), &a)));
  CHECK(fd_netranges_contain(&r, (a = addr("::ffff:10.1.2.3"), &a))); /* dual-stack peer */
  fd_netranges_free(&r);
  CHECK(fd_netranges_parse("", &r, err, sizeof err) && r.n == 0);
  CHECK(!fd_netranges_contain(&r, (a = addr("10.0.0.1"), &a)));
  CHECK(!fd_netranges_parse("10.0.0.0/8,nope", &r, err, sizeof err));
  CHECK(strstr(err, "nope") != NULL);
  CHECK(!fd_netranges_parse("10.0.0.0/x", &r, err, sizeof err));
  CHECK(!fd_netranges_parse("::1/129", &r, err, sizeof err));
  CHECK(!fd_netranges_parse("fd00::1/8", &r, err, sizeof err));
}

static void test_client_behind_proxies(void) {
  /* no trusted proxies: the peer, whatever X-Forwarded-For says */
  CHECK_STR(client("", "192.0.2.1", "203.0.113.7"), "192.0.2.1");
  /* an untrusted peer's header is ignored */
  CHECK_STR(client("10.0.0.0/8", "192.0.2.1", "203.0.113.7"), "192.0.2.1");
  /* trusted peer: the right-most entry, skipping trusted hops; the left-most is forgeable */
  CHECK_STR(client("10.0.0.0/8", "10.0.0.5", "198.51.100.9, 203.0.113.7"), "203.0.113.7");
  CHECK_STR(client("10.0.0.0/8", "10.0.0.5", "198.51.100.9,203.0.113.7 , 10.1.1.1"), "203.0.113.7");
  /* all trusted: the left-most */
  CHECK_STR(client("10.0.0.0/8", "10.0.0.5", "10.9.9.9, 10.1.1.1"), "10.9.9.9");
  /* no header or an empty one: the peer */
  CHECK_STR(client("10.0.0.0/8", "10.0.0.5", NULL), "10.0.0.5");
  CHECK_STR(client("10.0.0.0/8", "10.0.0.5", ""), "10.0.0.5");
  /* an entry that is not an address stops the walk at the trusted hop that reported it */
  CHECK_STR(client("10.0.0.0/8", "10.0.0.5", "203.0.113.7, unknown"), "10.0.0.5");
  CHECK_STR(client("10.0.0.0/8", "10.0.0.5", "unknown, 10.1.1.1"), "10.1.1.1");
  CHECK_STR(client("10.0.0.0/8", "10.0.0.5", "203.0.113.7,,"), "10.0.0.5");
  CHECK_STR(client("::1", "::1", "2001:db8::7"), "2001:db8::7");
}

int main(void) {
  RUN(test_parse_and_format);
  RUN(test_ranges);
  RUN(test_client_behind_proxies);
  return unit_report();
}
