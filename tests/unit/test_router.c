/* test_router.c — the routing table: exact paths, {param} segments (decoded), prefixes,
 * 404 vs 405 with the Allow list, HEAD as GET. */
#include <stdlib.h>

#include "api/api.h"
#include "http/router.h"
#include "unit.h"

static enum fd_route_match match(const char *method, const char *path, struct fd_request *req, char *allow) {
  memset(req, 0, sizeof *req);
  return fd_router_match(fd_api_routes, req, method, path, allow, 128);
}

static void free_params(struct fd_request *req) {
  for (int i = 0; i < FD_MAX_PATH_PARAMS; i++) free(req->params[i]);
}

static void test_exact_and_params(void) {
  struct fd_request req;
  char allow[128];
  CHECK(match("GET", "/healthz", &req, allow) == FD_ROUTE_FOUND);
  CHECK_STR(req.route->name, "healthz");
  CHECK(req.route->scope == FD_SCOPE_NONE);
  CHECK(match("DELETE", "/v1/feedback/e%3A1", &req, allow) == FD_ROUTE_FOUND);
  CHECK_STR(req.params[0], "e:1");
  CHECK(req.route->scope == FD_SCOPE_INGEST);
  free_params(&req);
  CHECK(match("POST", "/v1/feedback/batch", &req, allow) == FD_ROUTE_FOUND);
  CHECK_STR(req.route->name, "feedback_batch"); /* the literal route wins over {id} (listed first) */
  CHECK(match("DELETE", "/v1/users/u42", &req, allow) == FD_ROUTE_FOUND);
  CHECK(req.route->scope == FD_SCOPE_ADMIN);
  CHECK_STR(req.params[0], "u42");
  free_params(&req);
  CHECK(match("HEAD", "/healthz", &req, allow) == FD_ROUTE_FOUND);
}

static void test_not_found_and_wrong_method(void) {
  struct fd_request req;
  char allow[128];
  CHECK(match("GET", "/nope", &req, allow) == FD_ROUTE_NOT_FOUND);
  CHECK(match("GET", "/healthz/", &req, allow) == FD_ROUTE_NOT_FOUND);
  CHECK(match("DELETE", "/v1/feedback/", &req, allow) == FD_ROUTE_NOT_FOUND); /* empty {id} */
  CHECK(match("PUT", "/v1/feedback", &req, allow) == FD_ROUTE_WRONG_METHOD);
  CHECK(strstr(allow, "POST") && strstr(allow, "GET"));
  CHECK(match("POST", "/healthz", &req, allow) == FD_ROUTE_WRONG_METHOD);
  CHECK_STR(allow, "GET");
}

static void test_prefix_routes(void) {
  struct fd_request req;
  char allow[128];
  CHECK(match("GET", "/widget/feedbackd.js", &req, allow) == FD_ROUTE_FOUND);
  CHECK_STR(req.route->name, "static");
  CHECK(match("GET", "/dashboard", &req, allow) == FD_ROUTE_FOUND);
  CHECK(match("GET", "/dashboardx", &req, allow) == FD_ROUTE_NOT_FOUND);
}

/* A path parameter that cannot name an object matches nothing (404), instead of being cut
 * at a decoded NUL ("e1%00zz" acted on e1) or reaching SQL as invalid UTF-8 (a 503). */
static void test_params_nul_and_utf8(void) {
  struct fd_request req;
  char allow[128];
  CHECK(match("DELETE", "/v1/feedback/e1%00zz", &req, allow) == FD_ROUTE_NOT_FOUND);
  CHECK(req.params[0] == NULL);
  CHECK(match("DELETE", "/v1/users/u2%00", &req, allow) == FD_ROUTE_NOT_FOUND);
  CHECK(match("DELETE", "/v1/users/%FF", &req, allow) == FD_ROUTE_NOT_FOUND);
  CHECK(match("DELETE", "/v1/keys/%C3", &req, allow) == FD_ROUTE_NOT_FOUND);       /* truncated sequence */
  CHECK(match("GET", "/v1/exports/%ED%A0%80", &req, allow) == FD_ROUTE_NOT_FOUND); /* a surrogate */
  CHECK(req.params[0] == NULL);
  CHECK(match("DELETE", "/v1/users/u%C3%A9", &req, allow) == FD_ROUTE_FOUND); /* valid UTF-8 still decodes */
  CHECK_STR(req.params[0], "u\xC3\xA9");
  free_params(&req);
}

int main(void) {
  RUN(test_exact_and_params);
  RUN(test_not_found_and_wrong_method);
  RUN(test_prefix_routes);
  RUN(test_params_nul_and_utf8);
  return unit_report();
}
