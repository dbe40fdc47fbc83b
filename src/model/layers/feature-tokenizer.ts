import * as tf from '@tensorflow/tfjs';
import { glorot, onlyShape, onlyTensor, type LayerArgs } from './common.ts';

/** Options of {@link FeatureTokenizer}. */
export interface FeatureTokenizerArgs extends LayerArgs {
  /** Width of each feature's token. */
  dim: number;
  /**
   * Seeds the Glorot-uniform initializer of the weights.
   * @defaultValue undefined (unseeded)
   */
  seed?: number;
}

/**
 * Turns a row of F numeric features `[batch, F]` into F tokens `[batch, F, dim]`: feature j
 * becomes `x_j · W_j + b_j`, with its own weight and bias vectors (the numerical feature
 * tokenizer of FT-Transformer, Gorishniy et al., 2021). The per-feature bias also tells the
 * attention which column a token came from, so no positional embedding is needed.
 */
export class FeatureTokenizer extends tf.layers.Layer {
  static readonly className = 'FeatureTokenizer';
  readonly dim: number;
  readonly seed: number | undefined;
  private weight: tf.LayerVariable | undefined;
  private bias: tf.LayerVariable | undefined;

  constructor(args: FeatureTokenizerArgs) {
    super(args);
    if (!Number.isInteger(args.dim) || args.dim < 1) throw new Error(`FeatureTokenizer: dim is ${args.dim}, but must be an integer >= 1`);
    this.dim = args.dim;
    // A saved config holds null where the seed was absent.
    this.seed = args.seed ?? undefined;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = onlyShape(inputShape);
    const features = shape[1];
    if (shape.length !== 2 || features == null) {
      throw new Error(`FeatureTokenizer: input shape is [${shape.join(', ')}], but must be [batch, features] with features known`);
    }
    this.weight = this.addWeight('weight', [features, this.dim], 'float32', glorot(this.seed, 0));
    this.bias = this.addWeight('bias', [features, this.dim], 'float32', tf.initializers.zeros());
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = onlyTensor(inputs);
      // [batch, F, 1] · [F, dim] broadcasts to [batch, F, dim].
      return tf.add(tf.mul(tf.expandDims(x, 2), this.weight!.read()), this.bias!.read());
    });
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    const shape = onlyShape(inputShape);
    return [shape[0] ?? null, shape[1] ?? null, this.dim];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), dim: this.dim, seed: this.seed ?? null };
  }
}

tf.serialization.registerClass(FeatureTokenizer);
