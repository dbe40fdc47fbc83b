/**
 * The harness of the orchestration benchmarks (bench/overhead.ts, bench/scale.ts): trials
 * whose training is a sleep, run through the real api and coordinator (in this process), real
 * BullMQ queues on the real Redis, a fresh real database, and real worker processes
 * (bench/sleep-worker.ts). Only tfjs is left out, so what is measured is our own overhead.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createApp } from '../src/api/create-app.ts';
import { Coordinator } from '../src/coordinator/index.ts';
import { createLogger, errorMessage } from '../src/log.ts';
import { openQueues } from '../src/queue/index.ts';
import { Predictor } from '../src/serving/predictor.ts';
import { repositorySource } from '../src/serving/source.ts';
import { ACTIVE_STUDY_STATES, createRepository, type Repository, type TrialRecord } from '../src/storage/index.ts';
import { uploadForm } from '../test/helpers/app.ts';
import { freshDatabase, REDIS_URL, type Provider } from '../test/helpers/databases.ts';
import { cpuMeter, type CpuUse } from './cpu-use.ts';

const WORKER_ENTRY = join(import.meta.dirname, 'sleep-worker.ts');
const LOG_TAIL = 4000;
/** Extra node options for the worker processes, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile them. */
const nodeArgs = process.env.BENCH_WORKER_NODE_ARGS?.split(' ').filter(Boolean) ?? [];

/** Things to undo, last first, when a benchmark (or one part of it) ends, fails or is interrupted. */
export class Cleanup {
  private readonly steps: (() => Promise<unknown> | unknown)[] = [];

  add(step: () => Promise<unknown> | unknown): void {
    this.steps.push(step);
  }

  /** Runs the steps added so far, last first, each once; a failing step does not stop the others. */
  async run(): Promise<void> {
    for (let step = this.steps.pop(); step; step = this.steps.pop()) {
      await Promise.resolve().then(step).catch((err) => console.error(`cleanup: ${errorMessage(err)}`));
    }
  }

  /** A nested cleanup for one part of a benchmark; this one runs it too, unless it ran first. */
  scope(): Cleanup {
    const inner = new Cleanup();
    this.add(() => inner.run());
    return inner;
  }
}

/**
 * Runs a benchmark and then its cleanup (also on Ctrl-C, SIGTERM or an error), and exits:
 * 0 when it finished, 1 when it failed, 130 when interrupted.
 */
export function runBench(body: (cleanup: Cleanup) => Promise<void>): void {
  const cleanup = new Cleanup();
  let ending = false;
  const end = async (code: number) => {
    if (ending) return;
    ending = true;
    await cleanup.run();
    process.exit(code);
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void end(130));
  body(cleanup).then(
    () => end(0),
    (err) => {
      // Once interrupted, the cleanup's own stopping of workers is not a failure worth a stack.
      if (!ending) console.error(`benchmark failed: ${err instanceof Error ? err.stack : String(err)}`);
      return end(1);
    },
  );
}

/** A tiny two-class table: the study needs a real stored dataset, and the sleep trainer ignores its rows. */
function tinyCsv(rows = 60): string {
  const lines = ['x1,x2,label'];
  for (let i = 0; i < rows; i++) lines.push(`${(i % 7) / 7},${(i % 5) / 5},${i % 2 === 0 ? 'a' : 'b'}`);
  return lines.join('\n');
}

export interface Bench {
  provider: Provider;
  repo: Repository;
  /** Starts `count` worker processes of `concurrency` slots each, whose epochs sleep `epochMs`; resolves when all are ready. */
  startWorkers(count: number, concurrency: number, epochMs: number): Promise<WorkerGroup>;
  /** Creates a study through the api and waits for it to end. */
  runStudy(budget: { maxTrials: number; parallelism: number; maxEpochs: number }, timeoutMs?: number): Promise<StudyRun>;
}

export interface WorkerGroup {
  stop(): Promise<void>;
}

export interface StudyRun {
  state: string;
  /** From just before the study was posted to the moment the database recorded its end. */
  wallMs: number;
  trials: TrialRecord[];
  /** CPU seconds used while the study ran, by part. */
  cpu: CpuUse;
}

/**
 * A fresh database, a unique queue prefix, the api app and a running coordinator in this
 * process, and a tiny uploaded dataset. `cleanup` undoes all of it.
 */
