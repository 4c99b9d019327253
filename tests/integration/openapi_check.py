"""openapi_check.py — every HTTP answer the integration suite receives, checked against
docs/openapi.json: the operation is found by method and path template, the status must be one
the operation documents (an unknown path must be 404, another method on a known path 405), and a
JSON body (or each line of an NDJSON export) must validate against the documented schema.

helpers.Feedbackd installs check_response as a `response` hook on its requests.Session, so a
mismatch raises OpenApiMismatch inside the test that received the answer.
"""

import json
import os
import re

from jsonschema import Draft202012Validator, RefResolver

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DOC_PATH = os.path.join(REPO, "docs", "openapi.json")
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


class OpenApiMismatch(AssertionError):
    pass


def load_document():
    with open(DOC_PATH, encoding="utf-8") as f:
        return json.load(f)


def template_regex(template):
    """/v1/keys/{id} -> ^/v1/keys/([^/]+)$. A parameter named `file` (the pages' "rest of the
    path", `*` in the routing table) matches anything, slashes included."""
    out, pos = "^", 0
    for m in re.finditer(r"\{([^}]+)\}", template):
        out += re.escape(template[pos:m.start()]) + ("(.*)" if m.group(1) == "file" else "([^/]+)")
        pos = m.end()
    return re.compile(out + re.escape(template[pos:]) + "$")


class Checker:
    def __init__(self, doc):
        self.doc = doc
        self.resolver = RefResolver.from_schema(doc)
        self.paths = [(t, template_regex(t), item) for t, item in doc["paths"].items()]
        self._validators = {}

    def resolve(self, node):
        while isinstance(node, dict) and "$ref" in node:
            node = self.resolver.resolve(node["$ref"])[1]
        return node

    def validator(self, schema):
        key = json.dumps(schema, sort_keys=True)
        if key not in self._validators:
            self._validators[key] = Draft202012Validator(schema, resolver=self.resolver)
        return self._validators[key]

    def validate(self, schema, value, what):
        errors = sorted(self.validator(schema).iter_errors(value), key=lambda e: list(e.path))
        if errors:
            e = errors[0]
            raise OpenApiMismatch(f"{what}: {e.message} at {list(e.absolute_path)} "
                                  f"(schema path {list(e.absolute_schema_path)}); body: {json.dumps(value)[:600]}")

    def find(self, path):
        """(template, path item) of the documented path that matches, literal segments first
        (POST /v1/feedback/batch is not /v1/feedback/{id})."""
        hits = [(t.count("{"), t, item) for t, rx, item in self.paths if rx.match(path)]
        if not hits:
            return None, None
        hits.sort(key=lambda h: h[0])
        return hits[0][1], hits[0][2]

    def error_schema(self):
        return {"$ref": "#/components/schemas/Error"}

    def check(self, method, path, status, content_type, body_bytes, what):
        """Raise OpenApiMismatch when the answer is not one the document allows. body_bytes is
        None when there is no body to check (HEAD, 204)."""
        template, item = self.find(path)
        m = method.lower()
        if m == "head":
            m, body_bytes = "get", None
        if template is None:
            return self.check_generic(404, status, content_type, body_bytes, f"{what} (no documented path)")
        if m not in item:
            if m == "options":  # the CORS preflight: 204, or 403 for an origin no project allows
                if status == 204:
                    return
                return self.check_generic(403, status, content_type, body_bytes, f"{what} (preflight)")
            return self.check_generic(405, status, content_type, body_bytes, f"{what} (method not documented)")
        op = item[m]
        responses = op["responses"]
        resp = responses.get(str(status))
        if resp is None:
            raise OpenApiMismatch(f"{what}: status {status} is not documented for {method} {template} "
                                  f"(documented: {', '.join(sorted(responses))}); body: {(body_bytes or b'')[:300]!r}")
        resp = self.resolve(resp)
        if body_bytes is None or status == 204:
            return
        content = resp.get("content", {})
        mt = (content_type or "").split(";")[0].strip().lower()
        media = content.get(mt) or content.get(mt.split("/")[0] + "/*") or content.get("*/*")
        if media is None:
            raise OpenApiMismatch(f"{what}: Content-Type {content_type!r} is not documented for {status} of "
                                  f"{method} {template} (documented: {', '.join(content) or 'no body'})")
        if mt == "application/json":
            self.validate(media["schema"], parse_json(body_bytes, what), f"{what} ({status})")
        elif mt == "application/x-ndjson" and "x-ndjson-item" in media:
            for n, line in enumerate(body_bytes.split(b"\n"), 1):
                if line:
                    self.validate(media["x-ndjson-item"], parse_json(line, f"{what} line {n}"), f"{what} line {n}")

    def check_generic(self, expected, status, content_type, body_bytes, what):
        if status != expected:
            raise OpenApiMismatch(f"{what}: expected {expected}, got {status}")
        if body_bytes is None:
            return
        if (content_type or "").split(";")[0].strip().lower() != "application/json":
            raise OpenApiMismatch(f"{what}: error answer with Content-Type {content_type!r}")
        self.validate(self.error_schema(), parse_json(body_bytes, what), what)


def parse_json(data, what):
    try:
        return json.loads(data)
    except ValueError as e:
        raise OpenApiMismatch(f"{what}: not JSON ({e}): {data[:300]!r}") from None


_checker = None


def checker():
    global _checker
    if _checker is None:
        _checker = Checker(load_document())
    return _checker


def check_response(resp, *args, **kwargs):
    """requests `response` hook. Reads the body (requests caches it), unless the caller streams."""
    req = resp.request
    # matched as sent: the router matches the raw path and decodes the parameters it took
    path = req.path_url.split("?", 1)[0]
    body = None
    if req.method != "HEAD" and not kwargs.get("stream"):
        body = resp.content
    checker().check(req.method, path, resp.status_code, resp.headers.get("Content-Type"), body,
                    f"{req.method} {req.path_url}")
    return resp
