import type * as tf from '@tensorflow/tfjs';
import type { ModelArtifact } from '../domain.ts';
import { loadModel, predictBatch, resetBackend } from '../model/index.ts';
import { ModelGoneError, type ModelRunner } from './model-runner.ts';

export interface InlineRunnerOptions {
  /** Re-creates the compute backend after a fault broke it. @defaultValue resetBackend (a fresh tfjs backend instance) */
  resetBackend?: () => Promise<unknown>;
}

/** Runs models on the calling thread, with the process's tfjs backend: a model call holds the event loop while it computes. */
export class InlineRunner implements ModelRunner {
  private readonly models = new Map<string, { model: tf.LayersModel; inputShape: number[] }>();

  constructor(private readonly options: InlineRunnerOptions = {}) {}

  async load(key: string, artifact: ModelArtifact, inputShape: number[]): Promise<void> {
    const model = await loadModel(artifact);
    this.models.get(key)?.model.dispose();
    this.models.set(key, { model, inputShape });
  }

  predict(key: string, features: Float32Array, count: number): Promise<Float32Array> {
    const loaded = this.models.get(key);
    if (!loaded) return Promise.reject(new ModelGoneError(key));
    return predictBatch(loaded.model, features, count, loaded.inputShape);
  }

  async release(key: string): Promise<void> {
    this.models.get(key)?.model.dispose();
    this.models.delete(key);
  }

  async reset(): Promise<string> {
    // The models' tensors went with the old backend: disposing them could touch a poisoned heap.
    this.models.clear();
    return String(await (this.options.resetBackend ?? resetBackend)());
  }

  async close(): Promise<void> {
    for (const { model } of this.models.values()) model.dispose();
    this.models.clear();
  }
}
