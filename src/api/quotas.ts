import { QuotaExceededError } from '../errors.ts';
import type { ProjectRecord, Repository } from '../storage/index.ts';

/** The deployment's default quotas; a project's own columns override them. */
export interface QuotaDefaults {
  /** @defaultValue 5 GiB */
  datasetBytes: number;
  /** @defaultValue 20 */
  runningStudies: number;
  /** @defaultValue 64 */
  trialsInFlight: number;
}

export const DEFAULT_QUOTAS: QuotaDefaults = { datasetBytes: 5 * 2 ** 30, runningStudies: 20, trialsInFlight: 64 };

export function quotasOf(project: ProjectRecord | null, defaults: QuotaDefaults): QuotaDefaults {
  return {
    datasetBytes: project?.maxDatasetBytes ?? defaults.datasetBytes,
    runningStudies: project?.maxRunningStudies ?? defaults.runningStudies,
    trialsInFlight: project?.maxTrialsInFlight ?? defaults.trialsInFlight,
  };
}

const fmt = (n: number) => n.toLocaleString('en-US');

/**
 * Checks a new dataset or study against the project's quotas before anything is written.
 * Two requests at the same instant can both pass; a quota bounds use, it is not a lock.
 */
export function quotaChecks(repo: Repository, defaults: QuotaDefaults) {
  async function current(projectId: string) {
    const [project, usage] = await Promise.all([repo.projects.get(projectId), repo.projects.usage(projectId)]);
    return { limits: quotasOf(project, defaults), usage };
  }
  return {
    async dataset(projectId: string, bytes: number): Promise<void> {
      const { limits, usage } = await current(projectId);
      if (usage.datasetBytes + bytes > limits.datasetBytes) {
        throw new QuotaExceededError(
          'datasetBytes',
          `project ${projectId} stores ${fmt(usage.datasetBytes)} bytes of datasets; this one adds ${fmt(bytes)}, over its quota of ${fmt(limits.datasetBytes)} (delete datasets, or ask an operator: maas projects quota)`,
        );
      }
    },
    async study(projectId: string, parallelism: number): Promise<void> {
      const { limits, usage } = await current(projectId);
      if (usage.runningStudies + 1 > limits.runningStudies) {
        throw new QuotaExceededError('runningStudies', `project ${projectId} has ${usage.runningStudies} queued or running studies, its quota is ${limits.runningStudies}; wait for one to end or cancel one`);
      }
      if (usage.trialsInFlight + parallelism > limits.trialsInFlight) {
        throw new QuotaExceededError(
          'trialsInFlight',
          `budget.parallelism ${parallelism} would take project ${projectId} to ${usage.trialsInFlight + parallelism} trials in flight (its active studies hold ${usage.trialsInFlight}); its quota is ${limits.trialsInFlight}`,
        );
      }
    },
  };
}
