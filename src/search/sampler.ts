/**
 * The sampler contract: given the search space and the study's history, suggest the next
 * trial's parameters. Samplers are pure: they keep no state between calls, take all
 * randomness from `ctx.rng`, and so any coordinator process can ask any of them.
 */
import type { Direction, Params, TrialState } from '../domain.ts';
import { ValidationError } from '../errors.ts';
import type { Rng } from '../rng.ts';
import type { SearchSpace } from './space.ts';
import { createEvolutionSampler, type EvolutionOptions } from './samplers/evolution.ts';
import { createGridSampler } from './samplers/grid.ts';
import { createMotpeSampler, type MotpeOptions } from './samplers/motpe.ts';
import { createNsga2Sampler, type Nsga2Options } from './samplers/nsga2.ts';
import { createRandomSampler } from './samplers/random.ts';
import { createTpeSampler, type TpeOptions } from './samplers/tpe.ts';

/** A trial as a sampler sees it: a read-only snapshot taken from storage. */
export interface FrozenTrial {
  /** Position of the trial in its study, from 0; unique within the study. */
  number: number;
  /** The parameters it was (or will be) trained with; always includes `family`. */
  params: Params;
  /**
   * Where the trial stands. `completed` trials carry the value a sampler should learn from;
   * `pruned` ones the best value they reached before a scheduler stopped them (a weaker
   * signal); `queued`, `running` and `paused` (waiting for a scheduler's promotion) ones tell
   * it what is already being tried. `failed` and `cancelled` ones carry nothing.
   */
  state: TrialState;
  /** The objective for a completed trial (read with the study's direction); null otherwise. */
  value: number | null;
  /**
   * Every objective of a multi-objective study, in the order of `SampleContext.directions`
   * (`value` stays the primary one, `values[0]`). Absent for a single-objective study.
   */
  values?: number[];
  /**
   * How far a completed trial breaks the study's constraints, summed: 0 (or absent) means
   * feasible, more is worse. Only multi-objective samplers read it (Deb's rule).
   */
  violation?: number;
}

/** What a sampler needs besides the space and the history. */
export interface SampleContext {
  /** Whether lower or higher objective values are better. */
  direction: Direction;
  /**
   * This suggestion's random stream, normally `rngFor(studySeed, trialNumber)`, so the same
   * trial gets the same suggestion however many others were drawn before it.
   */
  rng: Rng;
  /**
   * One direction per objective of a multi-objective study, read by the multi-objective
   * samplers (`nsga2`, `motpe`); absent means one objective, `direction`. The first must
   * equal `direction`.
   */
  directions?: Direction[];
}

/** Suggests parameters for one new trial. Implementations are stateless. */
export interface Sampler {
  /** The algorithm name a study names it by, e.g. `random`. */
  readonly name: string;
  /**
   * Returns the parameters of the next trial: `family` (one of `space.families`) and
   * exactly the parameters of that family, each a value its distribution can produce and
   * each constant as given. `history` holds the study's other trials, in any state and any
   * order, and may be empty; the sampler must not change it. Throws a
   * SearchSpaceExhaustedError when nothing is left to try (every point of a grid), which
   * ends the study rather than failing it.
   */
  sample(space: SearchSpace, history: readonly FrozenTrial[], ctx: SampleContext): Params;
  /**
   * Throws a ValidationError naming the parameter when this sampler cannot search `space`
   * (grid search and a float); called when a study is created. Absent: any space will do.
   */
  checkSpace?(space: SearchSpace): void;
  /**
   * False when `sample` never reads `history` (random search), so a coordinator may skip
   * reading every past trial of a study before asking. @defaultValue true
   */
  readonly readsHistory?: boolean;
}

/** Each sampler validates its own options (a study's `search.options`) when it is made. */
const SAMPLERS: Record<string, (options: unknown) => Sampler> = {
  random: (options) => createRandomSampler(options as Record<string, never>),
  grid: (options) => createGridSampler(options as Record<string, never>),
  tpe: (options) => createTpeSampler(options as TpeOptions),
  evolution: (options) => createEvolutionSampler(options as EvolutionOptions),
  nsga2: (options) => createNsga2Sampler(options as Nsga2Options),
  motpe: (options) => createMotpeSampler(options as MotpeOptions),
};

/** The algorithm names that {@link createSampler} accepts. */
export const SAMPLER_ALGORITHMS: readonly string[] = Object.keys(SAMPLERS);

/**
 * The sampler for a study's `search.algorithm`, configured by its `search.options` (none:
 * the algorithm's defaults). A ValidationError for an unknown name, or for an option that is
 * unknown or breaks its rule (the field is `search.options.<key>`).
 */
export function createSampler(algorithm: string, options?: unknown): Sampler {
  const make = Object.hasOwn(SAMPLERS, algorithm) ? SAMPLERS[algorithm] : undefined;
  if (make === undefined) {
    throw new ValidationError('search.algorithm', algorithm, `must be one of ${SAMPLER_ALGORITHMS.join(', ')}`);
  }
  return make(options);
}
