import { encodeInstances, type Prediction, type Preprocessing } from '../data/index.ts';
import { ServiceBusyError } from '../errors.ts';
import { errorMessage, type Logger } from '../log.ts';
import { CHAMPION } from '../storage/index.ts';
import { backendFaultOf } from '../model/index.ts';
import { AGAIN, BackendGuard } from './backend-guard.ts';
import { Batcher, DEFAULT_MAX_BATCH_SIZE, type BatcherOptions } from './batcher.ts';
import { decodeChecked } from './decode-checked.ts';
import { InlineRunner } from './inline-runner.ts';
import { MergedCalls } from './merged-calls.ts';
import { ServingMetrics } from './metrics.ts';
import { ModelGoneError, type ModelRunner } from './model-runner.ts';
import { PinnedVersions, type PinOptions } from './pins.ts';
import { Semaphore } from './semaphore.ts';
import { ShadowRunner } from './shadows.ts';
import { notFoundOf, type ModelSource, type Selector, type SourceChange, type VersionRef } from './source.ts';

interface Loaded {
  ref: VersionRef;
  /** `projectId/name`: requests on their way to this model may join this version's batches. */
  modelKey: string;
  /** This load's key in the runner: a version loaded again (after a release or a reset) gets a new one. */
  key: string;
  preprocessing: Preprocessing;
  inputShape: number[];
  batcher: Batcher | null;
  disposed: boolean;
}

/** Dynamic batching: concurrent requests to one version share a model call. */
export type BatchOptions = Pick<BatcherOptions, 'maxBatchSize' | 'maxWaitMs'>;

export interface PredictorOptions {
  /**
   * Coalesces concurrent requests to one loaded version into one model call (see Batcher);
   * false runs one model call per request. @defaultValue \{ maxBatchSize: 64, maxWaitMs: 2 \}
   */
  batch?: BatchOptions | false;
  /**
   * Where models are built and called: InlineRunner on this thread, or ThreadedRunner on worker
   * threads (SERVE_THREADS), so that a long model call does not hold the event loop. Closed with
   * the Predictor. @defaultValue a new InlineRunner
   */
  runner?: ModelRunner;
  /**
   * Re-creates the compute backend after a fault broke it, for the default runner (a given runner
   * resets its own). @defaultValue resetBackend (a fresh tfjs backend instance)
   */
  resetBackend?: () => Promise<unknown>;
  /** Versions asked for by number kept warm: per project, overall, and for how long at least (see PinOptions). */
  pinned?: PinOptions;
  /**
   * Models read and built at once; more wait their turn, so that requests for many versions
   * cannot load them all at the same time. @defaultValue 2
   */
  maxConcurrentLoads?: number;
  /**
   * Shadow predictions (see VersionRef.shadow) running at once; a request to mirror beyond them is
   * dropped (and counted), so that a shadow never queues work up behind the answers. @defaultValue 4
   */
  maxShadowsInFlight?: number;
  /** Where per-version request counts and latencies go. @defaultValue a new ServingMetrics */
  metrics?: ServingMetrics;
}

/** What served a prediction; `alias` is null when the request named a version. */
export interface ServedModel<A extends string | null = string | null> {
  name: string;
  version: number;
  alias: A;
}

/** A served version's description, for reading protocol requests and for the protocols' metadata answers. */
export interface ServedSignature {
  name: string;
  version: number;
  preprocessing: Preprocessing;
  /** The shape of one instance as the model takes it. */
  inputShape: number[];
}

/** Times one request runs again after resets made by other requests' faults, before it is answered 503. */
const MAX_RERUNS = 3;

/**
 * Serves model versions, named by an alias or by number, from a {@link ModelSource}. Each version
 * is loaded once (concurrent requests share the load; few loads run at once) and kept warm while
 * some alias served here points to it (or, for versions asked for by number, while it is among
 * its project's few most recently used, see PinnedVersions); when an alias moves, the next
 * request loads the new version and the old one is released, with no restart, and a deleted
 * alias releases its version. Concurrent requests to one version are batched into one model call.
 */
