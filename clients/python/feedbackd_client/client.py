"""FeedbackdClient: feedbackd's HTTP API (docs/api.md) over urllib, with safe retries.

Writes are safe to retry because every event carries an id the server enforces unique:
post_feedback/post_feedback_batch give each event without an id a UUID *before* the first
attempt, so every retry of that call re-sends the same ids and the server answers
``duplicate`` instead of storing a second row.
"""

from __future__ import annotations

import email.utils
import http.client
import json
import random
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, cast

from .errors import FeedbackdError
from .export import ExportStream
from .models import (Agreement, BatchResults, Consent, Erased, FeedbackEvent, FeedbackItem, FeedbackPage, FeedbackStatus,
                     KeyCreated, KeyItem, KeyList, Leaderboard, Manifest, Message, Project, ProjectPatch, ReactionSet,
                     Retracted, Scope, SpanLabelSet, Stats, WebhookCreated, WebhookDeliveryList, WebhookEvent, WebhookItem,
                     WebhookList)


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    operation_id: str


#: The operations this client covers: method, path and their operationId in docs/openapi.json
#: (tests/integration/test_client_python.py fails when the two disagree).
OPERATIONS: dict[str, Operation] = {
    "log_messages": Operation("POST", "/v1/messages", "postMessages"),
    "post_feedback": Operation("POST", "/v1/feedback", "postFeedback"),
    "post_feedback_batch": Operation("POST", "/v1/feedback/batch", "postFeedbackBatch"),
    "retract_feedback": Operation("DELETE", "/v1/feedback/{id}", "retractFeedback"),
    "get_reactions": Operation("GET", "/v1/reactions", "getReactions"),
    "get_span_labels": Operation("GET", "/v1/span-labels", "getSpanLabels"),
    "list_feedback": Operation("GET", "/v1/feedback", "listFeedback"),
    "get_stats": Operation("GET", "/v1/stats", "getStats"),
    "get_leaderboard": Operation("GET", "/v1/leaderboard", "getLeaderboard"),
    "get_agreement": Operation("GET", "/v1/agreement", "getAgreement"),
    "export": Operation("GET", "/v1/export", "exportStream"),
    "get_export_manifest": Operation("GET", "/v1/exports/{id}", "getExportManifest"),
    "get_project": Operation("GET", "/v1/project", "getProject"),
    "update_project": Operation("PATCH", "/v1/project", "patchProject"),
    "create_key": Operation("POST", "/v1/keys", "createKey"),
    "list_keys": Operation("GET", "/v1/keys", "listKeys"),
    "revoke_key": Operation("DELETE", "/v1/keys/{id}", "revokeKey"),
    "erase_user": Operation("DELETE", "/v1/users/{user}", "eraseUser"),
    "put_consent": Operation("PUT", "/v1/users/{user}/consent", "putConsent"),
    "get_consent": Operation("GET", "/v1/users/{user}/consent", "getConsent"),
    "create_webhook": Operation("POST", "/v1/webhooks", "createWebhook"),
    "list_webhooks": Operation("GET", "/v1/webhooks", "listWebhooks"),
    "delete_webhook": Operation("DELETE", "/v1/webhooks/{id}", "deleteWebhook"),
    "list_webhook_deliveries": Operation("GET", "/v1/webhooks/{id}/deliveries", "listWebhookDeliveries"),
}

# Creating a key (or a webhook) twice because a lost answer was retried would leave a live key
# nobody holds (a second endpoint getting every event): these POSTs are never retried. Every
# other operation is idempotent (ids, PATCH, DELETE, GET).
_NOT_RETRIED = {"create_key", "create_webhook"}

# 429 and 503 are the server's "try again later" (with Retry-After); 502/504 are what a proxy
# in front of it answers while it restarts. Other statuses are final.
_RETRY_STATUSES = {429, 502, 503, 504}


