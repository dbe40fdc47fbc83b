import { describe, expect, it } from 'vitest';
import type { TaskSpec } from '../../src/domain.ts';
import { ValidationError } from '../../src/errors.ts';
import {
  buildSpace,
  contains,
  defaultSpace,
  distributionSchema,
  familiesFor,
  parseParamSpec,
  searchSpaceSchema,
} from '../../src/search/index.ts';

const tabular: TaskSpec = { kind: 'tabular', task: 'classification', inputShape: [4], outputs: 3 };
const image: TaskSpec = { kind: 'image', task: 'classification', inputShape: [8, 8, 1], outputs: 10 };
const text: TaskSpec = { kind: 'text', task: 'classification', inputShape: [32], outputs: 2, vocabSize: 100 };
const sequence: TaskSpec = { kind: 'sequence', task: 'regression', inputShape: [8, 8], outputs: 1 };
const series: TaskSpec = { kind: 'timeseries', task: 'forecasting', inputShape: [24, 1], outputs: 6 };

/** Runs `fn`, expects a ValidationError and returns it. */
function rejection(fn: () => unknown): ValidationError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return error as ValidationError;
  }
  throw new Error('expected a ValidationError, but nothing was thrown');
}

describe('familiesFor', () => {
  it('offers mlp for everything, and cnn, rnn and transformer for ordered data', () => {
    expect(familiesFor(tabular)).toEqual(['mlp']);
    for (const spec of [image, text, sequence, series]) expect(familiesFor(spec)).toEqual(['mlp', 'cnn', 'rnn', 'transformer']);
  });

  it('refuses a cnn for a table, and for sequences too short to pool, saying why', () => {
    expect(rejection(() => buildSpace({ families: ['cnn'] }, tabular)).message).toBe(
      'search.families[0]: "cnn" needs ordered inputs (images, text, sequences or time series); dataset is tabular',
    );
    expect(rejection(() => buildSpace({ families: ['cnn'] }, { ...series, inputShape: [1, 3] })).message).toBe(
      'search.families[0]: "cnn" needs at least 2 steps (or pixels a side) to pool; dataset has shape [1, 3]',
    );
  });

  it('refuses an rnn for a table, saying why', () => {
    const error = rejection(() => buildSpace({ families: ['rnn'] }, tabular));
    expect(error.field).toBe('search.families[0]');
    expect(error.message).toContain('needs ordered inputs');
  });

  it('offers a table only the mlp, but builds a transformer over its columns when asked', () => {
    expect(familiesFor(tabular)).toEqual(['mlp']);
    expect(buildSpace({ families: ['mlp', 'transformer'] }, tabular).families).toEqual(['mlp', 'transformer']);
  });

  it('samples an embedding width for an rnn or a cnn only when the inputs are tokens', () => {
    for (const family of ['rnn', 'cnn'] as const) {
      expect(defaultSpace(family, image).embeddingDim).toBeUndefined();
      expect(defaultSpace(family, sequence).embeddingDim).toBeUndefined();
      expect(defaultSpace(family, text).embeddingDim).toEqual({ type: 'int', low: 16, high: 128, log: true });
    }
  });
});

describe('defaultSpace', () => {
  it('gives every family the training parameters', () => {
    for (const family of familiesFor(image)) {
      const space = defaultSpace(family, image);
      expect(space.learningRate).toEqual({ type: 'float', low: 1e-4, high: 1e-2, log: true });
      expect(space.batchSize).toEqual({ type: 'categorical', choices: [32, 64, 128] });
      expect(space.optimizer).toEqual({ type: 'categorical', choices: ['adam', 'rmsprop', 'sgd'] });
    }
  });

  it('searches class weights for classification only', () => {
    for (const spec of [tabular, image, text]) {
      for (const family of familiesFor(spec)) expect(defaultSpace(family, spec).classWeight).toEqual({ type: 'categorical', choices: ['none', 'balanced'] });
    }
    for (const spec of [sequence, series, { ...tabular, task: 'regression' as const, outputs: 1 }]) {
      for (const family of familiesFor(spec)) expect(defaultSpace(family, spec).classWeight).toBeUndefined();
    }
  });

  it('keeps the architecture ranges small', () => {
    expect(Object.keys(defaultSpace('mlp', tabular)).sort()).toEqual(
      ['activation', 'batchNorm', 'batchSize', 'classWeight', 'dropout', 'layers', 'learningRate', 'optimizer', 'units'],
    );
    expect(defaultSpace('mlp', tabular).units).toEqual({ type: 'int', low: 16, high: 256, log: true });
    const cnn = defaultSpace('cnn', image);
    expect(cnn.blocks).toEqual({ type: 'int', low: 1, high: 2 });
    expect(cnn.filters).toEqual({ type: 'int', low: 8, high: 32, log: true });
    expect(cnn.denseUnits).toEqual({ type: 'int', low: 32, high: 128, log: true });
  });

  it('fixes cnn to one block when the image is too small to pool twice', () => {
    expect(defaultSpace('cnn', { ...image, inputShape: [5, 5, 1] }).blocks).toBe(1);
  });

  it('gives a 1-D cnn up to 3 blocks, as many as leave 2 steps, and more filters', () => {
    expect(defaultSpace('cnn', text).blocks).toEqual({ type: 'int', low: 1, high: 3 });
    expect(defaultSpace('cnn', sequence).blocks).toEqual({ type: 'int', low: 1, high: 2 });
    expect(defaultSpace('cnn', { ...series, inputShape: [3, 1] }).blocks).toBe(1);
    expect(defaultSpace('cnn', series).filters).toEqual({ type: 'int', low: 16, high: 64, log: true });
  });

  it('passes its own schema, so defaults can never be invalid', () => {
    for (const spec of [tabular, image, text, sequence, series]) {
      for (const family of familiesFor(spec)) {
        for (const [name, value] of Object.entries(defaultSpace(family, spec))) {
          expect(() => parseParamSpec(`search.space.${family}.${name}`, value)).not.toThrow();
        }
      }
    }
  });

  it('refuses a family that does not fit', () => {
    expect(rejection(() => defaultSpace('cnn', tabular)).message).toContain('needs ordered inputs');
  });
});

