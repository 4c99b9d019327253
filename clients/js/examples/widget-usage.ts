// Type-checked usage of the widget's global FeedbackD (static/widget/feedbackd.d.ts).
export function wire(answerA: HTMLElement, answerB: HTMLElement): void {
  FeedbackD.configure({ endpoint: 'https://feedback.example.com', retry: { baseMs: 500, maxAgeMs: 86400000 } });
  const w = FeedbackD.attach(answerA, {
    key: 'INGEST_KEY', messageId: 'm3', user: 'u42',
    tags: ['inaccurate', { id: 'rude', label: 'Rude' }],
    getContent: (el) => el.textContent ?? '',
    onEvent: (info) => { if (info.type === 'delivered') console.log(info.id, info.duplicate); },
    onError: (info) => console.warn(info.status, info.error?.code),
  });
  // a step-by-step answer whose page loads the labels to offer (with its own texts) itself
  const steps = FeedbackD.attach(answerB, {
    key: 'INGEST_KEY', messageId: 'm4', user: 'u42', steps: true,
    spanLabels: () => fetch('/api/feedback-labels').then((r) => r.json() as Promise<{ span_labels: FeedbackD.SpanLabel[] }>),
    labels: { mark: 'Mark text', stepGroup: 'Step {n}' },
  });
  FeedbackD.attach(answerA, { key: 'INGEST_KEY', spans: false, spanLabels: ['incorrect', { name: 'well_said', label: 'Well put' }] });
  steps.destroy();
  const m = FeedbackD.mapPassage('**Paris** is big', 'Paris is big', 0, 8);
  if (m && !m.unmapped) console.log(m.start, m.end, m.quote);
  FeedbackD.send({ kind: 'span', message_id: 'm3', start: 0, end: 4, label: 'incorrect', quote: 'Lyon' }, { key: 'INGEST_KEY' });
  const vote: -1 | 0 | 1 = w.state().vote;
  const c = window.FeedbackD.compare(answerA, answerB, { key: 'INGEST_KEY', messageIds: ['m3', 'm4'] });
  const choice = c.state().choice;
  const id: string = FeedbackD.send({ kind: 'rating', message_id: 'm3', value: 1 }, { key: 'INGEST_KEY' });
  FeedbackD.retract(id, { key: 'INGEST_KEY' });
  FeedbackD.logMessages([{ id: 'm3', conversation_id: 'c1', role: 'assistant', content: 'Paris.' }], { key: 'INGEST_KEY' });
  const r = FeedbackD.attach(answerB, { key: 'INGEST_KEY', messageId: 'm4', user: 'u42', optOutLink: true,
                                       reactionLabels: { love: 'Love it' }, signals: true });
  const held: Record<string, string> = r.state().reactions;
  FeedbackD.signal('m3', 'regenerate');
  FeedbackD.signal('m3', 'dwell', 1500, { key: 'INGEST_KEY' });
  if (!FeedbackD.optedOut('u42')) FeedbackD.optOut('u42', { key: 'INGEST_KEY' });
  void FeedbackD.reactionSet({ key: 'INGEST_KEY' }).then((set) => console.log(set.map((x) => x.emoji), held));
  void FeedbackD.flush().then(() => console.log(vote, choice, FeedbackD.pending(), FeedbackD.version));
  w.destroy();
}
