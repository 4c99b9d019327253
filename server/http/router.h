/* router.h — matching a request against the routing table (http/routes.c). */
#ifndef FD_HTTP_ROUTER_H
#define FD_HTTP_ROUTER_H

#include <stddef.h>

#include "http/request.h"

enum fd_route_match { FD_ROUTE_FOUND, FD_ROUTE_NOT_FOUND, FD_ROUTE_WRONG_METHOD };

/* Find the route for method+path in `routes` (NULL-terminated, read top to bottom; the
 * application's table is api/routes.c). On FOUND sets req->route and req->params (decoded,
 * owned by req). On WRONG_METHOD writes the allowed methods ("GET, POST") into allow. */
enum fd_route_match fd_router_match(const struct fd_route *routes, struct fd_request *req, const char *method,
                                    const char *path, char *allow, size_t allow_len);

#endif
