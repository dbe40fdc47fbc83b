/**
 * Random search: every trial is drawn independently of the history. A strong baseline
 * (Bergstra & Bengio, 2012) and the start-up phase of model-based samplers.
 */
import { z } from 'zod';
import type { Params } from '../../domain.ts';
import { isConstant, type Distribution, type ParamSpec } from '../distribution.ts';
import { parseOptions } from '../options.ts';
import type { Rng } from '../../rng.ts';
import type { Sampler } from '../sampler.ts';

/** The `random` sampler takes no options. */
export function createRandomSampler(options: Record<string, never> = {}): Sampler {
  parseOptions('random', z.strictObject({}), options);
  return {
    name: 'random',
    readsHistory: false,
    sample(space, _history, { rng }) {
      const family = rng.pick(space.families);
      const specs = space.params[family] ?? {};
      const params: Params = { family };
      // Sorted, because a space read back from Postgres jsonb comes with its keys reordered,
      // and the same seed must still give the same suggestion.
      for (const name of Object.keys(specs).sort()) {
        params[name] = sampleParam(specs[name] as ParamSpec, rng);
      }
      return params;
    },
  };
}

/** Draws one value of `spec` uniformly (log-uniformly where `log` is set). */
export function sampleParam(spec: ParamSpec, rng: Rng): string | number | boolean {
  return isConstant(spec) ? spec : sampleDistribution(spec, rng);
}

function sampleDistribution(d: Distribution, rng: Rng): string | number | boolean {
  switch (d.type) {
    case 'float': {
      const value = d.log === true
        ? Math.exp(lerp(Math.log(d.low), Math.log(d.high), rng.next()))
        : lerp(d.low, d.high, rng.next());
      // exp(log(x)) and low + u * (high - low) can land an ulp outside the bounds.
      return clamp(value, d.low, d.high);
    }
    case 'int': {
      if (d.log === true) {
        // Widen by half a unit so that rounding gives the end points their fair share
        // (low >= 1 is validated, so the log stays finite).
        const x = Math.exp(lerp(Math.log(d.low - 0.5), Math.log(d.high + 0.5), rng.next()));
        return clamp(Math.round(x), d.low, d.high);
      }
      const step = d.step ?? 1;
      return d.low + step * rng.int(0, Math.floor((d.high - d.low) / step));
    }
    case 'categorical':
      return rng.pick(d.choices);
  }
}

function lerp(a: number, b: number, t: number): number {
  return a + (b - a) * t;
}

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}