export class Predictor {
  /** Loaded (or loading) versions by version id. */
  private readonly versions = new Map<string, Promise<Loaded>>();
  /** Loaded versions not yet released, for waking their batchers. */
  private readonly live = new Set<Loaded>();
  /** The versions each `project/model@alias` served here sends requests to (see VersionRef.routes), and when that alias moved. */
  private readonly served = new Map<string, { versionIds: string[]; movedAt: number }>();
  /** Versions asked for by number, by `project/model#version`. */
  private readonly pinned: PinnedVersions;
  /** Versions loaded for the requests using them alone (no room to keep them), with how many such requests run. */
  private readonly lent = new Map<string, number>();
  private readonly loads: Semaphore;
  private readonly unwatch: (() => void) | undefined;
  /** Requests per `project/model` that have begun but not yet reached a batcher (or given up). */
  private readonly arriving = new Map<string, number>();
  private readonly backend: BackendGuard;
  private readonly batch: BatchOptions | false;
  /** Shadow predictions running in the background. */
  private readonly shadows: ShadowRunner;
  private readonly runner: ModelRunner;
  /** Loads made so far: each gets its own key in the runner. */
  private loadCount = 0;
  /** Releases under way, for close to wait for. */
  private readonly releasing = new Set<Promise<void>>();
  /** Per-version request counts and latency histograms, for /metrics. */
  readonly metrics: ServingMetrics;

  constructor(private readonly source: ModelSource, private readonly log: Logger, options: PredictorOptions = {}) {
    this.runner = options.runner ?? new InlineRunner(options.resetBackend ? { resetBackend: options.resetBackend } : {});
    this.backend = new BackendGuard({ log, onReset: () => this.forgetAll(), reset: () => this.runner.reset() });
    this.batch = options.batch ?? {};
    this.pinned = new PinnedVersions(options.pinned);
    this.loads = new Semaphore(options.maxConcurrentLoads ?? 2);
    this.metrics = options.metrics ?? new ServingMetrics();
    this.shadows = new ShadowRunner(this.metrics, log, options.maxShadowsInFlight ?? 4);
    this.unwatch = source.onChange?.((change) => this.changed(change));
  }

  /** For /healthz: `ok`, or `broken: <reason>` while the compute backend is broken and could not be reset. */
  backendStatus(): Promise<string> {
    return this.backend.check();
  }

  /**
   * Predicts `instances` with the version `selector` names (an alias name, or a version number).
   * @param selector - @defaultValue \{ alias: 'champion' \}
   * @throws ValidationError or PayloadTooLargeError for instances the model cannot take (400/413),
   * NotFoundError when the model, alias or version does not exist, ConflictError when the model gives
   * non-finite outputs even for the training means, ServiceBusyError while the backend is broken.
   */
  predict(projectId: string, name: string, instances: unknown[], selector?: string | { alias: string }): Promise<{ predictions: Prediction[]; model: ServedModel<string> }>;
  predict(projectId: string, name: string, instances: unknown[], selector: Selector | string): Promise<{ predictions: Prediction[]; model: ServedModel }>;
  async predict(projectId: string, name: string, instances: unknown[], selector: Selector | string = { alias: CHAMPION }): Promise<{ predictions: Prediction[]; model: ServedModel }> {
    const { predictions, model } = await this.predictFor(projectId, name, typeof selector === 'string' ? { alias: selector } : selector, () => instances);
    return { predictions, model };
  }

