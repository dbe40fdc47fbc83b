import { z } from 'zod';
import { isZipArchive, mnistSampleCsv, prepareDataset, prepareImageZip, type PrepareInput } from '../../data/index.ts';
import { NotFoundError, ValidationError } from '../../errors.ts';
import type { DatasetRecord, Repository } from '../../storage/index.ts';
import { datasetRow } from './dataset-row.ts';

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

export function datasetHandlers(repo: Repository) {
  async function store(name: string, input: PrepareInput): Promise<DatasetRecord> {
    // Everything is parsed and checked before the single write, so bad input leaves nothing behind.
    return repo.datasets.create(datasetRow(name, prepareDataset(input)));
  }

  return {
    async upload(form: UploadFields) {
      if (!(form.file instanceof File)) throw new ValidationError('file', typeof form.file === 'string' ? form.file : undefined, 'must be a file (CSV, JSONL, or a zip of images) sent as a multipart file field');
      const bytes = new Uint8Array(await form.file.arrayBuffer());
      const seed = parseNumber('seed', form.seed, z.number().int().min(0).max(2 ** 31 - 1)) ?? 0;
      const validationFraction = parseNumber('validationFraction', form.validationFraction, z.number().min(0.05).max(0.5));
      if (isZipArchive(bytes) || /\.zip$/i.test(form.file.name)) {
        if (form.kind !== 'image') {
          throw new ValidationError('file', form.file.name, `is a zip archive, but kind is "${form.kind}"; zips are for image datasets (kind=image), other kinds take CSV or JSONL`);
        }
        for (const field of ['textField', 'sequenceField', 'timeColumn'] as const) {
          if (form[field] !== undefined) throw new ValidationError(field, form[field], 'does not apply to an image zip');
        }
        const prepared = prepareImageZip(bytes, { shape: parseShape(form.shape), seed, validationFraction, target: form.target, task: form.task, fileName: form.file.name });
        // Parsed and checked in full above: the single write below is all or nothing.
        return datasetView(await repo.datasets.create(datasetRow(form.name, prepared)));
      }
      return datasetView(
        await store(form.name, {
          csv: new TextDecoder().decode(bytes),
          kind: form.kind,
          target: form.target,
          task: form.task,
          shape: parseShape(form.shape),
          textField: form.textField,
          sequenceField: form.sequenceField,
          timeColumn: form.timeColumn,
          seed,
          validationFraction,
        }),
      );
    },
    async mnist(body: { name?: string; count?: number; seed?: number; validationFraction?: number }) {
      const seed = body.seed ?? 0;
      const count = body.count ?? 2000;
      const csv = mnistSampleCsv(count, seed);
      return datasetView(await store(body.name ?? `mnist-${count}`, { csv, kind: 'image', target: 'label', task: 'classification', shape: [28, 28, 1], seed, validationFraction: body.validationFraction }));
    },
    async list() {
      return { datasets: (await repo.datasets.list()).map(datasetView) };
    },
    async get(id: string) {
      const d = await repo.datasets.get(id);
      if (!d) throw new NotFoundError('dataset', id);
      return datasetView(d);
    },
  };
}
