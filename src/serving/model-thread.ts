/**
 * The entry of a model thread (run by piscina, one thread per pool, see ThreadedRunner): holds
 * the models loaded into this thread, on its own tfjs backend, and runs one task at a time.
 * Features and outputs cross without copying; every expected failure is answered as data, so
 * the pool sees a rejection only when the thread itself stops.
 */
import { threadId } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { move, transferableSymbol, valueSymbol, workerData } from 'piscina';
import type { ModelArtifact } from '../domain.ts';
import { backendFaultOf, loadModel, predictBatch, probeBackend, selectBackend, type BackendName } from '../model/index.ts';

/** What the runner hands every thread. */
export interface ModelThreadData {
  /** The backend this thread starts: the process's own kind. @defaultValue the fastest that loads (selectBackend) */
  backend?: BackendName;
}

export type ModelTask =
  | { op: 'load'; key: string; artifact: ModelArtifact; inputShape: number[] }
  | { op: 'predict'; key: string; features: Float32Array; count: number }
  | { op: 'release'; key: string }
  | { op: 'reset' }
  | { op: 'stats' };

/** One thread's state, for tests and diagnostics. */
export interface ModelThreadStats {
  threadId: number;
  backend: string;
  /** Keys loaded here. */
  models: string[];
  /** Tensors alive in this thread's backend (weights of the loaded models, and nothing else between calls). */
  numTensors: number;
}

/** An error as data: a thrown class does not survive the crossing, its name and message do. */
export interface WireError {
  name: string;
  message: string;
  stack?: string;
}

export type ModelReply =
  | { ok: true; outputs?: Float32Array; backend?: string; stats?: ModelThreadStats }
  /** The key is not loaded in this thread. */
  | { ok: false; gone: true }
  /** `broken`: the fault left this thread's backend unusable; the runner replaces the thread. */
  | { ok: false; gone: false; error: WireError; broken: boolean };

const models = new Map<string, { model: tf.LayersModel; inputShape: number[] }>();
let started: Promise<string> | undefined;

async function run(task: ModelTask): Promise<{ reply: ModelReply; transfer: ArrayBuffer[] }> {
  // Started on the first task rather than at import: a failure is then answered to the load that met it.
  started ??= selectBackend(((workerData ?? {}) as ModelThreadData).backend).then((b) => b.name);
  const backend = await started;
  switch (task.op) {
    case 'load': {
      const model = await loadModel(task.artifact);
      models.get(task.key)?.model.dispose();
      models.set(task.key, { model, inputShape: task.inputShape });
      return { reply: { ok: true }, transfer: [] };
    }
    case 'predict': {
      const loaded = models.get(task.key);
      if (!loaded) return { reply: { ok: false, gone: true }, transfer: [] };
      const outputs = await predictBatch(loaded.model, task.features, task.count, loaded.inputShape);
      return { reply: { ok: true, outputs }, transfer: [outputs.buffer as ArrayBuffer] };
    }
    case 'release':
      models.get(task.key)?.model.dispose();
      models.delete(task.key);
      return { reply: { ok: true }, transfer: [] };
    case 'reset':
      // Another thread's fault reset "the backend": every model loads again on its next use, as on the api's thread.
      {
        const all = [...models.values()];
        models.clear();
        for (const { model } of all) model.dispose();
      }
      return { reply: { ok: true, backend }, transfer: [] };
    case 'stats':
      return { reply: { ok: true, stats: { threadId, backend, models: [...models.keys()], numTensors: tf.memory().numTensors } }, transfer: [] };
  }
}

export default async function runModelTask(task: ModelTask) {
  let done: { reply: ModelReply; transfer: ArrayBuffer[] };
  try {
    done = await run(task);
  } catch (err) {
    const fault = backendFaultOf(err);
    // As BackendGuard does on the api's thread: a trap poisons the heap; another fault only if the probe says so.
    const broken = fault !== null && (fault.fatal || !(await probeBackend()).ok);
    const error = err instanceof Error ? { name: err.name, message: err.message, ...(err.stack ? { stack: err.stack } : {}) } : { name: 'Error', message: String(err) };
    done = { reply: { ok: false, gone: false, error, broken }, transfer: [] };
  }
  return move({
    get [transferableSymbol]() {
      return done.transfer;
    },
    get [valueSymbol]() {
      return done.reply;
    },
  });
}
