/**
 * bench:serve: how fast does the api serve predictions, with and without dynamic batching, next to
 * calling the model in-process on the same rows?
 *
 * Registers four models in a temporary SQLite file: `wine`, the untrained wine MLP of the tests
 * (13 inputs, 1×8 units, 3 classes: its call costs a few hundredths of a millisecond), `wine-wide`
 * (the same data, 4×512 units) and `digits`, a CNN on 28×28 MNIST images (2 blocks of 16
 * filters, 64 dense units) and `air`, a GRU of 32 units forecasting 3 months of AirPassengers
 * from 24 (a recurrent model's call is a chain of small kernels per step, whatever the batch). For each:
 * - in-process, in this process: `predictBatch` (tensor in, model.predict, data out) on the same
 *   encoded row, one call at a time (what any number of clients get from one thread when calls
 *   run one after another), and with c rows per call (the most batching could give); and, for
 *   wine, `Predictor.predict` as the api runs it (encoding, decoding and the cached alias lookup);
 * - over HTTP: starts the real api (`node bin/maas.js api`) on a free port, once with
 *   SERVE_BATCH_MAX=1 (no batching), once with batching, and once with batching and the model
 *   calls on BENCH_SERVE_THREADS worker threads (SERVE_THREADS, off the api's event loop), and drives
 *   `POST /v1/models/{name}/predict` with one row per request from 1, 8 and 32 connections
 *   (autocannon, in this process, each connection sending its next request when the last is answered).
 * It prints requests/s and mean, p50, p99 and max latency of each, and the ratios the issue's
 * goals are about: batching ≥ 3× the throughput at 32 clients; single-request p50 within 1 ms of
 * in-process; and, per model, the gain expected from its parts (the model's call alone and per row
 * in a batch, and the rest of a request's cost), which bounds what batching can do for it; and what
 * the model threads do to the tail (p99) next to batching on the api's own thread. Note that the load generator shares the machine's cores with the api.
 *
 * Settings: BENCH_SECONDS per measurement (default 5), BENCH_CLIENTS (default 1,8,32),
 * BENCH_MODELS (default wine,wine-wide,digits,air), SERVE_BATCH_WAIT_MS (passed to the api, default 2),
 * BENCH_SERVE_THREADS (the threaded run's SERVE_THREADS, default 1; 0 leaves that run out),
 * MAAS_BACKEND (default: what this machine selects; the api is given the same),
 * BENCH_API_NODE_ARGS (e.g. `--cpu-prof`, to profile the api), REDIS_URL (default redis://127.0.0.1:6379).
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { encodeInstances, type PrepareInput } from '../src/data/index.ts';
import type { Family, Params } from '../src/domain.ts';
import { createLogger } from '../src/log.ts';
import { openQueues } from '../src/queue/index.ts';
import { Predictor } from '../src/serving/predictor.ts';
import { repositorySource } from '../src/serving/source.ts';
import { createRepository, migrate, type DatasetRecord, type Repository } from '../src/storage/index.ts';
import { buildModel, disposeModel, loadModel, predictBatch, selectBackend, serializeModel } from '../src/model/index.ts';
import { mnistCsv, mnistRows } from '../test/helpers/mnist.ts';
import { specOf, storeDataset, validationInstances } from '../test/helpers/served-models.ts';
import { wineConfig, wineParams, wineRow } from '../test/helpers/wine.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CLIENTS = (process.env.BENCH_CLIENTS ?? '1,8,32').split(',').map(Number);
const MODELS = (process.env.BENCH_MODELS ?? 'wine,wine-wide,digits,air').split(',');
const WAIT_MS = process.env.SERVE_BATCH_WAIT_MS ?? '2';
const THREADS = Number(process.env.BENCH_SERVE_THREADS ?? 1);
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const API_NODE_ARGS = (process.env.BENCH_API_NODE_ARGS ?? '').split(' ').filter(Boolean);

/** The part of autocannon's programmatic API used here (it ships no types). */
interface Autocannon {
  (opts: { url: string; connections: number; duration: number; method: string; headers: Record<string, string>; body: string }, done: (err: Error | null, result: { non2xx: number; errors: number; timeouts: number }) => void): {
    on(event: 'response', listener: (client: unknown, statusCode: number, bytes: number, responseTime: number) => void): void;
  };
}
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

interface Stats {
  perSecond: number;
  mean: number;
  p50: number;
  p99: number;
  max: number;
}

function stats(latencies: number[], seconds: number, perCall = 1): Stats {
  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN;
  return { perSecond: (sorted.length * perCall) / seconds, mean: sorted.reduce((a, b) => a + b, 0) / sorted.length, p50: at(0.5), p99: at(0.99), max: sorted.at(-1) ?? Number.NaN };
}

