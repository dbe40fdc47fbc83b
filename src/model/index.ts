/**
 * The model layer: compute-backend selection, the model families and their builders, parameter
 * and size checks, (de)serialization and prediction. The api (space checks), serving (load,
 * predict) and workers (train) all depend on it; it depends on none of them.
 */
export { selectBackend, BACKEND_NAMES, GPU_BACKENDS, type BackendName, type SelectedBackend, type ModuleImporter } from './backend.ts';
export { buildModel, disposeModel } from './builders.ts';
export {
  commonParamsSchema,
  mlpParamsSchema,
  cnnParamsSchema,
  parseCommonParams,
  type CommonParams,
  type MlpParams,
  type CnnParams,
} from './params.ts';
export { serializeModel, loadModel, predictBatch } from './serialize.ts';
export { measureCosts, COST_ROWS, type ModelCosts } from './costs.ts';
export { TrialFailure, TrainingDivergedError, OutOfMemoryError, asOutOfMemory } from './trial-failure.ts';
export { checkSpaceBuildable } from './space-check.ts';
export { checkModelSize, checkTrialModelSize, countModelParams, DEFAULT_MAX_MODEL_PARAMS } from './model-size.ts';
export { backendFaultOf, probeBackend, resetBackend, capWasmHeap, type BackendFault, type BackendHealth } from './backend-health.ts';