export async function openBench(provider: Provider, cleanup: Cleanup): Promise<Bench> {
  const database = await freshDatabase(provider);
  cleanup.add(() => database.drop());
  const repo = createRepository(database.url);
  cleanup.add(() => repo.close());
  const prefix = `bench-${randomUUID()}`;
  const queues = openQueues(REDIS_URL, prefix);
  cleanup.add(async () => {
    for (const q of [queues.trials.cpu, queues.trials.gpu, queues.studyEvents]) await q.obliterate({ force: true });
    await queues.close();
  });
  const log = createLogger('warn', { role: 'bench' });
  const coordinator = new Coordinator({ repo, queues, log, prefix });
  const predictor = new Predictor(repositorySource(repo), log);
  const app = createApp({ repo, coordinator, predictor, queues, prefix, log });
  await coordinator.start();
  cleanup.add(async () => {
    predictor.close();
    await coordinator.stop();
  });

  const upload = await app.request('/v1/datasets', { method: 'POST', body: uploadForm(tinyCsv(), { name: 'bench', kind: 'tabular', target: 'label' }) });
  if (upload.status !== 201) throw new Error(`dataset upload answered ${upload.status}: ${await upload.text()}`);
  const datasetId = ((await upload.json()) as { id: string }).id;

  const workerPids = new Set<number>();
  return {
    provider,
    repo,
    async startWorkers(count, concurrency, epochMs) {
      const env = { ...process.env, DATABASE_URL: database.url, REDIS_URL, QUEUE_PREFIX: prefix, WORKER_CONCURRENCY: String(concurrency), BENCH_EPOCH_MS: String(epochMs), LOG_LEVEL: 'info' };
      const workers = Array.from({ length: count }, () => spawnWorker(env));
      for (const w of workers) workerPids.add(w.pid);
      const group = {
        stop: async () => {
          await Promise.all(workers.map((w) => w.stop()));
          for (const w of workers) workerPids.delete(w.pid);
        },
      };
      cleanup.add(() => group.stop());
      await Promise.all(workers.map((w) => w.ready));
      return group;
    },
    async runStudy(budget, timeoutMs = 600_000) {
      const body = { name: `bench-${budget.maxTrials}x${budget.parallelism}`, datasetId, objective: { metric: 'val_accuracy' }, budget, search: { families: ['mlp'] }, seed: 1 };
      const cpu = cpuMeter(() => workerPids);
      const started = Date.now();
      const res = await app.request('/v1/studies', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      if (res.status !== 202) throw new Error(`study creation answered ${res.status}: ${await res.text()}`);
      const id = ((await res.json()) as { id: string }).id;
      for (;;) {
        const study = await repo.studies.get(id);
        if (study && !ACTIVE_STUDY_STATES.includes(study.state)) {
          const used = cpu();
          const wallMs = (study.endedAt?.getTime() ?? Date.now()) - started;
          const trials = await repo.trials.list(id);
          const errors = [...new Set(trials.filter((t) => t.state !== 'completed').map((t) => `${t.state}: ${t.error}`))].slice(0, 5);
          if (study.state !== 'completed') throw new Error(`study ended ${study.state}: ${study.message}; ${errors.join('; ')}`);
          if (errors.length > 0) console.error(`trials that did not complete: ${errors.join('; ')}`);
          return { state: study.state, wallMs, trials, cpu: used };
        }
        if (Date.now() - started > timeoutMs) throw new Error(`study ${id} did not end within ${timeoutMs} ms`);
        await sleep(100);
      }
    },
  };
}

/** One sleep-worker process; `ready` resolves when it logs that it takes trials. */
function spawnWorker(env: NodeJS.ProcessEnv): { pid: number; ready: Promise<void>; stop(): Promise<void> } {
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', WORKER_ENTRY], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let tail = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = new Promise<void>((resolve, reject) => {
    child.stderr!.on('data', (chunk: Buffer) => {
      tail = (tail + chunk.toString()).slice(-LOG_TAIL);
      if (tail.includes('"worker ready"')) resolve();
    });
    void exited.then(() => reject(new Error(`a sleep worker exited before it was ready:\n${tail}`)));
  });
  return {
    pid: child.pid ?? 0,
    ready,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** The q-quantile (0..1) of `values`, by nearest rank; NaN when empty. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** Per-trial latencies in ms, from the database's timestamps. */
export function latencies(trials: readonly TrialRecord[], epochMs: number) {
  const done = trials.filter((t) => t.state === 'completed' && t.startedAt && t.endedAt);
  const ms = (a: Date | null, b: Date | null) => b!.getTime() - a!.getTime();
  return {
    completed: done.length,
    /** Created → a worker started it. */
    queueWait: done.map((t) => ms(t.createdAt, t.startedAt)),
    /** Created → its result recorded. */
    endToEnd: done.map((t) => ms(t.createdAt, t.endedAt)),
    /** Started → result recorded, less the time it slept: what the processor adds per trial. */
    processing: done.map((t) => ms(t.startedAt, t.endedAt) - t.epochs * epochMs),
  };
}

/**
 * How long a slot stood empty between a trial's end and the next trial's creation: the
 * coordinator's reaction. With the study at full parallelism, the k-th trial created after the
 * first `slots` replaces the k-th to end.
 */
export function refills(trials: readonly TrialRecord[], slots: number): number[] {
  const created = trials.map((t) => t.createdAt.getTime()).sort((a, b) => a - b);
  const ended = trials.flatMap((t) => (t.endedAt ? [t.endedAt.getTime()] : [])).sort((a, b) => a - b);
  return created.slice(slots).map((at, k) => at - ended[k]!).filter(Number.isFinite);
}

/**
 * Where the slots went, averaged over the run: trials that existed (created → ended), that a
 * worker held (started → ended), and that slept (epochs × epochMs). With every slot used all
 * the time, all three equal the parallelism.
 */
export function occupancy(trials: readonly TrialRecord[], epochMs: number, wallMs: number) {
  const sum = (f: (t: TrialRecord) => number) => trials.reduce((a, t) => a + (t.endedAt ? f(t) : 0), 0) / wallMs;
  return {
    inFlight: sum((t) => t.endedAt!.getTime() - t.createdAt.getTime()),
    held: sum((t) => (t.startedAt ? t.endedAt!.getTime() - t.startedAt.getTime() : 0)),
    sleeping: sum((t) => t.epochs * epochMs),
  };
}

/** Prints a markdown table. */
export function printTable(head: string[], rows: (string | number)[][]): void {
  console.log(`| ${head.join(' | ')} |`);
  console.log(`|${head.map(() => '---').join('|')}|`);
  for (const row of rows) console.log(`| ${row.join(' | ')} |`);
}

/** The databases to run on, from BENCH_DATABASES (comma list). */
export function providersFromEnv(fallback: Provider[]): Provider[] {
  const list = process.env.BENCH_DATABASES?.split(',').map((s) => s.trim()).filter(Boolean) ?? fallback;
  for (const p of list) if (p !== 'sqlite' && p !== 'postgresql') throw new Error(`BENCH_DATABASES lists "${p}"; each must be sqlite or postgresql`);
  return list as Provider[];
}
