/**
 * Image datasets: one row per image, one column per pixel in row-major `[h, w, c]` order.
 */
import { ValidationError } from '../errors.ts';
import type { ParsedCsv } from './csv.ts';
import type { Split } from './split.ts';
import { parseNumber } from './values.ts';

/** Largest raw pixel value accepted (8-bit images). */
export const MAX_PIXEL = 255;

/**
 * Checks a given shape against the pixel count, or infers a square grayscale one.
 * A two-element `[h, w]` is read as `[h, w, 1]`.
 */
export function resolveShape(shape: number[] | undefined, pixelCount: number): [number, number, number] {
  if (shape === undefined) {
    const side = Math.round(Math.sqrt(pixelCount));
    if (side * side === pixelCount) return [side, side, 1];
    throw new ValidationError(
      'shape',
      shape,
      `must be given as [height, width, channels]: the ${pixelCount} pixel columns are not a square grayscale image`,
    );
  }
  const valid = Array.isArray(shape) && (shape.length === 2 || shape.length === 3) && shape.every((d) => Number.isInteger(d) && d > 0);
  if (!valid) throw new ValidationError('shape', shape, 'must be [height, width, channels] of positive integers');
  const [h = 1, w = 1, c = 1] = shape;
  if (h * w * c !== pixelCount) {
    throw new ValidationError('shape', shape, `multiplies to ${h * w * c} but the file has ${pixelCount} pixel columns`);
  }
  return [h, w, c];
}

export interface ImageFeatures {
  /** `rows × pixels`, in `split.order`, scaled to 0..1. */
  features: Float32Array;
  /** What raw pixels were divided by: 255, or 1 when they were already within 0..1. */
  scale: number;
}

/** Reads and scales the pixel columns at `pixelIndices` of every row. */
export function readPixels(csv: ParsedCsv, pixelIndices: number[], split: Split): ImageFeatures {
  const count = pixelIndices.length;
  const positionOf = new Int32Array(csv.rows.length);
  split.order.forEach((row, position) => {
    positionOf[row] = position;
  });
  const features = new Float32Array(csv.rows.length * count);
  let max = 0;
  // File order, so an error names the first bad pixel a reader would find.
  csv.rows.forEach((row, r) => {
    const base = (positionOf[r] as number) * count;
    for (let k = 0; k < count; k++) {
      const index = pixelIndices[k] as number;
      const text = (row[index] ?? '').trim();
      const value = parseNumber(text);
      if (Number.isNaN(value) || value < 0 || value > MAX_PIXEL) {
        const where = `on line ${csv.lines[r]}, column "${csv.header[index]}"`;
        throw new ValidationError(
          'file',
          text,
          Number.isNaN(value) ? `${where} is not a number; every pixel must be numeric` : `${where} is outside 0..${MAX_PIXEL}`,
        );
      }
      if (value > max) max = value;
      features[base + k] = value;
    }
  });
  // Pixels already within 0..1 are taken as pre-scaled; anything larger as 8-bit.
  const scale = max > 1 ? MAX_PIXEL : 1;
  if (scale !== 1) for (let i = 0; i < features.length; i++) features[i] = (features[i] as number) / scale;
  return { features, scale };
}
