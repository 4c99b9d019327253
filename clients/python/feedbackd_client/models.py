"""Types of the bodies and answers (TypedDicts). Each class named after a schema of
docs/openapi.json (components/schemas) has that schema's fields; tests/integration/
test_client_python.py compares them and fails on drift."""


from typing import Any, Literal, NotRequired, TypedDict, Union

ErrorCode = Literal[
    "invalid_json", "missing_field", "invalid_field", "unknown_field", "invalid_parameter",
    "unauthorized", "forbidden", "not_found", "method_not_allowed", "conflict",
    "payload_too_large", "unsupported_media_type", "rate_limited", "internal", "unavailable",
]
Role = Literal["system", "user", "assistant", "tool"]
Scope = Literal["ingest", "read", "export", "admin"]
FeedbackKind = Literal["rating", "comment", "edit", "comparison", "span", "step", "reaction", "signal"]
SignalName = Literal["copy", "share", "regenerate", "continue", "abandon", "dwell", "retry"]
ExportFormat = Literal["trl", "trl-text", "kto", "openai", "hh", "sft", "prm", "spans", "reward"]
Metadata = dict[str, Any]


class ErrorDetail(TypedDict):
    code: ErrorCode
    message: str
    field: str | None


class Message(TypedDict):
    """One conversation turn for POST /v1/messages."""
    id: str
    conversation_id: str
    role: Role
    content: str
    parent_id: NotRequired[str | None]
    model: NotRequired[str | None]
    created_at: NotRequired[str | None]
    metadata: NotRequired[Metadata | None]
    user: NotRequired[str | None]


class InlineMessage(TypedDict):
    content: str
    conversation_id: str
    model: NotRequired[str | None]
    parent_id: NotRequired[str | None]


class ContextTurn(TypedDict):
    role: Role
    content: str


class _FeedbackCommon(TypedDict):
    message_id: str
    id: NotRequired[str | None]
    user: NotRequired[str | None]
    tags: NotRequired[list[str] | None]
    created_at: NotRequired[str | None]
    metadata: NotRequired[Metadata | None]
    message: NotRequired[InlineMessage]
    context: NotRequired[list[ContextTurn] | None]
    other_message: NotRequired[InlineMessage]


class FeedbackRating(_FeedbackCommon):
    kind: Literal["rating"]
    comment: NotRequired[str | None]
    value: int
    scale: NotRequired[int | None]


class FeedbackComment(_FeedbackCommon):
    kind: Literal["comment"]
    comment: str


class FeedbackEdit(_FeedbackCommon):
    kind: Literal["edit"]
    comment: NotRequired[str | None]
    edited_content: str


class FeedbackComparison(_FeedbackCommon):
    kind: Literal["comparison"]
    comment: NotRequired[str | None]
    other_message_id: str
    outcome: NotRequired[Literal["preferred", "tie", "both_bad"] | None]
    strength: NotRequired[int | None]


class FeedbackSpan(TypedDict):
    """A labelled passage of the answer: start/end in Unicode code points (Python str indexes)."""
    kind: Literal["span"]
    message_id: str
    start: int
    end: int
    label: str
    quote: NotRequired[str | None]
    id: NotRequired[str | None]
    user: NotRequired[str | None]
    tags: NotRequired[list[str] | None]
    comment: NotRequired[str | None]
    created_at: NotRequired[str | None]
    metadata: NotRequired[Metadata | None]
    message: NotRequired[InlineMessage]
    context: NotRequired[list[ContextTurn] | None]


class FeedbackStep(TypedDict):
    """One step (non-blank line) of the answer rated -1, 0 or 1."""
    kind: Literal["step"]
    message_id: str
    step: int
    value: int
    id: NotRequired[str | None]
    user: NotRequired[str | None]
    tags: NotRequired[list[str] | None]
    comment: NotRequired[str | None]
    created_at: NotRequired[str | None]
    metadata: NotRequired[Metadata | None]
    message: NotRequired[InlineMessage]
    context: NotRequired[list[ContextTurn] | None]


class FeedbackReaction(_FeedbackCommon):
    """A reaction of the project's set, by name or emoji character; stored as the name."""
    kind: Literal["reaction"]
    comment: NotRequired[str | None]
    emoji: str


