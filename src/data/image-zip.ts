/**
 * Image datasets uploaded as a zip of PNG/JPEG files in one folder per class
 * (`cat/1.png`, or `dataset/cat/1.png`). Every image is decoded, converted to the dataset's
 * channels and resized to its shape, then split and encoded exactly as a pixel CSV is, so
 * models trained on a zip predict from raw 0..255 pixel arrays like any other image model.
 */
import type { Task } from '../domain.ts';
import { PayloadTooLargeError, ValidationError } from '../errors.ts';
import { MAX_PIXEL } from './image.ts';
import { encodeLabels } from './labels.ts';
import { DEFAULT_VALIDATION_FRACTION, type PreparedDataset } from './prepare.ts';
import type { Preprocessing } from './preprocessing.ts';
import { splitRows } from './split.ts';
import type { DatasetSummary, ImageZipSummary } from './summary.ts';
import { MAX_CLASSES, type ClassificationTarget } from './target.ts';
import { sortLabels } from './values.ts';
import { convertChannels } from './zip-images/channels.ts';
import { decodeImage } from './zip-images/decode.ts';
import { checkDecodedPixels } from './zip-images/header.ts';
import { readImageZip, type ImageEntry } from './zip-images/entries.ts';
import { IMAGE_ZIP_LIMITS, type ImageZipLimits } from './zip-images/limits.ts';
import { resizeImage } from './zip-images/resize.ts';

export { IMAGE_ZIP_LIMITS, type ImageZipLimits } from './zip-images/limits.ts';

export interface ImageZipOptions {
  /**
   * `[h, w, c]` with `c` 1 (grayscale) or 3 (RGB), or `[h, w]` for `[h, w, 1]`; every image is
   * converted and resized to it.
   * @defaultValue the size of the first image in path order; 1 channel when every image is grayscale, else 3
   */
  shape?: number[];
  /** Seeds the shuffle and split. */
  seed: number;
  /** Share of each class held out for validation, in (0, 1). @defaultValue 0.2 */
  validationFraction?: number;
  /** The name the labels go by (the "target column" of a pixel CSV). @defaultValue `'label'` */
  target?: string;
  /** Must be classification, the only task for images. @defaultValue `'classification'` */
  task?: Task;
  /** The zip's file name, named in messages about the archive as a whole. @defaultValue `'upload.zip'` */
  fileName?: string;
  /** Tighter (or looser) limits than the service's. @defaultValue `IMAGE_ZIP_LIMITS` */
  limits?: Partial<ImageZipLimits>;
}

/** One image at the dataset's size, rounded to 8 bits, before its channels are final. */
interface Resized {
  /** 1 or 3, as decoded. */
  sourceChannels: number;
  /** 1 or 3: the declared channels, or the decoded ones while channels are inferred. */
  channels: number;
  data: Uint8Array;
}

/** True when `bytes` start like a zip archive (a local file header, or the end record of an empty zip). */
export function isZipArchive(bytes: Uint8Array): boolean {
  return bytes[0] === 0x50 && bytes[1] === 0x4b && ((bytes[2] === 3 && bytes[3] === 4) || (bytes[2] === 5 && bytes[3] === 6));
}

/**
 * Reads, checks, decodes, splits and encodes an image zip.
 * @throws ValidationError naming the field (`file` with the offending path, `shape`, `target`, …), the value and the rule;
 * PayloadTooLargeError when the zip or its pixels exceed `limits`.
 */
