/**
 * What a key may do. Roles are scoped to the key's project; no role reaches another project.
 * - admin: everything below, plus managing the project's keys and reading /metrics
 * - write: create and delete datasets, studies, versions and aliases; promote; predict; read
 * - read: read datasets, studies, leaderboards and models (no predict: it spends compute)
 * - predict: call predict and nothing else, for applications (with the inference protocols'
 *   metadata, readiness and status of the models it predicts with, which every role may read)
 */
export const ROLES = ['admin', 'write', 'read', 'predict'] as const;
export type Role = (typeof ROLES)[number];

/** `describe`: the inference protocols' model metadata, readiness and status, which predict clients read first. */
export type Permission = 'admin' | 'write' | 'read' | 'predict' | 'describe';

const GRANTS: Record<Role, readonly Permission[]> = {
  admin: ['admin', 'write', 'read', 'predict', 'describe'],
  write: ['write', 'read', 'predict', 'describe'],
  read: ['read', 'describe'],
  predict: ['predict', 'describe'],
};

export function allows(role: Role, permission: Permission): boolean {
  return GRANTS[role].includes(permission);
}

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}
