export { createAsha } from './asha.ts';
export { createHyperband } from './hyperband.ts';
export { rungEpochs, promotable, type ResourceOptions, type RungPoint, type ScheduledTrial, type Scheduler } from './scheduler.ts';
export { bestByFront } from './mo-rung.ts';
export { parseScheduling, schedulerFor, SCHEDULERS, PRUNERS, type Scheduling, type SchedulingInput } from './config.ts';
export { medianPrunes, DEFAULT_MEDIAN_PRUNER, type MedianPrunerOptions } from '../pruners/median.ts';
