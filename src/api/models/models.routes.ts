import { createRoute, z } from '@hono/zod-openapi';
import { modelNameSchema } from '../../schemas.ts';
import { aliasRoutingShape, checkRouting } from '../../storage/index.ts';
import { versionStatusSchema } from '../inference/index.ts';
import { errorResponse } from '../openapi.ts';
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

/**
 * GET /v1/models/{name} is also TF Serving's model status URL, so its answer carries TF Serving's
 * `model_version_status` (every version, newest first) beside maas's view.
 */
const modelStatusSchema = modelSchema
  .extend({ model_version_status: z.array(versionStatusSchema).openapi({ description: "TF Serving's model status: every version, newest first; maas loads any of them on first use" }) })
  .openapi('ModelWithStatus');

const nameParam = z.object({ name: z.string() });
const notFound = errorResponse('No such model');
const badPage = errorResponse('A bad limit or cursor');

export const list = createRoute({
  method: 'get',
  path: '/v1/models',
  operationId: 'listModels',
  summary: "List the project's models with their version counts and aliases, by name",
  request: { query: pageQuery },
  responses: {
    200: {
      description: 'Models',
      content: { 'application/json': { schema: z.object({ models: z.array(z.object({ name: z.string(), versions: z.number().int(), latestVersion: z.number().int(), aliases: z.record(z.string(), z.number().int()), updatedAt: z.string() })), nextCursor: z.string().nullable() }) } },
    },
    400: badPage,
  },
});

export const get = createRoute({
  method: 'get',
  path: '/v1/models/{name}',
  operationId: 'getModel',
  summary: 'A model: its versions (a page at a time), metrics and aliases',
  request: { params: nameParam, query: pageQuery },
  responses: { 200: { description: 'The model', content: { 'application/json': { schema: modelStatusSchema } } }, 400: badPage, 404: notFound },
});

export const promote = createRoute({
  method: 'post',
  path: '/v1/models/{name}/promote',
  operationId: 'promoteModel',
  summary: 'Point an alias (default champion) at a version',
  request: {
    params: nameParam,
    body: { required: true, content: { 'application/json': { schema: z.object({ version: z.number().int().min(1).max(2 ** 31 - 1), alias: modelNameSchema.optional() }).strict().openapi({ example: { version: 3, alias: 'champion' } }) } } },
  },
  responses: {
    200: { description: 'The model after the move', content: { 'application/json': { schema: modelSchema } } },
    400: errorResponse('Invalid input; the message names the field, the value and the rule'),
    404: errorResponse('No such model, or no such version of it'),
  },
});

export const predict = createRoute({
  method: 'post',
  path: '/v1/models/{name}/predict',
  operationId: 'predict',
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
              example: { instances: [{ alcohol: 13.2, malic_acid: 1.78, ash: 2.14 }] },
            }),
        },
      },
    },
  },
  responses: {
    200: {
      description: 'One prediction per instance: `{label, probabilities}`, `{value}`, or `{forecast}` (the next `horizon` values)',
      content: {
        'application/json': {
          schema: z
            .object({ predictions: z.array(z.unknown()), model: z.object({ name: z.string(), version: z.number().int(), alias: z.string() }) })
            .openapi({ example: { predictions: [{ label: '0', probabilities: { '0': 0.91, '1': 0.06, '2': 0.03 } }], model: { name: 'wine', version: 3, alias: 'champion' } } }),
        },
      },
    },
    400: errorResponse("An instance does not fit the model's inputs; the message names the instance, the field and the rule"),
    404: errorResponse('No such model, or no such alias of it'),
    409: errorResponse('The version cannot serve predictions (it gives non-finite outputs)'),
    503: { ...errorResponse('The compute backend is broken or was reset during the request; retry after Retry-After seconds'), headers: { 'Retry-After': { description: 'Seconds to wait', schema: { type: 'integer' } } } },
  },
});

/** An alias with its routing: which version answers, which canaries take a share instead, which shadow is mirrored to. */
export const aliasSchema = z
  .object({
    model: z.string(),
    alias: z.string(),
    version: z.number().int(),
    canary: z.array(z.object({ version: z.number().int(), weight: z.number() })),
    shadow: z.object({ version: z.number().int(), share: z.number() }).nullable(),
    updatedAt: z.string(),
  })
  .openapi('ModelAlias');

const aliasParams = z.object({ name: z.string(), alias: modelNameSchema });

export const getAlias = createRoute({
  method: 'get',
  path: '/v1/models/{name}/aliases/{alias}',
  operationId: 'getAlias',
  summary: 'An alias: its version, its canaries with their weights and its shadow with its share',
  request: { params: z.object({ name: z.string(), alias: z.string() }) },
  responses: { 200: { description: 'The alias', content: { 'application/json': { schema: aliasSchema } } }, 404: errorResponse('No such model, or no such alias of it') },
});

