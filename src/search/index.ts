/** The search layer: spaces, samplers and seeded randomness. Pure: history in, decision out. */
export { rngFor, type Rng } from '../rng.ts';
export {
  DISTRIBUTION_TYPES,
  categoricalDistributionSchema,
  contains,
  distributionSchema,
  floatDistributionSchema,
  intDistributionSchema,
  isConstant,
  paramSpecSchema,
  parseParamSpec,
  type CategoricalDistribution,
  type Constant,
  type Distribution,
  type FloatDistribution,
  type IntDistribution,
  type ParamSpec,
} from './distribution.ts';
export {
  buildSpace,
  fitsSpace,
  defaultSpace,
  familiesFor,
  searchSpaceSchema,
  type SearchSpace,
  type SpaceInput,
} from './space.ts';
export {
  SAMPLER_ALGORITHMS,
  createSampler,
  type FrozenTrial,
  type SampleContext,
  type Sampler,
} from './sampler.ts';
export { createRandomSampler } from './samplers/random.ts';
export { MAX_GRID_POINTS, createGridSampler } from './samplers/grid.ts';
export { createTpeSampler, type TpeOptions } from './samplers/tpe.ts';
export { createEvolutionSampler, type EvolutionOptions } from './samplers/evolution.ts';
export { createNsga2Sampler, type Nsga2Options } from './samplers/nsga2.ts';
export { createMotpeSampler, type MotpeOptions } from './samplers/motpe.ts';
export { constrainedDominates, crowdingDistance, dominates, hypervolume, hypervolumeContributions, nonDominatedSort } from './pareto.ts';
export {
  bestFeasible,
  frontRanking,
  objectivesOf,
  peelFronts,
  ranksByFront,
  referencePoint,
  valuesOf,
  violationOf,
  type Constraint,
  type FrontPlace,
  type Objective,
  type ObjectiveConfig,
} from './objectives.ts';
