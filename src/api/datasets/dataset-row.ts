import { randomUUID } from 'node:crypto';
import type { PreparedDataset } from '../../data/index.ts';
import type { NewDataset } from '../../storage/index.ts';

/** The row a prepared dataset is stored as, under a new id: the one shape every upload path writes. */
export function datasetRow(projectId: string, name: string, prepared: PreparedDataset): NewDataset {
  return {
    id: randomUUID(),
    projectId,
    name,
    kind: prepared.kind,
    task: prepared.task,
    target: prepared.preprocessing.target,
    rows: prepared.encoded.rows,
    summary: prepared.summary,
    preprocessing: { ...prepared.preprocessing, spec: prepared.spec, trainRows: prepared.encoded.trainRows },
    features: prepared.encoded.features,
    labels: prepared.encoded.labels,
  };
}
