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
  createEvolutionSampler,
  createGridSampler,
  createRandomSampler,
  createSampler,
  createTpeSampler,
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

/**
 * The same space with every float made discrete, for grid search: the floats become
 * categoricals, and mlp's dropout a wide int, which keeps the grid large enough (~760,000
 * points) that 50 draws rarely meet.
 */
const gridSpace: SearchSpace = {
  families: space.families,
  params: Object.fromEntries(Object.entries(space.params).map(([family, specs]) => [
    family,
    Object.fromEntries(Object.entries(specs).map(([name, spec]) => [
      name,
      typeof spec === 'object' && spec.type === 'float'
        ? family === 'mlp' && name === 'dropout' ? { type: 'int', low: 0, high: 50 } : { type: 'categorical', choices: [spec.low, spec.high] }
        : spec,
    ])),
  ])),
};

/** A stand-in objective, so model-based samplers have something to learn from. */
function objective(params: Params): number {
  const lr = typeof params.learningRate === 'number' ? params.learningRate : 1e-3;
  return Math.abs(Math.log10(lr) + 3) + (params.family === 'cnn' ? 0 : 0.5);
}

function draw(sampler: Sampler, history: readonly FrozenTrial[], trial: number, seed = SEED, s: SearchSpace = space): Params {
  return sampler.sample(s, history, { direction: 'minimize', rng: rngFor(seed, trial) });
}

