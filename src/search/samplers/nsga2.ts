/**
 * NSGA-II (Deb et al., 2002, "A fast and elitist multiobjective genetic algorithm"), after
 * Optuna 3.1's NSGAIISampler and its defaults: uniform crossover, binary tournaments,
 * mutation by redrawing each parameter at random with probability 1 / parameters.
 *
 * Stateless: Optuna stores each trial's generation; here generations are read from the
 * history. The completed trials with every objective, by number, are cut into generations of
 * `populationSize`: trials 0..P-1 (drawn at random) are generation 0, the next P generation
 * 1, and so on; a generation still filling up is the one being drawn. The parents of each
 * generation are the elite of the one before and its parents: whole fronts of the
 * non-dominated sort, by Deb's constrained domination (`FrozenTrial.violation`), the last
 * front cut by crowding distance.
 *
 * One objective works too: domination is then "better value", so this is a plain genetic
 * algorithm with elitist selection.
 *
 * Where a space has several families, the family is one more categorical dimension; a
 * child's parameters come only from parents of the family it got (Optuna, whose relative
 * space is the intersection over all trials, would draw them all at random).
 */
import { z } from 'zod';
import type { Direction, Family, Params } from '../../domain.ts';
import { contains, isConstant, type Distribution } from '../distribution.ts';
import { intOption, parseOptions } from '../options.ts';
import { constrainedDominates, crowdingDistance, nonDominatedSort } from '../pareto.ts';
import type { Rng } from '../../rng.ts';
import type { Sampler } from '../sampler.ts';
import type { SearchSpace } from '../space.ts';
import { directionsOf, scoredTrials, type ScoredTrial } from './mo-trials.ts';
import { createRandomSampler, sampleParam } from './random.ts';

/** Options of the `nsga2` sampler (a study's `search.options`). */
export interface Nsga2Options {
  /**
   * Trials per generation; the first generation is drawn at random.
   * @defaultValue 50
   */
  populationSize?: number;
  /**
   * Probability of redrawing each parameter of a child at random; absent: 1 / the number
   * of searched parameters (the family counting as one where there are several).
   * @defaultValue 1 / parameters
   */
  mutationProb?: number;
  /**
   * Probability that a child is a crossover of two parents rather than a copy of one.
   * @defaultValue 0.9
   */
  crossoverProb?: number;
  /**
   * Probability, in a crossover, of taking each parameter from the second parent.
   * @defaultValue 0.5
   */
  swappingProb?: number;
}

const probability = () => z.number({ error: 'must be a number between 0 and 1' })
  .refine((v) => v >= 0 && v <= 1, 'must be a number between 0 and 1');

const optionsSchema = z.strictObject({
  populationSize: intOption(2, 10_000).optional(),
  mutationProb: probability().optional(),
  crossoverProb: probability().optional(),
  swappingProb: probability().optional(),
});

/** Throws a ValidationError naming `search.options.<key>` for a bad option. */
export function createNsga2Sampler(options: Nsga2Options = {}): Sampler {
  const o = parseOptions('nsga2', optionsSchema, options);
  const populationSize = o.populationSize ?? 50;
  const crossoverProb = o.crossoverProb ?? 0.9;
  const swappingProb = o.swappingProb ?? 0.5;
  const random = createRandomSampler();
  return {
    name: 'nsga2',
    sample(space, history, ctx) {
      const directions = directionsOf(ctx);
      const parents = parentPopulation(scoredTrials(history, space, directions), populationSize, directions);
      if (parents.length === 0) return random.sample(space, history, ctx);
      const rng = ctx.rng;
      let child: Params;
      if (rng.next() < crossoverProb) {
        const first = tournament(parents, directions, rng);
        const second = tournament(parents.filter((t) => t !== first), directions, rng);
        child = crossover(space, first.params, second.params, swappingProb, rng);
      } else {
        child = rng.pick(parents).params;
      }
      return mutate(space, child, o.mutationProb, rng);
    },
  };
}

