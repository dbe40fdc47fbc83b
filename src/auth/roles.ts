/**
 * What a key may do. Roles are scoped to the key's project; no role reaches another project.
 * - admin: everything below, plus managing the project's keys and reading /metrics
 * - write: create and delete datasets, studies, versions and aliases; promote; predict; read
 * - read: read datasets, studies, leaderboards and models (no predict: it spends compute)
 * - predict: call predict and nothing else, for applications
 */
export const ROLES = ['admin', 'write', 'read', 'predict'] as const;
export type Role = (typeof ROLES)[number];

export type Permission = 'admin' | 'write' | 'read' | 'predict';

const GRANTS: Record<Role, readonly Permission[]> = {
  admin: ['admin', 'write', 'read', 'predict'],
  write: ['write', 'read', 'predict'],
  read: ['read'],
  predict: ['predict'],
};

export function allows(role: Role, permission: Permission): boolean {
  return GRANTS[role].includes(permission);
}

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}
