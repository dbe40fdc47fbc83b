/**
 * The contract every sampler keeps, written once and run against each implementation.
 * Add a sampler by adding it to SAMPLERS at the bottom.
 */
import { describe, expect, it } from 'vitest';
import type { Params, TaskSpec } from '../../src/domain.ts';
import { ValidationError } from '../../src/errors.ts';
import {
  buildSpace,
  contains,
  createRandomSampler,
  createSampler,
  rngFor,
  type FrozenTrial,
  type Sampler,
  type SearchSpace,
} from '../../src/search/index.ts';

const image: TaskSpec = { kind: 'image', task: 'classification', inputShape: [8, 8, 1], outputs: 10 };
const SEED = 20240611;

/** Both families with defaults, plus a grid, a constant and a boolean-only override. */
const space: SearchSpace = buildSpace(
  {
    families: ['mlp', 'cnn'],
    space: {
      mlp: { units: { type: 'int', low: 10, high: 50, step: 7 }, optimizer: 'adam' },
      cnn: { kernelSize: 3 },
    },
  },
  image,
);

/** A stand-in objective, so model-based samplers have something to learn from. */
function objective(params: Params): number {
  const lr = typeof params.learningRate === 'number' ? params.learningRate : 1e-3;
  return Math.abs(Math.log10(lr) + 3) + (params.family === 'cnn' ? 0 : 0.5);
}

function draw(sampler: Sampler, history: readonly FrozenTrial[], trial: number, seed = SEED, s = space): Params {
  return sampler.sample(s, history, { direction: 'minimize', rng: rngFor(seed, trial) });
}

/** A history grown by the sampler itself, in every trial state. */
function grownHistory(sampler: Sampler, size: number): FrozenTrial[] {
  const states: FrozenTrial['state'][] = ['completed', 'completed', 'failed', 'running', 'queued', 'cancelled'];
  const history: FrozenTrial[] = [];
  for (let n = 0; n < size; n++) {
    const params = draw(sampler, history, n);
    const state = states[n % states.length]!;
    history.push({ number: n, params, state, value: state === 'completed' ? objective(params) : null });
  }
  return history;
}

function expectValid(params: Params, s: SearchSpace = space): void {
  const family = params.family;
  expect(s.families).toContain(family);
  const specs = s.params[family as keyof SearchSpace['params']]!;
  expect(Object.keys(params).sort()).toEqual(['family', ...Object.keys(specs)].sort());
  for (const [name, spec] of Object.entries(specs)) {
    if (!contains(spec, params[name])) {
      throw new Error(`${String(family)}.${name} = ${JSON.stringify(params[name])} is outside ${JSON.stringify(spec)}`);
    }
  }
}

function samplerContract(name: string, make: () => Sampler): void {
  describe(`sampler contract: ${name}`, () => {
    const histories: Array<[string, () => FrozenTrial[]]> = [
      ['an empty history', () => []],
      ['a mixed history', () => grownHistory(make(), 30)],
      [
        'an all-failed history',
        () => grownHistory(make(), 12).map((t) => ({ ...t, state: 'failed' as const, value: null })),
      ],
    ];

    it.each(histories)('keeps every param inside its distribution, with %s', (_label, history) => {
      const sampler = make();
      const past = history();
      const frozen = structuredClone(past);
      const families = new Set<unknown>();
      for (let n = past.length; n < past.length + 300; n++) {
        const params = draw(sampler, past, n);
        expectValid(params);
        families.add(params.family);
      }
      expect(families).toEqual(new Set(['mlp', 'cnn']));
      expect(past).toEqual(frozen);
    });

    it('gives the same suggestion for the same seed and trial number', () => {
      const history = grownHistory(make(), 20);
      for (const n of [20, 21, 57]) {
        expect(draw(make(), history, n)).toEqual(draw(make(), history, n));
      }
      // Neither call order nor reuse of one sampler object may matter.
      const sampler = make();
      const late = draw(sampler, history, 25);
      draw(sampler, history, 24);
      expect(draw(sampler, history, 25)).toEqual(late);
    });

    it('does not depend on the key order of a space read back from storage', () => {
      const reordered = JSON.parse(JSON.stringify(space, (_k, v: unknown) =>
        v && typeof v === 'object' && !Array.isArray(v)
          ? Object.fromEntries(Object.entries(v as object).reverse())
          : v)) as SearchSpace;
      expect(draw(make(), [], 3, SEED, reordered)).toEqual(draw(make(), [], 3));
    });

    it('gives different suggestions for different trial numbers and seeds', () => {
      const suggestions = new Set<string>();
      for (let n = 0; n < 50; n++) suggestions.add(JSON.stringify(draw(make(), [], n)));
      expect(suggestions.size).toBe(50);
      expect(draw(make(), [], 7, SEED + 1)).not.toEqual(draw(make(), [], 7));
    });

    it('returns constants as given and values on the step grid', () => {
      const sampler = make();
      for (let n = 0; n < 200; n++) {
        const params = draw(sampler, [], n);
        if (params.family === 'mlp') {
          expect(params.optimizer).toBe('adam');
          expect([10, 17, 24, 31, 38, 45]).toContain(params.units);
        } else {
          expect(params.kernelSize).toBe(3);
        }
      }
    });

    it('spreads log-scale samples across decades', () => {
      const logSpace: SearchSpace = {
        families: ['mlp'],
        params: {
          mlp: {
            learningRate: { type: 'float', low: 1e-5, high: 1e-1, log: true },
            units: { type: 'int', low: 1, high: 1000, log: true },
          },
        },
      };
      const sampler = make();
      const n = 2_000;
      const lrDecades = [0, 0, 0, 0];
      const unitDecades = [0, 0, 0];
      for (let t = 0; t < n; t++) {
        const params = draw(sampler, [], t, SEED, logSpace);
        expectValid(params, logSpace);
        const lr = params.learningRate as number;
        lrDecades[Math.min(3, Math.floor(Math.log10(lr) + 5))]! += 1;
        const units = params.units as number;
        unitDecades[Math.min(2, Math.floor(Math.log10(units)))]! += 1;
      }
      // Expected n/4 per decade (sd ≈ 19); a uniform draw would put ~90% in the last one.
      for (const count of lrDecades) expect(count).toBeGreaterThan(n / 4 * 0.75);
      // Rounding skews the int decades a little ([0.5, 9.5) vs [99.5, 1000.5]); still ~n/3 each.
      for (const count of unitDecades) expect(count).toBeGreaterThan(n / 3 * 0.7);
    });

    it('samples a space with one family and only constants', () => {
      const fixed: SearchSpace = { families: ['mlp'], params: { mlp: { layers: 2, activation: 'relu', batchNorm: false } } };
      expect(draw(make(), [], 0, SEED, fixed)).toEqual({ family: 'mlp', layers: 2, activation: 'relu', batchNorm: false });
    });
  });
}

const SAMPLERS: Array<[string, () => Sampler]> = [
  ['random', createRandomSampler],
  ['random (by name)', () => createSampler('random')],
];

for (const [name, make] of SAMPLERS) samplerContract(name, make);

describe('createSampler', () => {
  it('knows random by name', () => {
    expect(createSampler('random').name).toBe('random');
  });

  it('rejects an unknown algorithm, naming the field and the known ones', () => {
    for (const algorithm of ['tpe', 'Random', 'toString', '']) {
      let error: unknown;
      try {
        createSampler(algorithm);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).field).toBe('search.algorithm');
      expect((error as ValidationError).message).toBe(`search.algorithm: ${JSON.stringify(algorithm)} must be one of random`);
    }
  });
});
