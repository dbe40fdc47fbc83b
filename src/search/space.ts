/**
 * Search spaces: which model families to try and, per family, the parameters to sample.
 * The family is itself a searched choice; a family's parameters exist only when it is chosen.
 */
import { z } from 'zod';
import { FAMILIES, type Family, type Params, type TaskSpec } from '../domain.ts';
import { ValidationError } from '../errors.ts';
import { boundedArray, boundedRecord } from '../bounded-schemas.ts';
import { contains, isConstant, paramSpecSchema, parseParamSpec, type ParamSpec } from './distribution.ts';
import { MAX_FAMILY_PARAMS } from './limits.ts';

/** What a sampler searches over. Plain JSON; {@link searchSpaceSchema} reads it back. */
export interface SearchSpace {
  /** Families to try, non-empty and distinct; the sampler picks one per trial. */
  families: Family[];
  /**
   * Each family's parameters (architecture and training), sampled only when that family
   * is picked. Every family in `families` has an entry; other families have none.
   */
  params: Partial<Record<Family, Record<string, ParamSpec>>>;
}

const familySchema = z.enum(FAMILIES as [Family, ...Family[]]);

export const searchSpaceSchema = z
  .strictObject({
    // Bounded before their items are read: a stored space is parsed again on every coordinator tick.
    families: boundedArray(familySchema, FAMILIES.length, { min: 1, what: 'families' }),
    params: z.partialRecord(familySchema, boundedRecord(paramSpecSchema, MAX_FAMILY_PARAMS, 'parameters')),
  })
  .superRefine((space, ctx) => {
    space.families.forEach((family, i) => {
      if (space.families.indexOf(family) !== i) {
        ctx.addIssue({ code: 'custom', path: ['families', i], message: 'is listed twice' });
      } else if (space.params[family] === undefined) {
        ctx.addIssue({ code: 'custom', path: ['params', family], message: 'is missing' });
      }
    });
  }) satisfies z.ZodType<SearchSpace>;

/** Why `family` cannot model this data, or null when it can. */
function misfit(family: Family, spec: TaskSpec): string | null {
  switch (family) {
    case 'mlp':
      return null;
    case 'cnn': {
      // Convolutions look for local patterns along an order; a table's columns have none.
      if (spec.kind === 'tabular') return `needs ordered inputs (images, text, sequences or time series); dataset is tabular`;
      const sides = cnnSides(spec);
      if (sides === null) {
        return `needs [height, width, channels], [steps, features] or token-id inputs; dataset has shape [${spec.inputShape.join(', ')}]`;
      }
      if (Math.min(...sides) < 2) return `needs at least 2 steps (or pixels a side) to pool; dataset has shape [${spec.inputShape.join(', ')}]`;
      return null;
    }
    case 'rnn':
      // Sequences, text and image rows are orderings worth modelling; a table's columns are not.
      if (spec.kind === 'tabular') return `needs ordered inputs (text, sequences, time series or images); dataset is tabular`;
      return null;
    case 'transformer':
      // A table's columns become one token each (FT-Transformer), so attention has a set to work on.
      return null;
  }
}

/**
 * Why `family` is left out of a study that names no families, or null when it is offered.
 * A transformer fits a table but is a poor first choice for a few columns: it is tried only when asked.
 */
function notByDefault(family: Family, spec: TaskSpec): string | null {
  const why = misfit(family, spec);
  if (why !== null) return why;
  if (family === 'transformer' && spec.kind === 'tabular') return 'is not offered for tables unless named in search.families';
  return null;
}

/**
 * The sides a cnn's blocks halve: `[height, width]` of images (2-D convolutions), `[steps]`
 * of sequences, time series and token ids (1-D); null when the shape is none of these.
 * Mirrors `cnnInput` of the model builders, which this pure module does not import.
 */
function cnnSides(spec: TaskSpec): number[] | null {
  const shape = spec.inputShape;
  if (spec.vocabSize !== undefined) return shape.length === 1 ? shape : null;
  if (shape.length === 3) return shape.slice(0, 2);
  if (shape.length === 2) return shape.slice(0, 1);
  return null;
}

/** The families a study gets when it names none: mlp always; cnn, rnn and transformer for anything ordered (a transformer on a table only when asked). */
export function familiesFor(spec: TaskSpec): Family[] {
  return FAMILIES.filter((family) => notByDefault(family, spec) === null);
}

