import { randomUUID } from 'node:crypto';
import { prepareDataset } from '../../src/data/index.ts';
import type { Repository } from '../../src/storage/index.ts';

/** A separable table: the class is the sign of x; z is noise. Trains in milliseconds. */
export function signsTable(rows: number): string {
  const lines = ['x,z,class'];
  for (let i = 0; i < rows; i++) {
    const x = ((i * 37 + 11) % 19) / 9 - 1 || 0.5;
    const z = ((i * 53 + 7) % 13) / 6 - 1;
    lines.push([x, z, x > 0 ? 'pos' : 'neg'].join(','));
  }
  return `${lines.join('\n')}\n`;
}

/** Stores {@link signsTable}(rows) as dataset `signs` of the default project; returns its id. */
export async function createSignsDataset(repo: Repository, rows = 60): Promise<string> {
  const prepared = prepareDataset({ csv: signsTable(rows), kind: 'tabular', target: 'class', seed: 0 });
  const dataset = await repo.datasets.create({
    id: randomUUID(), projectId: 'default', name: 'signs', kind: 'tabular', task: prepared.task, target: 'class', rows: prepared.encoded.rows, summary: prepared.summary,
    preprocessing: { ...prepared.preprocessing, spec: prepared.spec, trainRows: prepared.encoded.trainRows }, features: prepared.encoded.features, labels: prepared.encoded.labels,
  });
  return dataset.id;
}
