/**
 * Reading the target column: inferring the task when none is given, and turning
 * labels into class indices or numbers.
 */
import type { DatasetKind, Task } from '../domain.ts';
import { ValidationError } from '../errors.ts';
import type { ParsedCsv } from './csv.ts';
import { isMissingText, parseNumber, sortLabels } from './values.ts';

/** A numeric target with at most this many distinct integers is taken to be class labels. */
export const MAX_INFERRED_CLASSES = 20;
/** More classes than this is almost surely a continuous target given the wrong task. */
export const MAX_CLASSES = 1000;

export interface ClassificationTarget {
  task: 'classification';
  /** Labels in class-index order. */
  classes: string[];
  /** Class index of every file row. */
  labels: Int32Array;
  /** Rows per class, in class-index order. */
  counts: number[];
}

export interface RegressionTarget {
  task: 'regression';
  /** Target value of every file row. */
  values: Float64Array;
}

export type ResolvedTarget = ClassificationTarget | RegressionTarget;

/** Reads column `index` of `csv` as the target; every row must have a value. */
export function resolveTarget(csv: ParsedCsv, index: number, kind: DatasetKind, requested?: Exclude<Task, 'forecasting'>): ResolvedTarget {
  const name = csv.header[index] ?? '';
  const cells = csv.rows.map((row, r) => {
    const cell = (row[index] ?? '').trim();
    if (isMissingText(cell)) {
      throw new ValidationError('target', cell, `on line ${csv.lines[r]} is a missing value; every row needs a value in column "${name}"`);
    }
    return cell;
  });
  const numbers = Float64Array.from(cells, parseNumber);
  const allNumeric = numbers.every((v) => !Number.isNaN(v));
  // Images are classification only, so a digit label never turns into regression.
  const task = requested ?? (kind === 'image' || !allNumeric || fewIntegers(numbers) ? 'classification' : 'regression');

  if (task === 'regression') {
    const bad = numbers.findIndex((v) => Number.isNaN(v));
    if (bad >= 0) {
      throw new ValidationError(
        'target',
        cells[bad],
        `on line ${csv.lines[bad]} is not a number; a regression target must be numeric on every row`,
      );
    }
    return { task, values: numbers };
  }

  // Numeric labels are canonicalised so "1" and "1.0" are one class.
  const texts = allNumeric ? Array.from(numbers, String) : cells;
  const classes = sortLabels([...new Set(texts)]);
  if (classes.length < 2) {
    throw new ValidationError('target', classes[0], `is the only class in column "${name}"; classification needs at least 2 classes`);
  }
  if (classes.length > MAX_CLASSES) {
    throw new ValidationError(
      'target',
      name,
      `has ${classes.length} distinct values, more than the ${MAX_CLASSES} classes classification allows; use task "regression" for a continuous target`,
    );
  }
  const indexOf = new Map(classes.map((label, i) => [label, i]));
  const labels = Int32Array.from(texts, (label) => indexOf.get(label) ?? -1);
  const counts = classes.map(() => 0);
  for (const label of labels) counts[label] = (counts[label] ?? 0) + 1;
  return { task, classes, labels, counts };
}

function fewIntegers(values: Float64Array): boolean {
  const distinct = new Set<number>();
  for (const v of values) {
    if (!Number.isInteger(v)) return false;
    distinct.add(v);
    if (distinct.size > MAX_INFERRED_CLASSES) return false;
  }
  return true;
}
