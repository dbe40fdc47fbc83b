import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMaasClient, MaasApiError, unwrap, uploadDataset, watchStudy, type MaasClient, type ReceivedEvent, type StudyEvent } from '../../src/client/index.ts';
import type { LiveEvent } from '../../src/events/index.ts';
import { startDashboard, type DashboardService } from '../helpers/browser.ts';
import { cuttableProxy, type CuttableProxy } from '../helpers/tcp-proxy.ts';

const run = promisify(execFile);
const root = join(import.meta.dirname, '../..');
const wine = readFileSync(join(root, 'test/fixtures/wine.csv'));

// Compile-time: every event the server's schema allows is one the client's type describes.
const _sameEvents: (e: LiveEvent) => StudyEvent = (e) => e;
void _sameEvents;

describe('the typed client', () => {
  let service: DashboardService;
  let client: MaasClient;
  let datasetId: string;

  beforeAll(async () => {
    service = await startDashboard('sqlite');
    client = createMaasClient({ url: service.url });
    datasetId = (await uploadDataset(client, new Blob([wine]), 'wine.csv', { name: 'wine', kind: 'tabular', target: 'cultivar' })).id;
  });
  afterAll(async () => {
    await service?.close();
  });

  it('throws the api\'s own message, field and rule for a refused request', async () => {
    const refused = await uploadDataset(client, new Blob([wine]), 'wine.csv', { name: 'wine', kind: 'nonsense' as 'tabular', target: 'cultivar' }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(MaasApiError);
    expect(refused).toMatchObject({ status: 400, code: 'invalid_request', issues: [expect.objectContaining({ field: 'kind', value: 'nonsense' })] });
    expect((refused as Error).message).toMatch(/^kind: "nonsense" .*tabular/);

    const missing = await unwrap(client.GET('/v1/studies/{id}', { params: { path: { id: 'no-such-study' } } })).catch((e: unknown) => e);
    expect(missing).toMatchObject({ status: 404, code: 'not_found', message: expect.stringContaining('no-such-study') });
  });

  it('follows a study\'s events and resumes after a dropped connection without losing or repeating one', async () => {
    const study = await unwrap(
      client.POST('/v1/studies', {
        body: { name: 'resume', datasetId, objective: { metric: 'val_accuracy' }, budget: { maxTrials: 2, maxEpochs: 2 }, search: { algorithm: 'random', families: ['mlp'] }, seed: 3 },
      }),
    );
    const proxy: CuttableProxy = await cuttableProxy({ host: '127.0.0.1', port: Number(new URL(service.url).port) });
    const received: ReceivedEvent[] = [];
    const reconnects: (string | undefined)[] = [];
    try {
      for await (const e of watchStudy({ url: `http://127.0.0.1:${proxy.port}` }, study.id, { retryMs: 50, onReconnect: (r) => reconnects.push(r.lastEventId) })) {
        received.push(e);
        // The first event comes at once; the trials' events come later, over the second connection.
        if (received.length === 1) {
          await proxy.cut();
          await proxy.restore();
        }
      }
    } finally {
      await proxy.close();
    }
    // It resumed after the last event it had read (the first read may carry several), and more came after it.
    expect(reconnects).toHaveLength(1);
    const resumedAt = received.findIndex((e) => e.id === reconnects[0]);
    expect(resumedAt).toBeGreaterThanOrEqual(0);
    expect(resumedAt).toBeLessThan(received.length - 1);
    expect(received.at(-1)?.type).toBe('study.ended');

    // A watch without interruptions sees the same events, in the same order.
    const whole: ReceivedEvent[] = [];
    for await (const e of watchStudy(client, study.id)) whole.push(e);
    expect(received.map((e) => e.id)).toEqual(whole.map((e) => e.id));
    expect(received.filter((e) => e.type === 'trial.ended')).toHaveLength(2);
  });

  it('skips events it cannot read, and stops when the server answers 204 after study.ended', async () => {
    const base = { studyId: 's', at: new Date(0).toISOString() };
    const sse = (...events: { id: string; data: { type: string; [field: string]: unknown } }[]) => events.map((e) => `id: ${e.id}\nevent: ${e.data.type}\ndata: ${JSON.stringify(e.data)}\n\n`).join('');
    const asked: (string | null)[] = [];
    const stub = async (_url: string | URL | Request, init?: RequestInit): Promise<Response> => {
      asked.push(new Headers(init?.headers).get('last-event-id'));
      if (asked.length > 1) return new Response(null, { status: 204 });
      const body = sse(
        { id: '1-0', data: { type: 'trial.epoch', ...base, trialId: 't', number: 0, epoch: 1, metrics: { loss: 1 }, value: null } as LiveEvent },
        // A type a newer server added, and a payload this version cannot read.
        { id: '2-0', data: { type: 'trial.checkpointed', ...base, trialId: 't' } },
        { id: '3-0', data: { type: 'trial.epoch', ...base, trialId: 't', number: 0, epoch: 'two' } },
        { id: '4-0', data: { type: 'study.ended', ...base, state: 'completed', message: null } as LiveEvent },
      );
      return new Response(body, { headers: { 'content-type': 'text/event-stream' } });
    };
    const got: ReceivedEvent[] = [];
    // Past study.ended the server closes the stream; the watch comes back once, and 204 ends it.
    for await (const e of watchStudy({ url: 'http://maas.invalid', fetch: stub as typeof fetch }, 's', { untilEnded: false, retryMs: 1, maxRetries: 1 })) got.push(e);
    expect(got.map((e) => [e.id, e.type])).toEqual([['1-0', 'trial.epoch'], ['4-0', 'study.ended']]);
    expect(asked).toEqual([null, '4-0']);
  });

  it('is importable by plain Node as maas/client, from the bundle built by the generator', async () => {
    await run(process.execPath, ['--import', 'tsx', 'scripts/api-client.ts', '--bundle'], { cwd: root });
    const script = `
      import { createMaasClient, unwrap, MaasApiError } from 'maas/client';
      const client = createMaasClient({ url: process.argv[1] });
      const datasets = await unwrap(client.GET('/v1/datasets'));
      const error = await unwrap(client.GET('/v1/datasets/{id}', { params: { path: { id: 'nope' } } })).catch((e) => e);
      console.log(JSON.stringify({ names: datasets.datasets.map((d) => d.name), apiError: error instanceof MaasApiError, message: error.message }));`;
    // No tsx here: the package's exports map points plain Node at dist/client.js.
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script, service.url], { cwd: root });
    expect(JSON.parse(stdout)).toEqual({ names: ['wine'], apiError: true, message: expect.stringContaining("'nope'") });
  });
});
