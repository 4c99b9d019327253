// Types of feedbackd-client (index.mjs). Each interface named after a schema of
// docs/openapi.json (components/schemas) has that schema's fields to the letter:
// tests/e2e/client_js_drift.test.mjs compares them and fails on drift.

// ------------------------------------------------------------------ errors

/** ErrorCode: the `code` of every error answer (docs/api.md, Errors). */
export type ErrorCode =
  | 'invalid_json' | 'missing_field' | 'invalid_field' | 'unknown_field' | 'invalid_parameter'
  | 'unauthorized' | 'forbidden' | 'not_found' | 'method_not_allowed' | 'conflict'
  | 'payload_too_large' | 'unsupported_media_type' | 'rate_limited' | 'internal' | 'unavailable';

/** ErrorDetail: the `error` object of an error answer. */
export interface ErrorDetail {
  code: ErrorCode;
  message: string;
  field: string | null;
}

/**
 * A failed call. `status` and `code` come from the server's answer; without a usable answer
 * `status` is 0 and `code` is `network_error` (no answer after every attempt) or
 * `invalid_response` (an answer that is not JSON), and `http_error` is a non-JSON error
 * answer (a proxy's page).
 */
export class FeedbackdError extends Error {
  readonly name: 'FeedbackdError';
  readonly status: number;
  readonly code: ErrorCode | 'network_error' | 'invalid_response' | 'http_error';
  readonly field: string | null;
  /** The Retry-After of a 429/503 in milliseconds, else null. */
  readonly retryAfterMs: number | null;
  /** X-Request-Id of the answer (also in the server's access log), else null. */
  readonly requestId: string | null;
  constructor(init: {
    status: number; code: FeedbackdError['code']; message: string; field?: string | null;
    retryAfterMs?: number | null; requestId?: string | null; cause?: unknown;
  });
}

// ------------------------------------------------------------------ conversation turns

export type Role = 'system' | 'user' | 'assistant' | 'tool';
export type Metadata = Record<string, unknown>;

/** Message: one conversation turn for POST /v1/messages. */
export interface Message {
  id: string;
  conversation_id: string;
  role: Role;
  /** May be empty. */
  content: string;
  parent_id?: string | null;
  model?: string | null;
  /** RFC 3339 with a zone; defaults to receipt. */
  created_at?: string | null;
  metadata?: Metadata | null;
  /** Pseudonymous end-user id, on the first message of a conversation. */
  user?: string | null;
}

/** InlineMessage: the judged turn sent with an event when the backend did not log it. */
export interface InlineMessage {
  content: string;
  conversation_id: string;
  model?: string | null;
  parent_id?: string | null;
}

/** ContextTurn: a turn before the judged message, sent inline. */
export interface ContextTurn {
  role: Role;
  content: string;
}

// ------------------------------------------------------------------ feedback events

interface FeedbackCommon {
  /** The idempotency key. The client gives an event without one a UUID before sending. */
  id?: string | null;
  /** The assistant message judged (comparisons: the preferred one). */
  message_id: string;
  user?: string | null;
  tags?: string[] | null;
  comment?: string | null;
  created_at?: string | null;
  metadata?: Metadata | null;
  message?: InlineMessage;
  context?: ContextTurn[] | null;
  other_message?: InlineMessage;
}

/** FeedbackRating: thumbs (value -1 or 1, no scale) or a scale rating (value 1..scale). */
export interface FeedbackRating extends FeedbackCommon {
  kind: 'rating';
  value: number;
  scale?: number | null;
}

/** FeedbackComment: free-text feedback. */
export interface FeedbackComment extends FeedbackCommon {
  kind: 'comment';
  comment: string;
}

/** FeedbackEdit: the user's rewrite of the whole assistant message. */
export interface FeedbackEdit extends FeedbackCommon {
  kind: 'edit';
  edited_content: string;
}

export type ComparisonOutcome = 'preferred' | 'tie' | 'both_bad';

/** FeedbackComparison: an A/B pick among siblings; message_id is the preferred one. */
export interface FeedbackComparison extends FeedbackCommon {
  kind: 'comparison';
  other_message_id: string;
  outcome?: ComparisonOutcome | null;
  strength?: number | null;
}