describe('buildSpace: families', () => {
  it('names an unknown family by its index and lists the known ones', () => {
    const error = rejection(() => buildSpace({ families: ['mlp', 'xgb'] }, tabular));
    expect(error.field).toBe('search.families[1]');
    expect(error.value).toBe('xgb');
    expect(error.rule).toBe('must be one of mlp, cnn, rnn, transformer');
    expect(error.message).toBe('search.families[1]: "xgb" must be one of mlp, cnn, rnn, transformer');
  });

  it('rejects an empty list and says which families would fit', () => {
    const error = rejection(() => buildSpace({ families: [] }, tabular));
    expect(error.field).toBe('search.families');
    expect(error.message).toContain('mlp');
  });

  it('rejects a family listed twice', () => {
    const error = rejection(() => buildSpace({ families: ['cnn', 'mlp', 'cnn'] }, image));
    expect(error.field).toBe('search.families[2]');
    expect(error.message).toContain('already listed at search.families[0]');
  });

  it('rejects a family that does not fit the data, saying why', () => {
    const error = rejection(() => buildSpace({ families: ['mlp', 'cnn'] }, tabular));
    expect(error.field).toBe('search.families[1]');
    expect(error.message).toBe('search.families[1]: "cnn" needs ordered inputs (images, text, sequences or time series); dataset is tabular');
  });

  it('rejects something that is not a list', () => {
    expect(rejection(() => buildSpace({ families: 'mlp' as unknown as string[] }, tabular)).field).toBe('search.families');
  });

  it('builds the defaults of each family when no space is given', () => {
    const space = buildSpace({ families: ['cnn', 'mlp'] }, image);
    expect(space.families).toEqual(['cnn', 'mlp']);
    expect(space.params.mlp).toEqual(defaultSpace('mlp', image));
    expect(space.params.cnn).toEqual(defaultSpace('cnn', image));
    expect(searchSpaceSchema.parse(JSON.parse(JSON.stringify(space)))).toEqual(space);
  });

  it('leaves out the params of families that are not searched', () => {
    expect(buildSpace({ families: ['mlp'] }, image).params).toEqual({ mlp: defaultSpace('mlp', image) });
  });
});

