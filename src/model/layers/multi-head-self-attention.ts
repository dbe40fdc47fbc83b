import * as tf from '@tensorflow/tfjs';
import { checkMaskShape, glorot, MASKED_OUT, shapeAndMask, tensorAndMask, type LayerArgs } from './common.ts';

/** Options of {@link MultiHeadSelfAttention}. */
export interface MultiHeadSelfAttentionArgs extends LayerArgs {
  /** Number of attention heads; must divide `dim`. */
  heads: number;
  /** Width of the input and output (the model dimension). */
  dim: number;
  /**
   * Dropout rate on the attention weights, applied in training only.
   * @defaultValue 0
   */
  dropout?: number;
  /**
   * Seeds the Glorot-uniform initializers of the four projections (`seed`, `seed + 1`, ...).
   * @defaultValue undefined (unseeded)
   */
  seed?: number;
}

/**
 * Multi-head scaled dot-product self-attention, `[batch, T, dim]` → `[batch, T, dim]`:
 * `softmax(Q Kᵀ / sqrt(dim / heads)) V` per head, heads concatenated and projected by `Wo`.
 * Q, K, V and the output are affine maps with `[dim, dim]` kernels and `[dim]` biases.
 *
 * Inputs are `x`, or `[x, mask]` with a `[batch, T, 1]` mask (1 = token, 0 = padding; see
 * {@link PaddingMask}): then no query attends to a padding key (its logit gets -1e9 before
 * the softmax). Queries at padding positions still produce outputs; pool with
 * {@link MaskedMeanPooling} so they do not count. A row that is all padding attends
 * uniformly, never NaN.
 *
 * Built from matMul, reshape, transpose and softmax only: tfjs's own MultiHeadAttention is
 * unexported and uses einsum, which has no gradient.
 */
export class MultiHeadSelfAttention extends tf.layers.Layer {
  static readonly className = 'MultiHeadSelfAttention';
  readonly heads: number;
  readonly dim: number;
  readonly dropout: number;
  readonly seed: number | undefined;
  private projections: { kernel: tf.LayerVariable; bias: tf.LayerVariable }[] = [];

  constructor(args: MultiHeadSelfAttentionArgs) {
    super(args);
    const { heads, dim, dropout = 0, seed } = args;
    if (!Number.isInteger(heads) || heads < 1) throw new Error(`MultiHeadSelfAttention: heads is ${heads}, but must be an integer >= 1`);
    if (!Number.isInteger(dim) || dim % heads !== 0) {
      throw new Error(`MultiHeadSelfAttention: dim is ${dim}, but must be an integer multiple of heads (${heads})`);
    }
    if (!(dropout >= 0 && dropout < 1)) throw new Error(`MultiHeadSelfAttention: dropout is ${dropout}, but must be >= 0 and < 1`);
    this.heads = heads;
    this.dim = dim;
    this.dropout = dropout;
    // A saved config holds null where the seed was absent.
    this.seed = seed ?? undefined;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const [shape, mask] = shapeAndMask(inputShape);
    if (shape.length !== 3 || shape[2] !== this.dim) {
      throw new Error(`MultiHeadSelfAttention: input shape is [${shape.join(', ')}], but must be [batch, steps, ${this.dim}]`);
    }
    if (mask !== undefined) checkMaskShape('MultiHeadSelfAttention', shape, mask);
    this.projections = ['query', 'key', 'value', 'output'].map((name, i) => ({
      kernel: this.addWeight(`${name}_kernel`, [this.dim, this.dim], 'float32', glorot(this.seed, i)),
      bias: this.addWeight(`${name}_bias`, [this.dim], 'float32', tf.initializers.zeros()),
    }));
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor {
    return tf.tidy(() => {
      const [x, mask] = tensorAndMask('MultiHeadSelfAttention', inputs);
      const [batch, steps] = x.shape as [number, number, number];
      const depth = this.dim / this.heads;
      // One [batch·T, dim] × [dim, dim] product per projection; the heads are split afterwards.
      const rows = tf.reshape<tf.Rank.R2>(x, [batch * steps, this.dim]);
      const project = (i: number, t: tf.Tensor2D) => {
        const { kernel, bias } = this.projections[i]!;
        return tf.fused.matMul({ a: t, b: kernel.read() as tf.Tensor2D, bias: bias.read() });
      };
      const splitHeads = (t: tf.Tensor) => tf.transpose(tf.reshape(t, [batch, steps, this.heads, depth]), [0, 2, 1, 3]);
      // Scaling Q ([.., T, depth]) is cheaper than scaling the scores ([.., T, T]).
      const q = tf.mul(splitHeads(project(0, rows)), 1 / Math.sqrt(depth));
      const k = splitHeads(project(1, rows));
      const v = splitHeads(project(2, rows));
      let logits = tf.matMul(q, k, false, true);
      if (mask !== undefined) {
        // [batch, T, 1] → [batch, 1, 1, T]: one shift per key, shared by every head and query.
        const keyShift = tf.reshape(tf.mul(tf.sub(1, mask), MASKED_OUT), [batch, 1, 1, steps]);
        logits = tf.add(logits, keyShift);
      }
      let weights = tf.softmax(logits);
      if (kwargs['training'] === true && this.dropout > 0) weights = tf.dropout(weights, this.dropout);
      const context = tf.transpose(tf.matMul(weights, v), [0, 2, 1, 3]);
      const output = project(3, tf.reshape<tf.Rank.R2>(context, [batch * steps, this.dim]));
      return tf.reshape(output, [batch, steps, this.dim]);
    });
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return shapeAndMask(inputShape)[0];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), heads: this.heads, dim: this.dim, dropout: this.dropout, seed: this.seed ?? null };
  }
}

tf.serialization.registerClass(MultiHeadSelfAttention);
