import type { Db } from './db.ts';

/** A dataset as stored and listed: its description, without the encoded data. */
export interface DatasetRecord {
  id: string;
  name: string;
  kind: string;
  task: string;
  target: string;
  rows: number;
  /** What was understood at upload (JSON). */
  summary: unknown;
  /** Everything predict needs to encode raw input like training did (JSON). */
  preprocessing: unknown;
  createdAt: Date;
}

/** A dataset to store: its description and its encoded features and labels. */
export interface NewDataset extends Omit<DatasetRecord, 'createdAt'> {
  features: Float32Array;
  labels: Float32Array;
}

const bytes = (a: Float32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength) as Uint8Array<ArrayBuffer>;
/** Copies because the driver's Buffer may not be 4-byte aligned. */
const floats = (b: Uint8Array) => new Float32Array(new Uint8Array(b).buffer);

function toRecord(row: Omit<DatasetRecord, 'summary' | 'preprocessing'> & { summary: string; preprocessing: string }): DatasetRecord {
  return { ...row, summary: JSON.parse(row.summary), preprocessing: JSON.parse(row.preprocessing) };
}

const columns = { id: true, name: true, kind: true, task: true, target: true, rows: true, summary: true, preprocessing: true, createdAt: true } as const;

export function datasetStore(db: Db) {
  return {
    /** Writes the description and the encoded data in one statement, so no half dataset can exist. */
    async create(d: NewDataset): Promise<DatasetRecord> {
      const row = await db.dataset.create({
        data: {
          id: d.id,
          name: d.name,
          kind: d.kind,
          task: d.task,
          target: d.target,
          rows: d.rows,
          summary: JSON.stringify(d.summary),
          preprocessing: JSON.stringify(d.preprocessing),
          data: { create: { features: bytes(d.features), labels: bytes(d.labels) } },
        },
        select: columns,
      });
      return toRecord(row);
    },
    async list(): Promise<DatasetRecord[]> {
      const rows = await db.dataset.findMany({ select: columns, orderBy: { createdAt: 'desc' } });
      return rows.map(toRecord);
    },
    async get(id: string): Promise<DatasetRecord | null> {
      const row = await db.dataset.findUnique({ where: { id }, select: columns });
      return row ? toRecord(row) : null;
    },
    async data(id: string): Promise<{ features: Float32Array; labels: Float32Array } | null> {
      const row = await db.datasetData.findUnique({ where: { datasetId: id } });
      return row ? { features: floats(row.features), labels: floats(row.labels) } : null;
    },
  };
}
