/**
 * Turns one row of already-read cells into features. Training and prediction both
 * go through here, so a fitted column encodes identically at both ends.
 */
import type { FeatureColumn } from './preprocessing.ts';

/**
 * A cell ready to encode: for a numeric column a number (NaN when missing), for a
 * categorical column a string (`MISSING_CATEGORY` when missing).
 */
export type Cell = number | string;

export interface TabularEncoder {
  /** Width of one encoded row. */
  readonly dim: number;
  /** Writes the features of `cells` (one per column, in column order) to `out` at `offset`. */
  encodeRow(cells: ArrayLike<Cell>, out: Float32Array, offset: number): void;
}

/** Width one column takes in an encoded row. */
export function columnWidth(column: FeatureColumn): number {
  return column.type === 'numeric' ? 1 : column.categories.length;
}

export function createTabularEncoder(columns: readonly FeatureColumn[]): TabularEncoder {
  const offsets: number[] = [];
  let dim = 0;
  for (const column of columns) {
    offsets.push(dim);
    dim += columnWidth(column);
  }
  const lookups = columns.map((column) =>
    column.type === 'categorical' ? new Map(column.categories.map((category, i) => [category, i])) : undefined,
  );

  return {
    dim,
    encodeRow(cells, out, offset) {
      // Categorical blocks must start at zero: unseen categories leave them all zero.
      out.fill(0, offset, offset + dim);
      for (let c = 0; c < columns.length; c++) {
        const column = columns[c] as FeatureColumn;
        const at = offset + (offsets[c] as number);
        const cell = cells[c] as Cell;
        if (column.type === 'numeric') {
          // A missing number becomes the training mean, which standardizes to 0.
          const value = typeof cell === 'number' ? cell : Number.NaN;
          out[at] = Number.isNaN(value) ? 0 : (value - column.mean) / column.std;
        } else {
          const index = lookups[c]?.get(String(cell));
          if (index !== undefined) out[at + index] = 1;
        }
      }
    },
  };
}