/**
 * The parents of the generation being drawn: the elite carried through every full
 * generation; empty while generation 0 is still filling up.
 */
function parentPopulation(trials: readonly ScoredTrial[], size: number, directions: readonly Direction[]): ScoredTrial[] {
  let population: ScoredTrial[] = [];
  for (let start = 0; start + size <= trials.length; start += size) {
    population = elite([...trials.slice(start, start + size), ...population], size, directions);
  }
  return population;
}

/** The `size` best by constrained non-dominated rank, ties in the last front broken by crowding distance. */
function elite(candidates: readonly ScoredTrial[], size: number, directions: readonly Direction[]): ScoredTrial[] {
  const fronts = nonDominatedSort(candidates.map((t) => t.values), directions, candidates.map((t) => t.violation));
  const out: ScoredTrial[] = [];
  for (const front of fronts) {
    const members = front.map((i) => candidates[i]!);
    if (out.length + members.length <= size) {
      out.push(...members);
      if (out.length === size) break;
      continue;
    }
    const distance = crowdingDistance(members.map((t) => t.values));
    const order = members.map((_, i) => i).sort((i, j) => distance[j]! - distance[i]! || members[i]!.number - members[j]!.number);
    out.push(...order.slice(0, size - out.length).map((i) => members[i]!));
    break;
  }
  return out;
}

/** Binary tournament: of two members drawn with replacement, the first if it dominates the second. */
function tournament(population: readonly ScoredTrial[], directions: readonly Direction[], rng: Rng): ScoredTrial {
  const a = rng.pick(population);
  const b = rng.pick(population);
  return constrainedDominates(a.values, a.violation, b.values, b.violation, directions) ? a : b;
}

/**
 * Uniform crossover, Optuna's way round: each dimension comes from the second parent when a
 * draw is >= swappingProb (so at the default 0.5 either parent, evenly).
 */
function crossover(space: SearchSpace, first: Params, second: Params, swappingProb: number, rng: Rng): Params {
  const family = space.families.length > 1
    ? (rng.next() >= swappingProb ? second.family : first.family) as Family
    : space.families[0]!;
  const child: Params = { family };
  const specs = space.params[family] ?? {};
  for (const name of Object.keys(specs).sort()) {
    const spec = specs[name]!;
    if (isConstant(spec)) {
      child[name] = spec;
      continue;
    }
    const from = [first, second].filter((p) => p.family === family && contains(spec, p[name]));
    const pick = from.length === 2 ? from[rng.next() >= swappingProb ? 1 : 0] : from[0];
    child[name] = pick === undefined ? sampleParam(spec, rng) : pick[name]!;
  }
  return child;
}

/**
 * Redraws each searched dimension with probability mutationProb (absent: 1 / dimensions); a
 * new family redraws that family's parameters too. Also fills in, at random, anything the
 * parent lacks because the space changed since it was drawn.
 */
function mutate(space: SearchSpace, parent: Params, mutationProb: number | undefined, rng: Rng): Params {
  const searched = (family: Family): string[] => Object.keys(space.params[family] ?? {})
    .filter((name) => !isConstant(space.params[family]![name]!))
    .sort();
  const withFamily = space.families.length > 1 ? 1 : 0;
  const p = mutationProb ?? 1 / Math.max(1, searched(parent.family as Family).length + withFamily);
  let family = parent.family as Family;
  if (withFamily === 1 && rng.next() < p) family = rng.pick(space.families);
  const specs = space.params[family] ?? {};
  const child: Params = { family };
  for (const name of Object.keys(specs).sort()) {
    const spec = specs[name]!;
    if (isConstant(spec)) child[name] = spec;
    else {
      const keep = family === parent.family && contains(spec as Distribution, parent[name]) && !(rng.next() < p);
      child[name] = keep ? parent[name]! : sampleParam(spec, rng);
    }
  }
  return child;
}
