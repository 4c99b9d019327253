// Types of the feedback widget (feedbackd.js): the global `FeedbackD` a page gets from
// <script src=".../widget/feedbackd.js">. Options and callbacks as in README.md, "Feedback
// widget for chat pages". Type-checked with `tsc --strict` (tests/e2e/client_js_types.test.mjs).
//
// Use it in a TypeScript page with: /// <reference path="feedbackd.d.ts" />

declare namespace FeedbackD {
  type Role = 'system' | 'user' | 'assistant' | 'tool';

  /** A reason tag offered on thumbs-down: its id, or an id with a display label. */
  type Tag = string | { id: string; label: string };

  /** What the delivery queue reports about one request. */
  interface DeliveryInfo {
    type: 'queued' | 'retrying' | 'delivered' | 'failed';
    /** post: a feedback event; delete: a retraction; messages: logged turns; batch: implicit
     * signals sent together; consent: an opt-out. */
    op: 'post' | 'delete' | 'messages' | 'batch' | 'consent';
    /** The event's id (op post/delete) or the id of the messages/batch/consent request. */
    id: string;
    /** The request body (null for a retraction). */
    event: Record<string, unknown> | null;
    /** HTTP status of the last attempt (0: network error); absent for `queued`. */
    status?: number;
    /** `delivered`: the server already had it (200 duplicate). */
    duplicate?: boolean;
    /** `failed`: the server's error, or `{code: 'expired'}` after retry.maxAgeMs. */
    error?: { code: string; message: string; field?: string | null } | null;
    /** `failed`: true when it will not be retried. */
    permanent?: boolean;
    /** `retrying`: attempts so far and the wait before the next one. */
    attempts?: number;
    delayMs?: number;
    /** `failed` of op messages/batch: the item's per-item result. */
    item?: unknown;
  }

  interface RetryOptions {
    /** First backoff (default 1000 ms), doubled per attempt with jitter. */
    baseMs?: number;
    /** Cap of one backoff (default 300000 ms). */
    maxMs?: number;
    /** Period of the background flush (default 30000 ms). */
    flushIntervalMs?: number;
    /** Timeout of one request (default 15000 ms). */
    timeoutMs?: number;
    /** A request not delivered after this long is dropped as `failed` (default 7 days). */
    maxAgeMs?: number;
  }

  /** The judged turn inline, when the backend does not log turns (docs/api.md). */
  interface InlineMessage {
    content: string;
    conversation_id: string;
    model?: string | null;
    parent_id?: string | null;
  }

  interface Labels {
    group?: string; up?: string; down?: string; edit?: string; editAria?: string;
    reasonsTitle?: string; comment?: string; send?: string; skip?: string; save?: string;
    cancel?: string; editArea?: string; compareTitle?: string; a?: string; b?: string;
    tie?: string; bothBad?: string; thanks?: string; retracted?: string; edited?: string;
    queued?: string; failed?: string; react?: string; reactionsTitle?: string; unreact?: string;
    reactionsFailed?: string; optOut?: string; optedOut?: string;
    /** Marked passages (span events) and step thumbs. */
    mark?: string; markAria?: string; spanTitle?: string; spanLabels?: string; spanComment?: string;
    spanSend?: string; spanCancel?: string; spanClose?: string; spanPick?: string; spanUnmapped?: string;
    markHelp?: string; markArea?: string; markEmpty?: string; steps?: string;
    /** aria-label of one step's thumbs; `{n}` is the step's number from 1. */
    stepGroup?: string; stepUp?: string; stepZero?: string; stepDown?: string;
  }

  /** One reaction of the project's set (GET /v1/reactions). */
  interface Reaction {
    name: string;
    emoji: string;
    value: number;
  }

  /** An implicit signal a page may send (docs/api.md "Implicit signals"). */
  type SignalName = 'copy' | 'share' | 'regenerate' | 'continue' | 'abandon' | 'dwell' | 'retry';

  /** FeedbackD.mapPassage's answer: `text` is the selection (trimmed of whitespace). */
  type PassageMapping = { text: string; start: number; end: number; quote: string; unmapped?: undefined }
    | { text: string; unmapped: true };

  /** A span label: its name (as in the project's span_labels), optionally a display text. */
  type SpanLabel = string | { name: string; value?: number; label?: string };
  /** Span labels to offer instead of GET /v1/span-labels: a list, an object with span_labels, or a loader called once per page. */
  type SpanLabels = SpanLabel[] | { span_labels: SpanLabel[] }
    | (() => SpanLabel[] | { span_labels: SpanLabel[] } | Promise<SpanLabel[] | { span_labels: SpanLabel[] }>);

  /** Options every call takes (page-wide defaults via configure()). */
  interface CommonOptions {
    /** An ingest key (browser-safe). */
    key?: string;
    /** Base URL of feedbackd (default: the origin the script was loaded from). */
    endpoint?: string;
    /** Pseudonymous rater id. */
    user?: string;
    onEvent?: ((info: DeliveryInfo) => void) | null;
    onError?: ((info: DeliveryInfo) => void) | null;
  }

