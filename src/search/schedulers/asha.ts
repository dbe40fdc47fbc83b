/**
 * ASHA, asynchronous successive halving (Li et al., 2020): every trial starts at
 * `minResource` epochs; at each rung it pauses, and it goes on (from its checkpoint, in a new
 * job) once it is among the best 1/η of the trials that reached that rung. Promotions never
 * wait for a rung to fill, so workers are never idle waiting for stragglers.
 */
import { promotable, rungEpochs, type ResourceOptions, type Scheduler } from './scheduler.ts';

export function createAsha(options: ResourceOptions): Scheduler {
  const milestones = rungEpochs(options.minResource, options.maxResource, options.reductionFactor);
  return {
    name: 'asha',
    milestones: () => milestones,
    promotions: (trials, direction, directions) => promotable(trials, milestones.length - 1, options.reductionFactor, direction, directions),
  };
}