  /**
   * Predicts for a request in another format (the inference protocols): `read` turns it into
   * instances for the version the selector resolves to, from that version's preprocessing and
   * input shape, right before the model call. Should the version be released first (an alias
   * moved, the backend was reset), `read` runs again for the one served then, so the request is
   * always read for the version that answers it. Costs what {@link predict} costs; errors as it.
   */
  async predictFor(projectId: string, name: string, want: Selector, read: (version: ServedSignature) => unknown[]): Promise<{ predictions: Prediction[]; model: ServedModel; version: ServedSignature }> {
    const leave = this.arrive(`${projectId}/${name}`);
    const started = performance.now();
    try {
      for (let reruns = 0; ; reruns++) {
        if (reruns > MAX_RERUNS) throw new ServiceBusyError(1, 'the compute backend was reset several times during this request; retry it');
        await this.backend.ensureUsable();
        const { loaded, lent, ref } = await this.load(projectId, name, want);
        // Counted per version only once the version is known; a rerun after a reset is not a second request.
        let counted: boolean | undefined;
        try {
          // Released while this request waited (the alias moved again, or the backend was reset): look the version up afresh.
          if (loaded === AGAIN || loaded.disposed) continue;
          counted = false;
          const version = described(name, loaded);
          const instances = read(version);
          // Strict checks per request, before any batching: a bad instance fails only its own request.
          const features = encodeInstances(loaded.preprocessing, instances);
          // Read now: the runner may move the features to another thread.
          const width = features.length / instances.length;
          // From here to the submit nothing awaits, so a release cannot come between (a release drains the batcher before disposing).
          // A backend fault is probed and the backend reset if broken (see BackendGuard).
          const outputs = await this.backend
            .run(() => {
              const answer = loaded.batcher ? loaded.batcher.submit(features, instances.length) : this.runner.predict(loaded.key, features, instances.length);
              leave();
              return answer;
            })
            .catch((err: unknown): typeof AGAIN => this.lostOr(err, loaded));
          if (outputs === AGAIN) continue;
          // Only when an output is not finite: is the input or the model to blame? (A model released or lost meanwhile is taken as sound.)
          const neutral = () =>
            loaded.disposed ? Promise.resolve(Float32Array.of(0)) : this.runner.predict(loaded.key, new Float32Array(width), 1).catch((err: unknown) => (err instanceof ModelGoneError ? Float32Array.of(0) : Promise.reject(err)));
          const predictions = await decodeChecked(loaded.preprocessing, outputs, instances, neutral, `${name} v${loaded.ref.version}`);
          counted = true;
          this.metrics.record({ project: projectId, model: name, version: loaded.ref.version, role: 'primary' }, (performance.now() - started) / 1000, true);
          // Only once the answer is made, and without waiting for it: a shadow never delays or changes an answer.
          if (ref.shadow) this.mirror(ref.shadow, instances);
          return { predictions, model: { name, version: loaded.ref.version, alias: 'alias' in want ? want.alias : null }, version };
        } catch (err) {
          if (counted === false && loaded !== AGAIN) this.metrics.record({ project: projectId, model: name, version: loaded.ref.version, role: 'primary' }, (performance.now() - started) / 1000, false);
          throw err;
        } finally {
          if (lent !== null) this.giveBack(lent);
        }
      }
    } finally {
      leave();
    }
  }

  /**
   * The version `selector` names, loaded (or reused), with its preprocessing and input shape;
   * errors as {@link predict}. Looks up no aliases or versions list: the metadata routes ask the source.
   */
  async signature(projectId: string, name: string, selector: Selector | string = { alias: CHAMPION }): Promise<ServedSignature> {
    const want = typeof selector === 'string' ? { alias: selector } : selector;
    for (let reruns = 0; ; reruns++) {
      if (reruns > MAX_RERUNS) throw new ServiceBusyError(1, 'the compute backend was reset several times during this request; retry it');
      await this.backend.ensureUsable();
      const { loaded, lent } = await this.load(projectId, name, want);
      if (lent !== null) this.giveBack(lent);
      if (loaded === AGAIN || loaded.disposed) continue;
      return described(name, loaded);
    }
  }

  /**
   * Resolves the selector, records what it points to, and loads (or reuses) that version. `lent`
   * is the version's id when it is loaded for this request alone: give it back when done.
   */
  private async load(projectId: string, name: string, want: Selector): Promise<{ loaded: Loaded | typeof AGAIN; lent: string | null; ref: VersionRef }> {
    const key = 'alias' in want ? aliasKey(projectId, name, want.alias) : versionKey(projectId, name, want.version);
    const ref = await this.source.resolve(projectId, name, want);
    if (!ref) {
      // Deleted (another process's delete is seen here first): what was kept warm for it goes.
      this.forget(key);
      throw await notFoundOf(this.source, projectId, name, want);
    }
    let kept = true;
    if ('alias' in want) this.serve(key, ref.routes ?? [ref.id], ref.movedAt);
    else {
      const pin = this.pinned.use(projectId, key, ref.id);
      for (const id of pin.released) this.releaseIfUnserved(id);
      kept = pin.kept;
    }
    if (kept) return { loaded: await this.backend.run(() => this.get(ref)), lent: null, ref };
    this.lent.set(ref.id, (this.lent.get(ref.id) ?? 0) + 1);
    try {
      return { loaded: await this.backend.run(() => this.get(ref)), lent: ref.id, ref };
    } catch (err) {
      this.giveBack(ref.id);
      throw err;
    }
  }