/** A history grown by the sampler itself, in every trial state. */
function grownHistory(sampler: Sampler, size: number, s: SearchSpace = space): FrozenTrial[] {
  const states: FrozenTrial['state'][] = ['completed', 'completed', 'failed', 'running', 'queued', 'cancelled', 'completed', 'pruned', 'paused'];
  const history: FrozenTrial[] = [];
  for (let n = 0; n < size; n++) {
    const params = draw(sampler, history, n, SEED, s);
    const state = states[n % states.length]!;
    const valued = state === 'completed' || state === 'pruned' || state === 'paused';
    history.push({ number: n, params, state, value: valued ? objective(params) : null });
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

interface ContractSettings {
  /** The space the sampler is tested on. @defaultValue space */
  space?: SearchSpace;
  /** Whether the sampler takes floats (grid search does not). @defaultValue true */
  continuous?: boolean;
}

function samplerContract(name: string, make: () => Sampler, settings: ContractSettings = {}): void {
  const s = settings.space ?? space;
  const continuous = settings.continuous ?? true;
  describe(`sampler contract: ${name}`, () => {
    const histories: Array<[string, () => FrozenTrial[]]> = [
      ['an empty history', () => []],
      ['a mixed history', () => grownHistory(make(), 30, s)],
      [
        'an all-failed history',
        () => grownHistory(make(), 12, s).map((t) => ({ ...t, state: 'failed' as const, value: null })),
      ],
      [
        'a history of ties (every completed trial scored the same)',
        () => grownHistory(make(), 30, s).map((t) => (t.state === 'completed' ? { ...t, value: 1 } : t)),
      ],
    ];

    it.each(histories)('keeps every param inside its distribution, with %s', (_label, history) => {
      const sampler = make();
      const past = history();
      // With nothing learnt every family must come up; a model-based sampler may then commit to one.
      const learnt = past.some((t) => t.state === 'completed');
      const frozen = structuredClone(past);
      const families = new Set<unknown>();
      for (let n = past.length; n < past.length + 300; n++) {
        const params = draw(sampler, past, n, SEED, s);
        expectValid(params, s);
        families.add(params.family);
      }
      if (!learnt) expect(families).toEqual(new Set(['mlp', 'cnn']));
      expect(past).toEqual(frozen);
    });

    it('gives the same suggestion for the same seed and trial number', () => {
      for (const history of [grownHistory(make(), 20, s), grownHistory(make(), 40, s)]) {
        for (const n of [history.length, history.length + 1, 57]) {
          expect(draw(make(), history, n, SEED, s)).toEqual(draw(make(), history, n, SEED, s));
        }
        // Neither call order, reuse of one sampler object nor the history's order may matter.
        const sampler = make();
        const late = draw(sampler, history, 45, SEED, s);
        draw(sampler, history, 44, SEED, s);
        expect(draw(sampler, history, 45, SEED, s)).toEqual(late);
        expect(draw(sampler, [...history].reverse(), 45, SEED, s)).toEqual(late);
      }
    });

    it.runIf(make().readsHistory === false)('suggests the same whatever the history, as it says it reads none', () => {
      const history = grownHistory(make(), 30, s);
      for (const n of [0, 30, 57]) expect(draw(make(), history, n, SEED, s)).toEqual(draw(make(), [], n, SEED, s));
    });

    it('does not depend on the key order of a space read back from storage', () => {
      const reordered = JSON.parse(JSON.stringify(s, (_k, v: unknown) =>
        v && typeof v === 'object' && !Array.isArray(v)
          ? Object.fromEntries(Object.entries(v as object).reverse())
          : v)) as SearchSpace;
      expect(draw(make(), [], 3, SEED, reordered)).toEqual(draw(make(), [], 3, SEED, s));
      const history = grownHistory(make(), 30, s);
      expect(draw(make(), history, 30, SEED, reordered)).toEqual(draw(make(), history, 30, SEED, s));
    });

    it('gives different suggestions for different trial numbers and seeds', () => {
      const suggestions = new Set<string>();
      for (let n = 0; n < 50; n++) suggestions.add(JSON.stringify(draw(make(), [], n, SEED, s)));
      expect(suggestions.size).toBe(50);
      expect(draw(make(), [], 7, SEED + 1, s)).not.toEqual(draw(make(), [], 7, SEED, s));
    });

    it('returns constants as given and values on the step grid', () => {
      const sampler = make();
      for (let n = 0; n < 200; n++) {
        const params = draw(sampler, [], n, SEED, s);
        if (params.family === 'mlp') {
          expect(params.optimizer).toBe('adam');
          expect([10, 17, 24, 31, 38, 45]).toContain(params.units);
        } else {
          expect(params.kernelSize).toBe(3);
        }
      }
    });

    it.skipIf(!continuous)('spreads log-scale samples across decades', () => {
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

const SAMPLERS: Array<[string, () => Sampler, ContractSettings?]> = [
  ['random', createRandomSampler],
  ['random (by name)', () => createSampler('random')],
  ['grid', createGridSampler, { space: gridSpace, continuous: false }],
  ['grid (by name)', () => createSampler('grid', {}), { space: gridSpace, continuous: false }],
  ['tpe', createTpeSampler],
  ['tpe (multivariate)', () => createTpeSampler({ multivariate: true })],
  ['tpe (by name, 3 start-up trials, no constant liar)', () => createSampler('tpe', { nStartupTrials: 3, constantLiar: false })],
  ['evolution', createEvolutionSampler],
  ['evolution (by name, population 4, tournament 2)', () => createSampler('evolution', { populationSize: 4, sampleSize: 2 })],
];

for (const [name, make, settings] of SAMPLERS) samplerContract(name, make, settings);

describe('createSampler', () => {
  it('knows each sampler by name', () => {
    for (const name of ['random', 'grid', 'tpe', 'evolution']) expect(createSampler(name).name).toBe(name);
  });

  it('rejects an unknown algorithm, naming the field and the known ones', () => {
    for (const algorithm of ['TPE', 'Random', 'toString', '']) {
      let error: unknown;
      try {
        createSampler(algorithm);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).field).toBe('search.algorithm');
      expect((error as ValidationError).message).toBe(`search.algorithm: ${JSON.stringify(algorithm)} must be one of random, grid, tpe, evolution, nsga2, motpe`);
    }
  });

  it.each([
    ['random', { seed: 1 }, 'search.options.seed: 1 is not an option of random (it takes none)'],
    ['grid', { order: 'shuffled' }, 'search.options.order: "shuffled" is not an option of grid (it takes none)'],
    ['tpe', { gamma: 1.5 }, 'search.options.gamma: 1.5 must be a number > 0 and < 1'],
    ['tpe', { gamma: '0.2' }, 'search.options.gamma: "0.2" must be a number > 0 and < 1'],
    ['tpe', { nStartupTrials: 2.5 }, 'search.options.nStartupTrials: 2.5 must be an integer between 0 and 1000'],
    ['tpe', { nEiCandidates: 0 }, 'search.options.nEiCandidates: 0 must be an integer between 1 and 10000'],
    ['tpe', { priorWeight: -1 }, 'search.options.priorWeight: -1 must be a finite number > 0'],
    ['tpe', { constantLiar: 'yes' }, 'search.options.constantLiar: "yes" must be true or false'],
    [
      'tpe',
      { n_startup_trials: 5 },
      'search.options.n_startup_trials: 5 is not an option of tpe (known: considerEndpoints, considerMagicClip, considerPrior, constantLiar, gamma, multivariate, nBelowMax, nEiCandidates, nStartupTrials, priorWeight)',
    ],
    ['evolution', { populationSize: 1 }, 'search.options.populationSize: 1 must be an integer between 2 and 1000'],
    ['evolution', { populationSize: 4, sampleSize: 5 }, 'search.options.sampleSize: 5 must be at most populationSize (4)'],
    ['evolution', { sampleSize: 25 }, 'search.options.sampleSize: 25 must be at most populationSize (20)'],
    ['tpe', [1], 'search.options: [1] must be an object of tpe options'],
  ])('%s refuses the options %j, naming the option and the rule', (algorithm, options, message) => {
    let error: unknown;
    try {
      createSampler(algorithm, options);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).message).toBe(message);
  });

  it('accepts valid options and no options', () => {
    expect(createSampler('tpe', { gamma: 0.25, nStartupTrials: 0, constantLiar: false }).name).toBe('tpe');
    expect(createSampler('evolution', { populationSize: 5, sampleSize: 5 }).name).toBe('evolution');
    expect(createSampler('grid', undefined).name).toBe('grid');
  });
});
