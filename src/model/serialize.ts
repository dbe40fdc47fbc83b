import * as tf from '@tensorflow/tfjs';
import type { ModelArtifact } from '../domain.ts';

/**
 * Captures a model's topology, weight specs and weight bytes in memory (no file system,
 * no optimizer state). The bytes are a fresh copy, safe to keep after the model is gone.
 */
export async function serializeModel(model: tf.LayersModel): Promise<ModelArtifact> {
  let artifact: ModelArtifact | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      if (artifacts.modelTopology === undefined || artifacts.weightSpecs === undefined) {
        throw new Error('tfjs handed the save handler no topology or no weight specs');
      }
      const data = artifacts.weightData === undefined ? new ArrayBuffer(0) : tf.io.CompositeArrayBuffer.join(artifacts.weightData);
      artifact = {
        topology: artifacts.modelTopology,
        weightSpecs: artifacts.weightSpecs,
        weights: new Uint8Array(data.slice(0)),
      };
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    }),
  );
  if (artifact === undefined) throw new Error('model.save finished without calling the save handler');
  return artifact;
}

/** Rebuilds a model from {@link serializeModel}'s output. It is not compiled: use it to predict. */
export async function loadModel(artifact: ModelArtifact): Promise<tf.LayersModel> {
  // Copy: the bytes may be a view into a larger buffer (e.g. a database Buffer), and tfjs
  // reads the whole ArrayBuffer.
  const weightData = new Uint8Array(artifact.weights).buffer;
  return tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: artifact.topology as tf.io.ModelArtifacts['modelTopology'],
      weightSpecs: artifact.weightSpecs as tf.io.WeightsManifestEntry[],
      weightData,
    }),
  );
}

/**
 * Runs the model on `count` rows of row-major `features` (each of shape `inputShape`) and
 * returns the outputs row-major (`count × outputs`). Frees every tensor it makes.
 */
export async function predictBatch(model: tf.LayersModel, features: Float32Array, count: number, inputShape: number[]): Promise<Float32Array> {
  const size = inputShape.reduce((a, b) => a * b, 1);
  if (!Number.isInteger(count) || count < 0 || features.length !== count * size) {
    throw new Error(
      `features has ${features.length} values, but must have count × prod(inputShape) = ${count} × ${size} = ${count * size}`,
    );
  }
  if (count === 0) return new Float32Array(0);
  const output = tf.tidy(() => {
    const x = tf.tensor(features, [count, ...inputShape], 'float32');
    const y = model.predict(x);
    if (Array.isArray(y)) throw new Error('predictBatch expects a model with one output');
    return y;
  });
  try {
    // The prediction is issued synchronously above; only its read waits (dataSync throws on webgpu).
    // Copy: on the cpu backend the data is the tensor's own storage.
    return new Float32Array(await output.data());
  } finally {
    output.dispose();
  }
}
