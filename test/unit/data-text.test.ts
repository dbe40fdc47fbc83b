import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  decodePredictions,
  encodeInstances,
  prepareDataset,
  preprocessingSchema,
  tokenize,
  type PrepareInput,
  type Preprocessing,
} from '../../src/data/index.ts';
import { buildVocabulary, MAX_VOCABULARY } from '../../src/data/text-encoder.ts';
import { expectInvalid } from '../helpers/expect-invalid.ts';

const text = (csv: string, extra: Partial<PrepareInput> = {}) => prepareDataset({ csv, kind: 'text', target: 'label', seed: 7, ...extra });

function csvOf(header: string[], rows: string[][]): string {
  const quote = (cell: string) => (/[",\n]/.test(cell) ? `"${cell.replaceAll('"', '""')}"` : cell);
  return [header.join(','), ...rows.map((row) => row.map(quote).join(','))].join('\n');
}

function jsonlOf(records: Array<Record<string, unknown>>): string {
  return records.map((record) => JSON.stringify(record)).join('\n');
}

/**
 * 40 reviews in two classes. Every text starts with a word found in no other row (`w0`..`w39`),
 * so after the split each such word is in the vocabulary exactly when its row is a training row.
 */
const reviews = Array.from({ length: 40 }, (_, i) => ({
  text: `w${i} ${i % 2 ? 'great fun film' : 'dull slow film'}${i % 5 === 0 ? ' again' : ''}`,
  label: i % 2 ? 'pos' : 'neg',
}));
const reviewsCsv = csvOf(['text', 'label'], reviews.map((r) => [r.text, r.label]));

/** The ids of encoded row `r`. */
const rowIds = (features: Float32Array, sequenceLength: number, r: number) => Array.from(features.subarray(r * sequenceLength, (r + 1) * sequenceLength));

describe('tokenize', () => {
  it('lowercases and splits on anything but letters, digits and inner apostrophes', () => {
    expect(tokenize('Don’t STOP—the café\'s 3.5 naïve, Zürich-based ‘quotes’!')).toEqual([
      "don't", 'stop', 'the', "café's", '3', '5', 'naïve', 'zürich', 'based', 'quotes',
    ]);
    expect(tokenize('Привет, мир! 東京')).toEqual(['привет', 'мир', '東京']);
    expect(tokenize(' ... ')).toEqual([]);
  });

  it('treats precomposed and decomposed accents as one word', () => {
    expect(tokenize('cafe\u0301')).toEqual(tokenize('café'));
  });
});

describe('buildVocabulary', () => {
  it('orders words by frequency, then alphabetically, after <pad> and <oov>', () => {
    expect(buildVocabulary([['b', 'a', 'c'], ['c', 'b'], ['c']])).toEqual(['<pad>', '<oov>', 'c', 'b', 'a']);
  });

  it('drops words seen once when there are more than 5000 distinct words', () => {
    const words = Array.from({ length: 5001 }, (_, i) => `x${i}`);
    expect(buildVocabulary([words, ['x7', 'zz']])).toEqual(['<pad>', '<oov>', 'x7']);
    expect(buildVocabulary([words.slice(0, 5000)])).toHaveLength(5002);
  });

  it(`keeps at most ${MAX_VOCABULARY} words`, () => {
    const words = Array.from({ length: MAX_VOCABULARY + 5 }, (_, i) => `x${i}`);
    const vocabulary = buildVocabulary([words, words]);
    expect(vocabulary).toHaveLength(MAX_VOCABULARY + 2);
    expect(vocabulary[2]).toBe('x0');
  });
});

describe('prepareDataset: text', () => {
  it('encodes token ids with a spec for token models', () => {
    const prepared = text(reviewsCsv);
    const { spec, encoded, preprocessing, summary } = prepared;
    expect(prepared.task).toBe('classification');
    expect(spec).toEqual({ kind: 'text', task: 'classification', inputShape: [5], outputs: 2, vocabSize: preprocessing.vocabulary?.length });
    expect(encoded.features).toHaveLength(40 * 5);
    expect(preprocessing).toMatchObject({ kind: 'text', task: 'classification', target: 'label', textField: 'text', sequenceLength: 5, classes: ['neg', 'pos'] });
    expect(preprocessing.vocabulary?.slice(0, 3)).toEqual(['<pad>', '<oov>', 'film']);
    expect(summary.text).toMatchObject({ field: 'text', format: 'csv', sequenceLength: 5, tokens: { min: 4, median: 4, p95: 5, max: 5 }, truncatedTokens: 0 });
    expect(summary.classes).toEqual([{ label: 'neg', count: 20 }, { label: 'pos', count: 20 }]);
    expect(summary.columns.map((c) => c.type)).toEqual(['text', 'target']);
    for (const id of encoded.features) expect(Number.isInteger(id) && id >= 0 && id < (spec?.vocabSize ?? 0)).toBe(true);
  });

  it('builds the vocabulary from the training split only: a validation-only word is <oov>', () => {
    const { encoded, preprocessing } = text(reviewsCsv);
    const vocabulary = preprocessing.vocabulary ?? [];
    expect(vocabulary.filter((word) => /^w\d+$/.test(word))).toHaveLength(encoded.trainRows);
    for (let r = 0; r < encoded.rows; r++) {
      const first = rowIds(encoded.features, 5, r)[0] ?? -1;
      if (r < encoded.trainRows) expect(vocabulary[first]).toMatch(/^w\d+$/);
      else expect(first).toBe(1);
    }
  });

  it('splits each class by the fraction (stratified)', () => {
    const { encoded, summary } = text(reviewsCsv, { validationFraction: 0.25 });
    expect(summary.split).toMatchObject({ method: 'stratified', train: 30, validation: 10 });
    const validation = Array.from(encoded.labels.subarray(encoded.trainRows));
    expect(validation.filter((label) => label === 0)).toHaveLength(5);
  });

  it('is deterministic under a seed', () => {
    const a = text(reviewsCsv);
    const b = text(reviewsCsv);
    expect(b.encoded.features).toEqual(a.encoded.features);
    expect(b.preprocessing).toEqual(a.preprocessing);
    expect(text(reviewsCsv, { seed: 8 }).encoded.labels).not.toEqual(a.encoded.labels);
  });

  it('pads at the end to at least 4 ids and truncates long texts keeping the beginning', () => {
    const rows = Array.from({ length: 40 }, (_, i) => [i % 2 ? 'a b' : 'c', i % 2 ? 'x' : 'y']);
    // A class with one row keeps it in training, so its truncation is counted.
    rows.push([`start ${'long '.repeat(300)}`, 'z']);
    const prepared = text(csvOf(['text', 'label'], rows));
    const { encoded, preprocessing, summary } = prepared;
    expect(preprocessing.sequenceLength).toBe(4);
    const vocabulary = preprocessing.vocabulary ?? [];
    const id = (word: string) => vocabulary.indexOf(word);
    const encodedRows = Array.from({ length: encoded.rows }, (_, r) => rowIds(encoded.features, 4, r));
    expect(encodedRows).toContainEqual([id('a'), id('b'), 0, 0]);
    expect(encodedRows).toContainEqual([id('c'), 0, 0, 0]);
    expect(encodedRows).toContainEqual([id('start'), id('long'), id('long'), id('long')]);
    expect(summary.text?.truncatedTokens).toBe(301 - 4);
    expect(summary.text?.tokens.max).toBe(301);
  });

  it('caps the sequence length at 256', () => {
    const rows = Array.from({ length: 10 }, (_, i) => ['word '.repeat(400), i % 2 ? 'x' : 'y']);
    expect(text(csvOf(['text', 'label'], rows)).preprocessing.sequenceLength).toBe(256);
  });

  it('reads JSON Lines like the same CSV', () => {
    const jsonl = `\n${jsonlOf(reviews)}\n\n`;
    const fromJsonl = text(jsonl);
    const fromCsv = text(reviewsCsv);
    expect(fromJsonl.encoded).toEqual(fromCsv.encoded);
    expect(fromJsonl.preprocessing).toEqual(fromCsv.preprocessing);
    expect(fromJsonl.summary.text?.format).toBe('jsonl');
  });

  it('accepts numeric JSON labels and ignores extra fields once textField is given', () => {
    const records = reviews.map((r, i) => ({ id: i, body: r.text, label: i % 2, meta: { source: 'x' } }));
    const prepared = text(jsonlOf(records), { textField: 'body' });
    expect(prepared.preprocessing.classes).toEqual(['0', '1']);
    expect(prepared.preprocessing.textField).toBe('body');
  });

  it('reports JSON Lines syntax errors by line', () => {
    const lines = jsonlOf(reviews.slice(0, 4)).split('\n');
    lines.splice(2, 0, '{"text": "oops", "label": }');
    expectInvalid(() => text(lines.join('\n')), 'file', 'line 3 is not valid JSON');
    expectInvalid(() => text(`${jsonlOf(reviews.slice(0, 2))}\n[1, 2]`), 'file', 'line 3 is not a JSON object');
    expectInvalid(() => text(`${jsonlOf(reviews.slice(0, 2))}\n{"text": ["a"], "label": "x"}`), 'file', 'on line 3', '"text" must be a string');
  });

  it('defaults textField to the only other column and asks for it when there are several', () => {
    const csv = csvOf(['id', 'text', 'label'], reviews.map((r, i) => [String(i), r.text, r.label]));
    expectInvalid(() => text(csv), 'textField', 'is required', 'columns are: id, text, label');
    expect(text(csv, { textField: 'text' }).encoded.rows).toBe(40);
    expectInvalid(() => text(csv, { textField: 'body' }), 'textField', '"body"', 'columns are: id, text, label');
    expectInvalid(() => text(csv, { textField: 'label' }), 'textField', 'is the target');
    expectInvalid(() => text(csvOf(['label'], [['a'], ['b']])), 'file', 'no text column');
    expectInvalid(() => text(reviewsCsv, { target: 'sentiment' }), 'target', 'columns are: text, label');
    expectInvalid(() => prepareDataset({ csv: reviewsCsv, kind: 'tabular', target: 'label', seed: 1, textField: 'text' }), 'textField', 'only to text');
  });

  it('rejects empty texts by line, and regression', () => {
    const rows = reviews.map((r) => [r.text, r.label]);
    rows[3] = ['  ', 'pos'];
    expectInvalid(() => text(csvOf(['text', 'label'], rows)), 'file', 'on line 5 has no text in "text"');
    expectInvalid(() => text(reviewsCsv, { task: 'regression' }), 'task', 'text is classification only');
  });
});

describe('encodeInstances and decodePredictions: text', () => {
  const { preprocessing } = text(reviewsCsv);
  const vocabulary = preprocessing.vocabulary ?? [];
  const id = (word: string) => vocabulary.indexOf(word);

  it('tokenizes raw strings like the training rows; unknown words are 1', () => {
    const out = encodeInstances(preprocessing, ['Great FUN, zebra!', { text: 'dull film film film film film film' }]);
    expect(Array.from(out)).toEqual([id('great'), id('fun'), 1, 0, 0, id('dull'), id('film'), id('film'), id('film'), id('film')]);
  });

  it('names the instance that is not a string', () => {
    expectInvalid(() => encodeInstances(preprocessing, ['ok', 'fine', 'good', 42]), 'instances[3]', 'must be a string (the raw text)');
    expectInvalid(() => encodeInstances(preprocessing, [{ body: 'x' }]), 'instances[0].text', 'must be a string');
    expectInvalid(() => encodeInstances(preprocessing, ['  ']), 'instances[0]', 'must not be empty');
  });

  it('decodes class probabilities', () => {
    expect(decodePredictions(preprocessing, Float32Array.of(0.25, 0.75), 1)).toEqual([{ label: 'pos', probabilities: { neg: 0.25, pos: 0.75 } }]);
  });
});

describe('preprocessingSchema: text', () => {
  const { preprocessing } = text(reviewsCsv);

  it('round-trips the text variant through JSON', () => {
    expect(preprocessingSchema.parse(JSON.parse(JSON.stringify(preprocessing)))).toEqual(preprocessing);
  });

  it('requires the text fields and the reserved ids', () => {
    const broken = (change: Partial<Preprocessing>) => preprocessingSchema.safeParse({ ...preprocessing, ...change }).success;
    expect(broken({ vocabulary: ['film', '<pad>', '<oov>'] })).toBe(false);
    expect(broken({ sequenceLength: undefined })).toBe(false);
    expect(broken({ textField: undefined })).toBe(false);
    expect(broken({ task: 'regression', targetMean: 0, targetStd: 1 })).toBe(false);
  });

  it('still accepts tabular and image preprocessing', () => {
    const tabular = prepareDataset({ csv: csvOf(['x', 'c', 'y'], Array.from({ length: 10 }, (_, i) => [String(i), i % 3 ? 'a' : 'b', String(i * 1.5)])), kind: 'tabular', target: 'y', seed: 1 });
    const image = prepareDataset({ csv: csvOf(['p0', 'p1', 'p2', 'p3', 'label'], Array.from({ length: 10 }, (_, i) => ['0', '255', String(i * 9), '3', String(i % 2)])), kind: 'image', target: 'label', seed: 1 });
    for (const pre of [tabular.preprocessing, image.preprocessing]) {
      expect(preprocessingSchema.parse(JSON.parse(JSON.stringify(pre)))).toEqual(pre);
    }
  });
});

describe('the Reuters-21578 acq/crude fixture', () => {
  const csv = readFileSync(new URL('../fixtures/reuters-acq-crude.csv', import.meta.url), 'utf8');

  it('prepares as a two-class text dataset', () => {
    const { spec, encoded, summary, preprocessing } = prepareDataset({ csv, kind: 'text', target: 'topic', seed: 1 });
    expect(summary.rows).toBe(70);
    expect(summary.classes).toEqual([{ label: 'acq', count: 50 }, { label: 'crude', count: 20 }]);
    expect(summary.split).toMatchObject({ train: 56, validation: 14 });
    expect(preprocessing.textField).toBe('text');
    expect(preprocessing.vocabulary).toContain('oil');
    expect(spec?.inputShape[0]).toBe(summary.text?.sequenceLength);
    expect(spec?.inputShape[0]).toBeGreaterThan(100);
    expect(spec?.inputShape[0]).toBeLessThanOrEqual(256);
    expect(encoded.features).toHaveLength(70 * (spec?.inputShape[0] ?? 0));
    expect(summary.text?.truncatedTokens).toBeGreaterThan(0);
  });
});
