"""feedbackd-client: a typed client for feedbackd's HTTP API (docs/api.md), standard library
only (urllib), Python >= 3.11.

    from feedbackd_client import FeedbackdClient
    fd = FeedbackdClient("http://127.0.0.1:8080", "INGEST_KEY")
    fd.post_feedback({"kind": "rating", "message_id": "m3", "value": 1})
"""

from .client import OPERATIONS, FeedbackdClient, Operation
from .errors import FeedbackdError
from .export import ExportStream
from .models import *  # noqa: F401,F403 (the TypedDicts are part of the API)

__all__ = ["FeedbackdClient", "FeedbackdError", "ExportStream", "OPERATIONS", "Operation"]
__version__ = "0.1.0"
