import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import type { Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { ModelArtifact } from '../domain.ts';
import { errorMessage, type Logger } from '../log.ts';
import type { BackendName } from '../model/index.ts';
import { ModelGoneError, ModelThreadDiedError, type ModelRunner } from './model-runner.ts';
import type { ModelReply, ModelTask, ModelThreadData, ModelThreadStats, WireError } from './model-thread.ts';

export interface ThreadedRunnerOptions {
  /** Threads that run models (SERVE_THREADS), each with its own tfjs backend; 1 to 64. */
  threads: number;
  /** The backend each thread starts: pass the process's own (selectBackend's name). @defaultValue the fastest that loads */
  backend?: BackendName;
  /** Where a replaced thread is reported. @defaultValue nowhere */
  log?: Logger;
}

/**
 * Runs models on worker threads, so that the api's event loop keeps answering while a model
 * computes. Each model is loaded in one thread, chosen by a stable hash of its key, not in
 * every thread: a big model's weights are held once, and the versions served spread over the
 * threads; the price is that one version's calls run one after another in its thread (batching
 * makes those calls few). Features and outputs move between threads without copying.
 *
 * A thread whose backend a fault left unusable, or that stops, is replaced by a fresh one; the
 * models it held are gone (ModelGoneError on their next call, and the Predictor loads them again).
 */
export class ThreadedRunner implements ModelRunner {
  /** One single-thread pool per slot, started on the slot's first load. */
  private readonly pools: (Piscina<ModelTask, ModelReply> | undefined)[];
  private closed = false;

  constructor(private readonly options: ThreadedRunnerOptions) {
    const { threads } = options;
    if (!Number.isInteger(threads) || threads < 1 || threads > 64) throw new RangeError(`threads is ${threads}, but must be an integer from 1 to 64`);
    this.pools = Array.from({ length: threads }, () => undefined);
  }

  async load(key: string, artifact: ModelArtifact, inputShape: number[]): Promise<void> {
    // A copy: the bytes may be a view into a larger (even pooled) buffer, which must not be moved away.
    const weights = new Uint8Array(artifact.weights);
    await this.call(key, { op: 'load', key, artifact: { ...artifact, weights }, inputShape }, [weights.buffer]);
  }

  async predict(key: string, features: Float32Array, count: number): Promise<Float32Array> {
    // Moved when `features` is its whole buffer; else its rows are copied out first.
    const own = features.byteOffset === 0 && features.byteLength === features.buffer.byteLength && features.buffer instanceof ArrayBuffer ? features : features.slice();
    const reply = await this.call(key, { op: 'predict', key, features: own, count }, [own.buffer as ArrayBuffer]);
    if (!reply.outputs) throw new Error('the model thread answered a prediction without outputs');
    return reply.outputs;
  }

  async release(key: string): Promise<void> {
    const pool = this.pools[this.slotOf(key)];
    if (!pool || this.closed) return;
    // A thread that stopped took the model with it: nothing left to free.
    await this.call(key, { op: 'release', key }, []).catch(() => undefined);
  }

  async reset(): Promise<string> {
    const names = await Promise.all(this.running().map(({ pool }) => pool.run({ op: 'reset' }).then((r) => (r.ok ? r.backend : undefined), () => undefined)));
    return `${names.find((n) => n !== undefined) ?? this.options.backend ?? 'default'} in ${this.pools.length} model thread${this.pools.length === 1 ? '' : 's'}`;
  }

  /** Each running thread's backend, models and tensors (for tests and diagnostics). */
  async stats(): Promise<ModelThreadStats[]> {
    const replies = await Promise.all(this.running().map(({ pool }) => pool.run({ op: 'stats' })));
    return replies.flatMap((r) => (r.ok && r.stats ? [r.stats] : []));
  }

  /** The running threads by slot (for tests: terminating one is how a crashed thread looks). */
  threads(): Worker[] {
    return this.running().flatMap(({ pool }) => pool.threads);
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.running().map(({ pool }) => pool.destroy()));
  }

  private running(): { pool: Piscina<ModelTask, ModelReply>; slot: number }[] {
    return this.pools.flatMap((pool, slot) => (pool ? [{ pool, slot }] : []));
  }

  /** The slot of `key`: FNV-1a, so a key lands on the same thread in every process and run. */
  private slotOf(key: string): number {
    let hash = 0x811c9dc5;
    for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
    return (hash >>> 0) % this.pools.length;
  }

  private pool(slot: number): Piscina<ModelTask, ModelReply> {
    if (this.closed) throw new Error('the model runner is closed');
    let pool = this.pools[slot];
    if (!pool) {
      pool = new Piscina<ModelTask, ModelReply>({
        filename: new URL('./model-thread.ts', import.meta.url).href,
        // The sources are TypeScript, run through tsx; a thread does not inherit the main thread's loader.
        execArgv: ['--import', pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href],
        minThreads: 1,
        maxThreads: 1,
        // Its models live in the thread: it must never be retired for being idle.
        idleTimeout: Number.POSITIVE_INFINITY,
        // Tasks wait here, one at a time in the thread; an idle thread blocks in no Atomics.wait, so tfjs's own timers run.
        atomics: 'disabled',
        workerData: { ...(this.options.backend ? { backend: this.options.backend } : {}) } satisfies ModelThreadData,
      });
      // A thread that stops between tasks is replaced by piscina; without a listener its error would end the process.
      pool.on('error', (err: unknown) => this.options.log?.warn('a model thread stopped between calls; it is replaced, and its models load again on their next use', { slot, error: errorMessage(err) }));
      this.pools[slot] = pool;
    }
    return pool;
  }

  /** Runs `task` in `key`'s thread and reads its reply: a thrown error for a failure, as the inline runner would throw it. */
  private async call(key: string, task: ModelTask, transferList: ArrayBuffer[]): Promise<Extract<ModelReply, { ok: true }>> {
    const slot = this.slotOf(key);
    const pool = this.pool(slot);
    let reply: ModelReply;
    try {
      reply = await pool.run(task, { transferList });
    } catch (err) {
      if (this.closed) throw err;
      this.options.log?.warn('a model thread stopped during a call; it is replaced, and its models load again on their next use', { slot, error: errorMessage(err) });
      throw new ModelThreadDiedError(`the model thread stopped during this call (${errorMessage(err)}); it is replaced, and its models load again on their next use`, { cause: err });
    }
    if (reply.ok) return reply;
    if (reply.gone) throw new ModelGoneError(key);
    if (reply.broken && this.pools[slot] === pool) {
      // A fresh thread is a fresh backend. The pool goes at once, so that no later call reaches the dying thread.
      this.options.log?.warn('a model thread\'s backend is broken; replacing the thread', { slot, error: `${reply.error.name}: ${reply.error.message}` });
      this.pools[slot] = undefined;
      void pool.destroy();
    }
    throw rebuilt(reply.error);
  }
}

/** The thread's error with its name and message, so that `backendFaultOf` reads it as it reads the api's own (a trap stays a RuntimeError). */
function rebuilt(e: WireError): Error {
  const err = e.name === 'RuntimeError' ? new WebAssembly.RuntimeError(e.message) : e.name === 'RangeError' ? new RangeError(e.message) : new Error(e.message);
  err.name = e.name;
  if (e.stack) err.stack = e.stack;
  return err;
}
