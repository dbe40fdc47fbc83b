import { randomInt } from 'node:crypto';
import { preprocessingSchema, studySpec, type Preprocessing } from '../data/index.ts';
import type { ModelArtifact } from '../domain.ts';
import { NotFoundError } from '../errors.ts';
import { rngFor, type Rng } from '../rng.ts';
import type { Repository } from '../storage/index.ts';

/** Which version of a model a request asks for: the one an alias points to, or a version number. */
export type Selector = { alias: string } | { version: number };

/** One model version, as a {@link ModelSource} resolved it. */
export interface VersionRef {
  /** Unique across every model and project; the key its loaded model is kept under. */
  id: string;
  projectId: string;
  /** The model's name. */
  name: string;
  version: number;
  /** ms; when the alias last moved, 0 for a version selector. An older read of an alias never undoes a newer one. */
  movedAt: number;
  /**
   * Ids of every version the alias sends requests to (its own, its canaries and its shadow), which
   * are kept warm together while the alias is served. @defaultValue [id]
   */
  routes?: string[];
  /** Set when this request is also to be predicted, in the background, by the alias's shadow version. */
  shadow?: VersionRef;
}

/** What serving one version takes. */
export interface VersionParts {
  artifact: ModelArtifact;
  /** The dataset's preprocessing; a forecaster's also carries its study's `window` and `horizon`. */
  preprocessing: Preprocessing;
  /** The shape of one instance as the model takes it. */
  inputShape: number[];
}

/** A change to what an alias or a version number of a model names, made through the source's own process. */
export interface SourceChange {
  projectId: string;
  /** The model's name. */
  name: string;
  /** Set when this alias was deleted. */
  deletedAlias?: string;
  /** Set when this version was deleted. */
  deletedVersion?: number;
}

/** Where served models come from: the registry (database) or exported archives. */
export interface ModelSource {
  /**
   * The version `selector` names, or null when the model, the alias or the version does not exist.
   * An alias with canaries names one version per call, drawn by their weights, and with a shadow
   * sets {@link VersionRef.shadow} on its share of calls.
   */
  resolve(projectId: string, name: string, selector: Selector): Promise<VersionRef | null>;
  /** Versions of a model with their aliases, newest last; [] when the model does not exist. */
  versions(projectId: string, name: string): Promise<{ version: number; aliases: string[] }[]>;
  /** The version's weights and preprocessing; NotFoundError when the version was deleted since it was resolved. */
  parts(ref: VersionRef): Promise<VersionParts>;
  /**
   * Calls `listener` after each change made through this source's process (others' are seen
   * through `resolve` alone); returns the unsubscribe. @defaultValue absent: nothing changes (archives)
   */
  onChange?(listener: (change: SourceChange) => void): () => void;
}

/**
 * Why `selector` resolved to nothing, as the NotFoundError answered 404: the model does not exist
 * (in this project), or it does and the alias or version does not.
 * @param aliasNoun - what the caller's protocol calls an alias (TF Serving: `label`). @defaultValue 'alias'
 */
export async function notFoundOf(source: ModelSource, projectId: string, name: string, selector: Selector, aliasNoun = 'alias'): Promise<NotFoundError> {
  const known = await source.versions(projectId, name);
  if (known.length === 0) return new NotFoundError('model', name);
  return 'alias' in selector ? new NotFoundError(`${aliasNoun} '${selector.alias}' of model`, name) : new NotFoundError(`version ${selector.version} of model`, name);
}

export interface RepositorySourceOptions {
  /**
   * How long, in ms, what an alias or a version number names is reused without asking the
   * database again (a lookup costs more than the model call of a small model). Writes through
   * the same repository (promotions, alias moves, deleted versions) clear it at once, so only a
   * write by another process is seen up to this late. 0 asks on every request. @defaultValue 0
   */
  cacheMs?: number;
  /** Draws the version of each request to an alias with canaries, and whether its shadow sees it. @defaultValue a stream seeded at random */
  rng?: Rng;
}

/** An alias as looked up once (and cached): its version and its routing. */
export interface AliasRoute {
  main: VersionRef;
  canary: { ref: VersionRef; weight: number }[];
  shadow: { ref: VersionRef; share: number } | null;
}

/**
 * The version one request to an alias goes to: a canary with the probability of its weight, else
 * the alias's own version; and the shadow with the probability of its share. Pure but for `rng`.
 */
