"""ExportStream: the NDJSON records of one export, parsed one line at a time."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from types import TracebackType

from .errors import FeedbackdError
from .models import ExportRecord


class ExportStream:
    """Iterate it once (``for record in stream``); ``id`` names the manifest
    (get_export_manifest) and ``watermark`` is the ``after`` of the next incremental export.
    Memory stays constant: lines are read from the socket as they arrive."""

    def __init__(self, response: http.client.HTTPResponse) -> None:
        self._res = response
        self._used = False
        self.id: str | None = response.headers.get("X-Export-Id")
        self.watermark: str | None = response.headers.get("X-Export-Watermark")

    def __iter__(self) -> Iterator[ExportRecord]:
        if self._used:
            raise RuntimeError("an export can be iterated only once")
        self._used = True
        n = 0
        try:
            while True:
                try:
                    line = self._res.readline()
                except (OSError, http.client.HTTPException) as e:
                    # the server cuts the body short (no final chunk) when the export fails midway
                    raise FeedbackdError(0, "network_error", f"export interrupted after {n} records: {e}") from e
                if not line:
                    return
                if not line.strip():
                    continue
                n += 1
                try:
                    yield json.loads(line)
                except ValueError as e:
                    raise FeedbackdError(self._res.status, "invalid_response", f"export line {n} is not JSON") from e
        finally:
            self.close()

    def close(self) -> None:
        """Frees the connection (also when stopping early)."""
        self._res.close()

    def __enter__(self) -> ExportStream:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.close()
