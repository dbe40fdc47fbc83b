import type * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { decodePredictions, encodeInstances, preprocessingSchema } from '../data/index.ts';
import { NotFoundError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { CHAMPION, type Repository } from '../storage/index.ts';
import { loadModel, predictBatch } from '../workers/training/index.ts';

interface Loaded {
  versionId: string;
  version: number;
  model: tf.LayersModel;
  preprocessing: z.infer<typeof preprocessingSchema>;
  inputShape: number[];
}

const servingSpecSchema = z.object({ spec: z.object({ inputShape: z.array(z.number().int().positive()) }) });

/**
 * Serves the model version an alias points to. Each model is loaded once and
 * kept warm; when the alias moves, the next request loads the new version and
 * the old one is disposed, with no restart.
 */
export class Predictor {
  private readonly warm = new Map<string, Promise<Loaded>>();

  constructor(private readonly repo: Repository, private readonly log: Logger) {}

  async predict(modelName: string, instances: unknown[], alias = CHAMPION) {
    const version = await this.repo.models.byAlias(modelName, alias);
    if (!version) {
      const known = await this.repo.models.versions(modelName);
      throw known.length ? new NotFoundError(`alias '${alias}' of model`, modelName) : new NotFoundError('model', modelName);
    }
    const key = `${modelName}@${alias}`;
    let entry = this.warm.get(key);
    const current = entry ? await entry.catch(() => null) : null;
    if (!entry || current?.versionId !== version.id) {
      entry = this.load(version.id, version.version, version.trialId, version.datasetId);
      this.warm.set(key, entry);
      entry.then(
        () => current?.model.dispose(),
        () => this.warm.delete(key),
      );
    }
    const loaded = await entry;
    const features = encodeInstances(loaded.preprocessing, instances);
    const outputs = predictBatch(loaded.model, features, instances.length, loaded.inputShape);
    return { predictions: decodePredictions(loaded.preprocessing, outputs, instances.length), model: { name: modelName, version: loaded.version, alias } };
  }

  private async load(versionId: string, version: number, trialId: string, datasetId: string): Promise<Loaded> {
    const [artifact, dataset] = await Promise.all([this.repo.trials.artifact(trialId), this.repo.datasets.get(datasetId)]);
    if (!artifact || !dataset) throw new Error(`model version ${versionId} has lost its weights or dataset`);
    const model = await loadModel(artifact);
    this.log.info('model loaded', { versionId, version });
    return {
      versionId,
      version,
      model,
      preprocessing: preprocessingSchema.parse(dataset.preprocessing),
      inputShape: servingSpecSchema.parse(dataset.preprocessing).spec.inputShape,
    };
  }

  close(): void {
    for (const entry of this.warm.values()) entry.then((l) => l.model.dispose(), () => undefined);
    this.warm.clear();
  }
}
