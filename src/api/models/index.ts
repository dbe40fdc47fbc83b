import type { OpenAPIHono } from '@hono/zod-openapi';
import { NotFoundError } from '../../errors.ts';
import { CHAMPION, type ModelVersionRecord, type Repository } from '../../storage/index.ts';
import type { Predictor } from '../../serving/predictor.ts';
import * as routes from './models.routes.ts';

function modelView(name: string, versions: ModelVersionRecord[]) {
  const aliases: Record<string, number> = {};
  for (const v of versions) for (const a of v.aliases) aliases[a] = v.version;
  return {
    name,
    aliases,
    versions: versions.map((v) => ({ version: v.version, family: v.family, metrics: v.metrics, studyId: v.studyId, trialId: v.trialId, datasetId: v.datasetId, aliases: v.aliases, createdAt: v.createdAt.toISOString() })),
  };
}

export function registerModels(app: OpenAPIHono, deps: { repo: Repository; predictor: Predictor }): void {
  const { repo, predictor } = deps;
  const versionsOf = async (name: string) => {
    const versions = await repo.models.versions(name);
    if (versions.length === 0) throw new NotFoundError('model', name);
    return versions;
  };

  app.openapi(routes.list, async (c) => {
    const models = await repo.models.list();
    return c.json({ models: models.map((m) => ({ ...m, updatedAt: m.updatedAt.toISOString() })) }, 200);
  });
  app.openapi(routes.get, async (c) => {
    const { name } = c.req.valid('param');
    return c.json(modelView(name, await versionsOf(name)), 200);
  });
  app.openapi(routes.promote, async (c) => {
    const { name } = c.req.valid('param');
    const { version, alias } = c.req.valid('json');
    await versionsOf(name);
    const target = await repo.models.version(name, version);
    if (!target) throw new NotFoundError(`version ${version} of model`, name);
    await repo.models.setAlias(name, alias ?? CHAMPION, target.id);
    return c.json(modelView(name, await versionsOf(name)), 200);
  });
  app.openapi(routes.predict, async (c) => {
    const { name } = c.req.valid('param');
    return c.json(await predictor.predict(name, c.req.valid('json').instances, c.req.valid('query').alias), 200);
  });
}
