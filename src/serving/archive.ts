/**
 * One model version as a self-contained zip, for `GET /v1/models/{name}/versions/{v}/artifact`
 * and `maas serve --model`:
 *
 * - `model.json` and `group1-shard1of1.bin`: the TF.js model in its standard layout (a layers
 *   model with its weights manifest), so `tf.loadLayersModel` loads it from the unpacked files;
 *   maas's custom layers must be registered first (importing maas's training module does it).
 * - `preprocessing.json`: everything predict needs to encode raw instances and decode outputs
 *   (the dataset's fitted preprocessing, a forecast's `window` and `horizon`, a text model's
 *   vocabulary) and the model's `inputShape`.
 * - `card.json`: the model card (see {@link ModelCard}).
 * - `manifest.json`: the SHA-256 and size of every other file, and `checksum`, the SHA-256 of
 *   the lines `<sha256>  <path>\n` in path order (the output of `sha256sum`, sorted).
 *
 * The checksums find a damaged or edited file; they are not a signature (whoever edits a file
 * can rewrite the manifest too).
 */
import { createHash } from 'node:crypto';
import { unzipSync, zipSync, type UnzipFileInfo, type Zippable } from 'fflate';
import { z } from 'zod';
import { preprocessingSchema, type Baseline, type Preprocessing } from '../data/index.ts';
import type { EpochMetrics, Params } from '../domain.ts';
import { PayloadTooLargeError, ValidationError } from '../errors.ts';
import { directionSchema, epochMetricsSchema, modelNameSchema } from '../schemas.ts';
import packageJson from '../../package.json' with { type: 'json' };
import type { VersionParts } from './source.ts';

export const ARCHIVE_FORMAT = 'maas-model-archive';
export const ARCHIVE_FORMAT_VERSION = 1;
/** The archive's extension; an exported version is named `<name>-v<version>.maas.zip`. */
export const ARCHIVE_EXTENSION = '.maas.zip';
export const MAAS_VERSION: string = packageJson.version;

const MANIFEST = 'manifest.json';
const MODEL = 'model.json';
const PREPROCESSING = 'preprocessing.json';
const CARD = 'card.json';
const WEIGHTS = 'group1-shard1of1.bin';

/** Describes a model version to whoever receives the archive; nothing here is needed to predict. */
export interface ModelCard {
  name: string;
  version: number;
  family: string;
  /** The trial's parameters: architecture and training settings. */
  params: Params;
  /** What the study optimized (its primary objective). */
  objective: { metric: string; direction: 'minimize' | 'maximize' };
  /** A multi-objective study's objectives, the primary first; absent for one objective. */
  objectives?: { metric: string; direction: 'minimize' | 'maximize' }[];
  /** The bounds the version was chosen to meet; absent when the study had none. */
  constraints?: { metric: string; max?: number; min?: number }[];
  /** Metrics on the validation rows at the best epoch, as the registry records them. */
  metrics: EpochMetrics;
  /** The study's trivial model on the same validation rows; null for studies made before baselines existed. */
  baseline: Baseline | null;
  dataset: { id: string; name: string; kind: string; task: string; target: string; rows: number; summary: unknown };
  study: { id: string; name: string };
  trial: { id: string; number: number; epochs: number; bestEpoch: number | null };
  /** Every epoch's metrics, in order. */
  curve: { epoch: number; metrics: EpochMetrics }[];
  /** When the version was registered (ISO 8601). */
  createdAt: string;
  /** The maas that wrote the archive. */
  maasVersion: string;
}

/** A version's archive as read back, every checksum verified. */
export interface ModelArchive extends VersionParts {
  card: ModelCard;
  /** The manifest's checksum of the whole, `sha256:<hex>`. */
  checksum: string;
}

