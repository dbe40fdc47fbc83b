/**
 * Sampler options: each sampler declares its options as one zod object built from the rules
 * below, and {@link parseOptions} turns the first problem into a ValidationError naming
 * `search.options.<key>`, the value and the rule.
 */
import { z } from 'zod';
import { ValidationError } from '../errors.ts';

/** An integer option in [min, max]. */
export function intOption(min: number, max: number) {
  const rule = `must be an integer between ${min} and ${max}`;
  return z.number({ error: rule }).refine((v) => Number.isInteger(v) && v >= min && v <= max, rule);
}

/** A number option in the open interval (0, 1). */
export function fractionOption() {
  const rule = 'must be a number > 0 and < 1';
  return z.number({ error: rule }).refine((v) => v > 0 && v < 1, rule);
}

/** A finite number option > 0. */
export function positiveOption() {
  const rule = 'must be a finite number > 0';
  return z.number({ error: rule }).refine((v) => Number.isFinite(v) && v > 0, rule);
}

export function booleanOption() {
  return z.boolean({ error: 'must be true or false' });
}

/**
 * Validates `input` (a study's `search.options`; undefined means none) against `schema`, a
 * `z.strictObject` of optional fields. Unknown keys are refused, naming the known ones.
 */
export function parseOptions<T extends z.ZodRawShape>(
  algorithm: string,
  schema: z.ZodObject<T>,
  input: unknown,
): z.infer<z.ZodObject<T>> {
  if (input === undefined) input = {};
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new ValidationError('search.options', input, `must be an object of ${algorithm} options`);
  }
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const known = Object.keys(schema.shape).sort();
  const issue = result.error.issues[0];
  const record = input as Record<string, unknown>;
  if (issue?.code === 'unrecognized_keys') {
    const key = issue.keys[0] ?? '';
    const rule = known.length === 0
      ? `is not an option of ${algorithm} (it takes none)`
      : `is not an option of ${algorithm} (known: ${known.join(', ')})`;
    throw new ValidationError(`search.options.${key}`, record[key], rule);
  }
  const key = String(issue?.path[0] ?? '');
  throw new ValidationError(key === '' ? 'search.options' : `search.options.${key}`, key === '' ? input : record[key], issue?.message ?? 'is invalid');
}