describe('buildSpace: overrides', () => {
  it('merges distributions and constants over the defaults', () => {
    const space = buildSpace(
      {
        families: ['mlp', 'cnn'],
        space: {
          mlp: { units: { type: 'int', low: 8, high: 64, step: 8 }, optimizer: 'adam', dropout: 0 },
          cnn: { kernelSize: 3, learningRate: { type: 'categorical', choices: [0.001, 0.01] } },
        },
      },
      image,
    );
    const mlp = space.params.mlp!;
    expect(mlp.units).toEqual({ type: 'int', low: 8, high: 64, step: 8 });
    expect(mlp.optimizer).toBe('adam');
    expect(mlp.dropout).toBe(0);
    expect(mlp.layers).toEqual(defaultSpace('mlp', image).layers);
    expect(space.params.cnn!.kernelSize).toBe(3);
    expect(space.params.cnn!.learningRate).toEqual({ type: 'categorical', choices: [0.001, 0.01] });
    expect(space.params.cnn!.filters).toEqual(defaultSpace('cnn', image).filters);
  });

  it('does not let one build leak into the next', () => {
    buildSpace({ families: ['mlp'], space: { mlp: { layers: 2 } } }, tabular);
    expect(buildSpace({ families: ['mlp'] }, tabular).params.mlp!.layers).toEqual({ type: 'int', low: 1, high: 3 });
  });

  it('rejects a parameter the family does not know, listing the known ones', () => {
    const error = rejection(() => buildSpace({ families: ['mlp'], space: { mlp: { unitz: 32 } } }, tabular));
    expect(error.field).toBe('search.space.mlp.unitz');
    expect(error.message).toContain('is not a parameter of mlp; known: activation, batchNorm, batchSize');
  });

  it('rejects a "__proto__" parameter instead of reaching Object.prototype', () => {
    const space = JSON.parse('{"mlp": {"__proto__": {"type": "int", "low": 1, "high": 2}}}') as unknown;
    expect(rejection(() => buildSpace({ families: ['mlp'], space }, tabular)).field).toBe('search.space.mlp.__proto__');
  });

  it('rejects space for a family that is not searched', () => {
    const error = rejection(() => buildSpace({ families: ['mlp'], space: { cnn: { blocks: 1 } } }, image));
    expect(error.field).toBe('search.space.cnn');
    expect(error.message).toContain('not in search.families');
  });

  it('rejects space for something that is not a family', () => {
    const error = rejection(() => buildSpace({ families: ['mlp'], space: { xgb: {} } }, image));
    expect(error.field).toBe('search.space.xgb');
    expect(error.message).toContain('must be one of mlp, cnn');
  });

  it('rejects a space or family entry that is not an object', () => {
    expect(rejection(() => buildSpace({ families: ['mlp'], space: [] }, tabular)).field).toBe('search.space');
    expect(rejection(() => buildSpace({ families: ['mlp'], space: { mlp: 3 } }, tabular)).field).toBe('search.space.mlp');
  });

  it('rejects an override whose values have the wrong type for the parameter', () => {
    const float = rejection(() =>
      buildSpace({ families: ['mlp'], space: { mlp: { layers: { type: 'float', low: 1, high: 3 } } } }, tabular),
    );
    expect(float.field).toBe('search.space.mlp.layers');
    expect(float.message).toContain('must give integer values');
    expect(rejection(() => buildSpace({ families: ['mlp'], space: { mlp: { batchNorm: 1 } } }, tabular)).field)
      .toBe('search.space.mlp.batchNorm');
    expect(rejection(() => buildSpace({ families: ['mlp'], space: { mlp: { activation: { type: 'categorical', choices: ['relu', 1] } } } }, tabular)).field)
      .toBe('search.space.mlp.activation');
  });
});

describe('distribution validation', () => {
  const at = (value: unknown): ValidationError =>
    rejection(() => buildSpace({ families: ['mlp'], space: { mlp: { units: value } } }, tabular));

  it.each([
    [{ type: 'int', low: 0, high: 256, log: true }, 'search.space.mlp.units.low', 'search.space.mlp.units.low: 0 must be > 0 for a log scale'],
    [{ type: 'int', low: 64, high: 16 }, 'search.space.mlp.units.low', 'must be < high 16'],
    [{ type: 'int', low: 16, high: 16 }, 'search.space.mlp.units.low', 'must be < high 16'],
    [{ type: 'int', low: 1.5, high: 16 }, 'search.space.mlp.units.low', 'must be an integer'],
    [{ type: 'int', low: 1, high: 16.5 }, 'search.space.mlp.units.high', 'must be an integer'],
    [{ type: 'int', low: 1, high: 16, step: 0 }, 'search.space.mlp.units.step', 'must be an integer > 0'],
    [{ type: 'int', low: 1, high: 16, step: 2, log: true }, 'search.space.mlp.units.step', 'cannot be combined with log'],
    [{ type: 'int', low: 'a', high: 16 }, 'search.space.mlp.units.low', 'must be a finite number'],
    [{ type: 'int', lo: 1, high: 16 }, 'search.space.mlp.units.lo', 'is not a key of an int distribution (known: type, low, high, step, log)'],
    [{ type: 'beta', a: 1 }, 'search.space.mlp.units.type', 'must be one of float, int, categorical'],
    [{ low: 1, high: 2 }, 'search.space.mlp.units.type', 'must be one of float, int, categorical'],
    [{ type: 'categorical', choices: [] }, 'search.space.mlp.units.choices', 'must not be empty'],
    [{ type: 'categorical', choices: [16, null] }, 'search.space.mlp.units.choices[1]', 'must be a string, number or boolean'],
    [{ type: 'categorical', choices: [16, 32, 16] }, 'search.space.mlp.units.choices[2]', 'is listed twice'],
    [[16, 32], 'search.space.mlp.units', 'must be a distribution'],
    [null, 'search.space.mlp.units', 'must be a distribution'],
  ])('%j → %s', (value, field, rule) => {
    const error = at(value);
    expect(error.field).toBe(field);
    expect(error.message).toContain(field);
    expect(error.message).toContain(rule);
  });

  it('checks floats: order, log scale, finiteness', () => {
    const lr = (value: unknown): ValidationError =>
      rejection(() => buildSpace({ families: ['mlp'], space: { mlp: { learningRate: value } } }, tabular));
    expect(lr({ type: 'float', low: 0, high: 0.1, log: true }).message)
      .toBe('search.space.mlp.learningRate.low: 0 must be > 0 for a log scale');
    expect(lr({ type: 'float', low: 0.1, high: 0.01 }).field).toBe('search.space.mlp.learningRate.low');
    expect(lr(Number.NaN).field).toBe('search.space.mlp.learningRate');
    expect(lr({ type: 'float', low: 0.1, high: Infinity }).field).toBe('search.space.mlp.learningRate.high');
  });

  it('keeps the schema and contains() consistent', () => {
    const grid = distributionSchema.parse({ type: 'int', low: 1, high: 10, step: 3 });
    expect([1, 4, 7, 10].every((v) => contains(grid, v))).toBe(true);
    expect([0, 2, 11, 4.5, '4'].some((v) => contains(grid, v))).toBe(false);
    expect(contains('adam', 'adam')).toBe(true);
    expect(contains({ type: 'float', low: 0, high: 1 }, 1.5)).toBe(false);
    expect(contains({ type: 'categorical', choices: [true] }, 'true')).toBe(false);
  });
});