/** FeedbackSpan: a labelled passage of the answer; offsets in Unicode code points. */
export interface FeedbackSpan extends Omit<FeedbackCommon, 'other_message'> {
  kind: 'span';
  start: number;
  end: number;
  /** One of the project's span_labels. */
  label: string;
  /** The selected text; must equal content[start:end] when the message is known. */
  quote?: string | null;
}

/** FeedbackStep: one step (non-blank line) of the answer rated -1, 0 or 1. */
export interface FeedbackStep extends Omit<FeedbackCommon, 'other_message'> {
  kind: 'step';
  step: number;
  value: -1 | 0 | 1;
}

/** FeedbackReaction: a reaction of the project's set, by name or emoji character. */
export interface FeedbackReaction extends FeedbackCommon {
  kind: 'reaction';
  emoji: string;
}

export type SignalName = 'copy' | 'share' | 'regenerate' | 'continue' | 'abandon' | 'dwell' | 'retry';

/** FeedbackSignal: an implicit signal; value (milliseconds >= 0) for dwell only, required there. */
export interface FeedbackSignal extends FeedbackCommon {
  kind: 'signal';
  signal: SignalName;
  value?: number;
}

/** FeedbackEvent: any of the six kinds. */
export type FeedbackEvent =
  | FeedbackRating
  | FeedbackComment
  | FeedbackEdit
  | FeedbackComparison
  | FeedbackSpan
  | FeedbackStep
  | FeedbackReaction
  | FeedbackSignal;

export type StoredStatus = 'stored' | 'duplicate';

/** FeedbackStatus: 201 stored / 200 duplicate of POST /v1/feedback. */
export interface FeedbackStatus {
  id: string;
  status: StoredStatus;
}

/** ItemResult: one item of a batch (messages or events), in order. */
export type ItemResult =
  | { index: number; id: string; status: StoredStatus }
  | { index: number; id?: string | null; status: 'error'; error: ErrorDetail };

/** BatchResults: the 200 answer of POST /v1/messages and POST /v1/feedback/batch. */
export interface BatchResults {
  results: ItemResult[];
}

/** Retracted: the answer of DELETE /v1/feedback/{id}. */
export interface Retracted {
  id: string;
  status: 'retracted';
  retracted_at: string;
}

/** Erased: the answer of DELETE /v1/users/{user}. */
export interface Erased {
  user: string;
  feedback_deleted: number;
}

// ------------------------------------------------------------------ reading feedback

export type FeedbackKind = FeedbackEvent['kind'];

/** FeedbackItem: a stored event as GET /v1/feedback lists it. */
export interface FeedbackItem {
  id: string;
  kind: FeedbackKind;
  message_id: string;
  conversation_id?: string;
  user?: string;
  value?: number;
  scale?: number;
  tags?: string[];
  comment?: string;
  edited_content?: string;
  edit_ratio?: number;
  other_message_id?: string;
  outcome?: ComparisonOutcome;
  strength?: number;
  created_at: string;
  metadata?: Metadata;
  model?: string;
  received_at: string;
  retracted_at: string | null;
  original_content?: string | null;
  start?: number;
  end?: number;
  label?: string;
  quote?: string;
  step?: number;
  emoji?: string;
  signal?: string;
}

/** FeedbackPage: one page of GET /v1/feedback. */
export interface FeedbackPage {
  items: FeedbackItem[];
  next_cursor: string | null;
}

/** Query of GET /v1/feedback. */
export interface ListFeedbackQuery {
  kind?: FeedbackKind;
  model?: string;
  tag?: string;
  user?: string;
  since?: string;
  until?: string;
  /** 1..500, default 50. */
  limit?: number;
  cursor?: string;
}

// ------------------------------------------------------------------ stats

/** Query of GET /v1/stats. */
export interface StatsQuery {
  since?: string;
  until?: string;
  bucket?: 'hour' | 'day' | 'week';
  group_by?: 'model' | 'tag' | 'kind' | 'emoji' | 'span_label';
  model?: string;
}

/** Signal names in stats: the client's and the server's detected ones. */
export type StatsSignalName = SignalName | 'detected_praise' | 'detected_complaint' | 'detected_correction';

