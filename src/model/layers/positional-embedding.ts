import * as tf from '@tensorflow/tfjs';
import { glorot, onlyShape, onlyTensor, type LayerArgs } from './common.ts';

/** Options of {@link PositionalEmbedding}. */
export interface PositionalEmbeddingArgs extends LayerArgs {
  /** Longest sequence the layer accepts; the table has one row per position. */
  maxLength: number;
  /**
   * Seeds the Glorot-uniform initializer of the table.
   * @defaultValue undefined (unseeded)
   */
  seed?: number;
}

/**
 * Adds a learned position embedding to a `[batch, T, dim]` input: a `[maxLength, dim]` table
 * (`dim` taken from the input) whose first T rows are added to every sequence; T ≤ maxLength.
 */
export class PositionalEmbedding extends tf.layers.Layer {
  static readonly className = 'PositionalEmbedding';
  readonly maxLength: number;
  readonly seed: number | undefined;
  private table: tf.LayerVariable | undefined;

  constructor(args: PositionalEmbeddingArgs) {
    super(args);
    if (!Number.isInteger(args.maxLength) || args.maxLength < 1) {
      throw new Error(`PositionalEmbedding: maxLength is ${args.maxLength}, but must be an integer >= 1`);
    }
    this.maxLength = args.maxLength;
    // A saved config holds null where the seed was absent.
    this.seed = args.seed ?? undefined;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = onlyShape(inputShape);
    const [, steps, dim] = shape;
    if (shape.length !== 3 || dim == null) {
      throw new Error(`PositionalEmbedding: input shape is [${shape.join(', ')}], but must be [batch, steps, dim] with dim known`);
    }
    if (steps != null && steps > this.maxLength) {
      throw new Error(`PositionalEmbedding: sequences have ${steps} steps, but maxLength is ${this.maxLength}`);
    }
    this.table = this.addWeight('embeddings', [this.maxLength, dim], 'float32', glorot(this.seed, 0));
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = onlyTensor(inputs);
      const steps = x.shape[1]!;
      if (steps > this.maxLength) throw new Error(`PositionalEmbedding: sequences have ${steps} steps, but maxLength is ${this.maxLength}`);
      const table = this.table!.read();
      // [T, dim] broadcasts over the batch.
      return tf.add(x, steps === this.maxLength ? table : tf.slice(table, [0, 0], [steps, -1]));
    });
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), maxLength: this.maxLength, seed: this.seed ?? null };
  }
}

tf.serialization.registerClass(PositionalEmbedding);