  interface ConfigureOptions extends CommonOptions {
    tags?: Tag[];
    labels?: Labels;
    injectStyles?: boolean;
    styleNonce?: string;
    persistState?: boolean;
    retry?: RetryOptions;
    /** false: no automatic copy and dwell signals (FeedbackD.signal still sends). */
    signals?: boolean;
    /** How long signals wait to go out together in one batch (default 1000 ms). */
    signalBatchMs?: number;
    /** Dwell shorter than this is not sent (default 1000 ms). */
    dwellMinMs?: number;
    /** false: no reaction button; a list: this set instead of GET /v1/reactions. */
    reactions?: boolean | Reaction[];
    reactionLabels?: Record<string, string>;
  }

  interface AttachOptions extends CommonOptions {
    key: string;
    /** Default: the element's data-message-id. */
    messageId?: string | number;
    tags?: Tag[];
    thumbs?: boolean;
    edit?: boolean;
    comment?: boolean;
    reasons?: boolean;
    metadata?: Record<string, unknown>;
    message?: InlineMessage;
    context?: { role: Role; content: string }[];
    conversationId?: string;
    /** The answer's text (default: element.innerText): what edits start from and span offsets count in. */
    getContent?: (element: Element) => string;
    /** Selecting text in the answer offers span labels; "Mark a passage" button (default true). */
    spans?: boolean;
    /** Default: the project's, from GET /v1/span-labels (once per page). */
    spanLabels?: SpanLabels;
    /** A step-by-step answer: thumbs for each non-blank line (step events; default false). */
    steps?: boolean;
    renderEdited?: (element: Element, text: string) => void;
    container?: Element;
    labels?: Labels;
    persistState?: boolean;
    injectStyles?: boolean;
    styleNonce?: string;
    /** The reaction button (default true: the project's set, fetched once per page). */
    reactions?: boolean | Reaction[];
    /** Accessible names of reactions by name (default: the name, capitalised). */
    reactionLabels?: Record<string, string>;
    /** Automatic copy and dwell signals for this answer (default true). */
    signals?: boolean;
    /** Show "Don't use my feedback for AI training" (needs `user`; default false). */
    optOutLink?: boolean;
  }

  interface CompareOptions extends CommonOptions {
    key: string;
    /** [A, B]; default: the elements' data-message-id. */
    messageIds?: [string, string];
    messageIdA?: string;
    messageIdB?: string;
    metadata?: Record<string, unknown>;
    container?: Element;
    labels?: Labels;
    persistState?: boolean;
    injectStyles?: boolean;
    styleNonce?: string;
  }

  interface Attached {
    element: Element;
    messageId: string;
    root: HTMLElement;
    state(): {
      vote: -1 | 0 | 1; voteId: string | null; pending: boolean; edited: boolean;
      /** The reactions held: name -> the id of its event. */
      reactions: Record<string, string>;
    };
    destroy(): void;
  }

  interface Comparison {
    root: HTMLElement;
    messageIds: [string, string];
    state(): { choice: 'a' | 'b' | 'tie' | 'both_bad' | null; eventId: string | null };
    destroy(): void;
  }

  /** A conversation turn for logMessages (POST /v1/messages). */
  interface Message {
    id: string;
    conversation_id: string;
    role: Role;
    content: string;
    parent_id?: string | null;
    model?: string | null;
    created_at?: string | null;
    metadata?: Record<string, unknown> | null;
    user?: string | null;
  }

  /** Any feedback event of docs/api.md; id and created_at are filled in when absent. */
  interface Event {
    kind: 'rating' | 'comment' | 'edit' | 'comparison' | 'span' | 'step' | 'reaction' | 'signal';
    message_id: string;
    id?: string;
    created_at?: string;
    [field: string]: unknown;
  }

  interface Api {
    readonly version: string;
    attach(element: Element, options: AttachOptions): Attached;
    compare(elementA: Element, elementB: Element, options: CompareOptions): Comparison;
    configure(options: ConfigureOptions): Api;
    /** Queues an event; returns its id. */
    send(event: Event, options?: CommonOptions): string;
    /** Queues the retraction of an event; returns the id. */
    retract(id: string, options?: CommonOptions): string;
    /** Queues POST /v1/messages; returns the request's id. */
    logMessages(messages: Message | Message[], options?: CommonOptions): string;
    /** Sends what is due now; resolves when the queue ran. */
    flush(): Promise<void>;
    /** Requests still queued. */
    pending(): number;
    /**
     * Queues an implicit signal on a message (batched with other signals); `value` is required
     * for dwell (milliseconds) and not allowed otherwise. Uses the options of the widget
     * attached to that message, if any. Returns the event's id.
     */
    signal(messageId: string, name: SignalName, value?: number | null, options?: CommonOptions): string;
    /** Queues PUT /v1/users/{user}/consent {"train": false} (default user: configure's). */
    optOut(user?: string | null, options?: CommonOptions): string;
    /** Whether this browser opted the user out. */
    optedOut(user: string): boolean;
    /** The project's reaction set (GET /v1/reactions, fetched once per page). */
    reactionSet(options?: CommonOptions & { reactions?: boolean | Reaction[] }): Promise<Reaction[]>;
    readonly signals: SignalName[];
    uuid(): string;
    /**
     * Maps a selection [start, end) of the text shown on screen (UTF-16 indexes of `shown`) to
     * the source text: code point offsets and the quote, `unmapped` when it cannot be placed
     * exactly, null for a selection of only whitespace.
     */
    mapPassage(source: string, shown: string, start: number, end: number): PassageMapping | null;
    readonly defaultTags: string[];
  }
}

declare var FeedbackD: FeedbackD.Api;

interface Window {
  FeedbackD: FeedbackD.Api;
}