/** Stats: the answer of GET /v1/stats. Reactions, signals and spans: docs/api.md "Stats". */
export interface Stats {
  since: string;
  until: string;
  bucket: 'hour' | 'day' | 'week';
  totals: {
    events: number; ratings: number; up: number; down: number; comments: number; edits: number;
    comparisons: number; positive_rate: number | null; positive_rate_ci95: [number, number] | null;
    /** Logged assistant messages created in the window. */
    assistant_messages: number;
    /** Counting reactions by name: every name of the project's current set, zeros included. */
    reactions: Record<string, number>;
    /** Reactions of value > 0 / reactions of value != 0; null without such reactions. */
    reaction_positive_rate: number | null;
    /** Wilson 95 % interval of reaction_positive_rate. */
    reaction_positive_rate_ci95: [number, number] | null;
    /** Counting signals by name, every name. */
    signals: Record<StatsSignalName, number>;
    /** signals / assistant_messages per name; null without assistant messages. */
    signal_rates: Record<StatsSignalName, number> | null;
    /** Counting span events by label. */
    spans: Record<string, number>;
  };
  series: {
    t: string; events: number; up: number; down: number; edits: number; comments: number;
    assistant_messages: number; reactions: Record<string, number>; reaction_positive_rate: number | null;
    reaction_positive_rate_ci95: [number, number] | null; signals: Record<StatsSignalName, number>;
    signal_rates: Record<StatsSignalName, number> | null;
  }[];
  groups: {
    key: string | null; events: number; ratings: number; up: number; down: number;
    positive_rate: number | null; ci95: [number, number] | null;
    /** Model groups only; null in the others. */
    assistant_messages: number | null;
    /** These are null in tag groups. */
    reactions: Record<string, number> | null;
    reaction_positive_rate: number | null;
    reaction_positive_rate_ci95: [number, number] | null;
    signals: Record<StatsSignalName, number> | null;
    signal_rates: Record<StatsSignalName, number> | null;
    spans: Record<string, number> | null;
  }[];
  top_tags: { tag: string; count: number }[];
}

// ------------------------------------------------------------------ leaderboard, agreement

/** Query of GET /v1/leaderboard. */
export interface LeaderboardQuery {
  since?: string;
  until?: string;
  /** Models with fewer battles are left out. */
  min_battles?: number;
  /** Bootstrap resamples for ci95; 0: no intervals. */
  bootstrap?: number;
}

/** Leaderboard: Bradley-Terry ratings of the models from comparisons. */
export interface Leaderboard {
  method: 'bradley_terry';
  battles: number;
  ties_as: 'half';
  models: {
    model: string; rating: number; ci95: [number, number] | null; rank: number; battles: number;
    wins: number; losses: number; ties: number; both_bad: number;
  }[];
}

/** Query of GET /v1/agreement. */
export interface AgreementQuery {
  since?: string;
  until?: string;
}

export interface AgreementAlpha { alpha: number | null; items: number; raters: number }

/** Agreement: inter-rater agreement (Krippendorff's alpha) and per-rater figures. */
export interface Agreement {
  ratings: AgreementAlpha;
  comparisons: AgreementAlpha;
  raters: { user: string; events: number; agreement: number | null; flip_flops: number }[];
}

// ------------------------------------------------------------------ export

export type ExportFormat = 'trl' | 'trl-text' | 'kto' | 'openai' | 'hh' | 'sft' | 'prm' | 'spans' | 'reward';
export type Split = 'all' | 'train' | 'test';

/** Query of GET /v1/export (docs/export.md). */
export interface ExportQuery {
  format?: ExportFormat;
  since?: string;
  until?: string;
  model?: string;
  split?: Split;
  test_fraction?: number;
  min_margin?: number;
  include_meta?: boolean;
  /** A watermark of an earlier export: only the prompts changed since. */
  after?: string;
  /** Raters whose feedback is left out, comma-separated (u1,u2). */
  exclude_users?: string;
  /** Reactions also count as ratings (trl, trl-text, openai, hh, kto; reward always). */
  reactions?: boolean;
  /** kto / reward: labels from implicit and detected signals for messages nobody rated. */
  signals?: boolean;
}

export interface Turn { role: string; content: string }

/** `meta` of a record exported with include_meta=true. */
export interface ExportMeta {
  prompt_id: string;
  conversation_id: string;
  parent_id: string | null;
  origin: 'edit' | 'comparison' | 'ratings' | 'both_bad' | 'span' | 'step' | 'reaction' | 'signal';
  feedback_ids: string[];
  split: 'train' | 'test';
  pair_id?: string;
  margin?: number | null;
  n_votes?: number;
  agreement?: number | null;
  models?: { chosen?: string | null; rejected?: string | null };
  model?: string | null;
}