  /** Ends a request's use of a version loaded for its requests alone; the last one releases it (unless it is kept by now). */
  private giveBack(versionId: string): void {
    const n = (this.lent.get(versionId) ?? 1) - 1;
    if (n > 0) {
      this.lent.set(versionId, n);
      return;
    }
    this.lent.delete(versionId);
    this.releaseIfUnserved(versionId);
  }

  /** After a write through the source's own process: a deleted alias or version releases what it kept warm at once. */
  private changed(change: SourceChange): void {
    if (change.deletedAlias !== undefined) this.forget(aliasKey(change.projectId, change.name, change.deletedAlias));
    if (change.deletedVersion !== undefined) this.forget(versionKey(change.projectId, change.name, change.deletedVersion));
  }

  /** Stops keeping `key` (an alias or a version number) served, releasing its version unless something else keeps it. */
  private forget(key: string): void {
    const served = this.served.get(key);
    this.served.delete(key);
    const pinned = this.pinned.drop(key);
    for (const id of [...(served?.versionIds ?? []), pinned]) if (id !== undefined) this.releaseIfUnserved(id);
  }

  /** Mirrors a request to a shadow version in the background (see ShadowRunner). */
  private mirror(ref: VersionRef, instances: unknown[]): void {
    // The alias may have dropped its shadow meanwhile: then nothing keeps this version loaded afterwards.
    this.shadows.start(ref, () => this.shadowPredict(ref, instances), () => this.releaseIfUnserved(ref.id));
  }

  /** One shadow prediction; false when the backend was reset or the version released meanwhile (not worth retrying). */
  private async shadowPredict(ref: VersionRef, instances: unknown[]): Promise<boolean> {
    const loaded = await this.backend.run(() => this.get(ref));
    if (loaded === AGAIN || loaded.disposed) return false;
    const features = encodeInstances(loaded.preprocessing, instances);
    const outputs = await this.backend
      .run(() => (loaded.batcher ? loaded.batcher.submit(features, instances.length) : this.runner.predict(loaded.key, features, instances.length)))
      .catch((err: unknown): typeof AGAIN => this.lostOr(err, loaded));
    return outputs !== AGAIN;
  }

  /**
   * For a model call's error: AGAIN when the model was lost with its thread (ModelGoneError), after
   * forgetting that load, so that the request loads the version afresh; any other error is rethrown.
   */
  private lostOr(err: unknown, loaded: Loaded): typeof AGAIN {
    if (!(err instanceof ModelGoneError)) throw err;
    if (!loaded.disposed) {
      this.log.warn('a served model was lost with its thread; loading it again', { versionId: loaded.ref.id, version: loaded.ref.version });
      loaded.disposed = true;
      this.live.delete(loaded);
      const entry = this.versions.get(loaded.ref.id);
      void entry?.then((current) => {
        if (current === loaded && this.versions.get(loaded.ref.id) === entry) this.versions.delete(loaded.ref.id);
      });
    }
    return AGAIN;
  }

  /** Resolves once the shadow predictions running now have ended (for tests and shutdown). */
  shadowsSettled(): Promise<void> {
    return this.shadows.settled();
  }

  /** Counts a request on its way to `modelKey`'s batchers; the returned function (idempotent) ends that. */
  private arrive(modelKey: string): () => void {
    this.arriving.set(modelKey, (this.arriving.get(modelKey) ?? 0) + 1);
    let left = false;
    return () => {
      if (left) return;
      left = true;
      const n = (this.arriving.get(modelKey) ?? 1) - 1;
      if (n > 0) {
        this.arriving.set(modelKey, n);
        return;
      }
      this.arriving.delete(modelKey);
      // The last request on its way has arrived (or given up): nothing more to wait for.
      for (const l of this.live) if (l.modelKey === modelKey) l.batcher?.poke();
    };
  }

