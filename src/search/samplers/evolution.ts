/**
 * Regularized (aging) evolution (Real et al., 2019, "Regularized Evolution for Image
 * Classifier Architecture Search"). The population is the `populationSize` most recent
 * completed trials, by trial number, so old trials age out however good they were. Until
 * that many have completed, trials are drawn at random. Then `sampleSize` distinct members
 * are drawn, the best of them is the parent, and the child is the parent with exactly one
 * searched dimension changed:
 * - a categorical moves to another choice, uniformly;
 * - a number takes a Gaussian step of a tenth of its range (in log space for log-scale
 *   parameters), reflected at the bounds; an int that rounds back to the parent's value
 *   moves one step instead;
 * - the family moves to another family, whose parameters are then drawn at random (they
 *   have no values in the parent to inherit).
 * Only a space with no searched dimension at all yields the parent unchanged.
 */
import { z } from 'zod';
import type { Family, Params } from '../../domain.ts';
import { ValidationError } from '../../errors.ts';
import { isConstant, type Distribution } from '../distribution.ts';
import { intOption, parseOptions } from '../options.ts';
import type { Rng } from '../../rng.ts';
import type { FrozenTrial, Sampler } from '../sampler.ts';
import type { SearchSpace } from '../space.ts';
import { createRandomSampler, sampleParam } from './random.ts';

/** Options of the `evolution` sampler (a study's `search.options`). */
export interface EvolutionOptions {
  /**
   * How many of the most recent completed trials form the population (the paper's P).
   * @defaultValue 20
   */
  populationSize?: number;
  /**
   * Tournament size: members drawn, without replacement, to pick a parent (the paper's S);
   * at most populationSize.
   * @defaultValue 5
   */
  sampleSize?: number;
}

const optionsSchema = z.strictObject({
  populationSize: intOption(2, 1000).optional(),
  sampleSize: intOption(1, 1000).optional(),
});

/** Share of a numeric parameter's (log) range that one mutation moves it by, as a standard deviation. */
const STEP = 0.1;

/** Throws a ValidationError naming `search.options.<key>` for a bad option. */
export function createEvolutionSampler(options: EvolutionOptions = {}): Sampler {
  const { populationSize = 20, sampleSize = 5 } = parseOptions('evolution', optionsSchema, options);
  if (sampleSize > populationSize) {
    throw new ValidationError('search.options.sampleSize', sampleSize, `must be at most populationSize (${populationSize})`);
  }
  const random = createRandomSampler();
  return {
    name: 'evolution',
    sample(space, history, ctx) {
      const sign = ctx.direction === 'minimize' ? 1 : -1;
      const population = history
        .filter((t) => t.state === 'completed' && t.value !== null && !Number.isNaN(t.value) && fits(space, t.params))
        .sort((a, b) => a.number - b.number)
        .slice(-populationSize);
      if (population.length < populationSize) return random.sample(space, history, ctx);

      const contenders = drawDistinct(population, sampleSize, ctx.rng);
      // Best score wins; an equal score goes to the older trial, so the choice is reproducible.
      const parent = contenders.reduce((best, t) => {
        const d = sign * (t.value as number) - sign * (best.value as number);
        return d < 0 || (d === 0 && t.number < best.number) ? t : best;
      });
      return mutate(space, parent.params, ctx.rng);
    },
  };
}

/** Whether `params` name a family of the space (older trials of an edited space may not). */
function fits(space: SearchSpace, params: Params): boolean {
  return space.families.includes(params.family as Family);
}

/** k distinct members, by a partial Fisher-Yates shuffle. */
function drawDistinct<T>(xs: readonly T[], k: number, rng: Rng): T[] {
  const pool = [...xs];
  for (let i = 0; i < k; i++) {
    const j = rng.int(i, pool.length - 1);
    [pool[i], pool[j]] = [pool[j] as T, pool[i] as T];
  }
  return pool.slice(0, k);
}

/** The parent with one searched dimension changed (see the module comment). */
function mutate(space: SearchSpace, parent: Params, rng: Rng): Params {
  const family = parent.family as Family;
  const specs = space.params[family] ?? {};
  const names = Object.keys(specs).sort();
  // Start from the parent, filling in anything the space has gained since it was drawn.
  const child: Params = { family };
  for (const name of names) {
    const spec = specs[name]!;
    child[name] = isConstant(spec) ? spec : parent[name] ?? sampleParam(spec, rng);
  }
  const mutable = names.filter((name) => canChange(specs[name]!));
  const dimensions = space.families.length > 1 ? ['family', ...mutable] : mutable;
  if (dimensions.length === 0) return child;

  const dimension = rng.pick(dimensions);
  if (dimension === 'family') {
    const others = space.families.filter((f) => f !== family);
    const next = rng.pick(others);
    const fresh: Params = { family: next };
    const nextSpecs = space.params[next] ?? {};
    for (const name of Object.keys(nextSpecs).sort()) fresh[name] = sampleParam(nextSpecs[name]!, rng);
    return fresh;
  }
  child[dimension] = mutateValue(specs[dimension] as Distribution, child[dimension]!, rng);
  return child;
}

function canChange(spec: Distribution | string | number | boolean): boolean {
  if (isConstant(spec)) return false;
  if (spec.type === 'categorical') return spec.choices.length > 1;
  if (spec.type === 'int') return spec.high - spec.low >= (spec.step ?? 1);
  return true;
}

function mutateValue(d: Distribution, current: string | number | boolean, rng: Rng): string | number | boolean {
  if (d.type === 'categorical') return rng.pick(d.choices.filter((c) => c !== current));
  const value = current as number;
  const log = d.log === true;
  const lo = log ? Math.log(d.type === 'int' ? d.low - 0.5 : d.low) : d.low;
  const hi = log ? Math.log(d.type === 'int' ? d.high + 0.5 : d.high) : d.high;
  const x = log ? Math.log(value) : value;
  const moved = reflect(x + STEP * (hi - lo) * gaussian(rng), lo, hi);
  const raw = log ? Math.exp(moved) : moved;
  if (d.type === 'float') {
    const next = Math.min(d.high, Math.max(d.low, raw));
    return next !== value ? next : sampleParam(d, rng);
  }
  const step = log ? 1 : d.step ?? 1;
  const top = d.low + step * Math.floor((d.high - d.low) / step);
  const next = Math.min(top, Math.max(d.low, d.low + step * Math.round((raw - d.low) / step)));
  if (next !== value) return next;
  // Rounded back to the parent: move one step the way the draw pointed, or the other way at a bound.
  const up = moved > x ? value + step <= top : value - step < d.low;
  return up ? value + step : value - step;
}

/** Folds x back into [lo, hi] as a mirror would. */
function reflect(x: number, lo: number, hi: number): number {
  const width = hi - lo;
  let t = (x - lo) % (2 * width);
  if (t < 0) t += 2 * width;
  return lo + (t <= width ? t : 2 * width - t);
}

/** A standard normal draw (Box-Muller). */
function gaussian(rng: Rng): number {
  const u = 1 - rng.next(); // (0, 1], so the log is finite
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next());
}