/**
 * The default parameters of `family` for this data, including the training parameters
 * (learningRate, batchSize, optimizer, and classWeight for classification). Ranges are kept
 * small on purpose: trials may run on the pure-JS cpu backend, where a wide CNN takes
 * seconds per batch.
 * Throws a ValidationError when the family does not fit the data (see {@link familiesFor}).
 */
export function defaultSpace(family: Family, spec: TaskSpec): Record<string, ParamSpec> {
  const why = misfit(family, spec);
  if (why !== null) throw new ValidationError('search.families', family, why);
  const training: Record<string, ParamSpec> = {
    learningRate: { type: 'float', low: 1e-4, high: 1e-2, log: true },
    batchSize: { type: 'categorical', choices: [32, 64, 128] },
    optimizer: { type: 'categorical', choices: ['adam', 'rmsprop', 'sgd'] },
    // Weighting classes only means something for classes; regression trials would ignore it.
    ...(spec.task === 'classification' ? { classWeight: { type: 'categorical', choices: ['none', 'balanced'] } } : {}),
  };
  switch (family) {
    case 'mlp':
      return {
        layers: { type: 'int', low: 1, high: 3 },
        units: { type: 'int', low: 16, high: 256, log: true },
        activation: { type: 'categorical', choices: ['relu', 'tanh', 'elu'] },
        dropout: { type: 'float', low: 0, high: 0.5 },
        batchNorm: { type: 'categorical', choices: [true, false] },
        ...training,
      };
    case 'cnn': {
      const sides = cnnSides(spec) ?? [];
      const oneD = sides.length === 1;
      // Each block halves the input; stop while at least 2 steps (2×2 pixels) are left: 8×8
      // digits allow 2 blocks. A 1-D convolution costs a kernel width less than a 2-D one,
      // so sequences get a third block and more filters.
      const maxBlocks = Math.max(1, Math.min(oneD ? 3 : 2, Math.floor(Math.log2(Math.min(...sides))) - 1));
      return {
        blocks: maxBlocks > 1 ? { type: 'int', low: 1, high: maxBlocks } : 1,
        filters: oneD ? { type: 'int', low: 16, high: 64, log: true } : { type: 'int', low: 8, high: 32, log: true },
        kernelSize: { type: 'categorical', choices: [3, 5] },
        pooling: { type: 'categorical', choices: ['max', 'avg'] },
        dropout: { type: 'float', low: 0, high: 0.5 },
        denseUnits: { type: 'int', low: 32, high: 128, log: true },
        ...(spec.vocabSize !== undefined ? { embeddingDim: { type: 'int', low: 16, high: 128, log: true } } : {}),
        ...training,
      };
    }
    case 'rnn':
      return {
        cell: { type: 'categorical', choices: ['lstm', 'gru'] },
        layers: { type: 'int', low: 1, high: 2 },
        units: { type: 'int', low: 16, high: 128, log: true },
        bidirectional: { type: 'categorical', choices: [false, true] },
        dropout: { type: 'float', low: 0, high: 0.3 },
        ...(spec.vocabSize !== undefined ? { embeddingDim: { type: 'int', low: 16, high: 128, log: true } } : {}),
        ...training,
      };
    case 'transformer':
      // modelDim is drawn from multiples of 8 so that every head count here divides it.
      return {
        blocks: { type: 'int', low: 1, high: 2 },
        heads: { type: 'categorical', choices: [1, 2, 4, 8] },
        modelDim: { type: 'categorical', choices: [32, 64, 128] },
        ffDim: { type: 'int', low: 64, high: 256, log: true },
        dropout: { type: 'float', low: 0, high: 0.3 },
        ...training,
      };
  }
}

/** A study's search settings as a client sends them. */
export interface SpaceInput {
  /** Family names to search; each must fit the data. */
  families: string[];
  /**
   * Overrides per family and parameter: `{ mlp: { units: { type: 'int', low: 8, high: 64 },
   * optimizer: 'adam' } }`. A constant fixes the parameter. Parameters not named keep
   * their defaults.
   * @defaultValue no overrides
   */
  space?: unknown;
}

/**
 * Whether `params` is a point of `space`: its family is searched and every parameter of that
 * family holds a value the space can produce (a constant, the same value).
 */