def _retry_after(headers: Mapping[str, str] | Any) -> float | None:
    """Retry-After in seconds (delta-seconds or an HTTP date), or None."""
    v = headers.get("Retry-After") if headers is not None else None
    if v is None:
        return None
    v = v.strip()
    if v.isdigit():
        return float(v)
    try:
        when = email.utils.parsedate_to_datetime(v)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _query(params: Mapping[str, Any]) -> str:
    items = []
    for k, v in params.items():
        if v is None:
            continue
        items.append((k, ("true" if v else "false") if isinstance(v, bool) else str(v)))
    return "?" + urllib.parse.urlencode(items) if items else ""


def _with_id(event: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of the event with an id (the caller's, or a new UUID)."""
    out = dict(event)
    if not out.get("id"):
        out["id"] = str(uuid.uuid4())
    return out


def _error_from(status: int, body: bytes, headers: Any) -> FeedbackdError:
    detail: Any = None
    try:
        detail = json.loads(body).get("error")
    except (ValueError, AttributeError):
        pass  # not JSON: a proxy's page
    if not isinstance(detail, dict):
        detail = {}
    text = body[:200].decode("utf-8", "replace")
    return FeedbackdError(
        status,
        detail["code"] if isinstance(detail.get("code"), str) else "http_error",
        detail["message"] if isinstance(detail.get("message"), str) else f"HTTP {status}: {text}",
        detail["field"] if isinstance(detail.get("field"), str) else None,
        retry_after=_retry_after(headers),
        request_id=headers.get("X-Request-Id") if headers is not None else None,
    )


class FeedbackdClient:
    """A client of one feedbackd with one key.

    Calls that fail with a network error, 429, 502, 503 or 504 are retried (same request, same
    ids) with exponential backoff and jitter, honouring Retry-After, up to ``attempts`` in all;
    other answers are final. ``create_key`` and ``create_webhook`` are never retried. A Retry-After longer than
    ``max_retry_after`` seconds is not waited for: the error is raised.
    """

    def __init__(self, base_url: str, key: str | None = None, *, attempts: int = 5,
                 base_delay: float = 0.25, max_delay: float = 30.0, timeout: float = 30.0,
                 max_retry_after: float = 60.0) -> None:
        if not base_url:
            raise ValueError("base_url is required")
        if attempts < 1:
            raise ValueError("attempts must be >= 1")
        self.base_url = base_url.rstrip("/")
        self.key = key
        self.attempts = attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.timeout = timeout
        self.max_retry_after = max_retry_after
        self._opener = urllib.request.build_opener()  # no proxy magic beyond the environment's

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with "equal jitter": between half and all of base * 2^(attempt-1)."""
        d = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        return d / 2 + random.random() * d / 2

    def _open(self, op: str, *, params: Mapping[str, str] | None = None,
              query: Mapping[str, Any] | None = None, body: Any = None,
              stream: bool = False) -> http.client.HTTPResponse:
        """One call with the retry policy: the open response of a 2xx answer."""
        o = OPERATIONS[op]
        path = o.path
        for name, value in (params or {}).items():
            path = path.replace("{" + name + "}", urllib.parse.quote(str(value), safe=""))
        url = self.base_url + path + _query(query or {})
        headers = {"Accept": "application/x-ndjson" if stream else "application/json"}
        if self.key:
            headers["Authorization"] = f"Bearer {self.key}"
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(body).encode()  # serialised once: every attempt sends the same bytes
        attempts = 1 if op in _NOT_RETRIED else self.attempts
        attempt = 0
        while True:
            attempt += 1
            req = urllib.request.Request(url, data=data, headers=headers, method=o.method)
            try:
                return cast(http.client.HTTPResponse, self._opener.open(req, timeout=self.timeout))
            except urllib.error.HTTPError as e:
                err = _error_from(e.code, e.read(), e.headers)
                e.close()
                if e.code not in _RETRY_STATUSES or attempt >= attempts:
                    raise err from None
                if err.retry_after is not None and err.retry_after > self.max_retry_after:
                    raise err from None
                time.sleep(max(err.retry_after or 0.0, self._backoff(attempt)))
            except (OSError, http.client.HTTPException) as e:  # URLError, resets, timeouts
                if attempt >= attempts:
                    raise FeedbackdError(0, "network_error", f"{o.method} {o.path}: {e}") from e
                time.sleep(self._backoff(attempt))

    def _json(self, op: str, **kw: Any) -> Any:
        # The body is read within the retry loop's reach: a connection cut while reading a
        # JSON answer is retried like one cut before it.
        for attempt in range(1, self.attempts + 1):
            with self._open(op, **kw) as res:
                try:
                    raw = res.read()
                except (OSError, http.client.HTTPException) as e:
                    if op in _NOT_RETRIED or attempt >= self.attempts:
                        raise FeedbackdError(0, "network_error", f"reading the answer: {e}") from e
                    time.sleep(self._backoff(attempt))
                    continue
                try:
                    return json.loads(raw)
                except ValueError as e:
                    raise FeedbackdError(res.status, "invalid_response", f"not JSON: {raw[:200]!r}") from e
        raise AssertionError("unreachable")

    # ---------------------------------------------------------------- ingest

    def log_messages(self, messages: Iterable[Message]) -> BatchResults:
        """POST /v1/messages (ingest): log turns as they happen; per-item results."""
        return cast(BatchResults, self._json("log_messages", body={"messages": list(messages)}))

    def post_feedback(self, event: FeedbackEvent | Mapping[str, Any]) -> FeedbackStatus:
        """POST /v1/feedback (ingest): one event; an event without id gets a UUID first."""
        return cast(FeedbackStatus, self._json("post_feedback", body=_with_id(event)))

    def post_feedback_batch(self, events: Iterable[FeedbackEvent | Mapping[str, Any]]) -> BatchResults:
        """POST /v1/feedback/batch (ingest): up to 1000 events; ids assigned as in post_feedback."""
        return cast(BatchResults, self._json("post_feedback_batch", body={"events": [_with_id(e) for e in events]}))

    def retract_feedback(self, id: str) -> Retracted:
        """DELETE /v1/feedback/{id} (ingest): retract an event."""
        return cast(Retracted, self._json("retract_feedback", params={"id": id}))

    def get_reactions(self) -> ReactionSet:
        """GET /v1/reactions (ingest): the project's reaction set."""
        return cast(ReactionSet, self._json("get_reactions"))

    def get_span_labels(self) -> SpanLabelSet:
        """GET /v1/span-labels (ingest): the project's span labels."""
        return cast(SpanLabelSet, self._json("get_span_labels"))

    # ---------------------------------------------------------------- read

    def list_feedback(self, *, kind: str | None = None, model: str | None = None, tag: str | None = None,
                      user: str | None = None, since: str | None = None, until: str | None = None,
                      limit: int | None = None, cursor: str | None = None) -> FeedbackPage:
        """GET /v1/feedback (read): one page, newest first."""
        q = dict(kind=kind, model=model, tag=tag, user=user, since=since, until=until, limit=limit, cursor=cursor)
        return cast(FeedbackPage, self._json("list_feedback", query=q))

    def iter_feedback(self, **query: Any) -> Iterator[FeedbackItem]:
        """GET /v1/feedback (read), every page."""
        cursor = query.pop("cursor", None)
        while True:
            page = self.list_feedback(cursor=cursor, **query)
            yield from page["items"]
            cursor = page["next_cursor"]
            if not cursor:
                return

    def get_stats(self, *, since: str | None = None, until: str | None = None, bucket: str | None = None,
                  group_by: str | None = None, model: str | None = None) -> Stats:
        """GET /v1/stats (read)."""
        q = dict(since=since, until=until, bucket=bucket, group_by=group_by, model=model)
        return cast(Stats, self._json("get_stats", query=q))

    def get_leaderboard(self, *, since: str | None = None, until: str | None = None,
                        min_battles: int | None = None, bootstrap: int | None = None) -> Leaderboard:
        """GET /v1/leaderboard (read): Bradley-Terry ratings of the models."""
        q = dict(since=since, until=until, min_battles=min_battles, bootstrap=bootstrap)
        return cast(Leaderboard, self._json("get_leaderboard", query=q))

    def get_agreement(self, *, since: str | None = None, until: str | None = None) -> Agreement:
        """GET /v1/agreement (read): inter-rater agreement."""
        return cast(Agreement, self._json("get_agreement", query=dict(since=since, until=until)))

    # ---------------------------------------------------------------- export

    def export(self, *, format: str | None = None, since: str | None = None, until: str | None = None,
               model: str | None = None, split: str | None = None, test_fraction: float | None = None,
               min_margin: float | None = None, include_meta: bool | None = None,
               after: str | None = None, exclude_users: str | Iterable[str] | None = None,
               reactions: bool | None = None, signals: bool | None = None) -> ExportStream:
        """GET /v1/export (export): the records as an iterator, read line by line as they arrive
        (constant memory). Use it as a context manager, or close() it when stopping early.
        ``exclude_users``: raters left out, a list or a comma-separated string. ``reactions``:
        reactions also count as ratings; ``signals`` (kto, reward): labels from signals."""
        q = dict(format=format, since=since, until=until, model=model, split=split,
                 test_fraction=test_fraction, min_margin=min_margin, include_meta=include_meta, after=after,
                 exclude_users=exclude_users if exclude_users is None or isinstance(exclude_users, str)
                 else ",".join(exclude_users), reactions=reactions, signals=signals)
        return ExportStream(self._open("export", query=q, stream=True))

    def get_export_manifest(self, id: str) -> Manifest:
        """GET /v1/exports/{id} (export)."""
        return cast(Manifest, self._json("get_export_manifest", params={"id": id}))

    # ---------------------------------------------------------------- admin

    def get_project(self) -> Project:
        """GET /v1/project (admin)."""
        return cast(Project, self._json("get_project"))

    def update_project(self, patch: ProjectPatch) -> Project:
        """PATCH /v1/project (admin)."""
        return cast(Project, self._json("update_project", body=dict(patch)))

    def create_key(self, scopes: list[Scope], label: str | None = None) -> KeyCreated:
        """POST /v1/keys (admin); never retried. The key is in clear in this answer only."""
        body: dict[str, Any] = {"scopes": scopes}
        if label is not None:
            body["label"] = label
        return cast(KeyCreated, self._json("create_key", body=body))

    def list_keys(self) -> KeyList:
        """GET /v1/keys (admin)."""
        return cast(KeyList, self._json("list_keys"))

    def revoke_key(self, id: str) -> KeyItem:
        """DELETE /v1/keys/{id} (admin)."""
        return cast(KeyItem, self._json("revoke_key", params={"id": id}))

    def erase_user(self, user: str) -> Erased:
        """DELETE /v1/users/{user} (admin): erase a rater's feedback."""
        return cast(Erased, self._json("erase_user", params={"user": user}))

    def put_consent(self, user: str, train: bool) -> Consent:
        """PUT /v1/users/{user}/consent (ingest: opt-out only; admin: either)."""
        return cast(Consent, self._json("put_consent", params={"user": user}, body={"train": train}))

    def get_consent(self, user: str) -> Consent:
        """GET /v1/users/{user}/consent (read): the rater's consent or the project default."""
        return cast(Consent, self._json("get_consent", params={"user": user}))

    # ---------------------------------------------------------------- webhooks (admin)

    def create_webhook(self, url: str, events: list[WebhookEvent], secret: str | None = None) -> WebhookCreated:
        """POST /v1/webhooks (admin); never retried. The signing secret is in this answer only."""
        body: dict[str, Any] = {"url": url, "events": events}
        if secret is not None:
            body["secret"] = secret
        return cast(WebhookCreated, self._json("create_webhook", body=body))

    def list_webhooks(self) -> WebhookList:
        """GET /v1/webhooks (admin)."""
        return cast(WebhookList, self._json("list_webhooks"))

    def delete_webhook(self, id: str) -> WebhookItem:
        """DELETE /v1/webhooks/{id} (admin)."""
        return cast(WebhookItem, self._json("delete_webhook", params={"id": id}))

    def list_webhook_deliveries(self, id: str, *, limit: int | None = None) -> WebhookDeliveryList:
        """GET /v1/webhooks/{id}/deliveries (admin): the latest deliveries and their status."""
        return cast(WebhookDeliveryList, self._json("list_webhook_deliveries", params={"id": id}, query={"limit": limit}))