/** Limits on what reading an archive may inflate, checked from the zip's directory before anything is. */
export interface ArchiveLimits {
  /** Most bytes the archive itself may have. @defaultValue 2 GiB */
  maxArchiveBytes: number;
  /** Most bytes its files may expand to together. @defaultValue 2 GiB (a model of 100 million float32 weights is 400 MB) */
  maxUncompressedBytes: number;
  /** Most bytes of each JSON file. @defaultValue 256 MiB */
  maxJsonBytes: number;
  /** Most entries. @defaultValue 64 */
  maxEntries: number;
}

export const ARCHIVE_LIMITS: Readonly<ArchiveLimits> = {
  maxArchiveBytes: 2 ** 31,
  maxUncompressedBytes: 2 ** 31,
  maxJsonBytes: 2 ** 28,
  maxEntries: 64,
};

const sha256 = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest('hex');
const utf8 = (value: unknown) => new TextEncoder().encode(`${JSON.stringify(value, null, 1)}\n`);

/** The checksum of the whole: SHA-256 of the sorted `sha256sum` lines of the files. */
function checksumOf(files: { path: string; sha256: string }[]): string {
  const lines = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)).map((f) => `${f.sha256}  ${f.path}\n`);
  return `sha256:${sha256(lines.join(''))}`;
}

/**
 * Writes a version's archive. The zip's entries carry the version's creation time, so one
 * version always gives the same bytes.
 */
export function writeArchive(model: VersionParts, card: ModelCard): { bytes: Uint8Array; checksum: string } {
  const topology = model.artifact.topology;
  const files: Record<string, Uint8Array> = {
    [MODEL]: utf8({
      format: 'layers-model',
      generatedBy: `maas ${MAAS_VERSION}`,
      convertedBy: null,
      modelTopology: topology,
      weightsManifest: [{ paths: [WEIGHTS], weights: model.artifact.weightSpecs }],
    }),
    [WEIGHTS]: model.artifact.weights,
    [PREPROCESSING]: utf8({ ...model.preprocessing, inputShape: model.inputShape }),
    [CARD]: utf8(card),
  };
  const listed = Object.entries(files).map(([path, bytes]) => ({ path, bytes: bytes.length, sha256: sha256(bytes) }));
  const checksum = checksumOf(listed);
  const manifest = utf8({ format: ARCHIVE_FORMAT, formatVersion: ARCHIVE_FORMAT_VERSION, files: listed, checksum });
  const mtime = new Date(card.createdAt);
  // Weights barely compress (float32 noise) and are the bulk: stored, they cost no CPU to write or read.
  const zippable: Zippable = { [MANIFEST]: manifest };
  for (const [path, bytes] of Object.entries(files)) zippable[path] = [bytes, { level: path === WEIGHTS ? 0 : 6 }];
  return { bytes: zipSync(zippable, { mtime }), checksum };
}

const manifestSchema = z.object({
  format: z.literal(ARCHIVE_FORMAT),
  formatVersion: z.literal(ARCHIVE_FORMAT_VERSION),
  files: z.array(z.object({ path: z.string(), bytes: z.number().int().min(0), sha256: z.string().regex(/^[0-9a-f]{64}$/) })).min(1),
  checksum: z.string().regex(/^sha256:[0-9a-f]{64}$/),
});

const modelJsonSchema = z.object({
  format: z.literal('layers-model'),
  modelTopology: z.record(z.string(), z.unknown()),
  weightsManifest: z.array(z.object({ paths: z.array(z.string()).min(1), weights: z.array(z.looseObject({ name: z.string(), shape: z.array(z.number().int().min(0)), dtype: z.enum(['float32', 'int32', 'bool']), quantization: z.undefined({ error: 'is not supported: maas archives hold unquantized weights' }).optional() })) })).min(1),
});

const servingSchema = z.looseObject({ inputShape: z.array(z.number().int().positive()).min(1).max(4) });

