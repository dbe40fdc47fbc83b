import * as tf from '@tensorflow/tfjs';
import type { Direction, EncodedData, EpochMetrics, Family, Metric, ModelArtifact, Params, TaskSpec } from '../../domain.ts';
import { ValidationError } from '../../errors.ts';
import { directionOf, METRICS_FOR, VALIDATION_METRICS } from '../../metrics.ts';
import { buildModel, disposeModel, measureCosts, type ModelCosts, checkTrialModelSize, DEFAULT_MAX_MODEL_PARAMS, parseCommonParams, serializeModel, asOutOfMemory, OutOfMemoryError, TrainingDivergedError, TrialFailure } from '../../model/index.ts';
import { balancedClassWeights } from './class-weights.ts';
import { packList, packTensors, unpackTensors, type TrainCheckpoint } from './checkpoint.ts';
import { EarlyStopper } from './early-stopping.ts';
import { mulberry32, permutation } from '../../rng.ts';
import { reorder, toTensors, type SplitTensors } from './tensors.ts';

/** Everything one trial's training needs. */
export interface TrainInput {
  family: Family;
  /** The trial's hyperparameters; read through the family's zod schema. */
  params: Params;
  spec: TaskSpec;
  /** The first `trainRows` rows train, the rest validate. */
  data: EncodedData;
  /** Upper bound on epochs (integer >= 1). */
  maxEpochs: number;
  /** In-trial early stopping on `objective.metric`; see {@link EarlyStopper}. */
  earlyStopping: { patience: number; minDelta: number };
  /** The metric the study optimizes; early stopping and the best epoch follow it. */
  objective: { metric: Metric; direction: Direction };
  /** Seeds the initial weights and the per-epoch shuffles. Dropout masks are not seeded. */
  seed: number;
  /**
   * Standard deviation the regression (or forecast) targets were divided by. When given, `mae` and
   * `val_mae` are reported (and early-stopped on) in the original units; losses stay in
   * standardized units. Ignored for classification.
   * @defaultValue undefined (everything in standardized units)
   */
  targetStd?: number;
  /**
   * Called after every epoch with its 1-based number and metrics (a copy), and a function
   * that captures a {@link TrainCheckpoint} of the state after this epoch (call it only when
   * the checkpoint is wanted: it reads every weight back). Returning `'stop'` (a cancelled
   * or pruned trial) ends training after this epoch. Its errors end the trial and propagate.
   */
  onEpoch?: (epoch: number, metrics: EpochMetrics, checkpoint: () => Promise<TrainCheckpoint>) => Promise<'continue' | 'stop'> | 'continue' | 'stop';
  /**
   * Most bytes of tensors the trial may hold above what the process held when it started;
   * checked after every epoch, and a trial over it fails for good with an out-of-memory
   * reason. With several trials in one process the figure includes theirs.
   * @defaultValue undefined (no limit besides what the backend can allocate)
   */
  memoryLimitBytes?: number;
  /**
   * Most weights the model may have; a larger one fails the trial for good before it is built
   * (the api refuses such a space already; this guards older studies and other callers).
   * @defaultValue 100,000,000 (DEFAULT_MAX_MODEL_PARAMS)
   */
  maxModelParams?: number;
  /**
   * Continue from this checkpoint (same family, params, spec and data) instead of epoch 1.
   * @defaultValue undefined (train from scratch)
   */
  resume?: TrainCheckpoint;
  /**
   * Pause after this epoch (a scheduler's rung): training returns with `stoppedBy: 'milestone'`
   * unless it ended otherwise first. Must be below `maxEpochs` and at least `resume.epoch`
   * (equal: the checkpoint is already there, and training returns without another epoch).
   * @defaultValue undefined (train to `maxEpochs`)
   */
  stopAtEpoch?: number;
}

export interface TrainResult {
  /** Epochs done in all, those of a resumed checkpoint included. */
  epochs: number;
  /** The 1-based epoch whose weights are in `artifact`. */
  bestEpoch: number;
  bestMetrics: EpochMetrics;
  /** One entry per epoch run by this call; `history[i]` is epoch `firstEpoch + i`. */
  history: EpochMetrics[];
  /** 1 for a fresh start, `resume.epoch + 1` for a resumed one. */
  firstEpoch: number;
  stoppedBy: 'maxEpochs' | 'earlyStopping' | 'callback' | 'milestone';
  /** The model with the best epoch's weights. */
  artifact: ModelArtifact;
  /** What that model costs to keep and to run (see measureCosts). */
  costs: ModelCosts;
}