describe('space limits (bounded validation)', () => {
  const many = (n: number) => Array.from({ length: n }, (_, i) => i);

  it('refuses a categorical of more than 1,000 choices with the count, without reading the choices', () => {
    // The issue's repro: ~1,000,000 choices froze the process in a quadratic duplicate check.
    const started = performance.now();
    const error = rejection(() => parseParamSpec('search.space.mlp.units', { type: 'categorical', choices: many(1_000_000) }));
    console.log(`1,000,000 choices refused in ${(performance.now() - started).toFixed(0)} ms`);
    expect(error.field).toBe('search.space.mlp.units.choices');
    expect(error.rule).toBe('has 1,000,000 choices; the limit is 1,000');
    expect(error.message.length).toBeLessThan(300);
    // Bad items past the limit are not checked one by one either (one issue, not a million).
    expect(rejection(() => parseParamSpec('x', { type: 'categorical', choices: Array(200_000).fill({}) })).rule).toBe('has 200,000 choices; the limit is 1,000');
  });

  it('accepts 1,000 distinct choices and still finds a duplicate among them', () => {
    expect(parseParamSpec('x', { type: 'categorical', choices: many(1000) })).toEqual({ type: 'categorical', choices: many(1000) });
    const error = rejection(() => parseParamSpec('x', { type: 'categorical', choices: [...many(999), 500] }));
    expect(error.field).toBe('x.choices[999]');
    expect(error.rule).toBe('is listed twice');
    // Same-typed equality, as before: 1 and "1" are different choices.
    expect(() => parseParamSpec('x', { type: 'categorical', choices: [1, '1', true] })).not.toThrow();
  });

  it('refuses a string choice or constant longer than 200 characters', () => {
    const long = 'a'.repeat(201);
    const choice = rejection(() => parseParamSpec('search.space.mlp.activation', { type: 'categorical', choices: ['relu', long] }));
    expect(choice.field).toBe('search.space.mlp.activation.choices[1]');
    expect(choice.rule).toBe('has 201 characters; the limit is 200');
    expect(rejection(() => parseParamSpec('search.space.mlp.activation', long)).rule).toBe('has 201 characters; the limit is 200');
  });

  it('reads back a stored space over a limit as one short issue, in bounded time', () => {
    const stored = { families: ['mlp'], params: { mlp: { units: { type: 'categorical', choices: many(1_000_000) } } } };
    const result = searchSpaceSchema.safeParse(stored);
    expect(result.success).toBe(false);
    expect(result.error?.issues).toHaveLength(1);
    // One issue (the parameter is a constant or a distribution, so zod nests the reasons).
    const text = JSON.stringify(result.error?.issues);
    expect(text).toContain('has 1,000,000 choices; the limit is 1,000');
    expect(text.length).toBeLessThan(2000);
    const wide = { families: ['mlp'], params: { mlp: Object.fromEntries(many(100_000).map((i) => [`p${i}`, 1])) } };
    expect(searchSpaceSchema.safeParse(wide).error?.issues[0]?.message).toBe('has 100,000 parameters; the limit is 64');
    const families = searchSpaceSchema.safeParse({ families: Array(200_000).fill(7), params: {} });
    expect(families.error?.issues.map((i) => i.message)).toEqual(['has 200,000 families; the limit is 4']);
  });
});
