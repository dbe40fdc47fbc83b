/**
 * Training a trial's model: compute-backend selection, model builders, the in-trial early
 * stopper, the training loop and model (de)serialization. Other modules import from here only.
 */
export { selectBackend, BACKEND_NAMES, GPU_BACKENDS, type BackendName, type SelectedBackend, type ModuleImporter } from './backend.ts';
export { buildModel, disposeModel } from './builders.ts';
export { EarlyStopper, type EarlyStopperOptions } from './early-stopping.ts';
export {
  commonParamsSchema,
  mlpParamsSchema,
  cnnParamsSchema,
  type CommonParams,
  type MlpParams,
  type CnnParams,
} from './params.ts';
export { serializeModel, loadModel, predictBatch } from './serialize.ts';
export { trainTrial, type TrainInput, type TrainResult } from './train.ts';
export { measureCosts, COST_ROWS, type ModelCosts } from './costs.ts';
export { type TrainCheckpoint } from './checkpoint.ts';
export { TrialFailure, TrainingDivergedError, OutOfMemoryError } from './trial-failure.ts';
export { checkSpaceBuildable } from './space-check.ts';
export { checkModelSize, checkTrialModelSize, countModelParams, DEFAULT_MAX_MODEL_PARAMS } from './model-size.ts';
export { backendFaultOf, probeBackend, resetBackend, capWasmHeap, type BackendFault, type BackendHealth } from './backend-health.ts';
