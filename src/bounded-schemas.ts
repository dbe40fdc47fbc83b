/**
 * Zod schemas for lists and maps whose size is checked before their items are.
 *
 * Zod checks every item of an array and makes one issue per bad item; an object then copies
 * its property's issues with `push(...issues)`, which overflows the stack at about 120,000
 * of them (measured here with zod 4.6: 130,000 bad `search.families` items gave a 500). A
 * bounded schema refuses an over-long list with one issue, at the cost of counting it.
 */
import { z } from 'zod';

const count = (n: number) => n.toLocaleString('en-US');

/** What an over-long list or map is told: "has 1,000,000 choices; the limit is 1,000". */
export function overLimit(size: number, what: string, limit: number): string {
  return `has ${count(size)} ${what}; the limit is ${count(limit)}`;
}

/** Options of {@link boundedArray}. */
export interface BoundedArrayOptions {
  /** Fewest items. @defaultValue 0 */
  min?: number;
  /** The items' name in the message, e.g. `choices`. @defaultValue 'items' */
  what?: string;
}

/** An array of at most `max` items of `item`; a longer one is one issue, its items unchecked. */
export function boundedArray<T extends z.ZodType>(item: T, max: number, options: BoundedArrayOptions = {}) {
  const what = options.what ?? 'items';
  const min = options.min ?? 0;
  // A preprocess step, so that the documented (OpenAPI) schema is still the array of `item`.
  return z.preprocess(
    (value, ctx) => {
      if (Array.isArray(value) && value.length > max) ctx.addIssue({ code: 'custom', message: overLimit(value.length, what, max), input: value });
      return value;
    },
    z
      .array(item)
      .min(min, { error: min === 1 ? 'must not be empty' : `must have at least ${min} ${what}` })
      .max(max),
  );
}

/** A string-keyed object of at most `max` keys, each value `value`; a larger one is one issue, its values unchecked. */
export function boundedRecord<T extends z.ZodType>(value: T, max: number, what = 'keys') {
  return z
    .record(z.string(), z.unknown())
    .superRefine((record, ctx) => {
      const size = Object.keys(record).length;
      if (size > max) ctx.addIssue({ code: 'custom', message: overLimit(size, what, max) });
    })
    .pipe(z.record(z.string(), value));
}