const cardSchema = z.looseObject({
  name: modelNameSchema,
  version: z.number().int().min(1),
  family: z.string(),
  params: z.record(z.string(), z.union([z.number(), z.string(), z.boolean()])),
  objective: z.object({ metric: z.string(), direction: directionSchema }),
  objectives: z.array(z.object({ metric: z.string(), direction: directionSchema })).max(16).optional(),
  constraints: z.array(z.object({ metric: z.string(), max: z.number().optional(), min: z.number().optional() })).max(16).optional(),
  metrics: epochMetricsSchema,
  baseline: z.object({ method: z.enum(['majority class', 'training mean', 'last value']), metric: z.enum(['val_accuracy', 'val_mae']), value: z.number() }).nullable(),
  dataset: z.looseObject({ id: z.string(), name: z.string(), kind: z.string(), task: z.string(), target: z.string(), rows: z.number().int(), summary: z.unknown() }),
  study: z.object({ id: z.string(), name: z.string() }),
  trial: z.object({ id: z.string(), number: z.number().int(), epochs: z.number().int(), bestEpoch: z.number().int().nullable() }),
  curve: z.array(z.object({ epoch: z.number().int(), metrics: epochMetricsSchema })),
  createdAt: z.iso.datetime(),
  maasVersion: z.string(),
});

const BYTES_PER_VALUE = { float32: 4, int32: 4, bool: 1 } as const;

export interface ReadArchiveOptions {
  /** Names the archive in messages. @defaultValue `'archive'` */
  fileName?: string;
  /** @defaultValue ARCHIVE_LIMITS */
  limits?: Partial<ArchiveLimits>;
}

/**
 * Reads a version's archive, verifying every file's SHA-256 and size and the checksum of the
 * whole against its manifest, and the contents against their schemas.
 * @throws ValidationError on field `archive` naming the file, the offending entry and the rule,
 * when the archive is not a readable maas archive or any checksum differs; PayloadTooLargeError
 * when it would expand past the limits
 */
export function readArchive(bytes: Uint8Array, options: ReadArchiveOptions = {}): ModelArchive {
  const name = options.fileName ?? 'archive';
  const limits: ArchiveLimits = { ...ARCHIVE_LIMITS, ...options.limits };
  const fail = (rule: string): never => {
    throw new ValidationError('archive', name, rule);
  };
  if (bytes.length > limits.maxArchiveBytes) throw new PayloadTooLargeError('archive', name, `is ${bytes.length} bytes, more than the ${limits.maxArchiveBytes} an archive may have`);
  if (!(bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 3 && bytes[3] === 4)) fail(`is not a zip archive; a maas archive is the zip that GET /v1/models/{name}/versions/{v}/artifact (maas models export) returns`);

  const files = inflate(bytes, name, limits, fail);
  const manifestBytes = files.get(MANIFEST) ?? fail(`holds no ${MANIFEST}; it is not a maas model archive`);
  const manifest = parseJsonFile(manifestBytes, MANIFEST, manifestSchema, fail);

  // Every file the manifest lists is there with its size and SHA-256, and nothing else is.
  const listed = new Set(manifest.files.map((f) => f.path));
  if (listed.size !== manifest.files.length) fail(`has a ${MANIFEST} that lists a file twice`);
  for (const path of files.keys()) if (path !== MANIFEST && !listed.has(path)) fail(`holds ${path}, which ${MANIFEST} does not list; the archive was changed after it was written`);
  for (const entry of manifest.files) {
    const data = files.get(entry.path) ?? fail(`lacks ${entry.path}, which ${MANIFEST} lists`);
    if (data.length !== entry.bytes) fail(`has ${entry.path} of ${data.length} bytes, but ${MANIFEST} says ${entry.bytes}; the file was changed or damaged`);
    const actual = sha256(data);
    if (actual !== entry.sha256) fail(`has ${entry.path} with SHA-256 ${actual}, but ${MANIFEST} says ${entry.sha256}; the file was changed or damaged`);
  }
  const checksum = checksumOf(manifest.files);
  if (checksum !== manifest.checksum) fail(`has files whose checksum is ${checksum}, but ${MANIFEST} says ${manifest.checksum}; the manifest was changed`);

  const need = (path: string) => files.get(path) ?? fail(`lacks ${path}; a maas archive holds ${MODEL}, its weights, ${PREPROCESSING} and ${CARD}`);
  const modelJson = parseJsonFile(need(MODEL), MODEL, modelJsonSchema, fail);
  const weightSpecs = modelJson.weightsManifest.flatMap((group) => group.weights);
  const shards = modelJson.weightsManifest.flatMap((group) => group.paths);
  for (const path of shards) need(path);
  const unused = [...listed].filter((p) => p !== MODEL && p !== PREPROCESSING && p !== CARD && !shards.includes(p));
  if (unused.length > 0) fail(`holds ${unused.join(', ')}, which ${MODEL} does not name as weights`);
  const weights = concat(shards.map((path) => files.get(path) as Uint8Array));
  const expected = weightSpecs.reduce((sum, w) => sum + w.shape.reduce((a, b) => a * b, 1) * BYTES_PER_VALUE[w.dtype], 0);
  if (weights.length !== expected) fail(`has ${weights.length} bytes of weights, but the weights manifest of ${MODEL} describes ${expected}`);

  const serving = parseJsonFile(need(PREPROCESSING), PREPROCESSING, servingSchema, fail);
  const pre = preprocessingSchema.safeParse(serving);
  if (!pre.success) fail(`has a ${PREPROCESSING} that is not valid: ${issuesOf(pre.error)}`);
  const card = parseJsonFile(need(CARD), CARD, cardSchema, fail) as ModelCard;
  return {
    artifact: { topology: modelJson.modelTopology, weightSpecs, weights },
    preprocessing: pre.data as Preprocessing,
    inputShape: serving.inputShape,
    card,
    checksum,
  };
}

