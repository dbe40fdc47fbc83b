/**
 * A small real MNIST dataset as CSV, for demos and end-to-end tests, built from the
 * `mnist` package's bundled digits (about 1,000 per class).
 */
import { createRequire } from 'node:module';
import { ValidationError } from '../errors.ts';
import { mulberry32, shuffleInPlace, type Rng } from '../rng.ts';

/** Images in a sample when no count is given. */
export const DEFAULT_MNIST_SAMPLE_COUNT = 2000;
const SIDE = 28;
const PIXELS = SIDE * SIDE;

/** One digit class of the `mnist` package (only what is used here). */
interface MnistDigit {
  id: number;
  /** Images of this digit. */
  length: number;
  /** Image `which` as 784 values in 0..1; an out-of-range index silently picks a random one, so never pass one. */
  get(which: number): number[];
}

/**
 * Builds `label,pixel0,…,pixel783` CSV with `count` images split evenly over the ten digits
 * (the first `count % 10` digits of a seeded order get one more), pixels as integers 0..255.
 * The same seed always gives the same file; `mnist.set()` is avoided because it shuffles with `Math.random`.
 */
export function mnistSampleCsv(count: number = DEFAULT_MNIST_SAMPLE_COUNT, seed: number): string {
  const digits = loadDigits();
  const perClassMax = Math.min(...digits.map((d) => d.length));
  const max = perClassMax * digits.length;
  if (!Number.isInteger(count) || count < digits.length || count > max) {
    throw new ValidationError('count', count, `must be an integer between ${digits.length} and ${max}`);
  }
  if (!Number.isInteger(seed)) throw new ValidationError('seed', seed, 'must be an integer');

  const rng = mulberry32(seed);
  const extra = new Set(shuffleInPlace(digits.map((d) => d.id), rng).slice(0, count % digits.length));
  const picks: Array<[MnistDigit, number]> = [];
  for (const digit of digits) {
    const take = Math.floor(count / digits.length) + (extra.has(digit.id) ? 1 : 0);
    for (const which of sampleIndices(digit.length, take, rng)) picks.push([digit, which]);
  }
  shuffleInPlace(picks, rng);

  const lines = [['label', ...Array.from({ length: PIXELS }, (_, i) => `pixel${i}`)].join(',')];
  for (const [digit, which] of picks) {
    const pixels = digit.get(which).map((v) => Math.round(v * 255));
    lines.push(`${digit.id},${pixels.join(',')}`);
  }
  return `${lines.join('\n')}\n`;
}

function loadDigits(): MnistDigit[] {
  // The package is CommonJS with ~20 MB of JSON; Node's require cache keeps one copy per process.
  const mnist = createRequire(import.meta.url)('mnist') as MnistDigit[];
  return Array.from({ length: 10 }, (_, i) => mnist[i] as MnistDigit);
}

/** `take` distinct indices below `length`, by a partial Fisher–Yates shuffle. */
function sampleIndices(length: number, take: number, rng: Rng): number[] {
  const indices = Array.from({ length }, (_, i) => i);
  for (let i = 0; i < take; i++) {
    const j = rng.int(i, length - 1);
    const tmp = indices[i] as number;
    indices[i] = indices[j] as number;
    indices[j] = tmp;
  }
  return indices.slice(0, take);
}
