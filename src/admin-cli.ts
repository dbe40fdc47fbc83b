import { parseArgs } from 'node:util';
import { createKey, keyView } from './auth/manage.ts';
import { isRole, ROLES } from './auth/roles.ts';
import { createRepository, migrate, type Repository } from './storage/index.ts';

export const ADMIN_USAGE = `  keys create --project NAME --role ${ROLES.join('|')} [--name TEXT]
           make an API key (the project is made if new); the key is printed once
  keys list [--project NAME]
  keys revoke ID
  projects list
  projects quota NAME [--dataset-bytes N] [--running-studies N] [--trials-in-flight N]
           set a project's quotas; "default" as a value returns to the deployment's setting`;

/** A mistake on the command line: printed with the usage, exit code 2. */
export class UsageError extends Error {}

function count(flag: string, text: string | undefined): number | null | undefined {
  if (text === undefined) return undefined;
  if (text === 'default') return null;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0) throw new UsageError(`--${flag}: "${text}" must be a whole number >= 0, or "default"`);
  return n;
}

function projectName(text: string | undefined): string {
  if (text === undefined) throw new UsageError('--project is required');
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(text)) throw new UsageError(`--project: "${text}" must be 1-100 letters, digits, ".", "_" or "-", starting with a letter or digit`);
  return text;
}

async function runAdmin(repo: Repository, group: string, args: string[]): Promise<unknown> {
  const [action, ...rest] = args;
  const parsed = parseArgs({
    args: rest,
    allowPositionals: true,
    strict: true,
    options: {
      project: { type: 'string' }, role: { type: 'string' }, name: { type: 'string' },
      'dataset-bytes': { type: 'string' }, 'running-studies': { type: 'string' }, 'trials-in-flight': { type: 'string' },
    },
  });
  const { values: v, positionals } = parsed;
  if (group === 'keys' && action === 'create') {
    if (!isRole(v.role)) throw new UsageError(`--role: ${v.role === undefined ? 'is required' : `"${v.role}" is not a role`}; use one of ${ROLES.join(', ')}`);
    const name = v.name ?? `${v.role} key`;
    if (name.length < 1 || name.length > 200) throw new UsageError('--name: must be 1-200 characters');
    return createKey(repo, { project: projectName(v.project), role: v.role, name });
  }
  if (group === 'keys' && action === 'list') {
    const project = v.project === undefined ? undefined : await repo.projects.byName(projectName(v.project));
    if (v.project !== undefined && !project) throw new UsageError(`--project: no project named "${v.project}"`);
    return (await repo.keys.list(project?.id)).map(keyView);
  }
  if (group === 'keys' && action === 'revoke') {
    const id = positionals[0];
    if (!id) throw new UsageError('keys revoke: give the key id (see maas keys list)');
    if (!(await repo.keys.revoke(undefined, id))) throw new UsageError(`keys revoke: no live key with id "${id}"`);
    return { revoked: id };
  }
  if (group === 'projects' && action === 'list') {
    return Promise.all((await repo.projects.list()).map(async (p) => ({ ...p, usage: await repo.projects.usage(p.id) })));
  }
  if (group === 'projects' && action === 'quota') {
    const name = positionals[0];
    const project = name === undefined ? null : await repo.projects.byName(name);
    if (!project) throw new UsageError(`projects quota: ${name === undefined ? 'give the project name' : `no project named "${name}"`}`);
    const q = { maxDatasetBytes: count('dataset-bytes', v['dataset-bytes']), maxRunningStudies: count('running-studies', v['running-studies']), maxTrialsInFlight: count('trials-in-flight', v['trials-in-flight']) };
    return repo.projects.setQuotas(project.id, Object.fromEntries(Object.entries(q).filter(([, x]) => x !== undefined)));
  }
  throw new UsageError(`unknown command: ${group} ${action ?? ''}`.trim());
}

/** `maas keys …` and `maas projects …`: writes the result as JSON on stdout. */
export async function adminCommand(databaseUrl: string, group: string, args: string[]): Promise<void> {
  await migrate(databaseUrl);
  const repo = createRepository(databaseUrl);
  try {
    const result = await runAdmin(repo, group, args);
    console.log(JSON.stringify(result, (_, x) => (typeof x === 'bigint' ? Number(x) : x), 2));
  } finally {
    await repo.close();
  }
}
