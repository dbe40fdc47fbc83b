/**
 * The work a preparation thread does: one job in, one prepared dataset out. Jobs are plain
 * data so they cross the thread boundary by structured clone, their bytes by transfer.
 */
import { prepareImageZip, type ImageZipOptions } from '../data/image-zip.ts';
import { mnistSampleCsv } from '../data/mnist-sample.ts';
import { prepareDataset, type PrepareInput, type PreparedDataset } from '../data/prepare.ts';
import type { NewDataset } from '../storage/index.ts';

/** A CSV or JSON Lines upload: its raw bytes (decoded as UTF-8 in the thread) and the preparation options. */
export interface TableJob {
  type: 'table';
  bytes: Uint8Array;
  input: Omit<PrepareInput, 'csv'>;
}

/** A zip of images in one folder per class. */
export interface ImageZipJob {
  type: 'image-zip';
  bytes: Uint8Array;
  options: ImageZipOptions;
}

/** The MNIST sample endpoint: the CSV is built in the thread too (784 columns × up to 10,000 rows). */
export interface MnistJob {
  type: 'mnist';
  count: number;
  seed: number;
  validationFraction?: number;
}

export type PrepareJob = TableJob | ImageZipJob | MnistJob;

/** The single write of a prepared dataset, done in a thread too: through Prisma, 112 MB of features held the event loop 4.4 s here. */
export interface StoreJob {
  type: 'store';
  row: NewDataset;
}

/** Runs a job in the calling thread. @throws ValidationError (or a subclass) naming the field, value and rule. */
export function runJob(job: PrepareJob): PreparedDataset {
  switch (job.type) {
    case 'table':
      return prepareDataset({ ...job.input, csv: new TextDecoder().decode(job.bytes) });
    case 'image-zip':
      return prepareImageZip(job.bytes, job.options);
    case 'mnist': {
      const csv = mnistSampleCsv(job.count, job.seed);
      const input: PrepareInput = { csv, kind: 'image', target: 'label', task: 'classification', shape: [28, 28, 1], seed: job.seed };
      if (job.validationFraction !== undefined) input.validationFraction = job.validationFraction;
      return prepareDataset(input);
    }
  }
}

/** The buffers a job can hand over rather than copy: only those its views span whole, since a part of a pooled buffer must not be detached. */
export function transferablesOf(...views: ArrayBufferView[]): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  for (const v of views) {
    if (v.buffer instanceof ArrayBuffer && v.byteOffset === 0 && v.byteLength === v.buffer.byteLength) buffers.add(v.buffer);
  }
  return [...buffers];
}
