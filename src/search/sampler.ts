/**
 * The sampler contract: given the search space and the study's history, suggest the next
 * trial's parameters. Samplers are pure: they keep no state between calls, take all
 * randomness from `ctx.rng`, and so any coordinator process can ask any of them.
 */
import type { Direction, Params, TrialState } from '../domain.ts';
import { ValidationError } from '../errors.ts';
import type { Rng } from './rng.ts';
import type { SearchSpace } from './space.ts';
import { createRandomSampler } from './samplers/random.ts';

/** A trial as a sampler sees it: a read-only snapshot taken from storage. */
export interface FrozenTrial {
  /** Position of the trial in its study, from 0; unique within the study. */
  number: number;
  /** The parameters it was (or will be) trained with; always includes `family`. */
  params: Params;
  /**
   * Where the trial stands. Only `completed` trials carry a value a sampler should learn
   * from; `running` and `queued` ones tell it what is already being tried.
   */
  state: TrialState;
  /** The objective for a completed trial (read with the study's direction); null otherwise. */
  value: number | null;
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
}

/** Suggests parameters for one new trial. Implementations are stateless. */
export interface Sampler {
  /** The algorithm name a study names it by, e.g. `random`. */
  readonly name: string;
  /**
   * Returns the parameters of the next trial: `family` (one of `space.families`) and
   * exactly the parameters of that family, each a value its distribution can produce and
   * each constant as given. `history` holds the study's other trials, in any state, and
   * may be empty; the sampler must not change it.
   */
  sample(space: SearchSpace, history: readonly FrozenTrial[], ctx: SampleContext): Params;
}

const SAMPLERS: Record<string, () => Sampler> = {
  random: createRandomSampler,
};

/** The algorithm names that {@link createSampler} accepts. */
export const SAMPLER_ALGORITHMS: readonly string[] = Object.keys(SAMPLERS);

/** The sampler for a study's `search.algorithm`; a ValidationError for an unknown name. */
export function createSampler(algorithm: string): Sampler {
  const make = Object.hasOwn(SAMPLERS, algorithm) ? SAMPLERS[algorithm] : undefined;
  if (make === undefined) {
    throw new ValidationError('search.algorithm', algorithm, `must be one of ${SAMPLER_ALGORITHMS.join(', ')}`);
  }
  return make();
}
