import * as tf from '@tensorflow/tfjs';
import type { Family, Params, TaskSpec } from '../domain.ts';
import { ValidationError } from '../errors.ts';
import { cnnBuilder } from './cnn.ts';
import type { FamilyBuilder, KernelInit } from './family.ts';
import { mlpBuilder } from './mlp.ts';
import { rnnBuilder } from './rnn.ts';
import { transformerBuilder } from './transformer.ts';
import { checkFamily, parseParams, type CommonParams } from './params.ts';

const BUILDERS = {
  mlp: mlpBuilder,
  cnn: cnnBuilder,
  rnn: rnnBuilder,
  transformer: transformerBuilder,
} as unknown as { readonly [F in Family]: FamilyBuilder<CommonParams> };

/**
 * Builds and compiles a model of `family` for `spec`.
 *
 * - classification: softmax over `spec.outputs` classes, loss `categoricalCrossentropy`
 *   (labels one-hot), metric `accuracy`;
 * - regression: one linear unit, loss `meanSquaredError`, metric `mae`;
 * - forecasting: `spec.outputs` linear units (one per future step), loss and metric as regression.
 *
 * The optimizer is created here, so the model does not own it: free both with
 * {@link disposeModel}.
 *
 * @param seed - when given, every kernel initializer is seeded from it, so the same
 *   params, spec and seed give the same initial weights. Dropout masks stay unseeded:
 *   tfjs would reuse one mask for every batch if a dropout layer had a seed.
 * @throws ValidationError when a param is missing or invalid, or does not fit the spec.
 */
export function buildModel(family: Family, params: Params, spec: TaskSpec, seed?: number): tf.LayersModel {
  const builder = BUILDERS[family];
  if (builder === undefined) {
    throw new ValidationError('family', family, `must be one of ${Object.keys(BUILDERS).join(', ')}`);
  }
  checkFamily(family, params);
  checkSpec(spec);
  if (seed !== undefined && !Number.isFinite(seed)) throw new ValidationError('seed', seed, 'must be a finite number');
  const p = parseParams(builder.schema, params);

  const input = tf.input({ shape: spec.inputShape });
  const kernelInit = kernelInitFrom(seed);
  const hidden = builder.body(input, p, spec, kernelInit);
  const head =
    spec.task === 'classification'
      ? tf.layers.dense({ units: spec.outputs, activation: 'softmax', kernelInitializer: kernelInit() })
      : tf.layers.dense({ units: spec.outputs, activation: 'linear', kernelInitializer: kernelInit() });
  const model = tf.model({ inputs: input, outputs: head.apply(hidden) as tf.SymbolicTensor });
  model.compile({
    optimizer: makeOptimizer(p),
    loss: spec.task === 'classification' ? 'categoricalCrossentropy' : 'meanSquaredError',
    metrics: spec.task === 'classification' ? ['accuracy'] : ['mae'],
  });
  return model;
}

/** Disposes a model and the optimizer it was compiled with (tfjs leaves a passed-in optimizer alone). */
export function disposeModel(model: tf.LayersModel): void {
  // Read before dispose: the getter is all that still points at the optimizer afterwards.
  const optimizer = model.optimizer as tf.Optimizer | undefined;
  model.dispose();
  optimizer?.dispose();
}

function makeOptimizer(p: CommonParams): tf.Optimizer {
  switch (p.optimizer) {
    case 'adam':
      return tf.train.adam(p.learningRate);
    case 'rmsprop':
      return tf.train.rmsprop(p.learningRate);
    case 'sgd':
      return tf.train.sgd(p.learningRate);
  }
}

// The i-th layer gets its own seed derived from the trial's, so that layers of equal shape
// do not start identical.
function kernelInitFrom(seed: number | undefined): KernelInit {
  let next = 0;
  return () => {
    const args = seed === undefined ? {} : { seed: seed * 7_919 + 104_729 * next };
    next += 1;
    return tf.initializers.glorotUniform(args);
  };
}

function checkSpec(spec: TaskSpec): void {
  if (spec.inputShape.length === 0 || !spec.inputShape.every((d) => Number.isInteger(d) && d >= 1)) {
    throw new ValidationError('spec.inputShape', spec.inputShape, 'must be a non-empty list of positive integers');
  }
  if (spec.task === 'classification' && !(Number.isInteger(spec.outputs) && spec.outputs >= 2)) {
    throw new ValidationError('spec.outputs', spec.outputs, 'must be an integer >= 2 for classification');
  }
  if (spec.task === 'regression' && spec.outputs !== 1) {
    throw new ValidationError('spec.outputs', spec.outputs, 'must be 1 for regression');
  }
  if (spec.task === 'forecasting' && !(Number.isInteger(spec.outputs) && spec.outputs >= 1)) {
    throw new ValidationError('spec.outputs', spec.outputs, 'must be the horizon, an integer >= 1, for forecasting');
  }
}