export const putAlias = createRoute({
  method: 'put',
  path: '/v1/models/{name}/aliases/{alias}',
  operationId: 'setAlias',
  summary: 'Point an alias at a version, and split its traffic with canary versions by weight or mirror a share of it to a shadow version',
  description:
    "Replaces the alias's routing: canaries and shadow left out are removed. Each request through the alias goes to a canary with the probability of its weight, else to `version`, and every answer names the version that served it. A shadow is also asked, in the background, for `share` of the requests; its answers are dropped and it never delays an answer (shadow work beyond a small queue is dropped and counted). Per-version counts and latencies are in /metrics.",
  request: {
    params: aliasParams,
    body: {
      required: true,
      content: {
        'application/json': {
          schema: z
            .object({ version: z.number().int().min(1).max(2 ** 31 - 1), ...aliasRoutingShape })
            .strict()
            .superRefine((body, ctx) => {
              checkRouting(body, ctx);
              // The alias's own version already answers whatever the canaries leave: naming it again says nothing.
              for (const [i, c] of body.canary.entries()) {
                if (c.version === body.version) ctx.addIssue({ code: 'custom', path: ['canary', i, 'version'], message: "is the alias's own version; a canary must be another version" });
              }
              if (body.shadow && body.shadow.version === body.version) ctx.addIssue({ code: 'custom', path: ['shadow', 'version'], message: "is the alias's own version; a shadow must be another version" });
              // A request the canary answered would be mirrored to the very same version.
              if (body.shadow && body.canary.some((c) => c.version === body.shadow!.version)) ctx.addIssue({ code: 'custom', path: ['shadow', 'version'], message: 'is also a canary; a shadow must be a version that does not answer' });
            })
            .openapi({ example: { version: 3, canary: [{ version: 4, weight: 0.1 }], shadow: { version: 5, share: 0.5 } } }),
        },
      },
    },
  },
  responses: {
    200: { description: 'The alias as set', content: { 'application/json': { schema: aliasSchema } } },
    400: errorResponse('Invalid input, or a canary or shadow version the model does not have; the message names the field, the value and the rule'),
    404: errorResponse('No such model, or no such version of it'),
  },
});

export const removeAlias = createRoute({
  method: 'delete',
  path: '/v1/models/{name}/aliases/{alias}',
  operationId: 'deleteAlias',
  summary: 'Delete an alias; predict through it answers 404 afterwards',
  request: { params: z.object({ name: z.string(), alias: z.string() }) },
  responses: { 204: { description: 'Deleted' }, 404: errorResponse('No such model, or no such alias of it') },
});

export const removeVersion = createRoute({
  method: 'delete',
  path: '/v1/models/{name}/versions/{version}',
  operationId: 'deleteModelVersion',
  summary: 'Delete a version no alias points to',
  request: { params: z.object({ name: z.string(), version: z.coerce.number().int().min(1).max(2 ** 31 - 1) }) },
  responses: {
    204: { description: 'Deleted' },
    400: errorResponse('The version is not a positive integer'),
    404: errorResponse('No such model, or no such version of it'),
    409: errorResponse('An alias points to it; the aliases are named'),
  },
});

export const exportVersion = createRoute({
  method: 'get',
  path: '/v1/models/{name}/versions/{version}/artifact',
  operationId: 'exportModelVersion',
  summary: 'Download a version as one self-contained archive: the TF.js model, its preprocessing, the model card and a manifest of checksums (maas serve --model serves it)',
  request: { params: z.object({ name: z.string(), version: z.coerce.number().int().min(1).max(2 ** 31 - 1) }) },
  responses: {
    200: {
      description:
        'A zip of model.json and its weights (the TF.js layers format), preprocessing.json, card.json (metrics on validation, baseline, dataset summary, parameters, learning curve) and manifest.json (the SHA-256 of every file and the checksum of the whole)',
      headers: {
        'Content-Disposition': { description: 'attachment; filename="<name>-v<version>.maas.zip"', schema: { type: 'string' } },
        'X-Maas-Checksum': { description: "The manifest's checksum of the archive's contents, sha256:<hex>", schema: { type: 'string' } },
        'Repr-Digest': { description: 'SHA-256 of the zip bytes as sent (RFC 9530), to check the download', schema: { type: 'string' } },
      },
      content: { 'application/zip': { schema: z.string().openapi({ type: 'string', format: 'binary' }) } },
    },
    400: errorResponse('The version is not a positive integer'),
    404: errorResponse('No such model, or no such version of it'),
  },
});