/** ExportRecord: one NDJSON line; its shape follows the format. */
export type ExportRecord =
  | { prompt: Turn[]; chosen: Turn[]; rejected: Turn[]; meta?: ExportMeta } // trl
  | { prompt: string; chosen: string; rejected: string; meta?: ExportMeta } // trl-text
  | { prompt: Turn[]; completion: Turn[]; label: boolean; meta?: ExportMeta } // kto
  | { input: { messages: Turn[] }; preferred_output: Turn[]; non_preferred_output: Turn[]; meta?: ExportMeta } // openai
  | { chosen: string; rejected: string; meta?: ExportMeta } // hh
  | { messages: Turn[]; meta?: ExportMeta } // sft
  | { prompt: string; completions: string[]; labels: boolean[]; meta?: ExportMeta } // prm
  | { prompt: Turn[]; completion: string; spans: ExportSpan[]; meta?: ExportMeta } // spans
  | { prompt: Turn[]; completion: Turn[]; reward: number; n: number; reactions: Record<string, number>; meta?: ExportMeta }; // reward

/** One labelled span of a `spans` record: completion[start:end] in code points. */
export interface ExportSpan { start: number; end: number; label: string; value: number; n: number }

/** The records of one export, read as they arrive; iterate it once. */
export class ExportStream implements AsyncIterable<ExportRecord> {
  /** X-Export-Id: the manifest's id (getExportManifest). */
  readonly id: string | null;
  /** X-Export-Watermark: pass as `after` for the next incremental export. */
  readonly watermark: string | null;
  [Symbol.asyncIterator](): AsyncIterator<ExportRecord>;
  toArray(): Promise<ExportRecord[]>;
}

type Counts<K extends string> = { [P in K]: number };

/** Manifest: GET /v1/exports/{id}. */
export interface Manifest {
  id: string;
  format: ExportFormat;
  params: {
    format: ExportFormat; split: Split; test_fraction: number; min_margin: number;
    include_meta: boolean; since: string | null; until: string | null; model: string | null;
    after: string | null;
    exclude_users?: string[] | null;
    reactions?: boolean;
    signals?: boolean;
  };
  started_at: string;
  finished_at: string | null;
  watermark: string | null;
  records: number | null;
  by_split?: Counts<'train' | 'test'>;
  by_origin?: Counts<'edit' | 'comparison' | 'ratings'>;
  by_label?: Counts<'true' | 'false'>;
  skipped?: {
    unknown_turn: number; trivial_edit: number; tie: number; low_agreement: number; invalid_prompt: number;
    duplicate: number; conflict: number; cap: number; not_single_turn: number; unsupported_role: number;
    no_consent?: number; invalid_span?: number; invalid_step?: number; unlabelled?: number;
  };
  sha256: string | null;
  /** The project's dataset_license (SPDX) when the export ran. */
  license?: string | null;
  exporter_version: string | null;
  files?: Record<string, { records: number; sha256: string }>;
  sha256_covers?: string;
}

// ------------------------------------------------------------------ administration

export type Scope = 'ingest' | 'read' | 'export' | 'admin';

/** Project: GET /v1/project. */
export interface Project {
  slug: string;
  name: string;
  allowed_origins: '*' | string[];
  span_labels: SpanLabel[];
  reactions: Reaction[];
  default_consent: 'train' | 'none';
  dataset_license: string | null;
  /** Whether user turns are classified as praise / complaint / correction (detected_* signals). */
  detect_feedback: boolean;
  detect_phrases: DetectPhrases;
  /** days feedback is kept after it was received; null keeps everything */
  retention_days: number | null;
  created_at: string;
}

/** DetectPhrases: a project's own phrases for the detector, per class. */
export interface DetectPhrases {
  praise: string[];
  complaint: string[];
  correction: string[];
}

/** A label a span event may carry, with its value (-1 a flaw, 1 a strength). */
export interface SpanLabel {
  name: string;
  value: -1 | 0 | 1;
}

/** Reaction: one entry of the project's reaction set. */
export interface Reaction {
  name: string;
  emoji: string;
  value: number;
}

/** ReactionSet: GET /v1/reactions, the project's reaction set. */
export interface ReactionSet {
  reactions: Reaction[];
}

/** SpanLabelSet: GET /v1/span-labels, the project's span labels. */
export interface SpanLabelSet {
  span_labels: SpanLabel[];
}

