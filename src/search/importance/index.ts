/** Hyperparameter importance of a study: history in, each parameter's share out. Pure and deterministic. */
export { pedAnova, type ImportanceResult, type ParamImportance, type PedAnovaOptions } from './ped-anova.ts';
