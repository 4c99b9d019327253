// Type-checked usage of feedbackd-client (tsc -p clients/js): every operation, with the types
// a chat backend and a data pipeline see. Not run; the README examples are run by the tests.
import {
  FeedbackdClient, FeedbackdError, OPERATIONS,
  type BatchResults, type ExportRecord, type FeedbackEvent, type FeedbackItem, type Manifest, type Stats,
} from 'feedbackd-client';

export async function chatBackend(key: string): Promise<void> {
  const fd = new FeedbackdClient({ baseUrl: 'http://127.0.0.1:8080', key, retry: { attempts: 3 } });
  const logged: BatchResults = await fd.logMessages([
    { id: 'm1', conversation_id: 'c1', role: 'user', content: 'Capital of France?', user: 'u42' },
    { id: 'm2', conversation_id: 'c1', parent_id: 'm1', role: 'assistant', content: 'Paris.', model: 'chat-v7' },
  ]);
  for (const r of logged.results) {
    if (r.status === 'error') console.warn(r.index, r.error.code, r.error.field);
    else console.log(r.id, r.status);
  }
  const stored = await fd.postFeedback({ kind: 'rating', message_id: 'm2', value: 1, user: 'u42' });
  const status: 'stored' | 'duplicate' = stored.status;
  const events: FeedbackEvent[] = [
    { kind: 'comment', message_id: 'm2', comment: 'Short and right.' },
    { kind: 'edit', message_id: 'm2', edited_content: 'Paris is the capital.' },
    { kind: 'comparison', message_id: 'm2', other_message_id: 'm3', outcome: 'tie', strength: 2 },
    { kind: 'rating', message_id: 'm4', value: 4, scale: 5,
      message: { conversation_id: 'c9', content: 'Paris.', model: 'chat-v7' },
      context: [{ role: 'user', content: 'Capital of France?' }] },
  ];
  await fd.postFeedbackBatch(events);
  const retracted = await fd.retractFeedback(stored.id);
  console.log(status, retracted.retracted_at);
  try {
    await fd.postFeedback({ kind: 'rating', message_id: 'm2', value: 3 });
  } catch (e) {
    if (e instanceof FeedbackdError && e.code === 'invalid_field') console.log(e.status, e.field, e.message);
  }
}

export async function dataPipeline(readKey: string, exportKey: string, adminKey: string): Promise<void> {
  const reader = new FeedbackdClient({ baseUrl: 'http://127.0.0.1:8080', key: readKey });
  const stats: Stats = await reader.getStats({ bucket: 'week', group_by: 'model' });
  const rate: number | null = stats.totals.positive_rate;
  console.log(rate, stats.groups.map((g) => g.key));
  const board = await reader.getLeaderboard({ min_battles: 5, bootstrap: 200 });
  console.log(board.models.map((m) => `${m.rank}. ${m.model} ${m.rating} ${m.ci95?.[0]}`));
  const alpha: number | null = (await reader.getAgreement({ since: '2026-01-01T00:00:00Z' })).ratings.alpha;
  console.log(alpha);
  const page = await reader.listFeedback({ kind: 'rating', limit: 100 });
  for await (const item of reader.iterateFeedback({ tag: 'inaccurate' })) {
    const it: FeedbackItem = item;
    console.log(it.id, it.retracted_at ?? 'counting');
  }
  console.log(page.next_cursor);

  const exporter = new FeedbackdClient({ baseUrl: 'http://127.0.0.1:8080', key: exportKey });
  const stream = await exporter.export({ format: 'trl', split: 'train', include_meta: true });
  for await (const record of stream) {
    const r: ExportRecord = record;
    if ('chosen' in r && Array.isArray(r.chosen)) console.log(r.chosen[0]?.content, r.meta?.margin);
  }
  if (stream.id) {
    const manifest: Manifest = await exporter.getExportManifest(stream.id);
    console.log(manifest.records, manifest.by_split?.train, manifest.watermark);
  }
  const next = await exporter.export({ after: stream.watermark ?? undefined, format: 'kto' });
  console.log((await next.toArray()).length);

  const admin = new FeedbackdClient({ baseUrl: 'http://127.0.0.1:8080', key: adminKey });
  const project = await admin.updateProject({ allowed_origins: ['https://chat.example.com'] });
  console.log(project.slug, (await admin.getProject()).allowed_origins);
  const created = await admin.createKey({ scopes: ['ingest'], label: 'chat backend' });
  const keys = await admin.listKeys();
  console.log(created.key, keys.items.length, (await admin.revokeKey(created.id)).revoked_at);
  console.log((await admin.eraseUser('u42')).feedback_deleted, OPERATIONS.export.path);
  const hook = await admin.createWebhook({ url: 'https://chat.example.com/hooks', events: ['feedback.stored'] });
  const deliveries = await admin.listWebhookDeliveries(hook.id, { limit: 10 });
  console.log(hook.secret, deliveries.items.map((d) => d.status), (await admin.listWebhooks()).items.length);
  await admin.deleteWebhook(hook.id);
}
