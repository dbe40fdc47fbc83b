import { trainingData, type ForecastSettings, type TrainingData } from '../data/index.ts';
import type { Repository } from '../storage/index.ts';
import { NotFoundError } from '../errors.ts';

export type { TrainingData };

/**
 * Datasets are immutable once uploaded, so a worker reads each from the database once and
 * keeps the few most recent in memory, as a study trains on them (a time series once per
 * window and horizon).
 */
export class DatasetCache {
  private readonly entries = new Map<string, Promise<TrainingData>>();

  constructor(private readonly repo: Repository, private readonly capacity = 2) {}

  get(datasetId: string, forecast: Partial<ForecastSettings> = {}): Promise<TrainingData> {
    const key = `${datasetId}:${forecast.window ?? ''}:${forecast.horizon ?? ''}`;
    let entry = this.entries.get(key);
    if (entry) {
      this.entries.delete(key);
    } else {
      entry = this.load(datasetId, forecast);
      entry.catch(() => this.entries.delete(key));
    }
    this.entries.set(key, entry);
    while (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
    return entry;
  }

  private async load(datasetId: string, forecast: Partial<ForecastSettings>): Promise<TrainingData> {
    const [record, blobs] = await Promise.all([this.repo.datasets.get(datasetId), this.repo.datasets.data(datasetId)]);
    if (!record || !blobs) throw new NotFoundError('dataset', datasetId);
    return trainingData(record, blobs, forecast);
  }
}
