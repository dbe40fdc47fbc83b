/**
 * A small pool of threads that prepare datasets, so parsing a 90 MB CSV or decoding a zip of
 * images never blocks the api's event loop. The queue is bounded (a full one is answered 503)
 * and each job has a time limit (a job over it has its thread terminated and is answered 413).
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { PreparedDataset } from '../data/prepare.ts';
import { PayloadTooLargeError, ServiceBusyError } from '../errors.ts';
import type { DatasetRecord, NewDataset } from '../storage/index.ts';
import { transferablesOf, type PrepareJob, type StoreJob } from './jobs.ts';
import type { ThreadData, ThreadTask } from './thread.ts';
import { fromWire, type WireResult } from './wire.ts';

export interface PreparerOptions {
  /** Threads preparing datasets at once. @defaultValue 1 */
  threads?: number;
  /** Jobs that may wait for a free thread; with every thread busy and the queue full a request is answered 503. @defaultValue 4 */
  queue?: number;
  /** A job that runs longer has its thread terminated and is answered 413. @defaultValue 60,000 */
  timeoutMs?: number;
  /** An idle thread exits after this long (the next job starts another), so an unused pool holds no memory. @defaultValue 30,000 */
  idleMs?: number;
  /**
   * The database a thread writes prepared datasets to (see `Preparer.store`); each thread opens
   * its own connection. @defaultValue none: the caller writes on its own thread
   */
  databaseUrl?: string;
}

/** What a job is blamed on when it runs out of time: the field and value a 413 names. */
export interface Blame {
  field: string;
  value: unknown;
}

/** A place in the pool (a thread or a queue slot), held from before an upload's body is read until its job ends. */
export interface Place {
  /** Gives the place back; calling it again does nothing. */
  release(): void;
}

export interface Preparer {
  /** Takes a place. @throws ServiceBusyError (503 with Retry-After) when every thread is busy and the queue is full. */
  hold(): Place;
  /**
   * Prepares a dataset in a thread, in `place` when one is held (else it takes one and gives it back).
   * `transfer` lists buffers of the job that move to the thread instead of being copied (they are unusable here afterwards).
   * @throws ValidationError as thrown in the thread; PayloadTooLargeError naming `blame` when the job runs out of time or memory.
   */
  run(job: PrepareJob, options: { blame: Blame; place?: Place; transfer?: ArrayBuffer[] }): Promise<PreparedDataset>;
  /**
   * Writes a prepared dataset from a thread, its features and labels moved there (unusable here
   * afterwards); present only when the pool was given `databaseUrl`. One `create`, as on the main thread.
   */
  store?(row: NewDataset, options: { blame: Blame; place?: Place }): Promise<DatasetRecord>;
  /** Terminates the threads; jobs still running are rejected. */
  close(): Promise<void>;
}

/** A client retrying sooner would most likely find the queue still full: jobs take seconds. */
const RETRY_AFTER_SECONDS = 5;

export function createPreparer(options: PreparerOptions = {}): Preparer {
  const threads = options.threads ?? 1;
  const queue = options.queue ?? 4;
  const timeoutMs = options.timeoutMs ?? 60_000;
  const places = threads + queue;
  const pool = new Piscina<ThreadTask, WireResult<unknown>>({
    filename: new URL('./thread.ts', import.meta.url).href,
    // The sources are TypeScript, run through tsx; a thread does not inherit the main thread's loader.
    execArgv: ['--import', pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href],
    minThreads: 0,
    maxThreads: threads,
    idleTimeout: options.idleMs ?? 30_000,
    workerData: { databaseUrl: options.databaseUrl } satisfies ThreadData,
  });
  let taken = 0;

  function hold(): Place {
    if (taken >= places) {
      throw new ServiceBusyError(
        RETRY_AFTER_SECONDS,
        `every dataset preparation place is taken (${threads} running, PREPARE_THREADS; ${queue} waiting, PREPARE_QUEUE); retry after ${RETRY_AFTER_SECONDS} s`,
      );
    }
    taken++;
    let held = true;
    return {
      release() {
        if (held) taken--;
        held = false;
      },
    };
  }

  async function dispatch<T>(job: PrepareJob | StoreJob, o: { blame: Blame; place?: Place; transfer?: ArrayBuffer[] }): Promise<T> {
    const place = o.place ?? hold();
    const abort = new AbortController();
    const { port1, port2 } = new MessageChannel();
    let timer: NodeJS.Timeout | undefined;
    // The clock starts when a thread picks the job up, so a job is not punished for waiting its turn.
    port1.once('message', () => {
      timer = setTimeout(() => abort.abort(), timeoutMs);
    });
    try {
      const result = await pool.run({ job, started: port2 }, { transferList: [port2, ...(o.transfer ?? [])], signal: abort.signal });
      if (!result.ok) throw fromWire(result.error);
      return result.value as T;
    } catch (error) {
      if (abort.signal.aborted) {
        throw new PayloadTooLargeError(o.blame.field, o.blame.value, `took longer than the ${timeoutMs / 1000} s preparation limit (PREPARE_TIMEOUT_MS); send a smaller dataset`);
      }
      if ((error as { code?: unknown }).code === 'ERR_WORKER_OUT_OF_MEMORY') {
        throw new PayloadTooLargeError(o.blame.field, o.blame.value, 'needed more memory than a preparation thread may use; send a smaller dataset');
      }
      throw error;
    } finally {
      clearTimeout(timer);
      port1.close();
      if (o.place === undefined) place.release();
    }
  }

  const preparer: Preparer = {
    hold,
    run: (job, o) => dispatch<PreparedDataset>(job, o),
    close: () => pool.destroy(),
  };
  if (options.databaseUrl !== undefined) {
    preparer.store = (row, o) => dispatch<DatasetRecord>({ type: 'store', row }, { ...o, transfer: transferablesOf(row.features, row.labels) });
  }
  return preparer;
}