/**
 * Trains one trial: builds the model, fits it one epoch at a time on a seeded shuffle,
 * evaluates the validation split, stops early or on request, and returns the best epoch's
 * model.
 *
 * Per-epoch metrics: `loss`, `val_loss`, plus `accuracy`/`val_accuracy` (classification)
 * or `mae`/`val_mae` (regression). With `params.classWeight` 'balanced' (classification),
 * `loss` is class-weighted like the gradient; the validation metrics are not. Training and validation yield to the event loop after
 * every batch, so a worker can keep renewing its queue lock.
 *
 * Every tensor it creates is freed before it returns or throws.
 *
 * @throws TrainingDivergedError (a TrialFailure) when a loss or metric is NaN or infinite.
 * @throws TrialFailure when params, data, spec or objective are invalid; its message names
 *   the field, the value and the rule.
 */
export async function trainTrial(input: TrainInput): Promise<TrainResult> {
  try {
    return await train(input);
  } catch (err) {
    // A failed allocation fails the same way on every retry: fail the trial once, with the reason.
    throw asOutOfMemory(err) ?? err;
  }
}

async function train(input: TrainInput): Promise<TrainResult> {
  const { spec, objective } = input;
  const baseline = tf.memory().numBytes;
  const { split, model, batchSize, classWeight, stopper } = prepare(input);
  const scale = spec.task === 'classification' ? 1 : (input.targetStd ?? 1);
  let bestWeights: tf.Tensor[] | undefined;
  try {
    const history: EpochMetrics[] = [];
    let bestMetrics: EpochMetrics | undefined;
    let stoppedBy: TrainResult['stoppedBy'] = 'maxEpochs';
    const firstEpoch = (input.resume?.epoch ?? 0) + 1;
    if (input.resume !== undefined) {
      bestWeights = await restore(model, input.resume);
      bestMetrics = input.resume.bestMetrics;
    }

    // A checkpoint may already stand where this segment should end: its worker died between
    // recording the epoch and ending the segment. End it now, without training further.
    if (input.resume !== undefined) {
      const { wait } = input.resume.stopper;
      if (input.stopAtEpoch !== undefined && input.stopAtEpoch <= input.resume.epoch) stoppedBy = 'milestone';
      else if (wait > 0 && wait >= input.earlyStopping.patience) stoppedBy = 'earlyStopping';
    }
    for (let epoch = firstEpoch; epoch <= input.maxEpochs && stoppedBy === 'maxEpochs'; epoch++) {
      // One stream per epoch, so a resumed trial shuffles as it would have without the pause.
      const order = permutation(input.data.trainRows, mulberry32(epochSeed(input.seed, epoch)));
      const train = await fitEpoch(model, split, order, batchSize, classWeight);
      const val = await evaluate(model, split.xVal, split.yVal, spec.task, batchSize);
      const metrics: EpochMetrics =
        spec.task === 'classification'
          ? { loss: train.loss, accuracy: train.metric, val_loss: val.loss, val_accuracy: val.metric }
          : { loss: train.loss, mae: train.metric * scale, val_loss: val.loss, val_mae: val.metric * scale };
      for (const [name, value] of Object.entries(metrics)) {
        if (!Number.isFinite(value)) throw new TrainingDivergedError(epoch, name, value);
      }
      const held = tf.memory().numBytes - baseline;
      if (input.memoryLimitBytes !== undefined && held > input.memoryLimitBytes) {
        throw new OutOfMemoryError(`the trial held ${mib(held)} MiB of tensors after epoch ${epoch}, over its limit of ${mib(input.memoryLimitBytes)} MiB (TRIAL_MEMORY_MB)`);
      }
      history.push(metrics);

      const early = stopper.update(epoch, metrics[objective.metric]!);
      if (stopper.bestEpoch === epoch) {
        // tfjs cannot restore the best weights itself: keep a copy of them.
        tf.dispose(bestWeights);
        bestWeights = snapshot(model);
        bestMetrics = metrics;
      }
      const best = { weights: bestWeights!, metrics: bestMetrics! };
      const checkpoint = () => capture(model, epoch, stopper, best.weights, best.metrics);
      const verdict = input.onEpoch === undefined ? 'continue' : await input.onEpoch(epoch, { ...metrics }, checkpoint);
      if (verdict === 'stop') {
        stoppedBy = 'callback';
        break;
      }
      if (early === 'stop') {
        stoppedBy = 'earlyStopping';
        break;
      }
      if (epoch === input.stopAtEpoch) {
        stoppedBy = 'milestone';
        break;
      }
    }

    if (bestWeights === undefined || bestMetrics === undefined) {
      // Unreachable: every epoch's metrics are finite, so the first one is a best.
      throw new Error('training ended without a best epoch');
    }
    model.setWeights(bestWeights);
    const artifact = await serializeModel(model);
    const costs = await measureCosts(model, split.xVal);
    return {
      epochs: firstEpoch - 1 + history.length,
      bestEpoch: stopper.bestEpoch,
      bestMetrics: { ...bestMetrics },
      history,
      firstEpoch,
      stoppedBy,
      artifact,
      costs,
    };
  } finally {
    tf.dispose(bestWeights);
    disposeModel(model);
    disposeSplit(split);
  }
}

