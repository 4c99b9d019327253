"""FeedbackdError: every failed call of the client."""

from __future__ import annotations


class FeedbackdError(Exception):
    """An error answer of feedbackd (docs/api.md, Errors), or no usable answer at all.

    ``status`` and ``code`` come from the answer; without a usable one ``status`` is 0 and
    ``code`` is ``network_error`` (no answer after every attempt) or ``invalid_response`` (an
    answer that is not JSON); ``http_error`` is a non-JSON error answer (a proxy's page).
    """

    def __init__(self, status: int, code: str, message: str, field: str | None = None,
                 retry_after: float | None = None, request_id: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        #: Retry-After of a 429/503 in seconds, else None.
        self.retry_after = retry_after
        #: X-Request-Id of the answer (also in the server's access log), else None.
        self.request_id = request_id

    def __str__(self) -> str:
        where = f" ({self.field})" if self.field else ""
        return f"{self.status} {self.code}{where}: {self.message}"
