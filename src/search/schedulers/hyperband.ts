/**
 * Hyperband (Li et al., 2018) made asynchronous as in Optuna's HyperbandPruner: several ASHA
 * brackets, bracket b starting at `minResource · η^b` epochs, so the study hedges between
 * stopping early and aggressively (b = 0) and training every trial longer before judging it.
 * A trial's bracket follows from its number and the study seed, weighted like Hyperband's
 * bracket sizes; trials compete only within their bracket.
 */
import { rngFor } from '../../rng.ts';
import { promotable, rungEpochs, type ResourceOptions, type Scheduler } from './scheduler.ts';

export function createHyperband(options: ResourceOptions, seed: number): Scheduler {
  const { minResource, maxResource, reductionFactor: eta } = options;
  const sMax = Math.max(0, Math.floor(Math.log(maxResource / minResource) / Math.log(eta) + 1e-9));
  // Bracket b has sMax - b halvings; Hyperband starts ⌈(sMax+1)/(s+1) · η^s⌉ trials in the bracket with s halvings.
  const brackets = Array.from({ length: sMax + 1 }, (_, b) => {
    const s = sMax - b;
    return { milestones: rungEpochs(Math.round(minResource * eta ** b), maxResource, eta), weight: Math.ceil(((sMax + 1) / (s + 1)) * eta ** s) };
  });
  const total = brackets.reduce((sum, b) => sum + b.weight, 0);
  const bracketOf = (number: number): number => {
    // A stream of its own (salted), apart from the sampler's rngFor(seed, number).
    let u = rngFor(seed, number, 0x68b).next() * total;
    for (let b = 0; b < brackets.length; b++) {
      u -= (brackets[b] as { weight: number }).weight;
      if (u < 0) return b;
    }
    return brackets.length - 1;
  };
  return {
    name: 'hyperband',
    milestones: (number) => (brackets[bracketOf(number)] as { milestones: number[] }).milestones,
    promotions(trials, direction, directions) {
      // Each bracket's own order (highest rung, then best value, first), merged by the epochs the
      // trials have trained: rung k is a different number of epochs in each bracket. The sort
      // is stable, so a bracket's best-first order holds among equals.
      const trained = new Map(trials.map((t) => [t.number, brackets[bracketOf(t.number)]?.milestones[t.rung] ?? 0]));
      return brackets
        .flatMap((bracket, b) => promotable(trials.filter((t) => bracketOf(t.number) === b), bracket.milestones.length - 1, eta, direction, directions))
        .sort((a, b) => (trained.get(b) ?? 0) - (trained.get(a) ?? 0));
    },
  };
}