/** Latencies (ms) of `call` run one at a time for SECONDS, after a short warm-up. */
async function sequential(call: () => Promise<unknown>): Promise<{ latencies: number[]; seconds: number }> {
  for (let i = 0; i < 200; i++) await call();
  const latencies: number[] = [];
  const start = performance.now();
  const end = start + SECONDS * 1000;
  for (let now = start; now < end; ) {
    await call();
    const after = performance.now();
    latencies.push(after - now);
    now = after;
  }
  return { latencies, seconds: (performance.now() - start) / 1000 };
}

/** `connections` clients, each sending the next request when its last one is answered, for `seconds`. */
function drive(url: string, body: string, connections: number, seconds: number): Promise<{ latencies: number[]; seconds: number }> {
  const latencies: number[] = [];
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const run = autocannon({ url, connections, duration: seconds, method: 'POST', headers: { 'content-type': 'application/json' }, body }, (err, result) => {
      if (err) return reject(err);
      if (result.non2xx || result.errors || result.timeouts) return reject(new Error(`${result.non2xx} answers were not 2xx, ${result.errors} errors, ${result.timeouts} timeouts`));
      resolve({ latencies, seconds: (performance.now() - start) / 1000 });
    });
    run.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (statusCode === 200) latencies.push(responseTime);
    });
  });
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  const { port } = server.address() as { port: number };
  await new Promise((done) => server.close(done));
  return port;
}

/** Starts `maas api` with `env` added; resolves once /healthz answers. */
async function startApi(env: Record<string, string>, logPath: string) {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const api = spawn(process.execPath, [...API_NODE_ARGS, 'bin/maas.js', 'api'], {
    env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', openSync(logPath, 'a')],
  });
  for (let tries = 0; ; tries++) {
    const ok = await fetch(`${base}/healthz`).then((r) => r.ok).catch(() => false);
    if (ok) break;
    if (tries > 300 || api.exitCode !== null) throw new Error(`the api did not start; its log:\n${readFileSync(logPath, 'utf8')}`);
    await sleep(100);
  }
  const stop = async () => {
    api.kill('SIGTERM');
    await new Promise((done) => (api.exitCode !== null ? done(undefined) : api.once('exit', done)));
  };
  return { base, stop };
}

const ms = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : '-');
const rate = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '-');

interface Case {
  name: string;
  what: string;
  dataset: PrepareInput;
  family: Family;
  params: Params;
  /** Forecasting only: the window and horizon of the study. */
  forecast?: { window: number; horizon: number };
  /** The one instance every request carries. */
  row: (repo: Repository, dataset: DatasetRecord) => Promise<unknown>;
}

const wineData: PrepareInput = { csv: readFileSync(join(import.meta.dirname, '../test/fixtures/wine.csv'), 'utf8'), kind: 'tabular', target: 'cultivar', seed: 0 };
const CASES: Case[] = [
  { name: 'wine', what: 'MLP 1×8 on wine (13 columns)', dataset: wineData, family: 'mlp', params: wineParams, row: async () => wineRow },
  { name: 'wine-wide', what: 'MLP 4×512 on wine', dataset: wineData, family: 'mlp', params: { ...wineParams, layers: 4, units: 512 }, row: async () => wineRow },
  {
    name: 'digits', what: 'CNN 2 blocks × 16 filters, 64 dense, on 28×28 MNIST', dataset: { csv: mnistCsv(mnistRows(0, 20)), kind: 'image', target: 'label', seed: 0 }, family: 'cnn',
    params: { family: 'cnn', blocks: 2, filters: 16, kernelSize: 3, pooling: 'max', dropout: 0, denseUnits: 64, learningRate: 0.001, batchSize: 32, optimizer: 'adam' },
    row: async (repo, dataset) => (await validationInstances(repo, dataset, 1))[0],
  },
  {
    name: 'air', what: 'GRU 1×32 forecasting 3 months from 24 (AirPassengers)', dataset: { csv: readFileSync(join(import.meta.dirname, '../test/fixtures/airpassengers.csv'), 'utf8'), kind: 'timeseries', seed: 0 }, family: 'rnn',
    params: { family: 'rnn', cell: 'gru', layers: 1, units: 32, bidirectional: false, dropout: 0, learningRate: 0.01, batchSize: 8, optimizer: 'adam' },
    forecast: { window: 24, horizon: 3 },
    row: async (repo, dataset) => (await validationInstances(repo, dataset, 1, { window: 24, horizon: 3 }))[0],
  },
];

