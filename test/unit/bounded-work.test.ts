/**
 * Pure pieces of "bounded work": the JSON shape limits read before a body is parsed, error
 * values echoed at a bounded cost, and the split of a class far larger than a spread allows.
 */
import { describe, expect, it } from 'vitest';
import { checkJsonLimits, JSON_LIMITS } from '../../src/api/json-limits.ts';
import { splitRows } from '../../src/data/split.ts';
import { minMax } from '../../src/data/stats.ts';
import { describe as describeValue, preview } from '../../src/errors.ts';

describe('checkJsonLimits', () => {
  const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

  it('accepts ordinary bodies, and leaves malformed ones to the parser', () => {
    for (const body of ['{}', '[]', '{"a":[1,2,{"b":"]]]]"}],"c":"\\"["}', '"x"', '3', '{"a":', ']]]']) {
      expect(checkJsonLimits(body), body).toBeNull();
    }
    expect(checkJsonLimits(nested(64))).toBeNull();
  });

  it('refuses nesting past 64 levels, as the issue\'s 4,111-deep body', () => {
    expect(checkJsonLimits(nested(65))).toBe('is nested more than 64 levels deep (at character 64); the limit is 64 levels of arrays and objects');
    expect(checkJsonLimits(`{"a":${nested(4111)}}`)).toContain('is nested more than 64 levels deep');
    // Brackets inside strings (and escaped quotes) do not count.
    expect(checkJsonLimits(JSON.stringify({ s: '['.repeat(1000), t: '\\"['.repeat(100) }))).toBeNull();
  });

  it('refuses an array of more items than the limit, and too many values in all', () => {
    const limits = { ...JSON_LIMITS, maxArrayLength: 3, maxValues: 6 };
    expect(checkJsonLimits('[1,2,3]', limits)).toBeNull();
    expect(checkJsonLimits('[1,2,3,4]', limits)).toBe('has an array of more than 3 items (at character 6); the limit is 3 per array');
    expect(checkJsonLimits('{"a":1,"b":2,"c":3,"d":4}', limits)).toBeNull(); // an object's members are not array items
    expect(checkJsonLimits('[[1,2],[3,4],[5]]', limits)).toContain('has more than 6 values');
    expect(checkJsonLimits(`[${Array(1_000_001).fill(0).join(',')}]`)).toContain('has an array of more than 1,000,000 items');
  });
});

describe('error values at a bounded cost', () => {
  it('previews a value as JSON, cut off near the limit however large the value', () => {
    expect(preview({ a: [1, 'x', null, true], b: undefined, c: new Date(0) }, 100)).toBe('{"a":[1,"x",null,true],"c":"1970-01-01T00:00:00.000Z"}');
    const huge = Array.from({ length: 1_000_000 }, (_, i) => i);
    expect(preview(huge, 50).length).toBeLessThan(60);
    let deep: unknown = [];
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(describeValue(deep)).toBe(`${'['.repeat(77)}...`);
    expect(describeValue('x'.repeat(10_000))).toBe(`"${'x'.repeat(76)}...`);
  });
});

describe('splitRows with one class of 200,000 rows', () => {
  it('splits without overflowing the stack (push(...group) did, past ~150,000 rows)', () => {
    const rows = 200_000;
    const labels = Int32Array.from({ length: rows }, (_, i) => (i < 199_000 ? 0 : 1));
    const split = splitRows({ task: 'classification', classes: ['a', 'b'], labels, counts: [199_000, 1_000] }, rows, 0.2, 7);
    expect(split.order).toHaveLength(rows);
    expect(new Set(split.order).size).toBe(rows);
    expect(split.trainRows).toBe(rows - 39_800 - 200);
    expect(minMax(split.order)).toEqual({ min: 0, max: rows - 1 });
  });
});