const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);

/** The seed of epoch `epoch`'s shuffle: a different stream per epoch, derived from the trial's seed alone. */
function epochSeed(seed: number, epoch: number): number {
  return (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(epoch, 0x85ebca6b)) >>> 0;
}

/** Puts a checkpoint's weights and optimizer slots into a freshly built model; returns the best weights. */
async function restore(model: tf.LayersModel, checkpoint: TrainCheckpoint): Promise<tf.Tensor[]> {
  const weights = unpackTensors(checkpoint.weights).map((w) => w.tensor);
  const best = unpackTensors(checkpoint.best).map((w) => w.tensor);
  try {
    model.setWeights(weights);
    const slots = unpackTensors(checkpoint.optimizer);
    // setWeights keeps the slot tensors as the optimizer's variables' initial values; free the copies it made from.
    await (model.optimizer as tf.Optimizer).setWeights(slots);
    tf.dispose(slots.map((s) => s.tensor));
    return best;
  } catch (err) {
    tf.dispose(best);
    throw new TrialFailure(`cannot resume from the checkpoint of epoch ${checkpoint.epoch}: ${(err as Error).message}`, { cause: err });
  } finally {
    tf.dispose(weights);
  }
}

async function capture(model: tf.LayersModel, epoch: number, stopper: EarlyStopper, best: tf.Tensor[], bestMetrics: EpochMetrics): Promise<TrainCheckpoint> {
  const slots = await (model.optimizer as tf.Optimizer).getWeights();
  try {
    return {
      epoch,
      stopper: stopper.state,
      bestEpoch: stopper.bestEpoch,
      bestMetrics: { ...bestMetrics },
      weights: await packList(model.getWeights()),
      optimizer: await packTensors(slots),
      best: await packList(best),
    };
  } finally {
    // The iteration count is a new scalar; the other slots are the optimizer's own variables.
    tf.dispose(slots.filter((s) => s.name === 'iter').map((s) => s.tensor));
  }
}

interface Prepared {
  split: SplitTensors;
  model: tf.LayersModel;
  batchSize: number;
  /** Per-class loss weights for `fit`; undefined when rows weigh the same. */
  classWeight: Record<number, number> | undefined;
  stopper: EarlyStopper;
}

/**
 * Validates the input and builds the tensors and the model. Anything that fails here
 * fails the same way on a retry, so it becomes a TrialFailure (message unchanged).
 */
function prepare(input: TrainInput): Prepared {
  let split: SplitTensors | undefined;
  try {
    checkInput(input);
    // Counted before anything is allocated: building a 2-billion-weight model broke the backend.
    checkTrialModelSize(input.family, input.params, input.spec, input.maxModelParams ?? DEFAULT_MAX_MODEL_PARAMS);
    const common = parseCommonParams(input.params);
    const options = { ...input.earlyStopping, direction: input.objective.direction };
    const stopper = input.resume === undefined ? new EarlyStopper(options) : EarlyStopper.restore(options, input.resume.stopper);
    split = toTensors(input.data, input.spec);
    // After toTensors: it has checked that the labels are class indices. Regression and
    // forecasting ignore the option (it stays valid, so one space can serve any task).
    const classWeight =
      input.spec.task === 'classification' && common.classWeight === 'balanced'
        ? balancedClassWeights(input.data.labels.subarray(0, input.data.trainRows), input.spec.outputs)
        : undefined;
    const model = buildModel(input.family, input.params, input.spec, input.seed);
    return { split, model, batchSize: common.batchSize, classWeight, stopper };
  } catch (err) {
    if (split !== undefined) disposeSplit(split);
    throw err instanceof Error ? new TrialFailure(err.message, { cause: err }) : err;
  }
}

function disposeSplit(split: SplitTensors): void {
  tf.dispose([split.xTrain, split.yTrain, split.xVal, split.yVal]);
}

/**
 * Mean training loss and metric of one epoch over the rows in `order`. With `classWeight`
 * the loss is the mean of the class-weighted row losses; the metric is never weighted.
 */
