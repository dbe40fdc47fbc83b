import { ValidationError } from '../errors.ts';
import type { ModelArchive } from '../serving/archive.ts';
import type { ModelSource, VersionParts, VersionRef } from '../serving/source.ts';
import { CHAMPION, DEFAULT_PROJECT } from '../storage/index.ts';

/** An archive with the file it came from, for messages. */
export interface LoadedArchive {
  file: string;
  archive: ModelArchive;
}

/**
 * Exported archives as a {@link ModelSource}: every model in project `default`, each archive a
 * version of the model its card names, and `champion` the highest version given of each model.
 * Nothing moves while the server runs, so `movedAt` is always 0.
 * @throws ValidationError on field `model` when two archives hold the same version of one model
 */
export function archiveSource(archives: readonly LoadedArchive[]): ModelSource {
  const models = new Map<string, Map<number, LoadedArchive>>();
  for (const entry of archives) {
    const { name, version } = entry.archive.card;
    const versions = models.get(name) ?? new Map<number, LoadedArchive>();
    const twin = versions.get(version);
    if (twin) throw new ValidationError('model', entry.file, `holds ${name} v${version}, as ${twin.file} does; give each version once`);
    versions.set(version, entry);
    models.set(name, versions);
  }
  const champion = (name: string) => Math.max(...(models.get(name)?.keys() ?? []));
  const refOf = (name: string, entry: LoadedArchive | undefined): VersionRef | null =>
    // The checksum keeps two different archives claiming one name and version apart across restarts' logs.
    entry ? { id: `archive:${name}:v${entry.archive.card.version}:${entry.archive.checksum}`, projectId: DEFAULT_PROJECT, name, version: entry.archive.card.version, movedAt: 0 } : null;

  return {
    async resolve(projectId, name, selector) {
      const versions = projectId === DEFAULT_PROJECT ? models.get(name) : undefined;
      if (!versions) return null;
      if ('alias' in selector) return selector.alias === CHAMPION ? refOf(name, versions.get(champion(name))) : null;
      return refOf(name, versions.get(selector.version));
    },
    async versions(projectId, name) {
      const versions = projectId === DEFAULT_PROJECT ? models.get(name) : undefined;
      if (!versions) return [];
      const top = champion(name);
      return [...versions.keys()].sort((a, b) => a - b).map((version) => ({ version, aliases: version === top ? [CHAMPION] : [] }));
    },
    async parts(ref): Promise<VersionParts> {
      const entry = ref.projectId === DEFAULT_PROJECT ? models.get(ref.name)?.get(ref.version) : undefined;
      if (!entry) throw new Error(`no archive holds ${ref.name} v${ref.version}`);
      const { artifact, preprocessing, inputShape } = entry.archive;
      return { artifact, preprocessing, inputShape };
    },
  };
}
