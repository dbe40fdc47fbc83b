import { createHash } from 'node:crypto';
import { z, type OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { ConflictError, NotFoundError, ValidationError } from '../../errors.ts';
import { CHAMPION, type AliasRouting, type ModelVersionRecord, type Repository } from '../../storage/index.ts';
import type { Predictor } from '../../serving/predictor.ts';
import { exportVersion } from '../../serving/export.ts';
import { principalOf } from '../auth.ts';
import { versionStatus } from '../inference/index.ts';
import { decodeCursor, DEFAULT_PAGE, pageOf } from '../paging.ts';
import * as routes from './models.routes.ts';

function versionView(v: ModelVersionRecord) {
  return { version: v.version, family: v.family, metrics: v.metrics, studyId: v.studyId, trialId: v.trialId, datasetId: v.datasetId, aliases: v.aliases, createdAt: v.createdAt.toISOString() };
}

function modelView(name: string, versions: ModelVersionRecord[], limit: number, after?: number) {
  const aliases: Record<string, number> = {};
  for (const v of versions) for (const a of v.aliases) aliases[a] = v.version;
  const page = pageOf(versions.filter((v) => after === undefined || v.version > after), limit, (v) => v.version);
  return { name, aliases, versions: page.items.map(versionView), nextCursor: page.nextCursor };
}

function aliasView(model: string, alias: string, a: { version: number; routing: AliasRouting | null; updatedAt: Date }) {
  return { model, alias, version: a.version, canary: a.routing?.canary ?? [], shadow: a.routing?.shadow ?? null, updatedAt: a.updatedAt.toISOString() };
}

export function registerModels(app: OpenAPIHono, deps: { repo: Repository; predictor: Predictor }): void {
  const { repo, predictor } = deps;
  const project = (c: Context) => principalOf(c).projectId;
  // Names are per project: another project's model of the same name is a different model, and invisible here.
  const versionsOf = async (projectId: string, name: string) => {
    const versions = await repo.models.versions(projectId, name);
    if (versions.length === 0) throw new NotFoundError('model', name);
    return versions;
  };

  app.openapi(routes.list, async (c) => {
    const { limit = DEFAULT_PAGE, cursor } = c.req.valid('query');
    const after = decodeCursor(cursor, z.string().max(200));
    const models = await repo.models.list(project(c), { limit: limit + 1, ...(after !== undefined ? { after } : {}) });
    const page = pageOf(models, limit, (m) => m.name);
    return c.json({ models: page.items.map((m) => ({ ...m, updatedAt: m.updatedAt.toISOString() })), nextCursor: page.nextCursor }, 200);
  });
  app.openapi(routes.get, async (c) => {
    const { name } = c.req.valid('param');
    const { limit = DEFAULT_PAGE, cursor } = c.req.valid('query');
    const versions = await versionsOf(project(c), name);
    // TF Serving's model status shares this URL; its clients read this field.
    return c.json({ ...modelView(name, versions, limit, decodeCursor(cursor, z.number().int().min(0))), model_version_status: versions.map((v) => versionStatus(v.version)).reverse() }, 200);
  });
  app.openapi(routes.promote, async (c) => {
    const { name } = c.req.valid('param');
    const { version, alias } = c.req.valid('json');
    const projectId = project(c);
    await versionsOf(projectId, name);
    const target = await repo.models.version(projectId, name, version);
    if (!target) throw new NotFoundError(`version ${version} of model`, name);
    await repo.models.setAlias(projectId, name, alias ?? CHAMPION, target.id);
    return c.json(modelView(name, await versionsOf(projectId, name), DEFAULT_PAGE), 200);
  });
  app.openapi(routes.getAlias, async (c) => {
    const { name, alias } = c.req.valid('param');
    const settings = await repo.models.aliasSettings(project(c), name, alias);
    if (!settings) {
      await versionsOf(project(c), name);
      throw new NotFoundError(`alias '${alias}' of model`, name);
    }
    return c.json(aliasView(name, alias, settings), 200);
  });
  app.openapi(routes.putAlias, async (c) => {
    const { name, alias } = c.req.valid('param');
    const { version, canary, shadow } = c.req.valid('json');
    const projectId = project(c);
    const known = new Map((await versionsOf(projectId, name)).map((v) => [v.version, v]));
    const target = known.get(version);
    if (!target) throw new NotFoundError(`version ${version} of model`, name);
    for (const [i, entry] of canary.entries()) if (!known.has(entry.version)) throw new ValidationError(`canary[${i}].version`, entry.version, `is not a version of model '${name}'`);
    if (shadow && !known.has(shadow.version)) throw new ValidationError('shadow.version', shadow.version, `is not a version of model '${name}'`);
    await repo.models.setAlias(projectId, name, alias, target.id, { canary, shadow });
    const settings = await repo.models.aliasSettings(projectId, name, alias);
    // Deleted by another request in the instant since: as if never set.
    if (!settings) throw new NotFoundError(`alias '${alias}' of model`, name);
    return c.json(aliasView(name, alias, settings), 200);
  });
  app.openapi(routes.removeAlias, async (c) => {
    const { name, alias } = c.req.valid('param');
    if (!(await repo.models.deleteAlias(project(c), name, alias))) throw new NotFoundError(`alias '${alias}' of model`, name);
    return c.body(null, 204);
  });
  app.openapi(routes.removeVersion, async (c) => {
    const { name, version } = c.req.valid('param');
    const result = await repo.models.deleteVersion(project(c), name, version);
    if (result === 'missing') throw new NotFoundError(`version ${version} of model`, name);
    if (result !== 'deleted' && result.routed) throw new ConflictError(`${name} v${version} is a canary or shadow of ${result.aliases.map((a) => `'${a}'`).join(', ')}; change the routing first`);
    if (result !== 'deleted') throw new ConflictError(`${name} v${version} is what ${result.aliases.map((a) => `'${a}'`).join(', ')} ${result.aliases.length === 1 ? 'points' : 'point'} to; move or delete the alias first`);
    return c.body(null, 204);
  });
  app.openapi(routes.exportVersion, async (c) => {
    const { name, version } = c.req.valid('param');
    const archive = await exportVersion(repo, project(c), name, version);
    return c.body(archive.bytes as Uint8Array<ArrayBuffer>, 200, {
      'Content-Type': 'application/zip',
      'Content-Disposition': `attachment; filename="${archive.fileName}"`,
      'X-Maas-Checksum': archive.checksum,
      'Repr-Digest': `sha-256=:${createHash('sha256').update(archive.bytes).digest('base64')}:`,
    });
  });
  registerPredict(app, { predictor });
}

/** maas's own predict route alone, for a server that has no registry (maas serve --model). */
export function registerPredict(app: OpenAPIHono, deps: { predictor: Predictor }): void {
  app.openapi(routes.predict, async (c) => {
    const { name } = c.req.valid('param');
    return c.json(await deps.predictor.predict(principalOf(c).projectId, name, c.req.valid('json').instances, c.req.valid('query').alias), 200);
  });
}
