import type * as tf from '@tensorflow/tfjs';
import type { z } from 'zod';
import type { Family, TaskSpec } from '../domain.ts';

/** Makes the kernel initializer of the next layer; seeded when the trial has a seed. */
export type KernelInit = () => ReturnType<typeof tf.initializers.glorotUniform>;

/**
 * One model family: its parameter schema and the body of the network between the input
 * and the task head. The head, loss, optimizer and compilation are shared (builders.ts),
 * so a new family only describes its layers.
 */
export interface FamilyBuilder<P> {
  readonly family: Family;
  /** Validates the family's params (including the common ones). */
  readonly schema: z.ZodType<P>;
  /**
   * Applies the family's layers to `input` and returns the last hidden tensor.
   * Throws a ValidationError when `params` cannot work with `spec` (e.g. too many pooling blocks).
   */
  body(input: tf.SymbolicTensor, params: P, spec: TaskSpec, kernelInit: KernelInit): tf.SymbolicTensor;
}