/** Registers `c`'s model, untrained but seeded, as version 1 (champion) of `c.name`; returns the row to send. */
async function register(repo: Repository, c: Case): Promise<unknown> {
  const dataset = await storeDataset(repo, 'default', c.name, c.dataset);
  const spec = specOf(dataset, c.forecast ?? {});
  const study = await repo.studies.create({ id: randomUUID(), projectId: 'default', name: c.name, datasetId: dataset.id, config: { ...wineConfig, promoteTo: c.name, ...(c.forecast ?? {}) } });
  const trial = (await repo.trials.create({ id: randomUUID(), studyId: study.id, number: 0, family: c.family, params: c.params }))!;
  await repo.trials.start(trial.id, 'bench', 'cpu');
  const built = buildModel(c.family, c.params, spec, 1);
  const artifact = await serializeModel(built);
  disposeModel(built);
  await repo.trials.complete(trial.id, 1, { value: 1, metrics: { val_loss: 1 }, epochs: 1, bestEpoch: 1, durationMs: 1, artifact });
  await repo.models.promoteStudy({ projectId: 'default', modelName: c.name, studyId: study.id, trialId: trial.id, datasetId: dataset.id, family: c.family, metrics: { val_loss: 1 }, message: () => 'done' });
  return c.row(repo, dataset);
}

type Row = { model: string; how: string; clients: number; s: Stats; unit: string };

/** The model alone, in this process, on the encoded row every HTTP request carries: 1 row per call, and c rows per call. */
async function inProcess(repo: Repository, c: Case, row: unknown): Promise<Row[]> {
  const source = repositorySource(repo);
  const parts = await source.parts((await source.resolve('default', c.name, { alias: 'champion' }))!);
  const model = await loadModel(parts.artifact);
  const one = encodeInstances(parts.preprocessing, [row]);
  const rows: Row[] = [];
  try {
    for (const clients of CLIENTS) {
      const many = new Float32Array(one.length * clients);
      for (let i = 0; i < clients; i++) many.set(one, i * one.length);
      const run = await sequential(() => predictBatch(model, many, clients, parts.inputShape));
      rows.push({ model: c.name, how: `in-process predictBatch, ${clients} row${clients === 1 ? '' : 's'} per call`, clients, s: stats(run.latencies, run.seconds, clients), unit: clients === 1 ? 'calls' : 'rows' });
    }
  } finally {
    model.dispose();
  }
  return rows;
}

