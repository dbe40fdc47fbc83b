import type { EncodedData, TaskSpec } from '../domain.ts';
import type { Repository } from '../storage/index.ts';
import { NotFoundError } from '../errors.ts';
import { z } from 'zod';

export interface TrainingData {
  spec: TaskSpec;
  data: EncodedData;
  /** Standard deviation of a regression target, to report errors in the target's own units. */
  targetStd?: number;
}

const storedSpecSchema = z.object({
  spec: z.object({
    kind: z.enum(['tabular', 'image', 'text', 'sequence']),
    task: z.enum(['classification', 'regression']),
    inputShape: z.array(z.number().int().positive()),
    outputs: z.number().int().positive(),
    vocabSize: z.number().int().positive().optional(),
  }),
  trainRows: z.number().int().positive(),
  targetStd: z.number().optional(),
});

/**
 * Datasets are immutable once uploaded, so a worker reads each from the
 * database once and keeps the few most recent in memory.
 */
export class DatasetCache {
  private readonly entries = new Map<string, Promise<TrainingData>>();

  constructor(private readonly repo: Repository, private readonly capacity = 2) {}

  get(datasetId: string): Promise<TrainingData> {
    let entry = this.entries.get(datasetId);
    if (entry) {
      this.entries.delete(datasetId);
    } else {
      entry = this.load(datasetId);
      entry.catch(() => this.entries.delete(datasetId));
    }
    this.entries.set(datasetId, entry);
    while (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
    return entry;
  }

  private async load(datasetId: string): Promise<TrainingData> {
    const [record, blobs] = await Promise.all([this.repo.datasets.get(datasetId), this.repo.datasets.data(datasetId)]);
    if (!record || !blobs) throw new NotFoundError('dataset', datasetId);
    const stored = storedSpecSchema.parse(record.preprocessing);
    return {
      spec: stored.spec,
      targetStd: stored.targetStd,
      data: { features: blobs.features, labels: blobs.labels, rows: record.rows, trainRows: stored.trainRows },
    };
  }
}
