/**
 * The seeded shuffle and train/validation split. Classification splits each class
 * by the fraction (stratified), so a rare class is never missing from validation.
 */
import { ValidationError } from '../errors.ts';
import { mulberry32, shuffleInPlace } from '../rng.ts';
import type { ResolvedTarget } from './target.ts';

export interface Split {
  /** File row indices in encoded order: the first `trainRows` are training, the rest validation. */
  order: number[];
  trainRows: number;
  method: 'stratified' | 'random';
}

/** Shuffles and splits `rows` rows; the same seed always gives the same split. */
export function splitRows(target: ResolvedTarget, rows: number, validationFraction: number, seed: number): Split {
  const rng = mulberry32(seed);
  let train: number[];
  let validation: number[];
  let method: Split['method'];

  if (target.task === 'classification') {
    method = 'stratified';
    const groups: number[][] = target.classes.map(() => []);
    target.labels.forEach((label, row) => groups[label]?.push(row));
    train = [];
    validation = [];
    for (const group of groups) {
      shuffleInPlace(group, rng);
      const size = group.length;
      // Every class with two rows or more keeps at least one row on each side.
      const held = size < 2 ? 0 : Math.min(size - 1, Math.max(1, Math.round(size * validationFraction)));
      // A loop, not push(...group): spreading a class of ~150,000 rows overflows the stack.
      for (let i = 0; i < size; i++) (i < size - held ? train : validation).push(group[i]!);
    }
    // Interleave the classes, which the per-class concatenation above left in blocks.
    shuffleInPlace(train, rng);
    shuffleInPlace(validation, rng);
  } else {
    method = 'random';
    const all = shuffleInPlace(Array.from({ length: rows }, (_, i) => i), rng);
    const held = Math.min(rows - 2, Math.max(1, Math.round(rows * validationFraction)));
    train = all.slice(0, rows - held);
    validation = all.slice(rows - held);
  }

  if (train.length < 2 || validation.length < 1) {
    throw new ValidationError(
      'file',
      rows,
      `data rows are too few: splitting with validationFraction ${validationFraction} leaves ${train.length} training and ${validation.length} validation rows, but at least 2 and 1 are needed`,
    );
  }
  return { order: train.concat(validation), trainRows: train.length, method };
}