class FeedbackSignal(_FeedbackCommon):
    """An implicit signal; value (milliseconds, >= 0) for dwell only, required there."""
    kind: Literal["signal"]
    comment: NotRequired[str | None]
    signal: SignalName
    value: NotRequired[float]


FeedbackEvent = Union[FeedbackRating, FeedbackComment, FeedbackEdit, FeedbackComparison, FeedbackSpan, FeedbackStep,
                      FeedbackReaction, FeedbackSignal]


class FeedbackStatus(TypedDict):
    id: str
    status: Literal["stored", "duplicate"]


class ItemResult(TypedDict):
    """One item of a batch; ``error`` only when status is "error"."""
    index: int
    status: Literal["stored", "duplicate", "error"]
    id: NotRequired[str | None]
    error: NotRequired[ErrorDetail]


class BatchResults(TypedDict):
    results: list[ItemResult]


class Retracted(TypedDict):
    id: str
    status: Literal["retracted"]
    retracted_at: str


class Erased(TypedDict):
    user: str
    feedback_deleted: int


class FeedbackItem(TypedDict):
    id: str
    kind: FeedbackKind
    message_id: str
    created_at: str
    received_at: str
    retracted_at: str | None
    conversation_id: NotRequired[str]
    user: NotRequired[str]
    value: NotRequired[float]
    scale: NotRequired[int]
    tags: NotRequired[list[str]]
    comment: NotRequired[str]
    edited_content: NotRequired[str]
    edit_ratio: NotRequired[float]
    other_message_id: NotRequired[str]
    outcome: NotRequired[Literal["preferred", "tie", "both_bad"]]
    strength: NotRequired[int]
    metadata: NotRequired[Metadata]
    model: NotRequired[str]
    original_content: NotRequired[str | None]
    start: NotRequired[int]
    end: NotRequired[int]
    label: NotRequired[str]
    quote: NotRequired[str]
    step: NotRequired[int]
    emoji: NotRequired[str]
    signal: NotRequired[str]


class FeedbackPage(TypedDict):
    items: list[FeedbackItem]
    next_cursor: str | None


class StatsNames(TypedDict):
    """Counting reactions by name (every name of the project's current set), the positive-
    reaction rate, signals by name and their rates over assistant_messages (docs/api.md "Stats")."""
    reactions: dict[str, int]
    reaction_positive_rate: float | None
    reaction_positive_rate_ci95: list[float] | None
    signals: dict[str, int]
    signal_rates: dict[str, float] | None


class StatsTotals(StatsNames):
    events: int
    ratings: int
    up: int
    down: int
    comments: int
    edits: int
    comparisons: int
    positive_rate: float | None
    positive_rate_ci95: list[float] | None
    assistant_messages: int
    spans: dict[str, int]


class StatsPoint(StatsNames):
    t: str
    events: int
    up: int
    down: int
    edits: int
    comments: int
    assistant_messages: int


class StatsGroup(TypedDict):
    key: str | None
    events: int
    ratings: int
    up: int
    down: int
    positive_rate: float | None
    ci95: list[float] | None
    # None outside model groups (assistant_messages) and in tag groups (the rest)
    assistant_messages: int | None
    reactions: dict[str, int] | None
    reaction_positive_rate: float | None
    reaction_positive_rate_ci95: list[float] | None
    signals: dict[str, int] | None
    signal_rates: dict[str, float] | None
    spans: dict[str, int] | None


class TagCount(TypedDict):
    tag: str
    count: int


class Stats(TypedDict):
    since: str
    until: str
    bucket: Literal["hour", "day", "week"]
    totals: StatsTotals
    series: list[StatsPoint]
    groups: list[StatsGroup]
    top_tags: list[TagCount]


class ManifestParams(TypedDict):
    format: ExportFormat
    split: Literal["all", "train", "test"]
    test_fraction: float
    min_margin: float
    include_meta: bool
    since: str | None
    until: str | None
    model: str | None
    after: str | None
    exclude_users: NotRequired[list[str] | None]
    reactions: NotRequired[bool]
    signals: NotRequired[bool]


class Manifest(TypedDict):
    id: str
    format: ExportFormat
    params: ManifestParams
    started_at: str
    finished_at: str | None
    watermark: str | None
    records: int | None
    sha256: str | None
    exporter_version: str | None
    by_split: NotRequired[dict[str, int]]
    by_origin: NotRequired[dict[str, int]]
    by_label: NotRequired[dict[str, int]]
    skipped: NotRequired[dict[str, int]]
    files: NotRequired[dict[str, dict[str, Any]]]
    sha256_covers: NotRequired[str]
    license: NotRequired[str | None]


