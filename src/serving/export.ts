import { NotFoundError } from '../errors.ts';
import type { Repository } from '../storage/index.ts';
import { ARCHIVE_EXTENSION, MAAS_VERSION, writeArchive, type ModelCard } from './archive.ts';
import { notFoundOf, repositorySource } from './source.ts';

/** An exported version: the archive's bytes, the manifest's checksum and the file name to save it as. */
export interface ExportedVersion {
  bytes: Uint8Array;
  /** `sha256:<hex>`, as the archive's manifest records it. */
  checksum: string;
  /** `<name>-v<version>.maas.zip` */
  fileName: string;
}

/**
 * Packs a registered version of a project's model, with its model card, into one archive.
 * The weights and preprocessing are read exactly as the api serves them (repositorySource).
 * @throws NotFoundError when the project has no such model or version
 */
export async function exportVersion(repo: Repository, projectId: string, name: string, version: number): Promise<ExportedVersion> {
  const source = repositorySource(repo);
  const ref = await source.resolve(projectId, name, { version });
  if (!ref) throw await notFoundOf(source, projectId, name, { version });
  const record = await repo.models.version(projectId, name, version);
  if (!record) throw new NotFoundError(`version ${version} of model`, name);
  const [parts, study, trial, dataset, curve] = await Promise.all([
    source.parts(ref),
    repo.studies.get(record.studyId),
    repo.trials.get(record.trialId),
    repo.datasets.get(record.datasetId),
    repo.trials.curve(record.trialId),
  ]);
  if (!study || !trial || !dataset) throw new Error(`model version ${record.id} (${name} v${version}) has lost its study, trial or dataset`);
  const card: ModelCard = {
    name,
    version,
    family: record.family,
    params: trial.params,
    objective: study.config.objective,
    ...(study.config.objectives ? { objectives: study.config.objectives } : {}),
    ...(study.config.constraints ? { constraints: study.config.constraints } : {}),
    metrics: record.metrics,
    baseline: study.config.baseline ?? null,
    dataset: { id: dataset.id, name: dataset.name, kind: dataset.kind, task: dataset.task, target: dataset.target, rows: dataset.rows, summary: dataset.summary },
    study: { id: study.id, name: study.name },
    trial: { id: trial.id, number: trial.number, epochs: trial.epochs, bestEpoch: trial.bestEpoch },
    curve: curve.map((e) => ({ epoch: e.epoch, metrics: e.metrics })),
    createdAt: record.createdAt.toISOString(),
    maasVersion: MAAS_VERSION,
  };
  const { bytes, checksum } = writeArchive(parts, card);
  return { bytes, checksum, fileName: `${name}-v${version}${ARCHIVE_EXTENSION}` };
}
