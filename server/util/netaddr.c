/* netaddr.c — IP address and CIDR range parsing and matching (see netaddr.h). */
#include "util/netaddr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const unsigned char v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

bool fd_netaddr_parse(const char *text, struct fd_netaddr *out) {
  struct in_addr v4;
  if (inet_pton(AF_INET, text, &v4) == 1) {
    memcpy(out->b, v4_mapped, sizeof v4_mapped);
    memcpy(out->b + 12, &v4, 4);
    return true;
  }
  return inet_pton(AF_INET6, text, out->b) == 1;
}

bool fd_netaddr_from_sockaddr(const struct sockaddr *sa, struct fd_netaddr *out) {
  if (!sa) return false;
  if (sa->sa_family == AF_INET) {
    const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
    memcpy(out->b, v4_mapped, sizeof v4_mapped);
    memcpy(out->b + 12, &in->sin_addr, 4);
    return true;
  }
  if (sa->sa_family == AF_INET6) {
    memcpy(out->b, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
    return true;
  }
  return false;
}

static bool is_v4(const struct fd_netaddr *a) { return memcmp(a->b, v4_mapped, sizeof v4_mapped) == 0; }

void fd_netaddr_format(const struct fd_netaddr *a, char *out, size_t len) {
  if (!inet_ntop(is_v4(a) ? AF_INET : AF_INET6, is_v4(a) ? a->b + 12 : a->b, out, (socklen_t)len) && len) out[0] = '\0';
}

/* one entry "addr" or "addr/prefix" (the prefix counts bits of the address as written) */
static bool parse_range(const char *text, struct fd_netrange *out) {
  char addr[64];
  const char *slash = strchr(text, '/');
  size_t n = slash ? (size_t)(slash - text) : strlen(text);
  if (n == 0 || n >= sizeof addr) return false;
  memcpy(addr, text, n);
  addr[n] = '\0';
  if (!fd_netaddr_parse(addr, &out->addr)) return false;
  unsigned bits = strchr(addr, ':') ? 128 : 32; /* "::ffff:1.2.3.4" is written as IPv6 */
  unsigned long prefix = bits;
  if (slash) {
    char *end;
    if (slash[1] < '0' || slash[1] > '9') return false;
    prefix = strtoul(slash + 1, &end, 10);
    if (*end || prefix > bits) return false;
  }
  out->prefix = (unsigned)prefix + (128 - bits);
  /* host bits must be zero ("10.0.0.1/8" is most likely a typo for a single address) */
  for (unsigned i = out->prefix; i < 128; i++)
    if (out->addr.b[i / 8] & (0x80u >> (i % 8))) return false;
  return true;
}

bool fd_netranges_parse(const char *list, struct fd_netranges *out, char *err, size_t errlen) {
  out->v = NULL;
  out->n = 0;
  const char *p = list ? list : "";
  while (*p) {
    const char *comma = strchr(p, ',');
    size_t n = comma ? (size_t)(comma - p) : strlen(p);
    while (n && (*p == ' ' || *p == '\t')) p++, n--;
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t')) n--;
    char entry[80];
    struct fd_netrange r;
    bool ok = n > 0 && n < sizeof entry;
    if (ok) {
      memcpy(entry, p, n);
      entry[n] = '\0';
      ok = parse_range(entry, &r);
    }
    if (!ok) {
      snprintf(err, errlen, "'%.*s' is not an IP address or a CIDR range with zero host bits (e.g. 10.0.0.0/8)",
               (int)(n < 64 ? n : 64), p);
      fd_netranges_free(out);
      return false;
    }
    struct fd_netrange *v = realloc(out->v, (out->n + 1) * sizeof *v);
    if (!v) {
      snprintf(err, errlen, "out of memory");
      fd_netranges_free(out);
      return false;
    }
    out->v = v;
    out->v[out->n++] = r;
    if (!comma) break;
    p = comma + 1;
  }
  return true;
}

void fd_netranges_free(struct fd_netranges *r) {
  free(r->v);
  r->v = NULL;
  r->n = 0;
}

static bool in_range(const struct fd_netrange *r, const struct fd_netaddr *a) {
  unsigned full = r->prefix / 8, rest = r->prefix % 8;
  if (memcmp(r->addr.b, a->b, full) != 0) return false;
  if (!rest) return true;
  unsigned char mask = (unsigned char)(0xffu << (8 - rest));
  return (r->addr.b[full] & mask) == (a->b[full] & mask);
}

bool fd_netranges_contain(const struct fd_netranges *r, const struct fd_netaddr *a) {
  for (size_t i = 0; i < r->n; i++)
    if (in_range(&r->v[i], a)) return true;
  return false;
}

bool fd_netaddr_is_internal(const struct fd_netaddr *a) {
  /* IPv4 ranges are matched through their IPv4-mapped form (prefix + 96), as everywhere here */
  static const char *const internal[] = {
      "0.0.0.0/8",    "10.0.0.0/8",     "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
      "192.0.0.0/24", "192.168.0.0/16", "198.18.0.0/15", "224.0.0.0/4", "240.0.0.0/4",    "::/128",
      "::1/128",      "fc00::/7",       "fe80::/10",     "fec0::/10",   "ff00::/8",
  };
  for (size_t i = 0; i < sizeof internal / sizeof *internal; i++) {
    struct fd_netrange r;
    if (parse_range(internal[i], &r) && in_range(&r, a)) return true;
  }
  return false;
}

struct fd_netaddr fd_netaddr_client(const struct fd_netranges *trusted, const struct fd_netaddr *peer,
                                    const char *xff) {
  struct fd_netaddr cur = *peer;
  size_t end = xff ? strlen(xff) : 0;
  while (end > 0 && fd_netranges_contain(trusted, &cur)) {
    size_t start = end;
    while (start > 0 && xff[start - 1] != ',') start--;
    size_t a = start, b = end;
    while (a < b && (xff[a] == ' ' || xff[a] == '\t')) a++;
    while (b > a && (xff[b - 1] == ' ' || xff[b - 1] == '\t')) b--;
    char entry[64];
    struct fd_netaddr next;
    if (b - a == 0 || b - a >= sizeof entry) break;
    memcpy(entry, xff + a, b - a);
    entry[b - a] = '\0';
    if (!fd_netaddr_parse(entry, &next)) break;
    cur = next;
    end = start ? start - 1 : 0;
  }
  return cur;
}