export function prepareImageZip(bytes: Uint8Array, options: ImageZipOptions): PreparedDataset {
  const { seed, fileName = 'upload.zip' } = options;
  const validationFraction = options.validationFraction ?? DEFAULT_VALIDATION_FRACTION;
  checkOptions(options, validationFraction);
  const targetName = options.target?.trim() ?? 'label';
  const limits: ImageZipLimits = { ...IMAGE_ZIP_LIMITS, ...options.limits };
  const declared = options.shape === undefined ? undefined : checkShape(options.shape, limits.maxImageSide);

  const listing = readImageZip(bytes, fileName, limits);
  const { images } = listing;
  const target = classesOf(images, listing.root);
  const split = splitRows(target, images.length, validationFraction, seed);
  const { labels } = encodeLabels(target, split);
  checkDecodedPixels(images, limits, fileName);

  // Without a declared shape the first image (in path order) sets the size, and the
  // channels wait until every image is seen.
  let size: [number, number] | undefined = declared === undefined ? undefined : [declared[0], declared[1]];
  if (size !== undefined) checkBudget(limits, images.length, size[0], size[1], declared?.[2] ?? 1, fileName);
  const sizes = { minWidth: Infinity, maxWidth: 0, minHeight: Infinity, maxHeight: 0 };
  const formats = { png: 0, jpeg: 0 };
  let resizedCount = 0;
  const decoded: Resized[] = images.map((entry) => {
    const image = decodeImage(entry.path, entry.bytes, limits.maxImageSide);
    if (size === undefined) {
      size = [image.height, image.width];
      checkBudget(limits, images.length, image.height, image.width, 1, fileName);
    }
    const [height, width] = size;
    sizes.minWidth = Math.min(sizes.minWidth, image.width);
    sizes.maxWidth = Math.max(sizes.maxWidth, image.width);
    sizes.minHeight = Math.min(sizes.minHeight, image.height);
    sizes.maxHeight = Math.max(sizes.maxHeight, image.height);
    formats[image.format]++;
    if (image.width !== width || image.height !== height) resizedCount++;
    // A declared shape converts now; an inferred one keeps gray images at one channel (a third of the memory).
    const resized = resizeImage(convertChannels(image, declared?.[2] ?? image.channels), height, width);
    // Rounded to 8 bits, like an image saved at the new size, so training pixels match raw 0..255 predict input.
    const data = new Uint8Array(resized.data.length);
    for (let k = 0; k < data.length; k++) data[k] = Math.min(MAX_PIXEL, Math.max(0, Math.round(resized.data[k] as number)));
    return { sourceChannels: image.channels, channels: resized.channels, data };
  });
  const [height, width] = size as [number, number];
  const channels = declared?.[2] ?? (decoded.some((d) => d.channels === 3) ? 3 : 1);
  checkBudget(limits, images.length, height, width, channels, fileName);

  const count = height * width * channels;
  const features = new Float32Array(images.length * count);
  split.order.forEach((row, position) => {
    const image = decoded[row] as Resized;
    const base = position * count;
    // Only gray images of an inferred RGB dataset still need their channels copied.
    const expand = channels / image.channels;
    for (let k = 0; k < image.data.length; k++) {
      const value = (image.data[k] as number) / MAX_PIXEL;
      for (let e = 0; e < expand; e++) features[base + k * expand + e] = value;
    }
  });
  const converted = {
    toGrayscale: decoded.filter((d) => d.sourceChannels === 3 && channels === 1).length,
    toRgb: decoded.filter((d) => d.sourceChannels === 1 && channels === 3).length,
  };

  const shape = [height, width, channels];
  const summary = summarize(target, targetName, shape, split, seed, validationFraction);
  const imageSummary: ImageZipSummary = {
    format: 'zip',
    ...(listing.root === undefined ? {} : { root: listing.root }),
    perClass: Object.fromEntries(target.classes.map((label, i) => [label, target.counts[i] ?? 0])),
    formats,
    ignored: listing.ignored,
    sizes,
    resized: resizedCount,
    converted,
  };
  summary.images = imageSummary;
  const preprocessing: Preprocessing = {
    kind: 'image',
    task: 'classification',
    target: targetName,
    pixels: { count, scale: MAX_PIXEL },
    shape,
    classes: target.classes,
  };
  return {
    task: 'classification',
    kind: 'image',
    spec: { kind: 'image', task: 'classification', inputShape: shape, outputs: target.classes.length },
    encoded: { features, labels, rows: images.length, trainRows: split.trainRows },
    summary,
    preprocessing,
  };
}

