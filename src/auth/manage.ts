import type { ApiKeyRecord, Repository } from '../storage/index.ts';
import { newKeySecret } from './keys.ts';
import type { Role } from './roles.ts';

/** A key as shown to people: never its hash. */
export function keyView(k: ApiKeyRecord) {
  return {
    id: k.id, projectId: k.projectId, role: k.role, name: k.name,
    createdAt: k.createdAt.toISOString(), lastUsedAt: k.lastUsedAt?.toISOString() ?? null, revokedAt: k.revokedAt?.toISOString() ?? null,
  };
}

/** Makes a key in a project (made too if it does not exist); the returned `secret` is the only copy. */
export async function createKey(repo: Repository, k: { project: string; role: Role; name: string }) {
  const project = await repo.projects.ensure(k.project);
  const made = newKeySecret();
  const record = await repo.keys.create({ id: made.id, projectId: project.id, role: k.role, name: k.name, secretHash: made.secretHash });
  return { ...keyView(record), secret: made.secret };
}