async function fitEpoch(
  model: tf.LayersModel,
  split: SplitTensors,
  order: Int32Array,
  batchSize: number,
  classWeight: Record<number, number> | undefined,
): Promise<{ loss: number; metric: number }> {
  // Our own seeded permutation: fit's `shuffle` draws from the unseeded Math.random.
  const [x, y] = reorder(split.xTrain, split.yTrain, order);
  try {
    const result = await model.fit(x, y, {
      batchSize,
      epochs: 1,
      shuffle: false,
      verbose: 0,
      yieldEvery: 'batch',
      ...(classWeight === undefined ? {} : { classWeight }),
      // No per-batch callback: reading each batch's loss back would stall a GPU backend
      // once per batch. A non-finite loss makes the epoch's mean non-finite, and the caller
      // reports the divergence after the epoch.
    });
    const metricName = Object.keys(result.history).find((k) => k !== 'loss');
    return {
      loss: await scalarOf(result.history['loss']?.[0]),
      metric: await scalarOf(metricName === undefined ? undefined : result.history[metricName]?.[0]),
    };
  } finally {
    tf.dispose([x, y]);
  }
}

/**
 * Validation loss and metric (accuracy or mae), computed batch by batch with the same
 * loss functions the model was compiled with, yielding to the event loop between batches.
 */
async function evaluate(
  model: tf.LayersModel,
  x: tf.Tensor,
  y: tf.Tensor,
  task: TaskSpec['task'],
  batchSize: number,
): Promise<{ loss: number; metric: number }> {
  const rows = x.shape[0] ?? 0;
  let lossSum = 0;
  let metricSum = 0;
  for (let start = 0; start < rows; start += batchSize) {
    const size = Math.min(batchSize, rows - start);
    const sums = tf.tidy(() => {
      const yb = y.slice(start, size);
      const pred = model.predict(x.slice(start, size)) as tf.Tensor;
      const loss =
        task === 'classification' ? tf.metrics.categoricalCrossentropy(yb, pred) : tf.metrics.meanSquaredError(yb, pred);
      const metric =
        task === 'classification' ? tf.metrics.categoricalAccuracy(yb, pred) : tf.metrics.meanAbsoluteError(yb, pred);
      return tf.stack([loss.sum(), metric.sum()]);
    });
    try {
      const [l, m] = await sums.data();
      lossSum += l ?? Number.NaN;
      metricSum += m ?? Number.NaN;
    } finally {
      sums.dispose();
    }
    await tf.nextFrame();
  }
  return { loss: lossSum / rows, metric: metricSum / rows };
}

/** Copies of the model's current weights (all of them, BatchNorm statistics included). */
function snapshot(model: tf.LayersModel): tf.Tensor[] {
  return tf.tidy(() => model.getWeights().map((w) => w.clone()));
}

/** Reads a logged value; asynchronously, since dataSync throws on webgpu under Node. */
async function scalarOf(value: number | tf.Tensor | undefined): Promise<number> {
  if (value === undefined) return Number.NaN;
  return typeof value === 'number' ? value : ((await value.data())[0] ?? Number.NaN);
}

function checkInput(input: TrainInput): void {
  if (!Number.isInteger(input.maxEpochs) || input.maxEpochs < 1) {
    throw new ValidationError('maxEpochs', input.maxEpochs, 'must be an integer >= 1');
  }
  if (!Number.isFinite(input.seed)) throw new ValidationError('seed', input.seed, 'must be a finite number');
  if (input.memoryLimitBytes !== undefined && !(Number.isFinite(input.memoryLimitBytes) && input.memoryLimitBytes > 0)) {
    throw new ValidationError('memoryLimitBytes', input.memoryLimitBytes, 'must be a number of bytes > 0');
  }
  const done = input.resume?.epoch ?? 0;
  if (!Number.isInteger(done) || done < 0 || done > input.maxEpochs) {
    throw new ValidationError('resume.epoch', done, `must be an integer between 0 and maxEpochs = ${input.maxEpochs}`);
  }
  if (input.stopAtEpoch !== undefined && !(Number.isInteger(input.stopAtEpoch) && input.stopAtEpoch >= done && input.stopAtEpoch < input.maxEpochs)) {
    throw new ValidationError('stopAtEpoch', input.stopAtEpoch, `must be an integer from the resumed epoch (${done}) up to below maxEpochs (${input.maxEpochs})`);
  }
  const { metric, direction } = input.objective;
  if (!(VALIDATION_METRICS as readonly string[]).includes(metric)) {
    throw new ValidationError('objective.metric', metric, `must be one of ${VALIDATION_METRICS.join(', ')}`);
  }
  if (!METRICS_FOR[input.spec.task].includes(metric)) {
    throw new ValidationError('objective.metric', metric, `does not apply to a ${input.spec.task} task`);
  }
  const natural = directionOf(metric);
  if (direction !== natural) {
    throw new ValidationError('objective.direction', direction, `must be '${natural}' for ${metric}`);
  }
  if (input.targetStd !== undefined && !(Number.isFinite(input.targetStd) && input.targetStd > 0)) {
    throw new ValidationError('targetStd', input.targetStd, 'must be a finite number > 0');
  }
}
