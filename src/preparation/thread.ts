/**
 * The entry of a preparation thread (run by piscina): prepares one dataset per task, or writes
 * one, and hands feature and label buffers across without copying.
 */
import type { MessagePort } from 'node:worker_threads';
import { move, transferableSymbol, valueSymbol, workerData } from 'piscina';
import { createRepository, type Repository } from '../storage/index.ts';
import { runJob, transferablesOf, type PrepareJob, type StoreJob } from './jobs.ts';
import { toWire, type WireResult } from './wire.ts';

export interface ThreadTask {
  job: PrepareJob | StoreJob;
  /** Told when the job starts, so the time limit counts work, not time waiting in the queue. */
  started: MessagePort;
}

/** What the pool hands every thread. */
export interface ThreadData {
  /** Where a store job writes; the thread opens its own connection on its first one. */
  databaseUrl?: string;
}

let repo: Repository | undefined;

async function work(job: PrepareJob | StoreJob): Promise<{ value: unknown; transfer: ArrayBuffer[] }> {
  if (job.type !== 'store') {
    const prepared = runJob(job);
    return { value: prepared, transfer: transferablesOf(prepared.encoded.features, prepared.encoded.labels) };
  }
  const { databaseUrl } = (workerData ?? {}) as ThreadData;
  if (databaseUrl === undefined) throw new Error('a store job needs the pool to be given a databaseUrl');
  repo ??= createRepository(databaseUrl);
  return { value: await repo.datasets.create(job.row), transfer: [] };
}

export default async function prepareInThread({ job, started }: ThreadTask) {
  started.postMessage('started');
  started.close();
  let result: WireResult<unknown>;
  let transfer: ArrayBuffer[] = [];
  try {
    const done = await work(job);
    result = { ok: true, value: done.value };
    transfer = done.transfer;
  } catch (error) {
    const wire = toWire(error);
    if (wire === undefined) throw error;
    result = { ok: false, error: wire };
  }
  return move({
    get [transferableSymbol]() {
      return transfer;
    },
    get [valueSymbol]() {
      return result;
    },
  });
}