/** ProjectPatch: PATCH /v1/project (any of the fields). */
export interface ProjectPatch {
  name?: string | null;
  allowed_origins?: '*' | string[];
  span_labels?: SpanLabel[];
  reactions?: Reaction[];
  default_consent?: 'train' | 'none';
  dataset_license?: string | null;
  detect_feedback?: boolean;
  /** Replaces the phrases as a whole: a class left out has none. */
  detect_phrases?: { praise?: string[]; complaint?: string[]; correction?: string[] };
  retention_days?: number | null;
}

/** Consent: a rater's consent to training use (updated_at null: the project default). */
export interface Consent {
  user: string;
  train: boolean;
  updated_at: string | null;
}

/** ConsentPut: PUT /v1/users/{user}/consent. */
export interface ConsentPut {
  train: boolean;
}

/** KeyCreate: POST /v1/keys. */
export interface KeyCreate {
  scopes: Scope[];
  label?: string | null;
}

/** KeyCreated: the new key, in clear in this answer only. */
export interface KeyCreated {
  id: string;
  key: string;
  prefix: string;
  scopes: Scope[];
  label: string;
  created_at: string;
}

/** KeyItem: a key as GET /v1/keys lists it (never the key itself). */
export interface KeyItem {
  id: string;
  prefix: string;
  label: string;
  scopes: Scope[];
  created_at: string;
  revoked_at: string | null;
  project?: string;
}

/** KeyList: GET /v1/keys. */
export interface KeyList {
  items: KeyItem[];
}

// ------------------------------------------------------------------ webhooks

export type WebhookEvent = 'feedback.stored' | 'feedback.retracted' | 'export.finished';

/** WebhookCreate: POST /v1/webhooks. */
export interface WebhookCreate {
  url: string;
  events: WebhookEvent[];
  /** The signing secret (whsec_...); generated when absent. */
  secret?: string;
}

/** WebhookCreated: the new endpoint with its signing secret, shown this once. */
export interface WebhookCreated {
  id: string;
  url: string;
  events: WebhookEvent[];
  created_at: string;
  secret: string;
}

/** WebhookItem: an endpoint as GET /v1/webhooks lists it. */
export interface WebhookItem {
  id: string;
  url: string;
  events: WebhookEvent[];
  created_at: string;
  pending?: number;
  failed?: number;
}

/** WebhookList: GET /v1/webhooks. */
export interface WebhookList {
  items: WebhookItem[];
}

/** WebhookDelivery: one event's delivery to one endpoint. */
export interface WebhookDelivery {
  id: string;
  event: WebhookEvent;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  last_status: number | null;
  last_error: string | null;
  created_at: string;
  last_attempt_at: string | null;
  next_attempt_at: string | null;
  delivered_at: string | null;
}

/** WebhookDeliveryList: GET /v1/webhooks/{id}/deliveries. */
export interface WebhookDeliveryList {
  items: WebhookDelivery[];
}

/** Query of GET /v1/webhooks/{id}/deliveries. */
export interface WebhookDeliveriesQuery {
  limit?: number;
}

// ------------------------------------------------------------------ the client

export interface RetryOptions {
  /** Attempts in all, the first included (default 5). */
  attempts?: number;
  /** First backoff in ms, doubled each time, with jitter (default 250). */
  baseDelayMs?: number;
  /** Cap of one backoff in ms (default 30000). */
  maxDelayMs?: number;
}

export interface ClientOptions {
  /** Where feedbackd listens, e.g. 'https://feedback.example.com'. */
  baseUrl: string;
  /** An API key with the scope the calls need (ingest, read, export or admin). */
  key?: string | null;
  retry?: RetryOptions;
  /** Per attempt: a whole JSON call, or the wait for an export's head (default 30000). */
  timeoutMs?: number;
  /** A Retry-After longer than this (ms) is not waited for: the error is thrown (default 60000). */
  maxRetryAfterMs?: number;
  /** A fetch implementation (default: the global one). */
  fetch?: typeof fetch;
}

export interface Operation {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path: string;
  operationId: string;
}

