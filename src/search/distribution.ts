/**
 * Distributions of single hyperparameters: plain JSON data, one zod schema each.
 * The schemas check everything (bounds, log scale, steps), so they also serve to
 * read a stored search space back from the database.
 */
import { z } from 'zod';
import { boundedArray } from '../bounded-schemas.ts';
import { ValidationError } from '../errors.ts';
import { MAX_CHOICE_LENGTH, MAX_CHOICES } from './limits.ts';

/** A real number drawn from [low, high]. */
export interface FloatDistribution {
  type: 'float';
  /** Lower bound, included; must be > 0 when `log` is set. */
  low: number;
  /** Upper bound; must be greater than `low`. */
  high: number;
  /**
   * Sample uniformly in log space, so each decade is equally likely (for learning rates).
   * @defaultValue false
   */
  log?: boolean;
}

/** An integer drawn from [low, high]. */
export interface IntDistribution {
  type: 'int';
  /** Lower bound, included; an integer, >= 1 when `log` is set. */
  low: number;
  /** Upper bound, included when it lies on the step grid; an integer greater than `low`. */
  high: number;
  /**
   * Only values `low + k * step` are drawn; `high` is lowered to the grid if it is off it.
   * Cannot be combined with `log`.
   * @defaultValue 1
   */
  step?: number;
  /**
   * Sample uniformly in log space, then round (for layer widths).
   * @defaultValue false
   */
  log?: boolean;
}

/** A value from `choices`, each equally likely before any history is seen. */
export interface CategoricalDistribution {
  type: 'categorical';
  /** Non-empty, distinct values; at most {@link MAX_CHOICES}, strings at most {@link MAX_CHOICE_LENGTH} characters. */
  choices: Constant[];
}

export type Distribution = FloatDistribution | IntDistribution | CategoricalDistribution;

/** A fixed value: a parameter given as a constant is not searched. */
export type Constant = string | number | boolean;

/** What a search space holds per parameter: a distribution to sample or a fixed value. */
export type ParamSpec = Distribution | Constant;

export const DISTRIBUTION_TYPES = ['float', 'int', 'categorical'] as const;

export const floatDistributionSchema = z
  .strictObject({
    type: z.literal('float'),
    low: z.number(),
    high: z.number(),
    log: z.boolean().optional(),
  })
  .superRefine((d, ctx) => {
    if (!(d.low < d.high)) {
      ctx.addIssue({ code: 'custom', path: ['low'], message: `must be < high ${d.high}` });
    } else if (d.log === true && !(d.low > 0)) {
      ctx.addIssue({ code: 'custom', path: ['low'], message: 'must be > 0 for a log scale' });
    }
  });

export const intDistributionSchema = z
  .strictObject({
    type: z.literal('int'),
    low: z.number(),
    high: z.number(),
    step: z.number().optional(),
    log: z.boolean().optional(),
  })
  .superRefine((d, ctx) => {
    const fail = (path: string, message: string): void => {
      ctx.addIssue({ code: 'custom', path: [path], message });
    };
    if (!Number.isSafeInteger(d.low)) fail('low', 'must be an integer between -(2^53-1) and 2^53-1');
    else if (!Number.isSafeInteger(d.high)) fail('high', 'must be an integer between -(2^53-1) and 2^53-1');
    else if (!(d.low < d.high)) fail('low', `must be < high ${d.high}`);
    else if (d.log === true && d.low < 1) fail('low', 'must be > 0 for a log scale');
    else if (d.step !== undefined && !(Number.isSafeInteger(d.step) && d.step > 0)) {
      fail('step', 'must be an integer > 0');
    } else if (d.step !== undefined && d.step !== 1 && d.log === true) {
      fail('step', 'cannot be combined with log: true (use step 1 or no step)');
    }
  });

const choiceSchema = z.union([
  z.string().max(MAX_CHOICE_LENGTH, { error: (i) => `has ${(i.input as string).length} characters; the limit is ${MAX_CHOICE_LENGTH}` }),
  z.number(),
  z.boolean(),
]);

export const categoricalDistributionSchema = z
  .strictObject({
    type: z.literal('categorical'),
    choices: boundedArray(choiceSchema, MAX_CHOICES, { min: 1, what: 'choices' }),
  })
  .superRefine((d, ctx) => {
    // A Set, not indexOf per choice: that was quadratic, and 1,000,000 choices froze the process.
    // Same-value-zero equality, as indexOf's ===, since JSON has no NaN.
    const seen = new Set<Constant>();
    for (const [i, c] of d.choices.entries()) {
      if (seen.has(c)) {
        ctx.addIssue({ code: 'custom', path: ['choices', i], message: 'is listed twice' });
        return;
      }
      seen.add(c);
    }
  });

