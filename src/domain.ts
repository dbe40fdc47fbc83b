/**
 * Shapes shared by the api, the coordinator, the search layer and the workers.
 * Everything here is plain data that survives JSON.
 */

export type DatasetKind = 'tabular' | 'image' | 'text' | 'sequence' | 'timeseries';
/** `forecasting` predicts the next `horizon` values of a series from the `window` before them. */
export type Task = 'classification' | 'regression' | 'forecasting';
export type Family = 'mlp' | 'cnn' | 'rnn' | 'transformer';
export const FAMILIES: readonly Family[] = ['mlp', 'cnn', 'rnn', 'transformer'];
/** Families whose trials go to GPU workers while one is alive. */
export const HEAVY_FAMILIES: readonly Family[] = ['cnn', 'rnn', 'transformer'];
export type Direction = 'minimize' | 'maximize';
export type Metric = 'val_accuracy' | 'val_loss' | 'val_mae';

/** A hyperparameter assignment; `family` is always one of the keys. */
export type Params = Record<string, number | string | boolean>;

/** What a model builder needs to know about the data. */
export interface TaskSpec {
  kind: DatasetKind;
  task: Task;
  /** Input shape without the batch axis: `[featureDim]` for tabular, `[h, w, c]` for images. */
  inputShape: number[];
  /** Number of classes for classification; 1 for regression; the horizon for forecasting. */
  outputs: number;
  /**
   * Token inputs: each input value is a token id in [0, vocabSize), 0 meaning padding,
   * and `inputShape` is `[sequenceLength]`. Absent for numeric inputs.
   */
  vocabSize?: number;
}

/** Encoded training data: rows are already shuffled, the first `trainRows` are the training split. */
export interface EncodedData {
  /** Row-major features, `rows × prod(inputShape)`. */
  features: Float32Array;
  /**
   * Class index (classification) or standardized target (regression), one per row;
   * forecasting: the `outputs` standardized future values of each row (`rows × outputs`).
   */
  labels: Float32Array;
  rows: number;
  trainRows: number;
}

export type StudyState = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled';
/**
 * `paused`: stopped at a scheduler's rung with a checkpoint, waiting to be promoted;
 * `pruned`: stopped for good by a scheduler or pruner, keeping its best epoch's model.
 */
export type TrialState = 'queued' | 'running' | 'paused' | 'completed' | 'pruned' | 'failed' | 'cancelled';

/** Per-epoch metrics as reported by a worker. */
export type EpochMetrics = Record<string, number>;

/** A trained model's serialized form: tfjs topology, weight specs and the weight bytes. */
export interface ModelArtifact {
  topology: unknown;
  weightSpecs: unknown[];
  weights: Uint8Array;
}

/**
 * Where a trial's training stands after an epoch: enough for another job, in another process,
 * to continue it with the same model, optimizer state and best-so-far (ASHA promotions, and
 * trials taken over from a worker that died). Plain data; tensors are packed bytes.
 */
export interface TrainCheckpoint {
  /** Epochs done; training continues with epoch `epoch + 1`. */
  epoch: number;
  /** The early stopper's progress (see EarlyStopper.state). */
  stopper: { best: number | null; bestAt: number; wait: number; lastEpoch: number };
  /** The best epoch so far and its metrics; `best` holds its weights. */
  bestEpoch: number;
  bestMetrics: EpochMetrics;
  /** The model's current weights (trainable and not, e.g. BatchNorm statistics), in model order. */
  weights: Uint8Array;
  /** The optimizer's slots (iteration count, moments) in tfjs's `getWeights` order. */
  optimizer: Uint8Array;
  /** The best epoch's weights, in model order. */
  best: Uint8Array;
}
