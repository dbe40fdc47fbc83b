import type { Db } from './db.ts';

/** A dataset as stored and listed: its description, without the encoded data. */
export interface DatasetRecord {
  id: string;
  projectId: string;
  name: string;
  kind: string;
  task: string;
  target: string;
  rows: number;
  /** What was understood at upload (JSON). */
  summary: unknown;
  /** Everything predict needs to encode raw input like training did (JSON). */
  preprocessing: unknown;
  /** Stored size of the encoded features and labels. */
  bytes: number;
  createdAt: Date;
}

/** A dataset to store: its description and its encoded features and labels. */
export interface NewDataset extends Omit<DatasetRecord, 'createdAt' | 'bytes'> {
  features: Float32Array;
  labels: Float32Array;
}

const bytes = (a: Float32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength) as Uint8Array<ArrayBuffer>;
/** Copies because the driver's Buffer may not be 4-byte aligned. */
const floats = (b: Uint8Array) => new Float32Array(new Uint8Array(b).buffer);

function toRecord(row: Omit<DatasetRecord, 'summary' | 'preprocessing' | 'bytes'> & { summary: string; preprocessing: string; bytes: bigint }): DatasetRecord {
  return { ...row, bytes: Number(row.bytes), summary: JSON.parse(row.summary), preprocessing: JSON.parse(row.preprocessing) };
}

const columns = { id: true, projectId: true, bytes: true, name: true, kind: true, task: true, target: true, rows: true, summary: true, preprocessing: true, createdAt: true } as const;

/** @param provider - picks the SQL that hands a slice of a blob back as text (see `slice`). */
export function datasetStore(db: Db, provider: 'sqlite' | 'postgresql') {
  return {
    /** Writes the description and the encoded data in one statement, so no half dataset can exist. */
    async create(d: NewDataset): Promise<DatasetRecord> {
      const row = await db.dataset.create({
        data: {
          id: d.id,
          projectId: d.projectId,
          name: d.name,
          kind: d.kind,
          task: d.task,
          target: d.target,
          rows: d.rows,
          summary: JSON.stringify(d.summary),
          preprocessing: JSON.stringify(d.preprocessing),
          bytes: d.features.byteLength + d.labels.byteLength,
          data: { create: { features: bytes(d.features), labels: bytes(d.labels) } },
        },
        select: columns,
      });
      return toRecord(row);
    },
    /** A project's datasets, newest first: `limit` of them after the cursor's (createdAt, id). */
    async list(projectId: string, page: { limit: number; before?: { createdAt: Date; id: string } } = { limit: 1000 }): Promise<DatasetRecord[]> {
      const b = page.before;
      const rows = await db.dataset.findMany({
        select: columns,
        where: { projectId, ...(b ? { OR: [{ createdAt: { lt: b.createdAt } }, { createdAt: b.createdAt, id: { lt: b.id } }] } : {}) },
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        take: page.limit,
      });
      return rows.map(toRecord);
    },
    /** Deletes a dataset no study uses; the check and the delete are one transaction. Returns 'deleted', 'missing' or the studies in the way. */
    async delete(id: string): Promise<'deleted' | 'missing' | { studies: string[] }> {
      return db.$transaction(async (tx) => {
        const studies = (await tx.study.findMany({ where: { datasetId: id }, select: { id: true }, take: 5 })).map((s) => s.id);
        if (studies.length > 0) return { studies };
        const { count } = await tx.dataset.deleteMany({ where: { id } });
        return count === 1 ? 'deleted' : 'missing';
      });
    },
    async get(id: string): Promise<DatasetRecord | null> {
      const row = await db.dataset.findUnique({ where: { id }, select: columns });
      return row ? toRecord(row) : null;
    },
    async data(id: string): Promise<{ features: Float32Array; labels: Float32Array } | null> {
      const row = await db.datasetData.findUnique({ where: { datasetId: id } });
      return row ? { features: floats(row.features), labels: floats(row.labels) } : null;
    },
    /**
     * Some of the encoded data, cut by the database so a few rows never read the whole blob:
     * `features.count` floats from float `features.start` on, and the same for `labels`.
     */
    async slice(id: string, features: { start: number; count: number }, labels: { start: number; count: number }): Promise<{ features: Float32Array; labels: Float32Array } | null> {
      // substr counts from 1 and, on a blob (SQLite) or bytea (PostgreSQL), in bytes. The cut comes
      // back as hex: the SQLite adapter cannot type a computed blob column.
      const [fFrom, fLength, lFrom, lLength] = [features.start * 4 + 1, features.count * 4, labels.start * 4 + 1, labels.count * 4];
      const rows =
        provider === 'sqlite'
          ? await db.$queryRaw<{ features: string; labels: string }[]>`
              SELECT hex(substr("features", ${fFrom}, ${fLength})) AS "features", hex(substr("labels", ${lFrom}, ${lLength})) AS "labels"
              FROM "DatasetData" WHERE "datasetId" = ${id}`
          : await db.$queryRaw<{ features: string; labels: string }[]>`
              SELECT encode(substr("features", ${fFrom}::int, ${fLength}::int), 'hex') AS "features", encode(substr("labels", ${lFrom}::int, ${lLength}::int), 'hex') AS "labels"
              FROM "DatasetData" WHERE "datasetId" = ${id}`;
      const row = rows[0];
      return row ? { features: floats(Buffer.from(row.features, 'hex')), labels: floats(Buffer.from(row.labels, 'hex')) } : null;
    },
  };
}
