import type * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { encodeInstances, preprocessingSchema, studySpec } from '../data/index.ts';
import { NotFoundError, ServiceBusyError } from '../errors.ts';
import { errorMessage, type Logger } from '../log.ts';
import { CHAMPION, type ModelVersionRecord, type Repository } from '../storage/index.ts';
import { loadModel, predictBatch } from '../workers/training/index.ts';
import { AGAIN, BackendGuard } from './backend-guard.ts';
import { decodeChecked } from './decode-checked.ts';

interface Loaded {
  versionId: string;
  version: number;
  model: tf.LayersModel;
  preprocessing: z.infer<typeof preprocessingSchema>;
  inputShape: number[];
  disposed: boolean;
}

type VersionRef = Pick<ModelVersionRecord, 'id' | 'version' | 'studyId' | 'trialId' | 'datasetId'>;

export interface PredictorOptions {
  /** Re-creates the compute backend after a fault broke it. @defaultValue resetBackend (a fresh tfjs backend instance) */
  resetBackend?: () => Promise<unknown>;
}

/** Times one request runs again after resets made by other requests' faults, before it is answered 503. */
const MAX_RERUNS = 3;

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

  private readonly backend: BackendGuard;

  constructor(private readonly repo: Repository, private readonly log: Logger, options: PredictorOptions = {}) {
    this.backend = new BackendGuard({ log, onReset: () => this.forgetAll(), ...(options.resetBackend ? { reset: options.resetBackend } : {}) });
  }

  /** For /healthz: `ok`, or `broken: <reason>` while the compute backend is broken and could not be reset. */
  backendStatus(): Promise<string> {
    return this.backend.check();
  }

  async predict(projectId: string, modelName: string, instances: unknown[], alias = CHAMPION) {
    for (let reruns = 0; ; reruns++) {
      if (reruns > MAX_RERUNS) throw new ServiceBusyError(1, 'the compute backend was reset several times during this request; retry it');
      await this.backend.ensureUsable();
      const version = await this.repo.models.byAlias(projectId, modelName, alias);
      if (!version) {
        const known = await this.repo.models.versions(projectId, modelName);
        throw known.length ? new NotFoundError(`alias '${alias}' of model`, modelName) : new NotFoundError('model', modelName);
      }
      this.serve(`${projectId}/${modelName}@${alias}`, version.id, version.aliasMovedAt.getTime());
      const loaded = await this.backend.run(() => this.get(version));
      // Released while this request waited (the alias moved again, or the backend was reset): look the alias up afresh.
      if (loaded === AGAIN || loaded.disposed) continue;
      // The model runs before the first await below, so a release cannot interrupt it.
      const features = encodeInstances(loaded.preprocessing, instances);
      // A backend fault here is probed and the backend reset if broken (see BackendGuard).
      const outputs = await this.backend.run(() => predictBatch(loaded.model, features, instances.length, loaded.inputShape));
      if (outputs === AGAIN) continue;
      // Only when an output is not finite: is the input or the model to blame? (A model released meanwhile is taken as sound.)
      const neutral = async () => (loaded.disposed ? Float32Array.of(0) : predictBatch(loaded.model, new Float32Array(features.length / instances.length), 1, loaded.inputShape));
      const predictions = await decodeChecked(loaded.preprocessing, outputs, instances, neutral, `${modelName} v${loaded.version}`);
      return { predictions, model: { name: modelName, version: loaded.version, alias } };
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

  /** After a backend reset: every model's tensors are gone with the old backend; each loads again on its next request. */
  private forgetAll(): void {
    for (const entry of this.versions.values()) {
      entry.then(
        (l) => {
          l.disposed = true;
        },
        () => undefined,
      );
    }
    this.versions.clear();
  }

  close(): void {
    for (const id of [...this.versions.keys()]) this.release(id);
    this.served.clear();
  }
}