export function route(r: AliasRoute, rng: Pick<Rng, 'next'>): VersionRef {
  if (r.canary.length === 0 && !r.shadow) return r.main;
  const routes = [r.main.id, ...r.canary.map((c) => c.ref.id), ...(r.shadow ? [r.shadow.ref.id] : [])];
  let chosen = r.main;
  const u = rng.next();
  let below = 0;
  for (const c of r.canary) {
    below += c.weight;
    if (u < below) {
      chosen = c.ref;
      break;
    }
  }
  const shadowed = r.shadow !== null && rng.next() < r.shadow.share;
  return { ...chosen, routes, ...(shadowed ? { shadow: r.shadow!.ref } : {}) };
}

/** Lookups kept at most, so that requests for many names cannot grow the cache without bound. */
const MAX_CACHED_LOOKUPS = 10_000;

/** The registry in the database: what the api serves. */
export function repositorySource(repo: Repository, options: RepositorySourceOptions = {}): ModelSource {
  const cacheMs = options.cacheMs ?? 0;
  const rng = options.rng ?? rngFor(randomInt(2 ** 31));
  const cache = new Map<string, { ref: AliasRoute | VersionRef | null; at: number }>();
  /** Bumped by each write: a lookup begun before one must not be kept. */
  let generation = 0;
  if (cacheMs > 0) {
    repo.models.onChange(() => {
      generation++;
      cache.clear();
    });
  }

  async function lookUp(projectId: string, name: string, selector: Selector): Promise<AliasRoute | VersionRef | null> {
    if ('alias' in selector) {
      const v = await repo.models.byAlias(projectId, name, selector.alias);
      if (!v) return null;
      const movedAt = v.aliasMovedAt.getTime();
      const ref = (r: { id: string; version: number }): VersionRef => ({ id: r.id, projectId, name, version: r.version, movedAt });
      return {
        main: ref(v),
        canary: (v.routing?.canary ?? []).map((c) => ({ ref: ref(c), weight: c.weight })),
        shadow: v.routing?.shadow ? { ref: ref(v.routing.shadow), share: v.routing.shadow.share } : null,
      };
    }
    // A version number the database cannot hold is a version that does not exist, not a 500.
    if (!Number.isSafeInteger(selector.version) || selector.version < 1 || selector.version > 2 ** 31 - 1) return null;
    const v = await repo.models.version(projectId, name, selector.version);
    return v && { id: v.id, projectId, name, version: v.version, movedAt: 0 };
  }

  return {
    async resolve(projectId, name, selector) {
      // What is cached is the alias's routing; each request draws its own version from it.
      const drawn = (found: AliasRoute | VersionRef | null) => (found && 'main' in found ? route(found, rng) : found);
      if (cacheMs <= 0) return drawn(await lookUp(projectId, name, selector));
      const key = JSON.stringify(['alias' in selector ? 'a' : 'v', projectId, name, 'alias' in selector ? selector.alias : selector.version]);
      const hit = cache.get(key);
      if (hit && Date.now() - hit.at < cacheMs) return drawn(hit.ref);
      const begun = { generation, at: Date.now() };
      const ref = await lookUp(projectId, name, selector);
      if (begun.generation === generation) {
        cache.delete(key);
        cache.set(key, { ref, at: begun.at });
        // The Map keeps insertion order: the first key is the oldest lookup.
        if (cache.size > MAX_CACHED_LOOKUPS) cache.delete(cache.keys().next().value!);
      }
      return drawn(ref);
    },
    async versions(projectId, name) {
      return (await repo.models.versions(projectId, name)).map((v) => ({ version: v.version, aliases: v.aliases }));
    },
    async parts(ref) {
      const record = await repo.models.version(ref.projectId, ref.name, ref.version);
      // Deleted (by another process, while a cached lookup still named it): as if never resolved.
      if (!record || record.id !== ref.id) throw new NotFoundError(`version ${ref.version} of model`, ref.name);
      const [artifact, dataset, study] = await Promise.all([repo.trials.artifact(record.trialId), repo.datasets.get(record.datasetId), repo.studies.get(record.studyId)]);
      if (!artifact || !dataset || !study) throw new Error(`model version ${ref.id} (${ref.name} v${ref.version}) has lost its weights, dataset or study`);
      // A forecaster's window and horizon are study settings, so its input shape comes from the study.
      const forecast = { window: study.config.window, horizon: study.config.horizon };
      const preprocessing = { ...preprocessingSchema.parse(dataset.preprocessing), ...(dataset.kind === 'timeseries' ? forecast : {}) };
      return { artifact, preprocessing, inputShape: studySpec(dataset.preprocessing, forecast).inputShape };
    },
    onChange(listener) {
      return repo.models.onChange(({ projectId, modelName, deletedAlias, deletedVersion }) =>
        listener({ projectId, name: modelName, ...(deletedAlias !== undefined ? { deletedAlias } : {}), ...(deletedVersion !== undefined ? { deletedVersion } : {}) }),
      );
    },
  };
}