export function fitsSpace(space: SearchSpace, params: Params): boolean {
  const specs = space.params[params.family as Family];
  if (specs === undefined || !space.families.includes(params.family as Family)) return false;
  return Object.entries(specs).every(([name, spec]) => contains(spec, params[name]));
}

/**
 * Validates the families against the data and merges the client's overrides over the
 * defaults. Every problem is a ValidationError naming the field, e.g. `search.families[1]`
 * or `search.space.mlp.units.low`.
 */
export function buildSpace(input: SpaceInput, spec: TaskSpec): SearchSpace {
  const families = parseFamilies(input.families, spec);
  const params: SearchSpace['params'] = {};
  for (const family of families) params[family] = defaultSpace(family, spec);
  if (input.space === undefined) return { families, params };

  if (!isPlainObject(input.space)) {
    throw new ValidationError('search.space', input.space, 'must be an object keyed by family');
  }
  for (const [key, overrides] of Object.entries(input.space)) {
    const path = `search.space.${key}`;
    if (!(FAMILIES as readonly string[]).includes(key)) {
      throw new ValidationError(path, overrides, `is not a family; must be one of ${FAMILIES.join(', ')}`);
    }
    const defaults = params[key as Family];
    if (defaults === undefined) {
      throw new ValidationError(path, overrides, `is given but ${key} is not in search.families (${families.join(', ')})`);
    }
    if (!isPlainObject(overrides)) {
      throw new ValidationError(path, overrides, 'must be an object keyed by parameter name');
    }
    for (const [name, raw] of Object.entries(overrides)) {
      // hasOwn, not a lookup: a JSON key "__proto__" must not reach Object.prototype.
      const known = Object.hasOwn(defaults, name) ? defaults[name] : undefined;
      if (known === undefined) {
        throw new ValidationError(
          `${path}.${name}`,
          raw,
          `is not a parameter of ${key}; known: ${Object.keys(defaults).sort().join(', ')}`,
        );
      }
      const override = parseParamSpec(`${path}.${name}`, raw);
      checkKinds(`${path}.${name}`, override, known);
      defaults[name] = override;
    }
  }
  return { families, params };
}

function parseFamilies(input: unknown, spec: TaskSpec): Family[] {
  const fitting = familiesFor(spec).join(', ');
  if (!Array.isArray(input)) {
    throw new ValidationError('search.families', input, `must be a list of families (fitting this dataset: ${fitting})`);
  }
  if (input.length === 0) {
    throw new ValidationError('search.families', input, `must name at least one family (fitting this dataset: ${fitting})`);
  }
  const families: Family[] = [];
  input.forEach((name: unknown, i) => {
    const field = `search.families[${i}]`;
    if (typeof name !== 'string' || !(FAMILIES as readonly string[]).includes(name)) {
      throw new ValidationError(field, name, `must be one of ${FAMILIES.join(', ')}`);
    }
    const family = name as Family;
    const first = families.indexOf(family);
    if (first >= 0) throw new ValidationError(field, name, `is already listed at search.families[${first}]`);
    const why = misfit(family, spec);
    if (why !== null) throw new ValidationError(field, name, why);
    families.push(family);
  });
  return families;
}

type ValueKind = 'integer' | 'number' | 'string' | 'boolean';

function kindOf(value: string | number | boolean): ValueKind {
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value === 'string' ? 'string' : 'boolean';
}

function kindsOf(spec: ParamSpec): Set<ValueKind> {
  if (isConstant(spec)) return new Set([kindOf(spec)]);
  if (spec.type === 'float') return new Set(['number']);
  if (spec.type === 'int') return new Set(['integer']);
  return new Set(spec.choices.map(kindOf));
}

/**
 * Model builders rely on a parameter's type (a float `layers` would break one), so an
 * override must produce the same kinds of value as the default; integers count as numbers.
 */
function checkKinds(field: string, override: ParamSpec, known: ParamSpec): void {
  const allowed = kindsOf(known);
  if (allowed.has('number')) allowed.add('integer');
  const wrong = [...kindsOf(override)].filter((kind) => !allowed.has(kind));
  if (wrong.length > 0) {
    const expected = [...kindsOf(known)].join(' or ');
    throw new ValidationError(field, override, `must give ${expected} values, as the default does (got ${wrong.join(', ')})`);
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