export const distributionSchema = z.discriminatedUnion('type', [
  floatDistributionSchema,
  intDistributionSchema,
  categoricalDistributionSchema,
]);

export const paramSpecSchema = z.union([choiceSchema, distributionSchema]);

// Compile-time check that the documented interfaces and the schemas agree.
distributionSchema satisfies z.ZodType<Distribution>;
const _exact: z.infer<typeof distributionSchema> extends Distribution ? true : never = true;
void _exact;

export function isConstant(spec: ParamSpec): spec is Constant {
  return typeof spec !== 'object';
}

/**
 * Parses one distribution or constant, throwing a ValidationError whose field is
 * `path` plus the offending key, e.g. `search.space.mlp.units.low`.
 */
export function parseParamSpec(path: string, input: unknown): ParamSpec {
  if (typeof input === 'number' && !Number.isFinite(input)) {
    throw new ValidationError(path, input, 'must be a finite number');
  }
  if (typeof input === 'string' && input.length > MAX_CHOICE_LENGTH) {
    throw new ValidationError(path, input, `has ${input.length} characters; the limit is ${MAX_CHOICE_LENGTH}`);
  }
  if (typeof input === 'string' || typeof input === 'number' || typeof input === 'boolean') {
    return input;
  }
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new ValidationError(
      path,
      input,
      'must be a distribution ({ type: float | int | categorical, ... }) or a constant',
    );
  }
  const result = distributionSchema.safeParse(input);
  if (result.success) return result.data;
  // A misspelt key ("lo") also makes the real one missing; name the typo, it is the cause.
  const issues = result.error.issues;
  throw toValidationError(path, input, issues.find((i) => i.code === 'unrecognized_keys') ?? issues[0]);
}

/** Whether `value` is one that `spec` can produce (inside bounds, on the step grid). */
export function contains(spec: ParamSpec, value: unknown): boolean {
  if (isConstant(spec)) return value === spec;
  switch (spec.type) {
    case 'float':
      return typeof value === 'number' && value >= spec.low && value <= spec.high;
    case 'int': {
      if (!Number.isInteger(value)) return false;
      const v = value as number;
      return v >= spec.low && v <= spec.high && (v - spec.low) % (spec.step ?? 1) === 0;
    }
    case 'categorical':
      return spec.choices.some((c) => c === value);
  }
}

const KNOWN_KEYS: Record<Distribution['type'], string> = {
  float: 'type, low, high, log',
  int: 'type, low, high, step, log',
  categorical: 'type, choices',
};

function toValidationError(
  path: string,
  input: object,
  issue: z.core.$ZodIssue | undefined,
): ValidationError {
  if (issue === undefined) return new ValidationError(path, input, 'is not a valid distribution');
  const field = [path, ...issue.path.map((k) => (typeof k === 'number' ? `[${k}]` : `.${String(k)}`))]
    .join('');
  const value = valueAt(input, issue.path);
  switch (issue.code) {
    case 'unrecognized_keys': {
      const key = issue.keys[0] ?? '';
      const type = (input as { type?: Distribution['type'] }).type ?? 'float';
      return new ValidationError(
        `${field}.${key}`,
        valueAt(input, [...issue.path, key]),
        `is not a key of ${type === 'int' ? 'an' : 'a'} ${type} distribution (known: ${KNOWN_KEYS[type]})`,
      );
    }
    case 'invalid_union':
      if (typeof value === 'string' && value.length > MAX_CHOICE_LENGTH) {
        return new ValidationError(field, value, `has ${value.length} characters; the limit is ${MAX_CHOICE_LENGTH}`);
      }
      return new ValidationError(
        field,
        value,
        issue.path.at(-1) === 'type'
          ? `must be one of ${DISTRIBUTION_TYPES.join(', ')}`
          : 'must be a string, number or boolean',
      );
    case 'invalid_type':
      return new ValidationError(
        field,
        value,
        issue.expected === 'number' ? 'must be a finite number' : `must be a ${issue.expected}`,
      );
    case 'too_small':
      return new ValidationError(field, value, 'must not be empty');
    case 'too_big':
      return new ValidationError(field, value, issue.message);
    default:
      return new ValidationError(field, value, issue.message);
  }
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let at: unknown = input;
  for (const key of path) {
    if (typeof at !== 'object' || at === null) return undefined;
    at = (at as Record<PropertyKey, unknown>)[key];
  }
  return at;
}
