/**
 * bench:serve: how fast does the api serve predictions, with and without dynamic batching, next to
 * calling the model in-process on the same rows?
 *
 * Registers an untrained wine MLP (13 inputs, 3 classes) in a temporary SQLite file, then:
 * - in-process, in this process: `predictBatch` (tensor in, model.predict, data out) on the same
 *   encoded row, one call at a time (what any number of clients get from one thread when calls
 *   run one after another), and with c rows per call (the most batching could give); and
 *   `Predictor.predict` as the api runs it, which adds encoding, decoding and the cached alias lookup;
 * - over HTTP: starts the real api (`node bin/maas.js api`) on a free port, once with
 *   SERVE_BATCH_MAX=1 (no batching) and once with batching, and drives
 *   `POST /v1/models/wine/predict` with one row per request from 1, 8 and 32 connections
 *   (autocannon, each connection sending its next request when the last is answered).
 * It prints requests/s and mean, p50, p99 and max latency of each, and the ratios the issue's
 * goals are about: batching ≥ 3× the throughput at 32 clients; single-request p50 within 1 ms of
 * in-process.
 *
 * Settings: BENCH_SECONDS per measurement (default 5), BENCH_CLIENTS (default 1,8,32),
 * BENCH_LAYERS and BENCH_UNITS of the MLP (default 1 and 8, the wine test model),
 * SERVE_BATCH_WAIT_MS (passed to the api, default 2), MAAS_BACKEND (default: what this machine
 * selects; the api is given the same), BENCH_API_NODE_ARGS (e.g. `--cpu-prof`, to profile the api),
 * REDIS_URL (default redis://127.0.0.1:6379).
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { encodeInstances, prepareDataset } from '../src/data/index.ts';
import { createLogger } from '../src/log.ts';
import { openQueues } from '../src/queue/index.ts';
import { Predictor } from '../src/serving/predictor.ts';
import { repositorySource } from '../src/serving/source.ts';
import { createRepository, migrate } from '../src/storage/index.ts';
import { buildModel, disposeModel, loadModel, predictBatch, selectBackend, serializeModel } from '../src/workers/training/index.ts';
import { wineConfig, wineParams, wineRow } from '../test/helpers/wine.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CLIENTS = (process.env.BENCH_CLIENTS ?? '1,8,32').split(',').map(Number);
const LAYERS = Number(process.env.BENCH_LAYERS ?? wineParams.layers);
const UNITS = Number(process.env.BENCH_UNITS ?? wineParams.units);
const WAIT_MS = process.env.SERVE_BATCH_WAIT_MS ?? '2';
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

async function main(): Promise<void> {
  const backend = await selectBackend(process.env.MAAS_BACKEND);
  console.log(`backend ${backend.detail}; ${cpus().length} CPUs, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}; ${SECONDS} s per measurement; MLP ${LAYERS}×${UNITS}`);
  const dir = mkdtempSync(join(tmpdir(), 'maas-bench-serve-'));
  const databaseUrl = `file:${join(dir, 'maas.db')}`;
  const prefix = `bench-serve-${randomUUID()}`;
  const logPath = join(dir, 'api.log');
  const rows: { how: string; clients: number | string; s: Stats; unit: string }[] = [];
  try {
    await migrate(databaseUrl);
    const repo = createRepository(databaseUrl);
    const csv = readFileSync(join(import.meta.dirname, '../test/fixtures/wine.csv'), 'utf8');
    const prepared = prepareDataset({ csv, kind: 'tabular', target: 'cultivar', seed: 0 });
    const dataset = await repo.datasets.create({
      projectId: 'default', id: randomUUID(), name: 'wine', kind: 'tabular', task: prepared.task, target: 'cultivar', rows: prepared.encoded.rows, summary: prepared.summary,
      preprocessing: { ...prepared.preprocessing, spec: prepared.spec, trainRows: prepared.encoded.trainRows }, features: prepared.encoded.features, labels: prepared.encoded.labels,
    });
    const params = { ...wineParams, layers: LAYERS, units: UNITS };
    const study = await repo.studies.create({ id: randomUUID(), projectId: 'default', name: 'wine', datasetId: dataset.id, config: wineConfig });
    const trial = (await repo.trials.create({ id: randomUUID(), studyId: study.id, number: 0, family: 'mlp', params }))!;
    await repo.trials.start(trial.id, 'bench', 'cpu');
    const built = buildModel('mlp', params, { kind: 'tabular', task: 'classification', inputShape: [13], outputs: 3 }, 1);
    const artifact = await serializeModel(built);
    disposeModel(built);
    await repo.trials.complete(trial.id, 1, { value: 1, metrics: { val_loss: 1 }, epochs: 1, bestEpoch: 1, durationMs: 1, artifact });
    await repo.models.promoteStudy({ projectId: 'default', modelName: 'wine', studyId: study.id, trialId: trial.id, datasetId: dataset.id, family: 'mlp', metrics: { val_loss: 1 }, message: () => 'done' });

    // In-process: the model alone, on the row every HTTP request carries.
    const source = repositorySource(repo);
    const ref = (await source.resolve('default', 'wine', { alias: 'champion' }))!;
    const parts = await source.parts(ref);
    const model = await loadModel(parts.artifact);
    const one = encodeInstances(parts.preprocessing, [wineRow]);
    const single = await sequential(() => predictBatch(model, one, 1, parts.inputShape));
    for (const c of CLIENTS) {
      if (c === 1) {
        rows.push({ how: 'in-process predictBatch, 1 row per call', clients: 1, s: stats(single.latencies, single.seconds), unit: 'calls' });
        continue;
      }
      const many = new Float32Array(one.length * c);
      for (let i = 0; i < c; i++) many.set(one, i * one.length);
      const batched = await sequential(() => predictBatch(model, many, c, parts.inputShape));
      rows.push({ how: `in-process predictBatch, ${c} rows per call`, clients: c, s: stats(batched.latencies, batched.seconds, c), unit: 'rows' });
    }
    model.dispose();
    // As the api serves: the alias lookup cached (SERVE_ALIAS_CACHE_MS), batching on.
    const predictor = new Predictor(repositorySource(repo, { cacheMs: 1000 }), createLogger('error'));
    const viaPredictor = await sequential(() => predictor.predict('default', 'wine', [wineRow]));
    const expected = await predictor.predict('default', 'wine', [wineRow]);
    predictor.close();
    rows.push({ how: 'in-process Predictor.predict (encode, model, decode)', clients: 1, s: stats(viaPredictor.latencies, viaPredictor.seconds), unit: 'calls' });
    await repo.close();

    // Over HTTP: the real api, without and with batching.
    const body = JSON.stringify({ instances: [wineRow] });
    for (const [mode, batchMax] of [['api, no batching', '1'], [`api, batching (max 64, wait ${WAIT_MS} ms)`, '64']] as const) {
      const api = await startApi({ DATABASE_URL: databaseUrl, QUEUE_PREFIX: prefix, REDIS_URL, MAAS_BACKEND: backend.name, RATE_LIMIT_PER_MINUTE: '1000000000', SERVE_BATCH_MAX: batchMax, SERVE_BATCH_WAIT_MS: WAIT_MS }, logPath);
      try {
        const url = `${api.base}/v1/models/wine/predict`;
        const answer = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
        const json = await answer.json();
        if (JSON.stringify(json) !== JSON.stringify(expected)) throw new Error(`the api answered ${answer.status} ${JSON.stringify(json)}, not ${JSON.stringify(expected)}`);
        // Warm-up: connections, lazy imports, the JIT.
        await drive(url, body, 8, 2);
        for (const c of CLIENTS) {
          const run = await drive(url, body, c, SECONDS);
          rows.push({ how: mode, clients: c, s: stats(run.latencies, run.seconds), unit: 'requests' });
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

  console.log('\n| how | clients | per second | mean ms | p50 ms | p99 ms | max ms |');
  console.log('|---|---|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.how} | ${r.clients} | ${rate(r.s.perSecond)} ${r.unit} | ${ms(r.s.mean)} | ${ms(r.s.p50)} | ${ms(r.s.p99)} | ${ms(r.s.max)} |`);

  const find = (prefix: string, c: number) => rows.find((r) => r.how.startsWith(prefix) && r.clients === c)?.s;
  const inProcess = find('in-process predictBatch, 1 row', 1);
  console.log('');
  for (const c of CLIENTS) {
    const off = find('api, no batching', c);
    const on = find('api, batching', c);
    if (off && on) console.log(`${c} clients: batching gives ${(on.perSecond / off.perSecond).toFixed(2)}× the requests/s of no batching${c === 32 ? ` (goal ≥ 3×: ${on.perSecond >= 3 * off.perSecond ? 'met' : 'MISSED'})` : ''}`);
  }
  for (const prefix of ['api, no batching', 'api, batching']) {
    const s = find(prefix, 1);
    if (s && inProcess) {
      const over = s.p50 - inProcess.p50;
      console.log(`1 client, ${prefix}: p50 ${ms(s.p50)} ms, ${ms(over)} ms over in-process predictBatch (goal ≤ 1 ms: ${over <= 1 ? 'met' : 'MISSED'})`);
    }
  }
}

await main();