  /** Records where an alias sends requests; a read older than the one already known is ignored. */
  private serve(key: string, versionIds: string[], movedAt: number): void {
    const previous = this.served.get(key);
    if (previous && (previous.movedAt > movedAt || (previous.versionIds.length === versionIds.length && previous.versionIds.every((id, i) => id === versionIds[i])))) return;
    this.served.set(key, { versionIds, movedAt });
    if (previous) for (const id of previous.versionIds) if (!versionIds.includes(id)) this.releaseIfUnserved(id);
  }

  private releaseIfUnserved(versionId: string): void {
    for (const s of this.served.values()) if (s.versionIds.includes(versionId)) return;
    if (this.pinned.holds(versionId) || this.lent.has(versionId)) return;
    this.release(versionId);
  }

  private get(ref: VersionRef): Promise<Loaded> {
    let entry = this.versions.get(ref.id);
    if (!entry) {
      entry = this.loads.run(() => this.open(ref));
      this.versions.set(ref.id, entry);
      entry.catch(() => this.versions.delete(ref.id));
    }
    return entry;
  }

  private release(versionId: string): void {
    const entry = this.versions.get(versionId);
    this.versions.delete(versionId);
    if (!entry) return;
    const done = entry
      .then(
        async (l) => {
          l.disposed = true;
          this.live.delete(l);
          // Requests already in a batch are answered by this version before its weights go.
          await l.batcher?.drain();
          await this.runner.release(l.key);
          this.log.info('model released', { versionId, version: l.ref.version });
        },
        () => undefined,
      )
      .catch((err) => this.log.warn('could not release a model', { versionId, error: errorMessage(err) }))
      .finally(() => this.releasing.delete(done));
    this.releasing.add(done);
  }

  private async open(ref: VersionRef): Promise<Loaded> {
    // Only what serving needs is kept: the weights' bytes are dropped once the model is built.
    const { artifact, preprocessing, inputShape } = await this.source.parts(ref);
    const key = `${ref.id}/${++this.loadCount}`;
    await this.runner.load(key, artifact, inputShape);
    const loaded: Loaded = { ref, modelKey: `${ref.projectId}/${ref.name}`, key, preprocessing, inputShape, batcher: null, disposed: false };
    if (this.batch) {
      // After a backend fault the guard probes and resets, and a model lost with its thread is loaded again; running the requests one by one would not help.
      const retryAlone = (err: unknown) => !backendFaultOf(err) && !(err instanceof ModelGoneError);
      // One call at a time, batches made meanwhile merged into the next: so that, with the call on a model thread, the requests that arrive during it share the next call, as they do when it holds this thread.
      const merged = new MergedCalls((features, count) => this.runner.predict(key, features, count), { maxRows: this.batch.maxBatchSize ?? DEFAULT_MAX_BATCH_SIZE, retryAlone });
      loaded.batcher = new Batcher((features, count) => merged.call(features, count), {
        ...this.batch,
        pending: () => this.arriving.get(loaded.modelKey) ?? 0,
        retryAlone,
      });
    }
    this.live.add(loaded);
    this.log.info('model loaded', { versionId: ref.id, name: ref.name, version: ref.version });
    return loaded;
  }

  /** After a backend reset: every model's tensors are gone with the old backend (the runner forgets them); each loads again on its next request. */
  private forgetAll(): void {
    for (const entry of this.versions.values()) {
      entry.then(
        (l) => {
          l.disposed = true;
          this.live.delete(l);
        },
        () => undefined,
      );
    }
    this.versions.clear();
  }

  /** Releases every model and closes the runner; resolves once the runner is closed (calling it without waiting is fine). */
  async close(): Promise<void> {
    this.shadows.close();
    this.unwatch?.();
    for (const id of [...this.versions.keys()]) this.release(id);
    this.served.clear();
    this.pinned.clear();
    // Batches under way are answered before the runner (and any thread) goes.
    while (this.releasing.size > 0) await Promise.all([...this.releasing]);
    await this.runner.close();
  }
}

const aliasKey = (projectId: string, name: string, alias: string) => `${projectId}/${name}@${alias}`;
const versionKey = (projectId: string, name: string, version: number) => `${projectId}/${name}#${version}`;

function described(name: string, loaded: Loaded): ServedSignature {
  return { name, version: loaded.ref.version, preprocessing: loaded.preprocessing, inputShape: loaded.inputShape };
}
