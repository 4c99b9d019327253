/* netaddr.h — IP addresses and address ranges: the trusted-proxy list, the key of the
 * per-address connection limit, and the client address behind trusted proxies.
 *
 * Every address is kept in 16 bytes, IPv4 as its IPv4-mapped IPv6 form (::ffff:a.b.c.d), so
 * that a dual-stack listener counts and matches 127.0.0.1 and ::ffff:127.0.0.1 as one. */
#ifndef FD_UTIL_NETADDR_H
#define FD_UTIL_NETADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

struct fd_netaddr {
  unsigned char b[16];
};

struct fd_netrange {
  struct fd_netaddr addr;
  unsigned prefix; /* leading bits that must match, 0..128 (IPv4 prefixes are stored + 96) */
};

struct fd_netranges {
  struct fd_netrange *v;
  size_t n;
};

/* "192.0.2.1" or "2001:db8::1" (no port, no brackets); false for anything else. */
bool fd_netaddr_parse(const char *text, struct fd_netaddr *out);
/* AF_INET or AF_INET6 socket address; false for other families. */
bool fd_netaddr_from_sockaddr(const struct sockaddr *sa, struct fd_netaddr *out);
/* Text form (IPv4-mapped addresses as plain IPv4); `len` of at least 46 always suffices. */
void fd_netaddr_format(const struct fd_netaddr *a, char *out, size_t len);

/* A comma-separated list of addresses and CIDR ranges ("127.0.0.1, 10.0.0.0/8, ::1,
 * fd00::/8"); spaces around entries are ignored and "" is the empty list. False with a
 * message in err (naming the bad entry) otherwise. */
bool fd_netranges_parse(const char *list, struct fd_netranges *out, char *err, size_t errlen);
void fd_netranges_free(struct fd_netranges *r);
bool fd_netranges_contain(const struct fd_netranges *r, const struct fd_netaddr *a);

/* Whether an address is not a public unicast destination: unspecified, loopback, private
 * (RFC 1918, RFC 6598 shared, fc00::/7), link-local, benchmarking, multicast or reserved.
 * Webhook deliveries refuse such targets unless webhook_allow_private is set (SSRF). */
bool fd_netaddr_is_internal(const struct fd_netaddr *a);

/* The client behind trusted proxies. Starting at the TCP peer, walk X-Forwarded-For from
 * its right-most entry leftwards while the current hop is a trusted proxy: the result is the
 * right-most entry not in `trusted` (or the left-most entry when all are trusted). An
 * untrusted peer's X-Forwarded-For is ignored (anyone can write one), and the walk stops at
 * an entry that is not an address, leaving the trusted hop that reported it. `xff` may be
 * NULL; several X-Forwarded-For headers are passed joined by commas, in order. */
struct fd_netaddr fd_netaddr_client(const struct fd_netranges *trusted, const struct fd_netaddr *peer, const char *xff);

#endif
