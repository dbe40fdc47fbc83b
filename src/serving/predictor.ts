import type * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { decodePredictions, encodeInstances, preprocessingSchema, studySpec } from '../data/index.ts';
import { NotFoundError } from '../errors.ts';
import { errorMessage, type Logger } from '../log.ts';
import { CHAMPION, type ModelVersionRecord, type Repository } from '../storage/index.ts';
import { loadModel, predictBatch } from '../workers/training/index.ts';

interface Loaded {
  versionId: string;
  version: number;
  model: tf.LayersModel;
  preprocessing: z.infer<typeof preprocessingSchema>;
  inputShape: number[];
  disposed: boolean;
}

type VersionRef = Pick<ModelVersionRecord, 'id' | 'version' | 'studyId' | 'trialId' | 'datasetId'>;

/**
 * Serves the model version an alias points to. Each version is loaded once
 * (concurrent requests share the load) and kept warm while some alias served
 * here points to it; when an alias moves, the next request loads the new
 * version and the old one is released, with no restart.
 */
export class Predictor {
  /** Loaded (or loading) versions by version id. */
  private readonly versions = new Map<string, Promise<Loaded>>();
  /** What each `model@alias` served here points to, and when that alias moved. */
  private readonly served = new Map<string, { versionId: string; movedAt: number }>();

  constructor(private readonly repo: Repository, private readonly log: Logger) {}

  async predict(modelName: string, instances: unknown[], alias = CHAMPION) {
    for (;;) {
      const version = await this.repo.models.byAlias(modelName, alias);
      if (!version) {
        const known = await this.repo.models.versions(modelName);
        throw known.length ? new NotFoundError(`alias '${alias}' of model`, modelName) : new NotFoundError('model', modelName);
      }
      this.serve(`${modelName}@${alias}`, version.id, version.aliasMovedAt.getTime());
      const loaded = await this.get(version);
      // Released while this request waited (the alias moved again): look the alias up afresh.
      if (loaded.disposed) continue;
      // The model runs before the first await below, so a release cannot interrupt it.
      const features = encodeInstances(loaded.preprocessing, instances);
      const outputs = await predictBatch(loaded.model, features, instances.length, loaded.inputShape);
      return { predictions: decodePredictions(loaded.preprocessing, outputs, instances.length), model: { name: modelName, version: loaded.version, alias } };
    }
  }

  /** Records where an alias points; a read older than the one already known is ignored. */
  private serve(key: string, versionId: string, movedAt: number): void {
    const previous = this.served.get(key);
    if (previous && (previous.versionId === versionId || previous.movedAt > movedAt)) return;
    this.served.set(key, { versionId, movedAt });
    if (previous && ![...this.served.values()].some((s) => s.versionId === previous.versionId)) this.release(previous.versionId);
  }

  private get(version: VersionRef): Promise<Loaded> {
    let entry = this.versions.get(version.id);
    if (!entry) {
      entry = this.load(version);
      this.versions.set(version.id, entry);
      entry.catch(() => this.versions.delete(version.id));
    }
    return entry;
  }

  private release(versionId: string): void {
    const entry = this.versions.get(versionId);
    this.versions.delete(versionId);
    entry?.then(
      (l) => {
        l.disposed = true;
        l.model.dispose();
        this.log.info('model released', { versionId, version: l.version });
      },
      () => undefined,
    ).catch((err) => this.log.warn('could not release a model', { versionId, error: errorMessage(err) }));
  }

  private async load(ref: VersionRef): Promise<Loaded> {
    const { id: versionId, version } = ref;
    const [artifact, dataset, study] = await Promise.all([this.repo.trials.artifact(ref.trialId), this.repo.datasets.get(ref.datasetId), this.repo.studies.get(ref.studyId)]);
    if (!artifact || !dataset || !study) throw new Error(`model version ${versionId} has lost its weights, dataset or study`);
    // A forecaster's window and horizon are study settings, so its input shape comes from the study.
    const forecast = { window: study.config.window, horizon: study.config.horizon };
    const preprocessing = { ...preprocessingSchema.parse(dataset.preprocessing), ...(dataset.kind === 'timeseries' ? forecast : {}) };
    const model = await loadModel(artifact);
    this.log.info('model loaded', { versionId, version });
    return { versionId, version, model, preprocessing, inputShape: studySpec(dataset.preprocessing, forecast).inputShape, disposed: false };
  }

  close(): void {
    for (const id of [...this.versions.keys()]) this.release(id);
    this.served.clear();
  }
}
