import { describe, expect, it } from 'vitest';
import { mnistSampleCsv, parseCsv, prepareDataset } from '../../src/data/index.ts';
import { ValidationError } from '../../src/errors.ts';

describe('mnistSampleCsv', () => {
  const sample = mnistSampleCsv(200, 11);
  const { header, rows } = parseCsv(sample);

  it('writes a label column and 784 integer pixel columns', () => {
    expect(header).toHaveLength(785);
    expect(header.slice(0, 2)).toEqual(['label', 'pixel0']);
    expect(header[784]).toBe('pixel783');
    const pixels = rows.flatMap((row) => row.slice(1).map(Number));
    expect(pixels.every((v) => Number.isInteger(v) && v >= 0 && v <= 255)).toBe(true);
    expect(pixels.reduce((a, b) => Math.max(a, b), 0)).toBe(255);
  });

  it('draws evenly from the ten digits', () => {
    const counts = new Map<string, number>();
    for (const row of rows) counts.set(row[0] ?? '', (counts.get(row[0] ?? '') ?? 0) + 1);
    expect([...counts.keys()].sort()).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect([...counts.values()]).toEqual(new Array(10).fill(20));
    const uneven = parseCsv(mnistSampleCsv(25, 11)).rows.map((row) => row[0]);
    const perDigit = [...new Set(uneven)].map((d) => uneven.filter((x) => x === d).length);
    expect(perDigit.sort()).toEqual([2, 2, 2, 2, 2, 3, 3, 3, 3, 3]);
  });

  it('is deterministic for a seed and varies across seeds', () => {
    expect(mnistSampleCsv(200, 11)).toBe(sample);
    expect(mnistSampleCsv(200, 12)).not.toBe(sample);
  });

  it('rejects counts it cannot balance', () => {
    expect(() => mnistSampleCsv(5, 1)).toThrow(ValidationError);
    expect(() => mnistSampleCsv(100_000, 1)).toThrow(/count/);
  });

  it('prepares as a 28×28 grayscale, ten-class image dataset', () => {
    const prepared = prepareDataset({ csv: sample, kind: 'image', target: 'label', seed: 1 });
    expect(prepared.spec).toEqual({ kind: 'image', task: 'classification', inputShape: [28, 28, 1], outputs: 10 });
    expect(prepared.summary.split).toMatchObject({ method: 'stratified', train: 160, validation: 40 });
  });
});
