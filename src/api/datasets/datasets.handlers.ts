import { z } from 'zod';
import { isZipArchive, type PreparedDataset } from '../../data/index.ts';
import { ConflictError, NotFoundError, ValidationError } from '../../errors.ts';
import type { Blame, Place, Preparer } from '../../preparation/index.ts';
import type { DatasetRecord, NewDataset, Repository } from '../../storage/index.ts';
import { pageOf } from '../paging.ts';
import type { quotaChecks } from '../quotas.ts';
import { datasetRow } from './dataset-row.ts';
import { ReceivedFile } from './multipart.ts';
import { sampleRows, type SampleQuery } from './sample.ts';

export function datasetView(d: DatasetRecord) {
  return { id: d.id, name: d.name, kind: d.kind, task: d.task, target: d.target, rows: d.rows, summary: d.summary, createdAt: d.createdAt.toISOString() };
}

/** Parses "28,28,1" into [28, 28, 1]. */
function parseShape(text: string | undefined): number[] | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const parts = text.split(/[,x×\s]+/).filter(Boolean).map(Number);
  if (parts.length < 2 || parts.length > 3 || parts.some((n) => !Number.isInteger(n) || n < 1 || n > 4096)) {
    throw new ValidationError('shape', text, 'must be 2 or 3 positive integers separated by commas, e.g. "28,28,1"');
  }
  return parts.length === 2 ? [...parts, 1] : parts;
}

function parseNumber(field: string, text: string | undefined, rule: z.ZodNumber): number | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const n = Number(text);
  const r = rule.safeParse(n);
  if (!r.success) throw new ValidationError(field, text, r.error.issues[0]?.message ?? 'is invalid');
  return r.data;
}

export interface UploadFields {
  /** A CSV or JSONL file, or for `kind: 'image'` a zip of PNG/JPEG files in one folder per class (told apart by its first bytes or a `.zip` name). */
  file: unknown;
  name: string;
  kind: 'tabular' | 'image' | 'text' | 'sequence' | 'timeseries';
  /** The label column; for an image zip, the name the folder labels go by. @defaultValue `'label'` for an image zip; otherwise see `PrepareInput.target` */
  target?: string;
  task?: 'classification' | 'regression' | 'forecasting';
  shape?: string;
  textField?: string;
  sequenceField?: string;
  timeColumn?: string;
  validationFraction?: string;
  seed?: string;
}

/** `preparer` parses and encodes uploads in its threads, so no upload blocks the event loop. */
export function datasetHandlers(repo: Repository, quotas: ReturnType<typeof quotaChecks>, preparer: Preparer) {
  /** Everything is parsed and checked before the single write, so bad input leaves nothing behind. */
  async function write(row: NewDataset, blame: Blame, place?: Place): Promise<DatasetRecord> {
    await quotas.dataset(row.projectId, row.features.byteLength + row.labels.byteLength);
    // A big dataset's write blocks for seconds too, so a pool that can write does it in a thread.
    return preparer.store ? preparer.store(row, { blame, place }) : repo.datasets.create(row);
  }
  async function load(projectId: string, id: string): Promise<DatasetRecord> {
    const d = await repo.datasets.get(id);
    // Another project's dataset is answered exactly like a missing one.
    if (!d || d.projectId !== projectId) throw new NotFoundError('dataset', id);
    return d;
  }

  return {
    async upload(projectId: string, form: UploadFields) {
      if (!(form.file instanceof File)) throw new ValidationError('file', typeof form.file === 'string' ? form.file : undefined, 'must be a file (CSV, JSONL, or a zip of images) sent as a multipart file field');
      // Read by the streaming multipart reader (a place in the pool held); another File only in tests that bypass it.
      const place = form.file instanceof ReceivedFile ? form.file.place : undefined;
      const bytes = form.file instanceof ReceivedFile ? form.file.content : new Uint8Array(await form.file.arrayBuffer());
      const blame = { field: 'file', value: form.file.name };
      // The upload's bytes move to the thread rather than being copied; they are not read here again.
      const run = (job: Parameters<Preparer['run']>[0]): Promise<PreparedDataset> => preparer.run(job, { blame, place, transfer: [bytes.buffer as ArrayBuffer] });
      const seed = parseNumber('seed', form.seed, z.number().int().min(0).max(2 ** 31 - 1)) ?? 0;
      const validationFraction = parseNumber('validationFraction', form.validationFraction, z.number().min(0.05).max(0.5));
      if (isZipArchive(bytes) || /\.zip$/i.test(form.file.name)) {
        if (form.kind !== 'image') {
          throw new ValidationError('file', form.file.name, `is a zip archive, but kind is "${form.kind}"; zips are for image datasets (kind=image), other kinds take CSV or JSONL`);
        }
        for (const field of ['textField', 'sequenceField', 'timeColumn'] as const) {
          if (form[field] !== undefined) throw new ValidationError(field, form[field], 'does not apply to an image zip');
        }
        const options = { shape: parseShape(form.shape), seed, validationFraction, target: form.target, task: form.task, fileName: form.file.name };
        const prepared = await run({ type: 'image-zip', bytes, options });
        // Parsed and checked in full above: the single write below is all or nothing.
        return datasetView(await write(datasetRow(projectId, form.name, prepared), blame, place));
      }
      const prepared = await run({
        type: 'table',
        bytes,
        input: {
          kind: form.kind,
          target: form.target,
          task: form.task,
          shape: parseShape(form.shape),
          textField: form.textField,
          sequenceField: form.sequenceField,
          timeColumn: form.timeColumn,
          seed,
          validationFraction,
        },
      });
      // Parsed and checked in full in the thread: the single write below is all or nothing.
      return datasetView(await write(datasetRow(projectId, form.name, prepared), blame, place));
    },
    async mnist(projectId: string, body: { name?: string; count?: number; seed?: number; validationFraction?: number }) {
      const seed = body.seed ?? 0;
      const count = body.count ?? 2000;
      const job = { type: 'mnist' as const, count, seed, ...(body.validationFraction === undefined ? {} : { validationFraction: body.validationFraction }) };
      const blame = { field: 'count', value: count };
      const place = preparer.hold();
      try {
        const prepared = await preparer.run(job, { blame, place });
        return datasetView(await write(datasetRow(projectId, body.name ?? `mnist-${count}`, prepared), blame, place));
      } finally {
        place.release();
      }
    },
    async list(projectId: string, limit: number, before?: { createdAt: string; id: string }) {
      const rows = await repo.datasets.list(projectId, { limit: limit + 1, ...(before ? { before: { createdAt: new Date(before.createdAt), id: before.id } } : {}) });
      const page = pageOf(rows, limit, (d) => ({ createdAt: d.createdAt.toISOString(), id: d.id }));
      return { datasets: page.items.map(datasetView), nextCursor: page.nextCursor };
    },
    async get(projectId: string, id: string) {
      return datasetView(await load(projectId, id));
    },
    async sample(projectId: string, id: string, query: SampleQuery) {
      return { datasetId: id, ...(await sampleRows(repo, await load(projectId, id), query)) };
    },
    async delete(projectId: string, id: string) {
      await load(projectId, id);
      const result = await repo.datasets.delete(id);
      if (result === 'missing') throw new NotFoundError('dataset', id);
      if (result !== 'deleted') throw new ConflictError(`dataset '${id}' is used by studies ${result.studies.join(', ')}; delete them first (a model version's study must outlive its version)`);
    },
  };
}