/** The operations the client covers, by method name (checked against docs/openapi.json). */
export const OPERATIONS: Readonly<Record<
  | 'logMessages' | 'postFeedback' | 'postFeedbackBatch' | 'retractFeedback' | 'getReactions' | 'getSpanLabels' | 'listFeedback'
  | 'getStats' | 'getLeaderboard' | 'getAgreement' | 'export' | 'getExportManifest' | 'getProject' | 'updateProject' | 'createKey'
  | 'listKeys' | 'revokeKey' | 'eraseUser' | 'putConsent' | 'getConsent' | 'createWebhook' | 'listWebhooks' | 'deleteWebhook'
  | 'listWebhookDeliveries', Operation>>;

export const DEFAULT_RETRY: Readonly<Required<RetryOptions>>;

/**
 * A client of one feedbackd with one key. Calls that fail with a network error, 429, 502, 503
 * or 504 are retried (same request, same ids) with exponential backoff, honouring Retry-After,
 * up to retry.attempts; other answers are final. createKey and createWebhook are never retried.
 */
export class FeedbackdClient {
  constructor(options: ClientOptions);
  readonly baseUrl: string;

  /** POST /v1/messages (ingest): log turns as they happen; per-item results. */
  logMessages(messages: Message[]): Promise<BatchResults>;
  /** POST /v1/feedback (ingest): one event; an event without id gets a UUID first. */
  postFeedback(event: FeedbackEvent): Promise<FeedbackStatus>;
  /** POST /v1/feedback/batch (ingest): up to 1000 events; ids assigned as in postFeedback. */
  postFeedbackBatch(events: Iterable<FeedbackEvent>): Promise<BatchResults>;
  /** DELETE /v1/feedback/{id} (ingest): retract an event. */
  retractFeedback(id: string): Promise<Retracted>;
  /** GET /v1/reactions (ingest): the project's reaction set. */
  getReactions(): Promise<ReactionSet>;
  /** GET /v1/span-labels (ingest): the project's span labels. */
  getSpanLabels(): Promise<SpanLabelSet>;

  /** GET /v1/feedback (read): one page. */
  listFeedback(query?: ListFeedbackQuery): Promise<FeedbackPage>;
  /** GET /v1/feedback (read), every page. */
  iterateFeedback(query?: ListFeedbackQuery): AsyncGenerator<FeedbackItem, void, undefined>;
  /** GET /v1/stats (read). */
  getStats(query?: StatsQuery): Promise<Stats>;
  /** GET /v1/leaderboard (read): Bradley-Terry ratings of the models. */
  getLeaderboard(query?: LeaderboardQuery): Promise<Leaderboard>;
  /** GET /v1/agreement (read): inter-rater agreement. */
  getAgreement(query?: AgreementQuery): Promise<Agreement>;

  /** GET /v1/export (export): the records as an async iterable, read as they arrive. */
  export(query?: ExportQuery): Promise<ExportStream>;
  /** GET /v1/exports/{id} (export). */
  getExportManifest(id: string): Promise<Manifest>;

  /** GET /v1/project (admin). */
  getProject(): Promise<Project>;
  /** PATCH /v1/project (admin). */
  updateProject(patch: ProjectPatch): Promise<Project>;
  /** POST /v1/keys (admin); never retried. */
  createKey(request: KeyCreate): Promise<KeyCreated>;
  /** GET /v1/keys (admin). */
  listKeys(): Promise<KeyList>;
  /** DELETE /v1/keys/{id} (admin): revoke. */
  revokeKey(id: string): Promise<KeyItem>;
  /** DELETE /v1/users/{user} (admin): erase a rater's feedback. */
  eraseUser(user: string): Promise<Erased>;
  /** PUT /v1/users/{user}/consent (ingest: opt-out only; admin: either). */
  putConsent(user: string, consent: ConsentPut): Promise<Consent>;
  /** GET /v1/users/{user}/consent (read): the rater's consent or the project default. */
  getConsent(user: string): Promise<Consent>;

  /** POST /v1/webhooks (admin): a signed-webhook endpoint; never retried. */
  createWebhook(request: WebhookCreate): Promise<WebhookCreated>;
  /** GET /v1/webhooks (admin). */
  listWebhooks(): Promise<WebhookList>;
  /** DELETE /v1/webhooks/{id} (admin). */
  deleteWebhook(id: string): Promise<WebhookItem>;
  /** GET /v1/webhooks/{id}/deliveries (admin): the latest deliveries and their status. */
  listWebhookDeliveries(id: string, query?: WebhookDeliveriesQuery): Promise<WebhookDeliveryList>;
}
