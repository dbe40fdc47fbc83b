import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { mnistSampleCsv, prepareDataset, type PrepareInput } from '../../data/index.ts';
import { NotFoundError, ValidationError } from '../../errors.ts';
import type { DatasetRecord, Repository } from '../../storage/index.ts';

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
  file: unknown;
  name: string;
  kind: 'tabular' | 'image';
  target: string;
  task?: 'classification' | 'regression';
  shape?: string;
  textField?: string;
  sequenceField?: string;
  validationFraction?: string;
  seed?: string;
}

export function datasetHandlers(repo: Repository) {
  async function store(name: string, input: PrepareInput): Promise<DatasetRecord> {
    // Everything is parsed and checked before the single write, so bad input leaves nothing behind.
    const prepared = prepareDataset(input);
    return repo.datasets.create({
      id: randomUUID(),
      name,
      kind: prepared.kind,
      task: prepared.task,
      target: input.target,
      rows: prepared.encoded.rows,
      summary: prepared.summary,
      preprocessing: { ...prepared.preprocessing, spec: prepared.spec, trainRows: prepared.encoded.trainRows },
      features: prepared.encoded.features,
      labels: prepared.encoded.labels,
    });
  }

  return {
    async upload(form: UploadFields) {
      if (!(form.file instanceof File)) throw new ValidationError('file', typeof form.file === 'string' ? form.file : undefined, 'must be a CSV file sent as a multipart file field');
      const csv = await form.file.text();
      return datasetView(
        await store(form.name, {
          csv,
          kind: form.kind,
          target: form.target,
          task: form.task,
          shape: parseShape(form.shape),
          textField: form.textField,
          sequenceField: form.sequenceField,
          seed: parseNumber('seed', form.seed, z.number().int().min(0).max(2 ** 31 - 1)) ?? 0,
          validationFraction: parseNumber('validationFraction', form.validationFraction, z.number().min(0.05).max(0.5)),
        }),
      );
    },
    async mnist(body: { name?: string; count?: number; seed?: number }) {
      const seed = body.seed ?? 0;
      const count = body.count ?? 2000;
      const csv = mnistSampleCsv(count, seed);
      return datasetView(await store(body.name ?? `mnist-${count}`, { csv, kind: 'image', target: 'label', task: 'classification', shape: [28, 28, 1], seed }));
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