/** Every entry, inflated, after the directory's sizes were checked against the limits. */
function inflate(bytes: Uint8Array, name: string, limits: ArchiveLimits, fail: (rule: string) => never): Map<string, Uint8Array> {
  let entries = 0;
  let expanded = 0;
  // First pass: the central directory only (the filter declines every file). The second inflates
  // into buffers of the declared sizes, so a size that lies truncates a file and its SHA-256 fails.
  const check = (file: UnzipFileInfo): boolean => {
    if (++entries > limits.maxEntries) fail(`holds more than ${limits.maxEntries} entries; a maas archive holds five files`);
    if (file.name.includes('/') || file.name.includes('\\')) fail(`holds ${file.name}; a maas archive has no folders`);
    if (file.compression !== 0 && file.compression !== 8) fail(`holds ${file.name} compressed with zip method ${file.compression}; only stored (0) and deflate (8) are read`);
    if (file.name.endsWith('.json') && file.originalSize > limits.maxJsonBytes) {
      throw new PayloadTooLargeError('archive', name, `holds ${file.name} of ${file.originalSize} bytes, more than the ${limits.maxJsonBytes} a JSON file of an archive may have`);
    }
    expanded += file.originalSize;
    if (expanded > limits.maxUncompressedBytes) throw new PayloadTooLargeError('archive', name, `expands to more than ${limits.maxUncompressedBytes} bytes, the most an archive may`);
    return false;
  };
  let current = '';
  try {
    unzipSync(bytes, { filter: check });
    const files = unzipSync(bytes, {
      filter: (file) => {
        current = file.name;
        return true;
      },
    });
    return new Map(Object.entries(files));
  } catch (error) {
    if (error instanceof ValidationError) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    return fail(current ? `holds ${current}, which could not be inflated (${reason}); the archive is damaged` : `is not a readable zip archive (${reason})`);
  }
}

function parseJsonFile<T>(bytes: Uint8Array, path: string, schema: z.ZodType<T>, fail: (rule: string) => never): T {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (error) {
    return fail(`has a ${path} that is not JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  const parsed = schema.safeParse(value);
  return parsed.success ? parsed.data : fail(`has a ${path} that is not valid: ${issuesOf(parsed.error)}`);
}

function issuesOf(error: z.ZodError): string {
  return error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(root)'} ${i.message}`).join('; ');
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0] as Uint8Array;
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