function checkOptions(options: ImageZipOptions, validationFraction: number): void {
  if (!Number.isInteger(options.seed)) throw new ValidationError('seed', options.seed, 'must be an integer');
  if (!(typeof validationFraction === 'number' && validationFraction > 0 && validationFraction < 1)) {
    throw new ValidationError('validationFraction', validationFraction, 'must be greater than 0 and less than 1');
  }
  if (options.target !== undefined && (typeof options.target !== 'string' || options.target.trim() === '')) {
    throw new ValidationError('target', options.target, 'must be a non-empty name for the labels (the class folders)');
  }
  if (options.task !== undefined && options.task !== 'classification') {
    throw new ValidationError('task', options.task, 'is not supported for image datasets; images are classification only');
  }
}

function checkShape(shape: number[], maxSide: number): [number, number, number] {
  const valid = Array.isArray(shape) && (shape.length === 2 || shape.length === 3) && shape.every((d) => Number.isInteger(d) && d > 0);
  if (!valid) throw new ValidationError('shape', shape, 'must be [height, width] or [height, width, channels] of positive integers');
  const [h = 1, w = 1, c = 1] = shape;
  if (h > maxSide || w > maxSide) throw new ValidationError('shape', shape, `must be at most ${maxSide} pixels on each side`);
  if (c !== 1 && c !== 3) throw new ValidationError('shape', shape, 'must have 1 channel (grayscale) or 3 (RGB) for an image zip');
  return [h, w, c];
}

/** Refuses a dataset whose features would exceed the pixel budget, before they are allocated. */
function checkBudget(limits: ImageZipLimits, images: number, height: number, width: number, channels: number, fileName: string): void {
  const values = images * height * width * channels;
  if (values > limits.maxPixelValues) {
    throw new PayloadTooLargeError(
      'file',
      fileName,
      `holds ${images} images of ${height}×${width}×${channels}, ${values} pixel values in all, more than the ${limits.maxPixelValues} a dataset may hold; declare a smaller shape`,
    );
  }
}

/** The class folders as a classification target, with at least two classes of at least two images each. */
function classesOf(images: ImageEntry[], root: string | undefined): ClassificationTarget {
  const classes = sortLabels([...new Set(images.map((image) => image.label))]);
  const prefix = root === undefined ? '' : `${root}/`;
  if (classes.length < 2) {
    throw new ValidationError('file', `${prefix}${classes[0] ?? ''}/`, 'is the only class folder; classification needs at least 2 classes, one folder each');
  }
  if (classes.length > MAX_CLASSES) {
    throw new ValidationError('file', `${classes.length} class folders`, `are more than the ${MAX_CLASSES} classes classification allows`);
  }
  const indexOf = new Map(classes.map((label, i) => [label, i]));
  const labels = Int32Array.from(images, (image) => indexOf.get(image.label) ?? -1);
  const counts = classes.map(() => 0);
  for (const label of labels) counts[label] = (counts[label] ?? 0) + 1;
  const small = counts.findIndex((n) => n < 2);
  if (small >= 0) {
    // The stratified split holds out part of every class; a single image would never be validated.
    throw new ValidationError('file', `${prefix}${classes[small]}/`, `holds ${counts[small]} image; every class folder needs at least 2, so one can be held out for validation`);
  }
  return { task: 'classification', classes, labels, counts };
}

function summarize(
  target: ClassificationTarget,
  targetName: string,
  shape: number[],
  split: ReturnType<typeof splitRows>,
  seed: number,
  validationFraction: number,
): DatasetSummary {
  const featureDim = shape.reduce((a, b) => a * b, 1);
  return {
    rows: target.labels.length,
    columns: [{ name: targetName, type: 'target', missing: 0, categories: target.classes.length }],
    pixelColumns: featureDim,
    target: { name: targetName, task: 'classification' },
    classes: target.classes.map((label, i) => ({ label, count: target.counts[i] ?? 0 })),
    shape,
    featureDim,
    split: { method: split.method, seed, validationFraction, train: split.trainRows, validation: split.order.length - split.trainRows },
  };
}
