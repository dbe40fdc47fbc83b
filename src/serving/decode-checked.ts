import { decodePredictions, NonFiniteOutputError, type Prediction, type Preprocessing } from '../data/index.ts';
import { ConflictError, ValidationError } from '../errors.ts';

/**
 * Decodes a model's outputs; a non-finite one (never sent as `null`) becomes an error that says
 * who is to blame. The model runs once more on an all-zero input (every standardized feature at its
 * training mean, an all-black image, an all-padding text): if that output is finite, the instance
 * drove the model out of range and is refused (400, naming it); if not, the model itself is broken
 * and the request is answered 409 naming the version, so the client can point the alias elsewhere.
 * @param neutral - the model's output for one all-zero input.
 */
export async function decodeChecked(
  pre: Preprocessing,
  outputs: Float32Array,
  instances: readonly unknown[],
  neutral: () => Promise<Float32Array>,
  model: string,
): Promise<Prediction[]> {
  try {
    return decodePredictions(pre, outputs, instances.length);
  } catch (err) {
    if (!(err instanceof NonFiniteOutputError)) throw err;
    const probe = await neutral();
    const first = err.rows[0] ?? 0;
    if (probe.every(Number.isFinite)) {
      const others = err.rows.length > 1 ? ` (so do instances ${err.rows.slice(1).join(', ')})` : '';
      throw new ValidationError(`instances[${first}]`, instances[first], `drives the model to a non-finite output: its values are too far outside the training data${others}`);
    }
    throw new ConflictError(`model ${model} gives non-finite outputs even for the training means: it cannot serve predictions; point the alias at another version`);
  }
}