#: One NDJSON line of an export; its shape follows the format (docs/export.md).
ExportRecord = dict[str, Any]


class SpanLabel(TypedDict):
    name: str
    value: int


class Reaction(TypedDict):
    name: str
    emoji: str
    value: float


class ReactionSet(TypedDict):
    reactions: list[Reaction]


class SpanLabelSet(TypedDict):
    span_labels: list[SpanLabel]


class DetectPhrases(TypedDict):
    """A project's own phrases for the detector of feedback written into the conversation,
    per class."""
    praise: list[str]
    complaint: list[str]
    correction: list[str]


class DetectPhrasesPatch(TypedDict, total=False):
    """PATCH /v1/project detect_phrases: replaces the phrases, a class left out has none."""
    praise: list[str]
    complaint: list[str]
    correction: list[str]


class Project(TypedDict):
    slug: str
    name: str
    allowed_origins: Literal["*"] | list[str]
    span_labels: list[SpanLabel]
    reactions: list[Reaction]
    default_consent: Literal["train", "none"]
    dataset_license: str | None
    detect_feedback: bool
    detect_phrases: DetectPhrases
    retention_days: int | None
    created_at: str


class ProjectPatch(TypedDict, total=False):
    name: str | None
    allowed_origins: Literal["*"] | list[str]
    span_labels: list[SpanLabel]
    reactions: list[Reaction]
    default_consent: Literal["train", "none"]
    dataset_license: str | None
    detect_feedback: bool
    detect_phrases: DetectPhrasesPatch
    retention_days: int | None


class Consent(TypedDict):
    user: str
    train: bool
    updated_at: str | None


class ConsentPut(TypedDict):
    train: bool


class LeaderboardModel(TypedDict):
    model: str
    rating: float
    ci95: list[float] | None
    rank: int
    battles: int
    wins: int
    losses: int
    ties: int
    both_bad: int


class Leaderboard(TypedDict):
    """GET /v1/leaderboard: Bradley-Terry ratings of the models from comparisons."""
    method: Literal["bradley_terry"]
    battles: int
    ties_as: Literal["half"]
    models: list[LeaderboardModel]


class AgreementAlpha(TypedDict):
    alpha: float | None
    items: int
    raters: int


class AgreementRater(TypedDict):
    user: str
    events: int
    agreement: float | None
    flip_flops: int


class Agreement(TypedDict):
    """GET /v1/agreement: inter-rater agreement (Krippendorff's alpha) and per-rater figures."""
    ratings: AgreementAlpha
    comparisons: AgreementAlpha
    raters: list[AgreementRater]


class KeyCreate(TypedDict):
    scopes: list[Scope]
    label: NotRequired[str | None]


class KeyCreated(TypedDict):
    id: str
    key: str
    prefix: str
    scopes: list[Scope]
    label: str
    created_at: str


class KeyItem(TypedDict):
    id: str
    prefix: str
    label: str
    scopes: list[Scope]
    created_at: str
    revoked_at: str | None
    project: NotRequired[str]


class KeyList(TypedDict):
    items: list[KeyItem]


WebhookEvent = Literal["feedback.stored", "feedback.retracted", "export.finished"]


class WebhookCreate(TypedDict):
    url: str
    events: list[WebhookEvent]
    secret: NotRequired[str]


class WebhookCreated(TypedDict):
    """The new endpoint with its signing secret, shown this once."""
    id: str
    url: str
    events: list[WebhookEvent]
    created_at: str
    secret: str


class WebhookItem(TypedDict):
    id: str
    url: str
    events: list[WebhookEvent]
    created_at: str
    pending: NotRequired[int]
    failed: NotRequired[int]


class WebhookList(TypedDict):
    items: list[WebhookItem]


class WebhookDelivery(TypedDict):
    id: str
    event: WebhookEvent
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    last_status: int | None
    last_error: str | None
    created_at: str
    last_attempt_at: str | None
    next_attempt_at: str | None
    delivered_at: str | None


class WebhookDeliveryList(TypedDict):
    items: list[WebhookDelivery]
