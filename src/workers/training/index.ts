/**
 * Training a trial's model: the training loop, the in-trial early stopper and checkpoints.
 * The model itself (families, builders, backends, serialization) is `src/model`.
 */
export { EarlyStopper, type EarlyStopperOptions } from './early-stopping.ts';
export { trainTrial, type TrainInput, type TrainResult } from './train.ts';
export { type TrainCheckpoint } from './checkpoint.ts';
