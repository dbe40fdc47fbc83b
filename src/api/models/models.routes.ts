import { createRoute, z } from '@hono/zod-openapi';
import { modelNameSchema } from '../../schemas.ts';
import { errorSchema } from '../datasets/datasets.routes.ts';
import { pageQuery } from '../paging.ts';

const versionSchema = z.object({
  version: z.number().int(),
  family: z.string(),
  metrics: z.record(z.string(), z.number()),
  studyId: z.string(),
  trialId: z.string(),
  datasetId: z.string(),
  aliases: z.array(z.string()),
  createdAt: z.string(),
});

export const modelSchema = z
  .object({ name: z.string(), aliases: z.record(z.string(), z.number().int()), versions: z.array(versionSchema), nextCursor: z.string().nullable() })
  .openapi('Model');

const nameParam = z.object({ name: z.string() });
const notFound = { description: 'No such model', content: { 'application/json': { schema: errorSchema } } };

export const list = createRoute({
  method: 'get',
  path: '/v1/models',
  summary: "List the project's models with their version counts and aliases, by name",
  request: { query: pageQuery },
  responses: {
    200: {
      description: 'Models',
      content: { 'application/json': { schema: z.object({ models: z.array(z.object({ name: z.string(), versions: z.number().int(), latestVersion: z.number().int(), aliases: z.record(z.string(), z.number().int()), updatedAt: z.string() })), nextCursor: z.string().nullable() }) } },
    },
  },
});

export const get = createRoute({
  method: 'get',
  path: '/v1/models/{name}',
  summary: 'A model: its versions (a page at a time), metrics and aliases',
  request: { params: nameParam, query: pageQuery },
  responses: { 200: { description: 'The model', content: { 'application/json': { schema: modelSchema } } }, 404: notFound },
});

export const promote = createRoute({
  method: 'post',
  path: '/v1/models/{name}/promote',
  summary: 'Point an alias (default champion) at a version',
  request: {
    params: nameParam,
    body: { required: true, content: { 'application/json': { schema: z.object({ version: z.number().int().min(1).max(2 ** 31 - 1), alias: modelNameSchema.optional() }).strict() } } },
  },
  responses: { 200: { description: 'The model after the move', content: { 'application/json': { schema: modelSchema } } }, 404: notFound },
});

export const predict = createRoute({
  method: 'post',
  path: '/v1/models/{name}/predict',
  summary: 'Predict with the champion version (TF Serving / KServe v1 body format)',
  request: {
    params: nameParam,
    query: z.object({ alias: modelNameSchema.optional() }),
    body: {
      required: true,
      content: {
        'application/json': {
          schema: z
            .object({ instances: z.array(z.unknown()).min(1).max(10_000) })
            .openapi({
              description:
                'Raw inputs: objects keyed by column name (tabular), pixel arrays (images), strings (text), step arrays (sequences), or the last `window` values of a series (forecasting).',
            }),
        },
      },
    },
  },
  responses: {
    200: {
      description: 'One prediction per instance: `{label, probabilities}`, `{value}`, or `{forecast}` (the next `horizon` values)',
      content: { 'application/json': { schema: z.object({ predictions: z.array(z.unknown()), model: z.object({ name: z.string(), version: z.number().int(), alias: z.string() }) }) } },
    },
    404: notFound,
  },
});

export const removeAlias = createRoute({
  method: 'delete',
  path: '/v1/models/{name}/aliases/{alias}',
  summary: 'Delete an alias; predict through it answers 404 afterwards',
  request: { params: z.object({ name: z.string(), alias: z.string() }) },
  responses: { 204: { description: 'Deleted' }, 404: notFound },
});

export const removeVersion = createRoute({
  method: 'delete',
  path: '/v1/models/{name}/versions/{version}',
  summary: 'Delete a version no alias points to',
  request: { params: z.object({ name: z.string(), version: z.coerce.number().int().min(1).max(2 ** 31 - 1) }) },
  responses: {
    204: { description: 'Deleted' },
    404: notFound,
    409: { description: 'An alias points to it; the aliases are named', content: { 'application/json': { schema: errorSchema } } },
  },
});