async function main(): Promise<void> {
  const backend = await selectBackend(process.env.MAAS_BACKEND);
  const cases = MODELS.map((name) => CASES.find((c) => c.name === name) ?? usage(`BENCH_MODELS names ${name}, which is none of ${CASES.map((c) => c.name).join(', ')}`));
  console.log(`backend ${backend.detail}; ${cpus().length} CPUs, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}; ${SECONDS} s per measurement`);
  for (const c of cases) console.log(`model ${c.name}: ${c.what}`);
  const dir = mkdtempSync(join(tmpdir(), 'maas-bench-serve-'));
  const databaseUrl = `file:${join(dir, 'maas.db')}`;
  const prefix = `bench-serve-${randomUUID()}`;
  const logPath = join(dir, 'api.log');
  const rows: Row[] = [];
  try {
    await migrate(databaseUrl);
    const repo = createRepository(databaseUrl);
    const bodies = new Map<string, string>();
    for (const c of cases) {
      const row = await register(repo, c);
      bodies.set(c.name, JSON.stringify({ instances: [row] }));
      rows.push(...(await inProcess(repo, c, row)));
    }
    const expected = new Map<string, unknown>();
    // As the api serves: the alias lookup cached (SERVE_ALIAS_CACHE_MS), batching on.
    const predictor = new Predictor(repositorySource(repo, { cacheMs: 1000 }), createLogger('error'));
    for (const c of cases) expected.set(c.name, await predictor.predict('default', c.name, (JSON.parse(bodies.get(c.name)!) as { instances: unknown[] }).instances));
    if (cases.some((c) => c.name === 'wine')) {
      const viaPredictor = await sequential(() => predictor.predict('default', 'wine', [wineRow]));
      rows.push({ model: 'wine', how: 'in-process Predictor.predict (encode, model, decode)', clients: 1, s: stats(viaPredictor.latencies, viaPredictor.seconds), unit: 'calls' });
    }
    predictor.close();
    await repo.close();

    // Over HTTP: the real api, without and with batching, and with batching on model threads.
    const modes: [string, Record<string, string>][] = [
      ['api, no batching', { SERVE_BATCH_MAX: '1' }],
      [`api, batching (max 64, wait ${WAIT_MS} ms)`, { SERVE_BATCH_MAX: '64' }],
    ];
    if (THREADS > 0) modes.push([`threaded api, batching, SERVE_THREADS=${THREADS}`, { SERVE_BATCH_MAX: '64', SERVE_THREADS: String(THREADS) }]);
    for (const [mode, settings] of modes) {
      const api = await startApi({ DATABASE_URL: databaseUrl, QUEUE_PREFIX: prefix, REDIS_URL, MAAS_BACKEND: backend.name, RATE_LIMIT_PER_MINUTE: '1000000000', SERVE_BATCH_WAIT_MS: WAIT_MS, SERVE_THREADS: '0', ...settings }, logPath);
      try {
        for (const c of cases) {
          const url = `${api.base}/v1/models/${c.name}/predict`;
          const body = bodies.get(c.name)!;
          const answer = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
          const json = await answer.json();
          if (JSON.stringify(json) !== JSON.stringify(expected.get(c.name))) throw new Error(`the api answered ${answer.status} ${JSON.stringify(json)}, not ${JSON.stringify(expected.get(c.name))}`);
          // Warm-up: connections, lazy imports, the JIT.
          await drive(url, body, 8, 2);
          for (const clients of CLIENTS) {
            const run = await drive(url, body, clients, SECONDS);
            rows.push({ model: c.name, how: mode, clients, s: stats(run.latencies, run.seconds), unit: 'requests' });
          }
        }
      } finally {
        await api.stop();
      }
    }
  } finally {
    const queues = openQueues(REDIS_URL, prefix);
    for (const q of Object.values(queues.trials)) await q.obliterate({ force: true });
    await queues.studyEvents.obliterate({ force: true });
    await queues.close();
    rmSync(dir, { recursive: true, force: true });
  }

  console.log('\n| model | how | clients | per second | mean ms | p50 ms | p99 ms | max ms |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.model} | ${r.how} | ${r.clients} | ${rate(r.s.perSecond)} ${r.unit} | ${ms(r.s.mean)} | ${ms(r.s.p50)} | ${ms(r.s.p99)} | ${ms(r.s.max)} |`);

  for (const c of cases) {
    const find = (prefix: string, clients: number) => rows.find((r) => r.model === c.name && r.how.startsWith(prefix) && r.clients === clients)?.s;
    const single = find('in-process predictBatch, 1 row', 1);
    console.log(`\n${c.name} (${c.what}):`);
    for (const clients of CLIENTS) {
      const off = find('api, no batching', clients);
      const on = find('api, batching', clients);
      if (off && on) console.log(`  ${clients} clients: batching gives ${(on.perSecond / off.perSecond).toFixed(2)}× the requests/s of no batching${clients === 32 ? ` (goal ≥ 3×: ${on.perSecond >= 3 * off.perSecond ? 'met' : 'MISSED'})` : ''}`);
    }
    // What batching should give, from the parts: it shares the model's cost among rows, not the
    // request's own handling (HTTP, auth, rate limit, JSON), which the no-batching api at 32 clients
    // shows. A rough model: the per-call cost it counts as handling is partly shared by a batch too.
    const perRow = find('in-process predictBatch, 32 rows', 32);
    const off32 = find('api, no batching', 32);
    const on32 = find('api, batching', 32);
    if (single && perRow && off32 && on32) {
      const model = 1000 / single.perSecond;
      const batchedModel = 1000 / perRow.perSecond;
      const handling = Math.max(0, 1000 / off32.perSecond - model);
      const expected = (handling + model) / (handling + batchedModel);
      console.log(
        `  expected from the parts at 32 clients: ${expected.toFixed(2)}× (model ${ms(model)} ms per lone call, ${ms(batchedModel)} ms per row in a call of 32: ${(model / batchedModel).toFixed(2)}× in-process; ` +
          `${ms(handling)} ms of other work per request); measured: ${((100 * (on32.perSecond / off32.perSecond)) / expected).toFixed(0)}% of that`,
      );
    }
    for (const prefix of ['api, no batching', 'api, batching', 'threaded api, batching']) {
      const s = find(prefix, 1);
      if (s && single) {
        const over = s.p50 - single.p50;
        console.log(`  1 client, ${prefix}: p50 ${ms(s.p50)} ms, ${ms(over)} ms over in-process predictBatch (goal ≤ 1 ms: ${over <= 1 ? 'met' : 'MISSED'})`);
      }
    }
    // A model call on a thread leaves the event loop to the other requests: the tail is where that shows.
    for (const clients of CLIENTS) {
      const inline = find('api, batching', clients);
      const threaded = find('threaded api, batching', clients);
      if (inline && threaded) {
        console.log(`  ${clients} clients, batching: model threads give p99 ${ms(threaded.p99)} ms against ${ms(inline.p99)} ms on the api's thread, ${rate(threaded.perSecond)} against ${rate(inline.perSecond)} requests/s`);
      }
    }
  }
}

function usage(message: string): never {
  console.error(message);
  process.exit(2);
}

await main();
